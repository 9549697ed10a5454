// The studio's one zustand store, made of slices by feature: the model (store-model.ts), the run
// and its timeline (store-run.ts), the batch and its gallery (store-batch.ts), the editor
// (store-editor.ts), the reader test (reader-test/slice.ts); their shape is in store-state.ts. Data flows one way: an action asks the
// worker, the worker streams frames back, the store appends them to the trajectory, the views
// draw the frame the timeline points at.
import { create, type StoreApi, type UseBoundStore } from 'zustand';
import { createReaderTestSlice } from '../reader-test/slice';
import { browserReaderTestStorage } from '../reader-test/storage';
import { createBatchSlice } from './store-batch';
import { createEditorSlice } from './store-editor';
import { createModelSlice } from './store-model';
import { createRunSlice } from './store-run';
import type { Slice, StatusSlice, StoreDeps, StoreSession, StoreState, StudioState } from './store-state';

export { selectGenerateBlocker } from './store-editor';
export { selectShownImage, selectShownIndex } from './store-run';
export type { StoreDeps, StudioState, WorkerConnection } from './store-state';

/** Next animation frame, with a timer as a fallback for hidden tabs, whichever comes first. */
function animationFrameFlush(flush: () => void): void {
  let done = false;
  const once = () => {
    if (done) return;
    done = true;
    flush();
  };
  if (typeof requestAnimationFrame === 'function') requestAnimationFrame(once);
  setTimeout(once, 250);
}

const createStatusSlice: Slice<StatusSlice> = (session) => (set) => ({
  options: session.options,
  phase: 'loading',
  error: null,
  notice: null,
  showError(message) {
    set({ error: message });
  },
  dismissError() {
    set({ error: null });
  },
});

export type StudioStore = UseBoundStore<StoreApi<StudioState>>;

export function createStudioStore(deps: StoreDeps): StudioStore {
  // Each run gets an id so that frames or results of a finished/cancelled run are never mixed in.
  let runId = 0;
  const session: StoreSession = {
    worker: deps.worker,
    options: deps.options,
    scheduleFlush: deps.scheduleFlush ?? animationFrameFlush,
    decodeImage: deps.decodeImage,
    newRun: () => ++runId,
    isCurrentRun: (id) => id === runId,
  };
  return create<StoreState>()((...a) => ({
    ...createStatusSlice(session)(...a),
    ...createModelSlice(session)(...a),
    ...createRunSlice(session)(...a),
    ...createBatchSlice(session)(...a),
    ...createEditorSlice(session)(...a),
    ...createReaderTestSlice(deps.readerTestStorage === undefined ? browserReaderTestStorage() : deps.readerTestStorage)(session)(...a),
  }));
}
