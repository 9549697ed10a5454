// Observing a run from outside the loop, without a second copy of its logic: wraps an executor
// factory so the caller sees exactly the start noises x_T, y_T the sampler drew from its seeded
// streams (the CLI's --raw dumps them). Everything else is passed through unchanged.

import type { StepExecutorFactory } from './sampler';

export interface StartNoise {
  xT: Float32Array;
  yT: Float32Array;
}

/** A factory whose executors report (copies of) x_T and y_T to `onStart` when a run starts. */
export function tapStartNoise(factory: StepExecutorFactory, onStart: (noise: StartNoise) => void): StepExecutorFactory {
  return {
    create(run) {
      const inner = factory.create(run);
      return {
        start(init) {
          onStart({ xT: init.xT.slice(), yT: init.yT.slice() });
          return inner.start(init);
        },
        maskStep: (step, yt) => inner.maskStep(step, yt),
        imageStep: (step) => inner.imageStep(step),
        read: (names) => inner.read(names),
        finish: () => inner.finish(),
      };
    },
  };
}
