// One DDIM step of one chain (METHOD.md, "Sampling", step 1; Song et al. 2021, eq. 12):
//   x̂₀     = (x_t − √(1−ᾱ_t) ε) / √ᾱ_t
//   x_{t'} = √ᾱ_{t'} x̂₀ + c₁ z + c₂ ε
//   c₁     = η √((1 − ᾱ_t/ᾱ_{t'}) (1 − ᾱ_{t'}) / (1 − ᾱ_t)),   c₂ = √(1 − ᾱ_{t'} − c₁²)
// Coefficients in float64; arrays float32 (each element computed in float64, stored as float32).
// With t' = −1 (ᾱ = 1) both c₁ and c₂ are 0 and x_{t'} = x̂₀ exactly.
// METHOD.md does not clip x̂₀; the `clip` option (clipEstimate) may, per chain, default none.

import { alphaBarAt, type Schedule } from './schedule';

export interface DdimCoefficients {
  t: number;
  tPrev: number;
  alphaBar: number; // ᾱ_t
  alphaBarPrev: number; // ᾱ_{t'}
  sqrtAlphaBar: number; // √ᾱ_t
  sqrtOneMinusAlphaBar: number; // √(1−ᾱ_t)
  sqrtAlphaBarPrev: number; // √ᾱ_{t'}
  c1: number;
  c2: number;
}

export function ddimCoefficients(schedule: Schedule, t: number, tPrev: number, eta: number): DdimCoefficients {
  const a = alphaBarAt(schedule, t);
  const ap = alphaBarAt(schedule, tPrev);
  const c1 = eta * Math.sqrt(((1 - a / ap) * (1 - ap)) / (1 - a));
  // Clamp the radicand at 0: with η = 1 and rounding it can come out as −1e-17.
  const c2 = Math.sqrt(Math.max(0, 1 - ap - c1 * c1));
  return {
    t,
    tPrev,
    alphaBar: a,
    alphaBarPrev: ap,
    sqrtAlphaBar: Math.sqrt(a),
    sqrtOneMinusAlphaBar: Math.sqrt(1 - a),
    sqrtAlphaBarPrev: Math.sqrt(ap),
    c1,
    c2,
  };
}

/** x̂₀ = (x_t − √(1−ᾱ_t) ε) / √ᾱ_t; not clipped (clipEstimate does that where asked). */
export function predictX0(xt: Float32Array, eps: Float32Array, k: DdimCoefficients, out = new Float32Array(xt.length)): Float32Array {
  checkLengths(xt, eps);
  const s1 = k.sqrtOneMinusAlphaBar;
  const s = k.sqrtAlphaBar;
  for (let i = 0; i < xt.length; i++) out[i] = (xt[i] - s1 * eps[i]) / s;
  return out;
}

/** Which chains clip their estimate (contracts.md §2 `sampler.clip`): none (the paper's loop),
 * image (the image chain's ŷ₀ only) or both (the mask chain's x̂₀ too). */
export const CLIP_MODES = ['none', 'image', 'both'] as const;
export type ClipMode = (typeof CLIP_MODES)[number];

export function clipsChain(clip: ClipMode, chain: 'mask' | 'image'): boolean {
  return clip === 'both' || (clip === 'image' && chain === 'image');
}

/**
 * The `clip` option on one chain's step (diffusers' DDIMScheduler clip_sample): where x̂₀ > 1 or
 * x̂₀ < −1, x̂₀ ← clamp(x̂₀, −1, 1) and ε ← ε + √ᾱ_t (x̂₀ − clamp(x̂₀)) / √(1−ᾱ_t), which is
 * (x_t − √ᾱ_t clamp(x̂₀)) / √(1−ᾱ_t): the ε the clamped estimate implies, in the form the step graphs
 * compute (contracts.md §2b), so that x_{t'} heads for the clamped estimate. Every other element of
 * both is left as it is, bit for bit. In place on the step's own x̂₀ and ε; returns how many
 * elements were clipped.
 */
export function clipEstimate(eps: Float32Array, x0: Float32Array, k: DdimCoefficients): number {
  checkLengths(x0, eps);
  const ratio = k.sqrtAlphaBar / k.sqrtOneMinusAlphaBar;
  let clipped = 0;
  for (let i = 0; i < x0.length; i++) {
    // (a NaN is neither: it stays, for the finite checks to report)
    if (x0[i] > 1 || x0[i] < -1) {
      const c = x0[i] > 1 ? 1 : -1;
      eps[i] = eps[i] + (x0[i] - c) * ratio;
      x0[i] = c;
      clipped++;
    }
  }
  return clipped;
}

/** x_{t'} = √ᾱ_{t'} x̂₀ + c₁ z + c₂ ε. `z` may be null when c₁ = 0 (η = 0). */
export function ddimNext(x0: Float32Array, eps: Float32Array, z: Float32Array | null, k: DdimCoefficients, out = new Float32Array(x0.length)): Float32Array {
  checkLengths(x0, eps);
  const a = k.sqrtAlphaBarPrev;
  const c1 = k.c1;
  const c2 = k.c2;
  if (c1 !== 0) {
    if (!z) throw new Error('ddimNext: η > 0 needs the noise z');
    checkLengths(x0, z);
    for (let i = 0; i < x0.length; i++) out[i] = a * x0[i] + c1 * z[i] + c2 * eps[i];
  } else {
    for (let i = 0; i < x0.length; i++) out[i] = a * x0[i] + c2 * eps[i];
  }
  return out;
}

/** Forward process q(x_t | x₀) with a given ε: x_t = √ᾱ_t x₀ + √(1−ᾱ_t) ε. */
export function forwardNoise(
  x0: Float32Array,
  eps: Float32Array,
  k: Pick<DdimCoefficients, 'sqrtAlphaBar' | 'sqrtOneMinusAlphaBar'>,
  out = new Float32Array(x0.length),
): Float32Array {
  checkLengths(x0, eps);
  for (let i = 0; i < x0.length; i++) out[i] = k.sqrtAlphaBar * x0[i] + k.sqrtOneMinusAlphaBar * eps[i];
  return out;
}

function checkLengths(a: Float32Array, b: Float32Array): void {
  if (a.length !== b.length) throw new Error(`array lengths differ: ${a.length} vs ${b.length}`);
}
