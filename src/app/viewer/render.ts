// Drawing the viewer's panes on canvases. The pixels themselves come from display.ts and
// viewer-math.ts; this module only puts them on screen through the zoom/pan transform.
import type { ViewTransform } from './viewer-math';

/** Gray bytes to RGBA bytes (opaque). */
export function grayToRgba(gray: ArrayLike<number>): Uint8ClampedArray {
  const rgba = new Uint8ClampedArray(gray.length * 4);
  for (let i = 0, j = 0; i < gray.length; i++, j += 4) {
    const g = gray[i];
    rgba[j] = g;
    rgba[j + 1] = g;
    rgba[j + 2] = g;
    rgba[j + 3] = 255;
  }
  return rgba;
}

/** Puts RGBA bytes of the image's size on a canvas of that size (the source a pane scales). */
export function putPixels(canvas: HTMLCanvasElement, rgba: Uint8ClampedArray, width: number, height: number): void {
  if (canvas.width !== width) canvas.width = width;
  if (canvas.height !== height) canvas.height = height;
  canvas.getContext('2d')?.putImageData(new ImageData(rgba as Uint8ClampedArray<ArrayBuffer>, width, height), 0, 0);
}

/** Draws gray bytes onto a canvas whose size is the image's (CSS upscales it, pixelated). */
export function drawGray(canvas: HTMLCanvasElement, gray: ArrayLike<number>, width: number, height: number): void {
  putPixels(canvas, grayToRgba(gray), width, height);
}

/** Clears a pane, matching its backing store to its CSS size × devicePixelRatio (sharp at any zoom). */
export function clearPane(canvas: HTMLCanvasElement): CanvasRenderingContext2D | null {
  const dpr = window.devicePixelRatio || 1;
  const w = Math.max(1, Math.round(canvas.clientWidth * dpr));
  const h = Math.max(1, Math.round(canvas.clientHeight * dpr));
  if (canvas.width !== w) canvas.width = w;
  if (canvas.height !== h) canvas.height = h;
  const ctx = canvas.getContext('2d');
  if (!ctx) return null;
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.fillStyle = '#000';
  ctx.fillRect(0, 0, w, h);
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  return ctx;
}

/**
 * Draws `source` (one canvas pixel per image pixel) through the transform, crisp, and optionally
 * the lesion's outline segments (image coordinates, from maskOutline) in screen space on top.
 */
export function drawPane(canvas: HTMLCanvasElement, source: HTMLCanvasElement, t: ViewTransform, outline: number[] | null): void {
  const ctx = clearPane(canvas);
  if (!ctx) return;
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(source, t.offsetX, t.offsetY, source.width * t.scale, source.height * t.scale);
  if (!outline || outline.length === 0) return;
  ctx.strokeStyle = 'rgb(255, 170, 60)';
  ctx.lineWidth = Math.min(3, Math.max(1.5, t.scale / 6));
  ctx.lineCap = 'square';
  ctx.beginPath();
  for (let i = 0; i < outline.length; i += 4) {
    ctx.moveTo(outline[i] * t.scale + t.offsetX, outline[i + 1] * t.scale + t.offsetY);
    ctx.lineTo(outline[i + 2] * t.scale + t.offsetX, outline[i + 3] * t.scale + t.offsetY);
  }
  ctx.stroke();
}
