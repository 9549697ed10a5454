// Batch generation: the gallery and the dataset ZIP (the CLI's dataset for the same seeds), the
// batch's limits and Cancel, empty masks and NIfTI; the batch measurement (E2E_MEASURE=1).
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { maxAbsDiff } from '../../harness/compare.mjs';
import {
  BATCH_START,
  BATCH_STEPS,
  batchRegion,
  batchStatus,
  caseOf,
  datasetDocuments,
  datasetUnzipped,
  galleryThumbs,
  runBatch,
  runGenerateCli,
  serveModelVariant,
} from '../lib/batch.mjs';
import { test } from '../lib/fixtures.mjs';
import { dismissAlert } from '../lib/models.mjs';
import { generateButton } from '../lib/modes.mjs';
import { decodePng, distinctValues } from '../lib/png.mjs';
import {
  downloadPair,
  generate,
  LONG_STEPS,
  MODEL,
  manifest,
  note,
  openStudio,
  ROOT,
  RUN_TIMEOUT,
  recordStatus,
  SEED,
  statusLog,
  statusText,
  waitDone,
} from '../lib/studio.mjs';
import { downloadOne } from '../lib/viewer.mjs';

test('batch: a batch of 4 (WASM) fills the gallery; its ZIP is the CLI’s nnU-Net dataset for the same seeds; a gallery pair opens in the viewer as the same pair', async ({
  env,
}) => {
  const m = await manifest(env);
  const [height, width] = m.resolution;
  const seeds = [0, 1, 2, 3].map((i) => BATCH_START + i);
  const { page, errors } = await openStudio(env, `?model=${MODEL}&backend=wasm&seed=${SEED}&steps=${BATCH_STEPS}`);
  await recordStatus(page);
  const done = await runBatch(page, BATCH_START, 4);
  assert.match(done, /^Done: 4 pairs in .+\/pair\)\.$/);
  const log = await statusLog(page);
  const progress = log.filter((e) => /Batch: pair [1-4] of 4 \(seed \d+\), step \d of 3/.test(e.text));
  assert.ok(
    progress.some((e) => /ETA/.test(e.text)),
    `no batch progress with an ETA in the status: ${log.map((e) => e.text).join(' | ')}`,
  );
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
  assert.deepEqual(
    [...names].sort(),
    [...cases.flatMap((c) => [`imagesTr/${c}_0000.png`, `labelsTr/${c}.png`]), 'dataset.json', 'manifest.json', 'README.md', ...documents].sort(),
  );
  assert.ok(
    readFileSync(join(dir, 'DATA-LICENSE.txt')).equals(readFileSync(join(ROOT, 'public/models', MODEL, 'DATA-LICENSE.txt'))),
    'DATA-LICENSE.txt is not the model folder’s',
  );
  for (const c of cases) {
    const label = decodePng(readFileSync(join(dir, 'labelsTr', `${c}.png`)));
    const image = decodePng(readFileSync(join(dir, 'imagesTr', `${c}_0000.png`)));
    for (const png of [label, image]) assert.deepEqual([png.width, png.height, png.bitDepth, png.colorType], [width, height, 8, 'gray']);
    assert.ok(
      distinctValues(label.gray).every((v) => v === 0 || v === 1),
      `${c}: label values ${distinctValues(label.gray)}`,
    );
  }
  const dataset = JSON.parse(readFileSync(join(dir, 'dataset.json'), 'utf8'));
  assert.deepEqual(
    [dataset.channel_names, dataset.labels, dataset.numTraining, dataset.file_ending],
    [{ 0: 'ultrasound' }, { background: 0, lesion: 1 }, 4, '.png'],
  );
  assert.deepEqual([dataset.licence, dataset.reference], [m.card.license, m.card.citation]);
  const zipManifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  assert.equal(zipManifest.model.name, m.name);
  for (const role of ['mask', 'image']) assert.equal(zipManifest.model.files[role].sha256, m.models[role].sha256);
  assert.deepEqual(
    zipManifest.cases.map((c) => [c.seed, c.steps, c.eta, c.mode, c.appVersion]),
    seeds.map((s) => [s, BATCH_STEPS, m.sampler.eta, 'pair', pkg.version]),
  );
  assert.deepEqual(zipManifest.cases[0].binarize, m.sampler.binarize);

  // the CLI's dataset for the same model, seeds and steps (ORT-node vs the browser's WASM; the
  // tolerance is e2e/specs/cli.spec.mjs's: an image within one 8-bit level, no label pixel differs)
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
    // README.md: the dataset card, made from the same records
    for (const f of ['dataset.json', 'manifest.json', 'README.md', ...documents])
      assert.equal(readFileSync(join(dir, f), 'utf8'), readFileSync(join(cli, f), 'utf8'), `${f} differs from the CLI's`);
    note(
      `ZIP vs \`npm run generate\` (seeds ${seeds[0]}…${seeds.at(-1)}, ${BATCH_STEPS} steps): labels identical, images identical ${identicalImages}/4 (max |Δ| ${maxDiff}), ${['dataset.json', 'manifest.json', 'README.md', ...documents].join(', ')} identical`,
    );
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
  assert.deepEqual(
    Array.from(pair.image.png.gray),
    Array.from(decodePng(readFileSync(join(dir, 'imagesTr', `${caseOf(seed)}_0000.png`))).gray),
    'the opened pair’s image is not the ZIP’s',
  );
  const label = decodePng(readFileSync(join(dir, 'labelsTr', `${caseOf(seed)}.png`)));
  assert.deepEqual(
    Array.from(pair.mask.png.gray, (v) => (v ? 1 : 0)),
    Array.from(label.gray),
  );
  note(`${opened}; its downloaded pair has the ZIP's pixels`);
  rmSync(dirname(top), { recursive: true, force: true });
  assert.deepEqual(errors, []);
  await page.close();
});

test('batch: size 0 or over the limit and a batch during a run give clear messages; Cancel mid-batch keeps the finished pairs', async ({ env }) => {
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
  await page.waitForFunction(() => /Generating: step [1-9]\d* of/.test(document.querySelector('[role="status"]')?.textContent ?? ''), undefined, {
    timeout: RUN_TIMEOUT,
    polling: 20,
  });
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
  await page.waitForFunction(() => /^Cancelled/.test(document.querySelector('[data-testid="batch-status"]')?.textContent ?? ''), undefined, {
    timeout: 30_000,
    polling: 20,
  });
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
  assert.deepEqual(
    zipManifest.cases.map((c) => c.seed),
    Array.from({ length: kept }, (_, i) => 100 + i),
  );
  rmSync(dirname(top), { recursive: true, force: true });
  // the studio generates again
  await page.getByLabel('Steps', { exact: true }).fill('2');
  assert.match((await generate(page)).text, /Done: 2 of 2 steps/);
  assert.deepEqual(errors, []);
  await page.close();
});

test('batch: empty masks are flagged; "Reject empty masks" leaves them out of the export; NIfTI on request', async ({ env }) => {
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
    assert.deepEqual([...names].sort(), [
      'DATA-LICENSE.txt',
      'README.md',
      'dataset.json',
      'imagesTr/pig_0000000000_0000.nii.gz',
      'imagesTr/pig_0000000001_0000.nii.gz',
      'labelsTr/pig_0000000000.nii.gz',
      'labelsTr/pig_0000000001.nii.gz',
      'manifest.json',
    ]);
    assert.equal(JSON.parse(readFileSync(join(dir, 'dataset.json'), 'utf8')).file_ending, '.nii.gz');
    const nii = gunzipSync(readFileSync(join(dir, 'labelsTr', 'pig_0000000000.nii.gz')));
    assert.equal(nii.readInt32LE(0), 348);
    assert.ok(
      nii.subarray(352).every((v) => v === 0),
      'an empty label has lesion voxels',
    );
    assert.deepEqual(
      JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')).cases.map((c) => c.empty),
      [true, true],
    );
    note(`${(await exportNote.innerText()).trim()}; NIfTI ZIP: ${names.length} files`);
    rmSync(dirname(top), { recursive: true, force: true });
    assert.deepEqual(errors, []);
    await page.close();
  } finally {
    await stopServing();
  }
});

test('measure: batch time per pair (WASM, WebGPU) at the tiny model’s default steps; JS heap of a 256-step trajectory (not asserted)', {
  tag: ['@measure'],
}, async ({ env }) => {
  test.setTimeout(Math.max(test.info().timeout, 1_800_000));
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
});
