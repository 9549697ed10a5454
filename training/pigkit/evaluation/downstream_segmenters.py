"""The downstream table's segmenters (pigkit.downstream): one job per row and seed, trained and scored on the
held-out fold, each in its own process when --jobs > 1."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from pigkit.evaluation.segment import dice_iou, predict_masks, train_segmenter


def held_out_flat(curve: list[tuple[int, float]], tolerance: float = 0.01) -> bool:
    """Whether a held-out Dice curve has stopped rising: the least-squares line through its last
    quarter (by iteration, at least three points) rises by at most `tolerance` across that
    quarter. A falling curve counts as flat: more of the same training would not help it."""
    last = curve[-1][0]
    tail = [(i, d) for i, d in curve if i >= 0.75 * last]
    if len(tail) < 3:
        return False
    x, y = np.array([i for i, _ in tail], float), np.array([d for _, d in tail], float)
    slope = np.polyfit(x, y, 1)[0]
    return bool(slope * (x[-1] - x[0]) <= tolerance)


@dataclass(frozen=True)
class SegmenterJob:
    """One table cell: a segmenter trained on a row's pairs with one seed (after `pretrain_iters`
    on the pre-training pairs, if any), scored on the held-out fold; everything it needs travels
    with it, so it can run in another process."""

    row: str
    seed: int
    settings: dict
    images: torch.Tensor
    masks: torch.Tensor
    iters: int
    pretrain_images: torch.Tensor | None
    pretrain_masks: torch.Tensor | None
    pretrain_iters: int
    test_images: torch.Tensor
    test_masks: torch.Tensor
    path: Path  # where its result is kept
    feature_net: Path | None  # also save the trained weights here (the Fréchet distance's and the filter's network)
    device: str
    threads: int


def train_and_score(job: SegmenterJob) -> dict:
    if job.threads:
        torch.set_num_threads(job.threads)
    print(
        f"row {job.row}, seed {job.seed}: {len(job.images)} training pairs, {job.pretrain_iters + job.iters} iterations",
        file=sys.stderr,
        flush=True,
    )
    curve, loss, init = [], [], None

    def held_out(it, model):
        curve.append((it, float(dice_iou(predict_masks(model, job.test_images), job.test_masks > 0)[0].mean())))

    common = dict(
        batch=job.settings["seg_batch"],
        seed=job.seed,
        device=torch.device(job.device),
        on_eval=held_out,
        eval_every=job.settings["eval_every"],
        arch=job.settings["segmenter"],
        lr_schedule=job.settings.get("lr_schedule", "constant"),
    )
    if job.pretrain_iters:
        model, loss = train_segmenter(
            job.pretrain_images,
            job.pretrain_masks,
            job.pretrain_iters,
            **common,
            log_every=max(job.pretrain_iters // 10, 1),
            log_prefix=f"{job.row}, seed {job.seed}, pre-training: ",
        )
        init = model.state_dict()
    model, more = train_segmenter(
        job.images,
        job.masks,
        job.iters,
        **common,
        init=init,
        first_iteration=job.pretrain_iters + 1,
        log_every=max(job.iters // 10, 1),
        log_prefix=f"{job.row}, seed {job.seed}: ",
    )
    dice, iou = dice_iou(predict_masks(model, job.test_images), job.test_masks > 0)
    result = {
        "row": job.row,
        "seed": job.seed,
        "settings": job.settings,
        "train_pairs": job.settings["train_pairs"],
        "iterations": job.pretrain_iters + job.iters,
        "dice": float(dice.mean()),
        "iou": float(iou.mean()),
        "held_out_dice_curve": curve,
        "loss_curve": loss + more,
    }
    job.path.parent.mkdir(parents=True, exist_ok=True)
    if job.feature_net:
        torch.save(model.state_dict(), job.feature_net)
    job.path.write_text(json.dumps(result) + "\n")
    return result


def run_jobs(fn, jobs: list, workers: int) -> list:
    """fn(job) for each job, results in order, `workers` at a time in separate processes (each job
    keeps what it makes in a file, so a run killed midway resumes from the finished ones)."""
    if workers <= 1 or len(jobs) <= 1:
        return [fn(j) for j in jobs]
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # spawn, not fork: a forked child of a process that has run torch can hang in its thread pools
    with ProcessPoolExecutor(min(workers, len(jobs)), mp_context=multiprocessing.get_context("spawn")) as pool:
        return list(pool.map(fn, jobs))
