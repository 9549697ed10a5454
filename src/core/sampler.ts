// The PIG joint DDIM loop (METHOD.md, "Sampling" and "Three ways to use one trained pair"), with the
// per-step execution pluggable. One loop serves all three modes and every executor:
//   pair         : ε_x = model_x([x_t, y_t], t); x̂₀; c = B(x̂₀); ε_y = model_y([y_t, c], t); ŷ₀
//   maskToImage  : c = the user's mask m at every step; only model_y runs; x̂₀ is reported as m
//   imageToMask  : y_t = √ᾱ_t y* + √(1−ᾱ_t) ε with one fixed ε (stream 4); only model_x runs;
//                  ŷ₀ is reported as y*
//
// What the loop owns (one copy of each idea): the time pairs, the DDIM coefficients, every noise
// stream, the mode, cancellation, which estimates are read back on which step, frame emission and
// the final pair. What a StepExecutor owns: where x_t, y_t and c live and how one model call plus
// its DDIM update (and B for the mask chain) is computed:
//   - core's CPU executor (sampler-cpu.ts): a PairDenoiser returns ε, core's ddim.ts / binarize.ts
//     do the rest on Float32Arrays. The reference implementation; the CLI and WASM path.
//   - the engine's step-graph executor (src/engine/steps.ts): whole steps as ONNX graphs
//     (contracts.md §1b) with x_t, y_t, c kept as GPU tensors; only what `read` asks for comes back.
//
// The option `clip` (contracts.md §2, not in METHOD.md; default none, the paper's loop) is the
// executor's: it learns at creation which chains clamp their estimate (ddim.ts, clipEstimate).
//
// Noise (docs/contracts.md §3): x_T from stream 0, y_T from stream 1; with η > 0 the DDIM z of the
// mask chain from stream 2 and of the image chain from stream 3, H·W values per step in step order
// (drawn only where c₁ ≠ 0, i.e. not on the last step, as the kit's reference sampler does).
//
// A latent model (contracts.md §6a) runs the same loop on its grid [h, w] with y replaced by the
// latent z of C channels: the latent streams (1, 3, 4) draw C·h·w values each, a frame's ŷ₀ is the
// linear preview of ẑ₀ (and `z0` ẑ₀ itself), and the final pair is at [H, W]: the decoder on the
// last ẑ₀, clamped, and B(bilinear(x̂₀)). Mask → image takes the user's mask at [H, W] to the grid;
// image → mask encodes the user's image once. Attributes (§6b) are the executor's: the run's
// `conditioning` (its one-hot `a`, and a∅ for classifier-free guidance) goes to every U-Net call.
//
// Ownership: the arrays of every yielded frame and of the result are fresh and never touched again
// by the sampler or the executor, so a consumer may transfer them (postMessage) without copying.

import type { Conditioning } from './attributes';
import type { BinarizeOptions } from './binarize';
import { CLIP_MODES, type ClipMode, ddimCoefficients, forwardNoise } from './ddim';
import { checkLength, type EstimateName, type PairDenoiser, type StepExecutorFactory } from './executor';
import { checkFinite } from './finite';
import { clampImage, finalLatentMask, type LatentRun, latentPreview, maskToGrid } from './latent';
import { GaussianStream, Stream } from './noise';
import { cpuStepExecutors } from './sampler-cpu';
import { ddimTimePairs, type Schedule } from './schedule';

/** The contract's types the loop's options name, for callers of the loop (defined in executor.ts). */
export type { PairDenoiser, StepExecutorFactory } from './executor';

/** The user's mask or image is at the model's resolution [H, W] (a latent model's image size, not its grid). */
export type SamplerMode =
  | { kind: 'pair' }
  | { kind: 'maskToImage'; mask: Float32Array } // ±1 per pixel (values > 0 are lesion)
  | { kind: 'imageToMask'; image: Float32Array }; // model units [−1, 1]

export interface SamplerOptions {
  /** The plain U-Nets, run by core's CPU executor. Ignored when `executor` is given. */
  denoiser?: PairDenoiser;
  /** Who runs each step (default: the CPU executor over `denoiser`). */
  executor?: StepExecutorFactory;
  schedule: Schedule;
  /** Where the chains run: the model's resolution, or a latent model's grid [h, w]. */
  height: number;
  width: number;
  /** A latent model: its latent and autoencoder (latent.ts latentRun); absent or null: pixel space. */
  latent?: LatentRun | null;
  /** A model with attributes: what its U-Nets are conditioned on (attributes.ts conditioning). */
  conditioning?: Conditioning;
  steps: number;
  seed: number;
  eta?: number; // default 0
  /** Which chains clamp their estimate to [−1, 1] (ddim.ts, clipEstimate); default 'none', the paper's loop. */
  clip?: ClipMode;
  binarize?: BinarizeOptions;
  mode?: SamplerMode; // default pair
  /**
   * Which estimates each frame carries: true (default) all of x̂₀, ŷ₀ and c; false none (only the
   * final pair is read back); or a list. Whatever a frame does not carry is never read back.
   */
  previews?: boolean | readonly EstimateName[];
  /** Checked before every model call; when aborted the sampler throws CancelledError. */
  signal?: { readonly aborted: boolean };
  /** Start noise override (tests): x_T and y_T (C·h·w on a latent model) instead of streams 0 and 1. */
  start?: { xT: Float32Array; yT: Float32Array };
}

/** A step as the loop reports it; the arrays are present when `previews` asked for them. */
export interface SamplerStep {
  index: number; // 0-based step index
  total: number; // number of steps
  t: number;
  tPrev: number; // −1 on the last step
  x0?: Float32Array; // x̂₀ (or the user's mask in maskToImage)
  y0?: Float32Array; // ŷ₀ (or the user's image in imageToMask); a latent model's: the preview of ẑ₀ at the grid
  c?: Float32Array; // B(x̂₀), the condition model_y saw (or would have seen), ±1
  /** A latent model's ẑ₀ (C·h·w; the encoded user image in imageToMask), with y0: what the decoder would show. */
  z0?: Float32Array;
}

/** A step with all three estimates (the default, `previews: true`). */
export interface SamplerFrame extends SamplerStep {
  x0: Float32Array;
  y0: Float32Array;
  c: Float32Array;
}

export interface SamplerResult {
  /** B(x̂₀) of the last step, ±1 (the user's mask in maskToImage); a latent model's B(bilinear(x̂₀)) at [H, W]. */
  mask: Float32Array;
  /** ŷ₀ of the last step (the user's image in imageToMask); a latent model's clamp(D(ẑ₀ / s)) at [H, W]. */
  image: Float32Array;
  steps: number;
  /** A latent model's last x̂₀ at the grid and ẑ₀ (C·h·w), where the chains ran (null: that chain did not run). */
  latent?: { x0: Float32Array | null; z0: Float32Array | null };
}

export class CancelledError extends Error {
  constructor() {
    super('generation cancelled');
    this.name = 'CancelledError';
  }
}

function previewSet(p: SamplerOptions['previews']): ReadonlySet<EstimateName> {
  if (p === undefined || p === true) return new Set(['x0', 'y0', 'c']);
  if (p === false) return new Set();
  return new Set(p);
}

/** Runs the loop, yielding one frame per step; returns the final pair. */
export function sampleSteps(opts: SamplerOptions & { previews?: true }): AsyncGenerator<SamplerFrame, SamplerResult, void>;
export function sampleSteps(opts: SamplerOptions): AsyncGenerator<SamplerStep, SamplerResult, void>;
export async function* sampleSteps(opts: SamplerOptions): AsyncGenerator<SamplerStep, SamplerResult, void> {
  const { schedule, height: H, width: W, seed } = opts;
  const n = H * W;
  const eta = opts.eta ?? 0;
  const mode = opts.mode ?? { kind: 'pair' };
  if (!(eta >= 0)) throw new RangeError(`eta must be ≥ 0, got ${eta}`);
  const clip = opts.clip ?? 'none';
  if (!CLIP_MODES.includes(clip)) throw new RangeError(`clip must be ${CLIP_MODES.join(', ')}, got ${JSON.stringify(clip)}`);
  const pairs = ddimTimePairs(schedule.T, opts.steps);
  const factory = opts.executor ?? (opts.denoiser ? cpuStepExecutors(opts.denoiser) : null);
  if (!factory) throw new Error('sampleSteps needs a denoiser or an executor');
  const previews = previewSet(opts.previews);

  const latent = opts.latent ?? null;
  // C: the image chain's channels; [RH, RW]: the user's mask or image and the final pair
  const C = latent ? latent.spec.channels : 1;
  const [RH, RW] = latent ? latent.resolution : [H, W];
  if (latent && (latent.spec.grid[0] !== H || latent.spec.grid[1] !== W))
    throw new RangeError(`a latent model runs on its grid ${latent.spec.grid.join('×')}, not ${H}×${W}`);
  const runMask = mode.kind !== 'maskToImage';
  const runImage = mode.kind !== 'imageToMask';
  const userMask = mode.kind === 'maskToImage' ? Float32Array.from(mode.mask, (v) => (v > 0 ? 1 : -1)) : null;
  const userImage = mode.kind === 'imageToMask' ? mode.image.slice() : null;
  if (userMask) checkLength('the mask', userMask, RH * RW, RH, RW);
  if (userImage) checkLength('the image', userImage, RH * RW, RH, RW);
  // what the chains see of them: the mask at the grid (≥ ½ of a cell), the image's latent (encoded once)
  const condition = userMask && latent ? maskToGrid(userMask, RH, RW, latent.spec.factor) : userMask;

  const xT = opts.start ? opts.start.xT.slice() : gaussianStart(seed, Stream.maskStart, n);
  const yT = opts.start ? opts.start.yT.slice() : gaussianStart(seed, Stream.imageStart, C * n);
  checkLength('x_T', xT, n, H, W);
  checkLength(latent ? 'z_T' : 'y_T', yT, n, H, W, C);
  const fixedEps = userImage ? new GaussianStream(seed, Stream.imageToMaskEps).next(C * n) : null;
  const zMask = eta > 0 ? new GaussianStream(seed, Stream.maskZ) : null;
  const zImage = eta > 0 ? new GaussianStream(seed, Stream.imageZ) : null;

  const cancelled = () => {
    if (opts.signal?.aborted) throw new CancelledError();
  };
  let target: Float32Array | null = userImage; // image → mask's target in the image chain's space: y*, or z* = encoder(y*)
  if (userImage && latent) {
    cancelled();
    const z = await latent.codec.encode(userImage);
    checkLength('the encoded image z*', z, n, H, W, C);
    checkFinite(z, { model: 'encoder', quantity: 'z*', index: 0, t: schedule.T });
    target = z;
  }
  /** A frame's ŷ₀ from the image chain's estimate: itself, or a latent's preview. */
  const shown = (z: Float32Array) => (latent ? latentPreview(z, latent.spec.preview, n) : z);

  const executor = factory.create({ height: H, width: W, channels: C, binarize: opts.binarize, clip, conditioning: opts.conditioning });
  try {
    await executor.start({ xT, yT, condition });
    let mask: Float32Array = userMask ?? new Float32Array(n);
    let image: Float32Array = userImage ?? new Float32Array(n);
    let lastX0: Float32Array | null = null;
    let lastZ0: Float32Array | null = null;
    for (let index = 0; index < pairs.length; index++) {
      const { t, tPrev } = pairs[index];
      const k = ddimCoefficients(schedule, t, tPrev, eta);
      const last = index === pairs.length - 1;

      // 1. the mask chain (image → mask: conditioned on the forward-noised user image)
      if (runMask) {
        const yCond = fixedEps && target ? forwardNoise(target, fixedEps, k) : null;
        cancelled();
        await executor.maskStep({ index, t, tPrev, k, z: zMask && k.c1 !== 0 ? zMask.next(n) : null }, yCond);
      }
      // 2. the image chain, conditioned on c (or the user's mask)
      if (runImage) {
        cancelled();
        await executor.imageStep({ index, t, tPrev, k, z: zImage && k.c1 !== 0 ? zImage.next(C * n) : null });
      }

      // 3. read back what the frame shows, and on the last step the final pair (and x̂₀, so that a
      //    NaN in the mask chain is found even where no frame reads it: B(NaN) would hide it)
      const names: EstimateName[] = [];
      if (runMask && (previews.has('x0') || last)) names.push('x0');
      if (runMask && (previews.has('c') || last)) names.push('c');
      if (runImage && (previews.has('y0') || last)) names.push('y0');
      const got = names.length > 0 ? await executor.read(names) : {};
      for (const name of names) checkLength(`the step's ${name}`, got[name] ?? new Float32Array(0), n, H, W, name === 'y0' ? C : 1);
      if (got.x0) checkFinite(got.x0, { model: 'mask', quantity: 'x̂₀', index, total: pairs.length, t });
      if (got.y0) checkFinite(got.y0, { model: 'image', quantity: latent ? 'ẑ₀' : 'ŷ₀', index, total: pairs.length, t });

      const frame: SamplerStep = { index, total: pairs.length, t, tPrev };
      if (previews.has('x0')) frame.x0 = runMask ? got.x0 : condition!.slice();
      if (previews.has('y0')) {
        const estimate = runImage ? got.y0! : target!.slice();
        frame.y0 = latent ? shown(estimate) : estimate;
        if (latent) frame.z0 = estimate;
      }
      if (previews.has('c')) frame.c = runMask ? got.c : condition!.slice();
      if (last) {
        // copies where the frame carries the same array (the consumer may transfer it)
        if (latent) {
          if (runMask) lastX0 = previews.has('x0') ? got.x0!.slice() : got.x0!;
          if (runImage) lastZ0 = previews.has('y0') ? got.y0!.slice() : got.y0!;
        } else {
          if (runMask) mask = previews.has('c') ? got.c!.slice() : got.c!;
          if (runImage) image = previews.has('y0') ? got.y0!.slice() : got.y0!;
        }
      }
      yield frame;
    }
    if (!latent) return { mask, image, steps: pairs.length };
    // the final pair at [H, W]: B(bilinear(x̂₀)) and the decoder on ẑ₀, clamped (contracts.md §6a)
    if (lastX0) mask = finalLatentMask(lastX0, [H, W], [RH, RW], opts.binarize);
    if (lastZ0) {
      cancelled();
      const decoded = await latent.codec.decode(lastZ0);
      checkLength('the decoded image', decoded, RH * RW, RH, RW);
      checkFinite(decoded, { model: 'decoder', quantity: 'D(ẑ₀ / s)', index: pairs.length - 1, total: pairs.length, t: pairs.at(-1)!.t });
      image = clampImage(decoded);
    }
    return { mask, image, steps: pairs.length, latent: { x0: lastX0, z0: lastZ0 } };
  } finally {
    await executor.finish();
  }
}

function gaussianStart(seed: number, stream: number, n: number): Float32Array {
  return new GaussianStream(seed, stream).next(n);
}

/** Drives sampleSteps to the end, calling onFrame (if given) for each step; returns the final pair. */
export function runSampler(opts: SamplerOptions & { previews?: true }, onFrame?: (frame: SamplerFrame) => void | Promise<void>): Promise<SamplerResult>;
export function runSampler(opts: SamplerOptions, onFrame?: (frame: SamplerStep) => void | Promise<void>): Promise<SamplerResult>;
export async function runSampler(opts: SamplerOptions, onFrame?: (frame: SamplerFrame) => void | Promise<void>): Promise<SamplerResult> {
  const it = sampleSteps(opts);
  try {
    for (;;) {
      const r = await it.next();
      if (r.done) return r.value;
      // (a SamplerFrame exactly when the overload says so: previews absent or true)
      if (onFrame) await onFrame(r.value as SamplerFrame);
    }
  } finally {
    // when onFrame throws: end the generator so the executor releases what it holds
    await it.return(undefined as never);
  }
}
