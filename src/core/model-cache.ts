// Model files in the browser's Cache Storage, so a model opens again without a download (bundled
// models) or without choosing its files again (custom models).
//
// Key scheme: one cache per model, named
//   pig-model:bundled:<folder URL>      e.g. pig-model:bundled:/models/tiny/
//   pig-model:custom:<name>-<sha12>     sha12: the first 12 hex digits of manifest.json's SHA-256
// and in it one entry per file, keyed by a fixed never-fetched URL carrying the file's SHA-256
//   https://model-cache.pig-studio.invalid/<file>?sha256=<hex>      (manifest.json: no sha256)
// so a file whose manifest now names another SHA-256 misses instead of being served stale, and the
// stale entry is pruned when the new one is stored. A custom model's manifest lists the SHA-256 of
// every file, so its id changes with any of them.
//
// The cache is an optimisation: every failure of Cache Storage itself (none in this context, quota
// exceeded, anything else) becomes a note for the model panel, never a failed load. An entry whose
// bytes are not the manifest's (size or SHA-256: a damaged disk, another program writing the
// cache) is evicted and the file read from its origin once, with a note; only where that copy is
// wrong too does the load fail (engine/pair.ts readVerified), naming the origin's file. A custom
// model has no origin to read again: its load fails, asking for its files again.
// No ORT and no DOM types beyond Response (a global in browsers and Node alike), so it is core: the
// cache's key scheme is shared by the engine, which reads and writes it (engine/model-sources.ts,
// engine/web.ts), and the page, which lists and clears it (app/models/ModelCard.tsx) without a
// round trip to the worker (the list shows while a model loads, and works with no worker running).

const MODEL_CACHE_PREFIX = 'pig-model:';
const ENTRY_BASE = 'https://model-cache.pig-studio.invalid/';

export type ModelCacheKind = 'bundled' | 'custom';

/** The parts of CacheStorage / Cache used here (the browser's, or a fake in unit tests). */
export interface CacheLike {
  match(url: string): Promise<Response | undefined>;
  put(url: string, response: Response): Promise<void>;
  keys(): Promise<readonly { url: string }[]>;
  delete(url: string): Promise<boolean>;
}
export interface CacheStorageLike {
  open(name: string): Promise<CacheLike>;
  keys(): Promise<string[]>;
  has(name: string): Promise<boolean>;
  delete(name: string): Promise<boolean>;
}

/** The global Cache Storage, or null where there is none (insecure context, some private modes). */
export function browserCacheStorage(): CacheStorageLike | null {
  const g = globalThis as { caches?: CacheStorageLike };
  return g.caches ?? null;
}

export function modelCacheName(kind: ModelCacheKind, id: string): string {
  return `${MODEL_CACHE_PREFIX}${kind}:${id}`;
}

export function parseModelCacheName(name: string): { kind: ModelCacheKind; id: string } | null {
  const m = /^pig-model:(bundled|custom):(.+)$/.exec(name);
  return m ? { kind: m[1] as ModelCacheKind, id: m[2] } : null;
}

/** The id of a custom model: its name (made safe) and its manifest's SHA-256. */
export function customModelId(name: string, manifestSha256: string): string {
  const slug =
    name
      .replace(/[^A-Za-z0-9._-]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 48) || 'model';
  return `${slug}-${manifestSha256.slice(0, 12)}`;
}

/** The entry key of one file of a model (sha256: the manifest's, so a changed file misses). */
export function cacheEntryUrl(file: string, sha256?: string): string {
  return `${ENTRY_BASE}${encodeURIComponent(file)}${sha256 ? `?sha256=${sha256}` : ''}`;
}

/** The file name of an entry key (for listings). */
export function fileOfEntryUrl(url: string): string | null {
  if (!url.startsWith(ENTRY_BASE)) return null;
  return decodeURIComponent(new URL(url).pathname.slice(1));
}

function isQuotaError(e: unknown): boolean {
  const name = (e as { name?: unknown })?.name;
  const message = (e as { message?: unknown })?.message;
  return name === 'QuotaExceededError' || (typeof message === 'string' && /quota/i.test(message));
}

function cacheErrorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export interface CacheEntry {
  file: string;
  sha256?: string;
  bytes: Uint8Array;
}

/** Reads and writes model files; every Cache Storage failure (the first one wins) and every evicted entry is in `note`. */
export class ModelCache {
  /** The first failure of Cache Storage itself. */
  private failure: string | null = null;
  /** Files whose cached copy was not the manifest's and was evicted (see evict). */
  readonly evicted: string[] = [];

  constructor(private readonly storage: CacheStorageLike | null) {
    if (!storage) this.failure = 'Cache Storage is not available here (it needs a secure context): models load without the cache';
  }

  /** Why the cache was not (fully) used, for the model panel; null while all is well. */
  get note(): string | null {
    const n = this.evicted.length;
    const corrupt =
      n === 0
        ? null
        : `The cached ${n === 1 ? 'copy' : 'copies'} of ${[...this.evicted].sort().join(', ')} ${n === 1 ? 'was' : 'were'} corrupt (not the size and SHA-256 the manifest gives): evicted and fetched again`;
    return [corrupt, this.failure].filter((t) => t !== null).join('; ') || null;
  }

  get available(): boolean {
    return this.storage !== null;
  }

  /** The cached bytes of `file`, or null (not cached, other SHA-256, or the cache failed). */
  async get(cacheName: string, file: string, sha256?: string): Promise<Uint8Array | null> {
    if (!this.storage) return null;
    try {
      if (!(await this.storage.has(cacheName))) return null;
      const cache = await this.storage.open(cacheName);
      const res = await cache.match(cacheEntryUrl(file, sha256));
      return res ? new Uint8Array(await res.arrayBuffer()) : null;
    } catch (e) {
      this.failure ??= `Cache Storage could not be read (${cacheErrorText(e)}): loading without the cache`;
      return null;
    }
  }

  /**
   * Stores `entries` in `cacheName` and deletes every other entry there whose key is not in
   * `keep` (entry URLs; stored entries are always kept): stale SHA-256s go. Returns whether all
   * were stored. When the quota is exceeded the partly written cache is deleted.
   */
  async store(cacheName: string, entries: readonly CacheEntry[], keep: readonly string[] = []): Promise<boolean> {
    if (!this.storage) return false;
    const storage = this.storage;
    try {
      const cache = await storage.open(cacheName);
      const kept = new Set(keep);
      for (const entry of entries) {
        const url = cacheEntryUrl(entry.file, entry.sha256);
        kept.add(url);
        const body = entry.bytes.slice().buffer;
        await cache.put(
          url,
          new Response(body, {
            headers: {
              'Content-Type': entry.file.endsWith('.json') ? 'application/json' : 'application/octet-stream',
              'Content-Length': String(entry.bytes.length),
            },
          }),
        );
      }
      for (const request of await cache.keys()) if (!kept.has(request.url)) await cache.delete(request.url);
      return true;
    } catch (e) {
      await storage.delete(cacheName).catch(() => false);
      this.failure ??= isQuotaError(e)
        ? 'Cache Storage is full: this model was loaded without caching it (Clear cache frees the space)'
        : `Cache Storage could not store the model (${cacheErrorText(e)}): it was loaded without the cache`;
      return false;
    }
  }

  /**
   * Deletes the entry of `file` (its bytes were not the manifest's `sha256` and size), so it is
   * never served again, and names it in `note`. A failure to delete is a failure note too.
   */
  async evict(cacheName: string, file: string, sha256?: string): Promise<void> {
    if (!this.evicted.includes(file)) this.evicted.push(file);
    if (!this.storage) return;
    try {
      await (await this.storage.open(cacheName)).delete(cacheEntryUrl(file, sha256));
    } catch (e) {
      this.failure ??= `Cache Storage could not evict ${file} (${cacheErrorText(e)})`;
    }
  }

  /** Whether `cacheName` holds every one of the entries (file, sha256). */
  async holds(cacheName: string, files: readonly { file: string; sha256?: string }[]): Promise<boolean> {
    if (!this.storage) return false;
    try {
      if (!(await this.storage.has(cacheName))) return false;
      const cache = await this.storage.open(cacheName);
      const urls = new Set((await cache.keys()).map((r) => r.url));
      return files.every((f) => urls.has(cacheEntryUrl(f.file, f.sha256)));
    } catch {
      return false;
    }
  }
}

export interface CachedModel {
  kind: ModelCacheKind;
  /** Bundled: the folder URL; custom: the id that reopens it. */
  id: string;
  cacheName: string;
  files: string[];
  bytes: number;
  /** From the cached manifest.json (custom models), when readable. */
  name: string | null;
  resolution: [number, number] | null;
}

/** Every model cache, with its files and size (from the entries' Content-Length). */
export async function listModelCaches(storage: CacheStorageLike | null): Promise<CachedModel[]> {
  if (!storage) return [];
  const out: CachedModel[] = [];
  for (const cacheName of await storage.keys()) {
    const parsed = parseModelCacheName(cacheName);
    if (!parsed) continue;
    const cache = await storage.open(cacheName);
    const files: string[] = [];
    let bytes = 0;
    let name: string | null = null;
    let resolution: [number, number] | null = null;
    for (const request of await cache.keys()) {
      const file = fileOfEntryUrl(request.url);
      if (file === null) continue;
      files.push(file);
      const res = await cache.match(request.url);
      bytes += Number(res?.headers.get('content-length') ?? 0) || 0;
      if (file === 'manifest.json' && res) {
        try {
          const m = (await res.json()) as { name?: unknown; resolution?: unknown };
          if (typeof m.name === 'string') name = m.name;
          if (Array.isArray(m.resolution) && m.resolution.length === 2) resolution = [Number(m.resolution[0]), Number(m.resolution[1])];
        } catch {
          // an unreadable manifest shows without a name
        }
      }
    }
    if (files.length > 0) out.push({ ...parsed, cacheName, files: files.sort(), bytes, name, resolution });
  }
  return out.sort((a, b) => a.cacheName.localeCompare(b.cacheName));
}

/** Deletes every model cache (and only those); returns how many. */
export async function clearModelCaches(storage: CacheStorageLike | null): Promise<number> {
  if (!storage) return 0;
  let n = 0;
  for (const name of await storage.keys()) {
    if (name.startsWith(MODEL_CACHE_PREFIX) && (await storage.delete(name))) n++;
  }
  return n;
}
