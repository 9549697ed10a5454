"""The CLI's NIfTI export read with nibabel (Debian's python3-nibabel), against the PNG of the same case.

The NIfTI files are written as SimpleITK writes a 2D image (src/core/dataset/nifti.ts): ITK's
identity direction is LPS, so the affine is diag(-1, -1, 1) and the voxel axes point Left and
Posterior. How a viewer shows it relative to the PNG: in radiological convention (3D Slicer's and
ITK-SNAP's axial view: the patient's Right on the screen's left, Anterior up) exactly as the PNG,
column 0 on the left and row 0 at the top; in neurological convention (the patient's Left on the
screen's left) mirrored left-right, as every SimpleITK-written 2D image is. The test builds both
views from nibabel's RAS-canonical array and compares them with the PNG.
"""

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

nib = pytest.importorskip("nibabel", reason="needs nibabel (apt-get install python3-nibabel)")

REPO = Path(__file__).resolve().parents[2]
TINY = REPO / "public" / "models" / "tiny"
HAVE_CLI = shutil.which("npm") is not None and (REPO / "node_modules" / "onnxruntime-node").is_dir()
CASE = "pig_0000000001"


def generate(out: Path, fmt: str) -> None:
    cmd = [
        "npm",
        "run",
        "-s",
        "generate",
        "--",
        "--model",
        str(TINY),
        "--seed",
        "1",
        "--count",
        "1",
        "--format",
        fmt,
        "--out",
        str(out),
        "--threads",
        "1",
    ]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]


@pytest.fixture(scope="module")
def case(tmp_path_factory):
    root = tmp_path_factory.mktemp("nifti-orientation")
    generate(root / "png", "png")
    generate(root / "nifti", "nifti")
    return root


def axial_view(img, radiological: bool) -> np.ndarray:
    """The slice as a viewer draws it, [screen row, screen column]: Anterior at the top (rows grow
    toward Posterior), and the patient's Right on the screen's left (radiological) or its Left
    (neurological)."""
    # nibabel reorients 3D arrays only: the slice as a volume of one, then its voxel axes to R, A, S
    volume = nib.Nifti1Image(np.asanyarray(img.dataobj)[..., np.newaxis], img.affine)
    canonical = nib.as_closest_canonical(volume)
    assert nib.aff2axcodes(canonical.affine) == ("R", "A", "S")
    data = np.asanyarray(canonical.dataobj)[..., 0]  # [x, y]: x grows toward Right, y toward Anterior
    rows_from_anterior = data[:, ::-1]
    return (rows_from_anterior[::-1] if radiological else rows_from_anterior).T


@pytest.mark.skipif(not HAVE_CLI, reason="the CLI needs node, npm and node_modules (npm ci)")
@pytest.mark.parametrize("kind", ["image", "label"])
def test_nifti_is_simpleitk_2d_and_shows_as_the_png(case, kind):
    rel = f"imagesTr/{CASE}_0000" if kind == "image" else f"labelsTr/{CASE}"
    png = np.asarray(Image.open(case / "png" / f"{rel}.png"))
    img = nib.load(case / "nifti" / f"{rel}.nii.gz")
    assert png.shape == (32, 32) and img.shape == (32, 32)
    # SimpleITK's 2D image: LPS identity direction -> RAS affine diag(-1, -1, 1), both codes scanner (1)
    assert nib.aff2axcodes(img.affine) == ("L", "P", "S")
    assert np.array_equal(img.affine, np.diag([-1.0, -1.0, 1.0, 1.0]))
    assert int(img.header["qform_code"]) == 1 and int(img.header["sform_code"]) == 1
    assert np.array_equal(img.get_qform(), img.get_sform())
    assert img.header.get_xyzt_units() == ("mm", "sec")
    # the voxels: NIfTI's first axis is the PNG's column, so the array is the PNG transposed
    data = np.asanyarray(img.dataobj)
    assert data.dtype == np.uint8
    assert np.array_equal(data.T, png)
    if kind == "label":
        assert set(np.unique(data)) <= {0, 1}
    # how viewers draw it: radiological = the PNG as is; neurological = mirrored left-right
    assert np.array_equal(axial_view(img, radiological=True), png)
    assert np.array_equal(axial_view(img, radiological=False), png[:, ::-1])
    assert not np.array_equal(png, png[:, ::-1])  # the case is not mirror-symmetric: the checks have teeth
