// Format 2 parity (docs/contracts.md §6): ONNX Runtime (Node, CPU) runs the committed tiny latent
// model with attributes through core's loop and must reproduce the kit's PyTorch reference
// (src/core/fixtures/tiny-latent-golden.json: seed 7, 4 steps, pathology=malignant, w = 2): the
// C-channel start noise bit for bit, every step's x̂₀, c and ẑ₀, the final mask at [H, W] and the
// decoded image; and the decoder graph alone on the reference's last ẑ₀ within 1e-4.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conditioning } from '../core/attributes';
import { binarize } from '../core/binarize';
import { countDiffering, maxAbsDiff } from '../core/golden';
import { clampImage, finalLatentMask } from '../core/latent';
import { attributesOf, chainGrid } from '../core/manifest';
import { gaussian } from '../core/noise';
import { runSampler, type SamplerFrame } from '../core/sampler';
import { loadPairFromDir } from './node';
import type { LoadedPair } from './pair';

interface LatentGolden {
  grid: [number, number];
  channels: number;
  resolution: [number, number];
  seed: number;
  steps: number;
  eta: number;
  attributes: Record<string, string>;
  guidance: number;
  xT: number[];
  zT: number[];
  frames: { t: number; tPrev: number; x0: number[]; z0: number[]; c: number[] }[];
  mask: number[];
  image: number[];
}

const modelDir = fileURLToPath(new URL('../../public/models/tiny-latent/', import.meta.url));
const fixturePath = fileURLToPath(new URL('../core/fixtures/tiny-latent-golden.json', import.meta.url));
const present = existsSync(`${modelDir}manifest.json`) && existsSync(fixturePath);
if (!present) console.warn(`SKIPPED format-2 golden parity: needs ${fixturePath} and ${modelDir}manifest.json (written by the kit)`);

describe.skipIf(!present)('format 2: ORT parity with the PyTorch reference (tiny-latent, attributes, guidance 2)', () => {
  let pair: LoadedPair;
  let fx: LatentGolden;
  beforeAll(async () => {
    fx = JSON.parse(readFileSync(fixturePath, 'utf8'));
    pair = await loadPairFromDir(modelDir, { intraOpNumThreads: 1 });
  });
  afterAll(async () => {
    await pair?.release();
  });

  it('the latent streams draw C·h·w values: x_T and z_T equal the reference bit for bit', () => {
    const [h, w] = fx.grid;
    expect(chainGrid(pair.manifest)).toEqual(fx.grid);
    expect(Array.from(gaussian(fx.seed, 0, h * w))).toEqual(fx.xT);
    expect(Array.from(gaussian(fx.seed, 1, fx.channels * h * w))).toEqual(fx.zT);
  });

  it('B(bilinear(x̂₀)) of the reference’s last x̂₀ is the reference mask, and each frame’s c is B(x̂₀)', () => {
    for (const f of fx.frames) expect(countDiffering(binarize(Float32Array.from(f.x0), ...fx.grid), f.c)).toBe(0);
    expect(countDiffering(finalLatentMask(Float32Array.from(fx.frames.at(-1)!.x0), fx.grid, fx.resolution), fx.mask)).toBe(0);
  });

  it('the decoder graph on the reference’s last ẑ₀ is the reference image within 1e-4', async () => {
    const decoded = clampImage(await pair.latent!.codec.decode(Float32Array.from(fx.frames.at(-1)!.z0)));
    const d = maxAbsDiff(decoded, fx.image);
    console.info(`decoder ORT vs PyTorch: max |Δ| = ${d}`);
    expect(d).toBeLessThan(1e-4);
  });

  it('reproduces every step’s x̂₀, c and ẑ₀, and the final pair at [H, W]', async () => {
    const [h, w] = chainGrid(pair.manifest);
    const frames: SamplerFrame[] = [];
    const r = await runSampler(
      {
        denoiser: pair.denoiser,
        schedule: pair.schedule,
        height: h,
        width: w,
        latent: pair.latent,
        conditioning: conditioning(attributesOf(pair.manifest), fx.attributes, fx.guidance),
        steps: fx.steps,
        seed: fx.seed,
        eta: fx.eta,
      },
      (f) => {
        frames.push(f);
      },
    );
    expect(frames.length).toBe(fx.frames.length);
    // tolerances as the format-1 parity test's (src/engine/golden.test.ts says why)
    const report = fx.frames.map((f, i) => ({
      t: f.t,
      x0: maxAbsDiff(frames[i].x0, f.x0),
      z0: maxAbsDiff(frames[i].z0!, f.z0),
      cFlips: countDiffering(frames[i].c, f.c),
    }));
    console.info(`format 2, ORT vs PyTorch, max |Δ| per step: ${JSON.stringify(report)}`);
    for (const row of report) {
      expect(row, JSON.stringify(report)).toMatchObject({ cFlips: 0 });
      expect(row.x0, JSON.stringify(report)).toBeLessThan(2e-3);
      expect(row.z0, JSON.stringify(report)).toBeLessThan(2e-3);
    }
    expect(r.mask.length).toBe(fx.resolution[0] * fx.resolution[1]);
    expect(countDiffering(r.mask, fx.mask)).toBe(0);
    expect(maxAbsDiff(r.image, fx.image)).toBeLessThan(2e-3);
  });
});
