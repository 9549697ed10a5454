// What the views show, from a frame's model-unit arrays, via the core's transforms.
import { binarize, contrastStretch } from '../../core/binarize';
import type { StepTiles } from '../../core/figures';
import { imageToGray8 } from '../../core/png';
import type { GenerateResult, StepFrame } from '../../worker/api';

/** The image estimate as gray bytes: contrast-stretched for display, or raw (as downloaded). */
export function imageGray(y0: Float32Array, width: number, height: number, stretch: boolean): Uint8Array | Uint8ClampedArray {
  return stretch ? contrastStretch(y0, height, width) : imageToGray8(y0);
}

/** The mask estimate x̂₀ as gray bytes (raw: −1 black, +1 white). */
export function maskGray(x0: Float32Array): Uint8Array {
  return imageToGray8(x0);
}

/** B(x̂₀) as 1 (lesion) / 0 per pixel: the condition the image model sees at this step. */
function maskBits(x0: Float32Array, width: number, height: number): Uint8Array {
  const b = binarize(x0, height, width);
  const out = new Uint8Array(b.length);
  for (let i = 0; i < b.length; i++) out[i] = (b[i] ?? -1) > 0 ? 1 : 0;
  return out;
}

/** The mask the overlay shows for a frame: the saved B(x̂₀) on the run's final frame, else B of its own x̂₀. */
export function frameMaskBits(frame: StepFrame, result: GenerateResult | null, width: number, height: number): Uint8Array {
  const isFinal = result !== null && frame.index === frame.total - 1;
  return isFinal ? result.mask : maskBits(frame.x0, width, height);
}

/** One step's tiles for the exported figures: x̂₀ raw, ŷ₀ as the views show it (raw or stretched). */
export function stepTiles(frame: StepFrame, width: number, height: number, stretch: boolean): StepTiles {
  return { t: frame.t, mask: maskGray(frame.x0), image: imageGray(frame.y0, width, height, stretch) };
}
