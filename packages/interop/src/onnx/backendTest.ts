import type { BatchNormState, Layout, Tolerance, VarianceCorrection } from '@batchnorm/core';
import { InteropError, malformed, unsupported, type InteropLocation } from '../errors.js';
import { onnxBatchNormState, readOnnxBatchNorms } from './batchNorm.js';
import { decodeOnnxModel } from './decode.js';
import { dataTypeName, ONNX_DOUBLE, ONNX_FLOAT, type OnnxModel, type OnnxTensor } from './model.js';
import { decodeOnnxTensor } from './tensor.js';

/**
 * ONNX backend tests (`onnx/backend/test/data/...`): a directory with `model.onnx` and
 * `test_data_set_<k>/` folders of `input_<j>.pb` and `output_<j>.pb` TensorProto files. A test of
 * one `BatchNormalization` node becomes conformance cases in the `batchnorm-vectors/1` shape
 * (`forwardInference`, or `forwardTraining` with ONNX's biased running-variance update), which
 * `runOnnxCases` runs through the `BatchNorm` layer on any backend, and which
 * `@batchnorm/conformance`'s `runCases` runs kernel by kernel.
 */

// numpy's allclose tolerance: core's, which compareClose takes
export type { Tolerance } from '@batchnorm/core';

/** The tolerance ONNX's own backend-test runner judges every backend with (onnx/backend/test/runner). */
export const ONNX_TEST_TOLERANCE: Tolerance = { atol: 1e-7, rtol: 1e-3 };

export interface OnnxTestDataSet {
  /** The folder's name, `test_data_set_0`. */
  readonly name: string;
  readonly inputs: readonly OnnxTensor[];
  readonly outputs: readonly OnnxTensor[];
}

export interface OnnxBackendTest {
  /** The test's name (its directory's), e.g. `test_BatchNorm2d_eval`. */
  readonly name: string;
  readonly model: OnnxModel;
  readonly dataSets: readonly OnnxTestDataSet[];
}

/** The bytes of a backend test, as read from its directory. */
export interface OnnxBackendTestFiles {
  readonly name: string;
  readonly model: Uint8Array;
  readonly dataSets: readonly { readonly name: string; readonly inputs: readonly Uint8Array[]; readonly outputs: readonly Uint8Array[] }[];
  /** Names the bytes in errors (the directory). */
  readonly source?: string;
}

/** Decodes a backend test's files (model and TensorProtos), validating each. */
export function decodeOnnxBackendTest(files: OnnxBackendTestFiles): OnnxBackendTest {
  const base = files.source ?? files.name;
  return {
    name: files.name,
    model: decodeOnnxModel(files.model, `${base}/model.onnx`),
    dataSets: files.dataSets.map((set) => ({
      name: set.name,
      inputs: set.inputs.map((bytes, j) => decodeOnnxTensor(bytes, `${base}/${set.name}/input_${j}.pb`)),
      outputs: set.outputs.map((bytes, j) => decodeOnnxTensor(bytes, `${base}/${set.name}/output_${j}.pb`)),
    })),
  };
}

/** One case, in the shape of `@batchnorm/conformance`'s `ConformanceCase` (schema `batchnorm-vectors/1`). */
export interface OnnxVectorCase {
  /** `<test>/<data set>`, e.g. `test_BatchNorm2d_eval/test_data_set_0`. */
  readonly name: string;
  readonly op: 'forwardInference' | 'forwardTraining';
  readonly layout: Layout;
  readonly shape: readonly number[];
  readonly epsilon: number;
  /** `forwardTraining`: our momentum (`1 −` ONNX's) and `'biased'`. */
  readonly attrs?: { readonly momentum: number; readonly varianceCorrection: VarianceCorrection };
  /** `x`, `gamma`, `beta`, `runningMean`, `runningVar`. */
  readonly inputs: Readonly<Record<string, Float64Array>>;
  /** `y`; in training mode also `runningMean` and `runningVar` where the node outputs them. */
  readonly expected: Readonly<Record<string, Float64Array>>;
  /** Absent when `tolerance: null` was asked (the runner then derives one). */
  readonly tolerance?: Tolerance;
}

export interface OnnxTestCaseOptions {
  /** Default {@link ONNX_TEST_TOLERANCE}; `null` leaves cases without one. */
  readonly tolerance?: Tolerance | null;
}

function floats(t: OnnxTensor, where: InteropLocation): Float64Array {
  if (t.dataType !== ONNX_FLOAT && t.dataType !== ONNX_DOUBLE) {
    throw unsupported({ ...where, field: 'data_type' }, 'FLOAT or DOUBLE', dataTypeName(t.dataType));
  }
  return Float64Array.from(t.values as Float32Array | Float64Array);
}

/**
 * The conformance cases of a backend test of one `BatchNormalization` node: one per data set.
 * `input_<j>.pb` feeds the graph input of its name, or else the j-th graph input that no
 * initializer backs; `output_<j>.pb` is the j-th graph output. Throws `InteropError` for a test
 * it cannot run (another operator, a missing input, shapes that disagree).
 */
export function onnxTestCases(test: OnnxBackendTest, options: OnnxTestCaseOptions = {}): OnnxVectorCase[] {
  const tolerance = options.tolerance === undefined ? ONNX_TEST_TOLERANCE : options.tolerance;
  const graph = test.model.graph;
  const file = `${test.name}/model.onnx`;
  if (graph.nodes.length !== 1 || graph.nodes[0]!.opType !== 'BatchNormalization') {
    throw unsupported(
      { file, field: 'graph.node' },
      'a graph of one BatchNormalization node',
      `${graph.nodes.length} nodes (${[...new Set(graph.nodes.map((n) => n.opType))].join(', ')})`,
    );
  }
  const initialized = new Set(graph.initializers.map((t) => t.name));
  const feedable = graph.inputs.filter((i) => !initialized.has(i.name)).map((i) => i.name);
  if (test.dataSets.length === 0) throw malformed({ file: test.name, field: 'test_data_set_*' }, 'at least one data set', 'none');
  return test.dataSets.map((set) => {
    const setFile = `${test.name}/${set.name}`;
    const feeds: Record<string, OnnxTensor> = {};
    set.inputs.forEach((t, j) => {
      const name = t.name !== '' ? t.name : feedable[j];
      if (name === undefined || !graph.inputs.some((i) => i.name === name)) {
        throw malformed({ file: `${setFile}/input_${j}.pb`, field: 'name' }, `a graph input (${graph.inputs.map((i) => JSON.stringify(i.name)).join(', ')})`, t.name === '' ? `input ${j} of ${feedable.length} without initializers` : JSON.stringify(t.name));
      }
      feeds[name] = t;
    });
    const [node] = readOnnxBatchNorms(test.model, { source: file, feeds });
    const bn = node!;
    const xTensor = feeds[bn.inputs.x];
    if (xTensor === undefined) {
      throw malformed({ file: setFile, tensor: bn.inputs.x, field: 'input' }, "a value for the node's X", 'none in the data set');
    }
    const state: BatchNormState = onnxBatchNormState({ ...bn, xShape: xTensor.dims });
    const x = floats(xTensor, { file: setFile, tensor: bn.inputs.x });
    const expected: Record<string, Float64Array> = {};
    const outputFor: Record<string, string | undefined> = {
      y: bn.outputs.y,
      ...(bn.trainingMode ? { runningMean: bn.outputs.runningMean, runningVar: bn.outputs.runningVar } : {}),
    };
    for (const [key, outputName] of Object.entries(outputFor)) {
      if (outputName === undefined) continue;
      const j = set.outputs.findIndex((t) => t.name === outputName);
      const k = j >= 0 ? j : graph.outputs.findIndex((o) => o.name === outputName);
      const t = set.outputs[k];
      if (t === undefined) continue;
      const values = floats(t, { file: `${setFile}/output_${k}.pb` });
      const want = key === 'y' ? x.length : state.numFeatures;
      if (values.length !== want) {
        throw new InteropError({ code: 'SHAPE_MISMATCH', file: `${setFile}/output_${k}.pb`, field: 'dims', expected: `${want} values (${key})`, received: `[${t.dims.join(', ')}]` });
      }
      expected[key] = values;
    }
    if (expected['y'] === undefined) throw malformed({ file: setFile, field: 'output_*.pb' }, `an output for Y (${JSON.stringify(bn.outputs.y)})`, 'none');
    return {
      name: `${test.name}/${set.name}`,
      op: bn.trainingMode ? 'forwardTraining' : 'forwardInference',
      layout: state.layout,
      shape: [...xTensor.dims],
      epsilon: state.epsilon,
      ...(bn.trainingMode ? { attrs: { momentum: state.momentum!, varianceCorrection: 'biased' as const } } : {}),
      inputs: {
        x,
        gamma: Float64Array.from(state.gamma),
        beta: Float64Array.from(state.beta),
        runningMean: Float64Array.from(state.runningMean),
        runningVar: Float64Array.from(state.runningVar),
      },
      expected,
      ...(tolerance === null ? {} : { tolerance }),
    } satisfies OnnxVectorCase;
  });
}
