// Reliability and security (RELIABILITY.md): the Content-Security-Policy, what a whole visit sends,
// bad uploads, faults (worker crash, GPU device lost, no WebGPU adapter, hidden tab, NaN from a
// model), the long-run measurements; every request on the studio's origin.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import { chromium } from '@playwright/test';
import pngjs from 'pngjs';
import { CHROMIUM_ARGS } from '../../harness/chromium.mjs';
import { runBatch } from '../lib/batch.mjs';
import { CHROMIUM, test } from '../lib/fixtures.mjs';
import { chooseModelFiles, dismissAlert, modelRequestsSince, sha256, tinyModelFiles } from '../lib/models.mjs';
import { generateButton, openLoaded, tmpFolder, writeLesionMask, writeRgbPng } from '../lib/modes.mjs';
import { constantOutputUnet } from '../lib/onnx-nan.mjs';
import { downloadPair, generate, MODEL, note, openStudio, RUN_TIMEOUT, ready, statusText, visit, waitDone } from '../lib/studio.mjs';
import { downloadOne } from '../lib/viewer.mjs';

// ---------------------------------------------------------------------------------------------
// Upload files, made here

const chunk = (type, data) => {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])) >>> 0, 0);
  return Buffer.concat([head, data, crc]);
};
const u32 = (...values) => Buffer.concat(values.map((v) => Buffer.from([v >>> 24, (v >> 16) & 255, (v >> 8) & 255, v & 255])));
const SIGNATURE = Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]);

/** An 8-bit gray PNG of width×height from a function of (x, y) → 0…255, written with zlib (any size). */
function grayPng(width, height, value) {
  const raw = Buffer.alloc(height * (width + 1));
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) raw[y * (width + 1) + 1 + x] = value(x, y);
  const ihdr = Buffer.concat([u32(width, height), Buffer.from([8, 0, 0, 0, 0])]);
  return Buffer.concat([SIGNATURE, chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

/** A 2-frame APNG (8-bit gray): `first` and `second` are (x, y) → 0…255. */
function animatedPng(width, height, first, second) {
  const frame = (f) => {
    const raw = Buffer.alloc(height * (width + 1));
    for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) raw[y * (width + 1) + 1 + x] = f(x, y);
    return deflateSync(raw);
  };
  const fctl = (seq) => Buffer.concat([u32(seq, width, height, 0, 0), Buffer.from([0, 50, 0, 100, 0, 0])]);
  return Buffer.concat([
    SIGNATURE,
    chunk('IHDR', Buffer.concat([u32(width, height), Buffer.from([8, 0, 0, 0, 0])])),
    chunk('acTL', u32(2, 0)),
    chunk('fcTL', fctl(0)),
    chunk('IDAT', frame(first)),
    chunk('fcTL', fctl(1)),
    chunk('fdAT', Buffer.concat([u32(2), frame(second)])),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A 16-bit gray PNG (pngjs). */
function gray16Png(width, height, value) {
  const png = new pngjs.PNG({ width, height, bitDepth: 16, colorType: 0, inputColorType: 0 });
  png.data = Buffer.alloc(width * height * 2);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) png.data.writeUInt16BE(value(x, y), (y * width + x) * 2);
  return pngjs.PNG.sync.write(png, { bitDepth: 16, colorType: 0, inputColorType: 0 });
}

const disc =
  (w, h, r = 0.3) =>
  (x, y) =>
    Math.hypot((x + 0.5) / w - 0.5, (y + 0.5) / h - 0.5) < r ? 255 : 0;

/** The studio's own worker (the page's other workers are ORT's WASM threads). */
function studioWorker(page) {
  const w = page.workers().find((x) => /studio\.worker/.test(x.url()));
  assert.ok(w, `no studio worker among ${page.workers().map((x) => x.url())}`);
  return w;
}

/** Starts a long run and waits until it is past its first step. */
async function startLongRun(page, steps = 1024) {
  await page.getByLabel('Steps', { exact: true }).fill(String(steps));
  await generateButton(page).click();
  await page.waitForFunction(() => /Generating: step [1-9]\d* of/.test(document.querySelector('[role="status"]')?.textContent ?? ''), undefined, {
    timeout: RUN_TIMEOUT,
  });
}

/** The alert's text once it shows. */
async function alertText(page, timeout = 60_000) {
  const alert = page.getByRole('alert');
  await alert.waitFor({ timeout });
  return (await alert.innerText()).replace(/\s+/g, ' ').trim();
}

/** Dismisses the alert, runs 2 steps and expects them done: the studio is still usable. */
async function stillGenerates(page) {
  await dismissAlert(page);
  await page.getByLabel('Steps', { exact: true }).fill('2');
  const { text } = await generate(page);
  assert.match(text, /Done: 2 of 2 steps/);
  return text;
}

/** What the studio reports of CSP violations in the page: { directive, blocked } per violation. */
async function watchViolations(page) {
  await page.evaluate(() => {
    window.__cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) => window.__cspViolations.push({ directive: e.effectiveDirective, blocked: e.blockedURI }));
  });
  return () => page.evaluate(() => window.__cspViolations);
}

/** Every request the context makes from now on: { url, method, postData, resourceType }. */
function recordRequests(env) {
  const log = [];
  const onRequest = (r) => log.push({ url: r.url(), method: r.method(), postData: r.postData(), type: r.resourceType() });
  env.context.on('request', onRequest);
  return { log, stop: () => env.context.off('request', onRequest) };
}

// ---------------------------------------------------------------------------------------------
// Specs

test('security: the Content-Security-Policy is in force in the page and the worker (a foreign fetch is blocked and reported, an injected inline script refused)', async ({
  env,
}) => {
  const { page, errors } = await openLoaded(env, `?model=${MODEL}&backend=wasm`);
  const doc = await (await fetch(`${env.baseUrl}/`)).text();
  const header = (await fetch(`${env.baseUrl}/`)).headers.get('content-security-policy');
  assert.match(header ?? '', /default-src 'self'.*connect-src 'self' blob: data:/, `no CSP header: ${header}`);
  assert.match(doc, /<meta http-equiv="Content-Security-Policy" content="default-src 'self'/, 'the build has no CSP <meta>');
  // another origin that would answer (this very server under another host name): only the CSP stops it
  const other = env.baseUrl.replace('127.0.0.1', 'localhost');
  const violations = await watchViolations(page);
  const foreignBefore = env.foreign.length;
  const pageFetch = await page.evaluate(async (url) => {
    try {
      await fetch(url);
      return 'fetched';
    } catch (e) {
      return `refused: ${e}`;
    }
  }, `${other}/models/tiny/manifest.json`);
  assert.match(pageFetch, /^refused/);
  // an injected inline script does not run (DevTools' own evaluation is exempt, a page's script is not)
  const inline = await page.evaluate(async () => {
    const s = document.createElement('script');
    s.textContent = 'window.__inlineRan = true;';
    document.head.append(s);
    await new Promise((r) => setTimeout(r, 100));
    return window.__inlineRan === true ? 'ran' : 'refused';
  });
  assert.equal(inline, 'refused');
  await page.waitForFunction(() => window.__cspViolations.length >= 2);
  const seen = await violations();
  assert.ok(
    seen.some((v) => v.directive === 'connect-src' && v.blocked.startsWith(other)),
    `no connect-src violation: ${JSON.stringify(seen)}`,
  );
  assert.ok(
    seen.some((v) => v.directive === 'script-src-elem' && v.blocked === 'inline'),
    `no script-src-elem violation: ${JSON.stringify(seen)}`,
  );
  // the worker (where the models are fetched) has the header's policy
  const [worker] = page.workers();
  assert.ok(worker, 'no studio worker');
  const workerFetch = await worker.evaluate(async (url) => {
    const violations = [];
    self.addEventListener('securitypolicyviolation', (e) => violations.push(e.effectiveDirective));
    let outcome;
    try {
      await fetch(url);
      outcome = 'fetched';
    } catch (e) {
      outcome = `refused: ${e}`;
    }
    await new Promise((r) => setTimeout(r, 100));
    return { outcome, violations };
  }, `${other}/models/tiny/mask.onnx`);
  assert.match(workerFetch.outcome, /^refused/);
  assert.deepEqual(workerFetch.violations, ['connect-src']);
  // blocked by the policy before any request was made (the harness's router never saw them)
  assert.equal(env.foreign.length, foreignBefore, `requests reached the network: ${env.foreign.slice(foreignBefore)}`);
  note(`page: ${pageFetch}; worker: ${workerFetch.outcome}; violations ${JSON.stringify(seen)}`);
  assert.ok(
    errors.every((e) => /Content Security Policy|Refused to/.test(e)),
    `other page errors: ${errors}`,
  );
  await page.close();
});

test('security: a whole visit (load, generate, upload a mask, export PNG, APNG and ZIP) requests only the studio origin, sends no data, and breaks no CSP rule', {
  tag: ['@webgpu'],
}, async ({ env }) => {
  const dir = tmpFolder();
  const maskPath = join(dir, 'private-lesion-upload.png');
  await writeLesionMask(maskPath, 64, 48);
  const requests = recordRequests(env);
  const { page, errors } = await openLoaded(env, `?model=${MODEL}&seed=5&steps=2`);
  const violations = await watchViolations(page);
  await generate(page);
  await downloadPair(page);
  await downloadOne(page, 'Export animation');
  await downloadOne(page, 'Export contact sheet');
  await page.getByRole('radio', { name: 'Mask → image', exact: true }).check();
  await page.getByLabel('Upload mask', { exact: true }).setInputFiles(maskPath);
  await page.waitForFunction(() => /private-lesion-upload\.png/.test(document.querySelector('[data-testid="mask-note"]')?.textContent ?? ''));
  await generate(page);
  await downloadPair(page);
  assert.match(await runBatch(page, 0, 2), /^Done: 2 pairs/);
  await downloadOne(page, 'Download dataset (ZIP)');
  requests.stop();
  const log = requests.log.filter((r) => !r.url.startsWith('data:') && !r.url.startsWith('blob:'));
  const foreign = log.filter((r) => new URL(r.url).origin !== env.origin);
  assert.deepEqual(foreign, [], `requests left the origin: ${foreign.map((r) => r.url)}`);
  const sending = log.filter((r) => r.method !== 'GET' || r.postData);
  assert.deepEqual(sending, [], `requests sent data: ${JSON.stringify(sending)}`);
  assert.ok(
    log.every((r) => !r.url.includes('private-lesion')),
    'the uploaded file name appeared in a request',
  );
  assert.ok(log.some((r) => r.url.endsWith('.onnx')) || log.some((r) => r.url.endsWith('manifest.json')), 'no model request seen: the worker is not watched');
  assert.deepEqual(await violations(), [], 'the studio itself broke its CSP');
  assert.deepEqual(
    errors.filter((e) => /Content Security Policy|Refused to/.test(e)),
    [],
  );
  const paths = [...new Set(log.map((r) => new URL(r.url).pathname.replace(/-[\w-]{8}(?=\.\w+$)/, '-*')))].sort();
  note(`${log.length} requests, all GET to ${env.origin}: ${paths.join(' ')}`);
  await page.close();
});

test('faults: the studio worker ending mid-run (closed, as when the browser ends it) is noticed; a new worker reopens the model, the frames stay, Generate works', async ({
  env,
}) => {
  const { page } = await openStudio(env, `?model=${MODEL}&backend=wasm&seed=3`);
  const first = studioWorker(page);
  await startLongRun(page);
  await first.evaluate(() => self.close());
  const said = await alertText(page);
  note(`alert: ${said}`);
  assert.match(
    said,
    /^The studio worker stopped \(it was ended: closed, crashed or out of memory\); a new one was started and the model was reopened\. What was running stopped; the steps and pairs shown are kept\./,
  );
  assert.ok(!(await page.getByRole('slider', { name: 'Step', exact: true }).isDisabled()), 'the steps that arrived are gone');
  await assert.rejects(
    first.evaluate(() => 1),
    'the first worker still runs',
  );
  assert.ok(await studioWorker(page).evaluate(() => true), 'no new worker');
  assert.match(await statusText(page), /Backend: WASM/);
  note(await stillGenerates(page));
  await page.close();
});

test('faults: the studio worker throwing at top level mid-run is restarted and the user told; the studio keeps working', async ({ env }) => {
  const { page } = await openStudio(env, `?model=${MODEL}&backend=wasm&seed=3`);
  await startLongRun(page);
  await studioWorker(page).evaluate(() =>
    setTimeout(() => {
      throw new Error('injected fault');
    }),
  );
  const said = await alertText(page);
  note(`alert: ${said}`);
  assert.match(said, /^The studio worker stopped \(it threw: Uncaught Error: injected fault\); a new one was started and the model was reopened\./);
  note(await stillGenerates(page));
  await page.close();
});

test('faults: the GPU device lost mid-run: the run ends with a message, the model is reopened on WASM, and Generate works there', { tag: ['@webgpu'] }, async ({
  env,
}) => {
  const { page } = await openStudio(env, `?model=${MODEL}&backend=webgpu&seed=3`);
  assert.match(await statusText(page), /Backend: WebGPU/);
  const worker = studioWorker(page);
  // keep a hand on ORT's device: the next command encoder it creates tells us which it is
  await worker.evaluate(() => {
    const proto = GPUDevice.prototype;
    const create = proto.createCommandEncoder;
    proto.createCommandEncoder = function (...args) {
      self.__ortDevice = this;
      return create.apply(this, args);
    };
  });
  await startLongRun(page, 64);
  assert.ok(await worker.evaluate(() => self.__ortDevice !== undefined), 'ORT used no GPU device');
  await worker.evaluate(() => self.__ortDevice.destroy());
  const said = await alertText(page, RUN_TIMEOUT);
  note(`alert: ${said}`);
  assert.match(
    said,
    /^Generation failed: The GPU device was lost during the run \(destroyed[^)]*\); the model was reopened on WASM\. Press Generate to run again\./,
  );
  assert.match(await statusText(page), /Backend: WASM \(the GPU device was lost \(destroyed/);
  note(await stillGenerates(page));
  await page.close();
});

test('faults: a model whose output is NaN: the run ends with a message naming the file, the model and the step; the studio keeps working', async ({ env }) => {
  const { page } = await openStudio(env, `?model=${MODEL}&backend=wasm&seed=3`);
  await chooseModelFiles(
    page,
    await tinyModelFiles(async (m, files) => {
      const nan = constantOutputUnet(32, 32, NaN);
      m.name = 'tiny-nan';
      files.set('mask.onnx', nan);
      m.models.mask.sha256 = await sha256(nan);
      m.models.mask.bytes = nan.length;
      delete m.models.mask.weights; // the stand-in holds its (few) tensors
      delete m.models.maskStep;
      delete m.models.imageStep;
      files.delete('mask_step.onnx');
      files.delete('image_step.onnx');
      files.delete('mask.weights');
    }),
  );
  await page.getByLabel('Steps', { exact: true }).fill('4');
  await generateButton(page).click();
  const said = await alertText(page);
  note(`alert: ${said}`);
  assert.match(
    said,
    /^Generation failed: mask\.onnx: the mask model's ε at step 1 \(t = 768\) has 1024 NaN of its 1024 values\. The model file is broken or its weights diverged; the run was stopped\./,
  );
  await dismissAlert(page);
  // the studio is fine: the good model opens and generates
  await chooseModelFiles(page, await tinyModelFiles());
  await page.getByLabel('Steps', { exact: true }).fill('2');
  assert.match((await generate(page)).text, /Done: 2 of 2 steps/);
  await page.close();
});

test('faults: a corrupt model file in Cache Storage is evicted and fetched once from the server: the model opens and generates, and the panel says so', async ({
  env,
}) => {
  const { page, errors } = await visit(env, `?model=${MODEL}&backend=wasm&seed=3`);
  await ready(page);
  // this visit's own download fills the cache (other specs of this worker may have cached the model)
  await page.evaluate(async () => Promise.all((await caches.keys()).filter((k) => k.startsWith('pig-model:')).map((k) => caches.delete(k))));
  await page.reload();
  await ready(page);
  // mask.onnx's entry, one bit flipped under the same key (its SHA-256): what a damaged disk leaves
  const corrupted = await page.evaluate(async () => {
    const name = (await caches.keys()).find((k) => k.startsWith('pig-model:bundled:'));
    const cache = await caches.open(name);
    const key = (await cache.keys()).find((r) => new URL(r.url).pathname === '/mask.onnx');
    const res = await cache.match(key);
    const bytes = new Uint8Array(await res.arrayBuffer());
    bytes[100] ^= 1;
    await cache.put(key, new Response(bytes, { headers: res.headers }));
    return key.url;
  });
  note(`corrupted ${corrupted}`);
  const before = env.seen.length;
  await page.reload();
  await ready(page);
  assert.deepEqual(
    modelRequestsSince(env, before).map((u) => new URL(u).pathname),
    [`/models/${MODEL}/mask.onnx`],
    'only the corrupt file is fetched again',
  );
  await page.locator('.model-panel > details > summary').click();
  const said = (await page.getByLabel('Cache note').innerText()).trim();
  note(`cache note: ${said}`);
  assert.equal(said, 'The cached copy of mask.onnx was corrupt (not the size and SHA-256 the manifest gives): evicted and fetched again');
  await page.getByLabel('Steps', { exact: true }).fill('2');
  assert.match((await generate(page)).text, /Done: 2 of 2 steps/);
  // the cache holds the server's file again: the next reload fetches nothing
  const again = env.seen.length;
  await page.reload();
  await ready(page);
  assert.deepEqual(modelRequestsSince(env, again), []);
  assert.deepEqual(errors, []);
  await page.close();
});

test('faults: no WebGPU adapter (Chromium without WebGPU): the studio runs on WASM and says why', async ({ env }) => {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [...CHROMIUM_ARGS.filter((a) => a !== '--enable-unsafe-webgpu'), '--disable-webgpu'],
  });
  try {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${env.baseUrl}/?model=${MODEL}&seed=3&steps=2`);
    const gpu = await page.evaluate(async () => (navigator.gpu ? ((await navigator.gpu.requestAdapter()) ? 'adapter' : 'no adapter') : 'no navigator.gpu'));
    assert.notEqual(gpu, 'adapter', 'this Chromium still has a WebGPU adapter');
    await generateButton(page).waitFor();
    await page.waitForFunction(() => /Ready/.test(document.querySelector('[role="status"]')?.textContent ?? ''), undefined, { timeout: RUN_TIMEOUT });
    const status = await statusText(page);
    note(`${gpu}: ${status}`);
    assert.match(status, /Backend: WASM \((no WebGPU adapter|this browser has no WebGPU)\)/);
    assert.match((await generate(page)).text, /Done: 2 of 2 steps/);
    await context.close();
  } finally {
    await browser.close();
  }
});

test('faults: the tab hidden mid-run (no animation frames at all): the run finishes and every step arrives', async ({ env }) => {
  const { page } = await openStudio(env, `?model=${MODEL}&backend=wasm&seed=3&steps=6`);
  await generateButton(page).click();
  // as a background tab: hidden, and requestAnimationFrame never calls back
  await page.evaluate(() => {
    Object.defineProperty(document, 'hidden', { configurable: true, get: () => true });
    Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' });
    window.requestAnimationFrame = () => 0;
    document.dispatchEvent(new Event('visibilitychange'));
  });
  const text = await waitDone(page);
  note(text);
  assert.match(text, /Done: 6 of 6 steps/);
  const slider = page.getByRole('slider', { name: 'Step', exact: true });
  assert.equal(await slider.getAttribute('max'), '5'); // steps 0 … 5
  await page.close();
});

test('input: steps 0 and 100000 and a seed of text are refused with a message; a second Generate while one runs starts nothing', async ({ env }) => {
  const { page } = await openStudio(env, `?model=${MODEL}&backend=wasm&seed=3`);
  for (const [label, value, pattern] of [
    ['Steps', '0', /Steps must be a whole number from 1 to 1024/],
    ['Steps', '100000', /Steps must be a whole number from 1 to 1024/],
    ['Seed', 'seed please', /Seed must be a whole number from 0 to 4294967295/],
  ]) {
    await page.getByLabel(label, { exact: true }).fill(value);
    await generateButton(page).click();
    const said = await alertText(page, 10_000);
    note(`${label} "${value}": ${said}`);
    assert.match(said, pattern);
    await dismissAlert(page);
    await page.getByLabel('Steps', { exact: true }).fill('4');
    await page.getByLabel('Seed', { exact: true }).fill('3');
  }
  await startLongRun(page);
  assert.ok(await generateButton(page).isDisabled(), 'Generate is enabled during a run');
  // a second Generate anyway (the form submitted as Enter would, twice): nothing new starts
  await page.evaluate(() => {
    document.querySelector('form.controls').requestSubmit();
    document.querySelector('form.controls').requestSubmit();
  });
  assert.equal(await page.getByRole('alert').count(), 0);
  assert.match(await statusText(page), /Generating: step \d+ of 1024/);
  await page.getByRole('button', { name: 'Cancel', exact: true }).click();
  await page.waitForFunction(() => /Cancelled after/.test(document.querySelector('[role="status"]')?.textContent ?? ''), undefined, { timeout: RUN_TIMEOUT });
  await page.getByLabel('Steps', { exact: true }).fill('2');
  assert.match((await generate(page)).text, /Done: 2 of 2 steps/);
  await page.close();
});

test('uploads: huge (refused from the header before decoding), tiny, non-square, 16-bit, colour, animated and non-image files each get a message; the studio keeps generating', async ({
  env,
}) => {
  const dir = tmpFolder();
  const put = async (name, bytes) => {
    const path = join(dir, name);
    await writeFile(path, bytes);
    return path;
  };
  const { page, errors } = await openLoaded(env, `?model=${MODEL}&backend=wasm&mode=mask2image&seed=8&steps=2`);
  const maskNote = () => page.getByTestId('mask-note').innerText();
  const uploadMask = async (path, name) => {
    await page.getByLabel('Upload mask', { exact: true }).setInputFiles(path);
    await page.waitForFunction(
      (n) => document.querySelector('[role="alert"]') || document.querySelector('[data-testid="mask-note"]')?.textContent?.includes(n),
      name,
      { timeout: 60_000 },
    );
  };
  // huge: 7000×7000 (49 MP), a real PNG that the browser would decode to 196 MB of RGBA
  const huge = await put(
    'huge-7000.png',
    grayPng(7000, 7000, (x, y) => ((x - 3500) ** 2 + (y - 3500) ** 2 < 2000 ** 2 ? 255 : 0)),
  );
  await uploadMask(huge, 'huge-7000.png');
  const said = await alertText(page, 10_000);
  note(`huge: ${said}`);
  assert.match(said, /^Could not use “huge-7000\.png” as a mask: it is 7000×7000 pixels \(49\.0 MP\); the studio takes images of up to 40\.0 MP\./);
  await dismissAlert(page);
  assert.ok(await generateButton(page).isDisabled(), 'the refused mask was used');
  // tiny: 3×3 with the centre lesion, upscaled
  await uploadMask(
    await put(
      'tiny-3x3.png',
      grayPng(3, 3, (x, y) => (x === 1 && y === 1 ? 255 : 0)),
    ),
    'tiny-3x3.png',
  );
  note(`tiny: ${await maskNote()}`);
  assert.match(await maskNote(), /“tiny-3x3\.png”: resized 3×3 → 32×32, lesion = gray level 255/);
  // non-square: stretched, and says so
  await uploadMask(await put('wide-200x40.png', grayPng(200, 40, disc(200, 40, 0.4))), 'wide-200x40.png');
  assert.match(await maskNote(), /resized 200×40 → 32×32 \(stretched: the aspect ratio is not kept/);
  // animated: the first frame (a disc) is used, not the second (empty), and the note says so
  await uploadMask(
    await put(
      'anim.png',
      animatedPng(64, 64, disc(64, 64), () => 0),
    ),
    'anim.png',
  );
  note(`animated: ${await maskNote()}`);
  assert.match(
    await maskNote(),
    /^“anim\.png”: animated PNG \(2 frames\): the first frame is used; resized 64×64 → 32×32, lesion = gray level 255.*; \d+\.\d% lesion/,
  );
  // 16-bit mask
  await uploadMask(
    await put(
      'mask16.png',
      gray16Png(48, 48, (x, y) => disc(48, 48)(x, y) * 257),
    ),
    'mask16.png',
  );
  note(`16-bit mask: ${await maskNote()}`);
  assert.match(await maskNote(), /^“mask16\.png”: 16-bit PNG, read by the browser as 8 bits per sample; resized 48×48 → 32×32/);
  // not an image (a text file named .png)
  await page.getByLabel('Upload mask', { exact: true }).setInputFiles(await put('fake.png', 'this is not a PNG\n'));
  assert.match(await alertText(page, 10_000), /Could not use “fake\.png” as a mask: it is not an image this browser can decode/);
  await dismissAlert(page);
  assert.match(await maskNote(), /mask16\.png/, 'a refused file replaced the mask');
  assert.match((await generate(page)).text, /Done: 2 of 2 steps/);
  // Image → mask: colour and 16-bit images are made gray, and say how
  await page.getByRole('radio', { name: 'Image → mask', exact: true }).check();
  const imageNote = () => page.getByTestId('image-note').innerText();
  const uploadImage = async (path, name) => {
    await page.getByLabel('Upload image', { exact: true }).setInputFiles(path);
    await page.waitForFunction(
      (n) => document.querySelector('[role="alert"]') || document.querySelector('[data-testid="image-note"]')?.textContent?.includes(n),
      name,
      { timeout: 60_000 },
    );
  };
  const colour = join(dir, 'colour.png');
  await writeRgbPng(colour, 50, 40, (x, y) => [x * 5, y * 6, 128]);
  await uploadImage(colour, 'colour.png');
  note(`colour: ${await imageNote()}`);
  assert.match(await imageNote(), /“colour\.png”: resized 50×40 → 32×32 \(stretched.*\), gray from RGB \(ITU-R 601 luminance\), scaled to \[−1, 1\]/);
  await uploadImage(
    await put(
      'scan16.png',
      gray16Png(40, 40, (x, y) => 20000 + x * 700 + y * 11),
    ),
    'scan16.png',
  );
  note(`16-bit image: ${await imageNote()}`);
  assert.match(await imageNote(), /^“scan16\.png”: 16-bit PNG, read by the browser as 8 bits per sample; resized 40×40 → 32×32/);
  assert.match((await generate(page)).text, /Done: 2 of 2 steps/);
  assert.deepEqual(errors, []);
  await page.close();
});

test('input: a model for another resolution (64×64) opens and generates at its size; the 32×32 mask in the editor is not carried over', async ({ env }) => {
  const { page, errors } = await openLoaded(env, `?model=${MODEL}&backend=wasm&mode=mask2image&seed=2&steps=2`);
  const dir = tmpFolder();
  const maskPath = join(dir, 'lesion.png');
  await writeLesionMask(maskPath, 32, 32);
  await page.getByLabel('Upload mask', { exact: true }).setInputFiles(maskPath);
  await page.waitForFunction(() => /lesion\.png/.test(document.querySelector('[data-testid="mask-note"]')?.textContent ?? ''));
  assert.ok(!(await generateButton(page).isDisabled()));
  // a consistent 64×64 model (ε = 0: a stand-in U-Net made in the test), manifest and files agreeing
  await page.getByLabel('Model files', { exact: true }).setInputFiles(
    await tinyModelFiles(async (m, files) => {
      m.name = 'stand-in-64';
      m.resolution = [64, 64];
      for (const role of ['mask', 'image']) {
        const bytes = constantOutputUnet(64, 64, 0);
        files.set(`${role}.onnx`, bytes);
        files.delete(`${role}.weights`);
        Object.assign(m.models[role], { sha256: await sha256(bytes), bytes: bytes.length });
        delete m.models[role].weights;
        for (const t of [...m.models[role].inputs, ...m.models[role].outputs]) if (t.shape.length === 4) t.shape = [1, t.shape[1], 64, 64];
      }
      delete m.models.maskStep;
      delete m.models.imageStep;
      files.delete('mask_step.onnx');
      files.delete('image_step.onnx');
    }),
  );
  await page.waitForFunction(() => /Opened model stand-in-64/.test(document.querySelector('[role="status"]')?.textContent ?? ''), undefined, {
    timeout: RUN_TIMEOUT,
  });
  assert.ok(await generateButton(page).isDisabled(), 'the 32×32 mask was kept for a 64×64 model');
  assert.match(await page.locator('#generate-blocker').innerText(), /needs a mask/);
  await page.getByLabel('Upload mask', { exact: true }).setInputFiles(maskPath);
  await page.waitForFunction(() => /resized 32×32 → 64×64/.test(document.querySelector('[data-testid="mask-note"]')?.textContent ?? ''));
  await generate(page);
  const files = await downloadPair(page);
  assert.deepEqual([files.image.png.width, files.image.png.height, files.mask.png.width, files.mask.png.height], [64, 64, 64, 64]);
  await page.getByRole('radio', { name: 'Pair', exact: true }).check();
  assert.match((await generate(page)).text, /Done: 8 of 8 steps/); // the model's default steps
  assert.deepEqual(errors, []);
  await page.close();
});

test('long runs: WebGPU buffers do not pile up over 8 consecutive generations (step graphs, buffers counted in the worker)', { tag: ['@webgpu'] }, async ({
  env,
}) => {
  const { page } = await openStudio(env, `?model=${MODEL}&backend=webgpu&seed=1&steps=2`);
  assert.match(await statusText(page), /Backend: WebGPU \(GPU-resident steps\)/);
  const worker = studioWorker(page);
  // every GPU buffer created from now on, until destroyed (ORT pools its own; ours are destroyed by dispose)
  await worker.evaluate(() => {
    const live = new Set();
    self.__liveBuffers = live;
    self.__createdBuffers = 0;
    const proto = GPUDevice.prototype;
    const create = proto.createBuffer;
    proto.createBuffer = function (...args) {
      const b = create.apply(this, args);
      self.__createdBuffers++;
      live.add(b);
      const destroy = b.destroy.bind(b);
      b.destroy = () => {
        live.delete(b);
        destroy();
      };
      return b;
    };
  });
  const counts = [];
  const t0 = Date.now();
  for (let i = 1; i <= 8; i++) {
    await page.getByLabel('Seed', { exact: true }).fill(String(i));
    await generate(page);
    counts.push(await worker.evaluate(() => self.__liveBuffers.size));
  }
  const created = await worker.evaluate(() => self.__createdBuffers);
  note(
    `live GPU buffers of the ${created} created since the first run, after each of 8 runs of 2 steps (${((Date.now() - t0) / 1000).toFixed(0)} s): ${counts.join(', ')}`,
  );
  assert.ok(created >= 8 * 3, `only ${created} buffers were seen created: the count is not watching ORT's device`);
  // the first runs fill ORT's pools; after that a run leaves no more buffers alive than the one before it did
  assert.ok(Math.max(...counts.slice(2)) <= counts[2], `buffers grow run after run: ${counts}`);
  await page.close();
});

// it takes longer than the default 240 s per spec (E2E_TEST_TIMEOUT_MS): 30 minutes
test('measure: memory over 50 consecutive generations and a batch of 200 (WASM, tiny model; page + worker memory, not asserted)', {
  tag: ['@measure'],
}, async ({ env }) => {
  test.setTimeout(Math.max(test.info().timeout, 1_800_000));
  const steps = Number(process.env.E2E_MEMORY_STEPS ?? 32);
  const runs = Number(process.env.E2E_MEMORY_RUNS ?? 50);
  const batch = Number(process.env.E2E_MEMORY_BATCH ?? 200);
  const { page } = await openStudio(env, `?model=${MODEL}&backend=wasm&seed=1&steps=${steps}`);
  const cdp = await page.context().newCDPSession(page);
  const mib = (b) => `${(b / 2 ** 20).toFixed(1)} MiB`;
  /** The whole agent (page and its workers, WASM memory included) after a GC, and the page's JS heap. */
  const memory = async () => {
    await cdp.send('HeapProfiler.collectGarbage');
    const ua = await page.evaluate(async () => {
      if (!self.crossOriginIsolated || !performance.measureUserAgentSpecificMemory) return null;
      const m = await performance.measureUserAgentSpecificMemory();
      const worker = m.breakdown.filter((b) => b.attribution.some((a) => a.scope === 'DedicatedWorkerGlobalScope')).reduce((n, b) => n + b.bytes, 0);
      return { total: m.bytes, worker };
    });
    const { usedSize, backingStorageSize } = await cdp.send('Runtime.getHeapUsage');
    return { total: ua?.total ?? NaN, worker: ua?.worker ?? NaN, pageHeap: usedSize + (backingStorageSize ?? 0) };
  };
  const row = (label, m, base) =>
    `${label}: agent ${mib(m.total)}${base ? ` (${m.total >= base.total ? '+' : ''}${mib(m.total - base.total)})` : ''}, workers ${mib(m.worker)}, page JS heap ${mib(m.pageHeap)}${base ? ` (${m.pageHeap >= base.pageHeap ? '+' : ''}${mib(m.pageHeap - base.pageHeap)})` : ''}`;
  await generate(page); // warm: ORT's arenas and the first trajectory exist
  const start = await memory();
  note(row(`after 1 generation of ${steps} steps`, start));
  const t0 = Date.now();
  let last = '';
  for (let i = 2; i <= runs; i++) {
    await page.getByLabel('Seed', { exact: true }).fill(String(i));
    last = (await generate(page)).text;
    if (i === 10 || i === 25 || i === runs) note(row(`after ${i} generations`, await memory(), start));
  }
  note(`${runs} generations in ${((Date.now() - t0) / 1000).toFixed(0)} s (incl. the memory readings); the last: ${last}`);
  const trajectory = steps * 2 * 32 * 32 * 4;
  note(`one trajectory (kept for the last run only): ${steps} × 2 × 32×32 × 4 B = ${mib(trajectory)}`);
  await page.getByLabel('Steps', { exact: true }).fill('2');
  const t1 = Date.now();
  const done = await runBatch(page, 0, batch, 1_800_000);
  const afterBatch = await memory();
  note(`batch of ${batch} at 2 steps: ${done} (wall ${((Date.now() - t1) / 1000).toFixed(0)} s)`);
  note(row(`after the batch of ${batch}`, afterBatch, start));
  note(`the batch's pairs as kept (mask 1 B + image 4 B a pixel): ${batch} × 32×32 × 5 B = ${mib(batch * 32 * 32 * 5)}`);
  // the same batch again: the gallery is replaced, so memory should come back to the same level
  const again = await runBatch(page, batch, batch, 1_800_000);
  note(`a second batch of ${batch}: ${again}`);
  note(row(`after the second batch of ${batch}`, await memory(), start));
  await cdp.detach();
  await page.close();
});

// The check that ended the old runner's every run, standing alone: the fixtures' router sees the
// worker's requests too (the model is fetched there), and none of this worker's requests so far left
// the origin. (After each spec the `guard` fixture checks that spec's own requests.)
test('every request stayed on the studio origin', async ({ env }) => {
  const from = env.seen.length;
  const { page, errors } = await visit(env, `?model=${MODEL}&backend=wasm`);
  await page.evaluate(async () => Promise.all((await caches.keys()).filter((k) => k.startsWith('pig-model:')).map((k) => caches.delete(k))));
  await page.reload();
  await ready(page);
  assert.deepEqual(errors, []);
  await page.close();
  assert.deepEqual(env.foreign, [], `requests left the origin: ${env.foreign.join(', ')}`);
  const models = modelRequestsSince(env, from);
  assert.ok(models.length > 0, 'no model file request was observed, so requests from the worker are not being watched');
  note(`${env.seen.length} requests in this worker so far, all to ${env.origin} (incl. ${models.length} model files fetched by the worker in this spec)`);
});
