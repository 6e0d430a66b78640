import {
  BatchNorm,
  BatchNormError,
  createReferenceBackend,
  isChannelsLast,
  LAYOUTS,
  layoutOf,
  layoutRank,
  type Backend,
  type BatchNormOptions,
  type BatchNormState,
  type Layout,
  type TensorHandle,
} from '@batchnorm/core';
import { hostData } from './runner.js';
import type { CaseResult } from './types.js';

/** What an error scenario does with a backend: build a layer, or act on one that has trained. */
export interface ErrorScenario {
  readonly name: string;
  readonly layout: Layout;
  /** Constructor scenarios: the options to reject. */
  readonly construct?: (numFeatures: number) => BatchNormOptions;
  /**
   * Layer scenarios: the call to reject, on a layer that trained on two batches. It may return
   * a promise (a `load` of an edited `await state()`).
   */
  readonly act?: <T extends TensorHandle>(layer: BatchNorm<T>, upload: (values: number[], shape: number[]) => T) => unknown;
}

const C = 3;

/** A shape in `layout`'s own order: `n` samples, `c` features, every spatial axis `side` long. */
function shapeIn(layout: Layout, n: number, c: number, side = 2): number[] {
  const spatial = new Array<number>(layoutRank(layout) - 2).fill(side);
  return isChannelsLast(layout) ? [n, ...spatial, c] : [n, c, ...spatial];
}

/** The batch every layer scenario trains on: m = 4 values per feature in every layout. */
function trainingShape(layout: Layout): number[] {
  return shapeIn(layout, layoutRank(layout) === 2 ? 4 : 2, C);
}

function ramp(length: number, shift = 0): number[] {
  return Array.from({ length }, (_, i) => Math.fround(Math.sin(i + shift) * 2 + (i % C)));
}

function size(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function withState(patch: (s: BatchNormState) => unknown): ErrorScenario['act'] {
  return async (layer) => layer.load(patch(await layer.state()) as BatchNormState);
}

/** Every bad input of the core issue, through the layer. */
export function errorScenarios(): ErrorScenario[] {
  const scenarios: ErrorScenario[] = [];
  const layer = (name: string, act: ErrorScenario['act'], layout: Layout = 'NC'): void => {
    scenarios.push({ name: `errors/${name}`, layout, act });
  };
  const ctor = (name: string, construct: ErrorScenario['construct']): void => {
    scenarios.push({ name: `errors/${name}`, layout: 'NC', construct });
  };
  ctor('constructor/unknownLayout', (c) => ({ numFeatures: c, layout: 'NCWH' as Layout }));
  ctor('constructor/numFeatures0', () => ({ numFeatures: 0 }));
  for (const epsilon of [0, -1e-5, Number.NaN, Infinity]) ctor(`constructor/epsilon${epsilon}`, (c) => ({ numFeatures: c, epsilon }));
  for (const momentum of [-0.1, 1.5, Number.NaN]) ctor(`constructor/momentum${momentum}`, (c) => ({ numFeatures: c, momentum }));
  ctor('constructor/varianceCorrection', (c) => ({ numFeatures: c, varianceCorrection: 'population' as 'biased' }));
  ctor('constructor/gammaLength', (c) => ({ numFeatures: c, gamma: new Array<number>(c + 1).fill(1) }));
  ctor('constructor/betaLength', (c) => ({ numFeatures: c, beta: new Array<number>(c - 1).fill(0) }));
  ctor('constructor/gammaNaN', (c) => ({ numFeatures: c, gamma: [1, Number.NaN, 1].slice(0, c) }));

  // per layout, with shapes derived from its rank and order (no layout is special-cased)
  for (const layout of LAYOUTS) {
    const shape = trainingShape(layout);
    const n = shape[0]!;
    const wrongC = shapeIn(layout, n, C + 1);
    layer(`forward/${layout}/wrongFeatureCount`, (l, up) => l.forward(up(ramp(size(wrongC)), wrongC)), layout);
    // the neighbouring rank in the same order: one spatial axis fewer (NC: one more)
    const rank = layoutRank(layout);
    const wrongRank = shapeIn(layoutOf(rank === 2 ? 3 : rank - 1, isChannelsLast(layout)), 2, C);
    layer(`forward/${layout}/wrongRank`, (l, up) => l.forward(up(ramp(size(wrongRank)), wrongRank)), layout);
    const single = shapeIn(layout, 1, C, 1);
    layer(`forward/${layout}/m1InTraining`, (l, up) => l.forward(up(ramp(C), single)), layout);
    layer(
      `forward/${layout}/NaNInBatch`,
      (l, up) => {
        const values = ramp(size(shape));
        values[1] = Number.NaN;
        return l.forward(up(values, shape));
      },
      layout,
    );
    layer(
      `forward/${layout}/InfinityInBatch`,
      (l, up) => {
        const values = ramp(size(shape));
        values[0] = Infinity;
        return l.forward(up(values, shape));
      },
      layout,
    );
    layer(`backward/${layout}/dyWrongShape`, (l, up) => l.backward(up(ramp(size(wrongC)), wrongC)), layout);
  }
  layer('backward/afterEval', (l, up) => {
    l.eval();
    const shape = trainingShape('NC');
    return l.backward(up(ramp(size(shape)), shape));
  });
  layer('sgdStep/learningRateNaN', (l) => l.sgdStep(Number.NaN));
  layer('load/notAnObject', (l) => l.load(null as unknown as BatchNormState));
  layer('load/wrongSchema', withState((s) => ({ ...s, schema: 'batchnorm-state/0' })));
  layer('load/numFeatures', withState((s) => ({ ...s, numFeatures: C + 1 })));
  layer('load/layout', withState((s) => ({ ...s, layout: 'NCHW' })));
  layer('load/epsilon0', withState((s) => ({ ...s, epsilon: 0 })));
  layer('load/momentum2', withState((s) => ({ ...s, momentum: 2 })));
  layer('load/gammaLength', withState((s) => ({ ...s, gamma: s.gamma.slice(1) })));
  layer('load/betaNaN', withState((s) => ({ ...s, beta: s.beta.map(() => Number.NaN) })));
  layer('load/runningVarNegative', withState((s) => ({ ...s, runningVar: s.runningVar.map((v, i) => (i === 1 ? -1 : v)) })));
  layer('load/runningMeanLength', withState((s) => ({ ...s, runningMean: [...s.runningMean, 0] })));
  layer('load/numBatchesTracked', withState((s) => ({ ...s, numBatchesTracked: -1 })));
  return scenarios;
}

type Outcome = { threw: false } | { threw: true; error: unknown };

function describeOutcome(outcome: Outcome): string {
  if (!outcome.threw) return 'no error';
  const e = outcome.error;
  if (e instanceof BatchNormError) return `BatchNormError ${e.code} (${e.argument})`;
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

interface Attempt {
  readonly outcome: Outcome;
  /** Whether the layer's state survived the rejected call (layer scenarios only). */
  readonly intact: boolean | undefined;
  readonly detail?: string;
}

/**
 * Runs `scenario` on `backend`. A layer scenario's outcome includes `await layer.settle()`: on a
 * backend that reads asynchronously, a non-finite batch is reported when its check settles, not
 * by `forward` itself (core's documented behaviour), and must leave the state as it was.
 */
async function attempt<T extends TensorHandle, S>(backend: Backend<T, S>, scenario: ErrorScenario): Promise<Attempt> {
  const shape = trainingShape(scenario.layout);
  const owned: T[] = [];
  const upload = (values: number[], s: number[]): T => {
    const t = backend.upload(hostData(backend, values), s);
    owned.push(t);
    return t;
  };
  if (scenario.construct !== undefined) {
    try {
      new BatchNorm(backend, scenario.construct(C)).dispose();
      return { outcome: { threw: false }, intact: undefined };
    } catch (error) {
      return { outcome: { threw: true, error }, intact: undefined };
    }
  }
  const layer = new BatchNorm(backend, { numFeatures: C, layout: scenario.layout, gamma: [1, 0.5, 2], beta: [0, 1, -1] });
  try {
    // two training steps and a backward, so there is state to keep
    for (const shift of [0, 1]) {
      const y = layer.forward(upload(ramp(size(shape), shift), shape));
      backend.dispose(y);
    }
    backend.dispose(layer.backward(upload(ramp(size(shape), 2), shape)));
    // state() reads γ, β and the statistics back: a rejected call must not have touched them
    const before = JSON.stringify(await layer.state());
    const wasTraining = layer.training;
    let outcome: Outcome;
    try {
      const result: unknown = await scenario.act!(layer, upload);
      if (typeof result === 'object' && result !== null && 'shape' in result) backend.dispose(result as T);
      await layer.settle();
      outcome = { threw: false };
    } catch (error) {
      outcome = { threw: true, error };
    }
    const after = JSON.stringify(await layer.state());
    const intact = before === after && (scenario.name.endsWith('afterEval') || layer.training === wasTraining);
    return intact ? { outcome, intact } : { outcome, intact, detail: `state before ${before}\nstate after  ${after}` };
  } finally {
    layer.dispose();
    for (const t of owned) backend.dispose(t);
  }
}

/**
 * Runs every error scenario on `backend` and on the reference: each must raise a
 * `BatchNormError` with the same code and argument on both, and leave the layer's state intact.
 */
export async function checkErrors<T extends TensorHandle, S>(
  backend: Backend<T, S>,
  options: { backendName?: string; scenarios?: readonly ErrorScenario[] } = {},
): Promise<CaseResult[]> {
  const reference = createReferenceBackend();
  const results: CaseResult[] = [];
  for (const scenario of options.scenarios ?? errorScenarios()) {
    const base = { backend: options.backendName ?? backend.name, case: scenario.name, op: 'errorCheck', layout: scenario.layout };
    let message: string | undefined;
    try {
      const want = await attempt(reference, scenario);
      const got = await attempt(backend, scenario);
      const wantError = want.outcome.threw ? want.outcome.error : undefined;
      const gotError = got.outcome.threw ? got.outcome.error : undefined;
      if (!(wantError instanceof BatchNormError)) {
        message = `the reference gave ${describeOutcome(want.outcome)}: the scenario itself is wrong`;
      } else if (!(gotError instanceof BatchNormError)) {
        message = `expected BatchNormError ${wantError.code} (${wantError.argument}), got ${describeOutcome(got.outcome)}`;
      } else if (gotError.code !== wantError.code || gotError.argument !== wantError.argument) {
        message = `expected BatchNormError ${wantError.code} (${wantError.argument}), got ${gotError.code} (${gotError.argument})`;
      } else if (got.intact === false) {
        message = `the layer's state changed although the call was rejected\n${got.detail ?? ''}`;
      }
    } catch (error) {
      message = `threw outside the scenario: ${error instanceof Error ? error.message : String(error)}`;
    }
    results.push({ ...base, pass: message === undefined, maxAbsError: 0, maxRelError: 0, ...(message === undefined ? {} : { message }) });
  }
  return results;
}
