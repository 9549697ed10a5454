// NumPy .npy writer (format version 1.0): float32 little-endian, C order, any shape (the CLI's raw
// dumps use [H, W]). numpy.load reads it; spec: numpy.lib.format.

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/** The .npy bytes of `data` with the given shape (product must equal data.length). */
export function encodeNpyFloat32(data: Float32Array, shape: readonly number[]): Uint8Array {
  const count = shape.reduce((n, d) => n * d, 1);
  if (!shape.every((d) => Number.isInteger(d) && d >= 0) || count !== data.length) {
    throw new Error(`npy: shape [${shape}] does not hold ${data.length} values`);
  }
  const dims = shape.length === 1 ? `${shape[0]},` : shape.join(', ');
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${dims}), }`;
  // magic (6) + version (2) + header length (2) + header, padded with spaces and ending in '\n',
  // is a multiple of 64 so the data is aligned (what numpy itself writes).
  const unpadded = 10 + header.length + 1;
  header += `${' '.repeat((64 - (unpadded % 64)) % 64)}\n`;
  const out = new Uint8Array(10 + header.length + 4 * data.length);
  out.set(MAGIC, 0);
  out[6] = 1; // version 1.0
  out[7] = 0;
  const v = new DataView(out.buffer);
  v.setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  const base = 10 + header.length;
  for (let i = 0; i < data.length; i++) v.setFloat32(base + 4 * i, data[i], true);
  return out;
}
