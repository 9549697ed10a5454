import { describe, expect, it } from 'vitest';
import { avgPool, binarize, contrastStretch } from './binarize';

/** Independent, direct (non-separable) pooling in float64 for comparison. */
function naivePool(a: number[], H: number, W: number, k = 5): number[] {
  const r = (k - 1) / 2;
  const out: number[] = [];
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++) {
      let s = 0;
      let n = 0;
      for (let dy = -r; dy <= r; dy++)
        for (let dx = -r; dx <= r; dx++) {
          const yy = y + dy;
          const xx = x + dx;
          if (yy >= 0 && yy < H && xx >= 0 && xx < W) {
            s += a[yy * W + xx];
            n++;
          }
        }
      out.push(s / n);
    }
  return out;
}

describe('avgPool (5×5, stride 1, pad 2, padding not counted)', () => {
  it('hand example on one row: divisors 3, 4, 5, 5, 4, 3', () => {
    const p = avgPool(new Float32Array([1, 1, 1, -1, -1, -1]), 1, 6);
    expect(Array.from(p)).toEqual([1, 0.5, 0.2, -0.2, -0.5, -1].map(Math.fround));
  });
  it('equals a direct 2-D window mean on a 7×9 map', () => {
    const H = 7;
    const W = 9;
    const a = Array.from({ length: H * W }, (_, i) => Math.fround(Math.sin(i * 1.7) * 1.3));
    const p = avgPool(Float32Array.from(a), H, W);
    const want = naivePool(a, H, W);
    for (let i = 0; i < a.length; i++) expect(p[i]).toBeCloseTo(want[i], 6);
  });
});

describe('binarize B(·)', () => {
  it('hand example: θ = 0.75·1 + 0.25·(−1) = 0.5, only pooled 1 > 0.5', () => {
    expect(Array.from(binarize(new Float32Array([1, 1, 1, -1, -1, -1]), 1, 6))).toEqual([1, -1, -1, -1, -1, -1]);
  });
  it('clamps before pooling', () => {
    // Without the clamp the 50 would drag the whole pooled map above θ's neighbourhood.
    const a = new Float32Array([50, 1, 1, -1, -1, -1]);
    expect(Array.from(binarize(a, 1, 6))).toEqual([1, -1, -1, -1, -1, -1]);
  });
  it('a constant map gives all −1 (nothing strictly above θ = the constant)', () => {
    expect(Array.from(binarize(new Float32Array(16).fill(0.3), 4, 4))).toEqual(new Array(16).fill(-1));
  });
  it('finds a square lesion in a 12×12 map', () => {
    const H = 12;
    const W = 12;
    const a = new Float32Array(H * W).fill(-1);
    for (let y = 3; y < 9; y++) for (let x = 4; x < 10; x++) a[y * W + x] = 1;
    const b = binarize(a, H, W);
    // compare with direct pooling + threshold in float64
    const p = naivePool(Array.from(a), H, W);
    const theta = 0.75 * Math.max(...p) + 0.25 * Math.min(...p);
    for (let i = 0; i < a.length; i++) expect(b[i]).toBe(p[i] > theta ? 1 : -1);
    expect(b[6 * W + 7]).toBe(1);
    expect(b[0]).toBe(-1);
  });
});

describe('contrastStretch (display only)', () => {
  it('maps the pooled [min, max] of the clamped image to [−1, max], then to [0, 255]', () => {
    // one row; pooled = [1, 0.5, 0.2, −0.2, −0.5, −1] → min −1, max 1 → identity map
    const a = new Float32Array([1, 1, 1, -1, -1, -1]);
    expect(Array.from(contrastStretch(a, 1, 6))).toEqual([255, 255, 255, 0, 0, 0]);
  });
  it('stretches a dim image: min → 0 and max stays max', () => {
    // values in [−0.5, 0]; on a 1×1 map pooled = value, so min = max → no stretch possible
    const b = contrastStretch(new Float32Array([-0.5]), 1, 1);
    expect(b[0]).toBe(Math.round(((-0.5 + 1) / 2) * 255));
    // 1×6 row: pooled min −0.5·… computed by hand below
    const a = new Float32Array([0, 0, 0, -0.5, -0.5, -0.5]);
    // pooled = [0, −0.125, −0.2, −0.3, −0.375, −0.5]; lo = −0.5, hi = 0
    // map v ↦ (1+hi)/(hi−lo)·v − hi(1+lo)/(hi−lo) = 2v
    expect(Array.from(contrastStretch(a, 1, 6))).toEqual([128, 128, 128, 0, 0, 0]);
  });
});
