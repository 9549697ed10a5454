// Reads a PNG strictly enough for the tests: signature, IHDR fields, every chunk's CRC (pngjs),
// and the gray value of each pixel.
import pngjs from 'pngjs';

const SIGNATURE = Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]);
const COLOR_TYPES = { 0: 'gray', 2: 'rgb', 3: 'palette', 4: 'gray+alpha', 6: 'rgba' };

/** @param {Buffer} bytes */
export function decodePng(bytes) {
  if (bytes.length < 33 || !bytes.subarray(0, 8).equals(SIGNATURE)) throw new Error('not a PNG (bad signature)');
  if (bytes.toString('latin1', 12, 16) !== 'IHDR') throw new Error('PNG does not start with IHDR');
  const width = bytes.readUInt32BE(16);
  const height = bytes.readUInt32BE(20);
  const bitDepth = bytes[24];
  const colorType = COLOR_TYPES[bytes[25]] ?? `unknown(${bytes[25]})`;
  const png = pngjs.PNG.sync.read(bytes, { checkCRC: true });
  if (png.width !== width || png.height !== height) throw new Error('PNG size mismatch');
  const gray = new Uint8Array(width * height);
  for (let i = 0; i < width * height; i++) gray[i] = png.data[i * 4];
  return { width, height, bitDepth, colorType, gray };
}

export function distinctValues(values) {
  return [...new Set(values)].sort((a, b) => a - b);
}
