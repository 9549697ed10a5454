// The store tests' stand-ins: a fake model, a fake worker whose steps are released one at a time,
// and a store over them.
import type { PixelImage } from '../../core/condition';
import type { BatchRequest, GenerateRequest, GenerateResult, ModelInfo, StepFrame, StudioError } from '../../worker/api';
import { parseUrlOptions } from '../config';
import { createStudioStore, type WorkerConnection } from './store';

export const H = 2;
export const W = 2;
export const info: ModelInfo = {
  name: 'fake',
  resolution: [H, W],
  defaultSteps: 3,
  defaultClip: 'none',
  backend: 'wasm',
  backendNote: null,
  card: {},
  binarize: { kernel: 5, weights: [0.75, 0.25] },
  dataset: { name: 'fake', resolution: [H, W], modality: 'ultrasound', files: { mask: { file: 'mask.onnx', sha256: 'ab'.repeat(32) } } },
  documents: [],
  attributes: [],
  defaultGuidance: 1,
  latent: null,
};

/** A latent stand-in: tiny-latent's attributes, frames with ẑ₀ (C = 1 on a 1×1 grid). */
export const latentInfo: ModelInfo = {
  ...info,
  name: 'fake-latent',
  attributes: [
    { name: 'pathology', values: ['benign', 'malignant'] },
    { name: 'birads', values: ['2', '3', '4', '5'] },
  ],
  defaultGuidance: 1.5,
  latent: { grid: [1, 1], factor: 2, channels: 1 },
};

function frame(index: number, total: number, latent: boolean): StepFrame {
  return {
    ...(latent ? { z0: new Float32Array(1).fill(index) } : {}),
    index,
    total,
    t: 1024 - ((index + 1) * 1024) / total,
    tPrev: index === total - 1 ? -1 : 1024 - ((index + 2) * 1024) / total,
    x0: new Float32Array(H * W).fill(index),
    y0: new Float32Array(H * W).fill(-index),
    elapsedMs: (index + 1) * 10,
  };
}

export class Cancelled extends Error {}

/** The fake's pair for a seed: the same every time; odd seeds have an empty mask. */
function pairFor(seed: number, steps: number, mode: GenerateResult['mode'], clip: GenerateResult['clip'] = 'none'): GenerateResult {
  return {
    mode,
    seed,
    steps,
    eta: 0,
    clip,
    width: W,
    height: H,
    mask: Uint8Array.from({ length: H * W }, (_, i) => (seed % 2 === 0 && i === 0 ? 1 : 0)),
    image: new Float32Array(H * W).fill(seed / 100),
    backend: 'wasm',
    totalMs: steps * 10,
    msPerStep: 10,
    phases: { modelMs: steps * 9, readMs: 0, framesMs: steps * 0.5, otherMs: steps * 0.5 },
  };
}

/** A worker stand-in: emits one frame per step on demand, can be cancelled. */
function fakeBackend(model: ModelInfo) {
  let cancelled = false;
  const decodeCalls: number[] = [];
  let release: (() => void) | null = null;
  const calls: GenerateRequest[] = [];
  const batchCalls: BatchRequest[] = [];
  const worker: WorkerConnection = {
    load: async () => model,
    async generate(req, onFrame) {
      calls.push(req);
      cancelled = false;
      for (let i = 0; i < req.steps; i++) {
        await new Promise<void>((r) => (release = r));
        if (cancelled) throw new Cancelled('cancelled');
        onFrame(frame(i, req.steps, model.latent !== null));
      }
      const result = pairFor(req.seed, req.steps, req.mode?.kind ?? 'pair', req.clip);
      return req.attributes ? { ...result, attributes: req.attributes, guidance: req.guidance } : result;
    },
    async generateBatch(req, onPair, onProgress) {
      batchCalls.push(req);
      cancelled = false;
      for (let index = 0; index < req.count; index++) {
        const seed = req.startSeed + index;
        for (let step = 0; step < req.steps; step++) {
          await new Promise<void>((r) => (release = r));
          if (cancelled) return { done: index, count: req.count, cancelled: true, totalMs: 1 };
          onProgress({ index, count: req.count, seed, step: step + 1, steps: req.steps, elapsedMs: 10 * (index * req.steps + step + 1) });
        }
        const pair = pairFor(seed, req.steps, req.mode?.kind ?? 'pair', req.clip);
        onPair({ ...pair, ...(req.attributes ? { attributes: req.attributes, guidance: req.guidance } : {}), index });
      }
      return { done: req.count, count: req.count, cancelled: false, totalMs: 10 * req.count * req.steps };
    },
    /** The step's ẑ₀ (its index) + 0.5 everywhere, as the image at [H, W]. */
    async decode(z0) {
      decodeCalls.push(z0[0]);
      await new Promise((r) => setTimeout(r, 0));
      return new Float32Array(H * W).fill(z0[0] + 0.5);
    },
    cancel() {
      cancelled = true;
      release?.();
    },
    toError(e): StudioError {
      return e instanceof Cancelled ? { kind: 'cancelled', message: 'cancelled' } : { kind: 'internal', message: String(e) };
    },
  };
  const step = async () => {
    release?.();
    await new Promise((r) => setTimeout(r, 0));
  };
  return { worker, step, calls, batchCalls, decodeCalls };
}

export function setup(search = '?seed=5', decodeImage?: (file: Blob) => Promise<PixelImage>, model: ModelInfo = info) {
  const fake = fakeBackend(model);
  const store = createStudioStore({ worker: fake.worker, options: parseUrlOptions(search), scheduleFlush: (f) => f(), decodeImage });
  return { ...fake, store };
}
