"""Image/mask pair folders: discovery, validation with clear messages, patient-level folds.

A folder holds images and masks either in two subfolders (`Images/` + `Masks/`, any case, or
`images/` + `masks/`) or side by side. Partners are matched by name: identical file names in the
two subfolders, or BUS-BRA's `bus_X.png` ↔ `mask_X.png`. Everything is resized to the configured
square resolution (images bilinear, masks by area then thresholded at one half) and scaled to
[-1, 1]; the aspect ratio is not kept, as in PIG's preprocessing of whole slices.
"""
from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff"}


class DataError(ValueError):
    """A problem with the user's data, with a message naming the file and what is wrong."""


@dataclass(frozen=True)
class Pair:
    case_id: str  # e.g. "bus_0001-l": the image's stem, which fold CSVs refer to
    image: Path
    mask: Path


def _find_subdir(root: Path, name: str) -> Path | None:
    for child in root.iterdir():
        if child.is_dir() and child.name.lower() == name:
            return child
    return None


def _image_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def _mask_key_for(image_stem: str) -> str:
    return "mask_" + image_stem[4:] if image_stem.startswith("bus_") else image_stem


def discover_pairs(root: str | os.PathLike) -> list[Pair]:
    """All (image, mask) pairs under root; refuses a folder with any unmatched file."""
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"{root}: dataset folder does not exist")
    img_dir, mask_dir = _find_subdir(root, "images"), _find_subdir(root, "masks")
    if img_dir is None or mask_dir is None:
        raise DataError(f"{root}: expected two subfolders 'Images' and 'Masks' (any case)")
    images, masks = _image_files(img_dir), _image_files(mask_dir)
    if not images:
        raise DataError(f"{img_dir}: no images found (looked for {', '.join(sorted(IMAGE_SUFFIXES))})")
    masks_by_stem = {m.stem: m for m in masks}
    pairs, problems = [], []
    for img in images:
        key = _mask_key_for(img.stem)
        mask = masks_by_stem.pop(key, None) or masks_by_stem.pop(img.stem, None)
        if mask is None:
            problems.append(f"{img}: no mask partner (expected {mask_dir / (key + img.suffix)})")
        else:
            pairs.append(Pair(img.stem, img, mask))
    for orphan in masks_by_stem.values():
        problems.append(f"{orphan}: mask has no image partner")
    if problems:
        raise DataError(f"{len(problems)} unmatched file(s):\n  " + "\n  ".join(problems))
    return pairs


def read_folds(csv_path: str | os.PathLike, column: str = "kFold") -> dict[str, int]:
    """case id → fold number from a fold CSV (BUS-BRA's 5-fold-cv.csv: columns ID, kFold)."""
    path = Path(csv_path)
    if not path.is_file():
        raise DataError(f"{path}: fold CSV not found")
    with path.open(newline="") as f:
        reader = csv.DictReader(f)
        if reader.fieldnames is None or "ID" not in reader.fieldnames or column not in reader.fieldnames:
            raise DataError(f"{path}: needs columns 'ID' and '{column}', has {reader.fieldnames}")
        return {row["ID"]: int(row[column]) for row in reader}


def select_folds(pairs: list[Pair], folds: dict[str, int], wanted: set[int]) -> list[Pair]:
    missing = [p.case_id for p in pairs if p.case_id not in folds]
    if missing:
        raise DataError(f"{len(missing)} case(s) have no fold in the fold CSV, e.g. {missing[:3]}")
    return [p for p in pairs if folds[p.case_id] in wanted]


def _open(path: Path, what: str) -> Image.Image:
    try:
        im = Image.open(path)
        im.load()
        return im
    except (UnidentifiedImageError, OSError) as e:
        raise DataError(f"{path}: cannot read {what} ({e.__class__.__name__}: {e})") from None


def load_image(path: Path, resolution: int) -> np.ndarray:
    """Grayscale image → float32 [H, W] in [-1, 1]."""
    im = _open(path, "image")
    if im.mode in ("I;16", "I;16B", "I"):
        arr = np.asarray(im, dtype=np.float64)
        arr = (arr - arr.min()) / max(arr.max() - arr.min(), 1.0)
        im = Image.fromarray((arr * 255).astype(np.uint8))
    im = im.convert("L").resize((resolution, resolution), Image.BILINEAR)
    return np.asarray(im, dtype=np.float32) / 127.5 - 1.0


def load_mask(path: Path, resolution: int) -> np.ndarray:
    """Binary mask → float32 [H, W] in {-1, +1}; refuses masks with more than two levels."""
    im = _open(path, "mask")
    arr = np.asarray(im.convert("L"))
    levels = np.unique(arr)
    if len(levels) > 2:
        raise DataError(f"{path}: mask is not binary ({len(levels)} distinct values, e.g. {levels[:5].tolist()})")
    if levels.max() == 0:
        raise DataError(f"{path}: mask is empty (no lesion pixel)")
    binary = Image.fromarray(((arr == levels.max()) * 255).astype(np.uint8))
    small = np.asarray(binary.resize((resolution, resolution), Image.BOX), dtype=np.float32) / 255.0
    return np.where(small >= 0.5, 1.0, -1.0).astype(np.float32)


class PairDataset(torch.utils.data.Dataset):
    """All pairs decoded once into memory as float32 tensors [N, 1, H, W] (small at 64²–512²)."""

    def __init__(self, pairs: list[Pair], resolution: int):
        if not pairs:
            raise DataError("no pairs selected (check the folds you asked for)")
        self.pairs, self.resolution = pairs, resolution
        self.images = torch.from_numpy(np.stack([load_image(p.image, resolution) for p in pairs]))[:, None]
        self.masks = torch.from_numpy(np.stack([load_mask(p.mask, resolution) for p in pairs]))[:, None]

    def __len__(self) -> int:
        return len(self.pairs)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.masks[i], self.images[i]


def open_dataset(root: str | os.PathLike, resolution: int, folds: set[int] | None = None,
                 fold_csv: str | os.PathLike | None = None) -> PairDataset:
    """The pairs of `root` (optionally only the given folds of a fold CSV, BUS-BRA's by default)."""
    pairs = discover_pairs(root)
    if folds:
        csv_path = Path(fold_csv) if fold_csv else Path(root) / "5-fold-cv.csv"
        pairs = select_folds(pairs, read_folds(csv_path), folds)
    return PairDataset(pairs, resolution)
