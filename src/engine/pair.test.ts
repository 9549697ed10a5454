// openedOnDemand: the plain U-Nets behind step graphs that cannot clip, opened by the first run
// that needs them, once, and closed with the model.
import { describe, expect, it } from 'vitest';
import type { PairDenoiser } from '../core/executor';
import { runSampler } from '../core/sampler';
import { cpuStepExecutors } from '../core/sampler-cpu';
import { linearSchedule } from '../core/schedule';
import { type OpenedPair, openedOnDemand } from './pair';

const schedule = linearSchedule({ kind: 'linear', betaStart: 1e-4, betaEnd: 0.02, T: 1024 });
const zeros: PairDenoiser = { predictMaskNoise: async () => new Float32Array(4), predictImageNoise: async () => new Float32Array(4) };

describe('openedOnDemand', () => {
  it('opens on the first run, once; a failed opening is tried again by the next run; release closes what was opened', async () => {
    const log: string[] = [];
    let fail = true;
    const demand = openedOnDemand(async () => {
      log.push('open');
      if (fail) throw new Error('no memory');
      return { executors: cpuStepExecutors(zeros), release: async () => void log.push('release') } as unknown as OpenedPair;
    });
    const run = () => runSampler({ executor: demand.executors, schedule, height: 2, width: 2, steps: 2, seed: 1, clip: 'both' });
    expect(log).toEqual([]);
    await expect(run()).rejects.toThrow('no memory');
    fail = false;
    const a = await run();
    const b = await run();
    expect(Array.from(a.image)).toEqual(Array.from(b.image));
    expect(log).toEqual(['open', 'open']);
    await demand.release();
    expect(log).toEqual(['open', 'open', 'release']);
  });

  it('release without a run opens nothing', async () => {
    let opened = 0;
    const demand = openedOnDemand(async () => {
      opened++;
      throw new Error('unreachable');
    });
    await demand.release();
    expect(opened).toBe(0);
  });
});
