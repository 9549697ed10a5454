// The layer rule (.dependency-cruiser.cjs, `npm run lint:layers`): it fires on the arrows it forbids,
// run as npm runs it over a small tree of right and wrong imports, and the command names every
// folder of the repository that holds code, so no file escapes it.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../', import.meta.url));
const DEPCRUISE = join(root, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs');
/** The paths `npm run lint:layers` cruises, read from package.json. */
const command = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).scripts['lint:layers'] as string;
const cruised = command
  .split(/\s+/)
  .slice(1)
  .filter((a) => !a.startsWith('-') && !a.endsWith('.cjs'));

/** The small tree: each file's imports, right ones beside the wrong one it is here for. */
const TREE: Record<string, string> = {
  'src/core/limits.ts': 'export const A = 1;\n',
  'src/cli/plan.ts': "import { A } from '../core/limits';\nexport const P = A;\n",
  // the app may import core, never the CLI
  'src/app/page.ts': "import { P } from '../cli/plan';\nimport { A } from '../core/limits';\nexport const X = P + A;\n",
  // nothing in src imports the benchmark
  'src/engine/run.ts': "import { B } from '../../bench/run';\nexport const E = B;\n",
  // the benchmark shares the harness with e2e, never e2e's own modules
  'bench/run.ts':
    "import { studio } from '../e2e/lib/studio.mjs';\nimport { dice } from '../harness/compare.mjs';\nimport { A } from '../src/core/limits';\nexport const B = studio + dice + A;\n",
  'harness/compare.mjs': 'export const dice = 1;\n',
  // e2e drives the built app, not its modules
  'e2e/lib/studio.mjs': "import { dice } from '../../harness/compare.mjs';\nimport { P } from '../../src/cli/plan.ts';\nexport const studio = dice + P;\n",
  'bin/generate.mjs': "await import('../src/cli/plan.ts');\n",
  // a folder in no layer imports nothing of the repository
  'tools/x.mjs': "import { A } from '../src/core/limits.ts';\nexport const T = A;\n",
  'tsconfig.json': JSON.stringify({ compilerOptions: { module: 'ESNext', moduleResolution: 'bundler', allowImportingTsExtensions: true, noEmit: true } }),
};

interface Violation {
  from: string;
  to: string;
  rule: { name: string };
}

function depcruise(cwd: string, paths: string[]): Promise<Violation[]> {
  return new Promise((resolve, reject) =>
    execFile(
      process.execPath,
      [DEPCRUISE, ...paths, '--config', join(root, '.dependency-cruiser.cjs'), '--output-type', 'json'],
      { cwd, encoding: 'utf8', maxBuffer: 1 << 26, timeout: 120_000 },
      // depcruise exits with the number of errors: the JSON on stdout is the answer either way
      (error, stdout, stderr) => {
        if (!stdout.trim()) reject(new Error(`depcruise printed nothing: ${stderr || error?.message}`));
        else resolve((JSON.parse(stdout) as { summary: { violations: Violation[] } }).summary.violations);
      },
    ),
  );
}

describe('npm run lint:layers', () => {
  const work = mkdtempSync(join(tmpdir(), 'pig-layers-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('fails on each forbidden arrow of a small tree, and only on those', async () => {
    for (const [path, text] of Object.entries(TREE)) {
      mkdirSync(join(work, dirname(path)), { recursive: true });
      writeFileSync(join(work, path), text);
    }
    const found = (await depcruise(work, ['src', 'bench', 'harness', 'e2e', 'bin', 'tools'])).map((v) => `${v.rule.name}: ${v.from} → ${v.to}`);
    expect(found.sort()).toEqual(
      [
        'src-app-imports-only-its-layers: src/app/page.ts → src/cli/plan.ts',
        'src-engine-imports-only-its-layers: src/engine/run.ts → bench/run.ts',
        'bench-imports-only-its-layers: bench/run.ts → e2e/lib/studio.mjs',
        'e2e-imports-only-its-layers: e2e/lib/studio.mjs → src/cli/plan.ts',
        'a-file-in-no-layer-imports-nothing-of-the-repository: tools/x.mjs → src/core/limits.ts',
      ].sort(),
    );
  });

  it('cruises every file of the repository that holds code', () => {
    const SKIP = new Set(['node_modules', '.git', 'dist', '.cache', 'runs', 'test-results', 'playwright-report', 'tmp', 'packed', '.device', '__pycache__']);
    const CODE = /\.(ts|tsx|mts|cts|js|jsx|mjs|cjs)$/;
    const code: string[] = [];
    const walk = (dir: string) => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        if (e.isDirectory() && !SKIP.has(e.name)) walk(join(dir, e.name));
        else if (e.isFile() && CODE.test(e.name)) code.push(relative(root, join(dir, e.name)));
      }
    };
    walk(root);
    // the cruiser's own configuration is the one file it does not check
    const missed = code.filter((f) => f !== '.dependency-cruiser.cjs' && !cruised.some((p) => f === p || f.startsWith(`${p}/`)));
    expect(code.length).toBeGreaterThan(100);
    expect(missed).toEqual([]);
  });
});
