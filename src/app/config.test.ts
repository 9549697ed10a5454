import { describe, expect, it } from 'vitest';
import { DEFAULT_MODEL, modelUrl, parseUrlOptions, withStateParams } from './config';

describe('parseUrlOptions', () => {
  it('defaults to the bundled default model with no presets', () => {
    expect(parseUrlOptions('')).toEqual({
      model: DEFAULT_MODEL,
      mode: 'pair',
      seed: null,
      steps: null,
      clip: null,
      backend: undefined,
      threads: undefined,
      previews: true,
    });
  });
  it('reads model, mode, seed, steps, clip, backend, threads and previews', () => {
    expect(parseUrlOptions('?model=busbra64&mode=image2mask&seed=42&steps=256&clip=both&backend=wasm&threads=1&previews=off')).toEqual({
      model: 'busbra64',
      mode: 'imageToMask',
      seed: 42,
      steps: 256,
      clip: 'both',
      backend: 'wasm',
      threads: 1,
      previews: false,
    });
  });
  it('ignores malformed or out-of-range values', () => {
    const o = parseUrlOptions('?model=../secret&seed=-1&steps=2000&backend=cuda');
    expect(o.model).toBe(DEFAULT_MODEL);
    expect(o.seed).toBeNull();
    expect(o.steps).toBeNull();
    expect(o.backend).toBeUndefined();
    expect(['0', '65', '2.5', 'all'].map((t) => parseUrlOptions(`?threads=${t}`).threads)).toEqual([undefined, undefined, undefined, undefined]);
    expect(parseUrlOptions('?seed=4294967295').seed).toBe(4294967295);
    expect(parseUrlOptions('?seed=4294967296').seed).toBeNull();
    expect(parseUrlOptions('?steps=0').steps).toBeNull();
    expect(parseUrlOptions('?model=http://evil.example/x').model).toBe(DEFAULT_MODEL);
    expect(parseUrlOptions('?mode=maskToImage').mode).toBe('pair'); // only the URL spellings
    expect(parseUrlOptions('?mode=mask2image').mode).toBe('maskToImage');
    expect(parseUrlOptions('?clip=all').clip).toBeNull();
    expect(parseUrlOptions('?clip=Both').clip).toBeNull();
  });
});

describe('modelUrl / withStateParams', () => {
  it('resolves a folder under the base path', () => {
    expect(modelUrl('tiny', '/')).toBe('/models/tiny/');
    expect(modelUrl('tiny', '/studio')).toBe('/studio/models/tiny/');
  });
  it('keeps other parameters and sets model, mode, seed, steps and clip', () => {
    expect(withStateParams('?model=tiny&backend=wasm&seed=1', { model: 'tiny', mode: 'maskToImage', seed: 9, steps: 4, clip: 'image' })).toBe(
      '?model=tiny&backend=wasm&seed=9&mode=mask2image&steps=4&clip=image',
    );
  });
  it('drops a seed, steps or clip that is not known now, and round-trips through parseUrlOptions', () => {
    const search = withStateParams('?seed=1&steps=3&clip=both&previews=off', { model: 'tiny', mode: 'imageToMask', seed: null, steps: 8, clip: null });
    expect(search).toBe('?steps=8&previews=off&model=tiny&mode=image2mask');
    expect(parseUrlOptions(search)).toMatchObject({ model: 'tiny', mode: 'imageToMask', seed: null, steps: 8, clip: null, previews: false });
    for (const clip of ['none', 'image', 'both'] as const) {
      expect(parseUrlOptions(withStateParams('', { model: 'tiny', mode: 'pair', seed: 1, steps: 2, clip })).clip).toBe(clip);
    }
  });
});
