// The PIG joint DDIM loop over an abstract denoiser (METHOD.md, "Sampling" and "Three ways to use
// one trained pair"). One loop serves all three modes:
//   pair         : ε_x = model_x([x_t, y_t], t); x̂₀; c = B(x̂₀); ε_y = model_y([y_t, c], t); ŷ₀
//   maskToImage  : c = the user's mask m at every step; only model_y runs; x̂₀ is reported as m
//   imageToMask  : y_t = √ᾱ_t y* + √(1−ᾱ_t) ε with one fixed ε (stream 4); only model_x runs;
//                  ŷ₀ is reported as y*
// Noise (docs/contracts.md §3): x_T from stream 0, y_T from stream 1; with η > 0 the DDIM z of the
// mask chain from stream 2 and of the image chain from stream 3, H·W values per step in step order
// (drawn only where c₁ ≠ 0, i.e. not on the last step, as the kit's reference sampler does).
//
// Ownership: the x0 / y0 / c arrays of every yielded frame are fresh and never touched again by the
// sampler, so a consumer may transfer them (postMessage) without copying.

import { binarize, type BinarizeOptions } from './binarize';
import { ddimCoefficients, ddimNext, forwardNoise, predictX0 } from './ddim';
import { GaussianStream, Stream } from './noise';
import { ddimTimePairs, type Schedule } from './schedule';

/** The two U-Nets as the loop sees them (contracts.md §1). */
export interface PairDenoiser {
  /** model_x: input [x_t, y_t] concatenated (2·H·W, row-major), t the integer step; returns ε_x (H·W). */
  predictMaskNoise(xy: Float32Array, t: number): Promise<Float32Array>;
  /** model_y: input [y_t, c] concatenated (2·H·W); returns ε_y (H·W). */
  predictImageNoise(yc: Float32Array, t: number): Promise<Float32Array>;
}

export type SamplerMode =
  | { kind: 'pair' }
  | { kind: 'maskToImage'; mask: Float32Array } // ±1 per pixel (values > 0 are lesion)
  | { kind: 'imageToMask'; image: Float32Array }; // model units [−1, 1]

export interface SamplerOptions {
  denoiser: PairDenoiser;
  schedule: Schedule;
  height: number;
  width: number;
  steps: number;
  seed: number;
  eta?: number; // default 0
  binarize?: BinarizeOptions;
  mode?: SamplerMode; // default pair
  /** Checked before every model call; when aborted the sampler throws CancelledError. */
  signal?: { readonly aborted: boolean };
  /** Start noise override (tests): x_T and y_T instead of streams 0 and 1. */
  start?: { xT: Float32Array; yT: Float32Array };
}

export interface SamplerFrame {
  index: number; // 0-based step index
  total: number; // number of steps
  t: number;
  tPrev: number; // −1 on the last step
  x0: Float32Array; // x̂₀ (or the user's mask in maskToImage)
  y0: Float32Array; // ŷ₀ (or the user's image in imageToMask)
  c: Float32Array; // B(x̂₀), the condition model_y saw (or would have seen), ±1
}

export interface SamplerResult {
  /** B(x̂₀) of the last step, ±1 (the user's mask in maskToImage). */
  mask: Float32Array;
  /** ŷ₀ of the last step (the user's image in imageToMask). */
  image: Float32Array;
  steps: number;
}

export class CancelledError extends Error {
  constructor() {
    super('generation cancelled');
    this.name = 'CancelledError';
  }
}

function concat(a: Float32Array, b: Float32Array): Float32Array {
  const out = new Float32Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

function checkLength(name: string, a: Float32Array, n: number, H: number, W: number): void {
  if (a.length !== n) throw new Error(`${name} has ${a.length} values, the model needs ${H}×${W} = ${n}`);
}

/** Runs the loop, yielding one frame per step; returns the final pair. */
export async function* sampleSteps(opts: SamplerOptions): AsyncGenerator<SamplerFrame, SamplerResult, void> {
  const { schedule, height: H, width: W, seed } = opts;
  const n = H * W;
  const eta = opts.eta ?? 0;
  const mode = opts.mode ?? { kind: 'pair' };
  if (!(eta >= 0)) throw new RangeError(`eta must be ≥ 0, got ${eta}`);
  const pairs = ddimTimePairs(schedule.T, opts.steps);
  const denoiser = opts.denoiser;

  const runMask = mode.kind !== 'maskToImage';
  const runImage = mode.kind !== 'imageToMask';
  const userMask = mode.kind === 'maskToImage' ? Float32Array.from(mode.mask, (v) => (v > 0 ? 1 : -1)) : null;
  const userImage = mode.kind === 'imageToMask' ? mode.image.slice() : null;
  if (userMask) checkLength('the mask', userMask, n, H, W);
  if (userImage) checkLength('the image', userImage, n, H, W);

  let x = opts.start ? opts.start.xT.slice() : gaussianStart(seed, Stream.maskStart, n);
  let y = opts.start ? opts.start.yT.slice() : gaussianStart(seed, Stream.imageStart, n);
  checkLength('x_T', x, n, H, W);
  checkLength('y_T', y, n, H, W);
  const fixedEps = userImage ? new GaussianStream(seed, Stream.imageToMaskEps).next(n) : null;
  const zMask = eta > 0 ? new GaussianStream(seed, Stream.maskZ) : null;
  const zImage = eta > 0 ? new GaussianStream(seed, Stream.imageZ) : null;

  const cancelled = () => {
    if (opts.signal?.aborted) throw new CancelledError();
  };

  let mask: Float32Array = userMask ?? new Float32Array(n);
  let image: Float32Array = userImage ?? new Float32Array(n);
  for (let index = 0; index < pairs.length; index++) {
    const { t, tPrev } = pairs[index];
    const k = ddimCoefficients(schedule, t, tPrev, eta);

    // 1. the mask chain
    let x0: Float32Array;
    let c: Float32Array;
    if (runMask) {
      const yCond = fixedEps && userImage ? forwardNoise(userImage, fixedEps, k) : y;
      cancelled();
      const epsX = await denoiser.predictMaskNoise(concat(x, yCond), t);
      checkLength('ε_x', epsX, n, H, W);
      x0 = predictX0(x, epsX, k);
      x = ddimNext(x0, epsX, zMask && k.c1 !== 0 ? zMask.next(n) : null, k);
      c = binarize(x0, H, W, opts.binarize);
    } else {
      x0 = userMask!.slice();
      c = userMask!.slice();
    }

    // 2. the image chain, conditioned on c
    let y0: Float32Array;
    if (runImage) {
      cancelled();
      const epsY = await denoiser.predictImageNoise(concat(y, c), t);
      checkLength('ε_y', epsY, n, H, W);
      y0 = predictX0(y, epsY, k);
      y = ddimNext(y0, epsY, zImage && k.c1 !== 0 ? zImage.next(n) : null, k);
    } else {
      y0 = userImage!.slice();
    }

    if (index === pairs.length - 1) {
      mask = c.slice();
      image = y0.slice();
    }
    yield { index, total: pairs.length, t, tPrev, x0, y0, c };
  }
  return { mask, image, steps: pairs.length };
}

function gaussianStart(seed: number, stream: number, n: number): Float32Array {
  return new GaussianStream(seed, stream).next(n);
}

/** Drives sampleSteps to the end, calling onFrame (if given) for each step; returns the final pair. */
export async function runSampler(
  opts: SamplerOptions,
  onFrame?: (frame: SamplerFrame) => void | Promise<void>,
): Promise<SamplerResult> {
  const it = sampleSteps(opts);
  for (;;) {
    const r = await it.next();
    if (r.done) return r.value;
    if (onFrame) await onFrame(r.value);
  }
}
