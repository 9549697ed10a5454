"""Do generated pairs help a segmenter? The papers' downstream table on real data (EVALUATION.md).

    python3 -m pigkit.downstream --data DATA --run ../runs/table --out ../runs/table/downstream \\
        --seeds 0,1,2 --seg-iters 4000 --steps 50 [--device cuda] [--jobs 2 --threads 1]

RUN holds the trained models: mask/ckpt.pt (model_x), image/ckpt.pt (PIG's model_y) and, where
trained, siamese/image/ckpt.pt (model_y with Siamese-Diffusion's noise-consistent training) and
uncond/ckpt.pt (an image DDPM alone, `pigkit.train --model uncond`); rows whose model is missing
are skipped and said so. Every training row is a segmentation U-Net trained on the real training
folds plus that row's generated pairs, with the same iterations, batch and learning rate for every
row (the budget), scored on the held-out fold with Dice and IoU, mean ± std over --seeds:

  real                  real pairs only
  pig ×1, pig ×2        + N / 2N pairs of PIG's joint loop (N = the real training pairs)
  mask→image ×1         + N images of model_y alone, one for each real training mask
  siamese …             the same two kinds with the Siamese-trained model_y
  image→mask            model_x as a segmenter of the held-out images (no training): the image is
                        forward-noised with one fixed ε at every step; seeds vary that noise

The generated sets are drawn once (seed --gen-seed) and shared by every segmenter seed, so the
spread over seeds is the segmenter's. Realism: a Fréchet distance between each generated image set
and the real held-out images in the feature space of the `real` row's first segmenter (its
bottleneck, averaged over space). It is not Inception FID: Inception was trained on natural
photographs at 299², not on ultrasound at this size, and its weights cannot be fetched here; the
segmenter saw only the real training folds. Its numbers compare rows with each other and with the
real training images (the floor), not with FIDs in the literature.

Writes to OUT: results.json, results.md (the tables), learning-curves.png (held-out Dice while
training, mean over seeds), samples-<set>.png (16 generated pairs beside 16 real held-out ones),
and generated/<set>.pt, rows/<row>-seed<k>.json as it goes: a rerun reuses what is there (a
generated set only while its models, steps, η and size are the same), so a killed run resumes.
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

from .binarize import to_uint8
from .data import DataError, open_dataset
from .evaluate import samples_grid
from .export import sha256_of
from .frechet import frechet_distance
from .plot import loss_curve_png
from .sampler import TorchNoise, sample_image_from_mask, sample_image_unconditional, sample_pair, segment_image
from .schedule import Schedule
from .segment import bottleneck_features, build_segmenter, dice_iou, predict_masks, train_segmenter
from .train import CheckpointError, load_model_checkpoint


@dataclass(frozen=True)
class Row:
    name: str
    generated: str | None  # the generated set it adds to the real pairs (None: real only)
    multiple: int = 1  # how many N of that set


def plan_rows(have_siamese: bool, multiples: list[int]) -> list[Row]:
    rows = [Row("real", None)]
    for prefix, label in [("", "")] + ([("siamese-", "siamese ")] if have_siamese else []):
        rows += [Row(f"{label}pig ×{k}", f"{prefix}pig", k) for k in multiples]
        rows.append(Row(f"{label}mask→image ×1", f"{prefix}m2i", 1))
    return rows


def generate_set(name: str, kind: str, models: dict, schedule: Schedule, n: int, steps: int, eta: float, batch: int, seed: int,
                 device, train_masks: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
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
            out = sample_image_from_mask(models["image"], train_masks[start:start + b].to(device), schedule, steps, noise, eta=eta)
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
    saved = torch.load(path, map_location="cpu", weights_only=False) if path.is_file() else None
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
    return cached_set(job.path, job.meta, lambda: generate_set(job.name, job.kind, job.models, Schedule(), job.count, job.steps,
                                                               job.eta, job.batch, job.seed, torch.device(job.device), job.train_masks))


def _mean_std(values: list[float]) -> tuple[float, float]:
    a = np.asarray(values, float)
    return float(a.mean()), float(a.std(ddof=1)) if len(a) > 1 else 0.0


def summarise(per_seed: dict[str, list[dict]]) -> dict[str, dict]:
    """Mean ± std (over seeds, ddof 1) of Dice and IoU per row, and each row's difference from
    `real`, called beyond the seed spread when it exceeds the two rows' std added together."""
    table = {}
    for name, runs in per_seed.items():
        d, i = _mean_std([r["dice"] for r in runs]), _mean_std([r["iou"] for r in runs])
        table[name] = {"dice_mean": d[0], "dice_std": d[1], "iou_mean": i[0], "iou_std": i[1], "seeds": [r["seed"] for r in runs],
                       "dice_per_seed": [r["dice"] for r in runs], "train_pairs": runs[0]["train_pairs"]}
    base = table.get("real")
    for name, row in table.items():
        if base is None or name == "real":
            continue
        delta = row["dice_mean"] - base["dice_mean"]
        row["dice_delta_vs_real"] = delta
        row["beyond_seed_spread"] = bool(abs(delta) > row["dice_std"] + base["dice_std"])
    return table


def results_markdown(r: dict) -> str:
    lines = [f"Segmentation U-Net trained on BUS-BRA folds {r['train_folds']} ({r['n_train']} real pairs) plus each row's "
             f"generated pairs, {r['seg_iters']} iterations of batch {r['seg_batch']} for every row; Dice and IoU on fold "
             f"{r['test_fold']} ({r['n_test']} pairs), mean ± std over seeds {r['seeds']}; generated with {r['steps']} DDIM "
             f"steps, η = {r['eta']}, at {r['resolution']}². \"Beyond the seed spread\": |Δ| larger than the two rows' std added.", "",
             "| row | training pairs | Dice | IoU | Δ Dice vs real | beyond the seed spread |", "|---|---|---|---|---|---|"]
    for name, v in r["table"].items():
        delta = "–" if "dice_delta_vs_real" not in v else f"{v['dice_delta_vs_real']:+.3f}"
        beyond = "–" if "beyond_seed_spread" not in v else ("yes" if v["beyond_seed_spread"] else "no")
        lines.append(f"| {name} | {v['train_pairs']} | {v['dice_mean']:.3f} ± {v['dice_std']:.3f} | "
                     f"{v['iou_mean']:.3f} ± {v['iou_std']:.3f} | {delta} | {beyond} |")
    lines += ["", f"Fréchet distance to the {r['n_test']} real held-out images, in the feature space of the `real` row's "
              f"segmenter (seed {r['seeds'][0]}; {r['feature_dim']} features; not Inception FID):", "",
              "| images | n | Fréchet distance |", "|---|---|---|"]
    for name, v in r["frechet"].items():
        lines.append(f"| {name} | {v['n']} | {v['fd']:.3f} |")
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class SegmenterJob:
    """One table cell: a segmenter trained on a row's pairs with one seed, scored on the held-out
    fold; everything it needs travels with it, so it can run in another process."""
    row: str
    seed: int
    settings: dict
    images: torch.Tensor
    masks: torch.Tensor
    test_images: torch.Tensor
    test_masks: torch.Tensor
    path: Path  # where its result is kept
    feature_net: Path | None  # also save the trained weights here (the Fréchet distance's network)
    device: str
    threads: int


def train_and_score(job: SegmenterJob) -> dict:
    if job.threads:
        torch.set_num_threads(job.threads)
    print(f"row {job.row}, seed {job.seed}: {len(job.images)} training pairs", file=sys.stderr, flush=True)
    curve = []

    def held_out(it, model):
        curve.append((it, float(dice_iou(predict_masks(model, job.test_images), job.test_masks > 0)[0].mean())))
    iters = job.settings["seg_iters"]
    model, loss = train_segmenter(job.images, job.masks, iters, job.settings["seg_batch"], seed=job.seed,
                                  device=torch.device(job.device), on_eval=held_out, eval_every=job.settings["eval_every"],
                                  log_every=max(iters // 10, 1), log_prefix=f"{job.row}, seed {job.seed}: ")
    dice, iou = dice_iou(predict_masks(model, job.test_images), job.test_masks > 0)
    result = {"row": job.row, "seed": job.seed, "settings": job.settings, "train_pairs": len(job.images), "dice": float(dice.mean()),
              "iou": float(iou.mean()), "held_out_dice_curve": curve, "loss_curve": loss}
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


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="pigkit.downstream", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True)
    p.add_argument("--run", required=True, help="folder with mask/, image/ and optionally siamese/image/, uncond/ checkpoints")
    p.add_argument("--out", required=True)
    p.add_argument("--seeds", default="0,1,2", help="segmenter training seeds (at least 3 for the table)")
    p.add_argument("--multiples", default="1,2", help="PIG rows: this many N generated pairs")
    p.add_argument("--seg-iters", type=int, default=4000)
    p.add_argument("--seg-batch", type=int, default=16)
    p.add_argument("--eval-every", type=int, default=250, help="held-out Dice for the learning curves every this many iterations")
    p.add_argument("--steps", type=int, default=50)
    p.add_argument("--eta", type=float, default=0.0)
    p.add_argument("--gen-batch", type=int, default=64)
    p.add_argument("--gen-seed", type=int, default=1000)
    p.add_argument("--train-folds", default="1,2,3")
    p.add_argument("--test-fold", type=int, default=4)
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--threads", type=int, default=0, help="torch threads of each segmenter job; the sampling and the "
                   "Fréchet features between them use threads × jobs (0 = torch's default)")
    p.add_argument("--jobs", type=int, default=1, help="generated sets drawn and segmenters trained at once, each in its own process (on a CPU: "
                   "--jobs = cores with --threads 1 is faster than one job on every core)")
    a = p.parse_args(argv)
    seeds, multiples = [int(s) for s in a.seeds.split(",")], [int(k) for k in a.multiples.split(",")]
    if a.threads:  # the cores the segmenter jobs will share, for the work done here between them
        torch.set_num_threads(a.threads * max(a.jobs, 1))
    run, out, device, schedule = Path(a.run), Path(a.out), torch.device(a.device), Schedule()
    ckpts = {"mask": run / "mask" / "ckpt.pt", "image": run / "image" / "ckpt.pt",
             "siamese": run / "siamese" / "image" / "ckpt.pt", "uncond": run / "uncond" / "ckpt.pt"}
    try:  # models and data checked before anything long starts
        models = {k: load_model_checkpoint(ckpts[k], device) for k in ("mask", "image")}
        models.update({k: load_model_checkpoint(ckpts[k], device) for k in ("siamese", "uncond") if ckpts[k].is_file()})
        res = models["mask"].resolution
        train = open_dataset(a.data, res, {int(f) for f in a.train_folds.split(",")})
        test = open_dataset(a.data, res, {a.test_fold})
    except (DataError, CheckpointError, FileNotFoundError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    for k in ("siamese", "uncond"):
        if k not in models:
            print(f"note: no {ckpts[k]}: the {k} rows are left out", file=sys.stderr)
    n = len(train)
    out.mkdir(parents=True, exist_ok=True)

    # the generated sets, each drawn once: name → (kind, {role: which checkpoint}, count)
    kinds = {"pig": ("pig", {"mask": "mask", "image": "image"}, max(multiples) * n), "m2i": ("m2i", {"image": "image"}, n)}
    if "siamese" in models:
        kinds["siamese-pig"] = ("pig", {"mask": "mask", "image": "siamese"}, max(multiples) * n)
        kinds["siamese-m2i"] = ("m2i", {"image": "siamese"}, n)
    if "uncond" in models:
        kinds["uncond"] = ("uncond", {"image": "uncond"}, n)
    set_jobs = []
    for name, (kind, roles, count) in kinds.items():
        meta = {"kind": kind, "n": count, "steps": a.steps, "eta": a.eta, "seed": a.gen_seed,
                "models": {role: sha256_of(ckpts[key]) for role, key in roles.items()}}
        set_jobs.append(SetJob(name, kind, {role: models[key] for role, key in roles.items()}, count, a.steps, a.eta,
                               a.gen_batch, a.gen_seed, str(device), train.masks if kind == "m2i" else None, out / "generated" / f"{name}.pt", meta, a.threads))
    longest_first = sorted(set_jobs, key=lambda j: -j.count * len(j.models))  # so the workers finish together
    drawn = dict(zip([j.name for j in longest_first], run_jobs(draw_set, longest_first, a.jobs)))
    generated = {j.name: drawn[j.name] for j in set_jobs}
    generated_meta = {j.name: j.meta for j in set_jobs}
    for j in set_jobs:
        if j.kind != "uncond":
            samples_grid(*generated[j.name], test.masks[:16], test.images[:16], out / f"samples-{j.name}.png")

    # the segmenters: every row × seed, each result kept as it comes
    rows = plan_rows("siamese" in models, multiples)
    feature_net = out / "rows" / f"real-seed{seeds[0]}-segmenter.pt"
    kept, pending = {}, []
    for row in rows:
        for seed in seeds:
            path = out / "rows" / f"{row.name.replace(' ', '_').replace('×', 'x').replace('→', '-to-')}-seed{seed}.json"
            images, masks = train.images, train.masks
            if row.generated:
                gm, gi = generated[row.generated]
                k = row.multiple * n
                images, masks = torch.cat([images, gi[:k]]), torch.cat([masks, gm[:k]])
            # a kept result counts only for the same budget and the same generated pairs
            settings = {"seg_iters": a.seg_iters, "seg_batch": a.seg_batch, "eval_every": a.eval_every,
                        "generated": generated_meta.get(row.generated), "train_pairs": len(images)}
            is_feature_net = row.name == "real" and seed == seeds[0]
            old = json.loads(path.read_text()) if path.is_file() else None
            if old and old.get("settings") == settings and (feature_net.is_file() or not is_feature_net):
                kept[(row.name, seed)] = old
            else:
                pending.append(SegmenterJob(row.name, seed, settings, images, masks, test.images, test.masks, path,
                                            feature_net if is_feature_net else None, str(device), a.threads))
    if pending:
        print(f"{len(pending)} segmenters to train ({len(kept)} kept), {min(a.jobs, len(pending))} at a time", file=sys.stderr)
    kept.update(zip([(j.row, j.seed) for j in pending], run_jobs(train_and_score, pending, a.jobs)))
    per_seed, curves = {}, {}
    for row in rows:
        for seed in seeds:
            result = kept[(row.name, seed)]
            per_seed.setdefault(row.name, []).append(result)
            curves.setdefault(row.name, []).append(result["held_out_dice_curve"])

    # image → mask: model_x as a segmenter of the held-out images
    i2m = []
    for seed in seeds:
        g = torch.Generator().manual_seed(seed)
        pred = []
        for s in range(0, len(test), a.gen_batch):
            img = test.images[s:s + a.gen_batch].to(device)
            pred.append(segment_image(models["mask"], img, schedule, a.steps, TorchNoise(len(img), (res, res), g, device), eta=a.eta).mask.cpu())
        dice, iou = dice_iou(torch.cat(pred) > 0, test.masks > 0)
        i2m.append({"seed": seed, "dice": float(dice.mean()), "iou": float(iou.mean()), "train_pairs": 0})
        print(f"image→mask, seed {seed}: Dice {i2m[-1]['dice']:.3f}", file=sys.stderr)
    per_seed["image→mask (model_x, no training)"] = i2m

    # realism: Fréchet distance in the `real` segmenter's feature space
    features = build_segmenter(res).to(device)
    features.load_state_dict(torch.load(feature_net, map_location=device))
    features.eval()
    ref = bottleneck_features(features, test.images).numpy()
    sets = {"real training folds (floor)": train.images, **{name: gi[:n] for name, (_, gi) in generated.items()}}
    frechet = {name: {"n": len(x), "fd": frechet_distance(bottleneck_features(features, x).numpy(), ref)} for name, x in sets.items()}

    results = {"resolution": res, "train_folds": a.train_folds, "test_fold": a.test_fold, "n_train": n, "n_test": len(test),
               "seeds": seeds, "seg_iters": a.seg_iters, "seg_batch": a.seg_batch, "steps": a.steps, "eta": a.eta,
               "gen_seed": a.gen_seed, "device": str(device), "torch": torch.__version__, "feature_dim": int(ref.shape[1]),
               "empty_masks": {name: int(((gm > 0).flatten(1).sum(1) == 0).sum()) for name, (gm, _) in generated.items() if name != "uncond"},
               "table": summarise(per_seed), "frechet": frechet}
    (out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    (out / "results.md").write_text(results_markdown(results))
    mean_curves = {name: [(c[0][k][0], float(np.mean([x[k][1] for x in c]))) for k in range(len(c[0]))] for name, c in curves.items()}
    loss_curve_png(out / "learning-curves.png", mean_curves, f"held-out Dice (fold {a.test_fold}) while training, mean over seeds",
                   log=False, smoothing=0)
    print((out / "results.md").read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
