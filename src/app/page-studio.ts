// The page's one studio: the store wired to the worker. Components import `useStudio` from here.
import { MAX_SEED } from '../core/limits';
import { createStudioWorkerHandle, proxy, transfer } from '../worker/client';
import { toStudioError } from '../worker/errors';
import { MAX_STEPS, parseBoundedInteger, parseGuidance, parseUrlOptions, withStateParams } from './config';
import { decodeImageFile } from './editor/decode';
import { createStudioStore, type StudioState, type WorkerConnection } from './store/store';
import { WorkerSupervisor } from './worker-supervisor';

// The worker starts with the first call, not at import; a worker that dies is replaced and the
// store reopens its model (worker-supervisor.ts).
const supervisor = new WorkerSupervisor(createStudioWorkerHandle, {
  onRestart: (reason) => void useStudio.getState().workerRestarted(reason),
});

const worker: WorkerConnection = {
  // A custom model's files are transferred, not copied; progress comes back through a proxy.
  load: (request, onProgress) => supervisor.call((api) => api.load(transfer(request, Object.values(request.files ?? {})), onProgress && proxy(onProgress))),
  // The callback crosses as a comlink proxy; the worker transfers each frame's buffers.
  generate: (request, onFrame) => supervisor.call((api) => api.generate(request, proxy(onFrame))),
  generateBatch: (request, onPair, onProgress) => supervisor.call((api) => api.generateBatch(request, proxy(onPair), proxy(onProgress))),
  // ẑ₀ is copied, not transferred: the frame keeps it
  decode: (z0) => supervisor.call((api) => api.decode(z0)),
  cancel: () => supervisor.call((api) => api.cancel()),
  toError: toStudioError,
};

export const useStudio = createStudioStore({
  worker,
  options: parseUrlOptions(window.location.search),
  decodeImage: decodeImageFile,
});

// The address bar always reproduces the studio: model, mode, seed, steps, clip, attributes and guidance as they are now.
function syncUrl(s: StudioState): void {
  const search = withStateParams(window.location.search, {
    model: s.options.model,
    mode: s.mode,
    seed: parseBoundedInteger(s.seedText, 0, MAX_SEED),
    steps: parseBoundedInteger(s.stepsText, 1, MAX_STEPS),
    clip: s.clip,
    attributes: s.attributes,
    // (before the model is open: the URL's; a model without attributes has no guidance)
    guidance: s.model === null || s.model.attributes.length > 0 ? parseGuidance(s.guidanceText) : null,
  });
  if (search !== window.location.search) window.history.replaceState(null, '', `${window.location.pathname}${search}${window.location.hash}`);
}
syncUrl(useStudio.getState());
useStudio.subscribe((s, before) => {
  const changed: (keyof StudioState)[] = ['mode', 'seedText', 'stepsText', 'clip', 'attributes', 'guidanceText', 'model'];
  if (changed.some((k) => s[k] !== before[k])) syncUrl(s);
});
