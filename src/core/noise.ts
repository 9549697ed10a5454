// Seeded Gaussian noise, bit-for-bit the spec in docs/contracts.md §3 (twin: training/pigkit/noise.py).
// SplitMix32 seeding → xoshiro128** → 24-bit uniforms in (0, 1) → Box–Muller in float64 → float32.
// All integer arithmetic is unsigned 32-bit: Math.imul for products, `>>> 0` to reinterpret.

import { seedInRange } from './limits';

const GOLDEN = 0x9e3779b9;

/** Noise streams (contracts.md §3). */
export const Stream = {
  maskStart: 0, // x_T
  imageStart: 1, // y_T
  maskZ: 2, // DDIM z of the mask chain (η > 0)
  imageZ: 3, // DDIM z of the image chain (η > 0)
  imageToMaskEps: 4, // the fixed ε of the image→mask mode
} as const;

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** The four xoshiro128** state words for (seed, stream), from SplitMix32. */
export function seedState(seed: number, stream: number): Uint32Array {
  if (!seedInRange(seed)) throw new RangeError(`seed must be an integer in [0, 2^32 − 1], got ${seed}`);
  if (!Number.isInteger(stream) || stream < 0 || stream > 0xffffffff) throw new RangeError(`stream must be a non-negative 32-bit integer, got ${stream}`);
  let state = (seed ^ Math.imul(stream, GOLDEN)) >>> 0;
  const s = new Uint32Array(4);
  for (let i = 0; i < 4; i++) {
    state = (state + GOLDEN) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    z = (z ^ (z >>> 16)) >>> 0;
    s[i] = z;
  }
  return s;
}

/** A stateful generator for one (seed, stream); successive draws continue the same sequence. */
export class GaussianStream {
  private readonly s: Uint32Array;

  constructor(seed: number, stream: number) {
    this.s = seedState(seed, stream);
  }

  /** xoshiro128**: the next unsigned 32-bit output. */
  nextUint32(): number {
    const s = this.s; // Uint32Array stores wrap to 32 bits
    const result = Math.imul(rotl(Math.imul(s[1], 5) >>> 0, 7), 9) >>> 0;
    const t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** Uniform in (0, 1): ((next >>> 8) + 0.5) / 2^24. */
  nextUniform(): number {
    return ((this.nextUint32() >>> 8) + 0.5) / 16777216;
  }

  /**
   * n standard normals (float32). Each call draws ⌈n/2⌉ Box–Muller pairs; for odd n the last sin
   * value is dropped, so one call of n equals gaussian(seed, stream, n), and consecutive calls of
   * even n equal one call of their sum.
   */
  next(n: number, out = new Float32Array(n)): Float32Array {
    for (let i = 0; i < n; i += 2) {
      const u1 = this.nextUniform();
      const u2 = this.nextUniform();
      const r = Math.sqrt(-2 * Math.log(u1));
      const theta = 2 * Math.PI * u2;
      out[i] = r * Math.cos(theta);
      if (i + 1 < n) out[i + 1] = r * Math.sin(theta);
    }
    return out;
  }
}

/** gaussian(seed, stream, n) → Float32Array(n), the contract function. */
export function gaussian(seed: number, stream: number, n: number): Float32Array {
  return new GaussianStream(seed, stream).next(n);
}
