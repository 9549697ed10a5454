// Long runs leak nothing: every ORT tensor either path creates or receives in a run is disposed,
// over many consecutive generations, a cancelled one and one whose model gives NaN; the count of
// tensors per run stays the same (what a run holds is its own, not a growing pile).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { NonFiniteError } from '../core/finite';
import { CancelledError, runSampler, type SamplerOptions } from '../core/sampler';
import { trackingOrt } from '../testing/tracking-ort';
import { fileSource } from './node';
import { createPair, createStepPair, readManifest, readModelBytes } from './pair';
import { cpuPlace } from './steps';

const modelDir = fileURLToPath(new URL('../../public/models/tiny/', import.meta.url));
const present = existsSync(`${modelDir}manifest.json`);

/** 50 consecutive generations, none leaving a tensor alive; the tensors each one made. */
async function fiftyRunsLeavingNothingAlive(opts: Omit<SamplerOptions, 'seed'>, made: readonly unknown[], live: () => number): Promise<number[]> {
  const perRun: number[] = [];
  for (let seed = 0; seed < 50; seed++) {
    const before = made.length;
    await runSampler({ ...opts, seed });
    perRun.push(made.length - before);
    expect(live()).toBe(0);
  }
  return perRun;
}

const CPU = { executionProviders: ['cpu'], intraOpNumThreads: 1 };

describe.skipIf(!present)('ORT tensors over long runs (tiny pair, onnxruntime-node)', () => {
  it('plain U-Nets (the WASM path): 50 generations, a cancel and a NaN run leave no tensor alive, the same number per run', async () => {
    const source = fileSource(modelDir);
    const manifest = await readManifest(source);
    const bytes = await readModelBytes(source, manifest);
    const nanFrom = 2 + 50 * 2 * 2 + 2 + 3; // warm-ups, the 50 runs, the cancelled run, then a NaN on the third call of the last run
    const { ort, made, live } = trackingOrt({ nanFromRun: nanFrom });
    const pair = await createPair(ort, manifest, bytes, CPU);
    const [H, W] = manifest.resolution;
    const opts = { executor: pair.executors, schedule: pair.schedule, height: H, width: W, steps: 2 } as const;
    try {
      const perRun = await fiftyRunsLeavingNothingAlive(opts, made, live);
      expect(new Set(perRun)).toEqual(new Set([2 * 2 * 3])); // per step and model: x, t in; ε out
      const signal = { aborted: false };
      await expect(runSampler({ ...opts, seed: 1, signal }, () => void (signal.aborted = true))).rejects.toBeInstanceOf(CancelledError);
      expect(live()).toBe(0);
      await expect(runSampler({ ...opts, seed: 2 })).rejects.toBeInstanceOf(NonFiniteError);
      expect(live()).toBe(0);
    } finally {
      await pair.release();
    }
  });

  it('step graphs (the WebGPU path): 50 generations and a cancel leave no tensor alive, the same number per run', async () => {
    const source = fileSource(modelDir);
    const manifest = await readManifest(source);
    if (!manifest.models.maskStep) return;
    const bytes = await readModelBytes(source, manifest, ['maskStep', 'imageStep'] as const);
    const { ort, made, live } = trackingOrt();
    const pair = await createStepPair(ort, manifest, bytes, CPU, () => cpuPlace(ort));
    const [H, W] = manifest.resolution;
    const opts = { executor: pair.executors, schedule: pair.schedule, height: H, width: W, steps: 2, previews: ['x0', 'y0'] as const };
    try {
      const perRun = await fiftyRunsLeavingNothingAlive(opts, made, live);
      expect(new Set(perRun).size).toBe(1);
      const signal = { aborted: false };
      await expect(runSampler({ ...opts, seed: 1, signal }, () => void (signal.aborted = true))).rejects.toBeInstanceOf(CancelledError);
      expect(live()).toBe(0);
    } finally {
      await pair.release();
    }
  });
});
