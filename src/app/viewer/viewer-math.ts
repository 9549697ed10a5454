// The viewer's arithmetic, free of the DOM so it is tested on its own: the zoom/pan transform
// between image pixels and screen (CSS) pixels, window/level, the mask overlay composite, the
// mask's outline, and what the pixel readout reports.
import { imageToGray8 } from '../../core/png';

// ---------------------------------------------------------------------------------------------
// Zoom and pan. The view state is resolution-independent: `zoom` is relative to "fit" (1 = the
// whole image fits the pane) and (centerX, centerY) is the image point at the pane's centre, in
// image pixels (0 … width, 0 … height). Panes of any size show the same part of the image.

export interface ViewState {
  zoom: number;
  centerX: number;
  centerY: number;
}

export interface Size {
  width: number;
  height: number;
}

/** screen = image · scale + offset, in CSS pixels relative to the pane's top-left corner. */
export interface ViewTransform {
  scale: number;
  offsetX: number;
  offsetY: number;
}

const MIN_ZOOM = 0.5;
export const MAX_ZOOM = 64;
/** One press of Zoom in / Zoom out. */
export const ZOOM_STEP = 1.5;

export function fitView(image: Size): ViewState {
  return { zoom: 1, centerX: image.width / 2, centerY: image.height / 2 };
}

/** CSS pixels per image pixel at zoom 1: the whole image fits the pane. */
function fitScale(pane: Size, image: Size): number {
  return Math.min(pane.width / image.width, pane.height / image.height);
}

export function viewTransform(view: ViewState, pane: Size, image: Size): ViewTransform {
  const scale = fitScale(pane, image) * view.zoom;
  return { scale, offsetX: pane.width / 2 - view.centerX * scale, offsetY: pane.height / 2 - view.centerY * scale };
}

/** Screen point → image coordinates (continuous; pixel (x, y) covers [x, x + 1) × [y, y + 1)). */
function screenToImage(t: ViewTransform, sx: number, sy: number): { x: number; y: number } {
  return { x: (sx - t.offsetX) / t.scale, y: (sy - t.offsetY) / t.scale };
}

/** The image pixel under a screen point, or null outside the image. */
export function pixelAt(t: ViewTransform, sx: number, sy: number, image: Size): { x: number; y: number } | null {
  const p = screenToImage(t, sx, sy);
  const x = Math.floor(p.x);
  const y = Math.floor(p.y);
  return x >= 0 && y >= 0 && x < image.width && y < image.height ? { x, y } : null;
}

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : Math.min(v, hi);
}

/** Keeps the centre on the image, so the image can never be panned out of sight. */
function clampCenter(view: ViewState, image: Size): ViewState {
  return { zoom: view.zoom, centerX: clamp(view.centerX, 0, image.width), centerY: clamp(view.centerY, 0, image.height) };
}

/**
 * Zooms by `factor` about a screen point (the pointer, or the pane's centre for the buttons): the
 * image point under it stays under it (unless the centre clamp or the zoom limits step in).
 */
export function zoomAt(view: ViewState, factor: number, sx: number, sy: number, pane: Size, image: Size): ViewState {
  const zoom = clamp(view.zoom * factor, MIN_ZOOM, MAX_ZOOM);
  const anchor = screenToImage(viewTransform(view, pane, image), sx, sy);
  const scale = fitScale(pane, image) * zoom;
  return clampCenter({ zoom, centerX: anchor.x + (pane.width / 2 - sx) / scale, centerY: anchor.y + (pane.height / 2 - sy) / scale }, image);
}

/** Drags the image by (dx, dy) CSS pixels. */
export function panBy(view: ViewState, dx: number, dy: number, pane: Size, image: Size): ViewState {
  const scale = fitScale(pane, image) * view.zoom;
  return clampCenter({ zoom: view.zoom, centerX: view.centerX - dx / scale, centerY: view.centerY - dy / scale }, image);
}

/** The wheel's zoom factor: one usual notch (deltaY 100) zooms by about 1.22. */
export function wheelZoomFactor(deltaY: number): number {
  return Math.exp(-deltaY / 500);
}

// ---------------------------------------------------------------------------------------------
// Window / level on the displayed 8-bit values (after the raw or contrast-stretched mapping):
// values from level − window/2 to level + window/2 are spread over 0 … 255, the rest clipped.

export interface WindowLevel {
  window: number;
  level: number;
}

export const WINDOW_RANGE = { min: 1, max: 255 } as const;
export const LEVEL_RANGE = { min: 0, max: 255 } as const;

/** Presets for 8-bit B-mode ultrasound, where lesions are mostly hypoechoic (dark). */
export const WINDOW_PRESETS: readonly { name: string; wl: WindowLevel }[] = [
  { name: 'Full range', wl: { window: 255, level: 127.5 } }, // identity: 0 … 255 unchanged
  { name: 'Dark detail (hypoechoic)', wl: { window: 96, level: 48 } }, // 0 … 96: inside dark lesions
  { name: 'Mid-gray tissue', wl: { window: 128, level: 112 } }, // 48 … 176: parenchyma
  { name: 'High contrast', wl: { window: 64, level: 128 } }, // 96 … 160: edges stand out
];

export const FULL_RANGE: WindowLevel = WINDOW_PRESETS[0].wl;

export function clampWindowLevel(wl: WindowLevel): WindowLevel {
  return {
    window: clamp(wl.window, WINDOW_RANGE.min, WINDOW_RANGE.max),
    level: clamp(wl.level, LEVEL_RANGE.min, LEVEL_RANGE.max),
  };
}

/** The preset a window/level is, or null (custom). */
export function presetName(wl: WindowLevel): string | null {
  return WINDOW_PRESETS.find((p) => p.wl.window === wl.window && p.wl.level === wl.level)?.name ?? null;
}

/** A 256-entry lookup table: round(clamp((d − (L − W/2)) / W, 0, 1) · 255), then 255 − v if inverted. */
export function windowLevelTable(wl: WindowLevel, invert: boolean): Uint8Array {
  const lut = new Uint8Array(256);
  const low = wl.level - wl.window / 2;
  for (let d = 0; d < 256; d++) {
    const v = Math.round(clamp((d - low) / wl.window, 0, 1) * 255);
    lut[d] = invert ? 255 - v : v;
  }
  return lut;
}

export function applyTable(gray: ArrayLike<number>, lut: Uint8Array): Uint8Array {
  const out = new Uint8Array(gray.length);
  for (let i = 0; i < gray.length; i++) out[i] = lut[gray[i]];
  return out;
}

/** Window/level by drag from where the drag started: right widens the window, down raises the level. */
export function dragWindowLevel(start: WindowLevel, dx: number, dy: number): WindowLevel {
  const half = (v: number) => Math.round(v * 2) / 2;
  return clampWindowLevel({ window: half(start.window + dx), level: half(start.level + dy) });
}

// ---------------------------------------------------------------------------------------------
// The mask on the image.

const OVERLAY_COLOR: readonly [number, number, number] = [255, 140, 60];

/** RGBA of gray pixels with the lesion (mask > 0) blended toward `color` by `opacity` (0 … 1). */
export function compositeOverlay(
  gray: ArrayLike<number>,
  mask: ArrayLike<number>,
  opacity: number,
  color: readonly [number, number, number] = OVERLAY_COLOR,
): Uint8ClampedArray {
  const a = clamp(opacity, 0, 1);
  const out = new Uint8ClampedArray(gray.length * 4);
  for (let i = 0, j = 0; i < gray.length; i++, j += 4) {
    const g = gray[i];
    const on = mask[i] > 0;
    out[j] = on ? Math.round(g * (1 - a) + color[0] * a) : g;
    out[j + 1] = on ? Math.round(g * (1 - a) + color[1] * a) : g;
    out[j + 2] = on ? Math.round(g * (1 - a) + color[2] * a) : g;
    out[j + 3] = 255;
  }
  return out;
}

/**
 * The edges of a binary mask's lesion as line segments (x0, y0, x1, y1) in image pixel coordinates:
 * every side of a lesion pixel whose neighbour (or the border) is background.
 */
export function maskOutline(mask: ArrayLike<number>, width: number, height: number): number[] {
  const seg: number[] = [];
  const on = (x: number, y: number) => x >= 0 && y >= 0 && x < width && y < height && (mask[y * width + x] ?? 0) > 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (!on(x, y)) continue;
      if (!on(x, y - 1)) seg.push(x, y, x + 1, y);
      if (!on(x, y + 1)) seg.push(x, y + 1, x + 1, y + 1);
      if (!on(x - 1, y)) seg.push(x, y, x, y + 1);
      if (!on(x + 1, y)) seg.push(x + 1, y, x + 1, y + 1);
    }
  }
  return seg;
}

// ---------------------------------------------------------------------------------------------
// The pixel readout: what the data holds at a pixel (never the display mapping).

export interface PixelReadout {
  x: number;
  y: number;
  /** ŷ₀ in model units, and as the downloaded 8-bit PNG has it. */
  imageModel: number;
  image8: number;
  /** x̂₀ in model units, and B(x̂₀) (1 lesion, 0 background; the saved mask on the last step). */
  maskModel: number;
  maskBit: number;
}

export function pixelReadout(x: number, y: number, width: number, y0: Float32Array, x0: Float32Array, maskBits: ArrayLike<number>): PixelReadout {
  const i = y * width + x;
  const imageModel = y0[i];
  return {
    x,
    y,
    imageModel,
    image8: imageToGray8(y0.subarray(i, i + 1))[0],
    maskModel: x0[i],
    maskBit: maskBits[i] > 0 ? 1 : 0,
  };
}
