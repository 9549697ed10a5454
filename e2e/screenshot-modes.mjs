#!/usr/bin/env node
// Takes the screenshots of the three modes in docs/studio.md (docs/mode-pair.png, docs/mode-mask2image.png,
// docs/mode-image2mask.png) from the build, on WASM: a pair; an image for a hand-drawn mask; the
// mask of the pair's own image (a segmentation of a generated image).
// Usage: npm run build && node e2e/screenshot-modes.mjs   (E2E_DIST=folder serves another build)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { CHROMIUM_ARGS } from '../harness/chromium.mjs';
import { serveStatic } from '../harness/server.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SEED = 42;
const server = await serveStatic(resolve(process.env.E2E_DIST ?? join(root, 'dist')));
const userDataDir = mkdtempSync(join(tmpdir(), 'pig-shot-profile-'));
const downloads = mkdtempSync(join(tmpdir(), 'pig-shot-downloads-'));
const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  headless: true,
  args: CHROMIUM_ARGS.filter((a) => a !== '--enable-unsafe-webgpu'),
  viewport: { width: 1280, height: 940 },
  deviceScaleFactor: 1,
  acceptDownloads: true,
  downloadsPath: downloads,
});

async function open(query) {
  const page = await context.newPage();
  await page.goto(`${server.url}/${query}`);
  await page.waitForFunction(() => /Ready/.test(document.querySelector('[role="status"]')?.textContent ?? ''), undefined, { timeout: 300_000 });
  return page;
}

async function generateAndShoot(page, name) {
  await page.getByRole('button', { name: 'Generate', exact: true }).click();
  await page.waitForFunction(() => /Done:/.test(document.querySelector('[role="status"]')?.textContent ?? ''), undefined, { timeout: 600_000 });
  await page.waitForTimeout(300);
  const out = join(root, 'docs', `mode-${name}.png`);
  await page.screenshot({ path: out });
  console.log(`wrote ${out} (${await page.getByRole('status').innerText()})`);
}

try {
  // 1. Pair; keep its image for image → mask
  const pair = await open(`?backend=wasm&seed=${SEED}`);
  await generateAndShoot(pair, 'pair');
  const saved = [];
  pair.on('download', (d) => saved.push(d));
  await pair.getByRole('button', { name: 'Download pair', exact: true }).click();
  while (saved.length < 2) await pair.waitForTimeout(100);
  const image = saved.find((d) => d.suggestedFilename().endsWith('_image.png'));
  const imagePath = join(downloads, image.suggestedFilename());
  await image.saveAs(imagePath);
  await pair.close();

  // 2. Mask → image: an oval lesion drawn with a few brush strokes
  const m2i = await open(`?backend=wasm&mode=mask2image&seed=${SEED}`);
  const canvas = m2i.locator('canvas[data-editor="mask"]');
  const box = await canvas.boundingBox();
  const at = (x, y) => ({ x: box.x + x * box.width, y: box.y + y * box.height }); // fractions of the canvas
  await m2i.getByLabel('Brush size', { exact: true }).fill('6');
  for (const y of [0.4, 0.47, 0.54, 0.61]) {
    const half = 0.2 - Math.abs(y - 0.5) * 0.9;
    const a = at(0.5 - half, y);
    const b = at(0.5 + half, y + 0.02);
    await m2i.mouse.move(a.x, a.y);
    await m2i.mouse.down();
    await m2i.mouse.move(b.x, b.y, { steps: 8 });
    await m2i.mouse.up();
  }
  await generateAndShoot(m2i, 'mask2image');
  await m2i.close();

  // 3. Image → mask: the segmentation of the pair's image
  const i2m = await open(`?backend=wasm&mode=image2mask&seed=${SEED}`);
  await i2m.getByLabel('Upload image', { exact: true }).setInputFiles(imagePath);
  await i2m.waitForFunction(() => /image\.png/.test(document.querySelector('[data-testid="image-note"]')?.textContent ?? ''));
  await generateAndShoot(i2m, 'image2mask');
  await i2m.close();
} finally {
  await context.close();
  await server.close();
  rmSync(userDataDir, { recursive: true, force: true });
  rmSync(downloads, { recursive: true, force: true });
}
