// The e2e suite (e2e/specs/*.spec.mjs) on Playwright's test runner against the production build in
// Debian's Chromium (never a downloaded browser: the fixtures launch CHROMIUM, default /usr/bin/chromium).
// `npm run test:e2e` builds, then runs both projects:
//   wasm    every spec not tagged @webgpu, on the WASM backend (fast on any machine)
//   webgpu  the specs tagged @webgpu: WebGPU's own checks (step graphs, device loss, buffers) and the
//           parity checks that compare WebGPU with WASM (SwiftShader's WebGPU where there is no GPU: slow)
// The measurements (@measure) run only with E2E_MEASURE=1. One worker: two cores, heavy pages.
// E2E_TEST_TIMEOUT_MS: the time a spec may take (240 s; twice that in webgpu). Traces: E2E_TRACE (e2e/lib/fixtures.mjs).
import { defineConfig } from '@playwright/test';

const measure = process.env.E2E_MEASURE === '1';
const timeout = Number(process.env.E2E_TEST_TIMEOUT_MS ?? 240_000);

export default defineConfig({
  testDir: 'e2e/specs',
  testMatch: '**/*.spec.mjs',
  outputDir: 'test-results/e2e',
  workers: 1,
  fullyParallel: false,
  retries: 0,
  forbidOnly: !!process.env.CI,
  timeout,
  reporter: [['./e2e/lib/reporter.mjs']],
  projects: [
    { name: 'wasm', grepInvert: measure ? /@webgpu/ : /@webgpu|@measure/ },
    // SwiftShader runs a step graph in ~10 s: twice the time per spec
    { name: 'webgpu', grep: /@webgpu/, grepInvert: measure ? undefined : /@measure/, timeout: 2 * timeout },
  ],
});
