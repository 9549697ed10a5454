// A U-Net stand-in whose output is NaN (or any constant), written as ONNX bytes at test time so no
// broken binary is committed: eps = Conv(x, W) with every weight `value`, so each output pixel is
// value·(x₀ + x₁) — NaN for NaN. Inputs x [1, 2, H, W] and t [1], output eps [1, 1, H, W]: the
// signature the manifest gives the plain U-Nets (contracts.md §1). A hand-written protobuf: onnx.proto's
// field numbers, nothing else.

const varint = (n) => {
  const out = [];
  while (n > 127) {
    out.push((n & 127) | 128);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
};
const key = (field, wire) => varint(field * 8 + wire);
const bytesField = (field, payload) => [...key(field, 2), ...varint(payload.length), ...payload];
const intField = (field, n) => [...key(field, 0), ...varint(n)];
const str = (field, s) => bytesField(field, [...Buffer.from(s, 'utf8')]);

const dim = (n) => bytesField(1, intField(1, n)); // TensorShapeProto.Dimension.dim_value
const valueInfo = (name, shape) =>
  // ValueInfoProto { name, type: TypeProto { tensor_type: { elem_type: FLOAT, shape } } }
  [...str(1, name), ...bytesField(2, bytesField(1, [...intField(1, 1), ...bytesField(2, shape.flatMap(dim))]))];

/** ONNX bytes of the stand-in for a model of `height`×`width` whose every output value is NaN (value·(x₀+x₁)). */
export function constantOutputUnet(height, width, value = NaN) {
  const weights = Buffer.alloc(8);
  weights.writeFloatLE(value, 0);
  weights.writeFloatLE(value, 4);
  const initializer = [
    ...intField(1, 1),
    ...intField(1, 2),
    ...intField(1, 1),
    ...intField(1, 1),
    ...intField(2, 1),
    ...str(8, 'w'),
    ...bytesField(9, [...weights]),
  ];
  const node = [...str(1, 'x'), ...str(1, 'w'), ...str(2, 'eps'), ...str(3, 'conv'), ...str(4, 'Conv')];
  const graph = [
    ...bytesField(1, node),
    ...str(2, 'constant-output'),
    ...bytesField(5, initializer),
    ...bytesField(11, valueInfo('x', [1, 2, height, width])),
    ...bytesField(11, valueInfo('t', [1])),
    ...bytesField(12, valueInfo('eps', [1, 1, height, width])),
  ];
  const model = [...intField(1, 8), ...str(2, 'pig-e2e'), ...bytesField(7, graph), ...bytesField(8, [...str(1, ''), ...intField(2, 13)])];
  return Buffer.from(model);
}
