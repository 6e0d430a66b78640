import {
  BatchNorm,
  BatchNormError,
  createReferenceBackend,
  loadBackendModule,
  registeredBackends,
  isChannelsLast,
  LAYOUTS,
  layoutOf,
  layoutRank,
  type Backend,
  type BatchNormOptions,
  type BatchNormState,
  type BatchNormErrorCode,
  type Layout,
  type TensorHandle,
} from '@batchnorm/core';
import { hostData } from './runner.js';
import type { CaseResult } from './types.js';

/** What a scenario can make besides the layer: tensors of the backend, of another one, of a second instance. */
export interface ScenarioContext<T extends TensorHandle = TensorHandle> {
  /** The backend under test (the layer's). */
  readonly backend: Backend<T>;
  /** A tensor of the backend under test; released after the scenario. */
  upload(values: number[], shape: number[]): T;
  /** A tensor of another backend: a reference backend instance of the scenario's own. */
  foreign(values: number[], shape: number[]): TensorHandle;
  /**
   * A tensor of a second instance of the backend under test (for the reference: another reference
   * instance). Only in scenarios with `secondInstance: true`.
   */
  secondInstance(values: number[], shape: number[]): TensorHandle;
}

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
  readonly act?: <T extends TensorHandle>(
    layer: BatchNorm<T>,
    upload: (values: number[], shape: number[]) => T,
    context: ScenarioContext<T>,
  ) => unknown;
  /** The error the reference must give (else the scenario itself is wrong); default: any `BatchNormError`. */
  readonly expected?: { readonly code: BatchNormErrorCode; readonly argument: string };
  /** The scenario needs a second instance of the backend under test (`context.secondInstance`). */
  readonly secondInstance?: boolean;
  /**
   * A property every backend must have, instead of a call to reject: returns what is wrong, or
   * `undefined`. Checked on the reference first (where it must hold), then on the backend.
   */
  readonly verify?: <T extends TensorHandle>(context: ScenarioContext<T>) => Promise<string | undefined>;
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
  scenarios.push(...handleScenarios());
  return scenarios;
}

/** The kinds of handle a backend must refuse (issue 13, item 8). */
type BadHandleKind = 'otherBackend' | 'secondInstance' | 'lookAlike' | 'disposed';

function badHandle<T extends TensorHandle>(kind: BadHandleKind, context: ScenarioContext<T>, values: number[], shape: number[]): T {
  let bad: unknown;
  if (kind === 'otherBackend') bad = context.foreign(values, shape);
  else if (kind === 'secondInstance') bad = context.secondInstance(values, shape);
  else if (kind === 'lookAlike') bad = { shape: [...shape] };
  else {
    const t = context.upload(values, shape);
    context.backend.dispose(t);
    bad = t;
  }
  // deliberately the wrong type: the backend must find out at run time
  return bad as T;
}

/** Valid arguments of every kernel on `[N, C] = [4, 3]`, uploaded to the backend under test. */
function kernelArguments<T extends TensorHandle>(context: ScenarioContext<T>) {
  const t = (shape: number[], shift: number): T => context.upload(ramp(size(shape), shift), shape);
  const x = t([4, C], 0);
  const gamma = context.upload([1, 0.5, 2], [C]);
  const beta = t([C], 1);
  return {
    x,
    gamma,
    beta,
    dy: t([4, C], 2),
    y: context.upload(ramp(4 * C).map((v) => 1 / (1 + Math.exp(-v))), [4, C]),
    mean: t([C], 3),
    variance: context.upload([1, 2, 0.5], [C]),
    running: t([C], 4),
    batch: t([C], 5),
    a: t([4, C], 6),
    b: t([C, 2], 7),
    bias: t([C], 8),
    logits: t([4, C], 9),
    labels: context.upload([1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 0, 0], [4, C]),
    param: t([C], 10),
    grad: t([C], 11),
  };
}
type KernelArguments<T extends TensorHandle> = ReturnType<typeof kernelArguments<T>>;

const NC_ATTRS = { layout: 'NC', epsilon: 1e-5 } as const;

/** Every kernel of the contract, the names of its tensor arguments, and the call. */
const KERNEL_CALLS: readonly [string, readonly (keyof KernelArguments<TensorHandle>)[], <T extends TensorHandle>(b: Backend<T>, a: KernelArguments<T>) => unknown][] = [
  ['batchNormForwardTraining', ['x', 'gamma', 'beta'], (b, a) => b.batchNormForwardTraining(a, NC_ATTRS)],
  ['batchNormForwardInference', ['x', 'gamma', 'beta', 'mean', 'variance'], (b, a) => b.batchNormForwardInference(a, NC_ATTRS)],
  [
    'batchNormBackward',
    ['dy', 'x', 'gamma'],
    (b, a) => {
      // saved from a forward on good tensors, so only the argument under test is bad
      // saved from a forward on other, good tensors of the same shapes: only the argument under test is bad
      const forward = b.batchNormForwardTraining({ x: a.a, gamma: a.bias, beta: a.param }, NC_ATTRS);
      for (const t of [forward.y, forward.mean, forward.variance]) b.dispose(t);
      try {
        return b.batchNormBackward({ dy: a.dy, x: a.x, gamma: a.gamma, saved: forward.saved }, NC_ATTRS);
      } finally {
        b.disposeSaved(forward.saved);
      }
    },
  ],
  ['runningAverage', ['running', 'batch'], (b, a) => b.runningAverage(a, { factor: 0.1, batchScale: 1 })],
  ['matMul', ['a', 'b'], (b, a) => b.matMul(a.a, a.b)],
  ['addBias', ['x', 'bias'], (b, a) => b.addBias(a.x, a.bias)],
  ['sumRows', ['x'], (b, a) => b.sumRows(a.x)],
  ['sigmoid', ['x'], (b, a) => b.sigmoid(a.x)],
  ['sigmoidBackward', ['dy', 'y'], (b, a) => b.sigmoidBackward(a.dy, a.y)],
  ['relu', ['x'], (b, a) => b.relu(a.x)],
  ['reluBackward', ['dy', 'x'], (b, a) => b.reluBackward(a.dy, a.x)],
  ['softmaxCrossEntropy', ['logits', 'labels'], (b, a) => b.softmaxCrossEntropy(a.logits, a.labels)],
  ['sgdUpdate', ['param', 'grad'], (b, a) => b.sgdUpdate(a.param, a.grad, { learningRate: 0.1 })],
];

/**
 * Foreign, look-alike and disposed handles (issue 13, item 8): through the layer (`x`, `dy`) and
 * through every argument of every kernel, `read`, `dispose` and `saved`, each must give
 * `INVALID_HANDLE` naming the argument, with the layer's state unchanged; and no handle's shape
 * can be changed.
 */
export function handleScenarios(): ErrorScenario[] {
  const scenarios: ErrorScenario[] = [];
  const invalidHandle = (argument: string) => ({ code: 'INVALID_HANDLE', argument }) as const;
  const add = (name: string, argument: string, act: ErrorScenario['act'], secondInstance = false): void => {
    scenarios.push({ name: `errors/handles/${name}`, layout: 'NC', act, expected: invalidHandle(argument), ...(secondInstance ? { secondInstance } : {}) });
  };
  const shape = trainingShape('NC');
  const allKinds: readonly BadHandleKind[] = ['otherBackend', 'secondInstance', 'lookAlike', 'disposed'];
  for (const kind of allKinds) {
    const second = kind === 'secondInstance';
    add(`forward/x/${kind}`, 'x', (l, _up, c) => l.forward(badHandle(kind, c, ramp(size(shape), 5), shape)), second);
    add(`backward/dy/${kind}`, 'dy', (l, _up, c) => l.backward(badHandle(kind, c, ramp(size(shape), 6), shape)), second);
  }
  for (const [kernel, names, call] of KERNEL_CALLS) {
    for (const name of names) {
      // a second instance is costly (a GPU context): only for the arguments of the cases
      const kinds = (kernel === 'batchNormBackward' && name === 'dy') || (kernel === 'batchNormForwardTraining' && name === 'x') ? allKinds : allKinds.filter((k) => k !== 'secondInstance');
      for (const kind of kinds) {
        add(
          `${kernel}/${name}/${kind}`,
          name,
          (_l, _up, c) => {
            const args = kernelArguments(c);
            const good = args[name];
            return call(c.backend, { ...args, [name]: badHandle(kind, c, ramp(size([...good.shape]), 12), [...good.shape]) });
          },
          kind === 'secondInstance',
        );
      }
    }
  }
  for (const kind of ['otherBackend', 'lookAlike', 'disposed'] as const) {
    add(`read/t/${kind}`, 't', (_l, _up, c) => c.backend.read(badHandle(kind, c, ramp(4), [4])));
  }
  for (const kind of ['otherBackend', 'lookAlike'] as const) {
    // disposing a disposed tensor of its own is allowed; one it never made is not
    add(`dispose/t/${kind}`, 't', (_l, _up, c) => c.backend.dispose(badHandle(kind, c, ramp(4), [4])));
  }
  const savedOf = (kind: 'otherBackend' | 'lookAlike' | 'disposed', c: ScenarioContext): unknown => {
    if (kind === 'lookAlike') return { mean: new Float64Array(C), variance: new Float64Array(C).fill(1) };
    const b: Backend = kind === 'otherBackend' ? createReferenceBackend() : c.backend;
    const up = (values: number[], s: number[]) => (kind === 'otherBackend' ? b.upload(Float64Array.from(values), s) : c.upload(values, s));
    const forward = b.batchNormForwardTraining({ x: up(ramp(4 * C), [4, C]), gamma: up([1, 1, 1], [C]), beta: up([0, 0, 0], [C]) }, NC_ATTRS);
    if (kind === 'disposed') {
      for (const t of [forward.y, forward.mean, forward.variance]) b.dispose(t);
      b.disposeSaved(forward.saved);
    }
    return forward.saved;
  };
  for (const kind of ['otherBackend', 'lookAlike', 'disposed'] as const) {
    add(`batchNormBackward/saved/${kind}`, 'saved', (_l, _up, c) => {
      const { dy, x, gamma } = kernelArguments(c);
      return c.backend.batchNormBackward({ dy, x, gamma, saved: savedOf(kind, c) }, NC_ATTRS);
    });
  }
  for (const kind of ['otherBackend', 'lookAlike'] as const) {
    add(`disposeSaved/saved/${kind}`, 'saved', (_l, _up, c) => c.backend.disposeSaved(savedOf(kind, c)));
  }
  scenarios.push({ name: 'errors/handles/shapeImmutable', layout: 'NC', verify: shapesImmutable });
  return scenarios;
}

/**
 * Tries every way of changing the shape of every kind of handle (an upload and each kernel's
 * outputs): each must throw (in strict code, which every ES module is), and the shape must stay.
 * A handle whose shape could change would send a kernel past its data (a hang, or garbage).
 */
async function shapesImmutable<T extends TensorHandle>(c: ScenarioContext<T>): Promise<string | undefined> {
  const b = c.backend;
  const a = kernelArguments(c);
  const forward = b.batchNormForwardTraining(a, NC_ATTRS);
  const backward = b.batchNormBackward({ dy: a.dy, x: a.x, gamma: a.gamma, saved: forward.saved }, NC_ATTRS);
  b.disposeSaved(forward.saved);
  const softmax = b.softmaxCrossEntropy(a.logits, a.labels);
  const handles: Record<string, T> = {
    upload: a.x,
    'batchNormForwardTraining.y': forward.y,
    'batchNormForwardTraining.mean': forward.mean,
    'batchNormForwardTraining.variance': forward.variance,
    batchNormForwardInference: b.batchNormForwardInference(a, NC_ATTRS),
    'batchNormBackward.dx': backward.dx,
    'batchNormBackward.dgamma': backward.dgamma,
    'batchNormBackward.dbeta': backward.dbeta,
    runningAverage: b.runningAverage(a, { factor: 0.1, batchScale: 1 }),
    matMul: b.matMul(a.a, a.b),
    addBias: b.addBias(a.x, a.bias),
    sumRows: b.sumRows(a.x),
    sigmoid: b.sigmoid(a.x),
    sigmoidBackward: b.sigmoidBackward(a.dy, a.y),
    relu: b.relu(a.x),
    reluBackward: b.reluBackward(a.dy, a.x),
    'softmaxCrossEntropy.loss': softmax.loss,
    'softmaxCrossEntropy.dLogits': softmax.dLogits,
    sgdUpdate: b.sgdUpdate(a.param, a.grad, { learningRate: 0.1 }),
  };
  const attempts: [string, (t: { shape: number[] }) => unknown][] = [
    ['shape[0] = 7', (t) => (t.shape[0] = 7)],
    ['shape.length = 0', (t) => (t.shape.length = 0)],
    ['shape.push(1)', (t) => t.shape.push(1)],
    ['shape = [7]', (t) => (t.shape = [7])],
    ["Object.defineProperty(t, 'shape', { value: [7] })", (t) => Object.defineProperty(t, 'shape', { value: [7] })],
  ];
  try {
    for (const [label, t] of Object.entries(handles)) {
      const before = JSON.stringify(t.shape);
      for (const [attempt, mutate] of attempts) {
        let threw = false;
        try {
          mutate(t as unknown as { shape: number[] });
        } catch {
          threw = true;
        }
        const after = JSON.stringify(t.shape);
        if (after !== before) return `${label}: \`${attempt}\` changed the shape from ${before} to ${after}`;
        if (!threw) return `${label}: \`${attempt}\` did not throw (a handle must be frozen)`;
      }
      const values = await b.read(t);
      if (values.length !== size([...t.shape])) return `${label}: read gave ${values.length} values for shape ${before}`;
    }
    return undefined;
  } finally {
    for (const t of Object.values(handles)) b.dispose(t);
  }
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

/** Makes another instance of the backend under test, for scenarios that need one. */
export type SecondInstanceFactory = () => Backend | Promise<Backend>;

/**
 * The scenario's context on `backend`: its uploads, a reference backend of its own for foreign
 * tensors, and a second instance when the scenario needs one. `release` frees them all.
 */
async function contextFor<T extends TensorHandle>(
  backend: Backend<T>,
  scenario: ErrorScenario,
  makeSecond: SecondInstanceFactory | undefined,
): Promise<{ context: ScenarioContext<T>; release: () => void }> {
  const owned: T[] = [];
  const foreignBackend = createReferenceBackend();
  const second = scenario.secondInstance === true && makeSecond !== undefined ? await makeSecond() : undefined;
  const secondOwned: TensorHandle[] = [];
  const context: ScenarioContext<T> = {
    backend,
    upload(values, s) {
      const t = backend.upload(hostData(backend, values), s);
      owned.push(t);
      return t;
    },
    foreign: (values, s) => foreignBackend.upload(Float64Array.from(values), s),
    secondInstance(values, s) {
      if (second === undefined) throw new Error(`scenario ${scenario.name} has no second instance (set secondInstance: true)`);
      const t = second.upload(hostData(second, values), s);
      secondOwned.push(t);
      return t;
    },
  };
  const release = (): void => {
    for (const t of owned) backend.dispose(t);
    if (second !== undefined) {
      for (const t of secondOwned) second.dispose(t);
      second.destroy();
    }
  };
  return { context, release };
}

/**
 * Runs `scenario` on `backend`. A layer scenario's outcome includes `await layer.settle()`: on a
 * backend that reads asynchronously, a non-finite batch is reported when its check settles, not
 * by `forward` itself (core's documented behaviour), and must leave the state as it was.
 */
async function attempt<T extends TensorHandle, S>(
  backend: Backend<T, S>,
  scenario: ErrorScenario,
  makeSecond: SecondInstanceFactory | undefined,
): Promise<Attempt> {
  const shape = trainingShape(scenario.layout);
  if (scenario.construct !== undefined) {
    try {
      new BatchNorm(backend, scenario.construct(C)).dispose();
      return { outcome: { threw: false }, intact: undefined };
    } catch (error) {
      return { outcome: { threw: true, error }, intact: undefined };
    }
  }
  const { context, release } = await contextFor<T>(backend, scenario, makeSecond);
  const upload = context.upload;
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
      const result: unknown = await scenario.act!(layer, upload, context);
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
    release();
  }
}

/** Runs a `verify` scenario on `backend`: what is wrong, or `undefined`. */
async function verifyOn<T extends TensorHandle>(
  backend: Backend<T>,
  scenario: ErrorScenario,
  makeSecond: SecondInstanceFactory | undefined,
): Promise<string | undefined> {
  const { context, release } = await contextFor<T>(backend, scenario, makeSecond);
  try {
    return await scenario.verify!(context);
  } catch (error) {
    return `threw ${describeOutcome({ threw: true, error })}`;
  } finally {
    release();
  }
}

/** The registry's factory for a backend registered under `name` (the CLI registers what it loads). */
function registeredFactory(name: string): SecondInstanceFactory | undefined {
  if (!registeredBackends().includes(name)) return undefined;
  return async () => (await loadBackendModule(name)).createBackend();
}

export interface CheckErrorsOptions {
  /** The name results carry; default `backend.name`. */
  readonly backendName?: string;
  /** The scenarios to run; default `errorScenarios()`. */
  readonly scenarios?: readonly ErrorScenario[];
  /**
   * Makes a second instance of the backend, for the scenarios that hand it a tensor of another
   * instance. Default: the registry's factory when `backend.name` is registered; else those
   * scenarios are reported as skipped.
   */
  readonly createBackend?: SecondInstanceFactory;
}

/**
 * Runs every error scenario on `backend` and on the reference: each must raise a
 * `BatchNormError` with the same code and argument on both, and leave the layer's state intact.
 * A `verify` scenario must hold on both.
 */
export async function checkErrors<T extends TensorHandle, S>(
  backend: Backend<T, S>,
  options: CheckErrorsOptions = {},
): Promise<CaseResult[]> {
  const reference = createReferenceBackend();
  const secondReference: SecondInstanceFactory = () => createReferenceBackend();
  const secondBackend = options.createBackend ?? registeredFactory(backend.name);
  const results: CaseResult[] = [];
  for (const scenario of options.scenarios ?? errorScenarios()) {
    const base = { backend: options.backendName ?? backend.name, case: scenario.name, op: 'errorCheck', layout: scenario.layout };
    if (scenario.secondInstance === true && secondBackend === undefined) {
      results.push({ ...base, pass: true, skipped: true, maxAbsError: 0, maxRelError: 0, message: 'skipped: no second instance of the backend (pass createBackend)' });
      continue;
    }
    let message: string | undefined;
    try {
      if (scenario.verify !== undefined) {
        const wrong = await verifyOn(reference, scenario, secondReference);
        const got = wrong === undefined ? await verifyOn(backend, scenario, secondBackend) : undefined;
        if (wrong !== undefined) message = `the reference fails it (${wrong}): the scenario itself is wrong`;
        else if (got !== undefined) message = got;
      } else {
        const want = await attempt(reference, scenario, secondReference);
        const got = await attempt(backend, scenario, secondBackend);
        const wantError = want.outcome.threw ? want.outcome.error : undefined;
        const gotError = got.outcome.threw ? got.outcome.error : undefined;
        const expected = scenario.expected;
        if (!(wantError instanceof BatchNormError)) {
          message = `the reference gave ${describeOutcome(want.outcome)}: the scenario itself is wrong`;
        } else if (expected !== undefined && (wantError.code !== expected.code || wantError.argument !== expected.argument)) {
          message = `the reference gave BatchNormError ${wantError.code} (${wantError.argument}), not ${expected.code} (${expected.argument}): the scenario itself is wrong`;
        } else if (!(gotError instanceof BatchNormError)) {
          message = `expected BatchNormError ${wantError.code} (${wantError.argument}), got ${describeOutcome(got.outcome)}`;
        } else if (gotError.code !== wantError.code || gotError.argument !== wantError.argument) {
          message = `expected BatchNormError ${wantError.code} (${wantError.argument}), got ${gotError.code} (${gotError.argument})`;
        } else if (got.intact === false) {
          message = `the layer's state changed although the call was rejected\n${got.detail ?? ''}`;
        }
      }
    } catch (error) {
      message = `threw outside the scenario: ${error instanceof Error ? error.message : String(error)}`;
    }
    results.push({ ...base, pass: message === undefined, maxAbsError: 0, maxRelError: 0, ...(message === undefined ? {} : { message }) });
  }
  return results;
}
