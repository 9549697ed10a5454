"""Interrupted training loses nothing: a resumed run ends bit-identical to an uninterrupted one, a
checkpoint half-written by a killed process is never taken as the latest, a corrupt one is named."""

import csv
import os
import signal
import socket
import subprocess
import sys
import time
import types
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import tiny_train_argv
from test_train_cli import args_for

from pigkit.training.checkpoint import CheckpointError, atomic_save, read_checkpoint
from pigkit.training.run_state import _rng_state, _set_rng_state
from pigkit.training.train import main, train

TRAINING = Path(__file__).resolve().parents[1]


def assert_same_state(a: dict, b: dict) -> None:
    """Model, EMA and optimizer state of two checkpoints are bit-identical."""
    for key in ("model", "ema"):
        assert a[key].keys() == b[key].keys()
        for name in a[key]:
            assert torch.equal(a[key][name], b[key][name]), f"{key}.{name} differs"
    sa, sb = a["opt"]["state"], b["opt"]["state"]
    assert sa.keys() == sb.keys()
    for p in sa:
        for k in sa[p]:
            assert torch.equal(torch.as_tensor(sa[p][k]), torch.as_tensor(sb[p][k])), f"opt.{p}.{k} differs"
    assert (a["iter"], a["epoch"], a["ema_updates"], a["images_seen"]) == (
        b["iter"],
        b["epoch"],
        b["ema_updates"],
        b["images_seen"],
    )


def log_rows(out: Path) -> list[tuple[int, str]]:
    return [(int(r["iter"]), r["loss"]) for r in csv.DictReader((out / "log.csv").open())]


def log_iters(out: Path) -> list[int]:
    return [i for i, _ in log_rows(out)]


# 6 pairs, batch 2 → 3 batches an epoch: 7 iterations cross two epoch ends, the break at 4 is mid-epoch
@pytest.mark.parametrize("extra", [{}, {"plateau": True}, {"log_every": 3}])
def test_resumed_run_equals_uninterrupted_run(pair_folder, tmp_path, extra):
    whole, split = tmp_path / "whole", tmp_path / "split"
    train(args_for(pair_folder, whole, iters=7, **extra))
    train(args_for(pair_folder, split, iters=4, **extra))
    train(args_for(pair_folder, split, iters=7, resume=True, **extra))
    a, b = read_checkpoint(whole / "mask" / "ckpt.pt"), read_checkpoint(split / "mask" / "ckpt.pt")
    assert_same_state(a, b)
    assert a["plateau"] == b["plateau"]
    assert log_iters(split / "mask") == ([3, 4, 6, 7] if extra.get("log_every") else list(range(1, 8)))


def test_image_model_resumes_identically(pair_folder, tmp_path):
    train(args_for(pair_folder, tmp_path / "whole", iters=2))
    mask_ckpt = tmp_path / "whole" / "mask" / "ckpt.pt"
    train(args_for(pair_folder, tmp_path / "whole", model="image", iters=5, mask_ckpt=mask_ckpt))
    train(args_for(pair_folder, tmp_path / "split", model="image", iters=2, mask_ckpt=mask_ckpt))
    train(args_for(pair_folder, tmp_path / "split", model="image", iters=5, mask_ckpt=mask_ckpt, resume=True))
    assert_same_state(
        read_checkpoint(tmp_path / "whole" / "image" / "ckpt.pt"), read_checkpoint(tmp_path / "split" / "image" / "ckpt.pt")
    )


def test_sigkill_mid_training_then_resume(pair_folder, tmp_path):
    """A real SIGKILL wherever it lands (between steps, in a log write or inside a checkpoint save):
    the resumed run finishes with a valid checkpoint equal to an uninterrupted run's, and log.csv
    holds each iteration once."""
    killed = tmp_path / "killed"
    cmd = [
        sys.executable,
        "-m",
        "pigkit.train",
        "--model",
        "mask",
        "--data",
        str(pair_folder),
        "--out",
        str(killed),
        "--preset",
        "tiny",
        "--resolution",
        "16",
        "--batch",
        "2",
        "--iters",
        "100000",
        "--log-every",
        "1",
        "--ckpt-every",
        "2",
        "--threads",
        "1",
    ]
    proc = subprocess.Popen(cmd, cwd=TRAINING, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        log = killed / "mask" / "log.csv"
        deadline = time.time() + 120
        while time.time() < deadline and proc.poll() is None:
            if log.is_file() and len(log.read_text().splitlines()) > 6:  # header + 6 iterations logged
                break
            time.sleep(0.02)
        assert proc.poll() is None, "training ended before it could be killed"
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait() == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
    at = read_checkpoint(killed / "mask" / "ckpt.pt")["iter"]
    assert at >= 4
    total = at + 3
    train(args_for(pair_folder, killed, iters=total, resume=True))
    train(args_for(pair_folder, tmp_path / "whole", iters=total))
    assert_same_state(read_checkpoint(tmp_path / "whole" / "mask" / "ckpt.pt"), read_checkpoint(killed / "mask" / "ckpt.pt"))
    assert log_iters(killed / "mask") == list(range(1, total + 1))


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_sigterm_or_ctrl_c_stops_at_an_iteration_with_a_checkpoint(pair_folder, tmp_path, signum):
    """SIGTERM (a job scheduler, `kill`) or SIGINT (Ctrl-C) mid-training: the run writes a checkpoint
    at the end of the current iteration and exits 128 + signal; nothing done so far is lost (the
    checkpoint is at the last iteration, not the last --ckpt-every), and the resumed run's weights
    and log (rows averaging iterations on both sides of the stop too) equal an uninterrupted run's."""
    stopped = tmp_path / "stopped"
    cmd = [
        sys.executable,
        "-m",
        "pigkit.train",
        "--model",
        "mask",
        "--data",
        str(pair_folder),
        "--out",
        str(stopped),
        "--preset",
        "tiny",
        "--resolution",
        "16",
        "--batch",
        "2",
        "--iters",
        "100000",
        "--log-every",
        "3",
        "--ckpt-every",
        "100000",
        "--threads",
        "1",
    ]
    # SIGINT as in a terminal: a test runner started in the background hands its children SIGINT ignored
    default_sigint = lambda: signal.signal(signal.SIGINT, signal.SIG_DFL)  # noqa: E731
    proc = subprocess.Popen(
        cmd, cwd=TRAINING, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, preexec_fn=default_sigint
    )
    try:
        log = stopped / "mask" / "log.csv"
        deadline = time.time() + 120
        while time.time() < deadline and proc.poll() is None:
            if log.is_file() and len(log.read_text().splitlines()) > 3:  # header + rows at 3, 6, 9
                break
            time.sleep(0.02)
        assert proc.poll() is None, "training ended before the signal"
        proc.send_signal(signum)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 128 + signum, err
    at = read_checkpoint(stopped / "mask" / "ckpt.pt")["iter"]
    assert f"interrupted by {signal.Signals(signum).name} at iteration {at}; checkpoint saved, continue with --resume" in err
    assert "Traceback" not in err and at >= 9
    total = at + 4
    train(args_for(pair_folder, stopped, iters=total, log_every=3, resume=True))
    train(args_for(pair_folder, tmp_path / "whole", iters=total, log_every=3))
    assert_same_state(read_checkpoint(tmp_path / "whole" / "mask" / "ckpt.pt"), read_checkpoint(stopped / "mask" / "ckpt.pt"))
    assert log_rows(stopped / "mask") == log_rows(tmp_path / "whole" / "mask")


def test_old_checkpoint_without_resume_fields_still_resumes(pair_folder, tmp_path, capsys):
    out = tmp_path / "run"
    train(args_for(pair_folder, out, iters=3))
    path = out / "mask" / "ckpt.pt"
    ck = read_checkpoint(path)
    old = {
        k: ck[k]
        for k in ("model", "ema", "ema_updates", "opt", "plateau", "iter", "epoch", "images_seen", "wall_seconds", "config")
    }
    old["rng"] = ck["rng_states"][0]["torch"]  # the format before resume state: one torch RNG state
    atomic_save(old, path)
    capsys.readouterr()
    train(args_for(pair_folder, out, iters=5, resume=True))
    err = capsys.readouterr().err
    assert "warning" in err and "older pigkit" in err and "start of epoch" in err
    assert read_checkpoint(path)["iter"] == 5


def test_killed_during_save_keeps_the_previous_checkpoint(pair_folder, tmp_path):
    """SIGKILL inside atomic_save, half-way through writing: ckpt.pt is still the previous, whole
    checkpoint, the partial file is ignored by --resume and replaced by the next save."""
    out = tmp_path / "run"
    train(args_for(pair_folder, out, iters=2))
    path = out / "mask" / "ckpt.pt"
    before = path.read_bytes()
    script = (
        "import os, signal, sys, torch\n"
        "from pigkit.training.checkpoint import atomic_save\n"
        "class Die:\n"
        "    def __reduce__(self):\n"
        "        os.kill(os.getpid(), signal.SIGKILL)\n"
        "atomic_save({'a': torch.zeros(1 << 20), 'b': Die()}, __import__('pathlib').Path(sys.argv[1]))\n"
    )
    proc = subprocess.run([sys.executable, "-c", script, str(path)], cwd=TRAINING)
    assert proc.returncode == -signal.SIGKILL
    assert path.read_bytes() == before
    partial = path.with_name("ckpt.pt.partial")
    assert partial.exists()
    # a torn copy of a real checkpoint is the worst case: looks like one, is truncated
    partial.write_bytes(before[: len(before) // 2])
    train(args_for(pair_folder, out, iters=4, resume=True))
    assert read_checkpoint(path)["iter"] == 4
    assert not partial.exists()


@pytest.mark.parametrize("damage", ["truncated", "empty", "garbage"])
def test_corrupt_checkpoint_is_named_not_a_trace(pair_folder, tmp_path, capsys, damage):
    out = tmp_path / "run"
    train(args_for(pair_folder, out, iters=2))
    path = out / "mask" / "ckpt.pt"
    data = path.read_bytes()
    path.write_bytes({"truncated": data[: len(data) // 2], "empty": b"", "garbage": b"not a checkpoint\n" * 50}[damage])
    with pytest.raises(CheckpointError, match=rf"{path}: .*cannot be read"):
        read_checkpoint(path)
    capsys.readouterr()
    argv = tiny_train_argv("mask", pair_folder, out, "--resume")
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {path}: ") and "Traceback" not in err
    # the image model names the mask checkpoint it could not read the same way
    assert main(["--model", "image"] + argv[2:]) == 2
    assert f"error: {path}: " in capsys.readouterr().err


def test_numpy_rng_state_is_kept_without_a_numpy_array_and_restores():
    # a pickled ndarray names NumPy's internal modules, which the other NumPy major cannot unpickle
    cpu = torch.device("cpu")
    np.random.seed(7)
    state = _rng_state(cpu)
    assert not any(isinstance(x, np.ndarray) for x in state["numpy"])
    drawn = np.random.random(3)
    _set_rng_state(state, cpu)
    assert np.array_equal(np.random.random(3), drawn)
    np.random.seed(7)
    old_form = {**state, "numpy": np.random.get_state()}  # checkpoints written before: an ndarray of keys
    np.random.random(5)
    _set_rng_state(old_form, cpu)
    assert np.array_equal(np.random.random(3), drawn)


def test_checkpoint_needing_a_module_this_python_lacks_is_named(pair_folder, tmp_path):
    """As a checkpoint pickled under NumPy 2 (numpy._core) read under NumPy 1: not called damaged,
    and the module is never imported (only the allow-list of pigkit.checkpoint is)."""
    out = tmp_path / "run"
    train(args_for(pair_folder, out, iters=2))
    path = out / "mask" / "ckpt.pt"
    module = types.ModuleType("pigkit_test_vanished")
    Gone = type("Gone", (), {"__module__": module.__name__})
    module.Gone = Gone
    sys.modules[module.__name__] = module
    try:
        atomic_save({**read_checkpoint(path), "extra": Gone()}, path)
    finally:
        del sys.modules[module.__name__]
    with pytest.raises(CheckpointError, match=rf"{path}: refused: unpickling it would call pigkit_test_vanished\.Gone"):
        read_checkpoint(path)


def test_checkpoint_without_the_needed_fields_is_named(pair_folder, tmp_path, capsys):
    out = tmp_path / "run"
    (out / "mask").mkdir(parents=True)
    atomic_save({"something": 1}, out / "mask" / "ckpt.pt")
    argv = tiny_train_argv("mask", pair_folder, out, "--resume")
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "ckpt.pt: not a pigkit training checkpoint" in err and "'model'" in err


def test_two_process_run_resumes_identically(pair_folder, tmp_path):
    """DistributedDataParallel on CPU (gloo), two processes started as torchrun would: each process's
    share of the shuffle and its own noise stream come back after a resume."""

    def ddp(out, iters, *extra):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        procs = []
        for rank in (0, 1):
            env = dict(
                os.environ, RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE="2", MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port)
            )
            procs.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "pigkit.train",
                        "--model",
                        "mask",
                        "--data",
                        str(pair_folder),
                        "--out",
                        str(out),
                        "--preset",
                        "tiny",
                        "--resolution",
                        "16",
                        "--batch",
                        "1",
                        "--iters",
                        str(iters),
                        "--log-every",
                        "1",
                        "--ckpt-every",
                        "2",
                        "--threads",
                        "1",
                        "--device",
                        "cpu",
                        *extra,
                    ],
                    cwd=TRAINING,
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE,
                    text=True,
                )
            )
        for p in procs:
            _, err = p.communicate(timeout=300)
            assert p.returncode == 0, err

    ddp(tmp_path / "whole", 5)
    ddp(tmp_path / "split", 4)  # 6 pairs, 3 per process and epoch: 4 stops one batch into epoch 1
    ddp(tmp_path / "split", 5, "--resume")
    a, b = read_checkpoint(tmp_path / "whole" / "mask" / "ckpt.pt"), read_checkpoint(tmp_path / "split" / "mask" / "ckpt.pt")
    assert_same_state(a, b)
    assert len(a["rng_states"]) == 2 and not torch.equal(a["rng_states"][0]["torch"], a["rng_states"][1]["torch"])


def trained_two_iterations(pair_folder, tmp_path, capsys) -> tuple[Path, Path, bytes]:
    """A finished 2-iteration run: its folder, its checkpoint and the checkpoint's bytes."""
    out = tmp_path / "run"
    train(args_for(pair_folder, out, iters=2))
    path = out / "mask" / "ckpt.pt"
    capsys.readouterr()
    return out, path, path.read_bytes()


def test_a_forgotten_resume_does_not_overwrite_the_checkpoint(pair_folder, tmp_path, capsys):
    out, path, before = trained_two_iterations(pair_folder, tmp_path, capsys)
    argv = tiny_train_argv("mask", pair_folder, out, "--ckpt-every", "1")
    assert main(argv) == 2
    assert f"error: {path} exists: add --resume to continue that run" in capsys.readouterr().err
    assert path.read_bytes() == before and log_iters(out / "mask") == [1, 2]


def test_resuming_a_finished_run_leaves_its_checkpoint_byte_for_byte(pair_folder, tmp_path, capsys):
    # rerunning a recipe must not change the checkpoint's sha256, which keys the sets made from it
    out, path, before = trained_two_iterations(pair_folder, tmp_path, capsys)
    train(args_for(pair_folder, out, iters=2, resume=True))
    assert "already trained to 2 ≥ --iters 2 iterations" in capsys.readouterr().err
    assert path.read_bytes() == before and log_iters(out / "mask") == [1, 2]
    train(args_for(pair_folder, out, iters=3, resume=True))  # a longer --iters still goes on
    assert read_checkpoint(path)["iter"] == 3


def test_killed_before_its_first_checkpoint_the_log_starts_over(pair_folder, tmp_path):
    out = tmp_path / "run"
    (out / "mask").mkdir(parents=True)
    (out / "mask" / "log.csv").write_text(
        "iter,epoch,loss,lr,images_per_s,wall_seconds\n1,0,1.0,2e-4,5,0.1\n2,0,1.0,2e-4,5,0.2\n"
    )
    train(args_for(pair_folder, out, iters=3, resume=True))
    assert log_iters(out / "mask") == [1, 2, 3]


def test_a_log_row_cut_short_by_a_kill_is_dropped(pair_folder, tmp_path):
    out = tmp_path / "run"
    train(args_for(pair_folder, out, iters=3))
    with (out / "mask" / "log.csv").open("a") as f:
        f.write("1")  # the start of row 14, say, when the process died
    train(args_for(pair_folder, out, iters=5, resume=True))
    assert log_iters(out / "mask") == [1, 2, 3, 4, 5]
