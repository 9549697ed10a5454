// Where a model's files come from besides a folder URL (engine/web.ts httpSource) or the disk
// (engine/node.ts): the user's chosen files held in memory, a custom model kept in Cache Storage,
// and a cache in front of any source. Each is a ModelSource, so readManifest / readModelBytes
// (engine/pair.ts) validate every one of them the same way.

import { listedFiles, type Manifest, type ModelKey, modelKeys } from '../core/manifest';
import { type CacheEntry, cacheEntryUrl, type ModelCache } from '../core/model-cache';
import type { ModelSource } from './pair';
import type { ProgressTracker } from './progress-tracker';

/** Every model the manifest lists: both U-Nets, and the step graphs or the autoencoder when present. */
export function listedModelKeys(manifest: Manifest): ModelKey[] {
  return modelKeys(manifest).filter((k) => manifest.models[k] !== undefined);
}

/** The manifest's entry for a file it lists (a graph or a weights file), for its SHA-256 and size. */
function listedFile(manifest: Manifest | null, name: string) {
  return manifest ? listedFiles(manifest).find((f) => f.file === name) : undefined;
}

function fileList(names: readonly string[]): string {
  return names.length ? names.join(', ') : 'none';
}

/** The files a user chose (name → bytes, no folders); a file the manifest names but is absent is named. */
export function bytesSource(files: ReadonlyMap<string, Uint8Array>): ModelSource {
  const names = [...files.keys()].sort();
  const get = (name: string): Uint8Array => {
    const bytes = files.get(name);
    if (bytes) return bytes;
    if (name === 'manifest.json')
      throw new Error(
        `no manifest.json among the files you chose (${fileList(names)}): choose the model's manifest.json with its ONNX and weights files, or its folder`,
      );
    throw new Error(`${name} is missing: manifest.json names it, but it is not among the files you chose (${fileList(names)})`);
  };
  return {
    describe: (name) => `${name} (your file)`,
    readText: async (name) => new TextDecoder().decode(get(name)),
    readBytes: async (name, onProgress) => {
      const bytes = get(name);
      onProgress?.(bytes.length, bytes.length);
      return bytes;
    },
  };
}

/** A custom model stored in Cache Storage by an earlier load (reopened after a reload). */
export function cachedModelSource(cache: ModelCache, cacheName: string, manifest: () => Manifest | null): ModelSource {
  const get = async (name: string): Promise<Uint8Array> => {
    const bytes = await cache.get(cacheName, name, name === 'manifest.json' ? undefined : listedFile(manifest(), name)?.sha256);
    if (!bytes) throw new Error(`${name} is no longer in the browser's cache${cache.note ? ` (${cache.note})` : ''}: open the model's files again`);
    return bytes;
  };
  return {
    describe: (name) => `${name} (cached)`,
    readText: async (name) => new TextDecoder().decode(await get(name)),
    readBytes: async (name, onProgress) => {
      const bytes = await get(name);
      onProgress?.(bytes.length, bytes.length);
      return bytes;
    },
    // no origin to read again: the corrupt entry goes, so the next attempt says it is missing
    reread: async (name) => {
      await cache.evict(cacheName, name, listedFile(manifest(), name)?.sha256);
      throw new Error(
        `the cached copy of ${name} was corrupt (not the size and SHA-256 the manifest gives) and was removed from the cache: open the model's files again`,
      );
    },
  };
}

export interface CachingSource {
  source: ModelSource;
  /** Every model file read so far came from the cache (and at least one was read). */
  allFromCache(): boolean;
  /**
   * Stores what was read from `inner` (call after the model loaded: only verified bytes are
   * cached) and prunes entries of files the manifest no longer names with that SHA-256.
   */
  commit(): Promise<boolean>;
}

/**
 * Reads the manifest's model files (graphs and weights files) from the cache first (keyed by their
 * SHA-256), else from `inner`, reporting progress of both to `tracker` (the manifest's sizes). manifest.json always comes from `inner`: it
 * holds the SHA-256s that make the cached files trustworthy.
 */
export function cachingSource(inner: ModelSource, manifest: Manifest, cache: ModelCache, cacheName: string, tracker: ProgressTracker): CachingSource {
  const specOf = (name: string) => listedFile(manifest, name);
  const fetched: CacheEntry[] = [];
  /** Files served from the cache, not yet found corrupt. */
  const served = new Set<string>();
  let reads = 0;
  let hits = 0;
  const download = async (name: string, onProgress?: (received: number, total: number | null) => void): Promise<Uint8Array> => {
    const spec = specOf(name);
    const bytes = await inner.readBytes(name, (received, total) => {
      tracker.update(name, received, total);
      onProgress?.(received, total);
    });
    tracker.finish(name, bytes.length);
    if (spec) fetched.push({ file: name, sha256: spec.sha256, bytes });
    return bytes;
  };
  const source: ModelSource = {
    describe: inner.describe,
    readText: inner.readText,
    readBytes: async (name, onProgress) => {
      const spec = specOf(name);
      tracker.start(name, spec?.bytes ?? null);
      reads++;
      const cached = spec ? await cache.get(cacheName, name, spec.sha256) : null;
      if (cached) {
        hits++;
        served.add(name);
        tracker.finish(name, cached.length, true);
        onProgress?.(cached.length, cached.length);
        return cached;
      }
      return download(name, onProgress);
    },
    // the cached copy failed verification: evicted, and the origin's file read once instead
    reread: async (name) => {
      if (!served.delete(name)) return null;
      hits--;
      await cache.evict(cacheName, name, specOf(name)?.sha256);
      tracker.start(name, specOf(name)?.bytes ?? null);
      return download(name);
    },
  };
  return {
    source,
    allFromCache: () => reads > 0 && hits === reads,
    commit: async () => {
      const keep = listedFiles(manifest).map((f) => cacheEntryUrl(f.file, f.sha256));
      return fetched.length === 0 ? hits > 0 : cache.store(cacheName, fetched, keep);
    },
  };
}
