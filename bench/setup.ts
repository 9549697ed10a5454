// What every benchmark command shares: where the repository is, the kit's Python, the untrained
// preset models it times (exported once into .cache/bench/), and the machine, versions and load
// lines of a report (report.ts renders them).
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, freemem, loadavg, totalmem } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The repository (PIG_STUDIO_ROOT where the code runs bundled, away from it: the device machine's copy). */
export const root = process.env.PIG_STUDIO_ROOT ? resolve(process.env.PIG_STUDIO_ROOT) : fileURLToPath(new URL('../', import.meta.url));
/** The kit's interpreter: Debian's here (torch 1.13, onnx); PIGKIT_PYTHON elsewhere (as `npm run test:py` reads it). */
export const PYTHON = process.env.PIGKIT_PYTHON ?? '/usr/bin/python3';

export function log(text: string): void {
  process.stderr.write(`bench: ${text}\n`);
}

/** Runs `python3 ARGS` in training/ (the kit's modules), its stdout; an Error with the last lines of stderr. */
export async function python(args: string[], env?: Record<string, string>): Promise<string> {
  try {
    const { stdout } = await run(PYTHON, args, { cwd: join(root, 'training'), maxBuffer: 1 << 24, env: env ? { ...process.env, ...env } : undefined });
    return stdout;
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`${PYTHON} ${args.join(' ')} failed: ${(err.stderr ?? err.message).trim().split('\n').slice(-3).join(' / ')}`);
  }
}

/**
 * The Conv/Gemm/MatMul FLOPs of one joint step (pigkit.flops on the folder's maskStep and imageStep
 * graphs): null where the folder has no step graphs or ONNX cannot infer their shapes.
 */
export async function stepFlops(dir: string, manifest: { models: Record<string, { file: string } | undefined> }): Promise<number | null> {
  const files = ['maskStep', 'imageStep'].map((k) => manifest.models[k]?.file);
  if (files.some((f) => !f)) return null;
  const counts = (await python(['-m', 'pigkit.flops', ...files.map((f) => join(dir, f!))]))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { flops: number; unknown_shapes: string[] });
  return counts.some((c) => c.unknown_shapes.length) ? null : counts.reduce((a, c) => a + c.flops, 0);
}

/** A table with BUS-BRA's attribute columns and value counts (pathology 2, BI-RADS 4, scanner 4): the latent benchmark model's attributes. */
const BENCH_ATTRIBUTES = [
  'ID,Pathology,BIRADS,Device',
  'a,benign,2,scanner-1',
  'b,malignant,3,scanner-2',
  'c,benign,4,scanner-3',
  'd,malignant,5,scanner-4',
  '',
].join('\n');

/**
 * The untrained preset pair: checkpoints (for PyTorch) and their ONNX export (for ORT), made once
 * into .cache/bench/<preset>-<resolution>/. `env` is added to the kit's environment (e.g. its thread
 * count). `latent`: a latent pair for images of `resolution` (pigkit.untrained --latent: a random
 * 16/32/64-channel autoencoder, C = 4, f = 4, BUS-BRA's attribute counts), in .cache/bench/latent-<preset>-<resolution>/.
 */
export async function presetModel(
  preset: string,
  resolution: number,
  env?: Record<string, string>,
  latent = false,
): Promise<{ model: string; weights: string }> {
  const dir = join(root, '.cache/bench', `${latent ? 'latent-' : ''}${preset}-${resolution}`);
  const weights = join(dir, 'run');
  const model = join(dir, 'model');
  if (existsSync(join(model, 'manifest.json')) && existsSync(join(weights, 'image/ckpt.pt'))) return { model, weights };
  log(`exporting the untrained ${latent ? 'latent ' : ''}${preset} pair at ${resolution}² into ${relative(root, dir)} (once)…`);
  await mkdir(dir, { recursive: true });
  const table = join(dir, 'attributes.csv');
  if (latent) await writeFile(table, BENCH_ATTRIBUTES);
  const more = latent ? ['--latent', '--attributes', table] : [];
  await python(['-m', 'pigkit.untrained', '--preset', preset, '--resolution', String(resolution), '--out', weights, ...more], env);
  const card = join(dir, 'card.json');
  await writeFile(card, JSON.stringify({ data: 'none: random initialisation (benchmark weights, not a model)', license: 'none', citation: '' }));
  const name = `untrained-${latent ? 'latent-' : ''}${preset}-${resolution}`;
  const exporter = latent ? ['pigkit.export_latent', '--synthetic-preview'] : ['pigkit.export'];
  await python(['-m', ...exporter, '--run', weights, '--out', model, '--name', name, '--card', card], env);
  return { model, weights };
}

export function machine(): string[] {
  let model = cpus()[0]?.model ?? 'unknown CPU';
  try {
    const lscpu = readFileSync('/proc/cpuinfo', 'utf8');
    model = /^model name\s*:\s*(.*)$/m.exec(lscpu)?.[1] ?? model;
  } catch {
    // not Linux: os.cpus() said it
  }
  return [
    `**Machine:** ${model}, ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB memory (${(freemem() / 2 ** 30).toFixed(0)} GiB free at the start), ${process.platform}`,
  ];
}

export async function versionOf(cmd: string, args: string[]): Promise<string> {
  try {
    return (await run(cmd, args)).stdout.trim();
  } catch {
    return 'not found';
  }
}

export async function loadConditions(when: string): Promise<string> {
  const training = (await run('pgrep', ['-f', 'pigkit.train']).catch(() => ({ stdout: '' }))).stdout.trim();
  const l = loadavg()
    .map((x) => x.toFixed(2))
    .join(' / ');
  return `**Load ${when}:** load average ${l} (1/5/15 min) on ${cpus().length} cores; ${training ? `a training job (pigkit.train) was running, using about one core` : 'no training job running'}`;
}
