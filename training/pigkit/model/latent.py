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

from pigkit.model.autoencoder import Autoencoder
from pigkit.model.binarize import binarize
from pigkit.model.schedule import kept


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
    return _unit_variance_scale(encode(ae, images, 1.0))


def _unit_variance_scale(means: torch.Tensor) -> float:
    return float(1.0 / means.double().std())


def latent_pairs(
    ae: Autoencoder, images: torch.Tensor, masks: torch.Tensor, attrs: torch.Tensor, flip: bool
) -> tuple[TensorPairs, float]:
    """The training set of the latent U-Nets, from slices, masks and attributes: (mask 1×g×g in
    {-1, +1}, latent C×g×g, attributes), optionally with every slice's mirror image appended
    (items N … 2N − 1); and the scale s = 1/σ of the slices' latent means (latent_scale),
    from the same encoding pass."""
    f = ae.config.factor
    means = encode(ae, images, 1.0)
    scale = _unit_variance_scale(means)
    grid_masks, latents = masks_to_grid(masks, f), means * scale
    if flip:
        grid_masks = torch.cat([grid_masks, masks_to_grid(masks.flip(-1), f)])
        latents = torch.cat([latents, encode(ae, images.flip(-1), scale)])
        attrs = torch.cat([attrs, attrs])
    return TensorPairs(grid_masks, latents, attrs), scale


def upsample_bilinear(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """B×C×h×w → B×C×H×W by bilinear interpolation with half-pixel centres, in float64 (contracts
    §6a; PyTorch's align_corners=False): source row r = clamp((i + ½)·h/H − ½, 0, h − 1), r₀ = ⌊r⌋,
    r₁ = min(r₀ + 1, h − 1), λ = r − r₀, likewise for columns, and
    out = (1 − λᵣ)·((1 − λ_c)·x[r₀, c₀] + λ_c·x[r₀, c₁]) + λᵣ·((1 − λ_c)·x[r₁, c₀] + λ_c·x[r₁, c₁]),
    in that order (the studio computes the same expression)."""
    x = x.double()

    def taps(n_in: int, n_out: int):
        src = ((torch.arange(n_out, dtype=torch.float64) + 0.5) * (n_in / n_out) - 0.5).clamp(0, n_in - 1)
        i0 = src.floor().long()
        return i0, (i0 + 1).clamp(max=n_in - 1), src - i0

    r0, r1, lr = taps(x.shape[-2], size[0])
    c0, c1, lc = taps(x.shape[-1], size[1])
    lr, lc = lr.view(-1, 1), lc.view(1, -1)

    def row(r):
        return (1 - lc) * x[..., r, :][..., c0] + lc * x[..., r, :][..., c1]

    return (1 - lr) * row(r0) + lr * row(r1)


def final_image(decode, z0: torch.Tensor) -> torch.Tensor:
    """The image of a latent run: clamp(decode(ẑ₀), −1, 1), `decode` the decoder graph (z → D(z / s))."""
    return decode(z0).clamp(-1, 1)


def final_mask(x0: torch.Tensor, size: tuple[int, int], store=kept) -> torch.Tensor:
    """The mask of a latent run at the slice's size: B(up(x̂₀)), up = upsample_bilinear, its values
    kept as `store` keeps the loop's (contracts §6a)."""
    return binarize(store(upsample_bilinear(x0, size)).to(x0.dtype), store=store)


@torch.no_grad()
def decode_pair(
    decode, z0: torch.Tensor, x0: torch.Tensor, size: tuple[int, int], store=kept
) -> tuple[torch.Tensor, torch.Tensor]:
    """The final pair of a latent run (contracts §6a)."""
    return final_image(decode, z0), final_mask(x0, size, store)


def latent_preview(z0: torch.Tensor, preview: dict) -> torch.Tensor:
    """A step's cheap gray preview of ẑ₀ at the grid: Σ_c w_c·ẑ₀[c] + b, clamped to [−1, 1] (§6a)."""
    w = torch.tensor(preview["weights"], dtype=z0.dtype).view(1, -1, 1, 1)
    return ((z0 * w).sum(1, keepdim=True) + preview["bias"]).clamp(-1, 1)


class DecoderGraph(torch.nn.Module):
    """z = s·μ → D(z / s): the exported decoder, the scale inside (contracts §6a)."""

    def __init__(self, ae: Autoencoder, scale: float):
        super().__init__()
        self.decoder = ae.decoder
        self.register_buffer("inv_scale", torch.tensor(1.0 / scale, dtype=torch.float32))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z * self.inv_scale)


class EncoderGraph(torch.nn.Module):
    """y → z = s·μ_E(y): the exported encoder, the scale inside (contracts §6a)."""

    def __init__(self, ae: Autoencoder, scale: float):
        super().__init__()
        self.encoder = ae.encoder
        self.register_buffer("scale", torch.tensor(scale, dtype=torch.float32))

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        return self.encoder(y)[0] * self.scale


def fit_preview(latents: torch.Tensor, images: torch.Tensor, factor: int) -> tuple[list[float], float]:
    """The cheap per-step preview of contracts §6a: least-squares weights w and bias b with
    Σ_c w_c·z_c + b ≈ the image area-averaged to the latent grid, over the given slices."""
    target = F.avg_pool2d(images.double(), factor).flatten()
    design = torch.cat(
        [
            latents.double().permute(1, 0, 2, 3).reshape(latents.shape[1], -1).T,
            torch.ones(target.numel(), 1, dtype=torch.float64),
        ],
        1,
    )
    solution = torch.linalg.lstsq(design, target.view(-1, 1)).solution.flatten()
    return [float(v) for v in solution[:-1]], float(solution[-1])
