import { InteropError } from '../errors.js';
import {
  ATTRIBUTE_FLOAT,
  ATTRIBUTE_INT,
  ATTRIBUTE_INTS,
  dataTypeName,
  ONNX_DOUBLE,
  ONNX_FLOAT,
  type OnnxDim,
  type OnnxModel,
  type OnnxNode,
} from './model.js';

/**
 * Structural checks of an ONNX model, what `onnx.checker.check_model(model, full_check=True)`
 * checks for the operators this package writes (`BatchNormalization`, `Gemm`, `MatMul`, `Add`,
 * `Sigmoid`, `Relu`, `Transpose`, `Identity`): IR and opset versions, a named graph, names
 * defined once (SSA) and before use (topological order), graph inputs and outputs typed,
 * initializers decodable and (IR < 4) declared as inputs, each node's input and output counts
 * and attributes against its operator's schema at the model's opset, and shapes inferred
 * through the graph against the declared ones.
 */

interface Schema {
  readonly inputs: readonly [number, number];
  /** The output counts allowed. */
  readonly outputs: readonly number[];
  /** Attribute name → type (`AttributeProto.AttributeType`). */
  readonly attributes: Readonly<Record<string, number>>;
}

/** Each operator's schema by the opset version it was introduced in. */
const SCHEMAS: Readonly<Record<string, ReadonlyArray<readonly [number, Schema]>>> = {
  BatchNormalization: [
    [6, { inputs: [5, 5], outputs: [1, 5], attributes: { epsilon: ATTRIBUTE_FLOAT, is_test: ATTRIBUTE_INT, momentum: ATTRIBUTE_FLOAT, spatial: ATTRIBUTE_INT } }],
    [7, { inputs: [5, 5], outputs: [1, 5], attributes: { epsilon: ATTRIBUTE_FLOAT, momentum: ATTRIBUTE_FLOAT, spatial: ATTRIBUTE_INT } }],
    [9, { inputs: [5, 5], outputs: [1, 5], attributes: { epsilon: ATTRIBUTE_FLOAT, momentum: ATTRIBUTE_FLOAT } }],
    [14, { inputs: [5, 5], outputs: [1, 3], attributes: { epsilon: ATTRIBUTE_FLOAT, momentum: ATTRIBUTE_FLOAT, training_mode: ATTRIBUTE_INT } }],
    [15, { inputs: [5, 5], outputs: [1, 3], attributes: { epsilon: ATTRIBUTE_FLOAT, momentum: ATTRIBUTE_FLOAT, training_mode: ATTRIBUTE_INT } }],
  ],
  Gemm: [
    [7, { inputs: [3, 3], outputs: [1], attributes: { alpha: ATTRIBUTE_FLOAT, beta: ATTRIBUTE_FLOAT, transA: ATTRIBUTE_INT, transB: ATTRIBUTE_INT } }],
    [11, { inputs: [2, 3], outputs: [1], attributes: { alpha: ATTRIBUTE_FLOAT, beta: ATTRIBUTE_FLOAT, transA: ATTRIBUTE_INT, transB: ATTRIBUTE_INT } }],
  ],
  MatMul: [[1, { inputs: [2, 2], outputs: [1], attributes: {} }]],
  Add: [[7, { inputs: [2, 2], outputs: [1], attributes: {} }]],
  Sigmoid: [[6, { inputs: [1, 1], outputs: [1], attributes: {} }]],
  Relu: [[6, { inputs: [1, 1], outputs: [1], attributes: {} }]],
  Identity: [[1, { inputs: [1, 1], outputs: [1], attributes: {} }]],
  Transpose: [[1, { inputs: [1, 1], outputs: [1], attributes: { perm: ATTRIBUTE_INTS } }]],
};

/** The newest IR version this checker accepts (onnx 1.23's is 13; opset 15 models are IR 8). */
export const MAX_IR_VERSION = 13;

function schemaOf(opType: string, opset: number): Schema | undefined {
  let found: Schema | undefined;
  for (const [since, schema] of SCHEMAS[opType] ?? []) if (since <= opset) found = schema;
  return found;
}

type Shape = readonly OnnxDim[] | undefined;

/** Two dims agree unless both are numbers and differ. */
function dimsAgree(a: OnnxDim, b: OnnxDim): boolean {
  return typeof a !== 'number' || typeof b !== 'number' || a === b;
}

function shapeText(shape: Shape): string {
  return shape === undefined ? 'unknown' : `[${shape.map((d) => (d === undefined ? '?' : String(d))).join(', ')}]`;
}

/** Every problem found, as sentences; empty for a model that passes. */
export function onnxModelProblems(model: OnnxModel): string[] {
  const problems: string[] = [];
  const problem = (text: string) => problems.push(text);
  if (!Number.isInteger(model.irVersion) || model.irVersion < 3 || model.irVersion > MAX_IR_VERSION) {
    problem(`ir_version ${model.irVersion} is not in [3, ${MAX_IR_VERSION}]`);
  }
  const defaults = model.opsetImports.filter((o) => o.domain === '' || o.domain === 'ai.onnx');
  if (defaults.length !== 1) problem(`opset_import has ${defaults.length} entries for the default domain, expected 1`);
  const opset = defaults[0]?.version ?? 0;
  const graph = model.graph;
  if (graph.name === '') problem('graph.name is empty');

  const defined = new Map<string, Shape>();
  const define = (name: string, shape: Shape, what: string) => {
    if (name === '') return problem(`${what} has an empty name`);
    if (defined.has(name)) return problem(`${what} ${JSON.stringify(name)} is defined twice (a graph is in SSA form)`);
    defined.set(name, shape);
  };
  const inputNames = new Set(graph.inputs.map((i) => i.name));
  for (const input of graph.inputs) {
    if (input.elemType === undefined) problem(`graph input ${JSON.stringify(input.name)} has no tensor type`);
    else if (input.shape === undefined) problem(`graph input ${JSON.stringify(input.name)} has no shape (its rank at least)`);
    define(input.name, input.shape, 'graph input');
  }
  const initializerNames = new Set<string>();
  for (const t of graph.initializers) {
    if (initializerNames.has(t.name)) problem(`initializer ${JSON.stringify(t.name)} appears twice`);
    initializerNames.add(t.name);
    if (t.name === '') problem('an initializer has no name');
    if (inputNames.has(t.name)) {
      const declared = graph.inputs.find((i) => i.name === t.name)!;
      if (declared.shape !== undefined && (declared.shape.length !== t.dims.length || declared.shape.some((d, k) => !dimsAgree(d, t.dims[k])))) {
        problem(`initializer ${JSON.stringify(t.name)} of shape ${shapeText(t.dims)} does not match its graph input's ${shapeText(declared.shape)}`);
      }
      if (declared.elemType !== undefined && declared.elemType !== t.dataType) {
        problem(`initializer ${JSON.stringify(t.name)} is ${dataTypeName(t.dataType)}, its graph input ${dataTypeName(declared.elemType)}`);
      }
    } else if (model.irVersion < 4) {
      problem(`initializer ${JSON.stringify(t.name)} is not a graph input (required before IR version 4)`);
    } else {
      define(t.name, t.dims, 'initializer');
    }
  }

  graph.nodes.forEach((node, index) => {
    const label = `node ${node.name === '' ? `#${index}` : JSON.stringify(node.name)} (${node.opType})`;
    if (node.opType === '') problem(`node #${index} has no op_type`);
    if (node.domain !== '' && node.domain !== 'ai.onnx') {
      problem(`${label} is in domain ${JSON.stringify(node.domain)}, which this checker does not know`);
      return;
    }
    const schema = schemaOf(node.opType, opset);
    if (schema === undefined) {
      problem(`${label}: no such operator at opset ${opset} among those this checker knows (${Object.keys(SCHEMAS).join(', ')})`);
      return;
    }
    const [minIn, maxIn] = schema.inputs;
    if (node.inputs.length < minIn || node.inputs.length > maxIn) problem(`${label} has ${node.inputs.length} inputs, expected ${minIn}–${maxIn}`);
    if (!schema.outputs.includes(node.outputs.length)) problem(`${label} has ${node.outputs.length} outputs, expected ${schema.outputs.join(' or ')}`);
    if (node.outputs[0] === '') problem(`${label}: its first output has no name`);
    node.inputs.forEach((input, k) => {
      if (input === '') {
        if (k < minIn) problem(`${label}: required input ${k} is empty`);
      } else if (!defined.has(input)) {
        problem(`${label}: input ${JSON.stringify(input)} is not defined before it (graph inputs, initializers, earlier nodes' outputs)`);
      }
    });
    const seen = new Set<string>();
    for (const a of node.attributes) {
      if (seen.has(a.name)) problem(`${label}: attribute ${JSON.stringify(a.name)} appears twice`);
      seen.add(a.name);
      const type = schema.attributes[a.name];
      if (type === undefined) problem(`${label}: unknown attribute ${JSON.stringify(a.name)}`);
      else if (type !== a.type) problem(`${label}: attribute ${JSON.stringify(a.name)} has type ${a.type}, expected ${type}`);
    }
    const shapes = inferShapes(node, opset, node.inputs.map((i) => defined.get(i)), problem, label);
    node.outputs.forEach((output, k) => {
      if (output !== '') define(output, shapes[k], `${label} output`);
    });
  });

  for (const output of graph.outputs) {
    if (output.elemType === undefined) problem(`graph output ${JSON.stringify(output.name)} has no tensor type`);
    else if (output.shape === undefined) problem(`graph output ${JSON.stringify(output.name)} has no shape (its rank at least)`);
    if (!defined.has(output.name)) {
      problem(`graph output ${JSON.stringify(output.name)} is produced by no node, input or initializer`);
      continue;
    }
    const inferred = defined.get(output.name);
    const declared = output.shape;
    if (inferred !== undefined && declared !== undefined && (inferred.length !== declared.length || inferred.some((d, k) => !dimsAgree(d, declared[k])))) {
      problem(`graph output ${JSON.stringify(output.name)} is declared ${shapeText(declared)} but inferred ${shapeText(inferred)}`);
    }
  }
  for (const t of graph.initializers) {
    if (t.dataType !== ONNX_FLOAT && t.dataType !== ONNX_DOUBLE) continue;
    if (t.values === undefined) problem(`initializer ${JSON.stringify(t.name)} has no data`);
  }
  return problems;
}

/** Output shapes of the operators the checker knows, reporting contradictions on the way. */
function inferShapes(node: OnnxNode, opset: number, inputs: Shape[], problem: (text: string) => void, label: string): Shape[] {
  const int = (name: string, fallback: number) => node.attributes.find((a) => a.name === name)?.i ?? fallback;
  switch (node.opType) {
    case 'BatchNormalization': {
      const x = inputs[0];
      if (x !== undefined && x.length < 2) problem(`${label}: X has rank ${x.length}, expected ≥ 2`);
      const c = x?.[1];
      for (let k = 1; k < 5; k++) {
        const p = inputs[k];
        if (p === undefined) continue;
        if (p.length !== 1) problem(`${label}: input ${k} has shape ${shapeText(p)}, expected [C]`);
        else if (!dimsAgree(p[0], c)) problem(`${label}: input ${k} has ${String(p[0])} values, X has ${String(c)} channels`);
      }
      const mode = int('training_mode', 0);
      if (mode !== 0 && mode !== 1) problem(`${label}: training_mode must be 0 or 1`);
      // from version 14 the outputs follow training_mode, absent meaning 0 (ONNX's shape inference)
      else if (opset >= 14 && node.outputs.length !== (mode === 1 ? 3 : 1)) {
        problem(`${label}: ${node.outputs.length} outputs with training_mode = ${mode}, expected ${mode === 1 ? 3 : 1}`);
      }
      return [x, [c], [c], [c], [c]];
    }
    case 'Gemm': {
      const [a, b, cBias] = inputs;
      if (a !== undefined && a.length !== 2) problem(`${label}: A has rank ${a.length}, expected 2`);
      if (b !== undefined && b.length !== 2) problem(`${label}: B has rank ${b.length}, expected 2`);
      if (a?.length !== 2 || b?.length !== 2) return [undefined];
      const [m, k] = int('transA', 0) === 1 ? [a[1], a[0]] : [a[0], a[1]];
      const [kb, n] = int('transB', 0) === 1 ? [b[1], b[0]] : [b[0], b[1]];
      if (!dimsAgree(k, kb)) problem(`${label}: A's ${String(k)} columns do not meet B's ${String(kb)} rows`);
      if (cBias !== undefined && (cBias.length > 2 || !dimsAgree(cBias[cBias.length - 1], n) && cBias[cBias.length - 1] !== 1)) {
        problem(`${label}: C of shape ${shapeText(cBias)} does not broadcast to [M, ${String(n)}]`);
      }
      return [[m, n]];
    }
    case 'MatMul': {
      const [a, b] = inputs;
      if (a?.length !== 2 || b?.length !== 2) return [undefined];
      if (!dimsAgree(a[1], b[0])) problem(`${label}: A's ${String(a[1])} columns do not meet B's ${String(b[0])} rows`);
      return [[a[0], b[1]]];
    }
    case 'Add': {
      const [a, b] = inputs;
      if (a === undefined || b === undefined) return [undefined];
      const rank = Math.max(a.length, b.length);
      const out: OnnxDim[] = [];
      for (let k = 0; k < rank; k++) {
        const da = a[a.length - rank + k] ?? 1;
        const db = b[b.length - rank + k] ?? 1;
        if (da !== 1 && db !== 1 && !dimsAgree(da, db)) problem(`${label}: ${shapeText(a)} and ${shapeText(b)} do not broadcast`);
        out.push(da === 1 ? db : da);
      }
      return [out];
    }
    case 'Transpose': {
      const x = inputs[0];
      const perm = node.attributes.find((a) => a.name === 'perm')?.ints;
      if (x === undefined) return [undefined];
      if (perm === undefined) return [[...x].reverse()];
      const sorted = [...perm].sort((p, q) => p - q);
      if (perm.length !== x.length || sorted.some((p, k) => p !== k)) {
        problem(`${label}: perm [${perm.join(', ')}] is not a permutation of X's ${x.length} axes`);
        return [undefined];
      }
      return [perm.map((p) => x[p])];
    }
    default:
      return [inputs[0]];
  }
}

/**
 * Throws `InteropError` `INVALID_ARGUMENT` listing every problem {@link onnxModelProblems}
 * finds; returns quietly for a model that passes.
 */
export function checkOnnxModel(model: OnnxModel, source?: string): void {
  const problems = onnxModelProblems(model);
  if (problems.length === 0) return;
  throw new InteropError({
    code: 'INVALID_ARGUMENT',
    ...(source === undefined ? {} : { file: source }),
    field: 'model',
    expected: 'a model passing the structural checks',
    received: `${problems.length} problem${problems.length === 1 ? '' : 's'}: ${problems.join('; ')}`,
  });
}
