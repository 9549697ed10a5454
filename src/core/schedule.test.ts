import { describe, expect, it } from 'vitest';
import { alphaBarAt, ddimTimePairs, linearSchedule } from './schedule';

const spec = { kind: 'linear', betaStart: 1e-4, betaEnd: 0.02, T: 1024 } as const;

// Golden values from PyTorch (float64 linspace → float32 betas; cumprod(1 − betas.double())):
//   b = torch.linspace(1e-4, 0.02, 1024, dtype=torch.float64).float(); ab = torch.cumprod(1 - b.double(), 0)
const golden: [t: number, beta: number, alphaBar: number][] = [
  [0, 9.999999747378752e-5, 0.9999000000025262],
  [1, 0.00011945259029744193, 0.9997805593574876],
  [255, 0.005060410592705011, 0.5159981677055048],
  [256, 0.005079863127321005, 0.5133769676396124],
  [511, 0.010040273889899254, 0.07392893218824777],
  [512, 0.010059726424515247, 0.07318522735557746],
  [767, 0.015020136721432209, 0.0029221295251216145],
  [768, 0.015039589256048203, 0.0028781818973108142],
  [1023, 0.019999999552965164, 3.1657424324952276e-5],
];

describe('linearSchedule', () => {
  const s = linearSchedule(spec);
  it('matches PyTorch betas bit for bit and ᾱ to float64 precision', () => {
    for (const [t, beta, ab] of golden) {
      expect(s.betas[t]).toBe(beta);
      expect(s.alphaBar[t]).toBeCloseTo(ab, 15);
    }
  });
  it('betas equal the plain float64 formula start + i·step rounded to float32, everywhere', () => {
    const step = (0.02 - 1e-4) / 1023;
    for (let i = 0; i < 1024; i++) expect(s.betas[i]).toBe(Math.fround(1e-4 + i * step));
  });
  it('ᾱ_{-1} = 1 and ᾱ is decreasing', () => {
    expect(alphaBarAt(s, -1)).toBe(1);
    for (let t = 1; t < 1024; t++) expect(s.alphaBar[t]).toBeLessThan(s.alphaBar[t - 1]);
    expect(() => alphaBarAt(s, 1024)).toThrow(RangeError);
    expect(() => alphaBarAt(s, -2)).toThrow(RangeError);
  });
});

describe('ddimTimePairs', () => {
  it('walks t_list = [0, T/S, …] from the top, ending at t′ = −1', () => {
    expect(ddimTimePairs(1024, 4)).toEqual([
      { t: 768, tPrev: 512 },
      { t: 512, tPrev: 256 },
      { t: 256, tPrev: 0 },
      { t: 0, tPrev: -1 },
    ]);
    expect(ddimTimePairs(1024, 1)).toEqual([{ t: 0, tPrev: -1 }]);
  });
  it('gives exactly S steps', () => {
    const full = ddimTimePairs(1024, 1024);
    expect(full.length).toBe(1024);
    expect(full[0]).toEqual({ t: 1023, tPrev: 1022 });
    const p256 = ddimTimePairs(1024, 256);
    expect(p256.length).toBe(256);
    expect(p256[0]).toEqual({ t: 1020, tPrev: 1016 });
    const p300 = ddimTimePairs(1024, 300); // stride ⌊1024/300⌋ = 3
    expect(p300.length).toBe(300);
    expect(p300[0]).toEqual({ t: 897, tPrev: 894 });
  });
  it('rejects bad step counts', () => {
    expect(() => ddimTimePairs(1024, 0)).toThrow(RangeError);
    expect(() => ddimTimePairs(1024, 1025)).toThrow(RangeError);
    expect(() => ddimTimePairs(1024, 2.5)).toThrow(RangeError);
  });
});
