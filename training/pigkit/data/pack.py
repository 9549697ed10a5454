"""What travels to a device machine and back: a dataset packed into one file, a run's weights in float16.

    python3 -m pigkit.pack --data ../../shared/datasets/busbra --resolution 128 --out ../packed/busbra128.npz
    python3 -m pigkit.pack --checkpoint RUN/mask/ckpt.pt --out BACK/run/mask/ckpt.pt

A pack holds the pairs of the chosen folds (default 1-4) as pigkit.data decodes them at one
resolution: the 8-bit gray images after the bilinear resize, the masks as 0/1 after the area resize
and threshold, each pair's fold id and case name, in one compressed NumPy archive. `--data PACK.npz`
then trains, segments and evaluates exactly as the folder did (the same tensors in the same order),
with no image files and no fold CSV. The dataset's LICENSE.txt, where the folder has one, travels
inside it. A pack is a copy of the data: keep it out of git (the repository ignores /packed/).

`--checkpoint` writes a training checkpoint's EMA weights in float16 with the counters and config
pigkit.export and pigkit.evaluate read (no optimizer, raw weights or random states): half the
bytes of the float32 weights, an eighth of the full checkpoint, plain tensors and numbers that
torch.load(weights_only=True) accepts. It cannot be resumed; load_model_checkpoint casts the
weights back to float32.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np

from pigkit.data.pairs import PACK_FORMAT, DataError, read_folder, read_pack
from pigkit.training.checkpoint import CheckpointError, atomic_save, read_checkpoint, require_keys

# what pigkit.export reads from a checkpoint (export.checkpoint_facts and load_model_checkpoint)
EXPORT_KEYS = ("config", "ema", "iter", "images_seen", "wall_seconds")


def pack_folder(
    root: str | os.PathLike,
    resolution: int,
    folds: set[int] | None,
    out: str | os.PathLike,
    fold_csv: str | os.PathLike | None = None,
) -> dict:
    """Decode the pairs of `root` (only `folds`, when given) at `resolution` into the pack `out`
    (written beside it, then renamed); returns its meta. Bad data is refused as open_dataset refuses it."""
    pairs, fold_of, images, masks = read_folder(root, resolution, folds, fold_csv)
    licence = Path(root) / "LICENSE.txt"
    meta = {
        "format": PACK_FORMAT,
        "resolution": resolution,
        "folds": sorted(folds) if folds else None,
        "pairs": len(pairs),
        "source": str(root),
        "fold_csv": str(fold_csv or Path(root) / "5-fold-cv.csv") if folds else None,
        "license": licence.read_text() if licence.is_file() else None,
    }
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".partial")
    with open(tmp, "wb") as f:  # a file object: np.savez_compressed appends .npz to a name
        np.savez_compressed(
            f,
            images=np.stack(images),
            masks=np.stack(masks),
            folds=np.array([fold_of.get(p.case_id, 0) for p in pairs], dtype=np.int16),
            cases=np.array([p.case_id for p in pairs]),
            meta=np.array(json.dumps(meta)),
        )
    os.replace(tmp, out)
    return meta


def half_checkpoint(src: str | os.PathLike, dest: str | os.PathLike) -> dict:
    """The EMA weights of the checkpoint `src` in float16, with what export needs, written to
    `dest` (atomically); returns what was written."""
    src, dest = Path(src), Path(dest)
    ck = read_checkpoint(src)
    require_keys(ck, src, EXPORT_KEYS)
    slim = {k: ck[k] for k in EXPORT_KEYS}
    slim["ema"] = {k: v.half() if v.is_floating_point() else v for k, v in ck["ema"].items()}
    # plain JSON types (config["torch"] is a TorchVersion): the file then loads with weights_only=True
    slim["config"] = json.loads(json.dumps(ck["config"]))
    dest.parent.mkdir(parents=True, exist_ok=True)
    atomic_save(slim, dest)
    return slim


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="pigkit.pack", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--data", help="dataset folder (Images/ and Masks/) to pack")
    what.add_argument("--checkpoint", help="training checkpoint (ckpt.pt) whose EMA weights to write in float16")
    p.add_argument("--out", required=True, help="the pack (.npz) or the float16 checkpoint to write")
    p.add_argument("--resolution", type=int, help="with --data: the training resolution (required)")
    p.add_argument("--folds", default="1,2,3,4", help="with --data: folds of the fold CSV to pack ('' = all pairs, no fold ids)")
    p.add_argument("--fold-csv", default=None, help="with --data: default DATA/5-fold-cv.csv")
    a = p.parse_args(argv)
    try:
        if a.checkpoint:
            slim = half_checkpoint(a.checkpoint, a.out)
            print(
                f"{a.out}: float16 EMA weights of iteration {slim['iter']}, {Path(a.out).stat().st_size / 2**20:.1f} MiB",
                file=sys.stderr,
            )
            return 0
        if not a.resolution:
            p.error("--data needs --resolution")
        if not a.out.endswith(".npz"):
            p.error("--out: a pack is a .npz file (the name tells --data it is one)")
        folds = {int(f) for f in a.folds.split(",") if f.strip()} or None
        meta = pack_folder(a.data, a.resolution, folds, a.out, a.fold_csv)
        read_pack(a.out)  # read back once: a pack that cannot be opened is found here, not on the device
    except (DataError, CheckpointError, FileNotFoundError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    held = f"folds {','.join(map(str, meta['folds']))}" if meta["folds"] else "all pairs"
    print(
        f"{a.out}: {meta['pairs']} pairs ({held}) at {a.resolution}², {Path(a.out).stat().st_size / 2**20:.1f} MiB",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
