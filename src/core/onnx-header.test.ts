// The ONNX structural check against the real exported models and what damaged files look like.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { checkOnnxBytes } from './onnx-header';

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
    expect(() => checkOnnxBytes('mask.onnx', full.subarray(0, 400_000))).toThrow(/its graph needs \d+ bytes from byte \d+, but the file ends at byte 400000$/);
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
