// The run slice: Generate's inputs, the run streamed into the viewer (frames, cancel) and the
// timeline over its frames (cursor, playback).

import type { ClipMode } from '../../core/ddim';
import { MAX_SEED } from '../../core/limits';
import type { GenerateMode, GenerateResult, ModelInfo, RunConditioning, StepFrame } from '../../worker/api';
import { MAX_STEPS, parseBoundedInteger, randomSeed } from '../config';
import { ANY_VALUE, runConditioning } from '../controls/attributes';
import { requestMode, selectGenerateBlocker } from './store-editor';
import type { RunSlice, Slice, SliceCalls, StudioState } from './store-state';

/** Steps, clip, mode, attributes and guidance of a run from the controls (what Generate and a batch share), or what is wrong. */
export function runRequest(s: StudioState, model: ModelInfo): ({ steps: number; clip: ClipMode; mode?: GenerateMode } & RunConditioning) | string {
  const steps = parseBoundedInteger(s.stepsText, 1, MAX_STEPS);
  if (steps === null) return `Steps must be a whole number from 1 to ${MAX_STEPS}.`;
  const blocker = selectGenerateBlocker(s);
  if (blocker !== null) return blocker;
  const conditioning = runConditioning(model, s.attributes, s.guidanceText);
  if (typeof conditioning === 'string') return conditioning;
  const clip = s.clip ?? model.defaultClip;
  const mode = requestMode(s, model.resolution);
  return mode.kind === 'pair' ? { steps, clip, ...conditioning } : { steps, clip, mode, ...conditioning };
}

/** The final pair as a frame (for runs without previews): x̂₀ shown as the saved mask B(x̂₀). */
function finalFrame(result: GenerateResult): StepFrame {
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

/**
 * The image the views show for the shown frame, and what it is: the run's final image on its last
 * step, a latent model's decoded step (decoded on demand), else the frame's ŷ₀ (a latent model's:
 * the linear preview of ẑ₀).
 */
export function selectShownImage(
  s: Pick<StudioState, 'frames' | 'cursor' | 'result' | 'decoded'>,
): { image: Float32Array; kind: 'final' | 'decoded' | 'preview' | 'estimate' } | null {
  const i = selectShownIndex(s);
  const frame = s.frames[i];
  if (!frame) return null;
  if (s.result && frame.index === frame.total - 1) return { image: s.result.image, kind: 'final' };
  const decoded = s.decoded[i];
  if (decoded) return { image: decoded, kind: 'decoded' };
  return { image: frame.y0, kind: frame.z0 ? 'preview' : 'estimate' };
}

export const createRunSlice: Slice<RunSlice & Pick<SliceCalls, 'runInViewer'>> = (session) => (set, get) => {
  const { worker, options } = session;
  let decodeInFlight = false;
  /**
   * A latent model's step the user scrubbed to: decoded once (cached in `decoded`), one decode at a
   * time, then the step shown by then if it still needs one. A result for a frame no longer on
   * screen (a new run) is dropped.
   */
  const decodeShown = async (): Promise<void> => {
    if (decodeInFlight) return;
    const s = get();
    const i = selectShownIndex(s);
    const frame = s.frames[i];
    if (!frame?.z0 || s.decoded[i] || s.cursor === null || selectShownImage(s)?.kind === 'final') return;
    decodeInFlight = true;
    set({ decoding: i });
    try {
      const image = await worker.decode(frame.z0);
      if (get().frames[i] === frame) set((now) => ({ decoded: { ...now.decoded, [i]: image } }));
    } catch (e) {
      if (get().frames[i] === frame) set({ error: `Decoding step ${i + 1} failed: ${worker.toError(e).message}` });
      return;
    } finally {
      decodeInFlight = false;
      set({ decoding: null });
    }
    await decodeShown();
  };
  return {
    seedText: String(options.seed ?? randomSeed()),
    stepsText: options.steps !== null ? String(options.steps) : '',
    clip: options.clip,
    frames: [],
    runSteps: 0,
    runSeed: null,
    cursor: null,
    playing: false,
    result: null,
    stretch: true,
    // the URL's until a model is open (store-model.ts keeps what the model has)
    attributes: { ...options.attributes },
    guidanceText: options.guidance !== null ? String(options.guidance) : '',
    decoded: {},
    decoding: null,

    async runInViewer(request) {
      const { seed, steps } = request;
      const id = session.newRun();
      let pending: StepFrame[] = [];
      let flushScheduled = false;
      const flush = () => {
        flushScheduled = false;
        if (!session.isCurrentRun(id) || pending.length === 0) return;
        const batch = pending;
        pending = [];
        set((s) => ({ frames: s.frames.concat(batch) }));
      };
      const onFrame = (frame: StepFrame) => {
        if (!session.isCurrentRun(id)) return;
        pending.push(frame);
        if (!flushScheduled) {
          flushScheduled = true;
          session.scheduleFlush(flush);
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
        decoded: {},
        error: null,
        notice: null,
      });
      try {
        const result = await worker.generate(request, onFrame);
        if (!session.isCurrentRun(id)) return null;
        flush();
        // Without previews nothing was streamed: show the final pair as the run's one frame.
        const frames = request.previews !== false ? get().frames : [finalFrame(result)];
        set({ phase: 'ready', result, frames, cursor: null });
        return result;
      } catch (e) {
        if (!session.isCurrentRun(id)) return null;
        flush();
        const err = worker.toError(e);
        if (err.kind === 'cancelled') {
          const done = get().frames.length;
          set({ phase: 'ready', notice: `Cancelled after ${done} of ${steps} steps.` });
        } else {
          // err.model: the worker holds another model now (e.g. reopened on WASM after a lost GPU device)
          set({ phase: 'ready', error: `Generation failed: ${err.message}`, ...(err.model ? { model: err.model } : {}) });
        }
        return null;
      }
    },

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
      await get().runInViewer({ ...request, seed, previews: options.previews });
    },

    cancel() {
      if (get().cancelDownload()) return;
      if (get().phase !== 'running') return;
      set({ phase: 'cancelling' });
      Promise.resolve(worker.cancel()).catch((e: unknown) => {
        set({ error: `Cancel failed: ${worker.toError(e).message}` });
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
    setAttribute(name, value) {
      const { phase } = get();
      if (phase === 'running' || phase === 'cancelling') return;
      set((s) => {
        const { [name]: _, ...others } = s.attributes;
        return { attributes: value === ANY_VALUE ? others : { ...others, [name]: value } };
      });
    },
    setGuidanceText(text) {
      set({ guidanceText: text });
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
      void decodeShown();
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
  };
};
