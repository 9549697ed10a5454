// The studio's one zustand store: state and the actions that change it, together.
// Data flows one way: an action asks the worker, the worker streams frames back, the store appends
// them to the trajectory, the views draw the frame the timeline points at.
import { create, type StoreApi, type UseBoundStore } from 'zustand';
import { imageFromPixels, maskFromPixels, type PixelImage } from '../core/condition';
import { DEFAULT_DATASET_ID } from '../core/dataset/about';
import type { ImageFormat } from '../core/dataset/nnunet';
import type { ClipMode } from '../core/ddim';
import type {
  BatchPair,
  BatchProgress,
  BatchRequest,
  BatchSummary,
  GenerateMode,
  GenerateRequest,
  GenerateResult,
  LoadProgress,
  LoadRequest,
  ModeKind,
  ModelInfo,
  StepFrame,
  StudioError,
} from '../worker/api';
import { comparePairs, parseBatchInputs } from './batch';
import { lesionCount } from './brush';
import { MAX_SEED, MAX_STEPS, modelUrl, parseBoundedInteger, randomSeed, type UrlOptions } from './config';
import { formatDuration } from './format';

/** What the store needs from the worker (the comlink remote, adapted; a fake in unit tests). */
export interface StudioBackend {
  load(request: LoadRequest, onProgress?: (progress: LoadProgress) => void): Promise<ModelInfo>;
  generate(request: GenerateRequest, onFrame: (frame: StepFrame) => void): Promise<GenerateResult>;
  generateBatch(request: BatchRequest, onPair: (pair: BatchPair) => void, onProgress: (progress: BatchProgress) => void): Promise<BatchSummary>;
  cancel(): Promise<void> | void;
  /** Turns whatever a call rejected with into a StudioError with a readable message. */
  toError(error: unknown): StudioError;
}

export type Phase = 'loading' | 'ready' | 'running' | 'cancelling' | 'failed';

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

/** How many earlier masks Undo keeps. */
export const MASK_UNDO_LIMIT = 100;

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

export const DEFAULT_BATCH_SIZE = 16;

/** Which model to open: a bundled folder URL, the user's files, or a cached custom model. */
export type ModelRequest = Omit<LoadRequest, 'backend'>;

export interface StudioState {
  options: UrlOptions;
  phase: Phase;
  model: ModelInfo | null;
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
  /** A failure the user must see (role="alert"). */
  error: string | null;
  /** A quiet note, e.g. "Cancelled at step 3 of 64". */
  notice: string | null;
  /** Display the image contrast-stretched (the reference code's view) instead of raw. */
  stretch: boolean;
  /** What Generate starts from (METHOD.md, "Three ways to use one trained pair"). */
  mode: ModeKind;
  /** Mask → image: the mask in the editor (null until the model's size is known). */
  mask: EditedMask | null;
  /** Earlier masks, newest last. */
  maskUndo: EditedMask[];
  /** Image → mask: the uploaded image. */
  conditionImage: ConditionImage | null;
  /** Reading the model files while a model loads (null before the first report and when done). */
  loadProgress: LoadProgress | null;
  batch: BatchState;

  load(): Promise<void>;
  /**
   * Opens another model; `label` names it in messages ("the files you chose"). When it fails the
   * current model stays loaded and usable. Resolves to whether it opened.
   */
  openModel(request: ModelRequest, label: string): Promise<boolean>;
  generate(): Promise<void>;
  /** Cancels the running generation or batch (a batch keeps its finished pairs), or the model download in progress. */
  cancel(): void;
  /** Runs the batch the batch inputs, Steps and Mode ask for; the gallery starts afresh. */
  generateBatch(): Promise<void>;
  /** Shows a gallery pair in the viewer with its whole run (its seed run again) and checks it is the batch's pair. */
  openBatchPair(index: number): Promise<void>;
  setBatch(patch: Partial<Pick<BatchState, 'startText' | 'sizeText' | 'rejectEmpty' | 'format' | 'datasetIdText' | 'datasetNameText'>>): void;
  setSeedText(text: string): void;
  setStepsText(text: string): void;
  setClip(clip: ClipMode): void;
  randomizeSeed(): void;
  setCursor(index: number): void;
  /** Advances playback one frame; stops at the end. */
  tick(): void;
  togglePlay(): void;
  setStretch(on: boolean): void;
  setMode(mode: ModeKind): void;
  /** A finished stroke or an upload: the new mask; the one before goes onto the undo stack. */
  commitMask(mask: Uint8Array, note?: string | null): void;
  undoMask(): void;
  clearMask(): void;
  /** Decodes a user's file into the mask or the image condition; an unusable file → an error naming it. */
  uploadCondition(kind: 'mask' | 'image', file: Blob & { name: string }): Promise<void>;
  /**
   * The worker died and a new one was started (app/worker-supervisor.ts): reopens the model that
   * was open (the run that was going has already ended with an error; its frames and the batch's
   * finished pairs stay) and tells the user.
   */
  workerRestarted(reason: string): Promise<void>;
  /** Shows a failure from outside the store's own actions (e.g. a download). */
  showError(message: string): void;
  dismissError(): void;
}

export interface StoreDeps {
  backend: StudioBackend;
  options: UrlOptions;
  /** Schedules a flush of streamed frames (default: next animation frame). */
  scheduleFlush?: (flush: () => void) => void;
  /** Decodes an uploaded file (the app: the browser's decoders, app/decode.ts); `note`: how it was read (an animation's first frame …). */
  decodeImage?: (file: Blob) => Promise<PixelImage & { note?: string | null }>;
}

/** Next animation frame, with a timer as a fallback for hidden tabs, whichever comes first. */
export function animationFrameFlush(flush: () => void): void {
  let done = false;
  const once = () => {
    if (done) return;
    done = true;
    flush();
  };
  if (typeof requestAnimationFrame === 'function') requestAnimationFrame(once);
  setTimeout(once, 250);
}

/** Why Generate cannot start in the current mode (a missing or empty condition), or null. */
export function selectGenerateBlocker(s: Pick<StudioState, 'mode' | 'mask' | 'conditionImage'>): string | null {
  if (s.mode === 'maskToImage' && (s.mask === null || lesionCount(s.mask.mask) === 0)) {
    return 'Mask → image needs a mask: draw a lesion or upload a mask.';
  }
  if (s.mode === 'imageToMask' && s.conditionImage === null) return 'Image → mask needs an image: upload one.';
  return null;
}

/** The worker's mode for the current state (call only when selectGenerateBlocker is null). The
 * arrays cross to the worker as copies (structured clone), so the editor keeps its own. */
function requestMode(s: StudioState, [height, width]: [number, number]): GenerateMode {
  if (s.mode === 'maskToImage' && s.mask) return { kind: 'maskToImage', width, height, mask: s.mask.mask };
  if (s.mode === 'imageToMask' && s.conditionImage) return { kind: 'imageToMask', width, height, image: s.conditionImage.image };
  return { kind: 'pair' };
}

/** Steps, clip and mode of a run from the controls (what Generate and a batch share), or what is wrong. */
function runRequest(s: StudioState, model: ModelInfo): { steps: number; clip: ClipMode; mode?: GenerateMode } | string {
  const steps = parseBoundedInteger(s.stepsText, 1, MAX_STEPS);
  if (steps === null) return `Steps must be a whole number from 1 to ${MAX_STEPS}.`;
  const blocker = selectGenerateBlocker(s);
  if (blocker !== null) return blocker;
  const clip = s.clip ?? model.defaultClip;
  const mode = requestMode(s, model.resolution);
  return mode.kind === 'pair' ? { steps, clip } : { steps, clip, mode };
}

export type StudioStore = UseBoundStore<StoreApi<StudioState>>;

export function createStudioStore(deps: StoreDeps): StudioStore {
  const { backend, options } = deps;
  const scheduleFlush = deps.scheduleFlush ?? animationFrameFlush;
  // Each run gets an id so that frames or results of a finished/cancelled run are never mixed in.
  let runId = 0;
  // The model is loaded once per page (React's StrictMode runs mount effects twice in dev).
  let loading: Promise<void> | null = null;
  // One model load at a time (the worker refuses a second); phase alone cannot say, as the
  // store starts in 'loading' before the first load is asked for.
  let modelLoading = false;
  // What reopens the current model in a new worker: its request (a custom model from files: its
  // cache id, as the files went to the dead worker) and how to name it; null where it cannot.
  let current: { request: ModelRequest; label: string } | null = null;

  return create<StudioState>()((set, get) => {
    /** `reopening`: the same model in a new worker; the run and the batch on screen stay. */
    const openModel = async (request: ModelRequest, label: string, reopening = false): Promise<boolean> => {
      const { phase, model: previous } = get();
      if (!reopening && (phase === 'running' || phase === 'cancelling')) {
        set({ error: `Cancel the running generation before opening ${label}.` });
        return false;
      }
      if (modelLoading) {
        set({ error: `Cannot open ${label} now: a model is already loading.` });
        return false;
      }
      modelLoading = true;
      set({ phase: 'loading', error: null, loadProgress: null });
      try {
        const model = await backend.load({ ...request, backend: options.backend }, (progress) => {
          if (modelLoading) set({ loadProgress: progress });
        });
        current = request.files
          ? model.source?.cached
            ? { request: { cachedModelId: model.source.id }, label: `model ${model.name} (from the cache)` }
            : null
          : { request, label };
        if (reopening) {
          set({ phase: 'ready', model, loadProgress: null });
          return true;
        }
        const [height, width] = model.resolution;
        // The editor's mask and an uploaded image are at the model's size: kept for a model of the
        // same size, started afresh otherwise.
        const sameSize = previous !== null && previous.resolution[0] === height && previous.resolution[1] === width;
        set((s) => ({
          phase: 'ready',
          model,
          loadProgress: null,
          mask: sameSize && s.mask ? s.mask : { mask: new Uint8Array(height * width), note: null },
          maskUndo: sameSize ? s.maskUndo : [],
          conditionImage: sameSize ? s.conditionImage : null,
          // The first model keeps steps and clip preset by the URL; another model starts at its own
          // defaults and without the previous model's run (its size may differ).
          ...(previous === null
            ? { stepsText: s.stepsText === '' ? String(model.defaultSteps) : s.stepsText, clip: s.clip ?? model.defaultClip }
            : {
                stepsText: String(model.defaultSteps),
                clip: model.defaultClip,
                frames: [],
                result: null,
                cursor: null,
                playing: false,
                runSteps: 0,
                runSeed: null,
                notice: `Opened model ${model.name}.`,
                // the batch's pairs belong to the previous model (its export names that model's files)
                batch: { ...s.batch, pairs: [], request: null, note: null, opened: null },
              }),
        }));
        return true;
      } catch (e) {
        const err = backend.toError(e);
        if (err.kind === 'cancelled') {
          set(
            previous
              ? { phase: 'ready', loadProgress: null, notice: `Stopped opening ${label}; the studio still uses model ${previous.name}.` }
              : { phase: 'failed', loadProgress: null, error: `Stopped opening ${label}. Open a model from the model panel, or reload the page to download it again.` },
          );
          return false;
        }
        const still = previous ? ` — the studio still uses model ${previous.name}.` : '';
        set({ phase: previous ? 'ready' : 'failed', loadProgress: null, error: `Could not open ${label}: ${err.message}${still}` });
        return false;
      } finally {
        modelLoading = false;
      }
    };
    const setBatch = (patch: Partial<BatchState>) => set((s) => ({ batch: { ...s.batch, ...patch } }));

    /** One run streamed into the viewer (Generate, or a gallery pair); its result, or null when it did not finish. */
    const runInViewer = async (request: GenerateRequest): Promise<GenerateResult | null> => {
      const { seed, steps } = request;
      const id = ++runId;
      let pending: StepFrame[] = [];
      let flushScheduled = false;
      const flush = () => {
        flushScheduled = false;
        if (id !== runId || pending.length === 0) return;
        const batch = pending;
        pending = [];
        set((s) => ({ frames: s.frames.concat(batch) }));
      };
      const onFrame = (frame: StepFrame) => {
        if (id !== runId) return;
        pending.push(frame);
        if (!flushScheduled) {
          flushScheduled = true;
          scheduleFlush(flush);
        }
      };
      set({
        phase: 'running',
        frames: [],
        runSteps: steps,
        runSeed: seed,
        cursor: null,
        playing: false,
        result: null,
        error: null,
        notice: null,
      });
      try {
        const result = await backend.generate(request, onFrame);
        if (id !== runId) return null;
        flush();
        // Without previews nothing was streamed: show the final pair as the run's one frame.
        const frames = request.previews !== false ? get().frames : [finalFrame(result)];
        set({ phase: 'ready', result, frames, cursor: null });
        return result;
      } catch (e) {
        if (id !== runId) return null;
        flush();
        const err = backend.toError(e);
        if (err.kind === 'cancelled') {
          const done = get().frames.length;
          set({ phase: 'ready', notice: `Cancelled after ${done} of ${steps} steps.` });
        } else {
          // err.model: the worker holds another model now (e.g. reopened on WASM after a lost GPU device)
          set({ phase: 'ready', error: `Generation failed: ${err.message}`, ...(err.model ? { model: err.model } : {}) });
        }
        return null;
      }
    };

    const loadModel = async (): Promise<void> => {
      await openModel({ modelUrl: modelUrl(options.model) }, `model "${options.model}"`);
    };

    return {
      options,
      phase: 'loading',
      model: null,
      seedText: String(options.seed ?? randomSeed()),
      stepsText: options.steps !== null ? String(options.steps) : '',
      clip: options.clip,
      frames: [],
      runSteps: 0,
      runSeed: null,
      cursor: null,
      playing: false,
      result: null,
      error: null,
      notice: null,
      stretch: true,
      mode: options.mode,
      mask: null,
      maskUndo: [],
      conditionImage: null,
      loadProgress: null,
      batch: { startText: '0', sizeText: String(DEFAULT_BATCH_SIZE), rejectEmpty: false, format: 'png', datasetIdText: String(DEFAULT_DATASET_ID), datasetNameText: '', pairs: [], request: null, progress: null, note: null, opened: null },

      load() {
        loading ??= loadModel();
        return loading;
      },
      openModel,

      async generate() {
        const state = get();
        if (state.phase !== 'ready' || state.model === null) return;
        const seed = parseBoundedInteger(state.seedText, 0, MAX_SEED);
        if (seed === null) {
          set({ error: `Seed must be a whole number from 0 to ${MAX_SEED}.` });
          return;
        }
        const request = runRequest(state, state.model);
        if (typeof request === 'string') {
          set({ error: request });
          return;
        }
        await runInViewer({ ...request, seed, previews: options.previews });
      },

      async generateBatch() {
        const state = get();
        if (state.phase === 'running' || state.phase === 'cancelling') {
          set({ error: 'A generation is running: wait for it or cancel it before starting a batch.' });
          return;
        }
        if (state.phase !== 'ready' || state.model === null) {
          set({ error: 'The model is not loaded yet: a batch can start once it is.' });
          return;
        }
        const range = parseBatchInputs(state.batch.startText, state.batch.sizeText);
        if (typeof range === 'string') {
          set({ error: range });
          return;
        }
        const run = runRequest(state, state.model);
        if (typeof run === 'string') {
          set({ error: run });
          return;
        }
        const request: BatchRequest = { ...range, steps: run.steps, clip: run.clip, ...(run.mode ? { mode: run.mode } : {}) };
        const id = ++runId;
        // Progress comes every step; the store takes the newest once per animation frame.
        let latest: BatchProgress | null = null;
        let flushScheduled = false;
        const onProgress = (p: BatchProgress) => {
          if (id !== runId) return;
          latest = p;
          if (flushScheduled) return;
          flushScheduled = true;
          scheduleFlush(() => {
            flushScheduled = false;
            if (id === runId && latest && get().batch.progress !== null) setBatch({ progress: latest });
          });
        };
        const onPair = (pair: BatchPair) => {
          if (id === runId) set((s) => ({ batch: { ...s.batch, pairs: s.batch.pairs.concat(pair) } }));
        };
        set((s) => ({
          phase: 'running',
          error: null,
          batch: { ...s.batch, pairs: [], request, note: null, opened: null, progress: { index: 0, count: range.count, seed: range.startSeed, step: 0, steps: run.steps, elapsedMs: 0 } },
        }));
        try {
          const summary = await backend.generateBatch(request, onPair, onProgress);
          if (id !== runId) return;
          const per = summary.done > 0 ? ` (${formatDuration(summary.totalMs / summary.done)}/pair)` : '';
          const note = summary.cancelled
            ? `Cancelled after ${summary.done} of ${summary.count} pairs; the ${summary.done} finished pairs are kept.`
            : `Done: ${summary.done} pairs in ${formatDuration(summary.totalMs)}${per}.`;
          set((s) => ({ phase: 'ready', batch: { ...s.batch, progress: null, note } }));
        } catch (e) {
          if (id !== runId) return;
          const kept = get().batch.pairs.length;
          const err = backend.toError(e);
          set((s) => ({
            phase: 'ready',
            ...(err.model ? { model: err.model } : {}),
            error: `Batch failed: ${err.message} The ${kept} finished pairs are kept.`,
            batch: { ...s.batch, progress: null, note: `Stopped by an error after ${kept} of ${range.count} pairs.` },
          }));
        }
      },

      async openBatchPair(index) {
        const state = get();
        const { pairs, request } = state.batch;
        const pair = pairs[index];
        if (!pair || !request || state.model === null) return;
        if (state.phase !== 'ready') {
          set({ error: 'Wait for the running generation to finish (or cancel it) before opening a pair.' });
          return;
        }
        // The gallery keeps only each pair's final mask and image (~5 bytes a pixel) and runs the seed
        // again for its trajectory: a trajectory is steps × 2 × H·W float32 (256 steps at 128×128 is
        // 32 MiB a pair), which for a batch of hundreds would not fit. The same seed gives the same
        // pair, and the re-run is checked against the kept one.
        set((s) => ({
          seedText: String(pair.seed),
          stepsText: String(pair.steps),
          clip: pair.clip,
          mode: pair.mode,
          batch: { ...s.batch, opened: { index, identical: null, text: `Running seed ${pair.seed} again for its steps…` } },
        }));
        const result = await runInViewer({ seed: pair.seed, steps: pair.steps, eta: pair.eta, clip: pair.clip, previews: options.previews, ...(request.mode ? { mode: request.mode } : {}) });
        if (result === null) {
          setBatch({ opened: null });
          return;
        }
        const c = comparePairs(result, pair);
        const text = c.identical
          ? `Seed ${pair.seed}: the re-run is identical to the batch's pair.`
          : `Seed ${pair.seed}: the re-run differs from the batch's pair (${c.maskPixels} mask pixels, image max |Δ| ${c.maxImageDiff.toExponential(2)}).`;
        setBatch({ opened: { index, identical: c.identical, text } });
      },

      setBatch(patch) {
        setBatch(patch);
      },

      cancel() {
        if (get().phase === 'loading' && modelLoading) {
          // the worker aborts the download; openModel's failure path says what the studio holds now
          Promise.resolve(backend.cancel()).catch((e: unknown) => set({ error: `Cancel failed: ${backend.toError(e).message}` }));
          return;
        }
        if (get().phase !== 'running') return;
        set({ phase: 'cancelling' });
        Promise.resolve(backend.cancel()).catch((e: unknown) => {
          set({ error: `Cancel failed: ${backend.toError(e).message}` });
        });
      },

      setSeedText(text) {
        set({ seedText: text });
      },
      setStepsText(text) {
        set({ stepsText: text });
      },
      setClip(clip) {
        const { phase } = get();
        if (phase === 'running' || phase === 'cancelling') return;
        set({ clip });
      },
      randomizeSeed() {
        set({ seedText: String(randomSeed()) });
      },

      setCursor(index) {
        const n = get().frames.length;
        if (n === 0) return;
        const i = Math.max(0, Math.min(n - 1, Math.round(index)));
        // Pointing at the newest frame of a running generation means "follow it".
        const following = get().phase === 'running' && i === n - 1;
        set({ cursor: following ? null : i, playing: false });
      },

      tick() {
        const { frames, cursor, playing } = get();
        if (!playing) return;
        const n = frames.length;
        const current = cursor ?? n - 1;
        if (current >= n - 1) set({ playing: false, cursor: n - 1 });
        else set({ cursor: current + 1 });
      },

      togglePlay() {
        const { playing, frames, cursor } = get();
        const n = frames.length;
        if (n === 0) return;
        if (playing) {
          set({ playing: false });
          return;
        }
        // Playing from the last frame starts over from the first.
        const current = cursor ?? n - 1;
        set({ playing: true, cursor: current >= n - 1 ? 0 : current });
      },

      setStretch(on) {
        set({ stretch: on });
      },
      setMode(mode) {
        const { phase } = get();
        if (phase === 'running' || phase === 'cancelling') return;
        set({ mode });
      },

      commitMask(mask, note = null) {
        const { mask: previous, maskUndo } = get();
        set({ mask: { mask, note }, maskUndo: previous ? maskUndo.concat(previous).slice(-MASK_UNDO_LIMIT) : maskUndo });
      },
      undoMask() {
        const { maskUndo } = get();
        const previous = maskUndo[maskUndo.length - 1];
        if (previous) set({ mask: previous, maskUndo: maskUndo.slice(0, -1) });
      },
      clearMask() {
        const { mask } = get();
        if (mask && lesionCount(mask.mask) > 0) get().commitMask(new Uint8Array(mask.mask.length));
      },

      async uploadCondition(kind, file) {
        const model = get().model;
        const what = kind === 'mask' ? 'a mask' : 'an image';
        const fail = (message: string) => set({ error: `Could not use “${file.name}” as ${what}: ${message}` });
        if (!model) {
          fail('the model is not loaded yet.');
          return;
        }
        if (!deps.decodeImage) {
          fail('no image decoder is available here.');
          return;
        }
        try {
          const pixels = await deps.decodeImage(file);
          const read = pixels.note ? `${pixels.note}; ` : '';
          if (kind === 'mask') {
            const c = maskFromPixels(pixels, model.resolution);
            get().commitMask(c.mask, `“${file.name}”: ${read}${c.note}`);
          } else {
            const c = imageFromPixels(pixels, model.resolution);
            set({ conditionImage: { image: c.image, gray: c.gray, note: `“${file.name}”: ${read}${c.note}` } });
          }
        } catch (e) {
          fail(e instanceof Error ? e.message : String(e));
        }
      },

      async workerRestarted(reason) {
        runId++; // anything the dead worker still had in flight is dropped
        modelLoading = false; // its load, if one was going, ended with it
        const stopped = `The studio worker stopped (${reason}); a new one was started`;
        const name = get().model?.name;
        set((s) => {
          const p = s.batch.progress;
          const note = p ? `Stopped after ${s.batch.pairs.length} of ${p.count} pairs: the worker stopped; the finished pairs are kept.` : s.batch.note;
          return { phase: 'loading', loadProgress: null, batch: { ...s.batch, progress: null, note } };
        });
        const kept = current;
        const reopen = kept ?? { request: { modelUrl: modelUrl(options.model) }, label: `model "${options.model}"` };
        const ok = await openModel(reopen.request, reopen.label, kept !== null);
        if (!ok) return; // openModel said why
        const which = kept === null && name ? ` Model ${name} was not kept in the cache, so the default model was opened.` : '';
        set({ error: `${stopped} and the model was reopened. What was running stopped; the steps and pairs shown are kept.${which}` });
      },

      showError(message) {
        set({ error: message });
      },
      dismissError() {
        set({ error: null });
      },
    };
  });
}

/** The final pair as a frame (for runs without previews): x̂₀ shown as the saved mask B(x̂₀). */
export function finalFrame(result: GenerateResult): StepFrame {
  return {
    index: result.steps - 1,
    total: result.steps,
    t: 0,
    tPrev: -1,
    x0: Float32Array.from(result.mask, (v) => (v > 0 ? 1 : -1)),
    y0: result.image,
    elapsedMs: result.totalMs,
  };
}

/** The frame the views show: the cursor's, or the newest. */
export function selectShownIndex(s: Pick<StudioState, 'frames' | 'cursor'>): number {
  if (s.frames.length === 0) return -1;
  return s.cursor === null ? s.frames.length - 1 : Math.min(s.cursor, s.frames.length - 1);
}
