"""PigPipeline's inputs, checked in the order a call meets them: the sampler's settings, the output and
callback options, the user's masks or images (the conditions), the batch's shape and each element's
seed. Each bad value gets one line that names it and what to give instead."""

from __future__ import annotations

import numbers
import operator
from collections.abc import Sequence

import numpy as np
import torch

from pigkit.data.pairs import image_units
from pigkit.model.limits import GUIDANCE_MAX, GUIDANCE_MIN, check_eta
from pigkit.model.schedule import CLIP_MODES

MODES = ("pair", "mask2image", "image2mask")
OUTPUT_TYPES = ("pil", "np", "pt")
STEP_TENSORS = ("x0", "y0", "c")  # what callback_on_step_end may ask for
MAX_SEED = 0xFFFFFFFF  # the studio's seeds are 32-bit (contracts §3)
# One call holds every element's chains (float64 tensors): at most this many pixels over the batch
# (64 pairs at 512², 4096 at 64²); more pairs are more calls.
MAX_BATCH_PIXELS = 1 << 24
MAX_BATCH = 4096


def integer(value, what: str, lo: int, hi: int) -> int:
    """An int, numpy integer or 0-d integer tensor in [lo, hi] as an int; no bool, no float."""
    try:
        n = None if isinstance(value, (bool, np.bool_)) else operator.index(value)
    except TypeError:
        n = None
    if n is None or not lo <= n <= hi:
        raise ValueError(f"{what} must be an integer in [{lo}, {hi}], got {value!r}")
    return n


def check_dtype(dtype) -> None:
    """The graphs are float32 ONNX (a float16 copy is another folder: pigkit.fp16); float32 on the
    CPU is what gives the CLI's bits."""
    if dtype not in (None, torch.float32, "float32"):
        raise ValueError(
            f"torch_dtype {dtype!r}: the model folder's graphs are float32 (torch.float32, the CLI's bits on the CPU); "
            "for float16 convert the folder with python3 -m pigkit.fp16 and open that"
        )


def sampler_settings(sampler: dict, T: int, steps, eta, clip, guidance) -> tuple[int, float, str, float]:
    """(steps, η, clip, guidance w) of a call: each the manifest's `sampler` value where not given."""
    steps = sampler["steps"] if steps is None else steps
    steps = integer(steps, "num_inference_steps", 1, T)
    eta = check_eta(sampler["eta"] if eta is None else eta)
    clip = sampler.get("clip", "none") if clip is None else clip
    if clip not in CLIP_MODES:
        raise ValueError(f"clip must be one of {', '.join(CLIP_MODES)}, got {clip!r}")
    guidance = sampler.get("guidance", 1.0) if guidance is None else guidance
    if not isinstance(guidance, numbers.Real) or isinstance(guidance, bool) or not GUIDANCE_MIN <= guidance <= GUIDANCE_MAX:
        raise ValueError(f"guidance must be a number from {GUIDANCE_MIN} to {GUIDANCE_MAX}, got {guidance!r}")
    return steps, eta, clip, guidance


def output_options(output_type: str, return_dict, tensor_inputs: Sequence[str] | str, callback, on_step_end) -> list[str]:
    """The output's type and form and the callbacks checked; the step tensors callback_on_step_end asks for."""
    if output_type not in OUTPUT_TYPES:
        raise ValueError(f"output_type must be one of {', '.join(OUTPUT_TYPES)}, got {output_type!r}")
    if not isinstance(return_dict, bool):
        raise TypeError(f"return_dict must be True or False, got {return_dict!r}")
    asked = [tensor_inputs] if isinstance(tensor_inputs, str) else None
    asked = asked or list(tensor_inputs)
    if not set(asked) <= set(STEP_TENSORS):
        raise ValueError(f"callback_on_step_end_tensor_inputs may name {', '.join(STEP_TENSORS)}; got {asked}")
    for name, f in (("callback", callback), ("callback_on_step_end", on_step_end)):
        if f is not None and not callable(f):
            raise TypeError(f"{name} must be a function, got {type(f).__name__}")
    return asked


def planes(value, what: str, resolution: tuple[int, int]) -> list[np.ndarray]:
    """H×W (an array, a PIL image), N×H×W or a list of H×W, as a list of H×W arrays."""
    h, w = resolution
    items = list(value) if isinstance(value, (list, tuple)) else None
    found = [np.asarray(v) for v in items] if items is not None else [np.asarray(value)]
    for i, a in enumerate(found):
        if a.shape != (h, w) and (items is not None or a.ndim != 3 or a.shape[1:] != (h, w) or not len(a)):
            name = f"{what} number {i}" if items is not None and len(items) > 1 else what
            raise ValueError(
                f"{name} is {'×'.join(map(str, a.shape)) or 'a scalar'}, the model needs {h}×{w} (H×W) or N×{h}×{w}: "
                "resize it first (the kit's loader: pigkit.data.mask_bits / image_pixels)"
            )
    if not found:
        raise ValueError(f"{what} is an empty list")
    return found if items is not None else list(found[0].reshape(-1, h, w))  # each plane keeps its dtype


def user_image_units(y: np.ndarray) -> np.ndarray:
    """A user's image as float32 model units: uint8 pixels scaled as the training loader scales
    them, floats taken as model units."""
    if np.issubdtype(y.dtype, np.integer):
        if y.min() < 0 or y.max() > 255:
            raise ValueError(f"the image's integer pixels must be 8-bit (0 to 255), got {y.min()} to {y.max()}")
        y = image_units(y.astype(np.uint8))
    elif not np.issubdtype(y.dtype, np.floating):
        raise ValueError(f"the image must hold numbers (uint8 pixels or float model units), got {y.dtype}")
    y = y.astype(np.float32)
    if not np.isfinite(y).all():
        raise ValueError("the image has non-finite values")
    return y


def condition(mode: str, mask, image, resolution: tuple[int, int]) -> dict:
    """The user's masks (mask2image, {−1, +1}) or images (image2mask, model units) as N×1×H×W."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    wanted = {"pair": (), "mask2image": ("mask",), "image2mask": ("image",)}[mode]
    for name, value in (("mask", mask), ("image", image)):
        if (value is None) == (name in wanted):
            raise ValueError(f"mode {mode} {'needs' if name in wanted else 'takes no'} {name}=")
    if mode == "mask2image":
        m = planes(mask, "the mask", resolution)
        empty = [i for i in range(len(m)) if not (m[i] > 0).any()]
        if empty:
            which = "" if len(m) == 1 else f" number {empty[0]}"
            raise ValueError(f"the mask{which} has no lesion pixel (values > 0 are lesion)")
        return {"mask": torch.from_numpy(np.where(np.stack(m) > 0, 1.0, -1.0)).unsqueeze(1)}
    if mode == "image2mask":
        y = np.stack([user_image_units(a) for a in planes(image, "the image", resolution)])
        return {"image": torch.from_numpy(y).double().unsqueeze(1)}
    return {}


def per_condition(seed, per) -> int:
    """Pairs per condition: num_images_per_prompt, or the length of a list of seeds."""
    per = integer(per, "num_images_per_prompt", 1, MAX_BATCH)
    if isinstance(seed, (list, tuple)) or (isinstance(seed, np.ndarray) and seed.ndim == 1):
        if per not in (1, len(seed)) or not len(seed):
            raise ValueError(f"{len(seed)} seeds with num_images_per_prompt={per}: give one seed per pair of a condition")
        return len(seed)
    return per


def batch_shape(given: dict, attributes, mode: str, seed, num_images_per_prompt, resolution, callback) -> tuple:
    """(attribute requests, conditions, pairs per condition) of a call, its size bounded."""
    requests = list(attributes) if isinstance(attributes, (list, tuple)) else [attributes or {}]
    if not requests or not all(isinstance(r, dict) for r in requests):
        raise TypeError(f'attributes must be a dict such as {{"pathology": "malignant"}} or a list of them, got {attributes!r}')
    conditions = max(len(requests), *(len(v) for v in given.values())) if given else len(requests)
    if len(requests) not in (1, conditions):
        raise ValueError(f"{len(requests)} attribute requests for {conditions} {mode} inputs: give one, or one each")
    per = per_condition(seed, num_images_per_prompt)
    total = conditions * per
    h, w = resolution
    if total > MAX_BATCH or total * h * w > MAX_BATCH_PIXELS:
        limit = min(MAX_BATCH, MAX_BATCH_PIXELS // (h * w))
        raise ValueError(f"{total} pairs of {h}×{w} in one call; one call makes at most {limit} at this size: call it again")
    if callback is not None and total > 1:
        raise ValueError(f"callback= shows one pair's steps; for {total} pairs use callback_on_step_end=")
    return requests, conditions, per


def element_seeds(seed, generator, conditions: int, per: int) -> list[int]:
    """One seed per element (condition-major, `per` each). seed=K: K … K+per−1 for every condition,
    the CLI's --seed K --count per (per mask in mask2image); a list: those for every condition.
    generator=: each element's seed drawn from it, torch.randint(0, 2**32, generator=g) (a list:
    one generator per element). Neither: drawn from torch's global generator (torch.manual_seed
    makes it repeatable)."""
    total = conditions * per
    if seed is not None and generator is not None:
        raise ValueError("give seed= or generator=, not both")
    if seed is not None:
        if isinstance(seed, (list, tuple)) or (isinstance(seed, np.ndarray) and seed.ndim == 1):
            return [integer(s, "seed", 0, MAX_SEED) for s in seed] * conditions
        first = integer(seed, "seed", 0, MAX_SEED)
        if first + per - 1 > MAX_SEED:
            raise ValueError(f"seed {first} with num_images_per_prompt={per} runs past the last seed, 2^32 - 1")
        return [first + j for _ in range(conditions) for j in range(per)]
    if generator is None:
        return torch.randint(0, MAX_SEED + 1, (total,)).tolist()
    if isinstance(generator, torch.Generator):
        return torch.randint(0, MAX_SEED + 1, (total,), generator=generator, device=generator.device).tolist()
    if isinstance(generator, (list, tuple)) and all(isinstance(g, torch.Generator) for g in generator):
        if len(generator) != total:
            raise ValueError(f"{len(generator)} generators for {total} pairs: give one torch.Generator, or one per pair")
        return [int(torch.randint(0, MAX_SEED + 1, (1,), generator=g, device=g.device)) for g in generator]
    raise TypeError(f"generator must be a torch.Generator or a list of them, got {type(generator).__name__}")
