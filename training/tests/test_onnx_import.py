"""Weights read back out of exported ONNX files (`pigkit.train --init-from`)."""

import json
import shutil
from pathlib import Path

import pytest
import torch

from pigkit.exporter.export import export_unet
from pigkit.exporter.onnx_import import OnnxImportError, init_from_bundle, unet_state_from_onnx
from pigkit.model.unet import build_unet
from pigkit.training.checkpoint import read_checkpoint
from pigkit.training.train import main, train
from pigkit.training.train_args import parse_args

TINY = Path(__file__).resolve().parents[2] / "public" / "models" / "tiny"


def test_every_parameter_comes_back_exactly(tmp_path):
    torch.manual_seed(3)
    model = build_unet("tiny", 16)
    with torch.no_grad():  # GroupNorm scales/shifts start at 1/0: make them distinct so a mix-up shows
        for p in model.parameters():
            p.add_(torch.randn_like(p))
    export_unet(model, 16, tmp_path / "m.onnx")
    state = unet_state_from_onnx(tmp_path / "m.onnx", "tiny", 16)
    expected = model.state_dict()
    assert state.keys() == expected.keys()
    for k in expected:
        assert torch.equal(state[k], expected[k]), k


def test_another_preset_or_resolution_or_not_onnx_is_refused(tmp_path):
    export_unet(build_unet("tiny", 16), 16, tmp_path / "m.onnx")
    with pytest.raises(OnnxImportError, match="compact U-Net at 16²"):
        unet_state_from_onnx(tmp_path / "m.onnx", "compact", 16)
    with pytest.raises(OnnxImportError, match="another preset or resolution"):
        unet_state_from_onnx(tmp_path / "m.onnx", "tiny", 32)
    (tmp_path / "x.onnx").write_bytes(b"not a model")
    with pytest.raises(OnnxImportError, match="not a readable ONNX file"):
        unet_state_from_onnx(tmp_path / "x.onnx", "tiny", 16)


def test_init_from_the_shipped_tiny_pair_counts_on_from_its_card(pair_folder, tmp_path, capsys):
    card = json.loads((TINY / "manifest.json").read_text())["card"]
    run = tmp_path / "run"
    argv = [
        "--data",
        str(pair_folder),
        "--out",
        str(run),
        "--preset",
        "tiny",
        "--resolution",
        "32",
        "--batch",
        "2",
        "--log-every",
        "1",
        "--ckpt-every",
        "1",
        "--threads",
        "1",
        "--init-from",
        str(TINY),
        "--folds",
        "",
    ]
    done = card["stepsTrained"]["mask"]
    train(parse_args(["--model", "mask", "--iters", str(done + 2)] + argv))
    ck = read_checkpoint(run / "mask" / "ckpt.pt")
    assert ck["iter"] == done + 2 and ck["images_seen"] == card["imagesSeen"]["mask"] + 4
    assert ck["config"]["init_from"]["iters"] == done and ck["config"]["init_from"]["file"] == "mask.onnx"
    # two Adam steps from the shipped weights: close to them, not equal
    shipped, _ = init_from_bundle(TINY, "mask", "tiny", 32)
    moved = max((ck["model"][k] - shipped[k]).abs().max().item() for k in shipped)
    assert 0 < moved < 0.05
    # a folder that is not an exported model, and a preset mismatch, are named
    assert main(["--model", "image", "--iters", "1", *argv[:-2], "--init-from", str(tmp_path)]) == 2
    assert "no manifest.json" in capsys.readouterr().err
    other = tmp_path / "other"
    shutil.copytree(TINY, other)
    assert (
        main(
            [
                "--model",
                "mask",
                "--iters",
                "1",
                "--out",
                str(tmp_path / "r2"),
                "--data",
                str(pair_folder),
                "--preset",
                "compact",
                "--resolution",
                "32",
                "--folds",
                "",
                "--init-from",
                str(other),
            ]
        )
        == 2
    )
    assert "preset tiny, not compact" in capsys.readouterr().err
