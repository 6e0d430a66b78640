import type { OnnxAttribute, OnnxModel, OnnxNode, OnnxValueInfo } from './model.js';
import { ProtoWriter } from './protobuf.js';
import { writeTensor } from './tensor.js';

function writeValueInfo(w: ProtoWriter, v: OnnxValueInfo): void {
  w.string(1, v.name);
  if (v.elemType === undefined) return;
  w.message(2, (type) =>
    type.message(1, (tensor) => {
      tensor.int(1, v.elemType!);
      if (v.shape === undefined) return;
      tensor.message(2, (shape) => {
        for (const dim of v.shape!) {
          shape.message(1, (d) => {
            if (typeof dim === 'number') d.int(1, dim);
            else if (typeof dim === 'string') d.string(2, dim);
          });
        }
      });
    }),
  );
}

function writeAttribute(w: ProtoWriter, a: OnnxAttribute): void {
  w.string(1, a.name);
  if (a.f !== undefined) w.float(2, a.f);
  if (a.i !== undefined) w.int(3, a.i);
  if (a.s !== undefined) w.string(4, a.s);
  if (a.t !== undefined) w.message(5, (t) => writeTensor(t, a.t!));
  for (const f of a.floats ?? []) w.float(7, f);
  if (a.ints !== undefined) w.packedInts(8, a.ints);
  w.int(20, a.type);
}

function writeNode(w: ProtoWriter, n: OnnxNode): void {
  for (const input of n.inputs) w.string(1, input);
  for (const output of n.outputs) w.string(2, output);
  if (n.name !== '') w.string(3, n.name);
  w.string(4, n.opType);
  for (const a of n.attributes) w.message(5, (m) => writeAttribute(m, a));
  if (n.domain !== '') w.string(7, n.domain);
}

/** Encodes `model` as ONNX protobuf bytes (tensor values as little-endian `raw_data`). */
export function encodeOnnxModel(model: OnnxModel): Uint8Array {
  const w = new ProtoWriter();
  w.int(1, model.irVersion);
  if (model.producerName !== '') w.string(2, model.producerName);
  if (model.producerVersion !== '') w.string(3, model.producerVersion);
  if (model.docString !== undefined) w.string(6, model.docString);
  w.message(7, (g) => {
    for (const n of model.graph.nodes) g.message(1, (m) => writeNode(m, n));
    g.string(2, model.graph.name);
    for (const t of model.graph.initializers) g.message(5, (m) => writeTensor(m, t));
    for (const v of model.graph.inputs) g.message(11, (m) => writeValueInfo(m, v));
    for (const v of model.graph.outputs) g.message(12, (m) => writeValueInfo(m, v));
    for (const v of model.graph.valueInfo) g.message(13, (m) => writeValueInfo(m, v));
  });
  for (const o of model.opsetImports) {
    w.message(8, (m) => {
      if (o.domain !== '') m.string(1, o.domain);
      m.int(2, o.version);
    });
  }
  return w.finish();
}
