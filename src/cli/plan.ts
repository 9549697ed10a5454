// What a CLI run generates: its arguments, checked, and the cases of this shard.
// Pure (no I/O), so the rules are unit-tested without running a model.

import { caseName } from '../core/dataset/nnunet';
import type { SamplerMode } from '../core/sampler';

/** Exit codes: 1 = a run failed (bad model, bad output folder, …), 2 = bad command line. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface Shard {
  index: number;
  count: number;
}

/** "i/n" with 0 ≤ i < n (the 0-based index a job array hands each task). */
export function parseShard(text: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  if (!m) throw new UsageError(`--shard must be i/n (e.g. 0/4), got "${text}"`);
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1) throw new UsageError(`--shard ${text}: n must be ≥ 1`);
  if (index >= count) throw new UsageError(`--shard ${text}: i must be in 0 … ${count - 1} (0-based, as $JOB_COMPLETION_INDEX and $SLURM_ARRAY_TASK_ID with --array=0-${count - 1})`);
  return { index, count };
}

/** A non-negative (or ≥ min) integer flag. */
export function parseInteger(flag: string, text: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  if (!/^\d+$/.test(text.trim())) throw new UsageError(`--${flag} must be an integer, got "${text}"`);
  const v = Number(text);
  if (v < min || v > max) throw new UsageError(`--${flag} must be in ${min} … ${max}, got ${v}`);
  return v;
}

export function parseEta(text: string): number {
  const v = Number(text);
  if (text.trim() === '' || !Number.isFinite(v) || v < 0) throw new UsageError(`--eta must be a number ≥ 0, got "${text}"`);
  return v;
}

/**
 * The seeds of shard i of n over K … K+N−1: a contiguous block, [K + ⌊iN/n⌋, K + ⌊(i+1)N/n⌋).
 * The blocks of i = 0 … n−1 partition the range exactly (sizes differ by at most one), and a shard's
 * seeds depend only on (K, N, i, n), so any job array can run the shards in any order or at once.
 */
export function shardSeeds(first: number, count: number, shard: Shard = { index: 0, count: 1 }): number[] {
  const lo = Math.floor((shard.index * count) / shard.count);
  const hi = Math.floor(((shard.index + 1) * count) / shard.count);
  return Array.from({ length: hi - lo }, (_, i) => first + lo + i);
}

/** One case to generate: its name, its seed and the sampler mode. Other modes add their own source of jobs. */
export interface CaseJob {
  name: string;
  seed: number;
  mode: SamplerMode;
}

/** Pair mode: one job per seed. */
export function pairJobs(seeds: readonly number[]): CaseJob[] {
  return seeds.map((seed) => ({ name: caseName(seed), seed, mode: { kind: 'pair' } }));
}
