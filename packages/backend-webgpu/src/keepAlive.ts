let pending = 0;
let timer: ReturnType<typeof setInterval> | undefined;

/**
 * `promise`, with the event loop held open until it settles. Dawn in Node does not keep the loop
 * alive while its promises are pending: a script awaiting `requestAdapter` or `mapAsync` with
 * nothing else scheduled would exit with the promise unsettled (seen when EGL fails slowly).
 * One long, idle interval is enough, shared by every pending promise. Harmless in browsers.
 */
export function keepAlive<T>(promise: Promise<T>): Promise<T> {
  if (pending++ === 0) timer = setInterval(() => {}, 2 ** 30);
  return promise.finally(() => {
    if (--pending === 0) {
      clearInterval(timer);
      timer = undefined;
    }
  });
}
