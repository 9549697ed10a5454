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

from .checkpoint import load_model_checkpoint
from .limits import eta_arg, steps_arg
from .sampler import SeededNoise, sample_pair
from .schedule import CLIP_MODES, Schedule


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


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="pigkit.golden", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--run", required=True, help="run folder with mask/ckpt.pt and image/ckpt.pt")
    p.add_argument("--name", default="tiny")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--steps", type=steps_arg, default=4)
    p.add_argument("--eta", type=eta_arg, default=0.0)
    p.add_argument("--clip", default="none", choices=CLIP_MODES)
    p.add_argument("--out", required=True)
    a = p.parse_args(argv)
    golden = make_golden(Path(a.run), a.name, a.seed, a.steps, a.eta, a.clip)
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(golden, separators=(",", ":")) + "\n")
    print(f"wrote {a.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
