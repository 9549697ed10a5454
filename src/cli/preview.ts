// --preview: a contact sheet of a dataset folder, preview.png: its first PREVIEW_CASES cases (by
// name), each as the mask (white lesion) beside the image, 4 to a row. Like the index it is made
// from the records and the files on disk, so shards and resumed runs give the same sheet.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { PNG } from 'pngjs';
import type { CaseRecord } from '../core/dataset/nnunet';
import { encodeGrayPng } from '../core/png';
import { readRecords, writeAtomic } from './dataset-folder';

export const PREVIEW_FILE = 'preview.png';
export const PREVIEW_CASES = 16;
const COLUMNS = 4;
/** Pixels between mask and image, and around each pair. */
const GAP = 2;
const PAIR_GAP = 6;
const BACKGROUND = 96;
const NIFTI_VOX_OFFSET = 352;

/** A case file's 8-bit gray pixels (H·W, row-major): PNG via pngjs, or our NIfTI's uint8 voxels (dataset/nifti.ts: row-major after the header). */
async function grayOf(path: string, [H, W]: readonly [number, number]): Promise<Uint8Array> {
  const bytes = await readFile(path);
  if (path.endsWith('.nii.gz')) return new Uint8Array(gunzipSync(bytes).subarray(NIFTI_VOX_OFFSET, NIFTI_VOX_OFFSET + H * W));
  const png = PNG.sync.read(bytes);
  return Uint8Array.from({ length: H * W }, (_, i) => png.data[4 * i]);
}

/** Writes (or rewrites) out/preview.png from the first PREVIEW_CASES complete cases; none: no sheet. */
export async function writePreview(out: string, [H, W]: readonly [number, number]): Promise<void> {
  const records: CaseRecord[] = [...(await readRecords(out)).values()]
    .map((s) => s.case)
    .sort((a, b) => (a.case < b.case ? -1 : a.case > b.case ? 1 : 0))
    .slice(0, PREVIEW_CASES);
  if (records.length === 0) return;
  const cols = Math.min(COLUMNS, records.length);
  const rows = Math.ceil(records.length / COLUMNS);
  const tileW = 2 * W + GAP;
  const width = cols * tileW + (cols + 1) * PAIR_GAP;
  const height = rows * H + (rows + 1) * PAIR_GAP;
  const sheet = new Uint8Array(width * height).fill(BACKGROUND);
  for (const [k, r] of records.entries()) {
    const label = r.files.find((f) => f.startsWith('labelsTr/'));
    const image = r.files.find((f) => f.startsWith('imagesTr/'));
    if (!label || !image) continue;
    const [mask, gray] = [await grayOf(join(out, label), [H, W]), await grayOf(join(out, image), [H, W])];
    const x0 = PAIR_GAP + (k % COLUMNS) * (tileW + PAIR_GAP);
    const y0 = PAIR_GAP + Math.floor(k / COLUMNS) * (H + PAIR_GAP);
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++) {
        sheet[(y0 + y) * width + x0 + x] = mask[y * W + x] > 0 ? 255 : 0; // the label's 0/1 as black/white
        sheet[(y0 + y) * width + x0 + W + GAP + x] = gray[y * W + x];
      }
  }
  await writeAtomic(out, PREVIEW_FILE, await encodeGrayPng(sheet, width, height));
}
