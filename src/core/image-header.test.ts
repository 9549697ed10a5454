import pngjs from 'pngjs';
import { describe, expect, it } from 'vitest';
import { encodeApng } from './apng';
import { headerNote, MAX_UPLOAD_PIXELS, readImageHeader, uploadSizeProblem } from './image-header';
import { encodePng } from './png';

const bytes = (...parts: (number[] | string)[]) => Uint8Array.from(parts.flatMap((p) => (typeof p === 'string' ? [...Buffer.from(p, 'latin1')] : p)));
const le16 = (n: number) => [n & 255, n >> 8];
const le32 = (n: number) => [n & 255, (n >> 8) & 255, (n >> 16) & 255, (n >>> 24) & 255];

describe('readImageHeader', () => {
  it('PNG: size and bit depth from IHDR; an APNG is animated with its frame count; 16-bit is noted', async () => {
    const png = await encodePng(new Uint8Array(90 * 70 * 3), 90, 70, 3);
    expect(readImageHeader(png)).toEqual({ format: 'PNG', width: 90, height: 70, bitDepth: 8, animated: null });
    expect(headerNote(readImageHeader(png)!)).toBeNull();
    const frame = (v: number) => ({ pixels: new Uint8Array(16).fill(v), delayMs: 100 });
    const apng = await encodeApng([frame(0), frame(255), frame(9)], 4, 4);
    expect(readImageHeader(apng)).toMatchObject({ format: 'PNG', width: 4, height: 4, animated: { frames: 3 } });
    expect(headerNote(readImageHeader(apng)!)).toBe('animated PNG (3 frames): the first frame is used');
    const deep = pngjs.PNG.sync.write(
      Object.assign(new pngjs.PNG({ width: 3, height: 2, bitDepth: 16, colorType: 0, inputColorType: 0 }), { data: Buffer.alloc(3 * 2 * 2) }),
      { bitDepth: 16, colorType: 0, inputColorType: 0 },
    );
    expect(readImageHeader(deep)).toMatchObject({ width: 3, height: 2, bitDepth: 16 });
    expect(headerNote(readImageHeader(deep)!)).toBe('16-bit PNG, read by the browser as 8 bits per sample');
  });

  it('JPEG: the size from the SOF marker after other segments', () => {
    const app0 = [0xff, 0xe0, ...[0, 16], ...bytes('JFIF\0'), 1, 1, 0, 0, 1, 0, 1, 0, 0];
    const sof0 = [0xff, 0xc0, 0, 11, 8, ...[0x0b, 0xb8], ...[0x0f, 0xa0], 1, 1, 0x11, 0];
    expect(readImageHeader(bytes([0xff, 0xd8], app0, sof0))).toEqual({ format: 'JPEG', width: 4000, height: 3000, bitDepth: 8, animated: null });
  });

  it('GIF: logical screen size; two image descriptors make it animated', () => {
    const header = bytes('GIF89a', le16(300), le16(200), [0x80, 0, 0], new Array(6).fill(0)); // 2-colour global table
    const image = [0x2c, ...le16(0), ...le16(0), ...le16(300), ...le16(200), 0, 2, 2, 0x4c, 0x01, 0];
    const control = [0x21, 0xf9, 4, 0, 10, 0, 0, 0];
    const one = bytes([...header], control, image, [0x3b]);
    const two = bytes([...header], control, image, control, image, [0x3b]);
    expect(readImageHeader(one)).toEqual({ format: 'GIF', width: 300, height: 200, bitDepth: 8, animated: null });
    expect(readImageHeader(two)).toMatchObject({ animated: { frames: 2 } });
    expect(headerNote(readImageHeader(two)!)).toBe('animated GIF (2 frames): the first frame is used');
  });

  it('WebP (VP8X with the animation flag, VP8L, VP8) and BMP (top-down rows too)', () => {
    const vp8x = bytes('RIFF', le32(30), 'WEBPVP8X', le32(10), [0x02, 0, 0, 0], [0xff, 0x1f, 0], [0x9f, 0x0f, 0]);
    expect(readImageHeader(vp8x)).toEqual({ format: 'WebP', width: 8192, height: 4000, bitDepth: 8, animated: { frames: null } });
    const bits = (640 - 1) | ((480 - 1) << 14);
    const vp8l = bytes('RIFF', le32(30), 'WEBPVP8L', le32(10), [0x2f], le32(bits));
    expect(readImageHeader(vp8l)).toMatchObject({ width: 640, height: 480, animated: null });
    const vp8 = bytes('RIFF', le32(30), 'WEBPVP8 ', le32(10), [0, 0, 0, 0x9d, 0x01, 0x2a], le16(320), le16(240));
    expect(readImageHeader(vp8)).toMatchObject({ width: 320, height: 240 });
    const bmp = bytes('BM', le32(0), le32(0), le32(54), le32(40), le32(7000), le32(-7000), le16(1), le16(24));
    expect(readImageHeader(bmp)).toEqual({ format: 'BMP', width: 7000, height: 7000, bitDepth: 24, animated: null });
  });

  it('anything else is null (the browser may still know it); a truncated PNG is null, not a crash', () => {
    expect(readImageHeader(bytes('not an image at all, just text'))).toBeNull();
    expect(readImageHeader(bytes([0x89], 'PNG', [13, 10, 26, 10]))).toBeNull();
    expect(readImageHeader(new Uint8Array(0))).toBeNull();
  });
});

describe('uploadSizeProblem', () => {
  it('allows up to 40 MP and names the size over it', () => {
    expect(MAX_UPLOAD_PIXELS).toBe(40_000_000);
    expect(uploadSizeProblem(8000, 5000)).toBeNull();
    expect(uploadSizeProblem(7000, 7000)).toBe(
      'it is 7000×7000 pixels (49.0 MP); the studio takes images of up to 40.0 MP. Downscale it first (the model works at a few hundred pixels).',
    );
  });
});
