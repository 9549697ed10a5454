import { describe, expect, it } from 'vitest';
import { createViewerStore } from './viewer-store';

const image = { width: 32, height: 32 };
const pane = { width: 320, height: 320 };

describe('viewer store', () => {
  it('zooms in and out about the pane centre, and fits again', () => {
    const v = createViewerStore();
    v.getState().zoomIn(image);
    expect(v.getState().view).toEqual({ zoom: 1.5, centerX: 16, centerY: 16 });
    v.getState().zoomOut(image);
    expect(v.getState().view?.zoom).toBeCloseTo(1, 12);
    v.getState().fit();
    expect(v.getState().view).toBeNull();
  });
  it('pans from where the drag started', () => {
    const v = createViewerStore();
    v.getState().pan(null, -30, 0, pane, image); // fit scale 10: 3 pixels
    expect(v.getState().view).toEqual({ zoom: 1, centerX: 19, centerY: 16 });
  });
  it('keeps window/level and opacity in range', () => {
    const v = createViewerStore();
    v.getState().setWindowLevel({ window: 0, level: 300 });
    expect(v.getState().windowLevel).toEqual({ window: 1, level: 255 });
    v.getState().setOverlayOpacity(1.7);
    expect(v.getState().overlayOpacity).toBe(1);
  });
});
