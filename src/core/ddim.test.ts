import { describe, expect, it } from 'vitest';
import { ddimCoefficients, ddimNext, forwardNoise, predictX0 } from './ddim';
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
  it("t′ = −1 lands on x̂₀: c₁ = c₂ = 0, √ᾱ_{t′} = 1", () => {
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
