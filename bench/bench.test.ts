// `npm run bench -- --quick` as a user runs it: the tiny pair, 1–2 steps, the CLI, PyTorch and the
// studio on WASM in Chromium (WebGPU left out: SwiftShader takes seconds per step even there), into
// a temporary file, which must hold a well-formed table. Times are not asserted (a shared 2-core
// machine): only that each measured row has them.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { pythonHas } from '../src/testing/python';
import { COLUMNS, parseTable } from './report';

const root = fileURLToPath(new URL('../', import.meta.url));
const chromium = process.env.CHROMIUM ?? '/usr/bin/chromium';
const ready = existsSync(chromium) && pythonHas('torch');
if (!ready) console.warn(`SKIPPED npm run bench -- --quick: needs ${chromium} and /usr/bin/python3 with torch`);

describe.skipIf(!ready)('npm run bench -- --quick', () => {
  const work = mkdtempSync(join(tmpdir(), 'pig-bench-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('times the CLI, PyTorch and the studio on WASM and writes a well-formed table', async () => {
    const out = join(work, 'BENCHMARKS.md');
    const { stderr } = await new Promise<{ stderr: string }>((resolve, reject) =>
      execFile(
        process.execPath,
        ['--import', 'tsx', 'bench/run.ts', '--quick', '--out', out],
        { cwd: root, encoding: 'utf8', timeout: 290_000 },
        (error, _stdout, stderr) => (error ? reject(new Error(`bench failed: ${stderr || error.message}`)) : resolve({ stderr })),
      ),
    );
    expect(stderr).toMatch(/bench: wrote /);
    const text = readFileSync(out, 'utf8');
    expect(text).toMatch(/Measured \d{4}-\d\d-\d\dT[\d:]+Z with `npm run bench -- --quick --out /);
    expect(text).toMatch(/\*\*Machine:\*\* .+, \d+ cores/);
    expect(text).toMatch(/\*\*Versions:\*\* Node v[\d.]+, onnxruntime-node [\d.]+, onnxruntime-web [\d.]+, Chromium [\d.]+/);
    expect(text).toMatch(/\*\*Load at the start:\*\* load average/);
    const { header, rows } = parseTable(text);
    expect(header).toEqual(COLUMNS);
    const byPath = new Map(rows.map((r) => [r[0].slice(0, 3), r]));
    expect([...byPath.keys()].sort()).toEqual(['(a)', '(b)', '(c)', '(d)']);
    const time = /^[\d.]+ (ms|s|min)$/;
    for (const p of ['(a)', '(b)', '(d)']) {
      const [, threads, cold, cached, forward, step, ratio, pair, memory] = byPath.get(p)!;
      expect(threads, p).toMatch(/^\d+/);
      for (const t of [cold, cached, forward, step]) expect(t, `${p}: ${byPath.get(p)!.join(' | ')}`).toMatch(time);
      expect(ratio, p).toMatch(/^[\d.]+×$/);
      expect(pair, p).toMatch(/^[\d.]+ (ms|s|min) \(\d+ steps?\)$/);
      expect(memory, p).toMatch(/(RSS|PSS) \d+ MiB/);
    }
    expect(byPath.get('(c)')![9]).toBe('not measured: left out by --quick');
    expect(text).toMatch(/CLI joint step ÷ two raw ORT-node forwards: \*\*[\d.]+×\*\*/);
    expect(text).toMatch(/Streaming on wasm: .* with `previews=off`/);
    // the physical limit: the step graphs' FLOPs at the measured matrix-product rate, every measured path against it
    expect(text).toMatch(
      /Physical limit: [\d.]+ GFLOP per joint step .* [\d.]+ GFLOP\/s .* is [\d.]+ (ms|s) a step\. Each path's step against it: \(a\) [\d.]+× the limit .*; \(b\) [\d.]+× the limit .*, [\d.]+× the CLI's step; \(d\) /,
    );
    // the studio's own account of its step (core/step-timing.ts), read off its status line
    expect(byPath.get('(b)')![9]).toMatch(
      /the first Generate after the load: .+\/step; Generate → first frame [\d.]+ (ms|s); \d+% of the step in the model calls \(the worker's timing\)/,
    );
  }, 300_000);
});
