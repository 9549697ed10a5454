"""Does a generated pair look like what it was asked for? Pathology fidelity and mask shape per class.

An attribute-conditioned model (`pigkit.train --attributes`) is asked for, say, a malignant lesion.
Two checks that it delivers, both against real held-out pairs (issue [14]):

- **Pathology fidelity.** A small CNN learns benign vs malignant from real training pairs (image and
  mask as two channels, so the lesion's shape counts as it does for a radiologist). Its accuracy on
  generated pairs, against the value each pair asked for, is compared with its accuracy on the real
  held-out pairs: a ratio near 1 means the generator's malignant pairs are as recognisable as real
  ones. The classifier sees 128² (the 256² slices average-pooled), which is where it trains in
  minutes on one CPU thread.
- **Mask shape per class.** Lesion area fraction and the solidity of the largest component
  (area ÷ convex-hull area), Wasserstein-1 to the real held-out class; in real BUS-BRA malignant
  lesions are less solid (spiculated, irregular margins) than benign ones, and generated ones should be too.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from pigkit.data.attributes import AttributeSpec
from pigkit.evaluation.generated import case_record
from pigkit.evaluation.maskstats import mask_stats, wasserstein_1d

CLASSIFIER_SIZE = 128  # the classifier's input side; larger slices are average-pooled to it


class SmallCNN(nn.Module):
    """Four stride-2 conv blocks (16 → 128 channels), global average pool, one linear layer: 0.1 M
    parameters, enough to tell two classes (or real from generated) apart without memorizing 1,000 slices."""

    def __init__(self, in_channels: int, classes: int = 2, width: int = 16):
        super().__init__()
        layers, c = [], in_channels
        for k in range(4):
            out = width * 2**k
            layers += [nn.Conv2d(c, out, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(out), nn.ReLU(inplace=True)]
            c = out
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(c, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x).mean(dim=(2, 3)))


def classifier_input(images: torch.Tensor, masks: torch.Tensor | None = None) -> torch.Tensor:
    """N×1×H×W images (and masks, ±1) in model units → N×C×128×128 (average-pooled when larger)."""
    x = images if masks is None else torch.cat([images, masks], 1)
    side = x.shape[-1]
    if side > CLASSIFIER_SIZE:
        if side % CLASSIFIER_SIZE:
            raise ValueError(f"slices of {side}² do not pool to {CLASSIFIER_SIZE}²")
        x = F.avg_pool2d(x, side // CLASSIFIER_SIZE)
    return x.float()


def train_classifier(
    x: torch.Tensor, labels: torch.Tensor, iters: int, seed: int = 0, batch: int = 32, lr: float = 1e-3
) -> SmallCNN:
    """Cross-entropy with class-balanced batches (each batch draws its classes equally, so a 2:1
    benign:malignant set does not teach "always benign") and horizontal flips; Adam, `iters` steps."""
    if not 1 <= iters <= 100_000:
        raise ValueError(f"iters must be in 1 … 100000, got {iters}")
    classes = int(labels.max()) + 1
    by_class = [torch.nonzero(labels == c).flatten() for c in range(classes)]
    if any(len(ix) == 0 for ix in by_class):
        raise ValueError(f"every class needs training examples; counts {[len(ix) for ix in by_class]}")
    g = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    model = SmallCNN(x.shape[1], classes)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    for it in range(1, iters + 1):
        cls = torch.randint(0, classes, (batch,), generator=g)
        idx = torch.stack([by_class[c][torch.randint(0, len(by_class[c]), (1,), generator=g)][0] for c in cls.tolist()])
        xb = x[idx]
        if torch.rand(1, generator=g) < 0.5:
            xb = xb.flip(-1)
        loss = F.cross_entropy(model(xb), labels[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        if it % 100 == 0 or it == iters:
            print(f"classifier {it}/{iters} loss {loss.item():.4f}", file=sys.stderr, flush=True)
    return model.eval()


@torch.no_grad()
def predict(model: SmallCNN, x: torch.Tensor, batch: int = 128) -> torch.Tensor:
    """Class probabilities, N×classes."""
    return torch.cat([model(x[i : i + batch]).softmax(1) for i in range(0, len(x), batch)])


def balanced_accuracy(pred: torch.Tensor, truth: torch.Tensor) -> float:
    """Mean over classes present of the fraction of that class predicted right (a 2:1 set is not won by the majority)."""
    per_class = [float((pred[truth == c] == c).float().mean()) for c in truth.unique().tolist()]
    return float(np.mean(per_class))


def pathology_fidelity(
    train: tuple[torch.Tensor, torch.Tensor, torch.Tensor],
    heldout: tuple[torch.Tensor, torch.Tensor, torch.Tensor],
    generated: tuple[torch.Tensor, torch.Tensor, torch.Tensor],
    values: tuple[str, ...],
    iters: int = 1500,
    seeds: tuple[int, ...] = (0, 1, 2),
) -> dict:
    """Each argument is (images, masks, class index); `values` names the classes. A classifier per
    seed; accuracy and balanced accuracy on the real held-out pairs and on the generated ones (truth =
    the value asked for), each as mean and spread over seeds, the ratio generated ÷ real, and per value."""
    xs = [classifier_input(im, m) for im, m, _ in (train, heldout, generated)]
    rows = []
    for seed in seeds:
        model = train_classifier(xs[0], train[2], iters, seed)
        row = {}
        for name, x, truth in (("real", xs[1], heldout[2]), ("generated", xs[2], generated[2])):
            pred = predict(model, x).argmax(1)
            row[name] = {
                "accuracy": float((pred == truth).float().mean()),
                "balanced_accuracy": balanced_accuracy(pred, truth),
                "per_value": {values[c]: float((pred[truth == c] == c).float().mean()) for c in truth.unique().tolist()},
            }
        rows.append(row)

    def spread(key: str, which: str) -> dict:
        v = np.array([r[which][key] for r in rows])
        return {"mean": float(v.mean()), "std": float(v.std(ddof=1)) if len(v) > 1 else 0.0}

    out = {
        "classifier": f"SmallCNN on image+mask at {CLASSIFIER_SIZE}², {iters} iterations, seeds {list(seeds)}",
        "n_train": len(train[2]),
        "n_real_heldout": len(heldout[2]),
        "n_generated": len(generated[2]),
        "values": list(values),
        "per_seed": rows,
    }
    for which in ("real", "generated"):
        out[which] = {k: spread(k, which) for k in ("accuracy", "balanced_accuracy")}
    out["ratio_balanced_accuracy"] = out["generated"]["balanced_accuracy"]["mean"] / out["real"]["balanced_accuracy"]["mean"]
    return out


def mask_shape_by_class(
    real_masks: torch.Tensor, real_class: torch.Tensor, gen_masks: torch.Tensor, gen_class: torch.Tensor, values: tuple[str, ...]
) -> dict:
    """Per value: mean area fraction and solidity of real and generated masks, and their W1 distances."""
    out = {}
    for c, name in enumerate(values):
        stats = {}
        for which, masks, cls in (("real", real_masks, real_class), ("generated", gen_masks, gen_class)):
            stats[which] = [mask_stats((m[0] > 0).numpy()) for m in masks[cls == c]]
        row = {"n_real": len(stats["real"]), "n_generated": len(stats["generated"])}
        for key in ("area_fraction", "solidity"):
            real = [s[key] for s in stats["real"] if s["components"] > 0]
            gen = [s[key] for s in stats["generated"] if s["components"] > 0]
            row[key] = {
                "real_mean": float(np.mean(real)) if real else None,
                "generated_mean": float(np.mean(gen)) if gen else None,
                "wasserstein1": wasserstein_1d(gen, real) if real and gen else None,
            }
        out[name] = row
    return out


def generated_attributes(folder: Path, case_names: list[str]) -> list[dict[str, str]]:
    """The attributes each generated case asked for, from the CLI's case records (cases/<case>.json),
    in the order of `case_names`; an empty dict for a case whose record has none (a model without attributes)."""
    return [{str(k): str(v) for k, v in (case_record(folder, n).get("attributes") or {}).items()} for n in case_names]


def attribute_fidelity(
    folder: Path,
    case_names: list[str],
    table: tuple[AttributeSpec, dict[str, list[int]]] | None,
    train,
    test,
    gen_masks,
    gen_images,
    iters: int,
    attribute: str = "pathology",
    sheet: Callable[..., None] | None = None,
) -> dict | None:
    """pathology_fidelity and mask_shape_by_class for the generated cases of `folder` that asked for a
    value of `attribute`, the real pairs' values from `table` (read_table's spec and cases); None without
    a table or such cases.
    `sheet(value, gen_masks, gen_images, real_masks, real_images)` is called per value (a samples sheet)."""
    if not table:
        return None
    spec, cases = table
    if attribute not in spec.names:
        return None
    k, values = spec.names.index(attribute), spec.values[spec.names.index(attribute)]

    def real(ds) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        cls = torch.tensor([cases[c][k] - 1 if c in cases else -1 for c in ds.case_ids])
        keep = cls >= 0  # a case without the value in the table is left out
        return ds.images[keep], ds.masks[keep], cls[keep]

    asked = [a.get(attribute) for a in generated_attributes(folder, case_names)]
    gen_cls = torch.tensor([values.index(v) if v in values else -1 for v in asked])
    keep = gen_cls >= 0
    if not keep.any():
        return None
    generated = (gen_images[keep], gen_masks[keep], gen_cls[keep])
    heldout = real(test)
    for c, value in enumerate(values):
        g, r = generated[2] == c, heldout[2] == c
        if sheet and g.any() and r.any():
            sheet(value, generated[1][g], generated[0][g], heldout[1][r], heldout[0][r])
    return {
        "attribute": attribute,
        "fidelity": pathology_fidelity(real(train), heldout, generated, values, iters),
        "mask_shape": mask_shape_by_class(heldout[1], heldout[2], generated[1], generated[2], values),
    }
