// What an uploaded image file's header says, read before the browser decodes it: its format, size,
// bit depth and whether it is animated. The studio refuses a file whose pixel count is over
// MAX_UPLOAD_PIXELS from this alone (a 30 000 × 30 000 PNG is a few kilobytes of zeros that would
// decode to 3.6 GB of RGBA) and says when only the first frame of an animation is used or 16-bit
// samples are read as 8 bits. No DOM: the same code runs in Node for tests.

/** Most pixels an uploaded mask or image may have (40 MP: 160 MB of RGBA once decoded). */
export const MAX_UPLOAD_PIXELS = 40_000_000;

export interface ImageHeader {
  format: 'PNG' | 'JPEG' | 'GIF' | 'WebP' | 'BMP';
  width: number;
  height: number;
  /** Bits per sample where the header says (PNG, JPEG precision, BMP bits per pixel). */
  bitDepth: number | null;
  /** Frames where the file is animated: APNG's and GIF's count (GIF: counted in the bytes given), WebP: null (the count is not in its header). */
  animated: { frames: number | null } | null;
}

const u16be = (b: Uint8Array, o: number) => (b[o] << 8) | b[o + 1];
const u32be = (b: Uint8Array, o: number) => ((b[o] << 24) >>> 0) + (b[o + 1] << 16) + (b[o + 2] << 8) + b[o + 3];
const u16le = (b: Uint8Array, o: number) => b[o] | (b[o + 1] << 8);
const u24le = (b: Uint8Array, o: number) => b[o] | (b[o + 1] << 8) | (b[o + 2] << 16);
const i32le = (b: Uint8Array, o: number) => b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24);
const ascii = (b: Uint8Array, o: number, n: number) => String.fromCharCode(...b.subarray(o, o + n));

function png(b: Uint8Array): ImageHeader | null {
  if (b.length < 33 || ascii(b, 12, 4) !== 'IHDR') return null;
  let animated: ImageHeader['animated'] = null;
  // acTL comes before the first IDAT in an APNG
  for (let o = 8; o + 8 <= b.length; ) {
    const length = u32be(b, o);
    const type = ascii(b, o + 4, 4);
    if (type === 'acTL' && o + 12 <= b.length) animated = { frames: u32be(b, o + 8) };
    if (type === 'IDAT' || type === 'IEND') break;
    o += 12 + length;
  }
  return { format: 'PNG', width: u32be(b, 16), height: u32be(b, 20), bitDepth: b[24], animated: animated && animated.frames !== 1 ? animated : null };
}

function jpeg(b: Uint8Array): ImageHeader | null {
  for (let o = 2; o + 9 < b.length; ) {
    if (b[o] !== 0xff) return null;
    const marker = b[o + 1];
    if (marker === 0xff) {
      o++; // fill byte
      continue;
    }
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      o += 2;
      continue;
    }
    // SOF0–SOF15 except DHT (C4), JPG (C8) and DAC (CC): precision, height, width
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return { format: 'JPEG', width: u16be(b, o + 7), height: u16be(b, o + 5), bitDepth: b[o + 4], animated: null };
    }
    o += 2 + u16be(b, o + 2);
  }
  return null;
}

/** Image descriptors in a GIF's block stream (as far as the bytes go). */
function gifFrames(b: Uint8Array): number {
  let o = 13;
  if (b[10] & 0x80) o += 3 * 2 ** ((b[10] & 7) + 1);
  const subBlocks = (p: number) => {
    while (p < b.length && b[p] !== 0) p += b[p] + 1;
    return p + 1;
  };
  let frames = 0;
  while (o < b.length) {
    const block = b[o];
    if (block === 0x2c) {
      frames++;
      const flags = b[o + 9];
      o += 10;
      if (flags & 0x80) o += 3 * 2 ** ((flags & 7) + 1);
      o = subBlocks(o + 1); // LZW minimum code size, then the data
    } else if (block === 0x21) o = subBlocks(o + 2);
    else break; // 0x3b trailer, or damage
  }
  return frames;
}

function gif(b: Uint8Array): ImageHeader {
  const frames = gifFrames(b);
  return { format: 'GIF', width: u16le(b, 6), height: u16le(b, 8), bitDepth: 8, animated: frames > 1 ? { frames } : null };
}

function webp(b: Uint8Array): ImageHeader | null {
  const chunk = ascii(b, 12, 4);
  if (chunk === 'VP8X' && b.length >= 30) {
    return { format: 'WebP', width: u24le(b, 24) + 1, height: u24le(b, 27) + 1, bitDepth: 8, animated: b[20] & 0x02 ? { frames: null } : null };
  }
  if (chunk === 'VP8L' && b.length >= 25 && b[20] === 0x2f) {
    const bits = b[21] | (b[22] << 8) | (b[23] << 16) | (b[24] << 24);
    return { format: 'WebP', width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1, bitDepth: 8, animated: null };
  }
  if (chunk === 'VP8 ' && b.length >= 30) {
    return { format: 'WebP', width: u16le(b, 26) & 0x3fff, height: u16le(b, 28) & 0x3fff, bitDepth: 8, animated: null };
  }
  return null;
}

/** The header of a PNG, JPEG, GIF, WebP or BMP file from its first bytes; null for anything else (the browser may still decode it). */
export function readImageHeader(b: Uint8Array): ImageHeader | null {
  if (b.length >= 8 && b[0] === 0x89 && ascii(b, 1, 3) === 'PNG') return png(b);
  if (b.length >= 4 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return jpeg(b);
  if (b.length >= 13 && (ascii(b, 0, 6) === 'GIF87a' || ascii(b, 0, 6) === 'GIF89a')) return gif(b);
  if (b.length >= 16 && ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 4) === 'WEBP') return webp(b);
  if (b.length >= 30 && ascii(b, 0, 2) === 'BM') {
    return { format: 'BMP', width: Math.abs(i32le(b, 18)), height: Math.abs(i32le(b, 22)), bitDepth: u16le(b, 28), animated: null };
  }
  return null;
}

/** Why an image of width×height pixels is too large to upload, or null (`taker`: who refuses it, the studio or the CLI's --masks). */
export function uploadSizeProblem(width: number, height: number, taker = 'the studio'): string | null {
  const pixels = width * height;
  if (pixels <= MAX_UPLOAD_PIXELS) return null;
  const mp = (n: number) => `${(n / 1e6).toFixed(1)} MP`;
  return `it is ${width}×${height} pixels (${mp(pixels)}); ${taker} takes images of up to ${mp(MAX_UPLOAD_PIXELS)}. Downscale it first (the model works at a few hundred pixels).`;
}

/** What the header says that the user should know about how the file is read, or null. */
export function headerNote(h: ImageHeader): string | null {
  const notes: string[] = [];
  if (h.animated) notes.push(`animated ${h.format}${h.animated.frames ? ` (${h.animated.frames} frames)` : ''}: the first frame is used`);
  if (h.bitDepth === 16 && h.format === 'PNG') notes.push('16-bit PNG, read by the browser as 8 bits per sample');
  return notes.length > 0 ? notes.join('; ') : null;
}
