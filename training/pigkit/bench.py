"""Training and sampling speed of the presets on this machine (figures for the README and notes).

    python3 -m pigkit.bench --preset small --resolution 64 --batch 8 [--device cuda] [--threads N]

Times full training iterations (forward, backward, Adam step) of model_x's objective on random
data after warm-up, and one no-grad forward at batch 1 (half a joint sampling step).
"""
from __future__ import annotations

import argparse
import json
import sys
import time

import torch

from .losses import antithetic_timesteps, mask_loss
from .schedule import Schedule
from .unet import build_unet, count_parameters


def _sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def bench(preset: str, resolution: int, batch: int, device: str, iters: int, warmup: int = 2) -> dict:
    dev = torch.device(device)
    model = build_unet(preset, resolution).to(dev)
    opt = torch.optim.Adam(model.parameters(), lr=2e-4)
    s = Schedule()
    x0 = torch.randn(batch, 1, resolution, resolution, device=dev).sign()
    y0 = torch.rand(batch, 1, resolution, resolution, device=dev) * 2 - 1
    times = []
    for i in range(warmup + iters):
        t = antithetic_timesteps(batch, s.T, device=dev)
        _sync(dev)
        t0 = time.perf_counter()
        loss = mask_loss(model, x0, y0, t, torch.randn_like(x0), torch.randn_like(y0), s)
        opt.zero_grad()
        loss.backward()
        opt.step()
        _sync(dev)
        if i >= warmup:
            times.append(time.perf_counter() - t0)
    model.eval()
    fwd = []
    with torch.no_grad():
        x = torch.randn(1, 2, resolution, resolution, device=dev)
        for i in range(warmup + iters):
            _sync(dev)
            t0 = time.perf_counter()
            model(x, torch.tensor([500.0], device=dev))
            _sync(dev)
            if i >= warmup:
                fwd.append(time.perf_counter() - t0)
    med = sorted(times)[len(times) // 2]
    return {"preset": preset, "resolution": resolution, "batch": batch, "device": device, "threads": torch.get_num_threads(),
            "params": count_parameters(model), "train_images_per_s": round(batch / med, 2),
            "forward_ms": round(1000 * sorted(fwd)[len(fwd) // 2], 1), "torch": torch.__version__}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="pigkit.bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--preset", default="small")
    p.add_argument("--resolution", type=int, default=64)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--iters", type=int, default=5)
    a = p.parse_args(argv)
    if a.threads:
        torch.set_num_threads(a.threads)
    print(json.dumps(bench(a.preset, a.resolution, a.batch, a.device, a.iters)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
