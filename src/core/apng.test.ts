// The APNG is read back by a real reader: Debian's Python PIL (Image.open → n_frames, each frame's
// pixels and duration), in a child process.
import { describe, expect, it } from 'vitest';
import { readWithPil } from '../testing/pil';
import { type ApngFrame, encodeApng } from './apng';

describe('encodeApng (read back by PIL)', () => {
  for (const compress of [true, false]) {
    it(`gray frames: count, pixels and durations, compress=${compress}`, async () => {
      const W = 5;
      const H = 3;
      const frames: ApngFrame[] = [0, 1, 2, 3].map((f) => ({
        pixels: Uint8Array.from({ length: W * H }, (_, i) => (i * 17 + f * 60) % 256),
        delayMs: 100 + 50 * f,
      }));
      const pil = readWithPil(await encodeApng(frames, W, H, { compress }));
      expect(pil.format).toBe('PNG');
      expect(pil.mode).toBe('L');
      expect(pil.size).toEqual([W, H]);
      expect(pil.n_frames).toBe(4);
      expect(pil.is_animated).toBe(true);
      expect(pil.loop).toBe(0);
      expect(pil.frames.map((f) => f.duration)).toEqual([100, 150, 200, 250]);
      pil.frames.forEach((f, k) => expect(f.pixels).toEqual(Array.from(frames[k].pixels)));
    });
  }

  it('RGB frames and a finite loop count', async () => {
    const frames: ApngFrame[] = [
      { pixels: new Uint8Array([255, 0, 0, 0, 255, 0]), delayMs: 40 },
      { pixels: new Uint8Array([0, 0, 255, 10, 20, 30]), delayMs: 1500 },
    ];
    const pil = readWithPil(await encodeApng(frames, 2, 1, { channels: 3, plays: 2 }));
    expect(pil.mode).toBe('RGB');
    expect(pil.n_frames).toBe(2);
    expect(pil.loop).toBe(2);
    expect(pil.frames.map((f) => f.duration)).toEqual([40, 1500]);
    expect(pil.frames[0].pixels).toEqual([255, 0, 0, 0, 255, 0]);
    expect(pil.frames[1].pixels).toEqual([0, 0, 255, 10, 20, 30]);
  });

  it('a single frame is still an APNG with one frame', async () => {
    const pil = readWithPil(await encodeApng([{ pixels: new Uint8Array([7]), delayMs: 0 }], 1, 1));
    expect(pil.n_frames).toBe(1);
    expect(pil.frames[0].pixels).toEqual([7]);
  });

  it('names the problem for bad input', async () => {
    await expect(encodeApng([], 2, 2)).rejects.toThrow(/no frames/);
    await expect(encodeApng([{ pixels: new Uint8Array(4), delayMs: 70_000 }], 2, 2)).rejects.toThrow(/frame 0 delay 70000 ms/);
    const frames = [
      { pixels: new Uint8Array(4), delayMs: 10 },
      { pixels: new Uint8Array(3), delayMs: 10 },
    ];
    await expect(encodeApng(frames, 2, 2)).rejects.toThrow(/APNG frame 1: PNG: 3 pixels for 2×2/);
  });
});
