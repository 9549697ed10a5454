import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countDiffering, maxAbsDiff } from '../core/golden';
import { upsampleBilinear } from '../core/latent';
import { type PairDenoiser, runSampler, type SamplerMode } from '../core/sampler';
import { cpuStepExecutors } from '../core/sampler-cpu';
import { linearSchedule } from '../core/schedule';
import { EngineError } from '../engine/errors';
import { loadPairFromDir, loadStepPairFromDir } from '../engine/node';
import type { OpenedPair } from '../engine/pair';
import { fakeManifest } from '../testing/fake-manifest';
import { type BatchPair, type BatchProgress, type BatchRequest, type GenerateMode, MAX_BATCH_SIZE, type StepFrame, type StudioError } from './api';
import { type LoadedModel, Studio } from './studio';

const H = 4;
const W = 4;
const manifest = fakeManifest(H, W);

/** A denoiser whose calls can be held open, to test busy / cancel mid-step. */
function slowDenoiser(delayMs = 0): PairDenoiser & { calls: number; maskCalls: number; imageCalls: number } {
  const d = {
    calls: 0,
    maskCalls: 0,
    imageCalls: 0,
    async predictMaskNoise(xy: Float32Array) {
      d.calls++;
      d.maskCalls++;
      await new Promise((r) => setTimeout(r, delayMs));
      return xy.slice(0, H * W).map((v) => v * 0.5);
    },
    async predictImageNoise(yc: Float32Array) {
      d.calls++;
      d.imageCalls++;
      await new Promise((r) => setTimeout(r, delayMs));
      return yc.slice(0, H * W).map((v) => v * 0.5);
    },
  };
  return d;
}

/** The fake manifest's model over `denoiser`, on core's CPU executor. */
function studioModel(denoiser: PairDenoiser, release: () => Promise<void> = async () => undefined): LoadedModel {
  return {
    manifest,
    schedule: linearSchedule(manifest.schedule),
    executors: cpuStepExecutors(denoiser),
    backend: 'wasm',
    backendNote: 'WASM requested',
    release,
  };
}

function studioWith(denoiser: PairDenoiser) {
  let released = 0;
  const model = studioModel(denoiser, async () => {
    released++;
  });
  const studio = new Studio(async () => model);
  return { studio, released: () => released };
}

async function rejection(p: Promise<unknown>): Promise<StudioError> {
  try {
    await p;
  } catch (e) {
    return e as StudioError;
  }
  throw new Error('expected a rejection');
}

describe('Studio (worker logic)', () => {
  it('load returns the model info from the manifest', async () => {
    const { studio } = studioWith(slowDenoiser());
    expect(await studio.load({ modelUrl: '/models/fake/' })).toEqual({
      name: 'fake',
      resolution: [4, 4],
      defaultSteps: 4,
      defaultClip: 'none',
      backend: 'wasm',
      backendNote: 'WASM requested',
      card: { license: 'test' },
      binarize: { kernel: 5, weights: [0.75, 0.25] },
      dataset: { name: 'fake', resolution: [4, 4], modality: 'ultrasound', files: {} },
      documents: [],
      attributes: [],
      defaultGuidance: 1,
      latent: null,
    });
  });

  it('generate streams one frame per step, then the result', async () => {
    const { studio } = studioWith(slowDenoiser());
    await studio.load({ modelUrl: '/m/' });
    const frames: StepFrame[] = [];
    const r = await studio.generate({ seed: 3, steps: 4 }, (f) => frames.push(f));
    await new Promise((res) => setTimeout(res, 0));
    expect(frames.map((f) => [f.index, f.total, f.t, f.tPrev])).toEqual([
      [0, 4, 768, 512],
      [1, 4, 512, 256],
      [2, 4, 256, 0],
      [3, 4, 0, -1],
    ]);
    expect(frames[3].y0).toEqual(r.image);
    expect(r.mask.every((v) => v === 0 || v === 1)).toBe(true);
    expect([r.seed, r.steps, r.eta, r.clip, r.width, r.height, r.backend]).toEqual([3, 4, 0, 'none', 4, 4, 'wasm']);
    expect(r.msPerStep).toBeCloseTo(r.totalMs / 4, 6);
  });

  it('a result says where its time went: the model calls (8 of at least 20 ms here) and the rest, summing to the total', async () => {
    const { studio } = studioWith(slowDenoiser(20));
    await studio.load({ modelUrl: '/m/' });
    const r = await studio.generate({ seed: 3, steps: 4 }, () => undefined);
    const { modelMs, readMs, framesMs, otherMs } = r.phases;
    expect(modelMs).toBeGreaterThanOrEqual(8 * 19); // timers may fire up to a millisecond early
    expect(Math.min(readMs, framesMs, otherMs)).toBeGreaterThanOrEqual(0);
    expect(modelMs + readMs + framesMs + otherMs).toBeCloseTo(r.totalMs, 6);
  });

  it('clip: the request’s, else the manifest’s (none when it has none); recorded with each pair; a bad one refused', async () => {
    const { studio } = studioWith(slowDenoiser());
    await studio.load({ modelUrl: '/m/' });
    const none = await studio.generate({ seed: 3, steps: 4 }, () => undefined);
    const both = await studio.generate({ seed: 3, steps: 4, clip: 'both' }, () => undefined);
    expect([none.clip, both.clip]).toEqual(['none', 'both']);
    // this denoiser's x̂₀ leaves [−1, 1]: clipping shows in the pair
    expect(both.image.every((v) => v >= -1 && v <= 1)).toBe(true);
    expect(none.image).not.toEqual(both.image);
    const pairs: BatchPair[] = [];
    await studio.generateBatch({ startSeed: 3, count: 1, steps: 4, clip: 'both' }, (p) => void pairs.push(p));
    expect(pairs.map((p) => [p.clip, Array.from(p.image)])).toEqual([['both', Array.from(both.image)]]);
    const bad = await rejection(studio.generate({ seed: 3, steps: 4, clip: 'all' as never }, () => undefined));
    expect(bad).toEqual({ kind: 'input', message: 'clip must be none, image, both, got "all".' });

    const withDefault = new Studio(async () => ({
      ...studioModel(slowDenoiser()),
      manifest: { ...manifest, sampler: { ...manifest.sampler, clip: 'image' } },
    }));
    expect((await withDefault.load({ modelUrl: '/m/' })).defaultClip).toBe('image');
    expect((await withDefault.generate({ seed: 3, steps: 2 }, () => undefined)).clip).toBe('image');
  });

  it('same seed gives the same pair; previews: false sends no frames', async () => {
    const { studio } = studioWith(slowDenoiser());
    await studio.load({ modelUrl: '/m/' });
    let n = 0;
    const a = await studio.generate({ seed: 9, steps: 3, previews: false }, () => n++);
    const b = await studio.generate({ seed: 9, steps: 3 }, () => undefined);
    expect(n).toBe(0);
    expect(a.image).toEqual(b.image);
    expect(a.mask).toEqual(b.mask);
  });

  it('one generation at a time: a second call is busy; cancel stops it within a step', async () => {
    const d = slowDenoiser(20);
    const { studio } = studioWith(d);
    await studio.load({ modelUrl: '/m/' });
    const frames: StepFrame[] = [];
    const first = studio.generate({ seed: 1, steps: 50 }, (f) => frames.push(f));
    const busy = await rejection(studio.generate({ seed: 2, steps: 2 }, () => undefined));
    expect(busy.kind).toBe('busy');
    await new Promise((r) => setTimeout(r, 130));
    studio.cancel();
    const callsAtCancel = d.calls;
    const err = await rejection(first);
    expect(err).toEqual({ kind: 'cancelled', message: 'Generation cancelled.' });
    expect(d.calls - callsAtCancel).toBeLessThanOrEqual(1); // the call in flight finishes, nothing more
    expect(frames.length).toBeLessThan(50);
    // usable afterwards
    const again = await studio.generate({ seed: 2, steps: 2 }, () => undefined);
    expect(again.steps).toBe(2);
  });

  it('rejects bad input and a missing model with kind "input"', async () => {
    const { studio } = studioWith(slowDenoiser());
    expect((await rejection(studio.generate({ seed: 1, steps: 4 }, () => undefined))).kind).toBe('input');
    await studio.load({ modelUrl: '/m/' });
    expect(await rejection(studio.generate({ seed: -1, steps: 4 }, () => undefined))).toMatchObject({ kind: 'input', message: expect.stringMatching(/Seed/) });
    expect(await rejection(studio.generate({ seed: 1, steps: 0 }, () => undefined))).toMatchObject({ kind: 'input', message: expect.stringMatching(/Steps/) });
    expect(await rejection(studio.generate({ seed: 1, steps: 2000 }, () => undefined))).toMatchObject({ kind: 'input' });
    // η past 1 saturates the chains (src/core/limits.ts): refused, not run
    for (const eta of [1.5, 1e30, -0.1, Number.NaN, Number.POSITIVE_INFINITY])
      expect(await rejection(studio.generate({ seed: 1, steps: 4, eta }, () => undefined))).toEqual({
        kind: 'input',
        message: `η must be a number from 0 (deterministic DDIM) to 1 (DDPM-like), got ${eta}.`,
      });
  });

  it('load errors keep their kind; a new load releases the previous pair', async () => {
    const failing = new Studio(async () => {
      throw new EngineError('model', 'mask.onnx (mask model) has SHA-256 …, the manifest says …');
    });
    expect(await rejection(failing.load({ modelUrl: '/x/' }))).toMatchObject({ kind: 'model' });
    const { studio, released } = studioWith(slowDenoiser());
    await studio.load({ modelUrl: '/m/' });
    await studio.load({ modelUrl: '/m/' });
    expect(released()).toBe(1);
  });

  it('load takes exactly one source; a failed load keeps the previous model working', async () => {
    const { studio } = studioWith(slowDenoiser());
    expect(await rejection(studio.load({}))).toEqual({
      kind: 'input',
      message: 'load() needs a modelUrl such as "/models/tiny/", the model files, or a cachedModelId.',
    });
    expect(await rejection(studio.load({ modelUrl: '/m/', cachedModelId: 'x' }))).toMatchObject({
      kind: 'input',
      message: 'load() takes one of modelUrl, files or cachedModelId, not several.',
    });
    await studio.load({ modelUrl: '/m/' });

    let calls = 0;
    const good = studioWith(slowDenoiser());
    const flaky = new Studio(async (request, onProgress) => {
      calls++;
      onProgress?.({ receivedBytes: 1, totalBytes: 2, cachedBytes: 0, filesDone: 0, files: 1 });
      if (request.files) throw new EngineError('model', 'mask.onnx (your file): mask.onnx (mask model) is truncated');
      return { ...(await good.studio['loader'](request)), source: { kind: 'bundled', id: '/m/', cached: true, fromCache: false, cacheNote: null } };
    });
    const progress: unknown[] = [];
    const info = await flaky.load({ modelUrl: '/m/' }, (p) => progress.push(p));
    expect(info.source).toEqual({ kind: 'bundled', id: '/m/', cached: true, fromCache: false, cacheNote: null });
    await new Promise((r) => setTimeout(r, 0));
    expect(progress).toEqual([{ receivedBytes: 1, totalBytes: 2, cachedBytes: 0, filesDone: 0, files: 1 }]);
    expect(await rejection(flaky.load({ files: { 'mask.onnx': new ArrayBuffer(1) } }))).toEqual({
      kind: 'model',
      message: 'mask.onnx (your file): mask.onnx (mask model) is truncated',
    });
    expect(calls).toBe(2);
    // the model of the first load still generates
    const result = await flaky.generate({ seed: 3, steps: 2 }, () => undefined);
    expect(result.steps).toBe(2);
  });

  it('cancel() aborts a load: its download stops, the previous model stays, a late finish is released', async () => {
    const good = studioWith(slowDenoiser());
    const seen: AbortSignal[] = [];
    let releasedLate = 0;
    // a download that ends only when its signal aborts (as fetch does)
    const downloading = new Studio((_request, _onProgress, signal) => {
      seen.push(signal!);
      return new Promise((_resolve, reject) => signal!.addEventListener('abort', () => reject(new DOMException('The user aborted a request.', 'AbortError'))));
    });
    const pending = rejection(downloading.load({ modelUrl: '/big/' }));
    await new Promise((r) => setTimeout(r, 0));
    expect(seen[0]!.aborted).toBe(false);
    downloading.cancel();
    expect(await pending).toEqual({ kind: 'cancelled', message: 'Opening the model was cancelled.' });
    expect(seen[0]!.aborted).toBe(true);

    // a loader that finishes although the cancel came (sessions were opening): its pair is dropped
    let finish: () => void = () => undefined;
    const late = new Studio(async (request) => {
      if (request.modelUrl === '/first/') return good.studio['loader'](request);
      await new Promise<void>((r) => (finish = r));
      return { ...(await good.studio['loader'](request)), release: async () => void releasedLate++ };
    });
    await late.load({ modelUrl: '/first/' });
    const second = rejection(late.load({ modelUrl: '/second/' }));
    await new Promise((r) => setTimeout(r, 0));
    late.cancel();
    finish();
    expect((await second).kind).toBe('cancelled');
    expect(releasedLate).toBe(1);
    // the first model still generates, and a new load is accepted
    expect((await late.generate({ seed: 3, steps: 2 }, () => undefined)).steps).toBe(2);
    await late.load({ modelUrl: '/first/' });
  });

  it('a denoiser failure surfaces as a StudioError, not a hang', async () => {
    const bad: PairDenoiser = {
      predictMaskNoise: async () => {
        throw new EngineError('backend', 'mask.onnx failed to run at t=768: device lost');
      },
      predictImageNoise: async () => new Float32Array(H * W),
    };
    const { studio } = studioWith(bad);
    await studio.load({ modelUrl: '/m/' });
    expect(await rejection(studio.generate({ seed: 1, steps: 2 }, () => undefined))).toEqual({
      kind: 'backend',
      message: 'mask.onnx failed to run at t=768: device lost',
    });
  });
});

describe('Studio: a lost GPU device', () => {
  /** A WebGPU model whose device can be lost, and the WASM model it reopens as. */
  function gpuStudio(gpuDenoiser: PairDenoiser) {
    let lose: (reason: string) => void = () => undefined;
    const events: string[] = [];
    const model = (backend: 'webgpu' | 'wasm', denoiser: PairDenoiser): LoadedModel => ({
      manifest,
      schedule: linearSchedule(manifest.schedule),
      executors: cpuStepExecutors(denoiser),
      backend,
      backendNote: backend === 'wasm' ? null : 'GPU-resident steps',
      release: async () => void events.push(`release ${backend}`),
    });
    const gpu: LoadedModel = {
      ...model('webgpu', gpuDenoiser),
      lost: new Promise<string>((r) => (lose = r)),
      reopenOnWasm: async () => {
        events.push('reopen on wasm');
        return model('wasm', slowDenoiser());
      },
    };
    const studio = new Studio(async () => gpu);
    return { studio, lose: (reason: string) => lose(reason), events };
  }

  it('mid-run, with the model call hanging on the dead device: the run ends with a message, the model is reopened on WASM, the next run works', async () => {
    let calls = 0;
    const hangsFromThirdCall: PairDenoiser = {
      predictMaskNoise: (xy) => (calls++ < 2 ? Promise.resolve(xy.slice(0, H * W).map((v) => v * 0.5)) : new Promise(() => undefined)),
      predictImageNoise: (yc) => (calls++ < 2 ? Promise.resolve(yc.slice(0, H * W).map((v) => v * 0.5)) : new Promise(() => undefined)),
    };
    const { studio, lose, events } = gpuStudio(hangsFromThirdCall);
    expect((await studio.load({ modelUrl: '/m/' })).backend).toBe('webgpu');
    const frames: StepFrame[] = [];
    const run = studio.generate({ seed: 1, steps: 4 }, (f) => frames.push(f));
    await new Promise((r) => setTimeout(r, 20));
    expect(calls).toBe(3); // one step done, the next model call hangs
    lose('destroyed');
    const err = await rejection(run);
    expect(err.kind).toBe('backend');
    expect(err.message).toBe('The GPU device was lost during the run (destroyed); the model was reopened on WASM. Press Generate to run again.');
    expect(err.model?.backend).toBe('wasm');
    expect(events).toEqual(['reopen on wasm', 'release webgpu']);
    expect(frames.length).toBe(1);
    const again = await studio.generate({ seed: 1, steps: 2 }, () => undefined);
    expect(again.backend).toBe('wasm');
  });

  it('while idle: the next Generate says so once (with the WASM model), then runs on WASM', async () => {
    const { studio, lose } = gpuStudio(slowDenoiser());
    await studio.load({ modelUrl: '/m/' });
    lose('unknown: the GPU process crashed');
    await new Promise((r) => setTimeout(r, 0));
    const err = await rejection(studio.generate({ seed: 1, steps: 2 }, () => undefined));
    expect(err).toMatchObject({
      kind: 'backend',
      message: 'The GPU device was lost (unknown: the GPU process crashed); the model was reopened on WASM. Press Generate to run again.',
    });
    expect(err.model?.backend).toBe('wasm');
    expect((await studio.generate({ seed: 1, steps: 2 }, () => undefined)).backend).toBe('wasm');
    const batch: BatchPair[] = [];
    expect(await studio.generateBatch({ startSeed: 0, count: 2, steps: 2 }, (p) => void batch.push(p))).toMatchObject({ done: 2, cancelled: false });
    expect(batch.map((p) => p.backend)).toEqual(['wasm', 'wasm']);
  });

  it('during a batch: the batch stops with the message (not as a cancel), the finished pairs were handed over', async () => {
    const { studio, lose } = gpuStudio(slowDenoiser(5));
    await studio.load({ modelUrl: '/m/' });
    const pairs: BatchPair[] = [];
    const batch = studio.generateBatch({ startSeed: 0, count: 50, steps: 2 }, (p) => {
      pairs.push(p);
      if (pairs.length === 2) lose('destroyed');
    });
    const err = await rejection(batch);
    expect(err.message).toMatch(/^The GPU device was lost during the run \(destroyed\); the model was reopened on WASM/);
    expect(pairs.length).toBeGreaterThanOrEqual(2);
    expect(pairs.length).toBeLessThan(50);
  });

  it('a model whose WASM reopening fails: the message says to reload, and Generate says no model is loaded', async () => {
    let lose: (reason: string) => void = () => undefined;
    const studio = new Studio(async () => ({
      manifest,
      schedule: linearSchedule(manifest.schedule),
      executors: cpuStepExecutors(slowDenoiser()),
      backend: 'webgpu' as const,
      backendNote: null,
      lost: new Promise<string>((r) => (lose = r)),
      reopenOnWasm: async () => {
        throw new Error('out of memory');
      },
      release: async () => undefined,
    }));
    await studio.load({ modelUrl: '/m/' });
    lose('destroyed');
    await new Promise((r) => setTimeout(r, 0));
    const err = await rejection(studio.generate({ seed: 1, steps: 2 }, () => undefined));
    expect(err).toEqual({
      kind: 'backend',
      message: 'The GPU device was lost (destroyed); reopening the model on WASM failed (out of memory): reload the page.',
    });
    expect((await rejection(studio.generate({ seed: 1, steps: 2 }, () => undefined))).message).toBe('No model is loaded yet.');
  });
});

describe('Studio: NaN from a model', () => {
  it('ends the run with kind "model", naming the file, the model and the step', async () => {
    const nan: PairDenoiser = {
      predictMaskNoise: async () => new Float32Array(H * W).fill(NaN),
      predictImageNoise: async (yc) => yc.slice(0, H * W),
    };
    const { studio } = studioWith(nan);
    await studio.load({ modelUrl: '/m/' });
    (manifest.models as Record<string, unknown>).mask = { file: 'mask.onnx' };
    try {
      expect(await rejection(studio.generate({ seed: 1, steps: 2 }, () => undefined))).toEqual({
        kind: 'model',
        message:
          "mask.onnx: the mask model's ε at step 1 (t = 512) has 16 NaN of its 16 values. The model file is broken or its weights diverged; the run was stopped.",
      });
    } finally {
      delete (manifest.models as Record<string, unknown>).mask;
    }
  });
});

describe('Studio batches', () => {
  it('runs N seeds in order, each pair equal to generate() of its seed, with progress for every step', async () => {
    const { studio } = studioWith(slowDenoiser());
    await studio.load({ modelUrl: '/m/' });
    const pairs: BatchPair[] = [];
    const progress: BatchProgress[] = [];
    const summary = await studio.generateBatch(
      { startSeed: 5, count: 3, steps: 2 },
      (p) => void pairs.push(p),
      (p) => progress.push(p),
    );
    await framesDelivered();
    expect(summary).toMatchObject({ done: 3, count: 3, cancelled: false });
    expect(pairs.map((p) => [p.index, p.seed, p.steps])).toEqual([
      [0, 5, 2],
      [1, 6, 2],
      [2, 7, 2],
    ]);
    expect(progress.map((p) => [p.index, p.seed, p.step])).toEqual([
      [0, 5, 0],
      [0, 5, 1],
      [0, 5, 2],
      [1, 6, 0],
      [1, 6, 1],
      [1, 6, 2],
      [2, 7, 0],
      [2, 7, 1],
      [2, 7, 2],
    ]);
    const single = await studio.generate({ seed: 6, steps: 2 }, () => undefined);
    expect(pairs[1].image).toEqual(single.image);
    expect(pairs[1].mask).toEqual(single.mask);
  });

  it('cancel stops within a step and keeps the finished pairs; the studio is busy meanwhile, usable after', async () => {
    const d = slowDenoiser(5);
    const { studio } = studioWith(d);
    await studio.load({ modelUrl: '/m/' });
    const pairs: BatchPair[] = [];
    const batch = studio.generateBatch({ startSeed: 0, count: 50, steps: 4 }, (p) => void pairs.push(p));
    expect((await rejection(studio.generate({ seed: 1, steps: 2 }, () => undefined))).kind).toBe('busy');
    expect((await rejection(studio.generateBatch({ startSeed: 0, count: 2, steps: 2 }, () => undefined))).kind).toBe('busy');
    while (pairs.length < 2) await new Promise((r) => setTimeout(r, 5));
    studio.cancel();
    const callsAtCancel = d.calls;
    const summary = await batch;
    expect(d.calls - callsAtCancel).toBeLessThanOrEqual(1);
    expect(summary.cancelled).toBe(true);
    expect(summary.done).toBe(pairs.length);
    expect(pairs.map((p) => p.seed)).toEqual(pairs.map((_, i) => i));
    expect((await studio.generate({ seed: 2, steps: 2 }, () => undefined)).steps).toBe(2);
  });

  it('refuses a size of 0 or over the limit, and seeds past 2^32 − 1, with kind "input"', async () => {
    const { studio } = studioWith(slowDenoiser());
    await studio.load({ modelUrl: '/m/' });
    const bad = (r: Partial<BatchRequest>) => rejection(studio.generateBatch({ startSeed: 0, count: 2, steps: 2, ...r }, () => undefined));
    expect(await bad({ count: 0 })).toEqual({ kind: 'input', message: `Batch size must be a whole number from 1 to ${MAX_BATCH_SIZE}, got 0.` });
    expect(await bad({ count: MAX_BATCH_SIZE + 1 })).toMatchObject({ kind: 'input' });
    expect(await bad({ startSeed: 0xffffffff, count: 2 })).toEqual({
      kind: 'input',
      message: 'The seeds 4294967295 … 4294967296 go past 4294967295; start at 4294967294 at the most.',
    });
    expect(await bad({ steps: 0 })).toMatchObject({ kind: 'input', message: expect.stringMatching(/Steps/) });
  });

  it('a pair the app cannot take stops the batch with that error', async () => {
    const { studio } = studioWith(slowDenoiser());
    await studio.load({ modelUrl: '/m/' });
    const err = await rejection(
      studio.generateBatch({ startSeed: 0, count: 3, steps: 1 }, () => {
        throw new Error('out of memory');
      }),
    );
    expect(err).toEqual({ kind: 'internal', message: 'out of memory' });
    expect((await studio.generate({ seed: 2, steps: 1 }, () => undefined)).steps).toBe(1);
  });
});

/** Lets the frames posted before a result reach the callback. */
const framesDelivered = () => new Promise((res) => setTimeout(res, 0));

describe('Studio modes', () => {
  const userMask = Uint8Array.from({ length: H * W }, (_, i) => (i % W >= 2 ? 1 : 0));
  const userImage = Float32Array.from({ length: H * W }, (_, i) => i / (H * W) - 0.5);
  /** The core's sampler alone in `mode`, with the settings these tests give the Studio (seed 4, 3 steps). */
  const coreRun = (mode: SamplerMode) =>
    runSampler({
      denoiser: slowDenoiser(),
      schedule: linearSchedule(manifest.schedule),
      height: H,
      width: W,
      steps: 3,
      seed: 4,
      binarize: manifest.sampler.binarize,
      mode,
    });

  it('mask → image: only the image model runs, every frame shows the user mask, the result keeps it', async () => {
    const d = slowDenoiser();
    const { studio } = studioWith(d);
    await studio.load({ modelUrl: '/m/' });
    const frames: StepFrame[] = [];
    const r = await studio.generate({ seed: 4, steps: 3, mode: { kind: 'maskToImage', width: W, height: H, mask: userMask } }, (f) => frames.push(f));
    await framesDelivered();
    expect([d.maskCalls, d.imageCalls]).toEqual([0, 3]);
    expect(frames.length).toBe(3);
    for (const f of frames) expect(Array.from(f.x0)).toEqual(Array.from(userMask, (v) => (v ? 1 : -1)));
    expect(frames[0].y0).not.toEqual(frames[2].y0); // the image settles
    expect(frames[2].y0).toEqual(r.image);
    expect(r.mode).toBe('maskToImage');
    expect(Array.from(r.mask)).toEqual(Array.from(userMask));
    // the same loop as the core's sampler with that mode (one code path)
    const direct = await coreRun({ kind: 'maskToImage', mask: Float32Array.from(userMask, (v) => (v ? 1 : -1)) });
    expect(r.image).toEqual(direct.image);
  });

  it('image → mask: only the mask model runs, frames stream the settling mask, the result keeps the image', async () => {
    const d = slowDenoiser();
    const { studio } = studioWith(d);
    await studio.load({ modelUrl: '/m/' });
    const frames: StepFrame[] = [];
    const r = await studio.generate({ seed: 4, steps: 3, mode: { kind: 'imageToMask', width: W, height: H, image: userImage } }, (f) => frames.push(f));
    await framesDelivered();
    expect([d.maskCalls, d.imageCalls]).toEqual([3, 0]);
    expect(frames.length).toBe(3);
    for (const f of frames) expect(f.y0).toEqual(userImage);
    expect(frames[0].x0).not.toEqual(frames[2].x0);
    expect(r.mode).toBe('imageToMask');
    expect(r.image).toEqual(userImage);
    const direct = await coreRun({ kind: 'imageToMask', image: userImage });
    expect(Array.from(r.mask)).toEqual(Array.from(direct.mask, (v) => (v > 0 ? 1 : 0)));
  });

  it('a condition of the wrong size or with bad values is refused with kind "input", and the studio stays usable', async () => {
    const { studio } = studioWith(slowDenoiser());
    await studio.load({ modelUrl: '/m/' });
    const bad = (mode: GenerateMode) => rejection(studio.generate({ seed: 1, steps: 2, mode }, () => undefined));
    expect(await bad({ kind: 'maskToImage', width: 8, height: 6, mask: new Uint8Array(48) })).toEqual({
      kind: 'input',
      message: 'The mask is 8×6; the model needs 4×4.',
    });
    expect(await bad({ kind: 'imageToMask', width: 2, height: 2, image: new Float32Array(4) })).toEqual({
      kind: 'input',
      message: 'The image is 2×2; the model needs 4×4.',
    });
    expect(await bad({ kind: 'maskToImage', width: 4, height: 4, mask: new Uint8Array(15) })).toEqual({
      kind: 'input',
      message: "The mask has 15 values; the model's 4×4 needs 16.",
    });
    expect(await bad({ kind: 'maskToImage', width: 4, height: 4, mask: new Uint8Array(16).fill(255) })).toEqual({
      kind: 'input',
      message: 'The mask must be 0/1 per pixel; pixel 0 is 255.',
    });
    expect(await bad({ kind: 'imageToMask', width: 4, height: 4, image: new Float32Array(16).fill(NaN) })).toMatchObject({
      kind: 'input',
      message: 'The image must be in model units [−1, 1]; pixel 0 is NaN.',
    });
    expect((await studio.generate({ seed: 1, steps: 2, mode: { kind: 'pair' } }, () => undefined)).mode).toBe('pair');
  });
});

// Both executors the worker runs (core's CPU executor over the plain U-Nets: WASM; the step graphs:
// WebGPU, here on onnxruntime-node with CPU tensors) behind the Studio, in every mode.
const modelDir = fileURLToPath(new URL('../../public/models/tiny/', import.meta.url));
const tinyPresent = existsSync(`${modelDir}manifest.json`);
describe.skipIf(!tinyPresent)('Studio modes on both executors (tiny pair, onnxruntime-node)', () => {
  let plain: OpenedPair;
  let graphs: OpenedPair;
  beforeAll(async () => {
    plain = await loadPairFromDir(modelDir, { intraOpNumThreads: 1, warmUp: false });
    graphs = await loadStepPairFromDir(modelDir, { intraOpNumThreads: 1, warmUp: false });
  });
  afterAll(async () => {
    await plain?.release();
    await graphs?.release();
  });

  const studioOn = (m: OpenedPair) =>
    new Studio(async () => ({
      manifest: m.manifest,
      schedule: m.schedule,
      executors: m.executors,
      backend: 'wasm',
      backendNote: null,
      release: async () => undefined,
    }));

  it('pair, mask → image and image → mask stream every step and agree between the executors', async () => {
    const [h, w] = plain.manifest.resolution;
    const mask = Uint8Array.from({ length: h * w }, (_, i) => (Math.hypot((i % w) - w / 2, Math.floor(i / w) - h / 2) < h / 4 ? 1 : 0));
    const image = Float32Array.from({ length: h * w }, (_, i) => Math.sin(i / 7) * 0.8);
    const modes: GenerateMode[] = [{ kind: 'pair' }, { kind: 'maskToImage', width: w, height: h, mask }, { kind: 'imageToMask', width: w, height: h, image }];
    const a = studioOn(plain);
    const b = studioOn(graphs);
    await a.load({ modelUrl: '/tiny/' });
    await b.load({ modelUrl: '/tiny/' });
    for (const mode of modes) {
      const counts = [0, 0];
      const ra = await a.generate({ seed: 11, steps: 3, mode }, () => counts[0]++);
      const rb = await b.generate({ seed: 11, steps: 3, mode }, () => counts[1]++);
      await framesDelivered();
      expect(counts, mode.kind).toEqual([3, 3]);
      let maxDiff = 0;
      ra.image.forEach((v, i) => (maxDiff = Math.max(maxDiff, Math.abs(v - rb.image[i]))));
      expect(maxDiff, mode.kind).toBeLessThan(1e-3); // steps.test.ts explains the tolerance
      expect(ra.mask.filter((v, i) => v !== rb.mask[i]).length, mode.kind).toBeLessThanOrEqual(2);
      if (mode.kind === 'maskToImage') expect(Array.from(rb.mask)).toEqual(Array.from(mask));
      if (mode.kind === 'imageToMask') expect(rb.image).toEqual(image);
    }
  });
});

// A latent model with attributes (contracts.md §6) behind the Studio, as the studio's WASM path runs
// it (core's CPU executor over the plain U-Nets; here onnxruntime-node): the kit's golden run
// (seed 7, 4 steps, pathology=malignant, w = 2) within the tolerances of engine/golden.test.ts.
const latentDir = fileURLToPath(new URL('../../public/models/tiny-latent/', import.meta.url));
const latentGolden = fileURLToPath(new URL('../core/fixtures/tiny-latent-golden.json', import.meta.url));
const latentPresent = existsSync(`${latentDir}manifest.json`) && existsSync(latentGolden);
describe.skipIf(!latentPresent)('Studio on a latent model with attributes (tiny-latent, onnxruntime-node)', () => {
  let pair: OpenedPair;
  let studio: Studio;
  beforeAll(async () => {
    pair = await loadPairFromDir(latentDir, { intraOpNumThreads: 1, warmUp: false });
    studio = new Studio(async () => ({
      manifest: pair.manifest,
      schedule: pair.schedule,
      executors: pair.executors,
      latent: pair.latent,
      backend: 'wasm',
      backendNote: null,
      release: async () => undefined,
    }));
  });
  afterAll(async () => {
    await pair?.release();
  });

  it('tells the app the attributes, the guidance and the grid', async () => {
    const info = await studio.load({ modelUrl: '/tiny-latent/' });
    expect(info.resolution).toEqual([64, 64]);
    expect(info.latent).toEqual({ grid: [16, 16], factor: 4, channels: 4 });
    expect(info.defaultGuidance).toBe(1);
    expect(info.attributes.map((a) => [a.name, a.values.length])).toEqual([
      ['pathology', 2],
      ['birads', 4],
      ['scanner', 4],
    ]);
  });

  it('reproduces the golden run: frames of the preview at [H, W] with ẑ₀, the decoded final pair, decode() of a step', async () => {
    const fx = JSON.parse(readFileSync(latentGolden, 'utf8')) as {
      seed: number;
      steps: number;
      guidance: number;
      attributes: Record<string, string>;
      frames: { x0: number[]; z0: number[] }[];
      mask: number[];
      image: number[];
    };
    await studio.load({ modelUrl: '/tiny-latent/' });
    const frames: StepFrame[] = [];
    const r = await studio.generate({ seed: fx.seed, steps: fx.steps, attributes: { pathology: 'malignant' }, guidance: fx.guidance }, (f) => frames.push(f));
    await framesDelivered();
    expect(frames.length).toBe(fx.steps);
    for (const [i, f] of frames.entries()) {
      expect([f.x0.length, f.y0.length, f.z0?.length]).toEqual([64 * 64, 64 * 64, 4 * 16 * 16]);
      expect(maxAbsDiff(f.z0!, fx.frames[i].z0)).toBeLessThan(2e-3);
      expect(maxAbsDiff(f.x0, upsampleBilinear(Float32Array.from(fx.frames[i].x0), 16, 16, 64, 64))).toBeLessThan(2e-3);
    }
    expect([r.width, r.height, r.mask.length, r.image.length]).toEqual([64, 64, 64 * 64, 64 * 64]);
    expect(r.attributes).toEqual(fx.attributes);
    expect(r.guidance).toBe(2);
    expect(
      countDiffering(
        Array.from(r.mask, (v) => (v ? 1 : -1)),
        fx.mask,
      ),
    ).toBe(0);
    expect(maxAbsDiff(r.image, fx.image)).toBeLessThan(2e-3);
    // the decoder on demand: the last step's ẑ₀ gives the final image; a middle step's is an image too
    expect(Array.from(await studio.decode(frames[3].z0!))).toEqual(Array.from(r.image));
    const middle = await studio.decode(frames[1].z0!);
    expect(middle.length).toBe(64 * 64);
    expect(middle.every((v) => v >= -1 && v <= 1)).toBe(true);
  });

  it('mask → image and image → mask at 64²: frames stream, the user’s mask / image is kept', async () => {
    await studio.load({ modelUrl: '/tiny-latent/' });
    const mask = Uint8Array.from({ length: 64 * 64 }, (_, i) => (Math.hypot((i % 64) - 32, Math.floor(i / 64) - 32) < 14 ? 1 : 0));
    const image = Float32Array.from({ length: 64 * 64 }, (_, i) => Math.sin(i / 7) * 0.8);
    const m2i: StepFrame[] = [];
    const a = await studio.generate({ seed: 3, steps: 2, mode: { kind: 'maskToImage', width: 64, height: 64, mask }, attributes: { birads: '4' } }, (f) =>
      m2i.push(f),
    );
    const i2m: StepFrame[] = [];
    const b = await studio.generate({ seed: 3, steps: 2, mode: { kind: 'imageToMask', width: 64, height: 64, image } }, (f) => i2m.push(f));
    await framesDelivered();
    expect([m2i.length, i2m.length]).toEqual([2, 2]);
    expect(Array.from(a.mask)).toEqual(Array.from(mask));
    expect(Array.from(m2i[0].x0, (v) => (v > 0 ? 1 : 0))).toEqual(Array.from(mask));
    expect(m2i[1].z0?.length).toBe(4 * 16 * 16);
    expect(a.attributes).toEqual({ pathology: 'any', birads: '4', scanner: 'any' });
    expect(b.image).toEqual(image);
    expect(i2m[0].y0).toEqual(image);
    expect(i2m[0].z0).toBeUndefined();
    expect(b.mask.length).toBe(64 * 64);
  });

  it('refuses an attribute or value the model lacks, guidance out of range, and decode() of a wrong ẑ₀, with kind "input"', async () => {
    await studio.load({ modelUrl: '/tiny-latent/' });
    expect(await rejection(studio.generate({ seed: 1, steps: 1, attributes: { colour: 'red' } }, () => undefined))).toMatchObject({
      kind: 'input',
      message: 'unknown attribute "colour": this model has pathology, birads, scanner.',
    });
    expect(await rejection(studio.generate({ seed: 1, steps: 1, attributes: { pathology: 'cystic' } }, () => undefined))).toMatchObject({
      kind: 'input',
      message: "pathology=cystic is not a value of this model's pathology: one of benign, malignant (or any).",
    });
    expect(await rejection(studio.generate({ seed: 1, steps: 1, guidance: 21 }, () => undefined))).toMatchObject({
      kind: 'input',
      message: 'Guidance w must be a number from 0 to 20 (1: the conditional model alone, no guidance), got 21.',
    });
    expect(await rejection(studio.decode(new Float32Array(3)))).toMatchObject({
      kind: 'input',
      message: "ẑ₀ has 3 values; tiny-latent's latent 4×16×16 needs 1024.",
    });
  });
});

describe('Studio: a model without attributes', () => {
  it('refuses attributes by name, ignores "any", and has nothing to decode', async () => {
    const { studio } = studioWith(slowDenoiser());
    await studio.load({ modelUrl: '/m/' });
    expect(await rejection(studio.generate({ seed: 1, steps: 1, attributes: { pathology: 'malignant' } }, () => undefined))).toMatchObject({
      kind: 'input',
      message: 'Model fake takes no attributes; pathology=malignant cannot be asked for.',
    });
    const r = await studio.generate({ seed: 1, steps: 1, attributes: { pathology: 'any' } }, () => undefined);
    expect(r.attributes).toBeUndefined();
    expect(await rejection(studio.decode(new Float32Array(16)))).toMatchObject({
      kind: 'input',
      message: 'Model fake is not a latent model: its steps need no decoding.',
    });
  });
});
