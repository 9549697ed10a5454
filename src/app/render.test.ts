import { describe, expect, it } from 'vitest';
import { maskOutline, overlayScale } from './render';

describe('maskOutline', () => {
  it('outlines a single pixel with four edges', () => {
    const seg = maskOutline([0, 0, 0, 0, 1, 0, 0, 0, 0], 3, 3);
    expect(seg.length / 4).toBe(4);
  });
  it('outlines a 2×2 block with eight edges and no inner ones', () => {
    const seg = maskOutline([1, 1, 1, 1], 2, 2);
    expect(seg.length / 4).toBe(8);
  });
  it('draws nothing for an empty mask', () => {
    expect(maskOutline(new Uint8Array(16), 4, 4)).toEqual([]);
  });
  it('upscales the overlay to about 512 px', () => {
    expect(overlayScale(32)).toBe(16);
    expect(overlayScale(128)).toBe(4);
    expect(overlayScale(1024)).toBe(1);
  });
});
