import { malformed, unsupported, type InteropLocation } from '../errors.js';
import {
  ATTRIBUTE_FLOAT,
  ATTRIBUTE_FLOATS,
  ATTRIBUTE_INT,
  ATTRIBUTE_INTS,
  ATTRIBUTE_STRING,
  ATTRIBUTE_TENSOR,
  type OnnxAttribute,
  type OnnxDim,
  type OnnxGraph,
  type OnnxModel,
  type OnnxNode,
  type OnnxOpsetImport,
  type OnnxTensor,
  type OnnxValueInfo,
} from './model.js';
import { fieldBytes, fieldFloat, fieldInt, fieldString, readFields, repeatedNumbers, WIRE_LENGTH } from './protobuf.js';
import { decodeTensor } from './tensor.js';

function decodeValueInfo(bytes: Uint8Array, where: InteropLocation): OnnxValueInfo {
  const fields = readFields(bytes, where);
  let name = '';
  let typeBytes: Uint8Array | undefined;
  for (const field of fields) {
    if (field.number === 1) name = fieldString(field, where, 'name');
    else if (field.number === 2) typeBytes = fieldBytes(field, where, 'type');
  }
  const at = { ...where, tensor: name };
  if (typeBytes === undefined) return { name };
  // TypeProto.tensor_type (1) → Tensor { elem_type 1, shape 2 } → TensorShapeProto { dim 1 }
  const tensorType = readFields(typeBytes, at).find((f) => f.number === 1 && f.wireType === WIRE_LENGTH);
  if (tensorType === undefined) return { name };
  let elemType: number | undefined;
  let shape: OnnxDim[] | undefined;
  for (const field of readFields(tensorType.bytes!, at)) {
    if (field.number === 1) elemType = fieldInt(field, at, 'type.tensor_type.elem_type');
    else if (field.number === 2) {
      shape = [];
      for (const dim of readFields(fieldBytes(field, at, 'type.tensor_type.shape'), at)) {
        if (dim.number !== 1) continue;
        let value: OnnxDim;
        for (const part of readFields(fieldBytes(dim, at, 'shape.dim'), at)) {
          if (part.number === 1) value = fieldInt(part, at, 'shape.dim.dim_value');
          else if (part.number === 2) value = fieldString(part, at, 'shape.dim.dim_param');
        }
        shape.push(value);
      }
    }
  }
  return { name, ...(elemType === undefined ? {} : { elemType }), ...(shape === undefined ? {} : { shape }) };
}

function decodeAttribute(bytes: Uint8Array, where: InteropLocation): OnnxAttribute {
  const fields = readFields(bytes, where);
  let name = '';
  let type = 0;
  const attribute: { -readonly [K in keyof OnnxAttribute]?: OnnxAttribute[K] } = {};
  for (const field of fields) {
    if (field.number === 1) name = fieldString(field, where, 'attribute.name');
  }
  const at = { ...where, field: `attribute ${JSON.stringify(name)}` };
  for (const field of fields) {
    switch (field.number) {
      case 20:
        type = fieldInt(field, at, 'type');
        break;
      case 2:
        attribute.f = fieldFloat(field, at, 'f');
        break;
      case 3:
        attribute.i = fieldInt(field, at, 'i');
        break;
      case 4:
        attribute.s = fieldString(field, at, 's');
        break;
      case 5:
        attribute.t = decodeTensor(fieldBytes(field, at, 't'), at);
        break;
    }
  }
  if (fields.some((f) => f.number === 7)) attribute.floats = repeatedNumbers(fields, 7, 'float', at, 'floats');
  if (fields.some((f) => f.number === 8)) attribute.ints = repeatedNumbers(fields, 8, 'int', at, 'ints');
  // IR version < 0.0.2 files may omit the type: infer it from the one field set
  if (type === 0) {
    type =
      attribute.f !== undefined ? ATTRIBUTE_FLOAT
      : attribute.i !== undefined ? ATTRIBUTE_INT
      : attribute.s !== undefined ? ATTRIBUTE_STRING
      : attribute.t !== undefined ? ATTRIBUTE_TENSOR
      : attribute.floats !== undefined ? ATTRIBUTE_FLOATS
      : attribute.ints !== undefined ? ATTRIBUTE_INTS
      : 0;
  }
  return { name, type, ...attribute };
}

function decodeNode(bytes: Uint8Array, where: InteropLocation): OnnxNode {
  const fields = readFields(bytes, where);
  let name = '';
  let opType = '';
  let domain = '';
  const inputs: string[] = [];
  const outputs: string[] = [];
  for (const field of fields) {
    if (field.number === 3) name = fieldString(field, where, 'node.name');
  }
  const at: InteropLocation = name === '' ? where : { ...where, tensor: name };
  const attributes: OnnxAttribute[] = [];
  for (const field of fields) {
    switch (field.number) {
      case 1:
        inputs.push(fieldString(field, at, 'input'));
        break;
      case 2:
        outputs.push(fieldString(field, at, 'output'));
        break;
      case 4:
        opType = fieldString(field, at, 'op_type');
        break;
      case 7:
        domain = fieldString(field, at, 'domain');
        break;
      case 5:
        attributes.push(decodeAttribute(fieldBytes(field, at, 'attribute'), at));
        break;
    }
  }
  return { name, opType, domain, inputs, outputs, attributes };
}

function decodeGraph(bytes: Uint8Array, where: InteropLocation): OnnxGraph {
  const fields = readFields(bytes, where);
  let name = '';
  const nodes: OnnxNode[] = [];
  const initializers: OnnxTensor[] = [];
  const inputs: OnnxValueInfo[] = [];
  const outputs: OnnxValueInfo[] = [];
  const valueInfo: OnnxValueInfo[] = [];
  for (const field of fields) {
    switch (field.number) {
      case 1:
        nodes.push(decodeNode(fieldBytes(field, where, 'graph.node'), { ...where, field: `graph.node[${nodes.length}]` }));
        break;
      case 2:
        name = fieldString(field, where, 'graph.name');
        break;
      case 5:
        initializers.push(decodeTensor(fieldBytes(field, where, 'graph.initializer'), { ...where, field: 'graph.initializer' }));
        break;
      case 15:
        throw unsupported({ ...where, field: 'graph.sparse_initializer' }, 'dense initializers', 'a sparse initializer');
      case 11:
        inputs.push(decodeValueInfo(fieldBytes(field, where, 'graph.input'), { ...where, field: 'graph.input' }));
        break;
      case 12:
        outputs.push(decodeValueInfo(fieldBytes(field, where, 'graph.output'), { ...where, field: 'graph.output' }));
        break;
      case 13:
        valueInfo.push(decodeValueInfo(fieldBytes(field, where, 'graph.value_info'), { ...where, field: 'graph.value_info' }));
        break;
    }
  }
  return { name, nodes, initializers, inputs, outputs, valueInfo };
}

/**
 * Decodes an ONNX `ModelProto`. Malformed bytes (a length past the end, a tensor whose data does
 * not match its dims, text that is not UTF-8) throw `InteropError` `INVALID_ARGUMENT`; external
 * data and sparse initializers throw `NOT_SUPPORTED`. `source` names the bytes in errors.
 */
export function decodeOnnxModel(bytes: Uint8Array, source?: string): OnnxModel {
  const where: InteropLocation = source === undefined ? {} : { file: source };
  if (!(bytes instanceof Uint8Array)) throw malformed({ ...where, field: 'bytes' }, 'a Uint8Array', typeof bytes);
  const fields = readFields(bytes, where);
  let irVersion = 0;
  let producerName = '';
  let producerVersion = '';
  let docString: string | undefined;
  let graph: OnnxGraph | undefined;
  const opsetImports: OnnxOpsetImport[] = [];
  for (const field of fields) {
    switch (field.number) {
      case 1:
        irVersion = fieldInt(field, where, 'ir_version');
        break;
      case 2:
        producerName = fieldString(field, where, 'producer_name');
        break;
      case 3:
        producerVersion = fieldString(field, where, 'producer_version');
        break;
      case 6:
        docString = fieldString(field, where, 'doc_string');
        break;
      case 7:
        graph = decodeGraph(fieldBytes(field, where, 'graph'), where);
        break;
      case 8: {
        let domain = '';
        let version = 0;
        for (const part of readFields(fieldBytes(field, where, 'opset_import'), where)) {
          if (part.number === 1) domain = fieldString(part, where, 'opset_import.domain');
          else if (part.number === 2) version = fieldInt(part, where, 'opset_import.version');
        }
        opsetImports.push({ domain, version });
        break;
      }
    }
  }
  if (graph === undefined) throw malformed({ ...where, field: 'graph' }, 'a model with a graph', 'none (is this an ONNX model?)');
  if (irVersion < 3) throw malformed({ ...where, field: 'ir_version' }, 'an IR version ≥ 3', String(irVersion));
  return {
    irVersion,
    opsetImports,
    producerName,
    producerVersion,
    ...(docString === undefined ? {} : { docString }),
    graph,
  };
}
