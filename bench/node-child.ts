// The CLI's path on onnxruntime-node, timed in a process of its own (so its peak RSS is its own):
// loadPairFromDir and runSampler exactly as src/cli/generate.ts calls them (previews off, the
// plain U-Nets with core's DDIM and B(·)). Prints one JSON object (NodeResult) on stdout.
//
//   node --import tsx bench/node-child.ts --model DIR --steps S --forwards N --pairs P [--threads T]
import { parseArgs } from 'node:util';
import * as ortNode from 'onnxruntime-node';
import { runSampler } from '../src/core/sampler';
import { loadPairFromDir } from '../src/engine/node';
import { median } from './stats';

export interface NodeResult {
  backend: 'ort-node';
  ortVersion: string;
  threads: number | null;
  /** first load in this process: read + SHA-256 check + sessions + warm-up */
  loadColdMs: number;
  /** the same again (files in the OS cache, ORT initialised) */
  loadCachedMs: number;
  forwardMs: number;
  stepMs: number;
  pairMs: number;
  steps: number;
  peakRssMb: number;
}

const { values } = parseArgs({
  options: {
    model: { type: 'string' },
    steps: { type: 'string', default: '4' },
    forwards: { type: 'string', default: '5' },
    pairs: { type: 'string', default: '1' },
    threads: { type: 'string' },
  },
});
if (!values.model) throw new Error('--model is required');
const steps = Number(values.steps);
const threads = values.threads === undefined ? undefined : Number(values.threads);

const loads: number[] = [];
let pair = null;
for (let i = 0; i < 2; i++) {
  await pair?.release();
  const t0 = performance.now();
  pair = await loadPairFromDir(values.model, { intraOpNumThreads: threads });
  loads.push(performance.now() - t0);
}
const [H, W] = pair!.manifest.resolution;
const xy = Float32Array.from({ length: 2 * H * W }, (_, i) => Math.sin(i));
const forwards: number[] = [];
for (let i = 0; i < Number(values.forwards); i++) {
  const t0 = performance.now();
  await pair!.denoiser.predictMaskNoise(xy, 500);
  forwards.push(performance.now() - t0);
}
const pairs: number[] = [];
for (let i = 0; i < Number(values.pairs); i++) {
  const t0 = performance.now();
  await runSampler({
    executor: pair!.executors,
    schedule: pair!.schedule,
    height: H,
    width: W,
    steps,
    seed: i,
    eta: 0,
    binarize: pair!.manifest.sampler.binarize,
    previews: false,
  });
  pairs.push(performance.now() - t0);
}
await pair!.release();
const pairMs = median(pairs);
const result: NodeResult = {
  backend: 'ort-node',
  ortVersion: (ortNode as unknown as { env: { versions: { node?: string; common: string } } }).env.versions.common,
  threads: threads ?? null,
  loadColdMs: loads[0],
  loadCachedMs: loads[1],
  forwardMs: median(forwards),
  stepMs: pairMs / steps,
  pairMs,
  steps,
  peakRssMb: process.resourceUsage().maxRSS / 1024,
};
console.log(JSON.stringify(result));
