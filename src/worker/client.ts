// Creates the studio worker and returns its typed comlink proxy. The app's only way in.
//
//   const api = createStudioWorker();
//   const info = await api.load({ modelUrl: '/models/tiny/' });
//   const result = await api.generate({ seed: 1, steps: info.defaultSteps }, Comlink.proxy((f) => …));
//   // on rejection: toStudioError(e) from './errors' gives { kind, message }
//
// Callbacks must be wrapped in Comlink.proxy (re-exported here as `proxy`).

import * as Comlink from 'comlink';
import type { StudioWorkerApi } from './api';

export { proxy, transfer } from 'comlink';

export interface StudioWorkerHandle {
  api: Comlink.Remote<StudioWorkerApi>;
  worker: Worker;
  /** Ends the worker (and its models); the api must not be used afterwards. */
  terminate(): void;
}

export function createStudioWorkerHandle(): StudioWorkerHandle {
  const worker = new Worker(new URL('./studio.worker.ts', import.meta.url), { type: 'module', name: 'studio' });
  const api = Comlink.wrap<StudioWorkerApi>(worker);
  return {
    api,
    worker,
    terminate: () => {
      api[Comlink.releaseProxy]();
      worker.terminate();
    },
  };
}

export function createStudioWorker(): Comlink.Remote<StudioWorkerApi> {
  return createStudioWorkerHandle().api;
}

/** Alias of createStudioWorker (the name the app uses). */
export const createStudioClient = createStudioWorker;
