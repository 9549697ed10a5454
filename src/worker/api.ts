// The typed boundary between the UI thread and the studio worker (comlink).
// The worker module implements StudioWorkerApi; the app holds a Remote<StudioWorkerApi>.
// Pixel buffers cross as transferred ArrayBuffers (Comlink.transfer), never structured-clone copies.

import type { ModelDocument } from '../core/dataset/about';
import type { DatasetModel } from '../core/dataset/nnunet';
import type { ClipMode } from '../core/ddim';
import type { LoadProgress } from '../core/load-progress';
import type { Backend, LoadRequest, ModelSourceInfo } from '../engine/types';

// Defined where the engine or core needs them, part of this API all the same (the app imports them from here).
export type { LoadProgress } from '../core/load-progress';
export type { Backend, LoadRequest, ModelSourceInfo } from '../engine/types';

export interface ModelInfo {
  name: string;
  /** [H, W] */
  resolution: [number, number];
  /** Default number of DDIM steps from the manifest. */
  defaultSteps: number;
  /** The manifest's sampler.clip ('none' when it has none). */
  defaultClip: ClipMode;
  /** Backend the sessions actually run on. */
  backend: Backend;
  /**
   * A note shown next to the backend: why it differs from the preferred one (e.g. "no WebGPU
   * adapter"), or on WebGPU which step path runs ("GPU-resident steps", or the plain U-Nets); or null.
   */
  backendNote: string | null;
  /** The manifest's model card, as written by the kit. */
  card: Record<string, unknown>;
  /** Where the model came from and what the cache did (absent from loaders that do not say). */
  source?: ModelSourceInfo;
  /** The manifest's B(·) settings (recorded per case in a dataset export). */
  binarize: { kernel: number; weights: [number, number] };
  /** Name, resolution, modality and each file's SHA-256, as a dataset's manifest.json records them. */
  dataset: DatasetModel;
  /** The model folder's data license and model card where it has them; a dataset export carries them. */
  documents: ModelDocument[];
  /** What the model can be conditioned on (contracts.md §6b), in the manifest's order; empty: none. */
  attributes: AttributeInfo[];
  /** The manifest's classifier-free guidance w (1 for a model without attributes). */
  defaultGuidance: number;
  /** A latent model's grid [h, w] (where both chains run, f = H / h) and channels; null: pixel space. */
  latent: { grid: [number, number]; factor: number; channels: number } | null;
}

/** One attribute of a model: its name and values ("any" is not one of them: it is the absence of a value). */
export interface AttributeInfo {
  name: string;
  values: string[];
}

/** What a run asks of a model with attributes: its value or "any" per attribute (missing: any), and w. */
export interface RunConditioning {
  attributes?: Record<string, string>;
  /** Classifier-free guidance w, 0 … 20; default the manifest's. */
  guidance?: number;
}

/**
 * What a generation starts from (METHOD.md, "Three ways to use one trained pair"). Sizes are the
 * model's resolution; src/core/condition.ts turns a user's file into either input.
 */
export type GenerateMode =
  /** Both models, nothing given: a new mask and its image. */
  | { kind: 'pair' }
  /** The user's mask, 0/1 per pixel (1 = lesion), is the image model's condition at every step; only it runs. */
  | { kind: 'maskToImage'; width: number; height: number; mask: Uint8Array }
  /** The user's image in model units [−1, 1] conditions the mask model at every step; only it runs. */
  | { kind: 'imageToMask'; width: number; height: number; image: Float32Array };

export type ModeKind = GenerateMode['kind'];

export interface GenerateRequest extends RunConditioning {
  /** Default { kind: 'pair' }. */
  mode?: GenerateMode;
  seed: number; // integer in [0, 2^32 - 1]
  steps: number; // DDIM steps, 1..T
  eta?: number; // default: manifest's sampler.eta
  clip?: ClipMode; // default: manifest's sampler.clip
  /** Stream each step's (x̂₀, ŷ₀) to onFrame. false = run without previews (benchmarks). Default true. */
  previews?: boolean;
}

/**
 * One denoising step's preview; arrays are H·W row-major float32, in model units ([-1, 1] nominal).
 * In mask → image x0 is the user's mask (±1) at every step, in image → mask y0 the user's image.
 */
export interface StepFrame {
  index: number; // 0-based step index in this run
  total: number; // number of steps in this run
  t: number; // current timestep
  tPrev: number; // next timestep (-1 on the last step)
  x0: Float32Array; // x̂₀, the mask estimate
  y0: Float32Array; // ŷ₀, the image estimate; a latent model's: the linear preview of ẑ₀
  /**
   * A latent model's ẑ₀ (C·h·w at the grid; the encoded user image in image → mask): what decode()
   * turns into this step's image at [H, W]. x0 and y0 are then the grid's, upsampled to [H, W] for display.
   */
  z0?: Float32Array;
  elapsedMs: number; // since the run started
}

export interface GenerateResult {
  mode: ModeKind;
  seed: number;
  steps: number;
  eta: number;
  clip: ClipMode;
  width: number;
  height: number;
  /** Final mask B(x̂₀) of the last step, 0/1 per pixel (H·W); in mask → image the user's mask. */
  mask: Uint8Array;
  /** Final image ŷ₀ (H·W float32, model units); in image → mask the user's image; a latent model's: the decoder's. */
  image: Float32Array;
  /** A model with attributes: every attribute's value or "any", as the run asked, and its guidance w. */
  attributes?: Record<string, string>;
  guidance?: number;
  backend: Backend;
  totalMs: number;
  msPerStep: number;
  /** Where totalMs went (core/step-timing.ts): the model calls, reading estimates back, handing frames to the UI, the rest of the loop. */
  phases: RunPhases;
}

export { MAX_BATCH_SIZE } from '../core/limits';

/** N pairs from consecutive seeds, each run exactly as generate() would run it (without previews). */
export interface BatchRequest extends RunConditioning {
  /** Default { kind: 'pair' }; the same condition for every pair. */
  mode?: GenerateMode;
  /** The seeds are startSeed … startSeed + count − 1 (all within 0 … 2^32 − 1). */
  startSeed: number;
  /** 1 … MAX_BATCH_SIZE. */
  count: number;
  steps: number;
  eta?: number;
  clip?: ClipMode;
}

export interface RunPhases {
  modelMs: number;
  readMs: number;
  framesMs: number;
  otherMs: number;
}

/** A finished pair of a batch: its final result, and its place in the batch. */
export interface BatchPair extends GenerateResult {
  /** 0-based index in the batch (seed = startSeed + index). */
  index: number;
}

/** Where a batch is: pair `index` of `count` (0-based), `step` of its `steps` done. */
export interface BatchProgress {
  index: number;
  count: number;
  seed: number;
  step: number;
  steps: number;
  /** Since the batch started. */
  elapsedMs: number;
}

/** How a batch ended (a cancelled batch resolves too: its finished pairs are kept). */
export interface BatchSummary {
  done: number;
  count: number;
  cancelled: boolean;
  totalMs: number;
}

/** Errors cross the boundary as these, with a message a person can act on. */
export interface StudioError {
  kind: 'cancelled' | 'model' | 'backend' | 'busy' | 'input' | 'internal';
  message: string;
  /**
   * The model the worker holds now, when the failure changed it: after the GPU device was lost the
   * model is reopened on WASM, and this says so (backend, note) so the app can show it.
   */
  model?: ModelInfo;
}

export interface StudioWorkerApi {
  /** Loads a model; the previous one stays loaded when this fails. onProgress: reading the files. */
  load(request: LoadRequest, onProgress?: (progress: LoadProgress) => void): Promise<ModelInfo>;
  /** One generation at a time: a second call while one runs rejects with kind 'busy'. */
  generate(request: GenerateRequest, onFrame: (frame: StepFrame) => void): Promise<GenerateResult>;
  /**
   * Runs a batch, one pair after the other, handing each finished pair to onPair (awaited, so a
   * pair the app cannot take stops the batch); onProgress gets every step. It counts as the one
   * generation: generate() and a second batch are 'busy' meanwhile. cancel() stops it within a step
   * and it resolves with cancelled: true; the pairs handed over so far are the batch.
   */
  generateBatch(
    request: BatchRequest,
    onPair: (pair: BatchPair) => void | Promise<void>,
    onProgress?: (progress: BatchProgress) => void,
  ): Promise<BatchSummary>;
  /**
   * A latent model's image of a step: the decoder on its ẑ₀ (StepFrame.z0), clamped to [−1, 1], at
   * [H, W]. Runs beside a generation (the sessions queue); 'input' for a pixel-space model or a z0 of
   * the wrong size.
   */
  decode(z0: Float32Array): Promise<Float32Array>;
  /**
   * Stops the running generation or batch within one step (generate() rejects with kind
   * 'cancelled'), or the model load in progress: its download is aborted, load() rejects with kind
   * 'cancelled' and the previous model stays loaded.
   */
  cancel(): void;
}

/** What the page's comlink proxy reaches: the studio, and the worker's life lock (worker/client.ts). */
export interface StudioWorkerRemoteApi extends StudioWorkerApi {
  /** Resolves true once the worker holds its life lock (false: no Web Locks in this browser). */
  alive(): Promise<boolean>;
}

/** The Web Lock a studio worker named `workerName` holds while it lives. */
export function lifeLockName(workerName: string): string {
  return `pig-studio-worker-life:${workerName}`;
}
