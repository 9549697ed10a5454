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
      attributes: {},
      guidance: null,
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
      attributes: {},
      guidance: null,
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
    expect(
      withStateParams('?model=tiny&backend=wasm&seed=1', {
        model: 'tiny',
        mode: 'maskToImage',
        seed: 9,
        steps: 4,
        clip: 'image',
        attributes: {},
        guidance: null,
      }),
    ).toBe('?model=tiny&backend=wasm&seed=9&mode=mask2image&steps=4&clip=image');
  });
  it('drops a seed, steps or clip that is not known now, and round-trips through parseUrlOptions', () => {
    const search = withStateParams('?seed=1&steps=3&clip=both&previews=off', {
      model: 'tiny',
      mode: 'imageToMask',
      seed: null,
      steps: 8,
      clip: null,
      attributes: {},
      guidance: null,
    });
    expect(search).toBe('?steps=8&previews=off&model=tiny&mode=image2mask');
    expect(parseUrlOptions(search)).toMatchObject({ model: 'tiny', mode: 'imageToMask', seed: null, steps: 8, clip: null, previews: false });
    for (const clip of ['none', 'image', 'both'] as const) {
      expect(parseUrlOptions(withStateParams('', { model: 'tiny', mode: 'pair', seed: 1, steps: 2, clip, attributes: {}, guidance: null })).clip).toBe(clip);
    }
  });
});

describe('attributes and guidance in the URL', () => {
  it('reads attr.<name>=<value> and guidance=<w> (0 … 20); a malformed one is not read', () => {
    const o = parseUrlOptions('?model=tiny-latent&attr.pathology=malignant&attr.scanner=GE%20Logiq%205%20%4010-12MHz&guidance=2.5');
    expect(o.attributes).toEqual({ pathology: 'malignant', scanner: 'GE Logiq 5 @10-12MHz' });
    expect(o.guidance).toBe(2.5);
    expect(parseUrlOptions('?attr.=x&attr.a%20b=x&attr.birads=&guidance=21').attributes).toEqual({});
    expect(['21', '-1', 'NaN', '0x2', ''].map((w) => parseUrlOptions(`?guidance=${w}`).guidance)).toEqual([null, null, null, null, null]);
    expect(parseUrlOptions('?guidance=0').guidance).toBe(0);
  });
  it('writes what is asked for now, dropping attributes no longer asked for, and round-trips', () => {
    const state = {
      model: 'tiny-latent',
      mode: 'pair' as const,
      seed: 1,
      steps: 2,
      clip: null,
      attributes: { pathology: 'malignant', birads: '4' },
      guidance: 2,
    };
    const search = withStateParams('?attr.scanner=x&attr.pathology=benign', state);
    expect(search).toBe('?model=tiny-latent&mode=pair&seed=1&steps=2&attr.pathology=malignant&attr.birads=4&guidance=2');
    expect(parseUrlOptions(search)).toMatchObject({ attributes: { pathology: 'malignant', birads: '4' }, guidance: 2 });
    expect(withStateParams(search, { ...state, attributes: {}, guidance: null })).toBe('?model=tiny-latent&mode=pair&seed=1&steps=2');
  });
});
