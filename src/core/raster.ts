// 8-bit gray rasters for the exported figures: nearest-neighbour upscaling, copying one raster into
// another, and a 5×7 bitmap font for the labels (so figures are drawn the same in the browser, the
// worker and Node, without a canvas or a system font).

/** Each pixel (of `channels` bytes) repeated `factor`×`factor` times (crisp pixels, no smoothing). */
export function upscale(src: ArrayLike<number>, width: number, height: number, factor: number, channels = 1): Uint8Array {
  if (!Number.isInteger(factor) || factor < 1) throw new Error(`upscale factor must be a whole number ≥ 1, got ${factor}`);
  if (src.length !== width * height * channels) throw new Error(`upscale: ${src.length / channels} pixels for ${width}×${height}`);
  const w = width * factor;
  const out = new Uint8Array(w * height * factor * channels);
  for (let y = 0; y < height * factor; y++) {
    const row = Math.floor(y / factor) * width;
    for (let x = 0; x < w; x++) {
      const from = (row + Math.floor(x / factor)) * channels;
      const to = (y * w + x) * channels;
      for (let c = 0; c < channels; c++) out[to + c] = src[from + c];
    }
  }
  return out;
}

/** Copies a `width`×`height` raster into `dst` (of row length `dstWidth`) at (x, y). */
export function blitGray(dst: Uint8Array, dstWidth: number, src: ArrayLike<number>, width: number, height: number, x: number, y: number): void {
  const dstHeight = dst.length / dstWidth;
  if (x < 0 || y < 0 || x + width > dstWidth || y + height > dstHeight)
    throw new Error(`blit: ${width}×${height} at (${x}, ${y}) does not fit in ${dstWidth}×${dstHeight}`);
  for (let r = 0; r < height; r++) {
    for (let c = 0; c < width; c++) dst[(y + r) * dstWidth + x + c] = src[r * width + c];
  }
}

// 5×7 glyphs, one string per row, '#' = ink. Only what the labels need ("t = 1023").
const GLYPHS: Record<string, readonly string[]> = {
  '0': ['.###.', '#...#', '#..##', '#.#.#', '##..#', '#...#', '.###.'],
  '1': ['..#..', '.##..', '..#..', '..#..', '..#..', '..#..', '.###.'],
  '2': ['.###.', '#...#', '....#', '...#.', '..#..', '.#...', '#####'],
  '3': ['#####', '...#.', '..#..', '...#.', '....#', '#...#', '.###.'],
  '4': ['...#.', '..##.', '.#.#.', '#..#.', '#####', '...#.', '...#.'],
  '5': ['#####', '#....', '####.', '....#', '....#', '#...#', '.###.'],
  '6': ['..##.', '.#...', '#....', '####.', '#...#', '#...#', '.###.'],
  '7': ['#####', '....#', '...#.', '..#..', '.#...', '.#...', '.#...'],
  '8': ['.###.', '#...#', '#...#', '.###.', '#...#', '#...#', '.###.'],
  '9': ['.###.', '#...#', '#...#', '.####', '....#', '...#.', '.##..'],
  t: ['.#...', '.#...', '####.', '.#...', '.#...', '.#..#', '..##.'],
  '=': ['.....', '.....', '#####', '.....', '#####', '.....', '.....'],
  '-': ['.....', '.....', '.....', '#####', '.....', '.....', '.....'],
  ' ': ['.....', '.....', '.....', '.....', '.....', '.....', '.....'],
};
const GLYPH_WIDTH = 5;
export const GLYPH_HEIGHT = 7;
/** Blank columns between glyphs, in font pixels. */
const GLYPH_SPACING = 1;

/** Width in pixels of `text` drawn at `scale` (no trailing space after the last glyph). */
export function textWidth(text: string, scale: number): number {
  return text.length === 0 ? 0 : (text.length * (GLYPH_WIDTH + GLYPH_SPACING) - GLYPH_SPACING) * scale;
}

/** Draws `text` with its top-left corner at (x, y), each font pixel a `scale`×`scale` square of `ink`. */
export function drawText(dst: Uint8Array, dstWidth: number, text: string, x: number, y: number, scale: number, ink: number): void {
  const dstHeight = dst.length / dstWidth;
  if (x < 0 || y < 0 || x + textWidth(text, scale) > dstWidth || y + GLYPH_HEIGHT * scale > dstHeight)
    throw new Error(`drawText: "${text}" at (${x}, ${y}) does not fit in ${dstWidth}×${dstHeight}`);
  for (let k = 0; k < text.length; k++) {
    const glyph = GLYPHS[text[k]];
    if (!glyph) throw new Error(`drawText: no glyph for ${JSON.stringify(text[k])}`);
    const gx = x + k * (GLYPH_WIDTH + GLYPH_SPACING) * scale;
    for (let r = 0; r < GLYPH_HEIGHT; r++) {
      for (let c = 0; c < GLYPH_WIDTH; c++) {
        if (glyph[r][c] !== '#') continue;
        for (let dy = 0; dy < scale; dy++)
          dst.fill(ink, (y + r * scale + dy) * dstWidth + gx + c * scale, (y + r * scale + dy) * dstWidth + gx + (c + 1) * scale);
      }
    }
  }
}
