// The joint loop on a latent model with attributes (contracts.md §6), on hand-made U-Nets and codec:
// the streams' sizes, what each U-Net is fed, classifier-free guidance's runs, the final pair.
import { describe, expect, it } from 'vitest';
import { attributeCode, conditioning, guide } from './attributes';
import { ddimCoefficients, predictX0 } from './ddim';
import type { PairDenoiser } from './executor';
import { finalLatentMask, type LatentCodec, type LatentRun, latentPreview, maskToGrid } from './latent';
import { gaussian } from './noise';
import { runSampler, type SamplerFrame, type SamplerOptions } from './sampler';
import { linearSchedule } from './schedule';

const schedule = linearSchedule({ kind: 'linear', betaStart: 1e-4, betaEnd: 0.02, T: 1024 });
const C = 3;
const [h, w] = [4, 4];
const [H, W] = [16, 16];
const n = h * w;
const ATTRS = [
  { name: 'pathology', values: ['benign', 'malignant'] },
  { name: 'birads', values: ['2', '3', '4', '5'] },
];

interface Call {
  model: 'mask' | 'image';
  input: Float32Array;
  t: number;
  a?: Float32Array;
}

/** ε depends on the input, t and a, so that every mix-up shows; lengths are the contract's. */
function fakeUNets(calls: Call[]): PairDenoiser {
  const eps = (input: Float32Array, t: number, a: Float32Array | undefined, channels: number) => {
    const bias = a ? a.reduce((s, v, i) => s + v * (i + 1), 0) / 10 : 0;
    return Float32Array.from({ length: channels * n }, (_, i) => 0.3 * input[i] + 0.01 * Math.sin(i + t / 100) + bias);
  };
  return {
    async predictMaskNoise(input, t, a) {
      calls.push({ model: 'mask', input: input.slice(), t, a: a?.slice() });
      return eps(input, t, a, 1);
    },
    async predictImageNoise(input, t, a) {
      calls.push({ model: 'image', input: input.slice(), t, a: a?.slice() });
      return eps(input, t, a, C);
    },
  };
}

/** A codec that averages f×f cells into C channels (scaled) and spreads them back. */
function fakeCodec(log: string[]): LatentCodec {
  return {
    async encode(y) {
      log.push(`encode ${y.length}`);
      const z = new Float32Array(C * n);
      for (let c = 0; c < C; c++) for (let i = 0; i < n; i++) z[c * n + i] = (c + 1) * y[Math.floor(i / w) * 4 * W + (i % w) * 4];
      return z;
    },
    async decode(z) {
      log.push(`decode ${z.length}`);
      return Float32Array.from({ length: H * W }, (_, i) => 2 * z[Math.floor(i / W / 4) * w + Math.floor((i % W) / 4)]);
    },
  };
}

const spec = { channels: C, factor: 4, grid: [h, w] as [number, number], scale: 0.5, preview: { weights: [0.5, -0.25, 0.1], bias: 0.05 } };

function options(calls: Call[], log: string[], extra: Partial<SamplerOptions> & { previews?: true } = {}): SamplerOptions & { previews?: true } {
  const latent: LatentRun = { spec, resolution: [H, W], codec: fakeCodec(log) };
  return { denoiser: fakeUNets(calls), schedule, height: h, width: w, steps: 3, seed: 5, latent, ...extra };
}

describe('the joint loop on a latent (contracts.md §6a)', () => {
  it('draws z_T as C·h·w values of stream 1, feeds [x_t, z_t] and [z_t, c], and decodes the last ẑ₀', async () => {
    const calls: Call[] = [];
    const log: string[] = [];
    const frames: SamplerFrame[] = [];
    const result = await runSampler(options(calls, log), (f) => {
      frames.push(f);
    });
    const zT = gaussian(5, 1, C * n);
    const xT = gaussian(5, 0, n);
    expect(calls.map((c) => [c.model, c.input.length, c.a])).toEqual(
      [0, 1, 2].flatMap(() => [
        ['mask', (1 + C) * n, undefined],
        ['image', (C + 1) * n, undefined],
      ]),
    );
    expect(Array.from(calls[0].input)).toEqual([...xT, ...zT]);
    expect(Array.from(calls[1].input.subarray(0, C * n))).toEqual(Array.from(zT));
    expect(Array.from(calls[1].input.subarray(C * n))).toEqual(Array.from(frames[0].c));
    // frames: x̂₀ and c at the grid, ŷ₀ the preview of ẑ₀, z0 itself
    for (const f of frames) {
      expect([f.x0.length, f.c.length, f.y0.length, f.z0?.length]).toEqual([n, n, n, C * n]);
      expect(f.y0).toEqual(latentPreview(f.z0!, spec.preview, n));
    }
    // the final pair at [H, W]
    const last = frames.at(-1)!;
    expect(log).toEqual([`decode ${C * n}`]);
    expect(result.mask).toEqual(finalLatentMask(last.x0, [h, w], [H, W]));
    expect(result.image.length).toBe(H * W);
    expect(result.image.every((v) => v >= -1 && v <= 1)).toBe(true);
    expect(result.latent?.z0).toEqual(last.z0);
  });

  it('with C = 1 and no latent, the streams are contracts §3 exactly (the pixel loop)', async () => {
    const calls: Call[] = [];
    await runSampler({ denoiser: pixelUNets(calls), schedule, height: h, width: w, steps: 2, seed: 5 });
    expect(Array.from(calls[0].input)).toEqual([...gaussian(5, 0, n), ...gaussian(5, 1, n)]);
  });

  it('mask → image: the user mask goes to the grid by area ≥ ½ and is the final mask at [H, W]', async () => {
    const calls: Call[] = [];
    const mask = Float32Array.from({ length: H * W }, (_, i) => (Math.floor(i / W) < 6 && i % W < 10 ? 1 : -1));
    const result = await runSampler(options(calls, [], { mode: { kind: 'maskToImage', mask } }));
    expect(calls.every((c) => c.model === 'image')).toBe(true);
    expect(Array.from(calls[0].input.subarray(C * n))).toEqual(Array.from(maskToGrid(mask, H, W, 4)));
    expect(result.mask).toEqual(mask);
  });

  it('image → mask: encodes the image once and noises z* with stream 4 (C·h·w values)', async () => {
    const calls: Call[] = [];
    const log: string[] = [];
    const image = Float32Array.from({ length: H * W }, (_, i) => Math.cos(i / 7));
    const result = await runSampler(options(calls, log, { mode: { kind: 'imageToMask', image } }));
    expect(log).toEqual([`encode ${H * W}`]);
    expect(calls.every((c) => c.model === 'mask' && c.input.length === (1 + C) * n)).toBe(true);
    const zStar = await fakeCodec([]).encode(image);
    const eps = gaussian(5, 4, C * n);
    const { sqrtAlphaBar: s, sqrtOneMinusAlphaBar: s1 } = ddimCoefficients(schedule, calls[0].t, -1, 0);
    expect(Array.from(calls[0].input.subarray(n))).toEqual(Array.from(zStar, (v, i) => Math.fround(s * v + s1 * eps[i])));
    expect(result.image).toEqual(image);
    expect(result.mask.length).toBe(H * W);
  });
});

describe('attributes and classifier-free guidance (contracts.md §6b)', () => {
  it('w = 1: each U-Net runs once per step on the request’s a', async () => {
    const calls: Call[] = [];
    await runSampler(options(calls, [], { conditioning: conditioning(ATTRS, { pathology: 'malignant' }, 1) }));
    expect(calls.length).toBe(6);
    for (const c of calls) expect(c.a).toEqual(attributeCode(ATTRS, { pathology: 'malignant' }));
  });

  it('an all-any request runs once whatever w is', async () => {
    const calls: Call[] = [];
    await runSampler(options(calls, [], { conditioning: conditioning(ATTRS, { pathology: 'any' }, 5) }));
    expect(calls.length).toBe(6);
  });

  it('w ≠ 1: each runs on a and on a∅, and the step uses e0 + w·(e1 − e0)', async () => {
    const calls: Call[] = [];
    const frames: SamplerFrame[] = [];
    const cond = conditioning(ATTRS, { pathology: 'benign', birads: '4' }, 2.5);
    await runSampler(options(calls, [], { conditioning: cond, steps: 1 }), (f) => {
      frames.push(f);
    });
    expect(calls.map((c) => [c.model, Array.from(c.a!)])).toEqual([
      ['mask', Array.from(cond.a)],
      ['mask', Array.from(cond.unconditional!)],
      ['image', Array.from(cond.a)],
      ['image', Array.from(cond.unconditional!)],
    ]);
    // one step to t' = −1: x̂₀ = (x_t − √(1−ᾱ) ε) / √ᾱ with the guided ε
    const unets = fakeUNets([]);
    const [e1, e0] = [
      await unets.predictMaskNoise(calls[0].input, calls[0].t, cond.a),
      await unets.predictMaskNoise(calls[0].input, calls[0].t, cond.unconditional!),
    ];
    const eps = guide(e0, e1, 2.5);
    const k = ddimCoefficients(schedule, calls[0].t, -1, 0);
    expect(frames[0].x0).toEqual(predictX0(calls[0].input.subarray(0, n), eps, k));
  });
});

function pixelUNets(calls: Call[]): PairDenoiser {
  const eps = (input: Float32Array) => Float32Array.from({ length: n }, (_, i) => 0.3 * input[i]);
  return {
    async predictMaskNoise(input, t) {
      calls.push({ model: 'mask', input: input.slice(), t });
      return eps(input);
    },
    async predictImageNoise(input, t) {
      calls.push({ model: 'image', input: input.slice(), t });
      return eps(input);
    },
  };
}
