// The timeline's exports: the run as an animated PNG (mask | image per step) and the contact sheet
// of chosen steps (the paper's figure of the denoising process). DOM-free: bytes in, bytes out.
import { encodeApng } from '../core/apng';
import { composeContactSheet, composePairFrame, pairFrameLayout, tileScale, type SheetOptions } from '../core/figures';
import { encodeGrayPng } from '../core/png';
import type { StepFrame } from '../worker/api';
import { stepTiles } from './display';

/** The animation's pace: the timeline's playback interval, and a pause on the result before it loops. */
export const ANIMATION_FRAME_MS = 120;
export const ANIMATION_HOLD_MS = 1500;
/** Tiles are upscaled (whole pixels) to about this many pixels across. */
export const ANIMATION_TILE_PX = 256;
export const SHEET_TILE_PX = 128;
export const SHEET_COLUMNS = 8;

/** Gap between the mask and the image in an animation frame. */
const ANIMATION_GAP = 4;

/** Every frame of the run, mask | image, as one looping APNG. The image as the views show it (raw or stretched). */
export async function encodeRunAnimation(frames: readonly StepFrame[], width: number, height: number, stretch: boolean): Promise<Uint8Array> {
  if (frames.length === 0) throw new Error('there are no steps to animate yet');
  const layout = pairFrameLayout(width, height, tileScale(width, ANIMATION_TILE_PX), ANIMATION_GAP);
  const apngFrames = frames.map((f, i) => ({
    pixels: composePairFrame(stepTiles(f, width, height, stretch), width, height, layout),
    delayMs: i === frames.length - 1 ? ANIMATION_HOLD_MS : ANIMATION_FRAME_MS,
  }));
  return encodeApng(apngFrames, layout.width, layout.height);
}

export function sheetOptions(width: number): SheetOptions {
  return { columns: SHEET_COLUMNS, scale: tileScale(width, SHEET_TILE_PX), gap: 8, fontScale: 2 };
}

/** The chosen steps (frame indexes) as a gray PNG grid: t above, x̂₀ over ŷ₀, 8 columns a band. */
export async function encodeContactSheet(
  frames: readonly StepFrame[],
  indexes: readonly number[],
  width: number,
  height: number,
  stretch: boolean,
): Promise<{ bytes: Uint8Array; width: number; height: number }> {
  const tiles = indexes.map((i) => {
    const f = frames[i];
    if (!f) throw new Error(`step ${i + 1} is not in this run (it has ${frames.length})`);
    return stepTiles(f, width, height, stretch);
  });
  const sheet = composeContactSheet(tiles, width, height, sheetOptions(width));
  return { bytes: await encodeGrayPng(sheet.pixels, sheet.width, sheet.height), width: sheet.width, height: sheet.height };
}
