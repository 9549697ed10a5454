// A model folder on disk as a ModelSource (Node only: the CLI, the tests, the benchmarks). Apart
// from engine/node.ts, which loads onnxruntime-node, so code that runs another ORT in Node (the
// WebGPU benchmark, bench/run-webgpu.ts) reads files without it.

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
 * the check is not followed out either. `maxBytes` bounds what is read (checked from the size before
 * reading, and no more is read should the file grow meanwhile); `kind` names the file in messages.
 * A missing file rejects with Node's ENOENT error.
 */
export async function readInside(root: string, name: string, opts: { maxBytes?: number; kind?: string } = {}): Promise<Uint8Array> {
  const what = join(root, name);
  const real = await realpath(what);
  const realRoot = await realpath(root);
  if (real === realRoot || !isInside(real, realRoot))
    throw new EngineError('model', `${what} is a link to a file outside the model folder; put the ${opts.kind ?? 'file'} itself in the folder`);
  const handle = await open(real, 'r');
  try {
    const { size, isFile } = await handle.stat().then((info) => ({ size: info.size, isFile: info.isFile() }));
    if (!isFile) throw new EngineError('model', `${what} is not a file`);
    const max = opts.maxBytes ?? Number.MAX_SAFE_INTEGER;
    if (size > max)
      throw new EngineError('model', `${what} is ${size} bytes; a model folder's ${opts.kind ?? 'file'} may have at most ${max} (${max / 2 ** 20} MiB)`);
    const bytes = new Uint8Array(size);
    const { bytesRead } = await handle.read(bytes, 0, size, 0);
    return bytes.subarray(0, bytesRead);
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
