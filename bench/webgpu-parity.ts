// The studio's WebGPU engine in Node (dawn.ts: the step graphs, GPU-resident tensors) against the
// CPU executor (onnxruntime-node: the plain U-Nets with core's DDIM and B(·), the CLI's path): one
// pair of the same seed and steps on each, compared as the e2e suite compares the studio's WebGPU
// and WASM pairs (the 8-bit images' mean |Δ|, the masks' Dice; harness/compare.mjs PAIR_TOLERANCE).
// Prints one JSON line (ParityResult); webgpu.test.ts runs it in a process of its own.
//
//   node --import tsx bench/webgpu-parity.ts MODEL_DIR [--steps 2] [--seed 7] [--liftoff-only]
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { dice, maxAbsDiff, meanAbsDiff } from '../harness/compare.mjs';
import { imageToGray8, maskToGray8 } from '../src/core/png';
import { runSampler } from '../src/core/sampler';
import { fileSource } from '../src/engine/files';
import { loadPairFromDir } from '../src/engine/node';
import { createStepPair, readManifest, readModelBytes } from '../src/engine/pair';
import type { OrtModule } from '../src/engine/unet';
import { gpuPlace, stepGraphSessionOptions } from '../src/engine/webgpu';
import { nodeWebGpu } from './dawn';

export interface ParityResult {
  adapter: string;
  steps: number;
  seed: number;
  webgpuMs: number;
  cpuMs: number;
  /** the 8-bit images (imageToGray8, as the PNG): mean and max |Δ| in levels */
  imageMeanAbsDiff: number;
  imageMaxAbsDiff: number;
  maskDice: number;
  /** ŷ₀ as floats: max |Δ| */
  imageMaxAbsFloat: number;
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { steps: { type: 'string', default: '2' }, seed: { type: 'string', default: '7' }, 'liftoff-only': { type: 'boolean', default: false } },
});
const dir = positionals[0];
if (!dir) throw new Error('usage: webgpu-parity.ts MODEL_DIR [--steps S] [--seed N] [--liftoff-only]');
if (values['liftoff-only']) setFlagsFromString('--liftoff-only');
const steps = Number(values.steps);
const seed = Number(values.seed);

const { ort, adapter } = await nodeWebGpu();
const source = fileSource(dir);
const manifest = await readManifest(source);
const [H, W] = manifest.resolution;
const run = (executor: Parameters<typeof runSampler>[0]['executor'], schedule: Parameters<typeof runSampler>[0]['schedule']) =>
  runSampler({ executor, schedule, height: H, width: W, steps, seed, eta: 0, binarize: manifest.sampler.binarize, previews: false });

let t0 = performance.now();
const gpuPair = await createStepPair(
  ort as unknown as OrtModule,
  manifest,
  await readModelBytes(source, manifest, ['maskStep', 'imageStep'] as const),
  stepGraphSessionOptions(),
  () => gpuPlace(ort),
  { warmUp: false }, // not timed: the first step compiles the shaders instead
);
const gpu = await run(gpuPair.executors, gpuPair.schedule);
const webgpuMs = performance.now() - t0;
await gpuPair.release();

t0 = performance.now();
const cpuPair = await loadPairFromDir(dir, { intraOpNumThreads: 1 });
const cpu = await run(cpuPair.executors, cpuPair.schedule);
const cpuMs = performance.now() - t0;
await cpuPair.release();

let imageMaxAbsFloat = 0;
for (let i = 0; i < gpu.image.length; i++) imageMaxAbsFloat = Math.max(imageMaxAbsFloat, Math.abs(gpu.image[i] - cpu.image[i]));
const [a, b] = [imageToGray8(gpu.image), imageToGray8(cpu.image)];
const result: ParityResult = {
  adapter: adapter.description || adapter.architecture,
  steps,
  seed,
  webgpuMs,
  cpuMs,
  imageMeanAbsDiff: meanAbsDiff(a, b),
  imageMaxAbsDiff: maxAbsDiff(a, b),
  maskDice: dice(maskToGray8(gpu.mask), maskToGray8(cpu.mask)),
  imageMaxAbsFloat,
};
console.log(JSON.stringify(result));
