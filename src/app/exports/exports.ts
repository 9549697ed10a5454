// The timeline's exports: the run as an animated PNG (mask | image per step) and the contact sheet
// of chosen steps (the paper's figure of the denoising process). DOM-free: bytes in, bytes out.
import { encodeApng } from '../../core/apng';
import { composeContactSheet, composePairFrame, pairFrameLayout, type SheetOptions, tileScale } from '../../core/figures';
import { encodeGrayPng } from '../../core/png';
import { upscale } from '../../core/raster';
import type { GenerateResult, StepFrame } from '../../worker/api';
import { frameMaskBits, imageGray, stepTiles } from '../viewer/display';
import { compositeOverlay } from '../viewer/viewer-math';

/** The animation's pace: the timeline's playback interval, and a pause on the result before it loops. */
export const ANIMATION_FRAME_MS = 120;
export const ANIMATION_HOLD_MS = 1500;
/** Tiles are upscaled (whole pixels) to about this many pixels across. */
const ANIMATION_TILE_PX = 256;
const SHEET_TILE_PX = 128;
const SHEET_COLUMNS = 8;

/** Gap between the mask and the image in an animation frame. */
const ANIMATION_GAP = 4;

export interface AnimationOptions {
  /** The image raw or contrast-stretched, as the views show it. */
  stretch: boolean;
  /** 'side-by-side': mask x̂₀ | image ŷ₀ (gray); 'overlaid': B(x̂₀) filled on ŷ₀ (RGB). */
  layout: 'side-by-side' | 'overlaid';
  /** Fill opacity of the lesion in the overlaid animation (0 … 1). */
  overlayOpacity: number;
  /** The run's result: its last frame's mask is the saved B(x̂₀). */
  result: GenerateResult | null;
}

/** RGBA → RGB (the overlay composite is opaque). */
function dropAlpha(rgba: Uint8ClampedArray): Uint8Array {
  const rgb = new Uint8Array((rgba.length / 4) * 3);
  for (let i = 0, j = 0; i < rgba.length; i += 4, j += 3) {
    rgb[j] = rgba[i];
    rgb[j + 1] = rgba[i + 1];
    rgb[j + 2] = rgba[i + 2];
  }
  return rgb;
}

/**
 * The frames as the viewer shows them: a latent model's step shows its decoded image where it was
 * decoded (scrubbed to: `decoded`, by frame index), and its last step the run's decoded result;
 * the other steps keep the linear preview of ẑ₀ (docs/contracts.md §6a). Pixel-space frames as they are.
 */
export function framesAsShown(frames: readonly StepFrame[], decoded: Readonly<Record<number, Float32Array>>, result: GenerateResult | null): StepFrame[] {
  const last = frames.length - 1;
  return frames.map((f, i) => {
    if (!f.z0) return f;
    const image = i === last && result ? result.image : decoded[i];
    return image ? { ...f, y0: image } : f;
  });
}

/** Every frame of the run as one looping APNG, side by side (gray) or overlaid (RGB). */
export async function encodeRunAnimation(frames: readonly StepFrame[], width: number, height: number, o: AnimationOptions): Promise<Uint8Array> {
  if (frames.length === 0) throw new Error('there are no steps to animate yet');
  const scale = tileScale(width, ANIMATION_TILE_PX);
  const delayMs = (i: number) => (i === frames.length - 1 ? ANIMATION_HOLD_MS : ANIMATION_FRAME_MS);
  if (o.layout === 'overlaid') {
    const apngFrames = frames.map((f, i) => {
      const composite = compositeOverlay(imageGray(f.y0, width, height, o.stretch), frameMaskBits(f, o.result, width, height), o.overlayOpacity);
      return { pixels: upscale(dropAlpha(composite), width, height, scale, 3), delayMs: delayMs(i) };
    });
    return encodeApng(apngFrames, width * scale, height * scale, { channels: 3 });
  }
  const layout = pairFrameLayout(width, height, scale, ANIMATION_GAP);
  const apngFrames = frames.map((f, i) => ({
    pixels: composePairFrame(stepTiles(f, width, height, o.stretch), width, height, layout),
    delayMs: delayMs(i),
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
