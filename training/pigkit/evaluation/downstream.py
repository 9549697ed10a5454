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
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from pigkit.data.pairs import DataError, add_patient_subset_arguments, open_dataset
from pigkit.evaluate import read_generated, samples_grid
from pigkit.evaluation.frechet import frechet_distance
from pigkit.evaluation.segment import (
    ARCHS,
    LR_SCHEDULES,
    bottleneck_features,
    build_segmenter,
    dice_iou,
    predict_masks,
    train_segmenter,
)
from pigkit.exporter.export import sha256_of
from pigkit.model.binarize import to_uint8
from pigkit.model.limits import eta_arg, steps_arg
from pigkit.model.sampler import TorchNoise, sample_image_from_mask, sample_image_unconditional, sample_pair, segment_image
from pigkit.model.schedule import Schedule
from pigkit.training.checkpoint import CheckpointError, load_checkpoint_file, load_model_checkpoint
from pigkit.training.plot import loss_curve_png

SET_LABELS = {"pig": "pig", "m2i": "mask→image", "siamese-pig": "siamese pig", "siamese-m2i": "siamese mask→image"}
USES = {"mix": "", "filtered": " filtered", "pretrain": " pretrain→finetune"}


@dataclass(frozen=True)
class Row:
    """One table row: the real training pairs, plus `multiple` × N pairs of a generated set used one
    way: mixed in (`mix`), mixed in after filtering (`filtered`: empty masks dropped, and pairs whose
    mask the `real` row's segmenter disagrees with), or as a pre-training set before fine-tuning on
    the real pairs alone (`pretrain`)."""

    name: str
    generated: str | None  # the generated set it uses (None: real only)
    multiple: float = 1
    use: str = "mix"


def parse_rows(spec: str) -> list[Row]:
    """`real` first, then each comma-separated SET:MULTIPLE[:USE] (e.g. pig:1, pig:0.5,
    pig:1:filtered, pig:1:pretrain, m2i:1)."""
    rows = [Row("real", None)]
    for item in filter(None, (part.strip() for part in spec.split(","))):
        fields = item.split(":")
        if item == "real":
            continue
        if len(fields) not in (2, 3) or fields[0] not in SET_LABELS or (len(fields) == 3 and fields[2] not in USES):
            raise ValueError(
                f"row {item!r}: write SET:MULTIPLE[:USE], SET one of {sorted(SET_LABELS)}, USE one of {sorted(USES)}"
            )
        multiple, use = float(fields[1]), fields[2] if len(fields) == 3 else "mix"
        if multiple <= 0:
            raise ValueError(f"row {item!r}: the multiple must be positive")
        rows.append(Row(f"{SET_LABELS[fields[0]]} ×{multiple:g}{USES[use]}", fields[0], multiple, use))
    return rows


def default_rows(have_siamese: bool, multiples: list[float]) -> str:
    sets = ["pig", "m2i"] + (["siamese-pig", "siamese-m2i"] if have_siamese else [])
    return ",".join(f"{s}:{k:g}" for s in sets for k in (multiples if s.endswith("pig") else [1]))


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


def filter_pairs(segmenter, masks: torch.Tensor, images: torch.Tensor, min_dice: float = 0.5) -> torch.Tensor:
    """Which generated pairs to keep: a lesion in the mask, and a mask that a segmenter trained on
    real pairs alone agrees with (Dice of its prediction on the image ≥ min_dice)."""
    nonempty = (masks > 0).flatten(1).any(1)
    dice, _ = dice_iou(predict_masks(segmenter, images), masks > 0)
    return nonempty & (dice >= min_dice)


def generate_set(
    name: str,
    kind: str,
    models: dict,
    schedule: Schedule,
    n: int,
    steps: int,
    eta: float,
    batch: int,
    seed: int,
    device,
    train_masks: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """n generated pairs of one kind on the CPU: masks ±1 and images as the 8-bit pixels an exported
    pair holds."""
    g = torch.Generator().manual_seed(seed)
    res = next(iter(models.values())).resolution
    masks, images, t0 = [], [], time.time()
    for start in range(0, n, batch):
        b = min(batch, n - start)
        noise = TorchNoise(b, (res, res), g, device)
        if kind == "pig":
            out = sample_pair(models["mask"], models["image"], schedule, steps, noise, eta=eta)
        elif kind == "m2i":
            out = sample_image_from_mask(
                models["image"], train_masks[start : start + b].to(device), schedule, steps, noise, eta=eta
            )
        else:  # uncond: images only, no mask
            out = sample_image_unconditional(models["image"], schedule, steps, noise, eta=eta)
            out.mask = -torch.ones_like(out.image)
        masks.append(out.mask.cpu())
        images.append(to_uint8(out.image.cpu()))
        done = start + b
        print(f"  {name}: {done}/{n} ({(time.time() - t0) / done * (n - done):.0f} s left)", file=sys.stderr, flush=True)
    return torch.cat(masks), torch.cat(images)


def cached_set(path: Path, meta: dict, make) -> tuple[torch.Tensor, torch.Tensor]:
    """The set stored at PATH if it was made with META, else make() (masks ±1, uint8 pixels) stored
    there; returned as masks ±1 and images in model units, the same either way."""
    saved = load_checkpoint_file(path) if path.is_file() else None
    if saved is not None and saved.get("meta") != meta:
        print(f"{path}: made with other models or settings, generating it again", file=sys.stderr)
        saved = None
    if saved is None:
        masks, pixels = make()
        saved = {"meta": meta, "masks": masks.to(torch.int8), "images": pixels}
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".partial")
        torch.save(saved, tmp)
        tmp.replace(path)
    return saved["masks"].float(), saved["images"].float() / 127.5 - 1


@dataclass(frozen=True)
class SetJob:
    """One generated set to draw (or find already drawn at `path` with the same `meta`)."""

    name: str
    kind: str  # pig, m2i or uncond
    models: dict  # role → model
    count: int
    steps: int
    eta: float
    batch: int
    seed: int
    device: str
    train_masks: torch.Tensor | None  # the conditions of mask → image (only that kind carries them to a worker)
    path: Path
    meta: dict
    threads: int


def draw_set(job: SetJob) -> tuple[torch.Tensor, torch.Tensor]:
    if job.threads:
        torch.set_num_threads(job.threads)
    print(f"generated set {job.name}: {job.count} ({job.kind})", file=sys.stderr, flush=True)
    return cached_set(
        job.path,
        job.meta,
        lambda: generate_set(
            job.name,
            job.kind,
            job.models,
            Schedule(),
            job.count,
            job.steps,
            job.eta,
            job.batch,
            job.seed,
            torch.device(job.device),
            job.train_masks,
        ),
    )


def _mean_std(values: list[float]) -> tuple[float, float]:
    a = np.asarray(values, float)
    return float(a.mean()), float(a.std(ddof=1)) if len(a) > 1 else 0.0


def summarise(per_seed: dict[str, list[dict]]) -> dict[str, dict]:
    """Mean ± std (over seeds, ddof 1) of Dice and IoU per row, and each row's difference from
    `real`, called beyond the seed spread when it exceeds the two rows' std added together."""
    table = {}
    for name, runs in per_seed.items():
        d, i = _mean_std([r["dice"] for r in runs]), _mean_std([r["iou"] for r in runs])
        table[name] = {
            "dice_mean": d[0],
            "dice_std": d[1],
            "iou_mean": i[0],
            "iou_std": i[1],
            "seeds": [r["seed"] for r in runs],
            "dice_per_seed": [r["dice"] for r in runs],
            "train_pairs": runs[0]["train_pairs"],
            "iterations": runs[0].get("iterations"),
            "converged": sum(held_out_flat(r["held_out_dice_curve"]) for r in runs if r.get("held_out_dice_curve")),
        }
    base = table.get("real")
    for name, row in table.items():
        if base is None or name == "real":
            continue
        delta = row["dice_mean"] - base["dice_mean"]
        row["dice_delta_vs_real"] = delta
        # one seed has no spread to be beyond: None, not a "yes" that any difference would earn
        one_seed = len(row["seeds"]) < 2 or len(base["seeds"]) < 2
        row["beyond_seed_spread"] = None if one_seed else bool(abs(delta) > row["dice_std"] + base["dice_std"])
    return table


def pairs_from(r: dict) -> str:
    """The model that made a table's generated pairs, by the sha256 of its weights files where the
    model folder keeps them apart from the graphs (a new graph layout changes the graphs' hashes,
    not the model), else of its graphs."""
    files = ((r.get("pairs") or {}).get("model") or {}).get("files") or {}
    named = {k: v["sha256"] for k, v in files.items() if isinstance(v, dict) and "sha256" in v}
    weights = {k[: -len("Weights")]: v for k, v in named.items() if k.endswith("Weights")}
    return ", ".join(f"{k} {v[:12]}" for k, v in sorted((weights or named).items()))


def card_metrics(r: dict, converged: dict | None = None) -> dict:
    """The table's headline for a model card: `real` and the best row that trained on generated
    pairs, each Dice as mean ± std over the seeds, and which model made the pairs. With `converged`
    (the results of a second table trained to convergence, budget (b)), also that table's real-only
    and best generated row (downstreamConverged), and the best row's control: real-only trained
    as long."""
    fmt = lambda v: f"{v['dice_mean']:.3f} ± {v['dice_std']:.3f}"  # noqa: E731
    spread = {True: "beyond the seed spread", False: "within the seed spread", None: "one seed: no spread"}

    def best_generated(table: dict) -> tuple[str, dict] | None:
        generated = {k: v for k, v in table.items() if k != "real" and v.get("iterations") is not None}
        return max(generated.items(), key=lambda kv: kv[1]["dice_mean"]) if generated else None

    def iterations(name: str, row: dict, results: dict) -> str:
        real = results["table"]["real"]["iterations"]
        if name.endswith(USES["pretrain"]) and results.get("budget") == "passes":
            return f"{row['iterations'] - real:,} + {real:,}"  # the pre-training, then the real pairs' own
        return f"{row['iterations']:,}"

    def versus_real(row: dict) -> str:
        return f"{fmt(row)} (Δ {row['dice_delta_vs_real']:+.3f}, {spread[row['beyond_seed_spread']]})"

    table = r["table"]
    out = {
        "downstreamDiceRealOnly": f"{fmt(table['real'])} ({table['real']['iterations']:,} iterations)",
        "downstreamSegmenter": f"{r['segmenter']}, {r['resolution']}², seeds {r['seeds']}",
    }
    best = best_generated(table)
    if best:
        out["downstreamBestGeneratedRow"] = f"{best[0]}: {versus_real(best[1])}"
    if converged:
        real = converged["table"]["real"]
        if best:
            out["downstreamBestGeneratedRow"] += (
                f" at equal passes; real-only trained {real['iterations']:,} iterations reaches {fmt(real)}"
            )
        out["downstreamConverged"] = f"real-only {fmt(real)} ({real['iterations']:,} iterations)"
        best_converged = best_generated(converged["table"])
        if best_converged:
            name, row = best_converged
            out["downstreamConverged"] += f"; {name}, {iterations(name, row, converged)} iterations: {versus_real(row)}"
    made_by = pairs_from(r)
    if made_by:
        other = pairs_from(converged) if converged else ""
        out["downstreamPairsFrom"] = made_by + (f"; converged table: {other}" if other and other != made_by else "")
    return out


def write_card_metrics(path: Path, metrics: dict) -> None:
    """card-metrics.json: the figures under "metrics", as pigkit.evaluate --downstream and
    pigkit.card --merge-metrics read them."""
    path.write_text(json.dumps({"metrics": metrics}, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def results_markdown(r: dict) -> str:
    budget = (
        "each row's iterations show the segmenter every real pair as often as `real` does "
        f"({r['seg_iters']} iterations of batch {r['seg_batch']} for `real`; "
        "a pre-training adds its own passes over the generated pairs)"
        if r["budget"] == "passes"
        else f"{r['seg_iters']} iterations of batch {r['seg_batch']} for every row"
    )
    lr = "a poly learning rate (nnU-Net's decay to ~0)" if r.get("lr_schedule") == "poly" else "a constant learning rate"
    tp = r.get("train_patients")
    subset = f" (a random {tp['fraction']:g} of their patients, subset seed {tp['seed']})" if tp else ""
    lines = [
        f"Segmentation U-Net (`{r['segmenter']}`, Adam with {lr}) trained on folds {r['train_folds']} of {r['data']}{subset} "
        f"({r['n_train']} real pairs) plus each row's generated pairs; {budget}. Dice and IoU on fold {r['test_fold']} "
        f"({r['n_test']} pairs), mean ± std over seeds {r['seeds']}; generated pairs: {r['generated_by']}, "
        f'at {r["resolution"]}². "Beyond the seed spread": |Δ| larger than the two rows\' std '
        'added. "Converged": seeds whose held-out Dice rose by at most 0.01 over the last quarter of training.',
        "",
        "| row | training pairs | iterations | Dice | IoU | Δ Dice vs real | beyond the seed spread | converged |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, v in r["table"].items():
        delta = "–" if "dice_delta_vs_real" not in v else f"{v['dice_delta_vs_real']:+.3f}"
        beyond = (
            "–" if "beyond_seed_spread" not in v else {None: "– (one seed)", True: "yes", False: "no"}[v["beyond_seed_spread"]]
        )
        iters = "–" if v.get("iterations") is None else str(v["iterations"])
        converged = "–" if v.get("iterations") is None else f"{v['converged']}/{len(v['seeds'])}"
        lines.append(
            f"| {name} | {v['train_pairs']} | {iters} | {v['dice_mean']:.3f} ± {v['dice_std']:.3f} | "
            f"{v['iou_mean']:.3f} ± {v['iou_std']:.3f} | {delta} | {beyond} | {converged} |"
        )
    if r.get("filtered"):
        lines += [
            "",
            "Filtering (empty masks dropped, then pairs whose mask the `real` row's first segmenter disagrees with, "
            f"Dice < {r['filter_min_dice']}):",
            "",
            "| generated pairs | kept | fraction kept | empty masks dropped |",
            "|---|---|---|---|",
        ]
        for name, v in r["filtered"].items():
            lines.append(f"| {name} | {v['kept']} of {v['of']} | {v['kept'] / max(v['of'], 1):.2f} | {v['empty']} |")
    lines += [
        "",
        f"Fréchet distance to the {r['n_test']} real held-out images, in the feature space of the `real` row's "
        f"segmenter (seed {r['seeds'][0]}; {r['feature_dim']} features; not Inception FID):",
        "",
        "| images | n | Fréchet distance |",
        "|---|---|---|",
    ]
    for name, v in r["frechet"].items():
        lines.append(f"| {name} | {v['n']} | {v['fd']:.3f} |")
    return "\n".join(lines) + "\n"


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


def read_pairs_set(folder: Path, resolution: int) -> tuple[torch.Tensor, torch.Tensor, dict]:
    """The studio CLI's pairs (nnU-Net raw layout) as a generated set, in case order, with what made them."""
    masks, images = read_generated(folder, resolution)
    manifest = json.loads((folder / "manifest.json").read_text()) if (folder / "manifest.json").is_file() else {}
    # the model that made them (name, files and sha256), not the folder's list of cases
    return masks, images, {"folder": str(folder.resolve()), "n": len(masks), "model": manifest.get("model")}


def row_iterations(row: Row, seg_iters: int, n_real: int, n_generated: int, budget: str) -> tuple[int, int]:
    """(pre-training, training) iterations of a row. `passes`: the real pairs are seen as often as
    in `real` (seg_iters × (N + G) / N mixed in; a pre-training takes seg_iters × G / N iterations
    on its G pairs, then seg_iters on the real ones); `iters`: seg_iters in all for every row."""
    if budget == "passes":
        if row.use == "pretrain":
            return round(seg_iters * n_generated / n_real), seg_iters
        return 0, round(seg_iters * (n_real + n_generated) / n_real)
    if row.use == "pretrain":
        pre = round(seg_iters * n_generated / (n_real + n_generated))
        return pre, seg_iters - pre
    return 0, seg_iters


def card_main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(
        prog="pigkit.downstream card",
        description="A model card's downstream figures (card-metrics.json, for pigkit.card --merge-metrics) "
        "from tables already run: the table of record, and optionally one trained to convergence.",
    )
    p.add_argument("results", help="results.json of the table of record (e.g. budget (a), equal passes)")
    p.add_argument(
        "--converged",
        default=None,
        help="results.json of a table trained to convergence (budget (b)): its real-only "
        "row is the best row's control, and its best generated row becomes downstreamConverged",
    )
    p.add_argument("--out", required=True, help="the card-metrics.json to write")
    a = p.parse_args(argv)
    tables = []
    for f in filter(None, (a.results, a.converged)):
        try:
            tables.append(json.loads(Path(f).read_text(encoding="utf-8")))
            if not isinstance(tables[-1], dict) or "real" not in (tables[-1].get("table") or {}):
                raise ValueError("no table with a `real` row")
        except (OSError, ValueError) as e:  # JSONDecodeError is a ValueError
            print(f"error: {f} is not a pigkit.downstream results.json ({e})", file=sys.stderr)
            return 2
    metrics = card_metrics(*tables)
    write_card_metrics(Path(a.out), metrics)
    print(json.dumps(metrics, indent=2, ensure_ascii=False))
    return 0


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["card"]:
        return card_main(argv[1:])
    p = argparse.ArgumentParser(
        prog="pigkit.downstream", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
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
    a = p.parse_args(argv)
    seeds = [int(s) for s in a.seeds.split(",")]
    # the low-data setting's subset, as the rows' settings and the results name it
    subset = None if a.train_patients is None else {"fraction": a.train_patients, "seed": a.patients_seed}
    if not (a.run or a.pairs):
        p.error("give --run (models to sample from), --pairs (the CLI's pairs) or both")
    if a.threads:  # the cores the segmenter jobs will share, for the work done here between them
        torch.set_num_threads(a.threads * max(a.jobs, 1))
    run, out, device, schedule = Path(a.run) if a.run else None, Path(a.out), torch.device(a.device), Schedule()
    ckpts = (
        {
            k: run / sub / "ckpt.pt"
            for k, sub in [("mask", "mask"), ("image", "image"), ("siamese", "siamese/image"), ("uncond", "uncond")]
        }
        if run
        else {}
    )
    try:  # models, pairs and data checked before anything long starts
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
        print(f"error: {e}", file=sys.stderr)
        return 2
    for k in ("siamese", "uncond"):
        if run and k not in models:
            print(f"note: no {ckpts[k]}: the {k} rows are left out", file=sys.stderr)
    n = len(train)
    out.mkdir(parents=True, exist_ok=True)

    # the generated sets the rows need, each drawn once (or read from --pairs): name → (kind, {role: checkpoint}, count)
    wanted = {row.generated: max(r.multiple for r in rows if r.generated == row.generated) for row in rows if row.generated}
    if "uncond" in models:
        wanted["uncond"] = 1
    kinds = {
        "pig": ("pig", {"mask": "mask", "image": "image"}),
        "m2i": ("m2i", {"image": "image"}),
        "siamese-pig": ("pig", {"mask": "mask", "image": "siamese"}),
        "siamese-m2i": ("m2i", {"image": "siamese"}),
        "uncond": ("uncond", {"image": "uncond"}),
    }
    generated, generated_meta, set_jobs = {}, {}, []
    for name, multiple in wanted.items():
        count = round(multiple * n) if kinds[name][0] == "pig" else n
        if name == "pig" and pairs is not None:
            if len(pairs[0]) < count:
                print(
                    f"error: {a.pairs} holds {len(pairs[0])} pairs; the rows need {count} ({multiple:g} × {n})", file=sys.stderr
                )
                return 2
            generated[name], generated_meta[name] = (pairs[0][:count], pairs[1][:count]), {**pairs[2], "n": count}
            continue
        kind, roles = kinds[name]
        missing = [key for key in roles.values() if key not in models]
        if missing:
            print(f"error: the rows of set {name} need the {', '.join(missing)} model (--run)", file=sys.stderr)
            return 2
        meta = {
            "kind": kind,
            "n": count,
            "steps": a.steps,
            "eta": a.eta,
            "seed": a.gen_seed,
            "models": {role: sha256_of(ckpts[key]) for role, key in roles.items()},
        }
        set_jobs.append(
            SetJob(
                name,
                kind,
                {role: models[key] for role, key in roles.items()},
                count,
                a.steps,
                a.eta,
                a.gen_batch,
                a.gen_seed,
                str(device),
                train.masks if kind == "m2i" else None,
                out / "generated" / f"{name}.pt",
                meta,
                a.threads,
            )
        )
        generated_meta[name] = meta
    longest_first = sorted(set_jobs, key=lambda j: -j.count * len(j.models))  # so the workers finish together
    generated.update(zip([j.name for j in longest_first], run_jobs(draw_set, longest_first, a.jobs)))
    for name, (gm, gi) in generated.items():
        if name != "uncond":
            samples_grid(gm, gi, test.masks[:16], test.images[:16], out / f"samples-{name}.png")

    # the segmenters: every row × seed, each result kept as it comes; the filtered rows last, as
    # they need the `real` row's first segmenter
    feature_net = out / "rows" / f"real-seed{seeds[0]}-segmenter.pt"
    base = {"seg_batch": a.seg_batch, "eval_every": a.eval_every, "segmenter": a.segmenter, "budget": a.budget}
    if a.lr_schedule != "constant":  # named only when not the first tables' constant rate, so their rows are kept
        base["lr_schedule"] = a.lr_schedule
    if subset is not None:
        base["train_patients"] = subset
    kept, filtered = {}, {}

    def jobs_for(batch_rows: list[Row]) -> list[SegmenterJob]:
        pending = []
        for row in batch_rows:
            gm = gi = None
            if row.generated:
                k = round(row.multiple * n)
                gm, gi = generated[row.generated][0][:k], generated[row.generated][1][:k]
                if row.use == "filtered":
                    gm, gi = gm[filtered[(row.generated, k)]["keep"]], gi[filtered[(row.generated, k)]["keep"]]
            n_gen = 0 if gm is None else len(gm)
            gen_meta = generated_meta.get(row.generated)
            if gen_meta and "folder" in gen_meta:
                # the CLI's pairs have a seed each, so a row's first k are the same whatever the other
                # rows ask for: the row is keyed by the pairs it used, and survives a larger sweep
                gen_meta = {**gen_meta, "n": k}
            pre_iters, iters = row_iterations(row, a.seg_iters, n, n_gen, a.budget) if row.generated else (0, a.seg_iters)
            mixed = row.generated and row.use != "pretrain"
            images = torch.cat([train.images, gi]) if mixed else train.images
            masks = torch.cat([train.masks, gm]) if mixed else train.masks
            # a kept result counts only for the same budget, the same segmenter and the same generated pairs
            settings = {
                **base,
                "seg_iters": a.seg_iters,
                "iters": iters,
                "pretrain_iters": pre_iters,
                "use": row.use,
                "generated": gen_meta,
                "generated_pairs": n_gen,
                "train_pairs": n + n_gen,
            }
            for seed in seeds:
                path = out / "rows" / f"{row.name.replace(' ', '_').replace('×', 'x').replace('→', '-to-')}-seed{seed}.json"
                is_feature_net = row.name == "real" and seed == seeds[0]
                old = json.loads(path.read_text()) if path.is_file() else None
                if old and old.get("settings") == settings and (feature_net.is_file() or not is_feature_net):
                    kept[(row.name, seed)] = old
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
                        test.images,
                        test.masks,
                        path,
                        feature_net if is_feature_net else None,
                        str(device),
                        a.threads,
                    )
                )
        return pending

    def train_pending(pending: list[SegmenterJob]) -> None:
        if pending:
            print(
                f"{len(pending)} segmenters to train ({len(kept)} kept), {min(a.jobs, len(pending))} at a time", file=sys.stderr
            )
        kept.update(zip([(j.row, j.seed) for j in pending], run_jobs(train_and_score, pending, a.jobs)))

    train_pending(jobs_for([r for r in rows if r.use != "filtered"]))
    features = build_segmenter(res, a.segmenter).to(device)
    features.load_state_dict(load_checkpoint_file(feature_net, device))
    features.eval()
    for row in rows:
        if row.use == "filtered" and (row.generated, round(row.multiple * n)) not in filtered:
            k = round(row.multiple * n)
            gm, gi = generated[row.generated][0][:k], generated[row.generated][1][:k]
            keep = filter_pairs(features, gm, gi, a.filter_min_dice)
            filtered[(row.generated, k)] = {
                "label": f"{row.generated} ×{row.multiple:g}",  # the row's multiple, not k / n (564 / 1127 = 0.500444)
                "keep": keep,
                "kept": int(keep.sum()),
                "of": k,
                "empty": int((~(gm > 0).flatten(1).any(1)).sum()),
            }
            print(f"filter: {row.generated} ×{row.multiple:g} keeps {int(keep.sum())} of {k}", file=sys.stderr)
    train_pending(jobs_for([r for r in rows if r.use == "filtered"]))
    per_seed, curves = {}, {}
    for row in rows:
        for seed in seeds:
            result = kept[(row.name, seed)]
            per_seed.setdefault(row.name, []).append(result)
            curves.setdefault(row.name, []).append(result["held_out_dice_curve"])

    # image → mask: model_x as a segmenter of the held-out images
    if "mask" in models:
        i2m = []
        for seed in seeds:
            g = torch.Generator().manual_seed(seed)
            pred = []
            for s in range(0, len(test), a.gen_batch):
                img = test.images[s : s + a.gen_batch].to(device)
                pred.append(
                    segment_image(
                        models["mask"], img, schedule, a.steps, TorchNoise(len(img), (res, res), g, device), eta=a.eta
                    ).mask.cpu()
                )
            dice, iou = dice_iou(torch.cat(pred) > 0, test.masks > 0)
            i2m.append({"seed": seed, "dice": float(dice.mean()), "iou": float(iou.mean()), "train_pairs": 0})
            print(f"image→mask, seed {seed}: Dice {i2m[-1]['dice']:.3f}", file=sys.stderr)
        per_seed["image→mask (model_x, no training)"] = i2m

    # realism: Fréchet distance in the `real` segmenter's feature space
    ref = bottleneck_features(features, test.images).numpy()
    sets = {"real training folds (floor)": train.images, **{name: gi[:n] for name, (_, gi) in generated.items()}}
    frechet = {
        name: {"n": len(x), "fd": frechet_distance(bottleneck_features(features, x).numpy(), ref)} for name, x in sets.items()
    }

    sampled = f"{a.steps} DDIM steps, η = {a.eta}, sampled here"
    results = {
        "data": Path(a.data).resolve().name,
        "resolution": res,
        "train_folds": a.train_folds,
        "train_patients": subset,
        "test_fold": a.test_fold,
        "n_train": n,
        "n_test": len(test),
        "seeds": seeds,
        "seg_iters": a.seg_iters,
        "seg_batch": a.seg_batch,
        "budget": a.budget,
        "segmenter": a.segmenter,
        "lr_schedule": a.lr_schedule,
        "steps": a.steps,
        "eta": a.eta,
        "gen_seed": a.gen_seed,
        "device": str(device),
        "torch": torch.__version__,
        "generated_by": (f"`pig` from the studio CLI's {a.pairs}" + (f", the others {sampled}" if set_jobs else ""))
        if pairs
        else sampled,
        "pairs": pairs[2] if pairs else None,
        "feature_dim": int(ref.shape[1]),
        "filter_min_dice": a.filter_min_dice,
        "filtered": {v["label"]: {key: v[key] for key in ("kept", "of", "empty")} for v in filtered.values()},
        "empty_masks": {
            name: int(((gm > 0).flatten(1).sum(1) == 0).sum()) for name, (gm, _) in generated.items() if name != "uncond"
        },
        "table": summarise(per_seed),
        "frechet": frechet,
    }
    (out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    (out / "results.md").write_text(results_markdown(results))
    write_card_metrics(out / "card-metrics.json", card_metrics(results))
    mean_curves = {
        name: [(c[0][k][0], float(np.mean([x[k][1] for x in c]))) for k in range(len(c[0]))] for name, c in curves.items()
    }
    loss_curve_png(
        out / "learning-curves.png",
        mean_curves,
        f"held-out Dice (fold {a.test_fold}) while training, mean over seeds",
        log=False,
        smoothing=0,
    )
    print((out / "results.md").read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
