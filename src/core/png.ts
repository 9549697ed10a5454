// Minimal 8-bit PNG encoder (gray or RGB) for the exported pair and figures (browser, worker and Node
// alike). Its pieces (header, scanlines, chunks, zlib) are exported for the APNG writer (apng.ts).
//
// - The image: ŷ₀ in model units, clamped to [−1, 1], mapped to [0, 255] by
//   floor((y + 1)·127.5 + 0.5) evaluated in float32 steps, i.e. rounded half away from zero
//   (the same as the kit's `binarize.to_uint8`).
// - The mask: 8-bit grayscale with exactly two values, 0 = background, 255 = lesion. Chosen over
//   1-bit PNG because every segmentation tool (PIL "L" mode, OpenCV IMREAD_GRAYSCALE, ITK, the
//   BUSI/BUS-BRA datasets themselves) reads it as is; `> 127` or `> 0` gives the binary mask.
// - The label map (dataset export, nnU-Net): the same mask with 0 = background, 1 = lesion, because
//   nnU-Net requires consecutive integer labels (dataset.json "labels").
//
// Compression: fflate's deflate (pure JavaScript, level 9), so a PNG is the same bytes in the
// browser, its worker and Node (the platforms' own zlibs deflate the same pixels differently, which
// kept the dataset export uncompressed before); `compress: false` writes stored (uncompressed)
// deflate blocks, which every decoder reads too.

import { zlibSync } from 'fflate';
import { crc32 } from './crc32';

export const PNG_SIGNATURE = new Uint8Array([137, 80, 78, 71, 13, 10, 26, 10]);

function adler32(bytes: Uint8Array): number {
  let a = 1;
  let b = 0;
  for (let i = 0; i < bytes.length; i++) {
    a = (a + bytes[i]) % 65521;
    b = (b + a) % 65521;
  }
  return ((b << 16) | a) >>> 0;
}

/** Raw deflate (RFC 1951) of `data` as stored (uncompressed) blocks of at most 65535 bytes. */
export function deflateStored(data: Uint8Array): Uint8Array {
  const blocks = Math.max(1, Math.ceil(data.length / 65535));
  const out = new Uint8Array(data.length + blocks * 5);
  let o = 0;
  for (let b = 0; b < blocks; b++) {
    const start = b * 65535;
    const len = Math.min(65535, data.length - start);
    out[o++] = b === blocks - 1 ? 1 : 0;
    out[o++] = len & 0xff;
    out[o++] = len >>> 8;
    out[o++] = ~len & 0xff;
    out[o++] = (~len >>> 8) & 0xff;
    out.set(data.subarray(start, start + len), o);
    o += len;
  }
  return out;
}

/** zlib stream with stored (uncompressed) deflate blocks: the same bytes on every platform. */
export function zlibStored(data: Uint8Array): Uint8Array {
  const ad = adler32(data);
  return concatBytes([new Uint8Array([0x78, 0x01]), deflateStored(data), new Uint8Array([ad >>> 24, (ad >>> 16) & 0xff, (ad >>> 8) & 0xff, ad & 0xff])]);
}

/** How hard fflate deflates (0 … 9); its bytes depend only on this and the input, on every platform. */
export const DEFLATE_LEVEL = 9;

/** zlib (RFC 1950) of `data`, deflated by fflate: the same bytes on every platform. */
export async function zlibCompress(data: Uint8Array): Promise<Uint8Array> {
  return zlibSync(data, { level: DEFLATE_LEVEL });
}

/** One PNG chunk: length, type, data, CRC-32 over type and data. */
export function pngChunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

export interface PngOptions {
  /** false: stored deflate blocks (no compression). Default true: fflate's deflate. */
  compress?: boolean;
  /** tEXt chunks (keyword → text) written after IHDR, before the pixels: provenance any PNG reader shows (PIL's `Image.text`). */
  text?: readonly (readonly [string, string])[];
}

/**
 * A tEXt chunk (PNG spec §11.3.4.3): keyword (1–79 printable Latin-1, no leading, trailing or double
 * space), a NUL, the text. The text is written as printable ASCII: anything else (a model name in
 * another script, a control character) as a \uXXXX escape, so every reader gets the same string.
 */
function pngTextChunk(keyword: string, text: string): Uint8Array {
  if (!/^[\x21-\x7e\xa1-\xff](?:[\x21-\x7e\xa1-\xff]| (?! ))*$/.test(keyword) || keyword.length > 79 || keyword.endsWith(' '))
    throw new Error(`PNG tEXt keyword "${keyword}" is not 1–79 printable Latin-1 characters`);
  const ascii = text.replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  const data = new Uint8Array(keyword.length + 1 + ascii.length);
  for (let i = 0; i < keyword.length; i++) data[i] = keyword.charCodeAt(i);
  for (let i = 0; i < ascii.length; i++) data[keyword.length + 1 + i] = ascii.charCodeAt(i);
  return pngChunk('tEXt', data);
}

/** PNG colour types this encoder writes, by channels per pixel: 1 = gray (0), 3 = RGB (2). */
export type PngChannels = 1 | 3;

/** IHDR data for 8-bit pixels with 1 (gray) or 3 (RGB) channels, no interlace. */
export function pngHeader(width: number, height: number, channels: PngChannels = 1): Uint8Array {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) throw new Error(`bad PNG size ${width}×${height}`);
  const ihdr = new Uint8Array(13);
  const v = new DataView(ihdr.buffer);
  v.setUint32(0, width);
  v.setUint32(4, height);
  ihdr[8] = 8; // bit depth
  ihdr[9] = channels === 3 ? 2 : 0; // colour type: RGB or grayscale
  ihdr[10] = 0; // deflate
  ihdr[11] = 0; // adaptive filtering
  ihdr[12] = 0; // no interlace
  return ihdr;
}

/** The scanlines PNG compresses: each row of `channels`-byte pixels behind a filter byte (0, none). */
export function pngScanlines(pixels: Uint8Array, width: number, height: number, channels: PngChannels = 1): Uint8Array {
  const stride = width * channels;
  if (pixels.length !== stride * height) {
    const got = channels === 1 ? `${pixels.length} pixels` : `${pixels.length} bytes (${channels} per pixel)`;
    throw new Error(`PNG: ${got} for ${width}×${height}`);
  }
  const raw = new Uint8Array(height * (stride + 1));
  for (let y = 0; y < height; y++) raw.set(pixels.subarray(y * stride, (y + 1) * stride), y * (stride + 1) + 1);
  return raw;
}

/** The parts of a file, one after another. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Encodes H·W 8-bit pixels (row-major; 1 byte gray or 3 bytes RGB each) as a PNG file. */
export async function encodePng(pixels: Uint8Array, width: number, height: number, channels: PngChannels, opts: PngOptions = {}): Promise<Uint8Array> {
  const ihdr = pngHeader(width, height, channels);
  const raw = pngScanlines(pixels, width, height, channels);
  const idat = opts.compress === false ? zlibStored(raw) : await zlibCompress(raw);
  const text = (opts.text ?? []).map(([k, v]) => pngTextChunk(k, v));
  return concatBytes([PNG_SIGNATURE, pngChunk('IHDR', ihdr), ...text, pngChunk('IDAT', idat), pngChunk('IEND', new Uint8Array(0))]);
}

/** Encodes H·W 8-bit gray pixels (row-major) as a PNG file. */
export function encodeGrayPng(pixels: Uint8Array, width: number, height: number, opts: PngOptions = {}): Promise<Uint8Array> {
  return encodePng(pixels, width, height, 1, opts);
}

/** Model units → 8-bit: clamp [−1, 1], floor((y + 1)·127.5 + 0.5) in float32 steps. */
export function imageToGray8(y: Float32Array): Uint8Array {
  const out = new Uint8Array(y.length);
  const f = Math.fround;
  for (let i = 0; i < y.length; i++) {
    const c = y[i] < -1 ? -1 : Math.min(y[i], 1);
    out[i] = Math.floor(f(f(f(c + 1) * 127.5) + 0.5));
  }
  return out;
}

/** Mask (±1 floats, or 0/1 bytes) → 0/`lesion` bytes (default 255): lesion where the value is > 0. */
export function maskToGray8(mask: Float32Array | Uint8Array, lesion = 255): Uint8Array {
  const out = new Uint8Array(mask.length);
  for (let i = 0; i < mask.length; i++) out[i] = mask[i] > 0 ? lesion : 0;
  return out;
}

export function encodeImagePng(y: Float32Array, width: number, height: number, opts?: PngOptions): Promise<Uint8Array> {
  return encodeGrayPng(imageToGray8(y), width, height, opts);
}

export function encodeMaskPng(mask: Float32Array | Uint8Array, width: number, height: number, opts?: PngOptions): Promise<Uint8Array> {
  return encodeGrayPng(maskToGray8(mask), width, height, opts);
}

/** The mask as a label map PNG: 0 = background, 1 = lesion (nnU-Net's labelsTr). */
export function encodeLabelPng(mask: Float32Array | Uint8Array, width: number, height: number, opts?: PngOptions): Promise<Uint8Array> {
  return encodeGrayPng(maskToGray8(mask, 1), width, height, opts);
}
