// The kit's golden sampler fixtures (docs/contracts.md §4), shared by the golden tests.

import { fileURLToPath } from 'node:url';
import type { ClipMode } from './ddim';

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
  /** The sampler option clip the reference ran with (absent: none). */
  clip?: ClipMode;
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

/**
 * The fixtures every golden test checks: the paper's loop (tiny-golden.json; PIG_GOLDEN_FIXTURE
 * points at another) and the sampler with clip (tiny-golden-clip.json; PIG_GOLDEN_CLIP_FIXTURE).
 */
export const GOLDEN_FIXTURES: readonly { name: string; path: string }[] = [
  { name: 'tiny-golden', path: process.env.PIG_GOLDEN_FIXTURE ?? fileURLToPath(new URL('./fixtures/tiny-golden.json', import.meta.url)) },
  { name: 'tiny-golden-clip', path: process.env.PIG_GOLDEN_CLIP_FIXTURE ?? fileURLToPath(new URL('./fixtures/tiny-golden-clip.json', import.meta.url)) },
];
