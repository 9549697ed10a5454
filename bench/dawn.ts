// The studio's WebGPU engine in Node: onnxruntime-web's WebGPU build (the one the studio's worker
// loads, `ort.webgpu.min.mjs` with its asyncify WASM binary) over Dawn, the WebGPU implementation
// of Chromium, as the npm package `webgpu` (dawn.node) ships it. Dawn picks a Vulkan driver: a real
// GPU's (NVIDIA's ICD on the device machine), or SwiftShader (Vulkan on the CPU) where there is
// none, as here: VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json (Debian's Chromium
// ships it; Mesa's lavapipe in Debian 12 is refused by Dawn). What Node lacks of a browser is
// supplied once per process: navigator.gpu (Node 20 has no navigator, Node 22 one without gpu),
// the WebGPU classes as globals, and a copy of SharedArrayBuffer views handed to writeBuffer
// (ORT's threaded WASM memory is shared; dawn.node rejects such views with "Invalid argument").
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type * as OrtWeb from 'onnxruntime-web';

export type OrtWebModule = typeof OrtWeb;

/** What the adapter says of itself, and whether it can run float16 shaders. */
export interface AdapterFacts {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** `shader-f16`: WGSL f16 arithmetic (ORT registers its float16 kernels only then). */
  shaderF16: boolean;
  features: string[];
  /** the Vulkan ICD files the loader was pointed at, if any (VK_ICD_FILENAMES / VK_DRIVER_FILES) */
  icd: string | null;
}

export interface NodeWebGpu {
  ort: OrtWebModule;
  adapter: AdapterFacts;
  /** onnxruntime-web's dist folder the build and its WASM files were loaded from */
  ortDist: string;
  /** the versions of onnxruntime-web and of the npm package webgpu (dawn.node) */
  versions: { ortWeb: string; dawnNode: string };
}

interface GpuAdapterLike {
  info?: { vendor?: string; architecture?: string; device?: string; description?: string };
  features: Iterable<string>;
}
interface GpuLike {
  requestAdapter(options?: { powerPreference?: string }): Promise<GpuAdapterLike | null>;
}
interface DawnModule {
  create(flags: string[]): GpuLike;
  globals: Record<string, unknown> & { GPUQueue: { prototype: { writeBuffer: (...args: unknown[]) => unknown } } };
}

/** onnxruntime-web's dist folder, as Node resolves the package from here (node_modules, or the device bundle's). */
export function ortDistDir(): string {
  return dirname(createRequire(import.meta.url).resolve('onnxruntime-web/ort-wasm-simd-threaded.asyncify.mjs'));
}

let ready: Promise<NodeWebGpu> | null = null;

/**
 * The WebGPU build of onnxruntime-web on Dawn, once per process. Rejects, saying why, when Dawn
 * finds no adapter (no Vulkan loader, no driver): callers skip or report instead of timing.
 */
export function nodeWebGpu(): Promise<NodeWebGpu> {
  ready ??= setUp().catch((e: unknown) => {
    ready = null;
    throw e;
  });
  return ready;
}

async function setUp(): Promise<NodeWebGpu> {
  let dawn: DawnModule;
  try {
    dawn = (await import('webgpu')) as unknown as DawnModule;
  } catch (e) {
    throw new Error(`the npm package webgpu (dawn.node) does not load: ${(e as Error).message}`);
  }
  const gpu = dawn.create([]);
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  const icd = process.env.VK_ICD_FILENAMES ?? process.env.VK_DRIVER_FILES ?? null;
  if (!adapter) {
    throw new Error(
      `Dawn found no WebGPU adapter (no Vulkan loader or driver${icd ? ` with ICD ${icd}` : '; here, set VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json and install libvulkan1'})`,
    );
  }
  Object.assign(globalThis, dawn.globals);
  patchSharedWrites(dawn.globals.GPUQueue.prototype);
  const scope = globalThis as { navigator?: object };
  scope.navigator ??= {};
  Object.defineProperty(scope.navigator, 'gpu', { value: gpu, configurable: true });
  const ortDist = ortDistDir();
  // the build the studio's worker loads (vite.config.ts aliases onnxruntime-web/webgpu to it)
  const ort = (await import(pathToFileURL(join(ortDist, 'ort.webgpu.min.mjs')).href)) as OrtWebModule;
  ort.env.wasm.wasmPaths = `${ortDist}/`;
  // the WASM side runs only what WebGPU does not (shape arithmetic, if any): one thread, no workers
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.proxy = false;
  ort.env.logLevel = 'warning';
  ort.env.webgpu.powerPreference = 'high-performance';
  const versions = {
    ortWeb: JSON.parse(readFileSync(join(ortDist, '../package.json'), 'utf8')).version, // (not among the package's exports)
    dawnNode: createRequire(import.meta.url)('webgpu/package.json').version,
  };
  const features = [...adapter.features].sort();
  const info = adapter.info ?? {};
  return {
    ort,
    ortDist,
    versions,
    adapter: {
      vendor: info.vendor ?? '',
      architecture: info.architecture ?? '',
      device: info.device ?? '',
      description: info.description ?? '',
      shaderF16: features.includes('shader-f16'),
      features,
      icd,
    },
  };
}

/** writeBuffer with views of a SharedArrayBuffer copied first (dawn.node refuses them). */
function patchSharedWrites(queue: { writeBuffer: (...args: unknown[]) => unknown }): void {
  const write = queue.writeBuffer as ((...args: unknown[]) => unknown) & { sharedCopy?: true };
  if (write.sharedCopy) return;
  const patched = function (this: unknown, buffer: unknown, offset: number, data: ArrayBufferView | ArrayBuffer, dataOffset = 0, size?: number) {
    if (ArrayBuffer.isView(data) && data.buffer instanceof SharedArrayBuffer) {
      const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
      const k = (data as { BYTES_PER_ELEMENT?: number }).BYTES_PER_ELEMENT ?? 1;
      return write.call(this, buffer, offset, bytes, dataOffset * k, size === undefined ? undefined : size * k);
    }
    return write.call(this, buffer, offset, data, dataOffset, size);
  };
  queue.writeBuffer = Object.assign(patched, { sharedCopy: true as const }) as (...args: unknown[]) => unknown;
}
