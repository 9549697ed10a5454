// The CLI's numbers against the studio's WASM backend, in floats: the same core loop driven by
// onnxruntime-node (the CLI) and by onnxruntime-web's WASM backend (the studio without WebGPU; ORT-web
// runs its WASM build in Node too). The e2e spec e2e/specs/cli.spec.mjs compares the PNGs in Chromium.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ortWeb from 'onnxruntime-web';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conditioning } from '../core/attributes';
import { maxAbsDiff } from '../core/golden';
import { attributesOf, chainGrid } from '../core/manifest';
import { runSampler } from '../core/sampler';
import { fileSource, loadPairFromDir } from '../engine/node';
import { createPair, type LoadedPair, readManifest, readModelBytes } from '../engine/pair';
import type { OrtModule } from '../engine/unet';

const tiny = fileURLToPath(new URL('../../public/models/tiny/', import.meta.url));
const present = existsSync(join(tiny, 'manifest.json'));

describe.skipIf(!present)('ORT-node (CLI) vs ORT-web WASM (studio), tiny pair', () => {
  let node: LoadedPair;
  let wasm: LoadedPair;
  beforeAll(async () => {
    const source = fileSource(tiny);
    const manifest = await readManifest(source);
    ortWeb.env.wasm.numThreads = 1;
    wasm = await createPair(ortWeb as unknown as OrtModule, manifest, await readModelBytes(source, manifest), {
      executionProviders: ['wasm'],
      graphOptimizationLevel: 'all',
    });
    node = await loadPairFromDir(tiny, { intraOpNumThreads: 1 });
  });
  afterAll(async () => {
    await node?.release();
    await wasm?.release();
  });

  it('final x̂₀ and ŷ₀ agree far below one 8-bit level; B(x̂₀) identical', async () => {
    const [H, W] = node.manifest.resolution;
    const rows: string[] = [];
    for (const [seed, steps] of [
      [7, 4],
      [0, 8],
      [123, 8],
    ]) {
      const opts = { schedule: node.schedule, height: H, width: W, steps, seed, binarize: node.manifest.sampler.binarize, previews: ['x0'] as const };
      const x0 = new Map<string, Float32Array>();
      const a = await runSampler({ ...opts, executor: node.executors }, (f) => void x0.set('node', f.x0!));
      const b = await runSampler({ ...opts, executor: wasm.executors }, (f) => void x0.set('wasm', f.x0!));
      let dy = 0;
      let dx = 0;
      for (let i = 0; i < H * W; i++) {
        dy = Math.max(dy, Math.abs(a.image[i] - b.image[i]));
        dx = Math.max(dx, Math.abs(x0.get('node')![i] - x0.get('wasm')![i]));
      }
      rows.push(`seed ${seed}, ${steps} steps: max |Δŷ₀| ${dy.toExponential(2)}, max |Δx̂₀| ${dx.toExponential(2)}`);
      // Measured 1e-5 … 5e-5 (float32 rounding in different kernels); 1e-3 is 20× that and still
      // 8× below one 8-bit level (7.8e-3), while a real difference (a wrong channel or timestep)
      // moves values by > 0.1.
      expect(dy, rows.join('; ')).toBeLessThan(1e-3);
      expect(dx, rows.join('; ')).toBeLessThan(1e-3);
      expect(Array.from(b.mask)).toEqual(Array.from(a.mask));
    }
    console.info(`ORT-node vs ORT-web WASM: ${rows.join('; ')}`);
  });
});

const tinyLatent = fileURLToPath(new URL('../../public/models/tiny-latent/', import.meta.url));

describe.skipIf(!existsSync(join(tinyLatent, 'manifest.json')))('ORT-node (CLI) vs ORT-web WASM (studio), tiny latent model with attributes', () => {
  it('the decoded image and the grid x̂₀ agree far below one 8-bit level; the mask at [H, W] identical', async () => {
    const source = fileSource(tinyLatent);
    const manifest = await readManifest(source);
    ortWeb.env.wasm.numThreads = 1;
    const wasm = await createPair(ortWeb as unknown as OrtModule, manifest, await readModelBytes(source, manifest), {
      executionProviders: ['wasm'],
      graphOptimizationLevel: 'all',
    });
    const node = await loadPairFromDir(tinyLatent, { intraOpNumThreads: 1 });
    try {
      const [h, w] = chainGrid(manifest);
      const cond = conditioning(attributesOf(manifest), { pathology: 'benign', birads: '3' }, 3);
      for (const seed of [1, 2]) {
        const opts = { schedule: node.schedule, height: h, width: w, steps: 8, seed, conditioning: cond, previews: false as const };
        const a = await runSampler({ ...opts, executor: node.executors, latent: node.latent });
        const b = await runSampler({ ...opts, executor: wasm.executors, latent: wasm.latent });
        const dy = maxAbsDiff(a.image, b.image);
        const dx = maxAbsDiff(a.latent!.x0!, b.latent!.x0!);
        console.info(`tiny-latent seed ${seed}: max |Δ image| ${dy.toExponential(2)}, max |Δx̂₀| ${dx.toExponential(2)}`);
        expect(dy).toBeLessThan(1e-3); // as above
        expect(dx).toBeLessThan(1e-3);
        expect(Array.from(b.mask)).toEqual(Array.from(a.mask));
      }
    } finally {
      await node.release();
      await wasm.release();
    }
  });
});
