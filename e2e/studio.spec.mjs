// The studio's end-to-end specs, run in order by e2e/run.mjs against the production build.
// Its helpers are exported for the other spec files (e2e/reliability.spec.mjs).
// Later specs use what earlier ones left in `env.shared` (the WebGPU pair, to compare with WASM).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { gunzipSync } from 'node:zlib';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pngjs from 'pngjs';
import { decodePng, distinctValues } from './lib/png.mjs';

export const MODEL = 'tiny';
const SEED = 7;
const STEPS = 4;
/** A run long enough to cancel in the middle of. */
const LONG_STEPS = 1024;

export const RUN_TIMEOUT = 180_000;

// ---------------------------------------------------------------------------------------------
// Helpers

export async function manifest(env, folder = MODEL) {
  const res = await fetch(`${env.baseUrl}/models/${folder}/manifest.json`);
  assert.equal(res.status, 200, `manifest of ${folder} not served`);
  return res.json();
}

async function defaultModelFolder() {
  const source = await readFile(new URL('../src/app/config.ts', import.meta.url), 'utf8');
  const m = /export const DEFAULT_MODEL = '([^']+)'/.exec(source);
  assert.ok(m, 'DEFAULT_MODEL not found in src/app/config.ts');
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

const canvases = (page) =>
  page.evaluate(() =>
    Object.fromEntries([...document.querySelectorAll('canvas[data-view]')].map((c) => [c.dataset.view, c.toDataURL()])),
  );

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
  assert.ok(
    maskValues.every((v) => v === 0 || v === 255) && maskValues.length <= 2,
    `mask is not binary: values ${maskValues.slice(0, 10)}`,
  );
  return maskValues;
}

function meanAbsDiff(a, b) {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i] - b[i]);
  return s / a.length;
}

function maxAbsDiff(a, b) {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Dice of two binary masks (0/255); two empty masks agree perfectly. */
function dice(a, b) {
  let inter = 0;
  let sa = 0;
  let sb = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] > 127 ? 1 : 0;
    const y = b[i] > 127 ? 1 : 0;
    inter += x & y;
    sa += x;
    sb += y;
  }
  return sa + sb === 0 ? 1 : (2 * inter) / (sa + sb);
}

export function note(message) {
  console.log(`       · ${message}`);
}


// ---------------------------------------------------------------------------------------------
// Modes: helpers

/** Opens the studio and waits until the model is loaded (Generate may stay disabled in a mode). */
export async function openLoaded(env, query) {
  const { page, errors } = await visit(env, query);
  await page.waitForFunction(
    () => {
      const alert = document.querySelector('[role="alert"]');
      if (alert) throw new Error(`studio shows an error: ${alert.textContent}`);
      return /Ready|Done:/.test(document.querySelector('[role="status"]')?.textContent ?? '');
    },
    undefined,
    { timeout: RUN_TIMEOUT },
  );
  return { page, errors };
}

export const generateButton = (page) => page.getByRole('button', { name: 'Generate', exact: true });

/** The mask editor's pixels at model resolution, R channel (0 background, 255 lesion). */
export const editorPixels = (page, which = 'mask') =>
  page.evaluate((which) => {
    const c = document.querySelector(`canvas[data-editor="${which}"]`);
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    return { width: c.width, height: c.height, gray: Array.from({ length: c.width * c.height }, (_, i) => d[i * 4]) };
  }, which);

/** Model pixel (x, y) (continuous, e.g. 4.5 = a pixel centre) → page coordinates on the editor. */
async function editorPoint(page, x, y) {
  const canvas = page.locator('canvas[data-editor="mask"]');
  const box = await canvas.boundingBox();
  const { width, height } = await canvas.evaluate((c) => ({ width: c.width, height: c.height }));
  return { x: box.x + (x / width) * box.width, y: box.y + (y / height) * box.height };
}

/** A mouse stroke through the given model-pixel points. */
async function mouseStroke(page, points) {
  const [first, ...rest] = points;
  const p0 = await editorPoint(page, ...first);
  await page.mouse.move(p0.x, p0.y);
  await page.mouse.down();
  for (const p of rest) {
    const q = await editorPoint(page, ...p);
    await page.mouse.move(q.x, q.y, { steps: 4 });
  }
  await page.mouse.up();
}

/** A one-finger touch stroke (Chrome DevTools Protocol touch events → pointer events of type touch). */
async function touchStroke(page, points) {
  const cdp = await page.context().newCDPSession(page);
  try {
    const at = async (p) => {
      const q = await editorPoint(page, ...p);
      return [{ x: q.x, y: q.y, id: 1 }];
    };
    await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: await at(points[0]) });
    for (const p of points.slice(1)) await cdp.send('Input.dispatchTouchEvent', { type: 'touchMove', touchPoints: await at(p) });
    await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
  } finally {
    await cdp.detach();
  }
}

const lesionPixels = (gray) => gray.filter((v) => v === 255).length;

/** Writes an 8-bit RGB PNG (r = g = b for gray) from a function of (x, y) → [r, g, b]. */
export async function writeRgbPng(path, width, height, rgb) {
  const png = new pngjs.PNG({ width, height, colorType: 2, inputColorType: 6, inputHasAlpha: true });
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const [r, g, b] = rgb(x, y);
      png.data.set([r, g, b, 255], (y * width + x) * 4);
    }
  }
  await writeFile(path, pngjs.PNG.sync.write(png, { colorType: 2, inputColorType: 6 }));
}

/** A red oval lesion on black: two gray levels, the higher one is lesion (the loader's rule). */
export const writeLesionMask = (path, width, height) =>
  writeRgbPng(path, width, height, (x, y) => (((x - width * 0.55) / (width * 0.27)) ** 2 + ((y - height * 0.43) / (height * 0.23)) ** 2 <= 1 ? [220, 40, 40] : [0, 0, 0]));

/** Speckled mid-gray tissue with a dark oval lesion (gray: r = g = b). */
function writeScan(path, width, height) {
  let state = 12345;
  const rand = () => (state = (state * 1103515245 + 12345) % 2147483648) / 2147483648;
  return writeRgbPng(path, width, height, (x, y) => {
    const inside = ((x - width * 0.5) / (width * 0.25)) ** 2 + ((y - height * 0.45) / (height * 0.18)) ** 2 <= 1;
    const v = Math.round((inside ? 35 : 120) + rand() * 40);
    return [v, v, v];
  });
}

/** The kit's training loader (training/pigkit/data.py) on a file: what the model would be trained on. */
function kitLoad(kind, path, resolution) {
  const code = [
    'import json, sys',
    "sys.path.insert(0, 'training')",
    'from pathlib import Path',
    'from pigkit.data import load_image, load_mask',
    "f = load_mask if sys.argv[1] == 'mask' else load_image",
    'print(json.dumps(f(Path(sys.argv[2]), int(sys.argv[3])).reshape(-1).tolist()))',
  ].join('\n');
  const root = fileURLToPath(new URL('..', import.meta.url));
  const r = spawnSync('/usr/bin/python3', ['-c', code, kind, path, String(resolution)], { cwd: root, encoding: 'utf8', maxBuffer: 64 << 20 });
  assert.equal(r.status, 0, `the kit's loader failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

function countDiffering(a, b) {
  let n = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) n++;
  return n;
}

export const tmpFolder = () => mkdtempSync(join(tmpdir(), 'pig-e2e-modes-'));

/** Step slider to the first step; returns the views then. */
async function viewsAtFirstStep(page) {
  const slider = page.getByRole('slider', { name: 'Step', exact: true });
  await slider.focus();
  await page.keyboard.press('Home');
  await redrawn(page); // drawing waits for the next animation frame
  const first = await canvases(page);
  await page.keyboard.press('End');
  await redrawn(page);
  return first;
}

// ---------------------------------------------------------------------------------------------
// Viewer and timeline-export helpers

/** Resolves after the views have had a chance to redraw (state → render → rAF draw). */
const redrawn = (page) =>
  page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(() => requestAnimationFrame(resolve)))));

/** A pane's zoom/pan as it draws it: CSS px per image pixel and offset, from its data attributes. */
async function paneGeometry(page, kind) {
  return page.evaluate((kind) => {
    const c = document.querySelector(`canvas[data-view="${kind}"]`);
    const r = c.getBoundingClientRect();
    const [ox, oy] = (c.dataset.offset ?? '0,0').split(',').map(Number);
    return { scale: Number(c.dataset.scale), ox, oy, left: r.left, top: r.top, width: r.width, height: r.height };
  }, kind);
}

/** Where image pixel (x, y)'s centre is on the page, in the given pane. */
async function pixelCentre(page, kind, x, y) {
  const g = await paneGeometry(page, kind);
  return { x: g.left + g.ox + (x + 0.5) * g.scale, y: g.top + g.oy + (y + 0.5) * g.scale };
}

/** The RGBA a pane shows at image pixel (x, y)'s centre (read from its canvas). */
async function panePixel(page, kind, x, y) {
  return page.evaluate(
    ([kind, x, y]) => {
      const c = document.querySelector(`canvas[data-view="${kind}"]`);
      const [ox, oy] = c.dataset.offset.split(',').map(Number);
      const s = Number(c.dataset.scale);
      const dpr = c.width / c.clientWidth;
      const d = c.getContext('2d').getImageData(Math.floor((ox + (x + 0.5) * s) * dpr), Math.floor((oy + (y + 0.5) * s) * dpr), 1, 1).data;
      return Array.from(d);
    },
    [kind, x, y],
  );
}

const paneImage = (page, kind) => page.evaluate((kind) => document.querySelector(`canvas[data-view="${kind}"]`).toDataURL(), kind);

/** Clicks the button and returns the one download it starts: { name, bytes }. */
export async function downloadOne(page, buttonName) {
  const [d] = await Promise.all([page.waitForEvent('download', { timeout: 60_000 }), page.getByRole('button', { name: buttonName, exact: true }).click()]);
  const failure = await d.failure();
  assert.equal(failure, null, `download ${d.suggestedFilename()} failed: ${failure}`);
  return { name: d.suggestedFilename(), bytes: await readFile(await d.path()) };
}

/** The PNG's chunks in order: { type, data }. */
function pngChunks(bytes) {
  assert.ok(bytes.subarray(0, 8).equals(Buffer.from([137, 80, 78, 71, 13, 10, 26, 10])), 'not a PNG (bad signature)');
  const chunks = [];
  for (let o = 8; o + 12 <= bytes.length; ) {
    const length = bytes.readUInt32BE(o);
    chunks.push({ type: bytes.toString('latin1', o + 4, o + 8), data: bytes.subarray(o + 8, o + 8 + length) });
    o += 12 + length;
  }
  return chunks;
}

/** The reference window/level mapping, written out again here: round(clamp((d − (L − W/2)) / W, 0, 1) · 255). */
function windowLevel(d, window, level) {
  return Math.round(Math.min(1, Math.max(0, (d - (level - window / 2)) / window)) * 255);
}


// ---------------------------------------------------------------------------------------------
// Model panel helpers

const TINY_DIR = new URL('../public/models/tiny/', import.meta.url);
const TINY_FILES = ['manifest.json', 'mask.onnx', 'image.onnx', 'mask_step.onnx', 'image_step.onnx'];

/** The tiny pair's files as setInputFiles payloads, after `edit(manifest, files)` (a Map name → Buffer). */
export async function tinyModelFiles(edit = () => {}) {
  const files = new Map();
  for (const name of TINY_FILES) files.set(name, await readFile(new URL(name, TINY_DIR)));
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
async function openModelPanel(page) {
  const details = page.locator('.model-panel > details');
  if (!(await details.evaluate((d) => d.open))) await page.locator('.model-panel > details > summary').click();
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

/** ONNX requests made since `from` (an index into env.seen: page and worker requests alike). */
const onnxRequestsSince = (env, from) => env.seen.slice(from).filter((u) => /\.onnx(\?|$)/.test(u));

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


// ---------------------------------------------------------------------------------------------
// Batch helpers

const BATCH_START = 3;
const BATCH_STEPS = 3;
const ROOT = fileURLToPath(new URL('..', import.meta.url));

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
const batchStatus = async (page) => (await page.getByTestId('batch-status').innerText()).replace(/\s+/g, ' ').trim();
const galleryThumbs = (page) => page.getByRole('list', { name: 'Batch pairs' }).getByRole('button');

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
const datasetDocuments = (folder) => ['DATA-LICENSE.txt', ...(existsSync(join(ROOT, 'public/models', folder, 'README.md')) ? ['MODEL-CARD.md'] : [])];

/**
 * A dataset ZIP unpacked (unzipped): every entry under the one top folder `folder` (nnU-Net's
 * DatasetNNN_Name); returns that folder and the names inside it.
 */
function datasetUnzipped(bytes, folder) {
  const { dir, names } = unzipped(bytes);
  assert.deepEqual(names.filter((n) => !n.startsWith(`${folder}/`)), [], `entries outside ${folder}/`);
  return { dir: join(dir, folder), top: dir, names: names.map((n) => n.slice(folder.length + 1)) };
}

/** Unpacks a ZIP with Debian's unzip after `unzip -t` checked every entry's CRC; returns { dir, names }. */
export function unzipped(bytes) {
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
function runGenerateCli(start, count, steps) {
  const out = mkdtempSync(join(tmpdir(), 'pig-e2e-batch-cli-'));
  const args = ['--import', 'tsx', 'src/cli/generate.ts', '--model', `public/models/${MODEL}`, '--seed', String(start), '--count', String(count), '--steps', String(steps), '--threads', '1', '--out', out];
  const r = spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8' });
  assert.equal(r.status, 0, `generate CLI failed: ${r.stderr}`);
  return out;
}

const caseOf = (seed) => `pig_${String(seed).padStart(10, '0')}`;

// ---------------------------------------------------------------------------------------------
// Specs

export const tests = [
  {
    name: 'opens on the default bundled model, backend shown in role=status',
    fn: async (env) => {
      const folder = await defaultModelFolder();
      const m = await manifest(env, folder);
      // WASM: loading a model on SwiftShader WebGPU costs a minute here; the WebGPU specs do that.
      const { page, errors } = await openStudio(env, '?backend=wasm');
      const text = await statusText(page);
      assert.match(text, /Backend: WASM/);
      note(`default model "${folder}": ${text}`);
      assert.equal(await page.getByLabel('Steps', { exact: true }).inputValue(), String(m.sampler.steps));
      assert.match(await page.getByLabel('Seed', { exact: true }).inputValue(), /^\d+$/);
      await page.getByText(m.name, { exact: true }).first().waitFor();
      await page.getByRole('slider', { name: 'Step', exact: true }).waitFor();
      assert.deepEqual(errors, []);
      await page.close();
    },
  },
  {
    name: 'WebGPU: frames stream while the run goes, then the run completes',
    fn: async (env) => {
      const m = await manifest(env);
      const { page, errors, engine } = await openStudio(env, `?model=${MODEL}&backend=webgpu&seed=${SEED}&steps=${STEPS}`);
      assert.match(await statusText(page), /Backend: WebGPU/);
      env.shared.webgpuPath = { status: await statusText(page), engine };
      note(`path: ${engine.join(' | ') || env.shared.webgpuPath.status}`);
      assert.equal(await page.getByLabel('Seed', { exact: true }).inputValue(), String(SEED));
      assert.equal(await page.getByLabel('Steps', { exact: true }).inputValue(), String(STEPS));
      const blank = await canvases(page);
      await recordStatus(page);
      const { text, msPerStep } = await generate(page);
      const log = await statusLog(page);
      const doneAt = log.find((e) => e.text.includes('Done:'))?.at ?? Infinity;
      const midRun = log.filter((e) => e.at < doneAt && /Generating: step [1-9]\d* of/.test(e.text));
      assert.ok(midRun.length > 0, `no progress seen before completion: ${log.map((e) => e.text).join(' | ')}`);
      assert.match(text, new RegExp(`Done: ${STEPS} of ${STEPS} steps`));
      note(`${text}; progress seen mid-run: ${midRun.map((e) => /step (\d+)/.exec(e.text)?.[1]).join(', ')}`);
      const after = await canvases(page);
      for (const view of ['mask', 'image', 'overlay']) assert.notEqual(after[view], blank[view], `${view} view not drawn`);
      const slider = page.getByRole('slider', { name: 'Step', exact: true });
      assert.equal(await slider.getAttribute('max'), String(STEPS - 1));
      env.shared.webgpuPage = page;
      env.shared.webgpuMsPerStep = msPerStep;
      env.shared.resolution = m.resolution;
      assert.deepEqual(errors, []);
    },
  },
  {
    name: 'WebGPU runs whole steps on the GPU (step graphs), reading back only the previews',
    fn: async (env) => {
      const path = env.shared.webgpuPath;
      assert.ok(path, 'needs the WebGPU run');
      const m = await manifest(env);
      assert.ok(m.models.maskStep && m.models.imageStep, `the ${MODEL} manifest lists no step graphs (contracts.md §1b)`);
      // x_t, y_t and c stay GPU tensors between steps (engine/steps.ts); the status and the
      // worker's console line say which path the engine took, and why not when it fell back.
      assert.match(path.status, /Backend: WebGPU \(GPU-resident steps\)/, `the step graphs did not run on WebGPU: ${path.status}`);
      assert.ok(path.engine.some((l) => l.includes('GPU-resident steps')), `engine said: ${path.engine.join(' | ')}`);
    },
  },
  {
    name: 'the Step slider scrubs to earlier steps and the views change',
    fn: async (env) => {
      const page = env.shared.webgpuPage;
      assert.ok(page, 'needs the WebGPU run');
      const slider = page.getByRole('slider', { name: 'Step', exact: true });
      const t = page.getByTestId('step-t');
      const lastT = await t.innerText();
      assert.equal(lastT, 't = 0');
      const last = await canvases(page);
      await slider.focus();
      await page.keyboard.press('Home');
      await page.waitForFunction(() => document.querySelector('[data-testid="step-t"]')?.textContent !== 't = 0');
      assert.equal(await t.innerText(), `t = ${1024 - 1024 / STEPS}`);
      await page.waitForTimeout(100); // drawing waits for the next animation frame
      const first = await canvases(page);
      assert.notEqual(first.image, last.image, 'image view did not change when scrubbing');
      assert.notEqual(first.mask, last.mask, 'mask view did not change when scrubbing');
      await slider.fill('1');
      assert.equal(await t.innerText(), `t = ${1024 - 2 * (1024 / STEPS)}`);
      await page.keyboard.press('End');
      await page.waitForTimeout(100);
      assert.equal(await t.innerText(), 't = 0');
      assert.deepEqual(await canvases(page), last, 'back at the last step the views differ');
      // Play runs the timeline from the start to the end.
      await page.getByRole('button', { name: 'Play', exact: true }).click();
      await page.getByRole('button', { name: 'Pause', exact: true }).waitFor({ timeout: 5_000 });
      await page.getByRole('button', { name: 'Play', exact: true }).waitFor({ timeout: 10_000 });
      assert.equal(await t.innerText(), 't = 0');
    },
  },
  {
    name: 'Download pair: two valid 8-bit gray PNGs of the model size, binary mask',
    fn: async (env) => {
      const page = env.shared.webgpuPage;
      assert.ok(page, 'needs the WebGPU run');
      const m = await manifest(env);
      const [height, width] = m.resolution;
      const files = await downloadPair(page);
      const maskValues = checkPair(files, { width, height, name: m.name, seed: SEED, steps: STEPS });
      const lesion = files.mask.png.gray.filter((v) => v === 255).length;
      note(`${files.image.name} + ${files.mask.name}: ${width}×${height}, mask values {${maskValues}}, lesion ${lesion} px`);
      env.shared.webgpuPair = files;
      await page.close();
    },
  },
  {
    name: 'WASM: a run completes and downloads a valid pair',
    fn: async (env) => {
      const m = await manifest(env);
      const [height, width] = m.resolution;
      // which ORT binary the worker fetches: the plain WASM build, never the WebGPU build's
      // asyncify-instrumented one (slower to open and to reach full speed; src/engine/web.ts ORT_BUILDS)
      const binaries = [];
      const onRequest = (r) => /\.wasm$/.test(new URL(r.url()).pathname) && binaries.push(new URL(r.url()).pathname);
      env.context.on('request', onRequest);
      let opened;
      try {
        opened = await openStudio(env, `?model=${MODEL}&backend=wasm&seed=${SEED}&steps=${STEPS}`);
      } finally {
        env.context.off('request', onRequest);
      }
      const { page, errors, engine } = opened;
      assert.ok(binaries.length > 0 && binaries.every((b) => /ort-wasm-simd-threaded-[\w-]+\.wasm$/.test(b)), `ORT binaries fetched: ${binaries.join(', ')}`);
      // ORT's threads run as workers beside the studio's own (cross-origin isolated, > 1 core)
      const cores = await page.evaluate(() => (self.crossOriginIsolated ? navigator.hardwareConcurrency : 1));
      if (cores > 1) assert.ok(page.workers().length >= 2, `${page.workers().length} worker(s): ORT runs without threads`);
      assert.match(await statusText(page), /Backend: WASM/);
      assert.doesNotMatch(await statusText(page), /GPU-resident/);
      if (engine.length) note(`path: ${engine.join(' | ')}`);
      await recordStatus(page);
      const { text, msPerStep } = await generate(page);
      note(text);
      const files = await downloadPair(page);
      checkPair(files, { width, height, name: m.name, seed: SEED, steps: STEPS });
      env.shared.wasmPair = files;
      env.shared.wasmMsPerStep = msPerStep;
      env.shared.wasmPage = page;
      assert.deepEqual(errors, []);
    },
  },
  {
    name: 'the same seed gives the same pair twice (bytes identical)',
    fn: async (env) => {
      const page = env.shared.wasmPage;
      assert.ok(page && env.shared.wasmPair, 'needs the WASM pair');
      await generate(page);
      const again = await downloadPair(page);
      assert.ok(again.image.bytes.equals(env.shared.wasmPair.image.bytes), 'image PNG differs');
      assert.ok(again.mask.bytes.equals(env.shared.wasmPair.mask.bytes), 'mask PNG differs');
      await page.close();
    },
  },
  {
    name: 'WebGPU and WASM give the same pair within tolerance',
    fn: async (env) => {
      const a = env.shared.webgpuPair;
      const b = env.shared.wasmPair;
      assert.ok(a && b, 'needs both pairs');
      const mad = meanAbsDiff(a.image.png.gray, b.image.png.gray);
      const max = maxAbsDiff(a.image.png.gray, b.image.png.gray);
      const d = dice(a.mask.png.gray, b.mask.png.gray);
      const identical = a.image.bytes.equals(b.image.bytes) && a.mask.bytes.equals(b.mask.bytes);
      note(
        `image mean |Δ| ${mad.toFixed(3)} / 255 (max ${max}), mask Dice ${d.toFixed(4)}, identical bytes: ${identical}; ` +
          `ms/step WebGPU ${env.shared.webgpuMsPerStep}, WASM ${env.shared.wasmMsPerStep}`,
      );
      // This compares two implementations, not only two backends: WebGPU runs the exported step
      // graphs (U-Net + DDIM update + B in one graph, float32, tensors kept on the GPU), WASM the
      // plain U-Nets with core's CPU DDIM/B (float64 per element), the reference path.
      // Both backends compute in float32 but in different kernels and summation orders, so each ε
      // differs by ~1e-6 relative. DDIM at η = 0 is deterministic and does not amplify that much over
      // a few steps, so the 8-bit image differs by at most a level in a few pixels (measured with the
      // tiny pair, seed 7, 4 steps: mean 0.002 levels, max 1, Dice 1.0). The bounds leave room for one
      // real effect: B(·) can flip a pixel whose pooled value sits at the threshold θ, which changes
      // the image model's condition there, so a few boundary pixels of the mask and their
      // neighbourhood in the image may differ. Dice 0.95 allows ~5% of a lesion's pixels; a mean of 2
      // levels (0.8%) allows such a local change but fails any systematic error (a wrong channel,
      // timestep or schedule shifts the whole image by far more).
      assert.ok(mad <= 2, `image mean abs difference ${mad} > 2 levels`);
      assert.ok(d >= 0.95, `mask Dice ${d} < 0.95`);
    },
  },
  {
    name: 'viewer: zoom in changes the rendered scale, pan moves it, Fit restores it',
    fn: async (env) => {
      const { page, errors } = await openStudio(env, `?model=${MODEL}&backend=wasm&seed=${SEED}&steps=${STEPS}`);
      await generate(page);
      await redrawn(page);
      env.shared.viewerPage = page;
      env.shared.viewerErrors = errors;
      const fit = await paneGeometry(page, 'image');
      assert.ok(fit.scale > 1, `fit scale ${fit.scale}`);
      const before = await paneImage(page, 'image');
      await page.getByRole('button', { name: 'Zoom in', exact: true }).click();
      await redrawn(page);
      const zoomed = await paneGeometry(page, 'image');
      assert.ok(Math.abs(zoomed.scale / fit.scale - 1.5) < 1e-3, `zoom in: scale ${fit.scale} → ${zoomed.scale}`);
      assert.equal(await page.getByTestId('zoom-level').innerText(), '150%');
      assert.notEqual(await paneImage(page, 'image'), before, 'zooming in did not change the pixels');
      // All panes share the view.
      assert.equal((await paneGeometry(page, 'mask')).scale, zoomed.scale);
      // Drag 30 px right and 20 px down (Pan is the default drag tool).
      const start = { x: zoomed.left + zoomed.width / 2, y: zoomed.top + zoomed.height / 2 };
      const zoomedPixels = await paneImage(page, 'image');
      await page.mouse.move(start.x, start.y);
      await page.mouse.down();
      await page.mouse.move(start.x + 15, start.y + 10);
      await page.mouse.move(start.x + 30, start.y + 20);
      await page.mouse.up();
      await redrawn(page);
      const panned = await paneGeometry(page, 'image');
      assert.ok(Math.abs(panned.ox - zoomed.ox - 30) < 0.1 && Math.abs(panned.oy - zoomed.oy - 20) < 0.1, `pan moved the offset ${JSON.stringify([zoomed.ox, zoomed.oy])} → ${JSON.stringify([panned.ox, panned.oy])}`);
      assert.notEqual(await paneImage(page, 'image'), zoomedPixels, 'panning did not change the pixels');
      // The wheel zooms too.
      await page.mouse.move(start.x, start.y);
      await page.mouse.wheel(0, -200);
      await redrawn(page);
      assert.ok((await paneGeometry(page, 'image')).scale > panned.scale, 'wheel up did not zoom in');
      await page.getByRole('button', { name: 'Fit', exact: true }).click();
      await redrawn(page);
      const back = await paneGeometry(page, 'image');
      assert.deepEqual([back.scale, back.ox, back.oy], [fit.scale, fit.ox, fit.oy]);
      assert.equal(await paneImage(page, 'image'), before, 'Fit did not restore the view');
      // The keyboard, on a focused pane: + zooms in, an arrow pans, 0 fits.
      await page.locator('canvas[data-view="image"]').focus();
      await page.keyboard.press('+');
      await page.keyboard.press('ArrowLeft');
      await redrawn(page);
      const keyed = await paneGeometry(page, 'image');
      assert.ok(Math.abs(keyed.scale / fit.scale - 1.5) < 1e-3, `+ key: scale ${keyed.scale}`);
      assert.ok(keyed.ox > zoomed.ox + 1, `ArrowLeft did not move the image right: ${zoomed.ox} → ${keyed.ox}`);
      await page.keyboard.press('0');
      await redrawn(page);
      assert.equal((await paneGeometry(page, 'image')).scale, fit.scale);
    },
  },
  {
    name: 'viewer: invert and the window/level presets change the image pixels as the mapping says',
    fn: async (env) => {
      const page = env.shared.viewerPage;
      assert.ok(page, 'needs the viewer run');
      // Raw display: the image pane shows the downloaded PNG's values (Contrast stretch is a display option).
      const stretched = await paneImage(page, 'image');
      await page.getByLabel('Contrast stretch', { exact: true }).uncheck();
      await redrawn(page);
      assert.notEqual(await paneImage(page, 'image'), stretched, 'contrast stretch on and off look the same');
      const files = await downloadPair(page);
      env.shared.viewerPair = files;
      const { width, gray } = files.image.png;
      // A mid-gray pixel, so that every preset below maps it strictly inside its window.
      const i = gray.findIndex((v) => v >= 100 && v <= 155);
      assert.ok(i >= 0, 'no mid-gray pixel in the image');
      const [x, y] = [i % width, Math.floor(i / width)];
      const d = gray[i];
      assert.deepEqual(await panePixel(page, 'image', x, y), [d, d, d, 255], 'the raw display differs from the PNG');
      await page.getByLabel('Invert', { exact: true }).check();
      await redrawn(page);
      assert.deepEqual(await panePixel(page, 'image', x, y), [255 - d, 255 - d, 255 - d, 255], 'invert');
      await page.getByLabel('Invert', { exact: true }).uncheck();
      for (const [name, w, l] of [
        ['High contrast', 64, 128],
        ['Mid-gray tissue', 128, 112],
      ]) {
        await page.getByLabel('Window preset', { exact: true }).selectOption(name);
        await redrawn(page);
        assert.equal(await page.getByLabel('Window', { exact: true }).inputValue(), String(w));
        assert.equal(await page.getByLabel('Level', { exact: true }).inputValue(), String(l));
        const v = windowLevel(d, w, l);
        assert.deepEqual(await panePixel(page, 'image', x, y), [v, v, v, 255], `${name}: ${d} → ${v}`);
      }
      note(`pixel (${x}, ${y}) = ${d}: inverted ${255 - d}, High contrast ${windowLevel(d, 64, 128)}, Mid-gray tissue ${windowLevel(d, 128, 112)}`);
      // Window/level by drag: with the W/L tool, right widens the window and down raises the level.
      await page.getByLabel('Window/level', { exact: true }).check();
      const g = await paneGeometry(page, 'image');
      await page.mouse.move(g.left + g.width / 2, g.top + g.height / 2);
      await page.mouse.down();
      await page.mouse.move(g.left + g.width / 2 + 20, g.top + g.height / 2 + 10);
      await page.mouse.up();
      await redrawn(page);
      assert.equal(await page.getByLabel('Window', { exact: true }).inputValue(), '148');
      assert.equal(await page.getByLabel('Level', { exact: true }).inputValue(), '122');
      assert.equal(await page.getByLabel('Window preset', { exact: true }).inputValue(), '', 'a dragged window/level is custom');
      assert.equal((await paneGeometry(page, 'image')).ox, g.ox, 'the W/L drag also panned');
      const v = windowLevel(d, 148, 122);
      assert.deepEqual(await panePixel(page, 'image', x, y), [v, v, v, 255], `dragged W/L: ${d} → ${v}`);
      await page.getByLabel('Pan', { exact: true }).check();
      await page.getByLabel('Window preset', { exact: true }).selectOption('Full range');
      await redrawn(page);
      assert.deepEqual(await panePixel(page, 'image', x, y), [d, d, d, 255], 'Full range is the identity');
      await page.getByLabel('Contrast stretch', { exact: true }).check();
    },
  },
  {
    name: 'viewer: the readout shows the hovered pixel as the downloaded PNGs have it',
    fn: async (env) => {
      const page = env.shared.viewerPage;
      const files = env.shared.viewerPair;
      assert.ok(page && files, 'needs the viewer run and its pair');
      const { width } = files.image.png;
      const mask = files.mask.png.gray;
      const lesion = mask.findIndex((v) => v === 255);
      const points = [[3, 28]];
      if (lesion >= 0) points.push([lesion % width, Math.floor(lesion / width)]);
      else note('the mask is empty: only a background pixel is read');
      const readout = page.getByRole('group', { name: 'Pixel readout', exact: true });
      const readAt = async (kind, x, y) => {
        const p = await pixelCentre(page, kind, x, y);
        await page.mouse.move(p.x, p.y);
        await page.waitForFunction(([x, y]) => {
          const el = document.querySelector('[aria-label="Pixel readout"]');
          return el?.dataset.x === String(x) && el?.dataset.y === String(y);
        }, [x, y]);
        const i = y * width + x;
        assert.equal(await readout.getAttribute('data-image8'), String(files.image.png.gray[i]), `image value at (${x}, ${y})`);
        assert.equal(await readout.getAttribute('data-mask-bit'), mask[i] === 255 ? '1' : '0', `mask value at (${x}, ${y})`);
        const text = (await readout.innerText()).replace(/\s+/g, ' ');
        assert.match(text, new RegExp(`x ${x}, y ${y}`));
        assert.match(text, new RegExp(`image ${files.image.png.gray[i]} / 255 \\(-?\\d\\.\\d{3}\\)`));
        assert.match(text, new RegExp(`B = ${mask[i] === 255 ? 1 : 0}`));
        return text;
      };
      for (const [x, y] of points) note(`readout at (${x}, ${y}) on the image: ${await readAt('image', x, y)}`);
      // Zoomed in (about the centre, 1.5×: pixels 5 … 26 in view) the mapping is not the trivial one.
      await page.getByRole('button', { name: 'Zoom in', exact: true }).click();
      await redrawn(page);
      await readAt('image', 12, 19);
      await readAt('mask', 25, 6);
      await page.getByRole('button', { name: 'Fit', exact: true }).click();
      await redrawn(page);
      // Over the overlay pane too (same mapping), and nothing once the pointer leaves.
      const [x, y] = points[points.length - 1];
      const p = await pixelCentre(page, 'overlay', x, y);
      await page.mouse.move(p.x, p.y);
      await page.waitForFunction(([x]) => document.querySelector('[aria-label="Pixel readout"]')?.dataset.x === String(x), [x]);
      await page.mouse.move(2, 2);
      await page.waitForFunction(() => document.querySelector('[aria-label="Pixel readout"]')?.dataset.x === undefined);
    },
  },
  {
    name: 'viewer: overlay opacity and outline change the composite; the overlaid layout shows one view',
    fn: async (env) => {
      const page = env.shared.viewerPage;
      const files = env.shared.viewerPair;
      assert.ok(page && files, 'needs the viewer run and its pair');
      await redrawn(page);
      const before = await paneImage(page, 'overlay');
      const { width } = files.image.png;
      const lesion = files.mask.png.gray.findIndex((v) => v === 255);
      await page.getByLabel('Overlay opacity', { exact: true }).fill('1');
      await redrawn(page);
      if (lesion >= 0) {
        assert.notEqual(await paneImage(page, 'overlay'), before, 'opacity 1 did not change the overlay');
        const [x, y] = [lesion % width, Math.floor(lesion / width)];
        assert.deepEqual(await panePixel(page, 'overlay', x, y), [255, 140, 60, 255], 'a lesion pixel at opacity 1 is the overlay colour');
        await page.getByLabel('Overlay opacity', { exact: true }).fill('0');
        await redrawn(page);
        const [g] = await panePixel(page, 'image', x, y);
        assert.deepEqual(await panePixel(page, 'overlay', x, y), [g, g, g, 255], 'opacity 0 shows the image');
        const withOutline = await paneImage(page, 'overlay');
        await page.getByLabel('Outline', { exact: true }).uncheck();
        await redrawn(page);
        assert.notEqual(await paneImage(page, 'overlay'), withOutline, 'the outline toggle changed nothing');
        assert.equal(await paneImage(page, 'overlay'), await paneImage(page, 'image'), 'opacity 0, no outline: the overlay is the image');
        await page.getByLabel('Outline', { exact: true }).check();
      } else {
        note('the mask is empty: opacity cannot change the composite');
      }
      await page.getByLabel('Overlay opacity', { exact: true }).fill('0.25');
      await page.getByLabel('Layout', { exact: true }).selectOption('overlaid');
      await redrawn(page);
      assert.equal(await page.locator('canvas[data-view]').count(), 1);
      assert.equal(await page.locator('canvas[data-view="overlay"]').count(), 1);
      await page.getByLabel('Layout', { exact: true }).selectOption('side-by-side');
      await redrawn(page);
      assert.equal(await page.locator('canvas[data-view]').count(), 3);
    },
  },
  {
    name: 'timeline export: animation (APNG, one frame per step) and contact sheet (PNG grid)',
    fn: async (env) => {
      const page = env.shared.viewerPage;
      assert.ok(page, 'needs the viewer run');
      const m = await manifest(env);
      const [height, width] = m.resolution;
      const base = `${m.name}_seed${SEED}_steps${STEPS}`;
      const anim = await downloadOne(page, 'Export animation');
      assert.equal(anim.name, `${base}_animation.png`);
      const chunks = pngChunks(anim.bytes);
      const types = chunks.map((c) => c.type);
      const actl = chunks.find((c) => c.type === 'acTL');
      assert.ok(actl, `no acTL chunk: ${types.join(' ')}`);
      assert.equal(actl.data.readUInt32BE(0), STEPS, 'acTL frame count');
      assert.equal(types.filter((t) => t === 'fcTL').length, STEPS);
      assert.equal(types.filter((t) => t === 'fdAT').length, STEPS - 1);
      assert.ok(types.indexOf('acTL') < types.indexOf('IDAT'), 'acTL must come before IDAT');
      // mask | 4 px | image, each upscaled by floor(256 / width)
      const k = Math.max(1, Math.floor(256 / width));
      const ihdr = chunks[0].data;
      assert.deepEqual([ihdr.readUInt32BE(0), ihdr.readUInt32BE(4)], [2 * width * k + 4, height * k]);
      // The first frame is a plain PNG too (what PNG-only readers show): step 1, checked by pngjs.
      const first = decodePng(anim.bytes);
      assert.equal(first.width, 2 * width * k + 4);
      note(`${anim.name}: ${anim.bytes.length} bytes, ${STEPS} frames of ${first.width}×${first.height}`);
      // With the viewer's layout Overlaid, the animation is the overlay: RGB, one tile wide.
      await page.getByLabel('Layout', { exact: true }).selectOption('overlaid');
      const overlaid = pngChunks((await downloadOne(page, 'Export animation')).bytes);
      const oh = overlaid[0].data;
      assert.deepEqual([oh.readUInt32BE(0), oh.readUInt32BE(4), oh[9]], [width * k, height * k, 2], 'overlaid animation: size and colour type RGB');
      assert.equal(overlaid.find((c) => c.type === 'acTL').data.readUInt32BE(0), STEPS);
      await page.getByLabel('Layout', { exact: true }).selectOption('side-by-side');

      // Contact sheet: by default ~8 evenly spaced steps, here all 4; tiles floor(128 / width)×.
      const s = Math.max(1, Math.floor(128 / width));
      const sheetSize = (columns) => [16 + columns * width * s + (columns - 1) * 8, 16 + 22 + 2 * height * s + 8];
      const sheet = await downloadOne(page, 'Export contact sheet');
      assert.equal(sheet.name, `${base}_contact-sheet.png`);
      const png = decodePng(sheet.bytes);
      assert.deepEqual([png.width, png.height], sheetSize(Math.min(8, STEPS)));
      assert.equal(png.colorType, 'gray');
      note(`${sheet.name}: ${png.width}×${png.height}`);
      // A chosen list of steps.
      await page.getByLabel('Contact sheet steps', { exact: true }).selectOption('list');
      await page.getByLabel('Step list', { exact: true }).fill('1, 4');
      const two = decodePng((await downloadOne(page, 'Export contact sheet')).bytes);
      assert.deepEqual([two.width, two.height], sheetSize(2));
      // A bad list is named in an alert, and the page keeps working.
      await page.getByLabel('Step list', { exact: true }).fill('9');
      await page.getByRole('button', { name: 'Export contact sheet', exact: true }).click();
      const alert = page.getByRole('alert');
      await alert.waitFor({ timeout: 10_000 });
      assert.match(await alert.innerText(), /Step 9 is outside 1 … 4/);
      note(`alert: ${(await alert.innerText()).replace(/\s+/g, ' ')}`);
      assert.deepEqual(env.shared.viewerErrors, []);
      await page.close();
    },
  },
  {
    name: 'Cancel stops the run within a step and the app stays usable',
    fn: async (env) => {
      const { page, errors } = await openStudio(env, `?model=${MODEL}&backend=wasm&seed=${SEED}&steps=${LONG_STEPS}`);
      await page.getByRole('button', { name: 'Generate', exact: true }).click();
      await page.waitForFunction(
        () => /Generating: step [1-9]\d* of/.test(document.querySelector('[role="status"]')?.textContent ?? ''),
        undefined,
        { timeout: RUN_TIMEOUT, polling: 20 },
      );
      const cancel = page.getByRole('button', { name: 'Cancel', exact: true });
      const t0 = Date.now();
      await cancel.click();
      await page.waitForFunction(
        () => /Cancelled after \d+ of \d+ steps/.test(document.querySelector('[role="status"]')?.textContent ?? ''),
        undefined,
        { timeout: 30_000, polling: 20 },
      );
      const ms = Date.now() - t0;
      const text = await statusText(page);
      const done = Number(/Cancelled after (\d+)/.exec(text)?.[1]);
      assert.ok(done < LONG_STEPS, `the run was not cancelled: ${text}`);
      note(`${text} (${ms} ms after the click)`);
      assert.equal(await page.locator('[role="alert"]').count(), 0, 'cancel raised an error alert');
      assert.ok(await cancel.isDisabled());
      // What arrived stays scrubbable, and Generate works again.
      assert.equal(await page.getByRole('slider', { name: 'Step', exact: true }).isDisabled(), false);
      await page.getByLabel('Steps', { exact: true }).fill('2');
      const again = await generate(page);
      assert.match(again.text, /Done: 2 of 2 steps/);
      assert.deepEqual(errors, []);
      await page.close();
    },
  },
  {
    name: 'a model that cannot be opened shows an alert, and the page stays responsive',
    fn: async (env) => {
      const page = await env.context.newPage();
      await page.goto(`${env.baseUrl}/?model=no-such-model`);
      const alert = page.getByRole('alert');
      await alert.waitFor({ timeout: 60_000 });
      const text = await alert.innerText();
      assert.match(text, /no-such-model/);
      note(`alert: ${text.replace(/\s+/g, ' ').slice(0, 160)}`);
      assert.ok(await page.getByRole('button', { name: 'Generate', exact: true }).isDisabled());
      await page.getByLabel('Seed', { exact: true }).fill('123');
      assert.equal(await page.getByLabel('Seed', { exact: true }).inputValue(), '123');
      await page.close();
    },
  },
  {
    name: 'modes: Pair is the default and generates as before',
    fn: async (env) => {
      const m = await manifest(env);
      const [height, width] = m.resolution;
      const { page, errors } = await openStudio(env, `?model=${MODEL}&backend=wasm&seed=${SEED}&steps=2`);
      assert.ok(await page.getByRole('radio', { name: 'Pair', exact: true }).isChecked());
      assert.equal(await page.getByRole('radiogroup', { name: 'Mode' }).count(), 1);
      assert.equal(await page.locator('canvas[data-editor]').count(), 0, 'Pair shows no condition panel');
      await generate(page);
      const files = await downloadPair(page);
      checkPair(files, { width, height, name: m.name, seed: SEED, steps: 2 });
      assert.deepEqual(errors, []);
      await page.close();
    },
  },
  {
    name: 'modes: mask editor (draw, brush size, touch, eraser, undo, clear), then Mask → image from the drawn mask',
    fn: async (env) => {
      const m = await manifest(env);
      const [height, width] = m.resolution;
      const { page, errors } = await openLoaded(env, `?model=${MODEL}&backend=wasm&mode=mask2image&seed=3&steps=2`);
      assert.ok(await page.getByRole('radio', { name: 'Mask → image', exact: true }).isChecked());
      assert.ok(await generateButton(page).isDisabled(), 'Generate must wait for a mask');
      const reason = await page.locator('#generate-blocker').innerText();
      assert.match(reason, /needs a mask/);
      assert.equal(await generateButton(page).getAttribute('aria-describedby'), 'generate-blocker');
      const blank = await editorPixels(page);
      assert.deepEqual([blank.width, blank.height], [width, height], 'the editor works at the model resolution');
      assert.equal(lesionPixels(blank.gray), 0);

      // brush size 1: a horizontal stroke one pixel wide
      const size = page.getByLabel('Brush size', { exact: true });
      await size.fill('1');
      const row = Math.floor(height / 4);
      await mouseStroke(page, [[3.5, row + 0.5], [width - 3.5, row + 0.5]]);
      const thin = await editorPixels(page);
      const column = (p, x) => Array.from({ length: height }, (_, y) => p.gray[y * width + x]).filter((v) => v === 255).length;
      assert.equal(column(thin, Math.floor(width / 2)), 1, 'a size-1 stroke is 1 pixel wide');
      // brush size 5: 5 pixels wide
      await size.fill('5');
      const row2 = Math.floor((height * 3) / 4);
      await mouseStroke(page, [[3.5, row2 + 0.5], [width - 3.5, row2 + 0.5]]);
      const thick = await editorPixels(page);
      assert.equal(column(thick, Math.floor(width / 2)), 1 + 5, 'a size-5 stroke is 5 pixels wide');
      assert.ok(await generateButton(page).isEnabled(), 'a drawn lesion enables Generate');
      assert.equal(await page.locator('#generate-blocker').count(), 0);

      // touch draws too (pointer events of type touch)
      await size.fill('3');
      await touchStroke(page, [[width / 2, 2.5], [width / 2, height / 2], [width / 2 + 2, height / 2 + 2]]);
      const touched = await editorPixels(page);
      assert.ok(lesionPixels(touched.gray) > lesionPixels(thick.gray), 'the touch stroke drew nothing');

      // undo takes exactly the last stroke back
      await page.getByRole('button', { name: 'Undo', exact: true }).click();
      assert.deepEqual((await editorPixels(page)).gray, thick.gray, 'Undo did not restore the canvas');
      // the eraser clears; undo brings it back
      await page.getByRole('button', { name: 'Eraser', exact: true }).click();
      assert.equal(await page.getByRole('button', { name: 'Eraser', exact: true }).getAttribute('aria-pressed'), 'true');
      await mouseStroke(page, [[width / 2, row2 - 4], [width / 2, row2 + 4]]);
      assert.ok(lesionPixels((await editorPixels(page)).gray) < lesionPixels(thick.gray), 'the eraser erased nothing');
      await page.getByRole('button', { name: 'Undo', exact: true }).click();
      assert.deepEqual((await editorPixels(page)).gray, thick.gray);
      // clear empties it (and blocks Generate); undo restores
      await page.getByRole('button', { name: 'Clear', exact: true }).click();
      assert.equal(lesionPixels((await editorPixels(page)).gray), 0, 'Clear left lesion pixels');
      assert.ok(await generateButton(page).isDisabled());
      await page.getByRole('button', { name: 'Undo', exact: true }).click();
      const drawn = await editorPixels(page);
      assert.deepEqual(drawn.gray, thick.gray);
      assert.match(await page.getByTestId('mask-note').innerText(), new RegExp(`Drawn at ${width}×${height}; [\\d.]+% lesion`));

      // generate from it: the saved mask is the drawn mask, pixel for pixel
      await page.getByRole('button', { name: 'Brush', exact: true }).click();
      const { text } = await generate(page);
      note(text);
      const files = await downloadPair(page);
      checkPair(files, { width, height, name: `${m.name}_mask2image`, seed: 3, steps: 2 });
      assert.deepEqual(Array.from(files.mask.png.gray), drawn.gray, 'the downloaded mask differs from the drawn mask');
      assert.ok(distinctValues(files.image.png.gray).length > 8, 'the generated image is flat');
      // every step showed the user's mask as x̂₀ while the image settled
      const first = await viewsAtFirstStep(page);
      const last = await canvases(page);
      assert.equal(first.mask, last.mask, 'the mask view changed between steps');
      assert.notEqual(first.image, last.image, 'the image view did not change between steps');
      assert.deepEqual(errors, []);
      await page.close();
    },
  },
  {
    name: 'modes: Mask → image from an uploaded PNG mask of another size (as the kit loads it)',
    fn: async (env) => {
      const m = await manifest(env);
      const [height, width] = m.resolution;
      const dir = tmpFolder();
      const path = join(dir, 'lesion-90x70.png');
      await writeLesionMask(path, 90, 70);
      const expected = kitLoad('mask', path, width).map((v) => (v > 0 ? 255 : 0));
      const { page, errors } = await openLoaded(env, `?model=${MODEL}&backend=wasm&mode=mask2image&seed=4&steps=2`);
      await page.getByLabel('Upload mask', { exact: true }).setInputFiles(path);
      const noteText = page.getByTestId('mask-note');
      await page.waitForFunction(() => /lesion-90x70\.png/.test(document.querySelector('[data-testid="mask-note"]')?.textContent ?? ''));
      const text = await noteText.innerText();
      note(`note: ${text}`);
      assert.match(text, new RegExp(`resized 90×70 → ${width}×${height} \\(stretched`));
      assert.match(text, /[\d.]+% lesion/);
      const shown = await editorPixels(page);
      assert.equal(countDiffering(shown.gray, expected), 0, 'the editor shows another mask than the kit loads');
      await generate(page);
      const files = await downloadPair(page);
      assert.deepEqual(Array.from(files.mask.png.gray), expected, 'the generation used another mask than the kit loads');
      assert.deepEqual(errors, []);
      await page.close();
    },
  },
  {
    name: 'modes: Image → mask from an uploaded image (as the kit loads it); the mask settles step by step',
    fn: async (env) => {
      const m = await manifest(env);
      const [height, width] = m.resolution;
      const dir = tmpFolder();
      const path = join(dir, 'scan-120x100.png');
      await writeScan(path, 120, 100);
      const expected = kitLoad('image', path, width).map((v) => Math.floor((v + 1) * 127.5 + 0.5));
      const { page, errors } = await openLoaded(env, `?model=${MODEL}&backend=wasm&mode=image2mask&seed=6&steps=3`);
      assert.ok(await generateButton(page).isDisabled());
      assert.match(await page.locator('#generate-blocker').innerText(), /needs an image/);
      await page.getByLabel('Upload image', { exact: true }).setInputFiles(path);
      await page.waitForFunction(() => /scan-120x100\.png/.test(document.querySelector('[data-testid="image-note"]')?.textContent ?? ''));
      const text = await page.getByTestId('image-note').innerText();
      note(`note: ${text}`);
      assert.match(text, new RegExp(`resized 120×100 → ${width}×${height}`));
      assert.deepEqual((await editorPixels(page, 'image')).gray, expected, 'the shown image differs from what the kit loads');
      await recordStatus(page);
      const { text: done } = await generate(page);
      note(done);
      const log = await statusLog(page);
      assert.ok(log.some((e) => /Generating: step [12] of 3/.test(e.text)), `no progress seen mid-run: ${log.map((e) => e.text).join(' | ')}`);
      const files = await downloadPair(page);
      checkPair(files, { width, height, name: `${m.name}_image2mask`, seed: 6, steps: 3 });
      assert.deepEqual(Array.from(files.image.png.gray), expected, 'the image the mask model saw differs from what the kit loads');
      const first = await viewsAtFirstStep(page);
      const last = await canvases(page);
      assert.equal(first.image, last.image, 'the image view changed between steps (it is the user image)');
      assert.notEqual(first.mask, last.mask, 'the mask estimate did not change between steps');
      note(`segmented lesion: ${lesionPixels(Array.from(files.mask.png.gray))} of ${width * height} px`);
      assert.deepEqual(errors, []);
      await page.close();
    },
  },
  {
    name: 'modes: a non-image upload gives an alert naming the file, and the app still generates',
    fn: async (env) => {
      const dir = tmpFolder();
      const text = join(dir, 'notes.txt');
      await writeFile(text, 'not an image\n');
      const broken = join(dir, 'broken.png');
      await writeFile(broken, Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), Buffer.from('garbage, not chunks')]));
      const good = join(dir, 'ok.png');
      await writeRgbPng(good, 40, 40, (x, y) => (Math.hypot(x - 20, y - 20) < 10 ? [255, 255, 255] : [0, 0, 0]));
      const { page } = await openLoaded(env, `?model=${MODEL}&backend=wasm&mode=mask2image&seed=8&steps=2`);
      for (const [path, name] of [[text, 'notes.txt'], [broken, 'broken.png']]) {
        await page.getByLabel('Upload mask', { exact: true }).setInputFiles(path);
        const alert = page.getByRole('alert');
        await alert.waitFor({ timeout: 10_000 });
        const said = await alert.innerText();
        note(`alert: ${said}`);
        assert.ok(said.includes(name), `the alert does not name ${name}: ${said}`);
        assert.match(said, /not an image/);
        assert.ok(await generateButton(page).isDisabled(), 'no mask yet, so Generate stays disabled');
        await page.getByRole('button', { name: 'Dismiss error' }).click();
      }
      await page.getByLabel('Upload mask', { exact: true }).setInputFiles(good);
      await page.waitForFunction(() => /ok\.png/.test(document.querySelector('[data-testid="mask-note"]')?.textContent ?? ''));
      const { text: done } = await generate(page);
      assert.match(done, /Done: 2 of 2 steps/);
      await page.close();
    },
  },
  {
    name: 'modes: WebGPU (step graphs) and WASM agree in Mask → image and Image → mask',
    fn: async (env) => {
      const dir = tmpFolder();
      const maskPath = join(dir, 'lesion.png');
      const scanPath = join(dir, 'scan.png');
      await writeLesionMask(maskPath, 48, 48);
      await writeScan(scanPath, 64, 40);
      const got = {};
      // 2 steps each: SwiftShader runs about one step graph per 10 s here
      for (const backend of ['wasm', 'webgpu']) {
        const { page, errors } = await openLoaded(env, `?model=${MODEL}&backend=${backend}&mode=mask2image&seed=9&steps=2`);
        if (backend === 'webgpu') assert.match(await statusText(page), /Backend: WebGPU \(GPU-resident steps\)/);
        await page.getByLabel('Upload mask', { exact: true }).setInputFiles(maskPath);
        await page.waitForFunction(() => /lesion\.png/.test(document.querySelector('[data-testid="mask-note"]')?.textContent ?? ''));
        await generate(page);
        const m2i = await downloadPair(page);
        await page.getByRole('radio', { name: 'Image → mask', exact: true }).check();
        await page.getByLabel('Upload image', { exact: true }).setInputFiles(scanPath);
        await page.waitForFunction(() => /scan\.png/.test(document.querySelector('[data-testid="image-note"]')?.textContent ?? ''));
        await generate(page);
        const i2m = await downloadPair(page);
        got[backend] = { m2i, i2m };
        assert.deepEqual(errors, []);
        await page.close();
      }
      const { wasm, webgpu } = got;
      // the conditions pass through unchanged; what the models make of them agrees within the
      // tolerance the pair comparison above explains
      assert.ok(webgpu.m2i.mask.bytes.equals(wasm.m2i.mask.bytes), 'mask → image: the saved masks (the user mask) differ');
      assert.ok(webgpu.i2m.image.bytes.equals(wasm.i2m.image.bytes), 'image → mask: the saved images (the user image) differ');
      const mad = meanAbsDiff(webgpu.m2i.image.png.gray, wasm.m2i.image.png.gray);
      const d = dice(webgpu.i2m.mask.png.gray, wasm.i2m.mask.png.gray);
      note(`mask → image: image mean |Δ| ${mad.toFixed(3)} / 255; image → mask: mask Dice ${d.toFixed(4)}`);
      assert.ok(mad <= 2, `mask → image: image mean abs difference ${mad} > 2 levels`);
      assert.ok(d >= 0.95, `image → mask: mask Dice ${d} < 0.95`);
    },
  },
  {
    name: 'modes: URL round trip (mode, seed, steps preset from the URL; edits update it)',
    fn: async (env) => {
      const { page } = await openLoaded(env, `?model=${MODEL}&backend=wasm&mode=image2mask&seed=5&steps=3`);
      assert.ok(await page.getByRole('radio', { name: 'Image → mask', exact: true }).isChecked());
      assert.equal(await page.getByLabel('Seed', { exact: true }).inputValue(), '5');
      assert.equal(await page.getByLabel('Steps', { exact: true }).inputValue(), '3');
      const params = () => new URL(page.url()).searchParams;
      assert.equal(params().get('mode'), 'image2mask');
      await page.getByLabel('Seed', { exact: true }).fill('12');
      await page.waitForFunction(() => new URL(location.href).searchParams.get('seed') === '12');
      await page.getByRole('radio', { name: 'Mask → image', exact: true }).check();
      await page.waitForFunction(() => new URL(location.href).searchParams.get('mode') === 'mask2image');
      await page.getByLabel('Steps', { exact: true }).fill('4');
      await page.waitForFunction(() => new URL(location.href).searchParams.get('steps') === '4');
      assert.equal(params().get('model'), MODEL);
      assert.equal(params().get('backend'), 'wasm', 'other parameters are kept');
      note(`URL now ${new URL(page.url()).search}`);
      await page.reload();
      await page.waitForFunction(() => /Ready/.test(document.querySelector('[role="status"]')?.textContent ?? ''), undefined, { timeout: RUN_TIMEOUT });
      assert.ok(await page.getByRole('radio', { name: 'Mask → image', exact: true }).isChecked());
      assert.equal(await page.getByLabel('Seed', { exact: true }).inputValue(), '12');
      assert.equal(await page.getByLabel('Steps', { exact: true }).inputValue(), '4');
      await page.close();
    },
  },
  {
    name: 'modes: URL round trip of clip (preset, edited, reloaded); a run with clip=both finishes on WASM and differs from clip=none',
    fn: async (env) => {
      const { page, errors } = await openLoaded(env, `?model=${MODEL}&backend=wasm&mode=pair&seed=${SEED}&steps=${STEPS}&clip=both`);
      const clip = page.getByLabel('Clip estimates', { exact: true });
      assert.equal(await clip.inputValue(), 'both', 'clip preset from the URL');
      await generate(page);
      const both = await downloadPair(page);
      checkPair(both, { width: 32, height: 32, name: MODEL, seed: SEED, steps: STEPS });
      await clip.selectOption('none');
      await page.waitForFunction(() => new URL(location.href).searchParams.get('clip') === 'none');
      await generate(page);
      const none = await downloadPair(page);
      assert.ok(!both.image.bytes.equals(none.image.bytes) || !both.mask.bytes.equals(none.mask.bytes), 'clip both gave the pair of clip none');
      await clip.selectOption('image');
      await page.waitForFunction(() => new URL(location.href).searchParams.get('clip') === 'image');
      await page.reload();
      await page.waitForFunction(() => /Ready/.test(document.querySelector('[role="status"]')?.textContent ?? ''), undefined, { timeout: RUN_TIMEOUT });
      assert.equal(await clip.inputValue(), 'image', 'clip after the reload');
      assert.deepEqual(errors, []);
      await page.close();
    },
  },
  {
    name: 'models: first visit downloads with a progress bar and caches; a reload reads the .onnx from the cache; Clear cache empties it',
    fn: async (env) => {
      const { page, errors } = await openStudio(env, `?model=${MODEL}&backend=wasm`);
      await openModelPanel(page);
      // Start from an empty cache (earlier specs filled it).
      await page.getByRole('button', { name: 'Clear cache', exact: true }).click();
      await page.getByLabel('Cache usage').filter({ hasText: /in 0 models/ }).waitFor();
      // Record the model progress bar's texts across the reload.
      await page.addInitScript(() => {
        window.__modelProgress = [];
        new MutationObserver(() => {
          const bar = document.querySelector('progress[aria-label="Model download"]');
          if (bar) window.__modelProgress.push(`${bar.getAttribute('value')}|${bar.nextElementSibling?.textContent ?? ''}`);
        }).observe(document, { subtree: true, childList: true, characterData: true, attributes: true });
      });
      const first = env.seen.length;
      await page.reload();
      await ready(page);
      const downloaded = onnxRequestsSince(env, first);
      assert.deepEqual(downloaded.map((u) => new URL(u).pathname).sort(), [`/models/${MODEL}/image.onnx`, `/models/${MODEL}/mask.onnx`]);
      const progress = await page.evaluate(() => window.__modelProgress);
      const total = 2 * 777721;
      assert.ok(progress.some((p) => /Downloading [\d.]+ (KiB|MiB) of 1\.48 MiB \(\d+%\)/.test(p)), `no download progress shown: ${progress.slice(0, 5)}`);
      note(`first visit: ${downloaded.length} ONNX requests; progress texts ${progress.length}, last "${progress.at(-1)}" (total ${total} B)`);
      await page.locator('.model-panel > details > summary', { hasText: '· cached' }).waitFor();

      const second = env.seen.length;
      await page.reload();
      await ready(page);
      assert.deepEqual(onnxRequestsSince(env, second), [], 'the reload fetched ONNX files instead of reading the cache');
      assert.match(await modelSummary(page), /Model tiny · 32×32 · bundled · loaded from cache/);
      await openModelPanel(page);
      await page.getByRole('listitem').filter({ hasText: `${MODEL}` }).filter({ hasText: 'cached' }).first().waitFor();
      const usage = await page.getByLabel('Cache usage').innerText();
      assert.match(usage, /Model cache: 1\.48 MiB in 1 model/);
      note(`reload: no ONNX request; ${usage}`);
      const { text } = await generate(page);
      assert.match(text, /Done:/);

      await page.getByRole('button', { name: 'Clear cache', exact: true }).click();
      await page.getByLabel('Cache usage').filter({ hasText: /Model cache: 0 B in 0 models/ }).waitFor();
      assert.equal(await page.evaluate(async () => (await caches.keys()).filter((k) => k.startsWith('pig-model:')).length), 0);
      const third = env.seen.length;
      await page.reload();
      await ready(page);
      assert.equal(onnxRequestsSince(env, third).length, 2, 'after Clear cache the model is downloaded again');
      assert.deepEqual(errors, []);
      await page.close();
    },
  },
  {
    name: 'models: Cancel download stops a download that hangs; nothing is cached; the panel opens the model afterwards and shows its card',
    fn: async (env) => {
      // the mask model's request hangs (a stalled network) until the spec lets it go
      const held = [];
      const hold = (route) => void held.push(route);
      const stalled = `**/models/${MODEL}/mask.onnx`;
      await env.context.route(stalled, hold);
      try {
        const { page, errors } = await visit(env, `?model=${MODEL}&backend=wasm`);
        await page.evaluate(async () => Promise.all((await caches.keys()).filter((k) => k.startsWith('pig-model:')).map((k) => caches.delete(k))));
        await page.reload();
        await page.locator('progress[aria-label="Model download"]').waitFor();
        await page.getByRole('button', { name: 'Cancel download', exact: true }).click();
        const alert = page.getByRole('alert');
        await alert.filter({ hasText: 'Stopped opening' }).waitFor();
        assert.match(await alert.innerText(), /Stopped opening model "tiny"\. Open a model from the model panel, or reload the page to download it again\./);
        assert.ok(held.length >= 1, 'the mask model was never requested');
        assert.equal(await page.locator('progress[aria-label="Model download"]').count(), 0, 'the progress bar stays after the cancel');
        assert.deepEqual(await page.evaluate(async () => (await caches.keys()).filter((k) => k.startsWith('pig-model:'))), [], 'a cancelled download was cached');
        await env.context.unroute(stalled, hold);
        await openModelPanel(page);
        await page.getByRole('button', { name: `Open bundled model ${MODEL}`, exact: true }).click();
        await ready(page);
        assert.match(await modelSummary(page), /Model tiny · 32×32 · bundled/);
        // the model card, read with the model (no second request), shown in the panel
        await page.locator('.model-card-text summary').click();
        assert.match(await page.getByLabel('Model card text').innerText(), /\*\*Not for clinical use\.\*\*/);
        note(`cancelled ${held.length} held request(s); then opened from the panel, its card shown`);
        assert.deepEqual(errors, []);
        await page.close();
      } finally {
        await env.context.unroute(stalled, hold).catch(() => undefined);
        for (const route of held) await route.abort().catch(() => undefined);
      }
    },
  },
  {
    name: 'models: a custom model from files (Open model…) loads, generates, and reopens from the cache after a reload',
    fn: async (env) => {
      const { page, errors } = await openStudio(env, `?model=${MODEL}&backend=wasm&seed=${SEED}`);
      const files = await tinyModelFiles((m) => {
        m.name = 'tiny-custom';
      });
      await chooseModelFiles(page, files);
      assert.equal(await page.locator('[role="alert"]').count(), 0, 'the custom model was refused');
      assert.match(await modelSummary(page), /Model tiny-custom · 32×32 · custom · cached/);
      await page.getByLabel('Steps', { exact: true }).fill(String(STEPS));
      await generate(page);
      const pair = await downloadPair(page);
      checkPair(pair, { width: 32, height: 32, name: 'tiny-custom', seed: SEED, steps: STEPS });
      note(`generated with the custom model: ${pair.image.name}`);
      // the same seed and steps give the bundled pair's bytes (the custom files are the tiny pair)
      if (env.shared.wasmPair) assert.ok(pair.image.bytes.equals(env.shared.wasmPair.image.bytes), 'custom tiny differs from bundled tiny');

      await page.reload();
      await ready(page);
      await openModelPanel(page);
      const open = page.getByRole('button', { name: 'Open custom model tiny-custom', exact: true });
      await open.waitFor();
      const before = env.seen.length;
      await open.click();
      await page.locator('.model-panel > details > summary', { hasText: 'tiny-custom' }).waitFor({ timeout: RUN_TIMEOUT });
      await ready(page);
      assert.match(await modelSummary(page), /Model tiny-custom · 32×32 · custom · loaded from cache/);
      assert.deepEqual(onnxRequestsSince(env, before), []);
      await page.getByLabel('Steps', { exact: true }).fill(String(STEPS));
      await generate(page);
      const again = await downloadPair(page);
      assert.ok(again.image.bytes.equals(pair.image.bytes), 'the cached custom model gives another pair');

      // "Open folder…": the whole folder (its license text is skipped)
      await page.getByLabel('Model folder', { exact: true }).setInputFiles(new URL('../public/models/tiny', import.meta.url).pathname);
      await page.locator('.model-panel > details > summary', { hasText: /Model tiny · 32×32 · custom/ }).waitFor({ timeout: RUN_TIMEOUT });
      await ready(page);
      assert.deepEqual(errors, []);
      await page.close();
    },
  },
  {
    name: 'models: a corrupt (truncated) ONNX file or a missing one is named in an alert; the studio keeps the previous model',
    fn: async (env) => {
      const { page } = await openStudio(env, `?model=${MODEL}&backend=wasm&seed=${SEED}`);
      // truncated with the manifest as exported: the size check names it
      await chooseModelFiles(page, await tinyModelFiles((m, files) => {
        files.set('mask.onnx', files.get('mask.onnx').subarray(0, 300_000));
      }));
      await expectRefusedAndStillWorking(page, /mask\.onnx \(mask model\) is 300000 bytes, the manifest says 777721: the file is truncated/, MODEL);
      // truncated, and a manifest written for the truncated bytes: the ONNX structure check names it
      await chooseModelFiles(page, await tinyModelFiles(async (m, files) => {
        const cut = files.get('image.onnx').subarray(0, 300_000);
        files.set('image.onnx', cut);
        m.models.image.sha256 = await sha256(cut);
        m.models.image.bytes = cut.length;
      }));
      await expectRefusedAndStillWorking(page, /image\.onnx \(image model\) is truncated: its graph needs \d+ bytes/, MODEL);
      // not an ONNX file at all
      await chooseModelFiles(page, await tinyModelFiles(async (m, files) => {
        const png = await readFile(new URL('../docs/screenshot.png', import.meta.url));
        files.set('mask_step.onnx', png);
        m.models.maskStep.sha256 = await sha256(png);
        m.models.maskStep.bytes = png.length;
      }));
      await expectRefusedAndStillWorking(page, /mask_step\.onnx \(maskStep model\) is not an ONNX model: it is a PNG image/, MODEL);
      // a file the manifest names is missing
      await chooseModelFiles(page, (await tinyModelFiles()).filter((f) => f.name !== 'image_step.onnx'));
      await expectRefusedAndStillWorking(page, /image_step\.onnx is missing: manifest\.json names it, but it is not among the files you chose/, MODEL);
      await page.close();
    },
  },
  {
    name: 'models: a manifest whose sha256 or shapes do not match its files, or that is invalid, is refused with a message (one dropped on the page)',
    fn: async (env) => {
      const { page } = await openStudio(env, `?model=${MODEL}&backend=wasm&seed=${SEED}`);
      const wrongSha = await tinyModelFiles((m) => {
        m.models.mask.sha256 = '0'.repeat(64);
      });
      // dropped on the page, as a user drags files from their file manager
      await page.evaluate(async (files) => {
        const dt = new DataTransfer();
        for (const f of files) dt.items.add(new File([Uint8Array.from(atob(f.base64), (c) => c.charCodeAt(0))], f.name, { type: f.mimeType }));
        document.body.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
        document.body.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
      }, wrongSha.filter((f) => f.name === 'manifest.json' || f.name.endsWith('.onnx')).map((f) => ({ name: f.name, mimeType: f.mimeType, base64: f.buffer.toString('base64') })));
      await expectRefusedAndStillWorking(page, /mask\.onnx \(mask model\) has SHA-256 [0-9a-f]{64}, the manifest says 0{64}: the file is corrupt or from another export/, MODEL);

      // a manifest for 64×64 over the 32×32 files: ORT's shapes are checked against it
      await chooseModelFiles(page, await tinyModelFiles((m) => {
        m.resolution = [64, 64];
        for (const spec of Object.values(m.models)) for (const t of [...spec.inputs, ...spec.outputs]) if (t.shape.length === 4) t.shape = [t.shape[0], t.shape[1], 64, 64];
      }));
      await expectRefusedAndStillWorking(page, /mask\.onnx \(mask model\) input "x" has shape \[1,2,32,32\], the manifest says \[1,2,64,64\]/, MODEL);

      // an invalid manifest: core's validation names the fields
      await chooseModelFiles(page, await tinyModelFiles((m) => {
        delete m.sampler;
        m.models.image.inputs[0].shape = [1, 2, 32];
      }));
      await expectRefusedAndStillWorking(page, /manifest\.json \(your file\): invalid manifest:.*manifest\.sampler is missing.*manifest\.models\.image\.inputs "x" must have shape \[1,2,32,32\], got \[1,2,32\]/, MODEL);
      await page.close();
    },
  },
  {
    name: 'models: Cache Storage full: a custom model still loads and generates, and the panel says it was not cached',
    fn: async (env) => {
      const { page, errors } = await openStudio(env, `?model=${MODEL}&backend=wasm&seed=${SEED}`);
      // Every put in the studio worker fails as a full disk does.
      const [worker] = page.workers();
      assert.ok(worker, 'no studio worker');
      await worker.evaluate(() => {
        Cache.prototype.put = () => Promise.reject(new DOMException('The quota has been exceeded.', 'QuotaExceededError'));
      });
      await chooseModelFiles(page, await tinyModelFiles((m) => {
        m.name = 'tiny-full';
      }));
      assert.equal(await page.locator('[role="alert"]').count(), 0, 'a full cache failed the load');
      assert.match(await modelSummary(page), /Model tiny-full · 32×32 · custom · not cached/);
      await openModelPanel(page);
      const noteText = await page.getByLabel('Cache note').innerText();
      assert.match(noteText, /^Cache Storage is full: this model was loaded without caching it/);
      note(`panel: ${noteText}`);
      assert.equal(await page.getByRole('button', { name: 'Open custom model tiny-full' }).count(), 0, 'a partial model was left in the cache');
      await page.getByLabel('Steps', { exact: true }).fill('2');
      assert.match((await generate(page)).text, /Done: 2 of 2 steps/);
      assert.deepEqual(errors, []);
      await page.close();
    },
  },
  {
    name: 'batch: a batch of 4 (WASM) fills the gallery; its ZIP is the CLI’s nnU-Net dataset for the same seeds; a gallery pair opens in the viewer as the same pair',
    fn: async (env) => {
      const m = await manifest(env);
      const [height, width] = m.resolution;
      const seeds = [0, 1, 2, 3].map((i) => BATCH_START + i);
      const { page, errors } = await openStudio(env, `?model=${MODEL}&backend=wasm&seed=${SEED}&steps=${BATCH_STEPS}`);
      await recordStatus(page);
      const done = await runBatch(page, BATCH_START, 4);
      assert.match(done, /^Done: 4 pairs in .+\/pair\)\.$/);
      const log = await statusLog(page);
      const progress = log.filter((e) => /Batch: pair [1-4] of 4 \(seed \d+\), step \d of 3/.test(e.text));
      assert.ok(progress.some((e) => /ETA/.test(e.text)), `no batch progress with an ETA in the status: ${log.map((e) => e.text).join(' | ')}`);
      note(`${done}; status seen: ${progress.length} progress texts, e.g. "${progress.at(-1)?.text.replace(/^.*?(Batch:)/, '$1')}"`);
      // the gallery: one thumbnail per seed with its seed and lesion area
      const thumbs = galleryThumbs(page);
      assert.equal(await thumbs.count(), 4);
      for (const [i, seed] of seeds.entries()) {
        assert.equal(await thumbs.nth(i).getAttribute('aria-label'), `Open pair seed ${seed}`);
        assert.match(await thumbs.nth(i).innerText(), new RegExp(`seed ${seed}\\s+\\d+\\.\\d%`));
      }
      const drawn = await page.evaluate(() => [...document.querySelectorAll('.thumb-canvas')].map((c) => c.toDataURL()));
      assert.equal(new Set(drawn).size, 4, 'the thumbnails are not four different drawings');

      // the dataset ZIP
      const zipFile = await downloadOne(page, 'Download dataset (ZIP)');
      assert.equal(zipFile.name, `${m.name}_seed${BATCH_START}_steps${BATCH_STEPS}_n4_dataset.zip`);
      // the default top folder: nnU-Net's Dataset501_<model>
      const { dir, top, names } = datasetUnzipped(zipFile.bytes, `Dataset501_${m.name}`);
      const cases = seeds.map(caseOf);
      const documents = datasetDocuments(MODEL);
      assert.deepEqual([...names].sort(), [...cases.flatMap((c) => [`imagesTr/${c}_0000.png`, `labelsTr/${c}.png`]), 'dataset.json', 'manifest.json', ...documents].sort());
      assert.ok(readFileSync(join(dir, 'DATA-LICENSE.txt')).equals(readFileSync(join(ROOT, 'public/models', MODEL, 'DATA-LICENSE.txt'))), 'DATA-LICENSE.txt is not the model folder’s');
      for (const c of cases) {
        const label = decodePng(readFileSync(join(dir, 'labelsTr', `${c}.png`)));
        const image = decodePng(readFileSync(join(dir, 'imagesTr', `${c}_0000.png`)));
        for (const png of [label, image]) assert.deepEqual([png.width, png.height, png.bitDepth, png.colorType], [width, height, 8, 'gray']);
        assert.ok(distinctValues(label.gray).every((v) => v === 0 || v === 1), `${c}: label values ${distinctValues(label.gray)}`);
      }
      const dataset = JSON.parse(readFileSync(join(dir, 'dataset.json'), 'utf8'));
      assert.deepEqual([dataset.channel_names, dataset.labels, dataset.numTraining, dataset.file_ending], [{ 0: 'ultrasound' }, { background: 0, lesion: 1 }, 4, '.png']);
      assert.deepEqual([dataset.licence, dataset.reference], [m.card.license, m.card.citation]);
      const zipManifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
      const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
      assert.equal(zipManifest.model.name, m.name);
      for (const role of ['mask', 'image']) assert.equal(zipManifest.model.files[role].sha256, m.models[role].sha256);
      assert.deepEqual(zipManifest.cases.map((c) => [c.seed, c.steps, c.eta, c.mode, c.appVersion]), seeds.map((s) => [s, BATCH_STEPS, m.sampler.eta, 'pair', pkg.version]));
      assert.deepEqual(zipManifest.cases[0].binarize, m.sampler.binarize);

      // the CLI's dataset for the same model, seeds and steps (ORT-node vs the browser's WASM; the
      // tolerance is e2e/cli.spec.mjs's: an image within one 8-bit level, no label pixel differs)
      const cli = runGenerateCli(BATCH_START, 4, BATCH_STEPS);
      try {
        let identicalImages = 0;
        let maxDiff = 0;
        for (const c of cases) {
          assert.ok(readFileSync(join(cli, 'labelsTr', `${c}.png`)).equals(readFileSync(join(dir, 'labelsTr', `${c}.png`))), `${c}: label differs from the CLI's`);
          const a = readFileSync(join(cli, 'imagesTr', `${c}_0000.png`));
          const b = readFileSync(join(dir, 'imagesTr', `${c}_0000.png`));
          const d = maxAbsDiff(decodePng(a).gray, decodePng(b).gray);
          // the dataset's encoding is platform-independent: the same pixels are the same bytes
          if (d === 0) assert.ok(a.equals(b), `${c}: the same pixels as the CLI's but other bytes`);
          if (a.equals(b)) identicalImages++;
          maxDiff = Math.max(maxDiff, d);
        }
        assert.ok(maxDiff <= 1, `an image differs from the CLI's by ${maxDiff} levels`);
        // with the same labels the index files are the same bytes too (areas, seeds, model, version), and the documents
        for (const f of ['dataset.json', 'manifest.json', ...documents]) assert.equal(readFileSync(join(dir, f), 'utf8'), readFileSync(join(cli, f), 'utf8'), `${f} differs from the CLI's`);
        note(`ZIP vs \`npm run generate\` (seeds ${seeds[0]}…${seeds.at(-1)}, ${BATCH_STEPS} steps): labels identical, images identical ${identicalImages}/4 (max |Δ| ${maxDiff}), ${['dataset.json', 'manifest.json', ...documents].join(', ')} identical`);
      } finally {
        rmSync(cli, { recursive: true, force: true });
      }

      // a gallery pair opens in the viewer: its seed runs again, the same pair as the batch's
      const seed = seeds[1];
      await galleryThumbs(page).nth(1).click();
      assert.match(await waitDone(page), new RegExp(`Done: ${BATCH_STEPS} of ${BATCH_STEPS} steps`));
      const opened = (await page.getByTestId('batch-opened').innerText()).trim();
      assert.equal(opened, `Seed ${seed}: the re-run is identical to the batch's pair.`);
      assert.equal(await galleryThumbs(page).nth(1).getAttribute('aria-current'), 'true');
      assert.equal(await page.getByLabel('Seed', { exact: true }).inputValue(), String(seed));
      assert.equal(await page.getByRole('slider', { name: 'Step', exact: true }).getAttribute('max'), String(BATCH_STEPS - 1));
      const pair = await downloadPair(page);
      assert.deepEqual(Array.from(pair.image.png.gray), Array.from(decodePng(readFileSync(join(dir, 'imagesTr', `${caseOf(seed)}_0000.png`))).gray), 'the opened pair’s image is not the ZIP’s');
      const label = decodePng(readFileSync(join(dir, 'labelsTr', `${caseOf(seed)}.png`)));
      assert.deepEqual(Array.from(pair.mask.png.gray, (v) => (v ? 1 : 0)), Array.from(label.gray));
      note(`${opened}; its downloaded pair has the ZIP's pixels`);
      rmSync(dirname(top), { recursive: true, force: true });
      assert.deepEqual(errors, []);
      await page.close();
    },
  },
  {
    name: 'batch: size 0 or over the limit and a batch during a run give clear messages; Cancel mid-batch keeps the finished pairs',
    fn: async (env) => {
      const { page, errors } = await openStudio(env, `?model=${MODEL}&backend=wasm&seed=${SEED}&steps=8`);
      const region = batchRegion(page);
      const generateBatch = region.getByRole('button', { name: 'Generate batch', exact: true });
      for (const size of ['0', '5000']) {
        await region.getByLabel('Batch size', { exact: true }).fill(size);
        await generateBatch.click();
        const alert = page.getByRole('alert');
        await alert.waitFor({ timeout: 10_000 });
        assert.match(await alert.innerText(), /Batch size must be a whole number from 1 to 1000/);
        await dismissAlert(page);
      }
      note(`size 0 / 5000: "Batch size must be a whole number from 1 to 1000 …"`);
      // a single run going: the batch waits, and says why
      await page.getByLabel('Steps', { exact: true }).fill(String(LONG_STEPS));
      await generateButton(page).click();
      await page.waitForFunction(() => /Generating: step [1-9]\d* of/.test(document.querySelector('[role="status"]')?.textContent ?? ''), undefined, { timeout: RUN_TIMEOUT, polling: 20 });
      assert.ok(await generateBatch.isDisabled());
      assert.equal((await region.locator('#batch-blocker').innerText()).trim(), 'A generation is running: wait for it or cancel it.');
      await page.getByRole('button', { name: 'Cancel', exact: true }).click();
      await page.waitForFunction(() => /Cancelled after/.test(document.querySelector('[role="status"]')?.textContent ?? ''), undefined, { timeout: 30_000 });
      // Cancel mid-batch
      await page.getByLabel('Steps', { exact: true }).fill('8');
      await region.getByLabel('Batch start seed', { exact: true }).fill('100');
      await region.getByLabel('Batch size', { exact: true }).fill('200');
      await generateBatch.click();
      await page.waitForFunction(() => document.querySelectorAll('.batch-gallery .thumb').length >= 2, undefined, { timeout: RUN_TIMEOUT, polling: 20 });
      assert.ok(await generateButton(page).isDisabled(), 'Generate is enabled during a batch');
      const t0 = Date.now();
      await region.getByRole('button', { name: 'Cancel batch', exact: true }).click();
      await page.waitForFunction(() => /^Cancelled/.test(document.querySelector('[data-testid="batch-status"]')?.textContent ?? ''), undefined, { timeout: 30_000, polling: 20 });
      const text = await batchStatus(page);
      const kept = Number(/^Cancelled after (\d+) of 200 pairs; the \1 finished pairs are kept\.$/.exec(text)?.[1]);
      assert.ok(kept >= 2 && kept < 200, `unexpected: ${text}`);
      assert.equal(await galleryThumbs(page).count(), kept);
      assert.equal(await page.locator('[role="alert"]').count(), 0, 'cancel raised an alert');
      assert.doesNotMatch(await statusText(page), /Batch:/);
      note(`${text} (${Date.now() - t0} ms after the click)`);
      // the top folder as set in the export's inputs
      await region.getByLabel('Dataset id', { exact: true }).fill('42');
      await region.getByLabel('Dataset name', { exact: true }).fill('cancelled batch');
      const zipFile = await downloadOne(page, 'Download dataset (ZIP)');
      const { dir, top } = datasetUnzipped(zipFile.bytes, 'Dataset042_cancelled-batch');
      const zipManifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
      assert.deepEqual(zipManifest.cases.map((c) => c.seed), Array.from({ length: kept }, (_, i) => 100 + i));
      rmSync(dirname(top), { recursive: true, force: true });
      // the studio generates again
      await page.getByLabel('Steps', { exact: true }).fill('2');
      assert.match((await generate(page)).text, /Done: 2 of 2 steps/);
      assert.deepEqual(errors, []);
      await page.close();
    },
  },
  {
    name: 'batch: empty masks are flagged; "Reject empty masks" leaves them out of the export; NIfTI on request',
    fn: async (env) => {
      // θ = 1·max + 0·min: no pooled value is above it, so B(·) gives every pair an empty mask
      const folder = `${MODEL}-empty`;
      const stopServing = await serveModelVariant(env, folder, (m) => (m.sampler.binarize.weights = [1, 0]));
      try {
        const { page, errors } = await openStudio(env, `?model=${folder}&backend=wasm&steps=2`);
        assert.match(await runBatch(page, 0, 2), /^Done: 2 pairs/);
        const region = batchRegion(page);
        assert.equal(await region.getByText('Empty mask', { exact: true }).count(), 2);
        assert.match(await galleryThumbs(page).first().innerText(), /0\.0%/);
        const exportNote = page.getByTestId('batch-export-note');
        assert.equal((await exportNote.innerText()).trim(), '2 of 2 pairs in the export · 2 empty masks');
        await region.getByLabel('Reject empty masks').check();
        assert.equal((await exportNote.innerText()).trim(), '0 of 2 pairs in the export · 2 empty masks, 2 excluded');
        assert.ok(await region.getByRole('button', { name: 'Download dataset (ZIP)' }).isDisabled());
        await region.getByLabel('Reject empty masks').uncheck();
        await region.getByLabel('Dataset format').selectOption('nifti');
        const zipFile = await downloadOne(page, 'Download dataset (ZIP)');
        const { dir, top, names } = datasetUnzipped(zipFile.bytes, `Dataset501_${MODEL}`);
        // the variant is served from the tiny folder, but the build lists no documents for it: only the license its card names
        assert.deepEqual([...names].sort(), ['DATA-LICENSE.txt', 'dataset.json', 'imagesTr/pig_0000000000_0000.nii.gz', 'imagesTr/pig_0000000001_0000.nii.gz', 'labelsTr/pig_0000000000.nii.gz', 'labelsTr/pig_0000000001.nii.gz', 'manifest.json']);
        assert.equal(JSON.parse(readFileSync(join(dir, 'dataset.json'), 'utf8')).file_ending, '.nii.gz');
        const nii = gunzipSync(readFileSync(join(dir, 'labelsTr', 'pig_0000000000.nii.gz')));
        assert.equal(nii.readInt32LE(0), 348);
        assert.ok(nii.subarray(352).every((v) => v === 0), 'an empty label has lesion voxels');
        assert.deepEqual(JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')).cases.map((c) => c.empty), [true, true]);
        note(`${(await exportNote.innerText()).trim()}; NIfTI ZIP: ${names.length} files`);
        rmSync(dirname(top), { recursive: true, force: true });
        assert.deepEqual(errors, []);
        await page.close();
      } finally {
        await stopServing();
      }
    },
  },
  {
    name: 'measure: batch time per pair (WASM, WebGPU) at the tiny model’s default steps; JS heap of a 256-step trajectory (not asserted)',
    measure: true,
    fn: async (env) => {
      const m = await manifest(env);
      const [height, width] = m.resolution;
      for (const backend of (process.env.E2E_BATCH_BACKENDS ?? 'wasm,webgpu').split(',').filter(Boolean)) {
        const size = Number(process.env.E2E_BATCH_SIZE ?? (backend === 'wasm' ? 8 : 2));
        const { page } = await openStudio(env, `?model=${MODEL}&backend=${backend}&steps=${m.sampler.steps}`);
        const t0 = Date.now();
        const done = await runBatch(page, 0, size, 1_200_000);
        const wall = (Date.now() - t0) / size;
        const perStep = await page.evaluate(() => [...document.querySelectorAll('.thumb')].map((b) => Number(b.dataset.msPerStep)));
        // a single run right after, on the same page and load, to compare per step
        const single = await generate(page);
        note(
          `${backend}: batch of ${size} at ${m.sampler.steps} steps: ${done} (wall ${wall.toFixed(0)} ms/pair incl. UI); ` +
            `the pairs' own ms/step ${perStep.join(', ')}; one Generate after it: ${single.msPerStep} ms/step`,
        );
        await page.close();
      }
      // The trajectory lives in the page's store (frames of x̂₀ and ŷ₀, float32): heap after − before.
      const steps = 256;
      const { page } = await openStudio(env, `?model=${MODEL}&backend=wasm&steps=${steps}&seed=${SEED}`);
      const cdp = await page.context().newCDPSession(page);
      await cdp.send('Performance.enable');
      const heap = async () => {
        await cdp.send('HeapProfiler.collectGarbage');
        // usedSize: JS objects; backingStorageSize: ArrayBuffer stores (where the frames' floats are)
        const { usedSize, backingStorageSize } = await cdp.send('Runtime.getHeapUsage');
        const metrics = (await cdp.send('Performance.getMetrics')).metrics;
        return { used: usedSize, backing: backingStorageSize ?? NaN, metric: metrics.find((x) => x.name === 'JSHeapUsedSize')?.value ?? NaN };
      };
      const before = await heap();
      const { text } = await generate(page);
      const after = await heap();
      const expected = steps * 2 * height * width * 4;
      const mib = (b) => `${(b / 2 ** 20).toFixed(2)} MiB`;
      note(
        `${steps}-step trajectory (${text}): ArrayBuffer stores +${mib(after.backing - before.backing)}, JS objects +${mib(after.used - before.used)} ` +
          `(Runtime.getHeapUsage; JSHeapUsedSize +${mib(after.metric - before.metric)}); the frames' floats alone: ${steps} × 2 × ${height}×${width} × 4 B = ${mib(expected)}`,
      );
      await cdp.detach();
      await page.close();
    },
  },
  {
    name: 'measure: ms/step with and without streamed previews (not asserted)',
    measure: true,
    fn: async (env) => {
      const steps = Number(process.env.E2E_MEASURE_STEPS ?? 32);
      // webgpu-plain: WebGPU with the plain U-Nets (ε read back, DDIM/B on the CPU), by serving the
      // same model folder as `${MODEL}-plain` with the step graphs left out of its manifest.
      const backends = (process.env.E2E_MEASURE_BACKENDS ?? 'webgpu,webgpu-plain,wasm').split(',');
      const repeats = Number(process.env.E2E_MEASURE_REPEATS ?? 1);
      const plainFolder = `${MODEL}-plain`;
      const stopServing = await serveModelVariant(env, plainFolder, () => {});
      try {
        for (const variant of backends) {
          const [backend, folder] = variant === 'webgpu-plain' ? ['webgpu', plainFolder] : [variant, MODEL];
          for (const previews of Array.from({ length: repeats }, () => ['on', 'off']).flat()) {
            const { page } = await openStudio(env, `?model=${folder}&backend=${backend}&seed=${SEED}&steps=${steps}&previews=${previews}`);
            const path = /Backend: \S+(?: \(([^)]*)\))?/.exec(await statusText(page))?.[1] ?? 'plain';
            const { msPerStep } = await generate(page);
            note(`${variant} (${path}) previews ${previews}: ${msPerStep} ms/step over ${steps} steps`);
            await page.close();
          }
        }
      } finally {
        await stopServing();
      }
    },
  },
  {
    name: 'every request stayed on the studio origin',
    always: true,
    fn: async (env) => {
      assert.deepEqual(env.foreign, [], `requests left the origin: ${env.foreign.join(', ')}`);
      const models = env.seen.filter((u) => /\.onnx(\?|$)/.test(u));
      assert.ok(models.length > 0, 'no ONNX request was observed, so requests from the worker are not being watched');
      note(`${env.seen.length} requests, all to ${env.origin} (incl. ${models.length} ONNX fetched by the worker)`);
    },
  },
];
