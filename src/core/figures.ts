// Figures of a run's trajectory, as 8-bit gray rasters (encoded by png.ts / apng.ts):
// - the animation frame: mask | image side by side, upscaled crisp;
// - the contact sheet: the paper's figure of the denoising process, one column per chosen step
//   with its t above, the mask estimate x̂₀ over the image estimate ŷ₀, wrapping into bands.
import { blitGray, drawText, GLYPH_HEIGHT, textWidth, upscale } from './raster';

/** One step's views as gray bytes of the model's size. */
export interface StepTiles {
  t: number;
  mask: ArrayLike<number>;
  image: ArrayLike<number>;
}

/** Whole-pixel upscale that makes a `width`-pixel image about `target` pixels across (never below 1). */
export function tileScale(width: number, target: number): number {
  return Math.max(1, Math.floor(target / Math.max(1, width)));
}

const PAPER = 255;
const INK = 0;

export interface PairFrameLayout {
  width: number;
  height: number;
  scale: number;
  /** Left edge of the image tile (the mask tile starts at 0). */
  imageX: number;
}

/** mask | gap | image, each upscaled by `scale`. */
export function pairFrameLayout(width: number, height: number, scale: number, gap: number): PairFrameLayout {
  const tile = width * scale;
  return { width: 2 * tile + gap, height: height * scale, scale, imageX: tile + gap };
}

/** One animation frame: the step's mask and image side by side on the paper colour. */
export function composePairFrame(tiles: StepTiles, width: number, height: number, layout: PairFrameLayout): Uint8Array {
  const out = new Uint8Array(layout.width * layout.height).fill(PAPER);
  const w = width * layout.scale;
  const h = height * layout.scale;
  blitGray(out, layout.width, upscale(tiles.mask, width, height, layout.scale), w, h, 0, 0);
  blitGray(out, layout.width, upscale(tiles.image, width, height, layout.scale), w, h, layout.imageX, 0);
  return out;
}

export interface SheetOptions {
  /** Tiles per band (row of columns) before wrapping. */
  columns: number;
  /** Upscale of each tile. */
  scale: number;
  /** Space between tiles and bands, and around the sheet. */
  gap: number;
  /** Label font scale (a glyph is 5·s × 7·s). */
  fontScale: number;
}

export interface SheetCell {
  /** Top-left of the label's text, the mask tile and the image tile. */
  labelX: number;
  /** The label's font scale: the sheet's, or 1 where that would be wider than the tile. */
  labelScale: number;
  labelY: number;
  maskX: number;
  maskY: number;
  imageX: number;
  imageY: number;
}

export interface SheetLayout {
  width: number;
  height: number;
  tileWidth: number;
  tileHeight: number;
  /** Height of the label strip above each band's tiles. */
  labelHeight: number;
  columns: number;
  bands: number;
}

function labelText(t: number): string {
  return `t = ${t}`;
}

/**
 * The sheet's size and each band's geometry for `count` steps. Per band: label strip (glyph height +
 * gap), mask tiles, gap, image tiles. The sheet has a `gap` margin all round and `gap` between bands.
 */
export function contactSheetLayout(count: number, width: number, height: number, o: SheetOptions): SheetLayout {
  if (!Number.isInteger(count) || count < 1) throw new Error(`contact sheet: need at least one step, got ${count}`);
  const columns = Math.max(1, Math.min(o.columns, count));
  const bands = Math.ceil(count / columns);
  const tileWidth = width * o.scale;
  const tileHeight = height * o.scale;
  const labelHeight = GLYPH_HEIGHT * o.fontScale + o.gap;
  const bandHeight = labelHeight + 2 * tileHeight + o.gap;
  return {
    width: 2 * o.gap + columns * tileWidth + (columns - 1) * o.gap,
    height: 2 * o.gap + bands * bandHeight + (bands - 1) * o.gap,
    tileWidth,
    tileHeight,
    labelHeight,
    columns,
    bands,
  };
}

/** Where the `index`-th step's label and tiles go (label centred over its column, kept on the sheet). */
export function sheetCell(layout: SheetLayout, index: number, label: string, o: SheetOptions): SheetCell {
  const column = index % layout.columns;
  const band = Math.floor(index / layout.columns);
  const x = o.gap + column * (layout.tileWidth + o.gap);
  const top = o.gap + band * (layout.labelHeight + 2 * layout.tileHeight + 2 * o.gap);
  const labelScale = textWidth(label, o.fontScale) <= layout.tileWidth ? o.fontScale : 1;
  const labelWidth = textWidth(label, labelScale);
  const centred = x + Math.floor((layout.tileWidth - labelWidth) / 2);
  const labelX = Math.max(0, Math.min(centred, layout.width - labelWidth));
  const maskY = top + layout.labelHeight;
  return { labelX, labelScale, labelY: top, maskX: x, maskY, imageX: x, imageY: maskY + layout.tileHeight + o.gap };
}

/** The contact sheet as gray bytes, with its size. */
export function composeContactSheet(
  steps: readonly StepTiles[],
  width: number,
  height: number,
  o: SheetOptions,
): { pixels: Uint8Array; width: number; height: number } {
  const layout = contactSheetLayout(steps.length, width, height, o);
  const pixels = new Uint8Array(layout.width * layout.height).fill(PAPER);
  steps.forEach((step, i) => {
    const label = labelText(step.t);
    const cell = sheetCell(layout, i, label, o);
    drawText(pixels, layout.width, label, cell.labelX, cell.labelY, cell.labelScale, INK);
    blitGray(pixels, layout.width, upscale(step.mask, width, height, o.scale), layout.tileWidth, layout.tileHeight, cell.maskX, cell.maskY);
    blitGray(pixels, layout.width, upscale(step.image, width, height, o.scale), layout.tileWidth, layout.tileHeight, cell.imageX, cell.imageY);
  });
  return { pixels, width: layout.width, height: layout.height };
}
