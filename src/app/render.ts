// Pixels for the views: 8-bit gray → RGBA ImageData on a canvas, and the overlay's outline.
// Pure except for the draw* functions, which take a 2D context.

/** Gray bytes to an RGBA ImageData of the given size. */
export function grayToImageData(gray: ArrayLike<number>, width: number, height: number): ImageData {
  const image = new ImageData(width, height);
  const rgba = image.data;
  for (let i = 0, j = 0; i < width * height; i++, j += 4) {
    const g = gray[i] ?? 0;
    rgba[j] = g;
    rgba[j + 1] = g;
    rgba[j + 2] = g;
    rgba[j + 3] = 255;
  }
  return image;
}

/** Draws gray bytes onto a canvas whose size is the image's (CSS upscales it, pixelated). */
export function drawGray(canvas: HTMLCanvasElement, gray: ArrayLike<number>, width: number, height: number): void {
  if (canvas.width !== width) canvas.width = width;
  if (canvas.height !== height) canvas.height = height;
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  ctx.putImageData(grayToImageData(gray, width, height), 0, 0);
}

/**
 * The edges of a binary mask's lesion as line segments in pixel coordinates: every side of a lesion
 * pixel whose neighbour (or the border) is background. Scaled by the caller.
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

/** Scale of the overlay canvas: whole pixels per image pixel, about `target` CSS pixels across. */
export function overlayScale(width: number, target = 512): number {
  return Math.max(1, Math.round(target / Math.max(1, width)));
}

/**
 * The overlay view: the image upscaled crisp, the lesion filled translucent and outlined along pixel
 * edges. `mask` is 1 (lesion) / 0 per pixel.
 */
export function drawOverlay(
  canvas: HTMLCanvasElement,
  gray: ArrayLike<number>,
  mask: ArrayLike<number>,
  width: number,
  height: number,
): void {
  const s = overlayScale(width);
  if (canvas.width !== width * s) canvas.width = width * s;
  if (canvas.height !== height * s) canvas.height = height * s;
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  const base = document.createElement('canvas');
  base.width = width;
  base.height = height;
  base.getContext('2d')?.putImageData(grayToImageData(gray, width, height), 0, 0);
  ctx.imageSmoothingEnabled = false;
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  ctx.drawImage(base, 0, 0, width * s, height * s);

  ctx.fillStyle = 'rgba(255, 140, 60, 0.22)';
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if ((mask[y * width + x] ?? 0) > 0) ctx.fillRect(x * s, y * s, s, s);
    }
  }
  const seg = maskOutline(mask, width, height);
  ctx.strokeStyle = 'rgb(255, 170, 60)';
  ctx.lineWidth = Math.max(1.5, s / 6);
  ctx.lineCap = 'square';
  ctx.beginPath();
  for (let i = 0; i < seg.length; i += 4) {
    ctx.moveTo((seg[i] ?? 0) * s, (seg[i + 1] ?? 0) * s);
    ctx.lineTo((seg[i + 2] ?? 0) * s, (seg[i + 3] ?? 0) * s);
  }
  ctx.stroke();
}
