// The kit's golden sampler fixture (docs/contracts.md §4), shared by the golden tests.

export interface GoldenFrame {
  t: number;
  tPrev: number;
  x0: number[];
  y0: number[];
  c: number[];
}

export interface GoldenFixture {
  model: string;
  resolution: [number, number];
  seed: number;
  steps: number;
  eta: number;
  xT: number[];
  yT: number[];
  frames: GoldenFrame[];
  mask: number[];
  image: number[];
}

/** Largest |a − b| over two equal-length arrays. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`lengths differ: ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Number of positions where a and b differ. */
export function countDiffering(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let n = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) n++;
  return n;
}
