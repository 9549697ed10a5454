// Viewer and timeline-export helpers: a pane's zoom/pan, its pixels, PNG chunks, the window/level mapping.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';

// Viewer and timeline-export helpers

/** A pane's zoom/pan as it draws it: CSS px per image pixel and offset, from its data attributes. */
export async function paneGeometry(page, kind) {
  return page.evaluate((kind) => {
    const c = document.querySelector(`canvas[data-view="${kind}"]`);
    const r = c.getBoundingClientRect();
    const [ox, oy] = (c.dataset.offset ?? '0,0').split(',').map(Number);
    return { scale: Number(c.dataset.scale), ox, oy, left: r.left, top: r.top, width: r.width, height: r.height };
  }, kind);
}

/** Where image pixel (x, y)'s centre is on the page, in the given pane. */
export async function pixelCentre(page, kind, x, y) {
  const g = await paneGeometry(page, kind);
  return { x: g.left + g.ox + (x + 0.5) * g.scale, y: g.top + g.oy + (y + 0.5) * g.scale };
}

/** The RGBA a pane shows at image pixel (x, y)'s centre (read from its canvas). */
export async function panePixel(page, kind, x, y) {
  return page.evaluate(
    ([kind, x, y]) => {
      const c = document.querySelector(`canvas[data-view="${kind}"]`);
      const [ox, oy] = c.dataset.offset.split(',').map(Number);
      const s = Number(c.dataset.scale);
      const dpr = c.width / c.clientWidth;
      const d = c.getContext('2d').getImageData(Math.floor((ox + (x + 0.5) * s) * dpr), Math.floor((oy + (y + 0.5) * s) * dpr), 1, 1).data;
      return Array.from(d);
    },
    [kind, x, y],
  );
}

export const paneImage = (page, kind) => page.evaluate((kind) => document.querySelector(`canvas[data-view="${kind}"]`).toDataURL(), kind);

/** Clicks the button and returns the one download it starts: { name, bytes }. */
export async function downloadOne(page, buttonName) {
  const [d] = await Promise.all([page.waitForEvent('download', { timeout: 60_000 }), page.getByRole('button', { name: buttonName, exact: true }).click()]);
  const failure = await d.failure();
  assert.equal(failure, null, `download ${d.suggestedFilename()} failed: ${failure}`);
  return { name: d.suggestedFilename(), bytes: await readFile(await d.path()) };
}

/** The PNG's chunks in order: { type, data }. */
export function pngChunks(bytes) {
  assert.ok(bytes.subarray(0, 8).equals(Buffer.from([137, 80, 78, 71, 13, 10, 26, 10])), 'not a PNG (bad signature)');
  const chunks = [];
  for (let o = 8; o + 12 <= bytes.length; ) {
    const length = bytes.readUInt32BE(o);
    chunks.push({ type: bytes.toString('latin1', o + 4, o + 8), data: bytes.subarray(o + 8, o + 8 + length) });
    o += 12 + length;
  }
  return chunks;
}

/** The reference window/level mapping, written out again here: round(clamp((d − (L − W/2)) / W, 0, 1) · 255). */
export function windowLevel(d, window, level) {
  return Math.round(Math.min(1, Math.max(0, (d - (level - window / 2)) / window)) * 255);
}
