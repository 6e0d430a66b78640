/**
 * The helper side of the thread team: the layout of a helper's shared words and the source text
 * a helper thread runs (the loops, verbatim, and how it claims and runs a job).
 */
import { LOOPS, type LoopName } from './loops/index.js';
import { warmUp } from './loops/warmUp.js';

// A helper's control buffer: Int32 words, then its job's numeric arguments as float64 (byte
// offsets into the shared WebAssembly memory, sizes, modes: all exact in a double).
export const SEQ = 0; // bumped by the main thread after posting a job
export const READY = 1; // 1 once the helper waits for jobs
export const STOP = 2; // 1 asks the helper to leave its loop
export const LOOP = 3; // index of the job's loop in LOOP_NAMES
export const KIND = 4; // SIMD_JOB (arguments below) or MESSAGE_JOB (arrays come by message)
export const ROWS = 5;
export const CHUNKS = 6;
export const ROW_ARGUMENT_WORD = 7;
export const ALIGN = 8;
export const ARG_COUNT = 9;
export const JOB_ID = 10;
export const ARGS_BYTE_OFFSET = 16 * 4;
export const MAX_ARGS = 16;
export const CONTROL_BYTES = ARGS_BYTE_OFFSET + MAX_ARGS * 8;
export const SIMD_JOB = 1;
export const MESSAGE_JOB = 2;

// The team's job words: [next chunk, state of helper 1, state of helper 2, …].
export const POSTED = 0; // the helper has not looked at the job yet
export const TAKEN = 1; // the helper is working on chunks
export const CANCELLED = 2; // the main thread finished every chunk first: the helper skips the job
export const FINISHED = 3;
export const FAILED = 4;

/** Loops by index: a job names its loop by its place here. */
export const LOOP_NAMES = Object.keys(LOOPS) as LoopName[];

/** Row `k·rows/chunks` of chunk edge `k`, rounded to a multiple of `align` (the same on every thread). */
export function chunkEdge(rows: number, chunks: number, align: number, k: number): number {
  return Math.min(rows, align * Math.round((Math.ceil(rows / align) * k) / chunks));
}

/**
 * A helper's platform-neutral source: the loops, `setUp(init)`, `takeJob()`, `runMessageJob(args)`
 * and `staleMessage(id)`; the platform (`#platform`) adds the idle loop and how messages arrive.
 * Functions go in as expressions keyed by loop name, so a minifier's renaming of their
 * declarations does not matter.
 */
export function jobSource(): string {
  const loops = Object.entries(LOOPS)
    .map(([name, f]) => `  ${name}: (${f.toString()}),`)
    .join('\n');
  return `
// Some transpilers wrap functions in __name(...) to keep their names.
const __name = (f) => f;
const loops = {
${loops}
};
const loopNames = ${JSON.stringify(LOOP_NAMES)};
const chunkEdge = (${chunkEdge.toString()});
(${warmUp.toString()})(loops);
// The SIMD loops, instantiated over the main thread's WebAssembly memory (the same bytes).
const simdLoops = {};
let control, jobArgs, words, slot;
function setUp(init) {
  if (init.simd !== undefined) {
    const { memory, modules } = init.simd;
    for (const name of Object.keys(modules)) {
      simdLoops[name] = new WebAssembly.Instance(modules[name], { env: { memory } }).exports[name];
    }
  }
  control = new Int32Array(init.control, 0, ${ARGS_BYTE_OFFSET / 4});
  jobArgs = new Float64Array(init.control, ${ARGS_BYTE_OFFSET}, ${MAX_ARGS});
  words = new Int32Array(init.words);
  slot = init.slot;
}
// Claims the posted job, if any (the main thread cancels what nobody has taken). Runs a SIMD
// job at once; returns the id of a job whose arrays come by message, else -1. The job's words
// are read after the claim: until this helper finishes, the main thread does not rewrite them.
function takeJob() {
  if (Atomics.compareExchange(words, slot, ${POSTED}, ${TAKEN}) !== ${POSTED}) return -1;
  if (control[${KIND}] === ${MESSAGE_JOB}) return control[${JOB_ID}];
  const args = Array.from(jobArgs.subarray(0, control[${ARG_COUNT}]));
  runChunks(simdLoops[loopNames[control[${LOOP}]]], args);
  return -1;
}
function runMessageJob(args) {
  runChunks(loops[loopNames[control[${LOOP}]]], args);
}
// A message of a job older than the latest one posted (cancelled before this helper took it).
function staleMessage(id) {
  return id < Atomics.load(control, ${JOB_ID});
}
function runChunks(run, args) {
  let state = ${FINISHED};
  try {
    const rows = control[${ROWS}], chunks = control[${CHUNKS}], align = control[${ALIGN}];
    const at = control[${ROW_ARGUMENT_WORD}];
    for (;;) {
      const k = Atomics.add(words, 0, 1);
      if (k >= chunks) break;
      args[at] = chunkEdge(rows, chunks, align, k);
      args[at + 1] = chunkEdge(rows, chunks, align, k + 1);
      run(...args);
    }
  } catch (error) {
    state = ${FAILED};
  }
  Atomics.store(words, slot, state);
  Atomics.notify(words, slot);
}
`;
}

