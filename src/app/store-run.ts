// The run slice: Generate's inputs, the run streamed into the viewer (frames, cancel) and the
// timeline over its frames (cursor, playback).
import type { ClipMode } from '../core/ddim';
import type { GenerateMode, GenerateResult, ModelInfo, StepFrame } from '../worker/api';
import { MAX_SEED, MAX_STEPS, parseBoundedInteger, randomSeed } from './config';
import { requestMode, selectGenerateBlocker } from './store-editor';
import type { RunSlice, Slice, SliceCalls, StudioState } from './store-state';

/** Steps, clip and mode of a run from the controls (what Generate and a batch share), or what is wrong. */
export function runRequest(s: StudioState, model: ModelInfo): { steps: number; clip: ClipMode; mode?: GenerateMode } | string {
  const steps = parseBoundedInteger(s.stepsText, 1, MAX_STEPS);
  if (steps === null) return `Steps must be a whole number from 1 to ${MAX_STEPS}.`;
  const blocker = selectGenerateBlocker(s);
  if (blocker !== null) return blocker;
  const clip = s.clip ?? model.defaultClip;
  const mode = requestMode(s, model.resolution);
  return mode.kind === 'pair' ? { steps, clip } : { steps, clip, mode };
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

export const createRunSlice: Slice<RunSlice & Pick<SliceCalls, 'runInViewer'>> = (session) => (set, get) => {
  const { worker, options } = session;
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
  };
};
