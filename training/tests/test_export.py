import hashlib
import json
import shutil
from pathlib import Path

import onnx
import pytest
import torch

from pigkit.exporter.export import export_graph, export_pair, export_unet, float64_tensors, parity_error
from pigkit.exporter.stepgraph import MaskStep
from pigkit.model.unet import build_unet
from pigkit.training.checkpoint import atomic_save

REPO = Path(__file__).resolve().parents[2]

try:
    import onnxruntime  # noqa: F401

    HAVE_ORT = True
except ImportError:
    HAVE_ORT = shutil.which("node") is not None and (REPO / "node_modules" / "onnxruntime-node").is_dir()
needs_ort = pytest.mark.skipif(not HAVE_ORT, reason="needs onnxruntime (Python) or onnxruntime-node (npm install)")


def test_onnx_graph_has_the_contract(tmp_path):
    m = build_unet("tiny", 16)
    export_unet(m, 16, tmp_path / "m.onnx")
    g = onnx.load(str(tmp_path / "m.onnx")).graph
    dims = lambda v: [d.dim_value for d in v.type.tensor_type.shape.dim]  # noqa: E731
    assert [(i.name, dims(i)) for i in g.input] == [("x", [1, 2, 16, 16]), ("t", [1])]
    assert [(o.name, dims(o)) for o in g.output] == [("eps", [1, 1, 16, 16])]


@needs_ort
def test_export_parity_and_manifest(tmp_path):
    torch.manual_seed(0)
    run = tmp_path / "run"
    config = {
        "preset": "tiny",
        "resolution": 16,
        "overrides": {},
        "folds": [1, 2, 3],
        "train_pairs": 6,
        "device": "cpu",
        "torch": torch.__version__,
        "batch": 4,
        "siamese": False,
    }
    for role in ("mask", "image"):
        (run / role).mkdir(parents=True)
        m = build_unet("tiny", 16)
        for p in m.parameters():  # random, not zero-initialised, weights: a real test of parity
            p.data.normal_(0, 0.05)
        atomic_save(
            {"model": m.state_dict(), "ema": m.state_dict(), "iter": 3, "images_seen": 12, "wall_seconds": 1.0, "config": config},
            run / role / "ckpt.pt",
        )
    out = tmp_path / "model"
    data_card = {
        "dataCard": 1,
        "name": "Discs",
        "description": "synthetic discs",
        "citation": "Disc et al., 2026.",
        "license": {"name": "Disc license", "id": "LicenseRef-Disc", "text": "the data's notice"},
    }
    manifest = export_pair(run, out, "t16", steps=8, extra_card={"metrics": {"note": 1}}, data_card=data_card)
    assert (out / "DATA-LICENSE.txt").read_text() == "the data's notice" and manifest["card"]["licenseFile"] == "DATA-LICENSE.txt"
    assert json.loads((out / "manifest.json").read_text()) == manifest
    assert manifest["resolution"] == [16, 16] and manifest["sampler"]["steps"] == 8
    assert set(manifest["models"]) == {"mask", "image", "maskStep", "imageStep"}
    for key, entry in manifest["models"].items():
        data = (out / entry["file"]).read_bytes()
        assert entry["sha256"] == hashlib.sha256(data).hexdigest() and entry["bytes"] == len(data)
        errors = manifest["card"]["exportMaxAbsError"][key]
        assert all(v < 1e-4 for name, v in errors.items() if name != "c")
        assert errors.get("c", 0) < 0.01  # B(·) may flip a pixel sitting on the threshold, no more
    # each U-Net's two graphs share one weights file (pigkit.share_weights; tests/test_share_weights.py)
    for plain, step in (("mask", "maskStep"), ("image", "imageStep")):
        weights = manifest["models"][plain]["weights"]
        assert manifest["models"][step]["weights"] == weights and weights["file"] == f"{plain}.weights"
        data = (out / weights["file"]).read_bytes()
        assert weights["sha256"] == hashlib.sha256(data).hexdigest() and weights["bytes"] == len(data)
        assert manifest["models"][plain]["bytes"] < len(data) / 2  # the graph keeps only small tensors
    assert sorted(p.name for p in out.iterdir()) == [
        "DATA-LICENSE.txt",
        "README.md",
        "image.onnx",
        "image.weights",
        "image_step.onnx",
        "manifest.json",
        "mask.onnx",
        "mask.weights",
        "mask_step.onnx",
    ]
    assert manifest["models"]["maskStep"]["inputs"][3] == {"name": "k", "shape": [5]}
    assert [o["name"] for o in manifest["models"]["maskStep"]["outputs"]] == ["x_prev", "x0", "c"]
    assert manifest["card"]["stepsTrained"] == {"mask": 3, "image": 3} and manifest["card"]["metrics"] == {"note": 1}
    card = manifest["card"]
    assert card["data"] == "Discs, folds [1, 2, 3] (6 pairs), resized to 16²" and card["citation"] == "Disc et al., 2026."
    assert card["license"] == "Disc license (LicenseRef-Disc); the data's notice: DATA-LICENSE.txt"
    assert card["recipe"]["mask"] == {
        "batch": 4,
        "folds": [1, 2, 3],
        "trainPairs": 6,
        "siamese": False,
        "torch": torch.__version__,
    }
    readme = (out / "README.md").read_text()  # the model card, from the same facts (tests/test_card.py: its layout)
    assert readme.startswith('---\nlicense: "other"\nlicense_name: "disc"') and "synthetic discs" in readme
    assert "BUS-BRA" not in readme + json.dumps(manifest)


@needs_ort
def test_export_without_a_data_card_says_so(tmp_path, capsys):
    from pigkit.exporter.export import main

    run = tmp_path / "run"
    config = {
        "preset": "tiny",
        "resolution": 16,
        "overrides": {},
        "folds": None,
        "train_pairs": 6,
        "device": "cpu",
        "torch": torch.__version__,
        "batch": 4,
    }
    for role in ("mask", "image"):
        m = build_unet("tiny", 16)
        (run / role).mkdir(parents=True)
        atomic_save(
            {"ema": m.state_dict(), "iter": 3, "images_seen": 12, "wall_seconds": 1.0, "config": config}, run / role / "ckpt.pt"
        )
    out = tmp_path / "model"
    assert main(["--run", str(run), "--out", str(out), "--name", "x", "--steps", "2"]) == 0
    assert "warning: " in capsys.readouterr().err
    card = json.loads((out / "manifest.json").read_text())["card"]
    assert card["data"] == "undescribed (exported without a data card): 6 pairs, resized to 16²"
    assert card["license"].startswith("unknown") and card["citation"] == "none recorded (no data card)"
    readme = (out / "README.md").read_text()
    assert 'license: "unknown"' in readme and "**Undescribed.**" in readme and "datasets:" not in readme
    assert not (out / "DATA-LICENSE.txt").exists() and "BUS-BRA" not in readme


@needs_ort
def test_parity_detects_a_different_model(tmp_path):
    a, b = build_unet("tiny", 16), build_unet("tiny", 16)
    for p in b.parameters():
        p.data.normal_(0, 0.05)
    export_unet(a, 16, tmp_path / "a.onnx")
    assert parity_error(b, tmp_path / "a.onnx", ["x", "t"], [[1, 2, 16, 16], [1]], trials=1)["eps"] > 1e-3


def test_step_graph_has_no_float64(tmp_path):
    """onnxruntime-web has no float64 Where: B(·)'s ±1 must stay float32 in the exported graph."""
    step = MaskStep(build_unet("tiny", 16))
    ins = (
        torch.randn(1, 1, 16, 16),
        torch.randn(1, 1, 16, 16),
        torch.tensor([5.0]),
        torch.rand(5),
        torch.zeros(1, 1, 16, 16),
        torch.tensor([1.0]),
    )
    export_graph(step, ins, ["x_t", "y_t", "t", "k", "z", "clip"], ["x_prev", "x0", "c"], tmp_path / "s.onnx")
    assert float64_tensors(tmp_path / "s.onnx") == []

    # The check finds what broke the browser: torch 1.13 exported torch.where(x > 0, 1.0, -1.0)'s
    # Python scalars as float64 (torch 2.x keeps them float32), so the control makes its float64
    # explicitly, the same on every torch.
    class Leaky(torch.nn.Module):
        def forward(self, x):
            return torch.where(x > 0, torch.ones_like(x, dtype=torch.float64), -1.0).float()

    export_graph(Leaky(), (torch.randn(1, 4),), ["x"], ["y"], tmp_path / "leaky.onnx")
    assert float64_tensors(tmp_path / "leaky.onnx")


def test_missing_or_damaged_checkpoint_is_named_before_exporting(tmp_path, capsys):
    from pigkit.exporter.export import main

    run, out = tmp_path / "run", tmp_path / "model"
    (run / "mask").mkdir(parents=True)
    m = build_unet("tiny", 16)
    config = {"preset": "tiny", "resolution": 16, "overrides": {}, "device": "cpu", "torch": torch.__version__}
    atomic_save(
        {"ema": m.state_dict(), "iter": 1, "images_seen": 2, "wall_seconds": 1.0, "config": config}, run / "mask" / "ckpt.pt"
    )
    argv = ["--run", str(run), "--out", str(out), "--name", "x"]
    assert main(argv) == 2
    assert f"error: {run / 'image' / 'ckpt.pt'}: checkpoint not found" in capsys.readouterr().err
    (run / "image").mkdir()
    (run / "image" / "ckpt.pt").write_bytes((run / "mask" / "ckpt.pt").read_bytes()[:500])  # torn copy
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert f"error: {run / 'image' / 'ckpt.pt'}: checkpoint cannot be read" in err and "Traceback" not in err
    assert not (out / "mask.onnx").exists()


def test_manifest_carries_the_default_eta_and_a_bad_eta_is_refused(tmp_path, capsys):
    from pigkit.exporter.export import build_manifest, main

    assert build_manifest("m", 16, 50, {}, {})["sampler"]["eta"] == 0.0  # the paper's DDIM
    assert build_manifest("m", 16, 50, {}, {}, eta=1.0)["sampler"]["eta"] == 1.0
    for flags, said in [
        (["--eta", "1.5"], "argument --eta: must be a number from 0 (deterministic DDIM) to 1 (DDPM-like), got '1.5'"),
        (["--eta", "0x10"], "argument --eta: must be a number from 0 (deterministic DDIM) to 1 (DDPM-like), got '0x10'"),
        (["--steps", "2000"], "--steps 2000: the schedule has T = 1024 steps"),  # the studio would refuse the manifest
    ]:
        with pytest.raises(SystemExit) as e:
            main(["--run", str(tmp_path), "--out", str(tmp_path / "o"), "--name", "m", *flags])
        assert e.value.code == 2 and said in capsys.readouterr().err


def test_manifest_carries_the_default_clip_and_a_bad_clip_is_refused(tmp_path, capsys):
    from pigkit.exporter.export import build_manifest, main

    assert build_manifest("m", 16, 50, {}, {})["sampler"]["clip"] == "none"  # METHOD.md's loop
    assert build_manifest("m", 16, 50, {}, {}, clip="image")["sampler"]["clip"] == "image"
    with pytest.raises(SystemExit) as e:
        main(["--run", str(tmp_path), "--out", str(tmp_path / "o"), "--name", "m", "--clip", "mask"])
    assert e.value.code == 2 and "--clip" in capsys.readouterr().err
