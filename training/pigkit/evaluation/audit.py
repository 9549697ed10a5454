"""Memorization audit: does a generator copy its training pairs?

    python3 -m pigkit.audit --generated DIR --data DATA --folds-train 1,2,3 --folds-heldout 4 --out OUT

DIR is a folder of generated pairs in the studio CLI's layout (`npm run generate`: imagesTr/<case>_0000.png,
labelsTr/<case>.png), from any model: the audit reads only the pairs, at their own resolution, and
reads the real data (a folder with a fold CSV, or a pack) at that resolution as the kit trains on it.

For every generated pair it finds the nearest training pair, and does the same for every real
held-out pair (other patients: what a generator that has learnt the population without copying
anyone should look like). Distances:

- `pair_pixels`: RMS difference of the pair (mask in ±1 and image in [−1, 1], both channels), i.e.
  L2 / √(2·H·W) in model units; 0 = identical, a mask pixel that differs counts 4, a grey level 1/127.5.
- `image_pixels`: the same for the image alone (L2 / √(H·W) on [−1, 1]).
- `mask_iou`: 1 − IoU of the two lesion masks (0 = the same lesion pixels; both empty: 0).
- `image_features`: cosine distance (1 − cos) between the images' random-convolution features
  (random_conv_features: a fixed, untrained 3-layer CNN whose weights come from NumPy's legacy
  RandomState(0), so every install computes the same features up to float rounding; no download).
  It is less sensitive than pixels to a shift of a few pixels or to re-drawn speckle.

Each measure is read two ways. The nearest distance itself; and the ratio of it to the distance
to the nearest pair of another training patient. A copy is near one patient's pair and far from
everyone else's (ratio ≪ 1); an image smoother than real scans (no speckle of its own) is nearer to
every training image in pixels than a real one is, without being anyone's (ratio ≈ 1): the nearest
distance alone cannot tell the two apart, the ratio can (Carlini et al. 2023 compare the nearest
distance with the next ones for the same reason).

A generated pair is "closer than held-out" when its value is below the 1st percentile of the
held-out → train values. A generator as far from its training pairs as new patients are gives
about 1%; a copying one gives most. The audit flags a measure when more than FLAG_FRACTION (5%) of
the generated pairs have a ratio that low; the nearest-distance fractions are reported beside it.

Writes to OUT: audit.json (settings, percentiles of each distribution, the fractions, every
generated case's nearest training case, distance and ratio), audit.md (the table EVALUATION.md
quotes), closest-pixels.png and closest-features.png (the generated pairs of lowest ratio, each
beside its nearest training pair: generated mask, generated image, training image, training mask),
closest-heldout-pixels.png and closest-heldout-features.png (the same for the real held-out pairs:
how alike new patients and training patients look at this resolution, the sheets' reference),
and audit-card.json (one line for the model card: pigkit.card --merge-metrics).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from pigkit.data.pairs import PairDataset, patient_of
from pigkit.evaluation.generated import add_generated_arguments, open_against_real
from pigkit.model.binarize import to_uint8

MEASURES = ("pair_pixels", "image_pixels", "mask_iou", "image_features")
MEASURE_WORDS = {
    "pair_pixels": "pair, pixels (RMS over mask ±1 and image [−1, 1])",
    "image_pixels": "image, pixels (RMS on [−1, 1])",
    "mask_iou": "mask, 1 − IoU",
    "image_features": "image, random-conv features (1 − cos)",
}
PERCENTILES = (0, 1, 5, 25, 50, 75, 95, 100)
FLAG_FRACTION = 0.05  # five times what a generator as far as new patients gives
MAX_PAIRS = 20_000  # generated or training pairs (distances are computed 256 rows at a time)
MAX_VALUES = 2**28  # pairs × 2 channels × pixels of one set, held in float64: 2 GiB
MAX_SHEET = 64  # pairs on a sheet
COPY_RMS = 0.5 / 127.5  # image RMS under half a grey level: a copy (8-bit rounding and no more)

# random_conv_features' layers: (output channels, pool after) of 3×3 convolutions with ReLU
FEATURE_LAYERS = ((16, 2), (32, 2), (64, 1))
FEATURE_GRID = 4  # the last map averaged to 4×4 cells: 64·16 = 1,024 features that keep the layout


def random_conv_features(images: torch.Tensor, seed: int = 0, batch: int = 256) -> torch.Tensor:
    """[N, 1, H, W] images in [−1, 1] → [N, 1024] float64 features of a fixed random CNN: three 3×3
    convolutions (16, 32, 64 channels; He-normal weights and no bias, from np.random.RandomState(seed),
    whose stream NumPy keeps fixed), ReLU, 2×2 average pooling after the first two, then the map
    averaged to a 4×4 grid. Deterministic and the same on any PyTorch; no training, no download."""
    rs = np.random.RandomState(seed)
    weights, c_in = [], 1
    for c_out, _ in FEATURE_LAYERS:
        w = rs.standard_normal((c_out, c_in, 3, 3)) * np.sqrt(2.0 / (9 * c_in))
        weights.append(torch.tensor(w, dtype=torch.float32))
        c_in = c_out
    out = []
    with torch.no_grad():
        for i in range(0, len(images), batch):
            x = images[i : i + batch].float()
            for w, (_, pool) in zip(weights, FEATURE_LAYERS):
                x = F.relu(F.conv2d(x, w, padding=1))
                if pool > 1:
                    x = F.avg_pool2d(x, pool)
            out.append(F.adaptive_avg_pool2d(x, FEATURE_GRID).flatten(1).double())
    return torch.cat(out)


def nearest(
    queries: torch.Tensor, refs: torch.Tensor, measure: str, groups: list[str] | None = None, block: int = 256
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each row of `queries` [N, D]: the distance to its nearest row of `refs` [M, D], that row's
    index (the first of equals), and the distance to the nearest row of another group (`groups`, one
    name per ref row, e.g. its patient; without groups, any other row). `measure`: "rms" (√ of the
    mean squared difference), "iou" (1 − IoU of rows of 0/1; 0 when both are empty) or "cosine" (1 − cos)."""
    refs = refs.double()
    if measure == "cosine":
        refs = F.normalize(refs, dim=1)
    ref_sq = (refs * refs).sum(1)
    names = sorted(set(groups)) if groups is not None else None
    group_ids = torch.tensor([names.index(g) for g in groups]) if groups is not None else torch.arange(len(refs))
    dist, idx, other = [], [], []
    for i in range(0, len(queries), block):
        q = queries[i : i + block].double()
        if measure == "rms":  # |q − r|² = |q|² + |r|² − 2 q·r, in float64 so near-copies do not cancel to noise
            d = ((q * q).sum(1)[:, None] + ref_sq[None] - 2 * q @ refs.T).clamp_min(0) / q.shape[1]
            d = d.sqrt()
        elif measure == "iou":
            inter = q @ refs.T
            union = q.sum(1)[:, None] + ref_sq[None] - inter
            d = torch.where(union > 0, 1 - inter / union.clamp_min(1), torch.zeros_like(union))
        elif measure == "cosine":
            d = (1 - F.normalize(q, dim=1) @ refs.T).clamp_min(0)
        else:
            raise ValueError(f"unknown measure {measure!r}")
        m = d.min(1)
        same = group_ids[None] == group_ids[m.indices][:, None]
        dist.append(m.values)
        idx.append(m.indices)
        other.append(d.masked_fill(same, float("inf")).min(1).values)
    return torch.cat(dist).numpy(), torch.cat(idx).numpy(), torch.cat(other).numpy()


def distances(masks: torch.Tensor, images: torch.Tensor, train: PairDataset, train_features: torch.Tensor) -> dict:
    """Each measure's (nearest distance, nearest training index, ratio) for pairs [N, 1, H, W] (masks
    ±1, images [−1, 1]) against the training pairs and their random_conv_features. The ratio is the
    nearest distance over the nearest of another patient's pairs: a copy is near one patient only
    (ratio ≪ 1), a smooth or typical image is about as near to many (ratio ≈ 1); 1 where both are 0."""
    patients = [patient_of(c) for c in train.case_ids]
    flat = lambda m, i: torch.cat([m.flatten(1), i.flatten(1)], 1)  # noqa: E731
    found = {
        "pair_pixels": nearest(flat(masks, images), flat(train.masks, train.images), "rms", patients),
        "image_pixels": nearest(images.flatten(1), train.images.flatten(1), "rms", patients),
        "mask_iou": nearest((masks > 0).flatten(1).double(), (train.masks > 0).flatten(1).double(), "iou", patients),
        "image_features": nearest(random_conv_features(images), train_features, "cosine", patients),
    }
    return {m: (d, i, np.divide(d, o, out=np.ones_like(d), where=o > 0)) for m, (d, i, o) in found.items()}


def percentiles(values: np.ndarray) -> dict:
    return {f"p{q}": float(v) for q, v in zip(PERCENTILES, np.percentile(values, PERCENTILES))} | {"mean": float(values.mean())}


def closer_than_heldout(generated: np.ndarray, heldout: np.ndarray) -> dict:
    """Both distributions' percentiles, the held-out 1st percentile and the fraction of generated
    values strictly below it."""
    threshold = float(np.percentile(heldout, 1))
    return {
        "generated": percentiles(generated),
        "heldout": percentiles(heldout),
        "heldout_p1": threshold,
        "fraction_closer_than_heldout_p1": float((generated < threshold).mean()),
    }


def summary(generated: dict, heldout: dict) -> dict:
    """Per measure, for the nearest distance and for the ratio (closer_than_heldout each); a measure
    is flagged when more than FLAG_FRACTION of the generated ratios are below the held-out p1."""
    out = {}
    for m in MEASURES:
        ratio = closer_than_heldout(generated[m][2], heldout[m][2])
        out[m] = {
            "nearest": closer_than_heldout(generated[m][0], heldout[m][0]),
            "ratio": ratio,
            "flagged": ratio["fraction_closer_than_heldout_p1"] > FLAG_FRACTION,
        }
    return out


def closest_sheet(gen_masks, gen_images, train_masks, train_images, order, nearest_idx, path: Path, k: int = 16) -> None:
    """The k generated pairs first in `order` beside their nearest training pairs: per pair a block
    of generated mask | generated image | training image | training mask, 4 blocks to a row, grey gaps."""
    k = min(k, len(order))
    res = gen_images.shape[-1]
    scale = max(1, 128 // res)  # small models drawn large enough to see
    gap = lambda h, w: np.full((h, w), 128, np.uint8)  # noqa: E731
    blocks = []
    for i in order[:k]:
        j = nearest_idx[i]
        cells = [gen_masks[i, 0], gen_images[i, 0], train_images[j, 0], train_masks[j, 0]]
        row = []
        for n, c in enumerate(cells):
            row += [to_uint8(c).numpy()] + ([gap(res, 2 if n != 1 else 6)] if n < 3 else [])
        blocks.append(np.concatenate(row, 1))
    per_row = min(4, k)
    blocks += [np.zeros_like(blocks[0])] * (-k % per_row)
    rows = []
    for r in range(0, len(blocks), per_row):
        parts = []
        for b in blocks[r : r + per_row]:
            parts += [b, gap(res, 12)]
        rows += [np.concatenate(parts[:-1], 1), gap(4, sum(p.shape[1] for p in parts[:-1]))]
    sheet = np.concatenate(rows[:-1], 0)
    Image.fromarray(sheet).resize((sheet.shape[1] * scale, sheet.shape[0] * scale), Image.NEAREST).save(path)


def audit_markdown(r: dict) -> str:
    lines = [
        f"{r['n_generated']} generated pairs and {r['n_heldout']} real held-out pairs (folds {r['folds_heldout']}),"
        f" each against the {r['n_train']} training pairs (folds {r['folds_train']}), at {r['resolution']}². Nearest: the"
        " distance to the nearest training pair; ratio: that over the distance to the nearest pair of another training"
        " patient (a copy ≪ 1). Closer: the fraction of generated pairs below the held-out pairs' 1st percentile"
        " (≈ 1% for a generator as far from its training set as new patients;"
        f" flagged above {100 * FLAG_FRACTION:.0f}% of the ratio).",
        "",
        "| measure | nearest, generated: p1 / median | held-out: p1 / median | closer |"
        " ratio, generated: p1 / median | held-out: p1 / median | closer | flagged |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for m in MEASURES:
        s = r["measures"][m]
        cells = []
        for kind in ("nearest", "ratio"):
            k = s[kind]
            g, h = k["generated"], k["heldout"]
            cells += [
                f"{g['p1']:.4f} / {g['p50']:.4f}",
                f"{h['p1']:.4f} / {h['p50']:.4f}",
                f"{100 * k['fraction_closer_than_heldout_p1']:.1f}%",
            ]
        lines.append(f"| {MEASURE_WORDS[m]} | {' | '.join(cells)} | {'yes' if s['flagged'] else 'no'} |")
    lines += ["", f"Generated images within half a grey level (RMS) of a training image: {r['copies']}."]
    return "\n".join(lines) + "\n"


def card_line(r: dict) -> str:
    """The model card's memorization figure, in words."""
    closer = lambda m, kind: 100 * r["measures"][m][kind]["fraction_closer_than_heldout_p1"]  # noqa: E731
    return (
        f"{'flagged' if r['flagged'] else 'not flagged'}: {closer('pair_pixels', 'ratio'):.1f}% of {r['n_generated']}"
        f" generated pairs (pixels; {closer('image_features', 'ratio'):.1f}% in random-conv features) nearer to one"
        f" training patient than real held-out pairs' 1st percentile (≈ 1% expected, flagged above"
        f" {100 * FLAG_FRACTION:.0f}%); {r['copies']} copies; nearest distance alone"
        f" {closer('pair_pixels', 'nearest'):.1f}% (pixels), {closer('image_features', 'nearest'):.1f}% (features)"
    )


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="pigkit.audit", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    folds = {
        "--folds-train": ("1,2,3", "the folds the model was trained on"),
        "--folds-heldout": ("4", "folds of other patients, never trained on"),
    }
    add_generated_arguments(p, folds)
    p.add_argument("--sheet", type=int, default=16, help=f"pairs on each closest-pairs sheet (1 … {MAX_SHEET})")
    a = p.parse_args(argv)
    if not 1 <= a.sheet <= MAX_SHEET:
        p.error(f"--sheet must be 1 … {MAX_SHEET}, got {a.sheet}")
    return a


def open_sets(a: argparse.Namespace) -> tuple:
    """(case names, generated masks, images, training set, held-out set), bounded; FileNotFoundError
    or ValueError naming the problem."""
    folds = {"--folds-train": a.folds_train, "--folds-heldout": a.folds_heldout}
    cases, gen_masks, gen_images, real = open_against_real(Path(a.generated), a.data, folds, a.fold_csv, MAX_PAIRS)
    train, heldout = real["--folds-train"], real["--folds-heldout"]
    if train is None or heldout is None:
        raise ValueError("--folds-train and --folds-heldout each need a fold")
    if len(train) > MAX_PAIRS:
        raise ValueError(f"{a.data}: {len(train)} training pairs, more than the audit's {MAX_PAIRS}")
    values = 2 * gen_images[0].numel() * max(len(train), len(cases))
    if values > MAX_VALUES:
        raise ValueError(
            f"{max(len(train), len(cases))} pairs at {gen_images.shape[-1]}² are {values / 2**30:.1f} G values, above the"
            f" audit's {MAX_VALUES / 2**30:.2f} G (float64 in memory): audit fewer pairs or at a lower resolution"
        )
    return cases, gen_masks, gen_images, train, heldout


def write_sheets(out: Path, sets: dict, train: PairDataset, k: int) -> None:
    """closest-{,heldout-}{pixels,features}.png: each set's most copy-like pairs beside their nearest
    training pairs. The held-out pairs' sheets are the reference: how near new patients come without
    being anyone's copy."""
    for who, (masks, images, found) in sets.items():
        for name, m in (("pixels", "pair_pixels"), ("features", "image_features")):
            order = np.argsort(found[m][2], kind="stable")  # the most copy-like first
            closest_sheet(masks, images, train.masks, train.images, order, found[m][1], out / f"closest-{who}{name}.png", k)


def main(argv=None) -> int:
    a = parse_args(argv)
    if a.threads:
        torch.set_num_threads(a.threads)
    folder = Path(a.generated)
    try:
        cases, gen_masks, gen_images, train, heldout = open_sets(a)
    except (FileNotFoundError, ValueError) as e:  # DataError is a ValueError
        print(f"error: {e}", file=sys.stderr)
        return 2
    if len(heldout) < 2:
        print(f"error: {len(heldout)} held-out pair(s): a percentile needs more (fold(s) {a.folds_heldout})", file=sys.stderr)
        return 2
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    train_features = random_conv_features(train.images)
    gen = distances(gen_masks, gen_images, train, train_features)
    held = distances(heldout.masks, heldout.images, train, train_features)
    copies = int((gen["image_pixels"][0] < COPY_RMS).sum())
    measures = summary(gen, held)
    result = {
        "generated": str(folder.resolve()),
        "data": str(Path(a.data).resolve()),
        "resolution": gen_images.shape[-1],
        "n_generated": len(cases),
        "n_train": len(train),
        "n_heldout": len(heldout),
        "folds_train": a.folds_train,
        "folds_heldout": a.folds_heldout,
        "measures_described": MEASURE_WORDS,
        "features": f"random_conv_features: {FEATURE_LAYERS} (channels, pool), {FEATURE_GRID}² grid, RandomState(0)",
        "flag_fraction": FLAG_FRACTION,
        "measures": measures,
        "copies": copies,
        "copy_rms": COPY_RMS,
        "flagged": any(v["flagged"] for v in measures.values()),
        "nearest": [
            {
                "case": c,
                **{
                    m: {"distance": float(gen[m][0][i]), "ratio": float(gen[m][2][i]), "train_case": train.case_ids[gen[m][1][i]]}
                    for m in MEASURES
                },
            }
            for i, c in enumerate(cases)
        ],
        "torch": torch.__version__,
    }
    (out / "audit.json").write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    (out / "audit.md").write_text(audit_markdown(result), encoding="utf-8")
    write_sheets(out, {"": (gen_masks, gen_images, gen), "heldout-": (heldout.masks, heldout.images, held)}, train, a.sheet)
    (out / "audit-card.json").write_text(
        json.dumps({"metrics": {"memorizationAudit": card_line(result)}}, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    print(audit_markdown(result))
    print(f"{'FLAGGED: ' if result['flagged'] else ''}{card_line(result)}; details in {out / 'audit.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
