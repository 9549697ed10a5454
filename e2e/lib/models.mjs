// Model panel helpers: the tiny pair's files (edited as a test needs) and its self-contained copy,
// Open model…, the panel's summary.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generate, note, ROOT, RUN_TIMEOUT, ready } from './studio.mjs';

// ---------------------------------------------------------------------------------------------
// Model panel helpers

const TINY_DIR = join(ROOT, 'public/models/tiny');
const TINY_FILES = ['manifest.json', 'mask.onnx', 'image.onnx', 'mask_step.onnx', 'image_step.onnx', 'mask.weights', 'image.weights'];

/** The tiny pair's files as setInputFiles payloads, after `edit(manifest, files)` (a Map name → Buffer). */
export async function tinyModelFiles(edit = () => {}) {
  const files = new Map();
  for (const name of TINY_FILES) files.set(name, await readFile(join(TINY_DIR, name)));
  const m = JSON.parse(files.get('manifest.json').toString('utf8'));
  await edit(m, files);
  files.set('manifest.json', Buffer.from(JSON.stringify(m, null, 2)));
  return [...files].map(([name, buffer]) => ({ name, mimeType: name.endsWith('.json') ? 'application/json' : 'application/octet-stream', buffer }));
}

export const sha256 = async (bytes) => Buffer.from(await crypto.subtle.digest('SHA-256', bytes)).toString('hex');

/** The model panel's one-line summary, e.g. "Model tiny · 32×32 · bundled · cached". */
export async function modelSummary(page) {
  return (await page.locator('.model-panel > details > summary').innerText()).replace(/\s+/g, ' ').trim();
}

/** Opens the model panel's details (idempotent). */
export async function openModelPanel(page) {
  const details = page.locator('.model-panel > details');
  if (!(await details.evaluate((d) => d.open))) await page.locator('.model-panel > details > summary').click();
}

/** After a reload: opens the custom model `name` from the model panel's cache list and waits until it is loaded from the cache. */
export async function reopenCustomFromCache(page, name) {
  await page.reload();
  await ready(page);
  await openModelPanel(page);
  await page.getByRole('button', { name: `Open custom model ${name}`, exact: true }).click();
  await page.locator('.model-panel > details > summary', { hasText: `Model ${name} · 32×32 · custom · loaded from cache` }).waitFor({ timeout: RUN_TIMEOUT });
  await ready(page);
}

/** Chooses files in "Open model…" and waits until the load ends: an alert, or "Opened model …" with Generate enabled. */
export async function chooseModelFiles(page, files) {
  await page.getByLabel('Model files', { exact: true }).setInputFiles(files);
  await page.waitForFunction(
    () => {
      if (document.querySelector('[role="alert"]')) return true;
      const b = [...document.querySelectorAll('button')].find((x) => x.textContent?.trim() === 'Generate');
      return b !== undefined && !b.disabled && /Opened model/.test(document.querySelector('[role="status"]')?.textContent ?? '');
    },
    undefined,
    { timeout: RUN_TIMEOUT },
  );
}

export async function dismissAlert(page) {
  await page.getByRole('button', { name: 'Dismiss error' }).click();
}

/** Model file requests (ONNX graphs and weights files) made since `from` (an index into env.seen: page and worker requests alike). */
export const modelRequestsSince = (env, from) => env.seen.slice(from).filter((u) => /\.(onnx|weights)(\?|$)/.test(u));

/**
 * A copy of the tiny folder in the layout before shared weights files (every graph holding its
 * weights, a manifest without `weights`), made by the kit's own inliner in a temporary folder.
 */
export function selfContainedTinyFolder(dest) {
  execFileSync('/usr/bin/python3', ['-m', 'pigkit.share_weights', '--model', TINY_DIR, '--inline', dest], { cwd: join(ROOT, 'training'), stdio: 'pipe' });
  return dest;
}

/** Asserts an alert naming `pattern`, that the studio still has `model` and still generates. */
export async function expectRefusedAndStillWorking(page, pattern, model) {
  const alert = page.getByRole('alert');
  await alert.waitFor({ timeout: 30_000 });
  const text = (await alert.innerText()).replace(/\s+/g, ' ');
  assert.match(text, pattern);
  assert.match(text, new RegExp(`still uses model ${model}`));
  note(`alert: ${text.slice(0, 220)}`);
  assert.match(await modelSummary(page), new RegExp(`Model ${model} `));
  await dismissAlert(page);
  await page.getByLabel('Steps', { exact: true }).fill('2');
  const { text: done } = await generate(page);
  assert.match(done, /Done: 2 of 2 steps/);
}
