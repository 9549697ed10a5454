// The batch slice: a batch of seeds run in the worker, its finished pairs (the gallery), and a
// gallery pair opened in the viewer with its whole run.
import { DEFAULT_DATASET_ID } from '../../core/dataset/about';
import type { BatchPair, BatchProgress, BatchRequest } from '../../worker/api';
import { comparePairs, parseBatchInputs } from '../batch/batch';
import { keptAttributes } from '../controls/attributes';
import { formatDuration } from '../format';
import { runRequest } from './store-run';
import type { BatchSlice, BatchState, Slice } from './store-state';

const DEFAULT_BATCH_SIZE = 16;

export const createBatchSlice: Slice<BatchSlice> = (session) => (set, get) => {
  const { worker, options } = session;
  const setBatch = (patch: Partial<BatchState>) => set((s) => ({ batch: { ...s.batch, ...patch } }));
  return {
    batch: {
      startText: '0',
      sizeText: String(DEFAULT_BATCH_SIZE),
      rejectEmpty: false,
      format: 'png',
      datasetIdText: String(DEFAULT_DATASET_ID),
      datasetNameText: '',
      pairs: [],
      request: null,
      progress: null,
      note: null,
      opened: null,
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
      const { steps, clip, mode, ...conditioning } = run;
      const request: BatchRequest = { ...range, steps, clip, ...(mode ? { mode } : {}), ...conditioning };
      const id = session.newRun();
      // Progress comes every step; the store takes the newest once per animation frame.
      let latest: BatchProgress | null = null;
      let flushScheduled = false;
      const onProgress = (p: BatchProgress) => {
        if (!session.isCurrentRun(id)) return;
        latest = p;
        if (flushScheduled) return;
        flushScheduled = true;
        session.scheduleFlush(() => {
          flushScheduled = false;
          if (session.isCurrentRun(id) && latest && get().batch.progress !== null) setBatch({ progress: latest });
        });
      };
      const onPair = (pair: BatchPair) => {
        if (session.isCurrentRun(id)) set((s) => ({ batch: { ...s.batch, pairs: s.batch.pairs.concat(pair) } }));
      };
      set((s) => ({
        phase: 'running',
        error: null,
        batch: {
          ...s.batch,
          pairs: [],
          request,
          note: null,
          opened: null,
          progress: { index: 0, count: range.count, seed: range.startSeed, step: 0, steps: run.steps, elapsedMs: 0 },
        },
      }));
      try {
        const summary = await worker.generateBatch(request, onPair, onProgress);
        if (!session.isCurrentRun(id)) return;
        const per = summary.done > 0 ? ` (${formatDuration(summary.totalMs / summary.done)}/pair)` : '';
        const note = summary.cancelled
          ? `Cancelled after ${summary.done} of ${summary.count} pairs; the ${summary.done} finished pairs are kept.`
          : `Done: ${summary.done} pairs in ${formatDuration(summary.totalMs)}${per}.`;
        set((s) => ({ phase: 'ready', batch: { ...s.batch, progress: null, note } }));
      } catch (e) {
        if (!session.isCurrentRun(id)) return;
        const kept = get().batch.pairs.length;
        const err = worker.toError(e);
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
        ...(pair.attributes ? { attributes: keptAttributes(s.model?.attributes ?? [], pair.attributes).kept, guidanceText: String(pair.guidance ?? 1) } : {}),
        batch: { ...s.batch, opened: { index, identical: null, text: `Running seed ${pair.seed} again for its steps…` } },
      }));
      const result = await get().runInViewer({
        seed: pair.seed,
        steps: pair.steps,
        eta: pair.eta,
        clip: pair.clip,
        previews: options.previews,
        ...(request.mode ? { mode: request.mode } : {}),
        ...(pair.attributes ? { attributes: pair.attributes, guidance: pair.guidance } : {}),
      });
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
  };
};
