// The e2e suite's fixtures (@playwright/test): the static server for the production build, Debian's
// Chromium in a persistent context whose every request must stay on the studio's origin, the model
// under test, and the two runs several specs look at (one on WebGPU, one on WASM).
//
//   server      (worker)  harness/server.mjs serving dist/ (E2E_DIST) on a free loopback port
//   studio      (worker)  { context, baseUrl, origin, seen, foreign, kept }: the persistent context
//                         (CHROMIUM, default /usr/bin/chromium; harness/chromium.mjs's flags), routed so
//                         that a request to another origin is aborted and recorded in `foreign`
//   env         (test)    what the helpers of e2e/lib/ take: { baseUrl, origin, context, seen, foreign }
//   model       (worker)  the tiny pair's manifest as served: { name, folder, width, height, manifest }
//   webgpuRun   (worker)  a page on WebGPU that ran the tiny pair (seed 7, 4 steps) and its pair
//   wasmRun     (worker)  the same on WASM
//   guard       (test, auto)  after each test: no request of that test left the origin (the check
//                         that ended the old runner, now per test), pages the test opened are closed,
//                         and its trace chunk (E2E_TRACE) and page screenshots are kept on failure
//                         (test-results/e2e/<test>/)
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test as base, chromium } from '@playwright/test';
import { CHROMIUM_ARGS } from '../../harness/chromium.mjs';
import { serveStatic } from '../../harness/server.mjs';
import { canvases, downloadPair, generate, MODEL, manifest, openStudio, ROOT, recordStatus, SEED, STEPS, statusLog, statusText } from './studio.mjs';

export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
// E2E_TRACE: 'light' (the default: each test's actions, console, network and errors, kept when it
// fails, with a screenshot of each page it left open), 'on' (DOM snapshots too: they made the WASM
// specs ~30% slower on 2 loaded cores) or 'off'
const TRACE = process.env.E2E_TRACE ?? 'light';

export const test = base.extend({
  server: [
    // biome-ignore lint/correctness/noEmptyPattern: Playwright reads a fixture's dependencies from this pattern (none here)
    async ({}, use) => {
      const dist = resolve(process.env.E2E_DIST ?? join(ROOT, 'dist'));
      if (!existsSync(join(dist, 'index.html'))) throw new Error(`e2e: no production build in ${dist}; run \`npm run build\` first.`);
      const server = await serveStatic(dist);
      await use({ ...server, dist });
      await server.close();
    },
    { scope: 'worker' },
  ],

  studio: [
    async ({ server }, use) => {
      if (!existsSync(CHROMIUM)) throw new Error(`e2e: no Chromium at ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM).`);
      const userDataDir = mkdtempSync(join(tmpdir(), 'pig-e2e-profile-'));
      const context = await chromium.launchPersistentContext(userDataDir, {
        executablePath: CHROMIUM,
        headless: true,
        args: CHROMIUM_ARGS,
        acceptDownloads: true,
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
      if (TRACE !== 'off') await context.tracing.start({ snapshots: TRACE !== 'light', screenshots: false, sources: false });
      console.log(`e2e: ${CHROMIUM} (${context.browser()?.version() ?? 'chromium'}), serving ${server.dist} at ${server.url}`);
      await use({ context, baseUrl: server.url, origin, foreign, seen, kept: new Set() });
      if (TRACE !== 'off') await context.tracing.stop().catch(() => {});
      await context.close().catch(() => {});
      rmSync(userDataDir, { recursive: true, force: true });
    },
    { scope: 'worker' },
  ],

  env: async ({ studio }, use) => {
    const { context, baseUrl, origin, seen, foreign } = studio;
    await use({ context, baseUrl, origin, seen, foreign });
  },

  model: [
    async ({ studio }, use) => {
      const m = await manifest(studio, MODEL);
      const [height, width] = m.resolution;
      await use({ name: m.name, folder: MODEL, width, height, manifest: m });
    },
    { scope: 'worker' },
  ],

  // Opened, run and downloaded once per worker; a spec that uses the page leaves it at the last step.
  webgpuRun: [
    async ({ studio }, use) => {
      const { page, errors, engine } = await openStudio(studio, `?model=${MODEL}&backend=webgpu&seed=${SEED}&steps=${STEPS}`);
      studio.kept.add(page);
      const status = await statusText(page);
      const blank = await canvases(page);
      await recordStatus(page);
      const { text, msPerStep } = await generate(page);
      const log = await statusLog(page);
      const after = await canvases(page);
      const pair = await downloadPair(page);
      await use({ page, errors, engine, status, blank, after, log, text, msPerStep, pair });
      studio.kept.delete(page);
      await page.close().catch(() => {});
    },
    { scope: 'worker', timeout: 600_000 },
  ],

  wasmRun: [
    async ({ studio }, use) => {
      // which ORT binary the worker fetches (see the WASM spec)
      const binaries = [];
      const onRequest = (r) => /\.wasm$/.test(new URL(r.url()).pathname) && binaries.push(new URL(r.url()).pathname);
      studio.context.on('request', onRequest);
      let opened;
      try {
        opened = await openStudio(studio, `?model=${MODEL}&backend=wasm&seed=${SEED}&steps=${STEPS}`);
      } finally {
        studio.context.off('request', onRequest);
      }
      const { page, errors, engine } = opened;
      studio.kept.add(page);
      const status = await statusText(page);
      await recordStatus(page);
      const { text, msPerStep } = await generate(page);
      const pair = await downloadPair(page);
      await use({ page, errors, engine, status, binaries, text, msPerStep, pair });
      studio.kept.delete(page);
      await page.close().catch(() => {});
    },
    { scope: 'worker', timeout: 300_000 },
  ],

  guard: [
    async ({ studio }, use, testInfo) => {
      const { context, foreign } = studio;
      const foreignBefore = foreign.length;
      const pagesBefore = new Set(context.pages());
      if (TRACE !== 'off') await context.tracing.startChunk({ title: testInfo.title });
      await use();
      if (TRACE !== 'off') {
        if (testInfo.status !== testInfo.expectedStatus) {
          const path = testInfo.outputPath('trace.zip');
          await context.tracing.stopChunk({ path }).catch(() => {});
          if (existsSync(path)) testInfo.attachments.push({ name: 'trace', path, contentType: 'application/zip' });
        } else {
          await context.tracing.stopChunk().catch(() => {});
        }
      }
      // pages this test opened and left (a failure midway) do not stay for the next one; a failed
      // test's pages are photographed first
      const failed = testInfo.status !== testInfo.expectedStatus;
      for (const [i, page] of context.pages().entries()) {
        const path = testInfo.outputPath(`page-${i + 1}.png`);
        if (failed && page.url() !== 'about:blank' && (await page.screenshot({ path, timeout: 10_000 }).catch(() => null)))
          testInfo.attachments.push({ name: `page ${i + 1}`, path, contentType: 'image/png' });
        if (!pagesBefore.has(page) && !studio.kept.has(page)) await page.close().catch(() => {});
      }
      const left = foreign.slice(foreignBefore);
      assert.deepEqual(left, [], `requests left the origin: ${left.join(', ')}`);
    },
    { auto: true },
  ],
});
