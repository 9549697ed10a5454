"""Latent PIG's data and decoding (docs/method.md, "The loop in a learned latent space").

The joint loop runs on a grid f times coarser than the slice: the image chain on the latent
z = s·μ_E(y) (C channels), the mask chain in pixels on the same grid. Training pairs are
therefore (mask at the grid, latent of the slice, attributes), encoded once before training with
a frozen autoencoder; a left-right flip is added as data (the latent of the flipped slice,
encoded too: the encoder is not flip-equivariant, so flipping a latent is not the latent of the
flipped slice). The final pair is D(ẑ₀ / s) and the mask x̂₀ brought to the slice's size by
bilinear interpolation, then B(·): a smooth boundary, not f×f blocks.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .autoencoder import Autoencoder
from .binarize import binarize


class TensorPairs(torch.utils.data.Dataset):
    """Items (mask, image or latent, attributes [k] int64) from three tensors of N rows: the
    training set of attributed or latent U-Nets (latent_pairs)."""

    def __init__(self, masks: torch.Tensor, latents: torch.Tensor, attrs: torch.Tensor):
        if not len(masks) == len(latents) == len(attrs):
            raise ValueError(f"{len(masks)} masks, {len(latents)} latents and {len(attrs)} attribute rows")
        self.masks, self.latents, self.attrs = masks, latents, attrs

    def __len__(self) -> int:
        return len(self.masks)

    def __getitem__(self, i: int):
        return self.masks[i], self.latents[i], self.attrs[i]


def masks_to_grid(masks: torch.Tensor, factor: int) -> torch.Tensor:
    """N×1×H×W masks in {-1, +1} → N×1×(H/f)×(W/f): the lesion's area fraction per cell, ≥ ½ → lesion
    (data.py's area resize and threshold, from the slice's mask)."""
    frac = F.avg_pool2d((masks > 0).float(), factor)
    return torch.where(frac >= 0.5, 1.0, -1.0)


@torch.no_grad()
def encode(ae: Autoencoder, images: torch.Tensor, scale: float, batch: int = 32) -> torch.Tensor:
    """z = s·μ_E(y) for N×1×H×W slices in [-1, 1]."""
    return torch.cat([ae.encoder(images[i : i + batch])[0] for i in range(0, len(images), batch)]) * scale


@torch.no_grad()
def latent_scale(ae: Autoencoder, images: torch.Tensor) -> float:
    """s = 1/σ of μ_E over `images` (Stable Diffusion's scale factor): unit-variance latents."""
    return float(1.0 / encode(ae, images, 1.0).double().std())  # as latent_pairs computes it


def latent_pairs(
    ae: Autoencoder, images: torch.Tensor, masks: torch.Tensor, attrs: torch.Tensor, flip: bool
) -> tuple[TensorPairs, float]:
    """The training set of the latent U-Nets, from slices, masks and attributes: (mask 1×g×g in
    {-1, +1}, latent C×g×g, attributes), optionally with every slice's mirror image appended
    (items N … 2N − 1); and the scale s = 1/σ of the slices' latent means (latent_scale),
    from the same encoding pass."""
    f = ae.config.factor
    means = encode(ae, images, 1.0)
    scale = float(1.0 / means.double().std())
    grid_masks, latents = masks_to_grid(masks, f), means * scale
    if flip:
        grid_masks = torch.cat([grid_masks, masks_to_grid(masks.flip(-1), f)])
        latents = torch.cat([latents, encode(ae, images.flip(-1), scale)])
        attrs = torch.cat([attrs, attrs])
    return TensorPairs(grid_masks, latents, attrs), scale


@torch.no_grad()
def decode_pair(
    ae: Autoencoder, scale: float, z0: torch.Tensor, x0: torch.Tensor | None
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The slice D(ẑ₀ / s) clipped to [-1, 1], and the mask B(bilinear(x̂₀)) at the slice's size."""
    image = ae.decoder(z0 / scale).clamp(-1, 1)
    if x0 is None:
        return image, None
    size = image.shape[-2:]
    return image, binarize(F.interpolate(x0, size=size, mode="bilinear", align_corners=False))
