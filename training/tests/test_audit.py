import json
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import write_generated, write_png
from PIL import Image

from pigkit.data.pairs import open_dataset
from pigkit.evaluation.audit import main, nearest, random_conv_features


def audit(data, generated, out) -> dict:
    assert main(["--generated", str(generated), "--data", str(data), "--out", str(out), "--sheet", "4"]) == 0
    return json.loads((out / "audit.json").read_text())


def test_a_generator_that_returns_training_pairs_is_flagged(population, tmp_path):
    train = open_dataset(population, 16, {1, 2, 3})
    rng = np.random.default_rng(7)
    # lightly perturbed copies: ±2 grey levels of noise on 40 of the 60 training images
    pick = torch.from_numpy(rng.permutation(60)[:40])
    images = (train.images[pick] + torch.from_numpy(rng.integers(-2, 3, (40, 1, 16, 16)) / 127.5).float()).clamp(-1, 1)
    r = audit(population, write_generated(tmp_path / "copies", train.masks[pick], images), tmp_path / "out-copies")
    assert r["flagged"] and r["resolution"] == 16 and r["n_train"] == 60 and r["n_heldout"] == 150
    for m in ("pair_pixels", "image_pixels", "mask_iou", "image_features"):
        for kind in ("nearest", "ratio"):
            assert r["measures"][m][kind]["fraction_closer_than_heldout_p1"] == 1.0, (m, kind)
    assert r["copies"] == 0  # ±2 levels is more than half a grey level of RMS
    first = r["nearest"][0]
    assert first["pair_pixels"]["train_case"] == train.case_ids[int(pick[0])]
    with Image.open(tmp_path / "out-copies" / "closest-pixels.png") as sheet:
        # 4 pairs in a row of 4 blocks (4 cells of 16 px, gaps 2 + 6 + 2) with 12 px between blocks, drawn 8×
        assert sheet.size == (8 * (4 * (4 * 16 + 10) + 3 * 12), 8 * 16)
    with Image.open(tmp_path / "out-copies" / "closest-heldout-features.png") as sheet:  # the reference sheet
        assert sheet.size == (8 * (4 * (4 * 16 + 10) + 3 * 12), 8 * 16)
    card = json.loads((tmp_path / "out-copies" / "audit-card.json").read_text())["metrics"]
    assert card["memorizationAudit"].startswith("flagged: 100.0% of 40 generated pairs")


def test_fresh_pairs_are_not_flagged(population, tmp_path):
    fresh = open_dataset(population, 16, {5})  # other patients than the training and the held-out folds
    r = audit(population, write_generated(tmp_path / "fresh", fresh.masks, fresh.images), tmp_path / "out-fresh")
    assert not r["flagged"] and r["copies"] == 0
    for m, s in r["measures"].items():
        for kind in ("nearest", "ratio"):
            assert s[kind]["fraction_closer_than_heldout_p1"] <= 0.05, (m, kind)
            # the same population: the medians of the two distributions are alike
            assert s[kind]["generated"]["p50"] == pytest.approx(s[kind]["heldout"]["p50"], rel=0.25), (m, kind)


def test_smooth_images_are_near_everything_in_pixels_but_nobody_s_copy(population, tmp_path):
    # a generator of new patients' images, blurred: nearer to every training image in pixels than real
    # (speckle-carrying) held-out images are, yet no nearer to one patient than to the next
    fresh = open_dataset(population, 16, {5})
    smooth = torch.nn.functional.avg_pool2d(fresh.images, 3, 1, 1, count_include_pad=False)
    r = audit(population, write_generated(tmp_path / "smooth", fresh.masks, smooth), tmp_path / "out-smooth")
    image = r["measures"]["image_pixels"]
    assert image["nearest"]["fraction_closer_than_heldout_p1"] > 0.5  # what the nearest distance alone would say
    assert image["ratio"]["fraction_closer_than_heldout_p1"] <= 0.05 and not image["flagged"]


def test_nearest_golden_distances():
    q = torch.tensor([[0.0, 0, 0, 0]])
    refs = torch.tensor([[1.0, 1, 1, 1], [0, 0, 0, 1], [0, 0, 0, 3]])  # at √(4/4), √(1/4), √(9/4)
    d, i, other = nearest(q, refs, "rms")
    assert d.tolist() == [0.5] and i.tolist() == [1] and other.tolist() == [1.0]  # without groups: the next row
    _, _, other = nearest(q, refs, "rms", groups=["p1", "p2", "p2"])
    assert other.tolist() == [1.0]  # row 2 is the nearest one's patient: row 0 is another patient's nearest
    _, _, other = nearest(q, refs, "rms", groups=["p1", "p1", "p2"])
    assert other.tolist() == [1.5]  # row 0 is the nearest one's patient now
    d, i, _ = nearest(torch.tensor([[1.0, 1, 0, 0], [0, 0, 0, 0]]), torch.tensor([[1.0, 0, 0, 0], [0, 1, 1, 0]]), "iou")
    assert d.tolist() == [0.5, 1.0] and i.tolist() == [0, 0]  # IoU 1/2 beats 1/3; an empty mask shares nothing
    d, _, _ = nearest(torch.tensor([[1.0, 0]]), torch.tensor([[0.0, 1], [1, 1]]), "cosine")
    assert d[0] == pytest.approx(1 - 1 / np.sqrt(2))
    d, _, _ = nearest(torch.zeros(1, 4), torch.zeros(1, 4), "iou")
    assert d.tolist() == [0.0]  # two empty masks are the same mask
    # the pair measure: one mask pixel of four differs (±1: squared 4), images equal → √(4 / 8)
    pair = lambda m, im: torch.tensor([m + im], dtype=torch.float64)  # noqa: E731
    d, _, _ = nearest(pair([1, -1, -1, -1], [0.5] * 4), pair([1, 1, -1, -1], [0.5] * 4), "rms")
    assert d[0] == pytest.approx(np.sqrt(0.5))


def test_random_conv_features_are_fixed():
    x = torch.linspace(-1, 1, 2 * 16 * 16).reshape(2, 1, 16, 16)
    a, b = random_conv_features(x), random_conv_features(x.clone(), batch=1)
    assert a.shape == (2, 1024) and torch.allclose(a, b, rtol=1e-5, atol=1e-6)  # batching rounds float32 differently
    assert not torch.equal(a, random_conv_features(x, seed=1))
    # recorded with PyTorch 1.13 and 2.13 (they agree to 1e-7): weights from RandomState(0), not torch's generator
    assert float(a.sum()) == pytest.approx(425.78273, rel=1e-6)


def test_bad_folders_get_one_line(population, tmp_path, capsys):
    def error(*argv):
        assert main(["--data", str(population), "--out", str(tmp_path / "o"), *argv]) == 2
        err = capsys.readouterr().err.strip()
        assert err.count("\n") == 0 and err.startswith("error: ")
        return err

    assert "not a folder" in error("--generated", str(tmp_path / "nothing"))
    (tmp_path / "empty").mkdir()
    assert "no imagesTr/*_0000.png" in error("--generated", str(tmp_path / "empty"))
    gen = tmp_path / "gen"
    write_png(gen / "imagesTr" / "pig_0000000000_0000.png", np.zeros((16, 12)))
    assert "16 is not square" in error("--generated", str(gen))
    assert "in both --folds-train and --folds-heldout" in error("--generated", str(gen), "--folds-heldout", "3")
    outside = write_png(tmp_path / "elsewhere.png", np.zeros((16, 16)))
    (gen / "imagesTr" / "pig_0000000000_0000.png").unlink()
    (gen / "imagesTr" / "pig_0000000000_0000.png").symlink_to(outside)
    assert "links out of" in error("--generated", str(gen))
    assert not (tmp_path / "o").exists()  # nothing written before the inputs are read


def test_a_set_too_large_to_hold_is_refused(population, tmp_path, monkeypatch, capsys):
    import pigkit.evaluation.audit

    fresh = open_dataset(population, 16, {5})
    gen = write_generated(tmp_path / "gen", fresh.masks[:4], fresh.images[:4])
    monkeypatch.setattr(pigkit.evaluation.audit, "MAX_VALUES", 60 * 2 * 16 * 16 - 1)  # one value fewer than the 60 training pairs
    assert main(["--generated", str(gen), "--data", str(population), "--out", str(tmp_path / "o")]) == 2
    assert "60 pairs at 16² are 0.0 G values, above the audit's" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_the_evidence_lines_reach_a_model_card(tmp_path):
    import shutil

    from pigkit.card import main as card_main

    folder = shutil.copytree(Path(__file__).resolve().parents[2] / "public" / "models" / "tiny", tmp_path / "tiny")
    line = "not flagged: 0.4% of 512 generated pairs"
    for name, key in (("audit-card.json", "memorizationAudit"), ("real-vs-synthetic-card.json", "realVsSyntheticAUC")):
        (tmp_path / name).write_text(json.dumps({"metrics": {key: line}}))
        assert card_main(["--model", str(folder), "--merge-metrics", str(tmp_path / name)]) == 0
    readme = (folder / "README.md").read_text()
    label = "memorization audit (pigkit.audit): generated pairs nearer to a training patient than real held-out pairs are"
    assert f"| {label} | {line} |" in readme
    assert f"| real vs synthetic: ROC AUC of a CNN telling real held-out images from generated ones | {line} |" in readme
