import {
  BatchNorm,
  BatchNormError,
  createReferenceBackend,
  type Backend,
  type BatchNormOptions,
  type BatchNormState,
  type Layout,
  type TensorHandle,
} from '@batchnorm/core';
import { hostData } from './runner.js';
import type { CaseResult } from './types.js';

/** What an error scenario does with a backend: build a layer, or act on one that has trained. */
interface ErrorScenario {
  readonly name: string;
  readonly layout: Layout;
  /** Constructor scenarios: the options to reject. */
  readonly construct?: (numFeatures: number) => BatchNormOptions;
  /** Layer scenarios: the call to reject, on a layer that trained on two batches. */
  readonly act?: <T extends TensorHandle>(layer: BatchNorm<T>, upload: (values: number[], shape: number[]) => T) => unknown;
}

const C = 3;
const SHAPES: Record<Layout, number[]> = { NC: [4, C], NCHW: [2, C, 2, 2], NHWC: [2, 2, 2, C] };

function ramp(length: number, shift = 0): number[] {
  return Array.from({ length }, (_, i) => Math.fround(Math.sin(i + shift) * 2 + (i % C)));
}

function size(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function withState(patch: (s: BatchNormState) => unknown): ErrorScenario['act'] {
  return (layer) => layer.load(patch(layer.state()) as BatchNormState);
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

  for (const layout of ['NC', 'NCHW', 'NHWC'] as const) {
    const shape = SHAPES[layout];
    const wrongC = layout === 'NHWC' ? [2, 2, 2, C + 1] : layout === 'NCHW' ? [2, C + 1, 2, 2] : [4, C + 1];
    layer(`forward/${layout}/wrongFeatureCount`, (l, up) => l.forward(up(ramp(size(wrongC)), wrongC)), layout);
    const wrongRank = layout === 'NC' ? [2, C, 2] : [2, C, 4];
    layer(`forward/${layout}/wrongRank`, (l, up) => l.forward(up(ramp(size(wrongRank)), wrongRank)), layout);
    const single = layout === 'NC' ? [1, C] : layout === 'NCHW' ? [1, C, 1, 1] : [1, 1, 1, C];
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
    return l.backward(up(ramp(size(SHAPES.NC)), SHAPES.NC));
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

function attempt<T extends TensorHandle>(backend: Backend<T>, scenario: ErrorScenario): { outcome: Outcome; intact: boolean | undefined; detail?: string } {
  const shape = SHAPES[scenario.layout];
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
    const before = JSON.stringify(layer.state());
    const wasTraining = layer.training;
    let outcome: Outcome;
    try {
      const result = scenario.act!(layer, upload);
      if (typeof result === 'object' && result !== null && 'shape' in result) backend.dispose(result as T);
      outcome = { threw: false };
    } catch (error) {
      outcome = { threw: true, error };
    }
    // state() reads γ, β and the statistics back: a rejected call must not have touched them
    const after = JSON.stringify(layer.state());
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
export async function checkErrors<T extends TensorHandle>(
  backend: Backend<T>,
  options: { backendName?: string; scenarios?: readonly ErrorScenario[] } = {},
): Promise<CaseResult[]> {
  const reference = createReferenceBackend();
  const results: CaseResult[] = [];
  for (const scenario of options.scenarios ?? errorScenarios()) {
    const base = { backend: options.backendName ?? backend.name, case: scenario.name, op: 'errorCheck', layout: scenario.layout };
    let message: string | undefined;
    try {
      const want = attempt(reference, scenario);
      const got = attempt(backend, scenario);
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
