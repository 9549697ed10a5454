"""What a PigPipeline call gives back: each step to the callbacks while it runs (PipelineFrame,
callback_on_step_end's copies), then the pairs (PigPipelineOutput) in the asked output type."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from pigkit.model.binarize import to_uint8
from pigkit.model.latent import latent_preview
from pigkit.model.sampler import Frame


@dataclass
class PipelineFrame:
    """One step as the studio streams it: H×W float32 arrays (x̂₀ and c are the user's mask in
    mask2image, ŷ₀ the user's image in image2mask)."""

    index: int
    total: int
    t: int
    t_prev: int
    x0: np.ndarray
    y0: np.ndarray
    c: np.ndarray


@dataclass
class PigPipelineOutput:
    """N pairs (diffusers' ImagePipelineOutput, with the masks beside the images). `images`/`masks`
    are in the call's output_type: "pil" a list of 8-bit gray PIL images (images: the imagesTr PNG's
    pixels; masks: 0 or 255), "np" N×H×W×1 float32 in [0, 1] (images: (clamp(ŷ₀, −1, 1) + 1) / 2;
    masks: 0 or 1), "pt" the same as N×1×H×W torch tensors on the CPU. The rest whatever the type:"""

    images: list | np.ndarray | torch.Tensor
    masks: list | np.ndarray | torch.Tensor
    seeds: list[int]  # element i's seed: `npm run generate -- --seed seeds[i]` gives its files
    labels: np.ndarray  # N×H×W uint8, 1 = lesion: the CLI's labelsTr PNG (B(x̂₀); the user's mask in mask2image)
    pixels: np.ndarray  # N×H×W uint8: the CLI's imagesTr PNG
    raw: np.ndarray  # N×H×W float32: the last ŷ₀ in model units, the CLI's --raw y0.npy (the user's image in image2mask)
    steps: int
    eta: float
    clip: str
    mode: str

    def _only(self, name: str, plural: str):
        if len(self.seeds) != 1:
            raise ValueError(f"this output holds {len(self.seeds)} pairs; out.{name} is one pair's: use out.{plural}[i]")
        return getattr(self, plural)[0]

    # one pair's arrays, as before batches (model cards and scripts use them)
    @property
    def mask(self) -> np.ndarray:
        return self._only("mask", "labels")

    @property
    def image(self) -> np.ndarray:
        return self._only("image", "raw")

    @property
    def image_uint8(self) -> np.ndarray:
        return self._only("image_uint8", "pixels")

    @property
    def seed(self) -> int:
        return self._only("seed", "seeds")


def _same(a, b: torch.Tensor) -> bool:
    return isinstance(a, torch.Tensor) and a.shape == b.shape and torch.equal(a, b)


def _plane(t: torch.Tensor) -> np.ndarray:
    return t[0, 0].float().numpy()


def step_watcher(
    pipe,
    steps: int,
    asked: list[str],
    callback: Callable[[PipelineFrame], None] | None,
    on_step_end: Callable[..., dict] | None,
    grid_mask: torch.Tensor | None,
    grid_image: torch.Tensor | None,
) -> Callable[[Frame], None] | None:
    """The sampler's on_frame that calls `callback` and `callback_on_step_end` after each step (None
    without either); a chain the sampler does not run shows the user's mask or image."""
    if callback is None and on_step_end is None:
        return None
    latent = pipe.latent

    def on_frame(f: Frame) -> None:
        x0 = f.x0 if f.x0 is not None else grid_mask
        c = f.c if f.c is not None else grid_mask
        y0 = f.y0 if f.y0 is not None else grid_image
        if callback is not None:
            shown = latent_preview(y0, latent["preview"]) if latent else y0  # ẑ₀'s cheap preview (§6a)
            callback(PipelineFrame(f.index, steps, f.t, f.t_prev, _plane(x0), _plane(shown), _plane(c)))
        if on_step_end is not None:
            state = {"x0": x0, "y0": y0, "c": c}
            given_kwargs = {k: state[k].float().clone() for k in asked}  # copies: the chains stay the pipeline's
            back = on_step_end(pipe, f.index, f.t, given_kwargs)
            if not isinstance(back, dict):
                raise TypeError(f"callback_on_step_end must return a dict (its callback_kwargs), got {type(back).__name__}")
            changed = [k for k in asked if k in back and not _same(back[k], state[k].float())]
            if changed:
                raise ValueError(
                    f"callback_on_step_end changed {', '.join(changed)}: the pipeline's chains are not changed from a "
                    "callback (the pairs would no longer be the CLI's); return callback_kwargs as given"
                )

    return on_frame


def typed_outputs(pixels: np.ndarray, labels: np.ndarray, image: torch.Tensor, output_type: str) -> tuple:
    """(images, masks) in output_type from the N×H×W PNG pixels, the labels and ŷ₀ (N×1×H×W)."""
    if output_type == "pil":
        from PIL import Image  # noqa: PLC0415 (only this output type needs Pillow)

        return [Image.fromarray(p) for p in pixels], [Image.fromarray(m * 255) for m in labels]
    images = ((image.double().clamp(-1, 1) + 1) / 2).float()
    masks = torch.from_numpy(labels).float().unsqueeze(1)
    if output_type == "pt":
        return images, masks
    return images.permute(0, 2, 3, 1).numpy(), masks.permute(0, 2, 3, 1).numpy()


def pipeline_output(
    mask: torch.Tensor, image: torch.Tensor, seeds: list[int], settings: tuple, output_type: str, return_dict: bool
) -> PigPipelineOutput | tuple:
    """The call's result from the final mask and ŷ₀ (N×1×H×W): `settings` (steps, η, clip, mode)."""
    labels = (mask[:, 0] > 0).numpy().astype(np.uint8)
    pixels = to_uint8(image.float())[:, 0].numpy()
    images, masks = typed_outputs(pixels, labels, image, output_type)
    if not return_dict:
        return images, masks
    raw = image[:, 0].float().numpy()
    return PigPipelineOutput(images, masks, seeds, labels, pixels, raw, *settings)
