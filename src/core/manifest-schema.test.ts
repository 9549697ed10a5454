// schemas/manifest.schema.json against what it must agree with: the limits (src/core/limits.ts;
// training/tests/test_manifest_corpus.py checks the kit's against the same table), the sampler's
// clip modes, the file-name rule the engine applies to a graph's external data, and the generated
// validator (scripts/build-manifest-validator.mjs). The messages are the corpus's to check
// (src/engine/manifest-corpus.test.ts).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CLIP_MODES } from './ddim';
import * as limits from './limits';
import { FILE_NAME } from './manifest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const schema = JSON.parse(readFileSync(`${root}schemas/manifest.schema.json`, 'utf8'));
const table = JSON.parse(readFileSync(`${root}fixtures/manifest-schema-bounds.json`, 'utf8')) as {
  bounds: Record<string, string>;
  said: Record<string, string>;
};
/** Every limit of limits.ts by name (the table's names). */
const LIMITS: Record<string, unknown> = { ...limits };
const limit = (name: string) => LIMITS[name];

/** The value at a JSON Pointer into the schema. */
function at(pointer: string): unknown {
  return pointer
    .split('/')
    .slice(1)
    .reduce((v: any, k) => v?.[k.replace(/~1/g, '/').replace(/~0/g, '~')], schema);
}

describe('schemas/manifest.schema.json', () => {
  it.each(Object.entries(table.bounds))('%s is %s', (pointer, name) => {
    expect(typeof limit(name), name).toBe('number');
    expect(at(pointer)).toBe(limit(name));
  });

  it.each(Object.entries(table.said))('%s says %s', (pointer, fragment) => {
    expect(at(pointer)).toContain(fragment.replace(/\{([A-Z_]+)\}/g, (_, name: string) => String(limit(name))));
  });

  it("has the sampler's clip modes and the engine's file-name rule", () => {
    expect(at('/properties/sampler/properties/clip/enum')).toEqual([...CLIP_MODES]);
    expect(at('/$defs/fileName/pattern')).toBe(FILE_NAME.source);
  });

  it('is what src/core/manifest-validator.gen.js was generated from', () => {
    const run = spawnSync(process.execPath, [`${root}scripts/build-manifest-validator.mjs`, '--check'], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
  });
});
