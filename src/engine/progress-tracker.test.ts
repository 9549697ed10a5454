// Load progress: totals from the manifest's sizes or Content-Length, throttling, cached bytes.
import { describe, expect, it } from 'vitest';
import { type LoadProgress, progressFraction } from '../core/load-progress';
import { ProgressTracker, readBodyWithProgress } from './progress-tracker';

describe('ProgressTracker', () => {
  it('sums files whose sizes the manifest gives; the fraction is received / total', () => {
    const seen: LoadProgress[] = [];
    const t = new ProgressTracker((p) => seen.push(p));
    t.start('mask.onnx', 1000);
    t.start('image.onnx', 3000);
    t.update('mask.onnx', 500);
    expect(t.snapshot()).toEqual({ receivedBytes: 500, totalBytes: 4000, cachedBytes: 0, filesDone: 0, files: 2 });
    expect(progressFraction(t.snapshot())).toBe(0.125);
    t.finish('mask.onnx', 1000);
    t.finish('image.onnx', 3000, true);
    expect(t.snapshot()).toEqual({ receivedBytes: 4000, totalBytes: 4000, cachedBytes: 3000, filesDone: 2, files: 2 });
    expect(seen.at(-1)).toEqual(t.snapshot());
  });

  it('the total is unknown until every file has a size; Content-Length fills one in', () => {
    const t = new ProgressTracker();
    t.start('mask.onnx', 1000);
    t.start('image.onnx', null);
    t.update('image.onnx', 10);
    expect(t.snapshot().totalBytes).toBeNull();
    expect(progressFraction(t.snapshot())).toBeNull();
    t.update('image.onnx', 20, 2000);
    expect(t.snapshot().totalBytes).toBe(3000);
  });

  it('reports once per percent and once per finished file, not per chunk', () => {
    const seen: LoadProgress[] = [];
    const t = new ProgressTracker((p) => seen.push(p));
    t.start('big.onnx', 100_000);
    for (let received = 100; received <= 100_000; received += 100) t.update('big.onnx', received);
    t.finish('big.onnx', 100_000);
    // start (0 %) + 100 percent marks + finish
    expect(seen.length).toBe(102);
    const percents = seen.map((p) => Math.floor(progressFraction(p)! * 100));
    expect(percents).toEqual([...percents].sort((a, b) => a - b));
  });

  it('progressFraction clamps and treats an empty total as done', () => {
    expect(progressFraction({ receivedBytes: 5, totalBytes: 4 })).toBe(1);
    expect(progressFraction({ receivedBytes: 0, totalBytes: 0 })).toBe(1);
  });
});

describe('readBodyWithProgress', () => {
  it('reads a streamed body, reporting bytes and the Content-Length', async () => {
    const chunks = [Uint8Array.of(1, 2), Uint8Array.of(3), Uint8Array.of(4, 5, 6)];
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        for (const x of chunks) c.enqueue(x);
        c.close();
      },
    });
    const calls: [number, number | null][] = [];
    const bytes = await readBodyWithProgress(new Response(body, { headers: { 'Content-Length': '6' } }), (r, t) => calls.push([r, t]));
    expect(bytes).toEqual(Uint8Array.of(1, 2, 3, 4, 5, 6));
    expect(calls).toEqual([
      [2, 6],
      [3, 6],
      [6, 6],
    ]);
  });

  it('without Content-Length the total is null', async () => {
    const calls: [number, number | null][] = [];
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(Uint8Array.of(9));
        c.close();
      },
    });
    await readBodyWithProgress(new Response(body), (r, t) => calls.push([r, t]));
    expect(calls).toEqual([[1, null]]);
  });
});
