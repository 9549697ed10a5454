import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { cardValueText, formatBytes, loadProgressText, modelCardRows, modelCardUrl } from './model-panel';

describe('model card rows', () => {
  it('the tiny manifest’s card: resolution, steps, then the fields it has, objects in words', () => {
    const m = JSON.parse(readFileSync(fileURLToPath(new URL('../../public/models/tiny/manifest.json', import.meta.url)), 'utf8'));
    const rows = Object.fromEntries(modelCardRows({ resolution: m.resolution, defaultSteps: m.sampler.steps, card: m.card }));
    expect(rows['Resolution']).toBe('32×32');
    expect(rows['Default steps']).toBe('8');
    expect(rows['Steps trained']).toBe(`mask ${m.card.stepsTrained.mask} · image ${m.card.stepsTrained.image}`);
    expect(rows['Data']).toBe(m.card.data);
    expect(rows['License']).toBe(m.card.license);
    expect(rows['Citation']).toBe(m.card.citation);
    expect(rows['Preset']).toBe('tiny');
    // the tiny card's metrics are {}: said, not hidden
    expect(rows['Metrics']).toBe('none recorded');
  });

  it('cardValueText: nested metrics, arrays, and nothing for empty values', () => {
    expect(cardValueText({ fid: 41.2, dice: { mean: 0.81 } })).toBe('fid 41.2 · dice mean 0.81');
    expect(cardValueText([1, 'two'])).toBe('1, two');
    expect(cardValueText('  ')).toBeNull();
    expect(cardValueText({})).toBeNull();
    expect(cardValueText(Number.NaN)).toBeNull();
    expect(cardValueText(false)).toBe('no');
  });
});

describe('the model card link', () => {
  const url = (folder: string) => `/studio/models/${folder}/`;
  const bundled = [
    { folder: 'tiny', documents: ['DATA-LICENSE.txt', 'README.md'] },
    { folder: 'old', documents: ['DATA-LICENSE.txt'] },
    { folder: 'bare' },
  ];

  it('a bundled model whose folder has README.md links it; one without, and custom models, do not', () => {
    expect(modelCardUrl({ kind: 'bundled', id: '/studio/models/tiny/' }, bundled, url)).toBe('/studio/models/tiny/README.md');
    expect(modelCardUrl({ kind: 'bundled', id: '/studio/models/old/' }, bundled, url)).toBeNull();
    expect(modelCardUrl({ kind: 'bundled', id: '/studio/models/bare/' }, bundled, url)).toBeNull();
    expect(modelCardUrl({ kind: 'custom', id: 'sha-abc' }, bundled, url)).toBeNull();
    expect(modelCardUrl(undefined, bundled, url)).toBeNull();
  });

  it('the tiny folder ships its card', () => {
    const readme = readFileSync(fileURLToPath(new URL('../../public/models/tiny/README.md', import.meta.url)), 'utf8');
    expect(readme).toMatch(/^---\nlicense: /);
    expect(readme).toContain('**Not for clinical use.**');
  });
});

describe('sizes and progress', () => {
  it('formatBytes in binary units', () => {
    expect(formatBytes(812)).toBe('812 B');
    expect(formatBytes(777721)).toBe('759 KiB');
    expect(formatBytes(3 * 1024 * 1024 + 200_000)).toBe('3.19 MiB');
    expect(formatBytes(-1)).toBe('–');
  });

  it('loadProgressText: download with percent, cache, unknown total', () => {
    expect(loadProgressText({ receivedBytes: 1024 * 1024, totalBytes: 4 * 1024 * 1024, cachedBytes: 0, filesDone: 0, files: 2 })).toBe('Downloading 1.00 MiB of 4.00 MiB (25%)');
    expect(loadProgressText({ receivedBytes: 2048, totalBytes: 2048, cachedBytes: 2048, filesDone: 2, files: 2 })).toBe('Reading from the cache 2.00 KiB of 2.00 KiB (100%)');
    expect(loadProgressText({ receivedBytes: 5000, totalBytes: null, cachedBytes: 0, filesDone: 0, files: 1 })).toBe('Downloading 4.88 KiB');
  });
});
