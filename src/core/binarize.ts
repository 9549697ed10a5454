// B(·), the mask binarisation that turns x̂₀ into the image model's condition (METHOD.md, step 2),
// and the reference code's contrast-stretch display transform. Both act on one H×W map.

/** 5×5 (or k×k) average pool, stride 1, zero padding k/2 NOT counted (count_include_pad=False). */
export function avgPool(src: Float32Array, height: number, width: number, kernel = 5, out = new Float32Array(src.length)): Float32Array {
  if (src.length !== height * width) throw new Error(`avgPool: ${src.length} values for ${height}×${width}`);
  if (kernel % 2 !== 1) throw new Error(`avgPool: kernel must be odd, got ${kernel}`);
  const r = (kernel - 1) / 2;
  // Separable: row sums, then column sums of row sums; the divisor is the in-bounds count.
  const rows = new Float64Array(src.length);
  for (let y = 0; y < height; y++) {
    const base = y * width;
    for (let x = 0; x < width; x++) {
      let s = 0;
      const x0 = Math.max(0, x - r);
      const x1 = Math.min(width - 1, x + r);
      for (let i = x0; i <= x1; i++) s += src[base + i];
      rows[base + x] = s;
    }
  }
  for (let y = 0; y < height; y++) {
    const y0 = Math.max(0, y - r);
    const y1 = Math.min(height - 1, y + r);
    const ny = y1 - y0 + 1;
    for (let x = 0; x < width; x++) {
      const nx = Math.min(width - 1, x + r) - Math.max(0, x - r) + 1;
      let s = 0;
      for (let j = y0; j <= y1; j++) s += rows[j * width + x];
      out[y * width + x] = s / (nx * ny);
    }
  }
  return out;
}

function clamp1(src: Float32Array): Float32Array {
  const out = new Float32Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = src[i] < -1 ? -1 : Math.min(src[i], 1);
  return out;
}

function minMax(a: Float32Array): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < a.length; i++) {
    const v = a[i];
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}

export interface BinarizeOptions {
  kernel?: number; // default 5
  weights?: readonly [number, number]; // θ = w0·max + w1·min, default [0.75, 0.25]
}

/**
 * B(x): clamp to [−1, 1]; average pool; θ = 0.75·max + 0.25·min of the pooled map;
 * +1 where pooled > θ, else −1. Returns a new Float32Array of ±1.
 * θ is computed in float32 arithmetic, as the PyTorch reference does on float32 tensors.
 */
export function binarize(x: Float32Array, height: number, width: number, opts: BinarizeOptions = {}): Float32Array {
  const kernel = opts.kernel ?? 5;
  const [w0, w1] = opts.weights ?? [0.75, 0.25];
  const pooled = avgPool(clamp1(x), height, width, kernel);
  const [lo, hi] = minMax(pooled);
  const theta = Math.fround(Math.fround(w0 * hi) + Math.fround(w1 * lo));
  const out = new Float32Array(x.length);
  for (let i = 0; i < out.length; i++) out[i] = pooled[i] > theta ? 1 : -1;
  return out;
}

/**
 * The reference code's display transform (PIG `InverseNormalizeTransform`): clamp to [−1, 1]; take
 * min and max of the 5×5-average-pooled map; map the clamped values linearly so that the pooled
 * [min, max] goes to [−1, max]; clamp to [−1, 1]; then to [0, 255] (rounded to nearest).
 * A display option only, never the data.
 */
export function contrastStretch(x: Float32Array, height: number, width: number, kernel = 5): Uint8ClampedArray {
  const c = clamp1(x);
  const [lo, hi] = minMax(avgPool(c, height, width, kernel));
  const out = new Uint8ClampedArray(x.length);
  const span = hi - lo;
  const a = span > 0 ? (1 + hi) / span : 1;
  const b = span > 0 ? (-hi * (1 + lo)) / span : 0;
  for (let i = 0; i < c.length; i++) {
    let v = a * c[i] + b;
    v = v < -1 ? -1 : Math.min(v, 1);
    out[i] = Math.round(((v + 1) / 2) * 255);
  }
  return out;
}
