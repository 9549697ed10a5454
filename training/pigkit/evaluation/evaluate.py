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
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from pigkit import realsynth
from pigkit.data.attributes import read_table
from pigkit.data.pairs import open_dataset, open_image, patient_of
from pigkit.evaluation.maskstats import ks_statistic, mask_stats, wasserstein_1d
from pigkit.evaluation.segment import dice_iou, load_segmenter, predict_masks, train_segmenter
from pigkit.evaluation.texture import band_centres, spectrum_ratio
from pigkit.fidelity import attribute_fidelity
from pigkit.model.binarize import to_uint8
from pigkit.model.limits import MAX_RESOLUTION, eta_arg, steps_arg
from pigkit.model.sampler import TorchNoise, sample_pair
from pigkit.model.schedule import CLIP_MODES, Schedule
from pigkit.training.checkpoint import CheckpointError, load_model_checkpoint, read_checkpoint
from pigkit.training.plot import loss_curve_png


def generate(
    run: Path, n: int, steps: int, batch: int, seed: int, eta: float = 0.0, clip: str = "none", device: str = "cpu"
) -> tuple[torch.Tensor, torch.Tensor, float]:
    """n pairs from the run's checkpoints on `device` (noise drawn on the CPU from `seed`, so a
    device changes only the arithmetic); returned on the CPU."""
    # channels-last: the same sums in another memory layout, 1.3× faster here (5 steps of batch 32, measured under load)
    model_x = load_model_checkpoint(run / "mask" / "ckpt.pt", device).to(memory_format=torch.channels_last)
    model_y = load_model_checkpoint(run / "image" / "ckpt.pt", device).to(memory_format=torch.channels_last)
    res = model_x.resolution
    g = torch.Generator().manual_seed(seed)
    masks, images, t0 = [], [], time.perf_counter()
    for start in range(0, n, batch):
        b = min(batch, n - start)
        out = sample_pair(model_x, model_y, Schedule(), steps, TorchNoise(b, (res, res), g, device), eta=eta, clip=clip)
        masks.append(out.mask.cpu())
        images.append(out.image.cpu())
        print(f"generated {start + b}/{n}", file=sys.stderr, flush=True)
    return torch.cat(masks), torch.cat(images), (time.perf_counter() - t0) / n


def generated_images(folder: Path) -> list[Path]:
    """The image files of the CLI's output folder (imagesTr/<case>_0000.png), in case order;
    FileNotFoundError where there are none, ValueError for a file that is a link out of the folder."""
    images = sorted((folder / "imagesTr").glob("*_0000.png"))
    if not images:
        raise FileNotFoundError(f"{folder}: no imagesTr/*_0000.png (generate an nnU-Net raw dataset with npm run generate)")
    for path in images:
        _refuse_link_out(path, folder)
    return images


def _refuse_link_out(path: Path, folder: Path) -> None:
    # a link may point anywhere: only files inside the folder are read
    if not path.resolve().is_relative_to(folder.resolve()):
        raise ValueError(f"{path}: links out of {folder}; copy the file into the folder instead")


def generated_case_names(folder: Path) -> list[str]:
    """The cases of a CLI output folder (pig_0000000007 …), in the order read_generated returns them."""
    return [p.name[: -len("_0000.png")] for p in generated_images(folder)]


def generated_resolution(folder: Path) -> int:
    """The side of the CLI's (square) generated images, from the first case; ValueError for a non-square one."""
    first = generated_images(folder)[0]
    w, h = open_image(first, "generated image").size
    if w != h:
        raise ValueError(f"{first}: {w}×{h} is not square; the kit compares square pairs")
    return w


def open_generated(folder: Path, max_pairs: int) -> tuple[list[str], torch.Tensor, torch.Tensor]:
    """Case names, masks and images (as read_generated) of the CLI's output folder at its own
    resolution, for tools that take any model's pairs (pigkit.audit, real-vs-synthetic); at most
    `max_pairs` of them and MAX_RESOLUTION². Every problem is a FileNotFoundError or ValueError naming it."""
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: not a folder (give the output folder of npm run generate)")
    cases = generated_case_names(folder)
    res = generated_resolution(folder)
    if len(cases) > max_pairs or res > MAX_RESOLUTION:
        raise ValueError(f"{folder}: {len(cases)} pairs at {res}²; this takes up to {max_pairs} at up to {MAX_RESOLUTION}²")
    return cases, *read_generated(folder, res)


def open_against_real(folder: Path, data, folds: dict[str, str], fold_csv, max_pairs: int) -> tuple:
    """The generated pairs of `folder` (open_generated: case names, masks, images) and, for each
    flag → fold list of `folds`, the real pairs of those folds of `data` at the generated resolution
    (None for an empty list). Fold lists that share a fold are refused, naming both flags."""
    sets = {flag: parse_folds(text, flag) for flag, text in folds.items()}
    named = list(sets.items())
    for i, (flag_a, a) in enumerate(named):
        for flag_b, b in named[i + 1 :]:
            if a & b:
                raise ValueError(f"fold(s) {sorted(a & b)} are in both {flag_a} and {flag_b}: each set must be other patients")
    cases, masks, images = open_generated(folder, max_pairs)
    real = {flag: open_dataset(data, images.shape[-1], f, fold_csv) if f else None for flag, f in sets.items()}
    return cases, masks, images, real


def add_generated_arguments(p: argparse.ArgumentParser, folds: dict[str, tuple[str, str]]) -> None:
    """--generated, --data, the fold lists (flag → (default, help)), --fold-csv, --out and --threads:
    the options of the tools that read any model's pairs against real folds (open_against_real)."""
    p.add_argument("--generated", required=True, help="the generated pairs (npm run generate's output folder)")
    p.add_argument("--data", required=True, help="the real pairs: a folder with a fold CSV, or a pack (.npz)")
    for flag, (default, help) in folds.items():
        p.add_argument(flag, default=default, help=help)
    p.add_argument("--fold-csv", default=None, help="the fold CSV (default DATA/5-fold-cv.csv)")
    p.add_argument("--out", required=True)
    p.add_argument("--threads", type=int, default=0)


def parse_folds(text: str, flag: str) -> set[int]:
    """`1,2,3` → {1, 2, 3} (folds, seeds); ValueError naming the flag otherwise ('' → the empty set)."""
    try:
        return {int(f) for f in text.split(",")} if text.strip() else set()
    except ValueError:
        raise ValueError(f"{flag} takes whole numbers separated by commas, e.g. 1,2,3; got {text!r}") from None


def read_generated(folder: Path, resolution: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Pairs written by the studio's CLI (`npm run generate`) as an nnU-Net v2 raw dataset:
    imagesTr/<case>_0000.png (8-bit gray) and labelsTr/<case>.png (0 = background, 1 = lesion).
    Returns masks as ±1 and images in model units [-1, 1], both [N, 1, H, W], in case order.
    A folder without cases, a case without its label or a file that cannot be read (truncated, not
    a PNG) raises FileNotFoundError or DataError naming it; a wrong size or label values, ValueError."""
    names = generated_case_names(folder)
    masks, imgs = [], []
    for name in names:
        path, label_path = folder / "imagesTr" / f"{name}_0000.png", folder / "labelsTr" / f"{name}.png"
        if not label_path.exists():
            raise FileNotFoundError(f"{path}: no label {label_path}")
        _refuse_link_out(label_path, folder)
        im = np.asarray(open_image(path, "generated image").convert("L"), dtype=np.float32)
        lab = np.asarray(open_image(label_path, "generated label"))
        if im.shape != (resolution, resolution):
            raise ValueError(f"{path}: {im.shape} is not the model's {resolution}²")
        if lab.shape != im.shape or not np.isin(lab, (0, 1)).all():
            raise ValueError(
                f"{label_path}: labels must be 0/1 of shape {im.shape}, "
                f"got values {np.unique(lab)[:5].tolist()} and shape {lab.shape}"
            )
        imgs.append(im / 127.5 - 1)
        masks.append(np.where(lab == 1, 1.0, -1.0))
    return (
        torch.tensor(np.stack(masks), dtype=torch.float32)[:, None],
        torch.tensor(np.stack(imgs), dtype=torch.float32)[:, None],
    )


def cli_timing(folder: Path) -> dict | None:
    """ms per pair and per step from the CLI's logs (generate-*.log beside the generated folder)."""
    per_pair, per_step = [], []
    for log in sorted(folder.parent.glob("generate-*.log")):
        for line in log.read_text().splitlines():
            m = re.match(r"seed \d+: ([\d.]+) ms, ([\d.]+) ms/step", line)
            if m:
                per_pair.append(float(m.group(1)))
                per_step.append(float(m.group(2)))
    if not per_pair:
        return None
    return {
        "ms_per_pair_median": float(np.median(per_pair)),
        "ms_per_step_median": float(np.median(per_step)),
        "pairs_timed": len(per_pair),
        "backend": "onnxruntime-node CPU, 1 thread per process",
    }


def samples_grid(gen_masks, gen_images, real_masks, real_images, path: Path, k: int = 16, scale: int | None = None) -> None:
    """Two blocks side by side: generated (left) and real (right); each pair is mask above image,
    eight pairs to a row; pixels doubled up to 64² slices (the default scale), larger ones as they are."""
    scale = scale or (2 if gen_masks.shape[-1] <= 64 else 1)
    k = min(k, len(gen_masks), len(real_masks))
    per_row = min(8, k)

    def block(masks, images):
        cols = [np.concatenate([to_uint8(masks[i, 0]).numpy(), to_uint8(images[i, 0]).numpy()], 0) for i in range(k)]
        cols += [np.zeros_like(cols[0])] * (-k % per_row)
        return np.concatenate([np.concatenate(cols[r : r + per_row], 1) for r in range(0, len(cols), per_row)], 0)

    left, right = block(gen_masks, gen_images), block(real_masks, real_images)
    gap = np.full((left.shape[0], 8), 128, np.uint8)
    grid = np.concatenate([left, gap, right], 1)
    Image.fromarray(grid).resize((grid.shape[1] * scale, grid.shape[0] * scale), Image.NEAREST).save(path)


SATURATED = 0.99  # |ŷ₀| above this is a saturated pixel (8-bit: 0, 1, 254 or 255)


def pooled(images: torch.Tensor, masks: torch.Tensor, size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Images (model units) average-pooled to size², masks (±1) by area: lesion where at least half is (pigkit.data's rule)."""
    k = images.shape[-1] // size
    if k == 1:
        return images, masks
    m = F.avg_pool2d(masks, k)
    return F.avg_pool2d(images, k), torch.where(m >= 0, 1.0, -1.0)


def segmented(seg, images: torch.Tensor, masks: torch.Tensor, size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The segmenter's masks and the pairs' own, both at size², as booleans (for dice_iou)."""
    images, masks = pooled(images, masks, size)
    return predict_masks(seg, images), masks > 0


def image_stats(gen_images: torch.Tensor, real_images: torch.Tensor) -> dict:
    """How the generated images' pixels compare with real ones, in model units: the fraction of
    saturated pixels (|v| > 0.99) of each, and the Wasserstein-1 distance between the two pixel
    intensity distributions after clamping to [−1, 1], as the images are saved (0.1 = 12.75 grey levels)."""
    gen, real = gen_images.flatten().double(), real_images.flatten().double()
    return {
        "saturated_generated": float((gen.abs() > SATURATED).double().mean()),
        "saturated_real": float((real.abs() > SATURATED).double().mean()),
        "intensity_wasserstein1": wasserstein_1d(gen.clamp(-1, 1).numpy(), real.numpy()),
        "intensity_mean_generated": float(gen.clamp(-1, 1).mean()),
        "intensity_mean_real": float(real.mean()),
        **texture_stats(gen_images, real_images),
    }


def texture_stats(gen_images: torch.Tensor, real_images: torch.Tensor, bands: int = 16) -> dict:
    """The radially averaged power spectrum, generated ÷ real, per band (pigkit.texture); the top
    half of the frequencies (0.25–0.5 cycles/pixel) is where speckle lives and a smooth image falls short."""
    ratio = spectrum_ratio(gen_images.clamp(-1, 1), real_images, bands)
    top = ratio[bands // 2 :]
    return {
        "spectrum_ratio": [round(float(v), 4) for v in ratio],
        "spectrum_band_centres": [round(float(v), 5) for v in band_centres(bands)],
        "spectrum_ratio_top_half": [float(top.min()), float(top.max())],
    }


def typical_cases(features: dict[str, np.ndarray], k: int = 5) -> list[int]:
    """The K cases closest to the median case: the distance sums each feature's |x − median| over
    its interquartile range (its own units where that range is 0, as a lesion count mostly 1). A
    typical pair for a screenshot, not the best one."""
    total = 0.0
    for x in features.values():
        x = np.asarray(x, float)
        q25, q50, q75 = np.percentile(x, [25, 50, 75])
        total = total + np.abs(x - q50) / (q75 - q25 if q75 > q25 else 1.0)
    return [int(i) for i in np.argsort(total, kind="stable")[:k]]


def stats_table(gen: list[dict], real: list[dict]) -> dict:
    table = {}
    for key in ("area_fraction", "components", "solidity"):
        g = np.array([s[key] for s in gen if s["components"] > 0], float)
        r = np.array([s[key] for s in real], float)
        table[key] = {
            "generated_mean": float(g.mean()) if len(g) else None,
            "generated_std": float(g.std()) if len(g) else None,
            "real_mean": float(r.mean()),
            "real_std": float(r.std()),
            "wasserstein1": wasserstein_1d(g, r) if len(g) else None,
            "ks": ks_statistic(g, r) if len(g) else None,
        }
    return table


def results_markdown(r: dict) -> str:
    """The figures of results.json as the Markdown tables EVALUATION.md quotes (written as results.md)."""

    def pm(mean, std, digits=3):
        return "–" if mean is None else f"{mean:.{digits}f} ± {std:.{digits}f}"

    names = {"area_fraction": "area fraction", "components": "connected components", "solidity": "solidity (largest component)"}
    lines = [
        f"Mask statistics: {r['n_generated']} generated masks (the non-empty ones) against the {r['n_real_test']} real"
        f" held-out masks, at {r['resolution']}²; distances between the two distributions.",
        "",
        "| mask statistic | generated | real held-out | Wasserstein-1 | KS |",
        "|---|---|---|---|---|",
    ]
    for key, label in names.items():
        v = r["mask_stats"][key]
        w1 = "–" if v["wasserstein1"] is None else f"{v['wasserstein1']:.3f}"
        ks = "–" if v["ks"] is None else f"{v['ks']:.3f}"
        lines.append(
            f"| {label} | {pm(v['generated_mean'], v['generated_std'])} | {pm(v['real_mean'], v['real_std'])} | {w1} | {ks} |"
        )
    pc, cost, im = r["pair_consistency"], r["sampling_cost"], r["image_stats"]
    seg_res = pc.get("segmenter_resolution", r["resolution"])  # results of before 2026-12-08: the pairs' own
    pooled_note = "" if seg_res == r["resolution"] else f", pairs pooled to {seg_res}²"
    empty = round(r["empty_mask_rate"] * r["n_generated"])
    lines += [
        "",
        "| measure | value |",
        "|---|---|",
        f"| saturated image pixels, abs(ŷ₀) > {SATURATED} | {100 * im['saturated_generated']:.1f}%"
        f" (real held-out {100 * im['saturated_real']:.2f}%) |",
        f"| pixel intensity, Wasserstein-1 to real (model units, clamped) | {im['intensity_wasserstein1']:.3f}"
        f" (mean {im['intensity_mean_generated']:.3f} vs real {im['intensity_mean_real']:.3f}) |",
        *(  # results of before 2026-12-08 have no spectrum
            [
                "| texture: power spectrum generated ÷ real, top half of frequencies (0.25–0.5 cycles/px) |"
                f" {im['spectrum_ratio_top_half'][0]:.2f} – {im['spectrum_ratio_top_half'][1]:.2f} over its bands |"
            ]
            if "spectrum_ratio_top_half" in im
            else []
        ),
        f"| empty-mask rate | {100 * r['empty_mask_rate']:.1f}% ({empty} of {r['n_generated']}) |",
        "| pair consistency: segmenter Dice on generated pairs (non-empty) | "
        f"{pm(pc['dice_generated_mean'], pc['dice_generated_std'])}"
        f" (IoU {pc['iou_generated_mean']:.3f}) |",
        f"| the same segmenter on real held-out pairs (ceiling) | {pm(pc['dice_real_test_mean'], pc['dice_real_test_std'])}"
        f" (IoU {pc['iou_real_test_mean']:.3f}) |",
        f"| pair consistency / ceiling | {pc['dice_generated_mean'] / pc['dice_real_test_mean']:.2f} |",
        f"| segmenter training | {pc['segmenter_iters']} iterations on the {r['n_train']} training pairs{pooled_note} |",
        f"| sampling | {cost['steps']} DDIM steps, η = {r['eta']}, clip {r.get('clip', 'none')}"
        + (
            f"; {cost['ms_per_pair_median'] / 1000:.2f} s per pair (median), {cost['ms_per_step_median']:.0f} ms per joint step,"
            f" {cost['backend']}"
            if "ms_per_step_median" in cost
            else f"; {cost['ms_per_pair_median'] / 1000:.2f} s per pair, {cost['backend']}"
            if "ms_per_pair_median" in cost
            else ""
        )
        + " |",
    ]
    if r.get("typical_cases"):
        lines.append(
            "| typical pairs: closest to the medians of pair Dice, saturated fraction, mask area, brightness and"
            f" lesion count | cases {', '.join(str(i) for i in r['typical_cases'])} (0-based; the CLI's pairs: seed K + case) |"
        )
    if r.get("attributes"):
        lines += attribute_markdown(r["attributes"])
    return "\n".join(lines) + "\n"


def real_vs_synthetic_main(argv: list[str]) -> int:
    """`pigkit.evaluate real-vs-synthetic` (pigkit.realsynth's classifier on a generated folder and real folds)."""
    p = argparse.ArgumentParser(
        prog="pigkit.evaluate real-vs-synthetic",
        description=realsynth.__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    folds = {
        "--folds-heldout": ("4", "real images of patients the model never saw"),
        "--control-folds": ("3", "other real images for the real-vs-real control (empty: no control)"),
    }
    add_generated_arguments(p, folds)
    p.add_argument("--seeds", default="0,1,2", help="at least 3 for a spread")
    p.add_argument("--k", type=int, default=5, help="cross-validation folds (2 … 10)")
    p.add_argument("--epochs", type=int, default=10, help=f"epochs of each classifier (1 … {realsynth.MAX_EPOCHS})")
    p.add_argument(
        "--per-class",
        type=int,
        default=0,
        help="at most this many images a class (a seeded subsample; 0: all the smaller set has)",
    )
    a = p.parse_args(argv)
    if not 0 <= a.per_class <= realsynth.MAX_IMAGES:
        p.error(f"--per-class must be 0 … {realsynth.MAX_IMAGES}")
    if not (2 <= a.k <= 10 and 1 <= a.epochs <= realsynth.MAX_EPOCHS):
        p.error(f"--k must be 2 … 10 and --epochs 1 … {realsynth.MAX_EPOCHS}")
    if a.threads:
        torch.set_num_threads(a.threads)
    folder = Path(a.generated)
    try:
        seeds = sorted(parse_folds(a.seeds, "--seeds"))  # whole numbers, as folds are
        if not 1 <= len(seeds) <= realsynth.MAX_SEEDS:
            raise ValueError(f"--seeds takes 1 … {realsynth.MAX_SEEDS} seeds (3 or more for a spread), got {a.seeds!r}")
        folds = {"--folds-heldout": a.folds_heldout, "--control-folds": a.control_folds}
        cases, _, gen_images, sets = open_against_real(folder, a.data, folds, a.fold_csv, realsynth.MAX_IMAGES)
        real, control = sets["--folds-heldout"], sets["--control-folds"]
        if real is None:
            raise ValueError("--folds-heldout needs a fold")
        res = gen_images.shape[-1]
    except (FileNotFoundError, ValueError) as e:  # DataError is a ValueError
        print(f"error: {e}", file=sys.stderr)
        return 2
    # one size for both comparisons: the control is the floor of an AUC measured on as many images
    n = min(len(real), len(gen_images), len(control) if control is not None else len(real), a.per_class or realsynth.MAX_IMAGES)
    if n < 2 * a.k:
        print(f"error: {n} images a class, too few for {a.k} folds of both classes (at least {2 * a.k})", file=sys.stderr)
        return 2
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    real_groups = [patient_of(c) for c in real.case_ids]
    result = {
        "generated": str(folder.resolve()),
        "data": str(Path(a.data).resolve()),
        "resolution": res,
        "n_generated": len(cases),
        "n_real_heldout": len(real),
        "n_per_class": n,
        "folds_heldout": a.folds_heldout,
        "control_folds": a.control_folds,
        "k": a.k,
        "epochs": a.epochs,
        "seeds": seeds,
        "classifier": f"RealSynthCNN ({realsynth.parameter_count()} parameters), Adam 1e-3, batch 32, flips",
        "real_vs_generated": realsynth.over_seeds(
            real.images, gen_images, real_groups, cases, seeds, a.k, a.epochs, n, "real vs generated"
        ),
        "torch": torch.__version__,
    }
    if control is not None:
        result["real_vs_real"] = realsynth.over_seeds(
            real.images,
            control.images,
            real_groups,
            [patient_of(c) for c in control.case_ids],
            seeds,
            a.k,
            a.epochs,
            n,
            "real vs real",
        )
    (out / "real-vs-synthetic.json").write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    (out / "real-vs-synthetic.md").write_text(realsynth.result_markdown(result), encoding="utf-8")
    (out / "real-vs-synthetic-card.json").write_text(
        json.dumps({"metrics": {"realVsSyntheticAUC": realsynth.card_line(result)}}, indent=2, ensure_ascii=False) + "\n",
        encoding="utf-8",
    )
    print(realsynth.result_markdown(result))
    return 0


def attribute_markdown(a: dict) -> list[str]:
    """pigkit.fidelity's figures as two tables: the classifier's accuracy, and the mask shape per class."""
    f = a["fidelity"]

    def ms(v: dict) -> str:
        return f"{v['mean']:.3f} ± {v['std']:.3f}"

    lines = [
        "",
        f"{a['attribute']} fidelity: {f['classifier']}, trained on the {f['n_train']} real training pairs;"
        f" truth for a generated pair = the value it asked for.",
        "",
        "| pairs | accuracy | balanced accuracy |",
        "|---|---|---|",
        f"| real held-out ({f['n_real_heldout']}) | {ms(f['real']['accuracy'])} | {ms(f['real']['balanced_accuracy'])} |",
        f"| generated ({f['n_generated']}) | {ms(f['generated']['accuracy'])} | {ms(f['generated']['balanced_accuracy'])} |",
        f"| generated ÷ real (balanced) | | {f['ratio_balanced_accuracy']:.2f} |",
        "",
        f"| mask shape by {a['attribute']} | area real | area generated | area W1"
        " | solidity real | solidity generated | solidity W1 |",
        "|---|---|---|---|---|---|---|",
    ]

    def n(v):
        return "–" if v is None else f"{v:.3f}"

    for value, row in a["mask_shape"].items():
        ar, so = row["area_fraction"], row["solidity"]
        lines.append(
            f"| {value} ({row['n_generated']} generated, {row['n_real']} real) | {n(ar['real_mean'])} | {n(ar['generated_mean'])}"
            f" | {n(ar['wasserstein1'])} | {n(so['real_mean'])} | {n(so['generated_mean'])} | {n(so['wasserstein1'])} |"
        )
    return lines


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["real-vs-synthetic"]:
        return real_vs_synthetic_main(argv[1:])
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
    a = p.parse_args(argv)
    if a.threads:
        torch.set_num_threads(a.threads)
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    run = Path(a.run)
    try:  # the run and the data are checked before the (long) sampling, each problem named
        config = read_checkpoint(run / "mask" / "ckpt.pt")["config"]
        # a latent run's U-Nets work on the latent grid; its pairs are decoded at the slices' size
        res = config["latent"]["image_resolution"] if "latent" in config else config["resolution"]
        if "latent" in config and not a.generated:
            raise ValueError(f"{run}: a latent run is evaluated on the CLI's pairs: export it, generate, and pass --generated")
        table = a.attributes or config.get("attributes", {}).get("table")
        seg_res = a.segmenter_resolution or res
        if not 16 <= seg_res <= res or res % seg_res:
            raise ValueError(f"--segmenter-resolution {seg_res}: choose a divisor of the pairs' {res} from 16 up")
        if table and a.generated:
            read_table(table)  # a missing or malformed table is named now, not after the segmenter
        test = open_dataset(a.data, res, {a.test_fold})
        train = open_dataset(a.data, res, {int(f) for f in a.train_folds.split(",")})
        saved_segmenter = load_segmenter(a.segmenter) if a.segmenter else None
        if a.generated:  # every generated case read before a segmenter is trained
            gen_masks, gen_images = read_generated(Path(a.generated), res)
    except (CheckpointError, FileNotFoundError, ValueError) as e:  # DataError is a ValueError
        print(f"error: {e}", file=sys.stderr)
        return 2

    if a.generated:
        timing = cli_timing(Path(a.generated))
    else:
        gen_masks, gen_images, sec_per_pair = generate(run, a.n, a.steps, a.batch, a.seed, a.eta, a.clip, a.device)
        timing = {"ms_per_pair_median": 1000 * sec_per_pair, "backend": f"PyTorch reference, batch {a.batch}"}
    g = torch.Generator().manual_seed(a.seed)
    pick = torch.randperm(len(test), generator=g)[:16]
    samples_grid(gen_masks, gen_images, test.masks[pick], test.images[pick], out / "samples.png")

    gen_stats = [mask_stats((m[0] > 0).numpy()) for m in gen_masks]
    real_stats = [mask_stats((m[0] > 0).numpy()) for m in test.masks]
    if saved_segmenter:
        seg, seg_iters = saved_segmenter
        seg = seg.to(a.device)
    else:
        seg, curve = train_segmenter(*pooled(train.images, train.masks, seg_res), a.seg_iters, seed=a.seed, device=a.device)
        seg_iters = a.seg_iters
        loss_curve_png(out / "segmenter_loss.png", {"segmenter": curve}, "segmentation U-Net (folds 1-3) training loss")
    dice_real, iou_real = dice_iou(*segmented(seg, test.images, test.masks, seg_res))
    dice_gen, iou_gen = dice_iou(*segmented(seg, gen_images, gen_masks, seg_res))
    nonempty = torch.tensor([s["components"] > 0 for s in gen_stats])
    typical = typical_cases(
        {
            "pair Dice": dice_gen.cpu().numpy(),
            "saturated fraction": (gen_images.abs() > SATURATED).flatten(1).double().mean(1).numpy(),
            "mask area": np.array([s["area_fraction"] for s in gen_stats]),
            "brightness": gen_images.flatten(1).double().mean(1).numpy(),
            "lesion count": np.array([s["components"] for s in gen_stats]),
        }
    )
    fidelity = (
        attribute_fidelity(
            Path(a.generated),
            generated_case_names(Path(a.generated)),
            table,
            train,
            test,
            gen_masks,
            gen_images,
            a.fidelity_iters,
            # 16 generated pairs that asked for each value beside 16 real ones of it
            sheet=lambda value, *pairs: samples_grid(*pairs, out / f"samples-{value}.png"),
        )
        if a.generated
        else None
    )
    results = {
        "resolution": res,
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
        "pair_consistency": {
            "segmenter_iters": seg_iters,
            "segmenter_resolution": seg_res,
            "dice_generated_mean": float(dice_gen[nonempty].mean()),
            "dice_generated_std": float(dice_gen[nonempty].std()),
            "iou_generated_mean": float(iou_gen[nonempty].mean()),
            "dice_real_test_mean": float(dice_real.mean()),
            "dice_real_test_std": float(dice_real.std()),
            "iou_real_test_mean": float(iou_real.mean()),
        },
        "sampling_cost": {"steps": a.steps, **(timing or {})},
        # indices into the generated set (the CLI's pairs: seed K + index), the README screenshot's pick
        "typical_cases": typical,
        "torch": torch.__version__,
    }
    if fidelity:
        results["attributes"] = fidelity
    (out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    (out / "results.md").write_text(results_markdown(results))
    pc, ms = results["pair_consistency"], results["mask_stats"]
    card = {
        "metrics": {
            "heldOut": f"fold {a.test_fold} of {Path(a.data).resolve().name} ({len(test)} pairs)",
            "generated": len(gen_masks),
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
    (out / "card.json").write_text(json.dumps(card, indent=2) + "\n")
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
