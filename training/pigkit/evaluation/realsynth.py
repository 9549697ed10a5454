"""Can a classifier tell generated images from real ones? (the classifier of `python3 -m pigkit.evaluate real-vs-synthetic`)

    python3 -m pigkit.evaluate real-vs-synthetic --generated DIR --data DATA --folds-heldout 4 --control-folds 3 --out OUT

A small CNN (RealSynthCNN: four 3×3 convolutions of 8–32 channels, 15 k parameters) is trained to tell
the real held-out images (other patients than the model's training folds) from the generated
images of DIR (the studio CLI's output, any model; read at their own resolution, the real ones
resized to it as the kit trains on them). It is k-fold cross-validated: each image is scored by a
CNN that did not train on it, a real patient's images are kept in one fold, the classes are
balanced (the larger one subsampled). The figure is the ROC AUC, the mean over the folds, for
each seed (each seed draws new folds, subsample and weights): 0.5 = the classifier cannot tell
them apart, 1 = it always can. The same procedure on two sets of real images (the held-out folds
against --control-folds, other patients again), with as many images a class, gives the floor: what
"indistinguishable" reads as with this many images.

pigkit.evaluate's real-vs-synthetic subcommand reads the sets and writes OUT/real-vs-synthetic.json
(every seed's and fold's AUC), real-vs-synthetic.md and real-vs-synthetic-card.json (one line for
the model card: pigkit.card --merge-metrics).
"""

from __future__ import annotations

import sys

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

MAX_IMAGES = 20_000  # per class
MAX_EPOCHS = 200
MAX_SEEDS = 20


def roc_auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Area under the ROC curve of `scores` for binary `labels` (1 = positive): the Mann–Whitney
    probability that a positive outscores a negative, ties counted as one half (average ranks)."""
    scores, labels = np.asarray(scores, np.float64), np.asarray(labels).astype(bool)
    pos, neg = labels.sum(), (~labels).sum()
    if pos == 0 or neg == 0:
        raise ValueError("an AUC needs both classes")
    order = np.argsort(scores, kind="stable")
    ranks = np.empty(len(scores))
    sorted_scores = scores[order]
    i = 0
    while i < len(scores):  # average rank over each run of equal scores
        j = i
        while j + 1 < len(scores) and sorted_scores[j + 1] == sorted_scores[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2 + 1
        i = j + 1
    return float((ranks[labels].sum() - pos * (pos + 1) / 2) / (pos * neg))


class RealSynthCNN(nn.Module):
    """Four 3×3 convolutions (8, 16, 32, 32 channels) with BatchNorm and ReLU, the first of stride 2
    (it still sees every pixel: speckle and pixel-level artefacts stay visible), 2×2 max-pooling
    after the second and third, global average pooling, one logit: small enough to cross-validate
    on a CPU (a fifth of the arithmetic of a stride-1 first layer). Not pigkit.fidelity's SmallCNN
    (stride 2 at every layer, made for lesion classes): on the tests' checkerboard (±0.15 on 32²
    textures, 8 epochs) that one scored AUC 0.46–0.78 over three seeds, this one 1.0."""

    def __init__(self):
        super().__init__()
        layers, c_in = [], 1
        for k, c in enumerate((8, 16, 32, 32)):
            layers += [nn.Conv2d(c_in, c, 3, stride=2 if k == 0 else 1, padding=1, bias=False), nn.BatchNorm2d(c), nn.ReLU(True)]
            if k in (1, 2):
                layers.append(nn.MaxPool2d(2))
            c_in = c
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(c_in, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x).mean((2, 3)))[:, 0]


def parameter_count() -> int:
    return sum(q.numel() for q in RealSynthCNN().parameters())


def group_folds(groups: list[str], k: int, rng: np.random.Generator) -> np.ndarray:
    """A fold 0 … k−1 for each item, all items of a group in one fold: the groups shuffled, then dealt
    out in turn."""
    names = sorted(set(groups))
    fold_of = {g: i % k for i, g in enumerate(rng.permutation(names))}
    return np.array([fold_of[g] for g in groups])


def train_classifier(x: torch.Tensor, y: torch.Tensor, epochs: int, seed: int, batch: int = 32, lr: float = 1e-3) -> RealSynthCNN:
    """RealSynthCNN on images x [N, 1, H, W] with labels y (1 = the second set), BCE, Adam, random
    left-right flips."""
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    model = RealSynthCNN()
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    for _ in range(epochs):
        perm = torch.randperm(len(x), generator=g)
        for i in range(0, len(x) - 1, batch):  # no batch of one: BatchNorm needs two
            idx = perm[i : i + batch]
            xb = x[idx]
            flip = torch.rand(len(idx), generator=g) < 0.5
            xb = torch.where(flip[:, None, None, None], xb.flip(-1), xb)
            loss = F.binary_cross_entropy_with_logits(model(xb), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    return model.eval()


def cross_validated_auc(
    first: torch.Tensor,
    second: torch.Tensor,
    first_groups: list[str],
    second_groups: list[str],
    seed: int,
    k: int = 5,
    epochs: int = 10,
    per_class: int | None = None,
) -> list[float]:
    """Each fold's AUC of a RealSynthCNN telling `first` (label 0) from `second` (label 1), trained on
    the other k−1 folds. The two sets are balanced to the smaller one's size, or `per_class` if
    fewer (a seeded subsample); items of one group (a patient) stay in one fold."""
    rng = np.random.default_rng(seed)
    n = min(len(first), len(second), per_class or len(first))
    keep_a, keep_b = np.sort(rng.permutation(len(first))[:n]), np.sort(rng.permutation(len(second))[:n])
    x = torch.cat([first[torch.from_numpy(keep_a)], second[torch.from_numpy(keep_b)]]).float()
    y = torch.cat([torch.zeros(n), torch.ones(n)])
    folds = np.concatenate(
        [group_folds([first_groups[i] for i in keep_a], k, rng), group_folds([second_groups[i] for i in keep_b], k, rng)]
    )
    aucs = []
    for f in range(k):
        test = torch.from_numpy(folds == f)
        model = train_classifier(x[~test], y[~test], epochs, seed * 1000 + f)
        with torch.no_grad():
            scores = torch.cat([model(x[test][i : i + 256]) for i in range(0, int(test.sum()), 256)])
        aucs.append(roc_auc(scores.numpy(), y[test].numpy()))
    return aucs


def over_seeds(first, second, first_groups, second_groups, seeds, k, epochs, per_class, what) -> dict:
    per_seed = {}
    for s in seeds:
        aucs = cross_validated_auc(first, second, first_groups, second_groups, s, k, epochs, per_class)
        per_seed[str(s)] = {"auc": float(np.mean(aucs)), "folds": aucs}
        print(
            f"{what}, seed {s}: AUC {np.mean(aucs):.3f} (folds {', '.join(f'{a:.3f}' for a in aucs)})",
            file=sys.stderr,
            flush=True,
        )
    means = np.array([v["auc"] for v in per_seed.values()])
    return {
        "auc_mean": float(means.mean()),
        "auc_std": float(means.std(ddof=1)) if len(means) > 1 else 0.0,
        "auc_min": float(means.min()),
        "auc_max": float(means.max()),
        "per_seed": per_seed,
    }


def result_markdown(r: dict) -> str:
    def row(label, s):
        return f"| {label} | {s['auc_mean']:.3f} ± {s['auc_std']:.3f} | {s['auc_min']:.3f}–{s['auc_max']:.3f} |"

    lines = [
        f"RealSynthCNN, {r['k']}-fold cross-validated (patients kept in one fold), {r['epochs']} epochs, seeds {r['seeds']},"
        f" at {r['resolution']}²; {r['n_per_class']} images per class.",
        "",
        "| classifier | ROC AUC, mean ± sd over seeds | range |",
        "|---|---|---|",
        row(f"real held-out (folds {r['folds_heldout']}) vs generated ({r['n_generated']})", r["real_vs_generated"]),
    ]
    if r.get("real_vs_real"):
        lines.append(row(f"control: real held-out vs real (folds {r['control_folds']})", r["real_vs_real"]))
    return "\n".join(lines) + "\n"


def card_line(r: dict) -> str:
    s, c = r["real_vs_generated"], r.get("real_vs_real")
    control = f"; real vs real {c['auc_mean']:.3f} ± {c['auc_std']:.3f}" if c else ""
    return (
        f"{s['auc_mean']:.3f} ± {s['auc_std']:.3f} over {len(s['per_seed'])} seeds{control} "
        f"(0.5 = indistinguishable; a small CNN, {r['k']}-fold cross-validated, {r['n_per_class']} images a class)"
    )
