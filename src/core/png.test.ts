import { gunzipSync, inflateSync } from 'node:zlib';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { gzipStored } from './dataset/nifti';
import { encodeGrayPng, encodeImagePng, encodeLabelPng, encodeMaskPng, imageToGray8, maskToGray8, zlibStored } from './png';

const decode = (bytes: Uint8Array) => PNG.sync.read(Buffer.from(bytes));

describe('imageToGray8', () => {
  it('clamps and rounds half away from zero: floor((y + 1)·127.5 + 0.5)', () => {
    const y = new Float32Array([-2, -1, 0, 1, 3, -0.5, 0.5, 1 / 255]);
    // hand values: −1→0, 0→127.5→128, 1→255, −0.5→63.75→64, 0.5→191.25→191, 1/255→128
    expect(Array.from(imageToGray8(y))).toEqual([0, 0, 128, 255, 255, 64, 191, 128]);
  });
  it('maps the mask to 0 / 255', () => {
    expect(Array.from(maskToGray8(new Float32Array([-1, 1, 0, 0.2])))).toEqual([0, 255, 0, 255]);
    expect(Array.from(maskToGray8(new Uint8Array([0, 1])))).toEqual([0, 255]);
  });
  it('the label map (nnU-Net) is the same mask with lesion = 1', async () => {
    expect(Array.from(maskToGray8(new Float32Array([-1, 1, 0, 0.2]), 1))).toEqual([0, 1, 0, 1]);
    const img = decode(await encodeLabelPng(new Float32Array([-1, 1, 1, -1, 1, -1]), 3, 2));
    expect([0, 1, 2, 3, 4, 5].map((i) => img.data[4 * i])).toEqual([0, 1, 1, 0, 1, 0]);
  });
});

describe('stored deflate', () => {
  it('zlibStored and gzipStored are read by zlib, over several 64 KiB blocks', () => {
    const data = Uint8Array.from({ length: 150_000 }, (_, i) => (i * 31) & 255);
    expect(Buffer.from(inflateSync(zlibStored(data))).equals(Buffer.from(data))).toBe(true);
    expect(Buffer.from(gunzipSync(gzipStored(data))).equals(Buffer.from(data))).toBe(true);
    expect(Buffer.from(gunzipSync(gzipStored(new Uint8Array(0)))).length).toBe(0);
  });
});

describe('PNG encoding (decoded by pngjs)', () => {
  for (const compress of [true, false]) {
    it(`8-bit grayscale round-trips, compress=${compress}`, async () => {
      const W = 37;
      const H = 23;
      const px = Uint8Array.from({ length: W * H }, (_, i) => (i * 7) % 256);
      const png = await encodeGrayPng(px, W, H, { compress });
      const img = decode(png);
      expect(img.width).toBe(W);
      expect(img.height).toBe(H);
      for (let i = 0; i < W * H; i++) {
        expect(img.data[4 * i]).toBe(px[i]); // pngjs expands gray to RGBA
        expect(img.data[4 * i + 3]).toBe(255);
      }
    });
  }
  it('stored blocks span > 64 KiB of raw data', async () => {
    const W = 300;
    const H = 300;
    const px = Uint8Array.from({ length: W * H }, (_, i) => (i * 13) & 255);
    const img = decode(await encodeGrayPng(px, W, H, { compress: false }));
    expect(img.data[4 * (W * H - 1)]).toBe(px[W * H - 1]);
  });
  it('image and mask PNGs have the model size; the mask holds only 0 and 255', async () => {
    const W = 32;
    const H = 16;
    const y = Float32Array.from({ length: W * H }, (_, i) => Math.sin(i));
    const m = Float32Array.from({ length: W * H }, (_, i) => (i % 5 === 0 ? 1 : -1));
    const im = decode(await encodeImagePng(y, W, H));
    const mk = decode(await encodeMaskPng(m, W, H));
    expect([im.width, im.height, mk.width, mk.height]).toEqual([W, H, W, H]);
    const values = new Set<number>();
    for (let i = 0; i < W * H; i++) values.add(mk.data[4 * i]);
    expect([...values].sort((a, b) => a - b)).toEqual([0, 255]);
    expect(im.data[4 * 1]).toBe(imageToGray8(y)[1]);
  });
  it('rejects a wrong pixel count', async () => {
    await expect(encodeGrayPng(new Uint8Array(5), 2, 2)).rejects.toThrow(/5 pixels for 2×2/);
  });
});

describe('tEXt chunks (provenance)', () => {
  it('written after IHDR, before IDAT, with a CRC pngjs checks; the IDAT stream and the pixels as without them', async () => {
    const pixels = Uint8Array.from({ length: 12 }, (_, i) => i * 20);
    const plain = await encodeGrayPng(pixels, 4, 3);
    const tagged = await encodeGrayPng(pixels, 4, 3, {
      text: [
        ['Software', 'PIG Studio 1'],
        ['pig:model', 'naïve ✓'],
      ],
    });
    const chunks = (b: Uint8Array) => {
      const out: [string, string][] = [];
      for (let o = 8; o < b.length; ) {
        const len = new DataView(b.buffer, b.byteOffset).getUint32(o);
        out.push([String.fromCharCode(...b.subarray(o + 4, o + 8)), String.fromCharCode(...b.subarray(o + 8, o + 8 + len))]);
        o += 12 + len;
      }
      return out;
    };
    const got = chunks(tagged);
    expect(got.map(([t]) => t)).toEqual(['IHDR', 'tEXt', 'tEXt', 'IDAT', 'IEND']);
    // keyword NUL text; outside printable ASCII as \u escapes (JSON's), so every reader gets one string
    expect(got[1][1]).toBe('Software\0PIG Studio 1');
    expect(got[2][1]).toBe('pig:model\0na\\u00efve \\u2713');
    expect(got[3]).toEqual(chunks(plain)[1]);
    expect(decode(tagged).data).toEqual(decode(plain).data); // pngjs checks every chunk's CRC
  });
  it('refuses a keyword the PNG spec does not allow', async () => {
    for (const bad of ['', ' lead', 'trail ', 'two  spaces', 'x'.repeat(80), 'tab\there'])
      await expect(encodeGrayPng(new Uint8Array(1), 1, 1, { text: [[bad, 'v']] }), JSON.stringify(bad)).rejects.toThrow(/tEXt keyword/);
  });
});
