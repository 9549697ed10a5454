// A protobuf writer for hand-built ONNX messages (field numbers from onnx.proto), and the attack
// file of issue 33 that onnx-header.ts once missed.

const varint = (n: number): number[] => (n < 0x80 ? [n] : [(n & 0x7f) | 0x80, ...varint(Math.floor(n / 128))]);
export const bytesField = (field: number, body: number[]) => [...varint(field * 8 + 2), ...varint(body.length), ...body];
export const intField = (field: number, n: number) => [...varint(field * 8), ...varint(n)];
export const str = (field: number, s: string) => bytesField(field, [...new TextEncoder().encode(s)]);

/**
 * GraphProto { node { attribute { name "value"; t; t } } }: AttributeProto.t is a singular message,
 * so protobuf merges its two occurrences into one tensor: EXTERNAL (the first part) at `location`
 * (the second). As a ModelProto field 7 appended to an exported graph, it is merged into that graph.
 */
export const splitTensorGraph = (location: string) =>
  bytesField(1, [
    ...bytesField(5, [
      ...str(1, 'value'),
      ...bytesField(5, [...str(8, 'w'), ...intField(14, 1)]),
      ...bytesField(5, bytesField(13, [...str(1, 'location'), ...str(2, location)])),
    ]),
  ]);
