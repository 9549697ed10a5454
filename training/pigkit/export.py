"""Export a trained pair to ONNX (static shapes) with its manifest.json (docs/contracts.md).

    python3 -m pigkit.export --run runs/NAME --out public/models/NAME --name NAME --steps 50 [--card card.json]

Each U-Net is exported with inputs x [1, 2, H, W], t [1] and output eps [1, 1, H, W], then run on
random inputs in PyTorch and in ONNX Runtime (the Python package where installed, otherwise
onnxruntime-node from the repository's node_modules) and the max abs error is reported.
"""
from __future__ import annotations

import argparse
import hashlib
import inspect
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

from .schedule import Schedule
from .train import load_model_checkpoint, read_checkpoint

OPSET = 17
ROLES = {"mask": "model_x: eps of the mask chain from [x_t, y_t]", "image": "model_y: eps of the image chain from [y_t, c]"}
BUSBRA_CITATION = ("W. Gómez-Flores, M. J. Gregorio-Calas, W. C. A. Pereira, \"BUS-BRA: A Breast Ultrasound Dataset "
                   "for Assessing Computer-aided Diagnosis Systems\", Medical Physics, 2023.")


def export_unet(model: torch.nn.Module, resolution: int, path: Path) -> None:
    model = model.eval()
    x = torch.randn(1, 2, resolution, resolution)
    t = torch.tensor([500.0])
    kwargs = {}
    if "dynamo" in inspect.signature(torch.onnx.export).parameters:
        kwargs["dynamo"] = False  # PyTorch ≥ 2.9 defaults to the dynamo exporter; keep the TorchScript one on every version
    torch.onnx.export(model, (x, t), str(path), input_names=["x", "t"], output_names=["eps"],
                      opset_version=OPSET, do_constant_folding=True, **kwargs)


def run_onnx(path: Path, feeds: dict[str, np.ndarray]) -> np.ndarray:
    """eps from ONNX Runtime: Python package if present, else onnxruntime-node."""
    try:
        import onnxruntime as ort  # noqa: PLC0415
        return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(["eps"], feeds)[0]
    except ImportError:
        pass
    node = shutil.which("node")
    if node is None:
        raise RuntimeError("export parity needs onnxruntime (Python) or node with onnxruntime-node (npm install)")
    with tempfile.TemporaryDirectory() as d:
        json.dump([{"name": k, "shape": list(v.shape)} for k, v in feeds.items()], open(Path(d) / "inputs.json", "w"))
        for k, v in feeds.items():
            v.astype("<f4").tofile(Path(d) / f"{k}.bin")
        script = Path(__file__).with_name("ort_node_run.mjs")
        proc = subprocess.run([node, str(script), str(path.resolve()), d], capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"onnxruntime-node failed on {path}: {proc.stderr.strip()[-800:]}")
        return np.fromfile(Path(d) / "eps.bin", dtype="<f4").reshape(1, 1, *feeds["x"].shape[2:])


def parity_error(model: torch.nn.Module, path: Path, resolution: int, trials: int = 3, seed: int = 0) -> float:
    """Max abs difference between PyTorch and ONNX Runtime over random inputs and timesteps."""
    g = torch.Generator().manual_seed(seed)
    worst = 0.0
    for _ in range(trials):
        x = torch.randn((1, 2, resolution, resolution), generator=g)
        t = torch.randint(0, Schedule().T, (1,), generator=g).float()
        with torch.no_grad():
            ref = model(x, t).numpy()
        got = run_onnx(path, {"x": x.numpy(), "t": t.numpy()})
        worst = max(worst, float(np.abs(ref - got).max()))
    return worst


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def model_entry(path: Path, resolution: int, role: str) -> dict:
    return {"file": path.name, "sha256": sha256_of(path), "bytes": path.stat().st_size, "role": role,
            "inputs": [{"name": "x", "shape": [1, 2, resolution, resolution]}, {"name": "t", "shape": [1]}],
            "outputs": [{"name": "eps", "shape": [1, 1, resolution, resolution]}]}


def build_manifest(name: str, resolution: int, steps: int, entries: dict, card: dict, schedule: Schedule = Schedule()) -> dict:
    return {"format": 1, "name": name, "resolution": [resolution, resolution],
            "schedule": {"kind": "linear", "betaStart": schedule.beta_start, "betaEnd": schedule.beta_end, "T": schedule.T},
            "sampler": {"steps": steps, "skip": "uniform", "eta": 0, "binarize": {"kernel": 5, "weights": [0.75, 0.25]}},
            "models": entries, "card": card}


def checkpoint_facts(run: Path, role: str) -> dict:
    ck = read_checkpoint(run / role / "ckpt.pt")
    return {"iters": ck["iter"], "images_seen": ck["images_seen"], "wall_seconds": round(ck["wall_seconds"], 1),
            "config": ck["config"]}


def slim_checkpoints(run: Path, dest: Path) -> None:
    """Copy a run's checkpoints without optimizer state or raw weights: the EMA weights the ONNX
    files were exported from, small enough to commit so fixtures can be rebuilt from a clone."""
    for role in ("mask", "image"):
        ck = read_checkpoint(run / role / "ckpt.pt")
        (dest / role).mkdir(parents=True, exist_ok=True)
        keep = {k: ck[k] for k in ("ema", "iter", "images_seen", "wall_seconds", "config")}
        torch.save(keep, dest / role / "ckpt.pt")


def export_pair(run: Path, out: Path, name: str, steps: int, extra_card: dict | None = None) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    entries, errors, facts = {}, {}, {}
    resolution = None
    for role in ("mask", "image"):
        model = load_model_checkpoint(run / role / "ckpt.pt")
        resolution = model.resolution
        path = out / f"{role}.onnx"
        export_unet(model, resolution, path)
        errors[role] = parity_error(model, path, resolution)
        entries[role] = model_entry(path, resolution, ROLES[role])
        facts[role] = checkpoint_facts(run, role)
        print(f"{role}: {path} ({path.stat().st_size / 1e6:.2f} MB), max abs error vs PyTorch {errors[role]:.2e}", file=sys.stderr)
    cfg = facts["mask"]["config"]
    card = {
        "data": f"BUS-BRA breast ultrasound, folds {cfg.get('folds')} ({cfg.get('train_pairs')} pairs), resized to {resolution}²",
        "license": "Trained on BUS-BRA (MIT-style license): keep the dataset's notice and cite the paper below.",
        "citation": BUSBRA_CITATION,
        "preset": cfg["preset"],
        "trainedOn": f"{cfg['device']}, torch {cfg['torch']}",
        "stepsTrained": {r: facts[r]["iters"] for r in facts},
        "imagesSeen": {r: facts[r]["images_seen"] for r in facts},
        "wallTimeSeconds": {r: facts[r]["wall_seconds"] for r in facts},
        "batch": cfg["batch"], "siamese": facts["image"]["config"].get("siamese", False),
        "exportMaxAbsError": errors, "metrics": {},
    }
    card.update(extra_card or {})
    manifest = build_manifest(name, resolution, steps, entries, card)
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    return manifest


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="pigkit.export", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--run", required=True, help="run folder with mask/ckpt.pt and image/ckpt.pt")
    p.add_argument("--out", required=True, help="model folder to write (e.g. public/models/NAME)")
    p.add_argument("--name", required=True)
    p.add_argument("--steps", type=int, default=50, help="default DDIM steps the studio offers")
    p.add_argument("--card", default=None, help="JSON file merged into the model card (metrics, notes)")
    p.add_argument("--weights-out", default=None, help="also write slim checkpoints (EMA weights only) here")
    a = p.parse_args(argv)
    extra = json.loads(Path(a.card).read_text()) if a.card else None
    export_pair(Path(a.run), Path(a.out), a.name, a.steps, extra)
    if a.weights_out:
        slim_checkpoints(Path(a.run), Path(a.weights_out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
