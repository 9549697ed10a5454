"""Train latent PIG's image autoencoder on random crops of the training folds.

    python3 -m pigkit.train_autoencoder --data ../packed/busbra256.npz --resolution 256 \\
        --out ../runs/busbra256 --crop 128 --threads 1 --max-minutes 60 [--resume]

Loss: L1 + w_ssim·(1 − SSIM) + w_spec·(log-spectrum distance) + w_kl·KL (pigkit.autoencoder). The
network is fully convolutional, so random crops of the slices train the weights that run on whole
slices, at a quarter of a 256² image's cost per 128² crop. A checkpoint (OUT/autoencoder/ckpt.pt:
weights, EMA weights, Adam state, counters and the torch RNG, all plain tensors and numbers) is
written every --ckpt-every iterations, at --max-minutes and on SIGINT/SIGTERM; --resume continues
it exactly where it stopped. Each logged row goes to OUT/autoencoder/log.jsonl.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from pathlib import Path

import torch

from pigkit.data.pairs import DataError, open_dataset
from pigkit.model.autoencoder import Autoencoder, AutoencoderConfig, kl_divergence, log_spectrum_distance, ssim
from pigkit.training.checkpoint import CheckpointError, atomic_save, read_checkpoint, require_keys

CKPT_KEYS = ("config", "model", "ema", "opt", "iter", "images_seen", "wall_seconds", "rng", "args")


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="pigkit.train_autoencoder", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--data", required=True, help="folder with Images/ and Masks/, or a pack (.npz)")
    p.add_argument("--out", required=True, help="run folder (the autoencoder goes to OUT/autoencoder)")
    p.add_argument("--resolution", type=int, default=256, help="the slices' size (the crops are cut from them)")
    p.add_argument("--folds", default="1,2,3", help="training folds ('' = all pairs)")
    p.add_argument("--fold-csv", default=None)
    p.add_argument("--crop", type=int, default=128, help="random square crop per sample (= resolution: whole slices)")
    p.add_argument("--channels", default="16,32,64", help="widths per resolution; f = 2^(count − 1)")
    p.add_argument("--latent-channels", type=int, default=4)
    p.add_argument("--blocks", type=int, default=1)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--lr", type=float, default=2e-4)
    p.add_argument(
        "--warmup", type=int, default=200, help="linear learning-rate warm-up after a fresh optimizer (not on --resume)"
    )
    p.add_argument("--iters", type=int, default=1_000_000, help="stop after this many iterations")
    p.add_argument("--ssim-weight", type=float, default=0.2)
    p.add_argument("--spectrum-weight", type=float, default=0.05)
    p.add_argument("--kl-weight", type=float, default=1e-4)
    p.add_argument("--ema", type=float, default=0.999)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (0 = torch's default)")
    p.add_argument("--max-minutes", type=float, default=0, help="stop with a checkpoint after this wall time (0 = no limit)")
    p.add_argument("--ckpt-every", type=int, default=500)
    p.add_argument("--log-every", type=int, default=25)
    p.add_argument("--resume", action="store_true")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    a = p.parse_args(argv)
    if not 8 <= a.crop <= a.resolution:
        p.error(f"--crop must be between 8 and --resolution ({a.resolution}), got {a.crop}")
    if a.batch < 1 or a.iters < 1 or a.warmup < 0 or a.threads < 0:
        p.error("--batch and --iters must be ≥ 1, --warmup and --threads ≥ 0")
    try:
        channels = tuple(int(c) for c in a.channels.split(","))
    except ValueError:
        p.error(f"--channels must be comma-separated integers, got {a.channels!r}")
    if not 1 <= len(channels) <= 5 or any(not 1 <= c <= 1024 for c in channels):
        p.error("--channels: 1 to 5 widths, each 1 … 1024")
    if a.crop % 2 ** (len(channels) - 1):
        p.error(f"--crop must be a multiple of the downsampling factor {2 ** (len(channels) - 1)}")
    a.config = AutoencoderConfig(channels=channels, latent_channels=a.latent_channels, blocks=a.blocks)
    return a


def random_crops(images: torch.Tensor, crop: int, batch: int, generator: torch.Generator) -> torch.Tensor:
    """`batch` random crop×crop windows of random slices of N×1×R×R images, each flipped left-right
    with p = 1/2."""
    n, _, r, _ = images.shape
    idx = torch.randint(n, (batch,), generator=generator)
    ys = torch.randint(r - crop + 1, (batch,), generator=generator)
    xs = torch.randint(r - crop + 1, (batch,), generator=generator)
    flips = torch.rand(batch, generator=generator) < 0.5
    out = torch.stack([images[i, :, y : y + crop, x : x + crop] for i, y, x in zip(idx.tolist(), ys.tolist(), xs.tolist())])
    out = torch.where(flips[:, None, None, None], out.flip(-1), out)
    return out


def load_autoencoder(path: Path, device="cpu", use_ema: bool = True) -> tuple[Autoencoder, dict]:
    """The autoencoder of a checkpoint (EMA weights by default) and the checkpoint's other entries."""
    ck = read_checkpoint(path, device)
    require_keys(ck, path, ("config", "ema" if use_ema else "model"))
    model = Autoencoder(AutoencoderConfig.from_dict(ck["config"]))
    model.load_state_dict(ck["ema" if use_ema else "model"])
    return model.to(device).eval(), ck


class _Run:
    """What a checkpoint holds: the weights, their EMA, Adam's state, the crops' generator, the counters."""

    def __init__(self, a: argparse.Namespace, device: torch.device):
        torch.manual_seed(a.seed)  # the initial weights, then the latent sampling's noise
        self.model = Autoencoder(a.config).to(device).to(memory_format=torch.channels_last)
        self.ema = Autoencoder(a.config).to(device)
        self.ema.load_state_dict(self.model.state_dict())
        self.ema.requires_grad_(False)
        self.opt = torch.optim.Adam(self.model.parameters(), lr=a.lr)
        self.gen = torch.Generator().manual_seed(a.seed)  # the crops
        self.it, self.images_seen, self.wall = 0, 0, 0.0

    def resume(self, path: Path, config: AutoencoderConfig, device: torch.device) -> None:
        """Everything as the checkpoint at `path` left it, the RNGs included; refused for other settings."""
        ck = read_checkpoint(path, device)
        require_keys(ck, path, CKPT_KEYS)
        if AutoencoderConfig.from_dict(ck["config"]) != config:
            raise CheckpointError(f"{path}: trained with {ck['config']}, asked for {config.to_dict()}: resume with its settings")
        self.model.load_state_dict(ck["model"])
        self.ema.load_state_dict(ck["ema"])
        self.opt.load_state_dict(ck["opt"])
        self.gen.set_state(ck["rng"])
        if "torch_rng" in ck:  # the latent sampling's noise (checkpoints of 2026-12-07's first sitting lack it)
            torch.set_rng_state(ck["torch_rng"])
        self.it, self.images_seen, self.wall = ck["iter"], ck["images_seen"], ck["wall_seconds"]

    def save(self, a: argparse.Namespace, path: Path) -> None:
        atomic_save(
            {
                "config": a.config.to_dict(),
                "model": self.model.state_dict(),
                "ema": self.ema.state_dict(),
                "opt": self.opt.state_dict(),
                "iter": self.it,
                "images_seen": self.images_seen,
                "wall_seconds": self.wall,
                "rng": self.gen.get_state(),
                "torch_rng": torch.get_rng_state(),
                "args": {k: v for k, v in vars(a).items() if isinstance(v, (int, float, str, bool, type(None)))},
            },
            path,
        )

    def step(self, a: argparse.Namespace, images: torch.Tensor, device: torch.device, lr: float) -> dict:
        """One iteration at learning rate `lr` on a batch of random crops: the loss and its terms."""
        for g in self.opt.param_groups:
            g["lr"] = lr
        y = random_crops(images, a.crop, a.batch, self.gen).to(device).contiguous(memory_format=torch.channels_last)
        recon, mean, logvar = self.model(y)
        l1 = (recon - y).abs().mean()
        s = ssim(recon, y)
        spec = log_spectrum_distance(recon, y)
        kl = kl_divergence(mean, logvar)
        loss = l1 + a.ssim_weight * (1 - s) + a.spectrum_weight * spec + a.kl_weight * kl
        if not torch.isfinite(loss):
            raise FloatingPointError(f"the loss became {loss.item()} at iteration {self.it}: lower --lr and resume")
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        with torch.no_grad():
            for pe, pm in zip(self.ema.parameters(), self.model.parameters()):
                pe.lerp_(pm, 1 - a.ema)
        self.it += 1
        self.images_seen += a.batch
        return {"loss": loss, "l1": l1, "ssim": s, "spec": spec, "kl": kl}


def _open_run(a: argparse.Namespace, device: torch.device, ckpt_path: Path) -> tuple[_Run, int | None]:
    """The run, fresh or resumed, and the iteration its optimizer started fresh at (None on a resume:
    no warm-up then)."""
    run = _Run(a, device)
    if a.resume and not ckpt_path.is_file():
        print(f"--resume: no checkpoint at {ckpt_path}, starting fresh", file=sys.stderr)
    elif a.resume:
        run.resume(ckpt_path, a.config, device)
    return run, None if a.resume and ckpt_path.is_file() else run.it


def _learning_rate(a: argparse.Namespace, it: int, fresh_optimizer_at: int | None) -> float:
    """--lr, ramped up linearly over --warmup iterations after a fresh optimizer."""
    if fresh_optimizer_at is not None and a.warmup and it - fresh_optimizer_at < a.warmup:
        return a.lr * (it - fresh_optimizer_at + 1) / a.warmup
    return a.lr


class _Log:
    """The loss terms' means over each --log-every iterations, a JSON row each to log.jsonl and stdout."""

    def __init__(self, file):
        self.file, self.last, self.count = file, time.monotonic(), 0
        self.sums = {"loss": 0.0, "l1": 0.0, "ssim": 0.0, "spec": 0.0, "kl": 0.0}

    def add(self, terms: dict) -> None:
        for k, v in terms.items():
            self.sums[k] += float(v.detach())
        self.count += 1

    def row(self, it: int, lr: float, batch: int) -> float:
        """Writes the row; the seconds since the last one (the run's wall time adds them up)."""
        now = time.monotonic()
        row = {"iter": it, "lr": lr, "crops_per_s": round(self.count * batch / (now - self.last), 2)}
        row.update({k: round(v / self.count, 5) for k, v in self.sums.items()})
        self.file.write(json.dumps(row) + "\n")
        self.file.flush()
        print(json.dumps(row), flush=True)
        seconds, self.last, self.count = now - self.last, now, 0
        self.sums = dict.fromkeys(self.sums, 0.0)
        return seconds


def train(a: argparse.Namespace) -> Path:
    if a.threads:
        torch.set_num_threads(a.threads)
    device = torch.device(a.device)
    out = Path(a.out) / "autoencoder"
    ckpt_path = out / "ckpt.pt"
    if ckpt_path.is_file() and not a.resume:
        raise CheckpointError(f"{ckpt_path} exists: add --resume to continue it, or pick another --out")
    folds = {int(f) for f in a.folds.split(",") if f.strip()} if a.folds else None
    images = open_dataset(a.data, a.resolution, folds, a.fold_csv).images  # N×1×R×R float32 in [-1, 1]
    run, fresh_optimizer_at = _open_run(a, device, ckpt_path)
    out.mkdir(parents=True, exist_ok=True)
    stop = {"signal": None}

    def on_signal(signum, frame):
        stop["signal"] = signum

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    n_params = sum(p.numel() for p in run.model.parameters())
    print(
        f"autoencoder {a.config.to_dict()} ({n_params / 1e6:.2f} M parameters, f = {a.config.factor}) on {len(images)} slices "
        f"at {a.resolution}², {a.crop}² crops, batch {a.batch}; from iteration {run.it}",
        flush=True,
    )
    started = time.monotonic()
    try:
        with open(out / "log.jsonl", "a") as file:
            log = _Log(file)
            while run.it < a.iters and stop["signal"] is None:
                if a.max_minutes and time.monotonic() - started > a.max_minutes * 60:
                    break
                lr = _learning_rate(a, run.it, fresh_optimizer_at)
                log.add(run.step(a, images, device, lr))
                if run.it % a.log_every == 0:
                    run.wall += log.row(run.it, lr, a.batch)
                if run.it % a.ckpt_every == 0:
                    run.save(a, ckpt_path)
    finally:
        for s, h in previous.items():
            signal.signal(s, h)
    run.wall += time.monotonic() - log.last
    run.save(a, ckpt_path)
    why = f"signal {stop['signal']}" if stop["signal"] else "done"
    print(f"stopped at iteration {run.it} ({why}); checkpoint {ckpt_path}", flush=True)
    return ckpt_path


def main(argv=None) -> int:
    a = parse_args(argv)
    try:
        train(a)
    except (DataError, CheckpointError, FloatingPointError) as e:
        print(f"pigkit.train_autoencoder: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
