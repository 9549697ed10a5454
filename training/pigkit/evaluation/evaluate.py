"""Evaluate a trained pair against held-out real data (issue: the default model's figures).

    python3 -m pigkit.evaluate --run ../runs/busbra64 --data DATA --out ../eval/busbra64 --n 256 --steps 50

Writes to OUT: results.json, results.md (its tables, for EVALUATION.md), samples.png (16 generated pairs
beside 16 real held-out pairs), segmenter_loss.png. Measures: mask statistics of generated vs real held-out masks (area
fraction, connected components, solidity of the largest component; Wasserstein-1 and KS distances),
the saturated-pixel fraction and pixel-intensity Wasserstein-1 of the images, the empty-mask rate,
pair consistency (Dice of a segmenter trained on the training folds, run on
generated images against their generated masks, and on the real held-out pairs as the ceiling),
and the reference sampler's time per pair.

    python3 -m pigkit.evaluate real-vs-synthetic --generated DIR --data DATA --out OUT

trains a small CNN to tell real held-out images from generated ones (pigkit.realsynth: its ROC AUC,
cross-validated, over seeds, with a real-vs-real control).

    python3 -m pigkit.evaluate image-to-mask --generated DIR --data DATA --out OUT

scores the CLI's image → mask cases against the real masks of the images they segmented (Dice, IoU).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from pigkit.data.attributes import read_table
from pigkit.data.pairs import PairDataset, open_dataset
from pigkit.evaluation import image_to_mask, real_vs_synthetic
from pigkit.evaluation.evaluate_report import results_markdown
from pigkit.evaluation.fidelity import attribute_fidelity
from pigkit.evaluation.generated import cli_timing, generate, generated_case_names, read_generated, samples_grid
from pigkit.evaluation.pair_figures import SATURATED, image_stats, mask_stat_list, pooled, segmented, stats_table, typical_cases
from pigkit.evaluation.segment import dice_iou, load_segmenter, train_segmenter
from pigkit.model.limits import eta_arg, steps_arg
from pigkit.model.schedule import CLIP_MODES
from pigkit.training.checkpoint import CheckpointError, read_checkpoint
from pigkit.training.plot import loss_curve_png


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="pigkit.evaluate", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--run", required=True)
    p.add_argument("--data", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--n", type=int, default=256)
    p.add_argument("--steps", type=steps_arg, default=50)
    p.add_argument("--eta", type=eta_arg, default=0.0, help="DDIM η the pairs are (or were, with --generated) sampled with")
    p.add_argument("--clip", default="none", choices=CLIP_MODES, help="sampler clip the pairs are (or were) sampled with")
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--train-folds", default="1,2,3")
    p.add_argument("--test-fold", type=int, default=4)
    p.add_argument("--seg-iters", type=int, default=1500)
    p.add_argument(
        "--segmenter-resolution",
        type=int,
        default=None,
        help="pair consistency at this size (a divisor of the pairs' size; default the pairs' own): pairs and"
        " held-out slices are average-pooled to it, masks by area, as pigkit.data resizes them",
    )
    p.add_argument(
        "--downstream",
        default=None,
        help="pigkit.downstream's card-metrics.json: its real-only and best generated row go into card.json",
    )
    p.add_argument(
        "--generated", default=None, help="evaluate the studio CLI's output folder (nnU-Net raw layout) instead of sampling here"
    )
    p.add_argument("--segmenter", default=None, help="segmenter.pt from pigkit.segment (else one is trained here)")
    p.add_argument(
        "--attributes",
        default=None,
        help="the real cases' attribute table (BUS-BRA's bus_data.csv; default: the table the run trained on): "
        "with --generated pairs that asked for a pathology, its fidelity and the mask shape per class (pigkit.fidelity)",
    )
    p.add_argument("--fidelity-iters", type=int, default=1500, help="training iterations of the pathology classifier")
    p.add_argument("--threads", type=int, default=0)
    p.add_argument(
        "--device",
        default="cuda" if torch.cuda.is_available() else "cpu",
        help="where the sampling and the segmenter run (figures come back to the CPU)",
    )
    return p.parse_args(argv)


@dataclass
class Inputs:
    """What an evaluation reads before its (long) sampling, each problem named first."""

    res: int  # the pairs' side (a latent run's: its decoded slices')
    seg_res: int  # the segmenter's
    table: tuple | None  # read_table's (spec, cases), for the fidelity of --generated pairs that asked for a pathology
    test: PairDataset
    train: PairDataset
    saved_segmenter: tuple | None
    generated: tuple | None  # --generated's (masks, images)


def check_inputs(a: argparse.Namespace, run: Path) -> Inputs:
    """The run, the data, the segmenter and the generated folder read and checked; CheckpointError,
    FileNotFoundError or ValueError naming the problem."""
    config = read_checkpoint(run / "mask" / "ckpt.pt")["config"]
    # a latent run's U-Nets work on the latent grid; its pairs are decoded at the slices' size
    res = config["latent"]["image_resolution"] if "latent" in config else config["resolution"]
    if "latent" in config and not a.generated:
        raise ValueError(f"{run}: a latent run is evaluated on the CLI's pairs: export it, generate, and pass --generated")
    table = a.attributes or config.get("attributes", {}).get("table")
    seg_res = a.segmenter_resolution or res
    if not 16 <= seg_res <= res or res % seg_res:
        raise ValueError(f"--segmenter-resolution {seg_res}: choose a divisor of the pairs' {res} from 16 up")
    # read now, so a missing or malformed table is named before the segmenter trains
    table = read_table(table) if table and a.generated else None
    test = open_dataset(a.data, res, {a.test_fold})
    train = open_dataset(a.data, res, {int(f) for f in a.train_folds.split(",")})
    saved_segmenter = load_segmenter(a.segmenter) if a.segmenter else None
    # every generated case read before a segmenter is trained
    generated = read_generated(Path(a.generated), res) if a.generated else None
    return Inputs(res, seg_res, table, test, train, saved_segmenter, generated)


def the_pairs(a: argparse.Namespace, run: Path, inputs: Inputs) -> tuple[torch.Tensor, torch.Tensor, dict | None]:
    """(masks, images, timing): --generated's with the CLI's timing, else sampled here and timed."""
    if a.generated:
        return *inputs.generated, cli_timing(Path(a.generated))
    gen_masks, gen_images, sec_per_pair = generate(run, a.n, a.steps, a.batch, a.seed, a.eta, a.clip, a.device)
    return gen_masks, gen_images, {"ms_per_pair_median": 1000 * sec_per_pair, "backend": f"PyTorch reference, batch {a.batch}"}


def the_segmenter(a: argparse.Namespace, inputs: Inputs, out: Path) -> tuple:
    """(segmenter, its training iterations): --segmenter's, else one trained on the training folds here."""
    if inputs.saved_segmenter:
        seg, seg_iters = inputs.saved_segmenter
        return seg.to(a.device), seg_iters
    train = inputs.train
    seg, curve = train_segmenter(*pooled(train.images, train.masks, inputs.seg_res), a.seg_iters, seed=a.seed, device=a.device)
    loss_curve_png(out / "segmenter_loss.png", {"segmenter": curve}, "segmentation U-Net (folds 1-3) training loss")
    return seg, a.seg_iters


def pair_consistency(seg, seg_iters: int, inputs: Inputs, gen_masks, gen_images, nonempty) -> tuple[dict, torch.Tensor]:
    """The segmenter's Dice and IoU on the generated pairs (the non-empty ones) and on the real
    held-out pairs (the ceiling); and each generated pair's Dice."""
    test, seg_res = inputs.test, inputs.seg_res
    dice_real, iou_real = dice_iou(*segmented(seg, test.images, test.masks, seg_res))
    dice_gen, iou_gen = dice_iou(*segmented(seg, gen_images, gen_masks, seg_res))
    return {
        "segmenter_iters": seg_iters,
        "segmenter_resolution": seg_res,
        "dice_generated_mean": float(dice_gen[nonempty].mean()),
        "dice_generated_std": float(dice_gen[nonempty].std()),
        "iou_generated_mean": float(iou_gen[nonempty].mean()),
        "dice_real_test_mean": float(dice_real.mean()),
        "dice_real_test_std": float(dice_real.std()),
        "iou_real_test_mean": float(iou_real.mean()),
    }, dice_gen


def fidelity_of(a: argparse.Namespace, inputs: Inputs, gen_masks, gen_images, out: Path) -> dict | None:
    """pigkit.fidelity's figures for --generated pairs (None for pairs sampled here)."""
    if not a.generated:
        return None
    return attribute_fidelity(
        Path(a.generated),
        generated_case_names(Path(a.generated)),
        inputs.table,
        inputs.train,
        inputs.test,
        gen_masks,
        gen_images,
        a.fidelity_iters,
        # 16 generated pairs that asked for each value beside 16 real ones of it
        sheet=lambda value, *pairs: samples_grid(*pairs, out / f"samples-{value}.png"),
    )


def card_metrics(a: argparse.Namespace, results: dict, timing: dict | None) -> dict:
    """card.json: the headline figures in the model card's names (pigkit.card), the downstream
    table's merged in where --downstream gives it."""
    pc, ms = results["pair_consistency"], results["mask_stats"]
    card = {
        "metrics": {
            "heldOut": f"fold {a.test_fold} of {Path(a.data).resolve().name} ({results['n_real_test']} pairs)",
            "generated": results["n_generated"],
            "steps": a.steps,
            "eta": a.eta,
            "clip": a.clip,
            "saturatedPixels": round(results["image_stats"]["saturated_generated"], 4),
            "intensityWasserstein1": round(results["image_stats"]["intensity_wasserstein1"], 4),
            "emptyMaskRate": round(results["empty_mask_rate"], 4),
            "pairConsistencyDice": round(pc["dice_generated_mean"], 4),
            "pairConsistencyOverCeiling": round(pc["dice_generated_mean"] / pc["dice_real_test_mean"], 4),
            "segmenterDiceOnRealHeldOut": round(pc["dice_real_test_mean"], 4),
            "maskStatWasserstein1": {
                k: (round(v["wasserstein1"], 4) if v["wasserstein1"] is not None else None) for k, v in ms.items()
            },
            "samplingMsPerPair": round(timing["ms_per_pair_median"], 1) if timing else None,
            "details": "EVALUATION.md",
        }
    }
    if a.downstream:  # the downstream table's headline, as pigkit.downstream writes it
        card["metrics"].update(json.loads(Path(a.downstream).read_text(encoding="utf-8"))["metrics"])
    return card


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["real-vs-synthetic"]:
        return real_vs_synthetic.main(argv[1:])
    if argv[:1] == ["image-to-mask"]:
        return image_to_mask.main(argv[1:])
    a = parse_args(argv)
    if a.threads:
        torch.set_num_threads(a.threads)
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    run = Path(a.run)
    try:  # the run and the data are checked before the (long) sampling, each problem named
        inputs = check_inputs(a, run)
    except (CheckpointError, FileNotFoundError, ValueError) as e:  # DataError is a ValueError
        print(f"error: {e}", file=sys.stderr)
        return 2
    test, train = inputs.test, inputs.train
    gen_masks, gen_images, timing = the_pairs(a, run, inputs)
    g = torch.Generator().manual_seed(a.seed)
    pick = torch.randperm(len(test), generator=g)[:16]
    samples_grid(gen_masks, gen_images, test.masks[pick], test.images[pick], out / "samples.png")
    gen_stats, real_stats = mask_stat_list(gen_masks), mask_stat_list(test.masks)
    seg, seg_iters = the_segmenter(a, inputs, out)
    nonempty = torch.tensor([s["components"] > 0 for s in gen_stats])
    consistency, dice_gen = pair_consistency(seg, seg_iters, inputs, gen_masks, gen_images, nonempty)
    typical = typical_cases(
        {
            "pair Dice": dice_gen.cpu().numpy(),
            "saturated fraction": (gen_images.abs() > SATURATED).flatten(1).double().mean(1).numpy(),
            "mask area": np.array([s["area_fraction"] for s in gen_stats]),
            "brightness": gen_images.flatten(1).double().mean(1).numpy(),
            "lesion count": np.array([s["components"] for s in gen_stats]),
        }
    )
    fidelity = fidelity_of(a, inputs, gen_masks, gen_images, out)
    results = {
        "resolution": inputs.res,
        "n_generated": len(gen_masks),
        "generated_by": a.generated or "pigkit reference sampler",
        "steps": a.steps,
        "eta": a.eta,
        "clip": a.clip,
        "seed": a.seed,
        "n_real_test": len(test),
        "n_train": len(train),
        "mask_stats": stats_table(gen_stats, real_stats),
        "image_stats": image_stats(gen_images, test.images),
        "empty_mask_rate": float((~nonempty).float().mean()),
        "pair_consistency": consistency,
        "sampling_cost": {"steps": a.steps, **(timing or {})},
        # indices into the generated set (the CLI's pairs: seed K + index), the README screenshot's pick
        "typical_cases": typical,
        "torch": torch.__version__,
    }
    if fidelity:
        results["attributes"] = fidelity
    (out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    (out / "results.md").write_text(results_markdown(results))
    (out / "card.json").write_text(json.dumps(card_metrics(a, results, timing), indent=2) + "\n")
    print(json.dumps(results, indent=2))
    return 0
