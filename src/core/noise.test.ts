import { describe, expect, it } from 'vitest';
import { GaussianStream, gaussian, seedState } from './noise';

// Golden values, derived from the spec (docs/contracts.md §3) by an independent Python
// big-integer trace and identical to training/pigkit/model/noise.py's output.
describe('seeded Gaussian noise', () => {
  it('SplitMix32 seeding of (42, 0)', () => {
    expect(Array.from(seedState(42, 0))).toEqual([939911724, 3948730756, 321366731, 3317318717]);
  });
  it('xoshiro128** first outputs for (42, 0)', () => {
    const g = new GaussianStream(42, 0);
    expect([g.nextUint32(), g.nextUint32(), g.nextUint32(), g.nextUint32()]).toEqual([2837322924, 544945897, 479756282, 3500138142]);
  });
  it('gaussian(42, 0, 6)', () => {
    expect(Array.from(gaussian(42, 0, 6))).toEqual([
      0.6362303495407104, 0.6514421701431274, 0.8308018445968628, -1.9218769073486328, 2.2217392921447754, 0.3712368905544281,
    ]);
  });
  it('other seeds and streams, odd n drops the last sin', () => {
    expect(Array.from(gaussian(0, 1, 4))).toEqual([-0.4700791537761688, 1.4765856266021729, 0.7984758615493774, -0.9368879199028015]);
    expect(Array.from(gaussian(4294967295, 4, 3))).toEqual([0.18432506918907166, 1.34377121925354, 3.0264687538146973]);
    expect(Array.from(gaussian(7, 2, 5))).toEqual([-0.5404525399208069, 2.116136312484741, 0.2928302586078644, 0.5564656257629395, 0.12979088723659515]);
  });
  it('streaming even chunks equals one long draw', () => {
    const g = new GaussianStream(7, 3);
    const a = [...g.next(4), ...g.next(6)];
    expect(a).toEqual(Array.from(gaussian(7, 3, 10)));
  });
  it('is standard normal in distribution', () => {
    const v = gaussian(123, 0, 200_000);
    let m = 0;
    for (const x of v) m += x;
    m /= v.length;
    let s2 = 0;
    for (const x of v) s2 += (x - m) ** 2;
    const sd = Math.sqrt(s2 / v.length);
    expect(Math.abs(m)).toBeLessThan(0.01);
    expect(Math.abs(sd - 1)).toBeLessThan(0.01);
  });
  it('rejects seeds outside [0, 2^32 − 1]', () => {
    expect(() => gaussian(-1, 0, 2)).toThrow(RangeError);
    expect(() => gaussian(2 ** 32, 0, 2)).toThrow(RangeError);
    expect(() => gaussian(1.5, 0, 2)).toThrow(RangeError);
  });
});
