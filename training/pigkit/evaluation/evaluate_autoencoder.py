"""How well latent PIG's autoencoder keeps a slice, on held-out folds.

    python3 -m pigkit.evaluate_autoencoder --ckpt ../runs/busbra256/autoencoder/ckpt.pt \\
        --data ../packed/busbra256.npz --out ../runs/busbra256/ae-eval [--segmentation-check 128]

Reconstructs every slice of the test folds (default 4) whole, with z = μ_E(y) (no sampling), and
reports: PSNR and SSIM (mean ± standard deviation over slices), the radially averaged power
spectrum of the reconstructions ÷ that of the originals band by band (pigkit.texture: does it keep
the speckle?), and the latent scale factor s = 1/σ of μ_E over the training folds (what the
manifest stores). `--segmentation-check R` also trains two segmenters at R² with the same seed and
iterations, one on the training folds' originals and one on their reconstructions, and tests both
on the real test folds: a latent model can only be as useful as its autoencoder is faithful to
what a segmenter needs. Writes OUT/autoencoder-eval.json and OUT/reconstructions.png (originals
above, reconstructions below).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from pigkit.data.pairs import DataError, open_dataset
from pigkit.evaluation.segment import dice_iou, predict_masks, train_segmenter
from pigkit.evaluation.texture import band_centres, spectrum_ratio
from pigkit.model.autoencoder import Autoencoder, psnr, ssim
from pigkit.model.latent import latent_scale
from pigkit.training.checkpoint import CheckpointError
from pigkit.training.train_autoencoder import load_autoencoder


@torch.no_grad()
def reconstruct(model: Autoencoder, images: torch.Tensor, batch: int = 16) -> tuple[torch.Tensor, torch.Tensor]:
    """Reconstructions clipped to [-1, 1] and the latent means, for N×1×H×W images."""
    recons, means = [], []
    for i in range(0, len(images), batch):
        mean, _ = model.encoder(images[i : i + batch])
        recons.append(model.decoder(mean).clamp(-1, 1))
        means.append(mean)
    return torch.cat(recons), torch.cat(means)


def per_image_ssim(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return torch.stack([ssim(a[i : i + 1], b[i : i + 1]) for i in range(len(a))])


def reconstruction_figures(model: Autoencoder, test_images: torch.Tensor, bands: int = 16) -> tuple[dict, torch.Tensor]:
    recon, _ = reconstruct(model, test_images)
    p, s = psnr(recon, test_images), per_image_ssim(recon, test_images)
    ratio = spectrum_ratio(recon, test_images, bands)
    top = ratio[bands // 2 :]
    figures = {
        "slices": len(test_images),
        "psnr_db": {"mean": round(float(p.mean()), 2), "std": round(float(p.std()), 2)},
        "ssim": {"mean": round(float(s.mean()), 4), "std": round(float(s.std()), 4)},
        "spectrum_ratio": {
            "band_centres_cycles_per_pixel": [round(float(c), 4) for c in band_centres(bands)],
            "ratio": [round(float(r), 4) for r in ratio],
            "top_half_min": round(float(top.min()), 4),
            "top_half_max": round(float(top.max()), 4),
        },
    }
    return figures, recon


def segmentation_check(
    model: Autoencoder, train_images, train_masks, test_images, test_masks, resolution: int, iters: int, seed: int
) -> dict:
    """Dice on the real test slices of two segmenters, trained alike on the originals and on their reconstructions."""

    def at(x: torch.Tensor, masks: bool = False) -> torch.Tensor:
        if x.shape[-1] == resolution:
            return x
        y = F.interpolate(x, size=(resolution, resolution), mode="area")
        return torch.where(y > 0, 1.0, -1.0) if masks else y

    recon_train, _ = reconstruct(model, train_images)
    test_x, test_y = at(test_images), at(test_masks, masks=True) > 0
    out = {"resolution": resolution, "iters": iters, "seed": seed, "arch": "unet"}
    for name, images in (("originals", train_images), ("reconstructions", recon_train)):
        seg, _ = train_segmenter(
            at(images), at(train_masks, masks=True), iters, seed=seed, arch="unet", lr_schedule="poly", log_prefix=f"[{name}] "
        )
        dice, _ = dice_iou(predict_masks(seg, test_x), test_y)
        out[f"dice_trained_on_{name}"] = round(float(dice.mean()), 4)
    out["difference"] = round(out["dice_trained_on_reconstructions"] - out["dice_trained_on_originals"], 4)
    return out


def sheet_png(originals: torch.Tensor, recons: torch.Tensor, path: Path, k: int = 8) -> None:
    k = min(k, len(originals))

    def row(x):
        return np.concatenate([((x[i, 0].numpy() + 1) * 127.5).clip(0, 255).round().astype(np.uint8) for i in range(k)], axis=1)

    Image.fromarray(np.concatenate([row(originals), row(recons)], axis=0)).save(path)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(
        prog="pigkit.evaluate_autoencoder", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--ckpt", required=True, help="OUT/autoencoder/ckpt.pt of pigkit.train_autoencoder")
    p.add_argument("--data", required=True)
    p.add_argument("--resolution", type=int, default=256)
    p.add_argument("--train-folds", default="1,2,3")
    p.add_argument("--test-folds", default="4")
    p.add_argument(
        "--segmentation-check", type=int, default=0, metavar="RES", help="also train the two segmenters at RES² (0 = skip)"
    )
    p.add_argument("--segmenter-iters", type=int, default=1500)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--out", required=True)
    a = p.parse_args(argv)
    if a.threads:
        torch.set_num_threads(a.threads)
    try:
        model, ck = load_autoencoder(Path(a.ckpt))
        folds = lambda s: {int(f) for f in s.split(",")}  # noqa: E731
        train = open_dataset(a.data, a.resolution, folds(a.train_folds))
        test = open_dataset(a.data, a.resolution, folds(a.test_folds))
    except (DataError, CheckpointError, FileNotFoundError) as e:
        print(f"pigkit.evaluate_autoencoder: {e}", file=sys.stderr)
        return 2
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    figures, recon = reconstruction_figures(model, test.images)
    result = {
        "checkpoint": {"path": str(a.ckpt), "iter": ck.get("iter"), "images_seen": ck.get("images_seen"), "config": ck["config"]},
        "test_folds": a.test_folds,
        **figures,
        "latent_scale": latent_scale(model, train.images),
    }
    if a.segmentation_check:
        result["segmentation_check"] = segmentation_check(
            model, train.images, train.masks, test.images, test.masks, a.segmentation_check, a.segmenter_iters, a.seed
        )
    sheet_png(test.images, recon, out / "reconstructions.png")
    (out / "autoencoder-eval.json").write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
