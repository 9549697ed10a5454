import { describe, expect, it } from 'vitest';
import { ddimCoefficients } from './ddim';
import type { EstimateName, PairDenoiser, StepCall, StepExecutor, StepExecutorFactory } from './executor';
import { NonFiniteError } from './finite';
import { gaussian } from './noise';
import { CancelledError, runSampler, type SamplerFrame, type SamplerOptions, type SamplerStep, sampleSteps } from './sampler';
import { linearSchedule } from './schedule';

const schedule = linearSchedule({ kind: 'linear', betaStart: 1e-4, betaEnd: 0.02, T: 1024 });
const H = 8;
const W = 8;
const N = H * W;

// float64 ᾱ independent of the code under test: cumprod over float32 betas
const ab = (() => {
  const out: number[] = [];
  let p = 1;
  for (let i = 0; i < 1024; i++) {
    p *= 1 - Math.fround(1e-4 + (i * (0.02 - 1e-4)) / 1023);
    out.push(p);
  }
  return (t: number) => (t < 0 ? 1 : out[t]);
})();

/** A square lesion and a smooth image: the "true" clean pair the oracle denoiser steers to. */
const trueMask = Float32Array.from({ length: N }, (_, i) => (Math.floor(i / W) >= 2 && Math.floor(i / W) < 6 && i % W >= 3 && i % W < 7 ? 1 : -1));
const trueImage = Float32Array.from({ length: N }, (_, i) => 0.8 * Math.cos(i / 5));

interface Call {
  input: Float32Array;
  t: number;
}

/** ε that makes x̂₀ exactly the given clean target: ε = (x_t − √ᾱ_t x₀*) / √(1 − ᾱ_t). */
function oracle(target: Float32Array, xt: Float32Array, t: number): Float32Array {
  const a = ab(t);
  return Float32Array.from(xt, (v, i) => (v - Math.sqrt(a) * target[i]) / Math.sqrt(1 - a));
}

function oracleDenoiser(calls: { mask: Call[]; image: Call[] }): PairDenoiser {
  return {
    async predictMaskNoise(xy, t) {
      calls.mask.push({ input: xy.slice(), t });
      return oracle(trueMask, xy.subarray(0, N), t);
    },
    async predictImageNoise(yc, t) {
      calls.image.push({ input: yc.slice(), t });
      return oracle(trueImage, yc.subarray(0, N), t);
    },
  };
}

describe('PIG joint loop (pair mode)', () => {
  it('starts from streams 0 and 1, feeds [x_t, y_t] and [y_t, B(x̂₀)], and returns B(x̂₀), ŷ₀ of the last step', async () => {
    const calls = { mask: [] as Call[], image: [] as Call[] };
    const frames: SamplerFrame[] = [];
    const result = await runSampler({ denoiser: oracleDenoiser(calls), schedule, height: H, width: W, steps: 4, seed: 42 }, (f) => {
      frames.push(f);
    });
    expect(frames.map((f) => [f.index, f.total, f.t, f.tPrev])).toEqual([
      [0, 4, 768, 512],
      [1, 4, 512, 256],
      [2, 4, 256, 0],
      [3, 4, 0, -1],
    ]);
    expect(calls.mask.map((c) => c.t)).toEqual([768, 512, 256, 0]);
    expect(calls.image.map((c) => c.t)).toEqual([768, 512, 256, 0]);
    // step 0 inputs are x_T, y_T from the seeded streams
    const xT = gaussian(42, 0, N);
    const yT = gaussian(42, 1, N);
    expect(Array.from(calls.mask[0].input)).toEqual([...xT, ...yT]);
    expect(Array.from(calls.image[0].input.subarray(0, N))).toEqual(Array.from(yT));
    // the oracle makes every x̂₀ the true mask, so c = B(true mask) at every step
    for (let s = 0; s < 4; s++) {
      for (let i = 0; i < N; i++) {
        expect(frames[s].x0[i]).toBeCloseTo(trueMask[i], 4);
        expect(frames[s].y0[i]).toBeCloseTo(trueImage[i], 4);
      }
      expect(Array.from(calls.image[s].input.subarray(N))).toEqual(Array.from(frames[s].c));
    }
    // step 1's mask-model input is the DDIM update of step 0, computed here in float64 (η = 0):
    // x_{t'} = √ᾱ_{t'} x̂₀ + √(1 − ᾱ_{t'}) ε
    const eps0 = oracle(trueMask, xT, 768);
    for (let i = 0; i < N; i++) {
      const x0 = (xT[i] - Math.sqrt(1 - ab(768)) * eps0[i]) / Math.sqrt(ab(768));
      const want = Math.sqrt(ab(512)) * x0 + Math.sqrt(1 - ab(512)) * eps0[i];
      expect(calls.mask[1].input[i]).toBeCloseTo(want, 5);
    }
    expect(Array.from(result.mask)).toEqual(Array.from(frames[3].c));
    expect(Array.from(result.image)).toEqual(Array.from(frames[3].y0));
    expect(result.steps).toBe(4);
    // the lesion square is found (pooling erodes its rim, the centre is inside)
    expect(result.mask[4 * W + 4]).toBe(1);
    expect(result.mask[0]).toBe(-1);
  });

  it('same seed, same run; different seed, different start', async () => {
    const run = async (seed: number) => {
      const calls = { mask: [] as Call[], image: [] as Call[] };
      await runSampler({ denoiser: oracleDenoiser(calls), schedule, height: H, width: W, steps: 2, seed });
      return calls.mask[0].input;
    };
    expect(Array.from(await run(5))).toEqual(Array.from(await run(5)));
    expect(Array.from(await run(5))).not.toEqual(Array.from(await run(6)));
  });

  it('η > 0 draws z from streams 2 (mask) and 3 (image), H·W per step', async () => {
    const zero: PairDenoiser = {
      async predictMaskNoise() {
        return new Float32Array(N);
      },
      async predictImageNoise() {
        return new Float32Array(N);
      },
    };
    const seen: Float32Array[] = [];
    const spy: PairDenoiser = {
      predictMaskNoise: async (xy, t) => {
        seen.push(xy.slice());
        return zero.predictMaskNoise(xy, t);
      },
      predictImageNoise: zero.predictImageNoise,
    };
    await runSampler({ denoiser: spy, schedule, height: H, width: W, steps: 4, seed: 9, eta: 1 });
    // with ε = 0: x̂₀ = x_t/√ᾱ_t and x_{t'} = √ᾱ_{t'} x̂₀ + c₁ z
    const z = gaussian(9, 2, 2 * N); // steps 0 and 1 each draw N
    let x = Array.from(gaussian(9, 0, N));
    const ts = [768, 512, 256];
    for (let s = 0; s < 2; s++) {
      const [t, tp] = [ts[s], ts[s + 1]];
      const c1 = Math.sqrt(((1 - ab(t) / ab(tp)) * (1 - ab(tp))) / (1 - ab(t)));
      x = x.map((v, i) => Math.sqrt(ab(tp)) * (v / Math.sqrt(ab(t))) + c1 * z[s * N + i]);
      for (let i = 0; i < N; i++) expect(seen[s + 1][i]).toBeCloseTo(x[i], 4);
    }
  });
});

describe('the other two modes share the loop', () => {
  it('mask → image: only model_y runs, conditioned on the user mask every step', async () => {
    const calls = { mask: [] as Call[], image: [] as Call[] };
    const m = Float32Array.from(trueMask, (v) => (v > 0 ? 1 : 0)); // 0/1 accepted: > 0 is lesion
    const r = await runSampler({ denoiser: oracleDenoiser(calls), schedule, height: H, width: W, steps: 3, seed: 1, mode: { kind: 'maskToImage', mask: m } });
    expect(calls.mask.length).toBe(0);
    expect(calls.image.length).toBe(3);
    for (const c of calls.image) expect(Array.from(c.input.subarray(N))).toEqual(Array.from(trueMask));
    expect(Array.from(r.mask)).toEqual(Array.from(trueMask));
    for (let i = 0; i < N; i++) expect(r.image[i]).toBeCloseTo(trueImage[i], 4);
  });

  it('image → mask: only model_x runs, y_t = √ᾱ_t y* + √(1−ᾱ_t) ε with ε from stream 4', async () => {
    const calls = { mask: [] as Call[], image: [] as Call[] };
    const r = await runSampler({
      denoiser: oracleDenoiser(calls),
      schedule,
      height: H,
      width: W,
      steps: 2,
      seed: 3,
      mode: { kind: 'imageToMask', image: trueImage },
    });
    expect(calls.image.length).toBe(0);
    expect(calls.mask.map((c) => c.t)).toEqual([512, 0]);
    const eps = gaussian(3, 4, N);
    for (const c of calls.mask) {
      for (let i = 0; i < N; i++) {
        expect(c.input[N + i]).toBeCloseTo(Math.sqrt(ab(c.t)) * trueImage[i] + Math.sqrt(1 - ab(c.t)) * eps[i], 5);
      }
    }
    expect(Array.from(r.image)).toEqual(Array.from(trueImage));
    expect(r.mask[4 * W + 4]).toBe(1);
  });
});

describe('the option clip', () => {
  // Targets partly outside [−1, 1]: the oracle makes every x̂₀ / ŷ₀ the target, so what clip
  // clamps is known ahead; the oracle's ε does not depend on the other chain.
  const wideMask = Float32Array.from(trueMask, (v) => 1.5 * v);
  const wideImage = Float32Array.from({ length: N }, (_, i) => 1.3 * Math.cos(i / 5));
  const wide = (calls: { mask: Call[]; image: Call[] }): PairDenoiser => ({
    predictMaskNoise: async (xy, t) => (calls.mask.push({ input: xy.slice(), t }), oracle(wideMask, xy.subarray(0, N), t)),
    predictImageNoise: async (yc, t) => (calls.image.push({ input: yc.slice(), t }), oracle(wideImage, yc.subarray(0, N), t)),
  });
  const run = async (clip: SamplerOptions['clip']) => {
    const calls = { mask: [] as Call[], image: [] as Call[] };
    const frames: SamplerFrame[] = [];
    const result = await runSampler({ denoiser: wide(calls), schedule, height: H, width: W, steps: 4, seed: 21, eta: 1, ...(clip ? { clip } : {}) }, (f) => {
      frames.push(f);
    });
    return { calls, frames, result };
  };
  const arrays = (r: Awaited<ReturnType<typeof run>>) => ({
    frames: r.frames.map((f) => [f.x0, f.y0, f.c].map((a) => Array.from(a))),
    inputs: [...r.calls.mask, ...r.calls.image].map((c) => Array.from(c.input)),
    result: [Array.from(r.result.mask), Array.from(r.result.image)],
  });

  it("'none' is the loop without the option, bit for bit", async () => {
    expect(arrays(await run('none'))).toEqual(arrays(await run(undefined)));
  });

  it("'image' clamps ŷ₀ where it leaves [−1, 1] and steps with ε re-derived there; the mask chain is untouched", async () => {
    const none = await run('none');
    const image = await run('image');
    expect(image.frames.map((f) => [Array.from(f.x0), Array.from(f.c)])).toEqual(none.frames.map((f) => [Array.from(f.x0), Array.from(f.c)]));
    for (let s = 0; s < 4; s++) {
      const [ref, got] = [none.frames[s].y0, image.frames[s].y0];
      for (let i = 0; i < N; i++) {
        if (Math.abs(wideImage[i]) > 1) expect(got[i]).toBe(Math.sign(wideImage[i]));
        // step 0 starts from the same y_T: unclipped pixels are the reference's bit for bit
        else if (s === 0) expect(got[i]).toBe(ref[i]);
        else expect(got[i]).toBeCloseTo(ref[i], 5);
      }
    }
    // step 1's y_t, in float64 here: √ᾱ_{t'} ŷ₀ + c₁ z + √(1 − ᾱ_{t'} − c₁²) ε with, where clipped,
    // ŷ₀ = ±1 and ε = (y_T − √ᾱ_t ŷ₀) / √(1 − ᾱ_t)
    const yT = gaussian(21, 1, N);
    const z = gaussian(21, 3, N);
    const [t, tp] = [768, 512];
    const c1 = Math.sqrt(((1 - ab(t) / ab(tp)) * (1 - ab(tp))) / (1 - ab(t)));
    for (let i = 0; i < N; i++) {
      const y0 = Math.abs(wideImage[i]) > 1 ? Math.sign(wideImage[i]) : image.frames[0].y0[i];
      const eps = Math.abs(wideImage[i]) > 1 ? (yT[i] - Math.sqrt(ab(t)) * y0) / Math.sqrt(1 - ab(t)) : oracle(wideImage, yT, t)[i];
      const want = Math.sqrt(ab(tp)) * y0 + c1 * z[i] + Math.sqrt(1 - ab(tp) - c1 * c1) * eps;
      expect(image.calls.image[1].input[i]).toBeCloseTo(want, 5);
    }
    expect(Array.from(image.result.image)).toEqual(Array.from(image.frames[3].y0));
  });

  it("'both' clamps x̂₀ too: the frames, the condition B(x̂₀) and the final pair are of the clamped estimate", async () => {
    const both = await run('both');
    for (const f of both.frames) {
      for (let i = 0; i < N; i++) expect(f.x0[i]).toBe(trueMask[i]); // ±1.5 clamped to ±1
      expect(f.y0.every((v) => v >= -1 && v <= 1)).toBe(true);
    }
    both.frames.forEach((f, s) => expect(Array.from(both.calls.image[s].input.subarray(N))).toEqual(Array.from(f.c)));
    expect(Array.from(both.result.mask)).toEqual(Array.from(both.frames[3].c));
    // the mask chain moved: step 1's x_t differs from the unclipped run's
    const none = await run('none');
    expect(Array.from(both.calls.mask[1].input.subarray(0, N))).not.toEqual(Array.from(none.calls.mask[1].input.subarray(0, N)));
  });

  it('a bad value is refused by name, and the executor learns the value at creation', async () => {
    await expect(run('all' as never)).rejects.toThrow('clip must be none, image, both, got "all"');
    const seen: string[] = [];
    const spy: StepExecutorFactory = {
      create: (r) => {
        seen.push(r.clip);
        return fakeExecutors([]).create(r);
      },
    };
    await runSampler({ executor: spy, schedule, height: H, width: W, steps: 1, seed: 1 });
    await runSampler({ executor: spy, schedule, height: H, width: W, steps: 1, seed: 1, clip: 'both' });
    expect(seen).toEqual(['none', 'both']);
  });
});

describe('cancellation and errors', () => {
  it('stops within a step once the signal is aborted', async () => {
    const signal = { aborted: false };
    const calls = { mask: [] as Call[], image: [] as Call[] };
    const gen = sampleSteps({ denoiser: oracleDenoiser(calls), schedule, height: H, width: W, steps: 8, seed: 1, signal });
    await gen.next();
    await gen.next();
    signal.aborted = true;
    await expect(gen.next()).rejects.toBeInstanceOf(CancelledError);
    expect(calls.mask.length).toBe(2);
    expect(calls.image.length).toBe(2);
  });
  it('aborting between the two model calls skips the second', async () => {
    const signal = { aborted: false };
    let imageCalls = 0;
    const d: PairDenoiser = {
      predictMaskNoise: async () => {
        signal.aborted = true;
        return new Float32Array(N);
      },
      predictImageNoise: async () => {
        imageCalls++;
        return new Float32Array(N);
      },
    };
    await expect(runSampler({ denoiser: d, schedule, height: H, width: W, steps: 4, seed: 1, signal })).rejects.toThrow('generation cancelled');
    expect(imageCalls).toBe(0);
  });
  it('rejects a denoiser output of the wrong size', async () => {
    const d: PairDenoiser = { predictMaskNoise: async () => new Float32Array(3), predictImageNoise: async () => new Float32Array(N) };
    await expect(runSampler({ denoiser: d, schedule, height: H, width: W, steps: 1, seed: 1 })).rejects.toThrow('ε_x has 3 values, the model needs 8×8 = 64');
  });
});

// ---------------------------------------------------------------------------------------------
// The loop with a pluggable executor: what any executor is asked, in which order, with which noise.

type ExecCall =
  | { op: 'start'; xT: Float32Array; yT: Float32Array; condition: Float32Array | null }
  | { op: 'mask'; step: StepCall; yt: Float32Array | null }
  | { op: 'image'; step: StepCall }
  | { op: 'read'; names: EstimateName[] }
  | { op: 'finish' };

/** Records every call; its estimates are constant maps (x0 = 0.25, y0 = −0.5, c = +1) of fresh arrays. */
function fakeExecutors(log: ExecCall[], opts: { failAt?: 'mask' | 'image'; values?: Partial<Record<EstimateName, number>> } = {}): StepExecutorFactory {
  return {
    create: ({ height, width }) => {
      const n = height * width;
      return {
        start: async (init) => void log.push({ op: 'start', ...init }),
        maskStep: async (step, yt) => {
          log.push({ op: 'mask', step, yt });
          if (opts.failAt === 'mask') throw new Error('device lost');
        },
        imageStep: async (step) => {
          log.push({ op: 'image', step });
          if (opts.failAt === 'image') throw new Error('device lost');
        },
        read: async (names) => {
          log.push({ op: 'read', names: [...names] });
          const value = { x0: 0.25, y0: -0.5, c: 1, ...opts.values };
          return Object.fromEntries(names.map((k) => [k, new Float32Array(n).fill(value[k])]));
        },
        finish: async () => void log.push({ op: 'finish' }),
      } satisfies StepExecutor;
    },
  };
}

describe('the loop over a StepExecutor', () => {
  it('hands each step its t, t′, k and z (streams 2 and 3, H·W per step, none where c₁ = 0), in order', async () => {
    const log: ExecCall[] = [];
    const eta = 0.7;
    await runSampler({ executor: fakeExecutors(log), schedule, height: H, width: W, steps: 4, seed: 11, eta });
    expect(log.map((c) => c.op)).toEqual(['start', ...Array(4).fill(['mask', 'image', 'read']).flat(), 'finish']);
    const start = log[0] as Extract<ExecCall, { op: 'start' }>;
    expect(Array.from(start.xT)).toEqual(Array.from(gaussian(11, 0, N)));
    expect(Array.from(start.yT)).toEqual(Array.from(gaussian(11, 1, N)));
    expect(start.condition).toBeNull();
    const masks = log.filter((c): c is Extract<ExecCall, { op: 'mask' }> => c.op === 'mask');
    const images = log.filter((c): c is Extract<ExecCall, { op: 'image' }> => c.op === 'image');
    const ts = [768, 512, 256, 0, -1];
    const zx = gaussian(11, 2, 3 * N);
    const zy = gaussian(11, 3, 3 * N);
    for (let s = 0; s < 4; s++) {
      for (const call of [masks[s], images[s]]) {
        expect([call.step.index, call.step.t, call.step.tPrev]).toEqual([s, ts[s], ts[s + 1]]);
        expect(call.step.k).toEqual(ddimCoefficients(schedule, ts[s], ts[s + 1], eta));
      }
      expect(masks[s].yt).toBeNull();
      if (s < 3) {
        expect(Array.from(masks[s].step.z!)).toEqual(Array.from(zx.subarray(s * N, (s + 1) * N)));
        expect(Array.from(images[s].step.z!)).toEqual(Array.from(zy.subarray(s * N, (s + 1) * N)));
      } else {
        // last step: t′ = −1 gives c₁ = 0, so no z is drawn (as the kit's reference sampler)
        expect(masks[s].step.k.c1).toBe(0);
        expect(masks[s].step.z).toBeNull();
        expect(images[s].step.z).toBeNull();
      }
    }
    // η = 0: no z at all
    const log0: ExecCall[] = [];
    await runSampler({ executor: fakeExecutors(log0), schedule, height: H, width: W, steps: 3, seed: 11 });
    expect(log0.filter((c) => c.op === 'mask' || c.op === 'image').every((c) => (c as { step: StepCall }).step.z === null)).toBe(true);
  });

  it('reads back only what the frames show, plus the final pair on the last step', async () => {
    const reads = async (previews: SamplerOptions['previews']) => {
      const log: ExecCall[] = [];
      const frames: SamplerStep[] = [];
      const r = await runSampler({ executor: fakeExecutors(log), schedule, height: H, width: W, steps: 3, seed: 1, previews }, (f) => {
        frames.push(f);
      });
      expect(r.mask.every((v) => v === 1)).toBe(true);
      expect(r.image.every((v) => v === -0.5)).toBe(true);
      return { reads: log.filter((c) => c.op === 'read').map((c) => (c as { names: EstimateName[] }).names), frames };
    };
    expect((await reads(undefined)).reads).toEqual(Array(3).fill(['x0', 'c', 'y0']));
    const off = await reads(false);
    expect(off.reads).toEqual([['x0', 'c', 'y0']]); // steps 0 and 1 read nothing; x̂₀ for the NaN check
    expect(off.frames.map((f) => [f.index, 'x0' in f, 'y0' in f, 'c' in f])).toEqual([
      [0, false, false, false],
      [1, false, false, false],
      [2, false, false, false],
    ]);
    const studio = await reads(['x0', 'y0']);
    expect(studio.reads).toEqual([
      ['x0', 'y0'],
      ['x0', 'y0'],
      ['x0', 'c', 'y0'],
    ]);
    expect(studio.frames.every((f) => f.x0 && f.y0 && !f.c)).toBe(true);
  });

  it('the final pair never aliases a frame’s arrays (frames may be transferred)', async () => {
    const frames: SamplerFrame[] = [];
    const r = await runSampler({ executor: fakeExecutors([]), schedule, height: H, width: W, steps: 2, seed: 1 }, (f) => {
      frames.push(f);
    });
    expect(r.mask).not.toBe(frames[1].c);
    expect(r.image).not.toBe(frames[1].y0);
    expect(Array.from(r.mask)).toEqual(Array.from(frames[1].c));
  });

  it('mask → image: the user mask is the start condition, no maskStep, nothing of the mask chain is read', async () => {
    const log: ExecCall[] = [];
    const r = await runSampler({
      executor: fakeExecutors(log),
      schedule,
      height: H,
      width: W,
      steps: 2,
      seed: 1,
      mode: { kind: 'maskToImage', mask: trueMask },
    });
    expect(log.map((c) => c.op)).toEqual(['start', 'image', 'read', 'image', 'read', 'finish']);
    expect(Array.from((log[0] as { condition: Float32Array }).condition)).toEqual(Array.from(trueMask));
    expect(log.filter((c) => c.op === 'read').map((c) => (c as { names: EstimateName[] }).names)).toEqual([['y0'], ['y0']]);
    expect(Array.from(r.mask)).toEqual(Array.from(trueMask));
  });

  it('image → mask: each maskStep gets y_t = √ᾱ_t y* + √(1−ᾱ_t) ε (stream 4) computed by the loop', async () => {
    const log: ExecCall[] = [];
    const r = await runSampler({
      executor: fakeExecutors(log),
      schedule,
      height: H,
      width: W,
      steps: 2,
      seed: 3,
      mode: { kind: 'imageToMask', image: trueImage },
    });
    expect(log.map((c) => c.op)).toEqual(['start', 'mask', 'read', 'mask', 'read', 'finish']);
    const eps = gaussian(3, 4, N);
    for (const c of log.filter((c): c is Extract<ExecCall, { op: 'mask' }> => c.op === 'mask')) {
      for (let i = 0; i < N; i++) expect(c.yt![i]).toBeCloseTo(Math.sqrt(ab(c.step.t)) * trueImage[i] + Math.sqrt(1 - ab(c.step.t)) * eps[i], 5);
    }
    expect(Array.from(r.image)).toEqual(Array.from(trueImage));
  });

  it('finish runs exactly once on success, on cancel, on an executor error and when onFrame throws', async () => {
    const finishes = async (run: (f: StepExecutorFactory) => Promise<unknown>) => {
      const log: ExecCall[] = [];
      await run(fakeExecutors(log)).catch(() => undefined);
      return log.filter((c) => c.op === 'finish').length;
    };
    const base = { schedule, height: H, width: W, steps: 4, seed: 1 };
    expect(await finishes((executor) => runSampler({ ...base, executor }))).toBe(1);
    const signal = { aborted: false };
    expect(
      await finishes((executor) =>
        runSampler({ ...base, executor, signal }, (f) => {
          if (f.index === 1) signal.aborted = true;
        }),
      ),
    ).toBe(1);
    const log: ExecCall[] = [];
    await expect(runSampler({ ...base, executor: fakeExecutors(log, { failAt: 'image' }) })).rejects.toThrow('device lost');
    expect(log.map((c) => c.op)).toEqual(['start', 'mask', 'image', 'finish']);
    expect(
      await finishes((executor) =>
        runSampler({ ...base, executor }, () => {
          throw new Error('UI broke');
        }),
      ),
    ).toBe(1);
    // a consumer that stops iterating and returns the generator also releases the executor
    const log2: ExecCall[] = [];
    const gen = sampleSteps({ ...base, executor: fakeExecutors(log2) });
    await gen.next();
    await gen.return(undefined as never);
    expect(log2.filter((c) => c.op === 'finish').length).toBe(1);
  });

  it('needs a denoiser or an executor', async () => {
    await expect(runSampler({ schedule, height: H, width: W, steps: 1, seed: 1 })).rejects.toThrow('sampleSteps needs a denoiser or an executor');
  });
});

describe('NaN / Inf from a model ends the run with a message naming the model and the step', () => {
  const poisoned = (which: 'mask' | 'image', atT: number, value: number): PairDenoiser => {
    const base = oracleDenoiser({ mask: [], image: [] });
    const poison = (eps: Float32Array, t: number) => {
      if (t === atT) eps[5] = value;
      return eps;
    };
    return {
      predictMaskNoise: async (xy, t) => (which === 'mask' ? poison(await base.predictMaskNoise(xy, t), t) : base.predictMaskNoise(xy, t)),
      predictImageNoise: async (yc, t) => (which === 'image' ? poison(await base.predictImageNoise(yc, t), t) : base.predictImageNoise(yc, t)),
    };
  };
  const failure = async (opts: SamplerOptions): Promise<{ error: unknown; frames: number }> => {
    let frames = 0;
    try {
      await runSampler(opts, () => {
        frames++;
      });
    } catch (error) {
      return { error, frames };
    }
    return { error: null, frames };
  };

  it('CPU path: a NaN in the mask model’s ε at the second step stops the run there, previews or not', async () => {
    for (const previews of [true, false] as const) {
      const { error, frames } = await failure({ denoiser: poisoned('mask', 512, NaN), schedule, height: H, width: W, steps: 4, seed: 3, previews });
      expect(error).toBeInstanceOf(NonFiniteError);
      expect((error as Error).message).toMatch(/^the mask model's ε at step 2 \(t = 512\) has 1 NaN of its 64 values/);
      expect(frames).toBe(1);
    }
  });

  it('CPU path: an infinite ε from the image model is named too', async () => {
    const { error } = await failure({ denoiser: poisoned('image', 0, -Infinity), schedule, height: H, width: W, steps: 4, seed: 3 });
    expect((error as Error).message).toMatch(/^the image model's ε at step 4 \(t = 0\) has 1 infinite of its 64 values/);
  });

  it('step graphs (ε stays on the device): a NaN x̂₀ is found at the last step even without previews, and the executor is finished', async () => {
    const log: ExecCall[] = [];
    const { error, frames } = await failure({
      executor: fakeExecutors(log, { values: { x0: NaN } }),
      schedule,
      height: H,
      width: W,
      steps: 3,
      seed: 1,
      previews: false,
    });
    expect((error as Error).message).toMatch(/^the mask model's x̂₀ at step 3 of 3 \(t = 0\) has 64 NaN of its 64 values/);
    expect(frames).toBe(2);
    expect(log[log.length - 1].op).toBe('finish');
    const withPreviews = await failure({
      executor: fakeExecutors([], { values: { y0: Infinity } }),
      schedule,
      height: H,
      width: W,
      steps: 3,
      seed: 1,
      previews: ['x0', 'y0'],
    });
    expect((withPreviews.error as Error).message).toMatch(/^the image model's ŷ₀ at step 1 of 3 \(t = 682\)/);
  });
});
