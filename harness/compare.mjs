// How two pairs of the same seed and steps made on different paths are compared: by the e2e specs
// (the studio's WebGPU pair against its WASM pair) and by the benchmark (bench/webgpu-parity.ts: the
// WebGPU engine in Node against the CPU executor). 8-bit gray arrays in, numbers out.

/**
 * How far two pairs of the same seed and steps made on different paths may differ (the WebGPU step
 * graphs against the WASM plain U-Nets; e2e/specs/studio.spec.mjs says why these bounds): the 8-bit images'
 * mean |Δ| in levels, the masks' Dice. The WebGPU engine in Node is held to the same
 * (bench/webgpu.test.ts).
 */
export const PAIR_TOLERANCE = { imageMeanAbsDiff: 2, maskDice: 0.95 };

export function meanAbsDiff(a, b) {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i] - b[i]);
  return s / a.length;
}

export function maxAbsDiff(a, b) {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Dice of two binary masks (0/255); two empty masks agree perfectly. */
export function dice(a, b) {
  let inter = 0;
  let sa = 0;
  let sb = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] > 127 ? 1 : 0;
    const y = b[i] > 127 ? 1 : 0;
    inter += x & y;
    sa += x;
    sb += y;
  }
  return sa + sb === 0 ? 1 : (2 * inter) / (sa + sb);
}
