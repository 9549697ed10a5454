// Node entry of the engine: onnxruntime-node (CPU) and model files from disk.
// Used by the golden parity test and by CLI tools (src/cli); never imported by the browser build.

import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import * as ortNode from 'onnxruntime-node';
import { EngineError, errorMessage } from './errors';
import { createPair, readManifest, readModelBytes, type LoadedPair, type ModelSource } from './pair';
import type { OrtModule, SessionOptions } from './unet';

// onnxruntime-node and onnxruntime-web share onnxruntime-common's API; its typings are the same.
export const ort = ortNode as unknown as OrtModule;

export function fileSource(dir: string): ModelSource {
  const root = resolve(dir);
  return {
    describe: (name) => join(root, name),
    readText: async (name) => {
      try {
        return await readFile(join(root, name), 'utf8');
      } catch (e) {
        throw new EngineError('model', `cannot read ${join(root, name)}: ${(e as Error).message}`);
      }
    },
    readBytes: async (name) => {
      try {
        return new Uint8Array(await readFile(join(root, name)));
      } catch (e) {
        throw new EngineError('model', `cannot read ${join(root, name)}: ${(e as Error).message}`);
      }
    },
  };
}

/** Loads a model folder on ORT's CPU execution provider. */
export async function loadPairFromDir(dir: string, opts: { warmUp?: boolean; intraOpNumThreads?: number } = {}): Promise<LoadedPair> {
  const source = fileSource(dir);
  const manifest = await readManifest(source);
  const bytes = await readModelBytes(source, manifest);
  try {
    const options: SessionOptions = { executionProviders: ['cpu'], graphOptimizationLevel: 'all' };
    if (opts.intraOpNumThreads !== undefined) options.intraOpNumThreads = opts.intraOpNumThreads;
    return await createPair(ort, manifest, bytes, options, opts);
  } catch (e) {
    if (e instanceof EngineError) throw e;
    // The bytes matched the manifest's SHA-256, so an unreadable file means a bad export.
    throw new EngineError('model', `ONNX Runtime could not open the models in ${source.describe('')}: ${errorMessage(e)}`, { cause: e });
  }
}
