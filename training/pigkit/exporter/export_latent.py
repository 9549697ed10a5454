"""Export a latent or attribute-conditioned pair (manifest format 2, docs/contracts.md §6).

    python3 -m pigkit.export_latent --run runs/NAME --out public/models/NAME --name NAME --steps 50 \\
        [--guidance 1] [--data-card datasets/busbra.json] [--card card.json] [--synthetic-preview]

A run trained with `pigkit.train --autoencoder` (and/or `--attributes`) holds U-Nets on the latent
grid with C-channel image chains and an attribute input. This writes the two U-Nets (inputs x, t
and, with attributes, the one-hot code a), the encoder (y → s·μ_E(y)) and the decoder (z → D(z/s)),
each checked against PyTorch on ONNX Runtime; the linear preview map of §6a, fitted on the run's
training slices (--synthetic-preview: seeded synthetic slices, for the untrained benchmark models
of pigkit.untrained --latent, which have no training data); and manifest.json format 2 with the
model card. Format 1 (pigkit.export) is untouched: pixel-space pairs without attributes export there, bit for bit as before.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

from pigkit.benchmark.untrained import SYNTHETIC_SLICES, synthetic_slices
from pigkit.data.attributes import AttributeSpec
from pigkit.data.pairs import DataError, open_dataset
from pigkit.exporter.card import write_model_card
from pigkit.exporter.data_card import DataCardError, read_data_card
from pigkit.exporter.export import (
    build_manifest,
    checkpoint_facts,
    export_card,
    export_graph,
    float64_tensors,
    model_entry,
    parity_error,
    slim_checkpoints,
)
from pigkit.exporter.manifest import sha256_of, write_manifest
from pigkit.exporter.share_weights import share_weights
from pigkit.model.latent import DecoderGraph, EncoderGraph, encode, fit_preview
from pigkit.model.limits import eta_arg, steps_arg
from pigkit.model.schedule import Schedule
from pigkit.training.checkpoint import CheckpointError, atomic_save, load_model_checkpoint, read_checkpoint
from pigkit.training.train_autoencoder import load_autoencoder

ROLES = {
    "mask": "model_x: eps of the mask chain from [x_t, z_t] on the latent grid (and the attributes' code a)",
    "image": "model_y: eps of the latent chain from [z_t, c] (and the attributes' code a)",
    "encoder": "y -> z = s·mu_E(y): the image's latent, scaled",
    "decoder": "z -> D(z / s): the image of a latent",
}
MAX_GUIDANCE = 20.0


class UNetGraph(torch.nn.Module):
    """(x, t, a) → ε: the attribute code as the third input of the exported graph."""

    def __init__(self, unet: torch.nn.Module):
        super().__init__()
        self.unet = unet

    def forward(self, x: torch.Tensor, t: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
        return self.unet(x, t, attrs=a)


def _training_facts(run: Path) -> tuple[dict, dict]:
    """The mask and image models' checkpoint facts, checked to share latents and attributes."""
    facts = {role: checkpoint_facts(run, role) for role in ("mask", "image")}
    mask_cfg, image_cfg = facts["mask"]["config"], facts["image"]["config"]
    for key in ("latent", "attributes"):
        if (mask_cfg.get(key) is None) != (image_cfg.get(key) is None):
            raise CheckpointError(f"{run}: the mask and image models disagree on {key}: train both alike")
    if not (mask_cfg.get("latent") or mask_cfg.get("attributes")):
        raise CheckpointError(f"{run}: a pixel-space pair without attributes: export it with pigkit.export (format 1)")
    return facts, mask_cfg


def _load_autoencoder(latent: dict, run: Path, autoencoder: Path | None):
    path = Path(autoencoder or latent["autoencoder"])
    if not path.is_file():
        raise CheckpointError(f"{path}: the run's autoencoder checkpoint is not there (pass --autoencoder PATH)")
    digest = sha256_of(path)
    if digest != latent["autoencoder_sha256"]:
        raise CheckpointError(
            f"{path}: not the autoencoder the run was trained on (SHA-256 {digest[:12]}…, the run's "
            f"{latent['autoencoder_sha256'][:12]}…)"
        )
    return load_autoencoder(path)[0]


def export_latent_pair(
    run: Path,
    out: Path,
    name: str,
    steps: int,
    guidance: float = 1.0,
    extra_card: dict | None = None,
    data_card: dict | None = None,
    data_license: Path | None = None,
    autoencoder: Path | None = None,
    data: str | None = None,
    synthetic_preview: bool = False,
    eta: float = 0.0,
) -> dict:
    facts, cfg = _training_facts(run)
    out.mkdir(parents=True, exist_ok=True)
    models = {role: load_model_checkpoint(run / role / "ckpt.pt") for role in ("mask", "image")}
    g = models["mask"].resolution
    latent, spec = cfg.get("latent"), cfg.get("attributes")
    spec = AttributeSpec.from_dict(spec["spec"]) if spec else None
    k = sum(n + 1 for n in spec.sizes()) if spec else 0
    c = latent["config"]["latent_channels"] if latent else 1
    size = latent["image_resolution"] if latent else g
    attr_in = [("a", [1, k])] if spec else []
    graphs = {
        "mask": (models["mask"], [("x", [1, 1 + c, g, g]), ("t", [1]), *attr_in], [("eps", [1, 1, g, g])]),
        "image": (models["image"], [("x", [1, c + 1, g, g]), ("t", [1]), *attr_in], [("eps", [1, c, g, g])]),
    }
    if spec:
        graphs = {role: (UNetGraph(m), ins, outs) for role, (m, ins, outs) in graphs.items()}
    manifest_extra = {}
    if latent:
        ae = _load_autoencoder(latent, run, autoencoder)
        s = latent["scale"]
        graphs["encoder"] = (EncoderGraph(ae, s), [("y", [1, 1, size, size])], [("z", [1, c, g, g])])
        graphs["decoder"] = (DecoderGraph(ae, s), [("z", [1, c, g, g])], [("y", [1, 1, size, size])])
        if synthetic_preview:  # a benchmark model: no training data, and its previews mean nothing anyway
            images = synthetic_slices(SYNTHETIC_SLICES, size)
        else:
            if not (data or cfg.get("data")):
                raise DataError(f"{run}: the run records no training data: pass --data DIR (or --synthetic-preview)")
            images = open_dataset(data or cfg["data"], size, set(cfg["folds"]) if cfg.get("folds") else None).images
        weights, bias = fit_preview(encode(ae, images, s), images, ae.config.factor)
        manifest_extra["latent"] = {
            "channels": c,
            "factor": ae.config.factor,
            "grid": [g, g],
            "scale": s,
            "preview": {"weights": weights, "bias": bias},
        }
    if spec:
        manifest_extra["attributes"] = spec.to_dict()
    entries, errors = {}, {}
    for role, (module, ins, outs) in graphs.items():
        path = out / f"{role}.onnx"
        names, shapes = [n for n, _ in ins], [sh for _, sh in ins]
        export_graph(module, tuple(torch.randn(sh) for sh in shapes), names, [n for n, _ in outs], path)
        if float64_tensors(path):
            raise RuntimeError(f"{path} holds float64 tensors {float64_tensors(path)[:5]}: the browser cannot run it")
        errors[role] = parity_error(module, path, names, shapes)
        entries[role] = model_entry(path, ROLES[role], ins, outs)
        print(f"{role}: {path} ({path.stat().st_size / 1e6:.2f} MB), vs PyTorch: {errors[role]}", file=sys.stderr)
    entries = share_weights(out, entries)  # the U-Nets' large tensors in mask.weights / image.weights
    card, has_license = export_card(out, facts, errors, size, data_card, data_license, extra_card)
    if latent:
        card["autoencoder"] = {"config": latent["config"], "iterations": latent.get("autoencoder_iter"), "scale": latent["scale"]}
    manifest = build_manifest(name, size, steps, entries, card, eta=eta)
    manifest["format"] = 2
    manifest["sampler"]["guidance"] = guidance
    manifest.update(manifest_extra)
    write_manifest(out, manifest)
    write_model_card(out, data_card, manifest=manifest, has_license_file=has_license)
    return manifest


def slim_autoencoder(path: Path, dest: Path) -> None:
    """The autoencoder's EMA weights and counters (no optimizer or raw weights), to commit beside the
    U-Nets' slim checkpoints so fixtures can be rebuilt from a clone."""
    ck = read_checkpoint(path)
    dest.parent.mkdir(parents=True, exist_ok=True)
    atomic_save({k: ck[k] for k in ("config", "ema", "iter", "images_seen", "wall_seconds")}, dest)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(
        prog="pigkit.export_latent", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--run", required=True, help="run folder with mask/ckpt.pt and image/ckpt.pt")
    p.add_argument("--out", required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--steps", type=steps_arg, default=50)
    p.add_argument("--guidance", type=float, default=1.0, help="default classifier-free guidance w (1 = none, one forward)")
    p.add_argument("--eta", type=eta_arg, default=0.0, help="default DDIM η the studio and CLI sample with (paper: 0)")
    p.add_argument("--autoencoder", default=None, help="the autoencoder checkpoint (default: the path the run recorded)")
    p.add_argument("--data", default=None, help="the training data, for the preview map (default: the path the run recorded)")
    p.add_argument(
        "--synthetic-preview",
        action="store_true",
        help="fit the preview map on seeded synthetic slices, not training data (untrained benchmark models)",
    )
    p.add_argument("--card", default=None)
    p.add_argument("--data-card", default=None)
    p.add_argument("--data-license", default=None)
    p.add_argument(
        "--weights-out", default=None, help="also write slim checkpoints (EMA weights only, the autoencoder's too) here"
    )
    a = p.parse_args(argv)
    if not 0 <= a.guidance <= MAX_GUIDANCE:
        p.error(f"--guidance must be from 0 to {MAX_GUIDANCE:g}, got {a.guidance}")
    if a.steps > Schedule().T:
        p.error(f"--steps {a.steps}: the schedule has T = {Schedule().T} steps")
    try:
        data_card = read_data_card(a.data_card) if a.data_card else None
        extra = json.loads(Path(a.card).read_text()) if a.card else None
        export_latent_pair(
            Path(a.run),
            Path(a.out),
            a.name,
            a.steps,
            a.guidance,
            extra,
            data_card,
            Path(a.data_license) if a.data_license else None,
            Path(a.autoencoder) if a.autoencoder else None,
            a.data,
            a.synthetic_preview,
            a.eta,
        )
        if a.weights_out:
            slim_checkpoints(Path(a.run), Path(a.weights_out))
            latent = checkpoint_facts(Path(a.run), "mask")["config"].get("latent")
            if latent:
                slim_autoencoder(Path(a.autoencoder or latent["autoencoder"]), Path(a.weights_out) / "autoencoder" / "ckpt.pt")
    except (CheckpointError, DataCardError, DataError, FileNotFoundError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
