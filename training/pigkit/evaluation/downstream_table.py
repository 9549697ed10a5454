"""The downstream table's figures (pigkit.downstream): mean ± std over seeds, results.md, and the
card-metrics.json a model card reads (`pigkit.downstream card` writes one from two tables)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

from pigkit.evaluation.downstream_segmenters import held_out_flat
from pigkit.evaluation.downstream_sets import USES
from pigkit.evaluation.frechet import frechet_distance
from pigkit.evaluation.segment import bottleneck_features, dice_iou
from pigkit.model.sampler import TorchNoise, segment_image
from pigkit.model.schedule import Schedule
from pigkit.training.plot import loss_curve_png


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


def image_to_mask(tb) -> list[dict]:
    """model_x as a segmenter of the held-out images, one row per seed."""
    a, test, res, i2m, schedule = tb.a, tb.test, tb.res, [], Schedule()
    for seed in tb.seeds:
        g = torch.Generator().manual_seed(seed)
        pred = []
        for s in range(0, len(test), a.gen_batch):
            img = test.images[s : s + a.gen_batch].to(tb.device)
            noise = TorchNoise(len(img), (res, res), g, tb.device)
            pred.append(segment_image(tb.models["mask"], img, schedule, a.steps, noise, eta=a.eta).mask.cpu())
        dice, iou = dice_iou(torch.cat(pred) > 0, test.masks > 0)
        i2m.append({"seed": seed, "dice": float(dice.mean()), "iou": float(iou.mean()), "train_pairs": 0})
        print(f"image→mask, seed {seed}: Dice {i2m[-1]['dice']:.3f}", file=sys.stderr)
    return i2m


def results_of(tb, per_seed: dict, ref, frechet: dict) -> dict:
    a = tb.a
    sampled = f"{a.steps} DDIM steps, η = {a.eta}, sampled here"
    return {
        "data": Path(a.data).resolve().name,
        "resolution": tb.res,
        "train_folds": a.train_folds,
        "train_patients": tb.subset,
        "test_fold": a.test_fold,
        "n_train": tb.n,
        "n_test": len(tb.test),
        "seeds": tb.seeds,
        "seg_iters": a.seg_iters,
        "seg_batch": a.seg_batch,
        "budget": a.budget,
        "segmenter": a.segmenter,
        "lr_schedule": a.lr_schedule,
        "steps": a.steps,
        "eta": a.eta,
        "gen_seed": a.gen_seed,
        "device": str(tb.device),
        "torch": torch.__version__,
        "generated_by": (f"`pig` from the studio CLI's {a.pairs}" + (f", the others {sampled}" if tb.set_jobs else ""))
        if tb.pairs
        else sampled,
        "pairs": tb.pairs[2] if tb.pairs else None,
        "feature_dim": int(ref.shape[1]),
        "filter_min_dice": a.filter_min_dice,
        "filtered": {v["label"]: {key: v[key] for key in ("kept", "of", "empty")} for v in tb.filtered.values()},
        "empty_masks": {
            name: int(((gm > 0).flatten(1).sum(1) == 0).sum()) for name, (gm, _) in tb.generated.items() if name != "uncond"
        },
        "table": summarise(per_seed),
        "frechet": frechet,
    }


def write_results(tb, features) -> None:
    per_seed, curves = {}, {}
    for row in tb.rows:
        for seed in tb.seeds:
            result = tb.kept[(row.name, seed)]
            per_seed.setdefault(row.name, []).append(result)
            curves.setdefault(row.name, []).append(result["held_out_dice_curve"])
    if "mask" in tb.models:  # image → mask: model_x as a segmenter of the held-out images
        per_seed["image→mask (model_x, no training)"] = image_to_mask(tb)
    # realism: Fréchet distance in the `real` segmenter's feature space
    ref = bottleneck_features(features, tb.test.images).numpy()
    sets = {"real training folds (floor)": tb.train.images, **{name: gi[: tb.n] for name, (_, gi) in tb.generated.items()}}
    frechet = {
        name: {"n": len(x), "fd": frechet_distance(bottleneck_features(features, x).numpy(), ref)} for name, x in sets.items()
    }
    results, out = results_of(tb, per_seed, ref, frechet), tb.out
    (out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    (out / "results.md").write_text(results_markdown(results))
    write_card_metrics(out / "card-metrics.json", card_metrics(results))
    mean_curves = {
        name: [(c[0][k][0], float(np.mean([x[k][1] for x in c]))) for k in range(len(c[0]))] for name, c in curves.items()
    }
    title = f"held-out Dice (fold {tb.a.test_fold}) while training, mean over seeds"
    loss_curve_png(out / "learning-curves.png", mean_curves, title, log=False, smoothing=0)
    print((out / "results.md").read_text())
