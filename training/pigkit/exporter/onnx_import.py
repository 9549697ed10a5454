"""Read a U-Net's weights back out of an exported ONNX file (the plain `x, t → eps` contract), so a
shipped model pair can be fine-tuned or trained further (`pigkit.train --init-from`). A graph whose
weights are in a shared weights file (ONNX external data, pigkit.share_weights) is read with them.

Most initializers keep their state_dict names. Constant folding renames the rest (the GroupNorm
scales and shifts, reshaped for the decomposed norm, become `onnx::Mul_…`/`onnx::Add_…`), and those
names depend on the exporter's node numbering. So the mapping is found, not assumed: a fresh U-Net of
the same preset is exported with every parameter set to its own index, and each renamed initializer
of that export is matched to the parameter whose index it holds; the exporter keeps the initializer
order, so position i of the source file is the same tensor. Every parameter must be found exactly
once with the right size, or the import is refused.
"""

from __future__ import annotations

import json
import tempfile
import warnings
from pathlib import Path

import numpy as np
import torch
from onnx import numpy_helper

from pigkit.exporter.export import export_unet
from pigkit.exporter.manifest import ManifestError, model_file
from pigkit.exporter.share_weights import load_inline
from pigkit.model.unet import build_unet

SENTINEL = 10_000  # exact in float32 for any index below 2**24 - SENTINEL


class OnnxImportError(ValueError):
    """The ONNX file is not a U-Net of the given preset and resolution."""


def _initializers(path: Path) -> list[tuple[str, np.ndarray]]:
    model = load_inline(path)  # weights in a shared weights file (ONNX external data) read from beside it
    return [(i.name, numpy_helper.to_array(i)) for i in model.graph.initializer]


def unet_state_from_onnx(path: Path, preset: str, resolution: int, **overrides) -> dict[str, torch.Tensor]:
    """The state_dict of `build_unet(preset, resolution, **overrides)` held in the ONNX file at `path`."""
    path = Path(path)
    if not path.is_file():
        raise OnnxImportError(f"{path}: file not found")
    try:
        source = _initializers(path)
    except ManifestError as e:  # external data outside the file's folder
        raise OnnxImportError(str(e)) from e
    except Exception as e:  # onnx raises DecodeError and friends for a file that is not ONNX
        raise OnnxImportError(f"{path}: not a readable ONNX file ({e})") from e

    probe = build_unet(preset, resolution, **overrides)
    params = dict(probe.state_dict())
    # every float parameter gets its own value (its index plus an offset no graph constant uses), so
    # any folded copy of it names its source
    with torch.no_grad():
        for index, value in enumerate(params.values()):
            value.fill_(float(SENTINEL + index))
    with tempfile.TemporaryDirectory() as d, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the exporter's notes on constant folding, already seen at export
        export_unet(probe, resolution, Path(d) / "probe.onnx")
        reference = _initializers(Path(d) / "probe.onnx")
    if len(reference) != len(source):
        raise OnnxImportError(
            f"{path}: {len(source)} initializers, a {preset} U-Net at {resolution}² has {len(reference)}"
            " (another preset or resolution?)"
        )

    names = list(params)
    state: dict[str, torch.Tensor] = {}
    for (ref_name, ref_value), (src_name, src_value) in zip(reference, source):
        if ref_value.shape != src_value.shape:
            raise OnnxImportError(
                f"{path}: initializer {src_name} has shape {list(src_value.shape)}, expected "
                f"{list(ref_value.shape)} (another preset or resolution?)"
            )
        if ref_name in params:
            key = ref_name
        else:
            held = np.unique(ref_value)
            index = float(held[0]) - SENTINEL if len(held) == 1 else -1.0
            if not index.is_integer() or not 0 <= index < len(names):
                continue  # a constant of the graph itself (e.g. a folded shape), not a parameter
            key = names[int(index)]
        if key in state:
            raise OnnxImportError(f"{path}: parameter {key} appears twice")
        if src_value.size != params[key].numel():
            raise OnnxImportError(
                f"{path}: initializer {src_name} has {src_value.size} values, {key} needs {params[key].numel()}"
            )
        state[key] = torch.from_numpy(src_value.copy()).reshape(params[key].shape).to(params[key].dtype)
    missing = [k for k, v in params.items() if k not in state and v.is_floating_point()]
    if missing:
        raise OnnxImportError(f"{path}: no initializer for {', '.join(missing[:5])}{' …' if len(missing) > 5 else ''}")
    for k, v in params.items():  # integer buffers (none today) keep their built values
        state.setdefault(k, v)
    return state


def unet_from_onnx(path: Path, preset: str, resolution: int, **overrides) -> torch.nn.Module:
    model = build_unet(preset, resolution, **overrides)
    model.load_state_dict(unet_state_from_onnx(path, preset, resolution, **overrides))
    return model.eval()


def init_from_bundle(folder: Path, role: str, preset: str, resolution: int, **overrides) -> tuple[dict, dict]:
    """Weights of `role` ("mask" or "image") from an exported model folder (manifest.json + ONNX),
    and what its card says about how it was trained, so a continued run counts on from there."""
    folder = Path(folder)
    manifest_path = folder / "manifest.json"
    if not manifest_path.is_file():
        raise OnnxImportError(f"{folder}: no manifest.json (expected an exported model folder, e.g. public/models/busbra64)")
    manifest = json.loads(manifest_path.read_text())
    card = manifest.get("card", {})
    if card.get("preset") not in (None, preset):
        raise OnnxImportError(f"{folder}: trained with preset {card['preset']}, not {preset}")
    if manifest.get("resolution", [resolution])[0] != resolution:
        raise OnnxImportError(f"{folder}: resolution {manifest['resolution'][0]}, not {resolution}")
    entry = manifest.get("models", {}).get(role)
    if entry is None:
        raise OnnxImportError(f"{manifest_path}: no models.{role} entry")
    try:  # the graph (and its weights file, where it has one) are the manifest's
        path = model_file(folder, manifest, role)
    except ManifestError as e:
        raise OnnxImportError(str(e)) from e
    state = unet_state_from_onnx(path, preset, resolution, **overrides)
    facts = {
        "model": manifest.get("name"),
        "file": entry["file"],
        "sha256": entry.get("sha256"),
        **({"weights": {k: entry["weights"][k] for k in ("file", "sha256")}} if "weights" in entry else {}),
        "iters": card.get("stepsTrained", {}).get(role, 0),
        "images_seen": card.get("imagesSeen", {}).get(role, 0),
        "wall_seconds": card.get("wallTimeSeconds", {}).get(role, 0.0),
    }
    return state, facts
