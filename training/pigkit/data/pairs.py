"""Image/mask pair folders: discovery, validation with clear messages, patient-level folds.

A folder with bad files is refused as a whole, in one DataError naming every bad file and what is
wrong with it (not only the first), so one pass fixes them all.

A folder holds images and masks either in two subfolders (`Images/` + `Masks/`, any case, or
`images/` + `masks/`) or side by side. Partners are matched by name: identical file names in the
two subfolders, or BUS-BRA's `bus_X.png` ↔ `mask_X.png`. Everything is resized to the configured
square resolution (images bilinear, masks by area then thresholded at one half) and scaled to
[-1, 1]; the aspect ratio is not kept, as in PIG's preprocessing of whole slices.

A packed dataset (one `.npz` file from `python3 -m pigkit.pack`) stands in for a folder wherever
`--data` is asked for: its pairs were decoded by this module at one resolution and are stored as
8-bit pixels with their fold ids and case names, so it gives the same tensors, in the same order,
as the folder it was made from.
"""

from __future__ import annotations

import csv
import json
import os
import random
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff"}
# PIL modes with a defined gray reading, the ones the studio reads too (gray, gray+alpha, palette,
# RGB(A), 8 or 16 bit); others (CMYK, YCbCr, LAB, HSV, 32-bit float …) are refused, not guessed
READABLE_MODES = {"1", "L", "LA", "La", "P", "PA", "RGB", "RGBA", "RGBa", "RGBX", "I", "I;16", "I;16B", "I;16L", "I;16N"}


class DataError(ValueError):
    """A problem with the user's data, with a message naming the file and what is wrong."""


def _refuse(problems: list[str], where) -> None:
    """One DataError listing every problem found (each line starts with the file it is about)."""
    if problems:
        raise DataError(
            f"{where}: {len(problems)} problem(s), nothing was loaded; fix or remove these files "
            f"and run again:\n  " + "\n  ".join(problems)
        )


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
    """All (image, mask) pairs under root; refuses a folder with any unmatched file, naming each."""
    pairs, problems, _ = _match_pairs(root)
    _refuse(problems, root)
    return pairs


def _match_pairs(root: str | os.PathLike) -> tuple[list[Pair], list[str], dict[str, Path]]:
    """The pairs, one line per unmatched file, and every image by stem (matched or not). Raises at
    once only when there is nothing to match (no folder, no subfolders, no images)."""
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
    return pairs, problems, {img.stem: img for img in images}


def read_folds(csv_path: str | os.PathLike, column: str = "kFold") -> dict[str, int]:
    """case id → fold number from a fold CSV (BUS-BRA's 5-fold-cv.csv: columns ID, kFold)."""
    folds, problems = _read_folds(Path(csv_path), column)
    _refuse(problems, csv_path)
    return folds


def _read_folds(path: Path, column: str) -> tuple[dict[str, int], list[str]]:
    """The folds of the rows that parse, and one line per row that does not; raises at once when
    the file is missing or lacks the columns."""
    if not path.is_file():
        raise DataError(f"{path}: fold CSV not found")
    folds, first_row, problems = {}, {}, []
    with path.open(newline="") as f:
        reader = csv.DictReader(f)
        if reader.fieldnames is None or "ID" not in reader.fieldnames or column not in reader.fieldnames:
            raise DataError(f"{path}: needs columns 'ID' and '{column}', has {reader.fieldnames}")
        for row in reader:
            line, case, value = reader.line_num, (row["ID"] or "").strip(), (row[column] or "").strip()
            try:
                fold = int(value)
            except ValueError:
                problems.append(f"{path} line {line}: {column} {value!r} of {case or 'a row without ID'} is not a whole number")
                continue
            if not case:
                problems.append(f"{path} line {line}: no ID")
            elif case in folds and folds[case] != fold:
                problems.append(
                    f"{path} line {line}: {case} is in fold {fold} here and in fold {folds[case]} on line {first_row[case]}"
                )
            else:
                folds.setdefault(case, fold)
                first_row.setdefault(case, line)
    return folds, problems


def open_image(path: Path, what: str) -> Image.Image:
    """The image file at `path`, loaded; DataError naming it (and `what` it is) when it cannot be read."""
    try:
        im = Image.open(path)
        im.load()
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as e:
        raise DataError(f"{path}: cannot read {what} ({e.__class__.__name__}: {e})") from None
    if getattr(im, "n_frames", 1) > 1:
        raise DataError(f"{path}: {what} has {im.n_frames} frames (a stack or an animation); save one 2-D {what} per file")
    if im.mode not in READABLE_MODES:
        raise DataError(
            f"{path}: {what} has pixel mode {im.mode!r}; the kit reads gray, gray+alpha, palette and "
            f"RGB(A) files of 8 or 16 bits: convert it to one of those"
        )
    return im


def image_pixels(path: Path, resolution: int) -> np.ndarray:
    """Grayscale image → uint8 [H, W] at the training resolution (what a pack stores)."""
    im = open_image(path, "image")
    if im.mode in ("I;16", "I;16B", "I"):
        arr = np.asarray(im, dtype=np.float64)
        arr = (arr - arr.min()) / max(arr.max() - arr.min(), 1.0)
        im = Image.fromarray((arr * 255).astype(np.uint8))
    return np.asarray(im.convert("L").resize((resolution, resolution), Image.BILINEAR), dtype=np.uint8)


def mask_bits(path: Path, resolution: int) -> np.ndarray:
    """Binary mask → uint8 [H, W] of 0/1 at the training resolution; refuses masks with more than two levels."""
    im = open_image(path, "mask")
    arr = np.asarray(im.convert("L"))
    levels = np.unique(arr)
    if len(levels) > 2:
        raise DataError(f"{path}: mask is not binary ({len(levels)} distinct values, e.g. {levels[:5].tolist()})")
    if levels.max() == 0:
        raise DataError(f"{path}: mask is empty (no lesion pixel)")
    binary = Image.fromarray(((arr == levels.max()) * 255).astype(np.uint8))
    small = np.asarray(binary.resize((resolution, resolution), Image.BOX), dtype=np.float32) / 255.0
    return (small >= 0.5).astype(np.uint8)


def image_units(pixels: np.ndarray) -> np.ndarray:
    """8-bit pixels → float32 in [-1, 1]."""
    return pixels.astype(np.float32) / 127.5 - 1.0


def mask_units(bits: np.ndarray) -> np.ndarray:
    """0/1 → float32 in {-1, +1}."""
    return np.where(bits > 0, 1.0, -1.0).astype(np.float32)


def load_image(path: Path, resolution: int) -> np.ndarray:
    """Grayscale image → float32 [H, W] in [-1, 1]."""
    return image_units(image_pixels(path, resolution))


def load_mask(path: Path, resolution: int) -> np.ndarray:
    """Binary mask → float32 [H, W] in {-1, +1}; refuses masks with more than two levels."""
    return mask_units(mask_bits(path, resolution))


def _load_all(pairs: list[Pair], resolution: int) -> tuple[list[np.ndarray], list[np.ndarray], list[str]]:
    """Decode every pair to 8-bit pixels and 0/1 masks; one line per bad file (an unreadable image
    does not hide a bad mask)."""
    images, masks, problems = [], [], []
    for p in pairs:
        for path, load, out in ((p.image, image_pixels, images), (p.mask, mask_bits, masks)):
            try:
                out.append(load(path, resolution))
            except DataError as e:
                problems.append(str(e))
        try:
            with Image.open(p.image) as im, Image.open(p.mask) as mk:
                if im.size != mk.size:
                    problems.append(
                        f"{p.mask}: mask is {mk.size[0]}×{mk.size[1]} pixels but its image {p.image.name} is "
                        f"{im.size[0]}×{im.size[1]} (not its partner, or resized on its own)"
                    )
        except (UnidentifiedImageError, OSError, ValueError):
            pass  # already named above
    return images, masks, problems


class PairDataset(torch.utils.data.Dataset):
    """All pairs decoded once into memory as float32 tensors [N, 1, H, W] (small at 64²–512²)."""

    def __init__(self, pairs: list[Pair], resolution: int, where: str | os.PathLike = "dataset"):
        if not pairs:
            raise DataError("no pairs selected (check the folds you asked for)")
        images, masks, problems = _load_all(pairs, resolution)
        _refuse(problems, where)
        self._hold([p.case_id for p in pairs], np.stack(images), np.stack(masks), resolution)
        self.pairs = pairs

    @classmethod
    def from_pixels(cls, case_ids: list[str], images: np.ndarray, masks: np.ndarray, resolution: int) -> PairDataset:
        """From decoded pairs: uint8 images and 0/1 masks [N, H, W] (a pack's arrays)."""
        ds = cls.__new__(cls)
        ds._hold(list(case_ids), images, masks, resolution)
        ds.pairs = None  # no files behind it
        return ds

    def _hold(self, case_ids: list[str], images: np.ndarray, masks: np.ndarray, resolution: int) -> None:
        self.case_ids, self.resolution = case_ids, resolution
        self.images = torch.from_numpy(image_units(images))[:, None]
        self.masks = torch.from_numpy(mask_units(masks))[:, None]

    def __len__(self) -> int:
        return len(self.case_ids)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.masks[i], self.images[i]

    def patient_subset(self, fraction: float, seed: int = 0) -> PairDataset:
        """The pairs of a seeded random `fraction` of the patients (at least one): a low-data
        setting that never splits a patient's images (patient_of) between used and unused."""
        keep = patient_subset(self.case_ids, fraction, seed)
        ds = PairDataset.__new__(PairDataset)
        ds.case_ids, ds.resolution = [c for c, k in zip(self.case_ids, keep) if k], self.resolution
        ds.images, ds.masks = self.images[torch.from_numpy(keep)], self.masks[torch.from_numpy(keep)]
        ds.pairs = None if self.pairs is None else [p for p, k in zip(self.pairs, keep) if k]
        return ds


def patient_of(case_id: str) -> str:
    """A case's patient: its ID up to the last '-' (BUS-BRA's bus_0001-l and bus_0001-r are both
    patient bus_0001's, one per breast); an ID without '-' is its own patient."""
    return case_id.rsplit("-", 1)[0]


def add_patient_subset_arguments(parser, flag: str, help: str) -> None:
    """`flag FRACTION` and `--patients-seed`: the low-data setting's options (pigkit.train --patients,
    pigkit.downstream --train-patients), so both name and seed a subset alike."""
    parser.add_argument(flag, type=float, default=None, metavar="FRACTION", help=help)
    parser.add_argument("--patients-seed", type=int, default=0, help=f"which random subset {flag} takes")


def patient_subset(case_ids: list[str], fraction: float, seed: int = 0) -> np.ndarray:
    """Which cases belong to a seeded random round(fraction × patients) of the patients (at least
    one), as a boolean mask in case order; the same IDs, fraction and seed give the same subset."""
    if not 0 < fraction <= 1:
        raise DataError(f"the fraction of patients must be in (0, 1], got {fraction}")
    patients = sorted({patient_of(c) for c in case_ids})
    chosen = set(random.Random(seed).sample(patients, max(1, round(fraction * len(patients)))))
    return np.array([patient_of(c) in chosen for c in case_ids], dtype=bool)


def read_folder(
    root: str | os.PathLike, resolution: int, folds: set[int] | None = None, fold_csv: str | os.PathLike | None = None
) -> tuple[list[Pair], dict[str, int], list, list]:
    """The pairs of `root` (optionally only the given folds of a fold CSV, BUS-BRA's by default),
    every case's fold (empty without `folds`), and the pairs decoded at `resolution` (8-bit images,
    0/1 masks). Every problem (unmatched files, fold CSV rows, unreadable or unusable files among
    the pairs asked for) is gathered first and refused in one DataError."""
    pairs, problems, images_by_stem = _match_pairs(root)
    by_case = {}
    if folds:
        csv_path = Path(fold_csv) if fold_csv else Path(root) / "5-fold-cv.csv"
        by_case, csv_problems = _read_folds(csv_path, "kFold")
        problems += csv_problems
        problems += [
            f"{csv_path}: names {case}, which has no image in {Path(root)}" for case in by_case if case not in images_by_stem
        ]
        problems += [f"{p.image}: case {p.case_id} has no fold in {csv_path}" for p in pairs if p.case_id not in by_case]
        pairs = [p for p in pairs if by_case.get(p.case_id) in folds]
    if not pairs and not problems:
        raise DataError(f"{root}: no pairs selected (check the folds you asked for)")
    images, masks, load_problems = _load_all(pairs, resolution)
    _refuse(problems + load_problems, root)
    return pairs, by_case, images, masks


def open_dataset(
    root: str | os.PathLike, resolution: int, folds: set[int] | None = None, fold_csv: str | os.PathLike | None = None
) -> PairDataset:
    """The pairs of `root`, a folder or a pack (`.npz`), optionally only the given folds (a folder's
    from a fold CSV, BUS-BRA's by default; a pack's from the fold ids it holds). Every problem is
    gathered first and refused in one DataError."""
    if is_pack(root):
        return open_pack(root, resolution, folds, fold_csv)
    pairs, _, images, masks = read_folder(root, resolution, folds, fold_csv)
    return PairDataset.from_pixels([p.case_id for p in pairs], np.stack(images), np.stack(masks), resolution)


# A pack: one compressed NumPy archive (np.savez_compressed) of these arrays. `meta` is a JSON
# string: format, resolution, the folds packed (null: all pairs, no fold ids), source, fold CSV.
PACK_FORMAT = "pigkit-pack-1"
PACK_ARRAYS = ("images", "masks", "folds", "cases", "meta")


def is_pack(path: str | os.PathLike) -> bool:
    return Path(path).suffix.lower() == ".npz"


def read_pack(path: str | os.PathLike) -> dict:
    """A pack's arrays, checked, with `meta` parsed; a file that is not one is named in a DataError."""
    path = Path(path)
    if not path.is_file():
        raise DataError(
            f"{path}: packed dataset not found (make it with python3 -m pigkit.pack --data DIR --resolution R --out {path.name})"
        )
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in PACK_ARRAYS if k in z.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as e:
        raise DataError(f"{path}: cannot read the packed dataset ({e.__class__.__name__}: {e}); pack it again") from None
    missing = [k for k in PACK_ARRAYS if k not in arrays]
    meta = json.loads(str(arrays["meta"])) if "meta" in arrays else {}
    if missing or meta.get("format") != PACK_FORMAT:
        raise DataError(
            f"{path}: not a pigkit pack ({'no ' + ', '.join(missing) if missing else 'format ' + repr(meta.get('format'))}); "
            f"make one with python3 -m pigkit.pack"
        )
    n, r = len(arrays["cases"]), meta["resolution"]
    shapes_ok = (
        arrays["images"].shape == arrays["masks"].shape == (n, r, r)
        and arrays["folds"].shape == (n,)
        and arrays["images"].dtype == arrays["masks"].dtype == np.uint8
        and arrays["masks"].max(initial=0) <= 1
    )
    if not shapes_ok:
        raise DataError(f"{path}: damaged pack (arrays do not match {n} pairs at {r}²); pack it again")
    return {**arrays, "meta": meta}


def open_pack(
    path: str | os.PathLike, resolution: int, folds: set[int] | None = None, fold_csv: str | os.PathLike | None = None
) -> PairDataset:
    """The pairs of a pack, optionally only the given folds (by the fold ids it holds)."""
    pack = read_pack(path)
    meta, packed_folds = pack["meta"], pack["meta"]["folds"]
    if fold_csv:
        raise DataError(
            f"{path}: a pack holds its folds (from {meta.get('fold_csv')}); to use another fold CSV, pack "
            f"the folder again with --fold-csv"
        )
    if meta["resolution"] != resolution:
        raise DataError(
            f"{path}: packed at {meta['resolution']}², not {resolution}²: pack the folder again with "
            f"--resolution {resolution} (or use --resolution {meta['resolution']})"
        )
    keep = np.ones(len(pack["cases"]), dtype=bool)
    if folds:
        absent = sorted(set(folds) - set(packed_folds or []))
        if absent:
            held = f"folds {','.join(map(str, packed_folds))}" if packed_folds else "all pairs, without fold ids"
            raise DataError(
                f"{path}: fold(s) {','.join(map(str, absent))} not in this pack (it holds {held}); pack the "
                f"folder again with --folds naming them"
            )
        keep = np.isin(pack["folds"], sorted(folds))
    if not keep.any():
        raise DataError(f"{path}: no pairs selected (check the folds you asked for)")
    return PairDataset.from_pixels(pack["cases"][keep].tolist(), pack["images"][keep], pack["masks"][keep], resolution)
