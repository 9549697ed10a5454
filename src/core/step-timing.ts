// Where a run's time goes (issue 12: the studio's own work between two U-Net calls, measured per
// run rather than guessed). A decorator over any StepExecutorFactory, so the CPU executor and the
// step graphs are timed the same way, and the loop itself stays free of clocks.
//
//   model  maskStep + imageStep: the U-Net calls with their input/output copies, and the DDIM
//          update and B(·) (on the CPU executor in JS, in the step graphs on the device)
//   read   reading x̂₀, ŷ₀, c back for the frame (a GPU readback; a hand-over on the CPU)
// What is neither (noise streams, coefficients, finiteness checks, handing frames to the UI) is
// the run's total minus both: the caller knows the total.

import type { StepExecutorFactory } from './executor';

export interface StepTimings {
  modelMs: number;
  readMs: number;
}

/** `factory` whose executors add the time of each call to `into` (`now`: a clock in ms, tests pass their own). */
export function timedExecutors(factory: StepExecutorFactory, into: StepTimings, now: () => number = () => performance.now()): StepExecutorFactory {
  const timed = async <T>(phase: keyof StepTimings, call: () => Promise<T>): Promise<T> => {
    const started = now();
    try {
      return await call();
    } finally {
      into[phase] += now() - started;
    }
  };
  return {
    create: (run) => {
      const inner = factory.create(run);
      return {
        start: (init) => inner.start(init),
        maskStep: (step, yt) => timed('modelMs', () => inner.maskStep(step, yt)),
        imageStep: (step) => timed('modelMs', () => inner.imageStep(step)),
        read: (names) => timed('readMs', () => inner.read(names)),
        finish: () => inner.finish(),
      };
    },
  };
}
