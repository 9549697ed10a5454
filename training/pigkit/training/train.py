"""The training loop of pigkit.train: a run's batches, objective, optimizer step and log (its command
line, with the usage, is train_args.py; its state and checkpoints, run_state.py)."""

from __future__ import annotations

import argparse
import csv
import functools
import json
import math
import os
import sys
import time
from pathlib import Path

import torch

from pigkit.data.attributes import AttributeError_, case_attributes, drop_attributes, read_table
from pigkit.data.pairs import DataError, open_dataset
from pigkit.exporter.manifest import sha256_of
from pigkit.exporter.onnx_import import OnnxImportError
from pigkit.model.latent import TensorPairs, latent_pairs
from pigkit.model.schedule import Schedule
from pigkit.training.checkpoint import CheckpointError
from pigkit.training.losses import (
    antithetic_timesteps,
    image_loss,
    mask_loss,
    min_snr_weight,
    siamese_image_loss,
    unconditional_loss,
)
from pigkit.training.run_state import (
    Progress,
    TrainingInterrupted,
    _build,
    _epoch_batches,
    _init_from,
    _resume,
    _Run,
    _run_config,
    _save,
    _start,
    _StopSignals,
    _trim_log,
)
from pigkit.training.train_args import parse_args
from pigkit.training.train_autoencoder import load_autoencoder


def train(args: argparse.Namespace) -> Path:
    with _StopSignals(int(os.environ.get("WORLD_SIZE", "1")) == 1) as stop:
        return _train(args, stop)


def _batch_loss(r: _Run, net, schedule: Schedule, x0: torch.Tensor, y0: torch.Tensor, attrs: list) -> torch.Tensor:
    """The objective on one batch (its attribute dropout, flips, timesteps and noise drawn in this order)."""
    args, device = r.args, r.device
    b = x0.shape[0]
    net_in, model_x_in = net, r.model_x
    if attrs and attrs[0].shape[1]:  # drawn from the global stream, so a resumed run drops the same ones
        a = drop_attributes(attrs[0], args.attr_drop).to(device)
        net_in = functools.partial(net, attrs=a)
        model_x_in = functools.partial(r.model_x, attrs=a) if r.model_x is not None else None
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
            progress = r.it / args.iters
            bc = args.binarize_condition
            loss, _ = siamese_image_loss(
                net_in, model_x_in, x0, y0, t, eps1, eps2, schedule, progress=progress, binarize_condition=bc
            )
        else:
            loss = image_loss(net_in, model_x_in, x0, y0, t, eps1, eps2, schedule, args.binarize_condition, weight)
    loss = loss.float()
    if not torch.isfinite(loss):
        raise FloatingPointError(f"loss became {loss.item()} at iteration {r.it}; lower --lr or check the data")
    return loss


def _step(r: _Run, loss: torch.Tensor) -> None:
    """Warm-up, the Adam step and the EMA."""
    args = r.args
    if args.warmup and r.it - r.opt_start < args.warmup:
        for group in r.opt.param_groups:
            group["lr"] = args.lr * (r.it - r.opt_start + 1) / args.warmup
    r.opt.zero_grad(set_to_none=True)
    loss.backward()
    r.opt.step()
    r.ema.update(r.model)


class _Log:
    """log.csv (rank 0) and the progress line: one row per --log-every iterations."""

    def __init__(self, r: _Run):
        self.file = (r.out / "log.csv").open("a", newline="") if r.rank == 0 else None
        self.csv = csv.writer(self.file) if self.file else None
        if self.file and self.file.tell() == 0:
            self.csv.writerow(["iter", "epoch", "loss", "lr", "images_per_s", "wall_seconds"])
        self.progress = Progress(r.args.iters, r.it)
        self.window_t, self.window_n = time.time(), 0

    def row(self, r: _Run) -> None:
        now = time.time()
        r.wall += now - self.window_t
        ips = self.window_n / max(now - self.window_t, 1e-9)
        mean_loss = sum(r.window_loss) / len(r.window_loss)
        if r.rank == 0:
            lr = r.opt.param_groups[0]["lr"]
            self.csv.writerow([r.it, r.epoch, f"{mean_loss:.6f}", f"{lr:.3e}", f"{ips:.2f}", f"{r.wall:.1f}"])
            self.file.flush()
            self.progress.show(r.it, mean_loss, ips, lr)
        self.window_t, self.window_n, r.window_loss = now, 0, []

    def close(self) -> None:
        if self.file:
            self.file.close()


def _train(args: argparse.Namespace, stop: _StopSignals) -> Path:
    r = _start(args)
    schedule = Schedule()
    folds = {int(f) for f in args.folds.split(",") if f.strip()} if args.folds else None
    dataset = open_dataset(args.data, args.resolution, folds, args.fold_csv)
    if args.patients is not None:
        dataset = dataset.patient_subset(args.patients, args.patients_seed)
    train_pairs = len(dataset)  # the slices, before --autoencoder's --flip adds their mirror images as data
    dataset, grid, overrides, extra_config = _conditioned_data(args, dataset)
    # one shuffle per epoch seeded by (seed, epoch), this process's share when there are several
    sampler = torch.utils.data.distributed.DistributedSampler(dataset, num_replicas=r.world, rank=r.rank, seed=args.seed)
    drop_last = len(dataset) >= args.batch * r.world
    batches_per_epoch = len(sampler) // args.batch if drop_last else math.ceil(len(sampler) / args.batch)
    _build(r, grid, overrides, extra_config)
    r.config = _run_config(r, grid, overrides, extra_config, folds, train_pairs)
    if args.resume and r.ckpt_path.is_file():
        _resume(r)
        if r.it >= args.iters:  # left as it is: a rewrite would change its bytes, and the sha256 that keys what was made from it
            if r.rank == 0:
                print(f"already trained to {r.it} ≥ --iters {args.iters} iterations: nothing to do", file=sys.stderr)
            return r.ckpt_path
    elif args.init_from:
        _init_from(r, overrides)
    elif args.resume and r.rank == 0:
        print(f"--resume: no checkpoint at {r.ckpt_path}, starting fresh", file=sys.stderr)
    if r.rank == 0:  # the log describes the checkpoint's iterations only
        _trim_log(r.out / "log.csv", r.it)
    return _loop(r, stop, schedule, dataset, sampler, drop_last, batches_per_epoch)


def _loop(r: _Run, stop: _StopSignals, schedule: Schedule, dataset, sampler, drop_last: bool, batches_per_epoch: int) -> Path:
    """Epochs of batches until --iters, saving every --ckpt-every; --max-minutes or a signal saves and stops."""
    args, device = r.args, r.device
    net = (
        torch.nn.parallel.DistributedDataParallel(r.model, device_ids=[r.local_rank] if device.type == "cuda" else None)
        if r.world > 1
        else r.model
    )
    log = _Log(r)
    if r.rank == 0:
        (r.out / "config.json").write_text(json.dumps(r.config, indent=2))
    session_start = time.time()
    net.train()
    while r.it < args.iters:
        for x0, y0, *attrs in _epoch_batches(dataset, sampler, r.epoch, r.epoch_pos, args.batch, drop_last):
            x0, y0 = x0.to(device), y0.to(device)
            b = x0.shape[0]
            loss = _batch_loss(r, net, schedule, x0, y0, attrs)
            _step(r, loss)
            r.it += 1
            r.epoch_pos += 1
            r.images_seen += b * r.world
            log.window_n += b * r.world
            r.window_loss.append(loss.item())
            r.epoch_losses.append(loss.item())
            if r.it % args.log_every == 0 or r.it == args.iters:
                log.row(r)
            if r.it % args.ckpt_every == 0 or r.it == args.iters:
                _save(r)
            out_of_time = args.max_minutes and time.time() - session_start > args.max_minutes * 60
            if out_of_time or stop.signum:
                _save(r)
                log.close()
                if stop.signum:
                    raise TrainingInterrupted(stop.signum, r.it)
                if r.rank == 0:
                    print(f"\nstopped after {args.max_minutes} min at iteration {r.it}; continue with --resume", file=sys.stderr)
                return r.ckpt_path
            if r.it >= args.iters:
                break
        if r.epoch_pos >= batches_per_epoch:  # the epoch is complete (not when --iters ended it early)
            r.epoch += 1
            if r.plateau and r.epoch_losses:
                r.plateau.step(sum(r.epoch_losses) / len(r.epoch_losses))
            r.epoch_pos, r.epoch_losses = 0, []
    _save(r)
    if r.rank == 0:
        print(f"\ndone: {r.it} iterations, {r.images_seen} images, {r.wall:.0f} s → {r.ckpt_path}", file=sys.stderr)
    log.close()
    return r.ckpt_path


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
