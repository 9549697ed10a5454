// A latent model with attributes in the studio (contracts.md §6): tiny-latent (64² images on a 16²
// grid) conditioned on pathology with guidance, the step viewer's preview and decode on demand,
// the three modes, WebGPU against WASM (@webgpu); a model without attributes shows no attribute controls.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { dice, maxAbsDiff, meanAbsDiff, PAIR_TOLERANCE } from '../../harness/compare.mjs';
import { test } from '../lib/fixtures.mjs';
import { countDiffering, editorPixels, kitLoad, openLoaded, tmpFolder, writeLesionMask, writeScan } from '../lib/modes.mjs';
import { checkPair, downloadPair, generate, note, openStudio, ROOT, redrawn, statusText } from '../lib/studio.mjs';

const LATENT = 'tiny-latent';

const imageKind = (page) => page.getByTestId('image-kind').innerText();

test('latent: pathology=malignant, guidance 2: the golden pair, previews while it runs, a middle step decoded on demand', async ({ env }) => {
  const golden = JSON.parse(await readFile(join(ROOT, 'src/core/fixtures/tiny-latent-golden.json'), 'utf8'));
  const { page, errors } = await openStudio(env, `?model=${LATENT}&backend=wasm&seed=${golden.seed}&steps=${golden.steps}`);
  const conditionOn = page.getByRole('group', { name: 'Condition on' });
  assert.equal(await conditionOn.count(), 1);
  // one selector per attribute, "any" first
  for (const label of ['Pathology', 'BI-RADS', 'Scanner']) {
    const options = await page.getByLabel(label, { exact: true }).locator('option').allInnerTexts();
    assert.equal(options[0], 'any', `${label}: ${options}`);
  }
  assert.deepEqual(await page.getByLabel('Pathology', { exact: true }).locator('option').allInnerTexts(), ['any', 'benign', 'malignant']);
  assert.equal(await page.getByLabel('Guidance w', { exact: true }).inputValue(), '1', 'the manifest’s guidance');
  await page.getByLabel('Pathology', { exact: true }).selectOption('malignant');
  await page.getByLabel('Guidance w', { exact: true }).fill('2');
  await page.waitForFunction(() => /attr\.pathology=malignant/.test(location.search) && /guidance=2/.test(location.search));
  note(`URL: ${new URL(page.url()).search}`);

  await generate(page);
  await redrawn(page);
  assert.equal(await imageKind(page), 'decoded', 'the last step shows the decoder’s image');
  // scrub to a middle step: its preview, then its decoded image (cached: back again is immediate)
  const slider = page.getByRole('slider', { name: 'Step', exact: true });
  await slider.focus();
  await page.keyboard.press('Home');
  await page.keyboard.press('ArrowRight');
  await page.waitForFunction(() => document.querySelector('[data-testid="image-kind"]')?.textContent === 'decoded', undefined, { timeout: 30_000 });
  note('step 2 of 4 decoded on demand');

  const files = await downloadPair(page);
  checkPair(files, { width: 64, height: 64, name: LATENT, seed: golden.seed, steps: golden.steps });
  // the kit's reference run of the same request (PigPipeline): the mask exactly, the image within a level
  assert.equal(
    countDiffering(
      Array.from(files.mask.png.gray, (v) => (v > 127 ? 1 : -1)),
      golden.mask,
    ),
    0,
  );
  const level = golden.image.map((v) => Math.floor((v + 1) * 127.5 + 0.5));
  assert.ok(maxAbsDiff(files.image.png.gray, level) <= 1, `image max |Δ| ${maxAbsDiff(files.image.png.gray, level)} levels`);
  assert.deepEqual(errors, []);
  await page.close();
});

test('latent: Mask → image at 64² (the grid said), Image → mask from an upload', async ({ env }) => {
  const dir = tmpFolder();
  const maskPath = join(dir, 'lesion-90x70.png');
  await writeLesionMask(maskPath, 90, 70);
  const expected = kitLoad('mask', maskPath, 64).map((v) => (v > 0 ? 255 : 0));
  const { page, errors } = await openLoaded(env, `?model=${LATENT}&backend=wasm&mode=mask2image&seed=4&steps=2&attr.birads=4`);
  assert.equal(await page.getByLabel('BI-RADS', { exact: true }).inputValue(), '4', 'the URL’s attribute');
  const grid = await page.getByTestId('mask-grid').innerText();
  note(grid);
  assert.match(grid, /You draw at 64×64; .* 16×16 grid, where a 4×4 cell is lesion when at least half of it is/);
  await page.getByLabel('Upload mask', { exact: true }).setInputFiles(maskPath);
  await page.waitForFunction(() => /lesion-90x70\.png/.test(document.querySelector('[data-testid="mask-note"]')?.textContent ?? ''));
  assert.equal(countDiffering((await editorPixels(page)).gray, expected), 0);
  await generate(page);
  const m2i = await downloadPair(page);
  assert.deepEqual(Array.from(m2i.mask.png.gray), expected, 'the final mask is the user’s at 64²');
  assert.deepEqual([m2i.image.png.width, m2i.image.png.height], [64, 64]);

  const scanPath = join(dir, 'scan-120x100.png');
  await writeScan(scanPath, 120, 100);
  await page.getByRole('radio', { name: 'Image → mask', exact: true }).check();
  await page.getByLabel('Upload image', { exact: true }).setInputFiles(scanPath);
  await page.waitForFunction(() => /scan-120x100\.png/.test(document.querySelector('[data-testid="image-note"]')?.textContent ?? ''));
  await generate(page);
  const i2m = await downloadPair(page);
  checkPair(i2m, { width: 64, height: 64, name: `${LATENT}_image2mask`, seed: 4, steps: 2 });
  const scan = kitLoad('image', scanPath, 64).map((v) => Math.floor((v + 1) * 127.5 + 0.5));
  assert.ok(maxAbsDiff(i2m.image.png.gray, scan) <= 1, 'the image of image → mask is the upload');
  assert.deepEqual(errors, []);
  await page.close();
});

test('latent: a model without attributes (tiny) shows no attribute controls', async ({ env }) => {
  const { page, errors } = await openStudio(env, '?model=tiny&backend=wasm&seed=1&steps=1&attr.pathology=malignant');
  assert.equal(await page.getByRole('group', { name: 'Condition on' }).count(), 0);
  assert.equal(await page.getByLabel('Guidance w', { exact: true }).count(), 0);
  assert.equal(await page.getByTestId('mask-grid').count(), 0);
  assert.ok(!/attr\./.test(new URL(page.url()).search), 'the URL keeps no attribute the model lacks');
  assert.deepEqual(errors, []);
  await page.close();
});

test('latent: WebGPU (plain U-Nets, encoder and decoder on the GPU) and WASM agree with attributes and guidance', { tag: ['@webgpu'] }, async ({ env }) => {
  const got = {};
  for (const backend of ['wasm', 'webgpu']) {
    const { page, errors } = await openStudio(env, `?model=${LATENT}&backend=${backend}&seed=5&steps=2&attr.pathology=malignant&guidance=2`);
    if (backend === 'webgpu') assert.match(await statusText(page), /Backend: WebGPU/);
    await generate(page);
    got[backend] = await downloadPair(page);
    assert.deepEqual(errors, []);
    await page.close();
  }
  const d = dice(got.wasm.mask.png.gray, got.webgpu.mask.png.gray);
  const m = meanAbsDiff(got.wasm.image.png.gray, got.webgpu.image.png.gray);
  note(`WebGPU vs WASM: mask Dice ${d.toFixed(4)}, image mean |Δ| ${m.toFixed(3)} levels`);
  assert.ok(d >= PAIR_TOLERANCE.maskDice, `mask Dice ${d}`);
  assert.ok(m <= PAIR_TOLERANCE.imageMeanAbsDiff, `image mean |Δ| ${m}`);
});
