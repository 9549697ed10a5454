// The executor contract (contracts.md §1): what the sampler loop (sampler.ts) hands each step to,
// and what runs it: core's CPU executor (sampler-cpu.ts) over a PairDenoiser, or the engine's
// step-graph executor (src/engine/steps.ts). Its own module so that the loop and the CPU executor
// both depend on it and not on each other.

import type { Conditioning } from './attributes';
import type { BinarizeOptions } from './binarize';
import type { ClipMode, DdimCoefficients } from './ddim';

/**
 * The two U-Nets as the CPU executor sees them (contracts.md §1; §6: the image chain's y_t and ε_y
 * have C channels on a latent model, and models with attributes take the one-hot code `a`).
 */
export interface PairDenoiser {
  /** model_x: input [x_t, y_t] concatenated ((1 + C)·H·W, row-major), t the integer step; returns ε_x (H·W). */
  predictMaskNoise(xy: Float32Array, t: number, a?: Float32Array): Promise<Float32Array>;
  /** model_y: input [y_t, c] concatenated ((C + 1)·H·W); returns ε_y (C·H·W). */
  predictImageNoise(yc: Float32Array, t: number, a?: Float32Array): Promise<Float32Array>;
}

/** The per-step estimates an executor can read back. */
export type EstimateName = 'x0' | 'y0' | 'c';
export type Estimates = Partial<Record<EstimateName, Float32Array>>;

/** One step of one chain, as the loop hands it to an executor. */
export interface StepCall {
  index: number;
  t: number;
  tPrev: number; // −1 on the last step
  /** DDIM coefficients of (t, t'), float64; a graph gets them as k (contracts.md §1b). */
  k: DdimCoefficients;
  /** This chain's DDIM noise z (H·W), or null where c₁ = 0 (η = 0, and always on the last step). */
  z: Float32Array | null;
}

/**
 * Runs the model calls of one generation and holds its state (x_t, y_t, x̂₀, ŷ₀, c) between them.
 * The loop calls start once, then per step maskStep and/or imageStep (in that order) and read,
 * and finish exactly once at the end, also after an error or a cancel.
 */
export interface StepExecutor {
  /** x_T, y_T (H·W each); in mask → image the user's mask (±1): the condition of every image step. */
  start(init: { xT: Float32Array; yT: Float32Array; condition: Float32Array | null }): Promise<void>;
  /**
   * model_x at this step: ε_x from [x_t, y_t]; x̂₀; x_t ← x_{t'}; c = B(x̂₀).
   * `yt` (image → mask) replaces the image chain's own y_t as model_x's second channel.
   */
  maskStep(step: StepCall, yt: Float32Array | null): Promise<void>;
  /** model_y at this step: ε_y from [y_t, c] (c of this step's maskStep, or the fixed condition); ŷ₀; y_t ← y_{t'}. */
  imageStep(step: StepCall): Promise<void>;
  /** The named estimates of the step just run, as fresh arrays the caller owns. Nothing else is read back. */
  read(names: readonly EstimateName[]): Promise<Estimates>;
  /** Releases whatever the run holds (GPU tensors). */
  finish(): Promise<void>;
}

/** What an executor is made for: the run's size, B(·) and which chains clip (clipsChain). */
export interface ExecutorRun {
  height: number;
  width: number;
  /** C, the image chain's channels (a latent model's; default 1: the image itself). */
  channels?: number;
  binarize?: BinarizeOptions;
  clip: ClipMode;
  /** What the U-Nets are conditioned on (models with attributes); absent: no input `a`. */
  conditioning?: Conditioning;
}

/** Makes one executor (one run's state) per run. */
export interface StepExecutorFactory {
  create(run: ExecutorRun): StepExecutor;
}

/** Throws when an array does not hold the H·W values of one image (C·H·W of a C-channel latent). */
export function checkLength(name: string, a: Float32Array, n: number, H: number, W: number, C = 1): void {
  const size = C === 1 ? `${H}×${W}` : `${C}×${H}×${W}`;
  if (a.length !== C * n) throw new Error(`${name} has ${a.length} values, the model needs ${size} = ${C * n}`);
}
