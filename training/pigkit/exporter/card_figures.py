"""The evaluation's figures in a model card: their labels and names, the Evaluation section's table,
Hugging Face's model-index block, and whether the downstream figures came from the folder's weights."""

from __future__ import annotations

from pigkit.exporter.manifest_schema import is_number

# pigkit.evaluate's card.json: the run's settings, then the figures, each in words
EVAL_SETTINGS = {
    "heldOut": "held out",
    "generated": "pairs generated",
    "steps": "DDIM steps",
    "eta": "η",
    "clip": "clip",
    "details": "details",
}
METRIC_LABELS = {
    "saturatedPixels": "saturated image pixels (abs(ŷ₀) > 0.99), fraction",
    "intensityWasserstein1": "pixel intensity, Wasserstein-1 distance to the real held-out images (model units)",
    "emptyMaskRate": "generated masks without a lesion, fraction",
    "pairConsistencyDice": (
        "pair consistency: Dice of a segmenter trained on the training folds, run on the generated images against their own masks"
    ),
    "pairConsistencyOverCeiling": "pair consistency over that segmenter's Dice on the real held-out pairs",
    "segmenterDiceOnRealHeldOut": "that segmenter's Dice on the real held-out pairs (the ceiling)",
    "maskStatWasserstein1": "mask statistics, Wasserstein-1 distance to the real held-out masks",
    "samplingMsPerPair": "sampling time per pair, ms",
    # pigkit.downstream's card-metrics.json (downstream.card_metrics)
    "downstreamDiceRealOnly": "downstream: Dice of a segmenter trained on the real training pairs alone",
    "downstreamSegmenter": "downstream: segmenter, resolution, seeds",
    "downstreamBestGeneratedRow": "downstream: the best row with generated pairs (Dice)",
    "downstreamConverged": "downstream: trained to convergence (Dice)",
    "downstreamPairsFrom": "downstream: the weights that made the pairs",
}
# each figure as people name it: (the front matter's `metrics` name, model-index's metric type); a
# figure without one (a description, not a measure) is in the table only
METRIC_NAMES = {
    "saturatedPixels": ("saturated pixel fraction", "saturated_pixel_fraction"),
    "intensityWasserstein1": ("intensity Wasserstein-1 distance", "wasserstein_1"),
    "emptyMaskRate": ("empty mask rate", "empty_mask_rate"),
    "pairConsistencyDice": ("pair consistency Dice", "dice"),
    "pairConsistencyOverCeiling": ("pair consistency over the segmenter's Dice", "dice_ratio"),
    "segmenterDiceOnRealHeldOut": ("segmenter Dice on the real held-out pairs", "dice"),
    "maskStatWasserstein1": ("mask statistics Wasserstein-1 distance", "wasserstein_1"),
    "samplingMsPerPair": ("sampling time per pair (ms)", "ms_per_pair"),
    "downstreamDiceRealOnly": ("downstream segmentation Dice", "dice"),
    "downstreamBestGeneratedRow": ("downstream segmentation Dice", "dice"),
    "downstreamConverged": ("downstream segmentation Dice", "dice"),
}


def in_words(value) -> str:
    if isinstance(value, dict):
        return " · ".join(f"{k} {in_words(v)}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(in_words(v) for v in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return "–" if value is None else str(value)


def evidence_label(key: str) -> str | None:
    """The card's words for the evidence figures merged in with --merge-metrics (issue [15]):
    pigkit.audit's audit-card.json and pigkit.evaluate real-vs-synthetic's real-vs-synthetic-card.json."""
    return {
        "memorizationAudit": (
            "memorization audit (pigkit.audit): generated pairs nearer to a training patient than real held-out pairs are"
        ),
        "realVsSyntheticAUC": "real vs synthetic: ROC AUC of a CNN telling real held-out images from generated ones",
    }.get(key)


def metric_rows(metrics: dict) -> list[str]:
    rows = []
    for key, value in metrics.items():
        if key in EVAL_SETTINGS:
            continue
        label = METRIC_LABELS.get(key) or evidence_label(key) or key
        if isinstance(value, dict):
            rows += [f"| {label}: {k} | {in_words(v)} |" for k, v in value.items()]
        else:
            rows.append(f"| {label} | {in_words(value)} |")
    return rows


def model_index(name: str, metrics: dict, data_card: dict) -> list[dict] | None:
    """Hugging Face's model-index block: the card's measured figures (numbers only; the downstream
    table's are sentences, in the table) on the held-out data, one result."""
    measured = []
    for key, value in metrics.items():
        if key not in METRIC_NAMES:
            continue
        label, kind = METRIC_LABELS.get(key, key), METRIC_NAMES[key][1]
        if isinstance(value, dict):
            measured += [{"type": kind, "value": v, "name": f"{label}: {k}"} for k, v in value.items() if is_number(v)]
        elif is_number(value):
            measured.append({"type": kind, "value": value, "name": label})
    if not measured:
        return None
    dataset = {"type": data_card.get("hubId") or data_card.get("id") or data_card["name"], "name": data_card["name"]}
    if metrics.get("heldOut"):
        dataset["split"] = str(metrics["heldOut"])
    task = {"type": "unconditional-image-generation", "name": "paired lesion-mask and image generation"}
    return [{"name": name, "results": [{"task": task, "dataset": dataset, "metrics": measured}]}]


def downstream_provenance(manifest: dict, metrics: dict) -> str | None:
    """Whether the downstream table's pairs (downstreamPairsFrom: "role hash12, …", then
    "; converged table: …", as pigkit.downstream.card_metrics writes it) came from the weights this
    folder ships: a card can carry figures measured on earlier weights until the table is re-run."""
    made_by = metrics.get("downstreamPairsFrom")
    if not isinstance(made_by, str):
        return None
    shipped = {  # a model's weights file and its graph both name it, whichever the table recorded
        role: {e["sha256"][:12], (e.get("weights") or {}).get("sha256", "")[:12]} for role, e in manifest["models"].items()
    }
    said = []
    for part in made_by.split("; "):
        table, _, named = part.rpartition(": ")
        pairs = [pair.split(" ", 1) for pair in named.split(", ") if " " in pair]
        earlier = [f"{role} {digest}" for role, digest in pairs if digest not in shipped.get(role, {digest})]
        whose = f"earlier weights ({', '.join(earlier)})" if earlier else "the weights in this folder"
        said.append(f"{table or 'the table of record'}: {whose}")
    return "The downstream figures' pairs came from " + "; ".join(said) + "."


def evaluation_section(manifest: dict, metrics: dict) -> list[str]:
    """The model card's Evaluation: the run's settings, the table of figures, where the downstream pairs
    came from, the details; or that no figures were given."""
    out = ["## Evaluation", ""]
    if any(k not in EVAL_SETTINGS for k in metrics):
        settings = ", ".join(
            f"{label} {in_words(metrics[k])}" for k, label in EVAL_SETTINGS.items() if k in metrics and k != "details"
        )
        out += [f"Figures of `pigkit.evaluate` ({settings}):", "", "| figure | value |", "|---|---|", *metric_rows(metrics), ""]
        provenance = downstream_provenance(manifest, metrics)
        if provenance:
            out += [provenance, ""]
        if metrics.get("details"):
            out += [f"Details: {metrics['details']}.", ""]
    else:
        out += ["No evaluation figures were given to this card (`pigkit.evaluate` writes them: `--eval-card`).", ""]
    return out
