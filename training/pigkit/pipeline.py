"""A diffusers-style pipeline over an exported model folder (manifest.json + ONNX files): PIG's pairs,
and its two other modes, from Python on ONNX Runtime, equal to the studio CLI's to the bit.

    from pigkit.pipeline import PigPipeline
    pipe = PigPipeline.from_pretrained("public/models/busbra64")
    out = pipe(seed=3)                    # the manifest's steps, η and clip unless given
    out.mask, out.image, out.image_uint8  # H×W: label 0/1 (uint8), ŷ₀ (float32), the image PNG's pixels

The loop is the kit's reference sampler (sampler.py: time pairs, noise streams, ddim_step, B(·)) with
the plain U-Nets (docs/contracts.md §1) on ONNX Runtime, in the studio core's arithmetic: every
element computed in float64 and stored as float32 (schedule.stored_as_float32), the seeded noise of
contracts §3. With the CLI's session options (runtime.py) on the CPU, `out.mask` is the CLI's
labelsTr PNG and `out.image_uint8` its imagesTr PNG, pixel for pixel, and `out.image` its raw ŷ₀
(tests/test_pipeline.py). Another provider (CUDA) runs other kernels: close, not identical.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from .attributes import AttributeSpec
from .binarize import to_uint8
from .data import image_units
from .latent import final_image, final_mask, latent_preview, masks_to_grid
from .limits import check_eta
from .manifest import ManifestError, model_file, read_manifest
from .runtime import open_session
from .sampler import Frame, SeededNoise, conditioned, sample_image_from_mask, sample_pair, segment_image
from .schedule import CLIP_MODES, Schedule, stored_as_float32
from .unet import attribute_onehot

MODES = ("pair", "mask2image", "image2mask")
BINARIZE = {"kernel": 5, "weights": [0.75, 0.25]}  # the B(·) that binarize.binarize computes


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
    mask: np.ndarray  # H×W uint8, 1 = lesion: B(x̂₀) of the last step (the user's mask in mask2image)
    image: np.ndarray  # H×W float32: ŷ₀ of the last step (the user's image in image2mask), model units
    image_uint8: np.ndarray  # H×W uint8: `image` as the 8-bit PNG the studio and CLI save
    seed: int
    steps: int
    eta: float
    clip: str
    mode: str


def _plane(t: torch.Tensor) -> np.ndarray:
    return t[0, 0].float().numpy()


class PigPipeline:
    """A model folder's two U-Nets on ONNX Runtime. `from_pretrained` opens it; calling it samples."""

    def __init__(self, folder: Path, manifest: dict, sessions: dict):
        self.folder, self.manifest, self.sessions = folder, manifest, sessions
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

    @classmethod
    def from_pretrained(
        cls, model_dir: str | Path, providers: list[str] | None = None, threads: int | None = None
    ) -> PigPipeline:
        """Opens `model_dir` (e.g. public/models/busbra64): manifest.json checked in full as the studio
        checks it (pigkit.manifest.validate_manifest: every field, η, T and the betas bounded, each
        graph's bytes and SHA-256 required), both ONNX files (and their weights files) checked
        against those sizes and SHA-256 before ONNX Runtime opens them, one session each. `providers`: ONNX
        Runtime execution providers (default CUDA where onnxruntime has it, else the CPU; the CLI's
        bits need ["CPUExecutionProvider"]); `threads`: intra-op threads (the CLI's --threads)."""
        folder = Path(model_dir)
        manifest = read_manifest(folder)
        binarize = manifest["sampler"].get("binarize", BINARIZE)
        if binarize != BINARIZE:
            raise ManifestError(f"{folder / 'manifest.json'}: sampler.binarize {binarize}: the kit's B(·) is {BINARIZE}")
        roles = ("mask", "image", "encoder", "decoder") if manifest.get("latent") else ("mask", "image")
        files = {role: model_file(folder, manifest, role) for role in roles}
        sessions = {}
        try:
            for role, path in files.items():
                sessions[role] = open_session(path, threads, providers)
        except Exception:
            for s in sessions.values():
                s.close()
            raise
        return cls(folder, manifest, sessions)

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

    def _unet(self, role: str) -> Callable[..., torch.Tensor]:
        """model_x or model_y as the sampler calls it: ([1, 1 + C, h, w], t[, attrs=]) → ε, float32
        values in float64; `attrs` the one-hot attribute code of a format-2 model (contracts §6b)."""
        session = self.sessions[role]
        names = [i["name"] for i in self.manifest["models"][role].get("inputs", [{"name": "x"}, {"name": "t"}])]

        def eps(x: torch.Tensor, t: torch.Tensor, attrs: torch.Tensor | None = None) -> torch.Tensor:
            feeds = {names[0]: x.float().numpy(), names[1]: t.float().numpy()}
            if attrs is not None:
                feeds[names[2]] = attrs.float().numpy()
            out = next(iter(session.run(feeds).values()))
            if not np.isfinite(out).all():
                raise FloatingPointError(f"{self.folder}: the {role} model gave a non-finite ε at t = {int(t[0])}")
            return torch.from_numpy(out).double()

        return eps

    def _run(self, role: str, x: torch.Tensor) -> torch.Tensor:
        """The encoder or decoder graph on a float64 tensor (float32 values), its output in float64."""
        session, name = self.sessions[role], self.manifest["models"][role]["inputs"][0]["name"]
        out = next(iter(session.run({name: x.float().numpy()}).values()))
        if not np.isfinite(out).all():
            raise FloatingPointError(f"{self.folder}: the {role} gave non-finite values")
        return torch.from_numpy(out).double()

    def _codes(self, attributes: dict | None, guidance: float) -> tuple:
        """(code, guidance, all-none code) for `conditioned`: the one-hot attribute codes of contracts
        §6b; (None, 1, None) for a model without attributes, which refuses a request."""
        if self.attributes is None:
            if attributes:
                raise ValueError(f"{self.name} has no attributes; it takes no attributes= (got {sorted(attributes)})")
            return None, 1.0, None
        ids = torch.tensor([self.attributes.encode({k: str(v) for k, v in (attributes or {}).items()})])
        none = torch.zeros_like(ids)
        sizes = self.attributes.sizes()
        return attribute_onehot(ids, sizes).double(), guidance, attribute_onehot(none, sizes).double()

    def _plane_input(self, value, what: str) -> np.ndarray:
        a = np.asarray(value)
        if a.shape != self.resolution:
            h, w = self.resolution
            raise ValueError(
                f"{what} is {'×'.join(map(str, a.shape)) or 'a scalar'}, the model needs {h}×{w} (H×W): "
                "resize it first (the kit's loader: pigkit.data.mask_bits / image_pixels)"
            )
        return a

    def _condition(self, mode: str, mask, image) -> dict:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
        wanted = {"pair": (), "mask2image": ("mask",), "image2mask": ("image",)}[mode]
        for name, value in (("mask", mask), ("image", image)):
            if (value is None) == (name in wanted):
                raise ValueError(f"mode {mode} {'needs' if name in wanted else 'takes no'} {name}=")
        if mode == "mask2image":
            m = self._plane_input(mask, "the mask")
            if not (m > 0).any():
                raise ValueError("the mask has no lesion pixel (values > 0 are lesion)")
            return {"mask": torch.from_numpy(np.where(m > 0, 1.0, -1.0)).view(1, 1, *self.resolution)}
        if mode == "image2mask":
            y = self._plane_input(image, "the image")
            if np.issubdtype(y.dtype, np.integer):  # 8-bit pixels, scaled as the training loader scales them
                if y.min() < 0 or y.max() > 255:
                    raise ValueError(f"the image's integer pixels must be 8-bit (0 to 255), got {y.min()} to {y.max()}")
                y = image_units(y.astype(np.uint8))
            y = y.astype(np.float32)
            if not np.isfinite(y).all():
                raise ValueError("the image has non-finite values")
            return {"image": torch.from_numpy(y).double().view(1, 1, *self.resolution)}
        return {}

    def __call__(
        self,
        num_inference_steps: int | None = None,
        eta: float | None = None,
        clip: str | None = None,
        seed: int = 0,
        mode: str = "pair",
        mask=None,
        image=None,
        callback: Callable[[PipelineFrame], None] | None = None,
        attributes: dict | None = None,
        guidance: float | None = None,
    ) -> PigPipelineOutput:
        """One generation. `num_inference_steps`, `eta`, `clip`: DDIM steps, η and the sampler option
        clip (none | image | both), default the manifest's `sampler`; `seed` in [0, 2³² − 1] (the
        studio's seed); `mode`: pair (both U-Nets), mask2image (`mask`: H×W, lesion where > 0) or
        image2mask (`image`: H×W, uint8 pixels or float model units in [−1, 1]); `attributes` (a
        format-2 model's, e.g. {"pathology": "malignant"}; others "any") and `guidance` w (default the
        manifest's `sampler.guidance`; contracts §6b); `callback(frame)`
        after every step."""
        sampler = self.manifest["sampler"]
        steps = sampler["steps"] if num_inference_steps is None else num_inference_steps
        eta = check_eta(sampler["eta"] if eta is None else eta)
        clip = sampler.get("clip", "none") if clip is None else clip
        if not isinstance(steps, int) or isinstance(steps, bool) or not 1 <= steps <= self.schedule.T:
            raise ValueError(f"num_inference_steps must be an integer in [1, {self.schedule.T}], got {steps!r}")
        if clip not in CLIP_MODES:
            raise ValueError(f"clip must be one of {', '.join(CLIP_MODES)}, got {clip!r}")
        if not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed <= 0xFFFFFFFF:
            raise ValueError(f"seed must be an integer in [0, 2^32 - 1], got {seed!r}")
        guidance = self.manifest["sampler"].get("guidance", 1.0) if guidance is None else float(guidance)
        if not 0 <= guidance <= 20:
            raise ValueError(f"guidance must be from 0 to 20, got {guidance}")
        codes = self._codes(attributes, guidance)
        given = self._condition(mode, mask, image)
        user_mask, user_image = given.get("mask"), given.get("image")

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
            if self.latent:  # the step's cheap preview of ẑ₀ (contracts §6a)
                y0 = latent_preview(y0, self.latent["preview"])
            callback(PipelineFrame(f.index, steps, f.t, f.t_prev, _plane(x0), _plane(y0), _plane(c)))

        fx, fy = (conditioned(self._unet(role), *codes, stored_as_float32) for role in ("mask", "image"))
        noise = SeededNoise([seed], self.grid, dtype=torch.float64)
        kw = {"eta": eta, "clip": clip, "store": stored_as_float32, "on_frame": on_frame if callback else None}
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
        return PigPipelineOutput(
            mask=(_plane(mask_out) > 0).astype(np.uint8),
            image=_plane(image_out),
            image_uint8=to_uint8(image_out.float())[0, 0].numpy(),
            seed=seed,
            steps=steps,
            eta=eta,
            clip=clip,
            mode=mode,
        )
