// The timeline's exports, read back by PIL: frame count, durations, size, and pixels at known places.
import { describe, expect, it } from 'vitest';
import { contactSheetLayout } from '../../core/figures';
import { readWithPil } from '../../testing/pil';
import type { GenerateResult, StepFrame } from '../../worker/api';
import { ANIMATION_FRAME_MS, ANIMATION_HOLD_MS, encodeContactSheet, encodeRunAnimation, framesAsShown, sheetOptions } from './exports';
import { chooseSteps } from './step-choice';

const W = 4;
const H = 4;
const SIDE_BY_SIDE = { stretch: false, layout: 'side-by-side', overlayOpacity: 0.5, result: null } as const;

/** Step k of n: the mask has pixel (0, 0) on, the image is flat at −1 + 2k/(n−1) (raw 8-bit known). */
function frames(n: number): StepFrame[] {
  return Array.from({ length: n }, (_, k) => ({
    index: k,
    total: n,
    t: (n - 1 - k) * 100,
    tPrev: k === n - 1 ? -1 : (n - 2 - k) * 100,
    x0: Float32Array.from({ length: W * H }, (_, i) => (i === 0 ? 1 : -1)),
    y0: new Float32Array(W * H).fill(-1 + (2 * k) / (n - 1)),
    elapsedMs: k,
  }));
}

describe('Export animation', () => {
  it('has one frame per step, mask | image at 64×, the last frame held', async () => {
    const pil = readWithPil(await encodeRunAnimation(frames(3), W, H, SIDE_BY_SIDE));
    // tiles 4·64 = 256 px, gap 4: 516 × 256
    expect(pil.size).toEqual([516, 256]);
    expect(pil.n_frames).toBe(3);
    expect(pil.frames.map((f) => f.duration)).toEqual([ANIMATION_FRAME_MS, ANIMATION_FRAME_MS, ANIMATION_HOLD_MS]);
    const px = (f: number, x: number, y: number) => pil.frames[f].pixels[y * 516 + x];
    // raw image levels for y = −1, 0, 1: 0, 128, 255
    [0, 128, 255].forEach((level, f) => {
      expect(px(f, 63, 63)).toBe(255); // mask pixel (0, 0) is a 64×64 block of lesion
      expect(px(f, 64, 0)).toBe(0); // its neighbour is background
      expect(px(f, 257, 10)).toBe(255); // the gap
      expect(px(f, 260, 10)).toBe(level);
      expect(px(f, 515, 255)).toBe(level);
    });
  });
  it('overlaid: RGB frames of the model size × 64, the lesion blended toward orange', async () => {
    const pil = readWithPil(await encodeRunAnimation(frames(3), W, H, { ...SIDE_BY_SIDE, layout: 'overlaid' }));
    expect(pil.mode).toBe('RGB');
    expect(pil.size).toEqual([256, 256]);
    expect(pil.n_frames).toBe(3);
    const rgb = (f: number, x: number, y: number) => pil.frames[f].pixels.slice((y * 256 + x) * 3, (y * 256 + x) * 3 + 3);
    // Step 2 (image level 128): B(x̂₀) of a one-pixel mask is that pixel, blended 50 % with (255, 140, 60):
    // (191.5, 134, 94) → (192, 134, 94); elsewhere plain gray.
    expect(rgb(1, 10, 10)).toEqual([192, 134, 94]);
    expect(rgb(1, 200, 200)).toEqual([128, 128, 128]);
  });

  it('says so when there is nothing to animate', async () => {
    await expect(encodeRunAnimation([], W, H, SIDE_BY_SIDE)).rejects.toThrow(/no steps/);
  });
});

describe('Export contact sheet', () => {
  it('lays the default 8 of 10 steps out in one band, t above each column', async () => {
    const run = frames(10);
    const indexes = chooseSteps({ kind: 'even', count: 8 }, run.length);
    expect(indexes).toEqual([0, 1, 3, 4, 5, 6, 8, 9]);
    const sheet = await encodeContactSheet(run, indexes as number[], W, H, false);
    // tiles 4·32 = 128: width 2·8 + 8·128 + 7·8 = 1096; height 2·8 + 22 + 2·128 + 8 = 302
    expect([sheet.width, sheet.height]).toEqual([1096, 302]);
    const layout = contactSheetLayout(8, W, H, sheetOptions(W));
    expect([layout.width, layout.height]).toEqual([1096, 302]);
    const pil = readWithPil(sheet.bytes);
    expect(pil.mode).toBe('L');
    expect(pil.size).toEqual([1096, 302]);
    const px = (x: number, y: number) => pil.frames[0].pixels[y * 1096 + x];
    // column 0 (step 1): mask tile at (8, 30), image tile at (8, 166), image level 0
    expect(px(8, 30)).toBe(255);
    expect(px(8 + 32, 30)).toBe(0);
    expect(px(8, 166)).toBe(0);
    // last column (step 10): x = 8 + 7·136 = 960, image level 255
    expect(px(960 + 127, 166 + 127)).toBe(255);
    // some ink in every label strip
    for (let c = 0; c < 8; c++) {
      let ink = 0;
      for (let y = 8; y < 22; y++) for (let x = 8 + c * 136; x < 8 + c * 136 + 128; x++) ink += px(x, y) === 0 ? 1 : 0;
      expect(ink).toBeGreaterThan(20);
    }
  });
  it('names a step that is not in the run', async () => {
    await expect(encodeContactSheet(frames(2), [0, 5], W, H, false)).rejects.toThrow(/step 6 is not in this run/);
  });
});

describe('framesAsShown (a latent model’s steps)', () => {
  const latent = frames(3).map((f) => ({ ...f, z0: new Float32Array(4) }));
  const decodedStep = new Float32Array(W * H).fill(0.25);
  const result = { image: new Float32Array(W * H).fill(0.5) } as unknown as GenerateResult;

  it('takes the decoded image where a step was decoded, the run’s decoded result for the last step, the preview elsewhere', () => {
    const shown = framesAsShown(latent, { 0: decodedStep }, result);
    expect(shown[0].y0).toBe(decodedStep);
    expect(shown[1].y0).toBe(latent[1].y0);
    expect(shown[2].y0).toBe(result.image);
  });

  it('leaves pixel-space frames as they are (their ŷ₀ is the image)', () => {
    const pixel = frames(3);
    expect(framesAsShown(pixel, { 0: decodedStep }, result)).toEqual(pixel);
  });
});
