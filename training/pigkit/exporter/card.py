"""Model cards. A data card is a small JSON file that describes a training dataset (name, description,
license with its text, citation and BibTeX; training/datasets/busbra.json); the model card is the
README.md beside a model folder's manifest.json, in the Hugging Face layout (YAML front matter, then
description, intended use, limitations, training data and recipe, evaluation, citations), written
from the manifest, the data card and the evaluation's figures. pigkit.export writes both; this
writes the card of a folder that is already exported, leaving its ONNX files and manifest as they are:

    python3 -m pigkit.card --model ../public/models/tiny --data-card datasets/busbra.json [--eval-card card.json]

With --samples DIR it first draws samples.png (the first 8 pairs of a dataset folder the CLI made
with this model) into the folder, and the card shows it. With --merge-metrics it first merges
figures measured later into manifest.json's card (e.g. pigkit.downstream's card-metrics.json after a
new downstream table), so that the card carries them without a new export; the manifest's models
and their SHA-256s stay as they are.

Nothing in a card is fixed text about a dataset: without a data card it says the training data are
undescribed, and a warning says so.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

from pigkit.exporter.manifest import ManifestError, read_manifest, write_manifest

LICENSE_FILE = "DATA-LICENSE.txt"
UNDESCRIBED = "undescribed"
# PIG and Siamese-Diffusion as their papers give them (authors and titles from the arXiv versions,
# 2507.14833 and 2505.06068; venues from ../../shared/METHOD.md). Proceedings pages and DOIs are left
# out: MICCAI 2025's SpringerLink DOI was not yet listed and CVPR 2025's pages were not verified.
METHOD_BIBTEX = {
    "PIG": (
        "@inproceedings{zhang2025pig,\n"
        "  author        = {Zhang, Haoxuan and Cui, Wenju and Cao, Yuzhu and Tan, Tao and Liu, Jie"
        " and Peng, Yunsong and Zheng, Jian},\n"
        "  title         = {Paired Image Generation with Diffusion-Guided Diffusion Models},\n"
        "  booktitle     = {Medical Image Computing and Computer Assisted Intervention -- MICCAI 2025},\n"
        "  year          = {2025},\n"
        "  eprint        = {2507.14833},\n"
        "  archivePrefix = {arXiv},\n"
        "  note          = {Reference implementation: zhanghx1320/PIG}\n"
        "}"
    ),
    "Siamese-Diffusion": (
        "@inproceedings{qiu2025siamese,\n"
        "  author        = {Qiu, Kunpeng and Gao, Zhiqiang and Zhou, Zhiying and Sun, Mingjie and Guo, Yongxin},\n"
        "  title         = {Noise-Consistent Siamese-Diffusion for Medical Image Synthesis and Segmentation},\n"
        "  booktitle     = {IEEE/CVF Conference on Computer Vision and Pattern Recognition (CVPR)},\n"
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
SAMPLE_FILE = "samples.png"
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
    for key in ("id", "hubId", "title", "url", "modality", "citation", "bibtex"):
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
    """The front matter: strings as JSON strings (valid YAML), lists one item a line, mappings nested."""
    return "\n".join(["---", *_yaml_lines(front, ""), "---", ""])


def _yaml_lines(obj: dict, pad: str) -> list[str]:
    out = []
    for key, value in obj.items():
        if isinstance(value, dict):
            out += [f"{pad}{key}:", *_yaml_lines(value, pad + "  ")]
        elif isinstance(value, list):
            out.append(f"{pad}{key}:")
            for item in value:
                if isinstance(item, dict):  # "- first: …" with the item's other keys under it
                    first, *rest = _yaml_lines(item, pad + "  ")
                    out += [f"{pad}- {first[len(pad) + 2 :]}", *rest]
                else:
                    out.append(f"{pad}- {json.dumps(item, ensure_ascii=False)}")
        else:
            out.append(f"{pad}{key}: {json.dumps(value, ensure_ascii=False)}")
    return out


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


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def model_index(name: str, metrics: dict, data_card: dict) -> list[dict] | None:
    """Hugging Face's model-index block: the card's measured figures (numbers only; the downstream
    table's are sentences, in the table) on the held-out data, one result."""
    measured = []
    for key, value in metrics.items():
        if key not in METRIC_NAMES:
            continue
        label, kind = METRIC_LABELS.get(key, key), METRIC_NAMES[key][1]
        if isinstance(value, dict):
            measured += [{"type": kind, "value": v, "name": f"{label}: {k}"} for k, v in value.items() if _number(v)]
        elif _number(value):
            measured.append({"type": kind, "value": value, "name": label})
    if not measured:
        return None
    dataset = {"type": data_card.get("hubId") or data_card.get("id") or data_card["name"], "name": data_card["name"]}
    if metrics.get("heldOut"):
        dataset["split"] = str(metrics["heldOut"])
    task = {"type": "unconditional-image-generation", "name": "paired lesion-mask and image generation"}
    return [{"name": name, "results": [{"task": task, "dataset": dataset, "metrics": measured}]}]


def sample_caption(folder: Path) -> str | None:
    """The caption samples.png carries (its tEXt Description, written by write_samples); None
    where the folder has no samples.png."""
    path = Path(folder) / SAMPLE_FILE
    if not path.is_file():
        return None
    from PIL import Image

    with Image.open(path) as im:
        return im.text.get("Description") or "generated pairs"


def write_samples(folder: Path, pairs: Path, count: int = 8) -> str:
    """samples.png in a model folder: the first `count` cases of `pairs` (a dataset folder the CLI
    made with this model), each lesion mask above its image, one column a pair; its caption (what
    made them) in the PNG's tEXt Description. Returns the caption."""
    from PIL import Image, PngImagePlugin

    folder, pairs = Path(folder), Path(pairs)
    manifest = read_manifest(folder)
    try:
        made = json.loads((pairs / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise DataCardError(
            f"{pairs}: no readable manifest.json of the CLI's ({e}); make the pairs with npm run generate"
        ) from None
    theirs = {k: f.get("sha256") for k, f in (made.get("model") or {}).get("files", {}).items()}
    ours = {k: e["sha256"] for k, e in manifest["models"].items()}
    if any(theirs.get(k) != v for k, v in ours.items()):
        raise DataCardError(f"{pairs} was not generated by {folder}'s weights; generate the samples with --model {folder}")
    cases = [c for c in made.get("cases", []) if c.get("mode") == "pair" and c["files"][0].endswith(".png")][:count]
    if not cases:
        raise DataCardError(f"{pairs} holds no pair-mode cases; run npm run generate -- --model {folder} --count {count}")
    h, w = manifest["resolution"]
    sheet = Image.new("L", (w * len(cases), 2 * h))
    for i, case in enumerate(cases):
        label, image = (Image.open(pairs / f) for f in case["files"][::-1])
        sheet.paste(label.point(lambda v: 255 if v else 0).convert("L"), (i * w, 0))
        sheet.paste(image.convert("L"), (i * w, h))
    seeds, c = [case["seed"] for case in cases], cases[0]
    run = seeds == list(range(seeds[0], seeds[0] + len(seeds)))
    caption = (
        f"{len(cases)} pairs from the CLI"
        + (f" (npm run generate -- --model public/models/{folder.name} --count {len(cases)} --seed {seeds[0]})" if run else "")
        + f", seeds {f'{seeds[0]}–{seeds[-1]}' if run else ', '.join(map(str, seeds))}, {c['steps']} DDIM steps, "
        f"η = {c['eta']}, clip {c['clip']}: each lesion mask (white) above its image"
    )
    info = PngImagePlugin.PngInfo()
    info.add_text("Description", caption)
    sheet.save(folder / SAMPLE_FILE, pnginfo=info, optimize=True)
    return caption


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
    sample: str | None = None,
) -> str:
    """README.md of a model folder: Hugging Face front matter and sections, from facts only.
    `sample`: the caption of the folder's samples.png (sample_caption), None where it has none."""
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
    if data_card is not None and data_card.get("hubId"):  # `datasets` takes Hub ids only
        front["datasets"] = [data_card["hubId"]]
    named = list(dict.fromkeys(METRIC_NAMES[k][0] for k in figures if k in METRIC_NAMES))
    if named:
        front["metrics"] = named
    index = model_index(name, metrics, data_card) if data_card is not None else None
    if index:
        front["model-index"] = index
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
    if sample:
        out += [f"![{sample}]({SAMPLE_FILE})", "", f"*{sample}.*", ""]
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
        "PIG's objectives (PIG Studio's docs/method.md): `model_x` on `‖ε₁ − model_x(x_t, y_t, t)‖²`, then `model_y` "
        "with `model_x` frozen, on the sigmoid-weighted `‖ε₂ − model_y(y_t, x̂₀, t)‖²`"
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
        "Proceedings pages and DOIs of the two methods are left out: they were not verified. The code that trained "
        "and runs this model is MIT-licensed (`LICENSE` at the repository root; `CITATION.cff` there cites it).",
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
    card = model_card(manifest, data_card, metrics, folder.name, has_license_file, sample_caption(folder))
    readme.write_text(card, encoding="utf-8")
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
    p.add_argument(
        "--samples",
        default=None,
        help="a dataset folder the CLI made with this model (npm run generate -- --model … --count 8): its first 8 "
        "pairs become samples.png in the model folder, which the card shows",
    )
    a = p.parse_args(argv)
    try:
        if a.samples:
            print(f"wrote {Path(a.model) / SAMPLE_FILE}: {write_samples(Path(a.model), Path(a.samples))}", file=sys.stderr)
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
