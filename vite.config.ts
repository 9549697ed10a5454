import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig, type Plugin } from 'vite';
import { CSP, CSP_META, DEV_CSP } from './src/security/csp.mjs';

// WASM threads (SharedArrayBuffer) need cross-origin isolation, in dev and in preview alike.
const crossOriginIsolation = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

/**
 * The Content-Security-Policy (src/security/csp.mjs) as a <meta> in the built index.html, first in
 * <head> so it governs everything after it. The dev and preview servers send it as a header too.
 */
function csp(): Plugin {
  return {
    name: 'csp',
    apply: 'build',
    transformIndexHtml: (html) => html.replace(/<head>/i, `<head>\n    ${CSP_META}`),
  };
}

/**
 * `virtual:bundled-models`: the bundled model folders (public/models/<folder>/manifest.json), read
 * when the app is built or served, so the model panel's list stays true when a folder is added.
 * Only what the list shows, and the folder's text documents (so the worker fetches a model card
 * only where there is one: core/dataset/about.ts); the studio validates the manifest itself.
 */
function bundledModels(): Plugin {
  const id = 'virtual:bundled-models';
  const dir = fileURLToPath(new URL('./public/models/', import.meta.url));
  const scan = () =>
    (existsSync(dir) ? readdirSync(dir, { withFileTypes: true }) : [])
      .filter((d) => d.isDirectory() && existsSync(join(dir, d.name, 'manifest.json')))
      .map((d) => {
        const documents = readdirSync(join(dir, d.name))
          .filter((f) => /\.(md|txt)$/.test(f))
          .sort();
        try {
          const m = JSON.parse(readFileSync(join(dir, d.name, 'manifest.json'), 'utf8'));
          return { folder: d.name, name: String(m.name ?? d.name), resolution: m.resolution ?? null, steps: m.sampler?.steps ?? null, documents };
        } catch {
          return { folder: d.name, name: d.name, resolution: null, steps: null, documents };
        }
      })
      .sort((a, b) => a.folder.localeCompare(b.folder));
  return {
    name: 'bundled-models',
    resolveId: (source) => (source === id ? `\0${id}` : null),
    load: (resolved) => (resolved === `\0${id}` ? `export default ${JSON.stringify(scan())};` : null),
    configureServer(server) {
      // dev: a folder added or removed shows on the next reload
      server.watcher.add(dir);
      const refresh = (file: string) => {
        if (!file.startsWith(dir)) return;
        const mod = server.moduleGraph.getModuleById(`\0${id}`);
        if (mod) server.moduleGraph.invalidateModule(mod);
      };
      server.watcher.on('add', refresh).on('unlink', refresh).on('change', refresh);
    },
  };
}

export default defineConfig({
  plugins: [react(), bundledModels(), csp()],
  resolve: {
    alias: [
      // onnxruntime-web's builds, non-bundled: each loads its WASM glue (.mjs) and binary (.wasm)
      // from the URLs that src/engine/web.ts sets in ort.env.wasm.wasmPaths (emitted by Vite as
      // assets of this app via `?url` imports), so nothing is fetched from a CDN and pthread workers
      // load a standalone file. The engine loads one per backend, when that backend is used:
      // - WebGPU: the WebGPU build (native WebGPU execution provider, asyncify binary). Chosen over
      //   the default JSEP build: 2.2× faster per step on the tiny pair here (SwiftShader WebGPU:
      //   8.5 s vs 18.9 s per step).
      // - WASM: the plain WASM build (CPU provider only, no asyncify, half the size): it opens
      //   faster and reaches full speed from its second forward, where the WebGPU build's own WASM
      //   provider is 2–4× slower for its first several (docs/bench/wasm.md, "Why WASM is slower").
      {
        find: /^onnxruntime-web\/webgpu$/,
        replacement: fileURLToPath(new URL('./node_modules/onnxruntime-web/dist/ort.webgpu.min.mjs', import.meta.url)),
      },
      {
        find: /^onnxruntime-web\/wasm$/,
        replacement: fileURLToPath(new URL('./node_modules/onnxruntime-web/dist/ort.wasm.min.mjs', import.meta.url)),
      },
    ],
  },
  server: { headers: { ...crossOriginIsolation, 'Content-Security-Policy': DEV_CSP } },
  preview: { headers: { ...crossOriginIsolation, 'Content-Security-Policy': CSP } },
  // the worker lists the bundled folders' documents too (config.plugins reach workers only in dev)
  worker: { format: 'es', plugins: () => [bundledModels()] },
  optimizeDeps: { exclude: ['onnxruntime-web'] },
  build: {
    target: 'es2022',
    // The ORT WASM binary is a ~27 MB asset; the JS chunks themselves are small.
    chunkSizeWarningLimit: 1500,
  },
});
