// The studio's one zustand store: state and the actions that change it, together.
// Data flows one way: an action asks the worker, the worker streams frames back, the store appends
// them to the trajectory, the views draw the frame the timeline points at.
import { create, type StoreApi, type UseBoundStore } from 'zustand';
import { imageFromPixels, maskFromPixels, type PixelImage } from '../core/condition';
import type {
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
import { lesionCount } from './brush';
import { MAX_SEED, MAX_STEPS, modelUrl, parseBoundedInteger, randomSeed, type UrlOptions } from './config';

/** What the store needs from the worker (the comlink remote, adapted; a fake in unit tests). */
export interface StudioBackend {
  load(request: LoadRequest, onProgress?: (progress: LoadProgress) => void): Promise<ModelInfo>;
  generate(request: GenerateRequest, onFrame: (frame: StepFrame) => void): Promise<GenerateResult>;
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

/** Which model to open: a bundled folder URL, the user's files, or a cached custom model. */
export type ModelRequest = Omit<LoadRequest, 'backend'>;

export interface StudioState {
  options: UrlOptions;
  phase: Phase;
  model: ModelInfo | null;
  /** The inputs as typed (validated on Generate). */
  seedText: string;
  stepsText: string;
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

  load(): Promise<void>;
  /**
   * Opens another model; `label` names it in messages ("the files you chose"). When it fails the
   * current model stays loaded and usable. Resolves to whether it opened.
   */
  openModel(request: ModelRequest, label: string): Promise<boolean>;
  generate(): Promise<void>;
  cancel(): void;
  setSeedText(text: string): void;
  setStepsText(text: string): void;
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
  /** Shows a failure from outside the store's own actions (e.g. a download). */
  showError(message: string): void;
  dismissError(): void;
}

export interface StoreDeps {
  backend: StudioBackend;
  options: UrlOptions;
  /** Schedules a flush of streamed frames (default: next animation frame). */
  scheduleFlush?: (flush: () => void) => void;
  /** Decodes an uploaded file (the app: the browser's decoders, app/decode.ts). */
  decodeImage?: (file: Blob) => Promise<PixelImage>;
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

  return create<StudioState>()((set, get) => {
    const openModel = async (request: ModelRequest, label: string): Promise<boolean> => {
      const { phase, model: previous } = get();
      if (phase === 'running' || phase === 'cancelling') {
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
          // The first model keeps steps preset by the URL; another model starts at its own default
          // and without the previous model's run (its size may differ).
          ...(previous === null
            ? { stepsText: s.stepsText === '' ? String(model.defaultSteps) : s.stepsText }
            : { stepsText: String(model.defaultSteps), frames: [], result: null, cursor: null, playing: false, runSteps: 0, runSeed: null, notice: `Opened model ${model.name}.` }),
        }));
        return true;
      } catch (e) {
        const err = backend.toError(e);
        const still = previous ? ` — the studio still uses model ${previous.name}.` : '';
        set({ phase: previous ? 'ready' : 'failed', loadProgress: null, error: `Could not open ${label}: ${err.message}${still}` });
        return false;
      } finally {
        modelLoading = false;
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
        const steps = parseBoundedInteger(state.stepsText, 1, MAX_STEPS);
        if (steps === null) {
          set({ error: `Steps must be a whole number from 1 to ${MAX_STEPS}.` });
          return;
        }
        const blocker = selectGenerateBlocker(state);
        if (blocker !== null) {
          set({ error: blocker });
          return;
        }
        const mode = requestMode(state, state.model.resolution);
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
          const request: GenerateRequest = { seed, steps, previews: options.previews };
          if (mode.kind !== 'pair') request.mode = mode;
          const result = await backend.generate(request, onFrame);
          if (id !== runId) return;
          flush();
          // Without previews nothing was streamed: show the final pair as the run's one frame.
          const frames = options.previews ? get().frames : [finalFrame(result)];
          set({ phase: 'ready', result, frames, cursor: null });
        } catch (e) {
          if (id !== runId) return;
          flush();
          const err = backend.toError(e);
          if (err.kind === 'cancelled') {
            const done = get().frames.length;
            set({ phase: 'ready', notice: `Cancelled after ${done} of ${steps} steps.` });
          } else {
            set({ phase: 'ready', error: `Generation failed: ${err.message}` });
          }
        }
      },

      cancel() {
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
          if (kind === 'mask') {
            const c = maskFromPixels(pixels, model.resolution);
            get().commitMask(c.mask, `“${file.name}”: ${c.note}`);
          } else {
            const c = imageFromPixels(pixels, model.resolution);
            set({ conditionImage: { image: c.image, gray: c.gray, note: `“${file.name}”: ${c.note}` } });
          }
        } catch (e) {
          fail(e instanceof Error ? e.message : String(e));
        }
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
