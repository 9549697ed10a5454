// Mask → image and image → mask input: a folder of PNGs, each decoded with pngjs and prepared exactly
// as the studio prepares an upload (core/condition.ts): a mask by maskFromPixels (luminance, the
// higher of two gray levels or ≥ 50 % luminance is lesion, area-averaged to the model's size, ≥ 50 %
// covered), an image by imageFromPixels (luminance, bilinear to the model's size, [−1, 1]).
// Entries that are not .png files are skipped with a note; a .png that is not a readable PNG is
// refused. Node only (fs, pngjs).
import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { ConditionError, imageFromPixels, maskFromPixels, type PixelImage } from '../core/condition';
import { readImageHeader, uploadSizeProblem } from '../core/image-header';
import type { InputKind, PreparedInput } from './plan';

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
// PNG colour type (IHDR) → the channels maskFromPixels reads; pngjs always hands back RGBA.
// Palette images are RGB once expanded (PIL's convert("L") of a "P" image goes through RGB).
const CHANNELS: Record<number, PixelImage['channels']> = { 0: 1, 2: 3, 3: 3, 4: 2, 6: 4 };

/** Thrown for a problem with --masks/--images or a file in it; the message names the file. */
export class MaskFolderError extends Error {
  constructor(
    message: string,
    readonly kind: InputKind = 'mask',
  ) {
    super(message);
    this.name = 'MaskFolderError';
  }
}

const FLAG: Record<InputKind, string> = { mask: '--masks', image: '--images' };
/** Most skipped entries a note names (the rest are counted). */
const NOTE_NAMES = 5;

/**
 * Decodes a PNG to the samples a PIL-based loader sees: 16-bit samples kept (condition.ts reduces
 * them as PIL does), 1/2/4-bit gray scaled to 8 bits as PIL's "L" mode holds them.
 */
function decodePngPixels(bytes: Uint8Array, what: string, kind: InputKind): PixelImage {
  if (bytes.length < 33 || PNG_SIGNATURE.some((b, i) => bytes[i] !== b)) {
    throw new MaskFolderError(`${what} is not a PNG file (no PNG signature); ${FLAG[kind]} takes PNG ${kind}s only`);
  }
  // the header's size before decoding: a few kilobytes of zeros can claim 12000×12000 (1.2 GB decoded)
  const header = readImageHeader(bytes);
  const tooLarge = header && uploadSizeProblem(header.width, header.height, FLAG[kind]);
  if (tooLarge) throw new MaskFolderError(`${what}: ${tooLarge}`);
  const depth = bytes[24]; // IHDR's bit depth: 8-byte signature, 4 length, 4 type, 4 width, 4 height
  let png;
  try {
    png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), { skipRescale: depth === 16 });
  } catch (e) {
    throw new MaskFolderError(`${what} is not a readable PNG: ${(e as Error).message}`);
  }
  const channels = CHANNELS[png.colorType];
  if (channels === undefined) throw new MaskFolderError(`${what} has PNG colour type ${png.colorType}, which is not a valid PNG colour type`);
  const n = png.width * png.height;
  const rgba = png.data as unknown as Uint8Array | Uint16Array;
  const bitDepth = depth === 16 ? 16 : 8;
  const data = bitDepth === 16 ? new Uint16Array(n * channels) : new Uint8Array(n * channels);
  // which RGBA samples each channel layout keeps: gray → R; gray+alpha → R, A; RGB(A) → in order
  const pick = channels === 1 ? [0] : channels === 2 ? [0, 3] : channels === 3 ? [0, 1, 2] : [0, 1, 2, 3];
  for (let i = 0; i < n; i++) for (let c = 0; c < channels; c++) data[i * channels + c] = rgba[i * 4 + pick[c]];
  return { width: png.width, height: png.height, channels, bitDepth, data };
}

/**
 * Every PNG in `dir` (name order) prepared as a `kind` for a model of `size` = [H, W]. Entries that
 * are not .png files (a notes.txt, a subfolder) are skipped and named in one note; hidden ones
 * silently; `note` gets that line before any PNG is read. A folder with bad PNGs is refused file by file: every one named in one error (a single
 * one on one line).
 */
export async function readInputFolder(dir: string, size: readonly [number, number], kind: InputKind, note: (line: string) => void): Promise<PreparedInput[]> {
  const flag = FLAG[kind];
  const fail = (message: string) => new MaskFolderError(message, kind);
  const info = await stat(dir).catch(() => null);
  if (!info) throw fail(`${flag} ${dir} does not exist`);
  if (!info.isDirectory()) throw fail(`${flag} ${dir} is a file, not a folder of ${kind} PNGs`);
  const entries = (await readdir(dir, { withFileTypes: true }))
    .filter((e) => !e.name.startsWith('.'))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const others = entries.filter((e) => !(e.isFile() && /\.png$/i.test(e.name)));
  const pngs = entries.filter((e) => !others.includes(e));
  if (others.length > 0) {
    const names = others.slice(0, NOTE_NAMES).map((e) => `"${e.name}"${e.isDirectory() ? ' (a folder)' : ''}`);
    if (others.length > NOTE_NAMES) names.push(`and ${others.length - NOTE_NAMES} more`);
    note(
      `${flag} ${dir}: skipped ${others.length === 1 ? 'an entry' : `${others.length} entries`} that ${others.length === 1 ? 'is' : 'are'} not a .png file: ${names.join(', ')}`,
    );
  }
  if (pngs.length === 0)
    throw fail(
      `${flag} ${dir} holds no .png file${others.length ? ` (only ${others.length} other entr${others.length === 1 ? 'y' : 'ies'})` : ''}: put one PNG ${kind} per case in it`,
    );
  const inputs: PreparedInput[] = [];
  const problems: string[] = [];
  for (const e of pngs) {
    const path = join(dir, e.name);
    try {
      const bytes = new Uint8Array(
        await readFile(path).catch((err: NodeJS.ErrnoException) => {
          throw fail(`${path} cannot be read (${err.code ?? err.message})`);
        }),
      );
      let values: Float32Array;
      let what: string;
      try {
        const pixels = decodePngPixels(bytes, path, kind);
        if (kind === 'mask') {
          const prepared = maskFromPixels(pixels, size);
          values = Float32Array.from(prepared.mask, (v) => (v ? 1 : -1));
          what = prepared.note;
        } else ({ image: values, note: what } = imageFromPixels(pixels, size));
      } catch (err) {
        if (err instanceof ConditionError) throw fail(`${path}: ${err.message}`);
        throw err;
      }
      inputs.push({ file: e.name, sha256: createHash('sha256').update(bytes).digest('hex'), values, note: what });
    } catch (err) {
      if (!(err instanceof MaskFolderError)) throw err;
      problems.push(err.message);
    }
  }
  if (problems.length === 1) throw fail(problems[0]);
  if (problems.length > 1) {
    throw fail(`${flag} ${dir}: ${problems.length} problems, nothing was generated; fix or remove these files and run again:\n  ${problems.join('\n  ')}`);
  }
  return inputs;
}
