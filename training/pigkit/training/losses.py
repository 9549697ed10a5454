"""The training objectives of METHOD.md, as pure functions of a batch (easy to test by hand)."""

from __future__ import annotations

import torch

from pigkit.model.binarize import binarize
from pigkit.model.schedule import Schedule, predict_x0, q_sample


def antithetic_timesteps(batch: int, T: int, generator: torch.Generator | None = None, device=None) -> torch.Tensor:
    """Half uniform in [0, T), the other half mirrored as T − 1 − t (PIG's variance reduction)."""
    half = torch.randint(0, T, ((batch + 1) // 2,), generator=generator)
    return torch.cat([half, T - 1 - half])[:batch].to(device)


def min_snr_weight(t: torch.Tensor, schedule: Schedule, gamma: float) -> torch.Tensor:
    """Min-SNR-γ loss weight for an ε-predicting model (Hang et al., ICCV 2023), [B, 1, 1, 1]:
    min(SNR_t, γ) / SNR_t with SNR_t = ᾱ_t / (1 − ᾱ_t). 1 at noisy steps (SNR ≤ γ), less at the
    nearly clean ones, whose easy ε targets otherwise pull the shared weights away from the hard ones.
    The model still predicts ε, so nothing downstream (export, sampler, studio) changes."""
    a = schedule.alpha_bar_torch(t)
    snr = a / (1 - a)
    return snr.clamp(max=gamma) / snr


def _mse(a, b, weight: torch.Tensor | None = None) -> torch.Tensor:
    """mean((a − b)²), each element times `weight` (broadcast) when one is given."""
    return ((a - b) ** 2).mean() if weight is None else (((a - b) ** 2) * weight).mean()


def mask_loss(model_x, x0, y0, t, eps1, eps2, schedule: Schedule, weight: torch.Tensor | None = None) -> torch.Tensor:
    """‖ε₁ − model_x([x_t, y_t], t)‖²: model_x sees both noisy chains. `weight`: per-sample
    factors [B, 1, 1, 1] (min_snr_weight), None for METHOD.md's plain mean."""
    x_t, y_t = q_sample(x0, t, eps1, schedule), q_sample(y0, t, eps2, schedule)
    return _mse(eps1, model_x(torch.cat([x_t, y_t], 1), t.float()), weight)


@torch.no_grad()
def mask_condition(model_x, x_t, y_t, t, schedule: Schedule, binarize_condition: bool) -> torch.Tensor:
    """The frozen model_x's one-step estimate x̂₀, optionally through B(·): model_y's condition."""
    a = schedule.alpha_bar_torch(t)
    x0_hat = predict_x0(x_t, model_x(torch.cat([x_t, y_t], 1), t.float()), a.sqrt(), (1 - a).sqrt())
    return binarize(x0_hat) if binarize_condition else x0_hat


def unconditional_loss(model_u, y0, t, eps2, schedule: Schedule, weight: torch.Tensor | None = None) -> torch.Tensor:
    """‖ε₂ − model_u(y_t, t)‖²: a plain DDPM on the images alone (the evaluation's baseline)."""
    return _mse(eps2, model_u(q_sample(y0, t, eps2, schedule), t.float()), weight)


def image_loss(
    model_y,
    model_x,
    x0,
    y0,
    t,
    eps1,
    eps2,
    schedule: Schedule,
    binarize_condition: bool = True,
    weight: torch.Tensor | None = None,
) -> torch.Tensor:
    """mean((ε₂ − model_y([y_t, c], t))² · sigmoid(c)), c from the frozen model_x (PIG); `weight`
    as in mask_loss multiplies PIG's sigmoid weight."""
    x_t, y_t = q_sample(x0, t, eps1, schedule), q_sample(y0, t, eps2, schedule)
    c = mask_condition(model_x, x_t, y_t, t, schedule, binarize_condition)
    w = torch.sigmoid(c) if weight is None else torch.sigmoid(c) * weight
    return _mse(eps2, model_y(torch.cat([y_t, c], 1), t.float()), w)


def siamese_image_loss(
    model_y,
    model_x,
    x0,
    y0,
    t,
    eps1,
    eps2,
    schedule: Schedule,
    *,
    progress: float,
    binarize_condition: bool = True,
    late_t: int = 200,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, dict[str, float]]:
    """Siamese-Diffusion's noise-consistent objective for model_y (METHOD.md, last section).

    Mask branch ε_m = model_y([y_t, c], t); image branch ε_i = the same weights given the clean
    image as a hint, whose weight ramps with training progress. Loss
    ‖ε−ε_m‖² + ‖ε−ε_i‖² + ‖ε_m − sg(ε_i)‖², each weighted by PIG's sigmoid(c); after the first
    third of training, samples with t ≤ late_t also rebuild ŷ₀ from ε_i (detached), re-noise it
    with fresh ε′ and add ‖ε′ − ε_m(ŷ₀ noised)‖².
    """
    x_t, y_t = q_sample(x0, t, eps1, schedule), q_sample(y0, t, eps2, schedule)
    c = mask_condition(model_x, x_t, y_t, t, schedule, binarize_condition)
    w = torch.sigmoid(c)
    inp = torch.cat([y_t, c], 1)
    eps_m = model_y(inp, t.float())
    eps_i = model_y(inp, t.float(), hint=y0, hint_scale=min(max(progress, 0.0), 1.0))
    terms = {
        "mask": _mse(eps2, eps_m, w),
        "image": _mse(eps2, eps_i, w),
        "consistency": _mse(eps_m, eps_i.detach(), w),
    }
    late = t <= late_t
    if progress > 1 / 3 and bool(late.any()):
        a = schedule.alpha_bar_torch(t[late])
        y0_hat = predict_x0(y_t[late], eps_i[late].detach(), a.sqrt(), (1 - a).sqrt())
        eps_fresh = torch.randn(y0_hat.shape, generator=generator).to(y0_hat.device)
        y_renoised = a.sqrt() * y0_hat + (1 - a).sqrt() * eps_fresh
        eps_re = model_y(torch.cat([y_renoised, c[late]], 1), t[late].float())
        terms["late"] = _mse(eps_fresh, eps_re, w[late]) * late.float().mean()
    total = sum(terms.values())
    return total, {k: float(v.detach()) for k, v in terms.items()}
