// The studio worker: comlink exposes a Studio over onnxruntime-web (engine/web.ts).
// Frames and results are transferred (Comlink.transfer), errors cross as StudioError values.

import bundledModels from 'virtual:bundled-models';
import * as Comlink from 'comlink';
import { type FolderListing, loadWebModel } from '../engine/web';
import { lifeLockName, type StudioWorkerRemoteApi } from './api';
import { Studio } from './studio';

/**
 * A Web Lock held for as long as this worker lives: the page asks for the same lock and is granted
 * it the moment the worker is gone, however it went (app/worker-supervisor.ts). Resolves true once
 * held; false where the browser has no Web Locks (then only the worker's error event is watched).
 */
const alive: Promise<boolean> = (() => {
  const locks = (navigator as Navigator & { locks?: LockManager }).locks;
  if (!locks) return Promise.resolve(false);
  return new Promise<boolean>((resolve) => {
    locks
      .request(lifeLockName(self.name), () => {
        resolve(true);
        return new Promise<never>(() => undefined); // never released while the worker lives
      })
      .catch(() => resolve(false));
  });
})();

class WorkerStudio extends Studio implements StudioWorkerRemoteApi {
  alive(): Promise<boolean> {
    return alive;
  }
}

/** A bundled folder's documents as the build found them (so no absent file is fetched); null for other folders. */
const listing: FolderListing = (folderUrl) => {
  const path = new URL(folderUrl.endsWith('/') ? folderUrl : `${folderUrl}/`, self.location.href).pathname;
  return bundledModels.find((b) => path.endsWith(`/models/${b.folder}/`))?.documents ?? null;
};

Comlink.expose(new WorkerStudio((request, onProgress, signal) => loadWebModel(request, onProgress, undefined, listing, signal), Comlink.transfer));
