"""The downstream table's rows and generated sets (pigkit.downstream): which pairs each row trains on, each set
drawn once (or read from the studio CLI's pairs) and cached under OUT/generated."""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import torch

from pigkit.evaluation.generated import read_generated
from pigkit.evaluation.segment import dice_iou, predict_masks
from pigkit.model.binarize import to_uint8
from pigkit.model.sampler import TorchNoise, sample_image_from_mask, sample_image_unconditional, sample_pair
from pigkit.model.schedule import Schedule
from pigkit.training.checkpoint import load_checkpoint_file

SET_LABELS = {"pig": "pig", "m2i": "mask→image", "siamese-pig": "siamese pig", "siamese-m2i": "siamese mask→image"}


USES = {"mix": "", "filtered": " filtered", "pretrain": " pretrain→finetune"}


@dataclass(frozen=True)
class Row:
    """One table row: the real training pairs, plus `multiple` × N pairs of a generated set used one
    way: mixed in (`mix`), mixed in after filtering (`filtered`: empty masks dropped, and pairs whose
    mask the `real` row's segmenter disagrees with), or as a pre-training set before fine-tuning on
    the real pairs alone (`pretrain`)."""

    name: str
    generated: str | None  # the generated set it uses (None: real only)
    multiple: float = 1
    use: str = "mix"


def parse_rows(spec: str) -> list[Row]:
    """`real` first, then each comma-separated SET:MULTIPLE[:USE] (e.g. pig:1, pig:0.5,
    pig:1:filtered, pig:1:pretrain, m2i:1)."""
    rows = [Row("real", None)]
    for item in filter(None, (part.strip() for part in spec.split(","))):
        fields = item.split(":")
        if item == "real":
            continue
        if len(fields) not in (2, 3) or fields[0] not in SET_LABELS or (len(fields) == 3 and fields[2] not in USES):
            raise ValueError(
                f"row {item!r}: write SET:MULTIPLE[:USE], SET one of {sorted(SET_LABELS)}, USE one of {sorted(USES)}"
            )
        multiple, use = float(fields[1]), fields[2] if len(fields) == 3 else "mix"
        if multiple <= 0:
            raise ValueError(f"row {item!r}: the multiple must be positive")
        rows.append(Row(f"{SET_LABELS[fields[0]]} ×{multiple:g}{USES[use]}", fields[0], multiple, use))
    return rows


def default_rows(have_siamese: bool, multiples: list[float]) -> str:
    sets = ["pig", "m2i"] + (["siamese-pig", "siamese-m2i"] if have_siamese else [])
    return ",".join(f"{s}:{k:g}" for s in sets for k in (multiples if s.endswith("pig") else [1]))


def filter_pairs(segmenter, masks: torch.Tensor, images: torch.Tensor, min_dice: float = 0.5) -> torch.Tensor:
    """Which generated pairs to keep: a lesion in the mask, and a mask that a segmenter trained on
    real pairs alone agrees with (Dice of its prediction on the image ≥ min_dice)."""
    nonempty = (masks > 0).flatten(1).any(1)
    dice, _ = dice_iou(predict_masks(segmenter, images), masks > 0)
    return nonempty & (dice >= min_dice)


def generate_set(
    name: str,
    kind: str,
    models: dict,
    schedule: Schedule,
    n: int,
    steps: int,
    eta: float,
    batch: int,
    seed: int,
    device,
    train_masks: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """n generated pairs of one kind on the CPU: masks ±1 and images as the 8-bit pixels an exported
    pair holds."""
    g = torch.Generator().manual_seed(seed)
    res = next(iter(models.values())).resolution
    masks, images, t0 = [], [], time.time()
    for start in range(0, n, batch):
        b = min(batch, n - start)
        noise = TorchNoise(b, (res, res), g, device)
        if kind == "pig":
            out = sample_pair(models["mask"], models["image"], schedule, steps, noise, eta=eta)
        elif kind == "m2i":
            out = sample_image_from_mask(
                models["image"], train_masks[start : start + b].to(device), schedule, steps, noise, eta=eta
            )
        else:  # uncond: images only, no mask
            out = sample_image_unconditional(models["image"], schedule, steps, noise, eta=eta)
            out.mask = -torch.ones_like(out.image)
        masks.append(out.mask.cpu())
        images.append(to_uint8(out.image.cpu()))
        done = start + b
        print(f"  {name}: {done}/{n} ({(time.time() - t0) / done * (n - done):.0f} s left)", file=sys.stderr, flush=True)
    return torch.cat(masks), torch.cat(images)


def cached_set(path: Path, meta: dict, make) -> tuple[torch.Tensor, torch.Tensor]:
    """The set stored at PATH if it was made with META, else make() (masks ±1, uint8 pixels) stored
    there; returned as masks ±1 and images in model units, the same either way."""
    saved = load_checkpoint_file(path) if path.is_file() else None
    if saved is not None and saved.get("meta") != meta:
        print(f"{path}: made with other models or settings, generating it again", file=sys.stderr)
        saved = None
    if saved is None:
        masks, pixels = make()
        saved = {"meta": meta, "masks": masks.to(torch.int8), "images": pixels}
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".partial")
        torch.save(saved, tmp)
        tmp.replace(path)
    return saved["masks"].float(), saved["images"].float() / 127.5 - 1


@dataclass(frozen=True)
class SetJob:
    """One generated set to draw (or find already drawn at `path` with the same `meta`)."""

    name: str
    kind: str  # pig, m2i or uncond
    models: dict  # role → model
    count: int
    steps: int
    eta: float
    batch: int
    seed: int
    device: str
    train_masks: torch.Tensor | None  # the conditions of mask → image (only that kind carries them to a worker)
    path: Path
    meta: dict
    threads: int


def draw_set(job: SetJob) -> tuple[torch.Tensor, torch.Tensor]:
    if job.threads:
        torch.set_num_threads(job.threads)
    print(f"generated set {job.name}: {job.count} ({job.kind})", file=sys.stderr, flush=True)
    return cached_set(
        job.path,
        job.meta,
        lambda: generate_set(
            job.name,
            job.kind,
            job.models,
            Schedule(),
            job.count,
            job.steps,
            job.eta,
            job.batch,
            job.seed,
            torch.device(job.device),
            job.train_masks,
        ),
    )


def read_pairs_set(folder: Path, resolution: int) -> tuple[torch.Tensor, torch.Tensor, dict]:
    """The studio CLI's pairs (nnU-Net raw layout) as a generated set, in case order, with what made them."""
    masks, images = read_generated(folder, resolution)
    manifest = json.loads((folder / "manifest.json").read_text()) if (folder / "manifest.json").is_file() else {}
    # the model that made them (name, files and sha256), not the folder's list of cases
    return masks, images, {"folder": str(folder.resolve()), "n": len(masks), "model": manifest.get("model")}


def row_iterations(row: Row, seg_iters: int, n_real: int, n_generated: int, budget: str) -> tuple[int, int]:
    """(pre-training, training) iterations of a row. `passes`: the real pairs are seen as often as
    in `real` (seg_iters × (N + G) / N mixed in; a pre-training takes seg_iters × G / N iterations
    on its G pairs, then seg_iters on the real ones); `iters`: seg_iters in all for every row."""
    if budget == "passes":
        if row.use == "pretrain":
            return round(seg_iters * n_generated / n_real), seg_iters
        return 0, round(seg_iters * (n_real + n_generated) / n_real)
    if row.use == "pretrain":
        pre = round(seg_iters * n_generated / (n_real + n_generated))
        return pre, seg_iters - pre
    return 0, seg_iters
