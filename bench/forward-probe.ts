// The raw-forward experiments of docs/bench/wasm.md ("Why WASM is slower"), one line per setting:
//
//   node --import tsx bench/forward-probe.ts MODEL_DIR EP:BUILD:THREADS:OPT:REPS[:SPIN[:pair]] …
//
// EP wasm|webgpu; BUILD wasm (plain) | webgpu (asyncify) | jspi; THREADS 0 = the studio's choice;
// OPT disabled|basic|extended|all; SPIN 1|0 (ORT's intra-op spinning); pair: model_x then model_y.
// Every forward is printed (V8's tier-up shows in the first few); serves dist/ if built, else public/.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { browserForward, type ForwardOptions, startBrowser } from './browser';
import { median } from './stats';

const root = fileURLToPath(new URL('../', import.meta.url));
const [dir, ...settings] = process.argv.slice(2);
if (!dir || settings.length === 0) {
  console.error('usage: node --import tsx bench/forward-probe.ts MODEL_DIR EP:BUILD:THREADS:OPT:REPS[:SPIN[:pair]] …');
  process.exit(2);
}
const model = resolve(dir);
const [H] = JSON.parse(readFileSync(join(model, 'manifest.json'), 'utf8')).resolution as [number, number];
const dist = existsSync(join(root, 'dist/index.html')) ? join(root, 'dist') : join(root, 'public');
const b = await startBrowser({ dist, modelDir: model });
try {
  for (const s of settings) {
    const [ep, bundle, threads, opt, reps, spin, pair] = s.split(':');
    const o: ForwardOptions = {
      ep: ep as ForwardOptions['ep'],
      bundle: bundle as ForwardOptions['bundle'],
      threads: Number(threads),
      opt: opt as ForwardOptions['opt'],
      reps: Number(reps || 3),
      resolution: H,
      spin: spin !== '0',
      pair: pair === 'pair',
    };
    b.memory.start();
    const r = await browserForward(b, o, 30 * 60_000);
    const ms = (v: number) => v.toFixed(0);
    console.log(
      `${s}: ${r.numThreads} thread(s)${r.crossOriginIsolated ? '' : ' (not isolated)'}, open ${ms(r.createMs)} ms, first ${ms(r.firstMs)} ms, then ${r.forwardMs.map(ms).join(', ')} ms; median ${ms(median(r.forwardMs))} ms; peak PSS ${b.memory.stop().toFixed(0)} MiB`,
    );
  }
} finally {
  await b.close();
}
