// The studio's worker-side logic, independent of comlink and of ORT so it can be unit-tested in
// Node: one loaded pair, one generation at a time, cancel within a step, frames handed over. A lost
// GPU device is handled in device-loss.ts.

import { AttributeRequestError, type Conditioning, conditioning, fullRequest, guidanceInRange } from '../core/attributes';
import type { ModelDocument } from '../core/dataset/about';
import { datasetModel } from '../core/dataset/nnunet';
import { CLIP_MODES, type ClipMode } from '../core/ddim';
import { errorMessage } from '../core/errors';
import { NonFiniteError } from '../core/finite';
import { clampImage, type LatentRun, upsampleBilinear } from '../core/latent';
import { ETA_RANGE, etaInRange, GUIDANCE_RANGE, MAX_SEED, seedInRange, seedsPastMax } from '../core/limits';
import { ANY_VALUE, attributesOf, chainGrid, type Manifest, samplerClip, samplerGuidance } from '../core/manifest';
import { CancelledError, type SamplerMode, type SamplerResult, type SamplerStep, type StepExecutorFactory, sampleSteps } from '../core/sampler';
import type { Schedule } from '../core/schedule';
import { timedExecutors } from '../core/step-timing';
import { EngineError } from '../engine/errors';
import {
  type Backend,
  type BatchPair,
  type BatchProgress,
  type BatchRequest,
  type BatchSummary,
  type GenerateMode,
  type GenerateRequest,
  type GenerateResult,
  type LoadProgress,
  type LoadRequest,
  MAX_BATCH_SIZE,
  type ModelInfo,
  type ModelSourceInfo,
  type RunConditioning,
  type StepFrame,
  type StudioError,
  type StudioWorkerApi,
} from './api';
import { DeviceLossWatch, DeviceLostError } from './device-loss';
import { isStudioError, studioError } from './errors';

export interface LoadedModel {
  manifest: Manifest;
  schedule: Schedule;
  /** Runs each step (engine: the step graphs on WebGPU, else core's CPU executor over the U-Nets). */
  executors: StepExecutorFactory;
  /** A latent model's latent and opened encoder/decoder (engine: OpenedPair.latent); absent or null: pixel space. */
  latent?: LatentRun | null;
  backend: Backend;
  backendNote: string | null;
  /** Where it came from and the cache's part (the browser loader says; others may not). */
  source?: ModelSourceInfo;
  /** The model folder's data license and model card (the browser loader reads them; others may not). */
  documents?: ModelDocument[];
  /** WebGPU: resolves with the reason when the GPU device is lost (a lost device never comes back). */
  lost?: Promise<string>;
  /** Opens the same model on WASM: what the studio runs on once the GPU device is lost. */
  reopenOnWasm?: () => Promise<LoadedModel>;
  release(): Promise<void>;
}

/** Opens what the request names; `signal` aborts a download in progress (the loader then rejects). */
export type PairLoader = (request: LoadRequest, onProgress?: (progress: LoadProgress) => void, signal?: AbortSignal) => Promise<LoadedModel>;

/** The request's problem in words, or null when it names exactly one source. */
function loadRequestProblem(request: LoadRequest | null | undefined): string | null {
  if (!request || typeof request !== 'object') return 'load() needs a request such as { modelUrl: "/models/tiny/" }.';
  const given = [
    typeof request.modelUrl === 'string' && request.modelUrl !== '',
    typeof request.files === 'object' && request.files !== null,
    typeof request.cachedModelId === 'string' && request.cachedModelId !== '',
  ].filter(Boolean).length;
  if (given === 1) return null;
  return given === 0
    ? 'load() needs a modelUrl such as "/models/tiny/", the model files, or a cachedModelId.'
    : 'load() takes one of modelUrl, files or cachedModelId, not several.';
}

/** Marks buffers for transfer (Comlink.transfer in the worker; identity in tests). */
export type TransferFn = <T>(value: T, transferables: Transferable[]) => T;

const loadCancelled = (): StudioError => studioError('cancelled', 'Opening the model was cancelled.');

/** A macrotask boundary, so that a cancel() message is handled between steps even when ORT
 * resolves its promises without ever leaving the microtask queue (WASM backend). */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => {
    const { port1, port2 } = new MessageChannel();
    port1.onmessage = () => {
      port1.close();
      resolve();
    };
    port2.postMessage(null);
  });
}

/** Any thrown value → the StudioError the app receives: always a plain object (an Error instance
 * would lose `kind` in comlink's serialisation). `manifest`: the running model's, to name its files. */
function asStudioError(e: unknown, manifest?: Manifest): StudioError {
  if (e instanceof CancelledError) return studioError('cancelled', 'Generation cancelled.');
  if (e instanceof NonFiniteError) {
    const file = manifest?.models[e.check.model]?.file;
    return studioError('model', file ? `${file}: ${e.message}` : e.message);
  }
  if (e instanceof EngineError) return studioError(e.kind, e.message);
  if (isStudioError(e)) return studioError(e.kind, e.message);
  if (e instanceof RangeError) return studioError('input', e.message);
  return studioError('internal', errorMessage(e));
}

/**
 * A request's mode → the sampler's, checked against the model's size: StudioError 'input' naming
 * what was expected and what came. The mask crosses as 0/1 bytes, the sampler takes ±1.
 */
function samplerModeFor(mode: GenerateMode | undefined, [height, width]: readonly [number, number]): SamplerMode {
  if (mode === undefined || mode.kind === 'pair') return { kind: 'pair' };
  if (mode.kind !== 'maskToImage' && mode.kind !== 'imageToMask') {
    throw studioError('input', `Unknown mode "${(mode as { kind: unknown }).kind}": expected pair, maskToImage or imageToMask.`);
  }
  const what = mode.kind === 'maskToImage' ? 'mask' : 'image';
  const values = mode.kind === 'maskToImage' ? mode.mask : mode.image;
  if (mode.width !== width || mode.height !== height) {
    throw studioError('input', `The ${what} is ${mode.width}×${mode.height}; the model needs ${width}×${height}.`);
  }
  if (!values || values.length !== width * height) {
    throw studioError('input', `The ${what} has ${values?.length ?? 0} values; the model's ${width}×${height} needs ${width * height}.`);
  }
  if (mode.kind === 'maskToImage') {
    const mask = new Float32Array(values.length);
    for (let i = 0; i < values.length; i++) {
      const v = mode.mask[i];
      if (v !== 0 && v !== 1) throw studioError('input', `The mask must be 0/1 per pixel; pixel ${i} is ${v}.`);
      mask[i] = v === 1 ? 1 : -1;
    }
    return { kind: 'maskToImage', mask };
  }
  const bad = mode.image.findIndex((v) => !(v >= -1 && v <= 1));
  if (bad >= 0) throw studioError('input', `The image must be in model units [−1, 1]; pixel ${bad} is ${mode.image[bad]}.`);
  return { kind: 'imageToMask', image: mode.image }; // the sampler copies it
}

/** What a run of a model with attributes is conditioned on, and what its result records. */
interface RunAttributes {
  conditioning: Conditioning;
  /** Every attribute's value or "any" (what a case record keeps). */
  attributes: Record<string, string>;
  guidance: number;
}

/**
 * A request's attributes and guidance checked against the model (StudioError 'input' naming what
 * is wrong); null for a model without attributes, which runs as it always did.
 */
function runAttributes(manifest: Manifest, request: RunConditioning): RunAttributes | null {
  const attributes = attributesOf(manifest);
  const asked = request.attributes ?? {};
  if (typeof asked !== 'object' || asked === null) throw studioError('input', 'attributes must be an object such as { pathology: "malignant" }.');
  if (attributes.length === 0) {
    const named = Object.entries(asked).filter(([, v]) => v !== ANY_VALUE);
    if (named.length > 0)
      throw studioError('input', `Model ${manifest.name} takes no attributes; ${named.map(([k, v]) => `${k}=${v}`).join(', ')} cannot be asked for.`);
    return null;
  }
  const guidance = request.guidance ?? samplerGuidance(manifest);
  if (!guidanceInRange(guidance)) throw studioError('input', `Guidance w must be ${GUIDANCE_RANGE}, got ${guidance}.`);
  try {
    return { conditioning: conditioning(attributes, asked, guidance), attributes: fullRequest(attributes, asked), guidance };
  } catch (e) {
    if (e instanceof AttributeRequestError) throw studioError('input', `${e.message}.`);
    throw e;
  }
}

/** A latent model's frame as the viewer draws it: x̂₀ and the preview upsampled from the grid to [H, W] (the user's own mask or image where it is one), with ẑ₀ for decode(). */
function latentFrame(step: SamplerStep, latent: LatentRun, mode: SamplerMode): { x0: Float32Array; y0: Float32Array; z0?: Float32Array } | null {
  if (!step.x0 || !step.y0) return null;
  const [h, w] = latent.spec.grid;
  const [H, W] = latent.resolution;
  const x0 = mode.kind === 'maskToImage' ? mode.mask.slice() : upsampleBilinear(step.x0, h, w, H, W);
  if (mode.kind === 'imageToMask') return { x0, y0: mode.image.slice() };
  return { x0, y0: upsampleBilinear(step.y0, h, w, H, W), ...(step.z0 ? { z0: step.z0 } : {}) };
}

/** What the app is told about a loaded model. */
function modelInfo(model: LoadedModel): ModelInfo {
  const m = model.manifest;
  return {
    name: m.name,
    resolution: [m.resolution[0], m.resolution[1]],
    defaultSteps: m.sampler.steps,
    defaultClip: samplerClip(m),
    backend: model.backend,
    backendNote: model.backendNote,
    card: m.card,
    binarize: { kernel: m.sampler.binarize.kernel, weights: [m.sampler.binarize.weights[0], m.sampler.binarize.weights[1]] },
    dataset: datasetModel(m),
    documents: model.documents ?? [],
    attributes: attributesOf(m).map((a) => ({ name: a.name, values: [...a.values] })),
    defaultGuidance: samplerGuidance(m),
    latent: model.latent
      ? { grid: [model.latent.spec.grid[0], model.latent.spec.grid[1]], factor: model.latent.spec.factor, channels: model.latent.spec.channels }
      : null,
    ...(model.source ? { source: model.source } : {}),
  };
}

export class Studio implements StudioWorkerApi {
  private model: LoadedModel | null = null;
  /** The load in progress, if any: cancel() aborts its download. */
  private loading: AbortController | null = null;
  private running: { aborted: boolean } | null = null;
  /** A lost GPU device: ends the run, reopens the model on WASM, tells the user. */
  private readonly device = new DeviceLossWatch<LoadedModel>({
    current: () => this.model,
    replace: (model) => {
      this.model = model;
    },
    stopRun: () => {
      if (this.running) this.running.aborted = true;
    },
    describe: modelInfo,
  });

  constructor(
    private readonly loader: PairLoader,
    private readonly transfer: TransferFn = (v) => v,
  ) {}

  async load(request: LoadRequest, onProgress?: (progress: LoadProgress) => void): Promise<ModelInfo> {
    if (this.running) throw studioError('busy', 'A generation is running: cancel it before loading another model.');
    if (this.loading) throw studioError('busy', 'A model is already loading.');
    const problem = loadRequestProblem(request);
    if (problem) throw studioError('input', problem);
    const abort = new AbortController();
    this.loading = abort;
    // Progress is a preview like the frames: a failing UI callback must not fail the load.
    const progress =
      onProgress &&
      ((p: LoadProgress) =>
        void Promise.resolve()
          .then(() => onProgress(p))
          .catch(() => undefined));
    try {
      // On failure or cancel this.model is untouched: the previous model keeps working.
      const next = await this.loader(request, progress, abort.signal);
      if (abort.signal.aborted) {
        // cancelled after the download, while the sessions opened: the user asked for the old model
        await next.release().catch(() => undefined);
        throw loadCancelled();
      }
      const previous = this.model;
      this.model = next;
      this.device.watch(next);
      await previous?.release().catch(() => undefined);
      return modelInfo(next);
    } catch (e) {
      throw abort.signal.aborted ? loadCancelled() : asStudioError(e);
    } finally {
      this.loading = null;
    }
  }

  /** A run's failure as the user should see it: a lost device says so (device-loss.ts). */
  private async runError(e: unknown, model: LoadedModel): Promise<StudioError> {
    return (await this.device.runError(e, model)) ?? asStudioError(e, model.manifest);
  }

  async generate(request: GenerateRequest, onFrame: (frame: StepFrame) => void): Promise<GenerateResult> {
    await this.device.afterRecovery();
    const { model, mode, eta, clip, attributes } = this.checkRun(request, [request.seed]);
    const previews = request.previews !== false;
    const latent = model.latent ?? null;
    const signal = { aborted: false };
    this.running = signal;
    const started = performance.now();
    try {
      const result = await this.sampleOne(model, { mode, seed: request.seed, steps: request.steps, eta, clip, attributes }, signal, previews, (f) => {
        const shown = latent ? latentFrame(f, latent, mode) : f.x0 && f.y0 ? { x0: f.x0, y0: f.y0 } : null;
        if (!shown) return;
        const { x0, y0, z0 } = shown;
        const frame: StepFrame = {
          index: f.index,
          total: f.total,
          t: f.t,
          tPrev: f.tPrev,
          x0,
          y0,
          ...(z0 ? { z0 } : {}),
          elapsedMs: performance.now() - started,
        };
        // Not awaited: frames are posted in order and the result message follows them; a failing
        // UI callback must not stop the run.
        void Promise.resolve()
          .then(() => onFrame(this.transfer(frame, z0 ? [x0.buffer, y0.buffer, z0.buffer] : [x0.buffer, y0.buffer])))
          .catch(() => undefined);
      });
      return this.transfer(result, [result.mask.buffer, result.image.buffer]);
    } catch (e) {
      throw await this.runError(e, model);
    } finally {
      this.running = null;
    }
  }

  async generateBatch(
    request: BatchRequest,
    onPair: (pair: BatchPair) => void | Promise<void>,
    onProgress?: (progress: BatchProgress) => void,
  ): Promise<BatchSummary> {
    const { startSeed, count } = request;
    if (!Number.isInteger(count) || count < 1 || count > MAX_BATCH_SIZE)
      throw studioError('input', `Batch size must be a whole number from 1 to ${MAX_BATCH_SIZE}, got ${count}.`);
    const pastMax = Number.isInteger(startSeed) ? seedsPastMax(startSeed, count) : null;
    if (pastMax) throw studioError('input', pastMax);
    await this.device.afterRecovery();
    const { model, mode, eta, clip, attributes } = this.checkRun(request, [startSeed]);
    const signal = { aborted: false };
    this.running = signal;
    const started = performance.now();
    let done = 0;
    try {
      for (let index = 0; index < count && !signal.aborted; index++) {
        const seed = startSeed + index;
        const progress = (step: number) => {
          if (!onProgress) return;
          const p: BatchProgress = { index, count, seed, step, steps: request.steps, elapsedMs: performance.now() - started };
          void Promise.resolve()
            .then(() => onProgress(p))
            .catch(() => undefined);
        };
        progress(0);
        let result: GenerateResult;
        try {
          result = await this.sampleOne(model, { mode, seed, steps: request.steps, eta, clip, attributes }, signal, false, (f) => progress(f.index + 1));
        } catch (e) {
          // the pair in hand is dropped, the finished ones stay (a lost device aborts too: not a cancel)
          if (e instanceof CancelledError && !this.device.lossPending) break;
          throw e;
        }
        const pair: BatchPair = { ...result, index };
        // Awaited: the pair is the product; if the app cannot take it, the batch stops with that error.
        await onPair(this.transfer(pair, [pair.mask.buffer, pair.image.buffer]));
        done++;
      }
      // stopped by a lost device, not by the user: say so
      if (signal.aborted && this.device.lossPending) throw new DeviceLostError('during the batch');
      return { done, count, cancelled: done < count, totalMs: performance.now() - started };
    } catch (e) {
      throw await this.runError(e, model);
    } finally {
      this.running = null;
    }
  }

  /** The checks every run makes: the model, no other run, the seeds, steps, η, clip, mode, attributes and guidance. */
  private checkRun(
    request: Pick<GenerateRequest, 'steps' | 'eta' | 'clip' | 'mode' | 'attributes' | 'guidance'>,
    seeds: number[],
  ): { model: LoadedModel; mode: SamplerMode; eta: number; clip: ClipMode; attributes: RunAttributes | null } {
    if (this.running) throw studioError('busy', 'A generation is already running: wait for it or cancel it.');
    if (this.loading) throw studioError('busy', 'The model is still loading.');
    const model = this.model;
    if (!model) throw studioError('input', 'No model is loaded yet.');
    const { manifest, schedule } = model;
    const T = schedule.T;
    const { steps } = request;
    for (const seed of seeds) {
      if (!seedInRange(seed)) throw studioError('input', `Seed must be a whole number from 0 to ${MAX_SEED}, got ${seed}.`);
    }
    if (!Number.isInteger(steps) || steps < 1 || steps > T) throw studioError('input', `Steps must be a whole number from 1 to ${T}, got ${steps}.`);
    const eta = request.eta ?? manifest.sampler.eta;
    if (!etaInRange(eta)) throw studioError('input', `η must be ${ETA_RANGE}, got ${eta}.`);
    const clip = request.clip ?? samplerClip(manifest);
    if (!CLIP_MODES.includes(clip)) throw studioError('input', `clip must be ${CLIP_MODES.join(', ')}, got ${JSON.stringify(clip)}.`);
    const attributes = runAttributes(manifest, request);
    return { model, mode: samplerModeFor(request.mode, manifest.resolution), eta, clip, attributes };
  }

  /** One pair through the sampler, onStep after every step (with x̂₀, ŷ₀ when `previews`). */
  private async sampleOne(
    model: LoadedModel,
    run: { mode: SamplerMode; seed: number; steps: number; eta: number; clip: ClipMode; attributes: RunAttributes | null },
    signal: { aborted: boolean },
    previews: boolean,
    onStep: (step: SamplerStep) => void,
  ): Promise<GenerateResult> {
    const { manifest, schedule } = model;
    // the chains run on a latent model's grid; the user's inputs and the final pair are at its resolution
    const [height, width] = manifest.resolution;
    const [gridH, gridW] = chainGrid(manifest);
    const started = performance.now();
    const timings = { modelMs: 0, readMs: 0 };
    let framesMs = 0;
    // Only x̂₀ and ŷ₀ are previews; without previews nothing but the final pair is read back.
    const it = sampleSteps({
      executor: timedExecutors(model.executors, timings),
      schedule,
      height: gridH,
      width: gridW,
      latent: model.latent ?? null,
      ...(run.attributes ? { conditioning: run.attributes.conditioning } : {}),
      steps: run.steps,
      seed: run.seed,
      eta: run.eta,
      clip: run.clip,
      binarize: { kernel: manifest.sampler.binarize.kernel, weights: manifest.sampler.binarize.weights },
      previews: previews ? ['x0', 'y0'] : false,
      mode: run.mode,
      signal,
    });
    // A lost GPU device may leave a model call waiting forever: stop waiting on it.
    let lost = false;
    try {
      for (;;) {
        let r: IteratorResult<SamplerStep, SamplerResult>;
        try {
          r = model.lost ? await this.device.unlessLost(() => it.next()) : await it.next();
        } catch (e) {
          lost = e instanceof DeviceLostError;
          throw e;
        }
        if (r.done) {
          const { mask, image, steps: done } = r.value;
          const totalMs = performance.now() - started;
          const mask01 = Uint8Array.from(mask, (v) => (v > 0 ? 1 : 0));
          return {
            mode: run.mode.kind,
            seed: run.seed,
            steps: done,
            eta: run.eta,
            clip: run.clip,
            width,
            height,
            mask: mask01,
            image,
            backend: model.backend,
            totalMs,
            msPerStep: totalMs / done,
            phases: { ...timings, framesMs, otherMs: Math.max(0, totalMs - timings.modelMs - timings.readMs - framesMs) },
            ...(run.attributes ? { attributes: { ...run.attributes.attributes }, guidance: run.attributes.guidance } : {}),
          };
        }
        const handing = performance.now();
        onStep(r.value);
        await yieldToEventLoop();
        framesMs += performance.now() - handing;
      }
    } finally {
      // ends the loop if it is still suspended, so the executor releases its tensors (after a lost
      // device the loop may never come back: do not wait for it)
      const ended = it.return(undefined as never).catch(() => undefined);
      if (!lost) await ended;
    }
  }

  async decode(z0: Float32Array): Promise<Float32Array> {
    const model = this.model;
    if (!model) throw studioError('input', 'No model is loaded yet.');
    const latent = model.latent ?? null;
    if (!latent) throw studioError('input', `Model ${model.manifest.name} is not a latent model: its steps need no decoding.`);
    const { channels, grid } = latent.spec;
    const n = channels * grid[0] * grid[1];
    if (!(z0 instanceof Float32Array) || z0.length !== n)
      throw studioError('input', `ẑ₀ has ${z0?.length ?? 0} values; ${model.manifest.name}'s latent ${channels}×${grid.join('×')} needs ${n}.`);
    try {
      const image = clampImage(await latent.codec.decode(z0));
      return this.transfer(image, [image.buffer]);
    } catch (e) {
      throw await this.runError(e, model);
    }
  }

  cancel(): void {
    if (this.running) this.running.aborted = true;
    this.loading?.abort();
  }
}
