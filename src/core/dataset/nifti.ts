// NIfTI-1 single-file images (.nii, gzipped to .nii.gz): the dataset export's optional format for
// tools that want NIfTI (nnU-Net reads either; "file_ending": ".nii.gz"). One 2D slice of uint8,
// exactly the pixels of the PNG export (image 0 … 255, label 0/1). Spec: the NIfTI-1 header
// nifti1.h (348 bytes, little-endian), then 4 zero extension bytes, data at vox_offset 352.
//
// Geometry: pixel spacing is unknown for generated images, so 1 (unit unspecified); qform and sform
// both the identity (code 1), so voxel (i, j) = column i, row j is at world (i, j, 0) in every reader.
// Data order: NIfTI's first axis varies fastest, so a row-major [H, W] array is dim = [2, W, H].

import { crc32 } from '../crc32';
import { concatBytes, deflateStored } from '../png';

const HEADER_SIZE = 348;
const VOX_OFFSET = 352;
const DT_UINT8 = 2;
const XFORM_SCANNER_ANAT = 1;
export const NIFTI_INTENT_LABEL = 1002;

export interface NiftiOptions {
  /** intent_code: NIFTI_INTENT_LABEL for a label map, 0 (none) for an image. */
  intent?: number;
  /** descrip (at most 79 ASCII characters). */
  description?: string;
  /** false: gzip of stored deflate blocks, the same bytes on every platform. Default true. */
  compress?: boolean;
}

/** The uncompressed .nii bytes of an H×W uint8 slice (row-major). */
export function encodeNiftiUint8(pixels: Uint8Array, width: number, height: number, opts: NiftiOptions = {}): Uint8Array {
  if (pixels.length !== width * height) throw new Error(`NIfTI: ${pixels.length} pixels for ${width}×${height}`);
  if (width > 32767 || height > 32767) throw new Error(`NIfTI-1: dimensions above 32767 (${width}×${height})`);
  const out = new Uint8Array(VOX_OFFSET + pixels.length);
  const v = new DataView(out.buffer);
  const ascii = (offset: number, text: string, max: number) => {
    for (let i = 0; i < Math.min(text.length, max - 1); i++) out[offset + i] = text.charCodeAt(i) & 0x7f;
  };
  v.setInt32(0, HEADER_SIZE, true); // sizeof_hdr
  out[38] = 'r'.charCodeAt(0); // regular (ANALYZE compatibility)
  [2, width, height, 1, 1, 1, 1, 1].forEach((d, i) => v.setInt16(40 + 2 * i, d, true)); // dim
  v.setInt16(68, opts.intent ?? 0, true); // intent_code
  v.setInt16(70, DT_UINT8, true); // datatype
  v.setInt16(72, 8, true); // bitpix
  [1, 1, 1, 1, 1, 1, 1, 1].forEach((d, i) => v.setFloat32(76 + 4 * i, d, true)); // pixdim: qfac 1, spacing 1
  v.setFloat32(108, VOX_OFFSET, true); // vox_offset
  v.setFloat32(112, 1, true); // scl_slope: stored values are the values
  v.setFloat32(116, 0, true); // scl_inter
  ascii(148, opts.description ?? '', 80); // descrip
  v.setInt16(252, XFORM_SCANNER_ANAT, true); // qform_code (quatern_b/c/d and qoffset 0: identity)
  v.setInt16(254, XFORM_SCANNER_ANAT, true); // sform_code
  v.setFloat32(280, 1, true); // srow_x = [1, 0, 0, 0]
  v.setFloat32(296 + 4, 1, true); // srow_y = [0, 1, 0, 0]
  v.setFloat32(312 + 8, 1, true); // srow_z = [0, 0, 1, 0]
  ascii(344, 'n+1', 4); // magic "n+1\0": header and data in one file
  // bytes 348 … 351: extension flag 0 (no extensions)
  out.set(pixels, VOX_OFFSET);
  return out;
}

/** gzip (RFC 1952) of stored deflate blocks: no compression, no CompressionStream, the same bytes everywhere. */
export function gzipStored(data: Uint8Array): Uint8Array {
  const header = new Uint8Array([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]); // deflate, no flags, mtime 0, OS unknown
  const trailer = new Uint8Array(8);
  const v = new DataView(trailer.buffer);
  v.setUint32(0, crc32(data), true);
  v.setUint32(4, data.length >>> 0, true); // ISIZE: the length mod 2^32
  return concatBytes([header, deflateStored(data), trailer]);
}

/** gzip (RFC 1952) via CompressionStream (browsers, Node ≥ 18). */
export async function gzip(data: Uint8Array): Promise<Uint8Array> {
  if (typeof CompressionStream === 'undefined') throw new Error('NIfTI export needs CompressionStream (gzip), which this runtime lacks');
  const stream = new Blob([data as BlobPart]).stream().pipeThrough(new CompressionStream('gzip'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** The .nii.gz bytes of an H×W uint8 slice. */
export async function encodeNiftiGz(pixels: Uint8Array, width: number, height: number, opts?: NiftiOptions): Promise<Uint8Array> {
  const nii = encodeNiftiUint8(pixels, width, height, opts);
  return opts?.compress === false ? gzipStored(nii) : gzip(nii);
}
