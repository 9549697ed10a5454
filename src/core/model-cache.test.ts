// The model cache's key scheme and its behaviour when the cache is missing, stale or full.
import { describe, expect, it } from 'vitest';
import { FakeCacheStorage } from '../testing/fake-cache';
import {
  cacheEntryUrl,
  clearModelCaches,
  customModelId,
  fileOfEntryUrl,
  listModelCaches,
  ModelCache,
  modelCacheName,
  parseModelCacheName,
} from './model-cache';

const SHA_A = 'a'.repeat(64);
const SHA_B = 'b'.repeat(64);
const bytes = (...v: number[]) => Uint8Array.from(v);

describe('key scheme', () => {
  it('one named cache per model, parsed back', () => {
    expect(modelCacheName('bundled', '/models/tiny/')).toBe('pig-model:bundled:/models/tiny/');
    expect(parseModelCacheName('pig-model:bundled:/models/tiny/')).toEqual({ kind: 'bundled', id: '/models/tiny/' });
    expect(parseModelCacheName('pig-model:custom:tiny-0123456789ab')).toEqual({ kind: 'custom', id: 'tiny-0123456789ab' });
    expect(parseModelCacheName('some-other-cache')).toBeNull();
  });

  it('entries carry the file’s SHA-256, so another SHA-256 is another key', () => {
    expect(cacheEntryUrl('mask.onnx', SHA_A)).toBe(`https://model-cache.pig-studio.invalid/mask.onnx?sha256=${SHA_A}`);
    expect(cacheEntryUrl('mask.onnx', SHA_A)).not.toBe(cacheEntryUrl('mask.onnx', SHA_B));
    expect(cacheEntryUrl('manifest.json')).toBe('https://model-cache.pig-studio.invalid/manifest.json');
    expect(fileOfEntryUrl(cacheEntryUrl('my model.onnx', SHA_A))).toBe('my model.onnx');
    expect(fileOfEntryUrl('https://example.org/mask.onnx')).toBeNull();
  });

  it('a custom model’s id: safe name + 12 hex digits of its manifest’s SHA-256', () => {
    expect(customModelId('tiny', '0123456789abcdef'.repeat(4))).toBe('tiny-0123456789ab');
    expect(customModelId('my model / v2', SHA_A)).toBe('my-model-v2-aaaaaaaaaaaa');
    expect(customModelId('///', SHA_A)).toBe('model-aaaaaaaaaaaa');
  });
});

describe('ModelCache', () => {
  it('stores, reads back, and misses when the manifest names another SHA-256', async () => {
    const storage = new FakeCacheStorage();
    const cache = new ModelCache(storage);
    const name = modelCacheName('bundled', '/models/tiny/');
    expect(await cache.get(name, 'mask.onnx', SHA_A)).toBeNull();
    expect(await cache.store(name, [{ file: 'mask.onnx', sha256: SHA_A, bytes: bytes(1, 2, 3) }])).toBe(true);
    expect(await cache.get(name, 'mask.onnx', SHA_A)).toEqual(bytes(1, 2, 3));
    expect(await cache.get(name, 'mask.onnx', SHA_B)).toBeNull();
    expect(await cache.holds(name, [{ file: 'mask.onnx', sha256: SHA_A }])).toBe(true);
    expect(await cache.holds(name, [{ file: 'mask.onnx', sha256: SHA_B }])).toBe(false);
    expect(cache.note).toBeNull();
  });

  it('a weights file is an entry like a graph: keyed by its SHA-256, stored as bytes, served back whole', async () => {
    const storage = new FakeCacheStorage();
    const cache = new ModelCache(storage);
    const name = modelCacheName('bundled', '/models/tiny/');
    const weights = Uint8Array.from({ length: 4096 }, (_, i) => (i * 7) & 0xff);
    expect(
      await cache.store(name, [
        { file: 'mask.onnx', sha256: SHA_A, bytes: bytes(1, 2) },
        { file: 'mask.weights', sha256: SHA_B, bytes: weights },
      ]),
    ).toBe(true);
    expect(await cache.get(name, 'mask.weights', SHA_B)).toEqual(weights);
    expect(await cache.get(name, 'mask.weights', SHA_A)).toBeNull(); // another export's weights miss
    const res = await (await storage.open(name)).match(cacheEntryUrl('mask.weights', SHA_B));
    expect(res?.headers.get('content-type')).toBe('application/octet-stream');
    expect(res?.headers.get('content-length')).toBe('4096');
    expect(
      await cache.holds(name, [
        { file: 'mask.onnx', sha256: SHA_A },
        { file: 'mask.weights', sha256: SHA_B },
      ]),
    ).toBe(true);
    // a re-export's weights file replaces the stale entry when the new one is stored
    await cache.store(name, [{ file: 'mask.weights', sha256: SHA_A, bytes: bytes(9) }], [cacheEntryUrl('mask.onnx', SHA_A)]);
    expect([...storage.caches.get(name)!.entries.keys()].sort()).toEqual([cacheEntryUrl('mask.onnx', SHA_A), cacheEntryUrl('mask.weights', SHA_A)]);
  });

  it('prunes entries that are neither stored now nor kept (the stale SHA-256 goes)', async () => {
    const storage = new FakeCacheStorage();
    const cache = new ModelCache(storage);
    const name = modelCacheName('bundled', '/models/tiny/');
    await cache.store(name, [
      { file: 'mask.onnx', sha256: SHA_A, bytes: bytes(1) },
      { file: 'image.onnx', sha256: SHA_A, bytes: bytes(2) },
    ]);
    // mask.onnx changed; image.onnx did not and was a cache hit (kept, not rewritten)
    await cache.store(name, [{ file: 'mask.onnx', sha256: SHA_B, bytes: bytes(3) }], [cacheEntryUrl('image.onnx', SHA_A)]);
    expect([...storage.caches.get(name)!.entries.keys()].sort()).toEqual([cacheEntryUrl('image.onnx', SHA_A), cacheEntryUrl('mask.onnx', SHA_B)]);
  });

  it('a full cache is a note, not a failure, and leaves no partial model behind', async () => {
    const storage = new FakeCacheStorage(5);
    const cache = new ModelCache(storage);
    const name = modelCacheName('custom', 'big-aaaaaaaaaaaa');
    const stored = await cache.store(name, [
      { file: 'mask.onnx', sha256: SHA_A, bytes: bytes(1, 2, 3) },
      { file: 'image.onnx', sha256: SHA_A, bytes: bytes(4, 5, 6) },
    ]);
    expect(stored).toBe(false);
    expect(cache.note).toMatch(/^Cache Storage is full: this model was loaded without caching it/);
    expect(await storage.has(name)).toBe(false);
  });

  it('evict: a corrupt entry is deleted (never served again) and named in the note, beside a failure', async () => {
    const storage = new FakeCacheStorage();
    const cache = new ModelCache(storage);
    const name = modelCacheName('bundled', '/models/tiny/');
    await cache.store(name, [
      { file: 'mask.onnx', sha256: SHA_A, bytes: bytes(1, 2, 3) },
      { file: 'image.onnx', sha256: SHA_B, bytes: bytes(4) },
    ]);
    await cache.evict(name, 'mask.onnx', SHA_A);
    expect(await cache.get(name, 'mask.onnx', SHA_A)).toBeNull();
    expect(await cache.get(name, 'image.onnx', SHA_B)).toEqual(bytes(4));
    expect(cache.note).toBe('The cached copy of mask.onnx was corrupt (not the size and SHA-256 the manifest gives): evicted and fetched again');
    // a Cache Storage failure after it is said too
    storage.quotaBytes = 0;
    expect(await cache.store(name, [{ file: 'mask.onnx', sha256: SHA_A, bytes: bytes(1, 2, 3) }])).toBe(false);
    expect(cache.note).toMatch(/^The cached copy of mask\.onnx was corrupt .*; Cache Storage is full: this model was loaded without caching it/);
  });

  it('no Cache Storage at all: reads miss, writes do nothing, and the note says why', async () => {
    const cache = new ModelCache(null);
    expect(cache.available).toBe(false);
    expect(cache.note).toMatch(/Cache Storage is not available here/);
    expect(await cache.get('pig-model:bundled:/x/', 'mask.onnx', SHA_A)).toBeNull();
    expect(await cache.store('pig-model:bundled:/x/', [{ file: 'mask.onnx', bytes: bytes(1) }])).toBe(false);
  });

  it('a cache that throws on read is a note and a miss', async () => {
    const storage = new FakeCacheStorage();
    storage.open = async () => {
      throw Object.assign(new Error('The operation is insecure.'), { name: 'SecurityError' });
    };
    await storage.caches.set('pig-model:bundled:/x/', undefined as never);
    const cache = new ModelCache(storage);
    expect(await cache.get('pig-model:bundled:/x/', 'mask.onnx', SHA_A)).toBeNull();
    expect(cache.note).toBe('Cache Storage could not be read (The operation is insecure.): loading without the cache');
  });
});

describe('listing and clearing', () => {
  it('lists model caches with files, sizes and a custom manifest’s name; clears only them', async () => {
    const storage = new FakeCacheStorage();
    const cache = new ModelCache(storage);
    await cache.store(modelCacheName('bundled', '/models/tiny/'), [
      { file: 'mask.onnx', sha256: SHA_A, bytes: new Uint8Array(100) },
      { file: 'mask.weights', sha256: SHA_B, bytes: new Uint8Array(1000) },
    ]);
    const manifest = new TextEncoder().encode(JSON.stringify({ name: 'mine', resolution: [64, 48] }));
    await cache.store(modelCacheName('custom', 'mine-aaaaaaaaaaaa'), [
      { file: 'manifest.json', bytes: manifest },
      { file: 'image.onnx', sha256: SHA_A, bytes: new Uint8Array(7) },
    ]);
    await storage.open('not-ours');
    const listed = await listModelCaches(storage);
    expect(listed).toEqual([
      {
        kind: 'bundled',
        id: '/models/tiny/',
        cacheName: 'pig-model:bundled:/models/tiny/',
        files: ['mask.onnx', 'mask.weights'],
        bytes: 1100,
        name: null,
        resolution: null,
      },
      {
        kind: 'custom',
        id: 'mine-aaaaaaaaaaaa',
        cacheName: 'pig-model:custom:mine-aaaaaaaaaaaa',
        files: ['image.onnx', 'manifest.json'],
        bytes: 7 + manifest.length,
        name: 'mine',
        resolution: [64, 48],
      },
    ]);
    expect(await clearModelCaches(storage)).toBe(2);
    expect(await listModelCaches(storage)).toEqual([]);
    expect(await storage.keys()).toEqual(['not-ours']);
    expect(await listModelCaches(null)).toEqual([]);
  });
});
