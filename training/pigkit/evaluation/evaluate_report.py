"""results.md: pigkit.evaluate's figures as the Markdown tables EVALUATION.md quotes."""

from __future__ import annotations

from pigkit.evaluation.pair_figures import SATURATED


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
