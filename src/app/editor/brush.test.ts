import { describe, expect, it } from 'vitest';
import { lesionCount, paintSegment, stampDisc } from './brush';

const W = 9;
const H = 9;
const rows = (m: Uint8Array) => Array.from({ length: H }, (_, j) => Array.from(m.subarray(j * W, (j + 1) * W)).join(''));

describe('brush', () => {
  it('a 1-pixel brush sets exactly the pixel under the pointer', () => {
    const m = new Uint8Array(W * H);
    stampDisc(m, W, H, 4.2, 3.9, 1, 1);
    expect(lesionCount(m)).toBe(1);
    expect(m[3 * W + 4]).toBe(1);
  });

  it('a 3-pixel brush at a pixel centre covers the 3×3 pixels whose centres lie within 1.5', () => {
    const m = new Uint8Array(W * H);
    stampDisc(m, W, H, 4.5, 4.5, 3, 1);
    expect(rows(m).slice(3, 6)).toEqual(['000111000', '000111000', '000111000']);
    expect(lesionCount(m)).toBe(9);
  });

  it('a horizontal stroke is as wide as the brush; the eraser clears; the border clips', () => {
    const m = new Uint8Array(W * H);
    paintSegment(m, W, H, { x: -3, y: 4.5 }, { x: 20, y: 4.5 }, 5, 1);
    expect(rows(m)).toEqual(['000000000', '000000000', ...Array(5).fill('111111111'), '000000000', '000000000']);
    paintSegment(m, W, H, { x: 4.5, y: 0 }, { x: 4.5, y: 9 }, 1, 0);
    expect(rows(m)[4]).toBe('111101111');
  });

  it('a fast stroke (pointer jumped far between events) leaves no gaps', () => {
    const m = new Uint8Array(W * H);
    paintSegment(m, W, H, { x: 0.5, y: 0.5 }, { x: 8.5, y: 8.5 }, 1, 1);
    for (let i = 0; i < 9; i++) expect(m[i * W + i]).toBe(1);
  });
});
