import numpy as np
import pytest
import torch
from conftest import write_png
from PIL import Image

from pigkit.evaluation.generated import read_generated, samples_grid
from pigkit.evaluation.maskstats import mask_stats
from pigkit.evaluation.pair_figures import stats_table
from pigkit.evaluation.segment import dice_iou


def test_read_generated_pairs_and_grid(tmp_path):
    # the CLI's nnU-Net v2 raw layout: imagesTr/<case>_0000.png, labelsTr/<case>.png with labels 0/1
    for k in range(3):
        m = np.zeros((16, 16))
        m[4:8, 4 : 8 + k] = 1
        write_png(tmp_path / "labelsTr" / f"pig_{k:010d}.png", m)
        write_png(tmp_path / "imagesTr" / f"pig_{k:010d}_0000.png", np.full((16, 16), 50 * k))
    masks, images = read_generated(tmp_path, 16)
    assert masks.shape == images.shape == (3, 1, 16, 16)
    assert set(masks.unique().tolist()) == {-1.0, 1.0} and float(images[0].max()) == -1.0
    assert [int((m > 0).sum()) for m in masks] == [16, 20, 24]  # label 1 is the lesion, in case order
    samples_grid(masks, images, masks, images, tmp_path / "grid.png", scale=1)
    assert Image.open(tmp_path / "grid.png").size == (3 * 16 * 2 + 8, 32)
    with pytest.raises(ValueError, match="not the model's 32"):
        read_generated(tmp_path, 32)
    write_png(tmp_path / "labelsTr" / "pig_0000000001.png", np.full((16, 16), 255))  # 0/255 is not nnU-Net's
    with pytest.raises(ValueError, match="labels must be 0/1"):
        read_generated(tmp_path, 16)
    write_png(tmp_path / "labelsTr" / "pig_0000000001.png", np.zeros((16, 16)))
    (tmp_path / "labelsTr" / "pig_0000000002.png").unlink()
    with pytest.raises(FileNotFoundError, match="no label"):
        read_generated(tmp_path, 16)
    with pytest.raises(FileNotFoundError, match="no imagesTr"):
        read_generated(tmp_path / "labelsTr", 16)


def test_stats_table_ignores_empty_generated_masks():
    full = np.zeros((8, 8))
    full[2:6, 2:6] = 1
    gen = [mask_stats(full), mask_stats(np.zeros((8, 8)))]
    table = stats_table(gen, [mask_stats(full)] * 3)
    assert table["area_fraction"]["generated_mean"] == 0.25 and table["area_fraction"]["wasserstein1"] == 0


def test_dice_iou_by_hand():
    a = torch.zeros(2, 1, 4, 4, dtype=torch.bool)
    b = torch.zeros(2, 1, 4, 4, dtype=torch.bool)
    a[0, 0, :2] = True  # 8 px
    b[0, 0, 1:3] = True  # 8 px, 4 shared
    dice, iou = dice_iou(a, b)
    assert dice.tolist() == [0.5, 1.0] and iou[0].item() == pytest.approx(4 / 12)


def test_results_markdown_quotes_the_figures():
    from pigkit.evaluation.evaluate_report import results_markdown

    stat = {"generated_mean": 0.2, "generated_std": 0.1, "real_mean": 0.1, "real_std": 0.05, "wasserstein1": 0.125, "ks": 0.5}
    r = {
        "resolution": 64,
        "n_generated": 8,
        "n_real_test": 365,
        "n_train": 1127,
        "eta": 0,
        "mask_stats": {"area_fraction": stat, "components": {**stat, "wasserstein1": None, "ks": None}, "solidity": stat},
        "empty_mask_rate": 0.125,
        "clip": "image",
        "image_stats": {
            "saturated_generated": 0.5,
            "saturated_real": 0.001,
            "intensity_wasserstein1": 0.25,
            "intensity_mean_generated": 0.1,
            "intensity_mean_real": -0.4,
        },
        "pair_consistency": {
            "segmenter_iters": 1000,
            "dice_generated_mean": 0.5,
            "dice_generated_std": 0.25,
            "iou_generated_mean": 0.4,
            "dice_real_test_mean": 0.8,
            "dice_real_test_std": 0.1,
            "iou_real_test_mean": 0.7,
        },
        "sampling_cost": {"steps": 50, "ms_per_pair_median": 2500.0, "ms_per_step_median": 50.0, "backend": "ORT-node"},
    }
    assert "typical pairs" not in results_markdown(r)  # results written before the typical cases
    md = results_markdown({**r, "typical_cases": [63, 13]})
    assert "lesion count | cases 63, 13 (0-based; the CLI's pairs: seed K + case) |" in md
    assert "| area fraction | 0.200 ± 0.100 | 0.100 ± 0.050 | 0.125 | 0.500 |" in md
    assert "| connected components | 0.200 ± 0.100 | 0.100 ± 0.050 | – | – |" in md
    assert "| empty-mask rate | 12.5% (1 of 8) |" in md
    assert "0.500 ± 0.250 (IoU 0.400)" in md and "0.800 ± 0.100 (IoU 0.700)" in md
    assert "| saturated image pixels, abs(ŷ₀) > 0.99 | 50.0% (real held-out 0.10%) |" in md
    assert "| pixel intensity, Wasserstein-1 to real (model units, clamped) | 0.250 (mean 0.100 vs real -0.400) |" in md
    assert "| pair consistency / ceiling | 0.62 |" in md
    assert "texture" not in md  # results of before the spectrum
    r["image_stats"]["spectrum_ratio_top_half"] = [0.25, 1.5]
    assert "top half of frequencies (0.25–0.5 cycles/px) | 0.25 – 1.50 over its bands |" in results_markdown(r)
    assert "50 DDIM steps, η = 0, clip image; 2.50 s per pair (median), 50 ms per joint step, ORT-node" in md


def test_typical_cases_are_nearest_the_medians_in_interquartile_units():
    from pigkit.evaluation.pair_figures import typical_cases

    # feature a: median 2, IQR 2 (q25 1, q75 3); feature b: all but one equal (IQR 0, its own units)
    a = np.array([0.0, 1.0, 2.0, 3.0, 10.0])
    b = np.array([1.0, 1.0, 1.0, 1.0, 3.0])
    # distances: |a − 2| / 2 + |b − 1| = 1, 0.5, 0, 0.5, 4 + 2; ties keep case order
    assert typical_cases({"a": a, "b": b}, k=5) == [2, 1, 3, 0, 4]
    b[2] = 2.0  # the median case gains one unit of b: the two half-unit neighbours come first
    assert typical_cases({"a": a, "b": b}, k=3) == [1, 3, 0]


def test_image_stats_by_hand():
    from pigkit.evaluation.pair_figures import image_stats

    gen = torch.tensor([-3.0, -0.995, 0.0, 0.5]).view(1, 1, 2, 2)  # two saturated, one far outside [−1, 1]
    real = torch.tensor([-1.0, -0.5, 0.0, 0.5]).view(1, 1, 2, 2)
    s = image_stats(gen, real)
    assert s["saturated_generated"] == 0.5 and s["saturated_real"] == 0.25
    # clamped gen (-1, -0.995, 0, 0.5) vs real (-1, -0.5, 0, 0.5): with h = 3q the quantile functions
    # differ by 0.495·h on [0, 1] and 0.495·(2 − h) on [1, 2], so W1 = ∫ |ΔQ| dq = 2 · 0.495 / 6 = 0.165
    assert s["intensity_wasserstein1"] == pytest.approx(0.165, abs=1e-3)
    assert s["intensity_mean_generated"] == pytest.approx((-1 - 0.995 + 0 + 0.5) / 4)
    assert image_stats(real, real)["intensity_wasserstein1"] == 0


def test_pooled_halves_by_mean_and_masks_by_area():
    from pigkit.evaluation.pair_figures import pooled

    images = torch.tensor([[0.0, 1.0], [-1.0, 0.2]]).view(1, 1, 2, 2)
    masks = torch.tensor([[1.0, 1.0], [-1.0, -1.0]]).view(1, 1, 2, 2)  # half lesion: lesion, as pigkit.data rounds
    im, m = pooled(images, masks, 1)
    assert im.item() == pytest.approx(0.05) and m.item() == 1.0
    assert pooled(images, torch.tensor([1.0, -1.0, -1.0, -1.0]).view(1, 1, 2, 2), 1)[1].item() == -1.0
    assert pooled(images, masks, 2)[0] is images


def test_texture_stats_are_power_ratios():
    from pigkit.evaluation.pair_figures import texture_stats

    real = torch.rand(4, 1, 32, 32, generator=torch.Generator().manual_seed(0)) - 0.5
    same = texture_stats(real, real)
    assert same["spectrum_ratio"] == [1.0] * 16 and same["spectrum_ratio_top_half"] == [1.0, 1.0]
    # twice the contrast (the mean is removed first): four times the power in every band
    assert texture_stats(2 * real, real)["spectrum_ratio_top_half"] == pytest.approx([4.0, 4.0])
    assert texture_stats(real + 0.3, real)["spectrum_ratio"] == pytest.approx([1.0] * 16)


def test_bad_data_or_run_is_named_before_sampling(pair_folder, tmp_path, capsys):
    """pigkit.evaluate checks the run and every data file first: a bad folder costs no sampling time."""
    from pathlib import Path

    from pigkit.evaluate import main

    run = Path(__file__).resolve().parents[1] / "fixtures" / "tiny"
    (pair_folder / "Images" / "bus_0001-l.png").write_text("x")
    (pair_folder / "Masks" / "mask_0004-l.png").write_text("y")
    argv = [
        "--run",
        str(run),
        "--data",
        str(pair_folder),
        "--out",
        str(tmp_path / "ev"),
        "--test-fold",
        "2",
        "--train-folds",
        "1,3",
        "--n",
        "2",
        "--steps",
        "2",
        "--threads",
        "1",
    ]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {pair_folder}: 2 problem(s)")  # both in test fold 2
    assert "bus_0001-l.png: cannot read image" in err and "mask_0004-l.png: cannot read mask" in err
    assert "Traceback" not in err and not (tmp_path / "ev" / "results.json").exists()
    argv[1] = str(tmp_path / "no-run")
    assert main(argv) == 2
    assert "ckpt.pt: checkpoint not found" in capsys.readouterr().err


def test_generated_folder_empty_or_truncated_is_one_line_before_any_work(pair_folder, tmp_path, capsys):
    """--generated on an empty folder, or with a truncated PNG, ended in a traceback (after the data
    were read): now one line naming it, exit 2, before a segmenter is trained."""
    from pathlib import Path

    from pigkit.evaluate import main
    from pigkit.training.checkpoint import load_model_checkpoint

    run = Path(__file__).resolve().parents[1] / "fixtures" / "tiny"
    res = load_model_checkpoint(run / "mask" / "ckpt.pt").resolution
    gen = tmp_path / "gen"
    gen.mkdir()
    argv = ["--run", str(run), "--data", str(pair_folder), "--out", str(tmp_path / "ev"), "--generated", str(gen)]
    argv += ["--test-fold", "2", "--train-folds", "1,3", "--threads", "1"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err == f"error: {gen}: no imagesTr/*_0000.png (generate an nnU-Net raw dataset with npm run generate)\n"
    write_png(gen / "labelsTr" / "pig_0000000000.png", np.ones((res, res)))
    image = write_png(gen / "imagesTr" / "pig_0000000000_0000.png", np.arange(res * res).reshape(res, res) % 256)
    image.write_bytes(image.read_bytes()[:60])  # cut short, as a full disk or a killed copy leaves it
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {image}: cannot read generated image (") and err.count("\n") == 1
    assert "Traceback" not in err and not (tmp_path / "ev" / "results.json").exists()


def test_eta_and_steps_flags_are_bounded(capsys):
    """--eta past 1 saturates the chains (pigkit.limits); hex, inf and nan are not the number meant."""
    from pigkit.evaluate import main

    for flag, value in [
        ("--eta", "1e30"),
        ("--eta", "0x10"),
        ("--eta", "inf"),
        ("--eta", "nan"),
        ("--eta", ""),
        ("--steps", "0x10"),
    ]:
        with pytest.raises(SystemExit) as exit:
            main(["--run", "r", "--data", "d", "--out", "o", flag, value])
        assert exit.value.code == 2
        err = capsys.readouterr().err.strip().splitlines()[-1]
        what = "a number from 0 (deterministic DDIM) to 1 (DDPM-like)" if flag == "--eta" else "a whole number from 1 to 10000"
        assert err == f"pigkit.evaluate: error: argument {flag}: must be {what}, got {value!r}"


def test_latent_run_is_scored_at_its_slices_size_with_texture_and_pathology_fidelity(pair_folder, tmp_path, capsys):
    """A latent run's U-Nets work on a 16² grid but its pairs are 64² slices: the CLI's pairs are read
    and scored at 64², with the spectrum ratio and, as its cases asked for a pathology, the fidelity."""
    import json
    from pathlib import Path

    from pigkit.evaluate import main

    run = Path(__file__).resolve().parents[1] / "fixtures" / "tiny-latent"
    table = tmp_path / "bus_data.csv"
    table.write_text(
        "ID,Pathology,BIRADS,Device\n" + "".join(f"bus_{i:04d}-l,{['benign', 'malignant'][i % 2]},3,GE\n" for i in range(6))
    )
    argv = ["--run", str(run), "--data", str(pair_folder), "--out", str(tmp_path / "ev"), "--attributes", str(table)]
    argv += ["--test-fold", "2", "--train-folds", "1,3", "--threads", "1", "--seg-iters", "2", "--fidelity-iters", "3"]
    assert main(argv) == 2
    assert "a latent run is evaluated on the CLI's pairs" in capsys.readouterr().err
    gen = tmp_path / "gen"
    rng = np.random.default_rng(1)
    for i, asked in enumerate(["benign", "malignant", "malignant", "any"]):
        write_png(gen / "labelsTr" / f"pig_{i:010d}.png", (rng.random((64, 64)) > 0.9).astype(np.uint8))
        write_png(gen / "imagesTr" / f"pig_{i:010d}_0000.png", rng.integers(0, 256, (64, 64)))
        record = {"case": {"case": f"pig_{i:010d}", "attributes": {"pathology": asked, "birads": "any", "scanner": "any"}}}
        (gen / "cases").mkdir(exist_ok=True)
        (gen / "cases" / f"pig_{i:010d}.json").write_text(json.dumps(record))
    assert main([*argv, "--generated", str(gen), "--segmenter-resolution", "48"]) == 2
    assert "--segmenter-resolution 48: choose a divisor of the pairs' 64" in capsys.readouterr().err
    assert main([*argv, "--generated", str(gen), "--segmenter-resolution", "32"]) == 0
    r = json.loads((tmp_path / "ev" / "results.json").read_text())
    assert r["resolution"] == 64 and r["n_generated"] == 4 and r["pair_consistency"]["segmenter_resolution"] == 32
    assert len(r["image_stats"]["spectrum_ratio"]) == 16
    fid = r["attributes"]["fidelity"]
    assert r["attributes"]["attribute"] == "pathology" and fid["n_generated"] == 3 and fid["n_real_heldout"] == 2
    assert r["attributes"]["mask_shape"]["malignant"]["n_generated"] == 2
    md = (tmp_path / "ev" / "results.md").read_text()
    assert "| generated (3) |" in md and "| malignant (2 generated, 1 real) |" in md
    assert "iterations on the 4 training pairs, pairs pooled to 32² |" in md
    # a sheet per pathology: the generated pairs that asked for it beside real held-out ones of it
    sheets = {p.name: Image.open(p).size for p in (tmp_path / "ev").glob("samples-*.png")}
    # one real held-out pair of each class (fold 2), so one pair a side: 64 + 8 + 64 wide, mask above image, doubled
    assert sheets == {"samples-benign.png": (2 * 136, 2 * 128), "samples-malignant.png": (2 * 136, 2 * 128)}
