#!/usr/bin/env node
// `npm start`: builds the studio only when dist/ is missing or older than what it is built from,
// then serves it with `vite preview` on $PORT (default 4173) and opens the browser.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const DEFAULT_PORT = 4173;

/** What `npm run build` reads: a change to any of them makes dist/ stale. */
const BUILD_INPUTS = ['src', 'public', 'index.html', 'package.json', 'package-lock.json', 'vite.config.ts', 'tsconfig.json'];

/** $PORT as a TCP port (absent or empty: DEFAULT_PORT); anything else is named in one line. */
export function previewPort(env = process.env) {
  const text = env.PORT?.trim() || String(DEFAULT_PORT);
  const port = Number(text);
  if (!/^\d+$/.test(text) || port < 1 || port > 65535) throw new Error(`npm start: PORT must be a whole number in 1 … 65535, got "${env.PORT}"`);
  return port;
}

/** Newest modification time under a file or folder (links are not followed). */
function newest(path) {
  const s = statSync(path, { throwIfNoEntry: false });
  if (!s) return 0;
  if (!s.isDirectory()) return s.mtimeMs;
  return Math.max(s.mtimeMs, ...readdirSync(path).map((name) => newest(join(path, name))));
}

/** Whether root's dist/ must be built: no dist/index.html, or a build input changed after it. */
export function needsBuild(root) {
  const built = join(root, 'dist', 'index.html');
  if (!existsSync(built)) return true;
  const at = statSync(built).mtimeMs;
  return BUILD_INPUTS.some((input) => newest(join(root, input)) > at);
}

function main() {
  const root = fileURLToPath(new URL('../', import.meta.url));
  let port;
  try {
    port = previewPort();
  } catch (e) {
    console.error(e.message);
    process.exit(2);
  }
  if (needsBuild(root)) {
    const build = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
    if (build.status !== 0) process.exit(build.status ?? 1);
  } else console.log('npm start: dist/ is up to date with the sources; serving it without a rebuild');
  const vite = spawn(process.execPath, [join(root, 'node_modules/vite/bin/vite.js'), 'preview', '--port', String(port), '--strictPort', '--open'], {
    cwd: root,
    stdio: 'inherit',
  });
  // Ctrl-C reaches both through the terminal; a SIGTERM to npm start is passed on
  process.on('SIGTERM', () => vite.kill('SIGTERM'));
  vite.on('exit', (code, signal) => process.exit(code ?? (signal ? 128 : 1)));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
