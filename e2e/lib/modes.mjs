// Mode helpers: the mask editor (mouse and touch strokes), upload files made in the test, the kit's
// loader as the reference for what an upload becomes.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pngjs from 'pngjs';
import { canvases, ROOT, RUN_TIMEOUT, redrawn, visit } from './studio.mjs';

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
export async function mouseStroke(page, points) {
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
export async function touchStroke(page, points) {
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

export const lesionPixels = (gray) => gray.filter((v) => v === 255).length;

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
  writeRgbPng(path, width, height, (x, y) =>
    ((x - width * 0.55) / (width * 0.27)) ** 2 + ((y - height * 0.43) / (height * 0.23)) ** 2 <= 1 ? [220, 40, 40] : [0, 0, 0],
  );

/** Speckled mid-gray tissue with a dark oval lesion (gray: r = g = b). */
export function writeScan(path, width, height) {
  let state = 12345;
  const rand = () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
  return writeRgbPng(path, width, height, (x, y) => {
    const inside = ((x - width * 0.5) / (width * 0.25)) ** 2 + ((y - height * 0.45) / (height * 0.18)) ** 2 <= 1;
    const v = Math.round((inside ? 35 : 120) + rand() * 40);
    return [v, v, v];
  });
}

/** The kit's training loader (training/pigkit/data/pairs.py) on a file: what the model would be trained on. */
export function kitLoad(kind, path, resolution) {
  const code = [
    'import json, sys',
    "sys.path.insert(0, 'training')",
    'from pathlib import Path',
    'from pigkit.data.pairs import load_image, load_mask',
    "f = load_mask if sys.argv[1] == 'mask' else load_image",
    'print(json.dumps(f(Path(sys.argv[2]), int(sys.argv[3])).reshape(-1).tolist()))',
  ].join('\n');
  const r = spawnSync('/usr/bin/python3', ['-c', code, kind, path, String(resolution)], { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 << 20 });
  assert.equal(r.status, 0, `the kit's loader failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

export function countDiffering(a, b) {
  let n = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) n++;
  return n;
}

export const tmpFolder = () => mkdtempSync(join(tmpdir(), 'pig-e2e-modes-'));

/** Step slider to the first step; returns the views then. */
export async function viewsAtFirstStep(page) {
  const slider = page.getByRole('slider', { name: 'Step', exact: true });
  await slider.focus();
  await page.keyboard.press('Home');
  await redrawn(page); // drawing waits for the next animation frame
  const first = await canvases(page);
  await page.keyboard.press('End');
  await redrawn(page);
  return first;
}
