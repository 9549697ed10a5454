// externalDataLocations against the `onnx` library's protobuf parser (C++ protobuf, as ONNX
// Runtime's) on fuzzed files: it must never miss a location protobuf reads. The committed corpus is
// training/tests/onnx_fuzz.py's seeded random structures; test_onnx_header_fuzz.py runs this file
// on a fresh, larger one with mutations of the exported graphs (ONNX_FUZZ_CORPUS).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { checkExternalData, externalDataLocations } from './onnx-header';

interface Case {
  name: string;
  base64: string;
  parseable: boolean;
  locations: string[];
  invalid: boolean;
}
const path = process.env.ONNX_FUZZ_CORPUS ?? fileURLToPath(new URL('../../training/tests/onnx-fuzz-corpus.json', import.meta.url));
const { cases } = JSON.parse(readFileSync(path, 'utf8')) as { cases: Case[] };

describe(`external data of ${cases.length} fuzzed graphs (${path})`, () => {
  it('finds every location protobuf reads, or refuses the file', () => {
    let refused = 0;
    let external = 0;
    for (const c of cases) {
      const bytes = new Uint8Array(Buffer.from(c.base64, 'base64'));
      let ours: string[] | null = null;
      try {
        ours = externalDataLocations(bytes);
      } catch (e) {
        expect((e as Error).message, c.name).toMatch(/^its (protobuf is corrupt at byte \d+|messages are nested more than 100 deep)/);
      }
      if (!c.parseable) continue;
      if (c.name.endsWith('as exported')) expect(ours, c.name).toEqual(c.locations);
      if (ours === null) refused++;
      else expect(ours, c.name).toEqual(expect.arrayContaining(c.locations));
      // what a manifest may name (or none): refused unless protobuf's locations are that file only
      for (const weights of ['mask.weights', undefined]) {
        const allowed = c.locations.every((l) => l === weights) && !c.invalid;
        if (!allowed) expect(() => checkExternalData(c.name, bytes, weights), c.name).toThrow();
      }
      if (ours !== null && c.locations.length) external++;
    }
    // not a vacuous pass: many files keep data outside and are read here, not only refused
    expect(external).toBeGreaterThan(cases.length / 10);
    expect(refused).toBeLessThan(cases.filter((c) => c.parseable).length * 0.75);
  });
});
