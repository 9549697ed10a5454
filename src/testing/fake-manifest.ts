// A manifest for tests that run the Studio over a fake denoiser: a small linear schedule, no model
// files (nothing is read), the kit's default sampler settings.
import type { Manifest } from '../core/manifest';

export function fakeManifest(height = 4, width = 4): Manifest {
  return {
    format: 1,
    name: 'fake',
    resolution: [height, width],
    schedule: { kind: 'linear', betaStart: 1e-4, betaEnd: 0.02, T: 1024 },
    sampler: { steps: 4, skip: 'uniform', eta: 0, binarize: { kernel: 5, weights: [0.75, 0.25] } },
    models: {} as Manifest['models'],
    card: { license: 'test' },
  } as Manifest;
}
