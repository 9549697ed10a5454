// The NIfTI-1 writer, checked field by field by numpy against the header layout of nifti1.h
// (a structured dtype written out from the spec, independent of our offsets), after gunzip.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { pythonHas, runPythonJson } from '../../testing/python';
import { encodeNiftiGz, encodeNiftiUint8, NIFTI_INTENT_LABEL } from './nifti';

const READ_NIFTI = `
import gzip, json, sys, numpy as np
# struct nifti_1_header, in order (nifti1.h); little-endian
hdr_dtype = np.dtype([
    ("sizeof_hdr", "<i4"), ("data_type", "S10"), ("db_name", "S18"), ("extents", "<i4"), ("session_error", "<i2"),
    ("regular", "S1"), ("dim_info", "u1"), ("dim", "<i2", (8,)), ("intent_p1", "<f4"), ("intent_p2", "<f4"),
    ("intent_p3", "<f4"), ("intent_code", "<i2"), ("datatype", "<i2"), ("bitpix", "<i2"), ("slice_start", "<i2"),
    ("pixdim", "<f4", (8,)), ("vox_offset", "<f4"), ("scl_slope", "<f4"), ("scl_inter", "<f4"), ("slice_end", "<i2"),
    ("slice_code", "u1"), ("xyzt_units", "u1"), ("cal_max", "<f4"), ("cal_min", "<f4"), ("slice_duration", "<f4"),
    ("toffset", "<f4"), ("glmax", "<i4"), ("glmin", "<i4"), ("descrip", "S80"), ("aux_file", "S24"),
    ("qform_code", "<i2"), ("sform_code", "<i2"), ("quatern_b", "<f4"), ("quatern_c", "<f4"), ("quatern_d", "<f4"),
    ("qoffset_x", "<f4"), ("qoffset_y", "<f4"), ("qoffset_z", "<f4"), ("srow_x", "<f4", (4,)), ("srow_y", "<f4", (4,)),
    ("srow_z", "<f4", (4,)), ("intent_name", "S16"), ("magic", "S4")])
assert hdr_dtype.itemsize == 348
raw = gzip.open(sys.argv[1]).read()
h = np.frombuffer(raw[:348], hdr_dtype)[0]
off = int(h["vox_offset"])
ndim, nx, ny = int(h["dim"][0]), int(h["dim"][1]), int(h["dim"][2])
# NIfTI's first index varies fastest: reshape to (ny, nx) in C order gives [row, column]
data = np.frombuffer(raw[off:], np.uint8).reshape(ny, nx)
out = {k: (h[k].tolist() if hasattr(h[k], "tolist") else h[k]) for k in hdr_dtype.names}
out = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in out.items()}
out["extension"] = list(raw[348:352])
out["data"] = data.tolist()
out["total"] = len(raw)
print(json.dumps(out))
`;

const hasNumpy = pythonHas('numpy', 'gzip');
if (!hasNumpy) console.warn('SKIPPED NIfTI reading test: needs numpy in /usr/bin/python3');

describe.skipIf(!hasNumpy)('NIfTI-1 (.nii.gz, read by numpy against nifti1.h)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pig-nifti-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('every header field as the spec says; the slice in row-major order', async () => {
    const W = 5;
    const H = 3;
    const px = Uint8Array.from({ length: W * H }, (_, i) => i * 17);
    const path = join(dir, 'a.nii.gz');
    writeFileSync(path, await encodeNiftiGz(px, W, H, { intent: NIFTI_INTENT_LABEL, description: 'pig_0000000007 seed 7' }));
    const h = runPythonJson<Record<string, any>>(READ_NIFTI, path);
    expect(h.sizeof_hdr).toBe(348);
    expect(h.magic).toBe('n+1');
    expect(h.regular).toBe('r');
    expect(h.dim).toEqual([2, W, H, 1, 1, 1, 1, 1]);
    expect(h.datatype).toBe(2); // DT_UINT8
    expect(h.bitpix).toBe(8);
    expect(h.intent_code).toBe(1002); // NIFTI_INTENT_LABEL
    expect([h.intent_p1, h.intent_p2, h.intent_p3]).toEqual([0, 0, 0]);
    expect(h.pixdim).toEqual([1, 1, 1, 1, 1, 1, 1, 1]); // qfac 1, unit spacing
    expect(h.vox_offset).toBe(352);
    expect([h.scl_slope, h.scl_inter]).toEqual([1, 0]);
    // SimpleITK's 2D image: LPS identity direction → RAS diag(−1, −1, 1), both forms SCANNER_ANAT
    expect([h.qform_code, h.sform_code]).toEqual([1, 1]);
    expect([h.quatern_b, h.quatern_c, h.quatern_d, h.qoffset_x, h.qoffset_y, h.qoffset_z]).toEqual([0, 0, 1, 0, 0, 0]);
    expect([h.srow_x, h.srow_y, h.srow_z]).toEqual([
      [-1, 0, 0, 0],
      [0, -1, 0, 0],
      [0, 0, 1, 0],
    ]);
    expect(h.descrip).toBe('pig_0000000007 seed 7');
    expect(h.xyzt_units).toBe(10); // mm and s, as ITK writes
    expect([h.dim_info, h.slice_code, h.cal_max, h.cal_min, h.glmax, h.glmin]).toEqual([0, 0, 0, 0, 0, 0]);
    expect(h.extension).toEqual([0, 0, 0, 0]);
    expect(h.total).toBe(352 + W * H);
    expect(h.data).toEqual([0, 1, 2].map((r) => Array.from(px.subarray(r * W, (r + 1) * W))));
  });
});

describe('NIfTI-1 limits', () => {
  it('refuses a pixel count that does not match the size', () => {
    expect(() => encodeNiftiUint8(new Uint8Array(5), 2, 3)).toThrow(/5 pixels for 2×3/);
  });
});
