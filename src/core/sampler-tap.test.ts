import { describe, expect, it } from 'vitest';
import { gaussian, Stream } from './noise';
import { type PairDenoiser, runSampler } from './sampler';
import { cpuStepExecutors } from './sampler-cpu';
import { type StartNoise, tapStartNoise } from './sampler-tap';
import { linearSchedule } from './schedule';

// A denoiser that predicts zero noise: enough to drive the loop; what is checked is the start noise.
const zero: PairDenoiser = {
  predictMaskNoise: async (xy) => new Float32Array(xy.length / 2),
  predictImageNoise: async (yc) => new Float32Array(yc.length / 2),
};

describe('tapStartNoise', () => {
  it('reports the x_T and y_T the sampler drew (streams 0 and 1 of the seed) and changes nothing else', async () => {
    const schedule = linearSchedule({ kind: 'linear', betaStart: 1e-4, betaEnd: 0.02, T: 1000 });
    const opts = { schedule, height: 4, width: 6, steps: 3, seed: 11 };
    let seen: StartNoise | undefined;
    const tapped = await runSampler({ ...opts, executor: tapStartNoise(cpuStepExecutors(zero), (n) => (seen = n)) });
    const plain = await runSampler({ ...opts, executor: cpuStepExecutors(zero) });
    expect(Array.from(seen!.xT)).toEqual(Array.from(gaussian(11, Stream.maskStart, 24)));
    expect(Array.from(seen!.yT)).toEqual(Array.from(gaussian(11, Stream.imageStart, 24)));
    expect(Array.from(tapped.image)).toEqual(Array.from(plain.image));
    expect(Array.from(tapped.mask)).toEqual(Array.from(plain.mask));
  });
});
