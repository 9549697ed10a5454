// A user's mask or image (decoded pixels of any size) → the model's input, the way the kit's
// training loader (training/pigkit/data.py) prepares its data, so the condition the studio hands
// a model is what that model was trained on. DOM-free: the browser (after createImageBitmap), the
// worker and the Node CLI (after PNG decoding) all use it.
//
// What the loader does, and so what this file does, step by step:
//   luminance  PIL's convert("L"): 8-bit gray as is; RGB(A) → (19595 R + 38470 G + 7471 B + 2¹⁵) >> 16
//              (ITU-R 601-2 in 16.16 fixed point), alpha ignored. 16-bit samples are read as PIL
//              opens them: RGB(A) and gray+alpha keep the high byte; 16-bit gray is min–max
//              stretched to 8 bits for images, clipped to 255 for masks (PIL's I → L).
//   size       stretched to the model's H×W: the aspect ratio is not kept (PIG's preprocessing of
//              whole slices); non-square inputs are resized, never cropped.
//   image      PIL bilinear resize (antialiased when shrinking), then v / 127.5 − 1 in float32.
//   mask       lesion = the higher of ≤ 2 gray levels (0/255, 0/1 …); then PIL box (area-average)
//              resize of the 0/255 lesion map; lesion where ≥ 50 % of a model pixel is covered.
// Area-averaging, not bilinear, for masks: a model pixel becomes lesion exactly when at least half
// of the area it covers is lesion, so the lesion's area and outline survive any downscale, and it
// is the loader's rule. Beyond the loader: a mask with more than two gray levels (antialiased
// strokes, a JPEG) is thresholded at 50 % luminance first instead of being refused, and the note
// says so.
//
// Both resizes reproduce Pillow's ImagingResample bit for bit (8-bit fixed-point coefficients,
// horizontal pass first into an 8-bit intermediate), which the golden test checks against the
// loader itself (src/core/fixtures/condition-golden.json, made by make-condition-golden.py).

/** Decoded pixels, row-major, `channels` samples per pixel: 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA. */
export interface PixelImage {
  width: number;
  height: number;
  channels: 1 | 2 | 3 | 4;
  bitDepth: 8 | 16;
  /** width·height·channels samples (Uint16Array for 16-bit, Uint8(Clamped)Array for 8-bit). */
  data: Uint8Array | Uint8ClampedArray | Uint16Array;
}

/** A problem with the user's pixels, in words a person can act on. */
export class ConditionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConditionError';
  }
}

export interface MaskCondition {
  /** 0/1 per pixel, H·W row-major: the model's mask input (1 = lesion). */
  mask: Uint8Array;
  /** Fraction of lesion pixels, in (0, 1] (0 … 1 with `allowEmpty`). */
  lesionFraction: number;
  /** What was done, for the user: "resized 500×380 → 64×64 …; 12.3% lesion". */
  note: string;
}

export interface ImageCondition {
  /** H·W float32 in model units [−1, 1], as the loader scales its images. */
  image: Float32Array;
  /** The 8-bit luminance at the model's size that `image` was scaled from (for display). */
  gray: Uint8Array;
  note: string;
}

// ---------------------------------------------------------------------------------------------
// Pillow's resampling (libImaging/Resample.c), 8-bit path

type Filter = { support: number; weight(x: number): number };

const BOX: Filter = { support: 0.5, weight: (x) => (x > -0.5 && x <= 0.5 ? 1 : 0) };
const BILINEAR: Filter = {
  support: 1,
  weight: (x) => {
    const a = Math.abs(x);
    return a < 1 ? 1 - a : 0;
  },
};

/** Pillow's PRECISION_BITS for 8-bit images: coefficients are 22-bit fixed point. */
const PRECISION_BITS = 32 - 8 - 2;

/** Per output sample: the first input index, how many inputs, and their fixed-point weights. */
function coefficients(inSize: number, outSize: number, filter: Filter): { first: Int32Array; count: Int32Array; weights: Int32Array; ksize: number } {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = filter.support * filterScale;
  const ksize = Math.ceil(support) * 2 + 1;
  const first = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Int32Array(outSize * ksize);
  const k = new Float64Array(ksize);
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    // C's (int) truncates toward zero
    const xmin = Math.max(0, Math.trunc(center - support + 0.5));
    const xmax = Math.min(inSize, Math.trunc(center + support + 0.5)) - xmin;
    const ss = 1 / filterScale; // multiplied, not divided, as Pillow does (same rounding)
    let sum = 0;
    for (let x = 0; x < xmax; x++) {
      k[x] = filter.weight((x + xmin - center + 0.5) * ss);
      sum += k[x];
    }
    for (let x = 0; x < xmax; x++) {
      const w = sum !== 0 ? k[x] / sum : k[x];
      weights[xx * ksize + x] = Math.trunc(w < 0 ? -0.5 + w * (1 << PRECISION_BITS) : 0.5 + w * (1 << PRECISION_BITS));
    }
    first[xx] = xmin;
    count[xx] = xmax;
  }
  return { first, count, weights, ksize };
}

function clip8(acc: number): number {
  if (acc >= 1 << (PRECISION_BITS + 8)) return 255;
  if (acc <= 0) return 0;
  return acc >> PRECISION_BITS;
}

/** Resizes an 8-bit gray image as Pillow's Image.resize((outW, outH), BOX | BILINEAR) does. */
export function resizeGray8(src: Uint8Array, width: number, height: number, outWidth: number, outHeight: number, filter: 'box' | 'bilinear'): Uint8Array {
  const f = filter === 'box' ? BOX : BILINEAR;
  let cur = src;
  let w = width;
  const half = 1 << (PRECISION_BITS - 1);
  if (outWidth !== width) {
    const c = coefficients(width, outWidth, f);
    const out = new Uint8Array(outWidth * height);
    for (let y = 0; y < height; y++) {
      for (let xx = 0; xx < outWidth; xx++) {
        let acc = half;
        const base = y * width + c.first[xx];
        for (let x = 0; x < c.count[xx]; x++) acc += cur[base + x] * c.weights[xx * c.ksize + x];
        out[y * outWidth + xx] = clip8(acc);
      }
    }
    cur = out;
    w = outWidth;
  }
  if (outHeight !== height) {
    const c = coefficients(height, outHeight, f);
    const out = new Uint8Array(w * outHeight);
    for (let yy = 0; yy < outHeight; yy++) {
      for (let x = 0; x < w; x++) {
        let acc = half;
        for (let y = 0; y < c.count[yy]; y++) acc += cur[(c.first[yy] + y) * w + x] * c.weights[yy * c.ksize + y];
        out[yy * w + x] = clip8(acc);
      }
    }
    cur = out;
  }
  return cur === src ? src.slice() : cur;
}

// ---------------------------------------------------------------------------------------------
// Pixels → 8-bit luminance

function checkPixels(px: PixelImage, what: string): void {
  const { width, height, channels, bitDepth, data } = px;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new ConditionError(`The ${what} is empty: it has ${width}×${height} pixels.`);
  }
  if (![1, 2, 3, 4].includes(channels))
    throw new ConditionError(`The ${what} has ${channels} channels; expected 1 (gray), 2 (gray+alpha), 3 (RGB) or 4 (RGBA).`);
  if (bitDepth !== 8 && bitDepth !== 16) throw new ConditionError(`The ${what} has ${bitDepth}-bit samples; expected 8 or 16.`);
  const expected = width * height * channels;
  if (!data || data.length !== expected) {
    throw new ConditionError(`The ${what} data holds ${data?.length ?? 0} samples, but ${width}×${height} with ${channels} channel(s) needs ${expected}.`);
  }
}

/** 8-bit sample of channel c at pixel i, as PIL reads a 16-bit colour PNG: the high byte. */
function sample8(px: PixelImage, i: number, c: number): number {
  const v = px.data[i * px.channels + c];
  return px.bitDepth === 16 ? v >> 8 : v;
}

/**
 * PIL's convert("L") of what PIL opens. `sixteenBitGray` says how 16-bit gray becomes 8-bit:
 * 'stretch' (the loader's images: min–max to 0…255, truncated) or 'clip' (PIL's I → L: min(v, 255)).
 */
function luminance8(px: PixelImage, sixteenBitGray: 'stretch' | 'clip'): Uint8Array {
  const n = px.width * px.height;
  const out = new Uint8Array(n);
  if (px.channels === 1 && px.bitDepth === 16) {
    if (sixteenBitGray === 'clip') {
      for (let i = 0; i < n; i++) out[i] = Math.min(px.data[i], 255);
      return out;
    }
    let min = Infinity;
    let max = -Infinity;
    for (let i = 0; i < n; i++) {
      min = Math.min(min, px.data[i]);
      max = Math.max(max, px.data[i]);
    }
    const range = Math.max(max - min, 1);
    for (let i = 0; i < n; i++) out[i] = Math.trunc(((px.data[i] - min) / range) * 255);
    return out;
  }
  if (px.channels <= 2) {
    for (let i = 0; i < n; i++) out[i] = sample8(px, i, 0);
    return out;
  }
  for (let i = 0; i < n; i++) {
    out[i] = (sample8(px, i, 0) * 19595 + sample8(px, i, 1) * 38470 + sample8(px, i, 2) * 7471 + 0x8000) >> 16;
  }
  return out;
}

function checkModelSize([height, width]: readonly [number, number]): void {
  if (!Number.isInteger(height) || !Number.isInteger(width) || height <= 0 || width <= 0) {
    throw new ConditionError(`The model size must be positive whole numbers, got ${height}×${width}.`);
  }
}

/** "resized 500×380 → 64×64 (stretched: …)" or "already 64×64". */
function sizeNote(px: PixelImage, [height, width]: readonly [number, number]): string {
  if (px.width === width && px.height === height) return `already ${width}×${height}`;
  const stretched = px.width * height !== px.height * width;
  return `resized ${px.width}×${px.height} → ${width}×${height}${stretched ? ' (stretched: the aspect ratio is not kept, as in training)' : ''}`;
}

function percent(fraction: number): string {
  return `${(fraction * 100).toFixed(1)}%`;
}

// ---------------------------------------------------------------------------------------------
// The two conditions

/**
 * A user's mask → the model's 0/1 mask of `size` = [H, W]; throws ConditionError when unusable.
 * `allowEmpty`: a mask without lesion (a healthy case of a real dataset) is a mask, not an error.
 */
export function maskFromPixels(px: PixelImage, size: readonly [number, number], { allowEmpty = false } = {}): MaskCondition {
  checkPixels(px, 'mask');
  checkModelSize(size);
  const [height, width] = size;
  const gray = luminance8(px, 'clip');
  const levels = new Set(gray);
  const top = Math.max(...levels);
  if (top === 0 && !allowEmpty) throw new ConditionError('The mask is empty: it has no lesion pixel (every pixel is black).');
  // Two levels (0/255, 0/1, 0/38 …): the higher is lesion, as the loader reads masks. More (an
  // antialiased drawing, a JPEG): lesion where the luminance is at least half of white.
  const binary = levels.size <= 2;
  const threshold = binary ? top : 128;
  const lesion = new Uint8Array(gray.length);
  // (all black: no lesion, where allowEmpty lets it through)
  if (top > 0) for (let i = 0; i < gray.length; i++) lesion[i] = gray[i] >= threshold ? 255 : 0;
  const covered = resizeGray8(lesion, px.width, px.height, width, height, 'box');
  const mask = new Uint8Array(width * height);
  let count = 0;
  for (let i = 0; i < mask.length; i++) {
    mask[i] = covered[i] >= 128 ? 1 : 0; // ≥ 50 % of the model pixel's area
    count += mask[i];
  }
  const resized = px.width !== width || px.height !== height;
  if (count === 0 && !allowEmpty) {
    throw new ConditionError(
      `The mask's lesion vanishes at the model's ${width}×${height}: no model pixel is at least half covered. Draw or upload a larger lesion.`,
    );
  }
  const how = binary
    ? levels.size === 2
      ? `lesion = gray level ${top}${resized ? ', area-averaged, lesion where ≥ 50% covered' : ''}`
      : 'every pixel lesion'
    : `thresholded at 50% luminance (${levels.size} gray levels)${resized ? ', area-averaged, lesion where ≥ 50% covered' : ''}`;
  const lesionFraction = count / mask.length;
  return { mask, lesionFraction, note: `${sizeNote(px, size)}, ${how}; ${percent(lesionFraction)} lesion` };
}

/** RGB(A) whose every pixel has R = G = B (what a browser decodes a gray file to). */
function isGrayRgb(px: PixelImage): boolean {
  const { data, channels } = px;
  for (let i = 0; i < data.length; i += channels) if (data[i] !== data[i + 1] || data[i] !== data[i + 2]) return false;
  return true;
}

/** A user's image → the model's image input of `size` = [H, W] in [−1, 1]; throws ConditionError when unusable. */
export function imageFromPixels(px: PixelImage, size: readonly [number, number]): ImageCondition {
  checkPixels(px, 'image');
  checkModelSize(size);
  const [height, width] = size;
  const full = luminance8(px, 'stretch');
  let lo = 255;
  let hi = 0;
  for (const v of full) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  if (lo === hi) throw new ConditionError(`The image is blank: every pixel has gray value ${lo}.`);
  const gray = resizeGray8(full, px.width, px.height, width, height, 'bilinear');
  // numpy: float32(v) / 127.5 − 1.0, both in float32 (exact as double then rounded once)
  const image = Float32Array.from(gray, (v) => Math.fround(Math.fround(v / 127.5) - 1));
  const source =
    px.bitDepth === 16 && px.channels === 1
      ? '16-bit gray min–max stretched to 8 bits'
      : px.channels >= 3 && !isGrayRgb(px)
        ? 'gray from RGB (ITU-R 601 luminance)'
        : 'gray';
  return { image, gray, note: `${sizeNote(px, size)}, ${source}, scaled to [−1, 1]` };
}
