"""A training run's state and what keeps it resumable (pigkit.train): the EMA, the random states and the
epoch's batch order a checkpoint holds, the log trimmed to it, the stop signals, the checkpoint written and read."""

from __future__ import annotations

import argparse
import copy
import csv
import os
import platform
import random
import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist

from pigkit.exporter.onnx_import import init_from_bundle
from pigkit.model.unet import build_unet
from pigkit.training.checkpoint import CheckpointError, atomic_save, load_model_checkpoint, read_checkpoint, require_keys
from pigkit.training.plot import loss_curve_png


class EMA:
    """Exponential moving average of weights, warmed up so short runs are not dominated by init."""

    def __init__(self, model: torch.nn.Module, decay: float):
        self.model = copy.deepcopy(model).eval().requires_grad_(False)
        self.decay, self.updates = decay, 0

    @torch.no_grad()
    def update(self, model: torch.nn.Module) -> None:
        self.updates += 1
        d = min(self.decay, (1 + self.updates) / (10 + self.updates))
        for e, p in zip(self.model.parameters(), model.parameters()):
            e.mul_(d).add_(p.detach(), alpha=1 - d)
        for e, b in zip(self.model.buffers(), model.buffers()):
            e.copy_(b)


def _hardware(device: torch.device) -> str:
    if device.type == "cuda":
        return f"{torch.cuda.get_device_name(device)} (x{int(os.environ.get('WORLD_SIZE', '1'))})"
    return f"{platform.machine()} CPU, {os.cpu_count()} cores"


def _distributed() -> tuple[int, int, int]:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    return (dist.get_rank() if world > 1 else 0), world, int(os.environ.get("LOCAL_RANK", "0"))


class Progress:
    """One status line: iteration, loss, images/s, ETA (redrawn on a terminal, logged otherwise)."""

    def __init__(self, total: int, start: int):
        self.total, self.start, self.t0 = total, start, time.time()
        self.tty = sys.stderr.isatty()

    def show(self, it: int, loss: float, ips: float, lr: float) -> None:
        done = it - self.start
        eta = (time.time() - self.t0) / max(done, 1) * (self.total - it)
        width = 24
        fill = int(width * it / self.total)
        line = (
            f"[{'#' * fill}{'.' * (width - fill)}] {it}/{self.total} loss {loss:.4f} "
            f"{ips:.1f} img/s lr {lr:.2e} ETA {int(eta // 60)}m{int(eta % 60):02d}s"
        )
        print(("\r" + line) if self.tty else line, end="" if self.tty else "\n", file=sys.stderr, flush=True)


def _rng_state(device: torch.device) -> dict:
    """Every random stream training draws from (the data order is not one: see _epoch_batches)."""
    return {
        "torch": torch.get_rng_state(),
        "numpy": _numpy_state_portable(np.random.get_state()),
        "python": random.getstate(),
        "cuda": torch.cuda.get_rng_state(device) if device.type == "cuda" else None,
    }


def _numpy_state_portable(state: tuple) -> tuple:
    """NumPy's RNG state with its key array as a tensor: a pickled ndarray names NumPy's internal
    modules (numpy._core in NumPy 2), which another NumPy cannot unpickle, and the kit trains on
    both a PyTorch 2 venv (NumPy 2) and Debian's PyTorch 1.13 (NumPy 1)."""
    name, keys, *rest = state
    return (name, torch.from_numpy(keys.astype(np.int64)), *rest)


def _set_rng_state(state: dict, device: torch.device) -> None:
    # .cpu(): read_checkpoint maps every tensor to the training device, RNG states must be CPU bytes
    torch.set_rng_state(state["torch"].cpu())
    name, keys, *rest = state["numpy"]  # keys: a tensor, or an ndarray in checkpoints before the portable form
    np.random.set_state((name, np.asarray(keys, dtype=np.uint32), *rest))
    random.setstate(state["python"])
    if device.type == "cuda" and state.get("cuda") is not None:
        torch.cuda.set_rng_state(state["cuda"].cpu(), device)


def _epoch_batches(dataset, sampler, epoch: int, skip: int, batch: int, drop_last: bool):
    """The batches of `epoch` after the first `skip`: the order is a pure function of (seed, epoch),
    the same after a resume as in a run that never stopped."""
    sampler.set_epoch(epoch)
    order = list(sampler)[skip * batch :]
    # a generator of its own: a DataLoader otherwise draws its worker seed from the global RNG, one
    # draw per epoch that a resumed run would make at another point of the noise stream
    return torch.utils.data.DataLoader(
        dataset, batch_size=batch, sampler=order, drop_last=drop_last, num_workers=0, generator=torch.Generator()
    )


def _trim_log(path: Path, last_iter: int) -> None:
    """Drop log rows a killed run wrote after its last checkpoint (all of them if it wrote none),
    and a row cut short by the kill: the resumed run logs those iterations again."""
    if not path.is_file():
        return
    with path.open(newline="") as f:
        rows = list(csv.reader(f))
    keep = rows[:1] + [r for r in rows[1:] if len(r) == len(rows[0]) and r[0].isdigit() and int(r[0]) <= last_iter]
    if len(keep) != len(rows):
        tmp = path.with_name(path.name + ".partial")
        with tmp.open("w", newline="") as f:
            csv.writer(f).writerows(keep)
        os.replace(tmp, path)


class TrainingInterrupted(Exception):
    """SIGINT/SIGTERM stopped training at an iteration boundary, after writing a checkpoint."""

    def __init__(self, signum: int, it: int):
        super().__init__(
            f"interrupted by {signal.Signals(signum).name} at iteration {it}; checkpoint saved, continue with --resume"
        )
        self.signum = signum


class _StopSignals:
    """Turns SIGINT/SIGTERM into a request to stop after the current iteration, so the checkpoint
    written then is a consistent one; a second signal acts at once. One process only: under
    torchrun the processes would stop at different iterations and wait on each other."""

    def __init__(self, enabled: bool):
        self.signum, self.previous = None, {}
        self.enabled = enabled and threading.current_thread() is threading.main_thread()

    def __enter__(self):
        if self.enabled:
            for s in (signal.SIGINT, signal.SIGTERM):
                if signal.getsignal(s) is not signal.SIG_IGN:  # e.g. SIGINT in a background job stays ignored
                    self.previous[s] = signal.signal(s, self._handle)
        return self

    def _handle(self, signum, frame) -> None:
        if self.signum is not None:
            self.__exit__()
            os.kill(os.getpid(), signum)  # again, under the previous handler
        self.signum = signum

    def __exit__(self, *exc) -> None:
        for s, handler in self.previous.items():
            signal.signal(s, handler)
        self.previous = {}


@dataclass
class _Run:
    """One training process's state: what a checkpoint holds and what the loop moves on."""

    args: argparse.Namespace
    rank: int
    world: int
    local_rank: int
    device: torch.device
    out: Path
    model: torch.nn.Module = None
    ema: EMA = None
    opt: torch.optim.Optimizer = None
    plateau: object = None
    model_x: torch.nn.Module | None = None
    config: dict = field(default_factory=dict)
    it: int = 0
    epoch: int = 0
    images_seen: int = 0
    wall: float = 0.0
    opt_start: int = 0  # the iteration at which Adam's moments started from zero (where --warmup counts from)
    epoch_pos: int = 0  # batches done in this epoch
    epoch_losses: list = field(default_factory=list)  # their losses (for --plateau)
    window_loss: list = field(default_factory=list)  # losses since the last log row

    @property
    def ckpt_path(self) -> Path:
        return self.out / "ckpt.pt"


def _start(args: argparse.Namespace) -> _Run:
    """The process's device and seed, and the output folder (refusing to overwrite a checkpoint)."""
    rank, world, local_rank = _distributed()
    device = torch.device(f"cuda:{local_rank}" if args.device == "cuda" and world > 1 else args.device)
    if device.type == "cuda" and world > 1:
        torch.cuda.set_device(device)  # collectives (the RNG states gathered at a checkpoint) use this device
    if args.threads:
        torch.set_num_threads(args.threads)
    elif device.type == "cpu":
        torch.set_num_threads(os.cpu_count() or 1)
    torch.manual_seed(args.seed + rank)
    out = Path(args.out) / args.model
    if not args.resume and (out / "ckpt.pt").is_file():  # a forgotten --resume would overwrite it at the first save
        raise CheckpointError(
            f"{out / 'ckpt.pt'} exists: add --resume to continue that run, or delete it (or pick another --out) to start over"
        )
    out.mkdir(parents=True, exist_ok=True)
    return _Run(args, rank, world, local_rank, device, out)


def _build(r: _Run, grid: int, overrides: dict, extra_config: dict) -> None:
    """The U-Net, its EMA, Adam (and --plateau), and for model_y the frozen model_x."""
    args, device = r.args, r.device
    r.model = build_unet(args.preset, grid, **overrides).to(device)
    if args.channels_last:  # state_dict values keep their strides; loading them elsewhere copies the values
        r.model = r.model.to(memory_format=torch.channels_last)
    r.ema = EMA(r.model, args.ema)
    r.opt = torch.optim.Adam(r.model.parameters(), lr=args.lr)
    r.plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(r.opt, factor=0.25, patience=4) if args.plateau else None
    if args.model == "image":
        mask_ckpt = Path(args.mask_ckpt) if args.mask_ckpt else Path(args.out) / "mask" / "ckpt.pt"
        r.model_x = load_model_checkpoint(mask_ckpt, device)
        _require_same_conditioning(mask_ckpt, extra_config)
        r.model_x.requires_grad_(False)
        if args.channels_last:
            r.model_x = r.model_x.to(memory_format=torch.channels_last)


def _run_config(r: _Run, grid: int, overrides: dict, extra_config: dict, folds, train_pairs: int) -> dict:
    """config.json, and the `config` of every checkpoint."""
    args, device = r.args, r.device
    config = {
        "preset": args.preset,
        "resolution": grid,
        "overrides": overrides,
        **extra_config,
        "model": args.model,
        "siamese": args.siamese,
        "binarize_condition": args.binarize_condition,
        "batch": args.batch * r.world,
        "lr": args.lr,
        "iters": args.iters,
        "ema": args.ema,
        "seed": args.seed,
        "data": str(args.data),
        "folds": sorted(folds) if folds else None,
        "train_pairs": train_pairs,
        "world_size": r.world,
        "device": str(device),
        "hardware": _hardware(device),
        "torch": torch.__version__,
        "bf16": args.bf16,
        "channels_last": args.channels_last,
        "warmup": args.warmup,
        "min_snr": args.min_snr,
        "flip": args.flip,
    }
    if args.patients is not None:  # named only when used, as older runs' configs have no such key
        config["patients"] = {"fraction": args.patients, "seed": args.patients_seed}
    return config


def _resume(r: _Run) -> None:
    """Continue from the checkpoint exactly where it was written (older ones: at their epoch's start)."""
    ck = read_checkpoint(r.ckpt_path, r.device)
    keys = ("model", "ema", "ema_updates", "opt", "iter", "epoch", "images_seen", "wall_seconds")
    require_keys(ck, r.ckpt_path, keys)
    r.model.load_state_dict(ck["model"])
    r.ema.model.load_state_dict(ck["ema"])
    r.ema.updates = ck["ema_updates"]
    r.opt.load_state_dict(ck["opt"])
    if r.plateau and ck.get("plateau"):
        r.plateau.load_state_dict(ck["plateau"])
    r.it, r.epoch, r.images_seen, r.wall = ck["iter"], ck["epoch"], ck["images_seen"], ck["wall_seconds"]
    r.opt_start = ck.get("opt_start", r.it)  # older checkpoints: their warm-up, if any, is over
    states = ck.get("rng_states")
    if states is not None and "epoch_pos" in ck:
        r.epoch_pos, r.epoch_losses = ck["epoch_pos"], list(ck["epoch_losses"])
        r.window_loss = list(ck.get("log_window", []))
        _set_rng_state(states[r.rank if len(states) == r.world else 0], r.device)
        if len(states) != r.world and r.rank == 0:
            print(
                f"warning: {r.ckpt_path} was written by {len(states)} process(es), this run has {r.world}: "
                f"random numbers will differ from an uninterrupted run",
                file=sys.stderr,
            )
    else:
        if "rng" in ck:
            torch.set_rng_state(ck["rng"].cpu())
        if r.rank == 0:
            print(
                f"warning: {r.ckpt_path} comes from an older pigkit without the data order and random states: "
                f"resuming at the start of epoch {r.epoch}, so the result will not be bit-identical to an "
                f"uninterrupted run",
                file=sys.stderr,
            )
    if r.rank == 0:
        print(f"resumed {r.ckpt_path} at iteration {r.it}", file=sys.stderr)


def _init_from(r: _Run, overrides: dict) -> None:
    """--init-from: start from a model folder's exported (EMA) weights, counting its iterations."""
    args = r.args
    state, facts = init_from_bundle(args.init_from, args.model, args.preset, args.resolution, **overrides)
    r.model.load_state_dict(state)
    r.ema.model.load_state_dict(state)  # the exported weights are the EMA ones: both start there
    r.it, r.images_seen, r.wall = facts["iters"], facts["images_seen"], facts["wall_seconds"]
    r.opt_start = r.it
    r.config["init_from"] = facts
    if r.rank == 0:
        print(f"initialised from {args.init_from} ({facts['file']}, {r.it} iterations trained)", file=sys.stderr)


def _save(r: _Run) -> None:
    states = [_rng_state(r.device)]
    if r.world > 1:  # every process draws its own noise: keep each one's state
        states = [None] * r.world
        dist.all_gather_object(states, _rng_state(r.device))
    if r.rank == 0:
        atomic_save(
            {
                "model": r.model.state_dict(),
                "ema": r.ema.model.state_dict(),
                "ema_updates": r.ema.updates,
                "opt": r.opt.state_dict(),
                "plateau": r.plateau.state_dict() if r.plateau else None,
                "iter": r.it,
                "epoch": r.epoch,
                "epoch_pos": r.epoch_pos,
                "epoch_losses": r.epoch_losses,
                "log_window": r.window_loss,
                "opt_start": r.opt_start,
                "images_seen": r.images_seen,
                "wall_seconds": r.wall,
                "rng_states": states,
                "config": r.config,
            },
            r.ckpt_path,
        )
        _plot(r.out)


def _require_same_conditioning(mask_ckpt: Path, extra: dict) -> None:
    """model_y learns on model_x's x̂₀: both must see the same latents and the same attributes."""
    theirs = read_checkpoint(mask_ckpt)["config"]

    def facts(config: dict) -> tuple:
        latent, attrs = config.get("latent"), config.get("attributes")
        # the scale is recomputed by each run: equal to float rounding (thread counts may differ)
        latent = latent and (latent["autoencoder_sha256"], latent["image_resolution"], round(latent["scale"], 4))
        return latent, attrs and attrs["spec"]

    if facts(theirs) != facts(extra):
        raise CheckpointError(
            f"{mask_ckpt}: the mask model was trained on (latents, attributes) {facts(theirs)}, this run on "
            f"{facts(extra)}: train both with the same --autoencoder, --resolution and --attributes"
        )


def _plot(out: Path) -> None:
    rows = list(csv.DictReader((out / "log.csv").open()))
    series = {"loss": [(int(r["iter"]), float(r["loss"])) for r in rows]}
    loss_curve_png(out / "loss.png", series, f"{out.name} model training loss")
