import { createReferenceBackend, type Backend, type KernelName, type TensorHandle } from '@batchnorm/core';
import { C, ramp, size, trainingShape, type ErrorScenario, type ScenarioContext } from './scenario.js';

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

/** A kernel's tensor arguments by name (keys of `kernelArguments`), and the call. */
type KernelCall = readonly [
  readonly (keyof KernelArguments<TensorHandle>)[],
  <T extends TensorHandle>(b: Backend<T>, a: KernelArguments<T>) => unknown,
];

/** Every kernel of the contract (a kernel missing here is a type error), its tensor arguments and the call. */
const KERNEL_CALLS: Readonly<Record<KernelName, KernelCall>> = {
  batchNormForwardTraining: [['x', 'gamma', 'beta'], (b, a) => b.batchNormForwardTraining(a, NC_ATTRS)],
  batchNormForwardInference: [['x', 'gamma', 'beta', 'mean', 'variance'], (b, a) => b.batchNormForwardInference(a, NC_ATTRS)],
  batchNormBackward: [
    ['dy', 'x', 'gamma'],
    (b, a) => {
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
  runningAverage: [['running', 'batch'], (b, a) => b.runningAverage(a, { factor: 0.1, batchScale: 1 })],
  matMul: [['a', 'b'], (b, a) => b.matMul(a.a, a.b)],
  addBias: [['x', 'bias'], (b, a) => b.addBias(a.x, a.bias)],
  sumRows: [['x'], (b, a) => b.sumRows(a.x)],
  sigmoid: [['x'], (b, a) => b.sigmoid(a.x)],
  sigmoidBackward: [['dy', 'y'], (b, a) => b.sigmoidBackward(a.dy, a.y)],
  relu: [['x'], (b, a) => b.relu(a.x)],
  reluBackward: [['dy', 'x'], (b, a) => b.reluBackward(a.dy, a.x)],
  softmaxCrossEntropy: [['logits', 'labels'], (b, a) => b.softmaxCrossEntropy(a.logits, a.labels)],
  sgdUpdate: [['param', 'grad'], (b, a) => b.sgdUpdate(a.param, a.grad, { learningRate: 0.1 })],
};

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
  for (const [kernel, [names, call]] of Object.entries(KERNEL_CALLS)) {
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
