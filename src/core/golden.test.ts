// Cross-language checks against the kit's reference fixtures, needing no ONNX Runtime:
// the start noise, B(·) on the reference x̂₀, and the loop's wiring replayed from the reference.
// The full parity test (ORT running the ONNX pair through this loop) is src/engine/golden.test.ts.
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { binarize } from './binarize';
import { countDiffering, GOLDEN_FIXTURES, type GoldenFixture, maxAbsDiff } from './golden';
import { gaussian } from './noise';
import { type PairDenoiser, runSampler } from './sampler';
import { alphaBarAt, linearSchedule } from './schedule';

for (const { name, path } of GOLDEN_FIXTURES) {
  const present = existsSync(path);
  if (!present) console.warn(`SKIPPED golden fixture tests: ${path} is absent (the kit writes it: python3 -m pigkit.golden)`);
  const g: GoldenFixture | null = present ? JSON.parse(readFileSync(path, 'utf8')) : null;

  describe.skipIf(!present)(`golden fixture ${name} (kit → core)`, () => {
    // (the describe body runs even when skipped, hence the placeholder)
    const fx = g ?? ({ resolution: [0, 0] } as unknown as GoldenFixture);
    const [H, W] = fx.resolution;
    const N = H * W;
    const schedule = linearSchedule({ kind: 'linear', betaStart: 1e-4, betaEnd: 0.02, T: 1024 });

    it('start noise equals gaussian(seed, 0 | 1, H·W) bit for bit', () => {
      expect(Array.from(gaussian(fx.seed, 0, N))).toEqual(fx.xT);
      expect(Array.from(gaussian(fx.seed, 1, N))).toEqual(fx.yT);
    });

    it('B(x̂₀) of every reference frame equals the reference c', () => {
      for (const f of fx.frames) {
        expect(countDiffering(binarize(Float32Array.from(f.x0), H, W), f.c)).toBe(0);
      }
      expect(fx.mask).toEqual(fx.frames[fx.frames.length - 1].c);
      expect(fx.image).toEqual(fx.frames[fx.frames.length - 1].y0);
    });

    it('the loop, replayed with ε derived from the reference x̂₀ / ŷ₀, reproduces every frame', async () => {
      // A denoiser that answers the ε for which x̂₀ is the reference's; the loop's own DDIM update,
      // B(·) and channel wiring decide what it is asked next, so any wiring error shows up. (With
      // clip the reference x̂₀ lies in [−1, 1], so this ε is the one the reference re-derived.)
      let step = 0;
      const epsFor = (target: number[], xt: Float32Array, t: number) => {
        const a = alphaBarAt(schedule, t);
        return Float32Array.from(xt.subarray(0, N), (v, i) => (v - Math.sqrt(a) * target[i]) / Math.sqrt(1 - a));
      };
      const seenC: Float32Array[] = [];
      const d: PairDenoiser = {
        predictMaskNoise: async (xy, t) => epsFor(fx.frames[step].x0, xy, t),
        predictImageNoise: async (yc, t) => {
          seenC.push(yc.slice(N));
          return epsFor(fx.frames[step++].y0, yc, t);
        },
      };
      const frames: { x0: Float32Array; y0: Float32Array; t: number; tPrev: number }[] = [];
      const r = await runSampler({ denoiser: d, schedule, height: H, width: W, steps: fx.steps, seed: fx.seed, eta: fx.eta, clip: fx.clip }, (f) => {
        frames.push(f);
      });
      expect(frames.map((f) => [f.t, f.tPrev])).toEqual(fx.frames.map((f) => [f.t, f.tPrev]));
      fx.frames.forEach((f, i) => {
        expect(maxAbsDiff(frames[i].x0, f.x0)).toBeLessThan(1e-3);
        expect(maxAbsDiff(frames[i].y0, f.y0)).toBeLessThan(1e-3);
        expect(countDiffering(seenC[i], f.c)).toBe(0);
      });
      expect(countDiffering(r.mask, fx.mask)).toBe(0);
    });
  });
}
