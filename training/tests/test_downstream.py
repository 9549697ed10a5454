import json

import numpy as np
import pytest
import torch
from conftest import tiny_train_argv

from pigkit.evaluation import downstream, downstream_segmenters, downstream_sets, downstream_table
from pigkit.evaluation.frechet import frechet_distance
from pigkit.model.sampler import SeededNoise, sample_image_unconditional, sample_pair
from pigkit.model.schedule import Schedule
from pigkit.training import train
from pigkit.training.checkpoint import load_model_checkpoint


def test_frechet_distance_closed_forms():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(400, 5)) @ rng.normal(size=(5, 5))  # a full, non-diagonal covariance
    assert frechet_distance(a, a) == pytest.approx(0, abs=1e-9)
    # b = 2a + c: Σ_b = 4Σ_a, so tr Σ_a + tr 4Σ_a − 2 tr (4Σ_a²)^½ = tr Σ_a, and μ_b − μ_a = μ_a + c
    c = np.arange(5.0)
    expected = ((a.mean(0) + c) ** 2).sum() + np.trace(np.cov(a, rowvar=False))
    assert frechet_distance(a, 2 * a + c) == pytest.approx(expected, rel=1e-9)
    # one dimension: (μ₁ − μ₂)² + (σ₁ − σ₂)², sample std with ddof 1
    x, y = rng.normal(1, 2, (300, 1)), rng.normal(-1, 0.5, (200, 1))
    assert frechet_distance(x, y) == pytest.approx((x.mean() - y.mean()) ** 2 + (x.std(ddof=1) - y.std(ddof=1)) ** 2, rel=1e-9)
    with pytest.raises(ValueError, match="same D"):
        frechet_distance(a, a[:, :3])


def test_summarise_calls_a_difference_beyond_the_seed_spread_only_past_both_stds():
    runs = lambda name, dice: [{"row": name, "seed": s, "dice": d, "iou": d / 2, "train_pairs": 10} for s, d in enumerate(dice)]  # noqa: E731
    table = downstream_table.summarise(
        {
            "real": runs("real", [0.5, 0.6, 0.7]),  # mean 0.6, std 0.1
            "near": runs("near", [0.7, 0.8, 0.9]),  # +0.2, std 0.1: not beyond 0.1 + 0.1
            "far": runs("far", [0.85, 0.9, 0.95]),
        }
    )  # +0.3, std 0.05: beyond 0.15
    assert table["real"]["dice_std"] == pytest.approx(0.1) and "dice_delta_vs_real" not in table["real"]
    assert table["near"]["dice_delta_vs_real"] == pytest.approx(0.2) and not table["near"]["beyond_seed_spread"]
    assert table["far"]["beyond_seed_spread"] and table["far"]["iou_mean"] == pytest.approx(0.45)
    one = downstream_table.summarise({"real": runs("real", [0.6]), "far": runs("far", [0.9])})
    assert one["far"]["beyond_seed_spread"] is None  # one seed: no spread to be beyond


def _results(budget, rows, files):
    """A results.json as pigkit.downstream writes it, reduced to what a card reads."""
    table = downstream_table.summarise(
        {
            name: [{"seed": k, "dice": d, "iou": d - 0.1, "train_pairs": 10, "iterations": iters} for k, d in enumerate(dice)]
            for name, (iters, dice) in rows.items()
        }
    )
    return {
        "table": table,
        "budget": budget,
        "segmenter": "unet",
        "resolution": 64,
        "seeds": [0, 1, 2],
        "pairs": {"model": {"files": files}},
    }


def test_card_metrics_of_two_budgets_and_the_card_command(tmp_path, capsys):
    graphs = {"mask": {"file": "mask.onnx", "sha256": "aa" * 32}, "image": {"file": "image.onnx", "sha256": "bb" * 32}}
    weights = {
        **graphs,
        "maskWeights": {"file": "mask.weights", "sha256": "cc" * 32},
        "imageWeights": {"file": "image.weights", "sha256": "dd" * 32},
    }
    equal_passes = _results(
        "passes",
        {
            "real": (1000, [0.86, 0.86, 0.87]),
            "pig ×2 pretrain→finetune": (3000, [0.87, 0.88, 0.88]),
            "pig ×1": (2000, [0.85, 0.86, 0.86]),
        },
        graphs,
    )
    converged = _results(
        "passes", {"real": (3000, [0.86, 0.87, 0.87]), "pig ×1 pretrain→finetune": (6000, [0.86, 0.87, 0.88])}, weights
    )
    # by hand: means 0.8633, 0.8767 (Δ +0.0133 > stds 0.0058 + 0.0058), 0.8667 and 0.8700 (Δ +0.0033)
    assert downstream_table.card_metrics(equal_passes, converged) == {
        "downstreamDiceRealOnly": "0.863 ± 0.006 (1,000 iterations)",
        "downstreamSegmenter": "unet, 64², seeds [0, 1, 2]",
        "downstreamBestGeneratedRow": "pig ×2 pretrain→finetune: 0.877 ± 0.006 (Δ +0.013, beyond the seed spread) "
        "at equal passes; real-only trained 3,000 iterations reaches 0.867 ± 0.006",
        "downstreamConverged": "real-only 0.867 ± 0.006 (3,000 iterations); pig ×1 pretrain→finetune, 3,000 + 3,000 "
        "iterations: 0.870 ± 0.010 (Δ +0.003, within the seed spread)",
        # the weights name the model where the folder keeps them apart; the graphs' hashes otherwise
        "downstreamPairsFrom": f"image {'bb' * 6}, mask {'aa' * 6}; converged table: image {'dd' * 6}, mask {'cc' * 6}",
    }
    assert downstream_table.card_metrics(converged)["downstreamPairsFrom"] == f"image {'dd' * 6}, mask {'cc' * 6}"
    assert "downstreamConverged" not in downstream_table.card_metrics(equal_passes)
    # the command writes what pigkit.card --merge-metrics reads, and names a file that is not a table
    for name, r in (("a.json", equal_passes), ("b.json", converged)):
        (tmp_path / name).write_text(json.dumps(r))
    args = ["card", str(tmp_path / "a.json"), "--converged", str(tmp_path / "b.json"), "--out", str(tmp_path / "card.json")]
    assert downstream.main(args) == 0
    assert json.loads((tmp_path / "card.json").read_text()) == {"metrics": downstream_table.card_metrics(equal_passes, converged)}
    (tmp_path / "b.json").write_text('{"table": {}}')
    capsys.readouterr()
    assert downstream.main(args) == 2
    assert (
        f"{tmp_path / 'b.json'} is not a pigkit.downstream results.json (no table with a `real` row)" in capsys.readouterr().err
    )


def test_unconditional_sampler_is_the_pair_loops_image_chain_without_a_condition():
    torch.manual_seed(0)
    f = torch.nn.Conv2d(1, 1, 3, padding=1)
    model_u = lambda x, t: f(x) * (t.view(-1, 1, 1, 1) / 1000)  # noqa: E731
    model_y = lambda x, t: model_u(x[:, :1], t)  # the same network, blind to the condition  # noqa: E731
    model_x = lambda x, t: x[:, :1] * 0.1  # noqa: E731
    with torch.no_grad():
        pair = sample_pair(model_x, model_y, Schedule(), 4, SeededNoise([3, 4], (8, 8)))
        alone = sample_image_unconditional(model_u, Schedule(), 4, SeededNoise([3, 4], (8, 8)))
    assert alone.x0 is None and alone.mask is None
    assert torch.equal(alone.image, pair.image)


def _train(model, data, out, *extra):
    assert train.main(tiny_train_argv(model, data, out, "--folds", "1,2", "--log-every", "1", *extra, iters=2)) == 0


def test_train_refuses_options_that_do_not_apply(pair_folder, tmp_path, capsys):
    for bad, said in [
        (["--model", "mask", "--siamese"], "--siamese is an option of --model image"),
        (["--model", "uncond", "--init-from", str(tmp_path)], "never exported"),
    ]:
        with pytest.raises(SystemExit) as e:
            train.parse_args([*bad, "--data", str(pair_folder), "--out", str(tmp_path)])
        assert e.value.code == 2 and said in capsys.readouterr().err


def test_downstream_table_end_to_end_and_resumes(pair_folder, tmp_path, capsys):
    # folds: pairs 0-3 train (folds 1, 2), pairs 4-5 held out (fold 3)
    (pair_folder / "5-fold-cv.csv").write_text(
        "ID,kFold\n" + "".join(f"bus_{i:04d}-l,{[1, 1, 2, 2, 3, 3][i]}\n" for i in range(6))
    )
    run = tmp_path / "run"
    _train("mask", pair_folder, run)
    _train("image", pair_folder, run)
    _train("image", pair_folder, run / "siamese", "--siamese", "--mask-ckpt", str(run / "mask" / "ckpt.pt"))
    _train("uncond", pair_folder, run)
    assert load_model_checkpoint(run / "uncond" / "ckpt.pt").cfg.in_channels == 1
    out = tmp_path / "table"
    argv = [
        "--data",
        str(pair_folder),
        "--run",
        str(run),
        "--out",
        str(out),
        "--seeds",
        "0,1",
        "--seg-iters",
        "4",
        "--eval-every",
        "2",
        "--steps",
        "2",
        "--gen-batch",
        "3",
        "--train-folds",
        "1,2",
        "--test-fold",
        "3",
        "--threads",
        "1",
    ]
    assert downstream.main([*argv, "--jobs", "2"]) == 0  # the segmenters in two worker processes
    r = json.loads((out / "results.json").read_text())
    t = r["table"]
    assert list(t) == [
        "real",
        "pig ×1",
        "pig ×2",
        "mask→image ×1",
        "siamese pig ×1",
        "siamese pig ×2",
        "siamese mask→image ×1",
        "image→mask (model_x, no training)",
    ]
    assert [t[k]["train_pairs"] for k in ("real", "pig ×1", "pig ×2", "mask→image ×1")] == [4, 8, 12, 8]
    assert all(0 <= v["dice_mean"] <= 1 and v["seeds"] == [0, 1] for v in t.values())
    assert "beyond_seed_spread" in t["pig ×2"] and "dice_delta_vs_real" not in t["real"]
    assert set(r["frechet"]) == {"real training folds (floor)", "pig", "m2i", "siamese-pig", "siamese-m2i", "uncond"}
    assert r["frechet"]["pig"]["n"] == 4 and all(v["fd"] >= 0 for v in r["frechet"].values())
    for name in ("pig", "m2i", "siamese-pig", "siamese-m2i"):
        assert (out / f"samples-{name}.png").is_file()
    assert (out / "learning-curves.png").is_file() and "| pig ×2 | 12 |" in (out / "results.md").read_text()
    assert [p for p, _ in json.loads(next((out / "rows").glob("real-seed0.json")).read_text())["held_out_dice_curve"]] == [2, 4]
    # the mask→image set is one image per real training mask
    m2i = torch.load(out / "generated" / "m2i.pt", weights_only=False)
    from pigkit.data.pairs import open_dataset

    assert torch.equal(m2i["masks"].float(), open_dataset(pair_folder, 16, {1, 2}).masks)

    # a rerun reuses every generated set and row; other steps regenerate the sets
    capsys.readouterr()
    stamps = {p: p.stat().st_mtime_ns for p in out.rglob("*.pt")}
    assert downstream.main([*argv, "--jobs", "2"]) == 0  # the same threads, so the same Fréchet arithmetic
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*.pt")} == stamps
    again = json.loads((out / "results.json").read_text())
    assert again["table"]["pig ×1"] == t["pig ×1"]
    assert again["frechet"] == r["frechet"]  # the cached 8-bit sets read back exactly as they were made
    assert "row " not in capsys.readouterr().err  # no segmenter trained again
    # a cell trained in this process equals the one a worker process trained (same seed, one thread)
    (out / "rows" / "pig_x1-seed1.json").unlink()
    assert downstream.main(argv) == 0
    assert "row pig ×1, seed 1" in capsys.readouterr().err
    assert json.loads((out / "results.json").read_text())["table"]["pig ×1"] == t["pig ×1"]
    # and so does a set drawn here to the one a worker drew
    by_worker = torch.load(out / "generated" / "m2i.pt", weights_only=False)
    (out / "generated" / "m2i.pt").unlink()
    assert downstream.main(argv) == 0
    assert "m2i: 4/4" in capsys.readouterr().err
    here = torch.load(out / "generated" / "m2i.pt", weights_only=False)
    assert torch.equal(here["images"], by_worker["images"]) and torch.equal(here["masks"], by_worker["masks"])
    # a set made with other settings is drawn again, not reused
    made = []
    fresh = lambda: made.append(1) or (torch.ones(1, 1, 16, 16), torch.zeros(1, 1, 16, 16, dtype=torch.uint8))  # noqa: E731
    meta = torch.load(out / "generated" / "pig.pt", weights_only=False)["meta"]
    downstream_sets.cached_set(out / "generated" / "pig.pt", {**meta, "steps": 3}, fresh)
    assert made == [1] and "made with other models or settings" in capsys.readouterr().err
    assert downstream_sets.cached_set(out / "generated" / "pig.pt", {**meta, "steps": 3}, fresh)[0].shape == (
        1,
        1,
        16,
        16,
    ) and made == [1]


def test_downstream_names_a_missing_model(pair_folder, tmp_path, capsys):
    assert downstream.main(["--data", str(pair_folder), "--run", str(tmp_path), "--out", str(tmp_path / "o")]) == 2
    assert "checkpoint not found" in capsys.readouterr().err


def test_rows_parse_name_and_refuse_bad_specs():
    rows = downstream_sets.parse_rows("pig:1, pig:0.5,pig:1:filtered,pig:2:pretrain,m2i:1")
    assert [(r.name, r.generated, r.multiple, r.use) for r in rows] == [
        ("real", None, 1, "mix"),
        ("pig ×1", "pig", 1, "mix"),
        ("pig ×0.5", "pig", 0.5, "mix"),
        ("pig ×1 filtered", "pig", 1, "filtered"),
        ("pig ×2 pretrain→finetune", "pig", 2, "pretrain"),
        ("mask→image ×1", "m2i", 1, "mix"),
    ]
    for bad in ("pig", "pig:1:shuffled", "cat:1", "pig:0"):
        with pytest.raises(ValueError, match="row"):
            downstream_sets.parse_rows(bad)
    assert downstream_sets.default_rows(False, [1, 2]) == "pig:1,pig:2,m2i:1"


def test_row_iterations_keep_the_passes_over_the_real_pairs():
    mix, pre = downstream_sets.Row("pig ×1", "pig", 1), downstream_sets.Row("pig ×1 pretrain→finetune", "pig", 1, "pretrain")
    # N = 100 real, G = 50 generated, real row 1000 iterations: mixed 1000 × 150 / 100, pre-training 1000 × 50 / 100 then 1000
    assert downstream_sets.row_iterations(mix, 1000, 100, 50, "passes") == (0, 1500)
    assert downstream_sets.row_iterations(pre, 1000, 100, 50, "passes") == (500, 1000)
    assert downstream_sets.row_iterations(mix, 1000, 100, 50, "iters") == (0, 1000)
    assert downstream_sets.row_iterations(pre, 1000, 100, 50, "iters") == (333, 667)


def test_held_out_flat_reads_the_last_quarter():
    rising = [(i, i / 4000) for i in range(250, 4001, 250)]  # +0.25 over the last quarter
    assert not downstream_segmenters.held_out_flat(rising)
    plateau = [(i, min(i / 1000, 1.0) * 0.8) for i in range(250, 4001, 250)]
    assert downstream_segmenters.held_out_flat(plateau)
    falling = [(i, 0.8 - i / 40000) for i in range(250, 4001, 250)]  # overfitting counts as flat
    assert downstream_segmenters.held_out_flat(falling)
    assert not downstream_segmenters.held_out_flat([(250, 0.5), (500, 0.5)])  # too few points to tell


def test_filter_keeps_lesions_the_real_segmenter_agrees_with():
    class Threshold(torch.nn.Module):  # a "segmenter" that calls bright pixels lesion
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.ones(1))

        def forward(self, x, t):
            return x * self.w

    disc = torch.zeros(1, 1, 8, 8, dtype=torch.bool)
    disc[..., 2:6, 2:6] = True
    masks = torch.where(torch.cat([disc, disc, torch.zeros_like(disc), disc]), 1.0, -1.0)
    images = torch.cat(
        [
            torch.where(disc, 0.9, -0.9),  # agrees: kept
            torch.where(disc.roll(4, -1), 0.9, -0.9),  # lesion elsewhere, Dice 0: dropped
            -torch.ones(1, 1, 8, 8),  # empty mask (the segmenter agrees, Dice 1): dropped
            torch.where(disc[..., :, :].roll(1, -1), 0.9, -0.9),
        ]
    )  # shifted by one: Dice 0.75, kept
    assert downstream_sets.filter_pairs(Threshold(), masks, images).tolist() == [True, False, False, True]


def test_segmentation_unet_shapes_and_fine_tuning_continues_the_count():
    from pigkit.evaluation.segment import SegUNet, build_segmenter, train_segmenter

    model = build_segmenter(32, "unet")
    assert isinstance(model, SegUNet) and model(torch.zeros(2, 1, 32, 32)).shape == (2, 1, 32, 32)
    assert (
        sum(p.numel() for p in model.parameters()) == 1_942_289
    )  # two bias-free 3×3 convs + BatchNorm per block, 2×2 transposed convs up, a 1×1 out
    with pytest.raises(ValueError, match="divisible by 16"):
        build_segmenter(40, "unet")
    images, masks = torch.rand(4, 1, 16, 16) * 2 - 1, torch.where(torch.rand(4, 1, 16, 16) > 0.5, 1.0, -1.0)
    seen = []
    first, _ = train_segmenter(images, masks, 2, batch=2, arch="unet", on_eval=lambda it, m: seen.append(it), eval_every=1)
    state = {k: v.clone() for k, v in first.state_dict().items()}
    tuned, _ = train_segmenter(
        images, masks, 2, batch=2, arch="unet", init=state, first_iteration=3, on_eval=lambda it, m: seen.append(it), eval_every=1
    )
    assert seen == [1, 2, 3, 4]
    assert not torch.equal(tuned.state_dict()["out.weight"], state["out.weight"])  # it trained on from the given weights
    fresh, _ = train_segmenter(images, masks, 0, batch=2, arch="unet", init=state)
    assert torch.equal(fresh.state_dict()["out.weight"], state["out.weight"])


def _cli_pairs(folder, data, resolution, folds):
    """The training pairs written as the studio CLI writes them (nnU-Net raw layout)."""
    from PIL import Image

    from pigkit.data.pairs import open_dataset
    from pigkit.model.binarize import to_uint8

    ds = open_dataset(data, resolution, folds)
    (folder / "imagesTr").mkdir(parents=True)
    (folder / "labelsTr").mkdir()
    for i in range(len(ds)):
        Image.fromarray(to_uint8(ds.images[i, 0]).numpy()).save(folder / "imagesTr" / f"pig_{i:010d}_0000.png")
        Image.fromarray((ds.masks[i, 0] > 0).numpy().astype(np.uint8)).save(folder / "labelsTr" / f"pig_{i:010d}.png")
    (folder / "manifest.json").write_text(
        json.dumps({"format": 1, "model": {"name": "fixture", "files": {"mask": {"sha256": "ab" * 32}}}, "cases": ["pig_0"]})
    )


def test_downstream_on_the_clis_pairs_mixed_filtered_and_pretrained(pair_folder, tmp_path, capsys):
    (pair_folder / "5-fold-cv.csv").write_text(
        "ID,kFold\n" + "".join(f"bus_{i:04d}-l,{[1, 1, 2, 2, 3, 3][i]}\n" for i in range(6))
    )
    pairs, out = tmp_path / "pairs", tmp_path / "table"
    _cli_pairs(pairs, pair_folder, 16, {1, 2})  # 4 "generated" pairs: the real ones again
    argv = [
        "--data",
        str(pair_folder),
        "--pairs",
        str(pairs),
        "--resolution",
        "16",
        "--out",
        str(out),
        "--seeds",
        "0,1,2",
        "--seg-iters",
        "4",
        "--eval-every",
        "2",
        "--train-folds",
        "1,2",
        "--test-fold",
        "3",
        "--threads",
        "1",
        "--rows",
        "pig:1,pig:0.5,pig:1:filtered,pig:0.6:filtered,pig:1:pretrain",
    ]
    assert downstream.main(argv) == 0
    r = json.loads((out / "results.json").read_text())
    t = r["table"]
    assert list(t) == [  # no image→mask without --run
        "real",
        "pig ×1",
        "pig ×0.5",
        "pig ×1 filtered",
        "pig ×0.6 filtered",
        "pig ×1 pretrain→finetune",
    ]
    # equal passes over the 4 real pairs: 4 × (4 + G) / 4 iterations, a pre-training 4 × 4 / 4 before 4
    assert [(t[k]["train_pairs"], t[k]["iterations"]) for k in ("real", "pig ×1", "pig ×0.5", "pig ×1 pretrain→finetune")] == [
        (4, 4),
        (8, 8),
        (6, 6),
        (8, 8),
    ]
    # the filtering table names each row's multiple, not its pairs over N (0.6 × 4 rounds to 2 pairs)
    assert sorted(r["filtered"]) == ["pig ×0.6", "pig ×1"] and r["filtered"]["pig ×0.6"]["of"] == 2
    f = r["filtered"]["pig ×1"]
    assert f["of"] == 4 and f["empty"] == 0 and t["pig ×1 filtered"]["train_pairs"] == 4 + f["kept"]
    assert t["pig ×1 filtered"]["iterations"] == 4 + f["kept"]
    assert (
        r["pairs"]["n"] == 4
        and r["pairs"]["model"]["name"] == "fixture"
        and "cases" not in r["pairs"]
        and r["segmenter"] == "unet"
    )
    curve = json.loads((out / "rows" / "pig_x1_pretrain-to-finetune-seed0.json").read_text())["held_out_dice_curve"]
    assert [i for i, _ in curve] == [2, 4, 6, 8]  # the pre-training's evaluations, then the fine-tuning's
    assert "| pig ×1 pretrain→finetune | 8 | 8 |" in (out / "results.md").read_text()
    assert "fraction kept" in (out / "results.md").read_text()
    # the headline a model card carries: real only and the best generated row, as the table says them
    card = json.loads((out / "card-metrics.json").read_text())["metrics"]
    best = max((k for k in t if k != "real"), key=lambda k: t[k]["dice_mean"])
    assert card["downstreamDiceRealOnly"] == f"{t['real']['dice_mean']:.3f} ± {t['real']['dice_std']:.3f} (4 iterations)"
    assert card["downstreamBestGeneratedRow"].startswith(f"{best}: {t[best]['dice_mean']:.3f} ± ")
    assert card["downstreamPairsFrom"] == "mask " + "ab" * 6  # the model that made the pairs
    # a rerun trains nothing again
    capsys.readouterr()
    assert downstream.main(argv) == 0
    assert "row " not in capsys.readouterr().err
    # nor does a sweep with other multiples: a row is keyed by the CLI's pairs it used (its first k)
    assert downstream.main([*argv[:-1], "pig:0.5"]) == 0
    assert "row " not in capsys.readouterr().err
    # more pairs asked for than the folder holds: said, before any training
    assert downstream.main([*argv[:-1], "pig:2"]) == 2
    assert "holds 4 pairs; the rows need 8" in capsys.readouterr().err
    # the poly learning rate is another setting: every row trains again, and the table says which
    assert (
        r["lr_schedule"] == "constant"
        and "lr_schedule" not in json.loads((out / "rows" / "real-seed0.json").read_text())["settings"]
    )
    assert downstream.main([*argv, "--lr-schedule", "poly"]) == 0
    assert capsys.readouterr().err.count("row ") == 3 * 6  # 3 seeds × 6 rows
    assert json.loads((out / "results.json").read_text())["lr_schedule"] == "poly"
    assert json.loads((out / "rows" / "real-seed0.json").read_text())["settings"]["lr_schedule"] == "poly"
    assert "Adam with a poly learning rate" in (out / "results.md").read_text()
    # the low-data setting: half the training folds' patients (2 of 4) are the real pairs, N = 2
    low = tmp_path / "low"
    argv_low = [
        *argv[: argv.index("--out") + 1],
        str(low),
        *argv[argv.index("--out") + 2 : -1],
        "pig:1:pretrain",
        "--train-patients",
        "0.5",
    ]
    assert downstream.main(argv_low) == 0
    r = json.loads((low / "results.json").read_text())
    assert r["n_train"] == 2 and r["train_patients"] == {"fraction": 0.5, "seed": 0}
    assert [(v["train_pairs"], v["iterations"]) for v in r["table"].values()] == [(2, 4), (4, 8)]
    assert "(a random 0.5 of their patients, subset seed 0)" in (low / "results.md").read_text()


def test_poly_learning_rate_decays_over_each_training(monkeypatch):
    from pigkit.evaluation.segment import poly_lr, train_segmenter

    assert poly_lr(1e-3, 0, 4) == 1e-3 and poly_lr(1e-3, 2, 4) == pytest.approx(1e-3 * 0.5**0.9)
    rates = []

    class RecordingAdam(torch.optim.Adam):
        def step(self, *args, **kwargs):
            rates.append(self.param_groups[0]["lr"])
            return super().step(*args, **kwargs)

    monkeypatch.setattr(torch.optim, "Adam", RecordingAdam)
    images, masks = torch.rand(4, 1, 16, 16) * 2 - 1, torch.where(torch.rand(4, 1, 16, 16) > 0.5, 1.0, -1.0)
    model, _ = train_segmenter(images, masks, 4, batch=2, arch="unet", lr_schedule="poly")
    # a fine-tuning decays again over its own iterations, from the full rate
    train_segmenter(images, masks, 2, batch=2, arch="unet", lr_schedule="poly", init=model.state_dict(), first_iteration=5)
    assert rates == pytest.approx([1e-3 * (1 - i / 4) ** 0.9 for i in range(4)] + [1e-3, 1e-3 * 0.5**0.9])
    rates.clear()
    train_segmenter(images, masks, 3, batch=2, arch="unet")
    assert rates == [1e-3] * 3  # the first tables' constant rate
    with pytest.raises(ValueError, match="lr_schedule must be one of"):
        train_segmenter(images, masks, 1, batch=2, arch="unet", lr_schedule="cosine")
