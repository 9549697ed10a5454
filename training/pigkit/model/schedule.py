"""The diffusion schedule and the DDIM update (METHOD.md, "Notation" and "Sampling").

Conventions mirrored exactly by src/core/schedule.ts and src/core/ddim.ts:
- betas: float64 linspace, then rounded to float32;
- alpha_bar: float64 cumulative product of (1 - float32 beta); alpha_bar[-1] = 1, which the
  reference code gets by prepending a zero beta and indexing at t + 1;
- per-step coefficients are computed in float64 and applied to float32 tensors.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np
import torch

from pigkit.model.limits import MAX_T

T_DEFAULT = 1024


@dataclass(frozen=True)
class Schedule:
    T: int = T_DEFAULT
    beta_start: float = 1e-4
    beta_end: float = 0.02

    def __post_init__(self) -> None:
        # the bounds the manifest validator applies (limits.py; src/core/manifest.ts)
        if not (isinstance(self.T, int) and not isinstance(self.T, bool) and 1 <= self.T <= MAX_T):
            raise ValueError(f"schedule T must be a whole number from 1 to {MAX_T}, got {self.T!r}")
        for name in ("beta_start", "beta_end"):
            beta = getattr(self, name)
            if not (isinstance(beta, numbers.Real) and 0 < beta < 1):
                raise ValueError(f"schedule {name} must be a number between 0 and 1 (both excluded), got {beta!r}")
        if self.beta_end < self.beta_start:
            raise ValueError(f"schedule beta_end ({self.beta_end}) must be ≥ beta_start ({self.beta_start})")

    def betas(self) -> np.ndarray:
        return np.linspace(self.beta_start, self.beta_end, self.T, dtype=np.float64).astype(np.float32)

    def alpha_bar_table(self) -> np.ndarray:
        """float64 table of length T + 1: entry 0 is ᾱ_{-1} = 1, entry t + 1 is ᾱ_t."""
        one_minus = 1.0 - self.betas().astype(np.float64)
        return np.concatenate([[1.0], np.cumprod(one_minus)])

    def alpha_bar(self, t: int) -> float:
        """ᾱ_t for t in {-1, 0, ..., T-1}."""
        if not -1 <= t < self.T:
            raise ValueError(f"timestep {t} is outside [-1, {self.T - 1}]")
        return float(self._table[t + 1])

    @property
    def _table(self) -> np.ndarray:
        cached = self.__dict__.get("_cached_table")
        if cached is None:
            cached = self.alpha_bar_table()
            object.__setattr__(self, "_cached_table", cached)
        return cached

    def alpha_bar_torch(self, t: torch.Tensor) -> torch.Tensor:
        """ᾱ_t gathered for a batch of integer timesteps, as float32 shaped [B, 1, 1, 1]."""
        table = torch.from_numpy(self._table).to(t.device)
        return table[t.long() + 1].float().view(-1, 1, 1, 1)

    def ddim_pairs(self, steps: int) -> list[tuple[int, int]]:
        """(t, t') pairs walked by DDIM with uniform skips: t_list = [0, T/S, 2T/S, ...] from the top."""
        if not 1 <= steps <= self.T:
            raise ValueError(f"steps must be in [1, {self.T}], got {steps}")
        stride = self.T // steps
        t_list = [i * stride for i in range(steps)]
        return [(t_list[i], t_list[i - 1] if i > 0 else -1) for i in range(steps - 1, -1, -1)]

    def ddim_coefficients(self, t: int, t_prev: int, eta: float) -> dict[str, float]:
        """All scalars one DDIM step needs, in float64 (METHOD.md step 1)."""
        a_t, a_prev = self.alpha_bar(t), self.alpha_bar(t_prev)
        c1 = eta * math.sqrt((1 - a_t / a_prev) * (1 - a_prev) / (1 - a_t))
        c2 = math.sqrt(max(1 - a_prev - c1 * c1, 0.0))
        return {
            "sqrt_a_t": math.sqrt(a_t),
            "sqrt_one_minus_a_t": math.sqrt(1 - a_t),
            "sqrt_a_prev": math.sqrt(a_prev),
            "c1": c1,
            "c2": c2,
        }


def predict_x0(x_t: torch.Tensor, eps: torch.Tensor, sqrt_a: torch.Tensor | float, sqrt_one_minus_a) -> torch.Tensor:
    """x̂₀ = (x_t − √(1−ᾱ_t) ε) / √ᾱ_t (not clipped)."""
    return (x_t - sqrt_one_minus_a * eps) / sqrt_a


# The order of the coefficient vector `k` the exported step graphs take (docs/contracts.md §1b).
COEFFICIENT_ORDER = ("sqrt_a_t", "sqrt_one_minus_a_t", "sqrt_a_prev", "c1", "c2")


CLIP_MODES = ("none", "image", "both")


def clip_chains(mode: str) -> tuple[bool, bool]:
    """(clip the mask chain's x̂₀, clip the image chain's ŷ₀) for a sampler `clip` mode."""
    if mode not in CLIP_MODES:
        raise ValueError(f"clip must be one of {', '.join(CLIP_MODES)}, got {mode!r}")
    return mode == "both", mode != "none"


def clip_estimate(
    eps: torch.Tensor, x0: torch.Tensor, coeffs: dict, clip: bool | torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """The sampler's `clip` option (not METHOD.md's loop, which never clips; docs/contracts.md):
    x̂₀ clamped to [−1, 1], and ε moved to the value the clamped x̂₀ implies,
    ε + √ᾱ_t (x̂₀ − clamp(x̂₀)) / √(1−ᾱ_t) = (x_t − √ᾱ_t clamp(x̂₀)) / √(1−ᾱ_t) (diffusers' clip_sample).
    Pixels inside [−1, 1] keep x̂₀ and ε bit for bit (their difference is exactly 0). `clip` is a
    bool, or a [1] float tensor (1 = clip) inside an exported step graph, blended arithmetically:
    a boolean mask beside the convolutions' output makes onnxruntime-web's WebGPU layout pass insert
    a bool Transpose it can only run on the CPU."""
    if not isinstance(clip, torch.Tensor) and not clip:
        return x0, eps
    clamped = x0.clamp(-1.0, 1.0)
    x0_clipped = clip * clamped + (1 - clip) * x0 if isinstance(clip, torch.Tensor) else clamped
    return x0_clipped, eps + (x0 - x0_clipped) * (coeffs["sqrt_a_t"] / coeffs["sqrt_one_minus_a_t"])


def kept(v: torch.Tensor) -> torch.Tensor:
    """The `store` of ddim_step and binarize that keeps each result as computed (PyTorch's float32
    arithmetic: the reference sampler, training, the traced step graphs)."""
    return v


def stored_as_float32(v: torch.Tensor) -> torch.Tensor:
    """The `store` that reproduces the studio core (src/core/ddim.ts, binarize.ts) bit for bit: the
    arithmetic runs on float64 tensors, as the core computes each element in float64, and every
    array it keeps is rounded to float32, as the core stores it in a Float32Array (pigkit.pipeline)."""
    return v.float().double()


def ddim_step(
    x_t: torch.Tensor, eps: torch.Tensor, coeffs: dict, z: torch.Tensor | None, clip: bool | torch.Tensor = False, store=kept
) -> tuple[torch.Tensor, torch.Tensor]:
    """One DDIM update; returns (x_{t'}, x̂₀). Coefficients are floats, or tensors inside an
    exported step graph (which always passes z). z may be None only when c1 == 0 (η = 0).
    `clip`: see clip_estimate (False: the update of METHOD.md exactly). The terms of x_{t'} are
    added in the contract's order, √ᾱ_{t'} x̂₀ + c₁ z + c₂ ε, as the studio core adds them; `store`
    is applied to x̂₀, ε and x_{t'} where the core stores them (stored_as_float32)."""
    x0 = store(predict_x0(x_t, eps, coeffs["sqrt_a_t"], coeffs["sqrt_one_minus_a_t"]))
    x0, eps = clip_estimate(eps, x0, coeffs, clip)
    x_prev = coeffs["sqrt_a_prev"] * x0
    if z is not None:
        x_prev = x_prev + coeffs["c1"] * z
    elif coeffs["c1"] != 0.0:
        raise ValueError("eta > 0 needs noise z")
    return store(x_prev + coeffs["c2"] * store(eps)), x0


def forward_noise(x0: torch.Tensor, eps: torch.Tensor, coeffs: dict, store=kept) -> torch.Tensor:
    """x_t = √ᾱ_t x₀ + √(1−ᾱ_t) ε with one step's coefficients (the image → mask mode's input)."""
    return store(coeffs["sqrt_a_t"] * x0 + coeffs["sqrt_one_minus_a_t"] * eps)


def q_sample(x0: torch.Tensor, t: torch.Tensor, noise: torch.Tensor, schedule: Schedule) -> torch.Tensor:
    """Forward process x_t = √ᾱ_t x₀ + √(1−ᾱ_t) ε for a batch of timesteps."""
    a = schedule.alpha_bar_torch(t)
    return a.sqrt() * x0 + (1 - a).sqrt() * noise
