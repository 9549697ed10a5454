"""Checkpoints travel between machines: one whose unpickling would run code is refused, with one line
naming the file, by every command that reads one (export, pack, train --resume, evaluate's
--segmenter, downstream's caches), on PyTorch 1.13 and 2.x alike; the kit's own checkpoints load."""

import os
import shutil
from pathlib import Path

import pytest
import torch
from conftest import tiny_train_argv

from pigkit.training.checkpoint import CheckpointError, atomic_save, load_checkpoint_file, read_checkpoint

FIXTURE_RUN = Path(__file__).resolve().parents[1] / "fixtures" / "tiny"


class RunsShell:
    """What an attacker pickles: unpickling it calls os.system."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def crafted_run(tmp_path: Path, how: str = "zip") -> tuple[Path, Path]:
    """The fixture run with its mask checkpoint replaced by a crafted one (the real keys plus a
    payload); returns the run folder and the marker file the payload would create."""
    run = tmp_path / "run"
    shutil.copytree(FIXTURE_RUN, run)
    marker = tmp_path / "marker"
    ck = read_checkpoint(run / "mask" / "ckpt.pt")
    path = run / "mask" / "ckpt.pt"
    if how == "torchscript":
        torch.jit.save(torch.jit.script(torch.nn.Identity()), str(path))
    else:
        torch.save({**ck, "extra": RunsShell(marker)}, path, _use_new_zipfile_serialization=how == "zip")
    return run, marker


REFUSED = r"ckpt\.pt: refused: unpickling it would call (posix|os|nt)\.system, which no pigkit checkpoint holds"


@pytest.mark.parametrize("how", ["zip", "legacy"])
def test_a_checkpoint_that_would_run_code_is_refused(tmp_path, how):
    run, marker = crafted_run(tmp_path, how)
    with pytest.raises(CheckpointError, match=REFUSED):
        read_checkpoint(run / "mask" / "ckpt.pt")
    assert not marker.exists()


def test_a_torchscript_archive_is_refused(tmp_path):
    run, _ = crafted_run(tmp_path, "torchscript")
    with pytest.raises(
        CheckpointError, match=r"ckpt\.pt: refused: unpickling it would call torch\.jit\.load \(a TorchScript program\)"
    ):
        read_checkpoint(run / "mask" / "ckpt.pt")


def test_the_kits_checkpoints_load(tmp_path):
    ck = read_checkpoint(FIXTURE_RUN / "mask" / "ckpt.pt")
    assert {"config", "ema"} <= set(ck) and isinstance(ck["config"]["torch"], str)


def assert_refused_without_running(capsys, marker: Path, code: int) -> None:
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err, err
    assert "refused: unpickling it would call" in err and len(err.strip().splitlines()) == 1, err
    assert not marker.exists()


def test_export_refuses_it(tmp_path, capsys):
    from pigkit.exporter.export import main

    run, marker = crafted_run(tmp_path)
    code = main(["--run", str(run), "--out", str(tmp_path / "model"), "--name", "x"])
    assert_refused_without_running(capsys, marker, code)
    assert not (tmp_path / "model").exists()


def test_pack_refuses_it(tmp_path, capsys):
    from pigkit.data.pack import main

    run, marker = crafted_run(tmp_path)
    code = main(["--checkpoint", str(run / "mask" / "ckpt.pt"), "--out", str(tmp_path / "slim.pt")])
    assert_refused_without_running(capsys, marker, code)
    assert not (tmp_path / "slim.pt").exists()


def test_resume_refuses_it(pair_folder, tmp_path, capsys):
    from pigkit.training.train import main

    run, marker = crafted_run(tmp_path)
    code = main(tiny_train_argv("mask", pair_folder, run, "--resume"))
    assert_refused_without_running(capsys, marker, code)


def test_evaluate_refuses_a_crafted_segmenter_before_sampling(pair_folder, tmp_path, capsys):
    from pigkit.evaluate import main

    run, marker = crafted_run(tmp_path)
    seg = tmp_path / "segmenter.pt"
    torch.save({"resolution": 16, "state": {}, "iters": 1, "extra": RunsShell(marker)}, seg)
    argv = ["--run", str(FIXTURE_RUN), "--data", str(pair_folder), "--out", str(tmp_path / "ev"), "--test-fold", "2"]
    code = main([*argv, "--train-folds", "1,3", "--n", "2", "--steps", "2", "--threads", "1", "--segmenter", str(seg)])
    assert_refused_without_running(capsys, marker, code)
    assert not (tmp_path / "ev" / "results.json").exists()
    argv[1] = str(run)  # and a crafted run
    assert_refused_without_running(capsys, marker, main([*argv, "--train-folds", "1,3", "--n", "2", "--threads", "1"]))


def test_segmenter_and_downstream_caches_refuse_it(tmp_path):
    from pigkit.evaluation.downstream_sets import cached_set
    from pigkit.evaluation.segment import load_segmenter

    marker = tmp_path / "marker"
    path = tmp_path / "cache.pt"
    torch.save({"meta": {}, "extra": RunsShell(marker)}, path)
    with pytest.raises(CheckpointError, match=r"cache\.pt: refused: unpickling it would call"):
        load_segmenter(path)
    with pytest.raises(CheckpointError, match=r"cache\.pt: refused: unpickling it would call"):
        cached_set(path, {}, lambda: pytest.fail("made again"))
    with pytest.raises(CheckpointError, match=r"cache\.pt: refused"):
        load_checkpoint_file(path)
    assert not marker.exists()


def test_a_numpy_array_is_named_as_an_old_checkpoint(tmp_path):
    import numpy as np

    path = tmp_path / "ckpt.pt"
    atomic_save({"rng": {"numpy": np.random.get_state()}}, path)
    with pytest.raises(CheckpointError, match=r"ckpt\.pt: refused: it holds a NumPy array \(numpy.*written before 2026-12-02"):
        read_checkpoint(path)
