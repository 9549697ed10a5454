// The studio's WASM engine in Node (issue 12): onnxruntime-web's plain WASM build, the binary the
// studio's WASM backend runs, under the engine's createPair and core's runSampler with the
// studio's per-run timing (core/step-timing.ts), so the loop's own work, the thread count and ORT's
// per-operator profile are measured without a browser in the way.
//
//   node --import tsx bench/wasm-node.ts --model DIR [--threads 1,2] [--steps 8] [--profile]
//
// One JSON line per thread count: a raw forward of model_x and a raw pair (model_x then model_y,
// what a step calls), medians after V8 has optimised the WASM (the first forwards run on its
// baseline compiler and are 2–5× slower); the joint step of a whole pair (previews on, as the
// studio); the step's share outside the model calls; with --profile, ORT's profiler's time per
// operator type for one forward (it prints its events, which are collected here).
import fs from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-web/wasm';
import { runSampler } from '../src/core/sampler';
import { timedExecutors } from '../src/core/step-timing';
import { fileSource } from '../src/engine/node';
import { createPair, readManifest, readModelBytes } from '../src/engine/pair';
import type { ModelBytes, OrtModule } from '../src/engine/unet';
import { median } from './stats';

const root = fileURLToPath(new URL('../', import.meta.url));

const { values } = parseArgs({
  options: {
    model: { type: 'string' },
    threads: { type: 'string', default: '1,2' },
    steps: { type: 'string', default: '8' },
    warm: { type: 'string', default: '8' },
    reps: { type: 'string', default: '6' },
    profile: { type: 'boolean', default: false },
  },
});
if (!values.model) throw new Error('--model DIR is required');
const dir = resolve(values.model);
const [threads, ...others] = values.threads.split(',').map(Number);
if (!(threads >= 1)) throw new Error(`--threads must list positive integers, got "${values.threads}"`);
const steps = Number(values.steps);

/**
 * ORT's profiler prints its events as JSON lines: the kernel time per operator type, per forward,
 * over the runs after the first `skip` (V8 is still optimising the WASM in those).
 */
function operatorTimes(lines: string[], skip: number): Record<string, number> {
  type Event = { cat: string; name: string; ts: number; dur: number; args: { op_name?: string } };
  const events: Event[] = [];
  for (const line of lines) {
    const text = line.trim().replace(/,$/, '');
    if (text.startsWith('{"cat"')) events.push(JSON.parse(text) as Event);
  }
  const runs = events.filter((e) => e.name === 'model_run').sort((a, b) => a.ts - b.ts);
  if (runs.length <= skip) throw new Error(`ORT's profile has ${runs.length} runs, expected more than ${skip}`);
  const from = runs[skip].ts;
  const totals: Record<string, number> = {};
  for (const e of events) {
    if (e.cat !== 'Node' || e.ts < from || !e.name.endsWith('_kernel_time') || !e.args.op_name) continue;
    totals[e.args.op_name] = (totals[e.args.op_name] ?? 0) + e.dur / 1000 / (runs.length - skip);
  }
  return Object.fromEntries(Object.entries(totals).sort((a, b) => b[1] - a[1]));
}

async function measure(): Promise<Record<string, unknown>> {
  ort.env.wasm.numThreads = threads;
  ort.env.wasm.wasmPaths = join(root, 'node_modules/onnxruntime-web/dist/');
  const source = fileSource(dir);
  const manifest = await readManifest(source);
  const bytes = await readModelBytes(source, manifest);
  const pair = await createPair(ort as unknown as OrtModule, manifest, bytes, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
  const [H, W] = manifest.resolution;
  const xy = Float32Array.from({ length: 2 * H * W }, (_, i) => Math.sin(i));
  const d = pair.denoiser;
  const time = async (f: () => Promise<unknown>) => {
    const t0 = performance.now();
    await f();
    return performance.now() - t0;
  };
  const warm: number[] = [];
  for (let i = 0; i < Number(values.warm); i++) warm.push(await time(() => d.predictMaskNoise(xy, 500)));
  const forwards: number[] = [];
  const pairs: number[] = [];
  for (let i = 0; i < Number(values.reps); i++) {
    forwards.push(await time(() => d.predictMaskNoise(xy, 500)));
    pairs.push(await time(async () => [await d.predictMaskNoise(xy, 500), await d.predictImageNoise(xy, 500)]));
  }
  const phases = { modelMs: 0, readMs: 0 };
  const pairMs = await time(() =>
    runSampler(
      { executor: timedExecutors(pair.executors, phases), schedule: pair.schedule, height: H, width: W, steps, seed: 1, eta: 1, clip: 'both' },
      () => undefined,
    ),
  );
  await pair.release();
  const stepMs = pairMs / steps;
  const result: Record<string, unknown> = {
    model: manifest.name,
    resolution: H,
    threads,
    warmUpForwardsMs: warm.map((v) => Math.round(v)),
    forwardMs: median(forwards),
    pairOfForwardsMs: median(pairs),
    stepMs,
    stepOverPairOfForwards: stepMs / median(pairs),
    outsideModelCallsShare: (pairMs - phases.modelMs) / pairMs,
  };
  if (values.profile) result.operatorMsPerForward = await profile(bytes.mask, xy, H, W);
  return result;
}

/** One session of model_x with ORT's profiler on: time per operator type, over 4 forwards after 4 unprofiled ones. */
async function profile(model: ModelBytes, xy: Float32Array, H: number, W: number): Promise<Record<string, number>> {
  const externalData = model.weights ? [{ path: model.weights.file, data: model.weights.data }] : undefined;
  const session = await ort.InferenceSession.create(model.graph, {
    executionProviders: ['wasm'],
    graphOptimizationLevel: 'all',
    enableProfiling: true,
    externalData,
  });
  const feeds = { x: new ort.Tensor('float32', xy, [1, 2, H, W]), t: new ort.Tensor('float32', Float32Array.of(500), [1]) };
  // ORT's WASM module prints with fs.writeSync(1, …) (Emscripten's Node output): catch it there
  let printed = '';
  const writeSync = fs.writeSync;
  fs.writeSync = ((fd: number, data: unknown, ...rest: never[]) => {
    if (fd !== 1) return writeSync(fd, data as string, ...rest);
    const text = typeof data === 'string' ? data : Buffer.from(data as Uint8Array).toString();
    printed += text;
    return text.length;
  }) as typeof fs.writeSync;
  try {
    for (let i = 0; i < 8; i++) await session.run(feeds);
    session.endProfiling();
  } finally {
    fs.writeSync = writeSync;
  }
  const lines = printed.split('\n');
  await session.release();
  const all = operatorTimes(lines, 4);
  return Object.fromEntries(Object.entries(all).map(([k, v]) => [k, Math.round(v * 100) / 100]));
}

console.log(JSON.stringify(await measure()));
if (others.length > 0) {
  // ORT makes its WASM thread pool once per process: one child per further thread count
  const { execFileSync } = await import('node:child_process');
  const args = process.argv.slice(2).filter((a, i, all) => a !== '--threads' && all[i - 1] !== '--threads');
  for (const n of others) {
    process.stdout.write(
      execFileSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), ...args, '--threads', String(n)], { cwd: root, maxBuffer: 1 << 26 }),
    );
  }
}
