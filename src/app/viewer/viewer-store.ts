// The viewer's own settings (zoom/pan, window/level, invert, overlay, layout, the pixel under the
// pointer), apart from the studio store: none of it touches a run, and the views only read it.
// "Contrast stretch" stays in the studio store (`stretch`), which the downloads and figures share.
import { create } from 'zustand';
import { clampWindowLevel, FULL_RANGE, fitView, panBy, type Size, type ViewState, type WindowLevel, ZOOM_STEP, zoomAt } from './viewer-math';

export type ViewerLayout = 'side-by-side' | 'overlaid';
/** What a plain drag does; Shift+drag always adjusts window/level. */
export type DragTool = 'pan' | 'window-level';

export interface ViewerState {
  /** Zoom and pan; null = fit (follows the model's size). */
  view: ViewState | null;
  windowLevel: WindowLevel;
  invert: boolean;
  /** Fill opacity of the lesion on the image, 0 … 1. */
  overlayOpacity: number;
  outline: boolean;
  layout: ViewerLayout;
  tool: DragTool;
  /** The image pixel under the pointer, if any. */
  hover: { x: number; y: number } | null;

  setView(view: ViewState | null): void;
  /** Zoom by a factor about a pane point (the centre for the buttons). */
  zoom(factor: number, at: { x: number; y: number }, pane: Size, image: Size): void;
  /** The buttons: zoom about the centre of the view (which stays where it is). */
  zoomIn(image: Size): void;
  zoomOut(image: Size): void;
  pan(from: ViewState | null, dx: number, dy: number, pane: Size, image: Size): void;
  fit(): void;
  setWindowLevel(wl: WindowLevel): void;
  setInvert(on: boolean): void;
  setOverlayOpacity(opacity: number): void;
  setOutline(on: boolean): void;
  setLayout(layout: ViewerLayout): void;
  setTool(tool: DragTool): void;
  setHover(pixel: { x: number; y: number } | null): void;
}

export function createViewerStore() {
  return create<ViewerState>()((set, get) => {
    const current = (image: Size) => get().view ?? fitView(image);
    return {
      view: null,
      windowLevel: FULL_RANGE,
      invert: false,
      overlayOpacity: 0.25,
      outline: true,
      layout: 'side-by-side',
      tool: 'pan',
      hover: null,

      setView: (view) => set({ view }),
      zoom: (factor, at, pane, image) => set({ view: zoomAt(current(image), factor, at.x, at.y, pane, image) }),
      // About the pane's centre the result does not depend on the pane's size: use the image's own.
      zoomIn: (image) => get().zoom(ZOOM_STEP, { x: image.width / 2, y: image.height / 2 }, image, image),
      zoomOut: (image) => get().zoom(1 / ZOOM_STEP, { x: image.width / 2, y: image.height / 2 }, image, image),
      pan: (from, dx, dy, pane, image) => set({ view: panBy(from ?? fitView(image), dx, dy, pane, image) }),
      fit: () => set({ view: null }),
      setWindowLevel: (wl) => set({ windowLevel: clampWindowLevel(wl) }),
      setInvert: (invert) => set({ invert }),
      setOverlayOpacity: (opacity) => set({ overlayOpacity: Math.min(1, Math.max(0, opacity)) }),
      setOutline: (outline) => set({ outline }),
      setLayout: (layout) => set({ layout }),
      setTool: (tool) => set({ tool }),
      setHover: (hover) => {
        const prev = get().hover;
        if (prev?.x === hover?.x && prev?.y === hover?.y) return;
        set({ hover });
      },
    };
  });
}

/** The page's one viewer. */
export const useViewer = createViewerStore();
