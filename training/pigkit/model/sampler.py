"""The reference samplers in PyTorch (METHOD.md, "Sampling" and "Three ways"): the golden source
the TypeScript sampler (src/core/sampler.ts) is checked against.

All three modes walk the same DDIM time pairs with the same update; they differ only in which
networks run and where the condition comes from.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from pigkit.model.binarize import binarize
from pigkit.model.limits import check_eta
from pigkit.model.noise import STREAM_EPS_IMAGE_TO_MASK, STREAM_X_T, STREAM_Y_T, STREAM_Z_IMAGE, STREAM_Z_MASK, NoiseStream
from pigkit.model.schedule import Schedule, clip_chains, ddim_step, forward_noise, kept


@dataclass
class Frame:
    index: int
    t: int
    t_prev: int
    x0: torch.Tensor | None  # x̂₀ of this step (None in mask→image mode)
    y0: torch.Tensor | None  # ŷ₀ of this step (None in image→mask mode)
    c: torch.Tensor | None  # B(x̂₀), the image chain's condition


@dataclass
class SampleResult:
    mask: torch.Tensor  # final condition in {-1, +1}: B(x̂₀) of the last step, or the user's mask
    image: torch.Tensor | None  # final ŷ₀
    x0: torch.Tensor | None  # final x̂₀
    frames: list[Frame] = field(default_factory=list)


class SeededNoise:
    """Per-sample noise from the cross-platform generator (batch of seeds), as the studio draws it;
    float32 values, held in `dtype` (float64 for schedule.stored_as_float32's arithmetic)."""

    def __init__(self, seeds: list[int], shape: tuple[int, int], device="cpu", dtype=torch.float32):
        self.seeds, self.shape, self.device, self.dtype = seeds, shape, device, dtype
        self._z = {}

    def _draw(self, gens: list[NoiseStream], channels: int) -> torch.Tensor:
        # C·H·W values row-major [C, H, W] from each generator (contracts §6a; C = 1 is §3)
        h, w = self.shape
        return torch.stack([torch.from_numpy(g.gaussian(channels * h * w)).view(channels, h, w) for g in gens]).to(
            self.device, self.dtype
        )

    def initial(self, stream: int, channels: int = 1) -> torch.Tensor:
        return self._draw([NoiseStream(s, stream) for s in self.seeds], channels)

    def z(self, stream: int, channels: int = 1) -> torch.Tensor:
        if stream not in self._z:
            self._z[stream] = [NoiseStream(s, stream) for s in self.seeds]
        return self._draw(self._z[stream], channels)


class TorchNoise:
    """Plain torch.randn noise for large batched evaluation runs (not cross-platform)."""

    def __init__(self, batch: int, shape: tuple[int, int], generator: torch.Generator | None = None, device="cpu"):
        self.batch, self.shape, self.generator, self.device = batch, shape, generator, device

    def initial(self, stream: int, channels: int = 1) -> torch.Tensor:
        return torch.randn((self.batch, channels, *self.shape), generator=self.generator).to(self.device)

    z = initial


@torch.no_grad()
def _loop(
    schedule: Schedule,
    steps: int,
    eta: float,
    noise,
    *,
    model_x=None,
    model_y=None,
    user_mask: torch.Tensor | None = None,
    user_image: torch.Tensor | None = None,
    keep_frames: bool = False,
    on_frame: Callable[[Frame], None] | None = None,
    clip: str = "none",
    store=kept,
    channels: int = 1,
) -> SampleResult:
    """The one DDIM loop behind every mode (see the mode functions below). `clip`: "none" (METHOD.md),
    "image" (clip ŷ₀) or "both" (x̂₀ and ŷ₀): schedule.clip_estimate. `store`: schedule.kept (PyTorch's
    float32 arithmetic) or schedule.stored_as_float32 (the studio core's, on float64 tensors).
    `channels`: the image chain's (C of a latent model, contracts §6a; 1 in pixel space)."""
    eta = check_eta(eta)  # past 1 the chains saturate (limits.py); refused before any model runs
    schedule.ddim_pairs(steps)  # steps in 1 … T, likewise
    clip_x, clip_y = clip_chains(clip)
    x_t = noise.initial(STREAM_X_T) if model_x is not None else None
    y_t = noise.initial(STREAM_Y_T, channels) if model_y is not None else None
    fixed_eps = noise.initial(STREAM_EPS_IMAGE_TO_MASK, channels) if user_image is not None else None
    frames, x0, y0, c = [], None, None, user_mask
    for index, (t, t_prev) in enumerate(schedule.ddim_pairs(steps)):
        k = schedule.ddim_coefficients(t, t_prev, eta)
        tt = torch.full((1,), float(t), device=(x_t if x_t is not None else y_t).device)
        if model_x is not None:
            if user_image is not None:  # image → mask: the user's image, re-noised with one fixed ε
                y_t = forward_noise(user_image, fixed_eps, k, store)
            eps_x = model_x(torch.cat([x_t, y_t], 1), tt.expand(x_t.shape[0]))
            x_t, x0 = ddim_step(x_t, eps_x, k, noise.z(STREAM_Z_MASK) if k["c1"] else None, clip_x, store)
            c = binarize(x0, store=store)
        if model_y is not None:  # c is None only for the unconditional baseline
            eps_y = model_y(y_t if c is None else torch.cat([y_t, c], 1), tt.expand(y_t.shape[0]))
            y_t, y0 = ddim_step(y_t, eps_y, k, noise.z(STREAM_Z_IMAGE, channels) if k["c1"] else None, clip_y, store)
        frame = Frame(index, t, t_prev, x0, y0, c)
        if keep_frames:
            frames.append(frame)
        if on_frame:
            on_frame(frame)
    return SampleResult(mask=c, image=y0, x0=x0, frames=frames)


def conditioned(model, attrs: torch.Tensor | None, guidance: float = 1.0, none: torch.Tensor | None = None, store=kept):
    """A U-Net with attributes as the loop calls it, (input, t) → ε: `attrs` its one-hot code [B, K]
    (unet.attribute_onehot; contracts §6b); with guidance w ≠ 1 and a code other than `none` (the
    all-"none" code), classifier-free guidance ε(none) + w·(ε(attrs) − ε(none)), two forwards, kept as
    `store` keeps the loop's values (stored_as_float32: computed in float64, rounded to float32)."""
    if attrs is None:
        return model
    if guidance == 1.0 or none is None or torch.equal(attrs, none):
        return lambda inp, t: model(inp, t, attrs=attrs)

    def guided(inp, t):
        e0, e1 = model(inp, t, attrs=none), model(inp, t, attrs=attrs)
        return store(e0 + guidance * (e1 - e0))

    return guided


def sample_pair(model_x, model_y, schedule: Schedule, steps: int, noise, eta: float = 0.0, **kw) -> SampleResult:
    """PIG's joint loop: x̂₀ from model_x, c = B(x̂₀), then model_y on c; the pair is (B(x̂₀), ŷ₀)."""
    return _loop(schedule, steps, eta, noise, model_x=model_x, model_y=model_y, **kw)


def sample_image_from_mask(
    model_y, mask: torch.Tensor, schedule: Schedule, steps: int, noise, eta: float = 0.0, **kw
) -> SampleResult:
    """Mask → image: the user's mask in {-1, +1} is the condition at every step; only model_y runs."""
    return _loop(schedule, steps, eta, noise, model_y=model_y, user_mask=mask, **kw)


def segment_image(model_x, image: torch.Tensor, schedule: Schedule, steps: int, noise, eta: float = 0.0, **kw) -> SampleResult:
    """Image → mask: model_x denoises the mask chain beside the user's image noised with a fixed ε."""
    return _loop(schedule, steps, eta, noise, model_x=model_x, user_image=image, **kw)


def sample_image_unconditional(model_u, schedule: Schedule, steps: int, noise, eta: float = 0.0, **kw) -> SampleResult:
    """The unconditional baseline (an image DDPM alone, `pigkit.train --model uncond`): the image
    chain of the same loop with no condition; the evaluation's realism reference, never exported."""
    return _loop(schedule, steps, eta, noise, model_y=model_u, **kw)
