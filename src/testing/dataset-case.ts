// The settings the dataset tests give a case: a pair run of 4 steps with the kit's default sampler.
import type { CaseSettings } from '../core/dataset/nnunet';

// `satisfies`, not a return type: a CaseRecord fixture spreads it without CaseSettings' optional fields
export const caseSettings = (seed: number) =>
  ({
    seed,
    mode: 'pair',
    steps: 4,
    eta: 0,
    clip: 'none',
    binarize: { kernel: 5, weights: [0.75, 0.25] },
    appVersion: '9.9.9',
  }) satisfies CaseSettings;
