// The image chain on an autoencoder's latent (docs/contracts.md §6a): what changes around the joint
// loop when y is a latent z of C channels on the grid [h, w] = [H/f, W/f], and the final pair is at
// [H, W]. The loop itself (sampler.ts) is unchanged; these are its ends:
//   maskToGrid     the user's mask at [H, W] → the grid: lesion where ≥ ½ of an f×f cell is lesion
//   upsampleBilinear  x̂₀ at the grid → [H, W], half-pixel centres (PyTorch align_corners=False,
//                  ONNX Resize half_pixel), edge samples clamped; then B(·) at [H, W]
//   latentPreview  the step preview Σ_c weights[c]·ẑ₀[c] + bias, clamped to [−1, 1]
// The kit's twin: training/pigkit/model/latent.py (masks_to_grid, decode_pair).

import { type BinarizeOptions, binarize } from './binarize';
import type { LatentSpec, Manifest } from './manifest';
import { latentOf } from './manifest';

/** The autoencoder's graphs as the sampler sees them (the engine runs them on ONNX Runtime). */
export interface LatentCodec {
  /** y at [H, W] in [−1, 1] (H·W values) → z = s·μ_E(y) (C·h·w values, row-major [C, h, w]). */
  encode(image: Float32Array): Promise<Float32Array>;
  /** z (C·h·w) → D(z / s) at [H, W] (H·W values, not clipped). */
  decode(z: Float32Array): Promise<Float32Array>;
}

/** What the sampler needs to run a latent model: its latent and the codec. */
export interface LatentRun {
  spec: LatentSpec;
  /** [H, W] of the image and of the final mask. */
  resolution: readonly [number, number];
  codec: LatentCodec;
}

/** The latent run of a manifest's model (null: a pixel-space model). */
export function latentRun(manifest: Manifest, codec: LatentCodec | null): LatentRun | null {
  const spec = latentOf(manifest);
  if (!spec) return null;
  if (!codec) throw new Error(`${manifest.name} is a latent model: its encoder and decoder must be opened`);
  return { spec, resolution: manifest.resolution, codec };
}

/**
 * A mask at [H, W] (values > 0 are lesion) → the grid [H/f, W/f]: +1 where at least half of the f×f
 * cell is lesion, else −1 (the kit's masks_to_grid; counted, so exact).
 */
export function maskToGrid(mask: Float32Array, H: number, W: number, f: number): Float32Array {
  if (mask.length !== H * W) throw new Error(`maskToGrid: ${mask.length} values for ${H}×${W}`);
  if (H % f !== 0 || W % f !== 0) throw new Error(`maskToGrid: ${H}×${W} is not a multiple of ${f}`);
  const h = H / f;
  const w = W / f;
  const out = new Float32Array(h * w);
  for (let i = 0; i < h; i++) {
    for (let j = 0; j < w; j++) {
      let lesion = 0;
      for (let y = i * f; y < (i + 1) * f; y++) for (let x = j * f; x < (j + 1) * f; x++) if (mask[y * W + x] > 0) lesion++;
      out[i * w + j] = 2 * lesion >= f * f ? 1 : -1;
    }
  }
  return out;
}

/** Source index and weight of each output index along one axis (half-pixel centres, edges clamped). */
function axis(inSize: number, outSize: number): { i0: Int32Array; i1: Int32Array; l: Float64Array } {
  const i0 = new Int32Array(outSize);
  const i1 = new Int32Array(outSize);
  const l = new Float64Array(outSize);
  const scale = inSize / outSize;
  for (let o = 0; o < outSize; o++) {
    // the kit's latent.upsample_bilinear: clamp((o + ½)·in/out − ½, 0, in − 1)
    const src = Math.min(Math.max(0, (o + 0.5) * scale - 0.5), inSize - 1);
    const lo = Math.floor(src);
    i0[o] = lo;
    i1[o] = Math.min(lo + 1, inSize - 1);
    l[o] = src - lo;
  }
  return { i0, i1, l };
}

/**
 * Bilinear interpolation of an h×w map to H×W with half-pixel centres: output pixel (Y, X) samples
 * the input at ((Y + ½)·h/H − ½, (X + ½)·w/W − ½), coordinates clamped to [0, h − 1] and [0, w − 1]
 * (PyTorch's F.interpolate(mode="bilinear", align_corners=False), ONNX Resize
 * "linear" with "half_pixel"). Each element in float64, stored as float32, in the kit's order:
 * (1 − λy)·((1 − λx)·a + λx·b) + λy·((1 − λx)·c + λx·d).
 */
export function upsampleBilinear(src: Float32Array, h: number, w: number, H: number, W: number): Float32Array {
  if (src.length !== h * w) throw new Error(`upsampleBilinear: ${src.length} values for ${h}×${w}`);
  const ys = axis(h, H);
  const xs = axis(w, W);
  const out = new Float32Array(H * W);
  for (let Y = 0; Y < H; Y++) {
    const r0 = ys.i0[Y] * w;
    const r1 = ys.i1[Y] * w;
    const ly = ys.l[Y];
    for (let X = 0; X < W; X++) {
      const c0 = xs.i0[X];
      const c1 = xs.i1[X];
      const lx = xs.l[X];
      const top = src[r0 + c0] * (1 - lx) + src[r0 + c1] * lx;
      const bottom = src[r1 + c0] * (1 - lx) + src[r1 + c1] * lx;
      out[Y * W + X] = top * (1 - ly) + bottom * ly;
    }
  }
  return out;
}

/** The final mask of a latent run: B(up(x̂₀)) at [H, W], ±1. */
export function finalLatentMask(x0: Float32Array, [h, w]: readonly [number, number], [H, W]: readonly [number, number], opts?: BinarizeOptions): Float32Array {
  return binarize(upsampleBilinear(x0, h, w, H, W), H, W, opts);
}

/** The final image of a latent run: the decoder's output clamped to [−1, 1] (in place). */
export function clampImage(y: Float32Array): Float32Array {
  for (let i = 0; i < y.length; i++) y[i] = y[i] < -1 ? -1 : Math.min(y[i], 1);
  return y;
}

/**
 * The step preview of ẑ₀ (C·h·w, row-major [C, h, w]) at the grid: Σ_c weights[c]·ẑ₀[c] + bias
 * (fitted by least squares at export), clamped to [−1, 1]; float64 sums stored as float32.
 */
export function latentPreview(z0: Float32Array, { weights, bias }: LatentSpec['preview'], n: number): Float32Array {
  const C = weights.length;
  if (z0.length !== C * n) throw new Error(`latentPreview: ${z0.length} values for ${C}×${n}`);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let v = 0;
    for (let c = 0; c < C; c++) v += weights[c] * z0[c * n + i];
    v += bias; // after the sum, as the kit's latent_preview adds it
    out[i] = v < -1 ? -1 : Math.min(v, 1);
  }
  return out;
}
