"""The command line of pigkit.downstream (its flags, grouped as the docstring of downstream.py tells them)."""

from __future__ import annotations

import argparse

import torch

from pigkit.data.pairs import add_patient_subset_arguments
from pigkit.evaluation.segment import ARCHS, LR_SCHEDULES
from pigkit.model.limits import eta_arg, steps_arg


def parser(doc: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="pigkit.downstream", description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True)
    p.add_argument(
        "--run",
        default=None,
        help="folder with mask/, image/ and optionally siamese/image/, uncond/ checkpoints: the sets "
        "sampled here, and the image→mask row",
    )
    p.add_argument(
        "--pairs",
        default=None,
        help="the studio CLI's pairs (npm run generate, nnU-Net raw layout) as the `pig` set, "
        "instead of sampling it here: the pairs users get, with the model folder's sampler",
    )
    p.add_argument("--out", required=True)
    p.add_argument("--seeds", default="0,1,2", help="segmenter training seeds (at least 3 for the table)")
    p.add_argument(
        "--rows",
        default=None,
        help="SET:MULTIPLE[:USE] rows after `real`, e.g. pig:1,pig:1:filtered,pig:1:pretrain "
        "(USE mix, filtered or pretrain; default: every set at --multiples, mixed)",
    )
    p.add_argument("--multiples", default="1,2", help="PIG rows of the default --rows: this many N generated pairs")
    p.add_argument(
        "--budget",
        choices=("passes", "iters"),
        default="passes",
        help="passes: every row shows the segmenter each real pair "
        "as often as `real` (--seg-iters) does; iters: --seg-iters for every row",
    )
    segmenter_arguments(p)
    sampling_arguments(p)
    return p


def segmenter_arguments(p: argparse.ArgumentParser) -> None:
    """How each row's segmenter is trained."""
    p.add_argument(
        "--segmenter",
        choices=ARCHS,
        default="unet",
        help="unet: the standard segmentation U-Net; diffusion: the kit's compact U-Net at t = 0",
    )
    p.add_argument(
        "--filter-min-dice",
        type=float,
        default=0.5,
        help="filtered rows keep pairs whose mask the real segmenter agrees with this well",
    )
    p.add_argument("--seg-iters", type=int, default=4000)
    p.add_argument("--seg-batch", type=int, default=16)
    p.add_argument(
        "--lr-schedule",
        choices=LR_SCHEDULES,
        default="constant",
        help="the segmenters' learning rate (Adam 1e-3): constant, or poly (nnU-Net's decay to ~0 over each "
        "training, and again over a fine-tuning): final weights settled, less spread between seeds",
    )
    p.add_argument("--eval-every", type=int, default=250, help="held-out Dice for the learning curves every this many iterations")


def sampling_arguments(p: argparse.ArgumentParser) -> None:
    """How the generated sets are sampled, which folds are real, where the work runs."""
    p.add_argument("--steps", type=steps_arg, default=50)
    p.add_argument("--eta", type=eta_arg, default=0.0)
    p.add_argument("--gen-batch", type=int, default=64)
    p.add_argument("--gen-seed", type=int, default=1000)
    p.add_argument("--train-folds", default="1,2,3")
    p.add_argument("--test-fold", type=int, default=4)
    add_patient_subset_arguments(
        p,
        "--train-patients",
        "the low-data setting: only a seeded random FRACTION of the training folds' patients are "
        "the real pairs (pigkit.train --patients takes the same subset for the generators)",
    )
    p.add_argument("--resolution", type=int, default=None, help="with --pairs and no --run: the pairs' resolution")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument(
        "--threads",
        type=int,
        default=0,
        help="torch threads of each segmenter job; the sampling and the "
        "Fréchet features between them use threads × jobs (0 = torch's default)",
    )
    p.add_argument(
        "--jobs",
        type=int,
        default=1,
        help="generated sets drawn and segmenters trained at once, each in its own process (on a CPU: "
        "--jobs = cores with --threads 1 is faster than one job on every core)",
    )
