// npm run bench: the same weights and resolution timed on every path a pair can be made on —
// (a) the CLI on onnxruntime-node, (b) the studio in Chromium on WASM, (c) the studio in Chromium
// on WebGPU (SwiftShader here), (d) the training kit's PyTorch reference sampler — each with one
// raw U-Net forward beside its joint step, so the sampler's overhead shows as a ratio; model load
// (cold, cached), peak memory, and the studio's streaming overhead (previews on vs off).
// Results replace the measured section of BENCHMARKS.md (report.ts).
//
//   npm run bench                      untrained `paper` preset at 128² (exported once into .cache/bench/)
//   npm run bench -- --model DIR [--weights RUN]   any model folder (RUN: its PyTorch checkpoints)
//   npm run bench -- --quick --out FILE             the tiny pair, 1–2 steps, no WebGPU (tests)
//   npm run bench -- --latent [--preset compact --resolution 256]   the latent comparison (issue 13): its own section
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { type BrowserSession, browserForward, type ForwardOptions, type StudioRun, startBrowser, studioRun } from './browser';
import type { LatentChildResult } from './latent-child';
import type { NodeResult } from './node-child';
import { formatMs, keptRow, LATENT_MARKERS, type LatentRow, type Report, type Row, renderLatentSection, renderSection, updateBenchmarks } from './report';
import { loadConditions, log, machine, PYTHON, presetModel, python, root, stepFlops, versionOf } from './setup';
import { median } from './stats';

const run = promisify(execFile);

const USAGE = `usage: npm run bench -- [--quick] [--model DIR] [--weights RUN] [--preset paper --resolution 128]
                        [--steps S] [--wasm-steps S] [--webgpu-steps S] [--threads T]
                        [--only node,pytorch,wasm,webgpu] [--webgpu-twice] [--out BENCHMARKS.md]
       npm run bench -- --latent [--preset compact --resolution 256] [--steps S] [--threads T] [--only node,wasm]
  --model         model folder to time (default: the kit's --preset at --resolution, random init,
                  exported once into .cache/bench/<preset>-<resolution>/)
  --weights       run folder with mask/ckpt.pt and image/ckpt.pt for the PyTorch row
                  (default: the exported preset's; with --model, none: the row says so)
  --steps         DDIM steps of the CLI and PyTorch pairs          default 8 (quick: 2)
  --wasm-steps    steps of the studio's WASM pairs                 default 2 (quick: 1)
  --webgpu-steps  steps of the studio's WebGPU pair (SwiftShader)  default 1
  --threads       intra-op threads of ORT-node and PyTorch         default: the core count (the studio uses them all)
  --only          a subset of the paths                            default all (quick: node,pytorch,wasm)
  --webgpu-twice  also the WebGPU run with previews=off from Cache Storage (another ~10 min at 128²)
  --out           the Markdown file whose measured section is replaced   default BENCHMARKS.md
  --latent        an untrained latent model of --preset (default compact) for images of --resolution
                  (default 256; a random 16/32/64 autoencoder, C = 4, f = 4, with BUS-BRA's attribute
                  counts) beside the untrained pixel-space pair of that preset at its grid (resolution / 4),
                  on ORT-node (the CLI) and ORT-web's WASM build in Node (--only node,wasm): joint steps
                  at guidance w = 1 and 2, the decode, Generate → first preview, the download; --steps
                  default 4, --forwards 3 pairs per row. Replaces its own section of --out`;

/** The paths: --only's key, the table's label, the row's name. */
const PATHS = [
  ['node', '(a)', '(a) CLI, onnxruntime-node (CPU EP)'],
  ['wasm', '(b)', '(b) studio, Chromium, WASM'],
  ['webgpu', '(c)', '(c) studio, Chromium, WebGPU (SwiftShader)'],
  ['pytorch', '(d)', '(d) kit, PyTorch reference sampler'],
] as const;
type PathKey = (typeof PATHS)[number][0];
const pathName = (key: PathKey): string => PATHS.find(([k]) => k === key)![2];

interface Options {
  quick: boolean;
  model?: string;
  weights?: string;
  preset: string;
  resolution: number;
  steps: number;
  wasmSteps: number;
  webgpuSteps: number;
  threads: number;
  only: Set<string>;
  webgpuTwice: boolean;
  out: string;
  forwards: number;
  latent: boolean;
}

function options(argv: string[]): Options | null {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      model: { type: 'string' },
      weights: { type: 'string' },
      preset: { type: 'string' },
      resolution: { type: 'string' },
      latent: { type: 'boolean', default: false },
      steps: { type: 'string' },
      'wasm-steps': { type: 'string' },
      'webgpu-steps': { type: 'string' },
      threads: { type: 'string' },
      only: { type: 'string' },
      'webgpu-twice': { type: 'boolean', default: false },
      out: { type: 'string', default: 'BENCHMARKS.md' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return null;
  const int = (name: string, v: string | undefined, fallback: number) => {
    if (v === undefined) return fallback;
    if (!/^\d+$/.test(v) || Number(v) < 1) throw new Error(`--${name} must be a positive integer, got "${v}"`);
    return Number(v);
  };
  const { quick, latent } = values;
  if (latent && (quick || values.model)) throw new Error('--latent makes its own models: leave out --quick and --model');
  const paths = latent ? ['node', 'wasm'] : ['node', 'pytorch', 'wasm', 'webgpu'];
  const only = new Set((values.only ?? (quick ? 'node,pytorch,wasm' : paths.join(','))).split(',').map((s) => s.trim()));
  for (const p of only) if (!paths.includes(p)) throw new Error(`--only: unknown path "${p}" (${paths.join(', ')})`);
  return {
    quick,
    // quick: the bundled tiny pair and its checkpoints in the kit's fixtures
    model: values.model ?? (quick ? join(root, 'public/models/tiny') : undefined),
    weights: values.weights ?? (quick && !values.model ? join(root, 'training/fixtures/tiny') : undefined),
    preset: values.preset ?? (latent ? 'compact' : 'paper'),
    resolution: int('resolution', values.resolution, latent ? 256 : 128),
    steps: int('steps', values.steps, quick ? 2 : latent ? 4 : 8),
    wasmSteps: int('wasm-steps', values['wasm-steps'], quick ? 1 : 2),
    webgpuSteps: int('webgpu-steps', values['webgpu-steps'], 1),
    threads: int('threads', values.threads, cpus().length),
    only,
    webgpuTwice: values['webgpu-twice'],
    out: resolve(values.out),
    forwards: quick ? 2 : latent ? 3 : 5,
    latent,
  };
}

async function nodeRow(o: Options, model: string): Promise<Row> {
  log(`CLI path (onnxruntime-node), ${o.steps} steps…`);
  const { stdout } = await run(
    process.execPath,
    [
      '--import',
      'tsx',
      'bench/node-child.ts',
      '--model',
      model,
      '--steps',
      String(o.steps),
      '--forwards',
      String(o.forwards * 2),
      '--pairs',
      o.quick ? '1' : '3',
      '--threads',
      String(o.threads),
    ],
    { cwd: root, maxBuffer: 1 << 24 },
  );
  const r = JSON.parse(stdout.trim().split('\n').pop()!) as NodeResult;
  return {
    path: pathName('node'),
    threads: String(o.threads),
    loadColdMs: r.loadColdMs,
    loadCachedMs: r.loadCachedMs,
    forwardMs: r.forwardMs,
    stepMs: r.stepMs,
    pairMs: r.pairMs,
    steps: r.steps,
    memory: `RSS ${r.peakRssMb.toFixed(0)} MiB`,
    note: `ORT ${r.ortVersion}; cached = second load in the process`,
  };
}

async function pytorchRow(o: Options, weights: string | undefined): Promise<Row> {
  const path = pathName('pytorch');
  if (!weights) return { path, threads: String(o.threads), skipped: 'no PyTorch checkpoints for --model (pass --weights RUN)' };
  log(`PyTorch reference sampler, ${o.steps} steps…`);
  const out = await python([
    '-m',
    'pigkit.bench',
    '--sampler',
    weights,
    '--steps',
    String(o.steps),
    '--forwards',
    String(o.forwards),
    '--pairs',
    '1',
    '--threads',
    String(o.threads),
  ]);
  const r = JSON.parse(out.trim().split('\n').pop()!);
  return {
    path,
    threads: String(r.threads),
    loadColdMs: r.load_cold_ms,
    loadCachedMs: r.load_cached_ms,
    forwardMs: r.forward_ms,
    stepMs: r.step_ms,
    pairMs: r.pair_ms,
    steps: r.steps,
    memory: `RSS ${Number(r.peak_rss_mb).toFixed(0)} MiB`,
    note: `torch ${r.torch}; cached = second load in the process`,
  };
}

interface BrowserRows {
  row: Row;
  streaming: string;
  /** findings from extra raw forwards (what the studio's WASM settings are worth) */
  extra: string[];
}

/**
 * The WASM path with one setting changed from the studio's, for "Why WASM is slower": the other
 * thread count (1 where the studio runs several, every core where it runs one), raw and in the
 * studio; the WebGPU build's (asyncify) WASM provider, which the studio used before; ORT's spinning off.
 */
async function wasmVariants(
  b: BrowserSession,
  resolution: number,
  o: Options,
  studioMs: number,
  threads: number,
  steps: number,
  studioStepMs: number,
): Promise<string[]> {
  const other = threads === 1 ? cpus().length : 1;
  log(`WASM variants: two forwards, ${other} thread(s), the asyncify build, no spinning, the studio on ${other} thread(s)…`);
  const timeout = 10 * 60_000;
  const ms = async (f: Partial<ForwardOptions>) =>
    median((await browserForward(b, { ep: 'wasm', reps: o.forwards, warm: 6, resolution, threads, ...f }, timeout)).forwardMs);
  const pair = await ms({ pair: true });
  const alone = await ms({ threads: other });
  const pairOther = await ms({ threads: other, pair: true });
  const asyncify = await ms({ bundle: 'webgpu' });
  const noSpin = await ms({ spin: false });
  const studioOther = await studioRun(b, { backend: 'wasm', steps, seed: 0, previews: true, threads: other, generations: 2 }, timeout);
  const share = (r: StudioRun) => (r.modelShare === null ? '' : `, ${Math.round(r.modelShare * 100)}% of it in the model calls`);
  return [
    `WASM raw forward, the studio's settings (plain WASM build, ${threads} thread(s)): ${formatMs(studioMs)}; with ${other} thread(s): ${formatMs(alone)}; on the WebGPU build's WASM provider (asyncify binary, the studio before 2026-11-23): ${formatMs(asyncify)}; with ORT's spinning off: ${formatMs(noSpin)}.`,
    `Two raw WASM forwards (model_x then model_y, what a joint step calls), after 6 untimed: ${formatMs(pair)} on ${threads} thread(s), ${formatMs(pairOther)} on ${other}. The studio's step ÷ two raw forwards: **${(studioStepMs / pair).toFixed(2)}×** on ${threads} thread(s) (target ≤ 1.2×); with \`threads=${other}\` (previews on, second Generate) its step is ${formatMs(studioOther.stepMs)}, **${(studioOther.stepMs / pairOther).toFixed(2)}×** two raw forwards on ${other}${share(studioOther)}.`,
  ];
}

/**
 * The studio on one backend: previews on (cold load), then, when `twice`, off (load from Cache
 * Storage); and a raw forward. WebGPU on SwiftShader runs once by default: one 128² pair with its
 * load takes about ten minutes there (`--webgpu-twice` adds the second run).
 */
async function studioRows(b: BrowserSession, backend: 'wasm' | 'webgpu', steps: number, resolution: number, o: Options, twice: boolean): Promise<BrowserRows> {
  const timeout = 60 * 60_000;
  // WASM: two Generates per page, the second timed (V8 optimises ORT's WASM during the first); the
  // first one's step is kept in the note. WebGPU on SwiftShader: one (a 128² step takes minutes).
  const generations = backend === 'wasm' ? 2 : 1;
  log(`studio on ${backend}, ${steps} step(s) × ${generations}, previews on (cold load)…`);
  const on: StudioRun = await studioRun(b, { backend, steps, seed: 0, previews: true, generations }, timeout);
  let off: StudioRun | null = null;
  if (twice) {
    log(`studio on ${backend}, previews off (cached load)…`);
    off = await studioRun(b, { backend, steps, seed: 0, previews: false, generations }, timeout);
  }
  log(`raw forward on ${backend}…`);
  const reps = backend === 'webgpu' ? 1 : o.forwards;
  const warm = backend === 'webgpu' ? 0 : 6;
  const fwd = await browserForward(b, { ep: backend, reps, warm, resolution }, timeout);
  const threads = backend === 'wasm' ? `${fwd.numThreads}${fwd.crossOriginIsolated ? '' : ' (not isolated)'}` : 'GPU';
  const path = pathName(backend);
  const last = off ?? on;
  const cachedNote = !off
    ? 'cached load not measured (one run: --webgpu-twice)'
    : off.onnxRequests === 0
      ? 'cached = Cache Storage, no model file request'
      : `cached load still requested ${off.onnxRequests} model file(s)`;
  const share = last.modelShare === null ? '' : `; ${Math.round(last.modelShare * 100)}% of the step in the model calls (the worker's timing)`;
  const first = `${generations > 1 ? `; the first Generate after the load: ${formatMs(last.firstPairMs / steps)}/step` : ''}; Generate → first frame ${formatMs(on.firstFrameMs)}`;
  const row: Row = {
    path,
    threads,
    loadColdMs: on.loadMs,
    loadCachedMs: off?.loadMs,
    forwardMs: median(fwd.forwardMs),
    stepMs: last.stepMs,
    pairMs: last.pairMs,
    steps,
    memory: `PSS ${Math.max(on.peakPssMb, off?.peakPssMb ?? 0).toFixed(0)} MiB (all Chromium processes), page JS heap ${last.jsHeapMb.toFixed(0)} MiB`,
    note: `${last.status.replace(/^.*?Backend: /, '').replace(/ ?Done:.*$/, '')}; ${cachedNote}; ${on.workers} page workers (the studio's + ORT threads); step from previews=${off ? 'off' : 'on'}${first}${share}; forward: median of ${fwd.forwardMs.length} after a first run of ${formatMs(fwd.firstMs)}${warm ? ` and ${warm} untimed` : ''}`,
  };
  const extra = backend === 'wasm' && !o.quick ? await wasmVariants(b, resolution, o, median(fwd.forwardMs), fwd.numThreads, steps, last.stepMs) : [];
  const streaming = off
    ? `Streaming on ${backend}: ${formatMs(on.stepMs)}/step with previews, ${formatMs(off.stepMs)}/step with \`previews=off\` (${((on.stepMs / off.stepMs - 1) * 100).toFixed(1)}% with streaming; ${steps} step(s) each, one run each, so within noise unless large).`
    : `Streaming on ${backend}: not measured (one run only; \`--webgpu-twice\` adds the \`previews=off\` run).`;
  return { row, streaming, extra };
}

async function main(): Promise<void> {
  const o = options(process.argv.slice(2));
  if (!o) return console.log(USAGE);
  if (o.latent) return latentBench(o);
  const loadStart = await loadConditions('at the start');
  const { model, weights } = o.model
    ? { model: resolve(o.model), weights: o.weights ? resolve(o.weights) : undefined }
    : await presetModel(o.preset, o.resolution);
  if (!existsSync(join(model, 'manifest.json'))) throw new Error(`--model ${model} has no manifest.json: not a model folder`);
  const manifest = JSON.parse(readFileSync(join(model, 'manifest.json'), 'utf8'));
  const [H, W] = manifest.resolution as [number, number];
  const modelText = `${manifest.name} (${relative(root, model) || model}), ${H}×${W}, preset ${manifest.card?.preset ?? '?'}, ${((manifest.models.mask.weights?.bytes ?? manifest.models.mask.bytes ?? 0) / 4 / 1e6).toFixed(1)} M parameters per U-Net${weights ? `; PyTorch weights ${relative(root, weights) || weights}` : ''}`;

  const rows: Row[] = [];
  const findings: string[] = [];
  if (o.only.has('node')) rows.push(await nodeRow(o, model));
  if (o.only.has('pytorch')) rows.push(await pytorchRow(o, weights));
  let chromiumVersion = 'not run';
  if (o.only.has('wasm') || o.only.has('webgpu')) {
    const dist = join(root, 'dist');
    if (!builtFromCurrentSources(dist)) {
      log('building the studio (npm run build: dist/ is missing or older than src/)…');
      await run('npm', ['run', 'build'], { cwd: root, maxBuffer: 1 << 24 });
    }
    chromiumVersion = await versionOf(process.env.CHROMIUM ?? '/usr/bin/chromium', ['--version']);
    const b = await startBrowser({ dist, modelDir: model });
    try {
      if (o.only.has('wasm')) {
        const r = await studioRows(b, 'wasm', o.wasmSteps, H, o, true);
        rows.push(r.row);
        findings.push(r.streaming, ...r.extra);
      }
      if (o.only.has('webgpu')) {
        const r = await studioRows(b, 'webgpu', o.webgpuSteps, H, o, o.webgpuTwice);
        rows.push(r.row);
        findings.push(r.streaming);
      }
    } finally {
      await b.close();
    }
  }
  // Paths this run leaves out: with --only, the previous run's row is kept (marked with its date,
  // its load conditions listed), so a slow path (WebGPU on SwiftShader) need not be re-run.
  const existing = existsSync(o.out) ? readFileSync(o.out, 'utf8') : null;
  const keptLoad: string[] = [];
  for (const [key, label, path] of PATHS) {
    if (o.only.has(key)) continue;
    const kept = o.quick ? null : keptRow(existing, label);
    if (kept) {
      rows.push(kept.row);
      keptLoad.push(...kept.load);
    } else rows.push({ path, threads: '–', skipped: o.quick ? 'left out by --quick' : 'left out by --only' });
  }
  rows.sort((a, b) => a.path.localeCompare(b.path));
  findings.unshift(...targets(rows), await physicalLimit(model, manifest, rows, o.threads));
  const ortWeb = JSON.parse(readFileSync(join(root, 'node_modules/onnxruntime-web/package.json'), 'utf8')).version;
  const ortNode = JSON.parse(readFileSync(join(root, 'node_modules/onnxruntime-node/package.json'), 'utf8')).version;
  const report: Report = {
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
    model: modelText,
    machine: machine(),
    versions: [
      `**Versions:** Node ${process.version}, onnxruntime-node ${ortNode}, onnxruntime-web ${ortWeb}, ${chromiumVersion}, ${await versionOf(PYTHON, ['-c', 'import torch, sys; print(f"Python {sys.version.split()[0]}, torch {torch.__version__}")'])}`,
    ],
    load: [loadStart, await loadConditions('at the end'), ...new Set(keptLoad)],
    rows,
    findings,
  };
  writeFileSync(o.out, updateBenchmarks(existing, renderSection(report)));
  log(`wrote ${relative(process.cwd(), o.out) || o.out}`);
}

/**
 * `--latent`: the untrained latent model of the preset beside the pixel-space pair of the same preset
 * at its grid, each on ORT-node and on ORT-web WASM in Node (latent-child.ts, one process per row),
 * and the latent folder's download against its weights; into its own section of --out.
 */
async function latentBench(o: Options): Promise<void> {
  const loadStart = await loadConditions('at the start');
  const latent = await presetModel(o.preset, o.resolution, undefined, true);
  const manifest = JSON.parse(readFileSync(join(latent.model, 'manifest.json'), 'utf8'));
  const [gh, gw] = manifest.latent.grid as [number, number];
  if (gh !== gw) throw new Error(`--latent: a square grid is expected, got ${gh}×${gw}`);
  const pixel = await presetModel(o.preset, gh);
  const models = [
    { dir: pixel.model, label: `pixel space ${gh}² (\`${o.preset}\`)` },
    { dir: latent.model, label: `latent ${o.resolution}² (\`${o.preset}\` at ${gh}², C = ${manifest.latent.channels})` },
  ];
  const backends = (
    [
      ['node', 'ORT-node CPU EP (the CLI)'],
      ['wasm', "ORT-web WASM in Node (the studio's binary)"],
    ] as const
  ).filter(([k]) => o.only.has(k));
  const rows: LatentRow[] = [];
  for (const [backend, path] of backends) {
    for (const m of models) {
      log(`${path}, ${m.label}, ${o.steps} steps × ${o.forwards}…`);
      const args = ['--import', 'tsx', 'bench/latent-child.ts', '--model', m.dir, '--backend', backend];
      const { stdout } = await run(process.execPath, [...args, '--steps', String(o.steps), '--reps', String(o.forwards), '--threads', String(o.threads)], {
        cwd: root,
        maxBuffer: 1 << 24,
      });
      const r = JSON.parse(stdout.trim().split('\n').pop()!) as LatentChildResult;
      rows.push({ path, model: m.label, ...r });
    }
  }
  const files = Object.values(manifest.models as Record<string, { file: string }>).map((m) => join(latent.model, m.file));
  const counts = (await python(['-m', 'pigkit.flops', ...files])).trim().split('\n');
  const weightBytes = counts.reduce((a, l) => a + (JSON.parse(l) as { weight_bytes: number }).weight_bytes, 0);
  const folder = readdirSync(latent.model).map((f) => statSync(join(latent.model, f)).size);
  const ortWeb = JSON.parse(readFileSync(join(root, 'node_modules/onnxruntime-web/package.json'), 'utf8')).version;
  const ortNode = JSON.parse(readFileSync(join(root, 'node_modules/onnxruntime-node/package.json'), 'utf8')).version;
  const section = renderLatentSection({
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    command: `npm run bench -- ${process.argv.slice(2).join(' ')}`,
    header: [
      `**Models:** untrained (random weights), exported by \`npm run bench -- --latent\` into ${relative(root, join(latent.model, '..'))}/ and ${relative(root, join(pixel.model, '..'))}/: ${models.map((m) => m.label).join('; ')}; the latent model with ${manifest.attributes?.length ?? 0} attributes`,
      ...machine(),
      `**Versions:** Node ${process.version}, onnxruntime-node ${ortNode}, onnxruntime-web ${ortWeb}`,
      loadStart,
      await loadConditions('at the end'),
      `**Method:** each row in a process of its own, after warm-up; a joint step is the median interval between the sampler's frames (previews off, as the CLI; the final decode not in it), median of ${o.forwards} pairs of ${o.steps} steps; the decode, the decoder graph on one ẑ₀, median of ${o.forwards}; first preview: runSampler called (model loaded and warm) → its first frame with the previews the studio streams, median of ${o.forwards}. ${o.threads} thread(s) on both backends.`,
    ],
    rows,
    download: { totalBytes: folder.reduce((a, b) => a + b, 0), files: folder.length, weightBytes },
    notes: [
      "One run on a shared machine (other agents and a training job on the same 2 cores, load average above the core count): every ratio is from this one run, its rows timed one after another seconds apart; absolute times move by tens of per cent between runs, and a row's forward and step columns were timed at different moments, so step ÷ 2 forwards is not meaningful here.",
      'No WebGPU rows: no GPU was lent to the session that wrote this (the device tool: not drawn), and the studio\'s latent path was still being built; the prepared command of "WebGPU on a real GPU" times pixel-space presets only.',
    ],
  });
  const existing = existsSync(o.out) ? readFileSync(o.out, 'utf8') : null;
  writeFileSync(o.out, updateBenchmarks(existing, section, LATENT_MARKERS));
  log(`wrote ${relative(process.cwd(), o.out) || o.out}`);
}

/** dist/ holds a build of the current sources: no file under src/ (or index.html) is newer than it. */
function builtFromCurrentSources(dist: string): boolean {
  const built = join(dist, 'index.html');
  if (!existsSync(built)) return false;
  const builtAt = statSync(built).mtimeMs;
  const sources = [join(root, 'index.html'), ...readdirSync(join(root, 'src'), { recursive: true, encoding: 'utf8' }).map((f) => join(root, 'src', f))];
  return sources.every((f) => statSync(f).mtimeMs <= builtAt);
}

/**
 * The physical limit of a step on this machine: the step graphs' matrix FLOPs (pigkit.flops) at
 * the float32 rate of a large matrix product on every core (pigkit.bench --peak), and each
 * measured path's step as a multiple of it and as a share of that rate.
 */
async function physicalLimit(model: string, manifest: { models: Record<string, { file: string } | undefined> }, rows: Row[], threads: number): Promise<string> {
  const flops = await stepFlops(model, manifest);
  if (flops === null) return 'Physical limit: not computed (no step graphs, or shapes ONNX cannot infer).';
  const peak = JSON.parse((await python(['-m', 'pigkit.bench', '--peak', '--threads', String(threads)])).trim().split('\n').pop()!) as {
    peak_gflops: number;
    size: number;
    threads: number;
    torch: string;
  };
  const limitMs = flops / (peak.peak_gflops * 1e6);
  const measured = rows.filter((r) => !r.skipped && r.stepMs !== undefined);
  const cli = measured.find((r) => r.path.startsWith('(a)'));
  const paths = measured.map(
    (r) =>
      `${r.path.slice(0, 3)} ${(r.stepMs! / limitMs).toFixed(1)}× the limit (${percent((100 * limitMs) / r.stepMs!)} of the rate)` +
      (cli && r !== cli ? `, ${(r.stepMs! / cli.stepMs!).toFixed(1)}× the CLI's step` : ''),
  );
  return (
    `Physical limit: ${(flops / 1e9).toFixed(2)} GFLOP per joint step (the two step graphs' Conv/Gemm/MatMul, pigkit.flops) at this machine's ` +
    `float32 matrix-product rate, ${peak.peak_gflops} GFLOP/s (torch ${peak.torch} torch.mm ${peak.size}², ${peak.threads} thread(s), best of 5), ` +
    `is ${formatMs(limitMs)} a step. Each path's step against it: ${paths.join('; ')}.`
  );
}

/** A share in per cent, with two significant digits below 1% (a path at 0.04% is not at 0.0%). */
const percent = (x: number): string => `${x >= 1 ? x.toFixed(1) : x.toPrecision(2)}%`;

/** The issue's targets, measured (never asserted): each as a line with its ratio. */
function targets(rows: Row[]): string[] {
  const find = (prefix: string) => rows.find((r) => r.path.startsWith(prefix) && !r.skipped && r.stepMs !== undefined);
  const cli = find('(a)');
  const torch = find('(d)');
  const wasm = find('(b)');
  const out: string[] = [];
  if (cli?.forwardMs) out.push(`CLI joint step ÷ two raw ORT-node forwards: **${(cli.stepMs! / (2 * cli.forwardMs)).toFixed(2)}×** (target ≤ 1.1×).`);
  if (cli && torch) out.push(`PyTorch step ÷ CLI step: **${(torch.stepMs! / cli.stepMs!).toFixed(1)}×** (target ≥ 5×).`);
  if (wasm && torch) out.push(`Studio WASM step ÷ PyTorch step: **${(wasm.stepMs! / torch.stepMs!).toFixed(2)}×** (target ≤ 1×).`);
  if (wasm && cli)
    out.push(
      `Studio WASM step ÷ CLI step: ${(wasm.stepMs! / cli.stepMs!).toFixed(1)}×; raw forward WASM ÷ ORT-node: ${(wasm.forwardMs! / cli.forwardMs!).toFixed(1)}×.`,
    );
  return out;
}

try {
  await main();
} catch (e) {
  console.error(`bench: ${(e as Error).message}`);
  process.exitCode = 1;
}
