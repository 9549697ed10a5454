// Full parity: ONNX Runtime (Node, CPU) runs the committed tiny pair through core's loop and must
// reproduce the kit's PyTorch reference frames (src/core/fixtures/tiny-golden.json, and
// tiny-golden-clip.json for the sampler option clip).
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countDiffering, GOLDEN_FIXTURES, type GoldenFixture, maxAbsDiff } from '../core/golden';
import { runSampler, type SamplerFrame } from '../core/sampler';
import { loadPairFromDir } from './node';
import type { LoadedPair } from './pair';

// PIG_GOLDEN_MODEL points the test at another model folder (the fixtures: core/golden.ts).
const modelDir = (process.env.PIG_GOLDEN_MODEL ?? fileURLToPath(new URL('../../public/models/tiny/', import.meta.url))).replace(/\/?$/, '/');
const hasModel = existsSync(`${modelDir}manifest.json`);

for (const fixture of GOLDEN_FIXTURES) {
  const present = hasModel && existsSync(fixture.path);
  if (!present) console.warn(`SKIPPED ORT golden parity (${fixture.name}): needs ${fixture.path} and ${modelDir}manifest.json (written by the kit)`);

  describe.skipIf(!present)(`ORT parity with the PyTorch reference (tiny pair, ${fixture.name})`, () => {
    let pair: LoadedPair;
    let fx: GoldenFixture;
    beforeAll(async () => {
      fx = JSON.parse(readFileSync(fixture.path, 'utf8'));
      pair = await loadPairFromDir(modelDir, { intraOpNumThreads: 1 });
    });
    afterAll(async () => {
      await pair?.release();
    });

    const run = async (clip: GoldenFixture['clip']) => {
      const [H, W] = pair.manifest.resolution;
      const frames: SamplerFrame[] = [];
      const r = await runSampler(
        { denoiser: pair.denoiser, schedule: pair.schedule, height: H, width: W, steps: fx.steps, seed: fx.seed, eta: fx.eta, ...(clip ? { clip } : {}) },
        (f) => {
          frames.push(f);
        },
      );
      return { frames, r };
    };

    it('reproduces every step’s x̂₀, c and ŷ₀, and the final pair', async () => {
      expect(fx.resolution).toEqual(pair.manifest.resolution);
      const { frames, r } = await run(fx.clip);
      expect(frames.length).toBe(fx.frames.length);
      // Tolerance: ORT and PyTorch ε agree to ~1e-5 (the card's exportMaxAbsError); x̂₀ divides by
      // √ᾱ_t (≥ 0.054 at t = 768, a factor ≤ 19), so 2e-3 leaves an order of magnitude of margin
      // while a wrong schedule, channel order or condition moves values by 1e-1 or more. With clip
      // a clamped pixel is ±1 on both sides; its ε differs by at most float rounding
      // into x_{t'}, so the same margin holds.
      const report = fx.frames.map((f, i) => ({
        t: f.t,
        x0: maxAbsDiff(frames[i].x0, f.x0),
        y0: maxAbsDiff(frames[i].y0, f.y0),
        cFlips: countDiffering(frames[i].c, f.c),
      }));
      console.info(`ORT vs PyTorch (${fixture.name}, clip ${fx.clip ?? 'none'}), max |Δ| per step: ${JSON.stringify(report)}`);
      for (const row of report) {
        expect(row, JSON.stringify(report)).toMatchObject({ cFlips: 0 });
        expect(row.x0, JSON.stringify(report)).toBeLessThan(2e-3);
        expect(row.y0, JSON.stringify(report)).toBeLessThan(2e-3);
      }
      expect(countDiffering(r.mask, fx.mask)).toBe(0);
      expect(maxAbsDiff(r.image, fx.image)).toBeLessThan(2e-3);
    });

    // (on the paper's fixture: what reproduces it, clip none reproduces identically)
    it.runIf(fixture === GOLDEN_FIXTURES[0])("clip 'none' gives the arrays of the loop without the option, bit for bit", async () => {
      const without = await run(undefined);
      const none = await run('none');
      expect(none.frames.map((f) => [f.x0, f.y0, f.c].map((a) => Array.from(a)))).toEqual(
        without.frames.map((f) => [f.x0, f.y0, f.c].map((a) => Array.from(a))),
      );
      expect([Array.from(none.r.mask), Array.from(none.r.image)]).toEqual([Array.from(without.r.mask), Array.from(without.r.image)]);
    });
  });
}
