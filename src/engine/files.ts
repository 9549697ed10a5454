// A model folder on disk as a ModelSource (Node only: the CLI, the tests, the benchmarks). Apart
// from engine/node.ts, which loads onnxruntime-node, so code that runs another ORT in Node (the
// WebGPU benchmark, src/bench/webgpu.ts) reads files without it.

import { open, realpath } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { EngineError } from './errors';
import type { ModelSource } from './pair';

/** Whether `path` is `folder` or inside it (both absolute, resolved). */
export const isInside = (path: string, folder: string) => path === folder || path.startsWith(folder.endsWith(sep) ? folder : folder + sep);

/**
 * The bytes of `name` in the folder `root`, read only where its real path is inside the folder's: a
 * model folder is untrusted, and a link in it to a key or /etc/shadow is refused, never followed
 * (RELIABILITY.md, threat model). The file is opened by its real path, so a link swapped in after
 * the check is not followed out either. `what` names the file in messages.
 */
export async function readInside(root: string, name: string, what = join(root, name)): Promise<Uint8Array> {
  const realRoot = await realpath(root);
  const real = await realpath(join(root, name));
  if (real === realRoot || !isInside(real, realRoot))
    throw new EngineError('model', `${what} is a link to a file outside the model folder: put the file itself in the folder`);
  const handle = await open(real, 'r');
  try {
    if (!(await handle.stat()).isFile()) throw new EngineError('model', `${what} is not a file`);
    return new Uint8Array(await handle.readFile());
  } finally {
    await handle.close();
  }
}

export function fileSource(dir: string): ModelSource {
  const root = resolve(dir);
  const read = async (name: string) => {
    try {
      return await readInside(root, name);
    } catch (e) {
      if (e instanceof EngineError) throw e;
      throw new EngineError('model', `cannot read ${join(root, name)}: ${(e as Error).message}`);
    }
  };
  return {
    describe: (name) => join(root, name),
    readText: async (name) => new TextDecoder().decode(await read(name)),
    readBytes: read,
  };
}
