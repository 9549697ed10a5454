// How the e2e suite and the benchmark (bench/browser.ts) launch Debian's Chromium: headless,
// WebGPU enabled (SwiftShader's adapter where there is no GPU), nothing phoning home.
export const CHROMIUM_ARGS = [
  '--headless=new',
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
