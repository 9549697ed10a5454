// An in-memory Cache Storage for unit tests (Node has none): what core/model-cache.ts uses of
// the browser's, with Responses stored as given. `quotaBytes` makes put() fail like a full disk.
import type { CacheLike, CacheStorageLike } from '../core/model-cache';

export class FakeCache implements CacheLike {
  readonly entries = new Map<string, { body: Uint8Array; headers: Headers }>();
  constructor(private readonly owner: FakeCacheStorage) {}
  async match(url: string): Promise<Response | undefined> {
    const e = this.entries.get(url);
    return e ? new Response(e.body.slice(), { headers: e.headers }) : undefined;
  }
  async put(url: string, response: Response): Promise<void> {
    const body = new Uint8Array(await response.arrayBuffer());
    if (this.owner.usedBytes() + body.length > this.owner.quotaBytes) {
      throw Object.assign(new Error('The quota has been exceeded.'), { name: 'QuotaExceededError' });
    }
    this.entries.set(url, { body, headers: new Headers(response.headers) });
  }
  async keys(): Promise<readonly { url: string }[]> {
    return [...this.entries.keys()].map((url) => ({ url }));
  }
  async delete(url: string): Promise<boolean> {
    return this.entries.delete(url);
  }
}

export class FakeCacheStorage implements CacheStorageLike {
  readonly caches = new Map<string, FakeCache>();
  constructor(public quotaBytes = Number.POSITIVE_INFINITY) {}
  usedBytes(): number {
    let n = 0;
    for (const c of this.caches.values()) for (const e of c.entries.values()) n += e.body.length;
    return n;
  }
  async open(name: string): Promise<FakeCache> {
    let c = this.caches.get(name);
    if (!c) {
      c = new FakeCache(this);
      this.caches.set(name, c);
    }
    return c;
  }
  async keys(): Promise<string[]> {
    return [...this.caches.keys()];
  }
  async has(name: string): Promise<boolean> {
    return this.caches.has(name);
  }
  async delete(name: string): Promise<boolean> {
    return this.caches.delete(name);
  }
}
