// Batch helpers: a model variant served by the router, the batch panel, the dataset ZIP (Debian's
// unzip), the generate CLI for the same seeds.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MODEL, ROOT, RUN_TIMEOUT } from './studio.mjs';

// Batch helpers

export const BATCH_START = 3;
export const BATCH_STEPS = 3;

/**
 * Serves the tiny pair as `/models/<folder>/` with its manifest changed by `edit(manifest)` (the
 * step graphs always left out, so a changed sampler setting is what runs); returns a function that
 * stops serving it.
 */
export async function serveModelVariant(env, folder, edit) {
  const pattern = `**/models/${folder}/**`;
  const handler = async (route) => {
    const url = new URL(route.request().url());
    const real = url.pathname.replace(`/models/${folder}/`, `/models/${MODEL}/`);
    const res = await route.fetch({ url: new URL(real, url).href });
    if (!real.endsWith('/manifest.json')) return route.fulfill({ response: res });
    const m = await res.json();
    delete m.models.maskStep;
    delete m.models.imageStep;
    edit(m);
    return route.fulfill({ response: res, json: m });
  };
  await env.context.route(pattern, handler);
  return () => env.context.unroute(pattern, handler);
}

export const batchRegion = (page) => page.getByRole('region', { name: 'Batch', exact: true });
export const batchStatus = async (page) => (await page.getByTestId('batch-status').innerText()).replace(/\s+/g, ' ').trim();
export const galleryThumbs = (page) => page.getByRole('list', { name: 'Batch pairs' }).getByRole('button');

/** Fills the batch inputs, clicks Generate batch and waits for the batch to end; returns its note. */
export async function runBatch(page, start, size, timeout = RUN_TIMEOUT) {
  const region = batchRegion(page);
  await region.getByLabel('Batch start seed', { exact: true }).fill(String(start));
  await region.getByLabel('Batch size', { exact: true }).fill(String(size));
  await region.getByRole('button', { name: 'Generate batch', exact: true }).click();
  await page.waitForFunction(
    () => {
      const alert = document.querySelector('[role="alert"]');
      if (alert) throw new Error(`studio shows an error: ${alert.textContent}`);
      return /^(Done|Cancelled|Stopped)/.test(document.querySelector('[data-testid="batch-status"]')?.textContent ?? '');
    },
    undefined,
    { timeout, polling: 50 },
  );
  return batchStatus(page);
}

/** The model folder's documents a dataset carries (core/dataset/about.ts): its data license, its model card where it has one. */
export const datasetDocuments = (folder) => ['DATA-LICENSE.txt', ...(existsSync(join(ROOT, 'public/models', folder, 'README.md')) ? ['MODEL-CARD.md'] : [])];

/**
 * A dataset ZIP unpacked (unzipped): every entry under the one top folder `folder` (nnU-Net's
 * DatasetNNN_Name); returns that folder and the names inside it.
 */
export function datasetUnzipped(bytes, folder) {
  const { dir, names } = unzipped(bytes);
  assert.deepEqual(
    names.filter((n) => !n.startsWith(`${folder}/`)),
    [],
    `entries outside ${folder}/`,
  );
  return { dir: join(dir, folder), top: dir, names: names.map((n) => n.slice(folder.length + 1)) };
}

/** Unpacks a ZIP with Debian's unzip after `unzip -t` checked every entry's CRC; returns { dir, names }. */
function unzipped(bytes) {
  const dir = mkdtempSync(join(tmpdir(), 'pig-e2e-zip-'));
  const zipPath = join(dir, 'dataset.zip');
  writeFileSync(zipPath, bytes);
  const test = spawnSync('unzip', ['-tq', zipPath], { encoding: 'utf8' });
  assert.equal(test.status, 0, `unzip -t: ${test.stdout}${test.stderr}`);
  const list = spawnSync('unzip', ['-Z1', zipPath], { encoding: 'utf8' });
  const out = join(dir, 'files');
  assert.equal(spawnSync('unzip', ['-q', zipPath, '-d', out]).status, 0, 'unzip failed');
  return { dir: out, names: list.stdout.split('\n').filter(Boolean) };
}

/** `npm run generate` (what it runs) for seeds start … start + count − 1 into a new folder. */
export function runGenerateCli(start, count, steps) {
  const out = mkdtempSync(join(tmpdir(), 'pig-e2e-batch-cli-'));
  const args = [
    '--import',
    'tsx',
    'src/cli/generate.ts',
    '--model',
    `public/models/${MODEL}`,
    '--seed',
    String(start),
    '--count',
    String(count),
    '--steps',
    String(steps),
    '--threads',
    '1',
    '--out',
    out,
  ];
  const r = spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8' });
  assert.equal(r.status, 0, `generate CLI failed: ${r.stderr}`);
  return out;
}

export const caseOf = (seed) => `pig_${String(seed).padStart(10, '0')}`;
