// Browser / worker entry of the engine: onnxruntime-web, backend choice, models over fetch.
// The only module that imports onnxruntime-web, in one of two builds (aliases in vite.config.ts),
// each loaded only when its backend is used and each with its WASM glue and binary from this app's
// own origin (ortFor below):
//   webgpu: ORT's WebGPU build (native WebGPU EP; its WASM binary is "asyncify"-instrumented so
//           C++ can await the GPU);
//   wasm:   ORT's plain WASM build (CPU EP only, no asyncify): half the binary (14 vs 27 MB), so
//           V8 compiles and optimises it sooner. On the WebGPU build's WASM EP the paper U-Net at
//           128² took 5.2 s to open and its first forwards 4.5, 1.8, 1.3, 1.0 s before settling at
//           ~0.5 s after about seven; on this build 3.0 s, then 1.2 s and ~0.5–0.6 s from the second
//           (one thread, one core busy; docs/bench/wasm.md, "Why WASM is slower"). So the WASM backend
//           never runs on the WebGPU build.

import type * as OrtWeb from 'onnxruntime-web';
import gpuGlueUrl from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.mjs?url';
import gpuBinaryUrl from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.wasm?url';
import cpuGlueUrl from 'onnxruntime-web/ort-wasm-simd-threaded.mjs?url';
import cpuBinaryUrl from 'onnxruntime-web/ort-wasm-simd-threaded.wasm?url';
import { type ModelDocument, readDocuments } from '../core/dataset/about';
import { errorMessage } from '../core/errors';
import type { LoadProgress } from '../core/load-progress';
import { listedFiles, type Manifest, sha256Hex, stepGraphs } from '../core/manifest';
import { browserCacheStorage, type CacheStorageLike, customModelId, ModelCache, modelCacheName } from '../core/model-cache';
import { EngineError } from './errors';
import { bytesSource, cachedModelSource, cachingSource, listedModelKeys } from './model-sources';
import { createPair, createStepPair, type ModelSource, type OpenedPair, readManifest, readModelBytes, type WeightsReads } from './pair';
import { ProgressTracker, readBodyWithProgress } from './progress-tracker';
import { graphsMatchBinarize } from './steps';
import type { Backend, LoadRequest, ModelSourceInfo } from './types';
import type { OrtModule } from './unet';
import { gpuPlace, ortDevice, sessionOptions, stepGraphSessionOptions } from './webgpu';

type OrtWebModule = typeof OrtWeb;

/** Each backend's ORT build: its module and its WASM glue and binary (Vite-emitted asset URLs). */
export const ORT_BUILDS: Record<Backend, { load: () => Promise<OrtWebModule>; glue: string; binary: string }> = {
  webgpu: { load: () => import('onnxruntime-web/webgpu'), glue: gpuGlueUrl, binary: gpuBinaryUrl },
  wasm: { load: () => import('onnxruntime-web/wasm'), glue: cpuGlueUrl, binary: cpuBinaryUrl },
};

const loaded = new Map<Backend, Promise<OrtWebModule>>();

/** LoadRequest.threads of the first load that asked (ORT makes its WASM thread pool once per worker). */
let requestedThreads: number | undefined;

/**
 * The ORT build of a backend, loaded and configured once: the WASM files from our own origin (never
 * a CDN); threads by wasmThreadCount (or LoadRequest.threads). SIMD is always on in ORT ≥ 1.19's
 * WASM builds (no flag to set). We already run inside a worker, so ORT's own proxy worker stays off.
 */
function ortFor(backend: Backend): Promise<OrtWebModule> {
  let p = loaded.get(backend);
  if (!p) {
    const build = ORT_BUILDS[backend];
    p = build.load().then((ort) => {
      ort.env.wasm.wasmPaths = { mjs: new URL(build.glue, self.location.href).href, wasm: new URL(build.binary, self.location.href).href };
      ort.env.wasm.numThreads = wasmThreadCount(self, requestedThreads);
      ort.env.wasm.proxy = false;
      ort.env.logLevel = 'warning';
      return ort;
    });
    loaded.set(backend, p);
  }
  return p;
}

/**
 * WASM threads: `requested` (LoadRequest.threads), else half the logical cores, at most 4 (ORT's own
 * default for the web), and 1 unless cross-origin isolated (threads need SharedArrayBuffer). Half,
 * because the page's main thread draws every step's previews and the browser and other tabs share
 * the cores: measured on a 2-core VM (docs/bench/wasm.md), two threads were 1.3–1.5× faster than one on
 * an idle machine but 1.4–3× slower with one other busy process, since ORT's threads spin-wait for
 * each other; one thread on two cores is never slower than one.
 */
export function wasmThreadCount(scope: { crossOriginIsolated?: boolean; navigator?: { hardwareConcurrency?: number } } = self, requested?: number): number {
  if (scope.crossOriginIsolated !== true) return 1;
  return requested ?? Math.min(4, Math.max(1, Math.floor((scope.navigator?.hardwareConcurrency || 1) / 2)));
}

interface GpuLike {
  requestAdapter(): Promise<unknown | null>;
}

/** Why ORT's GPU device was lost, once it was (ORT keeps one device per page: WebGPU is over for this worker). */
let gpuLost: string | null = null;

/** WebGPU when an adapter exists (or is requested), else WASM; the note says why not WebGPU. */
async function chooseBackend(preferred?: Backend): Promise<{ backend: Backend; note: string | null }> {
  if (preferred === 'wasm') return { backend: 'wasm', note: 'WASM requested' };
  if (gpuLost !== null) {
    if (preferred === 'webgpu') throw new EngineError('backend', `WebGPU was requested but the GPU device was lost (${gpuLost})`);
    return { backend: 'wasm', note: `the GPU device was lost (${gpuLost})` };
  }
  const gpu = (navigator as Navigator & { gpu?: GpuLike }).gpu;
  let why: string;
  if (!gpu) why = 'this browser has no WebGPU';
  else {
    try {
      const adapter = await gpu.requestAdapter();
      if (adapter) return { backend: 'webgpu', note: null };
      why = 'no WebGPU adapter';
    } catch (e) {
      why = `WebGPU adapter request failed: ${errorMessage(e)}`;
    }
  }
  if (preferred === 'webgpu') throw new EngineError('backend', `WebGPU was requested but ${why}`);
  return { backend: 'wasm', note: why };
}

/**
 * A model folder served over HTTP(S); relative URLs resolve against the app's base URL. `signal`
 * aborts every request and body read of it (a cancelled download rejects with its AbortError).
 */
export function httpSource(folderUrl: string, signal?: AbortSignal): ModelSource {
  const base = new URL(folderUrl.endsWith('/') ? folderUrl : `${folderUrl}/`, new URL(import.meta.env.BASE_URL, self.location.origin)).href;
  const url = (name: string) => new URL(name, base).href;
  const get = async (name: string): Promise<Response> => {
    let res: Response;
    try {
      res = await fetch(url(name), { signal });
    } catch (e) {
      if (signal?.aborted) throw e;
      throw new EngineError('model', `cannot fetch ${url(name)}: ${errorMessage(e)}`);
    }
    const type = res.headers.get('content-type') ?? '';
    // A dev/preview server answers unknown paths with index.html (200): treat that as missing.
    if (!res.ok || (type.includes('text/html') && !name.endsWith('.html'))) {
      throw new EngineError(
        'model',
        `${url(name)} not found (${res.ok ? 'the server answered with an HTML page' : `HTTP ${res.status}`}): is the model folder right?`,
      );
    }
    return res;
  };
  return {
    describe: url,
    readText: async (name) => (await get(name)).text(),
    readBytes: async (name, onProgress) => readBodyWithProgress(await get(name), onProgress ?? (() => undefined)),
  };
}

export interface WebPair extends OpenedPair {
  backend: Backend;
  backendNote: string | null;
  /** WebGPU: resolves with the reason when ORT's GPU device is lost. */
  lost?: Promise<string>;
  /** WebGPU: the same model opened on WASM (after a lost device). */
  reopenOnWasm?: () => Promise<WebPair>;
}

/**
 * ORT's WebGPU device's loss as a reason (destroyed, or unknown with the browser's message), and a
 * WASM reopening of the same files for after it. Recorded once for the whole worker (gpuLost).
 */
async function gpuRecovery(ort: OrtWebModule, reopen: () => Promise<WebPair>): Promise<Pick<WebPair, 'lost' | 'reopenOnWasm'>> {
  const device = await ortDevice(ort);
  if (!device?.lost) return {};
  const lost = device.lost.then((info) => {
    const reason = info.message ? `${info.reason}: ${info.message}` : info.reason;
    gpuLost ??= reason;
    return reason;
  });
  return { lost, reopenOnWasm: reopen };
}

/** A pair with where it came from; its WASM reopening keeps that too. */
function withSource(pair: WebPair, source: ModelSourceInfo, documents: ModelDocument[]): WebModel {
  const reopen = pair.reopenOnWasm;
  return { ...pair, source, documents, ...(reopen ? { reopenOnWasm: async () => withSource(await reopen(), source, documents) } : {}) };
}

/** An ORT error for the status line: its last sentence (without source paths), at most 120 characters. */
function brief(message: string): string {
  const text = message
    .replace(/\S+\.(cc|h|cpp):\d+\s*/g, '')
    .replace(/\s+/g, ' ')
    .trim();
  const last = (
    text
      .split(/(?<=\.) (?=[A-Z])/)
      .filter(Boolean)
      .pop() ?? text
  ).replace(/\.$/, '');
  return last.length > 120 ? `${last.slice(0, 119)}…` : last;
}

/** What the status shows after "Backend: WebGPU" for each path. */
const GPU_RESIDENT_NOTE = 'GPU-resident steps';
const PLAIN_WEBGPU_NOTE = 'plain U-Nets, ε read back each step';

export interface WebModel extends WebPair {
  source: ModelSourceInfo;
  /** The model folder's data license and model card, for dataset exports (core/dataset/about.ts). */
  documents: ModelDocument[];
}

/** Which files a model folder served over HTTP has (bundled folders: the build lists them), or null where unknown. */
export type FolderListing = (folderUrl: string) => readonly string[] | null;

/**
 * Loads what the request names (a bundled folder URL, the user's files, or a custom model kept in
 * Cache Storage), through the same validation (readManifest / readModelBytes) and openPair.
 * Bundled files are read through the cache (keyed by their SHA-256) with progress; a custom
 * model is stored in the cache once it has loaded, so it reopens after a reload. Cache failures
 * are a note in `source.cacheNote`, never a failed load; so is a corrupt cached file of a bundled
 * model (evicted and fetched again; only a server file that is wrong too fails the load). The folder's documents (data license,
 * model card) come along where it has them: a folder over HTTP is asked only for the files
 * `listing` says it has (else only the license file its card names), so no absent file is requested.
 * `signal` cancels a download: nothing of it is cached, and the load rejects with the abort's reason.
 */
export async function loadWebModel(
  request: LoadRequest,
  onProgress?: (progress: LoadProgress) => void,
  storage: CacheStorageLike | null = browserCacheStorage(),
  listing: FolderListing = () => null,
  signal?: AbortSignal,
): Promise<WebModel> {
  requestedThreads ??= request.threads;
  const cache = new ModelCache(storage);
  if (request.files) {
    const files = new Map(Object.entries(request.files).map(([name, buffer]) => [name, new Uint8Array(buffer)] as const));
    const source = bytesSource(files);
    const manifest = await readManifest(source);
    // Every file the manifest lists is checked now (presence, size, SHA-256, ONNX structure, the
    // weights files), whichever of them this backend runs, so a bad step graph is named at once,
    // not on a GPU later.
    await readModelBytes(source, manifest, listedModelKeys(manifest));
    const manifestBytes = files.get('manifest.json')!;
    const id = customModelId(manifest.name, await sha256Hex(manifestBytes));
    const pair = await openPair(source, manifest, request.backend, 'the files you chose');
    const documents = await readDocuments(manifest.card, async (file) => files.get(file) ?? null);
    const cached = await cache.store(modelCacheName('custom', id), [
      { file: 'manifest.json', bytes: manifestBytes },
      // every graph and weights file, verified above
      ...listedFiles(manifest).map((f) => ({ file: f.file, sha256: f.sha256, bytes: files.get(f.file)! })),
      // stored under their file names (no SHA-256: the manifest lists none), read back on reopening
      ...documents.map((d) => ({ file: d.file, bytes: d.bytes })),
    ]);
    const model = withSource(pair, { kind: 'custom', id, cached, fromCache: false, cacheNote: cache.note }, documents);
    // after a lost GPU device, reopen from the cache rather than keep a second copy of the files here
    return cached && model.reopenOnWasm ? { ...model, reopenOnWasm: () => loadWebModel({ cachedModelId: id }, undefined, storage) } : model;
  }
  if (request.cachedModelId) {
    const id = request.cachedModelId;
    let manifest: Manifest | null = null;
    const source = cachedModelSource(cache, modelCacheName('custom', id), () => manifest);
    manifest = await readManifest(source);
    const pair = await openPair(source, manifest, request.backend, `the cached model ${id}`);
    const cacheName = modelCacheName('custom', id);
    const documents = await readDocuments(manifest.card, (file) => cache.get(cacheName, file));
    return withSource(pair, { kind: 'custom', id, cached: true, fromCache: true, cacheNote: cache.note }, documents);
  }
  const folderUrl = request.modelUrl ?? '';
  const http = httpSource(folderUrl, signal);
  const manifest = await readManifest(http);
  const reading = cachingSource(http, manifest, cache, modelCacheName('bundled', folderUrl), new ProgressTracker(onProgress));
  const pair = await openPair(reading.source, manifest, request.backend, folderUrl);
  if (signal?.aborted) {
    // cancelled while the sessions opened: nothing is cached, the pair is dropped
    await pair.release().catch(() => undefined);
    signal.throwIfAborted();
  }
  const cached = await reading.commit();
  const has = listing(folderUrl);
  const documents = await readDocuments(
    manifest.card,
    (file) => http.readBytes(file),
    (file) => (has ? has.includes(file) : file === manifest.card.licenseFile),
  );
  return withSource(pair, { kind: 'bundled', id: folderUrl, cached, fromCache: reading.allFromCache(), cacheNote: cache.note }, documents);
}

/**
 * Opens a validated manifest's model files on the best backend: WebGPU if an adapter exists, else WASM.
 * On WebGPU, a manifest with both step graphs (and the B(·) they were traced with) runs them with
 * every full-size tensor kept on the GPU (a run asking for a clip that graphs exported before the
 * option cannot do opens the plain U-Nets for it); otherwise, or if their sessions fail, the plain
 * U-Nets run with core's CPU DDIM/B. If the WebGPU sessions fail to be created or warmed up, falls back
 * to WASM (always the plain path: the reference) and says why in backendNote.
 */
async function openPair(source: ModelSource, manifest: Manifest, preferred: Backend | undefined, where: string): Promise<WebPair> {
  const choice = await chooseBackend(preferred);
  let note: string | null = null;
  // each weights file read once while the sessions open, whichever graphs of it open (the step
  // graphs, then the plain U-Nets where those fail); not kept after (the plain U-Nets that open on
  // demand for a clip read it again, from the cache)
  const weights: WeightsReads = new Map();
  const ort = choice.backend === 'webgpu' ? await ortFor('webgpu') : null;
  // after a lost GPU device: the same files on WASM, the note saying why
  const reopen = (): Promise<WebPair> => openPair(source, manifest, undefined, where);
  if (ort && stepGraphs(manifest)) {
    if (!graphsMatchBinarize(manifest.sampler.binarize)) note = 'step graphs skipped: the manifest’s B(·) differs from theirs';
    else {
      const stepBytes = await readModelBytes(source, manifest, ['maskStep', 'imageStep'] as const, weights);
      try {
        // the plain U-Nets on WebGPU, read and opened only for a clip the graphs cannot do
        const plain = async () => createPair(ort as OrtModule, manifest, await readModelBytes(source, manifest), sessionOptions('webgpu'));
        const pair = await createStepPair(ort as OrtModule, manifest, stepBytes, stepGraphSessionOptions(), () => gpuPlace(ort), { plain });
        console.info(`[engine] ${manifest.name}: WebGPU, ${GPU_RESIDENT_NOTE} (${manifest.models.maskStep!.file}, ${manifest.models.imageStep!.file})`);
        return { ...pair, backend: 'webgpu', backendNote: GPU_RESIDENT_NOTE, ...(await gpuRecovery(ort, reopen)) };
      } catch (e) {
        if (e instanceof EngineError) throw e;
        console.warn(`[engine] ${manifest.name}: step graphs failed on WebGPU; trying the plain U-Nets. ${errorMessage(e)}`);
        note = `step graphs failed on WebGPU: ${brief(errorMessage(e))}`;
      }
    }
  }
  const bytes = await readModelBytes(source, manifest, 'pair', weights);
  if (ort) {
    try {
      const pair = await createPair(ort as OrtModule, manifest, bytes, sessionOptions('webgpu'));
      const backendNote = note ? `${note}; ${PLAIN_WEBGPU_NOTE}` : PLAIN_WEBGPU_NOTE;
      console.info(`[engine] ${manifest.name}: WebGPU, ${backendNote}`);
      return { ...pair, backend: 'webgpu', backendNote, ...(await gpuRecovery(ort, reopen)) };
    } catch (e) {
      if (e instanceof EngineError) throw e;
      if (preferred === 'webgpu') throw new EngineError('backend', `WebGPU session failed: ${errorMessage(e)}`, { cause: e });
      choice.note = `WebGPU session failed (${errorMessage(e)}); using WASM`;
    }
  }
  try {
    const wasm = await ortFor('wasm');
    const pair = await createPair(wasm as OrtModule, manifest, bytes, sessionOptions('wasm'));
    const threads = `${wasm.env.wasm.numThreads} thread${wasm.env.wasm.numThreads === 1 ? '' : 's'}`;
    console.info(`[engine] ${manifest.name}: WASM, ${threads}, plain U-Nets with core's DDIM and B(·)${choice.note ? ` (${choice.note})` : ''}`);
    return { ...pair, backend: 'wasm', backendNote: choice.note };
  } catch (e) {
    if (e instanceof EngineError) throw e;
    // The bytes matched the manifest's SHA-256, so an unreadable file means a bad export.
    throw new EngineError('model', `ONNX Runtime could not open the models of ${where}: ${errorMessage(e)}`, { cause: e });
  }
}
