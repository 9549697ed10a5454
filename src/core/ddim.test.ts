import { describe, expect, it } from 'vitest';
import { clipEstimate, clipsChain, ddimCoefficients, ddimNext, forwardNoise, predictX0 } from './ddim';
import { linearSchedule } from './schedule';

const s = linearSchedule({ kind: 'linear', betaStart: 1e-4, betaEnd: 0.02, T: 1024 });
// ᾱ_768 and ᾱ_512 from PyTorch (see schedule.test.ts)
const A768 = 0.0028781818973108142;
const A512 = 0.07318522735557746;

describe('ddimCoefficients', () => {
  it('η = 0: c₁ = 0, c₂ = √(1 − ᾱ_{t′})', () => {
    const k = ddimCoefficients(s, 768, 512, 0);
    expect(k.c1).toBe(0);
    expect(k.c2).toBeCloseTo(Math.sqrt(1 - A512), 14);
    expect(k.sqrtAlphaBar).toBeCloseTo(Math.sqrt(A768), 14);
    expect(k.sqrtAlphaBarPrev).toBeCloseTo(Math.sqrt(A512), 14);
  });
  it('η = 1: the DDPM posterior std', () => {
    const k = ddimCoefficients(s, 768, 512, 1);
    const c1 = Math.sqrt(((1 - A768 / A512) * (1 - A512)) / (1 - A768));
    expect(k.c1).toBeCloseTo(c1, 14);
    expect(k.c2).toBeCloseTo(Math.sqrt(1 - A512 - c1 * c1), 14);
    // hand value: ≈ 0.9626 (1 − 0.0393 ... ) sanity range
    expect(k.c1).toBeGreaterThan(0.9);
    expect(k.c1).toBeLessThan(1);
  });
  it('t′ = −1 lands on x̂₀: c₁ = c₂ = 0, √ᾱ_{t′} = 1', () => {
    for (const eta of [0, 0.5, 1]) {
      const k = ddimCoefficients(s, 0, -1, eta);
      expect(k.c1).toBe(0);
      expect(k.c2).toBe(0);
      expect(k.sqrtAlphaBarPrev).toBe(1);
    }
  });
});

describe('predictX0 / ddimNext', () => {
  it('computes the formulas element-wise', () => {
    const k = ddimCoefficients(s, 768, 512, 0);
    const xt = new Float32Array([0.5, -1.25, 2]);
    const eps = new Float32Array([0.1, -0.3, 1.5]);
    const x0 = predictX0(xt, eps, k);
    for (let i = 0; i < 3; i++) {
      const want = (xt[i] - Math.sqrt(1 - A768) * eps[i]) / Math.sqrt(A768);
      expect(x0[i]).toBe(Math.fround(want));
    }
    const next = ddimNext(x0, eps, null, k);
    for (let i = 0; i < 3; i++) expect(next[i]).toBe(Math.fround(Math.sqrt(A512) * x0[i] + Math.sqrt(1 - A512) * eps[i]));
  });
  it('uses z when η > 0 and refuses to run without it', () => {
    const k = ddimCoefficients(s, 768, 512, 1);
    const x0 = new Float32Array([0.25]);
    const eps = new Float32Array([-0.5]);
    const z = new Float32Array([2]);
    expect(ddimNext(x0, eps, z, k)[0]).toBe(Math.fround(Math.sqrt(A512) * 0.25 + k.c1 * 2 + k.c2 * -0.5));
    expect(() => ddimNext(x0, eps, null, k)).toThrow(/needs the noise z/);
  });
  it('inverts the forward process when ε is the true noise', () => {
    const k = ddimCoefficients(s, 512, 256, 0);
    const x0 = new Float32Array([-1, -0.5, 0, 0.5, 1]);
    const eps = new Float32Array([0.3, -1.2, 2.2, 0.01, -0.7]);
    const xt = forwardNoise(x0, eps, k);
    const back = predictX0(xt, eps, k);
    for (let i = 0; i < 5; i++) expect(back[i]).toBeCloseTo(x0[i], 5);
  });
});

describe('clipEstimate', () => {
  // Golden values from numpy, from the formula: x̂₀ = float32((x_t − √(1−ᾱ) ε) / √ᾱ) in float64;
  // where |x̂₀| > 1: x̂₀ = ±1, ε = float32(ε + (x̂₀ − ±1) √ᾱ / √(1−ᾱ)) in float64; elsewhere unchanged.
  const cases = [
    {
      what: 't = 768 (ᾱ ≈ 0.0029: x̂₀ amplifies ε 19×)',
      t: 768,
      xt: [0.5, -1.25, 0.02, 2],
      eps: [0.49, -0.3, 0.04, 1.5],
      x0: [0.199551060795784, -17.71584701538086, -0.37172192335128784, 9.36015796661377],
      clippedX0: [0.199551060795784, -1, -0.37172192335128784, 1],
      clippedEps: [0.49000000953674316, -1.198076605796814, 0.03999999910593033, 1.9491583108901978],
    },
    {
      what: 't = 0 (ᾱ ≈ 0.9999: x̂₀ ≈ x_t, ε re-derived ×100)',
      t: 0,
      xt: [1.5, -0.999, -1.2, 0.3],
      eps: [0.01, 0.02, -0.03, 0.5],
      x0: [1.4999749660491943, -0.9992499947547913, -1.19976007938385, 0.29501476883888245],
      clippedX0: [1, -0.9992499947547913, -1, 0.29501476883888245],
      clippedEps: [50.00499725341797, 0.019999999552965164, -20.005008697509766, 0.5],
    },
  ];
  for (const c of cases) {
    it(`clamps x̂₀ and re-derives ε only where |x̂₀| > 1: ${c.what}`, () => {
      const k = ddimCoefficients(s, c.t, Math.max(-1, c.t - 256), 0);
      const xt = Float32Array.from(c.xt);
      const eps = Float32Array.from(c.eps);
      const x0 = predictX0(xt, eps, k);
      expect(Array.from(x0)).toEqual(c.x0);
      const before = eps.slice();
      expect(clipEstimate(eps, x0, k)).toBe(2);
      expect(Array.from(x0)).toEqual(c.clippedX0);
      expect(Array.from(eps)).toEqual(c.clippedEps);
      // unclipped elements bit-identical to the reference; clipped ones: x_t = √ᾱ x̂₀ + √(1−ᾱ) ε holds again
      for (let i = 0; i < xt.length; i++) {
        if (Math.abs(c.x0[i]) <= 1) expect(eps[i]).toBe(before[i]);
        else expect(k.sqrtAlphaBar * x0[i] + k.sqrtOneMinusAlphaBar * eps[i]).toBeCloseTo(xt[i], 5);
      }
    });
  }
  it('leaves ±1 exactly and NaN alone', () => {
    const k = ddimCoefficients(s, 512, 256, 0);
    const eps = Float32Array.of(0.5, 0.6, 0.7);
    const x0 = Float32Array.of(1, -1, NaN);
    expect(clipEstimate(eps, x0, k)).toBe(0);
    expect(Array.from(x0)).toEqual([1, -1, NaN]);
    expect(Array.from(eps)).toEqual(Array.from(Float32Array.of(0.5, 0.6, 0.7)));
  });
  it('which chains each mode clips', () => {
    expect([clipsChain('none', 'mask'), clipsChain('none', 'image')]).toEqual([false, false]);
    expect([clipsChain('image', 'mask'), clipsChain('image', 'image')]).toEqual([false, true]);
    expect([clipsChain('both', 'mask'), clipsChain('both', 'image')]).toEqual([true, true]);
  });
});
