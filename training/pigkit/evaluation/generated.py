"""The generated pairs an evaluation reads: sampled here from a run's checkpoints (the reference
sampler), or the studio CLI's output folder (nnU-Net v2 raw layout) read and checked, against the
real folds; the CLI's timing from its logs; a sheet of generated beside real pairs."""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from pigkit.data.pairs import open_dataset, open_image
from pigkit.model.binarize import to_uint8
from pigkit.model.limits import MAX_RESOLUTION
from pigkit.model.sampler import TorchNoise, sample_pair
from pigkit.model.schedule import Schedule
from pigkit.training.checkpoint import load_model_checkpoint


def generate(
    run: Path, n: int, steps: int, batch: int, seed: int, eta: float = 0.0, clip: str = "none", device: str = "cpu"
) -> tuple[torch.Tensor, torch.Tensor, float]:
    """n pairs from the run's checkpoints on `device` (noise drawn on the CPU from `seed`, so a
    device changes only the arithmetic); returned on the CPU."""
    # channels-last: the same sums in another memory layout, 1.3× faster here (5 steps of batch 32, measured under load)
    model_x = load_model_checkpoint(run / "mask" / "ckpt.pt", device).to(memory_format=torch.channels_last)
    model_y = load_model_checkpoint(run / "image" / "ckpt.pt", device).to(memory_format=torch.channels_last)
    res = model_x.resolution
    g = torch.Generator().manual_seed(seed)
    masks, images, t0 = [], [], time.perf_counter()
    for start in range(0, n, batch):
        b = min(batch, n - start)
        out = sample_pair(model_x, model_y, Schedule(), steps, TorchNoise(b, (res, res), g, device), eta=eta, clip=clip)
        masks.append(out.mask.cpu())
        images.append(out.image.cpu())
        print(f"generated {start + b}/{n}", file=sys.stderr, flush=True)
    return torch.cat(masks), torch.cat(images), (time.perf_counter() - t0) / n


def generated_images(folder: Path) -> list[Path]:
    """The image files of the CLI's output folder (imagesTr/<case>_0000.png), in case order;
    FileNotFoundError where there are none, ValueError for a file that is a link out of the folder."""
    images = sorted((folder / "imagesTr").glob("*_0000.png"))
    if not images:
        raise FileNotFoundError(f"{folder}: no imagesTr/*_0000.png (generate an nnU-Net raw dataset with npm run generate)")
    for path in images:
        _refuse_link_out(path, folder)
    return images


def _refuse_link_out(path: Path, folder: Path) -> None:
    # a link may point anywhere: only files inside the folder are read
    if not path.resolve().is_relative_to(folder.resolve()):
        raise ValueError(f"{path}: links out of {folder}; copy the file into the folder instead")


def generated_case_names(folder: Path) -> list[str]:
    """The cases of a CLI output folder (pig_0000000007 …), in the order read_generated returns them."""
    return [p.name[: -len("_0000.png")] for p in generated_images(folder)]


def case_record(folder: Path, name: str) -> dict:
    """The CLI's record of one case (cases/<case>.json: its seed, mode, attributes, source …), at most 1 MiB,
    never through a link; FileNotFoundError naming it where there is none."""
    record = folder / "cases" / f"{name}.json"
    if not record.is_file() or record.is_symlink() or record.stat().st_size > 1 << 20:
        raise FileNotFoundError(f"{record}: no case record (generate with the studio's CLI, npm run generate)")
    return json.loads(record.read_text(encoding="utf-8")).get("case", {})


def generated_resolution(folder: Path) -> int:
    """The side of the CLI's (square) generated images, from the first case; ValueError for a non-square one."""
    first = generated_images(folder)[0]
    w, h = open_image(first, "generated image").size
    if w != h:
        raise ValueError(f"{first}: {w}×{h} is not square; the kit compares square pairs")
    return w


def open_generated(folder: Path, max_pairs: int) -> tuple[list[str], torch.Tensor, torch.Tensor]:
    """Case names, masks and images (as read_generated) of the CLI's output folder at its own
    resolution, for tools that take any model's pairs (pigkit.audit, real-vs-synthetic); at most
    `max_pairs` of them and MAX_RESOLUTION². Every problem is a FileNotFoundError or ValueError naming it."""
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: not a folder (give the output folder of npm run generate)")
    cases = generated_case_names(folder)
    res = generated_resolution(folder)
    if len(cases) > max_pairs or res > MAX_RESOLUTION:
        raise ValueError(f"{folder}: {len(cases)} pairs at {res}²; this takes up to {max_pairs} at up to {MAX_RESOLUTION}²")
    return cases, *read_generated(folder, res)


def open_against_real(folder: Path, data, folds: dict[str, str], fold_csv, max_pairs: int) -> tuple:
    """The generated pairs of `folder` (open_generated: case names, masks, images) and, for each
    flag → fold list of `folds`, the real pairs of those folds of `data` at the generated resolution
    (None for an empty list). Fold lists that share a fold are refused, naming both flags."""
    sets = {flag: parse_folds(text, flag) for flag, text in folds.items()}
    named = list(sets.items())
    for i, (flag_a, a) in enumerate(named):
        for flag_b, b in named[i + 1 :]:
            if a & b:
                raise ValueError(f"fold(s) {sorted(a & b)} are in both {flag_a} and {flag_b}: each set must be other patients")
    cases, masks, images = open_generated(folder, max_pairs)
    real = {flag: open_dataset(data, images.shape[-1], f, fold_csv) if f else None for flag, f in sets.items()}
    return cases, masks, images, real


def add_generated_arguments(p: argparse.ArgumentParser, folds: dict[str, tuple[str, str]]) -> None:
    """--generated, --data, the fold lists (flag → (default, help)), --fold-csv, --out and --threads:
    the options of the tools that read any model's pairs against real folds (open_against_real)."""
    p.add_argument("--generated", required=True, help="the generated pairs (npm run generate's output folder)")
    p.add_argument("--data", required=True, help="the real pairs: a folder with a fold CSV, or a pack (.npz)")
    for flag, (default, help) in folds.items():
        p.add_argument(flag, default=default, help=help)
    p.add_argument("--fold-csv", default=None, help="the fold CSV (default DATA/5-fold-cv.csv)")
    p.add_argument("--out", required=True)
    p.add_argument("--threads", type=int, default=0)


def parse_folds(text: str, flag: str) -> set[int]:
    """`1,2,3` → {1, 2, 3} (folds, seeds); ValueError naming the flag otherwise ('' → the empty set)."""
    try:
        return {int(f) for f in text.split(",")} if text.strip() else set()
    except ValueError:
        raise ValueError(f"{flag} takes whole numbers separated by commas, e.g. 1,2,3; got {text!r}") from None


def read_generated(folder: Path, resolution: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Pairs written by the studio's CLI (`npm run generate`) as an nnU-Net v2 raw dataset:
    imagesTr/<case>_0000.png (8-bit gray) and labelsTr/<case>.png (0 = background, 1 = lesion).
    Returns masks as ±1 and images in model units [-1, 1], both [N, 1, H, W], in case order.
    A folder without cases, a case without its label or a file that cannot be read (truncated, not
    a PNG) raises FileNotFoundError or DataError naming it; a wrong size or label values, ValueError."""
    names = generated_case_names(folder)
    masks, imgs = [], []
    for name in names:
        path, label_path = folder / "imagesTr" / f"{name}_0000.png", folder / "labelsTr" / f"{name}.png"
        if not label_path.exists():
            raise FileNotFoundError(f"{path}: no label {label_path}")
        _refuse_link_out(label_path, folder)
        im = np.asarray(open_image(path, "generated image").convert("L"), dtype=np.float32)
        lab = np.asarray(open_image(label_path, "generated label"))
        if im.shape != (resolution, resolution):
            raise ValueError(f"{path}: {im.shape} is not the model's {resolution}²")
        if lab.shape != im.shape or not np.isin(lab, (0, 1)).all():
            raise ValueError(
                f"{label_path}: labels must be 0/1 of shape {im.shape}, "
                f"got values {np.unique(lab)[:5].tolist()} and shape {lab.shape}"
            )
        imgs.append(im / 127.5 - 1)
        masks.append(np.where(lab == 1, 1.0, -1.0))
    return (
        torch.tensor(np.stack(masks), dtype=torch.float32)[:, None],
        torch.tensor(np.stack(imgs), dtype=torch.float32)[:, None],
    )


def cli_timing(folder: Path) -> dict | None:
    """ms per pair and per step from the CLI's logs (generate-*.log beside the generated folder)."""
    per_pair, per_step = [], []
    for log in sorted(folder.parent.glob("generate-*.log")):
        for line in log.read_text().splitlines():
            m = re.match(r"seed \d+: ([\d.]+) ms, ([\d.]+) ms/step", line)
            if m:
                per_pair.append(float(m.group(1)))
                per_step.append(float(m.group(2)))
    if not per_pair:
        return None
    return {
        "ms_per_pair_median": float(np.median(per_pair)),
        "ms_per_step_median": float(np.median(per_step)),
        "pairs_timed": len(per_pair),
        "backend": "onnxruntime-node CPU, 1 thread per process",
    }


def samples_grid(gen_masks, gen_images, real_masks, real_images, path: Path, k: int = 16, scale: int | None = None) -> None:
    """Two blocks side by side: generated (left) and real (right); each pair is mask above image,
    eight pairs to a row; pixels doubled up to 64² slices (the default scale), larger ones as they are."""
    scale = scale or (2 if gen_masks.shape[-1] <= 64 else 1)
    k = min(k, len(gen_masks), len(real_masks))
    per_row = min(8, k)

    def block(masks, images):
        cols = [np.concatenate([to_uint8(masks[i, 0]).numpy(), to_uint8(images[i, 0]).numpy()], 0) for i in range(k)]
        cols += [np.zeros_like(cols[0])] * (-k % per_row)
        return np.concatenate([np.concatenate(cols[r : r + per_row], 1) for r in range(0, len(cols), per_row)], 0)

    left, right = block(gen_masks, gen_images), block(real_masks, real_images)
    gap = np.full((left.shape[0], 8), 128, np.uint8)
    grid = np.concatenate([left, gap, right], 1)
    Image.fromarray(grid).resize((grid.shape[1] * scale, grid.shape[0] * scale), Image.NEAREST).save(path)
