// A custom model's files through the same validation as a folder (readManifest / readModelBytes,
// sessions checked against the manifest on onnxruntime-node), and the cache in front of a source.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { LoadProgress } from '../core/load-progress';
import { sha256Hex } from '../core/manifest';
import { cacheEntryUrl, ModelCache, modelCacheName } from '../core/model-cache';
import { FakeCacheStorage } from '../testing/fake-cache';
import { bytesField, splitTensorGraph } from '../testing/onnx-protobuf';
import { EngineError } from './errors';
import { bytesSource, cachedModelSource, cachingSource, listedModelKeys } from './model-sources';
import { ort } from './node';
import { createPair, type ModelSource, readManifest, readModelBytes } from './pair';
import { ProgressTracker } from './progress-tracker';

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
      /^no manifest\.json among the files you chose \(DATA-LICENSE\.txt, README\.md, image\.onnx, image\.weights, image_step\.onnx, mask\.onnx, mask\.weights, mask_step\.onnx\)/,
    );
  });

  it('a file the manifest names is missing: named', async () => {
    const files = tinyFiles();
    files.delete('image_step.onnx');
    expect((await failure(check(files))).message).toMatch(/^image_step\.onnx is missing: manifest\.json names it, but it is not among the files you chose/);
  });

  it('a weights file the manifest names is missing: named, with the files chosen', async () => {
    const files = tinyFiles();
    files.delete('image.weights');
    expect((await failure(check(files))).message).toBe(
      'image.weights is missing: manifest.json names it, but it is not among the files you chose (DATA-LICENSE.txt, README.md, image.onnx, image_step.onnx, manifest.json, mask.onnx, mask.weights, mask_step.onnx)',
    );
  });

  it('a weights file that is not the manifest’s: its size or SHA-256, naming the models that use it', async () => {
    const files = tinyFiles();
    const weights = files.get('mask.weights')!;
    files.set('mask.weights', weights.subarray(0, 1000));
    expect((await failure(check(files))).message).toBe(
      `mask.weights (your file): mask.weights (weights of mask, maskStep) is 1000 bytes, the manifest says ${weights.length}: the file is truncated or not the exported weights`,
    );
    const flipped = weights.slice();
    flipped[500] ^= 1;
    files.set('mask.weights', flipped);
    expect((await failure(check(files))).message).toMatch(
      /^mask\.weights \(your file\): mask\.weights \(weights of mask, maskStep\) has SHA-256 [0-9a-f]{64}, the manifest says [0-9a-f]{64}: the file is corrupt or from another export$/,
    );
  });

  it('a graph whose external data is not the weights file its manifest names is refused before ORT sees it', async () => {
    const files = tinyFiles();
    const m = tinyManifest();
    delete m.models.image.weights; // an old manifest over the new files
    files.set('manifest.json', json(m));
    expect((await failure(check(files))).message).toBe(
      'image.onnx (your file): image.onnx (image model) keeps tensors in image.weights, but the manifest names no weights file for it',
    );
  });

  it('a graph hiding external data in a tensor split over two fields (protobuf merges them) is refused', async () => {
    const files = tinyFiles();
    const m = tinyManifest();
    // the exported mask.onnx with a second ModelProto.graph: protobuf merges it into the first
    const attack = Uint8Array.from([...files.get('mask.onnx')!, ...bytesField(7, splitTensorGraph('secret.txt'))]);
    files.set('mask.onnx', attack);
    m.models.mask = { ...m.models.mask, bytes: attack.length, sha256: await sha256Hex(attack) };
    files.set('manifest.json', json(m));
    expect((await failure(check(files))).message).toBe(
      'mask.onnx (your file): mask.onnx (mask model) keeps tensors in secret.txt, but the manifest names mask.weights as its weights',
    );
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
    const full = files.get('image.onnx')!;
    const cut = full.subarray(0, 30_000);
    files.set('image.onnx', cut);
    expect((await failure(check(files))).message).toMatch(
      new RegExp(`^image\\.onnx \\(your file\\): image\\.onnx \\(image model\\) is 30000 bytes, the manifest says ${full.length}: the file is truncated`),
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
    expect(e.message).toMatch(/manifest\.resolution must be an array of 2 integers from 1 to 4096/);
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

  /** The tiny folder loaded once through the cache (its plain U-Nets and weights files cached). */
  async function cachedTiny() {
    const storage = new FakeCacheStorage();
    const files = tinyFiles();
    const manifest = await readManifest(bytesSource(files));
    const name = modelCacheName('bundled', '/models/tiny/');
    const first = cachingSource(counted(files).source, manifest, new ModelCache(storage), name, new ProgressTracker());
    await readModelBytes(first.source, manifest);
    await first.commit();
    return { storage, files, manifest, name };
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
    // the plain U-Nets' graphs and their weights files, each read once
    expect(first.reads.sort()).toEqual(['image.onnx', 'image.weights', 'mask.onnx', 'mask.weights']);
    const total = first.reads.reduce((n, f) => n + files.get(f)!.length, 0);
    expect(total).toBe(manifest.models.mask.bytes! + manifest.models.image.bytes! + manifest.models.mask.weights!.bytes + manifest.models.image.weights!.bytes);
    // the progress counts the weights files, at the manifest's sizes from the start
    expect(progress.find((p) => p.files === 4)?.totalBytes).toBe(total);
    expect(progress.at(-1)).toEqual({ receivedBytes: total, totalBytes: total, cachedBytes: 0, filesDone: 4, files: 4 });
    expect(reading.allFromCache()).toBe(false);
    expect(await storage.has(name)).toBe(false); // nothing cached before the model has loaded
    expect(await reading.commit()).toBe(true);

    const second = counted(files);
    const progress2: LoadProgress[] = [];
    const again = cachingSource(second.source, manifest, new ModelCache(storage), name, new ProgressTracker((p) => progress2.push(p)));
    const bytes = await readModelBytes(again.source, manifest);
    expect(second.reads).toEqual([]);
    expect(bytes.mask.graph).toEqual(files.get('mask.onnx'));
    expect(bytes.mask.weights).toEqual({ file: 'mask.weights', data: files.get('mask.weights') });
    expect(again.allFromCache()).toBe(true);
    expect(progress2.at(-1)?.cachedBytes).toBe(total);
    expect(await again.commit()).toBe(true);

    // the step graphs read later (WebGPU) find their weights file in the cache too: only their graphs are read
    const third = counted(files);
    const steps = cachingSource(third.source, manifest, new ModelCache(storage), name, new ProgressTracker());
    const stepBytes = await readModelBytes(steps.source, manifest, ['maskStep', 'imageStep'] as const);
    expect(third.reads.sort()).toEqual(['image_step.onnx', 'mask_step.onnx']);
    expect(stepBytes.maskStep.weights?.data).toEqual(files.get('mask.weights'));
    await steps.commit();
    const cached = [...storage.caches.get(name)!.entries.keys()].map((k) => decodeURIComponent(new URL(k).pathname.slice(1))).sort();
    expect(cached).toEqual(['image.onnx', 'image.weights', 'image_step.onnx', 'mask.onnx', 'mask.weights', 'mask_step.onnx']);
  });

  it('a U-Net’s plain and step graphs read their weights file once (one WeightsReads across calls)', async () => {
    const files = tinyFiles();
    const manifest = await readManifest(bytesSource(files));
    const net = counted(files);
    const weights = new Map();
    const steps = await readModelBytes(net.source, manifest, ['maskStep', 'imageStep'] as const, weights);
    const plain = await readModelBytes(net.source, manifest, ['mask', 'image'] as const, weights);
    expect(net.reads.sort()).toEqual(['image.onnx', 'image.weights', 'image_step.onnx', 'mask.onnx', 'mask.weights', 'mask_step.onnx']);
    expect(plain.mask.weights!.data).toBe(steps.maskStep.weights!.data); // the same bytes, not a copy
    // one call reading both graphs of a U-Net reads its weights file once too
    const once = counted(files);
    await readModelBytes(once.source, manifest, ['mask', 'maskStep'] as const);
    expect(once.reads.filter((f) => f === 'mask.weights')).toEqual(['mask.weights']);
  });

  it('a file whose SHA-256 changed in the manifest is read again and its old entry pruned', async () => {
    const { storage, files, name } = await cachedTiny();

    // a re-exported mask.onnx: new bytes, new manifest (here the image U-Net's graph and weights)
    const changed = new Map(files);
    const newMask = files.get('image.onnx')!;
    changed.set('mask.onnx', newMask);
    const m = tinyManifest();
    m.models.mask.sha256 = await sha256Hex(newMask);
    m.models.mask.bytes = newMask.length;
    m.models.mask.weights = m.models.image.weights;
    m.models.maskStep.weights = m.models.image.weights;
    changed.set('manifest.json', json(m));
    const manifest2 = await readManifest(bytesSource(changed));
    const net = counted(changed);
    const second = cachingSource(net.source, manifest2, new ModelCache(storage), name, new ProgressTracker());
    const bytes = await readModelBytes(second.source, manifest2);
    expect(net.reads).toEqual(['mask.onnx']);
    expect(bytes.mask.graph).toEqual(newMask);
    await second.commit();
    const keys = [...storage.caches.get(name)!.entries.keys()];
    expect(keys.filter((k) => k.includes('mask.onnx'))).toEqual([`https://model-cache.pig-studio.invalid/mask.onnx?sha256=${m.models.mask.sha256}`]);
    // mask.weights is named by no model now: its entry is pruned; image.weights stays
    expect(keys.filter((k) => k.includes('.weights'))).toEqual([
      `https://model-cache.pig-studio.invalid/image.weights?sha256=${m.models.image.weights.sha256}`,
    ]);
  });

  it('a corrupt cached file is evicted and fetched once from the server, with a note; a server file wrong too fails as before', async () => {
    const { storage, files, manifest, name } = await cachedTiny();
    // the cached mask.onnx flipped, mask.weights truncated: same keys, other bytes
    const entries = storage.caches.get(name)!.entries;
    const maskKey = cacheEntryUrl('mask.onnx', manifest.models.mask.sha256);
    const weightsKey = cacheEntryUrl('mask.weights', manifest.models.mask.weights!.sha256);
    const flipped = files.get('mask.onnx')!.slice();
    flipped[100] ^= 1;
    entries.set(maskKey, { ...entries.get(maskKey)!, body: flipped });
    entries.set(weightsKey, { ...entries.get(weightsKey)!, body: files.get('mask.weights')!.subarray(0, 10) });

    const net = counted(files);
    const cache = new ModelCache(storage);
    const progress: LoadProgress[] = [];
    const again = cachingSource(net.source, manifest, cache, name, new ProgressTracker((p) => progress.push(p)));
    const bytes = await readModelBytes(again.source, manifest);
    expect(bytes.mask.graph).toEqual(files.get('mask.onnx'));
    expect(bytes.mask.weights?.data).toEqual(files.get('mask.weights'));
    expect(net.reads.sort()).toEqual(['mask.onnx', 'mask.weights']); // only the corrupt ones, once each
    expect(again.allFromCache()).toBe(false);
    expect(progress.at(-1)).toMatchObject({ filesDone: 4, files: 4 });
    expect(cache.note).toBe(
      'The cached copies of mask.onnx, mask.weights were corrupt (not the size and SHA-256 the manifest gives): evicted and fetched again',
    );
    // the cache holds the server's bytes again: the next load reads nothing
    expect(await again.commit()).toBe(true);
    expect(entries.get(maskKey)!.body).toEqual(files.get('mask.onnx'));
    const third = counted(files);
    const cache3 = new ModelCache(storage);
    await readModelBytes(cachingSource(third.source, manifest, cache3, name, new ProgressTracker()).source, manifest);
    expect(third.reads).toEqual([]);
    expect(cache3.note).toBeNull();

    // the server's copy is wrong too: the server's file is named, as when nothing was cached
    entries.set(maskKey, { ...entries.get(maskKey)!, body: flipped });
    const bad = new Map(files);
    bad.set('mask.onnx', flipped);
    const server = { ...bytesSource(bad), describe: (f: string) => `/models/tiny/${f}` };
    const fourth = cachingSource(server, manifest, new ModelCache(storage), name, new ProgressTracker());
    expect((await failure(readModelBytes(fourth.source, manifest))).message).toMatch(
      /^\/models\/tiny\/mask\.onnx: mask\.onnx \(mask model\) has SHA-256 [0-9a-f]{64}, the manifest says [0-9a-f]{64}: the file is corrupt or from another export$/,
    );
    expect(entries.has(maskKey)).toBe(false); // evicted: the next load asks the server again
  });

  it('a corrupt entry of a custom model is removed, and the message asks for its files again', async () => {
    const storage = new FakeCacheStorage();
    const cache = new ModelCache(storage);
    const files = tinyFiles();
    const manifest = await readManifest(bytesSource(files));
    const name = modelCacheName('custom', 'tiny-000000000000');
    await cache.store(name, [
      { file: 'manifest.json', bytes: files.get('manifest.json')! },
      { file: 'mask.onnx', sha256: manifest.models.mask.sha256, bytes: files.get('mask.onnx')!.subarray(0, 50) },
    ]);
    let m: typeof manifest | null = null;
    const source = cachedModelSource(cache, name, () => m);
    m = await readManifest(source);
    expect((await failure(readModelBytes(source, m, ['mask'] as const))).message).toBe(
      "the cached copy of mask.onnx was corrupt (not the size and SHA-256 the manifest gives) and was removed from the cache: open the model's files again",
    );
    expect(await cache.get(name, 'mask.onnx', manifest.models.mask.sha256)).toBeNull();
  });

  it('a custom model reopens from the cache alone; a missing entry is named', async () => {
    const storage = new FakeCacheStorage();
    const cache = new ModelCache(storage);
    const files = tinyFiles();
    const manifest = await readManifest(bytesSource(files));
    const name = modelCacheName('custom', 'tiny-000000000000');
    const entry = (file: string, sha256: string) => ({ file, sha256, bytes: files.get(file)! });
    await cache.store(name, [
      { file: 'manifest.json', bytes: files.get('manifest.json')! },
      entry('mask.onnx', manifest.models.mask.sha256),
      entry('mask.weights', manifest.models.mask.weights!.sha256),
      entry('image.onnx', manifest.models.image.sha256),
    ]);
    let m: typeof manifest | null = null;
    const source = cachedModelSource(cache, name, () => m);
    m = await readManifest(source);
    expect(m.name).toBe('tiny');
    // the cache serves the weights file by its SHA-256
    const mask = await readModelBytes(source, m, ['mask'] as const);
    expect(mask.mask.weights?.data).toEqual(files.get('mask.weights'));
    const e = await failure(readModelBytes(source, m));
    expect(e.message).toBe("image.weights is no longer in the browser's cache: open the model's files again");
  });
});
