// Full parity: ONNX Runtime (Node, CPU) runs the committed tiny pair through core's loop and must
// reproduce the kit's PyTorch reference frames (src/core/fixtures/tiny-golden.json).
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countDiffering, maxAbsDiff, type GoldenFixture } from '../core/golden';
import { runSampler, type SamplerFrame } from '../core/sampler';
import { loadPairFromDir } from './node';
import type { LoadedPair } from './pair';

// PIG_GOLDEN_FIXTURE / PIG_GOLDEN_MODEL point the test at another fixture and model folder.
const fixturePath = process.env.PIG_GOLDEN_FIXTURE ?? fileURLToPath(new URL('../core/fixtures/tiny-golden.json', import.meta.url));
const modelDir = (process.env.PIG_GOLDEN_MODEL ?? fileURLToPath(new URL('../../public/models/tiny/', import.meta.url))).replace(/\/?$/, '/');
const present = existsSync(fixturePath) && existsSync(`${modelDir}manifest.json`);
if (!present) console.warn(`SKIPPED ORT golden parity: needs ${fixturePath} and ${modelDir}manifest.json (written by the kit)`);

describe.skipIf(!present)('ORT parity with the PyTorch reference (tiny pair)', () => {
  let pair: LoadedPair;
  let fx: GoldenFixture;
  beforeAll(async () => {
    fx = JSON.parse(readFileSync(fixturePath, 'utf8'));
    pair = await loadPairFromDir(modelDir, { intraOpNumThreads: 1 });
  });
  afterAll(async () => {
    await pair?.release();
  });

  it('reproduces every step’s x̂₀, c and ŷ₀, and the final pair', async () => {
    const [H, W] = pair.manifest.resolution;
    expect(fx.resolution).toEqual([H, W]);
    const frames: SamplerFrame[] = [];
    const r = await runSampler(
      { denoiser: pair.denoiser, schedule: pair.schedule, height: H, width: W, steps: fx.steps, seed: fx.seed, eta: fx.eta },
      (f) => {
        frames.push(f);
      },
    );
    expect(frames.length).toBe(fx.frames.length);
    // Tolerance: ORT and PyTorch ε agree to ~1e-5 (the card's exportMaxAbsError); x̂₀ divides by
    // √ᾱ_t (≥ 0.054 at t = 768, a factor ≤ 19), so 2e-3 leaves an order of magnitude of margin
    // while a wrong schedule, channel order or condition moves values by 1e-1 or more.
    const report = fx.frames.map((f, i) => ({
      t: f.t,
      x0: maxAbsDiff(frames[i].x0, f.x0),
      y0: maxAbsDiff(frames[i].y0, f.y0),
      cFlips: countDiffering(frames[i].c, f.c),
    }));
    console.info(`ORT vs PyTorch, max |Δ| per step: ${JSON.stringify(report)}`);
    for (const row of report) {
      expect(row, JSON.stringify(report)).toMatchObject({ cFlips: 0 });
      expect(row.x0, JSON.stringify(report)).toBeLessThan(2e-3);
      expect(row.y0, JSON.stringify(report)).toBeLessThan(2e-3);
    }
    expect(countDiffering(r.mask, fx.mask)).toBe(0);
    expect(maxAbsDiff(r.image, fx.image)).toBeLessThan(2e-3);
  });
});
