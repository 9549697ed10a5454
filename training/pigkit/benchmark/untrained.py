"""An untrained (randomly initialised) checkpoint pair in a run folder, for benchmarks: the same
architecture, size and ONNX graphs as a trained pair of that preset, without the training.

    python3 -m pigkit.untrained --preset paper --resolution 128 --out runs/untrained-paper128 [--seed 0]
    python3 -m pigkit.untrained --latent --preset compact --resolution 256 --out runs/untrained-latent256 \\
        [--autoencoder CKPT] [--attributes bus_data.csv]

Writes OUT/mask/ckpt.pt and OUT/image/ckpt.pt in the slim format export.py reads (EMA weights =
the initial weights, zero iterations), so `python3 -m pigkit.export --run OUT …` exports it.

With --latent, a latent pair (docs/contracts.md §6) for images of --resolution: the autoencoder of
--autoencoder, or a random one (channels 16,32,64, C = 4, f = 4) written to OUT/autoencoder/ckpt.pt;
the U-Nets on its grid (resolution / f) with 1 + C (mask) and C + 1 → C (image) channels; with
--attributes, the attribute spec of that table (pigkit.attributes.read_table). The run config holds
the `latent` entry pigkit.train writes, its scale s = 1/σ of the latents of seeded synthetic
slices, so `python3 -m pigkit.export_latent --run OUT --synthetic-preview …` exports it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch
import torch.nn.functional as F

from pigkit.data.attributes import AttributeError_, read_table
from pigkit.exporter.manifest import sha256_of
from pigkit.model.autoencoder import Autoencoder, AutoencoderConfig
from pigkit.model.latent import latent_scale
from pigkit.model.unet import build_unet
from pigkit.training.checkpoint import CheckpointError, atomic_save
from pigkit.training.train_autoencoder import load_autoencoder

BENCH_AUTOENCODER = AutoencoderConfig(channels=(16, 32, 64), latent_channels=4, blocks=1)
SYNTHETIC_SLICES = 8  # enough for a scale and a 5-number least-squares fit; cheap at 256²


def synthetic_slices(n: int, size: int, seed: int = 0) -> torch.Tensor:
    """n seeded smooth random slices n×1×size×size in [-1, 1] (noise blurred by a box filter): the
    stand-in for training data of a benchmark model, whose scale and preview map mean nothing."""
    g = torch.Generator().manual_seed(seed)
    noise = torch.randn(n, 1, size, size, generator=g)
    k = max(1, size // 16) | 1  # odd width: the blur keeps the size
    smooth = F.avg_pool2d(noise, k, stride=1, padding=k // 2, count_include_pad=False)
    return smooth / smooth.abs().amax(dim=(1, 2, 3), keepdim=True)


def _latent_config(resolution: int, out: Path, autoencoder: Path | None, seed: int) -> tuple[dict, int]:
    """The run config's `latent` entry (train.py's _conditioned_data keys) and the autoencoder's C."""
    if autoencoder is None:
        torch.manual_seed(seed + 100)  # the autoencoder's own draw, apart from the U-Nets'
        ae = Autoencoder(BENCH_AUTOENCODER).eval()
        autoencoder = out / "autoencoder" / "ckpt.pt"
        autoencoder.parent.mkdir(parents=True, exist_ok=True)
        state = {"config": BENCH_AUTOENCODER.to_dict(), "ema": ae.state_dict(), "iter": 0, "images_seen": 0}
        atomic_save({**state, "wall_seconds": 0.0, "untrained": True}, autoencoder)
    else:
        ae = load_autoencoder(autoencoder)[0]
    if resolution % ae.config.factor:
        raise CheckpointError(f"--resolution {resolution} is not a multiple of the autoencoder's factor {ae.config.factor}")
    latent = {
        "autoencoder": str(autoencoder),
        "autoencoder_sha256": sha256_of(autoencoder),
        "autoencoder_iter": 0,
        "config": ae.config.to_dict(),
        "scale": latent_scale(ae, synthetic_slices(SYNTHETIC_SLICES, resolution, seed)),
        "image_resolution": resolution,
        "flip_as_data": False,
    }
    return latent, ae.config.latent_channels


def save_untrained(
    preset: str,
    resolution: int,
    out: Path,
    seed: int = 0,
    latent: bool = False,
    autoencoder: Path | None = None,
    attributes: Path | None = None,
) -> Path:
    extra, grid, overrides = {}, resolution, {"mask": {}, "image": {}}
    if attributes:
        spec = read_table(attributes)[0]
        extra["attributes"] = {"spec": spec.to_dict(), "table": str(attributes), "drop": 0.0}
        for role in overrides:
            overrides[role]["attributes"] = spec.sizes()
    if latent:
        extra["latent"], c = _latent_config(resolution, out, autoencoder, seed)
        grid = resolution // AutoencoderConfig.from_dict(extra["latent"]["config"]).factor
        overrides["mask"]["in_channels"] = 1 + c
        overrides["image"].update(in_channels=c + 1, out_channels=c)
    for i, role in enumerate(("mask", "image")):
        torch.manual_seed(seed + i)  # each model its own draw, both reproducible
        model = build_unet(preset, grid, **overrides[role])
        config = {
            "preset": preset,
            "resolution": grid,
            "overrides": overrides[role],
            **extra,
            "model": role,
            "siamese": False,
            "batch": 0,
            "device": "cpu",
            "hardware": "none (random initialisation)",
            "torch": torch.__version__,
            "untrained": True,
            "seed": seed,
        }
        (out / role).mkdir(parents=True, exist_ok=True)
        atomic_save(
            {"ema": model.state_dict(), "iter": 0, "images_seen": 0, "wall_seconds": 0.0, "config": config},
            out / role / "ckpt.pt",
        )
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(
        prog="pigkit.untrained", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--preset", default="paper")
    p.add_argument("--resolution", type=int, default=128, help="the pair's resolution (a latent pair's image size)")
    p.add_argument("--out", required=True, help="run folder to write (mask/ckpt.pt, image/ckpt.pt)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--latent", action="store_true", help="a latent pair (U-Nets on the autoencoder's grid)")
    p.add_argument("--autoencoder", default=None, help="with --latent: this autoencoder checkpoint (default: a random one)")
    p.add_argument("--attributes", default=None, help="attribute table (CSV): U-Nets conditioned on its attributes")
    a = p.parse_args(argv)
    if a.autoencoder and not a.latent:
        p.error("--autoencoder needs --latent")
    if not 8 <= a.resolution <= 1024:
        p.error(f"--resolution must be from 8 to 1024, got {a.resolution}")
    try:
        save_untrained(
            a.preset,
            a.resolution,
            Path(a.out),
            a.seed,
            a.latent,
            Path(a.autoencoder) if a.autoencoder else None,
            Path(a.attributes) if a.attributes else None,
        )
    except (AttributeError_, CheckpointError, FileNotFoundError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    kind = "latent " if a.latent else ""
    print(f"untrained {kind}{a.preset} {a.resolution}² pair in {a.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
