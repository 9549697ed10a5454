"""Segmentation U-Nets and Dice/IoU, for measuring how well generated images match their masks
(pigkit.evaluate) and how much generated pairs help a segmenter (pigkit.downstream).

Two architectures: `unet`, the standard segmentation U-Net (Ronneberger et al. 2015: two 3×3
convolutions with BatchNorm and ReLU per level, max-pool down, transposed convolution up, skip
concatenation; 16 → 256 channels over five levels, 1.94 M parameters), the downstream table's
segmenter of record; and `diffusion`, the kit's `compact` diffusion U-Net with t fixed at 0, the
segmenter behind [8]'s pair-consistency figure since 2026-12-01 (kept so that figure stays
comparable). At 64² on one CPU thread `unet` trains 5.5× faster (0.25 s against 1.36 s per
iteration of batch 16, PyTorch 2.13, measured 2026-12-02)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from pigkit.data.pairs import DataError, open_dataset
from pigkit.model.unet import build_unet
from pigkit.training.checkpoint import atomic_save, load_checkpoint_file
from pigkit.training.plot import loss_curve_png

ARCHS = ("unet", "diffusion")


def _double_conv(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, padding=1, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
        nn.Conv2d(c_out, c_out, 3, padding=1, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
    )


class SegUNet(nn.Module):
    """The standard segmentation U-Net; `mid` is its bottleneck (the Fréchet features' layer)."""

    def __init__(self, base: int = 16, depth: int = 4):
        super().__init__()
        ch = [base * 2**k for k in range(depth + 1)]
        self.down = nn.ModuleList([_double_conv(1 if k == 0 else ch[k - 1], ch[k]) for k in range(depth)])
        self.mid = _double_conv(ch[depth - 1], ch[depth])
        self.up = nn.ModuleList([nn.ConvTranspose2d(ch[k + 1], ch[k], 2, stride=2) for k in reversed(range(depth))])
        self.dec = nn.ModuleList([_double_conv(2 * ch[k], ch[k]) for k in reversed(range(depth))])
        self.out = nn.Conv2d(ch[0], 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = []
        for block in self.down:
            x = block(x)
            skips.append(x)
            x = F.max_pool2d(x, 2)
        x = self.mid(x)
        for up, block in zip(self.up, self.dec):
            x = block(torch.cat([up(x), skips.pop()], 1))
        return self.out(x)


def build_segmenter(resolution: int, arch: str = "diffusion") -> torch.nn.Module:
    if arch == "unet":
        if resolution % 16:
            raise ValueError(f"the segmentation U-Net needs a resolution divisible by 16, not {resolution}")
        return SegUNet()
    if arch == "diffusion":
        return build_unet("compact", resolution, in_channels=1, out_channels=1)
    raise ValueError(f"unknown segmenter {arch!r}; choose one of {ARCHS}")


def segment_logits(model, images: torch.Tensor) -> torch.Tensor:
    if isinstance(model, SegUNet):
        return model(images)
    return model(images, torch.zeros(images.shape[0], device=images.device))


def dice_iou(pred: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-sample Dice and IoU of boolean masks [B, 1, H, W]; 1.0 when both are empty."""
    p, t = pred.flatten(1).float(), target.flatten(1).float()
    inter = (p * t).sum(1)
    total = p.sum(1) + t.sum(1)
    union = total - inter
    dice = torch.where(total > 0, 2 * inter / total.clamp_min(1e-9), torch.ones_like(total))
    iou = torch.where(union > 0, inter / union.clamp_min(1e-9), torch.ones_like(union))
    return dice, iou


LR_SCHEDULES = ("constant", "poly")


def poly_lr(lr: float, i: int, iters: int, exponent: float = 0.9) -> float:
    """nnU-Net's polynomial decay: the learning rate of step i (0-based) of `iters`."""
    return lr * (1 - i / iters) ** exponent


def train_segmenter(
    images: torch.Tensor,
    masks: torch.Tensor,
    iters: int,
    batch: int = 16,
    lr: float = 1e-3,
    seed: int = 0,
    log_every: int = 50,
    device="cpu",
    on_eval: Callable[[int, torch.nn.Module], None] | None = None,
    eval_every: int = 0,
    log_prefix: str = "",
    arch: str = "diffusion",
    init: dict | None = None,
    first_iteration: int = 1,
    lr_schedule: str = "constant",
) -> tuple[torch.nn.Module, list[tuple[int, float]]]:
    """BCE + soft Dice on images in [-1, 1] and masks in {-1, +1}, with flips as augmentation.
    `on_eval(iteration, model)` is called every `eval_every` iterations and at the end (the model
    in eval mode), e.g. to record a held-out learning curve. `init` (a state dict) starts from
    trained weights with a fresh optimizer (fine-tuning); iterations are then counted from
    `first_iteration`, so a pre-training's curve and the fine-tuning's join up. `lr_schedule`:
    "constant" (`lr` throughout), or "poly", nnU-Net's lr · (1 − i/iters)^0.9 over these `iters`
    (i from 0), which ends near zero: the last weights are settled, not one draw of a wandering
    model, so the final Dice varies less between seeds."""
    if lr_schedule not in LR_SCHEDULES:
        raise ValueError(f"lr_schedule must be one of {LR_SCHEDULES}, got {lr_schedule!r}")
    g = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    model = build_segmenter(images.shape[-1], arch).to(device)
    if init is not None:
        model.load_state_dict(init)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    images, target_all = images.to(device), (masks > 0).float().to(device)
    curve, t0 = [], time.time()
    model.train()
    last = first_iteration + iters - 1
    for it in range(first_iteration, last + 1):
        if lr_schedule == "poly":
            for group in opt.param_groups:
                group["lr"] = poly_lr(lr, it - first_iteration, iters)
        idx = torch.randint(0, len(images), (batch,), generator=g).to(device)
        x, y = images[idx], target_all[idx]
        if torch.rand(1, generator=g) < 0.5:
            x, y = x.flip(-1), y.flip(-1)
        logits = segment_logits(model, x)
        prob = torch.sigmoid(logits)
        soft_dice = 1 - (2 * (prob * y).sum((1, 2, 3)) + 1) / (prob.sum((1, 2, 3)) + y.sum((1, 2, 3)) + 1)
        loss = F.binary_cross_entropy_with_logits(logits, y) + soft_dice.mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        if it % log_every == 0 or it == last:
            curve.append((it, loss.item()))
            print(
                f"{log_prefix}segmenter {it}/{last} loss {loss.item():.4f} ({time.time() - t0:.0f} s)",
                file=sys.stderr,
                flush=True,
            )
        if on_eval and ((eval_every and it % eval_every == 0) or it == last):
            on_eval(it, model.eval())
            model.train()
    return model.eval(), curve


def _device(model: torch.nn.Module) -> torch.device:
    return next(model.parameters()).device


@torch.no_grad()
def predict_masks(model, images: torch.Tensor, batch: int = 64) -> torch.Tensor:
    """Boolean masks [N, 1, H, W] on the CPU, whatever device the model is on."""
    dev = _device(model)
    return torch.cat([(segment_logits(model, images[i : i + batch].to(dev)) > 0).cpu() for i in range(0, len(images), batch)])


@torch.no_grad()
def bottleneck_features(model, images: torch.Tensor, batch: int = 64) -> torch.Tensor:
    """The segmenter's deepest features (output of the U-Net's middle block, averaged over space),
    [N, C] on the CPU: the feature space of the evaluation's Fréchet distance."""
    dev, feats, grabbed = _device(model), [], []
    hook = model.mid[-1].register_forward_hook(lambda module, inputs, output: grabbed.append(output.mean((2, 3)).cpu()))
    try:
        for i in range(0, len(images), batch):
            segment_logits(model, images[i : i + batch].to(dev))
            feats.append(grabbed.pop())
    finally:
        hook.remove()
    return torch.cat(feats).double()


def main(argv=None) -> int:
    """Train the segmenter on the training folds and save it (reused by pigkit.evaluate)."""
    p = argparse.ArgumentParser(prog="pigkit.segment", description="train the evaluation segmenter")
    p.add_argument("--data", required=True)
    p.add_argument("--resolution", type=int, default=64)
    p.add_argument("--folds", default="1,2,3")
    p.add_argument("--iters", type=int, default=1500)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--arch",
        choices=ARCHS,
        default="diffusion",
        help="diffusion: the consistency figure's segmenter of record "
        "(EVALUATION.md's history uses it); unet: the standard segmentation U-Net",
    )
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--out", required=True, help="folder for segmenter.pt, segmenter_loss.png, segmenter.json")
    a = p.parse_args(argv)
    if a.threads:
        torch.set_num_threads(a.threads)
    try:
        train_set = open_dataset(a.data, a.resolution, {int(f) for f in a.folds.split(",")})
    except DataError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    model, curve = train_segmenter(train_set.images, train_set.masks, a.iters, a.batch, seed=a.seed, device=a.device, arch=a.arch)
    atomic_save(
        {
            "state": {k: v.cpu() for k, v in model.state_dict().items()},
            "arch": a.arch,
            "resolution": a.resolution,
            "iters": a.iters,
            "batch": a.batch,
            "folds": a.folds,
            "seed": a.seed,
        },
        out / "segmenter.pt",
    )
    loss_curve_png(out / "segmenter_loss.png", {"segmenter": curve}, f"segmentation U-Net (folds {a.folds}) training loss")
    (out / "segmenter.json").write_text(
        json.dumps({"iters": a.iters, "batch": a.batch, "seconds": round(time.time() - t0, 1), "curve": curve}, indent=1)
    )
    return 0


def load_segmenter(path) -> tuple[torch.nn.Module, int]:
    """The segmenter saved at PATH and the iterations it was trained for."""
    ck = load_checkpoint_file(path)
    model = build_segmenter(ck["resolution"], ck.get("arch", "diffusion"))  # files before 2026-12-02 have no arch
    model.load_state_dict(ck["state"])
    return model.eval(), ck["iters"]


if __name__ == "__main__":
    sys.exit(main())
