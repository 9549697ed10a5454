// Creates the studio worker and returns its typed comlink proxy. The app's only way in.
//
//   const { api } = createStudioWorkerHandle();
//   const info = await api.load({ modelUrl: '/models/tiny/' });
//   const result = await api.generate({ seed: 1, steps: info.defaultSteps }, Comlink.proxy((f) => …));
//   // on rejection: toStudioError(e) from './errors' gives { kind, message }
//
// Callbacks must be wrapped in Comlink.proxy (re-exported here as `proxy`). The app reaches the
// worker through app/worker-supervisor.ts, which watches `gone` and starts a new worker.

import * as Comlink from 'comlink';
import { lifeLockName, type StudioWorkerRemoteApi } from './api';

export { proxy, transfer } from 'comlink';

export interface StudioWorkerHandle {
  api: Comlink.Remote<StudioWorkerRemoteApi>;
  worker: Worker;
  /**
   * Resolves with a reason once the worker is gone: it threw at top level or failed to load (its
   * error event), or it ended by any other way (closed itself, crashed, was ended by the browser):
   * the page is then granted the Web Lock the worker held for as long as it lived.
   */
  gone: Promise<string>;
  /** Ends the worker (and its models); the api must not be used afterwards. */
  terminate(): void;
}

export function createStudioWorkerHandle(): StudioWorkerHandle {
  const name = `studio#${crypto.randomUUID()}`;
  const worker = new Worker(new URL('./studio.worker.ts', import.meta.url), { type: 'module', name });
  const api = Comlink.wrap<StudioWorkerRemoteApi>(worker);
  const gone = new Promise<string>((resolve) => {
    worker.addEventListener('error', (event) => {
      event.preventDefault();
      resolve(event.message ? `it threw: ${event.message}` : 'it failed to start');
    });
    const locks = (navigator as Navigator & { locks?: LockManager }).locks;
    void api.alive().then(
      (held) => {
        if (held && locks) void locks.request(lifeLockName(name), () => resolve('it was ended: closed, crashed or out of memory'));
      },
      () => undefined,
    );
  });
  return {
    api,
    worker,
    gone,
    terminate: () => {
      api[Comlink.releaseProxy]();
      worker.terminate();
    },
  };
}
