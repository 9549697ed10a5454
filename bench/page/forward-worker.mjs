// Times one U-Net's forward with onnxruntime-web in a worker, as the studio's worker runs it
// (src/engine/web.ts): the ORT build (`bundle`), execution provider, WASM threads and graph
// optimisation level come from the message, so each can be varied alone.
// bundle: webgpu = ort.webgpu.min.mjs (the studio's WebGPU build: asyncify WASM binary);
//         wasm = ort.wasm.min.mjs (plain WASM binary, CPU only); jspi = ort.jspi.min.mjs (WebGPU via JSPI)
const BUNDLES = { webgpu: '/ort/ort.webgpu.min.mjs', wasm: '/ort/ort.wasm.min.mjs', jspi: '/ort/ort.jspi.min.mjs' };
self.onmessage = async (e) => {
  const { model, ep = 'wasm', bundle = 'webgpu', threads = '0', reps = '3', warm = '0', opt = 'all', resolution, spin = '1', pair = '' } = e.data;
  try {
    if (!BUNDLES[bundle]) throw new Error(`unknown bundle "${bundle}" (${Object.keys(BUNDLES).join(', ')})`);
    const ort = await import(BUNDLES[bundle]);
    ort.env.wasm.wasmPaths = new URL('/ort/', self.location.href).href;
    // 0: what the studio does (src/engine/web.ts, wasmThreadCount: half the logical cores, 1 to 4, when cross-origin isolated, else 1)
    ort.env.wasm.numThreads = Number(threads) || (self.crossOriginIsolated ? Math.min(4, Math.max(1, Math.floor(navigator.hardwareConcurrency / 2))) : 1);
    ort.env.wasm.proxy = false;
    // spin: ORT's intra-op threads spin-wait for work after a run ('1', ORT's default) or sleep ('0')
    const options = { executionProviders: [ep], graphOptimizationLevel: opt, extra: { session: { intra_op: { allow_spinning: spin } } } };
    const bytes = async (url) => new Uint8Array(await (await fetch(url)).arrayBuffer());
    // a graph whose weights are in a weights file (its manifest entry's `weights`) gets it as external data
    const open = async (url) => {
      const at = new URL(url, self.location.href);
      const manifest = await (await fetch(new URL('manifest.json', at))).json();
      const spec = Object.values(manifest.models).find((m) => m?.file === at.pathname.split('/').pop());
      const w = spec?.weights;
      const external = w ? { externalData: [{ path: w.file, data: await bytes(new URL(w.file, at)) }] } : {};
      return ort.InferenceSession.create(await bytes(at), { ...options, ...external });
    };
    const t0 = performance.now();
    const session = await open(model);
    const createMs = performance.now() - t0;
    // pair: a second model (image.onnx) run after each forward of the first, as a joint step alternates them
    const second = pair ? await open(pair) : null;
    const r = Number(resolution);
    const x = new ort.Tensor(
      'float32',
      Float32Array.from({ length: 2 * r * r }, (_, i) => Math.sin(i)),
      [1, 2, r, r],
    );
    const t = new ort.Tensor('float32', Float32Array.of(500), [1]);
    const run = async () => {
      const s = performance.now();
      for (const sess of second ? [session, second] : [session]) {
        const out = await sess.run({ x, t });
        await out.eps.getData(); // on WebGPU the result is read back, as the plain path does
      }
      return performance.now() - s;
    };
    const firstMs = await run(); // kernels / shaders are compiled here
    // warm: untimed runs while V8 optimises the WASM (its baseline code is 2–5× slower), as in a long generation
    for (let i = 0; i < Number(warm); i++) await run();
    const forwardMs = [];
    for (let i = 0; i < Number(reps); i++) forwardMs.push(await run());
    await session.release();
    await second?.release();
    self.postMessage({
      crossOriginIsolated: self.crossOriginIsolated,
      numThreads: ort.env.wasm.numThreads,
      hardwareConcurrency: navigator.hardwareConcurrency,
      createMs,
      firstMs,
      forwardMs,
    });
  } catch (err) {
    self.postMessage({ error: String(err?.stack ?? err) });
  }
};
