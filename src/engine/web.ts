// Browser / worker entry of the engine: onnxruntime-web, backend choice, models over fetch.
// The only module that imports onnxruntime-web. The alias in vite.config.ts points it at the
// non-bundled WebGPU build (native WebGPU EP + WASM CPU EP, "asyncify" binary), whose WASM glue and
// binary come from this app's own origin (configureOrt below).

import * as ort from 'onnxruntime-web';
import ortWasmMjsUrl from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.mjs?url';
import ortWasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.wasm?url';
import type { Backend } from '../worker/api';
import { EngineError, errorMessage } from './errors';
import { createPair, readManifest, readModelBytes, type LoadedPair, type ModelSource } from './pair';
import type { OrtModule, SessionOptions } from './unet';

let configured = false;

/**
 * ORT settings, applied once before the first session: the WASM files from our own origin (never a
 * CDN); threads = hardwareConcurrency when cross-origin isolated (SharedArrayBuffer needs COOP/COEP,
 * see vite.config.ts), else 1. SIMD is always on in ORT ≥ 1.19's WASM builds (no flag to set).
 * We already run inside a worker, so ORT's own proxy worker stays off.
 */
export function configureOrt(): void {
  if (configured) return;
  configured = true;
  ort.env.wasm.wasmPaths = { mjs: new URL(ortWasmMjsUrl, self.location.href).href, wasm: new URL(ortWasmUrl, self.location.href).href };
  const isolated = typeof self !== 'undefined' && (self as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
  ort.env.wasm.numThreads = isolated ? Math.max(1, navigator.hardwareConcurrency || 1) : 1;
  ort.env.wasm.proxy = false;
  ort.env.logLevel = 'warning';
}

export function wasmThreads(): number {
  return typeof ort.env.wasm.numThreads === 'number' ? ort.env.wasm.numThreads : 1;
}

interface GpuLike {
  requestAdapter(): Promise<unknown | null>;
}

/** WebGPU when an adapter exists (or is requested), else WASM; the note says why not WebGPU. */
export async function chooseBackend(preferred?: Backend): Promise<{ backend: Backend; note: string | null }> {
  if (preferred === 'wasm') return { backend: 'wasm', note: 'WASM requested' };
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

export function sessionOptions(backend: Backend): SessionOptions {
  return { executionProviders: [backend === 'webgpu' ? 'webgpu' : 'wasm'], graphOptimizationLevel: 'all' };
}

/** A model folder served over HTTP(S); relative URLs resolve against the app's base URL. */
export function httpSource(folderUrl: string): ModelSource {
  const base = new URL(folderUrl.endsWith('/') ? folderUrl : `${folderUrl}/`, new URL(import.meta.env.BASE_URL, self.location.origin)).href;
  const url = (name: string) => new URL(name, base).href;
  const get = async (name: string): Promise<Response> => {
    let res: Response;
    try {
      res = await fetch(url(name));
    } catch (e) {
      throw new EngineError('model', `cannot fetch ${url(name)}: ${errorMessage(e)}`);
    }
    const type = res.headers.get('content-type') ?? '';
    // A dev/preview server answers unknown paths with index.html (200): treat that as missing.
    if (!res.ok || (type.includes('text/html') && !name.endsWith('.html'))) {
      throw new EngineError('model', `${url(name)} not found (${res.ok ? 'the server answered with an HTML page' : `HTTP ${res.status}`}): is the model folder right?`);
    }
    return res;
  };
  return {
    describe: url,
    readText: async (name) => (await get(name)).text(),
    readBytes: async (name) => new Uint8Array(await (await get(name)).arrayBuffer()),
  };
}

export interface WebPair extends LoadedPair {
  backend: Backend;
  backendNote: string | null;
}

/**
 * Loads a model folder on the best backend: WebGPU if an adapter exists, else WASM; if the WebGPU
 * sessions fail to be created or warmed up, falls back to WASM and says why in backendNote.
 */
export async function loadWebPair(folderUrl: string, preferred?: Backend): Promise<WebPair> {
  configureOrt();
  const source = httpSource(folderUrl);
  const manifest = await readManifest(source);
  const bytes = await readModelBytes(source, manifest);
  const choice = await chooseBackend(preferred);
  if (choice.backend === 'webgpu') {
    try {
      const pair = await createPair(ort as OrtModule, manifest, bytes, sessionOptions('webgpu'));
      return { ...pair, backend: 'webgpu', backendNote: null };
    } catch (e) {
      if (e instanceof EngineError) throw e;
      if (preferred === 'webgpu') throw new EngineError('backend', `WebGPU session failed: ${errorMessage(e)}`, { cause: e });
      choice.note = `WebGPU session failed (${errorMessage(e)}); using WASM`;
    }
  }
  try {
    const pair = await createPair(ort as OrtModule, manifest, bytes, sessionOptions('wasm'));
    return { ...pair, backend: 'wasm', backendNote: choice.note };
  } catch (e) {
    if (e instanceof EngineError) throw e;
    // The bytes matched the manifest's SHA-256, so an unreadable file means a bad export.
    throw new EngineError('model', `ONNX Runtime could not open the models of ${folderUrl}: ${errorMessage(e)}`, { cause: e });
  }
}
