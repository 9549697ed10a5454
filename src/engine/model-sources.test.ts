// A custom model's files through the same validation as a folder (readManifest / readModelBytes,
// sessions checked against the manifest on onnxruntime-node), and the cache in front of a source.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { LoadProgress } from '../core/load-progress';
import { sha256Hex } from '../core/manifest';
import { ModelCache, modelCacheName } from '../core/model-cache';
import { FakeCacheStorage } from '../testing/fake-cache';
import { EngineError } from './errors';
import { ProgressTracker } from './load-progress';
import { bytesSource, cachedModelSource, cachingSource, listedModelKeys } from './model-sources';
import { ort } from './node';
import { createPair, type ModelSource, readManifest, readModelBytes } from './pair';

const dir = fileURLToPath(new URL('../../public/models/tiny/', import.meta.url));
const tinyFiles = () => new Map(readdirSync(dir).map((name) => [name, new Uint8Array(readFileSync(`${dir}${name}`))] as const));
const tinyManifest = () => JSON.parse(readFileSync(`${dir}manifest.json`, 'utf8'));
const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

/** Reads manifest and every listed file the way loadWebModel checks a custom model. */
async function check(files: Map<string, Uint8Array>) {
  const source = bytesSource(files);
  const manifest = await readManifest(source);
  return { manifest, bytes: await readModelBytes(source, manifest, listedModelKeys(manifest)) };
}

async function failure(p: Promise<unknown>): Promise<EngineError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(EngineError);
    return e as EngineError;
  }
  throw new Error('expected a failure');
}

describe('a custom model from the user’s files', () => {
  it('the tiny pair passes, every listed file read and verified, and opens on ORT', async () => {
    const { manifest, bytes } = await check(tinyFiles());
    expect(listedModelKeys(manifest)).toEqual(['mask', 'image', 'maskStep', 'imageStep']);
    const pair = await createPair(ort, manifest, { mask: bytes.mask, image: bytes.image }, { executionProviders: ['cpu'] }, { warmUp: false });
    await pair.release();
  });

  it('no manifest.json: says so and lists what was chosen', async () => {
    const files = tinyFiles();
    files.delete('manifest.json');
    expect((await failure(check(files))).message).toMatch(
      /^no manifest\.json among the files you chose \(DATA-LICENSE\.txt, README\.md, image\.onnx, image_step\.onnx, mask\.onnx, mask_step\.onnx\)/,
    );
  });

  it('a file the manifest names is missing: named', async () => {
    const files = tinyFiles();
    files.delete('image_step.onnx');
    expect((await failure(check(files))).message).toMatch(/^image_step\.onnx is missing: manifest\.json names it, but it is not among the files you chose/);
  });

  it('SHA-256 mismatch: the file, both digests', async () => {
    const files = tinyFiles();
    const m = tinyManifest();
    m.models.mask.sha256 = '0'.repeat(64);
    files.set('manifest.json', json(m));
    const e = await failure(check(files));
    expect(e.kind).toBe('model');
    const actual = await sha256Hex(files.get('mask.onnx')!);
    expect(actual).toBe(tinyManifest().models.mask.sha256);
    expect(e.message).toBe(
      `mask.onnx (your file): mask.onnx (mask model) has SHA-256 ${actual}, the manifest says ${'0'.repeat(64)}: the file is corrupt or from another export`,
    );
  });

  it('a truncated file: named by its size, or by its structure when the manifest was made for it', async () => {
    const files = tinyFiles();
    const cut = files.get('image.onnx')!.subarray(0, 300_000);
    files.set('image.onnx', cut);
    expect((await failure(check(files))).message).toMatch(
      /^image\.onnx \(your file\): image\.onnx \(image model\) is 300000 bytes, the manifest says 777721: the file is truncated/,
    );
    const m = tinyManifest();
    m.models.image.sha256 = await sha256Hex(cut);
    m.models.image.bytes = cut.length;
    files.set('manifest.json', json(m));
    expect((await failure(check(files))).message).toMatch(/^image\.onnx \(your file\): image\.onnx \(image model\) is truncated: its graph needs \d+ bytes/);
  });

  it('an invalid manifest: core’s validation, naming the fields', async () => {
    const files = tinyFiles();
    const m = tinyManifest();
    m.resolution = 'big';
    delete m.card;
    files.set('manifest.json', json(m));
    const e = await failure(check(files));
    expect(e.message).toMatch(/^manifest\.json \(your file\): invalid manifest:/);
    expect(e.message).toMatch(/manifest\.resolution must be an array of 2 positive integers/);
    expect(e.message).toMatch(/manifest\.card is missing/);
    files.set('manifest.json', new TextEncoder().encode('not json'));
    expect((await failure(check(files))).message).toBe('manifest.json (your file) is not valid JSON');
  });

  it('a manifest for another resolution than the files: the sessions’ shapes are refused', async () => {
    const files = tinyFiles();
    const m = tinyManifest();
    m.resolution = [64, 64];
    for (const spec of Object.values(m.models) as { inputs: { shape: number[] }[]; outputs: { shape: number[] }[] }[]) {
      for (const t of [...spec.inputs, ...spec.outputs]) if (t.shape.length === 4) t.shape = [t.shape[0], t.shape[1], 64, 64];
    }
    files.set('manifest.json', json(m));
    const { manifest, bytes } = await check(files);
    const e = await failure(createPair(ort, manifest, { mask: bytes.mask, image: bytes.image }, { executionProviders: ['cpu'] }, { warmUp: false }));
    expect(e.message).toMatch(/^mask\.onnx \(mask model\) input "x" has shape \[1,2,32,32\], the manifest says \[1,2,64,64\]/);
  });
});

describe('cachingSource', () => {
  /** A source over the tiny folder that counts its reads (a stand-in for the network). */
  function counted(files: Map<string, Uint8Array>) {
    const reads: string[] = [];
    const inner = bytesSource(files);
    const source: ModelSource = { ...inner, readBytes: (name, onProgress) => (reads.push(name), inner.readBytes(name, onProgress)) };
    return { source, reads };
  }

  it('first load reads the source and caches after commit; the next is served from the cache', async () => {
    const storage = new FakeCacheStorage();
    const files = tinyFiles();
    const manifest = await readManifest(bytesSource(files));
    const name = modelCacheName('bundled', '/models/tiny/');

    const first = counted(files);
    const progress: LoadProgress[] = [];
    const reading = cachingSource(first.source, manifest, new ModelCache(storage), name, new ProgressTracker((p) => progress.push(p)));
    await readModelBytes(reading.source, manifest);
    expect(first.reads.sort()).toEqual(['image.onnx', 'mask.onnx']);
    expect(progress.at(-1)).toEqual({ receivedBytes: 2 * 777721, totalBytes: 2 * 777721, cachedBytes: 0, filesDone: 2, files: 2 });
    expect(reading.allFromCache()).toBe(false);
    expect(await storage.has(name)).toBe(false); // nothing cached before the model has loaded
    expect(await reading.commit()).toBe(true);

    const second = counted(files);
    const progress2: LoadProgress[] = [];
    const again = cachingSource(second.source, manifest, new ModelCache(storage), name, new ProgressTracker((p) => progress2.push(p)));
    const bytes = await readModelBytes(again.source, manifest);
    expect(second.reads).toEqual([]);
    expect(bytes.mask).toEqual(files.get('mask.onnx'));
    expect(again.allFromCache()).toBe(true);
    expect(progress2.at(-1)?.cachedBytes).toBe(2 * 777721);
    expect(await again.commit()).toBe(true);
  });

  it('a file whose SHA-256 changed in the manifest is read again and its old entry pruned', async () => {
    const storage = new FakeCacheStorage();
    const files = tinyFiles();
    const manifest = await readManifest(bytesSource(files));
    const name = modelCacheName('bundled', '/models/tiny/');
    const first = cachingSource(counted(files).source, manifest, new ModelCache(storage), name, new ProgressTracker());
    await readModelBytes(first.source, manifest);
    await first.commit();

    // a re-exported mask.onnx: new bytes, new manifest
    const changed = new Map(files);
    const newMask = files.get('image.onnx')!;
    changed.set('mask.onnx', newMask);
    const m = tinyManifest();
    m.models.mask.sha256 = await sha256Hex(newMask);
    changed.set('manifest.json', json(m));
    const manifest2 = await readManifest(bytesSource(changed));
    const net = counted(changed);
    const second = cachingSource(net.source, manifest2, new ModelCache(storage), name, new ProgressTracker());
    const bytes = await readModelBytes(second.source, manifest2);
    expect(net.reads).toEqual(['mask.onnx']);
    expect(bytes.mask).toEqual(newMask);
    await second.commit();
    const keys = [...storage.caches.get(name)!.entries.keys()];
    expect(keys.filter((k) => k.includes('mask.onnx'))).toEqual([`https://model-cache.pig-studio.invalid/mask.onnx?sha256=${m.models.mask.sha256}`]);
  });

  it('a custom model reopens from the cache alone; a missing entry is named', async () => {
    const storage = new FakeCacheStorage();
    const cache = new ModelCache(storage);
    const files = tinyFiles();
    const manifest = await readManifest(bytesSource(files));
    const name = modelCacheName('custom', 'tiny-000000000000');
    await cache.store(name, [
      { file: 'manifest.json', bytes: files.get('manifest.json')! },
      { file: 'mask.onnx', sha256: manifest.models.mask.sha256, bytes: files.get('mask.onnx')! },
    ]);
    let m: typeof manifest | null = null;
    const source = cachedModelSource(cache, name, () => m);
    m = await readManifest(source);
    expect(m.name).toBe('tiny');
    const e = await failure(readModelBytes(source, m));
    expect(e.message).toBe("image.onnx is no longer in the browser's cache: open the model's files again");
  });
});
