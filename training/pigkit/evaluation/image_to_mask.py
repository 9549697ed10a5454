"""`python3 -m pigkit.evaluate image-to-mask`: the image → mask mode measured like a segmenter.

    npm run generate -- --model M --mode image2mask --images HELD_OUT_IMAGES --count 1 --out DIR
    python3 -m pigkit.evaluate image-to-mask --generated DIR --data DATA --folds-heldout 4 --out OUT

Each case of the CLI's output folder names the image it segmented (its record's `source.file`);
its label is compared with that image's real mask in DATA (the held-out folds, at the generated
size): Dice and IoU per case, their mean and spread, and per seed where the folder holds several.
A source that is not a held-out case is refused by name (scoring a training image says nothing).
Writes OUT/image-to-mask.json and .md."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

from pigkit.evaluation.generated import add_generated_arguments, case_record, open_against_real
from pigkit.evaluation.segment import dice_iou

MAX_CASES = 100_000


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="pigkit.evaluate image-to-mask", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_generated_arguments(p, {"--folds-heldout": ("4", "the folds the segmented images come from")})
    return p.parse_args(argv)


def real_masks_of(folder: Path, cases: list[str], heldout) -> tuple[torch.Tensor, list[int]]:
    """The real held-out mask of each case's source image, and each case's seed."""
    index = {c: i for i, c in enumerate(heldout.case_ids)}
    rows, seeds = [], []
    for name in cases:
        case = case_record(folder, name)
        if case.get("mode") != "imageToMask":
            raise ValueError(f"{folder}: case {name} is a {case.get('mode')!r} case, not image → mask (--mode image2mask)")
        stem = Path(str((case.get("source") or {}).get("file", ""))).stem
        if stem not in index:
            raise ValueError(f"{folder}: case {name} segmented {stem or 'an unnamed image'!r}, which is not a held-out case")
        rows.append(index[stem])
        seeds.append(int(case.get("seed", 0)))
    return heldout.masks[torch.tensor(rows)], seeds


def measure(gen_masks: torch.Tensor, real_masks: torch.Tensor, seeds: list[int]) -> dict:
    dice, iou = dice_iou(gen_masks > 0, real_masks > 0)

    def spread(v: torch.Tensor) -> dict:
        return {"mean": float(v.mean()), "std": float(v.std()) if len(v) > 1 else 0.0}

    per_seed = {}
    for s in sorted(set(seeds)):
        pick = torch.tensor([x == s for x in seeds])
        per_seed[str(s)] = {"n": int(pick.sum()), "dice": float(dice[pick].mean()), "iou": float(iou[pick].mean())}
    return {"n": len(seeds), "dice": spread(dice), "iou": spread(iou), "per_seed": per_seed}


def main(argv: list[str]) -> int:
    a = parse_args(argv)
    if a.threads:
        torch.set_num_threads(a.threads)
    folder = Path(a.generated)
    try:
        cases, gen_masks, _, sets = open_against_real(folder, a.data, {"--folds-heldout": a.folds_heldout}, a.fold_csv, MAX_CASES)
        heldout = sets["--folds-heldout"]
        if heldout is None:
            raise ValueError("--folds-heldout needs a fold")
        real_masks, seeds = real_masks_of(folder, cases, heldout)
    except (FileNotFoundError, ValueError) as e:  # DataError is a ValueError
        print(f"error: {e}", file=sys.stderr)
        return 2
    result = {
        "generated": str(folder.resolve()),
        "data": str(Path(a.data).resolve()),
        "folds_heldout": a.folds_heldout,
        "resolution": gen_masks.shape[-1],
        **measure(gen_masks, real_masks, seeds),
    }
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "image-to-mask.json").write_text(json.dumps(result, indent=2) + "\n")
    d, i = result["dice"], result["iou"]
    (out / "image-to-mask.md").write_text(
        f"Image → mask on {result['n']} held-out images (folds {a.folds_heldout}) at {result['resolution']}²: "
        f"Dice {d['mean']:.3f} ± {d['std']:.3f}, IoU {i['mean']:.3f} ± {i['std']:.3f} against their real masks.\n"
    )
    print(json.dumps(result, indent=2))
    return 0
