// The browser half of the benchmark: Debian's Chromium (headless, WebGPU on SwiftShader, as
// e2e/lib/fixtures.mjs launches it) against the production build, served cross-origin isolated with the
// benchmark's model mounted at /models/bench/. Two kinds of run:
//   - the studio itself (?model=bench&backend=…&steps=…&previews=on|off): page open → Generate
//     enabled (model load, cold then from Cache Storage), then Generate → "Done:" per pair;
//   - one U-Net's raw forward in a worker (page/forward-worker.mjs), ORT configured as the studio
//     configures it unless a knob says otherwise (build, threads, optimisation level).
// Memory: the proportional set size (PSS, shared pages split between processes) summed over the
// Chromium process tree, sampled every 200 ms, and the page's JS heap (CDP Performance metrics).
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { CHROMIUM_ARGS } from '../harness/chromium.mjs';
import { serveStatic } from '../harness/server.mjs';

const root = fileURLToPath(new URL('../', import.meta.url));

export interface BrowserSession {
  context: BrowserContext;
  baseUrl: string;
  version: string;
  memory: MemorySampler;
  close(): Promise<void>;
}

/** Peak PSS of a process tree, sampled while a measurement runs. */
export class MemorySampler {
  private timer: NodeJS.Timeout | null = null;
  private peakKb = 0;
  constructor(private readonly rootPid: () => number | null) {}

  start(): void {
    this.peakKb = 0;
    this.sample();
    this.timer = setInterval(() => this.sample(), 200);
  }

  /** Stops sampling; the peak in MiB (0 when the tree could not be read). */
  stop(): number {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.sample();
    return this.peakKb / 1024;
  }

  private sample(): void {
    const pid = this.rootPid();
    if (pid === null) return;
    let kb = 0;
    for (const p of processTree(pid)) kb += pssKb(p);
    this.peakKb = Math.max(this.peakKb, kb);
  }
}

function processTree(rootPid: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      // /proc/PID/stat: "pid (comm) state ppid …"; comm may hold spaces, so read after the last ')'
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (!children.has(ppid)) children.set(ppid, []);
      children.get(ppid)!.push(Number(name));
    } catch {
      // the process ended while we looked
    }
  }
  const out = [rootPid];
  for (let i = 0; i < out.length; i++) out.push(...(children.get(out[i]) ?? []));
  return out;
}

function pssKb(pid: number): number {
  try {
    const m = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** The browser process of this profile: the one whose command line names our user-data-dir. */
function browserPid(userDataDir: string): number | null {
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const cmd = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0');
      if (cmd.includes(`--user-data-dir=${userDataDir}`) && !cmd.some((a) => a.startsWith('--type='))) return Number(name);
    } catch {
      // gone
    }
  }
  return null;
}

export async function startBrowser(opts: { dist: string; modelDir: string; chromium?: string }): Promise<BrowserSession> {
  const server = await serveStatic(opts.dist, 0, {
    '/models/bench/': opts.modelDir,
    '/ort/': join(root, 'node_modules/onnxruntime-web/dist'),
    '/bench/': join(root, 'bench/page'),
  });
  const userDataDir = await mkdtemp(join(tmpdir(), 'pig-bench-profile-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: opts.chromium ?? process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1280, height: 820 },
  });
  // nothing may leave the loopback server (the studio fetches nothing else; this makes sure)
  const origin = new URL(server.url).origin;
  await context.route('**/*', (route) =>
    new URL(route.request().url()).origin === origin || /^(data|blob):/.test(route.request().url()) ? route.continue() : route.abort('blockedbyclient'),
  );
  let pid: number | null = null;
  const memory = new MemorySampler(() => (pid ??= browserPid(userDataDir)));
  const page = await context.newPage();
  const version = await page.evaluate(() => navigator.userAgent.match(/Chrome\/([\d.]+)/)?.[1] ?? 'unknown');
  await page.close();
  return {
    context,
    baseUrl: server.url,
    version,
    memory,
    close: async () => {
      await context.close().catch(() => undefined);
      await server.close();
      await rm(userDataDir, { recursive: true, force: true });
    },
  };
}

async function jsHeapMb(page: Page): Promise<number> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');
  const { metrics } = await cdp.send('Performance.getMetrics');
  await cdp.detach();
  return (metrics.find((m) => m.name === 'JSHeapUsedSize')?.value ?? 0) / 2 ** 20;
}

export interface ForwardOptions {
  ep: 'wasm' | 'webgpu';
  /** 'webgpu': ORT's WebGPU build (asyncify binary); 'wasm': the plain WASM build; 'jspi': WebGPU via JSPI. */
  bundle?: 'webgpu' | 'wasm' | 'jspi';
  /** 0: as the studio (engine/web.ts, wasmThreadCount). */
  threads?: number;
  reps: number;
  /** untimed runs after the first, while V8 optimises the WASM (default 0) */
  warm?: number;
  opt?: 'disabled' | 'basic' | 'extended' | 'all';
  resolution: number;
  file?: string;
  /** ORT's intra-op spinning: true (ORT's default) or false; default: the studio's setting */
  spin?: boolean;
  /** time model_x then model_y per "forward" (a joint step's two calls) instead of model_x alone */
  pair?: boolean;
}

export interface ForwardResult {
  crossOriginIsolated: boolean;
  numThreads: number;
  hardwareConcurrency: number;
  createMs: number;
  firstMs: number;
  forwardMs: number[];
}

/** One U-Net's raw forward (model_x unless `file` says otherwise) in a worker. */
export async function browserForward(b: BrowserSession, o: ForwardOptions, timeoutMs: number): Promise<ForwardResult> {
  // default build: the studio's for that backend (src/engine/web.ts ORT_BUILDS)
  const q = new URLSearchParams({
    model: `/models/bench/${o.file ?? 'mask.onnx'}`,
    ep: o.ep,
    bundle: o.bundle ?? o.ep,
    threads: String(o.threads ?? 0),
    reps: String(o.reps),
    warm: String(o.warm ?? 0),
    opt: o.opt ?? 'all',
    resolution: String(o.resolution),
    spin: o.spin === false ? '0' : '1',
    pair: o.pair ? '/models/bench/image.onnx' : '',
  });
  const page = await b.context.newPage();
  try {
    await page.goto(`${b.baseUrl}/bench/index.html?${q}`);
    const r = (await page.evaluate(
      (ms) =>
        Promise.race([
          (window as unknown as { benchResult: Promise<unknown> }).benchResult,
          new Promise((_, reject) => setTimeout(() => reject(new Error(`no result in ${ms} ms`)), ms)),
        ]),
      timeoutMs,
    )) as ForwardResult & { error?: string };
    if (r.error) throw new Error(`browser forward (${o.ep}): ${r.error}`);
    return r;
  } finally {
    await page.close();
  }
}

export interface StudioRun {
  /** page open → Generate enabled: app start, model files (network or Cache Storage), sessions, warm-up */
  loadMs: number;
  /** model files (graphs and weights files) requested over the network while loading (0 when all came from Cache Storage) */
  onnxRequests: number;
  /** Generate → "Done:" as the page shows it (the last of `generations`: V8 has optimised ORT's WASM by then) */
  pairMs: number;
  stepMs: number;
  /** the first Generate after the load (V8 still tiering ORT's WASM up) */
  firstPairMs: number;
  /** Generate → the first step's frame on screen (the status line's "step 1"), in the last Generate */
  firstFrameMs: number;
  /** the worker's own account of the last pair: the share of its time in the model calls (core/step-timing.ts) */
  modelShare: number | null;
  status: string;
  crossOriginIsolated: boolean;
  /** dedicated workers of the page: the studio's worker plus ORT's WASM threads (pthreads) */
  workers: number;
  peakPssMb: number;
  jsHeapMb: number;
}

/** Opens the studio on the bench model and generates one pair. */
export async function studioRun(
  b: BrowserSession,
  o: { backend: 'wasm' | 'webgpu'; steps: number; seed: number; previews: boolean; threads?: number; generations?: number },
  timeoutMs: number,
): Promise<StudioRun> {
  const page = await b.context.newPage();
  let onnxRequests = 0;
  page.on('request', (r) => {
    if (/\/models\/bench\/.*\.(onnx|weights)$/.test(r.url())) onnxRequests++;
  });
  b.memory.start();
  try {
    const t0 = Date.now();
    const threads = o.threads ? `&threads=${o.threads}` : '';
    await page.goto(`${b.baseUrl}/?model=bench&backend=${o.backend}&seed=${o.seed}&steps=${o.steps}&previews=${o.previews ? 'on' : 'off'}${threads}`);
    await page.waitForFunction(
      () => {
        const alert = document.querySelector('[role="alert"]');
        if (alert) throw new Error(`studio shows an error: ${alert.textContent}`);
        return [...document.querySelectorAll('button')].some((x) => x.textContent?.trim() === 'Generate' && !(x as HTMLButtonElement).disabled);
      },
      undefined,
      { timeout: timeoutMs, polling: 50 },
    );
    const loadMs = Date.now() - t0;
    const requestsAtLoad = onnxRequests;
    // Generate → the first step on screen and → "Done:", timed in the page (a MutationObserver on the status element)
    const generate = () =>
      page.evaluate(
        (ms) =>
          new Promise<{ pairMs: number; firstFrameMs: number }>((resolve, reject) => {
            const el = document.querySelector('[role="status"]')!;
            const button = [...document.querySelectorAll('button')].find((x) => x.textContent?.trim() === 'Generate')!;
            const timer = setTimeout(() => reject(new Error(`no "Done:" in ${ms} ms: ${el.textContent}`)), ms);
            let started = 0;
            // a second Generate starts from the first one's "Done:": wait for the run to show first
            let ran = false;
            let firstFrameMs = Number.NaN;
            new MutationObserver((_, obs) => {
              const alert = document.querySelector('[role="alert"]');
              if (alert) reject(new Error(`studio shows an error: ${alert.textContent}`));
              const text = el.textContent ?? '';
              if (!/Done:/.test(text)) ran = true;
              // "step 1 of" (previews on) or the result (a one-step run, or previews off: the only frame)
              if (Number.isNaN(firstFrameMs) && ran && /step [1-9]\d* of|Done:/.test(text)) firstFrameMs = performance.now() - started;
              if (ran && /Done:/.test(text)) {
                obs.disconnect();
                clearTimeout(timer);
                resolve({ pairMs: performance.now() - started, firstFrameMs });
              }
            }).observe(document.body, { subtree: true, childList: true, characterData: true });
            started = performance.now();
            button.click();
          }),
        timeoutMs,
      );
    const runs: { pairMs: number; firstFrameMs: number }[] = [];
    for (let i = 0; i < (o.generations ?? 1); i++) runs.push(await generate());
    const { pairMs, firstFrameMs } = runs[runs.length - 1];
    const status = ((await page.getByRole('status').innerText()) ?? '').replace(/\s+/g, ' ').trim();
    const share = /(\d+)% in the U-Nets/.exec(status);
    return {
      loadMs,
      onnxRequests: requestsAtLoad,
      pairMs,
      stepMs: pairMs / o.steps,
      firstPairMs: runs[0].pairMs,
      firstFrameMs,
      modelShare: share ? Number(share[1]) / 100 : null,
      status,
      crossOriginIsolated: await page.evaluate(() => self.crossOriginIsolated),
      workers: page.workers().length,
      peakPssMb: b.memory.stop(),
      jsHeapMb: await jsHeapMb(page),
    };
  } finally {
    b.memory.stop();
    await page.close();
  }
}
