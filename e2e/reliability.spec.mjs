// Reliability and security specs (RELIABILITY.md): the Content-Security-Policy, what a whole visit
// sends, bad uploads, faults (worker crash, GPU device lost, no WebGPU adapter, hidden tab, NaN
// from a model) and the long-run memory measurement. Helpers come from studio.spec.mjs.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { writeFile } from 'node:fs/promises';
import {
  MODEL,
  RUN_TIMEOUT,
  dismissAlert,
  downloadOne,
  downloadPair,
  generate,
  generateButton,
  note,
  openLoaded,
  openStudio,
  runBatch,
  statusText,
  tmpFolder,
  writeLesionMask,
} from './studio.spec.mjs';

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

export const tests = [
  {
    name: 'security: the Content-Security-Policy is in force in the page and the worker (a foreign fetch is blocked and reported, an injected inline script refused)',
    fn: async (env) => {
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
      assert.ok(seen.some((v) => v.directive === 'connect-src' && v.blocked.startsWith(other)), `no connect-src violation: ${JSON.stringify(seen)}`);
      assert.ok(seen.some((v) => v.directive === 'script-src-elem' && v.blocked === 'inline'), `no script-src-elem violation: ${JSON.stringify(seen)}`);
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
      assert.ok(errors.every((e) => /Content Security Policy|Refused to/.test(e)), `other page errors: ${errors}`);
      await page.close();
    },
  },
  {
    name: 'security: a whole visit (load, generate, upload a mask, export PNG, APNG and ZIP) requests only the studio origin, sends no data, and breaks no CSP rule',
    fn: async (env) => {
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
      assert.ok(log.every((r) => !r.url.includes('private-lesion')), 'the uploaded file name appeared in a request');
      assert.ok(log.some((r) => r.url.endsWith('.onnx')) || log.some((r) => r.url.endsWith('manifest.json')), 'no model request seen: the worker is not watched');
      assert.deepEqual(await violations(), [], 'the studio itself broke its CSP');
      assert.deepEqual(errors.filter((e) => /Content Security Policy|Refused to/.test(e)), []);
      const paths = [...new Set(log.map((r) => new URL(r.url).pathname.replace(/-[\w-]{8}(?=\.\w+$)/, '-*')))].sort();
      note(`${log.length} requests, all GET to ${env.origin}: ${paths.join(' ')}`);
      await page.close();
    },
  },
];
