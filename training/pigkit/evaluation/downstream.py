"""Do generated pairs help a segmenter? The papers' downstream table on real data (EVALUATION.md).

    python3 -m pigkit.downstream --data DATA --pairs CLI_PAIRS --resolution 64 --out OUT \
        --rows pig:1,pig:1:filtered,pig:1:pretrain --seg-iters 1000 [--jobs 2 --threads 1]
    python3 -m pigkit.downstream --data DATA --run ../runs/table --out ../runs/table/downstream \
        --seeds 0,1,2 --seg-iters 4000 --steps 50 [--device cuda] [--jobs 2 --threads 1]
    python3 -m pigkit.downstream card OUT/results.json [--converged OUT_B/results.json] --out card-metrics.json

The generated pairs come from the studio's CLI (--pairs: its nnU-Net raw folder, the `pig` set) or
are sampled here from RUN's checkpoints: mask/ckpt.pt (model_x), image/ckpt.pt (PIG's model_y)
and, where trained, siamese/image/ckpt.pt (model_y with Siamese-Diffusion's noise-consistent
training) and uncond/ckpt.pt (an image DDPM alone, `pigkit.train --model uncond`); sets whose
model is missing are skipped and said so. Every training row is a segmentation U-Net (--segmenter)
trained on the real training folds plus that row's generated pairs, scored on the held-out fold
with Dice and IoU, mean ± std over --seeds; rows are --rows SET:MULTIPLE[:USE] after `real`:

  real                      real pairs only
  pig ×k                    + k·N pairs of PIG's joint loop (N = the real training pairs)
  pig ×k filtered           the same after dropping empty masks and pairs whose mask the `real`
                            row's first segmenter disagrees with (Dice < --filter-min-dice)
  pig ×k pretrain→finetune  pre-trained on the k·N generated pairs alone, then fine-tuned on the real ones
  mask→image ×1             + N images of model_y alone, one for each real training mask
  siamese …                 the same kinds with the Siamese-trained model_y
  image→mask                (with --run) model_x as a segmenter of the held-out images (no
                            training): the image is forward-noised with one fixed ε at every step

The budget (--budget passes, the default) shows the segmenter every real pair as often in every row
as in `real` (--seg-iters iterations): mixed rows train longer in proportion to their pairs, and a
pre-training adds its own passes over the generated ones; --budget iters gives every row
--seg-iters. Each seed's held-out Dice every --eval-every iterations gives the learning curves and
a "converged" count (the curve's last quarter rises by at most 0.01). --lr-schedule poly decays
each segmenter's learning rate to ~0 (nnU-Net's schedule) instead of the first tables' constant
rate, whose last weights wander by ±0.01–0.02 Dice from one evaluation to the next.

The generated sets are drawn once (seed --gen-seed) and shared by every segmenter seed, so the
spread over seeds is the segmenter's. Realism: a Fréchet distance between each generated image set
and the real held-out images in the feature space of the `real` row's first segmenter (its
bottleneck, averaged over space). It is not Inception FID: Inception was trained on natural
photographs at 299², not on ultrasound at this size, and its weights cannot be fetched here; the
segmenter saw only the real training folds. Its numbers compare rows with each other and with the
real training images (the floor), not with FIDs in the literature.

Writes to OUT: results.json, results.md (the tables), card-metrics.json (the headline for a model
card: pigkit.evaluate --downstream, pigkit.card --merge-metrics; `card` writes one from two tables,
the table of record and one trained to convergence), learning-curves.png (held-out Dice while
training, mean over seeds), samples-<set>.png (16 generated pairs beside 16 real held-out ones),
and generated/<set>.pt, rows/<row>-seed<k>.json as it goes: a rerun reuses what is there (a
sampled set only while its models, steps, η and size are the same; a row only with the same
settings and generated pairs), so a killed run resumes.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

import torch

from pigkit.data.pairs import DataError, open_dataset
from pigkit.evaluation.downstream_args import parser
from pigkit.evaluation.downstream_segmenters import SegmenterJob, run_jobs, train_and_score
from pigkit.evaluation.downstream_sets import (
    Row,
    SetJob,
    default_rows,
    draw_set,
    filter_pairs,
    parse_rows,
    read_pairs_set,
    row_iterations,
)
from pigkit.evaluation.downstream_table import card_main, write_results
from pigkit.evaluation.generated import samples_grid
from pigkit.evaluation.segment import build_segmenter
from pigkit.exporter.export import sha256_of
from pigkit.training.checkpoint import CheckpointError, load_checkpoint_file, load_model_checkpoint

KINDS = {  # a generated set's name → (kind, {role: checkpoint})
    "pig": ("pig", {"mask": "mask", "image": "image"}),
    "m2i": ("m2i", {"image": "image"}),
    "siamese-pig": ("pig", {"mask": "mask", "image": "siamese"}),
    "siamese-m2i": ("m2i", {"image": "siamese"}),
    "uncond": ("uncond", {"image": "uncond"}),
}


class Refused(Exception):
    """A check before the long work failed: the message is printed as `error: …`, exit code 2."""


@dataclass
class Table:
    """What the steps of one table share: the flags, the data, the generated sets, the results so far."""

    a: argparse.Namespace
    seeds: list[int]
    subset: dict | None
    out: Path
    device: torch.device
    res: int
    train: object
    test: object
    rows: list[Row]
    models: dict
    ckpts: dict
    pairs: tuple | None
    generated: dict = field(default_factory=dict)
    generated_meta: dict = field(default_factory=dict)
    set_jobs: list = field(default_factory=list)
    kept: dict = field(default_factory=dict)
    filtered: dict = field(default_factory=dict)
    base: dict = field(default_factory=dict)

    @property
    def n(self) -> int:
        return len(self.train)

    @property
    def feature_net(self) -> Path:
        return self.out / "rows" / f"real-seed{self.seeds[0]}-segmenter.pt"


def open_table(p: argparse.ArgumentParser, a: argparse.Namespace) -> Table:
    """Models, pairs and data checked before anything long starts (raises Refused)."""
    seeds = [int(s) for s in a.seeds.split(",")]
    # the low-data setting's subset, as the rows' settings and the results name it
    subset = None if a.train_patients is None else {"fraction": a.train_patients, "seed": a.patients_seed}
    if not (a.run or a.pairs):
        p.error("give --run (models to sample from), --pairs (the CLI's pairs) or both")
    if a.threads:  # the cores the segmenter jobs will share, for the work done here between them
        torch.set_num_threads(a.threads * max(a.jobs, 1))
    run, device = Path(a.run) if a.run else None, torch.device(a.device)
    roles = [("mask", "mask"), ("image", "image"), ("siamese", "siamese/image"), ("uncond", "uncond")]
    ckpts = {k: run / sub / "ckpt.pt" for k, sub in roles} if run else {}
    try:
        models = {k: load_model_checkpoint(ckpts[k], device) for k in ("mask", "image")} if run else {}
        models.update({k: load_model_checkpoint(ckpts[k], device) for k in ("siamese", "uncond") if run and ckpts[k].is_file()})
        res = models["mask"].resolution if models else a.resolution
        if res is None:
            p.error("--pairs without --run needs --resolution")
        pairs = read_pairs_set(Path(a.pairs), res) if a.pairs else None
        train = open_dataset(a.data, res, {int(f) for f in a.train_folds.split(",")})
        if a.train_patients is not None:
            train = train.patient_subset(a.train_patients, a.patients_seed)
        test = open_dataset(a.data, res, {a.test_fold})
        build_segmenter(res, a.segmenter)
        rows = parse_rows(
            a.rows if a.rows is not None else default_rows("siamese" in models, [float(k) for k in a.multiples.split(",")])
        )
    except (DataError, CheckpointError, FileNotFoundError, ValueError) as e:
        raise Refused(e) from None
    for k in ("siamese", "uncond"):
        if run and k not in models:
            print(f"note: no {ckpts[k]}: the {k} rows are left out", file=sys.stderr)
    return Table(a, seeds, subset, Path(a.out), device, res, train, test, rows, models, ckpts, pairs)


def plan_sets(tb: Table) -> None:
    """The generated sets the rows need, each drawn once (or read from --pairs); raises Refused."""
    a, n, rows = tb.a, tb.n, tb.rows
    wanted = {row.generated: max(r.multiple for r in rows if r.generated == row.generated) for row in rows if row.generated}
    if "uncond" in tb.models:
        wanted["uncond"] = 1
    for name, multiple in wanted.items():
        count = round(multiple * n) if KINDS[name][0] == "pig" else n
        if name == "pig" and tb.pairs is not None:
            if len(tb.pairs[0]) < count:
                raise Refused(f"{a.pairs} holds {len(tb.pairs[0])} pairs; the rows need {count} ({multiple:g} × {n})")
            tb.generated[name], tb.generated_meta[name] = (tb.pairs[0][:count], tb.pairs[1][:count]), {**tb.pairs[2], "n": count}
            continue
        kind, roles = KINDS[name]
        missing = [key for key in roles.values() if key not in tb.models]
        if missing:
            raise Refused(f"the rows of set {name} need the {', '.join(missing)} model (--run)")
        meta = {
            "kind": kind,
            "n": count,
            "steps": a.steps,
            "eta": a.eta,
            "seed": a.gen_seed,
            "models": {role: sha256_of(tb.ckpts[key]) for role, key in roles.items()},
        }
        tb.set_jobs.append(
            SetJob(
                name,
                kind,
                {role: tb.models[key] for role, key in roles.items()},
                count,
                a.steps,
                a.eta,
                a.gen_batch,
                a.gen_seed,
                str(tb.device),
                tb.train.masks if kind == "m2i" else None,
                tb.out / "generated" / f"{name}.pt",
                meta,
                a.threads,
            )
        )
        tb.generated_meta[name] = meta


def draw_sets(tb: Table) -> None:
    longest_first = sorted(tb.set_jobs, key=lambda j: -j.count * len(j.models))  # so the workers finish together
    tb.generated.update(zip([j.name for j in longest_first], run_jobs(draw_set, longest_first, tb.a.jobs)))
    for name, (gm, gi) in tb.generated.items():
        if name != "uncond":
            samples_grid(gm, gi, tb.test.masks[:16], tb.test.images[:16], tb.out / f"samples-{name}.png")


def row_pairs(tb: Table, row: Row) -> tuple:
    """A row's generated masks and images (None, None for `real`), and the set's record for its settings."""
    gm = gi = k = None
    if row.generated:
        k = round(row.multiple * tb.n)
        gm, gi = tb.generated[row.generated][0][:k], tb.generated[row.generated][1][:k]
        if row.use == "filtered":
            gm, gi = gm[tb.filtered[(row.generated, k)]["keep"]], gi[tb.filtered[(row.generated, k)]["keep"]]
    gen_meta = tb.generated_meta.get(row.generated)
    if gen_meta and "folder" in gen_meta:
        # the CLI's pairs have a seed each, so a row's first k are the same whatever the other
        # rows ask for: the row is keyed by the pairs it used, and survives a larger sweep
        gen_meta = {**gen_meta, "n": k}
    return gm, gi, gen_meta


def jobs_for(tb: Table, batch_rows: list[Row]) -> list[SegmenterJob]:
    """The segmenters of these rows × seeds not already kept with the same settings."""
    a, n, pending = tb.a, tb.n, []
    for row in batch_rows:
        gm, gi, gen_meta = row_pairs(tb, row)
        n_gen = 0 if gm is None else len(gm)
        pre_iters, iters = row_iterations(row, a.seg_iters, n, n_gen, a.budget) if row.generated else (0, a.seg_iters)
        mixed = row.generated and row.use != "pretrain"
        images = torch.cat([tb.train.images, gi]) if mixed else tb.train.images
        masks = torch.cat([tb.train.masks, gm]) if mixed else tb.train.masks
        # a kept result counts only for the same budget, the same segmenter and the same generated pairs
        settings = {
            **tb.base,
            "seg_iters": a.seg_iters,
            "iters": iters,
            "pretrain_iters": pre_iters,
            "use": row.use,
            "generated": gen_meta,
            "generated_pairs": n_gen,
            "train_pairs": n + n_gen,
        }
        for seed in tb.seeds:
            path = tb.out / "rows" / f"{row.name.replace(' ', '_').replace('×', 'x').replace('→', '-to-')}-seed{seed}.json"
            is_feature_net = row.name == "real" and seed == tb.seeds[0]
            old = json.loads(path.read_text()) if path.is_file() else None
            if old and old.get("settings") == settings and (tb.feature_net.is_file() or not is_feature_net):
                tb.kept[(row.name, seed)] = old
                continue
            pending.append(
                SegmenterJob(
                    row.name,
                    seed,
                    settings,
                    images,
                    masks,
                    iters,
                    gi if pre_iters else None,
                    gm if pre_iters else None,
                    pre_iters,
                    tb.test.images,
                    tb.test.masks,
                    path,
                    tb.feature_net if is_feature_net else None,
                    str(tb.device),
                    a.threads,
                )
            )
    return pending


def train_pending(tb: Table, pending: list[SegmenterJob]) -> None:
    if pending:
        print(
            f"{len(pending)} segmenters to train ({len(tb.kept)} kept), {min(tb.a.jobs, len(pending))} at a time", file=sys.stderr
        )
    tb.kept.update(zip([(j.row, j.seed) for j in pending], run_jobs(train_and_score, pending, tb.a.jobs)))


def filter_sets(tb: Table, features) -> None:
    """The filtered rows' pairs: those whose mask the `real` row's first segmenter agrees with."""
    for row in tb.rows:
        if row.use == "filtered" and (row.generated, round(row.multiple * tb.n)) not in tb.filtered:
            k = round(row.multiple * tb.n)
            gm, gi = tb.generated[row.generated][0][:k], tb.generated[row.generated][1][:k]
            keep = filter_pairs(features, gm, gi, tb.a.filter_min_dice)
            tb.filtered[(row.generated, k)] = {
                "label": f"{row.generated} ×{row.multiple:g}",  # the row's multiple, not k / n (564 / 1127 = 0.500444)
                "keep": keep,
                "kept": int(keep.sum()),
                "of": k,
                "empty": int((~(gm > 0).flatten(1).any(1)).sum()),
            }
            print(f"filter: {row.generated} ×{row.multiple:g} keeps {int(keep.sum())} of {k}", file=sys.stderr)


def train_segmenters(tb: Table):
    """Every row × seed, each result kept as it comes; the filtered rows last, as they need the `real`
    row's first segmenter. Returns that segmenter (the Fréchet features)."""
    a = tb.a
    tb.base = {"seg_batch": a.seg_batch, "eval_every": a.eval_every, "segmenter": a.segmenter, "budget": a.budget}
    if a.lr_schedule != "constant":  # named only when not the first tables' constant rate, so their rows are kept
        tb.base["lr_schedule"] = a.lr_schedule
    if tb.subset is not None:
        tb.base["train_patients"] = tb.subset
    train_pending(tb, jobs_for(tb, [r for r in tb.rows if r.use != "filtered"]))
    features = build_segmenter(tb.res, a.segmenter).to(tb.device)
    features.load_state_dict(load_checkpoint_file(tb.feature_net, tb.device))
    features.eval()
    filter_sets(tb, features)
    train_pending(tb, jobs_for(tb, [r for r in tb.rows if r.use == "filtered"]))
    return features


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["card"]:
        return card_main(argv[1:])
    p = parser(__doc__)
    a = p.parse_args(argv)
    try:
        tb = open_table(p, a)
        tb.out.mkdir(parents=True, exist_ok=True)
        plan_sets(tb)
    except Refused as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    draw_sets(tb)
    features = train_segmenters(tb)
    write_results(tb, features)
    return 0


if __name__ == "__main__":
    sys.exit(main())
