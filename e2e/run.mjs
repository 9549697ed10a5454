#!/usr/bin/env node
// End-to-end tests of the production build in real Chromium (Debian's /usr/bin/chromium).
// Usage: npm run build && node e2e/run.mjs [text,…]   (only the specs whose name contains a text)
// Env: CHROMIUM=path (default /usr/bin/chromium), E2E_DIST=folder (default dist/), E2E_MEASURE=1 also
//      runs the timing measurements (E2E_MEASURE_STEPS, E2E_MEASURE_BACKENDS=webgpu,wasm,
//      E2E_MEASURE_REPEATS), E2E_KEEP=1 keeps the downloads folder.
// Prints one line per test and, last, exactly `N passed, M failed`; exits non-zero on any failure.
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { CHROMIUM_ARGS } from './chromium.mjs';
import { serveStatic } from './server.mjs';
import { tests as studioTests } from './studio.spec.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
// studio.spec.mjs first (later specs may use what it leaves in env.shared), then every other
// e2e/*.spec.mjs in name order; the `always` checks (e.g. every request stayed on the origin) last,
// so they see the requests of every spec
const otherSpecs = readdirSync(join(root, 'e2e')).filter((f) => f.endsWith('.spec.mjs') && f !== 'studio.spec.mjs').sort();
const allTests = [...studioTests];
for (const f of otherSpecs) allTests.push(...(await import(`./${f}`)).tests);
const tests = [...allTests.filter((t) => !t.always), ...allTests.filter((t) => t.always)];
const dist = resolve(process.env.E2E_DIST ?? join(root, 'dist'));
const executablePath = process.env.CHROMIUM ?? '/usr/bin/chromium';
const filters = process.argv.slice(2).join(',').split(',').filter(Boolean);
const TEST_TIMEOUT_MS = Number(process.env.E2E_TEST_TIMEOUT_MS ?? 240_000);

function fail(message) {
  console.error(message);
  console.log('0 passed, 1 failed');
  process.exit(1);
}

if (!existsSync(join(dist, 'index.html'))) fail(`e2e: no production build in ${dist}; run \`npm run build\` first.`);
if (!existsSync(executablePath)) fail(`e2e: no Chromium at ${executablePath} (apt-get install -y chromium, or set CHROMIUM).`);

const server = await serveStatic(dist);
const userDataDir = mkdtempSync(join(tmpdir(), 'pig-e2e-profile-'));
const downloadsDir = mkdtempSync(join(tmpdir(), 'pig-e2e-downloads-'));
const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath,
  headless: true,
  args: CHROMIUM_ARGS,
  acceptDownloads: true,
  downloadsPath: downloadsDir,
  viewport: { width: 1280, height: 820 },
});

// Every request any page or worker makes must stay on the studio's origin.
const origin = new URL(server.url).origin;
const foreign = [];
const seen = [];
context.on('request', (request) => {
  const url = request.url();
  if (url.startsWith('data:') || url.startsWith('blob:')) return;
  seen.push(url);
  if (new URL(url).origin !== origin) foreign.push(url);
});
await context.route('**/*', (route) => {
  const url = route.request().url();
  if (url.startsWith('data:') || url.startsWith('blob:') || new URL(url).origin === origin) return route.continue();
  foreign.push(url);
  return route.abort('blockedbyclient');
});

const env = {
  baseUrl: server.url,
  origin,
  context,
  downloadsDir,
  foreign,
  seen,
  measure: process.env.E2E_MEASURE === '1',
  shared: {},
};

let passed = 0;
let failed = 0;
const started = Date.now();
console.log(`e2e: ${executablePath} (${context.browser()?.version() ?? 'chromium'}), serving ${dist} at ${server.url}`);
for (const t of tests) {
  if (filters.length > 0 && !filters.some((f) => t.name.includes(f)) && !t.always) continue;
  if (t.measure && !env.measure) continue;
  const t0 = Date.now();
  let timer;
  try {
    await Promise.race([
      t.fn(env),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${TEST_TIMEOUT_MS} ms`)), TEST_TIMEOUT_MS);
      }),
    ]);
    passed++;
    console.log(`  ok   ${t.name} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  } catch (error) {
    failed++;
    console.log(`  FAIL ${t.name} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    console.log(`       ${String(error?.stack ?? error).split('\n').join('\n       ')}`);
  } finally {
    clearTimeout(timer);
  }
}

await context.close().catch(() => {});
await server.close();
rmSync(userDataDir, { recursive: true, force: true });
if (process.env.E2E_KEEP !== '1') rmSync(downloadsDir, { recursive: true, force: true });
else console.log(`e2e: downloads kept in ${downloadsDir}`);
console.log(`e2e: ${((Date.now() - started) / 1000).toFixed(1)} s in all`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
