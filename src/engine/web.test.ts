// Which onnxruntime-web build each backend runs on, and the WASM thread count. The speed that
// motivates the split is measured by `npm run bench` (docs/bench/wasm.md, "Why WASM is slower"); the
// e2e suite checks that the studio's WASM runs fetch the plain binary and give the CLI's pair.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { httpSource, ORT_BUILDS, wasmThreadCount } from './web';

describe('ORT builds per backend', () => {
  it('WASM runs the plain WASM binary, never the asyncify-instrumented one of the WebGPU build', () => {
    expect(ORT_BUILDS.wasm.binary).toMatch(/ort-wasm-simd-threaded\.wasm$/);
    expect(ORT_BUILDS.wasm.glue).toMatch(/ort-wasm-simd-threaded\.mjs$/);
    expect(ORT_BUILDS.webgpu.binary).toMatch(/ort-wasm-simd-threaded\.asyncify\.wasm$/);
    expect(ORT_BUILDS.webgpu.glue).toMatch(/ort-wasm-simd-threaded\.asyncify\.mjs$/);
  });

  it('the WASM build loads and runs the WASM execution provider alone', async () => {
    const ort = await ORT_BUILDS.wasm.load();
    ort.env.wasm.numThreads = 1;
    // y = x + x, built by hand (ONNX protobuf, opset 17): a session on this build runs
    const session = await ort.InferenceSession.create(addModel(), { executionProviders: ['wasm'] });
    const out = await session.run({ x: new ort.Tensor('float32', Float32Array.of(1, 2, 3), [3]) });
    expect(Array.from(out.y.data as Float32Array)).toEqual([2, 4, 6]);
    await session.release();
  });

  it('threads: half the logical cores, 1 to 4, when cross-origin isolated (SharedArrayBuffer), else one; a requested count wins', () => {
    const isolated = (hardwareConcurrency?: number) => ({ crossOriginIsolated: true, navigator: { hardwareConcurrency } });
    expect([1, 2, 3, 4, 8, 16, undefined].map((n) => wasmThreadCount(isolated(n)))).toEqual([1, 1, 1, 2, 4, 4, 1]);
    expect(wasmThreadCount({ crossOriginIsolated: false, navigator: { hardwareConcurrency: 8 } })).toBe(1);
    expect(wasmThreadCount(isolated(2), 2)).toBe(2);
    expect(wasmThreadCount({ crossOriginIsolated: false, navigator: { hardwareConcurrency: 8 } }, 4)).toBe(1);
  });
});

describe('a model folder over HTTP', () => {
  afterEach(() => vi.unstubAllGlobals());

  it('a download stops when its signal aborts (mid-body), and the read rejects with the AbortError', async () => {
    // a server that sends the first 64 KiB of a 1 MiB file and then waits, as a slow network does
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(1 << 20) });
      res.write(new Uint8Array(1 << 16));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    vi.stubGlobal('self', { location: { origin: 'http://127.0.0.1', href: 'http://127.0.0.1/' } });
    try {
      const abort = new AbortController();
      const folder = `http://127.0.0.1:${(server.address() as AddressInfo).port}/models/big/`;
      const received: number[] = [];
      const reading = httpSource(folder, abort.signal).readBytes('mask.onnx', (bytes, total) => {
        received.push(bytes);
        expect(total).toBe(1 << 20);
        abort.abort();
      });
      await expect(reading).rejects.toMatchObject({ name: 'AbortError' });
      expect(received[0]).toBeGreaterThan(0);
      expect(received.at(-1)).toBeLessThan(1 << 20);
      // a request that starts after the abort is not sent at all
      await expect(httpSource(folder, abort.signal).readText('manifest.json')).rejects.toMatchObject({ name: 'AbortError' });
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});

/** A minimal ONNX model: input x float[3], output y = Add(x, x). */
function addModel(): Uint8Array {
  const varint = (n: number) => {
    const b: number[] = [];
    while (n > 0x7f) {
      b.push((n & 0x7f) | 0x80);
      n >>>= 7;
    }
    b.push(n);
    return b;
  };
  const field = (num: number, bytes: number[]) => [...varint((num << 3) | 2), ...varint(bytes.length), ...bytes];
  const str = (num: number, s: string) => field(num, [...new TextEncoder().encode(s)]);
  const int = (num: number, v: number) => [...varint(num << 3), ...varint(v)];
  // ValueInfo { name, type { tensor_type { elem_type FLOAT, shape { dim { dim_value 3 } } } } }
  const valueInfo = (name: string) => [...str(1, name), ...field(2, field(1, [...int(1, 1), ...field(2, field(1, int(1, 3)))]))];
  const node = [...str(1, 'x'), ...str(1, 'x'), ...str(2, 'y'), ...str(4, 'Add')];
  const graph = [...field(1, node), ...str(2, 'g'), ...field(11, valueInfo('x')), ...field(12, valueInfo('y'))];
  return Uint8Array.from([...int(1, 8), ...field(7, graph), ...field(8, int(2, 17))]);
}
