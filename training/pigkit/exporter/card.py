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
import sys
from pathlib import Path

from pigkit.exporter.card_figures import evaluation_section
from pigkit.exporter.card_files import SAMPLE_FILE, sample_caption, write_samples
from pigkit.exporter.card_front import front_matter
from pigkit.exporter.card_sections import (
    INTENDED_USE,
    description_section,
    limitations_section,
    recipe_section,
    training_data_section,
)
from pigkit.exporter.citations import citation_section
from pigkit.exporter.data_card import LICENSE_FILE, DataCardError, read_data_card, read_eval_card, write_data_license
from pigkit.exporter.manifest import ManifestError, read_manifest, write_manifest


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
    name = manifest.get("name", folder_name)
    modality = (data_card or {}).get("modality") or manifest.get("modality") or card.get("modality") or "ultrasound"
    metrics = dict(metrics if metrics is not None else card.get("metrics") or {})
    return "\n".join(
        [
            front_matter(name, modality, metrics, data_card, has_license_file),
            f"# {name}: paired lesion-mask and {modality} image diffusion (PIG)",
            "",
            *description_section(manifest, folder_name or name, modality, sample),
            *INTENDED_USE,
            *limitations_section(manifest),
            *training_data_section(card, data_card, has_license_file),
            *recipe_section(card),
            *evaluation_section(manifest, metrics),
            *citation_section(data_card),
        ]
    )


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
