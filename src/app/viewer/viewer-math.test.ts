import { describe, expect, it } from 'vitest';
import {
  applyTable,
  compositeOverlay,
  dragWindowLevel,
  FULL_RANGE,
  fitView,
  MAX_ZOOM,
  maskOutline,
  panBy,
  pixelAt,
  pixelReadout,
  presetName,
  viewTransform,
  wheelZoomFactor,
  windowLevelTable,
  zoomAt,
} from './viewer-math';

const image = { width: 32, height: 32 };
const square = { width: 320, height: 320 };

describe('zoom and pan transform', () => {
  it('fits a 32² image into a 320² pane at 10 px per pixel', () => {
    expect(viewTransform(fitView(image), square, image)).toEqual({ scale: 10, offsetX: 0, offsetY: 0 });
  });
  it('centres it in a wider pane', () => {
    expect(viewTransform(fitView(image), { width: 400, height: 320 }, image)).toEqual({ scale: 10, offsetX: 40, offsetY: 0 });
  });
  it('maps screen points to pixels, and outside the image to null', () => {
    const t = viewTransform(fitView(image), square, image);
    expect(pixelAt(t, 15, 25, image)).toEqual({ x: 1, y: 2 });
    expect(pixelAt(t, 319.9, 0, image)).toEqual({ x: 31, y: 0 });
    expect(pixelAt(t, 320, 0, image)).toBeNull();
    expect(pixelAt(t, -0.1, 5, image)).toBeNull();
  });
  it('zooms about the pointer: the image point under it stays put', () => {
    const v = zoomAt(fitView(image), 2, 0, 0, square, image);
    // anchor (0, 0); scale 20; centre = 0 + (160 − 0) / 20 = 8
    expect(v).toEqual({ zoom: 2, centerX: 8, centerY: 8 });
    const t = viewTransform(v, square, image);
    expect([t.scale, t.offsetX, t.offsetY]).toEqual([20, 0, 0]);
    const w = zoomAt(fitView(image), 3, 100, 60, square, image);
    const tw = viewTransform(w, square, image);
    // pixel (10, 6) sat at (100, 60) at fit; it still does.
    expect(10 * tw.scale + tw.offsetX).toBeCloseTo(100, 9);
    expect(6 * tw.scale + tw.offsetY).toBeCloseTo(60, 9);
  });
  it('zooms about the centre for the buttons, within the limits', () => {
    expect(zoomAt(fitView(image), 2, 160, 160, square, image)).toEqual({ zoom: 2, centerX: 16, centerY: 16 });
    expect(zoomAt(fitView(image), 1e6, 160, 160, square, image).zoom).toBe(MAX_ZOOM);
  });
  it('pans by screen pixels at the current scale and keeps the centre on the image', () => {
    const v = { zoom: 2, centerX: 8, centerY: 8 };
    // scale 20: 40 px right moves the view 2 pixels left, 20 px up moves it 1 pixel down
    expect(panBy(v, 40, -20, square, image)).toEqual({ zoom: 2, centerX: 6, centerY: 9 });
    expect(panBy(v, 1000, -1e4, square, image)).toEqual({ zoom: 2, centerX: 0, centerY: 32 });
  });
  it('turns wheel notches into zoom factors', () => {
    expect(wheelZoomFactor(0)).toBe(1);
    expect(wheelZoomFactor(-100)).toBeCloseTo(Math.exp(0.2), 12);
    expect(wheelZoomFactor(100) * wheelZoomFactor(-100)).toBeCloseTo(1, 12);
  });
});

describe('window / level', () => {
  it('full range is the identity', () => {
    const lut = windowLevelTable(FULL_RANGE, false);
    expect(Array.from(lut)).toEqual(Array.from({ length: 256 }, (_, i) => i));
    expect(presetName(FULL_RANGE)).toBe('Full range');
    expect(presetName({ window: 3, level: 3 })).toBeNull();
  });
  it('spreads level ± window/2 over 0 … 255 and clips the rest', () => {
    const lut = windowLevelTable({ window: 64, level: 128 }, false);
    // low = 96: 112 → 16/64·255 = 63.75 → 64; 128 → 127.5 → 128
    expect([95, 96, 112, 128, 160, 200].map((d) => lut[d])).toEqual([0, 0, 64, 128, 255, 255]);
    const inv = windowLevelTable({ window: 64, level: 128 }, true);
    expect([95, 112, 160].map((d) => inv[d])).toEqual([255, 191, 0]);
    expect(Array.from(applyTable([0, 112, 255], lut))).toEqual([0, 64, 255]);
  });
  it('drags: right widens, down raises the level, in half steps, within range', () => {
    expect(dragWindowLevel({ window: 64, level: 128 }, 10.3, -20.8)).toEqual({ window: 74.5, level: 107 });
    expect(dragWindowLevel({ window: 64, level: 128 }, -1000, 1000)).toEqual({ window: 1, level: 255 });
  });
});

describe('overlay and outline', () => {
  it('blends lesion pixels toward the colour by the opacity', () => {
    // 100·0.5 + (255, 140, 60)·0.5 = (177.5, 120, 80)
    expect(Array.from(compositeOverlay([100, 100], [1, 0], 0.5))).toEqual([178, 120, 80, 255, 100, 100, 100, 255]);
    expect(Array.from(compositeOverlay([100], [1], 0))).toEqual([100, 100, 100, 255]);
    expect(Array.from(compositeOverlay([100], [1], 1))).toEqual([255, 140, 60, 255]);
  });
  it('outlines one pixel with its four edges', () => {
    expect(maskOutline([0, 0, 0, 0, 1, 0, 0, 0, 0], 3, 3)).toEqual([1, 1, 2, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 1, 2, 2]);
  });
  it('outlines a 2×2 block with eight edges and no inner ones', () => {
    expect(maskOutline([1, 1, 1, 1], 2, 2).length / 4).toBe(8);
    expect(maskOutline(new Uint8Array(16), 4, 4)).toEqual([]);
  });
});

describe('pixel readout', () => {
  it('reports the data at the pixel: model units, the PNG byte, x̂₀ and B', () => {
    const y0 = new Float32Array([-1, 0, 0.5, 1]);
    const x0 = new Float32Array([-0.9, -0.2, 0.3, 0.8]);
    expect(pixelReadout(1, 1, 2, y0, x0, [0, 0, 0, 1])).toEqual({ x: 1, y: 1, imageModel: 1, image8: 255, maskModel: x0[3], maskBit: 1 });
    // 0.5 → floor(1.5·127.5 + 0.5) = 191
    expect(pixelReadout(0, 1, 2, y0, x0, [0, 0, 0, 1])).toMatchObject({ image8: 191, maskBit: 0 });
  });
});
