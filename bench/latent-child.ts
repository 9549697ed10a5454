// `npm run bench -- --latent`'s child: one model folder (latent or pixel space) on one backend — ORT-node
// (the CLI's) or onnxruntime-web's plain WASM build in Node (the studio's binary, as wasm-node.ts) —
// timed in a process of its own, through the engine's createPair and core's runSampler as the CLI
// calls them. Prints one JSON object (LatentChildResult) on stdout.
//
//   node --import tsx bench/latent-child.ts --model DIR --backend node|wasm [--steps 4] [--reps 3] [--threads T]
//
// A joint step is the median interval between the sampler's frames (previews off, as the CLI), so a
// latent model's final decode is not in it; the decode is timed apart on the opened decoder. First
// preview: Generate (runSampler called, model loaded and warm) → the first frame with x̂₀ and ẑ₀'s
// preview, as the studio streams it. Guidance w = 2 (two forwards per U-Net) beside w = 1 where the
// model has attributes.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { type AttributeRequest, attributeCode, conditioning } from '../src/core/attributes';
import { attributesOf, chainGrid } from '../src/core/manifest';
import { CancelledError, runSampler } from '../src/core/sampler';
import { fileSource, loadPairFromDir } from '../src/engine/node';
import { createPair, type LoadedPair, readManifest, readModelBytes } from '../src/engine/pair';
import type { OrtModule } from '../src/engine/unet';
import { median } from './stats';

export interface LatentChildResult {
  backend: 'ort-node' | 'ort-web-wasm';
  threads: number;
  latent: boolean;
  /** one raw model_x forward, median after warm-up */
  forwardMs: number;
  /** joint step, w = 1 (one forward per U-Net) */
  stepMs: number;
  /** joint step with guidance w = 2 (two forwards per U-Net); null: the model has no attributes */
  stepGuidedMs: number | null;
  /** the decoder on one ẑ₀ (a latent model's final image); null: pixel space */
  decodeMs: number | null;
  /** runSampler called → first frame (x̂₀ and ŷ₀ or ẑ₀'s preview) */
  firstPreviewMs: number;
  steps: number;
  reps: number;
}

const root = fileURLToPath(new URL('../', import.meta.url));
const { values } = parseArgs({
  options: {
    model: { type: 'string' },
    backend: { type: 'string', default: 'node' },
    steps: { type: 'string', default: '4' },
    reps: { type: 'string', default: '3' },
    threads: { type: 'string', default: '1' },
  },
});
if (!values.model) throw new Error('--model DIR is required');
if (values.backend !== 'node' && values.backend !== 'wasm') throw new Error(`--backend must be node or wasm, got "${values.backend}"`);
const steps = Number(values.steps);
const reps = Number(values.reps);
const threads = Number(values.threads);
if (!(steps >= 2) || !(reps >= 1) || !(threads >= 1)) throw new Error('--steps ≥ 2, --reps ≥ 1 and --threads ≥ 1 are needed');

async function open(dir: string): Promise<LoadedPair> {
  if (values.backend === 'node') return loadPairFromDir(dir, { intraOpNumThreads: threads });
  const ort = await import('onnxruntime-web/wasm');
  ort.env.wasm.numThreads = threads;
  ort.env.wasm.wasmPaths = join(root, 'node_modules/onnxruntime-web/dist/');
  const source = fileSource(dir);
  const manifest = await readManifest(source);
  return createPair(ort as unknown as OrtModule, manifest, await readModelBytes(source, manifest), {
    executionProviders: ['wasm'],
    graphOptimizationLevel: 'all',
  });
}

const time = async (f: () => Promise<unknown>): Promise<number> => {
  const t0 = performance.now();
  await f();
  return performance.now() - t0;
};

const pair = await open(values.model);
const specs = attributesOf(pair.manifest);
// guidance needs a request that is not all "any" (else the sampler runs one forward): the first attribute's first value
const request: AttributeRequest = specs.length ? { [specs[0].name]: specs[0].values[0] } : {};
const [h, w] = chainGrid(pair.manifest);
const C = pair.latent?.spec.channels ?? 1;
const xz = Float32Array.from({ length: (1 + C) * h * w }, (_, i) => Math.sin(i));
const code = specs.length ? attributeCode(specs) : undefined;
const forward = () => pair.denoiser.predictMaskNoise(xz, 500, code);

/** The median interval between frames of one pair (frame 0 also pays the executor's start: left out). */
async function stepMs(guidance: number, seed: number): Promise<number> {
  const at: number[] = [];
  await runSampler(
    {
      executor: pair.executors,
      schedule: pair.schedule,
      height: h,
      width: w,
      latent: pair.latent,
      ...(specs.length ? { conditioning: conditioning(specs, request, guidance) } : {}),
      steps,
      seed,
      eta: 0,
      binarize: pair.manifest.sampler.binarize,
      previews: false,
    },
    () => {
      at.push(performance.now());
    },
  );
  return median(at.slice(1).map((t, i) => t - at[i]));
}

/** Generate → the first frame with the studio's previews (the run is cancelled there). */
async function firstPreviewMs(seed: number): Promise<number> {
  const signal = { aborted: false };
  const t0 = performance.now();
  let first = NaN;
  try {
    await runSampler(
      { executor: pair.executors, schedule: pair.schedule, height: h, width: w, latent: pair.latent, steps, seed, eta: 0, previews: true, signal },
      () => {
        first = performance.now() - t0;
        signal.aborted = true;
      },
    );
  } catch (e) {
    if (!(e instanceof CancelledError)) throw e;
  }
  return first;
}

// warm-up: the WASM build runs its first forwards on V8's baseline compiler, 2–5× slower
for (let i = 0; i < (values.backend === 'wasm' ? 6 : 2); i++) await forward();
const forwards: number[] = [];
for (let i = 0; i < 2 * reps + 1; i++) forwards.push(await time(forward));
const plain: number[] = [];
const guided: number[] = [];
const firsts: number[] = [];
const decodes: number[] = [];
const zHat = Float32Array.from({ length: C * h * w }, (_, i) => Math.cos(i));
for (let i = 0; i < reps; i++) {
  plain.push(await stepMs(1, i));
  if (specs.length) guided.push(await stepMs(2, i));
  firsts.push(await firstPreviewMs(i));
  if (pair.latent) {
    const codec = pair.latent.codec;
    decodes.push(await time(() => codec.decode(zHat)));
  }
}
await pair.release();
const result: LatentChildResult = {
  backend: values.backend === 'node' ? 'ort-node' : 'ort-web-wasm',
  threads,
  latent: pair.latent !== null,
  forwardMs: median(forwards),
  stepMs: median(plain),
  stepGuidedMs: guided.length ? median(guided) : null,
  decodeMs: decodes.length ? median(decodes) : null,
  firstPreviewMs: median(firsts),
  steps,
  reps,
};
console.log(JSON.stringify(result));
