// Node entry of the engine: onnxruntime-node (CPU) and model files from disk.
// Used by the golden parity test and by CLI tools (src/cli); never imported by the browser build.

import * as ortNode from 'onnxruntime-node';
import { errorMessage } from '../core/errors';
import { stepGraphs } from '../core/manifest';
import { EngineError } from './errors';
import { fileSource } from './files';
import { createPair, createStepPair, type LoadedPair, type LoadedStepPair, type ModelSource, readManifest, readModelBytes } from './pair';
import { cpuPlace } from './steps';
import type { OrtModule, SessionOptions } from './unet';

/** A model folder on disk (engine/files.ts, which loads no ORT). */
export { fileSource };

// onnxruntime-node and onnxruntime-web share onnxruntime-common's API; its typings are the same.
export const ort = ortNode as unknown as OrtModule;

interface NodeLoadOptions {
  warmUp?: boolean;
  intraOpNumThreads?: number;
}

/**
 * CPU sessions. Each session has its own intra-op thread pool, and a joint step alternates the two
 * sessions; ORT's default lets a pool's threads spin-wait after its run, so model_x's pool burns a
 * core while model_y's runs (and a busy machine's other work loses it too). Spinning is off: with
 * one of two cores busy, mask-then-image took 1016 ms with spinning and 547 ms without, against
 * 784 / 594 ms for the same session twice (paper U-Net at 128², 2 threads; docs/bench/wasm.md, "The other targets").
 */
export function cpuOptions(opts: NodeLoadOptions): SessionOptions {
  const options: SessionOptions = {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    extra: { session: { intra_op: { allow_spinning: '0' } } },
  };
  if (opts.intraOpNumThreads !== undefined) options.intraOpNumThreads = opts.intraOpNumThreads;
  return options;
}

async function opening<T>(source: ModelSource, open: () => Promise<T>): Promise<T> {
  try {
    return await open();
  } catch (e) {
    if (e instanceof EngineError) throw e;
    // The bytes matched the manifest's SHA-256, so an unreadable file means a bad export.
    throw new EngineError('model', `ONNX Runtime could not open the models in ${source.describe('')}: ${errorMessage(e)}`, { cause: e });
  }
}

/** Loads a model folder's plain U-Nets on ORT's CPU execution provider (the reference path, the CLI's). */
export async function loadPairFromDir(dir: string, opts: NodeLoadOptions = {}): Promise<LoadedPair> {
  const source = fileSource(dir);
  const manifest = await readManifest(source);
  const bytes = await readModelBytes(source, manifest);
  return opening(source, () => createPair(ort, manifest, bytes, cpuOptions(opts), opts));
}

/**
 * Loads a model folder's step graphs (contracts.md §1b) on ORT's CPU execution provider, with CPU
 * tensors; the plain U-Nets open on demand, for a clip the graphs cannot do.
 */
export async function loadStepPairFromDir(dir: string, opts: NodeLoadOptions = {}): Promise<LoadedStepPair> {
  const source = fileSource(dir);
  const manifest = await readManifest(source);
  if (!stepGraphs(manifest)) throw new EngineError('model', `${source.describe('manifest.json')} lists no step graphs (models.maskStep and models.imageStep)`);
  const bytes = await readModelBytes(source, manifest, ['maskStep', 'imageStep'] as const);
  const plain = () => loadPairFromDir(dir, opts);
  return opening(source, () => createStepPair(ort, manifest, bytes, cpuOptions(opts), () => cpuPlace(ort), { ...opts, plain }));
}
