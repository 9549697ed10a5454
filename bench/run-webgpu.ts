// npm run bench:webgpu: the studio's WebGPU engine timed in Node on Dawn (dawn.ts), with the code
// the studio's worker runs: onnxruntime-web's WebGPU build, the step graphs opened by the engine's
// createStepPair with GPU-resident tensors (engine/webgpu.ts's gpuPlace), core's runSampler. Per
// model (the kit's `paper` preset exported at each --resolutions size, smallest first, or --model
// folders) and per variant:
//   fp32          the studio's path as it is
//   fp32-capture  the same graphs with ORT's graph capture (capture.ts: bench-only adapter)
//   fp16          the graphs converted by pigkit.fp16 (float16 weights and arithmetic), where the
//                 adapter has shader-f16; else the row says why not
//   fp16-capture  both
// it measures the load (files read and checked, sessions, warm-up), one raw run of each step graph
// (inputs already on the GPU, timed to the GPU's completion), the joint step with previews off and
// on (x̂₀, ŷ₀, c read back every step: the streaming overhead), x̂₀'s largest difference from the
// fp32 row over the same pair, and the step's FLOPs (pigkit.flops: Conv/Gemm/MatMul MACs × 2)
// against the GPU's peak where known. Every result is written as soon as it is measured (--json,
// --out), so a run cut short by its time limit keeps what it measured.
//
//   npm run bench:webgpu -- --resolutions 64 --steps 2          (here: SwiftShader, VK_ICD_FILENAMES set)
//   npm run bench:webgpu -- --render RESULTS.json --section h200 --out BENCHMARKS.md
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { stepGraphShape } from '../src/core/manifest';
import { runSampler } from '../src/core/sampler';
import { fileSource } from '../src/engine/files';
import { createStepPair, type LoadedStepPair, readManifest, readModelBytes } from '../src/engine/pair';
import type { StepRunner, TensorPlace } from '../src/engine/steps';
import { type OrtModule, openCheckedSession } from '../src/engine/unet';
import { gpuPlace, stepGraphSessionOptions } from '../src/engine/webgpu';
import { CapturedStepSession, capturedSessions, learnBufferRegistry } from './capture';
import { nodeWebGpu, type OrtWebModule } from './dawn';
import { formatMs, updateBenchmarks } from './report';
import { loadConditions, log, machine, presetModel, python, root, stepFlops } from './setup';
import { median } from './stats';
import { type ModelInfo, markers, PEAKS, type Result, renderWebgpu, VARIANTS, type Variant, type WebgpuReport } from './webgpu-report';

const USAGE = `usage: npm run bench:webgpu -- [--preset paper] [--resolutions 64,128,256,512] [--model DIR]…
                               [--variants fp32,fp32-capture,fp16,fp16-capture] [--steps 256] [--min-steps 2]
                               [--forwards 5] [--budget-s S] [--json FILE] [--out FILE] [--section NAME]
       npm run bench:webgpu -- --render FILE.json --out FILE [--section NAME]
  --resolutions  sizes of the preset to export and time, smallest first      default 64,128,256,512
  --model        model folders (manifest with step graphs) instead of the preset
  --variants     which of the four paths                                     default all four
  --steps        DDIM steps of each timed pair, at most (a 256-step pair is the issue's goal);
                 fewer where --budget-s leaves less (never under --min-steps)  default 256
  --forwards     raw runs of each step graph (median after a first)          default 5
  --budget-s     seconds this command may take in all: rows that would not fit are skipped, saying so
  --json         results as JSON, rewritten after each row (the device run's $OUT)
  --out          Markdown file whose section (--section) is replaced         default: none
  --section      the section's name in its marker comments                   default rehearsal
  --liftoff-only V8 compiles ORT's WASM with its baseline compiler only: on a slow machine V8's optimising
                 compile of two huge asyncify functions blocks the first session for minutes (docs/bench/webgpu.md)
  --render       re-render a results JSON (no GPU needed)
Dawn needs a Vulkan driver: here, VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json (SwiftShader).`;

interface Options {
  preset: string;
  resolutions: number[];
  models: string[];
  variants: Variant[];
  steps: number;
  minSteps: number;
  forwards: number;
  budgetS: number | null;
  json?: string;
  out?: string;
  section: string;
  render?: string;
  liftoffOnly: boolean;
}

function options(argv: string[]): Options | null {
  const { values } = parseArgs({
    args: argv,
    options: {
      preset: { type: 'string', default: 'paper' },
      resolutions: { type: 'string', default: '64,128,256,512' },
      model: { type: 'string', multiple: true },
      variants: { type: 'string', default: VARIANTS.join(',') },
      steps: { type: 'string', default: '256' },
      'min-steps': { type: 'string', default: '2' },
      forwards: { type: 'string', default: '5' },
      'budget-s': { type: 'string' },
      json: { type: 'string' },
      out: { type: 'string' },
      section: { type: 'string', default: 'rehearsal' },
      render: { type: 'string' },
      'liftoff-only': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return null;
  const int = (name: string, v: string) => {
    if (!/^\d+$/.test(v) || Number(v) < 1) throw new Error(`--${name} must be a positive integer, got "${v}"`);
    return Number(v);
  };
  const variants = values.variants.split(',').map((s) => s.trim()) as Variant[];
  for (const v of variants) if (!VARIANTS.includes(v)) throw new Error(`--variants: unknown "${v}" (${VARIANTS.join(', ')})`);
  return {
    preset: values.preset,
    resolutions: values.resolutions
      .split(',')
      .map((s) => int('resolutions', s.trim()))
      .sort((a, b) => a - b),
    models: (values.model ?? []).map((m) => resolve(m)),
    variants: VARIANTS.filter((v) => variants.includes(v)),
    steps: int('steps', values.steps),
    minSteps: int('min-steps', values['min-steps']),
    forwards: int('forwards', values.forwards),
    budgetS: values['budget-s'] === undefined ? null : int('budget-s', values['budget-s']),
    json: values.json && resolve(values.json),
    out: values.out && resolve(values.out),
    section: values.section,
    render: values.render && resolve(values.render),
    liftoffOnly: values['liftoff-only'],
  };
}

const started = performance.now();
const elapsedS = () => (performance.now() - started) / 1000;

/** The kit's exports, FLOP counts and float16 conversions of the models to time, smallest first. */
async function prepareModels(o: Options, wantFp16: boolean, f16: boolean): Promise<ModelInfo[]> {
  const t0 = performance.now();
  // every preset size exported at once (a device machine has the cores), each kit process on its share of them
  const threads = String(Math.max(1, Math.floor(cpus().length / Math.max(1, o.resolutions.length))));
  const env = { OMP_NUM_THREADS: threads, MKL_NUM_THREADS: threads };
  const dirs = o.models.length ? o.models.map((m) => Promise.resolve(m)) : o.resolutions.map((r) => presetModel(o.preset, r, env).then((p) => p.model));
  const settled = await Promise.allSettled(dirs);
  const out: ModelInfo[] = [];
  for (const s of settled) {
    if (s.status === 'rejected') {
      log(`export failed: ${(s.reason as Error).message}`);
      continue;
    }
    const dir = s.value;
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    const info: ModelInfo = {
      dir,
      name: manifest.name,
      resolution: manifest.resolution[0],
      preset: manifest.card?.preset ?? '?',
      flopsPerStep: await stepFlops(dir, manifest),
      exportMs: o.models.length ? undefined : performance.now() - t0,
    };
    if (wantFp16) {
      // converted even where the adapter cannot run it (shader-f16), so the conversion is rehearsed
      const fp16Dir = join(root, '.cache/bench/fp16', manifest.name);
      await python(['-m', 'pigkit.fp16', '--model', dir, '--out', fp16Dir]);
      info.fp16Dir = fp16Dir;
      if (!f16) info.fp16Note = 'the adapter has no shader-f16 (WGSL float16), so ORT has no float16 kernels on it';
    }
    out.push(info);
  }
  return out.sort((a, b) => a.resolution - b.resolution);
}

/** The engine's step-graph pair (files read and checked, sessions, warm-up), with graph capture or without. */
async function openPair(ort: OrtWebModule, dir: string, capture: boolean): Promise<{ pair: LoadedStepPair; loadMs: number }> {
  const t0 = performance.now();
  const source = fileSource(dir);
  const manifest = await readManifest(source);
  const bytes = await readModelBytes(source, manifest, ['maskStep', 'imageStep'] as const);
  const open = capture ? capturedSessions(ort, manifest.resolution) : undefined;
  const pair = await createStepPair(ort as unknown as OrtModule, manifest, bytes, stepGraphSessionOptions(), () => gpuPlace(ort), { open });
  return { pair, loadMs: performance.now() - t0 };
}

/** One run of a step graph, its inputs already where the engine keeps them, timed to the GPU's completion: [first, median of the rest]. */
async function rawForward(ort: OrtModule, session: StepRunner, place: TensorPlace, [H, W]: [number, number], reps: number): Promise<[number, number]> {
  const feeds: Record<string, ReturnType<TensorPlace['upload']>> = {};
  const n = H * W;
  for (const { name } of session.spec.inputs) {
    if (name === 't') feeds.t = new ort.Tensor('float32', Float32Array.of(500), [1]);
    else if (name === 'k') feeds.k = new ort.Tensor('float32', Float32Array.of(0.28, 0.96, 0.29, 0.29, 0), [5]);
    else if (name === 'clip') feeds.clip = new ort.Tensor('float32', Float32Array.of(0), [1]);
    else
      feeds[name] = place.upload(
        Float32Array.from({ length: n }, (_, i) => (name === 'c' ? (Math.sin(i) > 0.6 ? 1 : -1) : Math.sin(i * 0.37))),
        [1, 1, H, W],
      );
  }
  const times: number[] = [];
  try {
    for (let i = 0; i <= reps; i++) {
      const t0 = performance.now();
      const out = await session.run(feeds, 500);
      await place.workDone();
      times.push(performance.now() - t0);
      for (const v of Object.values(out)) v.dispose();
    }
  } finally {
    for (const v of Object.values(feeds)) v.dispose();
  }
  return [times[0], median(times.slice(1))];
}

/** One pair of `steps` steps (seed 0, η 0): its time and, with previews, x̂₀ of every step. */
async function timedPair(pair: LoadedStepPair, steps: number, previews: boolean): Promise<{ ms: number; x0: Float32Array[] }> {
  const [H, W] = pair.manifest.resolution;
  const x0: Float32Array[] = [];
  const t0 = performance.now();
  await runSampler(
    { executor: pair.executors, schedule: pair.schedule, height: H, width: W, steps, seed: 0, eta: 0, binarize: pair.manifest.sampler.binarize, previews },
    previews ? (f) => void x0.push(f.x0!) : undefined,
  );
  return { ms: performance.now() - t0, x0 };
}

function maxAbsDiff(a: Float32Array[], b: Float32Array[]): number {
  let m = 0;
  for (let s = 0; s < Math.min(a.length, b.length); s++) for (let i = 0; i < a[s].length; i++) m = Math.max(m, Math.abs(a[s][i] - b[s][i]));
  return m;
}

/**
 * ORT's first WebGPU session in this process (the tiny model's mask step graph: created, run once,
 * released): the WASM module's compilation and, under V8's default tiering, the optimising compile
 * that blocks the first session (docs/bench/webgpu.md), timed apart from the models' loads. Its GPU
 * output shows capture.ts how ORT's glue marks the buffers it registers.
 */
async function engineStart(ort: OrtWebModule): Promise<number | undefined> {
  const dir = join(root, 'public/models/tiny');
  if (!existsSync(join(dir, 'manifest.json'))) return undefined;
  // read as the engine reads a model (its graph and shared weights file, checked against the manifest)
  const source = fileSource(dir);
  const manifest = await readManifest(source);
  const { maskStep } = await readModelBytes(source, manifest, ['maskStep'] as const);
  const t0 = performance.now();
  const session = await openCheckedSession(ort as unknown as OrtModule, 'maskStep', manifest.models.maskStep!, maskStep, stepGraphSessionOptions());
  const ms = performance.now() - t0;
  log(`engine start (ORT's first WebGPU session in the process): ${formatMs(ms)}`);
  const feeds = Object.fromEntries(
    session.inputNames.map((name) => {
      const dims = stepGraphShape(name, manifest.resolution);
      return [name, new ort.Tensor('float32', new Float32Array(dims.reduce((a, b) => a * b, 1)), dims)];
    }),
  );
  const out = await session.run(feeds);
  for (const t of Object.values(out)) {
    learnBufferRegistry(t.location === 'gpu-buffer' ? t.gpuBuffer : null);
    t.dispose();
  }
  await session.release();
  return ms;
}

/** How many steps fit: the largest ≤ --steps whose two pairs fit in `seconds` at `stepMs` each (never under --min-steps, unless --steps is). */
function stepsThatFit(o: Options, seconds: number | null, stepMs: number): number {
  if (seconds === null) return o.steps;
  return Math.min(o.steps, Math.max(o.minSteps, Math.floor((seconds * 1000) / (2 * stepMs))));
}

async function main(): Promise<void> {
  const o = options(process.argv.slice(2));
  if (!o) return console.log(USAGE);
  if (o.render) {
    const rep = JSON.parse(readFileSync(o.render, 'utf8')) as WebgpuReport;
    return save(o, rep);
  }
  const rep: WebgpuReport = {
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    // PIG_BENCH_VIA: what ran this command (scripts/device-webgpu-bench.sh says itself and its settings)
    command: `${process.env.PIG_BENCH_VIA ? `${process.env.PIG_BENCH_VIA}, which ran ` : ''}npm run bench:webgpu${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
    adapter: null,
    peak: null,
    runtime: '',
    machine: machine(),
    load: [await loadConditions('at the start')],
    models: [],
    results: [],
  };
  // before ORT's WASM is compiled: the flag applies to what V8 compiles from now on
  if (o.liftoffOnly) setFlagsFromString('--liftoff-only');
  let gpu: Awaited<ReturnType<typeof nodeWebGpu>>;
  try {
    gpu = await nodeWebGpu();
  } catch (e) {
    rep.adapterError = (e as Error).message;
    save(o, rep);
    throw e;
  }
  const { ort: ortWeb, adapter } = gpu;
  const ort = ortWeb as unknown as OrtModule;
  rep.adapter = adapter;
  const described = `${adapter.description} ${adapter.device} ${adapter.architecture}`;
  rep.peak = PEAKS.find((p) => p.match.test(described))?.peak ?? null;
  rep.runtime = `Node ${process.version} (${o.liftoffOnly ? 'V8 --liftoff-only: ORT’s WASM never optimised' : 'V8’s default WASM tiering'}), onnxruntime-web ${gpu.versions.ortWeb} (ort.webgpu.min.mjs, asyncify WASM, 1 WASM thread), webgpu (dawn.node) ${gpu.versions.dawnNode}`;
  log(`adapter: ${adapter.description || adapter.vendor} (${adapter.architecture}), shader-f16: ${adapter.shaderF16 ? 'yes' : 'no'}`);
  const wantFp16 = o.variants.some((v) => v.startsWith('fp16'));
  // the kit's exports run while the engine starts: ORT's first WebGPU session in this process
  const models = prepareModels(o, wantFp16, adapter.shaderF16);
  rep.engineStartMs = await engineStart(ortWeb);
  rep.models = await models;
  save(o, rep);
  const deadline = o.budgetS === null ? null : o.budgetS - 15; // 15 s kept for the last write
  const left = () => (deadline === null ? null : deadline - elapsedS());

  for (const [mi, m] of rep.models.entries()) {
    let steps: number | null = null;
    let reference: Float32Array[] | null = null;
    const runnable = o.variants.filter((v) => !(v.startsWith('fp16') && (m.fp16Note || !m.fp16Dir)));
    for (const variant of o.variants) {
      const result: Result = { model: m.name, resolution: m.resolution, variant };
      rep.results.push(result);
      const fp16 = variant.startsWith('fp16');
      const capture = variant.endsWith('capture');
      if (fp16 && (m.fp16Note || !m.fp16Dir)) {
        result.skipped = m.fp16Note ?? 'no float16 conversion';
        save(o, rep);
        continue;
      }
      const remaining = left();
      if (remaining !== null && remaining < 10) {
        result.skipped = `time budget (--budget-s ${o.budgetS}) spent`;
        save(o, rep);
        continue;
      }
      log(`${m.name} ${variant}: loading…`);
      const variantStart = performance.now();
      let opened: Awaited<ReturnType<typeof openPair>> | null = null;
      try {
        opened = await openPair(ortWeb, fp16 ? m.fp16Dir! : m.dir, capture);
        const { pair } = opened;
        result.loadMs = opened.loadMs;
        const res = pair.manifest.resolution;
        const place = await gpuPlace(ortWeb);
        const [mf, mask] = await rawForward(ort, pair.sessions.maskStep, place, res, o.forwards);
        const [, image] = await rawForward(ort, pair.sessions.imageStep, place, res, o.forwards);
        result.forwardMs = { maskStep: mask, imageStep: image };
        log(`${m.name} ${variant}: forwards ${formatMs(mask)} + ${formatMs(image)} (first ${formatMs(mf)})`);
        const now = left();
        if (steps === null) {
          // the pairs of this model's variants share one step count (x̂₀ is compared step by step),
          // set by the first variant timed: what fits in its share of the time left (less what its
          // load and forwards took), the time left shared equally among the rows still to time
          const share = remaining === null ? null : remaining / (rep.models.length - mi) / (runnable.length - runnable.indexOf(variant));
          steps = stepsThatFit(o, share === null ? null : share - (performance.now() - variantStart) / 1000, mask + image);
        } else if (now !== null && (2 * steps * (mask + image)) / 1000 > now) {
          result.skipped = `time budget: two ${steps}-step pairs at ${formatMs(mask + image)} per step do not fit in the ${now.toFixed(0)} s left`;
          continue;
        }
        result.steps = steps;
        log(`${m.name} ${variant}: ${steps}-step pair, previews off…`);
        const off = await timedPair(pair, steps, false);
        log(`${m.name} ${variant}: previews on…`);
        const on = await timedPair(pair, steps, true);
        result.stepOffMs = off.ms / steps;
        result.stepOnMs = on.ms / steps;
        const captured = [pair.sessions.maskStep, pair.sessions.imageStep].filter((x) => x instanceof CapturedStepSession);
        if (captured.some((x) => !x.pinned)) result.note = 'ORT’s buffer registrations not pinned (capture.ts): the capture held by chance';
        if (variant === 'fp32') reference = on.x0;
        else result.x0VsFp32 = reference ? maxAbsDiff(on.x0, reference) : null;
        log(`${m.name} ${variant}: ${formatMs(result.stepOffMs)}/step (previews off), ${formatMs(result.stepOnMs)} (on)`);
      } catch (e) {
        result.skipped = `failed: ${(e as Error).message.split('\n')[0].slice(0, 300)}`;
        log(`${m.name} ${variant}: ${result.skipped}`);
      } finally {
        await opened?.pair.release().catch(() => undefined);
        save(o, rep);
      }
    }
  }
  rep.load.push(await loadConditions('at the end'));
  save(o, rep);
}

/** Writes the JSON (--json) and the Markdown section (--out) of what has been measured so far. */
function save(o: Options, rep: WebgpuReport): void {
  if (o.json) writeFileSync(o.json, `${JSON.stringify(rep, null, 1)}\n`);
  if (o.out) {
    let existing: string | null = null;
    try {
      existing = readFileSync(o.out, 'utf8');
    } catch {
      // a new file
    }
    writeFileSync(o.out, updateBenchmarks(existing, renderWebgpu(rep, o.section, root), markers(o.section)));
  }
}

try {
  await main();
} catch (e) {
  console.error(`bench: ${(e as Error).message}`);
  process.exitCode = 1;
}
