// The layer rule (docs/layout.md), checked by `npm run lint:layers` in `npm test`:
//
//   core         imports only core: plain TypeScript (DDIM loop, manifest, PNG, datasets, cache keys)
//   engine       → core                (ONNX Runtime sessions, model sources)
//   worker       → engine, core        (the Studio behind comlink)
//   app          → core, and types only from src/worker/api.ts, the one seam to the worker
//   cli, bench   → engine, core
//   testing      → engine, core        (test helpers)
//
// A layer's tests may import what the layer may, and src/testing/. `import type` counts like any
// import (the app's types from worker/api.ts are the one place types alone are allowed). Two more
// doors, each its own rule: src/main.tsx mounts the app, and the app's composition root
// (src/app/studio.ts) starts the worker through its page-side modules. No cycles anywhere, type-only
// ones included. Files outside src/ (package.json, scripts/, e2e/'s browser harness that the
// benchmarks reuse) are not layers and are not constrained here.

/** layer → the src/ folders its files may import (itself first). */
const LAYERS = {
  core: ['core'],
  engine: ['engine', 'core'],
  worker: ['worker', 'engine', 'core'],
  app: ['app', 'core'],
  cli: ['cli', 'engine', 'core'],
  bench: ['bench', 'engine', 'core'],
  testing: ['testing', 'engine', 'core'],
};

const TEST = '\\.test\\.tsx?$';
const under = (folders) => `^src/(${folders.join('|')})/`;

/** The one seam between the page and the worker: the app may import types (only types) from it. */
const WORKER_API = '^src/worker/api\\.ts$';
/**
 * The worker's page-side modules: the app's composition root (src/app/studio.ts) starts the worker
 * with client.ts and turns its rejections into StudioErrors with errors.ts. A rule below keeps both
 * off the engine, so they pull no ORT into the page.
 */
const COMPOSITION_ROOT = '^src/app/studio\\.ts$';
const PAGE_SIDE_WORKER = '^src/worker/(client|errors)\\.ts$';

/** What else, beyond LAYERS, a layer's files may import. */
const EXTRA = { app: [WORKER_API] };

const layerRules = Object.entries(LAYERS).flatMap(([layer, folders]) => {
  const also = EXTRA[layer] ?? [];
  const what = `src/{${folders.join(',')}}${also.length ? ' and src/worker/api.ts (types)' : ''}`;
  return [
    {
      name: `${layer}-imports-only-its-layers`,
      comment: `src/${layer} may import only ${what}`,
      severity: 'error',
      from: { path: `^src/${layer}/`, pathNot: [TEST, ...(layer === 'app' ? [COMPOSITION_ROOT] : [])] },
      to: { path: '^src/', pathNot: [under(folders), ...also] },
    },
    {
      name: `${layer}-tests-import-only-its-layers-and-testing`,
      comment: `tests in src/${layer} may import ${what}, and src/testing`,
      severity: 'error',
      from: { path: `^src/${layer}/.+${TEST}` },
      to: { path: '^src/', pathNot: [under([...folders, 'testing']), ...also] },
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
      comment: 'src/app/studio.ts may import what the app may, plus the page-side worker modules client.ts (starts the worker) and errors.ts',
      severity: 'error',
      from: { path: COMPOSITION_ROOT },
      to: { path: '^src/', pathNot: [under(LAYERS.app), WORKER_API, PAGE_SIDE_WORKER] },
    },
    {
      name: 'app-imports-only-types-from-worker-api',
      comment: 'the page takes the worker API types from src/worker/api.ts, never its code (shared constants live in core)',
      severity: 'error',
      from: { path: '^src/(app/|main\\.tsx$)' },
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
      from: { path: '^src/main\\.tsx$' },
      to: { path: '^src/', pathNot: '^src/app/' },
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
      from: { path: '^src/(app/|main\\.tsx$)' },
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
