"""A generated set's figures against real held-out pairs: the images' saturation, intensity and
texture, the masks' statistics, the pairs pooled for the segmenter, the typical cases."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from pigkit.evaluation.maskstats import ks_statistic, mask_stats, wasserstein_1d
from pigkit.evaluation.segment import predict_masks
from pigkit.evaluation.texture import band_centres, spectrum_ratio

SATURATED = 0.99  # |ŷ₀| above this is a saturated pixel (8-bit: 0, 1, 254 or 255)


def pooled(images: torch.Tensor, masks: torch.Tensor, size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Images (model units) average-pooled to size², masks (±1) by area: lesion where at least half is (pigkit.data's rule)."""
    k = images.shape[-1] // size
    if k == 1:
        return images, masks
    m = F.avg_pool2d(masks, k)
    return F.avg_pool2d(images, k), torch.where(m >= 0, 1.0, -1.0)


def segmented(seg, images: torch.Tensor, masks: torch.Tensor, size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The segmenter's masks and the pairs' own, both at size², as booleans (for dice_iou)."""
    images, masks = pooled(images, masks, size)
    return predict_masks(seg, images), masks > 0


def image_stats(gen_images: torch.Tensor, real_images: torch.Tensor) -> dict:
    """How the generated images' pixels compare with real ones, in model units: the fraction of
    saturated pixels (|v| > 0.99) of each, and the Wasserstein-1 distance between the two pixel
    intensity distributions after clamping to [−1, 1], as the images are saved (0.1 = 12.75 grey levels)."""
    gen, real = gen_images.flatten().double(), real_images.flatten().double()
    return {
        "saturated_generated": float((gen.abs() > SATURATED).double().mean()),
        "saturated_real": float((real.abs() > SATURATED).double().mean()),
        "intensity_wasserstein1": wasserstein_1d(gen.clamp(-1, 1).numpy(), real.numpy()),
        "intensity_mean_generated": float(gen.clamp(-1, 1).mean()),
        "intensity_mean_real": float(real.mean()),
        **texture_stats(gen_images, real_images),
    }


def texture_stats(gen_images: torch.Tensor, real_images: torch.Tensor, bands: int = 16) -> dict:
    """The radially averaged power spectrum, generated ÷ real, per band (pigkit.texture); the top
    half of the frequencies (0.25–0.5 cycles/pixel) is where speckle lives and a smooth image falls short."""
    ratio = spectrum_ratio(gen_images.clamp(-1, 1), real_images, bands)
    top = ratio[bands // 2 :]
    return {
        "spectrum_ratio": [round(float(v), 4) for v in ratio],
        "spectrum_band_centres": [round(float(v), 5) for v in band_centres(bands)],
        "spectrum_ratio_top_half": [float(top.min()), float(top.max())],
    }


def typical_cases(features: dict[str, np.ndarray], k: int = 5) -> list[int]:
    """The K cases closest to the median case: the distance sums each feature's |x − median| over
    its interquartile range (its own units where that range is 0, as a lesion count mostly 1). A
    typical pair for a screenshot, not the best one."""
    total = 0.0
    for x in features.values():
        x = np.asarray(x, float)
        q25, q50, q75 = np.percentile(x, [25, 50, 75])
        total = total + np.abs(x - q50) / (q75 - q25 if q75 > q25 else 1.0)
    return [int(i) for i in np.argsort(total, kind="stable")[:k]]


def stats_table(gen: list[dict], real: list[dict]) -> dict:
    table = {}
    for key in ("area_fraction", "components", "solidity"):
        g = np.array([s[key] for s in gen if s["components"] > 0], float)
        r = np.array([s[key] for s in real], float)
        table[key] = {
            "generated_mean": float(g.mean()) if len(g) else None,
            "generated_std": float(g.std()) if len(g) else None,
            "real_mean": float(r.mean()),
            "real_std": float(r.std()),
            "wasserstein1": wasserstein_1d(g, r) if len(g) else None,
            "ks": ks_statistic(g, r) if len(g) else None,
        }
    return table


def mask_stat_list(masks: torch.Tensor) -> list[dict]:
    """pigkit.maskstats' statistics of each ±1 mask of an N×1×H×W set."""
    return [mask_stats((m[0] > 0).numpy()) for m in masks]
