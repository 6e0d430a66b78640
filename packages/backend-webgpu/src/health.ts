import { BatchNormError } from '@batchnorm/core';

/** What a device has said about itself: whether it is lost and why, and errors outside any call. */
export class DeviceHealth {
  #lost: { reason: string; message: string } | undefined;
  #uncapturedErrors = 0;
  #firstUncapturedError: string | undefined;

  constructor(device: GPUDevice) {
    void device.lost.then((info) => {
      this.#lost = { reason: String(info.reason), message: info.message };
    });
    device.onuncapturederror = (event) => {
      this.#uncapturedErrors++;
      this.#firstUncapturedError ??= event.error.message;
    };
  }

  get isLost(): boolean {
    return this.#lost !== undefined;
  }

  /** Records a `destroy()` before the device reports it (its `lost` settles later). */
  destroyed(): void {
    this.#lost ??= { reason: 'destroyed', message: 'destroy() was called' };
  }

  /** Errors the device reported outside any call (`uncapturederror`). */
  get uncapturedErrors(): number {
    return this.#uncapturedErrors;
  }

  /** The first of them, for tests and logs. */
  get firstUncapturedError(): string | undefined {
    return this.#firstUncapturedError;
  }

  /** The typed `BACKEND_UNAVAILABLE` of a lost device, naming the cause. */
  lostError(cause?: unknown): BatchNormError {
    const lost = this.#lost;
    return new BatchNormError(
      {
        code: 'BACKEND_UNAVAILABLE',
        argument: 'device',
        expected: 'a WebGPU device that is not lost',
        received:
          lost === undefined
            ? 'a device that failed'
            : `the device lost (reason "${lost.reason}"${lost.message === '' ? '' : `: ${lost.message}`})`,
        hint:
          lost?.reason === 'destroyed'
            ? 'The backend was destroyed: create a new one.'
            : 'Create a new backend; its tensors are gone with the device.',
      },
      cause === undefined ? undefined : { cause },
    );
  }
}
