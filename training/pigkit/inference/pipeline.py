"""A diffusers-style pipeline over an exported model folder (manifest.json + ONNX files): PIG's pairs,
and its two other modes, from Python on ONNX Runtime, equal to the studio CLI's to the bit.

    from pigkit.inference.pipeline import PigPipeline
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

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch

from pigkit.data.attributes import AttributeSpec
from pigkit.exporter.manifest import ManifestError, model_file, read_manifest
from pigkit.inference.pipeline_inputs import (
    STEP_TENSORS,
    batch_shape,
    check_dtype,
    condition,
    element_seeds,
    integer,
    output_options,
    sampler_settings,
)
from pigkit.inference.pipeline_output import PigPipelineOutput, PipelineFrame, pipeline_output, step_watcher
from pigkit.inference.runtime import CPU, CUDA, open_session, python_ort
from pigkit.model.latent import final_image, final_mask, masks_to_grid
from pigkit.model.sampler import SeededNoise, conditioned, sample_image_from_mask, sample_pair, segment_image
from pigkit.model.schedule import Schedule, stored_as_float32
from pigkit.model.unet import attribute_onehot

__all__ = ["PigPipeline", "PigPipelineOutput", "PipelineFrame"]
BINARIZE = {"kernel": 5, "weights": [0.75, 0.25]}  # the B(·) that binarize.binarize computes
OUTPUT_TYPES = ("pil", "np", "pt")


def _providers_of(device: torch.device) -> list:
    if device.type == "cpu":
        return [CPU]
    if device.type == "cuda":
        return [(CUDA, {"device_id": device.index or 0}), CPU]
    raise ValueError(f"device must be cpu or cuda[:N] (ONNX Runtime's CPU or CUDA provider), got {str(device)!r}")


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
        check_dtype(torch_dtype)
        if threads is not None:
            threads = integer(threads, "threads", 1, 1024)
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
        check_dtype(dtype)
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

    def _on_grid(self, user_mask: torch.Tensor | None, user_image: torch.Tensor | None) -> tuple:
        """The user's mask and image as the chains hold them: on the latent grid for a format-2 model
        (the mask pooled, the image encoded; contracts §6a), as given otherwise."""
        if not self.latent:
            return user_mask, user_image
        grid_mask = masks_to_grid(user_mask, self.latent["factor"]).double() if user_mask is not None else None
        return grid_mask, self._run("encoder", user_image) if user_image is not None else None

    def _final(self, r, user_mask: torch.Tensor | None, user_image: torch.Tensor | None) -> tuple:
        """(mask, ŷ₀) at H×W from the sampler's result: a latent model's ẑ₀ decoded and x̂₀ brought to
        H×W (contracts §6a); the user's own mask or image where the mode had one."""
        mask_out, image_out = r.mask, r.image
        if self.latent:
            if r.image is not None:
                image_out = final_image(lambda z: self._run("decoder", z), r.image)
            mask_out = final_mask(r.x0, self.resolution, stored_as_float32) if r.x0 is not None else user_mask
        return mask_out, image_out if image_out is not None else user_image

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
        integer in [0, 2³² − 1] or one per pair) or `generator` set their seeds (element_seeds), random when
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
        steps, eta, clip, guidance = sampler_settings(
            self.manifest["sampler"], self.schedule.T, num_inference_steps, eta, clip, guidance
        )
        asked = output_options(output_type, return_dict, callback_on_step_end_tensor_inputs, callback, callback_on_step_end)
        given = condition(mode, mask, image, self.resolution)
        requests, conditions, per = batch_shape(given, attributes, mode, seed, num_images_per_prompt, self.resolution, callback)
        seeds = element_seeds(seed, generator, conditions, per)

        def batch(t: torch.Tensor) -> torch.Tensor:  # condition i → elements i·per … i·per + per − 1
            return t.expand(conditions, *t.shape[1:]).repeat_interleave(per, 0)

        codes = self._codes([requests[i % len(requests)] for i in range(conditions) for _ in range(per)], float(guidance))
        user_mask, user_image = (batch(given[k]) if k in given else None for k in ("mask", "image"))
        grid_mask, grid_image = self._on_grid(user_mask, user_image)
        on_frame = step_watcher(self, steps, asked, callback, callback_on_step_end, grid_mask, grid_image)
        fx, fy = (conditioned(self._unet(role), *codes, stored_as_float32) for role in ("mask", "image"))
        noise = SeededNoise(seeds, self.grid, dtype=torch.float64)
        kw = {"eta": eta, "clip": clip, "store": stored_as_float32, "on_frame": on_frame, "channels": self.channels}
        if mode == "pair":
            r = sample_pair(fx, fy, self.schedule, steps, noise, **kw)
        elif mode == "mask2image":
            r = sample_image_from_mask(fy, grid_mask, self.schedule, steps, noise, **kw)
        else:
            r = segment_image(fx, grid_image, self.schedule, steps, noise, **kw)
        mask_out, image_out = self._final(r, user_mask, user_image)
        return pipeline_output(mask_out, image_out, seeds, (steps, eta, clip, mode), output_type, return_dict)
