// The README's newcomer path ("From a fresh clone to a dataset"), run as written: 20 pairs of the
// default model from the CLI into $nnUNet_raw as nnU-Net's Dataset501, then seed 0 from Python,
// whose lesion fraction must be the CLI's. The first block (clone, install, npm start) is the
// studio's part, which the end-to-end specs cover; it is only checked to be the quick start's.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const readme = readFileSync(join(root, 'README.md'), 'utf8');

/** The ```sh blocks of the README's section `heading` (up to the next ## heading). */
function shellBlocks(heading: string): string[] {
  const start = readme.indexOf(`\n## ${heading}\n`);
  expect(start, `README.md has a section "## ${heading}"`).toBeGreaterThan(0);
  const end = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, end < 0 ? undefined : end);
  return [...section.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((m) => m[1]);
}

const work = mkdtempSync(join(tmpdir(), 'pig-newcomer-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("the README's newcomer path", () => {
  const blocks = shellBlocks('From a fresh clone to a dataset');

  it('starts with the clone, the install and npm start', () => {
    expect(blocks.length).toBe(3);
    expect(blocks[0]).toMatch(/^git clone .* pig-studio && cd pig-studio\nONNXRUNTIME_NODE_INSTALL=skip npm install\nnpm start\b/);
  });

  it('its CLI and Python commands, as written, give 20 pairs in nnU-Net layout and the same seed 0 from Python', () => {
    // `python3` is the kit's interpreter, as npm run test:py picks it ($PIGKIT_PYTHON, else Debian's)
    const bin = join(work, 'bin');
    mkdirSync(bin);
    symlinkSync(process.env.PIGKIT_PYTHON ?? '/usr/bin/python3', join(bin, 'python3'));
    const raw = join(work, 'nnUNet_raw');
    const script = ['set -euo pipefail', ...blocks.slice(1)].join('\n');
    const stdout = execFileSync('bash', ['-c', script], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, nnUNet_raw: raw, PATH: `${bin}:${process.env.PATH}` },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 600_000,
    });
    const dataset = join(raw, 'Dataset501_busbra64');
    const index = JSON.parse(readFileSync(join(dataset, 'dataset.json'), 'utf8'));
    expect(index.numTraining).toBe(20);
    expect(readdirSync(join(dataset, 'imagesTr')).length).toBe(20);
    expect(readdirSync(join(dataset, 'labelsTr')).length).toBe(20);
    expect(stdout).toContain('dataset.json'); // the `ls` of the folder
    const seed0 = JSON.parse(readFileSync(join(dataset, 'manifest.json'), 'utf8')).cases.find((c: { seed: number }) => c.seed === 0);
    expect(stdout).toContain(`(64, 64): lesion fraction ${seed0.maskAreaFraction.toFixed(4)}`);
  }, 600_000);
});
