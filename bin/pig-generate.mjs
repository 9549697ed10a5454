#!/usr/bin/env node
// `pig-generate` (package.json "bin"; `npm run generate` runs it too): the batch CLI,
// src/cli/generate.ts, run from its TypeScript sources through tsx's loader. tsx is a runtime
// dependency, so the CLI runs from an install without dev dependencies (`npm ci --omit=dev`), on
// Node 22 and 24 (module.register). Options: `pig-generate --help`, docs/cli.md.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/generate.ts');
