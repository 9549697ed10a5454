// Progress of reading a model's files: bytes received over the expected total, summed over files.
// A file's expected size is the manifest's `bytes`, else the response's Content-Length; while any
// file's size is unknown the total is null (an indeterminate bar rather than a wrong one).
// Reports are throttled to one per percent (and one per finished file), so a 100 MB download
// sends ~100 messages across the worker boundary, not one per network chunk.

import { type LoadProgress, progressFraction } from '../core/load-progress';

interface FileProgress {
  total: number | null;
  received: number;
  cached: boolean;
  done: boolean;
}

/** Bytes between reports when the total is unknown. */
const UNKNOWN_TOTAL_STEP = 1 << 20;

export class ProgressTracker {
  private readonly files = new Map<string, FileProgress>();
  private lastBucket = -1;

  constructor(private readonly emit: (progress: LoadProgress) => void = () => undefined) {}

  /** A file about to be read, with its size if known (the manifest's). Reading it again restarts it. */
  start(file: string, totalBytes: number | null): void {
    this.files.set(file, { total: totalBytes, received: 0, cached: false, done: false });
    this.report(true);
  }

  /** Bytes received so far for `file`; `totalBytes` fills in a size the manifest did not give. */
  update(file: string, receivedBytes: number, totalBytes: number | null = null): void {
    const f = this.entry(file);
    f.received = receivedBytes;
    if (f.total === null && totalBytes !== null) f.total = totalBytes;
    this.report(false);
  }

  /** `file` is complete: its size is what was read (whatever was expected). */
  finish(file: string, bytes: number, fromCache = false): void {
    const f = this.entry(file);
    f.received = bytes;
    f.total = bytes;
    f.cached = fromCache;
    f.done = true;
    this.report(true);
  }

  snapshot(): LoadProgress {
    let receivedBytes = 0;
    let totalBytes: number | null = 0;
    let cachedBytes = 0;
    let filesDone = 0;
    for (const f of this.files.values()) {
      receivedBytes += f.received;
      if (f.cached) cachedBytes += f.received;
      if (f.done) filesDone++;
      totalBytes = totalBytes === null || f.total === null ? null : totalBytes + f.total;
    }
    return { receivedBytes, totalBytes, cachedBytes, filesDone, files: this.files.size };
  }

  private entry(file: string): FileProgress {
    let f = this.files.get(file);
    if (!f) {
      f = { total: null, received: 0, cached: false, done: false };
      this.files.set(file, f);
    }
    return f;
  }

  private report(always: boolean): void {
    const p = this.snapshot();
    const fraction = progressFraction(p);
    const bucket = fraction === null ? Math.floor(p.receivedBytes / UNKNOWN_TOTAL_STEP) : Math.floor(fraction * 100);
    if (!always && bucket === this.lastBucket) return;
    this.lastBucket = bucket;
    this.emit(p);
  }
}

/**
 * Reads a response body to the end, calling onBytes(received, total) as chunks arrive; total is the
 * Content-Length (null when absent or not a number).
 */
export async function readBodyWithProgress(res: Response, onBytes: (received: number, total: number | null) => void): Promise<Uint8Array> {
  const header = res.headers.get('content-length');
  const total = header !== null && /^\d+$/.test(header) ? Number(header) : null;
  if (!res.body) {
    const bytes = new Uint8Array(await res.arrayBuffer());
    onBytes(bytes.length, total);
    return bytes;
  }
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let received = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    received += value.length;
    onBytes(received, total);
  }
  const bytes = new Uint8Array(received);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.length;
  }
  return bytes;
}
