"""A model card's front matter in Hugging Face's layout: YAML (strings as JSON strings), the license
as the Hub names it, the tags, the dataset, the metrics' names and the model-index block."""

from __future__ import annotations

import json

from pigkit.exporter.card_figures import EVAL_SETTINGS, METRIC_NAMES, model_index
from pigkit.exporter.data_card import LICENSE_FILE


def yaml_block(front: dict) -> str:
    """The front matter: strings as JSON strings (valid YAML), lists one item a line, mappings nested."""
    return "\n".join(["---", *yaml_lines(front, ""), "---", ""])


def yaml_lines(obj: dict, pad: str) -> list[str]:
    out = []
    for key, value in obj.items():
        if isinstance(value, dict):
            out += [f"{pad}{key}:", *yaml_lines(value, pad + "  ")]
        elif isinstance(value, list):
            out.append(f"{pad}{key}:")
            for item in value:
                if isinstance(item, dict):  # "- first: …" with the item's other keys under it
                    first, *rest = yaml_lines(item, pad + "  ")
                    out += [f"{pad}- {first[len(pad) + 2 :]}", *rest]
                else:
                    out.append(f"{pad}- {json.dumps(item, ensure_ascii=False)}")
        else:
            out.append(f"{pad}{key}: {json.dumps(value, ensure_ascii=False)}")
    return out


def license_front(data_card: dict | None, has_file: bool) -> dict:
    if data_card is None:
        return {"license": "unknown"}
    spdx = data_card["license"].get("id", "")
    if spdx and not spdx.startswith("LicenseRef-"):
        return {"license": spdx.lower()}
    front = {"license": "other", "license_name": (spdx.removeprefix("LicenseRef-") or data_card["name"]).lower()}
    if has_file:
        front["license_link"] = LICENSE_FILE
    return front


def front_matter(name: str, modality: str, metrics: dict, data_card: dict | None, has_license_file: bool) -> str:
    """The card's YAML front matter: license, library, task, tags, the data's Hub id, the figures' names
    and the model-index of the measured ones."""
    figures = [k for k in metrics if k not in EVAL_SETTINGS]
    front = {
        **license_front(data_card, has_license_file),
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
    return yaml_block(front)
