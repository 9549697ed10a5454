"""Training and sampling speed of the presets on this machine (figures for the README and notes).

    python3 -m pigkit.bench --preset small --resolution 64 --batch 8 [--device cuda] [--threads N]
    python3 -m pigkit.bench --sampler RUN --steps 4 [--forwards 5] [--pairs 1] [--threads N]

Times full training iterations (forward, backward, Adam step) of model_x's objective on random
data after warm-up, and one no-grad forward at batch 1 (half a joint sampling step).

With --sampler: the reference sampler (sampler.sample_pair, batch 1, the studio's seeded noise)
on a run folder's checkpoint pair, as the studio's benchmark (npm run bench) compares it with
ONNX Runtime: load time (first and second load in this process), one raw U-Net forward, the joint
step and the full pair, and the process's peak RSS.

With --peak: the float32 rate of a large matrix product (torch.mm, the BLAS PyTorch ships) on
--threads threads: the most this machine's cores attain on the U-Net's kind of work, the
denominator of each path's "share of the machine" in npm run bench (a measured peak, not the
datasheet's: a VM hides its CPU's clock and FMA units).
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

import torch

from pigkit.model.limits import steps_arg
from pigkit.model.sampler import SeededNoise, sample_pair
from pigkit.model.schedule import Schedule
from pigkit.model.unet import build_unet, count_parameters
from pigkit.training.checkpoint import load_model_checkpoint
from pigkit.training.losses import antithetic_timesteps, mask_loss


def _sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def bench(
    preset: str,
    resolution: int,
    batch: int,
    device: str,
    iters: int,
    warmup: int = 2,
    *,
    bf16: bool = False,
    channels_last: bool = False,
    compile: bool = False,
) -> dict:
    """The training options measured side by side in training/README.md "Speed" (pigkit.train's
    --bf16 and --channels-last; torch.compile is measured only, train has no flag for it)."""
    dev = torch.device(device)
    model = build_unet(preset, resolution).to(dev)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    step_model = torch.compile(model) if compile else model
    opt = torch.optim.Adam(model.parameters(), lr=2e-4)
    s = Schedule()
    x0 = torch.randn(batch, 1, resolution, resolution, device=dev).sign()
    y0 = torch.rand(batch, 1, resolution, resolution, device=dev) * 2 - 1
    times = []
    for i in range(warmup + iters):
        t = antithetic_timesteps(batch, s.T, device=dev)
        _sync(dev)
        t0 = time.perf_counter()
        with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=bf16):
            loss = mask_loss(step_model, x0, y0, t, torch.randn_like(x0), torch.randn_like(y0), s).float()
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
            with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=bf16):
                step_model(x, torch.tensor([500.0], device=dev))
            _sync(dev)
            if i >= warmup:
                fwd.append(time.perf_counter() - t0)
    med = sorted(times)[len(times) // 2]
    return {
        "preset": preset,
        "resolution": resolution,
        "batch": batch,
        "device": device,
        "threads": torch.get_num_threads(),
        "params": count_parameters(model),
        "train_images_per_s": round(batch / med, 2),
        "forward_ms": round(1000 * sorted(fwd)[len(fwd) // 2], 1),
        "torch": torch.__version__,
        "bf16": bf16,
        "channels_last": channels_last,
        "compile": compile,
    }


def _median(xs: list[float]) -> float:
    return sorted(xs)[len(xs) // 2]


def bench_sampler(run: Path, steps: int, forwards: int, pairs: int, seed: int = 0) -> dict:
    """Times in ms; the pair is the joint loop of `steps` steps (two forwards, DDIM and B(·) each)."""
    loads = []
    for _ in range(2):  # the second load reads files the OS has cached, in a process that has run torch
        t0 = time.perf_counter()
        model_x = load_model_checkpoint(run / "mask" / "ckpt.pt")
        model_y = load_model_checkpoint(run / "image" / "ckpt.pt")
        loads.append(1000 * (time.perf_counter() - t0))
    r = model_x.resolution
    fwd = []
    with torch.no_grad():
        x, t = torch.randn(1, 2, r, r), torch.tensor([500.0])
        for i in range(forwards + 1):  # +1: the first call allocates and is not counted
            t0 = time.perf_counter()
            model_x(x, t)
            if i > 0:
                fwd.append(1000 * (time.perf_counter() - t0))
    pair_ms = []
    for i in range(pairs):
        t0 = time.perf_counter()
        sample_pair(model_x, model_y, Schedule(), steps, SeededNoise([seed + i], (r, r)))
        pair_ms.append(1000 * (time.perf_counter() - t0))
    pair = _median(pair_ms)
    return {
        "backend": "pytorch",
        "resolution": r,
        "steps": steps,
        "threads": torch.get_num_threads(),
        "params": count_parameters(model_x),
        "load_cold_ms": round(loads[0], 1),
        "load_cached_ms": round(loads[1], 1),
        "forward_ms": round(_median(fwd), 2),
        "forwards": forwards,
        "pair_ms": round(pair, 1),
        "step_ms": round(pair / steps, 2),
        "pairs": pairs,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "torch": torch.__version__,
    }


def bench_peak(size: int = 2048, reps: int = 5) -> dict:
    """Float32 GFLOP/s of torch.mm on size×size matrices: the best of `reps` after a first call."""
    a, b = torch.randn(size, size), torch.randn(size, size)
    torch.mm(a, b)  # first call: allocation and the BLAS's dispatch
    best = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        torch.mm(a, b)
        best = min(best, time.perf_counter() - t0)
    return {
        "peak_gflops": round(2 * size**3 / best / 1e9, 1),
        "size": size,
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
    }


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="pigkit.bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--preset", default="small")
    p.add_argument("--resolution", type=int, default=64)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--iters", type=int, default=5)
    p.add_argument("--bf16", action="store_true", help="bfloat16 autocast (pigkit.train --bf16)")
    p.add_argument("--channels-last", action="store_true", help="channels-last memory format (pigkit.train --channels-last)")
    p.add_argument("--compile", action="store_true", help="torch.compile the U-Net (PyTorch ≥ 2; the first iterations compile)")
    p.add_argument("--sampler", default=None, metavar="RUN", help="time the reference sampler on this run folder's pair instead")
    p.add_argument("--steps", type=steps_arg, default=4, help="--sampler: DDIM steps of each pair")
    p.add_argument("--forwards", type=int, default=5, help="--sampler: raw forwards timed (median)")
    p.add_argument("--pairs", type=int, default=1, help="--sampler: pairs timed (median)")
    p.add_argument("--peak", action="store_true", help="the float32 matrix-product rate instead (GFLOP/s)")
    a = p.parse_args(argv)
    if a.threads:
        torch.set_num_threads(a.threads)
    if a.peak:
        print(json.dumps(bench_peak()))
        return 0
    if a.sampler:
        print(json.dumps(bench_sampler(Path(a.sampler), a.steps, a.forwards, a.pairs)))
        return 0
    print(
        json.dumps(
            bench(
                a.preset, a.resolution, a.batch, a.device, a.iters, bf16=a.bf16, channels_last=a.channels_last, compile=a.compile
            )
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
