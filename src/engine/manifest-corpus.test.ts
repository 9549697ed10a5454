// The shared corpus of good and bad manifests (fixtures/manifests/README.md): the studio's and the
// CLI's validator must give each case its verdict and message. training/tests/test_manifest_corpus.py
// runs the kit's validator over the same files, so the two accept and refuse the same manifests.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { errorMessage } from '../core/errors';
import { MAX_CARD_CHARS, MAX_MANIFEST_CHARS } from '../core/limits';
import { validateManifest } from '../core/manifest';
import { bytesSource } from './model-sources';
import { readManifest } from './pair';

const root = fileURLToPath(new URL('../../', import.meta.url));
const corpus = join(root, 'fixtures/manifests');

interface Case {
  about: string;
  base?: string;
  manifest?: unknown;
  text?: string;
  set?: Record<string, unknown>;
  remove?: string[];
  valid: boolean;
  mentions?: string;
}

/** The keys of a JSON Pointer (RFC 6901): "/models/mask/inputs/0" → models, mask, inputs, 0. */
function pointer(p: string): string[] {
  return p
    .split('/')
    .slice(1)
    .map((k) => k.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function parentOf(value: unknown, keys: string[]): Record<string, unknown> {
  return keys.slice(0, -1).reduce((v, k) => (v as Record<string, unknown>)[k], value) as Record<string, unknown>;
}

/** The case's manifest as a parsed value (every case but `text`). */
function manifestOf(c: Case): unknown {
  const m = c.base !== undefined ? JSON.parse(readFileSync(join(root, c.base), 'utf8')) : structuredClone(c.manifest);
  for (const [p, v] of Object.entries(c.set ?? {})) {
    const keys = pointer(p);
    parentOf(m, keys)[keys.at(-1)!] = v;
  }
  for (const p of c.remove ?? []) {
    const keys = pointer(p);
    const parent = parentOf(m, keys);
    // an array loses the item (as JSON Patch and the kit's test remove it), not just its value
    if (Array.isArray(parent)) parent.splice(Number(keys.at(-1)), 1);
    else delete parent[keys.at(-1)!];
  }
  return m;
}

/** null when valid, else the message: the validator on a value, the loader (readManifest) on a text. */
async function verdict(c: Case): Promise<string | null> {
  try {
    if (c.text !== undefined) await readManifest(bytesSource(new Map([['manifest.json', new TextEncoder().encode(c.text)]])));
    else validateManifest(manifestOf(c));
    return null;
  } catch (e) {
    return errorMessage(e);
  }
}

const cases = readdirSync(corpus)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((f) => [f, JSON.parse(readFileSync(join(corpus, f), 'utf8')) as Case] as const);

describe('the shared manifest corpus (fixtures/manifests)', () => {
  it('has good and bad cases, each bad one with the fragment its message must hold', () => {
    expect(cases.filter(([, c]) => c.valid).length).toBeGreaterThanOrEqual(5);
    expect(cases.filter(([, c]) => !c.valid).length).toBeGreaterThanOrEqual(40);
    for (const [file, c] of cases) expect(c.valid || typeof c.mentions === 'string', file).toBe(true);
  });

  it.each(cases)('%s', async (_file, c) => {
    const message = await verdict(c);
    if (c.valid) expect(message, c.about).toBeNull();
    else expect(message, c.about).toContain(c.mentions);
  });
});

describe('manifest size bounds the corpus leaves out (its files stay small)', () => {
  const tiny = () => JSON.parse(readFileSync(join(root, 'public/models/tiny/manifest.json'), 'utf8'));

  it('a card of more than MAX_CARD_CHARS characters is refused; one of just that many is not', () => {
    const m = tiny();
    m.card = { text: '' };
    const room = MAX_CARD_CHARS - JSON.stringify(m.card).length;
    m.card.text = 'x'.repeat(room);
    expect(() => validateManifest(m)).not.toThrow();
    m.card.text += 'x';
    expect(() => validateManifest(m)).toThrow(
      `manifest.card is ${MAX_CARD_CHARS + 1} characters of JSON, more than ${MAX_CARD_CHARS}: keep long text in the folder's README.md`,
    );
  });

  it('a card nesting 100,000 deep is refused without a stack overflow', () => {
    const m = tiny();
    m.card = JSON.parse(`{"notes": ${'['.repeat(100_000)}${']'.repeat(100_000)}}`);
    expect(() => validateManifest(m)).toThrow('manifest.card nests objects and arrays more than 16 deep');
  });

  it('a manifest.json of more than MAX_MANIFEST_CHARS characters is refused before it is parsed', async () => {
    const text = `{"pad": "${'x'.repeat(MAX_MANIFEST_CHARS)}"}`;
    await expect(readManifest(bytesSource(new Map([['manifest.json', new TextEncoder().encode(text)]])))).rejects.toThrow(
      `manifest.json (your file) is ${text.length} characters, more than a model manifest (${MAX_MANIFEST_CHARS})`,
    );
  });
});
