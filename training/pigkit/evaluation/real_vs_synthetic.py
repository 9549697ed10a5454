"""`python3 -m pigkit.evaluate real-vs-synthetic`: pigkit.realsynth's classifier on a generated
folder against real held-out folds, with a real-vs-real control; writes OUT/real-vs-synthetic.json,
.md and -card.json (the card's line)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

from pigkit.data.pairs import patient_of
from pigkit.evaluation import realsynth
from pigkit.evaluation.generated import add_generated_arguments, open_against_real, parse_folds


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="pigkit.evaluate real-vs-synthetic",
        description=realsynth.__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    folds = {
        "--folds-heldout": ("4", "real images of patients the model never saw"),
        "--control-folds": ("3", "other real images for the real-vs-real control (empty: no control)"),
    }
    add_generated_arguments(p, folds)
    p.add_argument("--seeds", default="0,1,2", help="at least 3 for a spread")
    p.add_argument("--k", type=int, default=5, help="cross-validation folds (2 … 10)")
    p.add_argument("--epochs", type=int, default=10, help=f"epochs of each classifier (1 … {realsynth.MAX_EPOCHS})")
    p.add_argument(
        "--per-class",
        type=int,
        default=0,
        help="at most this many images a class (a seeded subsample; 0: all the smaller set has)",
    )
    a = p.parse_args(argv)
    if not 0 <= a.per_class <= realsynth.MAX_IMAGES:
        p.error(f"--per-class must be 0 … {realsynth.MAX_IMAGES}")
    if not (2 <= a.k <= 10 and 1 <= a.epochs <= realsynth.MAX_EPOCHS):
        p.error(f"--k must be 2 … 10 and --epochs 1 … {realsynth.MAX_EPOCHS}")
    return a


def open_sets(a: argparse.Namespace) -> tuple:
    """(seeds, generated case names, generated images, real held-out set, control set or None);
    FileNotFoundError or ValueError naming the problem."""
    seeds = sorted(parse_folds(a.seeds, "--seeds"))  # whole numbers, as folds are
    if not 1 <= len(seeds) <= realsynth.MAX_SEEDS:
        raise ValueError(f"--seeds takes 1 … {realsynth.MAX_SEEDS} seeds (3 or more for a spread), got {a.seeds!r}")
    folds = {"--folds-heldout": a.folds_heldout, "--control-folds": a.control_folds}
    cases, _, gen_images, sets = open_against_real(Path(a.generated), a.data, folds, a.fold_csv, realsynth.MAX_IMAGES)
    real, control = sets["--folds-heldout"], sets["--control-folds"]
    if real is None:
        raise ValueError("--folds-heldout needs a fold")
    return seeds, cases, gen_images, real, control


def measure(a: argparse.Namespace, seeds: list[int], cases, gen_images, real, control, n: int) -> dict:
    """real-vs-synthetic.json: the settings and each comparison's AUCs over the seeds."""
    real_groups = [patient_of(c) for c in real.case_ids]
    result = {
        "generated": str(Path(a.generated).resolve()),
        "data": str(Path(a.data).resolve()),
        "resolution": gen_images.shape[-1],
        "n_generated": len(cases),
        "n_real_heldout": len(real),
        "n_per_class": n,
        "folds_heldout": a.folds_heldout,
        "control_folds": a.control_folds,
        "k": a.k,
        "epochs": a.epochs,
        "seeds": seeds,
        "classifier": f"RealSynthCNN ({realsynth.parameter_count()} parameters), Adam 1e-3, batch 32, flips",
        "real_vs_generated": realsynth.over_seeds(
            real.images, gen_images, real_groups, cases, seeds, a.k, a.epochs, n, "real vs generated"
        ),
        "torch": torch.__version__,
    }
    if control is not None:
        result["real_vs_real"] = realsynth.over_seeds(
            real.images,
            control.images,
            real_groups,
            [patient_of(c) for c in control.case_ids],
            seeds,
            a.k,
            a.epochs,
            n,
            "real vs real",
        )
    return result


def main(argv: list[str]) -> int:
    a = parse_args(argv)
    if a.threads:
        torch.set_num_threads(a.threads)
    try:
        seeds, cases, gen_images, real, control = open_sets(a)
    except (FileNotFoundError, ValueError) as e:  # DataError is a ValueError
        print(f"error: {e}", file=sys.stderr)
        return 2
    # one size for both comparisons: the control is the floor of an AUC measured on as many images
    n = min(len(real), len(gen_images), len(control) if control is not None else len(real), a.per_class or realsynth.MAX_IMAGES)
    if n < 2 * a.k:
        print(f"error: {n} images a class, too few for {a.k} folds of both classes (at least {2 * a.k})", file=sys.stderr)
        return 2
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    result = measure(a, seeds, cases, gen_images, real, control, n)
    (out / "real-vs-synthetic.json").write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    (out / "real-vs-synthetic.md").write_text(realsynth.result_markdown(result), encoding="utf-8")
    (out / "real-vs-synthetic-card.json").write_text(
        json.dumps({"metrics": {"realVsSyntheticAUC": realsynth.card_line(result)}}, indent=2, ensure_ascii=False) + "\n",
        encoding="utf-8",
    )
    print(realsynth.result_markdown(result))
    return 0
