import json

import numpy as np
import pytest
import torch
from conftest import write_generated, write_png

from pigkit.data.pairs import open_dataset
from pigkit.evaluate import main as evaluate_main
from pigkit.evaluation.realsynth import cross_validated_auc, group_folds, roc_auc


def test_roc_auc_golden():
    # scikit-learn's documented example: 0.75
    assert roc_auc(np.array([0.1, 0.4, 0.35, 0.8]), np.array([0, 0, 1, 1])) == 0.75
    assert roc_auc(np.array([1.0, 1, 1, 1]), np.array([0, 1, 0, 1])) == 0.5  # all tied: one half each
    # 3 positives × 2 negatives; positive 0.5 ties negative 0.5: (2 + 1.5 + 0) / 6
    assert roc_auc(np.array([0.9, 0.5, 0.1, 0.5, 0.2]), np.array([1, 1, 1, 0, 0])) == pytest.approx(3.5 / 6)
    with pytest.raises(ValueError, match="both classes"):
        roc_auc(np.array([0.1, 0.2]), np.array([1, 1]))


def test_group_folds_keep_a_patient_in_one_fold():
    groups = ["a", "a", "b", "c", "c", "d", "e", "f"]
    folds = group_folds(groups, 3, np.random.default_rng(0))
    assert folds[0] == folds[1] and folds[3] == folds[4] and set(folds.tolist()) == {0, 1, 2}


def small_real(population, fold):
    return open_dataset(population, 16, {fold})


def test_an_obvious_artefact_is_found_and_real_vs_real_is_chance(population):
    real, other = small_real(population, 4), small_real(population, 5)  # two sets of other patients
    groups = lambda ds: ds.case_ids  # noqa: E731
    checker = torch.tensor(np.indices((16, 16)).sum(0) % 2 * 0.3 - 0.15, dtype=torch.float32)
    fake = (other.images + checker).clamp(-1, 1)  # real images of other patients + a faint checkerboard
    artefact = [np.mean(cross_validated_auc(real.images, fake, groups(real), groups(other), s, k=3, epochs=8)) for s in (0, 1, 2)]
    chance = [
        np.mean(cross_validated_auc(real.images, other.images, groups(real), groups(other), s, k=3, epochs=8)) for s in (0, 1, 2)
    ]
    assert min(artefact) > 0.95, artefact
    # 150 a class: the AUC of a coin has sd ≈ 0.05 per seed
    assert abs(np.mean(chance) - 0.5) < 0.12, chance


def test_cli_writes_the_figures_and_refuses_bad_folders(population, tmp_path, capsys):
    fresh = small_real(population, 5)
    gen = write_generated(tmp_path / "gen", fresh.masks[:40], fresh.images[:40])
    out = tmp_path / "out"
    argv = ["real-vs-synthetic", "--data", str(population), "--out", str(out), "--seeds", "0,1", "--k", "2", "--epochs", "1"]
    assert evaluate_main([*argv, "--generated", str(gen)]) == 0
    r = json.loads((out / "real-vs-synthetic.json").read_text())
    assert (
        r["n_per_class"] == 20 and r["resolution"] == 16
    )  # the control fold 3 has 20: both comparisons take 20 and list(r["real_vs_generated"]["per_seed"]) == ["0", "1"]
    assert len(r["real_vs_generated"]["per_seed"]["0"]["folds"]) == 2 and "real_vs_real" in r
    card = json.loads((out / "real-vs-synthetic-card.json").read_text())["metrics"]["realVsSyntheticAUC"]
    assert card.startswith(f"{r['real_vs_generated']['auc_mean']:.3f} ± ")
    capsys.readouterr()

    def error(*extra):
        assert evaluate_main([*argv, *extra]) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("error: ") and "\n" not in err
        return err

    assert "not a folder" in error("--generated", str(tmp_path / "none"))
    assert "in both --folds-heldout and --control-folds" in error("--generated", str(gen), "--control-folds", "4")
    assert "--seeds takes whole numbers" in error("--generated", str(gen), "--seeds", "a")
    tiny = write_generated(tmp_path / "tiny", fresh.masks[:3], fresh.images[:3])
    assert "too few for 2 folds" in error("--generated", str(tiny))
    write_png(gen / "labelsTr" / "pig_0000000001.png", np.full((16, 16), 255))
    assert "labels must be 0/1" in error("--generated", str(gen))
