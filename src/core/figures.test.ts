import { describe, expect, it } from 'vitest';
import { composeContactSheet, composePairFrame, contactSheetLayout, pairFrameLayout, type SheetOptions, sheetCell, tileScale } from './figures';
import { drawText, textWidth, upscale } from './raster';

describe('raster helpers', () => {
  it('upscales nearest-neighbour', () => {
    expect(Array.from(upscale([1, 2, 3, 4], 2, 2, 2))).toEqual([1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4]);
    expect(() => upscale([1], 1, 1, 0)).toThrow(/factor/);
    // RGB: each 3-byte pixel repeated
    expect(Array.from(upscale([1, 2, 3, 4, 5, 6], 2, 1, 2, 3))).toEqual([1, 2, 3, 1, 2, 3, 4, 5, 6, 4, 5, 6, 1, 2, 3, 1, 2, 3, 4, 5, 6, 4, 5, 6]);
  });
  it('measures and draws 5×7 glyphs with one blank column between them', () => {
    expect(textWidth('t = 0', 2)).toBe((5 * 6 - 1) * 2);
    expect(textWidth('', 3)).toBe(0);
    const W = 11;
    const px = new Uint8Array(W * 7).fill(9);
    drawText(px, W, '1-', 0, 0, 1, 0);
    // '1' top row "..#.." and bottom row ".###."; '-' is one full row at row 3, starting at x = 6.
    expect(Array.from(px.subarray(0, W))).toEqual([9, 9, 0, 9, 9, 9, 9, 9, 9, 9, 9]);
    expect(Array.from(px.subarray(3 * W, 4 * W))).toEqual([9, 9, 0, 9, 9, 9, 0, 0, 0, 0, 0]);
    expect(Array.from(px.subarray(6 * W, 7 * W))).toEqual([9, 0, 0, 0, 9, 9, 9, 9, 9, 9, 9]);
    expect(() => drawText(px, W, 'x', 0, 0, 1, 0)).toThrow(/no glyph for "x"/);
    expect(() => drawText(px, W, '11', 1, 0, 1, 0)).toThrow(/does not fit/);
  });
});

describe('animation frame: mask | image', () => {
  it('lays out and composes two upscaled tiles with a gap of paper between', () => {
    const layout = pairFrameLayout(2, 1, 2, 1);
    expect(layout).toEqual({ width: 9, height: 2, scale: 2, imageX: 5 });
    const px = composePairFrame({ t: 0, mask: [0, 255], image: [10, 20] }, 2, 1, layout);
    const row = [0, 0, 255, 255, 255, 10, 10, 20, 20];
    expect(Array.from(px)).toEqual([...row, ...row]);
  });
  it('scales tiles to about the target size', () => {
    expect(tileScale(32, 128)).toBe(4);
    expect(tileScale(100, 128)).toBe(1);
    expect(tileScale(256, 128)).toBe(1);
  });
});

describe('contact sheet layout', () => {
  const o: SheetOptions = { columns: 8, scale: 4, gap: 8, fontScale: 2 };
  it('one band of 8 columns of 32² tiles at 4×', () => {
    // width: 8 margin·2 + 8·128 + 7·8 = 1096; label strip 7·2 + 8 = 22; band 22 + 2·128 + 8 = 286.
    const l = contactSheetLayout(8, 32, 32, o);
    expect(l).toEqual({ width: 1096, height: 16 + 286, tileWidth: 128, tileHeight: 128, labelHeight: 22, columns: 8, bands: 1 });
  });
  it('wraps 10 steps at 4 columns into 3 bands', () => {
    const l = contactSheetLayout(10, 32, 32, { ...o, columns: 4 });
    expect([l.width, l.height, l.bands]).toEqual([16 + 4 * 128 + 3 * 8, 16 + 3 * 286 + 2 * 8, 3]);
    // step 5 → column 1 of band 1: x = 8 + 136; band top = 8 + 294; label "t = 0" (58 px) centred.
    expect(sheetCell(l, 5, 't = 0', o)).toEqual({
      labelX: 144 + 35,
      labelScale: 2,
      labelY: 302,
      maskX: 144,
      maskY: 324,
      imageX: 144,
      imageY: 460,
    });
  });
  it('uses fewer columns than asked when there are fewer steps', () => {
    expect(contactSheetLayout(3, 32, 32, o).columns).toBe(3);
    expect(() => contactSheetLayout(0, 32, 32, o)).toThrow(/at least one step/);
  });
  it('shrinks a label wider than its tile', () => {
    const l = contactSheetLayout(1, 10, 10, { ...o, scale: 1 });
    const cell = sheetCell(l, 0, 't = 9', o);
    expect(cell.labelScale).toBe(1);
  });
});

describe('composeContactSheet', () => {
  it('puts each step tile where the layout says, on white, with its label in black', () => {
    const o: SheetOptions = { columns: 2, scale: 30, gap: 2, fontScale: 2 };
    const steps = [
      { t: 8, mask: [0, 255], image: [100, 101] },
      { t: 0, mask: [255, 0], image: [200, 201] },
    ];
    const sheet = composeContactSheet(steps, 2, 1, o);
    const l = contactSheetLayout(2, 2, 1, o);
    expect([sheet.width, sheet.height]).toEqual([l.width, l.height]);
    // width 2·2 + 2·60 + 2 = 126; height 2·2 + (14 + 2) + 2·30 + 2 = 82
    expect([sheet.width, sheet.height]).toEqual([126, 82]);
    const at = (x: number, y: number) => sheet.pixels[y * sheet.width + x];
    steps.forEach((s, i) => {
      const c = sheetCell(l, i, `t = ${s.t}`, o);
      expect(at(c.maskX, c.maskY)).toBe(s.mask[0]);
      expect(at(c.maskX + 59, c.maskY + 29)).toBe(s.mask[1]);
      expect(at(c.imageX + 29, c.imageY)).toBe(s.image[0]);
      expect(at(c.imageX + 30, c.imageY + 29)).toBe(s.image[1]);
      // 't' has ink in its first row at glyph column 1.
      expect(at(c.labelX + 2, c.labelY)).toBe(0);
    });
    expect(at(0, 0)).toBe(255);
    const values = new Set(sheet.pixels);
    expect([...values].sort((a, b) => a - b)).toEqual([0, 100, 101, 200, 201, 255]);
  });
});
