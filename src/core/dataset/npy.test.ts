// The .npy writer, read back by numpy.load: dtype, shape, C order and every value bit for bit.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { pythonHas, runPythonJson } from '../../testing/python';
import { encodeNpyFloat32 } from './npy';

const READ_NPY = `
import json, sys, numpy as np
a = np.load(sys.argv[1])
print(json.dumps({"dtype": a.dtype.str, "shape": list(a.shape), "c": bool(a.flags["C_CONTIGUOUS"]),
                  "bits": a.astype("<f4").ravel(order="C").view("<u4").tolist(), "at": float(a[tuple(int(i) for i in sys.argv[2].split(","))])}))
`;

const hasNumpy = pythonHas('numpy');
if (!hasNumpy) console.warn('SKIPPED npy reading test: no numpy in /usr/bin/python3');

describe.skipIf(!hasNumpy)('npy (read back by numpy.load)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pig-npy-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const cases: { shape: number[]; at: number[] }[] = [
    { shape: [3, 5], at: [2, 1] }, // [H, W]: element (2, 1) is index 2·5 + 1 = 11 in C order
    { shape: [7], at: [6] },
    { shape: [2, 3, 4], at: [1, 2, 3] },
  ];
  for (const { shape, at } of cases) {
    it(`float32 [${shape}] in C order`, () => {
      const n = shape.reduce((a, b) => a * b, 1);
      const data = Float32Array.from({ length: n }, (_, i) => (i - 3) / 7);
      data[0] = -0;
      if (n > 2) data[2] = Infinity;
      const path = join(dir, `a-${shape.join('x')}.npy`);
      writeFileSync(path, encodeNpyFloat32(data, shape));
      const got = runPythonJson<{ dtype: string; shape: number[]; c: boolean; bits: number[]; at: number }>(READ_NPY, path, at.join(','));
      expect(got.dtype).toBe('<f4');
      expect(got.shape).toEqual(shape);
      expect(got.c).toBe(true);
      expect(got.bits).toEqual(Array.from(new Uint32Array(data.buffer)));
      const flat = at.reduce((acc, v, i) => acc * shape[i] + v, 0);
      expect(got.at).toBe(data[flat]);
    });
  }
});

describe('npy header', () => {
  it('data starts on a 64-byte boundary; a shape that does not hold the data is refused', () => {
    const bytes = encodeNpyFloat32(new Float32Array(6), [2, 3]);
    const headerLength = bytes[8] | (bytes[9] << 8);
    expect((10 + headerLength) % 64).toBe(0);
    expect(bytes[10 + headerLength - 1]).toBe(0x0a); // header ends in '\n'
    expect(bytes.length).toBe(10 + headerLength + 24);
    expect(() => encodeNpyFloat32(new Float32Array(5), [2, 3])).toThrow(/shape \[2,3\] does not hold 5 values/);
  });
});
