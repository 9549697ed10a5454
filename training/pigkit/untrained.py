"""An untrained (randomly initialised) checkpoint pair in a run folder, for benchmarks: the same
architecture, size and ONNX graphs as a trained pair of that preset, without the training.

    python3 -m pigkit.untrained --preset paper --resolution 128 --out runs/untrained-paper128 [--seed 0]

Writes OUT/mask/ckpt.pt and OUT/image/ckpt.pt in the slim format export.py reads (EMA weights =
the initial weights, zero iterations), so `python3 -m pigkit.export --run OUT …` exports it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

from .checkpoint import atomic_save
from .unet import build_unet


def save_untrained(preset: str, resolution: int, out: Path, seed: int = 0) -> Path:
    for i, role in enumerate(("mask", "image")):
        torch.manual_seed(seed + i)  # each model its own draw, both reproducible
        model = build_unet(preset, resolution)
        config = {
            "preset": preset,
            "resolution": resolution,
            "overrides": {},
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
    p.add_argument("--resolution", type=int, default=128)
    p.add_argument("--out", required=True, help="run folder to write (mask/ckpt.pt, image/ckpt.pt)")
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args(argv)
    save_untrained(a.preset, a.resolution, Path(a.out), a.seed)
    print(f"untrained {a.preset} {a.resolution}² pair in {a.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
