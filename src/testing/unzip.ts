// Reads back what core/dataset/zip.ts writes (stored and deflated entries), walking the central
// directory as an unzip tool does, so tests can look inside an exported dataset without a library.
import { inflateRawSync } from 'node:zlib';
import { crc32 } from '../core/crc32';

export function readZip(bytes: Uint8Array): Map<string, Uint8Array> {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const end = bytes.length - 22;
  if (v.getUint32(end, true) !== 0x06054b50) throw new Error('zip: no end-of-central-directory record at the end');
  const entries = v.getUint16(end + 10, true);
  let o = v.getUint32(end + 16, true);
  const files = new Map<string, Uint8Array>();
  for (let i = 0; i < entries; i++) {
    if (v.getUint32(o, true) !== 0x02014b50) throw new Error(`zip: central header ${i} is missing`);
    const method = v.getUint16(o + 10, true);
    if (method !== 0 && method !== 8) throw new Error(`zip: method ${method} (only stored 0 and deflated 8 are read here)`);
    const crc = v.getUint32(o + 16, true);
    const compressed = v.getUint32(o + 20, true);
    const size = v.getUint32(o + 24, true);
    const nameLength = v.getUint16(o + 28, true);
    const name = new TextDecoder().decode(bytes.subarray(o + 46, o + 46 + nameLength));
    const local = v.getUint32(o + 42, true);
    const start = local + 30 + v.getUint16(local + 26, true) + v.getUint16(local + 28, true);
    const raw = bytes.subarray(start, start + compressed);
    // Node's zlib inflates, not the writer's fflate: an independent reader
    const data = method === 8 ? new Uint8Array(inflateRawSync(raw)) : raw;
    if (data.length !== size) throw new Error(`zip: ${name} is ${data.length} bytes, its header says ${size}`);
    if (crc32(data) !== crc) throw new Error(`zip: ${name} fails its CRC-32`);
    files.set(name, data);
    o += 46 + nameLength + v.getUint16(o + 30, true) + v.getUint16(o + 32, true);
  }
  return files;
}
