// What the engine's web loader takes and tells (engine/web.ts): part of the worker's API too,
// which re-exports these (src/worker/api.ts), so the app keeps importing them from there.

/** The ONNX Runtime Web execution provider a pair's sessions run on. */
export type Backend = 'webgpu' | 'wasm';

/**
 * What the app asks the worker to load, exactly one of: a bundled model folder URL such as
 * `/models/tiny/`, a custom model's files as the user chose them, or a custom model kept in the
 * browser's Cache Storage. Whatever the source, the bytes go through the same validation and loading.
 */
export interface LoadRequest {
  /** URL of the model folder (ends with `/`); manifest.json and the ONNX files are resolved against it. */
  modelUrl?: string;
  /** A custom model: file name (no folder) → bytes, manifest.json among them. Transfer the buffers. */
  files?: Record<string, ArrayBuffer>;
  /** A custom model loaded before, reopened from Cache Storage (ModelSourceInfo.id of a custom model). */
  cachedModelId?: string;
  /** Force a backend (tests and benchmarks); default: WebGPU when an adapter exists, else WASM. */
  backend?: Backend;
  /** WASM threads (benchmarks); default: wasmThreadCount's rule. ORT makes its thread pool once per worker, so only the first WASM load's counts. */
  threads?: number;
}

/** Where a loaded model came from, and the cache's part in it (for the model panel). */
export interface ModelSourceInfo {
  kind: 'bundled' | 'custom';
  /** Bundled: the folder URL; custom: the id that reopens it from the cache (LoadRequest.cachedModelId). */
  id: string;
  /** Cache Storage holds this model now: it opens again without a download or the files. */
  cached: boolean;
  /** Every model file read came from Cache Storage. */
  fromCache: boolean;
  /** Why the cache was not used (unavailable, full, failed); null when it was. */
  cacheNote: string | null;
}
