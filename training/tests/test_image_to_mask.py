"""pigkit.evaluate image-to-mask: the CLI's image → mask cases scored against the real masks of the
images they segmented (golden Dice by construction), and the refusals."""

import json

import numpy as np
import pytest
from conftest import write_png

from pigkit.data.pairs import open_dataset
from pigkit.evaluate import main


def case(folder, name, source, label, seed=0, mode="imageToMask"):
    write_png(folder / "labelsTr" / f"{name}.png", label)
    write_png(folder / "imagesTr" / f"{name}_0000.png", np.full(label.shape, 90))
    (folder / "cases").mkdir(exist_ok=True)
    record = {"case": {"case": name, "seed": seed, "mode": mode, "source": {"file": source}}}
    (folder / "cases" / f"{name}.json").write_text(json.dumps(record))


def test_dice_per_case_against_the_segmented_images_real_masks(pair_folder, tmp_path, capsys):
    held = open_dataset(pair_folder, 32, {2})  # bus_0001-l and bus_0004-l
    real = {c: (m[0] > 0).numpy().astype(np.uint8) for c, m in zip(held.case_ids, held.masks)}
    gen = tmp_path / "gen"
    case(gen, "bus-0001-l_0000000000", "bus_0001-l.png", real["bus_0001-l"])  # exact: Dice 1
    case(gen, "bus-0004-l_0000000000", "bus_0004-l.png", np.zeros((32, 32), np.uint8))  # empty: Dice 0
    half = real["bus_0001-l"].copy()
    half[:, 16:] = 0  # Dice = 2·|half| / (|half| + |real|)
    case(gen, "bus-0001-l_0000000001", "bus_0001-l.png", half, seed=1)
    argv = ["image-to-mask", "--generated", str(gen), "--data", str(pair_folder), "--folds-heldout", "2"]
    assert main([*argv, "--out", str(tmp_path / "ev")]) == 0
    r = json.loads((tmp_path / "ev" / "image-to-mask.json").read_text())
    expected_half = 2 * half.sum() / (half.sum() + real["bus_0001-l"].sum())
    assert r["n"] == 3 and r["resolution"] == 32
    assert r["dice"]["mean"] == pytest.approx((1 + 0 + expected_half) / 3)
    assert r["per_seed"]["0"] == {"n": 2, "dice": 0.5, "iou": 0.5}
    assert r["per_seed"]["1"]["dice"] == pytest.approx(expected_half)
    assert "Image → mask on 3 held-out images (folds 2) at 32²" in (tmp_path / "ev" / "image-to-mask.md").read_text()
    capsys.readouterr()

    case(gen, "bus-0000-l_0000000000", "bus_0000-l.png", real["bus_0001-l"])  # fold 1: a training image
    assert main([*argv, "--out", str(tmp_path / "ev2")]) == 2
    assert "segmented 'bus_0000-l', which is not a held-out case" in capsys.readouterr().err
    case(gen, "bus-0000-l_0000000000", "bus_0000-l.png", real["bus_0001-l"], mode="pair")
    assert main([*argv, "--out", str(tmp_path / "ev2")]) == 2
    assert "is a 'pair' case, not image → mask" in capsys.readouterr().err
    assert not (tmp_path / "ev2").exists()
