"""Data cards and the model card README.md (pigkit.card); the export's side is in test_export.py."""

import json
import shutil
from pathlib import Path

import pytest

from pigkit.exporter.card import DataCardError, main, read_data_card

REPO = Path(__file__).resolve().parents[2]
TINY = REPO / "public" / "models" / "tiny"
BUSBRA_CARD = REPO / "training" / "datasets" / "busbra.json"
SHARED_LICENSE = REPO.parent / "shared" / "datasets" / "busbra" / "LICENSE.txt"
EVAL = {
    "metrics": {
        "heldOut": "fold 4 (365 pairs)",
        "generated": 512,
        "steps": 50,
        "eta": 1.0,
        "clip": "both",
        "saturatedPixels": 0.0373,
        "pairConsistencyDice": 0.7585,
        "maskStatWasserstein1": {"area_fraction": 0.0247},
        "details": "EVALUATION.md",
    }
}


def front_matter(readme: str) -> dict:
    """The YAML front matter as the card writes it (one JSON value a line, lists one item a line); the
    nested model-index block is read by PyYAML, where installed (Debian's python3-torch depends on it)."""
    assert readme.startswith("---\n")
    block = readme[4 : readme.index("\n---\n")]
    flat, _, index = block.partition("model-index:\n")
    out, key = {}, None
    for line in flat.splitlines():
        if line.startswith("- "):
            out[key].append(json.loads(line[2:]))
        else:
            key, _, value = line.partition(": ")
            key = key.rstrip(":")
            out[key] = json.loads(value) if value else []
    try:
        import yaml  # Debian's python3-yaml, where installed: the same front matter read as YAML

        full = yaml.safe_load(block)
        if index:
            out["model-index"] = full["model-index"]
        assert full == out
    except ImportError:
        assert not index or all(line.startswith(("- ", "  ")) for line in index.splitlines())
    return out


def sections(readme: str) -> list[str]:
    return [line[3:] for line in readme.splitlines() if line.startswith("## ")]


def test_busbra_data_card():
    card = read_data_card(BUSBRA_CARD)
    assert card["name"] == "BUS-BRA" and card["license"]["id"] == "LicenseRef-BUS-BRA"
    assert card["bibtex"].startswith("@article{") and "journal = {Medical Physics}" in card["bibtex"]
    if SHARED_LICENSE.is_file():  # the notice, word for word
        assert card["license"]["text"] == SHARED_LICENSE.read_text(encoding="utf-8")


def test_data_card_errors_name_the_field(tmp_path):
    path = tmp_path / "d.json"
    good = {"dataCard": 1, "name": "D", "description": "d", "license": {"name": "L", "file": "LICENSE"}}
    (tmp_path / "LICENSE").write_text("notice\n")
    path.write_text(json.dumps(good))
    assert read_data_card(path)["license"]["text"] == "notice\n"  # a file next to the card
    for broken, message in (
        (dict(good, dataCard=2), '"dataCard": 1'),
        ({k: v for k, v in good.items() if k != "name"}, "name must be"),
        (dict(good, license="MIT"), "license must be an object"),
        (dict(good, license={"file": "LICENSE"}), "license.name must be"),
        (dict(good, license={"name": "L", "file": "nowhere"}), "license.file nowhere"),
        (dict(good, url=""), "url must be absent or a non-empty string"),
    ):
        path.write_text(json.dumps(broken))
        with pytest.raises(DataCardError, match=message):
            read_data_card(path)


def test_card_for_an_exported_folder_leaves_its_files_alone(tmp_path, capsys):
    folder = shutil.copytree(TINY, tmp_path / "tiny", ignore=shutil.ignore_patterns("README.md"))
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    (tmp_path / "card.json").write_text(json.dumps(EVAL))
    assert main(["--model", str(folder), "--data-card", str(BUSBRA_CARD), "--eval-card", str(tmp_path / "card.json")]) == 0
    assert {p.name: p.read_bytes() for p in folder.iterdir() if p.name != "README.md"} == {
        **before,
        "DATA-LICENSE.txt": read_data_card(BUSBRA_CARD)["license"]["text"].encode(),
    }
    readme = (folder / "README.md").read_text()
    front = front_matter(readme)
    assert front["license"] == "other" and front["license_name"] == "bus-bra" and front["license_link"] == "DATA-LICENSE.txt"
    # no `datasets`: it takes Hugging Face Hub ids, and BUS-BRA is not on the Hub (the data card has no hubId)
    assert "datasets" not in front and front["metrics"] == [
        "saturated pixel fraction",
        "pair consistency Dice",
        "mask statistics Wasserstein-1 distance",
    ]
    assert {"medical-imaging", "ultrasound", "onnx"} <= set(front["tags"])
    assert sections(readme) == [
        "Model description",
        "Intended use",
        "Limitations",
        "Training data",
        "Training recipe",
        "Evaluation",
        "Citation",
    ]
    assert "Research data generation" in readme and "**Not for clinical use.**" in readme
    assert "| pair consistency: Dice of a segmenter" in readme and "| 0.7585 |" in readme and "area_fraction | 0.0247 |" in readme
    assert readme.count("```bibtex") == 2 and "@article{gomezflores2024busbra" in readme
    for field in (  # every author, the full titles, BUS-BRA's journal, volume, pages and DOI
        "author        = {Zhang, Haoxuan and Cui, Wenju and Cao, Yuzhu and Tan, Tao and Liu, Jie and Peng, Yunsong"
        " and Zheng, Jian}",
        "title         = {Paired Image Generation with Diffusion-Guided Diffusion Models}",
        "eprint        = {2507.14833}",
        "author        = {Qiu, Kunpeng and Gao, Zhiqiang and Zhou, Zhiying and Sun, Mingjie and Guo, Yongxin}",
        "title         = {Noise-Consistent Siamese-Diffusion for Medical Image Synthesis and Segmentation}",
        "eprint        = {2505.06068}",
        "journal = {Medical Physics},\n  volume  = {51},\n  number  = {4},\n  pages   = {3110--3123}",
        "doi     = {10.1002/mp.16812}",
    ):
        assert field in readme, field
    assert "| iterations | 263 | 252 |" in readme  # the manifest card's counts
    assert "warning" not in capsys.readouterr().err


def test_card_without_a_data_card_warns_and_invents_nothing(tmp_path, capsys):
    folder = shutil.copytree(TINY, tmp_path / "tiny", ignore=shutil.ignore_patterns("README.md", "DATA-LICENSE.txt"))
    assert main(["--model", str(folder)]) == 0
    assert "warning: " in capsys.readouterr().err
    readme = (folder / "README.md").read_text()
    assert front_matter(readme)["license"] == "unknown" and "datasets" not in front_matter(readme)
    assert "**Undescribed.**" in readme and "@article" not in readme and "No evaluation figures" in readme


def test_merged_metrics_reach_the_manifest_and_the_card_and_nothing_else_changes(tmp_path, capsys):
    folder = shutil.copytree(TINY, tmp_path / "tiny")
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    old = json.loads(before["manifest.json"])
    figures = {"downstreamDiceRealOnly": "0.862 ± 0.003", "saturatedPixels": 0.5}
    (tmp_path / "card-metrics.json").write_text(json.dumps(figures, ensure_ascii=False))
    args = ["--model", str(folder), "--data-card", str(BUSBRA_CARD), "--merge-metrics", str(tmp_path / "card-metrics.json")]
    assert main(args) == 0
    new = json.loads((folder / "manifest.json").read_text())
    assert new["card"]["metrics"] == {**(old["card"].get("metrics") or {}), **figures}
    assert {k: v for k, v in new.items() if k != "card"} == {k: v for k, v in old.items() if k != "card"}
    assert {k: v for k, v in new["card"].items() if k != "metrics"} == {k: v for k, v in old["card"].items() if k != "metrics"}
    assert (
        "| downstream: Dice of a segmenter trained on the real training pairs alone | 0.862 ± 0.003 |"
        in (folder / "README.md").read_text()
    )
    assert {p.name: p.read_bytes() for p in folder.iterdir() if p.name not in ("README.md", "manifest.json")} == {
        k: v for k, v in before.items() if k not in ("README.md", "manifest.json")
    }
    # pigkit.downstream's card-metrics.json keeps its figures under "metrics": merged the same way
    (tmp_path / "card-metrics.json").write_text(json.dumps({"metrics": {"downstreamConverged": "0.867 ± 0.006"}}))
    assert main(args) == 0
    new = json.loads((folder / "manifest.json").read_text())
    assert new["card"]["metrics"] == {**(old["card"].get("metrics") or {}), **figures, "downstreamConverged": "0.867 ± 0.006"}
    for text, message in (("[1, 2]", "expected a JSON object"), ("{", "is not a JSON object of card metrics")):
        (tmp_path / "card-metrics.json").write_text(text)
        assert main(args) == 2
        assert message in capsys.readouterr().err
    assert json.loads((folder / "manifest.json").read_text()) == new  # a bad file changes nothing


def test_the_card_says_whether_the_downstream_pairs_came_from_its_own_weights(tmp_path):
    folder = shutil.copytree(TINY, tmp_path / "tiny")
    models = json.loads((folder / "manifest.json").read_text())["models"]
    own = {role: (models[role].get("weights") or models[role])["sha256"][:12] for role in ("mask", "image")}
    made_by = f"image {own['image']}, mask {own['mask']}; converged table: image 0945a1698475, mask {own['mask']}"
    (tmp_path / "card-metrics.json").write_text(json.dumps({"downstreamPairsFrom": made_by}))
    assert main(["--model", str(folder), "--merge-metrics", str(tmp_path / "card-metrics.json")]) == 0
    assert (
        "The downstream figures' pairs came from the table of record: the weights in this folder; "
        "converged table: earlier weights (image 0945a1698475)."
    ) in (folder / "README.md").read_text()


def test_card_errors(tmp_path, capsys):
    assert main(["--model", str(tmp_path)]) == 2
    assert "no manifest.json" in capsys.readouterr().err
    (tmp_path / "card.json").write_text("{}")
    assert main(["--model", str(TINY), "--eval-card", str(tmp_path / "card.json")]) == 2
    assert 'no "metrics" object' in capsys.readouterr().err


@pytest.mark.parametrize(
    "folder", sorted(p.parent for p in (REPO / "public" / "models").glob("*/manifest.json")), ids=lambda p: p.name
)
def test_shipped_cards_are_current(folder):
    """public/models/*/README.md is what pigkit.card writes for it today (with its samples.png, where it has one)."""
    from pigkit.exporter.card import model_card, sample_caption

    manifest = json.loads((folder / "manifest.json").read_text())
    card = model_card(manifest, read_data_card(BUSBRA_CARD), None, folder.name, True, sample_caption(folder))
    assert (folder / "README.md").read_text() == card


def test_the_model_index_holds_the_cards_held_out_figures(tmp_path):
    yaml = pytest.importorskip("yaml")
    folder = shutil.copytree(TINY, tmp_path / "tiny")
    (tmp_path / "card.json").write_text(json.dumps(EVAL))
    assert main(["--model", str(folder), "--data-card", str(BUSBRA_CARD), "--eval-card", str(tmp_path / "card.json")]) == 0
    readme = (folder / "README.md").read_text()
    [entry] = yaml.safe_load(readme[4 : readme.index("\n---\n")])["model-index"]
    [result] = entry["results"]
    assert entry["name"] == "tiny" and result["task"]["type"] == "unconditional-image-generation"
    assert result["dataset"] == {"type": "bus-bra", "name": "BUS-BRA", "split": "fold 4 (365 pairs)"}
    assert [(m["type"], m["value"]) for m in result["metrics"]] == [
        ("saturated_pixel_fraction", 0.0373),
        ("dice", 0.7585),
        ("wasserstein_1", 0.0247),
    ]
    assert result["metrics"][2]["name"].endswith(": area_fraction")
    # without a data card there is no dataset to name: no model-index
    assert main(["--model", str(folder)]) == 0
    assert "model-index" not in (folder / "README.md").read_text()


def test_samples_png_is_the_clis_pairs_and_the_card_shows_it(tmp_path, capsys):
    from PIL import Image

    folder = shutil.copytree(TINY, tmp_path / "tiny")
    models = json.loads((folder / "manifest.json").read_text())["models"]
    pairs = tmp_path / "pairs"  # a dataset folder as the CLI writes it: 3 cases, 32×32
    (pairs / "imagesTr").mkdir(parents=True)
    (pairs / "labelsTr").mkdir()
    cases = []
    for seed in (4, 5, 6):
        case = f"pig_{seed:010d}"
        Image.new("L", (32, 32), 10 * seed).save(pairs / "imagesTr" / f"{case}_0000.png")
        Image.new("L", (32, 32), seed % 2).save(pairs / "labelsTr" / f"{case}.png")
        files = [f"imagesTr/{case}_0000.png", f"labelsTr/{case}.png"]
        cases.append({"case": case, "seed": seed, "mode": "pair", "steps": 8, "eta": 0, "clip": "none", "files": files})
    made = {"model": {"files": {k: {"sha256": e["sha256"]} for k, e in models.items()}}, "cases": cases}
    (pairs / "manifest.json").write_text(json.dumps(made))
    assert main(["--model", str(folder), "--data-card", str(BUSBRA_CARD), "--samples", str(pairs)]) == 0
    with Image.open(folder / "samples.png") as im:
        sheet, caption = im.convert("L"), im.text["Description"]
    assert sheet.size == (3 * 32, 2 * 32)
    assert [sheet.getpixel((32 * i, 0)) for i in range(3)] == [0, 255, 0]  # the masks, 0/1 → 0/255, above
    assert [sheet.getpixel((32 * i, 32)) for i in range(3)] == [40, 50, 60]  # the images, below
    assert caption.startswith(
        "3 pairs from the CLI (npm run generate -- --model public/models/tiny --count 3 --seed 4), seeds 4–6"
    )
    assert f"![{caption}](samples.png)" in (folder / "README.md").read_text()
    # pairs made by other weights are refused, naming the folder
    made["model"]["files"]["mask"]["sha256"] = "0" * 64
    (pairs / "manifest.json").write_text(json.dumps(made))
    assert main(["--model", str(folder), "--samples", str(pairs)]) == 2
    assert "was not generated by" in capsys.readouterr().err


def test_a_patient_subset_is_said_where_the_card_says_what_the_model_saw():
    from pigkit.exporter.data_card import data_seen

    config = {"folds": [1, 2, 3], "train_pairs": 284, "patients": {"fraction": 0.25, "seed": 0}}
    assert data_seen(config, 64) == "folds [1, 2, 3] (284 pairs: a random 0.25 of the patients, subset seed 0), resized to 64²"
    assert data_seen({"folds": [1, 2, 3], "train_pairs": 1127}, 64) == "folds [1, 2, 3] (1127 pairs), resized to 64²"
