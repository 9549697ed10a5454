// The reader test (a blinded visual Turing test): a folder of real images (made here: small PNGs in
// BUS-BRA's layout), N = 2 pairs of the tiny model, answered with the keys, a reload in the middle
// that resumes, and the answers' CSV and JSON.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pngjs from 'pngjs';
import { test } from '../lib/fixtures.mjs';
import { MODEL, manifest, note, openStudio, RUN_TIMEOUT, ready } from '../lib/studio.mjs';
import { downloadOne } from '../lib/viewer.mjs';

/** A width×height PNG (RGBA, gray) whose gray value at (x, y) is f(x, y). */
function png(width, height, f) {
  const image = new pngjs.PNG({ width, height });
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      image.data.fill(f(x, y), i, i + 3);
      image.data[i + 3] = 255;
    }
  return pngjs.PNG.sync.write(image);
}

/** real/Images/bus_000k-l.png with real/Masks/mask_000k-l.png (40×30: resized to the model's 32×32). */
async function realFolder() {
  const root = join(await mkdtemp(join(tmpdir(), 'pig-e2e-reader-')), 'real');
  await mkdir(join(root, 'Images'), { recursive: true });
  await mkdir(join(root, 'Masks'), { recursive: true });
  for (const k of [1, 2, 3]) {
    await writeFile(
      join(root, 'Images', `bus_000${k}-l.png`),
      png(40, 30, (x, y) => (x * 5 + y * k * 3 + k * 40) % 256),
    );
    await writeFile(
      join(root, 'Masks', `mask_000${k}-l.png`),
      png(40, 30, (x, y) => ((x - 20) ** 2 + (y - 15) ** 2 < (4 + 3 * k) ** 2 ? 255 : 0)),
    );
  }
  await writeFile(join(root, 'bus_data.csv'), 'ID,Pathology\n');
  return root;
}

const dialog = (page) => page.getByRole('dialog');
const caseHeading = (page, k, n) => dialog(page).getByRole('heading', { name: `Reader test: case ${k} of ${n}`, exact: true });

async function answer(page, keys, nextCase, total) {
  for (const key of keys) await page.keyboard.press(key);
  await page.keyboard.press('Enter');
  if (nextCase <= total) await caseHeading(page, nextCase, total).waitFor();
}

test('reader test: N = 2 real images from a BUS-BRA-like folder mixed with 2 tiny pairs, answered with the keys, resumed after a reload; the CSV and JSON hold the answers', async ({
  env,
}) => {
  const folder = await realFolder();
  const m = await manifest(env);
  const { page, errors } = await openStudio(env, `?model=${MODEL}&backend=wasm&seed=7&steps=2`);
  const region = page.getByRole('region', { name: 'Reader test', exact: true });
  await region.getByLabel('Real images folder', { exact: true }).setInputFiles(folder);
  assert.equal(
    await region.getByTestId('reader-folder').innerText(),
    'real: 3 images, 3 with a mask (the test draws from those, and masks can be shown) · 1 other file skipped',
  );
  await region.getByLabel('Real images (N)', { exact: true }).fill('2');
  await region.getByLabel('Test seed', { exact: true }).fill('11');
  await region.getByRole('button', { name: 'Start reader test', exact: true }).click();
  await caseHeading(page, 1, 4).waitFor({ timeout: RUN_TIMEOUT });

  // blinded: nothing in the dialog names a file, a seed or a truth; the keys are said on screen
  const shown = await dialog(page).innerText();
  for (const giveaway of ['bus_', 'mask_', '.png', 'seed', 'real/', 'Images']) assert.ok(!shown.includes(giveaway), `the dialog shows “${giveaway}”: ${shown}`);
  assert.match(await dialog(page).getByTestId('reader-keys').innerText(), /R real · S synthetic · 1–5 confidence · Enter next · M masks/);
  // focus is in the dialog, on the case's heading
  assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Reader test: case 1 of 4');
  // M shows the masks (every case has one: the real ones from Masks/)
  const masks = dialog(page).getByLabel('Show masks (M)');
  assert.equal(await masks.isChecked(), false);
  await page.keyboard.press('m');
  assert.equal(await masks.isChecked(), true);

  await answer(page, ['5', 's'], 2, 4);
  await answer(page, ['r', '4'], 3, 4);

  // a reload in the middle: the studio offers the kept test, which resumes at case 3
  await page.reload();
  await ready(page);
  const kept = page.getByRole('group', { name: 'Kept reader test' });
  await kept.waitFor();
  assert.match(await kept.innerText(), /An unfinished reader test is kept: 2 of 4 answered \(model tiny,/);
  await kept.getByRole('button', { name: 'Resume reader test', exact: true }).click();
  await caseHeading(page, 3, 4).waitFor();
  await answer(page, ['s'], 4, 4);
  await answer(page, ['r', '1'], 5, 4);
  await dialog(page).getByRole('heading', { name: 'Reader test results', exact: true }).waitFor();
  note((await dialog(page).getByTestId('reader-stats').innerText()).replace(/\s+/g, ' '));

  // the CSV: one row per case in the order shown, the answers as given
  const csv = await downloadOne(page, 'Download answers (CSV)');
  assert.match(csv.name, /^reader-test_tiny_\d{8}-\d{6}\.csv$/);
  const [header, ...rows] = csv.bytes.toString('utf8').trimEnd().split('\r\n');
  assert.equal(header, 'case,truth,answer,confidence,score,time_ms,source');
  const parsed = rows.map((r) => {
    const [kase, truth, ans, confidence, score, timeMs, source] = r.split(',');
    return { kase, truth, ans, confidence, score, timeMs, source };
  });
  assert.deepEqual(
    parsed.map((r) => [r.kase, r.ans, r.confidence, r.score]),
    [
      ['1', 'synthetic', '5', '10'],
      ['2', 'real', '4', '2'],
      ['3', 'synthetic', '', '8'],
      ['4', 'real', '1', '5'],
    ],
  );
  for (const r of parsed) assert.match(r.timeMs, /^\d+$/);
  const synthetic = parsed.filter((r) => r.truth === 'synthetic');
  const real = parsed.filter((r) => r.truth === 'real');
  assert.deepEqual(synthetic.map((r) => r.source).sort(), ['seed 11', 'seed 12']);
  assert.equal(real.length, 2);
  for (const r of real) assert.match(r.source, /^real\/Images\/bus_000[123]-l\.png$/);

  // the JSON: the same answers, the model's hashes and settings, the statistics
  const json = JSON.parse((await downloadOne(page, 'Download answers (JSON)')).bytes.toString('utf8'));
  assert.equal(json.model.name, 'tiny');
  assert.match(json.model.sha256, /^[0-9a-f]{64}$/);
  assert.equal(json.model.files.mask.sha256, m.models.mask.sha256);
  assert.equal(json.model.files.image.sha256, m.models.image.sha256);
  assert.deepEqual([json.model.steps, json.settings.seed, json.settings.pairs, json.settings.width, json.settings.height], [2, 11, 2, 32, 32]);
  assert.equal(json.positive, 'synthetic');
  assert.deepEqual(
    json.answers.map((a) => [a.case, a.truth, a.answer, a.confidence, String(a.timeMs), a.source]),
    parsed.map((r) => [Number(r.kase), r.truth, r.ans, r.confidence === '' ? null : Number(r.confidence), r.timeMs, r.source]),
  );
  const correct = parsed.filter((r) => r.truth === r.ans).length;
  assert.deepEqual([json.statistics.accuracy.k, json.statistics.accuracy.n], [correct, 4]);
  assert.deepEqual([json.statistics.sensitivity.k, json.statistics.sensitivity.n], [synthetic.filter((r) => r.ans === 'synthetic').length, 2]);
  assert.deepEqual([json.statistics.specificity.k, json.statistics.specificity.n], [real.filter((r) => r.ans === 'real').length, 2]);
  // the AUC is the Mann–Whitney statistic of the scores, synthetic over real (ties ½)
  let wins = 0;
  for (const s of synthetic) for (const r of real) wins += Number(s.score) > Number(r.score) ? 1 : Number(s.score) === Number(r.score) ? 0.5 : 0;
  assert.equal(json.statistics.auc.auc, wins / 4);

  // Close: the finished test stays kept until discarded; focus returns to the panel
  await dialog(page).getByRole('button', { name: 'Close', exact: true }).click();
  assert.match(await kept.innerText(), /A finished reader test is kept \(4 cases, model tiny\)/);
  await kept.getByRole('button', { name: 'Discard kept test', exact: true }).click();
  await kept.waitFor({ state: 'detached' });
  assert.deepEqual(errors, []);
  await page.close();
});
