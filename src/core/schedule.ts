// The noise schedule and the DDIM time list (METHOD.md, "Notation" and "Sampling").
//
// Precision, chosen to match the kit's PyTorch reference exactly:
//   betas     = torch.linspace(betaStart, betaEnd, T, dtype=float64).float()   -> float32 values
//   alphaBar  = torch.cumprod(1 - betas.double(), 0)                         -> float64 products
// i.e. the linspace is evaluated in float64 and rounded to float32 (as the PIG reference's
// `get_betas` does), and the cumulative product runs in float64 over those float32 betas. ᾱ is
// kept in float64 (a Float64Array) and every DDIM coefficient is computed from it in float64; only
// the image arrays are float32. ᾱ_{-1} = 1 (the reference prepends β = 0 and indexes at t + 1).

export interface LinearScheduleSpec {
  kind: 'linear';
  betaStart: number;
  betaEnd: number;
  T: number;
}

export interface Schedule {
  readonly T: number;
  /** β_t, t = 0..T-1, float32 values. */
  readonly betas: Float32Array;
  /** ᾱ_t, t = 0..T-1, float64 cumulative products of (1 − β_i) over the float32 betas. */
  readonly alphaBar: Float64Array;
}

/** torch.linspace semantics in float64: start + i·step, with the second half computed from the end. */
function linspace64(start: number, end: number, n: number): Float64Array {
  const out = new Float64Array(n);
  if (n === 1) {
    out[0] = start;
    return out;
  }
  const step = (end - start) / (n - 1);
  const half = Math.floor(n / 2);
  for (let i = 0; i < n; i++) {
    // PyTorch's CPU linspace fills the first half from start and the second half from end, which
    // keeps both endpoints exact; numpy computes start + i·step. After rounding to float32 the two
    // agree for this schedule (checked in schedule.test.ts against an independent float64 loop).
    out[i] = i < half ? start + step * i : end - step * (n - 1 - i);
  }
  return out;
}

export function linearSchedule(spec: LinearScheduleSpec): Schedule {
  if (spec.kind !== 'linear') throw new Error(`unsupported schedule kind "${String(spec.kind)}"`);
  const T = spec.T;
  if (!Number.isInteger(T) || T < 1) throw new Error(`schedule.T must be a positive integer, got ${T}`);
  const betas = Float32Array.from(linspace64(spec.betaStart, spec.betaEnd, T));
  const alphaBar = new Float64Array(T);
  let prod = 1;
  for (let t = 0; t < T; t++) {
    prod *= 1 - betas[t];
    alphaBar[t] = prod;
  }
  return { T, betas, alphaBar };
}

/** ᾱ at integer step t ∈ {−1, 0, …, T−1}; ᾱ_{−1} = 1. */
export function alphaBarAt(schedule: Schedule, t: number): number {
  if (t === -1) return 1;
  if (!Number.isInteger(t) || t < 0 || t >= schedule.T) throw new RangeError(`timestep ${t} outside [-1, ${schedule.T - 1}]`);
  return schedule.alphaBar[t];
}

export interface TimePair {
  /** current timestep */
  t: number;
  /** the next (smaller) timestep; −1 for the last step */
  tPrev: number;
}

/**
 * DDIM with uniform skips: stride = ⌊T/S⌋ and t_list = [0, stride, 2·stride, …] with exactly S
 * elements, walked from its last element down, each t paired with the element before it (t' = −1
 * for t = 0). When S divides T (every power of two up to 1024) this is the PIG reference's
 * range(0, T, T // S); for other S the reference would walk ⌈T/stride⌉ steps, we (and the kit's
 * `Schedule.ddim_pairs`) walk exactly S, so the step count the user asks for is the one they get.
 */
export function ddimTimePairs(T: number, steps: number): TimePair[] {
  if (!Number.isInteger(steps) || steps < 1 || steps > T) {
    throw new RangeError(`steps must be an integer in [1, ${T}], got ${steps}`);
  }
  const stride = Math.floor(T / steps);
  const pairs: TimePair[] = [];
  for (let i = steps - 1; i >= 0; i--) pairs.push({ t: i * stride, tPrev: i > 0 ? (i - 1) * stride : -1 });
  return pairs;
}
