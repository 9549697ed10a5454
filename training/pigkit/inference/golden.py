"""Golden fixture for the TypeScript sampler: the reference joint loop on an exported pair.

    python3 -m pigkit.golden --run fixtures/tiny --out ../src/core/fixtures/tiny-golden.json
    python3 -m pigkit.golden --run fixtures/tiny --eta 1 --clip both --out ../src/core/fixtures/tiny-golden-clip.json

The networks are loaded from the run's checkpoints (`--run`), the very weights the ONNX files were
exported from, so the fixture is PyTorch's answer and the TypeScript side checks ORT + its own loop
against it (format: docs/contracts.md, section 4).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

from pigkit.data.attributes import AttributeSpec
from pigkit.model.latent import DecoderGraph, decode_pair
from pigkit.model.limits import eta_arg, steps_arg
from pigkit.model.sampler import SeededNoise, conditioned, sample_pair
from pigkit.model.schedule import CLIP_MODES, Schedule
from pigkit.model.unet import attribute_onehot
from pigkit.training.checkpoint import load_model_checkpoint, read_checkpoint
from pigkit.training.train_autoencoder import load_autoencoder


def _flat(t) -> list[float]:
    return [float(v) for v in t.detach().cpu().numpy().astype(np.float32).reshape(-1)]


def make_golden(run: Path, name: str, seed: int, steps: int, eta: float, clip: str = "none") -> dict:
    model_x = load_model_checkpoint(run / "mask" / "ckpt.pt")
    model_y = load_model_checkpoint(run / "image" / "ckpt.pt")
    res = model_x.resolution
    noise = SeededNoise([seed], (res, res))
    result = sample_pair(model_x, model_y, Schedule(), steps, noise, eta=eta, keep_frames=True, clip=clip)
    return {
        "model": name,
        "resolution": [res, res],
        "seed": seed,
        "steps": steps,
        "eta": eta,
        "clip": clip,
        "xT": _flat(noise.initial(0)),
        "yT": _flat(noise.initial(1)),
        "frames": [{"t": f.t, "tPrev": f.t_prev, "x0": _flat(f.x0), "y0": _flat(f.y0), "c": _flat(f.c)} for f in result.frames],
        "mask": _flat(result.mask),
        "image": _flat(result.image),
    }


def make_latent_golden(
    run: Path,
    name: str,
    seed: int,
    steps: int,
    eta: float,
    request: dict[str, str],
    guidance: float,
    autoencoder: Path | None = None,
) -> dict:
    """The format-2 fixture (contracts §4 and §6): the reference loop on a latent and/or attributed
    pair, in PyTorch's float32 as make_golden, `request` the attributes asked for ({} = all any),
    `guidance` w; frames carry z0 (C·h·w values)."""
    model_x = load_model_checkpoint(run / "mask" / "ckpt.pt")
    model_y = load_model_checkpoint(run / "image" / "ckpt.pt")
    cfg = read_checkpoint(run / "mask" / "ckpt.pt")["config"]
    latent, spec = cfg.get("latent"), cfg.get("attributes")
    spec = AttributeSpec.from_dict(spec["spec"]) if spec else None
    g = model_x.resolution
    channels = latent["config"]["latent_channels"] if latent else 1
    attrs = none = None
    if spec:
        attrs = attribute_onehot(torch.tensor([spec.encode(request)]), spec.sizes())
        none = attribute_onehot(torch.zeros(1, len(spec.names), dtype=torch.long), spec.sizes())
    fx, fy = conditioned(model_x, attrs, guidance, none), conditioned(model_y, attrs, guidance, none)
    noise = SeededNoise([seed], (g, g))
    result = sample_pair(fx, fy, Schedule(), steps, noise, eta=eta, keep_frames=True, channels=channels)
    out = {
        "model": name,
        "grid": [g, g],
        "channels": channels,
        "seed": seed,
        "steps": steps,
        "eta": eta,
        "clip": "none",
        "attributes": {n: request.get(n, "any") for n in spec.names} if spec else {},
        "guidance": guidance,
        "xT": _flat(noise.initial(0)),
        "zT": _flat(noise.initial(1, channels)),
        "frames": [{"t": f.t, "tPrev": f.t_prev, "x0": _flat(f.x0), "z0": _flat(f.y0), "c": _flat(f.c)} for f in result.frames],
    }
    if latent:
        ae = load_autoencoder(autoencoder or Path(latent["autoencoder"]))[0]
        size = latent["image_resolution"]
        image, mask = decode_pair(DecoderGraph(ae, latent["scale"]), result.image, result.x0, (size, size))
        out.update({"resolution": [size, size], "mask": _flat(mask), "image": _flat(image)})
    else:
        out.update({"resolution": [g, g], "mask": _flat(result.mask), "image": _flat(result.image)})
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="pigkit.golden", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--run", required=True, help="run folder with mask/ckpt.pt and image/ckpt.pt")
    p.add_argument("--name", default="tiny")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--steps", type=steps_arg, default=4)
    p.add_argument("--eta", type=eta_arg, default=0.0)
    p.add_argument("--clip", default="none", choices=CLIP_MODES)
    p.add_argument("--out", required=True)
    p.add_argument("--format2", action="store_true", help="a latent and/or attributed run (contracts §6)")
    p.add_argument("--attr", default="", help="with --format2: the request, e.g. pathology=malignant,birads=4")
    p.add_argument("--guidance", type=float, default=1.0, help="with --format2: classifier-free guidance w")
    p.add_argument("--autoencoder", default=None, help="with --format2: the autoencoder checkpoint (default: the run's)")
    a = p.parse_args(argv)
    if a.format2:
        request = dict(kv.split("=", 1) for kv in a.attr.split(",") if kv)
        ae = Path(a.autoencoder) if a.autoencoder else None
        golden = make_latent_golden(Path(a.run), a.name, a.seed, a.steps, a.eta, request, a.guidance, ae)
    else:
        golden = make_golden(Path(a.run), a.name, a.seed, a.steps, a.eta, a.clip)
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(golden, separators=(",", ":")) + "\n")
    print(f"wrote {a.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
