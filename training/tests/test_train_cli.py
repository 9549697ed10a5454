import csv
from pathlib import Path

import pytest
import torch
from conftest import tiny_train_argv

from pigkit.exporter.onnx_import import init_from_bundle
from pigkit.training.checkpoint import read_checkpoint
from pigkit.training.train import main, train
from pigkit.training.train_args import BF16_UNSUPPORTED, parse_args


def args_for(folder, out, model="mask", iters=3, **extra):
    argv = tiny_train_argv(model, folder, out, "--log-every", "1", "--ckpt-every", "2", iters=iters)
    for k, v in extra.items():
        argv += [f"--{k.replace('_', '-')}"] + ([] if v is True else [str(v)])
    return parse_args(argv)


def test_train_both_models_resume_and_logs(pair_folder, tmp_path):
    out = tmp_path / "run"
    train(args_for(pair_folder, out, iters=3))
    ck = read_checkpoint(out / "mask" / "ckpt.pt")
    assert ck["iter"] == 3 and ck["images_seen"] == 6
    # a half-written checkpoint from a killed process must never be picked up
    (out / "mask" / "ckpt.pt.partial").write_bytes(b"garbage")
    train(args_for(pair_folder, out, iters=5, resume=True))
    assert read_checkpoint(out / "mask" / "ckpt.pt")["iter"] == 5
    rows = list(csv.DictReader((out / "mask" / "log.csv").open()))
    assert [int(r["iter"]) for r in rows] == [1, 2, 3, 4, 5]
    assert (out / "mask" / "loss.png").stat().st_size > 1000
    train(args_for(pair_folder, out, model="image", iters=2))
    train(args_for(pair_folder, out / "siam", model="image", iters=2, siamese=True, mask_ckpt=out / "mask" / "ckpt.pt"))
    assert read_checkpoint(out / "siam" / "image" / "ckpt.pt")["config"]["siamese"] is True


def test_bad_data_gives_a_message_not_a_trace(tmp_path, capsys):
    (tmp_path / "Images").mkdir()
    (tmp_path / "Masks").mkdir()
    code = main(["--model", "mask", "--data", str(tmp_path), "--out", str(tmp_path / "o"), "--folds", ""])
    assert code == 2 and "no images found" in capsys.readouterr().err


def test_image_model_needs_the_mask_model(pair_folder, tmp_path, capsys):
    code = main(
        [
            "--model",
            "image",
            "--data",
            str(pair_folder),
            "--out",
            str(tmp_path / "o"),
            "--preset",
            "tiny",
            "--resolution",
            "16",
            "--iters",
            "1",
            "--threads",
            "1",
        ]
    )
    assert code == 2 and "checkpoint not found" in capsys.readouterr().err


def _logged_lrs(path):
    return [float(r["lr"]) for r in csv.DictReader(path.open())]


def test_warmup_ramps_the_learning_rate_and_resumes_mid_ramp(pair_folder, tmp_path):
    out = tmp_path / "run"
    train(args_for(pair_folder, out, iters=2, warmup=4, lr=1e-3))
    assert read_checkpoint(out / "mask" / "ckpt.pt")["opt_start"] == 0
    train(args_for(pair_folder, out, iters=6, warmup=4, lr=1e-3, resume=True))  # resumes in the ramp
    # the lr logged at iteration i is the one its step used: lr·i/4 up to 4, then lr
    assert _logged_lrs(out / "mask" / "log.csv") == [2.5e-4, 5e-4, 7.5e-4, 1e-3, 1e-3, 1e-3]


def test_warmup_counts_from_an_init_from_start(pair_folder, tmp_path):
    tiny = Path(__file__).resolve().parents[2] / "public" / "models" / "tiny"
    out = tmp_path / "run"
    argv = [
        "--model",
        "mask",
        "--data",
        str(pair_folder),
        "--out",
        str(out),
        "--preset",
        "tiny",
        "--resolution",
        "32",
        "--batch",
        "2",
        "--iters",
        "100000",
        "--log-every",
        "1",
        "--ckpt-every",
        "1",
        "--threads",
        "1",
        "--folds",
        "",
        "--init-from",
        str(tiny),
        "--warmup",
        "2",
        "--lr",
        "1e-3",
    ]
    done = init_from_bundle(tiny, "mask", "tiny", 32)[1]["iters"]  # the ramp starts at the shipped pair's count
    a = parse_args(argv)
    a.iters = done + 3
    train(a)
    ck = read_checkpoint(out / "mask" / "ckpt.pt")
    assert ck["opt_start"] == done and ck["iter"] == done + 3
    assert _logged_lrs(out / "mask" / "log.csv") == [5e-4, 1e-3, 1e-3]


def test_bf16_autocast_trains_with_float32_weights(pair_folder, tmp_path, capsys):
    if BF16_UNSUPPORTED:  # Debian's torch 1.13: refused with a message, not a traceback mid-run
        with pytest.raises(SystemExit):
            args_for(pair_folder, tmp_path, bf16=True)
        assert "--bf16 needs PyTorch ≥ 2.0" in capsys.readouterr().err
        return
    out = tmp_path / "run"
    train(args_for(pair_folder, out, iters=2, bf16=True))
    ck = read_checkpoint(out / "mask" / "ckpt.pt")
    assert ck["config"]["bf16"] is True
    assert {v.dtype for v in ck["model"].values() if v.is_floating_point()} == {torch.float32}
    losses = [float(r["loss"]) for r in csv.DictReader((out / "mask" / "log.csv").open())]
    assert len(losses) == 2 and all(0 < v < 10 for v in losses)
    train(args_for(pair_folder, out, model="image", iters=2, bf16=True))
    assert read_checkpoint(out / "image" / "ckpt.pt")["iter"] == 2


def test_min_snr_and_flips_train_resume_and_are_recorded(pair_folder, tmp_path):
    out = tmp_path / "run"
    train(args_for(pair_folder, out, iters=2, min_snr=5, flip=True))
    train(args_for(pair_folder, out, iters=3, min_snr=5, flip=True, resume=True))
    once = tmp_path / "once"
    train(args_for(pair_folder, once, iters=3, min_snr=5, flip=True))
    a, b = read_checkpoint(out / "mask" / "ckpt.pt"), read_checkpoint(once / "mask" / "ckpt.pt")
    assert a["config"]["min_snr"] == 5 and a["config"]["flip"] is True
    assert all(torch.equal(a["model"][k], b["model"][k]) for k in a["model"])  # flips drawn from the saved RNG
    plain = tmp_path / "plain"
    train(args_for(pair_folder, plain, iters=3))
    assert not all(torch.equal(a["model"][k], v) for k, v in read_checkpoint(plain / "mask" / "ckpt.pt")["model"].items())


def test_patients_trains_on_a_patient_subset_and_records_it(pair_folder, tmp_path):
    out = tmp_path / "run"
    train(args_for(pair_folder, out, iters=1, patients=0.5, patients_seed=2))
    config = read_checkpoint(out / "mask" / "ckpt.pt")["config"]
    assert config["patients"] == {"fraction": 0.5, "seed": 2} and config["train_pairs"] == 3  # 3 of the 6 patients
    train(args_for(pair_folder, tmp_path / "all", iters=1))
    assert "patients" not in read_checkpoint(tmp_path / "all" / "mask" / "ckpt.pt")["config"]


def test_min_snr_is_refused_with_siamese(pair_folder, tmp_path, capsys):
    with pytest.raises(SystemExit):
        args_for(pair_folder, tmp_path, model="image", siamese=True, min_snr=5)
    assert "--min-snr" in capsys.readouterr().err


def test_channels_last_trains_the_same_model(pair_folder, tmp_path):
    for name, extra in (("plain", {}), ("cl", {"channels_last": True})):
        train(args_for(pair_folder, tmp_path / name, iters=2, **extra))
        train(args_for(pair_folder, tmp_path / name, model="image", iters=2, **extra))
    for role in ("mask", "image"):
        a, b = (read_checkpoint(tmp_path / n / role / "ckpt.pt") for n in ("plain", "cl"))
        assert b["config"]["channels_last"] is True
        # the same arithmetic in another memory layout: equal up to float rounding (Adam's first steps
        # move each weight by about lr = 2e-4, so rounding can flip at most that much)
        assert all(torch.allclose(a["ema"][k], b["ema"][k], atol=5e-4) for k in a["ema"])
