"""Train PIG's model_x ("mask") and then model_y ("image") on a folder of pairs.

    python3 -m pigkit.train --model mask  --data DIR --out runs/NAME --preset small --resolution 64 --iters 20000
    python3 -m pigkit.train --model image --data DIR --out runs/NAME ...   # uses runs/NAME/mask's EMA weights, frozen
    torchrun --nproc_per_node=8 -m pigkit.train ...                        # multi-GPU (DistributedDataParallel)

Writes into OUT/<model>/: ckpt.pt (latest; replaced atomically, so a killed run never leaves a
half-written file under that name), log.csv, loss.png, config.json. `--resume` continues from ckpt.pt
exactly where it was written: the same weights, optimizer, data order and random numbers follow as in
a run that was never interrupted.
"""

from __future__ import annotations

import argparse
import copy
import csv
import functools
import json
import math
import os
import platform
import random
import signal
import sys
import threading
import time
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist

from pigkit.data.attributes import DEFAULT_DROP, AttributeError_, case_attributes, drop_attributes, read_table
from pigkit.data.pairs import DataError, add_patient_subset_arguments, open_dataset
from pigkit.exporter.onnx_import import OnnxImportError, init_from_bundle
from pigkit.manifest import sha256_of
from pigkit.model.latent import TensorPairs, latent_pairs
from pigkit.model.schedule import Schedule
from pigkit.model.unet import PRESETS, build_unet
from pigkit.training.checkpoint import CheckpointError, atomic_save, load_model_checkpoint, read_checkpoint, require_keys
from pigkit.training.losses import (
    antithetic_timesteps,
    image_loss,
    mask_loss,
    min_snr_weight,
    siamese_image_loss,
    unconditional_loss,
)
from pigkit.training.plot import loss_curve_png
from pigkit.training.train_autoencoder import load_autoencoder


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="pigkit.train", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument(
        "--model",
        choices=["mask", "image", "uncond"],
        required=True,
        help="mask = model_x, image = model_y; uncond = an image DDPM alone (the evaluation's baseline)",
    )
    p.add_argument("--data", required=True, help="folder with Images/ and Masks/")
    p.add_argument("--out", required=True, help="run folder (shared by both models of a pair)")
    p.add_argument("--preset", default="small", choices=sorted(PRESETS), help="U-Net preset")
    p.add_argument("--resolution", type=int, default=64)
    p.add_argument("--folds", default="1,2,3", help="training folds of the fold CSV ('' = all pairs)")
    p.add_argument("--fold-csv", default=None, help="default: DATA/5-fold-cv.csv")
    add_patient_subset_arguments(
        p,
        "--patients",
        "train on a seeded random FRACTION of the training folds' patients only (a low-data setting; "
        "pigkit.downstream --train-patients takes the same subset)",
    )
    p.add_argument("--batch", type=int, default=16, help="per process")
    p.add_argument("--lr", type=float, default=2e-4)
    p.add_argument("--iters", type=int, default=10000, help="total optimizer steps")
    p.add_argument("--plateau", action="store_true", help="ReduceLROnPlateau(factor 1/4, patience 4) on epoch loss, as the paper")
    p.add_argument("--ema", type=float, default=0.999)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--ckpt-every", type=int, default=500)
    p.add_argument("--log-every", type=int, default=25)
    p.add_argument("--resume", action="store_true")
    p.add_argument(
        "--init-from",
        default=None,
        metavar="MODEL_DIR",
        help="start a fresh run from an exported model folder's weights (manifest.json + ONNX, e.g. "
        "public/models/busbra64): fine-tune or train a shipped pair further; its iteration, image "
        "and time counts carry on; optimizer moments start afresh",
    )
    p.add_argument("--mask-ckpt", default=None, help="model_x checkpoint for --model image (default OUT/mask/ckpt.pt)")
    p.add_argument(
        "--no-binarize-condition",
        dest="binarize_condition",
        action="store_false",
        help="condition model_y on raw x̂₀ instead of B(x̂₀) (the sampler always uses B)",
    )
    p.add_argument("--siamese", action="store_true", help="Siamese-Diffusion noise-consistent training of model_y")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--threads", type=int, default=0, help="CPU threads for torch (0 = all cores)")
    p.add_argument("--max-minutes", type=float, default=0, help="stop (with a checkpoint) after this wall time; resume later")
    p.add_argument(
        "--warmup",
        type=int,
        default=0,
        metavar="ITERS",
        help="raise the learning rate linearly from lr/ITERS to lr over the first ITERS iterations after "
        "the optimizer starts afresh (a new run or --init-from; not a --resume, whose Adam moments "
        "are restored): fresh moments at full lr jolt a trained model",
    )
    p.add_argument(
        "--min-snr",
        type=float,
        default=0,
        metavar="GAMMA",
        help="Min-SNR-γ loss weighting (Hang et al. 2023; 5 in the paper), 0 = METHOD.md's plain mean; "
        "the model still predicts ε (not with --siamese)",
    )
    p.add_argument("--flip", action="store_true", help="horizontal flips of each pair (mask and image together), p = 0.5")
    p.add_argument(
        "--autoencoder",
        default=None,
        metavar="CKPT",
        help="latent PIG: train on z = s·μ_E(y) of this autoencoder checkpoint (pigkit.train_autoencoder), the "
        "masks on its latent grid; --resolution is the slices' size (with --flip, every slice's mirror image "
        "is encoded and added to the data instead of flipping at random)",
    )
    p.add_argument(
        "--attributes",
        default=None,
        metavar="CSV",
        help="condition both U-Nets on the attributes of this case table (BUS-BRA's bus_data.csv: pathology, "
        "BI-RADS, scanner), each dropped to 'none' with probability --attr-drop",
    )
    p.add_argument("--attr-drop", type=float, default=DEFAULT_DROP, help="probability of 'none' per attribute and sample")
    p.add_argument(
        "--channels-last",
        action="store_true",
        help="channels-last memory format for the U-Nets: 1.3–1.9× the images/s of float32 training on "
        'this CPU (training/README.md "Speed")',
    )
    p.add_argument(
        "--bf16",
        action="store_true",
        help="bfloat16 autocast for the forward passes (weights, Adam and the loss stay float32): "
        '1.2–2.5× the images/s of float32 on a CPU with AVX-512 BF16 (training/README.md "Speed")',
    )
    args = p.parse_args(argv)
    if args.siamese and args.model != "image":
        p.error("--siamese is an option of --model image")
    if args.bf16 and BF16_UNSUPPORTED:
        p.error(f"--bf16 needs PyTorch ≥ 2.0 (this is {torch.__version__}, whose CPU autocast fails in GroupNorm)")
    if args.warmup < 0:
        p.error("--warmup must be ≥ 0")
    if args.min_snr < 0 or (args.min_snr and args.siamese):
        p.error("--min-snr must be > 0 (0 = off), and is not an option of --siamese")
    if not 0 <= args.attr_drop <= 1:
        p.error("--attr-drop must be in [0, 1]")
    if args.init_from and (args.autoencoder or args.attributes):
        p.error("--init-from reads an exported pixel-space pair without attributes; train latent or attributed models afresh")
    if args.init_from and args.model == "uncond":
        p.error("--init-from reads an exported pair; the unconditional baseline (--model uncond) is never exported")
    return args


# torch 1.13's CPU autocast feeds GroupNorm bfloat16 activations with float32 weights and fails
BF16_UNSUPPORTED = int(torch.__version__.split(".")[0]) < 2


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


def train(args: argparse.Namespace) -> Path:
    with _StopSignals(int(os.environ.get("WORLD_SIZE", "1")) == 1) as stop:
        return _train(args, stop)


def _train(args: argparse.Namespace, stop: _StopSignals) -> Path:
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
    schedule = Schedule()

    folds = {int(f) for f in args.folds.split(",") if f.strip()} if args.folds else None
    dataset = open_dataset(args.data, args.resolution, folds, args.fold_csv)
    if args.patients is not None:
        dataset = dataset.patient_subset(args.patients, args.patients_seed)
    train_pairs = len(dataset)  # the slices, before --autoencoder's --flip adds their mirror images as data
    dataset, grid, overrides, extra_config = _conditioned_data(args, dataset)
    # one shuffle per epoch seeded by (seed, epoch), this process's share when there are several
    sampler = torch.utils.data.distributed.DistributedSampler(dataset, num_replicas=world, rank=rank, seed=args.seed)
    drop_last = len(dataset) >= args.batch * world
    batches_per_epoch = len(sampler) // args.batch if drop_last else math.ceil(len(sampler) / args.batch)

    model = build_unet(args.preset, grid, **overrides).to(device)
    if args.channels_last:  # state_dict values keep their strides; loading them elsewhere copies the values
        model = model.to(memory_format=torch.channels_last)
    ema = EMA(model, args.ema)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.25, patience=4) if args.plateau else None
    model_x = None
    if args.model == "image":
        mask_ckpt = Path(args.mask_ckpt) if args.mask_ckpt else Path(args.out) / "mask" / "ckpt.pt"
        model_x = load_model_checkpoint(mask_ckpt, device)
        _require_same_conditioning(mask_ckpt, extra_config)
        model_x.requires_grad_(False)
        if args.channels_last:
            model_x = model_x.to(memory_format=torch.channels_last)

    config = {
        "preset": args.preset,
        "resolution": grid,
        "overrides": overrides,
        **extra_config,
        "model": args.model,
        "siamese": args.siamese,
        "binarize_condition": args.binarize_condition,
        "batch": args.batch * world,
        "lr": args.lr,
        "iters": args.iters,
        "ema": args.ema,
        "seed": args.seed,
        "data": str(args.data),
        "folds": sorted(folds) if folds else None,
        "train_pairs": train_pairs,
        "world_size": world,
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
    it, epoch, images_seen, wall = 0, 0, 0, 0.0
    opt_start = 0  # the iteration at which Adam's moments started from zero (where --warmup counts from)
    epoch_pos, epoch_losses = 0, []  # batches done in this epoch, their losses (for --plateau)
    window_loss = []  # losses since the last log row
    ckpt_path = out / "ckpt.pt"
    if args.resume and ckpt_path.is_file():
        ck = read_checkpoint(ckpt_path, device)
        require_keys(ck, ckpt_path, ("model", "ema", "ema_updates", "opt", "iter", "epoch", "images_seen", "wall_seconds"))
        model.load_state_dict(ck["model"])
        ema.model.load_state_dict(ck["ema"])
        ema.updates = ck["ema_updates"]
        opt.load_state_dict(ck["opt"])
        if plateau and ck.get("plateau"):
            plateau.load_state_dict(ck["plateau"])
        it, epoch, images_seen, wall = ck["iter"], ck["epoch"], ck["images_seen"], ck["wall_seconds"]
        opt_start = ck.get("opt_start", it)  # older checkpoints: their warm-up, if any, is over
        states = ck.get("rng_states")
        if states is not None and "epoch_pos" in ck:
            epoch_pos, epoch_losses = ck["epoch_pos"], list(ck["epoch_losses"])
            window_loss = list(ck.get("log_window", []))
            _set_rng_state(states[rank if len(states) == world else 0], device)
            if len(states) != world and rank == 0:
                print(
                    f"warning: {ckpt_path} was written by {len(states)} process(es), this run has {world}: "
                    f"random numbers will differ from an uninterrupted run",
                    file=sys.stderr,
                )
        else:
            if "rng" in ck:
                torch.set_rng_state(ck["rng"].cpu())
            if rank == 0:
                print(
                    f"warning: {ckpt_path} comes from an older pigkit without the data order and random states: "
                    f"resuming at the start of epoch {epoch}, so the result will not be bit-identical to an "
                    f"uninterrupted run",
                    file=sys.stderr,
                )
        if rank == 0:
            print(f"resumed {ckpt_path} at iteration {it}", file=sys.stderr)
        if it >= args.iters:  # left as it is: a rewrite would change its bytes, and the sha256 that keys what was made from it
            if rank == 0:
                print(f"already trained to {it} ≥ --iters {args.iters} iterations: nothing to do", file=sys.stderr)
            return ckpt_path
    elif args.init_from:
        state, facts = init_from_bundle(args.init_from, args.model, args.preset, args.resolution, **overrides)
        model.load_state_dict(state)
        ema.model.load_state_dict(state)  # the exported weights are the EMA ones: both start there
        it, images_seen, wall = facts["iters"], facts["images_seen"], facts["wall_seconds"]
        opt_start = it
        config["init_from"] = facts
        if rank == 0:
            print(f"initialised from {args.init_from} ({facts['file']}, {it} iterations trained)", file=sys.stderr)
    elif args.resume and rank == 0:
        print(f"--resume: no checkpoint at {ckpt_path}, starting fresh", file=sys.stderr)
    if rank == 0:  # the log describes the checkpoint's iterations only
        _trim_log(out / "log.csv", it)

    net = (
        torch.nn.parallel.DistributedDataParallel(model, device_ids=[local_rank] if device.type == "cuda" else None)
        if world > 1
        else model
    )
    log_file = (out / "log.csv").open("a", newline="") if rank == 0 else None
    log = csv.writer(log_file) if log_file else None
    if log_file and log_file.tell() == 0:
        log.writerow(["iter", "epoch", "loss", "lr", "images_per_s", "wall_seconds"])
    if rank == 0:
        (out / "config.json").write_text(json.dumps(config, indent=2))

    def save():
        states = [_rng_state(device)]
        if world > 1:  # every process draws its own noise: keep each one's state
            states = [None] * world
            dist.all_gather_object(states, _rng_state(device))
        if rank == 0:
            atomic_save(
                {
                    "model": model.state_dict(),
                    "ema": ema.model.state_dict(),
                    "ema_updates": ema.updates,
                    "opt": opt.state_dict(),
                    "plateau": plateau.state_dict() if plateau else None,
                    "iter": it,
                    "epoch": epoch,
                    "epoch_pos": epoch_pos,
                    "epoch_losses": epoch_losses,
                    "log_window": window_loss,
                    "opt_start": opt_start,
                    "images_seen": images_seen,
                    "wall_seconds": wall,
                    "rng_states": states,
                    "config": config,
                },
                ckpt_path,
            )
            _plot(out)

    progress = Progress(args.iters, it)
    session_start, window_t, window_n = time.time(), time.time(), 0
    net.train()
    while it < args.iters:
        for x0, y0, *attrs in _epoch_batches(dataset, sampler, epoch, epoch_pos, args.batch, drop_last):
            x0, y0 = x0.to(device), y0.to(device)
            b = x0.shape[0]
            net_in, model_x_in = net, model_x
            if attrs and attrs[0].shape[1]:  # drawn from the global stream, so a resumed run drops the same ones
                a = drop_attributes(attrs[0], args.attr_drop).to(device)
                net_in = functools.partial(net, attrs=a)
                model_x_in = functools.partial(model_x, attrs=a) if model_x is not None else None
            if args.flip and not args.autoencoder:  # drawn from the global stream, so a resumed run flips the same pairs
                flipped = (torch.rand(b) < 0.5).to(device).view(-1, 1, 1, 1)
                x0, y0 = torch.where(flipped, x0.flip(-1), x0), torch.where(flipped, y0.flip(-1), y0)
            t = antithetic_timesteps(b, schedule.T, device=device)
            eps1, eps2 = torch.randn_like(x0), torch.randn_like(y0)
            weight = min_snr_weight(t, schedule, args.min_snr) if args.min_snr else None
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=args.bf16):
                if args.model == "mask":
                    loss = mask_loss(net_in, x0, y0, t, eps1, eps2, schedule, weight)
                elif args.model == "uncond":
                    loss = unconditional_loss(net_in, y0, t, eps2, schedule, weight)
                elif args.siamese:
                    loss, _ = siamese_image_loss(
                        net_in,
                        model_x_in,
                        x0,
                        y0,
                        t,
                        eps1,
                        eps2,
                        schedule,
                        progress=it / args.iters,
                        binarize_condition=args.binarize_condition,
                    )
                else:
                    loss = image_loss(net_in, model_x_in, x0, y0, t, eps1, eps2, schedule, args.binarize_condition, weight)
            loss = loss.float()
            if not torch.isfinite(loss):
                raise FloatingPointError(f"loss became {loss.item()} at iteration {it}; lower --lr or check the data")
            if args.warmup and it - opt_start < args.warmup:
                for group in opt.param_groups:
                    group["lr"] = args.lr * (it - opt_start + 1) / args.warmup
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            ema.update(model)
            it += 1
            epoch_pos += 1
            images_seen += b * world
            window_n += b * world
            window_loss.append(loss.item())
            epoch_losses.append(loss.item())
            if it % args.log_every == 0 or it == args.iters:
                now = time.time()
                wall += now - window_t
                ips = window_n / max(now - window_t, 1e-9)
                mean_loss = sum(window_loss) / len(window_loss)
                if rank == 0:
                    lr = opt.param_groups[0]["lr"]
                    log.writerow([it, epoch, f"{mean_loss:.6f}", f"{lr:.3e}", f"{ips:.2f}", f"{wall:.1f}"])
                    log_file.flush()
                    progress.show(it, mean_loss, ips, lr)
                window_t, window_n, window_loss = now, 0, []
            if it % args.ckpt_every == 0 or it == args.iters:
                save()
            out_of_time = args.max_minutes and time.time() - session_start > args.max_minutes * 60
            if out_of_time or stop.signum:
                save()
                if log_file:
                    log_file.close()
                if stop.signum:
                    raise TrainingInterrupted(stop.signum, it)
                if rank == 0:
                    print(f"\nstopped after {args.max_minutes} min at iteration {it}; continue with --resume", file=sys.stderr)
                return ckpt_path
            if it >= args.iters:
                break
        if epoch_pos >= batches_per_epoch:  # the epoch is complete (not when --iters ended it early)
            epoch += 1
            if plateau and epoch_losses:
                plateau.step(sum(epoch_losses) / len(epoch_losses))
            epoch_pos, epoch_losses = 0, []
    save()
    if rank == 0:
        print(f"\ndone: {it} iterations, {images_seen} images, {wall:.0f} s → {ckpt_path}", file=sys.stderr)
    if log_file:
        log_file.close()
    return ckpt_path


def _conditioned_data(args: argparse.Namespace, pairs) -> tuple:
    """The training set, the U-Nets' grid size, their config overrides and the run config's latent and
    attribute entries. Without --autoencoder and --attributes: the pixel pairs as they are, at
    --resolution, with the overrides of the plain models (bit for bit as before either existed)."""
    overrides = {"hint_channels": 1} if args.siamese else {"in_channels": 1} if args.model == "uncond" else {}
    if not (args.autoencoder or args.attributes):
        return pairs, args.resolution, overrides, {}
    extra, attrs = {}, torch.zeros(len(pairs), 0, dtype=torch.long)
    if args.attributes:
        spec, cases = read_table(args.attributes)
        attrs = case_attributes(pairs.case_ids, cases, spec)
        overrides["attributes"] = spec.sizes()
        extra["attributes"] = {"spec": spec.to_dict(), "table": str(args.attributes), "drop": args.attr_drop}
    if not args.autoencoder:
        return TensorPairs(pairs.masks, pairs.images, attrs), args.resolution, overrides, extra
    ae, ck = load_autoencoder(Path(args.autoencoder))
    if args.resolution % ae.config.factor:
        raise DataError(f"--resolution {args.resolution} is not a multiple of the autoencoder's factor {ae.config.factor}")
    dataset, scale = latent_pairs(ae, pairs.images, pairs.masks, attrs, args.flip)
    c = ae.config.latent_channels
    # the mask chain sees [x_t, z_t]; the image chain [z_t, c] and predicts the latent's C channels
    overrides.update(
        {
            "mask": {"in_channels": 1 + c},
            "image": {"in_channels": c + 1, "out_channels": c},
            "uncond": {"in_channels": c, "out_channels": c},
        }[args.model]
    )
    if args.siamese:
        overrides["hint_channels"] = c
    extra["latent"] = {
        "autoencoder": str(args.autoencoder),
        "autoencoder_sha256": sha256_of(Path(args.autoencoder)),
        "autoencoder_iter": ck.get("iter"),
        "config": ae.config.to_dict(),
        "scale": scale,
        "image_resolution": args.resolution,
        "flip_as_data": args.flip,
    }
    grid = args.resolution // ae.config.factor
    return dataset, grid, overrides, extra


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


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        train(args)
    except (DataError, CheckpointError, FileNotFoundError, OnnxImportError, AttributeError_) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except TrainingInterrupted as e:
        print(f"\n{e}", file=sys.stderr)
        return 128 + e.signum
    return 0


if __name__ == "__main__":
    sys.exit(main())
