// A tiny static server for the production build (dist/), cross-origin isolated like `vite preview`
// (COOP same-origin + COEP require-corp, so WASM threads work) and with the studio's
// Content-Security-Policy header (src/security/csp.mjs), which is what the worker obeys. Loopback only.

import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { CSP } from '../src/security/csp.mjs';

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.onnx': 'application/octet-stream',
  '.weights': 'application/octet-stream',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
};

/**
 * Serves `root` on 127.0.0.1 at `port` (0 = any free port). `mounts` maps URL prefixes to other
 * folders (e.g. { '/models/bench/': '/tmp/paper128' }: the benchmark's model beside the build),
 * served without the studio's Content-Security-Policy header.
 * @param {string} root
 * @param {number} [port]
 * @param {Record<string, string>} [mounts]
 * @returns {Promise<{ url: string, close: () => Promise<void> }>}
 */
export async function serveStatic(root, port = 0, mounts = {}) {
  const folders = Object.entries(mounts).map(([prefix, dir]) => [prefix.endsWith('/') ? prefix : `${prefix}/`, resolve(dir)]);
  const server = createServer(async (req, res) => {
    const headers = {
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cross-Origin-Embedder-Policy': 'require-corp',
      'Cross-Origin-Resource-Policy': 'same-origin',
      'Cache-Control': 'no-store',
    };
    try {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const pathname = decodeURIComponent(url.pathname);
      const mount = folders.find(([p]) => pathname.startsWith(p));
      const [prefix, base] = mount ?? ['/', resolve(root)];
      // the studio's own files carry its policy; a mounted folder (the benchmark's page, with an
      // inline script) is not the studio
      if (!mount) headers['Content-Security-Policy'] = CSP;
      let path = normalize(join(base, pathname.slice(prefix.length - 1)));
      if (path !== base && !path.startsWith(base + sep)) throw Object.assign(new Error('outside root'), { code: 'ENOENT' });
      let info = await stat(path);
      if (info.isDirectory()) {
        path = join(path, 'index.html');
        info = await stat(path);
      }
      res.writeHead(200, {
        ...headers,
        'Content-Type': TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream',
        'Content-Length': info.size,
      });
      if (req.method === 'HEAD') res.end();
      else createReadStream(path).pipe(res);
    } catch {
      res.writeHead(404, { ...headers, 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('not found');
    }
  });
  await new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(port, '127.0.0.1', ok);
  });
  const address = server.address();
  const actualPort = typeof address === 'object' && address ? address.port : port;
  return {
    url: `http://127.0.0.1:${actualPort}`,
    close: () =>
      new Promise((ok) => {
        server.closeAllConnections?.();
        server.close(() => ok());
      }),
  };
}
