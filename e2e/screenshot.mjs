#!/usr/bin/env node
// Takes the README's screenshot (docs/screenshot.png) of the built studio after a run.
// Usage: npm run build && node e2e/screenshot.mjs [query]   (default: the default model, seed 42)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { CHROMIUM_ARGS } from '../harness/chromium.mjs';
import { serveStatic } from '../harness/server.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const query = process.argv[2] ?? '?seed=42';
const out = join(root, 'docs', 'screenshot.png');
const server = await serveStatic(resolve(process.env.E2E_DIST ?? join(root, 'dist')));
const userDataDir = mkdtempSync(join(tmpdir(), 'pig-shot-profile-'));
const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  headless: true,
  args: CHROMIUM_ARGS,
  viewport: { width: 1280, height: 720 },
  deviceScaleFactor: 1,
});
try {
  const page = await context.newPage();
  await page.goto(`${server.url}/${query}`);
  const generate = page.getByRole('button', { name: 'Generate', exact: true });
  await page.waitForFunction(() => [...document.querySelectorAll('button')].some((b) => b.textContent === 'Generate' && !b.disabled), undefined, {
    timeout: 300_000,
  });
  await generate.click();
  await page.waitForFunction(() => /Done:/.test(document.querySelector('[role="status"]')?.textContent ?? ''), undefined, { timeout: 600_000 });
  await page.waitForTimeout(300);
  await page.screenshot({ path: out });
  console.log(`wrote ${out} (${await page.getByRole('status').innerText()})`);
} finally {
  await context.close();
  await server.close();
  rmSync(userDataDir, { recursive: true, force: true });
}
