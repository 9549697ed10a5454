// Node CLI over the same core and engine as the studio (ORT CPU):
//
//   npx tsx src/cli/generate.ts --model public/models/tiny --seed 7 --steps 8 [--count 4] [--eta 0] [--out out/]
//
// Writes <name>-seed<seed>-image.png and <name>-seed<seed>-mask.png per seed (seed, seed+1, …) and
// prints the time per step.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { encodeImagePng, encodeMaskPng } from '../core/png';
import { runSampler } from '../core/sampler';
import { loadPairFromDir } from '../engine/node';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'public/models/tiny' },
    seed: { type: 'string', default: '0' },
    steps: { type: 'string' },
    count: { type: 'string', default: '1' },
    eta: { type: 'string' },
    out: { type: 'string', default: 'out' },
    threads: { type: 'string' },
  },
});

const pair = await loadPairFromDir(values.model!, { intraOpNumThreads: values.threads ? Number(values.threads) : undefined });
const { manifest } = pair;
const [H, W] = manifest.resolution;
const steps = values.steps ? Number(values.steps) : manifest.sampler.steps;
const eta = values.eta ? Number(values.eta) : manifest.sampler.eta;
await mkdir(values.out!, { recursive: true });
console.log(`${manifest.name} ${H}×${W}, ${steps} steps, η=${eta}, sessions ready in ${pair.sessionMs.toFixed(0)} ms`);
for (let k = 0; k < Number(values.count); k++) {
  const seed = Number(values.seed) + k;
  const t0 = performance.now();
  const r = await runSampler({ denoiser: pair.denoiser, schedule: pair.schedule, height: H, width: W, steps, seed, eta, binarize: manifest.sampler.binarize });
  const ms = performance.now() - t0;
  const base = join(values.out!, `${manifest.name}-seed${seed}`);
  await writeFile(`${base}-image.png`, await encodeImagePng(r.image, W, H));
  await writeFile(`${base}-mask.png`, await encodeMaskPng(r.mask, W, H));
  console.log(`seed ${seed}: ${ms.toFixed(0)} ms, ${(ms / r.steps).toFixed(2)} ms/step → ${base}-{image,mask}.png`);
}
await pair.release();
