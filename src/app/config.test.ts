import { describe, expect, it } from 'vitest';
import { DEFAULT_MODEL, modelUrl, parseUrlOptions, withRunParams } from './config';

describe('parseUrlOptions', () => {
  it('defaults to the bundled default model with no presets', () => {
    expect(parseUrlOptions('')).toEqual({ model: DEFAULT_MODEL, seed: null, steps: null, backend: undefined, previews: true });
  });
  it('reads model, seed, steps, backend and previews', () => {
    expect(parseUrlOptions('?model=busbra64&seed=42&steps=256&backend=wasm&previews=off')).toEqual({
      model: 'busbra64',
      seed: 42,
      steps: 256,
      backend: 'wasm',
      previews: false,
    });
  });
  it('ignores malformed or out-of-range values', () => {
    const o = parseUrlOptions('?model=../secret&seed=-1&steps=2000&backend=cuda');
    expect(o.model).toBe(DEFAULT_MODEL);
    expect(o.seed).toBeNull();
    expect(o.steps).toBeNull();
    expect(o.backend).toBeUndefined();
    expect(parseUrlOptions('?seed=4294967295').seed).toBe(4294967295);
    expect(parseUrlOptions('?seed=4294967296').seed).toBeNull();
    expect(parseUrlOptions('?steps=0').steps).toBeNull();
    expect(parseUrlOptions('?model=http://evil.example/x').model).toBe(DEFAULT_MODEL);
  });
});

describe('modelUrl / withRunParams', () => {
  it('resolves a folder under the base path', () => {
    expect(modelUrl('tiny', '/')).toBe('/models/tiny/');
    expect(modelUrl('tiny', '/studio')).toBe('/studio/models/tiny/');
  });
  it('keeps other parameters and sets seed and steps', () => {
    expect(withRunParams('?model=tiny&backend=wasm&seed=1', 9, 4)).toBe('?model=tiny&backend=wasm&seed=9&steps=4');
  });
});
