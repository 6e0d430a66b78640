import type { KernelOp } from '../byteModel.js';
import type { KernelInputs } from '../data.js';
import { TFJS_ANCHOR_NAMES, type TfjsEngine } from '../names.js';
import { activateTfjs, tf, tfjsDetails } from '../tfjs.js';
import type { KernelOutputs, KernelSubject, PreparedKernel } from './subject.js';

type Tensor = tf.Tensor;


/**
 * What a TensorFlow.js user writes: `tf.moments` + `tf.batchNorm` forward, `tf.grads` of the same
 * for backward, `dataSync` of every output inside the timed call. Returns a reason instead when
 * the engine cannot start.
 */
export async function tfjsComposedSubject(engine: TfjsEngine): Promise<KernelSubject | string> {
  const reason = await activateTfjs(engine);
  if (reason !== undefined) return reason;
  return {
    name: TFJS_ANCHOR_NAMES[engine],
    details: await tfjsDetails(engine),
    resident: `synchronous kernels (tfjs ${engine} computes inside the op call)`,
    async prepare(op, inputs) {
      const again = await activateTfjs(engine);
      if (again !== undefined) throw new Error(again);
      return prepareComposed(op, inputs);
    },
    destroy() {},
  };
}

interface Composition {
  /** Batch statistics as [C] tensors. */
  moments(x: Tensor): { mean: Tensor; variance: Tensor };
  /** `tf.batchNorm` with [C] statistics and parameters, correct for the layout. */
  normalize(x: Tensor, mean: Tensor, variance: Tensor, beta: Tensor, gamma: Tensor): Tensor;
}

function composition(inputs: KernelInputs): Composition {
  const { layout, epsilon, shape } = inputs;
  if (layout !== 'NCHW') {
    const axes = shape.map((_, i) => i).slice(0, -1);
    return {
      moments: (x) => tf.moments(x, axes),
      normalize: (x, mean, variance, beta, gamma) => tf.batchNorm(x, mean, variance, beta, gamma, epsilon),
    };
  }
  // NCHW needs care. tfjs-cpu and tfjs-wasm cycle the statistics along the flat last axis only,
  // so [1,C,1,1] statistics would be applied per W position (wrong results); on tfjs-node the
  // forward is right but tf.grads of batchNorm with [1,C,1,1] statistics throws ("Input to
  // reshape is a tensor with 120 values, but the requested shape has 3"). So every anchor
  // transposes NCHW → NHWC, normalizes with [C] statistics and transposes back: correct, at the
  // price of two transposes, which is what a user of these engines has to write.
  return {
    moments: (x) => tf.moments(x, [0, 2, 3]),
    normalize: (x, mean, variance, beta, gamma) =>
      tf.transpose(tf.batchNorm(tf.transpose(x, [0, 2, 3, 1]), mean, variance, beta, gamma, epsilon), [0, 3, 1, 2]),
  };
}

function prepareComposed(op: KernelOp, inputs: KernelInputs): PreparedKernel {
  const bn = composition(inputs);
  const c = inputs.gamma.length;
  const x = tf.tensor(inputs.x, [...inputs.shape]);
  const gamma = tf.tensor1d(inputs.gamma);
  const beta = tf.tensor1d(inputs.beta);
  const owned: Tensor[] = [x, gamma, beta];
  const dispose = () => tf.dispose(owned);
  const readAll = (named: Record<string, Tensor>): KernelOutputs => {
    const outputs: Record<string, Float32Array> = {};
    for (const [name, t] of Object.entries(named)) outputs[name] = t.dataSync() as Float32Array;
    tf.dispose(Object.values(named));
    return outputs;
  };
  // The same tensors, disposed unread: every engine here computes inside the op call.
  const resident = (make: () => Record<string, Tensor>): PreparedKernel['resident'] => ({
    isAsync: false,
    run: () => tf.dispose(Object.values(make())),
  });
  switch (op) {
    case 'forwardTraining': {
      const forward = () =>
        tf.tidy(() => {
          const { mean, variance } = bn.moments(x);
          return { y: bn.normalize(x, mean, variance, beta, gamma), mean, variance };
        });
      return { isAsync: false, run: () => readAll(forward()), resident: resident(forward), dispose };
    }
    case 'forwardInference': {
      const mean = tf.tensor1d(inputs.populationMean);
      const variance = tf.tensor1d(inputs.populationVariance);
      owned.push(mean, variance);
      const infer = () => tf.tidy(() => ({ y: bn.normalize(x, mean, variance, beta, gamma) }));
      return { isAsync: false, run: () => readAll(infer()), resident: resident(infer), dispose };
    }
    case 'backward': {
      const dy = tf.tensor(inputs.dy, [...inputs.shape]);
      owned.push(dy);
      const gradients = tf.grads((xs: Tensor, g: Tensor, b: Tensor) => {
        const { mean, variance } = bn.moments(xs);
        return bn.normalize(xs, mean, variance, b, g);
      });
      const backward = () =>
        tf.tidy(() => {
          const [dx, dgamma, dbeta] = gradients([x, gamma, beta], dy);
          return { dx: dx!, dgamma: tf.reshape(dgamma!, [c]), dbeta: tf.reshape(dbeta!, [c]) };
        });
      return { isAsync: false, run: () => readAll(backward()), resident: resident(backward), dispose };
    }
  }
}
