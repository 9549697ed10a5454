import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { cacheUsageText, cardValueText, formatBytes, loadProgressText, modelCardRows, modelCardText, persistentModelCache } from './model-panel';

describe('model card rows', () => {
  it('the tiny manifest’s card: resolution, steps, then the fields it has, objects in words', () => {
    const m = JSON.parse(readFileSync(fileURLToPath(new URL('../../../public/models/tiny/manifest.json', import.meta.url)), 'utf8'));
    const rows = Object.fromEntries(modelCardRows({ resolution: m.resolution, defaultSteps: m.sampler.steps, card: m.card }));
    expect(rows.Resolution).toBe('32×32');
    expect(rows['Default steps']).toBe('8');
    expect(rows['Steps trained']).toBe(`mask ${m.card.stepsTrained.mask} · image ${m.card.stepsTrained.image}`);
    expect(rows.Data).toBe(m.card.data);
    expect(rows.License).toBe(m.card.license);
    expect(rows.Citation).toBe(m.card.citation);
    expect(rows.Preset).toBe('tiny');
    // the tiny card's metrics are {}: said, not hidden
    expect(rows.Metrics).toBe('none recorded');
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

describe('the model card', () => {
  it('is the README.md among the model’s documents, as text; none without one', () => {
    const encode = (t: string) => new TextEncoder().encode(t);
    const documents = [
      { file: 'DATA-LICENSE.txt', path: 'DATA-LICENSE.txt', bytes: encode('CC BY 4.0') },
      { file: 'README.md', path: 'MODEL-CARD.md', bytes: encode('---\nlicense: mit\n---\n# tiny — résumé') },
    ];
    expect(modelCardText(documents)).toBe('---\nlicense: mit\n---\n# tiny — résumé');
    expect(modelCardText(documents.slice(0, 1))).toBeNull();
  });

  it('the tiny folder ships its card', () => {
    const readme = readFileSync(fileURLToPath(new URL('../../../public/models/tiny/README.md', import.meta.url)), 'utf8');
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
    expect(loadProgressText({ receivedBytes: 1024 * 1024, totalBytes: 4 * 1024 * 1024, cachedBytes: 0, filesDone: 0, files: 2 })).toBe(
      'Downloading 1.00 MiB of 4.00 MiB (25%)',
    );
    expect(loadProgressText({ receivedBytes: 2048, totalBytes: 2048, cachedBytes: 2048, filesDone: 2, files: 2 })).toBe(
      'Reading from the cache 2.00 KiB of 2.00 KiB (100%)',
    );
    expect(loadProgressText({ receivedBytes: 5000, totalBytes: null, cachedBytes: 0, filesDone: 0, files: 1 })).toBe('Downloading 4.88 KiB');
  });
});

describe('the model cache kept under storage pressure', () => {
  const manager = (persisted: boolean, grant: boolean) => {
    const asked: string[] = [];
    return {
      asked,
      storage: {
        persisted: async () => (asked.push('persisted'), persisted),
        persist: async () => (asked.push('persist'), grant),
      },
    };
  };

  it('asks for persistence only right after a download, and reports what the browser decided', async () => {
    const granted = manager(false, true);
    expect(await persistentModelCache(granted.storage, true)).toBe(true);
    expect(granted.asked).toEqual(['persisted', 'persist']);
    const refused = manager(false, false);
    expect(await persistentModelCache(refused.storage, true)).toBe(false);
    const notAsked = manager(false, true);
    expect(await persistentModelCache(notAsked.storage, false)).toBe(false);
    expect(notAsked.asked).toEqual(['persisted']);
    const already = manager(true, false);
    expect(await persistentModelCache(already.storage, true)).toBe(true);
    expect(already.asked).toEqual(['persisted']);
  });

  it('a browser without the API, or one that throws, says nothing', async () => {
    expect(await persistentModelCache(undefined, true)).toBeNull();
    expect(await persistentModelCache({}, true)).toBeNull();
    expect(await persistentModelCache({ persisted: () => Promise.reject(new Error('SecurityError')) }, true)).toBeNull();
  });

  it('the cache line: size, the site’s usage, and whether the browser keeps it', () => {
    const models = [{ bytes: 777721 * 2 }];
    expect(cacheUsageText({ models, usage: 2_000_000, quota: 10 * 2 ** 30, persistent: true })).toBe(
      'Model cache: 1.48 MiB in 1 model · this site uses 1.91 MiB of 10.0 GiB · kept until you clear it',
    );
    expect(cacheUsageText({ models: [], usage: null, quota: null, persistent: null })).toBe('Model cache: 0 B in 0 models');
    expect(cacheUsageText({ models: [...models, ...models], usage: null, quota: null, persistent: false })).toBe(
      'Model cache: 2.97 MiB in 2 models · the browser may evict it when disk space runs low',
    );
  });
});
