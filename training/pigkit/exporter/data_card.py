"""Data cards: a small JSON file that describes a training dataset (name, description, license with
its text, citation and BibTeX; training/datasets/busbra.json), read and checked; what a manifest's
card says about the data, the license and the recipe of a run; DATA-LICENSE.txt beside a model."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

LICENSE_FILE = "DATA-LICENSE.txt"
UNDESCRIBED = "undescribed"
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
