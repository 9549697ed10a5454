"""pigkit.pipeline: the studio CLI's pairs to the bit, the other modes against the PyTorch reference,
and clear errors for bad folders and inputs."""

import functools
import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from test_export import needs_ort

from pigkit.checkpoint import load_model_checkpoint
from pigkit.manifest import ManifestError, sha256_of
from pigkit.pipeline import PigPipeline
from pigkit.runtime import CPU, SessionError, node_runtime
from pigkit.sampler import SeededNoise, sample_image_from_mask, segment_image
from pigkit.schedule import Schedule

REPO = Path(__file__).resolve().parents[2]
TINY = REPO / "public" / "models" / "tiny"
TINY_WEIGHTS = REPO / "training" / "fixtures" / "tiny"
HAVE_CLI = shutil.which("npm") is not None and node_runtime() is not None and (REPO / "node_modules" / "tsx").is_dir()
needs_cli = pytest.mark.skipif(not HAVE_CLI, reason="the CLI needs node, npm and node_modules (npm ci)")


@pytest.fixture(scope="module")
def pipe():
    with PigPipeline.from_pretrained(TINY, providers=[CPU], threads=1) as p:
        yield p


def generate(out: Path, *args: str) -> None:
    cmd = ["npm", "run", "-s", "generate", "--", "--model", str(TINY), "--out", str(out), "--threads", "1", *args]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]


def png(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path))


@needs_cli
@pytest.mark.parametrize("eta, clip", [(None, None), (1.0, "both")], ids=["manifest defaults", "eta 1, clip both"])
def test_pairs_equal_the_clis_to_the_bit(pipe, tmp_path, eta, clip):
    """The CLI's PNGs and raw ŷ₀ for seeds 3 and 4; the second run draws the DDIM noise z and clips."""
    extra = ["--raw"] + ([] if eta is None else ["--eta", str(eta), "--clip", clip])
    generate(tmp_path, "--seed", "3", "--count", "2", *extra)
    batch = pipe(seed=np.uint32(3), num_images_per_prompt=2, eta=eta, clip=clip)  # the CLI's --seed 3 --count 2
    assert batch.seeds == [3, 4]
    for i, seed in enumerate((3, 4)):
        case = f"pig_{seed:010d}"
        out = pipe(seed=seed, eta=eta, clip=clip)
        label, image = png(tmp_path / "labelsTr" / f"{case}.png"), png(tmp_path / "imagesTr" / f"{case}_0000.png")
        assert out.mask.dtype == np.uint8 and out.mask.shape == (32, 32) and set(np.unique(out.mask)) <= {0, 1}
        assert np.array_equal(out.mask, label) and np.array_equal(out.image_uint8, image)
        raw_y0 = np.load(tmp_path / "raw" / f"{case}_y0.npy")
        assert out.image.dtype == np.float32 and np.array_equal(out.image, raw_y0)  # float for float, no tolerance
        assert np.array_equal(batch.labels[i], label) and np.array_equal(batch.pixels[i], image)
        assert np.array_equal(batch.raw[i], raw_y0) and np.array_equal(np.asarray(batch.images[i]), image)  # "pil"


@needs_cli
def test_mask_to_image_equals_the_clis(pipe, tmp_path):
    """One mask, one seed; then two masks with two seeds each in one call: the CLI's --masks DIR
    --seed 5 --count 2 (seeds 5 and 6 for each mask, masks in name order)."""
    yy, xx = np.mgrid[:32, :32]
    lesion = (yy - 14) ** 2 + (xx - 18) ** 2 < 49
    box = (abs(yy - 20) < 5) & (abs(xx - 9) < 4)
    (tmp_path / "masks").mkdir()
    Image.fromarray((lesion * 255).astype(np.uint8)).save(tmp_path / "masks" / "disc.png")
    Image.fromarray((box * 255).astype(np.uint8)).save(tmp_path / "masks" / "rect.png")
    generate(tmp_path / "out", "--mode", "mask2image", "--masks", str(tmp_path / "masks"), "--seed", "5", "--count", "2")
    cases = [f"{m}_{s:010d}" for m in ("disc", "rect") for s in (5, 6)]
    labels = [png(tmp_path / "out" / "labelsTr" / f"{c}.png") for c in cases]
    images = [png(tmp_path / "out" / "imagesTr" / f"{c}_0000.png") for c in cases]
    out = pipe(seed=5, mode="mask2image", mask=lesion)
    assert np.array_equal(out.mask, lesion.astype(np.uint8)) and np.array_equal(out.mask, labels[0])
    assert np.array_equal(out.image_uint8, images[0])
    batch = pipe(seed=5, mode="mask2image", mask=[lesion, box], num_images_per_prompt=2, output_type="np")
    assert batch.seeds == [5, 6, 5, 6]
    assert all(np.array_equal(batch.labels[i], labels[i]) and np.array_equal(batch.pixels[i], images[i]) for i in range(4))


@needs_ort
def test_modes_follow_the_pytorch_reference(pipe):
    """The ONNX files are the committed tiny weights: each mode lands where the PyTorch sampler does
    (float32 arithmetic there, float64 here: apart by rounding only)."""
    s = Schedule()
    model_x, model_y = (load_model_checkpoint(TINY_WEIGHTS / r / "ckpt.pt") for r in ("mask", "image"))
    mask = torch.zeros(1, 1, 32, 32) - 1
    mask[..., 8:20, 10:24] = 1
    ref = sample_image_from_mask(model_y, mask, s, 8, SeededNoise([9], (32, 32)))
    out = pipe(seed=9, mode="mask2image", mask=(mask[0, 0] > 0).numpy())
    assert np.abs(out.image - ref.image[0, 0].numpy()).max() < 1e-4
    image = out.image_uint8  # an 8-bit image in, as a user's upload
    ref = segment_image(
        model_x, torch.from_numpy(image.astype(np.float32) / 127.5 - 1).view(1, 1, 32, 32), s, 8, SeededNoise([2], (32, 32))
    )
    seg = pipe(seed=2, mode="image2mask", image=image)
    assert np.array_equal(seg.image_uint8, image)  # ŷ₀ is reported as the user's image
    assert (seg.mask != (ref.mask[0, 0] > 0).numpy()).sum() <= 2  # B(·) may flip a pixel on its threshold


@needs_ort
def test_callback_sees_every_step(pipe):
    frames = []
    out = pipe(num_inference_steps=4, seed=1, callback=frames.append)
    assert [(f.index, f.t, f.t_prev, f.total) for f in frames] == [
        (0, 768, 512, 4),
        (1, 512, 256, 4),
        (2, 256, 0, 4),
        (3, 0, -1, 4),
    ]
    assert np.array_equal(frames[-1].c > 0, out.mask > 0) and np.array_equal(frames[-1].y0, out.image)
    assert all(f.x0.shape == f.y0.shape == f.c.shape == (32, 32) for f in frames)


def test_folder_without_manifest(tmp_path):
    with pytest.raises(ManifestError, match="no manifest.json"):
        PigPipeline.from_pretrained(tmp_path)
    (tmp_path / "manifest.json").write_text("{")
    with pytest.raises(ManifestError, match="not valid JSON"):
        PigPipeline.from_pretrained(tmp_path)
    m = json.loads((TINY / "manifest.json").read_text())
    del m["models"]["image"]
    (tmp_path / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(ManifestError, match="manifest.models.image is missing"):
        PigPipeline.from_pretrained(tmp_path)


@pytest.mark.parametrize(
    "path, value, message",
    [
        (("sampler", "eta"), "NaN", r"is not valid JSON \(NaN is not a JSON number\)"),
        (("schedule", "betaEnd"), 1.5, r"manifest.schedule.betaEnd must be < 1, got 1.5"),
        (("schedule", "T"), 0, r"manifest.schedule.T must be ≥ 1, got 0"),
        (("schedule", "T"), 10**9, r"manifest.schedule.T must be ≤ 10000 \(the longest schedule"),
        (("sampler", "eta"), 1e30, r"manifest.sampler.eta must be ≤ 1 \(η: 0 is deterministic DDIM"),
        (("models", "mask", "sha256"), None, r"manifest.models.mask.sha256 is missing"),
        (("models", "image", "bytes"), None, r"manifest.models.image.bytes is missing"),
    ],
    ids=["NaN", "betaEnd > 1", "T = 0", "T = 1e9", "eta 1e30", "no sha256", "no bytes"],
)
def test_from_pretrained_refuses_what_the_studio_refuses(tmp_path, path, value, message):
    """Manifests the kit took before (the studio refused them): one line naming the field, before any
    file is opened. None removes the field; "NaN" writes the literal, which Python's JSON reader takes."""
    m = json.loads((TINY / "manifest.json").read_text())
    parent = functools.reduce(lambda d, k: d[k], path[:-1], m)
    if value is None:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    (tmp_path / "manifest.json").write_text(json.dumps(m).replace('"NaN"', "NaN"))
    with pytest.raises(ManifestError, match=message):
        PigPipeline.from_pretrained(tmp_path)


def copy_tiny(dest: Path) -> Path:
    shutil.copytree(TINY, dest)
    return dest


@needs_ort
def test_corrupt_onnx_file(tmp_path):
    folder = copy_tiny(tmp_path / "m")
    data = (folder / "mask.onnx").read_bytes()
    (folder / "mask.onnx").write_bytes(data[:1000])  # truncated, the manifest as exported
    with pytest.raises(ManifestError, match=r"mask.onnx has 1000 bytes, the manifest says \d+"):
        PigPipeline.from_pretrained(folder)
    (folder / "mask.onnx").write_bytes(data[:-1] + bytes([data[-1] ^ 1]))  # same size, one bit flipped
    with pytest.raises(ManifestError, match="SHA-256"):
        PigPipeline.from_pretrained(folder)
    (folder / "mask.onnx").write_bytes(b"not an onnx model" * 10)  # and a manifest made for that file
    m = json.loads((folder / "manifest.json").read_text())
    m["models"]["mask"].update(sha256=sha256_of(folder / "mask.onnx"), bytes=170)
    (folder / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(SessionError, match="could not open .*mask.onnx"):
        PigPipeline.from_pretrained(folder, providers=[CPU], threads=1)


@needs_ort
def test_bad_inputs_are_named(pipe):
    with pytest.raises(ValueError, match=r"the mask is 16×16, the model needs 32×32 \(H×W\)"):
        pipe(mode="mask2image", mask=np.ones((16, 16), np.uint8))
    with pytest.raises(ValueError, match="no lesion pixel"):
        pipe(mode="mask2image", mask=np.zeros((32, 32)))
    with pytest.raises(ValueError, match="mode mask2image needs mask="):
        pipe(mode="mask2image")
    with pytest.raises(ValueError, match="mode pair takes no mask="):
        pipe(mask=np.ones((32, 32)))
    with pytest.raises(ValueError, match="the image is 32×31"):
        pipe(mode="image2mask", image=np.zeros((32, 31), np.uint8))
    with pytest.raises(ValueError, match="8-bit"):
        pipe(mode="image2mask", image=np.full((32, 32), 300))
    with pytest.raises(ValueError, match="mode must be one of pair, mask2image, image2mask"):
        pipe(mode="segment")
    with pytest.raises(ValueError, match=r"num_inference_steps must be an integer in \[1, 1024\]"):
        pipe(num_inference_steps=0)
    for eta in (1e30, 1.5, -0.1, float("nan"), float("inf"), "0x10", True):  # past 1 the chains saturate
        with pytest.raises(ValueError, match=r"eta must be a number from 0 \(deterministic DDIM\) to 1 \(DDPM-like\), got"):
            pipe(eta=eta)
    with pytest.raises(ValueError, match="clip must be one of"):
        pipe(clip="mask")
    with pytest.raises(ValueError, match="seed must be an integer"):
        pipe(seed=-1)


TINY_LATENT = REPO / "public" / "models" / "tiny-latent"


@needs_cli
@pytest.mark.parametrize("eta", [None, 1.0], ids=["manifest defaults", "eta 1"])
def test_latent_pairs_with_attributes_equal_the_clis_to_the_bit(tmp_path, eta):
    """Format 2 (contracts §6): tiny-latent asked for pathology=malignant with guidance 2; the CLI's
    64² PNGs are the pipeline's pixel for pixel (η = 1 draws the C·h·w latent DDIM noise)."""
    extra = [] if eta is None else ["--eta", str(eta)]
    cmd = ["npm", "run", "-s", "generate", "--", "--model", str(TINY_LATENT), "--out", str(tmp_path), "--threads", "1"]
    cmd += ["--seed", "3", "--count", "2", "--attr", "pathology=malignant", "--guidance", "2", *extra]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    with PigPipeline.from_pretrained(TINY_LATENT, providers=[CPU], threads=1) as p:
        batch = p(seed=3, num_images_per_prompt=2, eta=eta, attributes={"pathology": "malignant"}, guidance=2)
        for i, seed in enumerate((3, 4)):
            case = f"pig_{seed:010d}"
            out = p(seed=seed, eta=eta, attributes={"pathology": "malignant"}, guidance=2)
            label, image = png(tmp_path / "labelsTr" / f"{case}.png"), png(tmp_path / "imagesTr" / f"{case}_0000.png")
            assert out.mask.shape == (64, 64) and np.array_equal(out.mask, label)
            assert np.array_equal(out.image_uint8, image)
            assert np.array_equal(batch.labels[i], label) and np.array_equal(batch.pixels[i], image)


@needs_cli
def test_latent_mask_to_image_equals_the_clis(tmp_path):
    """A 64² mask goes to the 16² grid (≥ ½ of a cell) in both; the image is the CLI's to the bit."""
    yy, xx = np.mgrid[:64, :64]
    lesion = (yy - 30) ** 2 + (xx - 34) ** 2 < 200
    (tmp_path / "masks").mkdir()
    Image.fromarray((lesion * 255).astype(np.uint8)).save(tmp_path / "masks" / "disc.png")
    cmd = ["npm", "run", "-s", "generate", "--", "--model", str(TINY_LATENT), "--out", str(tmp_path / "out"), "--threads", "1"]
    cmd += ["--mode", "mask2image", "--masks", str(tmp_path / "masks"), "--seed", "5", "--attr", "birads=4"]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    with PigPipeline.from_pretrained(TINY_LATENT, providers=[CPU], threads=1) as p:
        out = p(seed=5, mode="mask2image", mask=lesion, attributes={"birads": "4"})
    assert np.array_equal(out.mask, png(tmp_path / "out" / "labelsTr" / "disc_0000000005.png"))
    assert np.array_equal(out.image_uint8, png(tmp_path / "out" / "imagesTr" / "disc_0000000005_0000.png"))
