// The layer rule (docs/layout.md), checked by `npm run lint:layers` in `npm run lint` over every
// folder with code (scripts/layers.test.ts checks that the command names them all, and that the rules
// fire on a small tree of wrong arrows). Each folder may import only the folders listed:
//
//   src/core      only core: plain TypeScript (DDIM loop, manifest, PNG, datasets, cache keys)
//   src/engine    → core                (ONNX Runtime sessions, model sources)
//   src/worker    → engine, core        (the Studio behind comlink)
//   src/app       → core, types only from src/worker/api.ts, the one seam to the worker; package.json (its version)
//   src/cli       → engine, core
//   src/testing   → engine, core        (test helpers)
//   src/security  → nothing             (the Content-Security-Policy)
//   bench/        → harness, src/engine, src/core   (the benchmark: it times the engine, and the built app in Chromium)
//   harness/      → src/security        (the static server, Chromium's flags and the pair comparisons that e2e and bench share)
//   e2e/          → harness             (the browser tests drive the built app, never its modules)
//   bin/          → src/cli
//   scripts/, training/pigkit/  → only themselves
//   the root's configs (vite, vitest, playwright) → src/security
//
// Node's own modules and packages are not layers (two rules below keep ORT, React and the like off
// core and the page). A layer's tests may import what the layer may, and src/testing (the CLI's,
// scripts/ too: its install test checks npm's scripts). `import type` counts like any import (the
// app's types from worker/api.ts are the one place types alone are allowed). Two more doors, each
// its own rule: src/main.tsx mounts the app, and the app's composition root (src/app/page-studio.ts)
// starts the worker through its page-side modules. A file in no layer may import nothing of the
// repository: a new folder gets its line here. No cycles anywhere, type-only ones included.

/** layer (a folder of the repository) → the folders its files may import (itself first). */
const LAYERS = {
  'src/core': ['src/core'],
  'src/engine': ['src/engine', 'src/core'],
  'src/worker': ['src/worker', 'src/engine', 'src/core'],
  'src/app': ['src/app', 'src/core'],
  'src/cli': ['src/cli', 'src/engine', 'src/core'],
  'src/testing': ['src/testing', 'src/engine', 'src/core'],
  'src/security': ['src/security'],
  bench: ['bench', 'harness', 'src/engine', 'src/core'],
  harness: ['harness', 'src/security'],
  e2e: ['e2e', 'harness'],
  bin: ['bin', 'src/cli'],
  scripts: ['scripts'],
  'training/pigkit': ['training/pigkit'],
};

const TEST = '\\.test\\.tsx?$';
const under = (folders) => `^(${folders.join('|')})/`;
/** A dependency on a file of the repository (not Node's own modules, not a package). */
const REPO = ['local'];

/** The one seam between the page and the worker: the app may import types (only types) from it. */
const WORKER_API = '^src/worker/api\\.ts$';
/**
 * The worker's page-side modules: the app's composition root (src/app/page-studio.ts) starts the worker
 * with client.ts and turns its rejections into StudioErrors with errors.ts. A rule below keeps both
 * off the engine, so they pull no ORT into the page.
 */
const COMPOSITION_ROOT = '^src/app/page-studio\\.ts$';
const PAGE_SIDE_WORKER = '^src/worker/(client|errors)\\.ts$';
/** The configs at the repository's root (vite.config.ts, vitest.config.ts, playwright.config.mjs). */
const ROOT_CONFIG = '^[^/]+\\.config\\.(ts|mjs)$';
const MAIN = '^src/main\\.tsx$';

/** What else, beyond LAYERS, a layer's files may import. */
const EXTRA = { 'src/app': [WORKER_API, '^package\\.json$'] };
/** What else a layer's tests may import: the CLI's install test checks npm's scripts (start, the prerequisites). */
const TEST_EXTRA = { 'src/cli': ['^scripts/'] };

const layerRules = Object.entries(LAYERS).flatMap(([layer, folders]) => {
  const also = EXTRA[layer] ?? [];
  const name = layer.replaceAll('/', '-');
  const what = `${folders.join(', ')}${also.length ? ', src/worker/api.ts (types) and package.json' : ''}`;
  return [
    {
      name: `${name}-imports-only-its-layers`,
      comment: `${layer} may import only ${what}`,
      severity: 'error',
      from: { path: `^${layer}/`, pathNot: [TEST, ...(layer === 'src/app' ? [COMPOSITION_ROOT] : [])] },
      to: { dependencyTypes: REPO, pathNot: [under(folders), ...also] },
    },
    {
      name: `${name}-tests-import-only-its-layers-and-testing`,
      comment: `tests in ${layer} may import ${what}, and src/testing${TEST_EXTRA[layer] ? ' and scripts/' : ''}`,
      severity: 'error',
      from: { path: `^${layer}/.+${TEST}` },
      to: { dependencyTypes: REPO, pathNot: [under([...folders, 'src/testing']), ...also, ...(TEST_EXTRA[layer] ?? [])] },
    },
  ];
});

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'no import cycles, type-only ones included',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    ...layerRules,
    {
      name: 'app-composition-root-reaches-the-worker-through-client-and-errors',
      comment: 'src/app/page-studio.ts may import what the app may, plus the page-side worker modules client.ts (starts the worker) and errors.ts',
      severity: 'error',
      from: { path: COMPOSITION_ROOT },
      to: { dependencyTypes: REPO, pathNot: [under(LAYERS['src/app']), WORKER_API, PAGE_SIDE_WORKER] },
    },
    {
      name: 'app-imports-only-types-from-worker-api',
      comment: 'the page takes the worker API types from src/worker/api.ts, never its code (shared constants live in core)',
      severity: 'error',
      from: { path: `^src/app/|${MAIN}` },
      to: { path: WORKER_API, dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'page-side-worker-modules-stay-off-the-engine',
      comment: 'worker/client.ts and worker/errors.ts run on the page: they must not pull the engine (ORT) or the Studio into its bundle',
      severity: 'error',
      from: { path: PAGE_SIDE_WORKER },
      to: { path: '^src/(engine/|worker/studio)' },
    },
    {
      name: 'main-imports-only-app',
      comment: 'src/main.tsx mounts the app',
      severity: 'error',
      from: { path: MAIN },
      to: { dependencyTypes: REPO, pathNot: '^src/app/' },
    },
    {
      name: 'root-configs-import-only-security',
      comment: 'the configs at the root (vite, vitest, playwright) may import only src/security (the CSP the builds and servers apply)',
      severity: 'error',
      from: { path: ROOT_CONFIG },
      to: { dependencyTypes: REPO, pathNot: '^src/security/' },
    },
    {
      name: 'a-file-in-no-layer-imports-nothing-of-the-repository',
      comment: 'a file outside every layer of LAYERS (a new folder?) may not import the repository: give its folder a line in LAYERS',
      severity: 'error',
      from: { pathNot: [under(Object.keys(LAYERS)), MAIN, ROOT_CONFIG] },
      to: { dependencyTypes: REPO },
    },
    {
      name: 'core-uses-no-runtime-packages',
      comment: 'core is plain TypeScript: no ONNX Runtime, React, comlink or zustand',
      severity: 'error',
      from: { path: '^src/core/' },
      to: { path: '(^|/)node_modules/(onnxruntime-[a-z]+|react|react-dom|comlink|zustand)/' },
    },
    {
      name: 'app-uses-no-onnxruntime',
      comment: 'ONNX Runtime runs in the worker (or the CLI), never on the page',
      severity: 'error',
      from: { path: `^src/app/|${MAIN}` },
      to: { path: '(^|/)node_modules/onnxruntime-' },
    },
  ],
  options: {
    // `import type` is a dependency too (the rules above say where types may come from)
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^dist/' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.tsx', '.mts', '.mjs', '.js', '.d.ts', '.json'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
