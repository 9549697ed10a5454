// CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320): the checksum of PNG chunks and ZIP entries.

let crcTable: Uint32Array | null = null;
export function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  for (let i = 0; i < bytes.length; i++) crc = crcTable[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}
