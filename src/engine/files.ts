// A model folder on disk as a ModelSource (Node only: the CLI, the tests, the benchmarks). Apart
// from engine/node.ts, which loads onnxruntime-node, so code that runs another ORT in Node (the
// WebGPU benchmark, src/bench/webgpu.ts) reads files without it.

import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { EngineError } from './errors';
import type { ModelSource } from './pair';

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
