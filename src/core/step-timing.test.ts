import { describe, expect, it } from 'vitest';
import { ddimCoefficients } from './ddim';
import type { StepCall, StepExecutor } from './executor';
import { linearSchedule } from './schedule';
import { timedExecutors } from './step-timing';

const schedule = linearSchedule({ kind: 'linear', betaStart: 1e-4, betaEnd: 0.02, T: 16 });
const step: StepCall = { index: 0, t: 10, tPrev: -1, k: ddimCoefficients(schedule, 10, -1, 0), z: null };

describe('timedExecutors', () => {
  it('adds each call to its phase on the given clock, also when a call throws', async () => {
    let clock = 0;
    // each call advances the clock by a known amount: maskStep 7, imageStep 5, read 2
    const inner: StepExecutor = {
      start: async () => {
        clock += 100; // not a phase: the caller's total covers it
      },
      maskStep: async () => {
        clock += 7;
      },
      imageStep: async () => {
        clock += 5;
      },
      read: async () => {
        clock += 2;
        return {};
      },
      finish: async () => undefined,
    };
    const into = { modelMs: 0, readMs: 0 };
    const ex = timedExecutors({ create: () => inner }, into, () => clock).create({ height: 1, width: 1, clip: 'none' });
    await ex.start({ xT: new Float32Array(1), yT: new Float32Array(1), condition: null });
    for (let i = 0; i < 3; i++) {
      await ex.maskStep(step, null);
      await ex.imageStep(step);
      await ex.read(['x0']);
    }
    expect(into).toEqual({ modelMs: 36, readMs: 6 });

    inner.imageStep = async () => {
      clock += 4;
      throw new Error('NaN');
    };
    await expect(ex.imageStep(step)).rejects.toThrow('NaN');
    expect(into.modelMs).toBe(40);
  });
});
