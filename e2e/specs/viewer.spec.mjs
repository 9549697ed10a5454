// The viewer (zoom, pan, invert, window/level, readout, overlay, layout) and the timeline exports
// (APNG, contact sheet), each on a fresh WASM run of the tiny pair.
import assert from 'node:assert/strict';
import { test } from '../lib/fixtures.mjs';
import { decodePng } from '../lib/png.mjs';
import { downloadPair, generate, MODEL, note, openStudio, redrawn, SEED, STEPS } from '../lib/studio.mjs';
import { downloadOne, paneGeometry, paneImage, panePixel, pixelCentre, pngChunks, windowLevel } from '../lib/viewer.mjs';

// Each spec gets its own page: the tiny pair run on WASM (seed 7, 4 steps), drawn; no page error
// may happen on it.
const viewerTest = test.extend({
  viewer: async ({ env }, use) => {
    const { page, errors } = await openStudio(env, `?model=${MODEL}&backend=wasm&seed=${SEED}&steps=${STEPS}`);
    await generate(page);
    await redrawn(page);
    await use({ page, errors });
    assert.deepEqual(errors, [], 'page errors on the viewer page');
    await page.close();
  },
});

viewerTest('viewer: zoom in changes the rendered scale, pan moves it, Fit restores it', async ({ viewer }) => {
  const { page } = viewer;
  const fit = await paneGeometry(page, 'image');
  assert.ok(fit.scale > 1, `fit scale ${fit.scale}`);
  const before = await paneImage(page, 'image');
  await page.getByRole('button', { name: 'Zoom in', exact: true }).click();
  await redrawn(page);
  const zoomed = await paneGeometry(page, 'image');
  assert.ok(Math.abs(zoomed.scale / fit.scale - 1.5) < 1e-3, `zoom in: scale ${fit.scale} → ${zoomed.scale}`);
  assert.equal(await page.getByTestId('zoom-level').innerText(), '150%');
  assert.notEqual(await paneImage(page, 'image'), before, 'zooming in did not change the pixels');
  // All panes share the view.
  assert.equal((await paneGeometry(page, 'mask')).scale, zoomed.scale);
  // Drag 30 px right and 20 px down (Pan is the default drag tool).
  const start = { x: zoomed.left + zoomed.width / 2, y: zoomed.top + zoomed.height / 2 };
  const zoomedPixels = await paneImage(page, 'image');
  await page.mouse.move(start.x, start.y);
  await page.mouse.down();
  await page.mouse.move(start.x + 15, start.y + 10);
  await page.mouse.move(start.x + 30, start.y + 20);
  await page.mouse.up();
  await redrawn(page);
  const panned = await paneGeometry(page, 'image');
  assert.ok(
    Math.abs(panned.ox - zoomed.ox - 30) < 0.1 && Math.abs(panned.oy - zoomed.oy - 20) < 0.1,
    `pan moved the offset ${JSON.stringify([zoomed.ox, zoomed.oy])} → ${JSON.stringify([panned.ox, panned.oy])}`,
  );
  assert.notEqual(await paneImage(page, 'image'), zoomedPixels, 'panning did not change the pixels');
  // The wheel zooms too.
  await page.mouse.move(start.x, start.y);
  await page.mouse.wheel(0, -200);
  await redrawn(page);
  assert.ok((await paneGeometry(page, 'image')).scale > panned.scale, 'wheel up did not zoom in');
  await page.getByRole('button', { name: 'Fit', exact: true }).click();
  await redrawn(page);
  const back = await paneGeometry(page, 'image');
  assert.deepEqual([back.scale, back.ox, back.oy], [fit.scale, fit.ox, fit.oy]);
  assert.equal(await paneImage(page, 'image'), before, 'Fit did not restore the view');
  // The keyboard, on a focused pane: + zooms in, an arrow pans, 0 fits.
  await page.locator('canvas[data-view="image"]').focus();
  await page.keyboard.press('+');
  await page.keyboard.press('ArrowLeft');
  await redrawn(page);
  const keyed = await paneGeometry(page, 'image');
  assert.ok(Math.abs(keyed.scale / fit.scale - 1.5) < 1e-3, `+ key: scale ${keyed.scale}`);
  assert.ok(keyed.ox > zoomed.ox + 1, `ArrowLeft did not move the image right: ${zoomed.ox} → ${keyed.ox}`);
  await page.keyboard.press('0');
  await redrawn(page);
  assert.equal((await paneGeometry(page, 'image')).scale, fit.scale);
});

viewerTest('viewer: invert and the window/level presets change the image pixels as the mapping says', async ({ viewer }) => {
  const { page } = viewer;
  // Raw display: the image pane shows the downloaded PNG's values (Contrast stretch is a display option).
  const stretched = await paneImage(page, 'image');
  await page.getByLabel('Contrast stretch', { exact: true }).uncheck();
  await redrawn(page);
  assert.notEqual(await paneImage(page, 'image'), stretched, 'contrast stretch on and off look the same');
  const files = await downloadPair(page);
  const { width, gray } = files.image.png;
  // A mid-gray pixel, so that every preset below maps it strictly inside its window.
  const i = gray.findIndex((v) => v >= 100 && v <= 155);
  assert.ok(i >= 0, 'no mid-gray pixel in the image');
  const [x, y] = [i % width, Math.floor(i / width)];
  const d = gray[i];
  assert.deepEqual(await panePixel(page, 'image', x, y), [d, d, d, 255], 'the raw display differs from the PNG');
  await page.getByLabel('Invert', { exact: true }).check();
  await redrawn(page);
  assert.deepEqual(await panePixel(page, 'image', x, y), [255 - d, 255 - d, 255 - d, 255], 'invert');
  await page.getByLabel('Invert', { exact: true }).uncheck();
  for (const [name, w, l] of [
    ['High contrast', 64, 128],
    ['Mid-gray tissue', 128, 112],
  ]) {
    await page.getByLabel('Window preset', { exact: true }).selectOption(name);
    await redrawn(page);
    assert.equal(await page.getByLabel('Window', { exact: true }).inputValue(), String(w));
    assert.equal(await page.getByLabel('Level', { exact: true }).inputValue(), String(l));
    const v = windowLevel(d, w, l);
    assert.deepEqual(await panePixel(page, 'image', x, y), [v, v, v, 255], `${name}: ${d} → ${v}`);
  }
  note(`pixel (${x}, ${y}) = ${d}: inverted ${255 - d}, High contrast ${windowLevel(d, 64, 128)}, Mid-gray tissue ${windowLevel(d, 128, 112)}`);
  // Window/level by drag: with the W/L tool, right widens the window and down raises the level.
  await page.getByLabel('Window/level', { exact: true }).check();
  const g = await paneGeometry(page, 'image');
  await page.mouse.move(g.left + g.width / 2, g.top + g.height / 2);
  await page.mouse.down();
  await page.mouse.move(g.left + g.width / 2 + 20, g.top + g.height / 2 + 10);
  await page.mouse.up();
  await redrawn(page);
  assert.equal(await page.getByLabel('Window', { exact: true }).inputValue(), '148');
  assert.equal(await page.getByLabel('Level', { exact: true }).inputValue(), '122');
  assert.equal(await page.getByLabel('Window preset', { exact: true }).inputValue(), '', 'a dragged window/level is custom');
  assert.equal((await paneGeometry(page, 'image')).ox, g.ox, 'the W/L drag also panned');
  const v = windowLevel(d, 148, 122);
  assert.deepEqual(await panePixel(page, 'image', x, y), [v, v, v, 255], `dragged W/L: ${d} → ${v}`);
  await page.getByLabel('Pan', { exact: true }).check();
  await page.getByLabel('Window preset', { exact: true }).selectOption('Full range');
  await redrawn(page);
  assert.deepEqual(await panePixel(page, 'image', x, y), [d, d, d, 255], 'Full range is the identity');
  await page.getByLabel('Contrast stretch', { exact: true }).check();
});

viewerTest('viewer: the readout shows the hovered pixel as the downloaded PNGs have it', async ({ viewer }) => {
  const { page } = viewer;
  const files = await downloadPair(page);
  const { width } = files.image.png;
  const mask = files.mask.png.gray;
  const lesion = mask.indexOf(255);
  const points = [[3, 28]];
  if (lesion >= 0) points.push([lesion % width, Math.floor(lesion / width)]);
  else note('the mask is empty: only a background pixel is read');
  const readout = page.getByRole('group', { name: 'Pixel readout', exact: true });
  const readAt = async (kind, x, y) => {
    const p = await pixelCentre(page, kind, x, y);
    await page.mouse.move(p.x, p.y);
    await page.waitForFunction(
      ([x, y]) => {
        const el = document.querySelector('[aria-label="Pixel readout"]');
        return el?.dataset.x === String(x) && el?.dataset.y === String(y);
      },
      [x, y],
    );
    const i = y * width + x;
    assert.equal(await readout.getAttribute('data-image8'), String(files.image.png.gray[i]), `image value at (${x}, ${y})`);
    assert.equal(await readout.getAttribute('data-mask-bit'), mask[i] === 255 ? '1' : '0', `mask value at (${x}, ${y})`);
    const text = (await readout.innerText()).replace(/\s+/g, ' ');
    assert.match(text, new RegExp(`x ${x}, y ${y}`));
    assert.match(text, new RegExp(`image ${files.image.png.gray[i]} / 255 \\(-?\\d\\.\\d{3}\\)`));
    assert.match(text, new RegExp(`B = ${mask[i] === 255 ? 1 : 0}`));
    return text;
  };
  for (const [x, y] of points) note(`readout at (${x}, ${y}) on the image: ${await readAt('image', x, y)}`);
  // Zoomed in (about the centre, 1.5×: pixels 5 … 26 in view) the mapping is not the trivial one.
  await page.getByRole('button', { name: 'Zoom in', exact: true }).click();
  await redrawn(page);
  await readAt('image', 12, 19);
  await readAt('mask', 25, 6);
  await page.getByRole('button', { name: 'Fit', exact: true }).click();
  await redrawn(page);
  // Over the overlay pane too (same mapping), and nothing once the pointer leaves.
  const [x, y] = points[points.length - 1];
  const p = await pixelCentre(page, 'overlay', x, y);
  await page.mouse.move(p.x, p.y);
  await page.waitForFunction(([x]) => document.querySelector('[aria-label="Pixel readout"]')?.dataset.x === String(x), [x]);
  await page.mouse.move(2, 2);
  await page.waitForFunction(() => document.querySelector('[aria-label="Pixel readout"]')?.dataset.x === undefined);
});

viewerTest('viewer: overlay opacity and outline change the composite; the overlaid layout shows one view', async ({ viewer }) => {
  const { page } = viewer;
  const files = await downloadPair(page);
  await redrawn(page);
  const before = await paneImage(page, 'overlay');
  const { width } = files.image.png;
  const lesion = files.mask.png.gray.indexOf(255);
  await page.getByLabel('Overlay opacity', { exact: true }).fill('1');
  await redrawn(page);
  if (lesion >= 0) {
    assert.notEqual(await paneImage(page, 'overlay'), before, 'opacity 1 did not change the overlay');
    const [x, y] = [lesion % width, Math.floor(lesion / width)];
    assert.deepEqual(await panePixel(page, 'overlay', x, y), [255, 140, 60, 255], 'a lesion pixel at opacity 1 is the overlay colour');
    await page.getByLabel('Overlay opacity', { exact: true }).fill('0');
    await redrawn(page);
    const [g] = await panePixel(page, 'image', x, y);
    assert.deepEqual(await panePixel(page, 'overlay', x, y), [g, g, g, 255], 'opacity 0 shows the image');
    const withOutline = await paneImage(page, 'overlay');
    await page.getByLabel('Outline', { exact: true }).uncheck();
    await redrawn(page);
    assert.notEqual(await paneImage(page, 'overlay'), withOutline, 'the outline toggle changed nothing');
    assert.equal(await paneImage(page, 'overlay'), await paneImage(page, 'image'), 'opacity 0, no outline: the overlay is the image');
    await page.getByLabel('Outline', { exact: true }).check();
  } else {
    note('the mask is empty: opacity cannot change the composite');
  }
  await page.getByLabel('Overlay opacity', { exact: true }).fill('0.25');
  await page.getByLabel('Layout', { exact: true }).selectOption('overlaid');
  await redrawn(page);
  assert.equal(await page.locator('canvas[data-view]').count(), 1);
  assert.equal(await page.locator('canvas[data-view="overlay"]').count(), 1);
  await page.getByLabel('Layout', { exact: true }).selectOption('side-by-side');
  await redrawn(page);
  assert.equal(await page.locator('canvas[data-view]').count(), 3);
});

viewerTest('timeline export: animation (APNG, one frame per step) and contact sheet (PNG grid)', async ({ viewer, model }) => {
  const { page } = viewer;
  const { width, height } = model;
  const base = `${model.name}_seed${SEED}_steps${STEPS}`;
  const anim = await downloadOne(page, 'Export animation');
  assert.equal(anim.name, `${base}_animation.png`);
  const chunks = pngChunks(anim.bytes);
  const types = chunks.map((c) => c.type);
  const actl = chunks.find((c) => c.type === 'acTL');
  assert.ok(actl, `no acTL chunk: ${types.join(' ')}`);
  assert.equal(actl.data.readUInt32BE(0), STEPS, 'acTL frame count');
  assert.equal(types.filter((t) => t === 'fcTL').length, STEPS);
  assert.equal(types.filter((t) => t === 'fdAT').length, STEPS - 1);
  assert.ok(types.indexOf('acTL') < types.indexOf('IDAT'), 'acTL must come before IDAT');
  // mask | 4 px | image, each upscaled by floor(256 / width)
  const k = Math.max(1, Math.floor(256 / width));
  const ihdr = chunks[0].data;
  assert.deepEqual([ihdr.readUInt32BE(0), ihdr.readUInt32BE(4)], [2 * width * k + 4, height * k]);
  // The first frame is a plain PNG too (what PNG-only readers show): step 1, checked by pngjs.
  const first = decodePng(anim.bytes);
  assert.equal(first.width, 2 * width * k + 4);
  note(`${anim.name}: ${anim.bytes.length} bytes, ${STEPS} frames of ${first.width}×${first.height}`);
  // With the viewer's layout Overlaid, the animation is the overlay: RGB, one tile wide.
  await page.getByLabel('Layout', { exact: true }).selectOption('overlaid');
  const overlaid = pngChunks((await downloadOne(page, 'Export animation')).bytes);
  const oh = overlaid[0].data;
  assert.deepEqual([oh.readUInt32BE(0), oh.readUInt32BE(4), oh[9]], [width * k, height * k, 2], 'overlaid animation: size and colour type RGB');
  assert.equal(overlaid.find((c) => c.type === 'acTL').data.readUInt32BE(0), STEPS);
  await page.getByLabel('Layout', { exact: true }).selectOption('side-by-side');

  // Contact sheet: by default ~8 evenly spaced steps, here all 4; tiles floor(128 / width)×.
  const s = Math.max(1, Math.floor(128 / width));
  const sheetSize = (columns) => [16 + columns * width * s + (columns - 1) * 8, 16 + 22 + 2 * height * s + 8];
  const sheet = await downloadOne(page, 'Export contact sheet');
  assert.equal(sheet.name, `${base}_contact-sheet.png`);
  const png = decodePng(sheet.bytes);
  assert.deepEqual([png.width, png.height], sheetSize(Math.min(8, STEPS)));
  assert.equal(png.colorType, 'gray');
  note(`${sheet.name}: ${png.width}×${png.height}`);
  // A chosen list of steps.
  await page.getByLabel('Contact sheet steps', { exact: true }).selectOption('list');
  await page.getByLabel('Step list', { exact: true }).fill('1, 4');
  const two = decodePng((await downloadOne(page, 'Export contact sheet')).bytes);
  assert.deepEqual([two.width, two.height], sheetSize(2));
  // A bad list is named in an alert, and the page keeps working.
  await page.getByLabel('Step list', { exact: true }).fill('9');
  await page.getByRole('button', { name: 'Export contact sheet', exact: true }).click();
  const alert = page.getByRole('alert');
  await alert.waitFor({ timeout: 10_000 });
  assert.match(await alert.innerText(), /Step 9 is outside 1 … 4/);
  note(`alert: ${(await alert.innerText()).replace(/\s+/g, ' ')}`);
});
