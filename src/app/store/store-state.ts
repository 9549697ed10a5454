// The studio store's shape: the state and actions of each slice (store-model, store-run,
// store-batch, store-editor), combined into StudioState, and what the slices share. Types only,
// so that the slices and store.ts import it without importing each other.
import type { StateCreator } from 'zustand';
import type { PixelImage } from '../../core/condition';
import type { ImageFormat } from '../../core/dataset/nnunet';
import type { ClipMode } from '../../core/ddim';
import type {
  BatchPair,
  BatchProgress,
  BatchRequest,
  BatchSummary,
  GenerateRequest,
  GenerateResult,
  LoadProgress,
  LoadRequest,
  ModeKind,
  ModelInfo,
  StepFrame,
  StudioError,
} from '../../worker/api';
import type { UrlOptions } from '../config';
import type { ReaderTestStorage } from '../reader-test/storage';
import type { ReaderTestSlice } from '../reader-test/types';

/** What the store needs from the worker (the comlink remote, adapted; a fake in unit tests). */
export interface WorkerConnection {
  load(request: LoadRequest, onProgress?: (progress: LoadProgress) => void): Promise<ModelInfo>;
  generate(request: GenerateRequest, onFrame: (frame: StepFrame) => void): Promise<GenerateResult>;
  generateBatch(request: BatchRequest, onPair: (pair: BatchPair) => void, onProgress: (progress: BatchProgress) => void): Promise<BatchSummary>;
  /** A latent model's image of a step: the decoder on the frame's ẑ₀. */
  decode(z0: Float32Array): Promise<Float32Array>;
  cancel(): Promise<void> | void;
  /** Turns whatever a call rejected with into a StudioError with a readable message. */
  toError(error: unknown): StudioError;
}

export interface StoreDeps {
  worker: WorkerConnection;
  options: UrlOptions;
  /** Schedules a flush of streamed frames (default: next animation frame). */
  scheduleFlush?: (flush: () => void) => void;
  /** Decodes an uploaded file (the app: the browser's decoders, app/editor/decode.ts); `note`: how it was read (an animation's first frame …). */
  decodeImage?: (file: Blob) => Promise<PixelImage & { note?: string | null }>;
  /** Where an unfinished reader test is kept (default: the browser's IndexedDB, none in Node). */
  readerTestStorage?: ReaderTestStorage | null;
}

export type Phase = 'loading' | 'ready' | 'running' | 'cancelling' | 'failed';

/** State every slice reads or sets: where the studio is, and what the user is told. */
export interface StatusSlice {
  options: UrlOptions;
  phase: Phase;
  /** A failure the user must see (role="alert"). */
  error: string | null;
  /** A quiet note, e.g. "Cancelled at step 3 of 64". */
  notice: string | null;
  /** Shows a failure from outside the store's own actions (e.g. a download). */
  showError(message: string): void;
  dismissError(): void;
}

/** Which model to open: a bundled folder URL, the user's files, or a cached custom model. */
export type ModelRequest = Omit<LoadRequest, 'backend'>;

export interface ModelSlice {
  model: ModelInfo | null;
  /** Reading the model files while a model loads (null before the first report and when done). */
  loadProgress: LoadProgress | null;
  load(): Promise<void>;
  /**
   * Opens another model; `label` names it in messages ("the files you chose"). When it fails the
   * current model stays loaded and usable. Resolves to whether it opened.
   */
  openModel(request: ModelRequest, label: string): Promise<boolean>;
  /**
   * The worker died and a new one was started (app/worker-supervisor.ts): reopens the model that
   * was open (the run that was going has already ended with an error; its frames and the batch's
   * finished pairs stay) and tells the user.
   */
  workerRestarted(reason: string): Promise<void>;
}

export interface RunSlice {
  /** The inputs as typed (validated on Generate). */
  seedText: string;
  stepsText: string;
  /** The sampler option clip for the next run; null until a model gives its default (or the URL one). */
  clip: ClipMode | null;
  /** The trajectory of the current (or last) run, one frame per step, in step order. */
  frames: StepFrame[];
  /** Steps of the current run (known before the first frame arrives). */
  runSteps: number;
  runSeed: number | null;
  /** Index of the frame the views show; null follows the newest frame. */
  cursor: number | null;
  playing: boolean;
  result: GenerateResult | null;
  /** Display the image contrast-stretched (the reference code's view) instead of raw. */
  stretch: boolean;
  /** A model with attributes: the value asked for per attribute (an attribute left out is "any"). */
  attributes: Record<string, string>;
  /** Classifier-free guidance w as typed ('' until a model gives its default). */
  guidanceText: string;
  /** A latent model's decoded images of the run's steps (index → image at [H, W]): the cache of decode on demand. */
  decoded: Record<number, Float32Array>;
  /** The step being decoded now, or null. */
  decoding: number | null;
  generate(): Promise<void>;
  /** Cancels the running generation or batch (a batch keeps its finished pairs), or the model download in progress. */
  cancel(): void;
  setSeedText(text: string): void;
  setStepsText(text: string): void;
  setClip(clip: ClipMode): void;
  /** Asks for a value of an attribute ("any": none). */
  setAttribute(name: string, value: string): void;
  setGuidanceText(text: string): void;
  randomizeSeed(): void;
  setCursor(index: number): void;
  /** Advances playback one frame; stops at the end. */
  tick(): void;
  togglePlay(): void;
  setStretch(on: boolean): void;
}

/** The batch: its inputs, its finished pairs (the gallery) and, while it runs, where it is. */
export interface BatchState {
  startText: string;
  sizeText: string;
  /** Leave pairs with an empty mask out of the dataset export. */
  rejectEmpty: boolean;
  format: ImageFormat;
  /** The ZIP's top folder DatasetNNN_Name: the id as typed, and the name (empty: the model's). */
  datasetIdText: string;
  datasetNameText: string;
  /** The finished pairs, in the order they came (seed order). Only final pairs: see openBatchPair. */
  pairs: BatchPair[];
  /** What the pairs were made with (its mode's condition kept once, for re-runs); null before a batch. */
  request: BatchRequest | null;
  /** Where the running batch is; null when none runs. */
  progress: BatchProgress | null;
  /** How the last batch ended, e.g. "Cancelled after 2 of 4 pairs; the 2 finished pairs are kept." */
  note: string | null;
  /** The gallery pair shown in the viewer, and whether its re-run gave the batch's pair. */
  opened: { index: number; identical: boolean | null; text: string } | null;
}

export interface BatchSlice {
  batch: BatchState;
  /** Runs the batch the batch inputs, Steps and Mode ask for; the gallery starts afresh. */
  generateBatch(): Promise<void>;
  /** Shows a gallery pair in the viewer with its whole run (its seed run again) and checks it is the batch's pair. */
  openBatchPair(index: number): Promise<void>;
  setBatch(patch: Partial<Pick<BatchState, 'startText' | 'sizeText' | 'rejectEmpty' | 'format' | 'datasetIdText' | 'datasetNameText'>>): void;
}

/** A mask as the editor holds it: 0/1 at the model's size, and what was done to make it (uploads). */
export interface EditedMask {
  mask: Uint8Array;
  note: string | null;
}

/** Image → mask's input at the model's size: model units, and the 8-bit gray it was scaled from. */
export interface ConditionImage {
  image: Float32Array;
  gray: Uint8Array;
  note: string;
}

export interface EditorSlice {
  /** What Generate starts from (METHOD.md, "Three ways to use one trained pair"). */
  mode: ModeKind;
  /** Mask → image: the mask in the editor (null until the model's size is known). */
  mask: EditedMask | null;
  /** Earlier masks, newest last. */
  maskUndo: EditedMask[];
  /** Image → mask: the uploaded image. */
  conditionImage: ConditionImage | null;
  setMode(mode: ModeKind): void;
  /** A finished stroke or an upload: the new mask; the one before goes onto the undo stack. */
  commitMask(mask: Uint8Array, note?: string | null): void;
  undoMask(): void;
  clearMask(): void;
  /** Decodes a user's file into the mask or the image condition; an unusable file → an error naming it. */
  uploadCondition(kind: 'mask' | 'image', file: Blob & { name: string }): Promise<void>;
}

/** The studio's state and actions, as components see them. */
export interface StudioState extends StatusSlice, ModelSlice, RunSlice, BatchSlice, EditorSlice, ReaderTestSlice {}

/** What the slices call on one another (through get()); components do not see them. */
export interface SliceCalls {
  /** One run streamed into the viewer (Generate, or a gallery pair); its result, or null when it did not finish. */
  runInViewer(request: GenerateRequest): Promise<GenerateResult | null>;
  /** Cancels the model download in progress, if one is; whether one was. */
  cancelDownload(): boolean;
}

export type StoreState = StudioState & SliceCalls;

/** What every slice of one store shares. */
export interface StoreSession {
  worker: WorkerConnection;
  options: UrlOptions;
  scheduleFlush: (flush: () => void) => void;
  decodeImage?: StoreDeps['decodeImage'];
  /** Starts a run (or just drops the ones going): answers for older runs are ignored. Its id. */
  newRun(): number;
  isCurrentRun(id: number): boolean;
}

/** A slice of the store: its part of the state, over the whole of it. */
export type Slice<T> = (session: StoreSession) => StateCreator<StoreState, [], [], T>;
