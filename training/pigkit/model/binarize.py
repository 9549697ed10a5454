"""B(·), the mask binarisation between the two chains, and the reference display stretch."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from pigkit.model.schedule import kept


def _pool5(x: torch.Tensor) -> torch.Tensor:
    # 5×5 mean, stride 1, padding 2, padded cells not counted (count_include_pad=False).
    return F.avg_pool2d(x, kernel_size=5, stride=1, padding=2, count_include_pad=False)


def binarize(x0: torch.Tensor, weights: tuple[float, float] = (0.75, 0.25), store=kept) -> torch.Tensor:
    """B(x̂₀) for a batch [B, 1, H, W]: clamp, pool, per-sample θ = 0.75·max + 0.25·min, ±1.
    `store` (schedule.stored_as_float32) rounds the pooled map, both products and θ where the studio
    core (binarize.ts) keeps them in float32."""
    pooled = store(_pool5(x0.clamp(-1, 1)))
    flat = pooled.flatten(1)
    theta = store(store(weights[0] * flat.max(dim=1).values) + store(weights[1] * flat.min(dim=1).values))
    # ±1 as tensors of the input's dtype: Python-float constants export as float64, and
    # onnxruntime-web has no float64 Where (the step graph would not load in the browser)
    one = pooled.new_ones(())
    return torch.where(pooled > theta.view(-1, 1, 1, 1), one, -one)


def contrast_stretch(y0: torch.Tensor) -> torch.Tensor:
    """The reference code's display transform, to uint8 (a display option, not data): the pooled
    map's [min, max] sets a linear map taking min to −1 and max to max, applied to the clamped
    (unpooled) image, then [−1, 1] → [0, 255]. Mirrors contrastStretch in src/core/binarize.ts."""
    clamped = y0.clamp(-1, 1)
    flat = _pool5(clamped).flatten(1)
    lo = flat.min(dim=1).values.view(-1, 1, 1, 1)
    hi = flat.max(dim=1).values.view(-1, 1, 1, 1)
    stretched = -1 + (clamped - lo) * (hi + 1) / (hi - lo).clamp_min(1e-12)
    return to_uint8(stretched)


def to_uint8(y: torch.Tensor) -> torch.Tensor:
    """Model units [-1, 1] → 8-bit pixels, clamped, rounded half away from zero (as png.ts)."""
    return ((y.clamp(-1, 1) + 1) * 127.5 + 0.5).floor().to(torch.uint8)
