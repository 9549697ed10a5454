// The mask editor's painting, on the model's own 0/1 grid (no antialiasing, so what is drawn is
// exactly the mask the image model gets). Coordinates are continuous pixel units: (0, 0) is the
// top-left corner of the first pixel, pixel (i, j) is the square [i, i+1) × [j, j+1).

/** Sets every pixel whose centre lies within diameter/2 of (x, y), and always the pixel under (x, y). */
export function stampDisc(mask: Uint8Array, width: number, height: number, x: number, y: number, diameter: number, value: 0 | 1): void {
  const r = Math.max(0.5, diameter / 2);
  const x0 = Math.max(0, Math.floor(x - r));
  const x1 = Math.min(width - 1, Math.ceil(x + r));
  const y0 = Math.max(0, Math.floor(y - r));
  const y1 = Math.min(height - 1, Math.ceil(y + r));
  for (let j = y0; j <= y1; j++) {
    for (let i = x0; i <= x1; i++) {
      const dx = i + 0.5 - x;
      const dy = j + 0.5 - y;
      if (dx * dx + dy * dy <= r * r) mask[j * width + i] = value;
    }
  }
  const px = Math.floor(x);
  const py = Math.floor(y);
  if (px >= 0 && py >= 0 && px < width && py < height) mask[py * width + px] = value;
}

/** A stroke from one pointer position to the next: discs every half pixel, so no gaps at any speed. */
export function paintSegment(
  mask: Uint8Array,
  width: number,
  height: number,
  from: { x: number; y: number },
  to: { x: number; y: number },
  diameter: number,
  value: 0 | 1,
): void {
  const n = Math.max(1, Math.ceil(Math.hypot(to.x - from.x, to.y - from.y) * 2));
  for (let s = 0; s <= n; s++) {
    const t = s / n;
    stampDisc(mask, width, height, from.x + (to.x - from.x) * t, from.y + (to.y - from.y) * t, diameter, value);
  }
}

/** Number of lesion pixels. */
export function lesionCount(mask: ArrayLike<number>): number {
  let n = 0;
  for (let i = 0; i < mask.length; i++) if (mask[i]) n++;
  return n;
}
