"""Model cards. A data card is a small JSON file that describes a training dataset (name, description,
license with its text, citation and BibTeX; training/datasets/busbra.json); the model card is the
README.md beside a model folder's manifest.json, in the Hugging Face layout (YAML front matter, then
description, intended use, limitations, training data and recipe, evaluation, citations), written
from the manifest, the data card and the evaluation's figures. pigkit.export writes both; this
writes the card of a folder that is already exported, leaving its ONNX files and manifest as they are:

    python3 -m pigkit.card --model ../public/models/tiny --data-card datasets/busbra.json [--eval-card card.json]

With --merge-metrics it first merges figures measured later into manifest.json's card (e.g.
pigkit.downstream's card-metrics.json after a new downstream table), so that the card carries them
without a new export; the manifest's models and their SHA-256s stay as they are.

Nothing in a card is fixed text about a dataset: without a data card it says the training data are
undescribed, and a warning says so.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

from .manifest import ManifestError, read_manifest, write_manifest

LICENSE_FILE = "DATA-LICENSE.txt"
UNDESCRIBED = "undescribed"
# PIG and Siamese-Diffusion as ../../shared/METHOD.md records them: what it does not give (authors,
# Siamese-Diffusion's full title, pages) is left out rather than guessed.
METHOD_BIBTEX = {
    "PIG": (
        "@inproceedings{pig2025,\n"
        "  title     = {Paired Image Generation with Diffusion-Guided Diffusion Models},\n"
        "  booktitle = {MICCAI},\n"
        "  year      = {2025},\n"
        "  note      = {Reference implementation: zhanghx1320/PIG}\n"
        "}"
    ),
    "Siamese-Diffusion": (
        "@inproceedings{siamesediffusion2025,\n"
        "  title         = {Siamese-Diffusion},\n"
        "  booktitle     = {CVPR},\n"
        "  year          = {2025},\n"
        "  eprint        = {2505.06068},\n"
        "  archivePrefix = {arXiv},\n"
        "  note          = {Reference implementation: Qiukunpeng/Siamese-Diffusion}\n"
        "}"
    ),
}
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
}
# a checkpoint config's keys: (the manifest card's recipe key, its label in the model card)
RECIPE_KEYS = {
    "iters": ("iters", "iterations asked for (--iters)"),
    "batch": ("batch", "batch"),
    "lr": ("lr", "learning rate"),
    "ema": ("ema", "EMA decay"),
    "warmup": ("warmup", "learning-rate warm-up, iterations"),
    "min_snr": ("minSnr", "Min-SNR-γ weighting"),
    "flip": ("flip", "left-right flips"),
    "bf16": ("bf16", "bfloat16 autocast"),
    "channels_last": ("channelsLast", "channels-last"),
    "siamese": ("siamese", "Siamese-Diffusion training"),
    "binarize_condition": ("binarizeCondition", "condition B(x̂₀)"),
    "folds": ("folds", "folds"),
    "train_pairs": ("trainPairs", "training pairs"),
    "patients": ("patients", "patient-level subset (fraction, seed)"),
    "seed": ("seed", "seed"),
    "hardware": ("hardware", "hardware"),
    "torch": ("torch", "PyTorch"),
    "init_from": ("initFrom", "started from"),
}


class DataCardError(ValueError):
    """A data card that is not what this module reads; the message names the file and the field."""


def read_data_card(path: Path | str) -> dict:
    """A data card, checked, with `license.text` read from `license.file` (relative to the card) where
    the card gives a file instead of the text."""
    path = Path(path)
    try:
        card = json.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise DataCardError(f"{path}: cannot read the data card ({e.strerror})") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise DataCardError(f"{path} is not valid JSON ({e})") from None
    if not isinstance(card, dict) or card.get("dataCard") != 1:
        raise DataCardError(f'{path}: a data card starts with "dataCard": 1')

    def text(obj: dict, key: str, where: str, required: bool = True) -> None:
        value = obj.get(key)
        if (value is None and required) or (value is not None and not (isinstance(value, str) and value.strip())):
            raise DataCardError(
                f"{path}: {where}{key} must be {'a' if required else 'absent or a'} non-empty string, got {json.dumps(value)}"
            )

    for key in ("name", "description"):
        text(card, key, "")
    for key in ("id", "title", "url", "modality", "citation", "bibtex"):
        text(card, key, "", required=False)
    lic = card.get("license")
    if not isinstance(lic, dict):
        raise DataCardError(f"{path}: license must be an object with name, id and text (or file)")
    text(lic, "name", "license.")
    text(lic, "id", "license.", required=False)
    if lic.get("text") is None and lic.get("file") is not None:
        text(lic, "file", "license.")
        try:
            lic = {**lic, "text": (path.parent / lic["file"]).read_text(encoding="utf-8")}
        except OSError as e:
            raise DataCardError(f"{path}: license.file {lic['file']}: {e.strerror}") from None
    text(lic, "text", "license.", required=False)
    return {**card, "license": lic}


def read_eval_card(path: Path) -> dict:
    """The metrics of pigkit.evaluate's card.json."""
    try:
        metrics = json.loads(path.read_text(encoding="utf-8")).get("metrics")
    except (UnicodeDecodeError, json.JSONDecodeError, AttributeError) as e:
        raise DataCardError(f"{path} is not pigkit.evaluate's card.json ({e})") from None
    if not isinstance(metrics, dict):
        raise DataCardError(f'{path}: no "metrics" object (pigkit.evaluate\'s card.json has one)')
    return metrics


def data_seen(config: dict, resolution: int) -> str:
    """What a run trained on, from its config: folds, pairs, resolution."""
    folds, subset = config.get("folds"), config.get("patients")
    pairs = f"{config['train_pairs']} pairs" if config.get("train_pairs") is not None else "pairs"
    if subset:  # the low-data setting (pigkit.train --patients)
        pairs += f": a random {subset['fraction']:g} of the patients, subset seed {subset['seed']}"
    return (f"folds {folds} ({pairs})" if folds else pairs) + f", resized to {resolution}²"


def manifest_fields(data_card: dict | None, config: dict, resolution: int, license_file: bool) -> dict:
    """The manifest card's data, license and citation (the studio's model panel shows them)."""
    seen = data_seen(config, resolution)
    notice = f"; the data's notice: {LICENSE_FILE}" if license_file else ""
    if data_card is None:
        return {
            "data": f"{UNDESCRIBED} (exported without a data card): {seen}",
            "license": f"unknown: no data card records the training data's license{notice}",
            "citation": "none recorded (no data card)",
        }
    lic = data_card["license"]
    fields = {
        "data": f"{data_card['name']}, {seen}",
        "license": lic["name"] + (f" ({lic['id']})" if lic.get("id") else "") + notice,
        "citation": data_card.get("citation") or data_card.get("bibtex") or "none given in the data card",
        "dataCard": {k: data_card[k] for k in ("id", "name", "title", "url") if data_card.get(k)},
    }
    return fields


def recipe(configs: dict[str, dict]) -> dict:
    """Each model's training settings from its checkpoint config (no local paths), for the manifest card."""
    out = {}
    for role, cfg in configs.items():
        out[role] = {RECIPE_KEYS[k][0]: v for k, v in cfg.items() if k in RECIPE_KEYS and v is not None}
        if isinstance(cfg.get("init_from"), dict):  # pigkit.train --init-from: the model folder it started from
            out[role]["initFrom"] = cfg["init_from"].get("model")
    return out


# ---- the README ----------------------------------------------------------------------------------


def _yaml(front: dict) -> str:
    """The front matter: strings as JSON strings (valid YAML), lists one item a line."""
    lines = ["---"]
    for key, value in front.items():
        if isinstance(value, list):
            lines.append(f"{key}:")
            lines += [f"- {json.dumps(v, ensure_ascii=False)}" for v in value]
        else:
            lines.append(f"{key}: {json.dumps(value, ensure_ascii=False)}")
    return "\n".join(lines + ["---", ""])


def _words(value) -> str:
    if isinstance(value, dict):
        return " · ".join(f"{k} {_words(v)}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(_words(v) for v in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return "–" if value is None else str(value)


def _license_front(data_card: dict | None, has_file: bool) -> dict:
    if data_card is None:
        return {"license": "unknown"}
    spdx = data_card["license"].get("id", "")
    if spdx and not spdx.startswith("LicenseRef-"):
        return {"license": spdx.lower()}
    front = {"license": "other", "license_name": (spdx.removeprefix("LicenseRef-") or data_card["name"]).lower()}
    if has_file:
        front["license_link"] = LICENSE_FILE
    return front


def evidence_label(key: str) -> str | None:
    """The card's words for the evidence figures merged in with --merge-metrics (issue [15]):
    pigkit.audit's audit-card.json and pigkit.evaluate real-vs-synthetic's real-vs-synthetic-card.json."""
    return {
        "memorizationAudit": (
            "memorization audit (pigkit.audit): generated pairs nearer to a training patient than real held-out pairs are"
        ),
        "realVsSyntheticAUC": "real vs synthetic: ROC AUC of a CNN telling real held-out images from generated ones",
    }.get(key)


def _metric_rows(metrics: dict) -> list[str]:
    rows = []
    for key, value in metrics.items():
        if key in EVAL_SETTINGS:
            continue
        label = METRIC_LABELS.get(key) or evidence_label(key) or key
        if isinstance(value, dict):
            rows += [f"| {label}: {k} | {_words(v)} |" for k, v in value.items()]
        else:
            rows.append(f"| {label} | {_words(value)} |")
    return rows


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


FILE_TABLE_HEAD = ["| file | bytes | what |", "|---|---|---|"]


def file_table(manifest: dict) -> list[str]:
    """The model card's table of the folder's model files: each graph, then each weights file once
    (the graphs that keep their large tensors in it named)."""
    models = manifest["models"]
    rows = [f"| `{e['file']}` | {e.get('bytes', '–')} | {e.get('role', key)} |" for key, e in models.items()]
    users: dict[str, list[str]] = {}
    for e in models.values():
        if "weights" in e:
            users.setdefault(e["weights"]["file"], []).append(e["file"])
    for e in models.values():
        w = e.get("weights")
        if w and w["file"] in users:
            graphs = users.pop(w["file"])
            rows.append(
                f"| `{w['file']}` | {w['bytes']} | the weights of {' and '.join(f'`{g}`' for g in graphs)} (ONNX external data) |"
            )
    return FILE_TABLE_HEAD + rows


def replace_file_table(readme: str, manifest: dict) -> str:
    """`readme` (a model card) with its file table rewritten for `manifest`; unchanged without one."""
    lines = readme.split("\n")
    if FILE_TABLE_HEAD[0] not in lines:
        return readme
    start = lines.index(FILE_TABLE_HEAD[0])
    end = start
    while end < len(lines) and lines[end].startswith("|"):
        end += 1
    return "\n".join(lines[:start] + file_table(manifest) + lines[end:])


def model_card(
    manifest: dict,
    data_card: dict | None = None,
    metrics: dict | None = None,
    folder_name: str | None = None,
    has_license_file: bool = False,
) -> str:
    """README.md of a model folder: Hugging Face front matter and sections, from facts only."""
    card = manifest.get("card", {})
    name, (h, w) = manifest.get("name", folder_name), manifest["resolution"]
    folder = folder_name or name
    sampler = manifest["sampler"]
    modality = (data_card or {}).get("modality") or manifest.get("modality") or card.get("modality") or "ultrasound"
    metrics = {k: v for k, v in (metrics if metrics is not None else card.get("metrics") or {}).items()}
    figures = [k for k in metrics if k not in EVAL_SETTINGS]
    front = {
        **_license_front(data_card, has_license_file),
        "library_name": "onnx",
        "pipeline_tag": "unconditional-image-generation",
        "tags": [
            "pig",
            "diffusion",
            "ddim",
            "paired-image-generation",
            "lesion-masks",
            "medical-imaging",
            modality,
            "synthetic-data",
            "onnx",
        ],
    }
    if data_card is not None:
        front["datasets"] = [data_card.get("id") or data_card["name"]]
    if figures:
        front["metrics"] = figures
    steps, seen = card.get("stepsTrained", {}), card.get("imagesSeen", {})
    rec = card.get("recipe", {})
    pairs = next((r.get("trainPairs") for r in rec.values() if r.get("trainPairs")), None)
    out = [_yaml(front), f"# {name}: paired lesion-mask and {modality} image diffusion (PIG)", ""]

    out += [
        "## Model description",
        "",
        f'Two DDPM U-Nets (preset `{card.get("preset", "unknown")}`) trained as in PIG, "Paired Image Generation '
        'with Diffusion-Guided Diffusion Models" (MICCAI 2025): `model_x` predicts the noise of the lesion-mask chain '
        "from `[x_t, y_t]`, `model_y` the noise of the image chain from `[y_t, c]`, where `c = B(x̂₀)` is the "
        f"binarised mask estimate of the same step. Sampled together with DDIM they give a {h}×{w} lesion mask "
        f"and the {modality} image made for it. The same pair also runs mask → image (`model_y` alone on a "
        "given mask) and image → mask (`model_x` alone: a segmentation of a given image).",
        "",
        f"Sampler defaults (`manifest.json`): {sampler['steps']} DDIM steps, η = {sampler['eta']}, clip "
        f"`{sampler.get('clip', 'none')}`; a linear β schedule over T = {manifest['schedule']['T']}.",
        "",
    ]
    out += file_table(manifest)
    out += [
        "",
        "Run it in the studio (`?model=" + folder + "`), with the CLI (`npm run generate -- --model "
        f"public/models/{folder} --count 8 --out out`) or from Python:",
        "",
        "```python",
        "from pigkit.pipeline import PigPipeline",
        f'pipe = PigPipeline.from_pretrained("public/models/{folder}")',
        "out = pipe(seed=0)  # out.mask (0/1), out.image (ŷ₀), out.image_uint8",
        "```",
        "",
    ]

    out += [
        "## Intended use",
        "",
        "Research data generation: synthetic lesion-mask / image pairs for studying segmentation training and "
        "data augmentation, and for teaching and demonstrating paired diffusion.",
        "",
        "**Not for clinical use.** Not for diagnosis, screening, treatment decisions or any other decision about "
        "a patient; it is not a medical device. Generated images show no real patient, and their masks are the "
        "masks the images were generated from, not delineations by an expert.",
        "",
    ]

    epochs = (
        ""
        if not (pairs and seen)
        else " (about "
        + ", ".join(f"{k} {seen[k] / pairs:.0f}" for k in seen)
        + f" epochs over {pairs} pairs; PIG's paper trains 128 epochs at 512²)"
    )
    out += [
        "## Limitations",
        "",
        f"- {h}×{w} only. Trained for {_words(steps) or 'an unrecorded number of'} iterations "
        f"({_words(seen)} images seen){epochs}.",
        "- It can only reproduce what its training data show: their population, scanners, lesion types and "
        "artefacts (see Training data); nothing is known about data unlike them.",
        "- A generated mask is consistent with its image by construction, not by verification: see the pair "
        "consistency figure under Evaluation, where there is one.",
        "- The same seed, steps, η and clip give the same pair in the studio (WASM), the CLI and `pigkit.pipeline` "
        "on the CPU, bit for bit; other backends (WebGPU, CUDA) round differently and may differ slightly.",
        "",
    ]

    out += ["## Training data", ""]
    if data_card is None:
        out += [
            f"**Undescribed.** This model was exported without a data card, so what it was trained on, under "
            f"which license and with which citation is not recorded here. The manifest says: {card.get('data', 'nothing')}.",
            "",
        ]
    else:
        lic = data_card["license"]
        out += [
            f"**{data_card.get('title') or data_card['name']}**",
            "",
            data_card["description"],
            "",
            f"Used here: {card.get('data', 'not recorded')}.",
            "",
        ]
        if data_card.get("url"):
            out += [f"Source: <{data_card['url']}>", ""]
        out += [
            f"License: {lic['name']}"
            + (f" (`{lic['id']}`)" if lic.get("id") else "")
            + (f"; its text: [{LICENSE_FILE}]({LICENSE_FILE})." if has_license_file else "."),
            "",
        ]

    out += [
        "## Training recipe",
        "",
        "PIG's objectives (METHOD.md): `model_x` on `‖ε₁ − model_x(x_t, y_t, t)‖²`, then `model_y` with `model_x` "
        "frozen, on the sigmoid-weighted `‖ε₂ − model_y(y_t, x̂₀, t)‖²`"
        + (" with Siamese-Diffusion's noise-consistent training" if card.get("siamese") else "")
        + "; EMA weights exported.",
        "",
        "| | mask (`model_x`) | image (`model_y`) |",
        "|---|---|---|",
    ]
    rows = {"iterations": steps, "images seen": seen, "wall time, s": card.get("wallTimeSeconds", {})}
    for key, label in RECIPE_KEYS.values():
        if any(key in r for r in rec.values()):
            rows[label] = {role: r.get(key) for role, r in rec.items()}
    shared = {"preset": "preset"} if rec else {"preset": "preset", "batch": "batch", "trainedOn": "trained on"}
    rows.update({label: {"mask": card[key], "image": card[key]} for key, label in shared.items() if key in card})
    for label, per_role in rows.items():
        if per_role:
            out.append(f"| {label} | {_words(per_role.get('mask'))} | {_words(per_role.get('image'))} |")
    out.append("")

    out += ["## Evaluation", ""]
    if figures:
        settings = ", ".join(
            f"{label} {_words(metrics[k])}" for k, label in EVAL_SETTINGS.items() if k in metrics and k != "details"
        )
        out += [f"Figures of `pigkit.evaluate` ({settings}):", "", "| figure | value |", "|---|---|", *_metric_rows(metrics), ""]
        provenance = downstream_provenance(manifest, metrics)
        if provenance:
            out += [provenance, ""]
        if metrics.get("details"):
            out += [f"Details: {metrics['details']}.", ""]
    else:
        out += ["No evaluation figures were given to this card (`pigkit.evaluate` writes them: `--eval-card`).", ""]

    out += ["## Citation", "", "Cite the training data and the methods:", ""]
    if data_card is not None and data_card.get("bibtex"):
        out += ["```bibtex", data_card["bibtex"], "```", ""]
    elif data_card is not None:
        out += [f"The data card gives no BibTeX for {data_card['name']}.", ""]
    out += [
        "```bibtex",
        METHOD_BIBTEX["PIG"],
        "",
        METHOD_BIBTEX["Siamese-Diffusion"],
        "```",
        "",
        "Authors and Siamese-Diffusion's full title are left out: the project's method notes record only the "
        "fields above. The code that trained and runs this model is MIT-licensed (`LICENSE` at the repository root).",
        "",
    ]
    return "\n".join(out)


def write_data_license(folder: Path, data_card: dict | None, license_path: Path | None = None) -> bool:
    """DATA-LICENSE.txt in a model folder: a copy of `license_path`, else the data card's license text.
    False where there is neither (nothing written)."""
    if license_path is not None:
        shutil.copyfile(license_path, folder / LICENSE_FILE)
    elif data_card is not None and data_card["license"].get("text"):
        (folder / LICENSE_FILE).write_text(data_card["license"]["text"], encoding="utf-8")
    else:
        return False
    return True


def write_model_card(
    folder: Path | str,
    data_card: dict | None = None,
    metrics: dict | None = None,
    manifest: dict | None = None,
    has_license_file: bool | None = None,
) -> Path:
    """README.md in a model folder; a warning where there is no data card. `metrics`: default the
    manifest card's; `has_license_file`: default whether the folder holds DATA-LICENSE.txt."""
    folder = Path(folder)
    manifest = manifest if manifest is not None else read_manifest(folder)
    if data_card is None:
        print(
            f"warning: {folder}: no data card (--data-card): the model card says the training data are "
            "undescribed (no data, license or citation recorded)",
            file=sys.stderr,
        )
    if has_license_file is None:
        has_license_file = (folder / LICENSE_FILE).is_file()
    readme = folder / "README.md"
    readme.write_text(model_card(manifest, data_card, metrics, folder.name, has_license_file), encoding="utf-8")
    return readme


def merge_card_metrics(folder: Path, manifest: dict, path: Path) -> dict:
    """The manifest with the figures of the JSON object at `path` (bare, or under "metrics" as in
    pigkit.downstream's card-metrics.json) merged into its card's metrics (those of the same name
    replaced), written back to the folder's manifest.json."""
    try:
        figures = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise DataCardError(f"{path} is not a JSON object of card metrics ({e})") from None
    if isinstance(figures, dict) and list(figures) == ["metrics"]:
        figures = figures["metrics"]  # the {"metrics": {...}} that pigkit.downstream writes
    if not isinstance(figures, dict) or not figures:
        raise DataCardError(
            f'{path}: expected a JSON object of figures (name: value) or {{"metrics": {{...}}}}, as pigkit.downstream writes'
        )
    card = manifest.setdefault("card", {})
    card["metrics"] = {**(card.get("metrics") or {}), **figures}
    write_manifest(folder, manifest)
    return manifest


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="pigkit.card", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True, help="an exported model folder (manifest.json + ONNX files)")
    p.add_argument("--data-card", default=None, help="the training data's card (JSON, e.g. datasets/busbra.json)")
    p.add_argument(
        "--eval-card", default=None, help="card.json of pigkit.evaluate (its metrics); default: the manifest card's metrics"
    )
    p.add_argument(
        "--merge-metrics",
        default=None,
        help="a JSON object of figures (e.g. pigkit.downstream's card-metrics.json) merged into manifest.json's "
        "card metrics first, replacing those of the same name; the manifest's models and files are kept",
    )
    a = p.parse_args(argv)
    try:
        data_card = read_data_card(a.data_card) if a.data_card else None
        metrics = read_eval_card(Path(a.eval_card)) if a.eval_card else None
        manifest = read_manifest(a.model)
        if a.merge_metrics:
            manifest = merge_card_metrics(Path(a.model), manifest, Path(a.merge_metrics))
        write_data_license(Path(a.model), data_card)
        print(f"wrote {write_model_card(a.model, data_card, metrics, manifest)}", file=sys.stderr)
    except (DataCardError, ManifestError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
