"""recipes/gpu-sprint.sh end to end on the CPU at 16² (a synthetic folder, packed first): what
comes back from a device call is what pigkit.export needs here."""

import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import numpy as np
import pytest
import torch
from test_pack import SAFE, TORCH2

from pigkit.checkpoint import read_checkpoint
from pigkit.export import main as export_main, run_onnx
from pigkit.pack import EXPORT_KEYS, main as pack_main

TRAINING = Path(__file__).resolve().parents[1]
RECIPE = TRAINING / "recipes" / "gpu-sprint.sh"
# --bf16 needs PyTorch ≥ 2 (Debian's 1.13 autocast fails in GroupNorm on the CPU): the device has 2.x
BF16 = "mask image" if TORCH2 else ""
BACK = [
    "card.json",
    "logs.tar.gz",
    "results.json",
    "results.md",
    "run/image/ckpt.pt",
    "run/mask/ckpt.pt",
    "samples.png",
    "sprint.log",
]

try:
    import onnxruntime  # noqa: F401

    HAVE_ORT = True
except ImportError:
    HAVE_ORT = shutil.which("node") is not None and (TRAINING.parent / "node_modules" / "onnxruntime-node").is_dir()


@pytest.fixture
def packed(folder, tmp_path) -> Path:
    """The six synthetic pairs in folds 1-4 (fold 4 held out), packed at 16²."""
    pack = tmp_path / "packed" / "synthetic16.npz"
    assert pack_main(["--data", str(folder), "--resolution", "16", "--out", str(pack)]) == 0
    return pack


def sprint(tmp_path: Path, data: Path, **sizes) -> tuple[subprocess.CompletedProcess, Path]:
    out = tmp_path / "out"
    env = {
        **os.environ,
        "OUT": str(out),
        "WORK": str(tmp_path / "work"),
        "DATA": str(data),
        "PYTHON": sys.executable,
        "DEVICE": "cpu",
        "PRESET": "tiny",
        "RES": "16",
        "BATCH": "4",
        "ITERS": "3",
        "WARMUP": "2",
        "LOG_EVERY": "1",
        "MASK_MINUTES": "0",
        "IMAGE_MINUTES": "0",
        "TOTAL_MINUTES": "0",
        "N": "4",
        "STEPS": "2",
        "EVAL_BATCH": "4",
        "SEG_ITERS": "3",
        "THREADS": "1",
        "BF16": BF16,
        **sizes,
    }
    proc = subprocess.run(["bash", str(RECIPE)], env=env, capture_output=True, text=True, timeout=300)
    return proc, out


@pytest.mark.skipif(not HAVE_ORT, reason="needs onnxruntime (Python) or onnxruntime-node (npm install)")
def test_sprint_brings_back_what_export_needs(packed, folder, tmp_path):
    proc, out = sprint(tmp_path, packed)
    summary = proc.stdout.strip().splitlines()[-1]
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert (
        summary.startswith("gpu-sprint: ok | tiny 16² batch 4 on ")
        and f" CPU, {os.cpu_count()} cores, torch {torch.__version__} |" in summary
    )
    assert "| mask 3 it, loss " in summary and "| image 3 it, loss " in summary
    assert "eval n=4 η=1: pair Dice " in summary and "| 8 files, " in summary
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()) == BACK
    assert (out / "sprint.log").read_text().strip().splitlines()[-1] == summary

    for role in ("mask", "image"):  # float16 EMA weights and the counters export reads, nothing else
        ck = torch.load(out / "run" / role / "ckpt.pt", map_location="cpu", **SAFE)
        assert set(ck) == set(EXPORT_KEYS) and ck["iter"] == 3 and ck["config"]["model"] == role
        assert ck["config"]["bf16"] == bool(BF16) and ck["config"]["train_pairs"] == 4  # folds 1-3 of the pack
        assert {v.dtype for v in ck["ema"].values() if v.is_floating_point()} == {torch.float16}
        full = read_checkpoint(tmp_path / "work" / "run" / role / "ckpt.pt")
        assert all(torch.equal(v.half(), ck["ema"][k]) for k, v in full["ema"].items())
    with tarfile.open(out / "logs.tar.gz") as tar:
        names = set(tar.getnames())
    assert {
        "run/mask/log.csv",
        "run/mask/loss.png",
        "run/image/log.csv",
        "run/image/config.json",
        "segmenter/segmenter.json",
        "eval/results.json",
    } <= names and not any(n.endswith(".pt") for n in names)
    results = json.loads((out / "results.json").read_text())
    assert results["n_generated"] == 4 and results["n_real_test"] == 2 and results["n_train"] == 4 and results["eta"] == 1

    model = tmp_path / "model"
    assert (
        export_main(
            [
                "--run",
                str(out / "run"),
                "--out",
                str(model),
                "--name",
                "sprint16",
                "--steps",
                "2",
                "--eta",
                "1",
                "--card",
                str(out / "card.json"),
                "--data-license",
                str(folder / "LICENSE.txt"),
            ]
        )
        == 0
    )
    manifest = json.loads((model / "manifest.json").read_text())
    assert manifest["resolution"] == [16, 16] and manifest["card"]["stepsTrained"] == {"mask": 3, "image": 3}
    assert manifest["card"]["metrics"]["generated"] == 4
    errors = manifest["card"]["exportMaxAbsError"]  # export ran every graph in ONNX Runtime against PyTorch
    assert set(errors) == {"mask", "image", "maskStep", "imageStep"}
    assert all(v < 1e-3 for graph in errors.values() for name, v in graph.items() if name != "c")
    entry = manifest["models"]["image"]
    outputs = run_onnx(model / entry["file"], {i["name"]: np.zeros(i["shape"], np.float32) for i in entry["inputs"]})
    assert [list(v.shape) for v in outputs.values()] == [o["shape"] for o in entry["outputs"]]


def test_a_failed_stage_fails_the_sprint(packed, tmp_path):
    proc, out = sprint(tmp_path, packed, PYTHON="false")  # every Python stage fails at once
    summary = proc.stdout.strip().splitlines()[-1]
    assert proc.returncode != 0
    assert summary.startswith("gpu-sprint: FAILED: mask segment |"), proc.stdout[-3000:]
    assert "| mask no it, loss none logged | image no it" in summary
    assert not (out / "run").exists() and (out / "sprint.log").is_file()


@pytest.mark.skipif(not HAVE_ORT, reason="needs onnxruntime (Python) or onnxruntime-node (npm install)")
def test_latent_sprint_brings_back_what_export_latent_needs(folder, tmp_path):
    """The busbra256 variant at 32²: the U-Nets on the tiny autoencoder's 8² grid with attributes; no
    evaluation on the device; the float16 checkpoints export to a format 2 model here."""
    from pigkit.export_latent import main as export_latent

    pack = tmp_path / "packed" / "synthetic32.npz"
    assert pack_main(["--data", str(folder), "--resolution", "32", "--out", str(pack)]) == 0
    table = tmp_path / "bus_data.csv"
    table.write_text(
        "ID,Pathology,BIRADS,Device\n"
        + "".join(f"bus_{i:04d}-l,{['benign', 'malignant'][i % 2]},{3 + i % 2},GE\n" for i in range(6))
    )
    ae = TRAINING / "fixtures" / "tiny-latent" / "autoencoder" / "ckpt.pt"
    proc, out = sprint(tmp_path, pack, RES="32", AUTOENCODER=str(ae), ATTRIBUTES=str(table))
    summary = proc.stdout.strip().splitlines()[-1]
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "| mask 3 it, loss " in summary and "| latent on ckpt.pt: evaluate after the export |" in summary
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()) == [
        "logs.tar.gz",
        "run/image/ckpt.pt",
        "run/mask/ckpt.pt",
        "sprint.log",
    ]
    ck = torch.load(out / "run" / "mask" / "ckpt.pt", map_location="cpu", **SAFE)
    assert ck["config"]["resolution"] == 8 and ck["config"]["latent"]["image_resolution"] == 32
    model = tmp_path / "model"
    argv = ["--run", str(out / "run"), "--out", str(model), "--name", "sprint-latent", "--steps", "2"]
    assert export_latent([*argv, "--autoencoder", str(ae), "--data", str(pack)]) == 0
    manifest = json.loads((model / "manifest.json").read_text())
    assert manifest["format"] == 2 and manifest["resolution"] == [32, 32] and manifest["latent"]["grid"] == [8, 8]
    assert [a["name"] for a in manifest["attributes"]] == ["pathology", "birads", "scanner"]
