// condition.ts against the kit's own training loader (golden values from
// fixtures/make-condition-golden.py, which runs training/pigkit/data.py on real PNG files), and
// its refusals and notes.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConditionError, imageFromPixels, maskFromPixels, type PixelImage, resizeGray8 } from './condition';

interface GoldenCase {
  name: string;
  width: number;
  height: number;
  channels: 1 | 2 | 3 | 4;
  bitDepth: 8 | 16;
  data: number[];
  expected: number[];
}
const golden = JSON.parse(readFileSync(new URL('./fixtures/condition-golden.json', import.meta.url), 'utf8')) as {
  resolution: number;
  images: GoldenCase[];
  masks: GoldenCase[];
};
const R = golden.resolution;

function pixels(c: Pick<GoldenCase, 'width' | 'height' | 'channels' | 'bitDepth' | 'data'>): PixelImage {
  return {
    width: c.width,
    height: c.height,
    channels: c.channels,
    bitDepth: c.bitDepth,
    data: c.bitDepth === 16 ? Uint16Array.from(c.data) : Uint8Array.from(c.data),
  };
}

function gray(width: number, height: number, f: (x: number, y: number) => number): PixelImage {
  const data = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data[y * width + x] = f(x, y);
  return { width, height, channels: 1, bitDepth: 8, data };
}

function thrown(f: () => unknown): Error {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a throw');
}

describe('imageFromPixels matches the training loader (load_image) exactly', () => {
  it.each(golden.images.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const { image } = imageFromPixels(pixels(c), [R, R]);
    expect(Array.from(image)).toEqual(c.expected.map(Math.fround));
  });
});

describe('maskFromPixels matches the training loader (load_mask) exactly', () => {
  it.each(golden.masks.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const { mask } = maskFromPixels(pixels(c), [R, R]);
    expect(Array.from(mask)).toEqual(c.expected);
  });
});

describe('resizeGray8 (Pillow resample)', () => {
  it('box halving averages rows, rounds to 8 bits, then averages columns (half up each time)', () => {
    const src = Uint8Array.of(0, 1, 10, 20, 2, 4, 30, 41);
    // rows: (0+1)/2 → 1, (10+20)/2 = 15; (2+4)/2 = 3, (30+41)/2 = 35.5 → 36
    // columns: (1+3)/2 = 2, (15+36)/2 = 25.5 → 26 (an exact 2×2 mean would give 25.25 → 25)
    expect(Array.from(resizeGray8(src, 4, 2, 2, 1, 'box'))).toEqual([2, 26]);
  });
  it('is the identity at the same size', () => {
    const src = Uint8Array.of(5, 6, 7, 8);
    for (const f of ['box', 'bilinear'] as const) expect(Array.from(resizeGray8(src, 2, 2, 2, 2, f))).toEqual([5, 6, 7, 8]);
  });
});

describe('maskFromPixels beyond the loader', () => {
  it('thresholds a many-level (antialiased) mask at 50 % luminance and says so', () => {
    // left half ramps 0..120 (background), right half ramps 128..248 (lesion)
    const px = gray(16, 16, (x) => (x < 8 ? x * 15 : 128 + (x - 8) * 15));
    const r = maskFromPixels(px, [8, 8]);
    expect(Array.from(r.mask)).toEqual(Array.from({ length: 64 }, (_, i) => (i % 8 >= 4 ? 1 : 0)));
    expect(r.lesionFraction).toBe(0.5);
    expect(r.note).toBe('resized 16×16 → 8×8, thresholded at 50% luminance (16 gray levels), area-averaged, lesion where ≥ 50% covered; 50.0% lesion');
  });

  it('notes a non-square input as stretched (the loader keeps no aspect ratio) and the lesion share', () => {
    const px = gray(500, 380, (x, y) => (x >= 250 && y >= 190 ? 255 : 0)); // one quarter lesion
    const r = maskFromPixels(px, [64, 64]);
    expect(r.note).toBe(
      'resized 500×380 → 64×64 (stretched: the aspect ratio is not kept, as in training), lesion = gray level 255, area-averaged, lesion where ≥ 50% covered; 25.0% lesion',
    );
    // stretched, not cropped: the lesion quadrant maps onto the model's bottom-right quadrant
    expect(r.mask[63 * 64 + 63]).toBe(1);
    expect(r.mask[32 * 64 + 32]).toBe(1);
    expect(r.mask[31 * 64 + 31]).toBe(0);
  });

  it('works for a non-square model size', () => {
    const r = maskFromPixels(
      gray(8, 4, (x) => (x < 4 ? 255 : 0)),
      [2, 4],
    );
    expect(Array.from(r.mask)).toEqual([1, 1, 0, 0, 1, 1, 0, 0]);
    expect(r.note).toBe('resized 8×4 → 4×2, lesion = gray level 255, area-averaged, lesion where ≥ 50% covered; 50.0% lesion');
  });

  it('refuses empty masks and lesions that vanish at the model size, with clear messages', () => {
    expect(
      thrown(() =>
        maskFromPixels(
          gray(10, 10, () => 0),
          [8, 8],
        ),
      ).message,
    ).toBe('The mask is empty: it has no lesion pixel (every pixel is black).');
    const speck = thrown(() =>
      maskFromPixels(
        gray(100, 100, (x, y) => (x === 50 && y === 50 ? 255 : 0)),
        [8, 8],
      ),
    );
    expect(speck).toBeInstanceOf(ConditionError);
    expect(speck.message).toMatch(/vanishes at the model's 8×8/);
  });

  it('with allowEmpty, an all-black mask and a vanishing lesion are empty masks (a healthy real case), not errors', () => {
    const black = maskFromPixels(
      gray(10, 10, () => 0),
      [8, 8],
      { allowEmpty: true },
    );
    expect(Array.from(black.mask)).toEqual(new Array(64).fill(0));
    expect(black.lesionFraction).toBe(0);
    const speck = maskFromPixels(
      gray(100, 100, (x, y) => (x === 50 && y === 50 ? 255 : 0)),
      [8, 8],
      { allowEmpty: true },
    );
    expect(speck.lesionFraction).toBe(0);
  });
});

describe('refusals', () => {
  it('zero-size, short data, bad channels', () => {
    const zero: PixelImage = { width: 0, height: 5, channels: 1, bitDepth: 8, data: new Uint8Array(0) };
    expect(thrown(() => imageFromPixels(zero, [8, 8])).message).toBe('The image is empty: it has 0×5 pixels.');
    expect(thrown(() => maskFromPixels(zero, [8, 8])).message).toBe('The mask is empty: it has 0×5 pixels.');
    const short: PixelImage = { width: 4, height: 4, channels: 4, bitDepth: 8, data: new Uint8Array(16) };
    expect(thrown(() => imageFromPixels(short, [8, 8])).message).toBe('The image data holds 16 samples, but 4×4 with 4 channel(s) needs 64.');
    const five = { width: 1, height: 1, channels: 5, bitDepth: 8, data: new Uint8Array(5) } as unknown as PixelImage;
    expect(thrown(() => imageFromPixels(five, [8, 8]))).toBeInstanceOf(ConditionError);
  });
  it('a blank image', () => {
    expect(
      thrown(() =>
        imageFromPixels(
          gray(9, 9, () => 77),
          [8, 8],
        ),
      ).message,
    ).toBe('The image is blank: every pixel has gray value 77.');
  });
});

describe('imageFromPixels notes', () => {
  it('says what was done', () => {
    const rgba: PixelImage = { width: 3, height: 6, channels: 4, bitDepth: 8, data: Uint8Array.from({ length: 72 }, (_, i) => (i * 37) % 256) };
    const r = imageFromPixels(rgba, [8, 8]);
    expect(r.note).toBe('resized 3×6 → 8×8 (stretched: the aspect ratio is not kept, as in training), gray from RGB (ITU-R 601 luminance), scaled to [−1, 1]');
    r.image.forEach((v, i) => expect(v).toBeCloseTo(r.gray[i] / 127.5 - 1, 6));
    // a gray file as a browser decodes it (RGBA with R = G = B) is called gray
    const grayRgba: PixelImage = {
      width: 8,
      height: 8,
      channels: 4,
      bitDepth: 8,
      data: Uint8Array.from({ length: 256 }, (_, i) => (i % 4 === 3 ? 255 : Math.floor(i / 4) * 3)),
    };
    expect(imageFromPixels(grayRgba, [8, 8]).note).toBe('already 8×8, gray, scaled to [−1, 1]');
  });
});
