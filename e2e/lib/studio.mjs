// The studio's page helpers for the e2e specs (e2e/specs/*.spec.mjs): opening the studio, waiting
// for runs, downloads and the checks of a downloaded pair. `env` is the fixture of e2e/lib/fixtures.mjs:
// { baseUrl, origin, context, seen, foreign }.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodePng, distinctValues } from './png.mjs';

/** The repository's root. */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export const MODEL = 'tiny';
export const SEED = 7;
export const STEPS = 4;
/** A run long enough to cancel in the middle of. */
export const LONG_STEPS = 1024;

export const RUN_TIMEOUT = 180_000;

// ---------------------------------------------------------------------------------------------
// Helpers

export async function manifest(env, folder = MODEL) {
  const res = await fetch(`${env.baseUrl}/models/${folder}/manifest.json`);
  assert.equal(res.status, 200, `manifest of ${folder} not served`);
  return res.json();
}

export async function defaultModelFolder() {
  const source = await readFile(join(ROOT, 'src/core/default-model.ts'), 'utf8');
  const m = /export const DEFAULT_MODEL = '([^']+)'/.exec(source);
  assert.ok(m, 'DEFAULT_MODEL not found in src/core/default-model.ts');
  return m[1];
}

/** A new page on the studio with the given query, collecting page errors and the engine's log lines. */
export async function visit(env, query) {
  const page = await env.context.newPage();
  const errors = [];
  /** The engine's "[engine] …" console lines (logged in the worker: which backend and step path). */
  const engine = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
    if (m.text().startsWith('[engine]')) engine.push(m.text());
  });
  await page.goto(`${env.baseUrl}/${query}`);
  return { page, errors, engine };
}

/** Opens the studio with the given query and waits until the model is loaded and Generate enabled. */
export async function openStudio(env, query) {
  const opened = await visit(env, query);
  await ready(opened.page);
  return opened;
}

export async function ready(page, timeout = RUN_TIMEOUT) {
  await page.getByRole('button', { name: 'Generate', exact: true }).waitFor({ state: 'visible' });
  await page.waitForFunction(
    () => {
      const alert = document.querySelector('[role="alert"]');
      if (alert) throw new Error(`studio shows an error: ${alert.textContent}`);
      const b = [...document.querySelectorAll('button')].find((x) => x.textContent?.trim() === 'Generate');
      return b !== undefined && !b.disabled;
    },
    undefined,
    { timeout },
  );
}

const status = (page) => page.getByRole('status');

export async function statusText(page) {
  return (await status(page).innerText()).replace(/\s+/g, ' ').trim();
}

/** Records every text the status element shows, with a timestamp, from now on. */
export async function recordStatus(page) {
  await page.evaluate(() => {
    const el = document.querySelector('[role="status"]');
    const log = [];
    window.__statusLog = log;
    const push = () => log.push({ at: performance.now(), text: (el?.textContent ?? '').replace(/\s+/g, ' ').trim() });
    push();
    new MutationObserver(push).observe(el, { subtree: true, childList: true, characterData: true });
  });
}

export const statusLog = (page) => page.evaluate(() => window.__statusLog ?? []);

export async function waitDone(page, timeout = RUN_TIMEOUT) {
  await page.waitForFunction(
    () => {
      const alert = document.querySelector('[role="alert"]');
      if (alert) throw new Error(`studio shows an error: ${alert.textContent}`);
      return /Done:/.test(document.querySelector('[role="status"]')?.textContent ?? '');
    },
    undefined,
    { timeout, polling: 50 },
  );
  return statusText(page);
}

/** Clicks Generate and waits for the run to finish; returns ms/step as the status reports it. */
export async function generate(page) {
  await page.getByRole('button', { name: 'Generate', exact: true }).click();
  const text = await waitDone(page);
  return { text, msPerStep: parseMsPerStep(text) };
}

function parseMsPerStep(text) {
  const m = /\(([\d.]+) (ms|s)\/step\)/.exec(text);
  if (!m) return NaN;
  return Number(m[1]) * (m[2] === 's' ? 1000 : 1);
}

export const canvases = (page) =>
  page.evaluate(() => Object.fromEntries([...document.querySelectorAll('canvas[data-view]')].map((c) => [c.dataset.view, c.toDataURL()])));

/** Clicks "Download pair" and returns both files: { name, bytes, png } by kind. */
export async function downloadPair(page) {
  const got = [];
  const done = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`expected 2 downloads, got ${got.length}`)), 30_000);
    const onDownload = (d) => {
      got.push(d);
      if (got.length === 2) {
        clearTimeout(timer);
        page.off('download', onDownload);
        resolve();
      }
    };
    page.on('download', onDownload);
  });
  await page.getByRole('button', { name: 'Download pair', exact: true }).click();
  await done;
  const files = {};
  for (const d of got) {
    const name = d.suggestedFilename();
    const failure = await d.failure();
    assert.equal(failure, null, `download ${name} failed: ${failure}`);
    const bytes = await readFile(await d.path());
    const kind = name.endsWith('_mask.png') ? 'mask' : name.endsWith('_image.png') ? 'image' : name;
    files[kind] = { name, bytes, png: decodePng(bytes) };
  }
  assert.ok(files.mask && files.image, `expected an _image.png and a _mask.png, got ${got.map((d) => d.suggestedFilename())}`);
  return files;
}

export function checkPair(files, { width, height, name, seed, steps }) {
  const base = `${name}_seed${seed}_steps${steps}`;
  assert.equal(files.image.name, `${base}_image.png`);
  assert.equal(files.mask.name, `${base}_mask.png`);
  for (const kind of ['image', 'mask']) {
    const png = files[kind].png;
    assert.equal(png.width, width, `${kind} width`);
    assert.equal(png.height, height, `${kind} height`);
    assert.equal(png.bitDepth, 8, `${kind} bit depth`);
    assert.equal(png.colorType, 'gray', `${kind} colour type`);
  }
  const maskValues = distinctValues(files.mask.png.gray);
  assert.ok(maskValues.every((v) => v === 0 || v === 255) && maskValues.length <= 2, `mask is not binary: values ${maskValues.slice(0, 10)}`);
  return maskValues;
}

export function note(message) {
  console.log(`       · ${message}`);
}

/** Resolves after the views have had a chance to redraw (state → render → rAF draw). */
export const redrawn = (page) =>
  page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(() => requestAnimationFrame(resolve)))));
