// The studio's Content-Security-Policy, in one place, used three ways:
//   - a <meta http-equiv="Content-Security-Policy"> in the production build's index.html (vite.config.ts,
//     plugin `csp`), so any static host that serves dist/ as it is enforces it on the page;
//   - the same policy as a response header from `vite preview` and from harness/server.mjs. Only a header
//     reaches the worker: a dedicated worker's script gets its policy from its own response, not from
//     the page's <meta>, and the worker is where the models are fetched and run. Deploy dist/ with
//     this header (DEPLOY note in RELIABILITY.md);
//   - `vite` (dev) sends DEV_CSP: the same, plus what hot reload needs (its inline React-refresh
//     preamble, its <style> elements and its WebSocket).
//
// What each directive is for:
//   default-src 'self'                          everything else: only the studio's own origin
//   script-src 'self' 'wasm-unsafe-eval'        the app's modules and ORT's glue; compiling ORT's
//                                               WebAssembly (no 'unsafe-eval': no eval / new Function)
//   worker-src 'self' blob:                     the studio worker and ORT's pthread workers
//   img-src 'self' blob: data:                  canvases exported as blob:/data: URLs, the favicon
//   connect-src 'self' blob: data:              fetch of the model files (same origin only), uploads read as blob:
//   object-src 'none'; base-uri 'none'; form-action 'none'

/** The directives, in order. */
const CSP_DIRECTIVES = [
  ['default-src', "'self'"],
  ['script-src', "'self'", "'wasm-unsafe-eval'"],
  ['worker-src', "'self'", 'blob:'],
  ['img-src', "'self'", 'blob:', 'data:'],
  ['connect-src', "'self'", 'blob:', 'data:'],
  ['object-src', "'none'"],
  ['base-uri', "'none'"],
  ['form-action', "'none'"],
];

/** The policy as a header or <meta> value. */
export const CSP = CSP_DIRECTIVES.map((d) => d.join(' ')).join('; ');

/**
 * The dev server's policy: CSP plus 'unsafe-inline' scripts (Vite's React-refresh preamble is an
 * inline script), inline styles (Vite injects the CSS as <style> elements in dev) and ws:/wss:
 * connections on any host (the hot-reload socket). Never used for a build.
 */
export const DEV_CSP = [...CSP_DIRECTIVES.slice(0, 1), ['style-src', "'self'", "'unsafe-inline'"], ...CSP_DIRECTIVES.slice(1)]
  .map(([name, ...values]) => {
    if (name === 'script-src') return [name, ...values, "'unsafe-inline'"];
    if (name === 'connect-src') return [name, ...values, 'ws:', 'wss:'];
    return [name, ...values];
  })
  .map((d) => d.join(' '))
  .join('; ');

/** The <meta> element carrying CSP, for index.html's <head>. */
export const CSP_META = `<meta http-equiv="Content-Security-Policy" content="${CSP}" />`;
