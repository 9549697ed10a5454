"""A diffusers-style pipeline over an exported model folder (manifest.json + ONNX files): PIG's pairs,
and its two other modes, from Python on ONNX Runtime, equal to the studio CLI's to the bit.

    from pigkit.pipeline import PigPipeline
    pipe = PigPipeline.from_pretrained("public/models/busbra64")    # the CPU provider, float32
    out = pipe(seed=3, num_images_per_prompt=4)  # seeds 3 … 6: the CLI's --seed 3 --count 4
    out.images, out.masks                        # in output_type ("pil" default, "np" in [0, 1], "pt")
    out.labels, out.pixels, out.raw, out.seeds   # N×H×W: the CLI's label and image PNGs, its raw ŷ₀

docs/pipeline.md is the user's tour (generator=, batches, output types, callback_on_step_end).
The loop is the kit's reference sampler (sampler.py: time pairs, noise streams, ddim_step, B(·)) with
the plain U-Nets (docs/contracts.md §1) on ONNX Runtime, in the studio core's arithmetic: every
element computed in float64 and stored as float32 (schedule.stored_as_float32), the seeded noise of
contracts §3. With the CLI's session options (runtime.py) on the CPU, `out.labels[i]` is the CLI's
labelsTr PNG and `out.pixels[i]` its imagesTr PNG, pixel for pixel, and `out.raw[i]` its raw ŷ₀
(tests/test_pipeline.py). Another provider (CUDA, `.to("cuda")`) runs other kernels: close, not identical.
"""

from __future__ import annotations

import numbers
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from .attributes import AttributeSpec
from .binarize import to_uint8
from .data import image_units
from .latent import final_image, final_mask, latent_preview, masks_to_grid
from .limits import GUIDANCE_MAX, GUIDANCE_MIN, check_eta
from .manifest import ManifestError, model_file, read_manifest
from .runtime import CPU, CUDA, open_session, python_ort
from .sampler import Frame, SeededNoise, conditioned, sample_image_from_mask, sample_pair, segment_image
from .schedule import CLIP_MODES, Schedule, stored_as_float32
from .unet import attribute_onehot

MODES = ("pair", "mask2image", "image2mask")
BINARIZE = {"kernel": 5, "weights": [0.75, 0.25]}  # the B(·) that binarize.binarize computes
OUTPUT_TYPES = ("pil", "np", "pt")
STEP_TENSORS = ("x0", "y0", "c")  # what callback_on_step_end may ask for
MAX_SEED = 0xFFFFFFFF  # the studio's seeds are 32-bit (contracts §3)
# One call holds every element's chains (float64 tensors): at most this many pixels over the batch
# (64 pairs at 512², 4096 at 64²); more pairs are more calls.
MAX_BATCH_PIXELS = 1 << 24
MAX_BATCH = 4096


def _integer(value, what: str, lo: int, hi: int) -> int:
    """An int, numpy integer or 0-d integer tensor in [lo, hi] as an int; no bool, no float."""
    try:
        n = None if isinstance(value, (bool, np.bool_)) else operator.index(value)
    except TypeError:
        n = None
    if n is None or not lo <= n <= hi:
        raise ValueError(f"{what} must be an integer in [{lo}, {hi}], got {value!r}")
    return n


def _check_dtype(dtype) -> None:
    """The graphs are float32 ONNX (a float16 copy is another folder: pigkit.fp16); float32 on the
    CPU is what gives the CLI's bits."""
    if dtype not in (None, torch.float32, "float32"):
        raise ValueError(
            f"torch_dtype {dtype!r}: the model folder's graphs are float32 (torch.float32, the CLI's bits on the CPU); "
            "for float16 convert the folder with python3 -m pigkit.fp16 and open that"
        )


def _providers_of(device: torch.device) -> list:
    if device.type == "cpu":
        return [CPU]
    if device.type == "cuda":
        return [(CUDA, {"device_id": device.index or 0}), CPU]
    raise ValueError(f"device must be cpu or cuda[:N] (ONNX Runtime's CPU or CUDA provider), got {str(device)!r}")


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


def _outputs(pixels: np.ndarray, labels: np.ndarray, image: torch.Tensor, output_type: str) -> tuple:
    """(images, masks) in output_type from the N×H×W PNG pixels, the labels and ŷ₀ (N×1×H×W)."""
    if output_type == "pil":
        from PIL import Image  # noqa: PLC0415 (only this output type needs Pillow)

        return [Image.fromarray(p) for p in pixels], [Image.fromarray(m * 255) for m in labels]
    images = ((image.double().clamp(-1, 1) + 1) / 2).float()
    masks = torch.from_numpy(labels).float().unsqueeze(1)
    if output_type == "pt":
        return images, masks
    return images.permute(0, 2, 3, 1).numpy(), masks.permute(0, 2, 3, 1).numpy()


class PigPipeline:
    """A model folder's two U-Nets on ONNX Runtime. `from_pretrained` opens it; calling it samples."""

    def __init__(self, folder: Path, manifest: dict, sessions: dict, files: dict, threads: int | None, device: torch.device):
        self.folder, self.manifest, self.sessions = folder, manifest, sessions
        self._files, self._threads, self._device = files, threads, device
        self.name = manifest.get("name", folder.name)
        self.resolution = tuple(manifest["resolution"])
        # format 2 (contracts §6): the chains run on the latent grid, the image chain with C channels
        self.latent = manifest.get("latent")
        self.grid = tuple(self.latent["grid"]) if self.latent else self.resolution
        self.channels = self.latent["channels"] if self.latent else 1
        self.attributes = AttributeSpec.from_dict(manifest["attributes"]) if manifest.get("attributes") else None
        s = manifest["schedule"]
        self.schedule = Schedule(T=s["T"], beta_start=s["betaStart"], beta_end=s["betaEnd"])
        self.backend = sessions["mask"].backend

    @staticmethod
    def _open(files: dict, threads: int | None, providers: list) -> dict:
        sessions = {}
        try:
            for role, path in files.items():
                sessions[role] = open_session(path, threads, providers)
        except Exception:
            for s in sessions.values():
                s.close()
            raise
        return sessions

    @classmethod
    def from_pretrained(
        cls,
        model_dir: str | Path,
        providers: list | None = None,
        threads: int | None = None,
        torch_dtype: torch.dtype | str | None = None,
    ) -> PigPipeline:
        """Opens `model_dir` (e.g. public/models/busbra64): manifest.json checked in full as the studio
        checks it (pigkit.manifest.validate_manifest: every field, η, T and the betas bounded, each
        graph's bytes and SHA-256 required), both ONNX files (and their weights files) checked
        against those sizes and SHA-256 before ONNX Runtime opens them, one session each. `providers`:
        ONNX Runtime execution providers (default the CPU's, whose bits are the CLI's; `.to("cuda")`
        moves the sessions); `threads`: intra-op threads (the CLI's --threads); `torch_dtype`:
        float32 only (the graphs' type), taken as diffusers takes it."""
        _check_dtype(torch_dtype)
        if threads is not None:
            threads = _integer(threads, "threads", 1, 1024)
        folder = Path(model_dir)
        manifest = read_manifest(folder)
        binarize = manifest["sampler"].get("binarize", BINARIZE)
        if binarize != BINARIZE:
            raise ManifestError(f"{folder / 'manifest.json'}: sampler.binarize {binarize}: the kit's B(·) is {BINARIZE}")
        roles = ("mask", "image", "encoder", "decoder") if manifest.get("latent") else ("mask", "image")
        files = {role: model_file(folder, manifest, role) for role in roles}
        if isinstance(providers, str):
            raise TypeError(f"providers must be a list, e.g. [{providers!r}]")
        providers = list(providers or [CPU])
        first, options = providers[0] if isinstance(providers[0], tuple) else (providers[0], {})
        device = torch.device("cuda", options.get("device_id", 0)) if first == CUDA else torch.device("cpu")
        return cls(folder, manifest, cls._open(files, threads, providers), files, threads, device)

    @property
    def device(self) -> torch.device:
        """Where the U-Nets run: cpu (ONNX Runtime's CPU provider) or cuda:N (its CUDA provider). The
        sampler's arithmetic runs on the CPU either way."""
        return self._device

    @property
    def dtype(self) -> torch.dtype:
        return torch.float32

    def to(self, *args, device=None, dtype=None) -> PigPipeline:
        """diffusers' `pipe.to("cuda")`, `pipe.to(torch.float32)`, `pipe.to("cpu", torch.float32)`:
        reopens the sessions on that device's ONNX Runtime provider (the CPU's bits are the CLI's)."""
        for a in args:
            if isinstance(a, torch.dtype):
                dtype = a
            elif isinstance(a, (str, torch.device)):
                device = a
            else:
                raise TypeError(f"to() takes a device ('cpu', 'cuda', 'cuda:1') or torch.float32, got {a!r}")
        _check_dtype(dtype)
        if device is None:
            return self
        try:
            target = torch.device(device)
        except (RuntimeError, TypeError) as e:
            raise ValueError(f"device must be cpu or cuda[:N], got {device!r}") from e
        if target.type == "cuda" and target.index is None:
            target = torch.device("cuda", 0)
        if target == self._device:
            return self
        providers = _providers_of(target)
        ort = python_ort()
        available = ort.get_available_providers() if ort is not None else ["onnxruntime-node: CPU only"]
        if target.type == "cuda" and CUDA not in available:
            raise RuntimeError(
                f"ONNX Runtime here has no CUDA provider ({', '.join(available)}): install onnxruntime-gpu; "
                f"the pipeline stays on {self._device}"
            )
        sessions = self._open(self._files, self._threads, providers)
        have = sessions["mask"].backend
        if target.type == "cuda" and CUDA not in have:  # it could not start CUDA and fell back to the CPU
            for s in sessions.values():
                s.close()
            raise RuntimeError(f"ONNX Runtime could not start its CUDA provider ({have}); the pipeline stays on {self._device}")
        self.close()
        self.sessions, self._device, self.backend = sessions, target, have
        return self

    def close(self) -> None:
        for s in self.sessions.values():
            s.close()

    def __enter__(self) -> PigPipeline:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        h, w = self.resolution
        return f"PigPipeline({self.name!r}, {h}×{w}, {self.folder}, {self.backend})"

    def _feed(self, role: str, feeds: list[tuple[str, torch.Tensor]]) -> torch.Tensor:
        """One graph on a batch, a row at a time (the exported graphs take batch 1, and row by row
        each element gets the bits a one-pair run gets); float32 values in, float64 out."""
        session = self.sessions[role]
        rows = []
        for i in range(feeds[0][1].shape[0]):
            out = next(iter(session.run({n: v[i : i + 1].float().numpy() for n, v in feeds}).values()))
            if not np.isfinite(out).all():
                raise FloatingPointError(f"{self.folder}: the {role} model gave non-finite values")
            rows.append(torch.from_numpy(out).double())
        return torch.cat(rows)

    def _unet(self, role: str) -> Callable[..., torch.Tensor]:
        """model_x or model_y as the sampler calls it: ([B, 1 + C, h, w], t[, attrs=]) → ε, float32
        values in float64; `attrs` the one-hot attribute codes [B, K] of a format-2 model (contracts §6b)."""
        names = [i["name"] for i in self.manifest["models"][role].get("inputs", [{"name": "x"}, {"name": "t"}])]

        def eps(x: torch.Tensor, t: torch.Tensor, attrs: torch.Tensor | None = None) -> torch.Tensor:
            return self._feed(role, list(zip(names, (x, t) if attrs is None else (x, t, attrs))))

        return eps

    def _run(self, role: str, x: torch.Tensor) -> torch.Tensor:
        """The encoder or decoder graph on a float64 tensor (float32 values), its output in float64."""
        return self._feed(role, [(self.manifest["models"][role]["inputs"][0]["name"], x)])

    def _codes(self, requests: list[dict], guidance: float) -> tuple:
        """(codes [B, K], guidance, all-none codes) for `conditioned`: the one-hot attribute codes of
        contracts §6b, one row per element; (None, 1, None) for a model without attributes, which
        refuses a request."""
        if self.attributes is None:
            asked = sorted({k for r in requests for k in r})
            if asked:
                raise ValueError(f"{self.name} has no attributes; it takes no attributes= (got {asked})")
            return None, 1.0, None
        ids = torch.tensor([self.attributes.encode({k: str(v) for k, v in r.items()}) for r in requests])
        none = torch.zeros_like(ids)
        sizes = self.attributes.sizes()
        return attribute_onehot(ids, sizes).double(), guidance, attribute_onehot(none, sizes).double()

    def _planes(self, value, what: str) -> list[np.ndarray]:
        """H×W (an array, a PIL image), N×H×W or a list of H×W, as a list of H×W arrays."""
        h, w = self.resolution
        items = list(value) if isinstance(value, (list, tuple)) else None
        planes = [np.asarray(v) for v in items] if items is not None else [np.asarray(value)]
        for i, a in enumerate(planes):
            if a.shape != (h, w) and (items is not None or a.ndim != 3 or a.shape[1:] != (h, w) or not len(a)):
                name = f"{what} number {i}" if items is not None and len(items) > 1 else what
                raise ValueError(
                    f"{name} is {'×'.join(map(str, a.shape)) or 'a scalar'}, the model needs {h}×{w} (H×W) or N×{h}×{w}: "
                    "resize it first (the kit's loader: pigkit.data.mask_bits / image_pixels)"
                )
        if not planes:
            raise ValueError(f"{what} is an empty list")
        return planes if items is not None else list(planes[0].reshape(-1, h, w))  # each plane keeps its dtype

    @staticmethod
    def _image_units(y: np.ndarray) -> np.ndarray:
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

    def _condition(self, mode: str, mask, image) -> dict:
        """The user's masks (mask2image, {−1, +1}) or images (image2mask, model units) as N×1×H×W."""
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
        wanted = {"pair": (), "mask2image": ("mask",), "image2mask": ("image",)}[mode]
        for name, value in (("mask", mask), ("image", image)):
            if (value is None) == (name in wanted):
                raise ValueError(f"mode {mode} {'needs' if name in wanted else 'takes no'} {name}=")
        if mode == "mask2image":
            m = self._planes(mask, "the mask")
            empty = [i for i in range(len(m)) if not (m[i] > 0).any()]
            if empty:
                which = "" if len(m) == 1 else f" number {empty[0]}"
                raise ValueError(f"the mask{which} has no lesion pixel (values > 0 are lesion)")
            return {"mask": torch.from_numpy(np.where(np.stack(m) > 0, 1.0, -1.0)).unsqueeze(1)}
        if mode == "image2mask":
            y = np.stack([self._image_units(a) for a in self._planes(image, "the image")])
            return {"image": torch.from_numpy(y).double().unsqueeze(1)}
        return {}

    @staticmethod
    def _per_condition(seed, per) -> int:
        """Pairs per condition: num_images_per_prompt, or the length of a list of seeds."""
        per = _integer(per, "num_images_per_prompt", 1, MAX_BATCH)
        if isinstance(seed, (list, tuple)) or (isinstance(seed, np.ndarray) and seed.ndim == 1):
            if per not in (1, len(seed)) or not len(seed):
                raise ValueError(f"{len(seed)} seeds with num_images_per_prompt={per}: give one seed per pair of a condition")
            return len(seed)
        return per

    @staticmethod
    def _seeds(seed, generator, conditions: int, per: int) -> list[int]:
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
                return [_integer(s, "seed", 0, MAX_SEED) for s in seed] * conditions
            first = _integer(seed, "seed", 0, MAX_SEED)
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

    def __call__(
        self,
        *args,
        num_inference_steps: int | None = None,
        eta: float | None = None,
        clip: str | None = None,
        seed: int | Sequence[int] | None = None,
        generator: torch.Generator | list[torch.Generator] | None = None,
        num_images_per_prompt: int = 1,
        mode: str = "pair",
        mask=None,
        image=None,
        attributes: dict | list[dict] | None = None,
        guidance: float | None = None,
        output_type: str = "pil",
        return_dict: bool = True,
        callback: Callable[[PipelineFrame], None] | None = None,
        callback_on_step_end: Callable[..., dict] | None = None,
        callback_on_step_end_tensor_inputs: Sequence[str] = STEP_TENSORS,
    ) -> PigPipelineOutput | tuple:
        """N pairs, keyword arguments only (docs/pipeline.md). `num_inference_steps`, `eta`, `clip`:
        DDIM steps, η and the sampler option clip (none | image | both), default the manifest's
        `sampler`. The conditions (diffusers' prompts): `mode` pair (both U-Nets), mask2image (`mask`:
        H×W, N×H×W or a list, lesion where > 0) or image2mask (`image`: likewise, uint8 pixels or float
        model units in [−1, 1]); `attributes` (a format-2 model's, e.g. {"pathology": "malignant"},
        others "any"; a list gives one per condition) and `guidance` w (default the manifest's
        `sampler.guidance`; contracts §6b). `num_images_per_prompt` pairs per condition; `seed` (an
        integer in [0, 2³² − 1] or one per pair) or `generator` set their seeds (_seeds), random when
        neither is given. `output_type` pil | np | pt; `return_dict=False` gives (images, masks).
        `callback_on_step_end(pipe, step, timestep, callback_kwargs)` after every step, diffusers'
        signature: callback_kwargs holds copies of the asked `callback_on_step_end_tensor_inputs`
        (x0 x̂₀, y0 ŷ₀ (ẑ₀ of a latent model), c = B(x̂₀): float32 N×C×h×w) and must be returned as
        a dict, unchanged (the chains are not changed from outside). `callback(frame)`: one pair's
        PipelineFrame after every step."""
        if args:
            raise TypeError(
                f"PigPipeline takes keyword arguments only, e.g. pipe(seed=3, num_inference_steps=8); got {len(args)} "
                f"positional ({args[0]!r}): the first is no prompt and no step count here"
            )
        sampler = self.manifest["sampler"]
        steps = sampler["steps"] if num_inference_steps is None else num_inference_steps
        steps = _integer(steps, "num_inference_steps", 1, self.schedule.T)
        eta = check_eta(sampler["eta"] if eta is None else eta)
        clip = sampler.get("clip", "none") if clip is None else clip
        if clip not in CLIP_MODES:
            raise ValueError(f"clip must be one of {', '.join(CLIP_MODES)}, got {clip!r}")
        guidance = sampler.get("guidance", 1.0) if guidance is None else guidance
        if not isinstance(guidance, numbers.Real) or isinstance(guidance, bool) or not GUIDANCE_MIN <= guidance <= GUIDANCE_MAX:
            raise ValueError(f"guidance must be a number from {GUIDANCE_MIN} to {GUIDANCE_MAX}, got {guidance!r}")
        if output_type not in OUTPUT_TYPES:
            raise ValueError(f"output_type must be one of {', '.join(OUTPUT_TYPES)}, got {output_type!r}")
        if not isinstance(return_dict, bool):
            raise TypeError(f"return_dict must be True or False, got {return_dict!r}")
        asked = [callback_on_step_end_tensor_inputs] if isinstance(callback_on_step_end_tensor_inputs, str) else None
        asked = asked or list(callback_on_step_end_tensor_inputs)
        if not set(asked) <= set(STEP_TENSORS):
            raise ValueError(f"callback_on_step_end_tensor_inputs may name {', '.join(STEP_TENSORS)}; got {asked}")
        for name, f in (("callback", callback), ("callback_on_step_end", callback_on_step_end)):
            if f is not None and not callable(f):
                raise TypeError(f"{name} must be a function, got {type(f).__name__}")

        given = self._condition(mode, mask, image)
        requests = list(attributes) if isinstance(attributes, (list, tuple)) else [attributes or {}]
        if not requests or not all(isinstance(r, dict) for r in requests):
            raise TypeError(
                f'attributes must be a dict such as {{"pathology": "malignant"}} or a list of them, got {attributes!r}'
            )
        conditions = max(len(requests), *(len(v) for v in given.values())) if given else len(requests)
        if len(requests) not in (1, conditions):
            raise ValueError(f"{len(requests)} attribute requests for {conditions} {mode} inputs: give one, or one each")
        per = self._per_condition(seed, num_images_per_prompt)
        total = conditions * per
        h, w = self.resolution
        if total > MAX_BATCH or total * h * w > MAX_BATCH_PIXELS:
            limit = min(MAX_BATCH, MAX_BATCH_PIXELS // (h * w))
            raise ValueError(f"{total} pairs of {h}×{w} in one call; one call makes at most {limit} at this size: call it again")
        if callback is not None and total > 1:
            raise ValueError(f"callback= shows one pair's steps; for {total} pairs use callback_on_step_end=")
        seeds = self._seeds(seed, generator, conditions, per)

        def batch(t: torch.Tensor) -> torch.Tensor:  # condition i → elements i·per … i·per + per − 1
            return t.expand(conditions, *t.shape[1:]).repeat_interleave(per, 0)

        codes = self._codes([requests[i % len(requests)] for i in range(conditions) for _ in range(per)], float(guidance))
        user_mask, user_image = (batch(given[k]) if k in given else None for k in ("mask", "image"))
        grid_mask, grid_image = user_mask, user_image
        if self.latent:  # the conditions on the latent grid (contracts §6a)
            if user_mask is not None:
                grid_mask = masks_to_grid(user_mask, self.latent["factor"]).double()
            if user_image is not None:
                grid_image = self._run("encoder", user_image)

        def on_frame(f: Frame) -> None:
            x0 = f.x0 if f.x0 is not None else grid_mask
            c = f.c if f.c is not None else grid_mask
            y0 = f.y0 if f.y0 is not None else grid_image
            if callback is not None:
                shown = latent_preview(y0, self.latent["preview"]) if self.latent else y0  # ẑ₀'s cheap preview (§6a)
                callback(PipelineFrame(f.index, steps, f.t, f.t_prev, _plane(x0), _plane(shown), _plane(c)))
            if callback_on_step_end is not None:
                state = {"x0": x0, "y0": y0, "c": c}
                given_kwargs = {k: state[k].float().clone() for k in asked}  # copies: the chains stay the pipeline's
                back = callback_on_step_end(self, f.index, f.t, given_kwargs)
                if not isinstance(back, dict):
                    raise TypeError(f"callback_on_step_end must return a dict (its callback_kwargs), got {type(back).__name__}")
                changed = [k for k in asked if k in back and not _same(back[k], state[k].float())]
                if changed:
                    raise ValueError(
                        f"callback_on_step_end changed {', '.join(changed)}: the pipeline's chains are not changed from a "
                        "callback (the pairs would no longer be the CLI's); return callback_kwargs as given"
                    )

        fx, fy = (conditioned(self._unet(role), *codes, stored_as_float32) for role in ("mask", "image"))
        noise = SeededNoise(seeds, self.grid, dtype=torch.float64)
        watch = callback is not None or callback_on_step_end is not None
        kw = {"eta": eta, "clip": clip, "store": stored_as_float32, "on_frame": on_frame if watch else None}
        kw["channels"] = self.channels
        if mode == "pair":
            r = sample_pair(fx, fy, self.schedule, steps, noise, **kw)
        elif mode == "mask2image":
            r = sample_image_from_mask(fy, grid_mask, self.schedule, steps, noise, **kw)
        else:
            r = segment_image(fx, grid_image, self.schedule, steps, noise, **kw)
        mask_out, image_out = r.mask, r.image
        if self.latent:  # the decoder on the last ẑ₀; x̂₀ brought to H×W (contracts §6a)
            if r.image is not None:
                image_out = final_image(lambda z: self._run("decoder", z), r.image)
            mask_out = final_mask(r.x0, self.resolution, stored_as_float32) if r.x0 is not None else user_mask
        image_out = image_out if image_out is not None else user_image
        labels = (mask_out[:, 0] > 0).numpy().astype(np.uint8)
        pixels = to_uint8(image_out.float())[:, 0].numpy()
        images, masks = _outputs(pixels, labels, image_out, output_type)
        if not return_dict:
            return images, masks
        raw = image_out[:, 0].float().numpy()
        return PigPipelineOutput(images, masks, seeds, labels, pixels, raw, steps, eta, clip, mode)
