"""The image autoencoder of latent PIG (docs/method.md, "The loop in a learned latent space").

`E` maps a gray slice y (1×H×W in [-1, 1]) to the mean and log-variance of a Gaussian over a latent
of C channels on an (H/f)×(W/f) grid; `D` maps a latent back. Diffusion runs on z = s·μ_E(y), with
`s` = 1/σ of the training latents (Stable Diffusion's scale factor), so the latents have unit
variance as DDPM's prior assumes; the image is D(ẑ₀ / s).

The network is fully convolutional and has no normalisation layer: its output at a pixel depends
only on a fixed neighbourhood, so it trains on random crops (cheap on a CPU) and runs on whole
slices with the same weights and the same statistics (a GroupNorm would see crop statistics in
training and slice statistics at inference).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass(frozen=True)
class AutoencoderConfig:
    channels: tuple[int, ...] = (16, 32, 64)  # widths at full, 1/2, 1/4 … resolution: f = 2^(len - 1)
    latent_channels: int = 4
    blocks: int = 1  # residual blocks at each resolution, in the encoder and in the decoder

    @property
    def factor(self) -> int:
        return 2 ** (len(self.channels) - 1)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> AutoencoderConfig:
        return cls(
            channels=tuple(int(c) for c in d["channels"]), latent_channels=int(d["latent_channels"]), blocks=int(d["blocks"])
        )


class ResidualBlock(nn.Module):
    """conv-SiLU-conv with a skip; the second conv starts at zero, so each block starts as the identity."""

    def __init__(self, ch: int):
        super().__init__()
        self.conv1 = nn.Conv2d(ch, ch, 3, padding=1)
        self.conv2 = nn.Conv2d(ch, ch, 3, padding=1)
        nn.init.zeros_(self.conv2.weight)
        nn.init.zeros_(self.conv2.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv2(F.silu(self.conv1(F.silu(x))))


def _stage(ch: int, blocks: int) -> list[nn.Module]:
    return [ResidualBlock(ch) for _ in range(blocks)]


class Encoder(nn.Module):
    """y (B×1×H×W) → (μ, log σ²), each B×C×(H/f)×(W/f)."""

    def __init__(self, cfg: AutoencoderConfig):
        super().__init__()
        ch = cfg.channels
        layers: list[nn.Module] = [nn.Conv2d(1, ch[0], 3, padding=1), *_stage(ch[0], cfg.blocks)]
        for cin, cout in zip(ch[:-1], ch[1:]):
            layers += [nn.Conv2d(cin, cout, 3, stride=2, padding=1), *_stage(cout, cfg.blocks)]
        layers += [nn.SiLU(), nn.Conv2d(ch[-1], 2 * cfg.latent_channels, 3, padding=1)]
        self.net = nn.Sequential(*layers)

    def forward(self, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mean, logvar = self.net(y).chunk(2, dim=1)
        return mean, logvar.clamp(-30.0, 20.0)


class Decoder(nn.Module):
    """z (B×C×h×w, unscaled) → y (B×1×fh×fw), not clamped (the sampler clips to [-1, 1])."""

    def __init__(self, cfg: AutoencoderConfig):
        super().__init__()
        ch = cfg.channels[::-1]
        layers: list[nn.Module] = [nn.Conv2d(cfg.latent_channels, ch[0], 3, padding=1), *_stage(ch[0], cfg.blocks)]
        for cin, cout in zip(ch[:-1], ch[1:]):
            layers += [
                nn.Upsample(scale_factor=2.0, mode="nearest"),
                nn.Conv2d(cin, cout, 3, padding=1),
                *_stage(cout, cfg.blocks),
            ]
        layers += [nn.SiLU(), nn.Conv2d(ch[-1], 1, 3, padding=1)]
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)


class Autoencoder(nn.Module):
    def __init__(self, cfg: AutoencoderConfig):
        super().__init__()
        self.config = cfg
        self.encoder = Encoder(cfg)
        self.decoder = Decoder(cfg)

    def forward(self, y: torch.Tensor, sample: bool = True) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Reconstruction, μ and log σ² of y; `sample` draws z ~ N(μ, σ²) (training), else z = μ."""
        mean, logvar = self.encoder(y)
        z = mean + torch.exp(0.5 * logvar) * torch.randn_like(mean) if sample else mean
        return self.decoder(z), mean, logvar


def kl_divergence(mean: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(μ, σ²) ‖ N(0, 1)), averaged over the latent's elements."""
    return 0.5 * (mean.square() + logvar.exp() - 1.0 - logvar).mean()


def _gaussian_window(size: int = 11, sigma: float = 1.5, device=None) -> torch.Tensor:
    x = torch.arange(size, dtype=torch.float32, device=device) - (size - 1) / 2
    g = torch.exp(-(x**2) / (2 * sigma**2))
    return g / g.sum()


def ssim(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Mean SSIM (Wang et al. 2004: 11-tap Gaussian window, σ = 1.5, K = 0.01/0.03) of two
    B×1×H×W batches in [-1, 1], computed on [0, 1]; valid windows only (no padding)."""
    a, b = (a + 1) / 2, (b + 1) / 2
    g = _gaussian_window(device=a.device)
    gx, gy = g.view(1, 1, 1, -1), g.view(1, 1, -1, 1)

    def blur(t):
        return F.conv2d(F.conv2d(t, gx), gy)

    mu_a, mu_b = blur(a), blur(b)
    var_a = blur(a * a) - mu_a**2
    var_b = blur(b * b) - mu_b**2
    cov = blur(a * b) - mu_a * mu_b
    c1, c2 = 0.01**2, 0.03**2
    s = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a**2 + mu_b**2 + c1) * (var_a + var_b + c2))
    return s.mean()


def log_spectrum_distance(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Mean |log|F(a)| − log|F(b)|| over the 2-D spectrum: penalises lost (or invented) energy at each
    frequency, which L1 alone trades for smoothness (the speckle); phase is left to L1 and SSIM."""
    fa = torch.fft.rfft2(a.float(), norm="ortho").abs()
    fb = torch.fft.rfft2(b.float(), norm="ortho").abs()
    return (torch.log(fa + 1e-3) - torch.log(fb + 1e-3)).abs().mean()


def psnr(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Per-image PSNR in dB of B×1×H×W batches in [-1, 1], on the [0, 1] scale (peak 1)."""
    mse = (((a.clamp(-1, 1) - b) / 2) ** 2).flatten(1).mean(1)
    return 10 * torch.log10(1.0 / mse.clamp_min(1e-12))
