"""Whole sampling steps as graphs, so a WebGPU session keeps x_t, y_t and c on the GPU.

`MaskStep`: (x_t, y_t, t, k, z, clip) → (x_prev, x0, c): model_x, the DDIM update and B(x̂₀).
`ImageStep`: (y_t, c, t, k, z, clip) → (y_prev, y0): model_y and the DDIM update.
`k` is the float32 vector of the step's coefficients in schedule.COEFFICIENT_ORDER, computed by the
caller (the studio's core) from the schedule; z is the DDIM noise (zeros when η = 0); clip is [1]:
1 clips this chain's estimate (schedule.clip_estimate), 0 runs METHOD.md's update. The maths is
the kit's own ddim_step and binarize, traced, so the graphs cannot drift from the reference sampler.
"""

from __future__ import annotations

import torch

from pigkit.model.binarize import binarize
from pigkit.model.schedule import COEFFICIENT_ORDER, ddim_step


def _coefficients(k: torch.Tensor) -> dict:
    return {name: k[i] for i, name in enumerate(COEFFICIENT_ORDER)}


class MaskStep(torch.nn.Module):
    def __init__(self, model_x: torch.nn.Module):
        super().__init__()
        self.unet = model_x

    def forward(self, x_t, y_t, t, k, z, clip):
        eps = self.unet(torch.cat([x_t, y_t], 1), t)
        x_prev, x0 = ddim_step(x_t, eps, _coefficients(k), z, clip)
        return x_prev, x0, binarize(x0)


class ImageStep(torch.nn.Module):
    def __init__(self, model_y: torch.nn.Module):
        super().__init__()
        self.unet = model_y

    def forward(self, y_t, c, t, k, z, clip):
        eps = self.unet(torch.cat([y_t, c], 1), t)
        return ddim_step(y_t, eps, _coefficients(k), z, clip)


STEP_GRAPHS = {
    "maskStep": (MaskStep, ["x_t", "y_t", "t", "k", "z", "clip"], ["x_prev", "x0", "c"]),
    "imageStep": (ImageStep, ["y_t", "c", "t", "k", "z", "clip"], ["y_prev", "y0"]),
}


def step_shapes(names: list[str], h: int, w: int) -> list[list[int]]:
    return [[1] if n in ("t", "clip") else [len(COEFFICIENT_ORDER)] if n == "k" else [1, 1, h, w] for n in names]
