import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// WASM threads (SharedArrayBuffer) need cross-origin isolation, in dev and in preview alike.
const crossOriginIsolation = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export default defineConfig({
  plugins: [react()],
  resolve: {
    alias: [
      // onnxruntime-web's WebGPU build (the native WebGPU execution provider, plus the WASM CPU
      // provider), non-bundled: it loads its WASM glue (.mjs) and binary (.wasm) from the URLs that
      // src/engine/web.ts sets in ort.env.wasm.wasmPaths (both emitted by Vite as assets of this app
      // via `?url` imports), so nothing is fetched from a CDN and pthread workers load a standalone
      // file. Chosen over the default JSEP build: 2.2× faster per step on the tiny pair here
      // (SwiftShader WebGPU: 8.5 s vs 18.9 s per step; WASM the same within noise).
      {
        find: /^onnxruntime-web$/,
        replacement: fileURLToPath(new URL('./node_modules/onnxruntime-web/dist/ort.webgpu.min.mjs', import.meta.url)),
      },
    ],
  },
  server: { headers: crossOriginIsolation },
  preview: { headers: crossOriginIsolation },
  worker: { format: 'es' },
  optimizeDeps: { exclude: ['onnxruntime-web'] },
  build: {
    target: 'es2022',
    // The ORT WASM binary is a ~27 MB asset; the JS chunks themselves are small.
    chunkSizeWarningLimit: 1500,
  },
});
