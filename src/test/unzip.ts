// Reads back what core/dataset/zip.ts writes (stored entries only), walking the central directory
// as an unzip tool does, so tests can look inside an exported dataset without a library.
import { crc32 } from '../core/crc32';

export function readStoredZip(bytes: Uint8Array): Map<string, Uint8Array> {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const end = bytes.length - 22;
  if (v.getUint32(end, true) !== 0x06054b50) throw new Error('zip: no end-of-central-directory record at the end');
  const entries = v.getUint16(end + 10, true);
  let o = v.getUint32(end + 16, true);
  const files = new Map<string, Uint8Array>();
  for (let i = 0; i < entries; i++) {
    if (v.getUint32(o, true) !== 0x02014b50) throw new Error(`zip: central header ${i} is missing`);
    if (v.getUint16(o + 10, true) !== 0) throw new Error('zip: only stored entries are read here');
    const crc = v.getUint32(o + 16, true);
    const size = v.getUint32(o + 24, true);
    const nameLength = v.getUint16(o + 28, true);
    const name = new TextDecoder().decode(bytes.subarray(o + 46, o + 46 + nameLength));
    const local = v.getUint32(o + 42, true);
    const start = local + 30 + v.getUint16(local + 26, true) + v.getUint16(local + 28, true);
    const data = bytes.subarray(start, start + size);
    if (crc32(data) !== crc) throw new Error(`zip: ${name} fails its CRC-32`);
    files.set(name, data);
    o += 46 + nameLength + v.getUint16(o + 30, true) + v.getUint16(o + 32, true);
  }
  return files;
}
