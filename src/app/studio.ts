// The page's one studio: the store wired to the worker. Components import `useStudio` from here.
import { createStudioWorkerHandle, proxy, transfer, type StudioWorkerHandle } from '../worker/client';
import { toStudioError } from '../worker/errors';
import { MAX_SEED, MAX_STEPS, parseBoundedInteger, parseUrlOptions, withStateParams } from './config';
import { decodeImageFile } from './decode';
import { createStudioStore, type StudioBackend, type StudioState } from './store';

let handle: StudioWorkerHandle | null = null;

/** The worker starts with the first call, not at import. */
function worker(): StudioWorkerHandle['api'] {
  if (!handle) {
    handle = createStudioWorkerHandle();
    // A worker that fails to start or dies never answers: say so instead of waiting forever.
    handle.worker.addEventListener('error', (event) => {
      event.preventDefault();
      const detail = event.message ? `: ${event.message}` : '';
      useStudio.setState({ phase: 'failed', error: `The studio worker stopped${detail}. Reload the page to start again.` });
    });
  }
  return handle.api;
}

const backend: StudioBackend = {
  // A custom model's files are transferred, not copied; progress comes back through a proxy.
  load: (request, onProgress) =>
    worker().load(transfer(request, Object.values(request.files ?? {})), onProgress && proxy(onProgress)),
  // The callback crosses as a comlink proxy; the worker transfers each frame's buffers.
  generate: (request, onFrame) => worker().generate(request, proxy(onFrame)),
  generateBatch: (request, onPair, onProgress) => worker().generateBatch(request, proxy(onPair), proxy(onProgress)),
  cancel: () => worker().cancel(),
  toError: toStudioError,
};

export const useStudio = createStudioStore({
  backend,
  options: parseUrlOptions(window.location.search),
  decodeImage: decodeImageFile,
});

// The address bar always reproduces the studio: model, mode, seed and steps as they are now.
function syncUrl(s: StudioState): void {
  const search = withStateParams(window.location.search, {
    model: s.options.model,
    mode: s.mode,
    seed: parseBoundedInteger(s.seedText, 0, MAX_SEED),
    steps: parseBoundedInteger(s.stepsText, 1, MAX_STEPS),
  });
  if (search !== window.location.search) window.history.replaceState(null, '', `${window.location.pathname}${search}${window.location.hash}`);
}
syncUrl(useStudio.getState());
useStudio.subscribe((s, before) => {
  if (s.mode !== before.mode || s.seedText !== before.seedText || s.stepsText !== before.stepsText) syncUrl(s);
});
