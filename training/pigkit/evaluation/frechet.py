"""The Fréchet distance between two sets of feature vectors (the formula behind FID), in NumPy.

FD = ‖μ₁ − μ₂‖² + tr(Σ₁) + tr(Σ₂) − 2 tr((Σ₁^½ Σ₂ Σ₁^½)^½). The last trace is computed from the
eigenvalues of the symmetric matrix Σ₁^½ Σ₂ Σ₁^½ (the same trace as (Σ₁Σ₂)^½, without the
non-symmetric matrix square root SciPy would need), so it stays real and exact up to rounding.
"""

from __future__ import annotations

import numpy as np


def _sqrt_psd(m: np.ndarray) -> np.ndarray:
    w, v = np.linalg.eigh((m + m.T) / 2)
    return (v * np.sqrt(np.clip(w, 0, None))) @ v.T


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted to the rows of `a` [N, D] and `b` [M, D]."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise ValueError(f"feature sets must be [N, D] with the same D, got {a.shape} and {b.shape}")
    if min(len(a), len(b)) < 2:
        raise ValueError("each feature set needs at least two rows for a covariance")
    mu1, mu2 = a.mean(0), b.mean(0)
    s1, s2 = np.cov(a, rowvar=False).reshape(a.shape[1], -1), np.cov(b, rowvar=False).reshape(b.shape[1], -1)
    r = _sqrt_psd(s1)
    cross = np.linalg.eigvalsh((r @ s2 @ r + (r @ s2 @ r).T) / 2)
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.sqrt(np.clip(cross, 0, None)).sum())
