// The modes: Pair, Mask → image (the editor, an uploaded mask), Image → mask, bad uploads, WebGPU vs
// WASM in both conditional modes (@webgpu), the URL round trips.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { dice, meanAbsDiff } from '../../harness/compare.mjs';
import { test } from '../lib/fixtures.mjs';
import {
  countDiffering,
  editorPixels,
  generateButton,
  kitLoad,
  lesionPixels,
  mouseStroke,
  openLoaded,
  tmpFolder,
  touchStroke,
  viewsAtFirstStep,
  writeLesionMask,
  writeRgbPng,
  writeScan,
} from '../lib/modes.mjs';
import { distinctValues } from '../lib/png.mjs';
import { canvases, checkPair, downloadPair, generate, MODEL, manifest, note, openStudio, RUN_TIMEOUT, SEED, STEPS, statusText } from '../lib/studio.mjs';

test('modes: Pair is the default and generates as before', async ({ env }) => {
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
});

test('modes: mask editor (draw, brush size, touch, eraser, undo, clear), then Mask → image from the drawn mask', async ({ env }) => {
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
  await mouseStroke(page, [
    [3.5, row + 0.5],
    [width - 3.5, row + 0.5],
  ]);
  const thin = await editorPixels(page);
  const column = (p, x) => Array.from({ length: height }, (_, y) => p.gray[y * width + x]).filter((v) => v === 255).length;
  assert.equal(column(thin, Math.floor(width / 2)), 1, 'a size-1 stroke is 1 pixel wide');
  // brush size 5: 5 pixels wide
  await size.fill('5');
  const row2 = Math.floor((height * 3) / 4);
  await mouseStroke(page, [
    [3.5, row2 + 0.5],
    [width - 3.5, row2 + 0.5],
  ]);
  const thick = await editorPixels(page);
  assert.equal(column(thick, Math.floor(width / 2)), 1 + 5, 'a size-5 stroke is 5 pixels wide');
  assert.ok(await generateButton(page).isEnabled(), 'a drawn lesion enables Generate');
  assert.equal(await page.locator('#generate-blocker').count(), 0);

  // touch draws too (pointer events of type touch)
  await size.fill('3');
  await touchStroke(page, [
    [width / 2, 2.5],
    [width / 2, height / 2],
    [width / 2 + 2, height / 2 + 2],
  ]);
  const touched = await editorPixels(page);
  assert.ok(lesionPixels(touched.gray) > lesionPixels(thick.gray), 'the touch stroke drew nothing');

  // undo takes exactly the last stroke back
  await page.getByRole('button', { name: 'Undo', exact: true }).click();
  assert.deepEqual((await editorPixels(page)).gray, thick.gray, 'Undo did not restore the canvas');
  // the eraser clears; undo brings it back
  await page.getByRole('button', { name: 'Eraser', exact: true }).click();
  assert.equal(await page.getByRole('button', { name: 'Eraser', exact: true }).getAttribute('aria-pressed'), 'true');
  await mouseStroke(page, [
    [width / 2, row2 - 4],
    [width / 2, row2 + 4],
  ]);
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
});

test('modes: Mask → image from an uploaded PNG mask of another size (as the kit loads it)', async ({ env }) => {
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
});

test('modes: Image → mask from an uploaded image (as the kit loads it); the mask settles step by step', async ({ env }) => {
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
  const { text: done } = await generate(page);
  note(done);
  // one frame per step on the timeline (the status line may skip from step 0 to Done: the 3 steps
  // can take under 100 ms, inside one animation frame)
  assert.equal(await page.getByRole('slider', { name: 'Step', exact: true }).getAttribute('max'), '2', 'the timeline does not hold the 3 steps');
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
});

test('modes: a non-image upload gives an alert naming the file, and the app still generates', async ({ env }) => {
  const dir = tmpFolder();
  const text = join(dir, 'notes.txt');
  await writeFile(text, 'not an image\n');
  const broken = join(dir, 'broken.png');
  await writeFile(broken, Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), Buffer.from('garbage, not chunks')]));
  const good = join(dir, 'ok.png');
  await writeRgbPng(good, 40, 40, (x, y) => (Math.hypot(x - 20, y - 20) < 10 ? [255, 255, 255] : [0, 0, 0]));
  const { page } = await openLoaded(env, `?model=${MODEL}&backend=wasm&mode=mask2image&seed=8&steps=2`);
  for (const [path, name] of [
    [text, 'notes.txt'],
    [broken, 'broken.png'],
  ]) {
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
});

test('modes: WebGPU (step graphs) and WASM agree in Mask → image and Image → mask', { tag: ['@webgpu'] }, async ({ env }) => {
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
});

test('modes: URL round trip (mode, seed, steps preset from the URL; edits update it)', async ({ env }) => {
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
});

test('modes: URL round trip of clip (preset, edited, reloaded); a run with clip=both finishes on WASM and differs from clip=none', async ({ env }) => {
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
});
