// The model panel: download progress and the model cache, Cancel download, a custom model from
// files, corrupt or mismatched files refused, a full Cache Storage.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { cp, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { datasetUnzipped, runBatch } from '../lib/batch.mjs';
import { test } from '../lib/fixtures.mjs';
import {
  chooseModelFiles,
  expectRefusedAndStillWorking,
  modelRequestsSince,
  modelSummary,
  openModelPanel,
  reopenCustomFromCache,
  selfContainedTinyFolder,
  sha256,
  tinyModelFiles,
} from '../lib/models.mjs';
import { checkPair, downloadPair, generate, MODEL, note, openStudio, ROOT, RUN_TIMEOUT, ready, SEED, STEPS, visit } from '../lib/studio.mjs';
import { downloadOne } from '../lib/viewer.mjs';

test('models: first visit downloads with a progress bar and caches; a reload reads the model files from the cache; Clear cache empties it', async ({ env }) => {
  const { page, errors } = await openStudio(env, `?model=${MODEL}&backend=wasm`);
  await openModelPanel(page);
  // Start from an empty cache (other specs of this worker may have filled it).
  await page.getByRole('button', { name: 'Clear cache', exact: true }).click();
  await page
    .getByLabel('Cache usage')
    .filter({ hasText: /in 0 models/ })
    .waitFor();
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
  const downloaded = modelRequestsSince(env, first);
  // WASM runs the plain U-Nets: their graphs and the two weights files, each fetched once
  assert.deepEqual(
    downloaded.map((u) => new URL(u).pathname).sort(),
    ['image.onnx', 'image.weights', 'mask.onnx', 'mask.weights'].map((f) => `/models/${MODEL}/${f}`),
  );
  const progress = await page.evaluate(() => window.__modelProgress);
  const m = JSON.parse(await readFile(join(ROOT, `public/models/${MODEL}/manifest.json`), 'utf8'));
  const total = ['mask', 'image'].reduce((n, r) => n + m.models[r].bytes + m.models[r].weights.bytes, 0);
  assert.equal(total, 1_560_306); // 1.49 MiB: the progress counts the weights files
  assert.ok(
    progress.some((p) => /Downloading [\d.]+ (KiB|MiB) of 1\.49 MiB \(\d+%\)/.test(p)),
    `no download progress shown: ${progress.slice(0, 5)}`,
  );
  note(`first visit: ${downloaded.length} model file requests; progress texts ${progress.length}, last "${progress.at(-1)}" (total ${total} B)`);
  await page.locator('.model-panel > details > summary', { hasText: '· cached' }).waitFor();

  const second = env.seen.length;
  await page.reload();
  await ready(page);
  assert.deepEqual(modelRequestsSince(env, second), [], 'the reload fetched model files instead of reading the cache');
  assert.match(await modelSummary(page), /Model tiny · 32×32 · bundled · loaded from cache/);
  await openModelPanel(page);
  await page
    .getByRole('listitem')
    .filter({ hasText: `${MODEL}` })
    .filter({ hasText: 'cached' })
    .first()
    .waitFor();
  const usage = await page.getByLabel('Cache usage').innerText();
  assert.match(usage, /Model cache: 1\.49 MiB in 1 model/);
  note(`reload: no model file request; ${usage}`);
  const { text } = await generate(page);
  assert.match(text, /Done:/);

  await page.getByRole('button', { name: 'Clear cache', exact: true }).click();
  await page
    .getByLabel('Cache usage')
    .filter({ hasText: /Model cache: 0 B in 0 models/ })
    .waitFor();
  assert.equal(await page.evaluate(async () => (await caches.keys()).filter((k) => k.startsWith('pig-model:')).length), 0);
  const third = env.seen.length;
  await page.reload();
  await ready(page);
  assert.equal(modelRequestsSince(env, third).length, 4, 'after Clear cache the model is downloaded again');
  assert.deepEqual(errors, []);
  await page.close();
});

test('models: Cancel download stops a download that hangs; nothing is cached; the panel opens the model afterwards and shows its card', async ({ env }) => {
  // the mask model's request hangs (a stalled network) until the spec lets it go
  const held = [];
  const hold = (route) => void held.push(route);
  const stalled = `**/models/${MODEL}/mask.onnx`;
  await env.context.route(stalled, hold);
  try {
    const { page, errors } = await visit(env, `?model=${MODEL}&backend=wasm`);
    await page.evaluate(async () => Promise.all((await caches.keys()).filter((k) => k.startsWith('pig-model:')).map((k) => caches.delete(k))));
    const maskRequested = page.waitForRequest(`**/models/${MODEL}/mask.onnx`, { timeout: 30_000 });
    await page.reload();
    // The progress bar shows from the first file on; cancelling only once the mask model's request
    // hangs makes this the stalled download it means to test (CI once cancelled before the request).
    await maskRequested;
    await page.locator('progress[aria-label="Model download"]').waitFor();
    await page.getByRole('button', { name: 'Cancel download', exact: true }).click();
    const alert = page.getByRole('alert');
    await alert.filter({ hasText: 'Stopped opening' }).waitFor();
    assert.match(await alert.innerText(), /Stopped opening model "tiny"\. Open a model from the model panel, or reload the page to download it again\./);
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
});

test('models: a custom model from files (Open model…) loads, generates, and reopens from the cache after a reload', async ({ env, wasmRun }) => {
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
  assert.ok(pair.image.bytes.equals(wasmRun.pair.image.bytes), 'custom tiny differs from bundled tiny');

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
  assert.deepEqual(modelRequestsSince(env, before), []);
  await page.getByLabel('Steps', { exact: true }).fill(String(STEPS));
  await generate(page);
  const again = await downloadPair(page);
  assert.ok(again.image.bytes.equals(pair.image.bytes), 'the cached custom model gives another pair');

  // "Open folder…": the whole folder (its documents come along: the next spec checks them)
  await page.getByLabel('Model folder', { exact: true }).setInputFiles(join(ROOT, 'public/models/tiny'));
  await page.locator('.model-panel > details > summary', { hasText: /Model tiny · 32×32 · custom/ }).waitFor({ timeout: RUN_TIMEOUT });
  await ready(page);
  assert.deepEqual(errors, []);
  await page.close();
});

test('models: an opened folder keeps its model card and data license: the card shows (as text) and the batch ZIP carries both, as a bundled model’s', async ({
  env,
}) => {
  const folder = join(await mkdtemp(join(tmpdir(), 'pig-e2e-docs-')), 'tiny-docs');
  await cp(join(ROOT, 'public/models/tiny'), folder, { recursive: true });
  const m = JSON.parse(await readFile(join(folder, 'manifest.json'), 'utf8'));
  m.name = 'tiny-docs'; // its own entry among the custom models
  delete m.card.licenseFile; // the conventional DATA-LICENSE.txt
  await writeFile(join(folder, 'manifest.json'), JSON.stringify(m, null, 2));
  const card = '# tiny-docs\n\nThis folder’s own card. <img src=x onerror="window.__cardRan=1"> stays text.\n';
  const license = 'Data license of tiny-docs: CC BY 4.0, for this test.\n';
  await writeFile(join(folder, 'README.md'), card);
  await writeFile(join(folder, 'DATA-LICENSE.txt'), license);
  await writeFile(join(folder, 'notes.txt'), 'not a document the card names');
  const { page, errors } = await openStudio(env, `?model=${MODEL}&backend=wasm&seed=${SEED}`);
  await page.getByLabel('Model folder', { exact: true }).setInputFiles(folder);
  await page.locator('.model-panel > details > summary', { hasText: /Model tiny-docs · 32×32 · custom · cached/ }).waitFor({ timeout: RUN_TIMEOUT });
  await ready(page);
  await openModelPanel(page);
  assert.equal(await page.locator('.model-card-text').count(), 1, 'the opened folder’s model card is not shown');
  await page.locator('.model-card-text summary').click();
  const shown = page.getByLabel('Model card text');
  assert.equal((await shown.innerText()).trim(), card.trim());
  assert.equal(await shown.locator('img').count(), 0, 'the card was rendered as HTML');
  assert.equal(await page.evaluate(() => window.__cardRan), undefined);

  await runBatch(page, 3, 2);
  const zipFile = await downloadOne(page, 'Download dataset (ZIP)');
  const { dir, names } = datasetUnzipped(zipFile.bytes, 'Dataset501_tiny-docs');
  assert.deepEqual(names.filter((n) => !n.includes('/')).sort(), ['DATA-LICENSE.txt', 'MODEL-CARD.md', 'README.md', 'dataset.json', 'manifest.json']);
  assert.equal(readFileSync(join(dir, 'DATA-LICENSE.txt'), 'utf8'), license);
  assert.equal(readFileSync(join(dir, 'MODEL-CARD.md'), 'utf8'), card);
  assert.match(
    JSON.parse(readFileSync(join(dir, 'dataset.json'), 'utf8')).description,
    /It carries DATA-LICENSE\.txt and MODEL-CARD\.md from the model's folder/,
  );
  note('the opened folder’s README.md shows as its card; its ZIP carries DATA-LICENSE.txt and MODEL-CARD.md');

  // reopened from the cache after a reload: the card is still there
  await reopenCustomFromCache(page, 'tiny-docs');
  await page.locator('.model-card-text summary').click();
  assert.equal((await page.getByLabel('Model card text').innerText()).trim(), card.trim());
  assert.deepEqual(errors, []);
  await page.close();
});

test('models: a folder in the layout before shared weights (self-contained graphs, no weights files) opens, generates the same pair and reopens from the cache', async ({
  env,
  wasmRun,
}) => {
  const old = selfContainedTinyFolder(join(await mkdtemp(join(tmpdir(), 'pig-e2e-old-')), 'tiny-old'));
  const m = JSON.parse(await readFile(join(old, 'manifest.json'), 'utf8'));
  assert.equal(m.models.mask.weights, undefined);
  m.name = 'tiny-old'; // its own entry among the custom models
  await writeFile(join(old, 'manifest.json'), JSON.stringify(m, null, 2));
  assert.equal((await readdir(old)).filter((f) => f.endsWith('.weights')).length, 0);
  const { page, errors } = await openStudio(env, `?model=${MODEL}&backend=wasm&seed=${SEED}`);
  await page.getByLabel('Model folder', { exact: true }).setInputFiles(old);
  await page.locator('.model-panel > details > summary', { hasText: /Model tiny-old · 32×32 · custom · cached/ }).waitFor({ timeout: RUN_TIMEOUT });
  await ready(page);
  await page.getByLabel('Steps', { exact: true }).fill(String(STEPS));
  await generate(page);
  const pair = await downloadPair(page);
  // the same weights: the bundled (shared-weights) pair's bytes
  assert.ok(
    pair.image.bytes.equals(wasmRun.pair.image.bytes) && pair.mask.bytes.equals(wasmRun.pair.mask.bytes),
    'the self-contained tiny differs from the bundled tiny',
  );
  note(`self-contained folder (${m.models.mask.bytes} B per plain graph) gives the bundled pair's bytes`);
  await reopenCustomFromCache(page, 'tiny-old');
  assert.deepEqual(errors, []);
  await page.close();
});

test('models: a corrupt (truncated) ONNX or weights file or a missing one is named in an alert; the studio keeps the previous model', async ({ env }) => {
  const { page } = await openStudio(env, `?model=${MODEL}&backend=wasm&seed=${SEED}`);
  // truncated with the manifest as exported: the size check names it
  let size = 0;
  await chooseModelFiles(
    page,
    await tinyModelFiles((m, files) => {
      size = m.models.mask.bytes;
      files.set('mask.onnx', files.get('mask.onnx').subarray(0, 30_000));
    }),
  );
  await expectRefusedAndStillWorking(page, new RegExp(`mask\\.onnx \\(mask model\\) is 30000 bytes, the manifest says ${size}: the file is truncated`), MODEL);
  // truncated, and a manifest written for the truncated bytes: the ONNX structure check names it
  await chooseModelFiles(
    page,
    await tinyModelFiles(async (m, files) => {
      const cut = files.get('image.onnx').subarray(0, 30_000);
      files.set('image.onnx', cut);
      m.models.image.sha256 = await sha256(cut);
      m.models.image.bytes = cut.length;
    }),
  );
  await expectRefusedAndStillWorking(page, /image\.onnx \(image model\) is truncated: its graph needs \d+ bytes/, MODEL);
  // not an ONNX file at all
  await chooseModelFiles(
    page,
    await tinyModelFiles(async (m, files) => {
      const png = await readFile(join(ROOT, 'docs/screenshot.png'));
      files.set('mask_step.onnx', png);
      m.models.maskStep.sha256 = await sha256(png);
      m.models.maskStep.bytes = png.length;
    }),
  );
  await expectRefusedAndStillWorking(page, /mask_step\.onnx \(maskStep model\) is not an ONNX model: it is a PNG image/, MODEL);
  // a file the manifest names is missing
  await chooseModelFiles(
    page,
    (await tinyModelFiles()).filter((f) => f.name !== 'image_step.onnx'),
  );
  await expectRefusedAndStillWorking(page, /image_step\.onnx is missing: manifest\.json names it, but it is not among the files you chose/, MODEL);
  // a weights file is missing (the graphs chosen without it), or cut short
  await chooseModelFiles(
    page,
    (await tinyModelFiles()).filter((f) => f.name !== 'mask.weights'),
  );
  await expectRefusedAndStillWorking(
    page,
    /mask\.weights is missing: manifest\.json names it, but it is not among the files you chose \(image\.onnx, image\.weights, image_step\.onnx, manifest\.json, mask\.onnx, mask_step\.onnx\)/,
    MODEL,
  );
  await chooseModelFiles(
    page,
    await tinyModelFiles((_m, files) => {
      files.set('image.weights', files.get('image.weights').subarray(0, 1000));
    }),
  );
  await expectRefusedAndStillWorking(
    page,
    /image\.weights \(weights of image, imageStep\) is 1000 bytes, the manifest says \d+: the file is truncated or not the exported weights/,
    MODEL,
  );
  await page.close();
});

test('models: a manifest whose sha256 or shapes do not match its files, or that is invalid, is refused with a message (one dropped on the page)', async ({
  env,
}) => {
  const { page } = await openStudio(env, `?model=${MODEL}&backend=wasm&seed=${SEED}`);
  const wrongSha = await tinyModelFiles((m) => {
    m.models.mask.sha256 = '0'.repeat(64);
  });
  // dropped on the page, as a user drags files from their file manager
  await page.evaluate(
    async (files) => {
      const dt = new DataTransfer();
      for (const f of files) dt.items.add(new File([Uint8Array.from(atob(f.base64), (c) => c.charCodeAt(0))], f.name, { type: f.mimeType }));
      document.body.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
      document.body.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    },
    wrongSha
      .filter((f) => f.name === 'manifest.json' || /\.(onnx|weights)$/.test(f.name))
      .map((f) => ({ name: f.name, mimeType: f.mimeType, base64: f.buffer.toString('base64') })),
  );
  await expectRefusedAndStillWorking(
    page,
    /mask\.onnx \(mask model\) has SHA-256 [0-9a-f]{64}, the manifest says 0{64}: the file is corrupt or from another export/,
    MODEL,
  );

  // a manifest for 64×64 over the 32×32 files: ORT's shapes are checked against it
  await chooseModelFiles(
    page,
    await tinyModelFiles((m) => {
      m.resolution = [64, 64];
      for (const spec of Object.values(m.models))
        for (const t of [...spec.inputs, ...spec.outputs]) if (t.shape.length === 4) t.shape = [t.shape[0], t.shape[1], 64, 64];
    }),
  );
  await expectRefusedAndStillWorking(page, /mask\.onnx \(mask model\) input "x" has shape \[1,2,32,32\], the manifest says \[1,2,64,64\]/, MODEL);

  // an invalid manifest: core's validation names the fields
  await chooseModelFiles(
    page,
    await tinyModelFiles((m) => {
      delete m.sampler;
      m.models.image.inputs[0].shape = [1, 2, 32];
    }),
  );
  await expectRefusedAndStillWorking(
    page,
    /manifest\.json \(your file\): invalid manifest:.*manifest\.sampler is missing.*manifest\.models\.image\.inputs "x" must have shape \[1,2,32,32\], got \[1,2,32\]/,
    MODEL,
  );
  await page.close();
});

test('models: Cache Storage full: a custom model still loads and generates, and the panel says it was not cached', async ({ env }) => {
  const { page, errors } = await openStudio(env, `?model=${MODEL}&backend=wasm&seed=${SEED}`);
  // Every put in the studio worker fails as a full disk does.
  const [worker] = page.workers();
  assert.ok(worker, 'no studio worker');
  await worker.evaluate(() => {
    Cache.prototype.put = () => Promise.reject(new DOMException('The quota has been exceeded.', 'QuotaExceededError'));
  });
  await chooseModelFiles(
    page,
    await tinyModelFiles((m) => {
      m.name = 'tiny-full';
    }),
  );
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
});
