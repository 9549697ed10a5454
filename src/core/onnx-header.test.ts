// The ONNX structural check against the real exported models and what damaged files look like.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { canInline, selfContainedTiny } from '../testing/model-layouts';
import { bytesField, intField, splitTensorGraph, str } from '../testing/onnx-protobuf';
import { checkExternalData, checkOnnxBytes, externalDataLocations } from './onnx-header';

const tiny = (name: string) => new Uint8Array(readFileSync(fileURLToPath(new URL(`../../public/models/tiny/${name}`, import.meta.url))));

describe('checkOnnxBytes', () => {
  it('accepts every exported model of the tiny pair', () => {
    for (const name of ['mask.onnx', 'image.onnx', 'mask_step.onnx', 'image_step.onnx']) {
      expect(() => checkOnnxBytes(name, tiny(name))).not.toThrow();
    }
  });

  it('names a truncated file, wherever it was cut', () => {
    const full = tiny('mask.onnx');
    for (const keep of [full.length - 1, Math.floor(full.length / 2), 200, 40]) {
      expect(() => checkOnnxBytes('mask.onnx', full.subarray(0, keep))).toThrow(/^mask\.onnx is truncated/);
    }
    // the cut field's own length says how much is missing: the graph, or the opset list after it
    expect(() => checkOnnxBytes('mask.onnx', full.subarray(0, Math.floor(full.length * 0.8)))).toThrow(
      /its graph needs \d+ bytes from byte \d+, but the file ends at byte \d+$/,
    );
    expect(() => checkOnnxBytes('mask.onnx', full.subarray(0, full.length - 1))).toThrow(/its opset_import needs/);
  });

  it('names what a wrong file is instead', () => {
    const cases: [Uint8Array, RegExp][] = [
      [new Uint8Array(0), /the file is empty/],
      [Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a), /it is a PNG image/],
      [Uint8Array.of(0x50, 0x4b, 0x03, 0x04, 0, 0), /it is a ZIP archive \(a PyTorch checkpoint\?\)/],
      [new TextEncoder().encode('<!doctype html><html></html>'), /it is an HTML or XML page/],
      [new TextEncoder().encode('{"format": 1}'), /it is JSON text/],
      [new TextEncoder().encode('version https://git-lfs.github.com/spec/v1\noid sha256:ab'), /a Git LFS pointer/],
      // 't' = field 14, wire type 4 (end group): no ONNX file has groups
      [new TextEncoder().encode('this is not a model'), /byte 0 has protobuf wire type 4/],
      // a protobuf with an ir_version but no graph
      [Uint8Array.of(0x08, 0x07), /it has no graph \(a ModelProto header without a model: truncated\?\)/],
    ];
    for (const [bytes, why] of cases) {
      expect(() => checkOnnxBytes('x.onnx', bytes)).toThrow(/^x\.onnx is not an ONNX model: /);
      expect(() => checkOnnxBytes('x.onnx', bytes)).toThrow(why);
    }
  });

  it('accepts the smallest well-formed header (ir_version, a graph) and refuses field 0', () => {
    expect(() => checkOnnxBytes('m.onnx', Uint8Array.of(0x08, 0x07, 0x3a, 0x01, 0x00))).not.toThrow();
    expect(() => checkOnnxBytes('m.onnx', Uint8Array.of(0x00, 0x07))).toThrow(/byte 0 is not a valid protobuf field/);
  });
});

/** TensorProto with external_data {location} and data_location (1 = EXTERNAL). */
const tensor = (location: string, dataLocation = 1) => [
  ...str(8, 'w'),
  ...bytesField(13, [...str(1, 'location'), ...str(2, location)]),
  ...intField(14, dataLocation),
];
/** ModelProto { ir_version 8, graph { initializer, node { attribute { t } } } }. */
const model = (initializers: number[][], attributeTensors: number[][] = []) =>
  Uint8Array.from([
    ...intField(1, 8),
    ...bytesField(7, [
      ...initializers.flatMap((t) => bytesField(5, t)),
      ...attributeTensors.flatMap((t) => bytesField(1, bytesField(5, [...str(1, 'value'), ...bytesField(5, t)]))),
    ]),
  ]);

describe('external data (weights files)', () => {
  it('the bundled graphs keep their large tensors in their U-Net’s weights file, no other', () => {
    expect(externalDataLocations(tiny('mask.onnx'))).toEqual(['mask.weights']);
    expect(externalDataLocations(tiny('mask_step.onnx'))).toEqual(['mask.weights']);
    expect(externalDataLocations(tiny('image_step.onnx'))).toEqual(['image.weights']);
    expect(() => checkExternalData('mask.onnx (mask model)', tiny('mask.onnx'), 'mask.weights')).not.toThrow();
  });

  it.skipIf(!canInline)('a self-contained graph (the layout before) keeps none outside', () => {
    const old = new Uint8Array(readFileSync(`${selfContainedTiny()}/mask_step.onnx`));
    expect(externalDataLocations(old)).toEqual([]);
    expect(() => checkExternalData('mask_step.onnx (maskStep model)', old, undefined)).not.toThrow();
  });

  it('finds locations in initializers and tensor attributes; only where data_location says EXTERNAL', () => {
    expect(externalDataLocations(model([tensor('a.weights'), tensor('b.weights')], [tensor('c.weights')]))).toEqual(['a.weights', 'b.weights', 'c.weights']);
    expect(externalDataLocations(model([tensor('a.weights', 0)]))).toEqual([]);
  });

  it('refuses a location with a folder in it, or one the manifest does not name, naming the graph', () => {
    const cases: [Uint8Array, string | undefined, string][] = [
      [
        model([tensor('../mask.weights')]),
        'mask.weights',
        'mask.onnx (mask model) keeps tensors in "../mask.weights": external data must be a plain file name in the model folder',
      ],
      [
        model([tensor('/etc/passwd')]),
        'mask.weights',
        'mask.onnx (mask model) keeps tensors in "/etc/passwd": external data must be a plain file name in the model folder',
      ],
      [model([tensor('..')]), undefined, 'mask.onnx (mask model) keeps tensors in "..": external data must be a plain file name in the model folder'],
      [
        model([tensor('image.weights')]),
        'mask.weights',
        'mask.onnx (mask model) keeps tensors in image.weights, but the manifest names mask.weights as its weights',
      ],
      [model([tensor('mask.weights')]), undefined, 'mask.onnx (mask model) keeps tensors in mask.weights, but the manifest names no weights file for it'],
    ];
    for (const [bytes, weights, message] of cases) expect(() => checkExternalData('mask.onnx (mask model)', bytes, weights)).toThrow(message);
  });

  it('a tensor whose length runs past its graph is named, not read beyond', () => {
    const bad = model([tensor('mask.weights')]);
    bad[bad.length - 2] = 0x72; // data_location (14) as a length-delimited field: 1 byte, past the tensor's end
    expect(() => checkExternalData('mask.onnx (mask model)', bad, 'mask.weights')).toThrow(
      /^mask\.onnx \(mask model\) is not an ONNX model: its protobuf is corrupt at byte \d+$/,
    );
  });
});

describe('external data as protobuf reads it', () => {
  const splitAttributeTensor = (location: string) => Uint8Array.from([...intField(1, 8), ...bytesField(7, splitTensorGraph(location))]);

  it('a tensor split over two occurrences of its (singular) field is one tensor: the attack file', () => {
    const attack = splitAttributeTensor('secret.txt');
    expect(() => checkOnnxBytes('mask.onnx', attack)).not.toThrow();
    expect(externalDataLocations(attack)).toEqual(['secret.txt']);
    expect(() => checkExternalData('mask.onnx (mask model)', attack, 'mask.weights')).toThrow(
      'mask.onnx (mask model) keeps tensors in secret.txt, but the manifest names mask.weights as its weights',
    );
  });

  it('merges split sparse values, split graphs, split training graphs; finds tensors in functions', () => {
    const sparse = Uint8Array.from([
      ...intField(1, 8),
      ...bytesField(
        7,
        bytesField(15, [
          ...bytesField(1, intField(14, 1)),
          ...bytesField(2, []),
          ...bytesField(1, bytesField(13, [...str(1, 'location'), ...str(2, 'a.txt')])),
        ]),
      ),
    ]);
    expect(externalDataLocations(sparse)).toEqual(['a.txt']);
    // ModelProto.graph twice (the tensor in the second), a training graph, a subgraph's split tensor
    const nested = Uint8Array.from([
      ...intField(1, 8),
      ...bytesField(7, []),
      ...bytesField(7, bytesField(5, tensor('b.txt'))),
      ...bytesField(20, bytesField(2, bytesField(5, tensor('c.txt')))),
      ...bytesField(
        20,
        bytesField(
          1,
          bytesField(1, bytesField(5, bytesField(6, bytesField(1, bytesField(5, [...bytesField(5, intField(14, 1)), ...bytesField(5, tensor('d.txt', 0))]))))),
        ),
      ),
    ]);
    expect(externalDataLocations(nested)).toEqual(['b.txt', 'c.txt', 'd.txt']);
    // FunctionProto { node { attribute { t } } }, FunctionProto.attribute_proto { t }
    const fn = Uint8Array.from([
      ...intField(1, 8),
      ...bytesField(7, []),
      ...bytesField(25, [...bytesField(7, bytesField(5, bytesField(5, tensor('c.txt')))), ...bytesField(11, bytesField(5, tensor('d.txt')))]),
    ]);
    expect(externalDataLocations(fn)).toEqual(['c.txt', 'd.txt']);
  });

  it('reads data_location as protobuf does: an int32 of the varint, unknown values kept out', () => {
    const withLocation = (dataLocation: number[]) =>
      Uint8Array.from([...intField(1, 8), ...bytesField(7, bytesField(5, [...bytesField(13, [...str(1, 'location'), ...str(2, 'e.txt')]), ...dataLocation]))]);
    // 2^32 + 1 casts to 1 (EXTERNAL); a 1 followed by 5 (not an enum value) stays 1; padded varints
    expect(externalDataLocations(withLocation([0x70, 0x81, 0x80, 0x80, 0x80, 0x10]))).toEqual(['e.txt']);
    expect(externalDataLocations(withLocation([...intField(14, 1), ...intField(14, 5)]))).toEqual(['e.txt']);
    expect(externalDataLocations(withLocation([0xf0, 0x80, 0x80, 0x80, 0x00, 0x81, 0x00]))).toEqual(['e.txt']);
    expect(externalDataLocations(withLocation([...intField(14, 1), ...intField(14, 0)]))).toEqual(['e.txt']); // refused rather than guessed
    expect(externalDataLocations(withLocation(intField(14, 0)))).toEqual([]);
    // a tag past 32 bits (protobuf drops the high bits: field 14), data_location as a length: refused
    expect(() => externalDataLocations(withLocation([0xf0, 0x80, 0x80, 0x80, 0x10, 0x01]))).toThrow(/its protobuf is corrupt at byte \d+/);
    expect(() => externalDataLocations(withLocation(bytesField(14, [1])))).toThrow(/field 14 of a tensor has wire type 2/);
  });

  it('refuses an EXTERNAL tensor without a location, and nesting past protobuf’s limit, quickly', () => {
    const noLocation = Uint8Array.from([...intField(1, 8), ...bytesField(7, bytesField(5, intField(14, 1)))]);
    expect(() => checkExternalData('m.onnx', noLocation, 'm.weights')).toThrow(
      'm.onnx keeps tensors in "": external data must be a plain file name in the model folder',
    );
    // 300 graphs each in an attribute of a node of the one above; 100,000 parts of one tensor
    let graph: number[] = [];
    for (let i = 0; i < 300; i++) graph = bytesField(1, bytesField(5, bytesField(6, graph)));
    const deep = Uint8Array.from([...intField(1, 8), ...bytesField(7, graph)]);
    expect(() => checkExternalData('m.onnx', deep, undefined)).toThrow('m.onnx is not an ONNX model: its messages are nested more than 100 deep');
    const parts = new Array<number[]>(100000).fill(bytesField(5, intField(14, 1))).flat();
    const wide = Uint8Array.from([...intField(1, 8), ...bytesField(7, bytesField(1, bytesField(5, [...parts, ...bytesField(5, tensor('f.txt', 0))])))]);
    const t0 = performance.now();
    expect(externalDataLocations(wide)).toEqual(['f.txt']);
    expect(performance.now() - t0).toBeLessThan(2000);
  });
});
