"""Export a trained pair to ONNX (static shapes) with its manifest.json (docs/contracts.md).

    python3 -m pigkit.export --run runs/NAME --out public/models/NAME --name NAME --steps 50 \
        --data-card datasets/busbra.json [--card card.json]

Each U-Net is exported with inputs x [1, 2, H, W], t [1] and output eps [1, 1, H, W], and with its
step graph (stepgraph.py), then run on random inputs in PyTorch and in ONNX Runtime (the Python
package where installed, otherwise onnxruntime-node from the repository's node_modules) and the max
abs error is reported. Last, the two graphs of each U-Net are made to share one weights file
(mask.weights, image.weights: ONNX external data, pigkit.share_weights), so the folder holds each
weight once.
"""

from __future__ import annotations

import argparse
import inspect
import json
import sys
from pathlib import Path

import numpy as np
import onnx
import torch

from pigkit.exporter.card import write_model_card
from pigkit.exporter.data_card import (
    LICENSE_FILE,
    DataCardError,
    manifest_fields,
    read_data_card,
    recipe,
    write_data_license,
)
from pigkit.exporter.manifest import sha256_of, write_manifest
from pigkit.exporter.share_weights import share_weights
from pigkit.exporter.stepgraph import STEP_GRAPHS, step_shapes
from pigkit.inference.runtime import run_once
from pigkit.model.limits import eta_arg, steps_arg
from pigkit.model.schedule import CLIP_MODES, COEFFICIENT_ORDER, Schedule
from pigkit.training.checkpoint import CheckpointError, atomic_save, load_model_checkpoint, read_checkpoint, require_keys

OPSET = 17
ROLES = {"mask": "model_x: eps of the mask chain from [x_t, y_t]", "image": "model_y: eps of the image chain from [y_t, c]"}
STEP_ROLES = {
    "maskStep": "model_x + DDIM update + B: (x_t, y_t, t, k, z) -> (x_prev, x0, c)",
    "imageStep": "model_y + DDIM update: (y_t, c, t, k, z) -> (y_prev, y0)",
}


def export_graph(module: torch.nn.Module, example: tuple, input_names: list[str], output_names: list[str], path: Path) -> None:
    kwargs = {}
    if "dynamo" in inspect.signature(torch.onnx.export).parameters:
        kwargs["dynamo"] = False  # PyTorch ≥ 2.9 defaults to the dynamo exporter; keep the TorchScript one on every version
    torch.onnx.export(
        module.eval(),
        example,
        str(path),
        input_names=input_names,
        output_names=output_names,
        opset_version=OPSET,
        do_constant_folding=True,
        **kwargs,
    )


def export_unet(model: torch.nn.Module, resolution: int, path: Path) -> None:
    export_graph(model, (torch.randn(1, 2, resolution, resolution), torch.tensor([500.0])), ["x", "t"], ["eps"], path)


def float64_tensors(path: Path) -> list[str]:
    """Names of float64 initializers, constants and values in a graph: onnxruntime-web's WebGPU and
    WASM providers have no float64 kernels for most ops, so a browser session would fail to load."""
    model = onnx.load(str(path))
    bad = [i.name for i in model.graph.initializer if i.data_type == onnx.TensorProto.DOUBLE]
    for node in model.graph.node:
        for attr in node.attribute:
            if attr.type == onnx.AttributeProto.TENSOR and attr.t.data_type == onnx.TensorProto.DOUBLE:
                bad.append(node.name or node.op_type)
    inferred = onnx.shape_inference.infer_shapes(model).graph
    bad += [
        v.name
        for v in list(inferred.value_info) + list(inferred.output)
        if v.type.tensor_type.elem_type == onnx.TensorProto.DOUBLE
    ]
    return bad


def run_onnx(path: Path, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """All outputs from ONNX Runtime: the Python package if present, else onnxruntime-node (runtime.py)."""
    return run_once(path, feeds)


def _random_feeds(
    names: list[str], shapes: list[list[int]], schedule: Schedule, g: torch.Generator, trial: int = 0
) -> dict[str, torch.Tensor]:
    """Random inputs; t a random step, k that step's true coefficients (η = 1), so values are realistic;
    a step graph's clip flag alternates between trials (0, 1, 0, …) so both of its paths are checked."""
    t = int(torch.randint(1, schedule.T, (1,), generator=g))
    k = schedule.ddim_coefficients(t, t - 1, 1.0)
    feeds = {}
    for name, shape in zip(names, shapes):
        if name == "t":
            feeds[name] = torch.tensor([float(t)])
        elif name == "k":
            feeds[name] = torch.tensor([k[c] for c in COEFFICIENT_ORDER], dtype=torch.float32)
        elif name == "clip":
            feeds[name] = torch.tensor([float(trial % 2)])
        elif name == "c":
            feeds[name] = torch.where(torch.rand(shape, generator=g) > 0.8, 1.0, -1.0)
        else:
            feeds[name] = torch.randn(shape, generator=g)
    return feeds


def parity_error(
    module: torch.nn.Module, path: Path, input_names: list[str], shapes: list[list[int]], trials: int = 3, seed: int = 0
) -> dict[str, float]:
    """Max abs difference per output between PyTorch and ONNX Runtime on random inputs; for the
    binary output `c` (a threshold, where one ulp can flip a pixel) the fraction of differing pixels."""
    g = torch.Generator().manual_seed(seed)
    worst: dict[str, float] = {}
    for trial in range(trials):
        feeds = _random_feeds(input_names, shapes, Schedule(), g, trial)
        with torch.no_grad():
            ref = module(*feeds.values())
        ref = ref if isinstance(ref, tuple) else (ref,)
        got = run_onnx(path, {k: v.numpy() for k, v in feeds.items()})
        for (name, value), r in zip(got.items(), ref):
            diff = np.abs(r.numpy() - value)
            err = float((diff > 0).mean()) if name == "c" else float(diff.max())
            worst[name] = max(worst.get(name, 0.0), err)
    return worst


def model_entry(path: Path, role: str, inputs: list[tuple[str, list[int]]], outputs: list[tuple[str, list[int]]]) -> dict:
    return {
        "file": path.name,
        "sha256": sha256_of(path),
        "bytes": path.stat().st_size,
        "role": role,
        "inputs": [{"name": n, "shape": s} for n, s in inputs],
        "outputs": [{"name": n, "shape": s} for n, s in outputs],
    }


def build_manifest(
    name: str,
    resolution: int,
    steps: int,
    entries: dict,
    card: dict,
    schedule: Schedule = Schedule(),  # noqa: B008 (a frozen dataclass: one shared default is safe)
    eta: float = 0.0,
    clip: str = "none",
) -> dict:
    return {
        "format": 1,
        "name": name,
        "resolution": [resolution, resolution],
        "schedule": {"kind": "linear", "betaStart": schedule.beta_start, "betaEnd": schedule.beta_end, "T": schedule.T},
        "sampler": {
            "steps": steps,
            "skip": "uniform",
            "eta": eta,
            "clip": clip,
            "binarize": {"kernel": 5, "weights": [0.75, 0.25]},
        },
        "models": entries,
        "card": card,
    }


def checkpoint_facts(run: Path, role: str) -> dict:
    ck = read_checkpoint(run / role / "ckpt.pt")
    require_keys(ck, run / role / "ckpt.pt", ("ema", "iter", "images_seen", "wall_seconds", "config"))
    return {
        "iters": ck["iter"],
        "images_seen": ck["images_seen"],
        "wall_seconds": round(ck["wall_seconds"], 1),
        "config": ck["config"],
    }


def slim_checkpoints(run: Path, dest: Path) -> None:
    """Copy a run's checkpoints without optimizer state or raw weights: the EMA weights the ONNX
    files were exported from, small enough to commit so fixtures can be rebuilt from a clone."""
    for role in ("mask", "image"):
        ck = read_checkpoint(run / role / "ckpt.pt")
        (dest / role).mkdir(parents=True, exist_ok=True)
        keep = {k: ck[k] for k in ("ema", "iter", "images_seen", "wall_seconds", "config")}
        atomic_save(keep, dest / role / "ckpt.pt")


def export_pair(
    run: Path,
    out: Path,
    name: str,
    steps: int,
    extra_card: dict | None = None,
    data_license: Path | None = None,
    eta: float = 0.0,
    clip: str = "none",
    data_card: dict | None = None,
) -> dict:
    """Both U-Nets (plain contract) and both step graphs, each checked against PyTorch, the two graphs
    of each U-Net sharing one weights file; the manifest, and the model card README.md (pigkit.card)
    with the training data's from `data_card`."""
    out.mkdir(parents=True, exist_ok=True)
    entries, errors, facts, models = {}, {}, {}, {}
    for role in ("mask", "image"):
        models[role] = load_model_checkpoint(run / role / "ckpt.pt")
        facts[role] = checkpoint_facts(run, role)
    r = models["mask"].resolution
    plain_in = [("x", [1, 2, r, r]), ("t", [1])]
    graphs = {role: (models[role], f"{role}.onnx", plain_in, [("eps", [1, 1, r, r])], ROLES[role]) for role in ("mask", "image")}
    for key, (cls, ins, outs) in STEP_GRAPHS.items():
        role = "mask" if key == "maskStep" else "image"
        graphs[key] = (
            cls(models[role]),
            f"{role}_step.onnx",
            list(zip(ins, step_shapes(ins, r, r))),
            list(zip(outs, step_shapes(outs, r, r))),
            STEP_ROLES[key],
        )
    for key, (module, file, ins, outs, role_text) in graphs.items():
        path = out / file
        names, shapes = [n for n, _ in ins], [s for _, s in ins]
        export_graph(module, tuple(torch.randn(s) for s in shapes), names, [n for n, _ in outs], path)
        if float64_tensors(path):
            raise RuntimeError(f"{path} holds float64 tensors {float64_tensors(path)[:5]}: the browser cannot run it")
        errors[key] = parity_error(module, path, names, shapes)
        entries[key] = model_entry(path, role_text, ins, outs)
        print(
            f"{key}: {path} ({path.stat().st_size / 1e6:.2f} MB), vs PyTorch: "
            + ", ".join(f"{k} {v:.2e}" for k, v in errors[key].items()),
            file=sys.stderr,
        )
    entries = share_weights(out, entries)  # one weights file per U-Net, each graph checked to be the one run above
    for entry in entries.values():
        w = entry["weights"]
        print(
            f"{entry['file']}: {entry['bytes'] / 1e6:.2f} MB + {w['file']} ({w['bytes'] / 1e6:.2f} MB, shared)", file=sys.stderr
        )
    card, has_license = export_card(out, facts, errors, r, data_card, data_license, extra_card)
    manifest = build_manifest(name, r, steps, entries, card, eta=eta, clip=clip)
    write_manifest(out, manifest)
    write_model_card(out, data_card, manifest=manifest, has_license_file=has_license)
    return manifest


def export_card(
    out: Path, facts: dict, errors: dict, resolution: int, data_card: dict | None, data_license: Path | None, extra: dict | None
) -> tuple[dict, bool]:
    """The manifest's card (data, license, citation, the training facts of each model, the export's
    errors), and whether the data's license notice was written beside the models."""
    cfg = facts["mask"]["config"]
    has_license = write_data_license(out, data_card, data_license)
    card = {
        **manifest_fields(data_card, cfg, resolution, has_license),
        "preset": cfg["preset"],
        "trainedOn": f"{cfg.get('hardware', cfg['device'])}, torch {cfg['torch']}",
        "stepsTrained": {k: facts[k]["iters"] for k in facts},
        "imagesSeen": {k: facts[k]["images_seen"] for k in facts},
        "wallTimeSeconds": {k: facts[k]["wall_seconds"] for k in facts},
        "batch": cfg["batch"],
        "siamese": facts["image"]["config"].get("siamese", False),
        "recipe": recipe({k: facts[k]["config"] for k in facts}),
        "exportMaxAbsError": errors,
        "metrics": {},
    }
    if has_license:
        card["licenseFile"] = LICENSE_FILE
    card.update(extra or {})
    return card, has_license


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="pigkit.export", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--run", required=True, help="run folder with mask/ckpt.pt and image/ckpt.pt")
    p.add_argument("--out", required=True, help="model folder to write (e.g. public/models/NAME)")
    p.add_argument("--name", required=True)
    p.add_argument("--steps", type=steps_arg, default=50, help="default DDIM steps the studio offers")
    p.add_argument("--eta", type=eta_arg, default=0.0, help="default DDIM η the studio and CLI sample with (paper: 0)")
    p.add_argument(
        "--clip",
        default="none",
        choices=CLIP_MODES,
        help="default sampler clip the studio and CLI use: none (METHOD.md's loop), image (clip ŷ₀), "
        "both (x̂₀ and ŷ₀); docs/contracts.md",
    )
    p.add_argument(
        "--card",
        default=None,
        help="JSON file merged into the manifest's card, e.g. pigkit.evaluate's card.json (its metrics "
        "are the model card's evaluation)",
    )
    p.add_argument(
        "--data-card",
        default=None,
        help="the training data's card (JSON: name, description, license with its text, citation, "
        "BibTeX; e.g. datasets/busbra.json): the model card's data, license and citation. Without "
        "one the card says the training data are undescribed",
    )
    p.add_argument(
        "--data-license",
        default=None,
        help="the training data's license notice, copied beside the models as DATA-LICENSE.txt "
        "(default: the data card's license text)",
    )
    p.add_argument("--weights-out", default=None, help="also write slim checkpoints (EMA weights only) here")
    a = p.parse_args(argv)
    if a.steps > Schedule().T:  # the manifest it writes would be refused
        p.error(f"--steps {a.steps}: the schedule has T = {Schedule().T} steps")
    extra = json.loads(Path(a.card).read_text()) if a.card else None
    try:
        data_card = read_data_card(a.data_card) if a.data_card else None
        for role in ("mask", "image"):  # both checkpoints named before anything is exported
            checkpoint_facts(Path(a.run), role)
    except (CheckpointError, DataCardError, FileNotFoundError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    export_pair(
        Path(a.run),
        Path(a.out),
        a.name,
        a.steps,
        extra,
        Path(a.data_license) if a.data_license else None,
        a.eta,
        a.clip,
        data_card,
    )
    if a.weights_out:
        slim_checkpoints(Path(a.run), Path(a.weights_out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
