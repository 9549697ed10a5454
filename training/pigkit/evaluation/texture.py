"""Texture as a number: the radially averaged power spectrum of a batch of images.

Speckle is what tells an ultrasound image from a smooth one, and it lives at high spatial
frequencies; a mean over the annulus of each frequency band says how much energy a set of images
keeps there. Generated or reconstructed images are compared with real ones band by band, as a
ratio (1 = the same energy; < 1 = smoothed; > 1 = invented noise).
"""

from __future__ import annotations

import numpy as np
import torch


def radial_power_spectrum(images: torch.Tensor, bands: int = 16) -> np.ndarray:
    """Mean power of B×1×N×N images in `bands` equal-width rings of radial frequency from 0 to the
    Nyquist frequency (0.5 cycles/pixel; the corners beyond it are left out). Each image has its mean
    removed and a Hann window applied first, so the slice's edges do not leak energy into every band."""
    if images.dim() != 4 or images.shape[1] != 1 or images.shape[2] != images.shape[3]:
        raise ValueError(f"expected B×1×N×N images, got {tuple(images.shape)}")
    n = images.shape[-1]
    x = images.double()
    x = x - x.mean(dim=(2, 3), keepdim=True)
    hann = torch.hann_window(n, periodic=False, dtype=torch.float64)
    x = x * (hann[:, None] * hann[None, :])
    power = torch.fft.fftshift(torch.fft.fft2(x, norm="ortho"), dim=(-2, -1)).abs().square().mean(dim=(0, 1))
    f = torch.fft.fftshift(torch.fft.fftfreq(n, dtype=torch.float64))
    radius = torch.sqrt(f[:, None] ** 2 + f[None, :] ** 2)
    edges = torch.linspace(0, 0.5, bands + 1, dtype=torch.float64)
    out = np.empty(bands)
    for i in range(bands):
        ring = (radius >= edges[i]) & (radius < edges[i + 1]) if i < bands - 1 else (radius >= edges[i]) & (radius <= 0.5)
        out[i] = float(power[ring].mean())
    return out


def spectrum_ratio(generated: torch.Tensor, real: torch.Tensor, bands: int = 16) -> np.ndarray:
    """Band-by-band power of `generated` ÷ that of `real` (see radial_power_spectrum)."""
    return radial_power_spectrum(generated, bands) / radial_power_spectrum(real, bands)


def band_centres(bands: int = 16) -> np.ndarray:
    """Each band's centre frequency, in cycles per pixel."""
    edges = np.linspace(0, 0.5, bands + 1)
    return (edges[:-1] + edges[1:]) / 2
