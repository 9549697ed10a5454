"""pigkit.pack: a packed dataset is the folder it was made from (the same tensors, the same
training), and a float16 checkpoint is what export and evaluate read."""

import numpy as np
import pytest
import torch
from conftest import tiny_train_argv

from pigkit.data.pack import EXPORT_KEYS, half_checkpoint, main as pack_main
from pigkit.data.pairs import DataError, open_dataset, read_pack
from pigkit.training.checkpoint import load_model_checkpoint, read_checkpoint
from pigkit.training.train import main as train_main

TORCH2 = int(torch.__version__.split(".")[0]) >= 2
# a float16 checkpoint is plain data: PyTorch ≥ 2 loads it with weights_only (1.13's unpickler reads no floats)
SAFE = {"weights_only": True} if TORCH2 else {}


def test_a_pack_is_the_folder(folder, tmp_path):
    pack = tmp_path / "p" / "s12.npz"
    assert pack_main(["--data", str(folder), "--resolution", "12", "--out", str(pack)]) == 0
    meta = read_pack(pack)["meta"]
    assert meta["folds"] == [1, 2, 3, 4] and meta["pairs"] == 6 and meta["license"] == "the data's notice"
    for folds in ({1, 2, 3}, {4}, None):
        a, b = open_dataset(folder, 12, folds), open_dataset(pack, 12, folds)
        assert a.case_ids == b.case_ids and torch.equal(a.images, b.images) and torch.equal(a.masks, b.masks)
    # training on either gives the same weights, bit for bit
    for data, run in ((folder, "a"), (pack, "b")):
        argv = tiny_train_argv("mask", data, tmp_path / run, "--folds", "1,2,3", "--log-every", "1", resolution=12, iters=3)
        assert train_main(argv) == 0
    ema = [read_checkpoint(tmp_path / run / "mask" / "ckpt.pt")["ema"] for run in "ab"]
    assert all(torch.equal(ema[0][k], ema[1][k]) for k in ema[0])


def test_a_pack_names_what_does_not_fit(folder, tmp_path):
    pack = tmp_path / "s12.npz"
    assert pack_main(["--data", str(folder), "--resolution", "12", "--folds", "1,4", "--out", str(pack)]) == 0
    with pytest.raises(DataError, match=r"packed at 12², not 16²: pack the folder again with --resolution 16"):
        open_dataset(pack, 16, {1})
    with pytest.raises(DataError, match=r"fold\(s\) 2,3 not in this pack \(it holds folds 1,4\)"):
        open_dataset(pack, 12, {1, 2, 3})
    with pytest.raises(DataError, match="a pack holds its folds"):
        open_dataset(pack, 12, {1}, fold_csv=folder / "5-fold-cv.csv")
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    with pytest.raises(DataError, match=r"bad\.npz: cannot read the packed dataset"):
        open_dataset(tmp_path / "bad.npz", 12)
    np.savez_compressed(tmp_path / "other.npz", images=np.zeros(3))
    with pytest.raises(DataError, match=r"other\.npz: not a pigkit pack \(no masks, folds, cases, meta\)"):
        open_dataset(tmp_path / "other.npz", 12)
    with pytest.raises(DataError, match=r"missing\.npz: packed dataset not found"):
        open_dataset(tmp_path / "missing.npz", 12)
    (folder / "Masks" / "mask_0001-l.png").unlink()  # bad data is refused as the folder refuses it
    assert pack_main(["--data", str(folder), "--resolution", "12", "--out", str(tmp_path / "x.npz")]) == 2
    assert not (tmp_path / "x.npz").exists()


def test_half_checkpoint_keeps_what_export_reads(tmp_path):
    from pigkit.model.unet import build_unet

    m = build_unet("tiny", 16)
    config = {"preset": "tiny", "resolution": 16, "overrides": {}}
    torch.save(
        {
            "model": m.state_dict(),
            "ema": {k: v.clone() for k, v in m.state_dict().items()},
            "opt": {"big": torch.zeros(10000)},
            "iter": 7,
            "images_seen": 28,
            "wall_seconds": 1.5,
            "config": config,
        },
        tmp_path / "ckpt.pt",
    )
    assert pack_main(["--checkpoint", str(tmp_path / "ckpt.pt"), "--out", str(tmp_path / "back" / "ckpt.pt")]) == 0
    slim = torch.load(tmp_path / "back" / "ckpt.pt", **SAFE)
    assert set(slim) == set(EXPORT_KEYS) and slim["iter"] == 7
    assert {v.dtype for v in slim["ema"].values()} == {torch.float16}
    back = load_model_checkpoint(tmp_path / "back" / "ckpt.pt")  # float32 again, the float16 values
    assert all(torch.equal(p, m.state_dict()[k].half().float()) for k, p in back.state_dict().items())
    assert half_checkpoint(tmp_path / "ckpt.pt", tmp_path / "again.pt")["iter"] == 7
    assert (tmp_path / "again.pt").stat().st_size < (tmp_path / "ckpt.pt").stat().st_size / 3
