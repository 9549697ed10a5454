// NIfTI-1 single-file images (.nii, gzipped to .nii.gz): the dataset export's optional format for
// tools that want NIfTI (nnU-Net reads either; "file_ending": ".nii.gz"). One 2D slice of uint8,
// exactly the pixels of the PNG export (image 0 … 255, label 0/1). Spec: the NIfTI-1 header
// nifti1.h (348 bytes, little-endian), then 4 zero extension bytes, data at vox_offset 352.
//
// Geometry: as SimpleITK writes a 2D image (nnU-Net's SimpleITKIO reads and writes .nii.gz with it):
// origin 0, spacing 1 (generated images have none; ITK calls the unit mm), and ITK's identity
// direction, which is in LPS. ITK's NIfTI writer turns LPS into NIfTI's RAS by negating the first two
// rows: ITK Modules/IO/NIFTI/src/itkNiftiImageIO.cxx (InsightSoftwareConsortium/ITK at fee22c1e,
// 2026-08), SetNIfTIOrientationFromImageIO: dirx = −Direction(0), diry = −Direction(1) and, for a 2D
// image, dirz = (0, 0, 1); origin x, y negated; qform from that matrix (nifti_mat44_to_quatern),
// sform the same matrix scaled by the spacing, pixdim[0] = qfac, qform_code = sform_code =
// NIFTI_XFORM_SCANNER_ANAT (1); WriteImageInformation: xyz_units mm, time_units s. So the affine is
// diag(−1, −1, 1): voxel (i, j) = column i, row j is at RAS (−i, −j, 0), i.e. the axes point Left and
// Posterior (nibabel.aff2axcodes: L, P, S), and the quaternion is a half turn about z (b = c = 0,
// d = 1, qfac 1). (ITK writes the negated zero offsets as −0; here they are +0, the same point.)
// Display: SimpleITK reads it back as the PNG's array ([row, column], identity direction), and a
// viewer in radiological convention (3D Slicer's and ITK-SNAP's axial view: patient Right on the
// screen's left, Anterior up) shows column 0 on the left and row 0 at the top, as the PNG; a viewer
// in neurological convention (patient Left on the screen's left) mirrors it left–right, as it
// mirrors every SimpleITK-written 2D image. training/tests/test_nifti_orientation.py checks it with
// nibabel against the CLI's PNG of the same case.
// Data order: NIfTI's first axis varies fastest, so a row-major [H, W] array is dim = [2, W, H].

import { gzipSync } from 'fflate';
import { crc32 } from '../crc32';
import { concatBytes, DEFLATE_LEVEL, deflateStored } from '../png';

const HEADER_SIZE = 348;
const VOX_OFFSET = 352;
const DT_UINT8 = 2;
const XFORM_SCANNER_ANAT = 1;
const UNITS_MM_SEC = 2 | 8; // NIFTI_UNITS_MM | NIFTI_UNITS_SEC, as ITK writes
export const NIFTI_INTENT_LABEL = 1002;

export interface NiftiOptions {
  /** intent_code: NIFTI_INTENT_LABEL for a label map, 0 (none) for an image. */
  intent?: number;
  /** descrip (at most 79 ASCII characters). */
  description?: string;
  /** false: gzip of stored deflate blocks (no compression). Default true: fflate's gzip. */
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
  for (const [i, d] of [2, width, height, 1, 1, 1, 1, 1].entries()) v.setInt16(40 + 2 * i, d, true); // dim
  v.setInt16(68, opts.intent ?? 0, true); // intent_code
  v.setInt16(70, DT_UINT8, true); // datatype
  v.setInt16(72, 8, true); // bitpix
  for (let i = 0; i < 8; i++) v.setFloat32(76 + 4 * i, 1, true); // pixdim: qfac 1 (pixdim[0]), spacing 1
  v.setFloat32(108, VOX_OFFSET, true); // vox_offset
  v.setFloat32(112, 1, true); // scl_slope: stored values are the values
  v.setFloat32(116, 0, true); // scl_inter
  out[123] = UNITS_MM_SEC; // xyzt_units
  ascii(148, opts.description ?? '', 80); // descrip
  v.setInt16(252, XFORM_SCANNER_ANAT, true); // qform_code
  v.setInt16(254, XFORM_SCANNER_ANAT, true); // sform_code
  v.setFloat32(264, 1, true); // quatern_d = 1 (b = c = 0): a half turn about z; qoffset 0
  v.setFloat32(280, -1, true); // srow_x = [−1, 0, 0, 0]
  v.setFloat32(296 + 4, -1, true); // srow_y = [0, −1, 0, 0]
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

/** gzip (RFC 1952) deflated by fflate, mtime 0 and no file name: the same bytes on every platform. */
function gzip(data: Uint8Array): Uint8Array {
  return gzipSync(data, { level: DEFLATE_LEVEL, mtime: 0 });
}

/** The .nii.gz bytes of an H×W uint8 slice. */
export async function encodeNiftiGz(pixels: Uint8Array, width: number, height: number, opts?: NiftiOptions): Promise<Uint8Array> {
  const nii = encodeNiftiUint8(pixels, width, height, opts);
  return opts?.compress === false ? gzipStored(nii) : gzip(nii);
}
