"""Training checkpoints: writing them atomically, reading them back with errors that name the file,
and rebuilding a U-Net from one. pigkit.train writes them (OUT/<model>/ckpt.pt); export, pack,
evaluate, downstream, bench, golden, segment and untrained read or write them through this module,
so none of them imports the training CLI.

A checkpoint is a plain `torch.save` dict of tensors, numbers, lists and dicts (no pigkit class is
pickled): its bytes do not depend on which module wrote it.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

from .unet import build_unet


class CheckpointError(ValueError):
    """A checkpoint file that cannot be used, with a message naming the file."""


def atomic_save(obj, path: Path) -> None:
    """Write to PATH.partial in the same folder, fsync, then rename over PATH: a process killed at
    any point leaves PATH either the previous checkpoint or the new one, never a torn file. Only
    PATH is ever read back; a left-over .partial is overwritten by the next save."""
    tmp = path.with_name(path.name + ".partial")
    with open(tmp, "wb") as f:
        torch.save(obj, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    try:  # make the rename itself durable (a power cut right after it)
        fd = os.open(path.parent, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def read_checkpoint(path: Path, device="cpu") -> dict:
    """A checkpoint this kit wrote. It holds optimizer and RNG state besides tensors, so it is
    unpickled in full (PyTorch ≥ 2.6 defaults to weights_only=True): load only your own runs."""
    if not Path(path).is_file():
        raise FileNotFoundError(f"{path}: checkpoint not found (train that model first)")
    try:
        ck = torch.load(path, map_location=device, weights_only=False)
    except ModuleNotFoundError as e:  # pickled by another version of a library (NumPy 2's numpy._core on NumPy 1)
        import numpy

        raise CheckpointError(
            f"{path}: checkpoint written with other library versions: reading it needs the module "
            f"'{e.name}', which this Python lacks (here torch {torch.__version__}, numpy {numpy.__version__}); "
            f"read it with the Python that wrote it"
        ) from None
    except Exception as e:  # torch raises RuntimeError, EOFError, UnpicklingError … for a damaged file
        detail = str(e).splitlines()[0] if str(e) else "no detail"
        raise CheckpointError(
            f"{path}: checkpoint cannot be read ({e.__class__.__name__}: {detail}); a damaged or "
            f"truncated file: restore it from a copy, or delete it to start over"
        ) from None
    if not isinstance(ck, dict):
        raise CheckpointError(f"{path}: not a pigkit training checkpoint (holds a {type(ck).__name__}, not a dict)")
    return ck


def require_keys(ck: dict, path: Path, keys: tuple[str, ...]) -> None:
    missing = [k for k in keys if k not in ck]
    if missing:
        raise CheckpointError(f"{path}: not a pigkit training checkpoint (no {', '.join(repr(k) for k in missing)})")


def load_model_checkpoint(path: Path, device="cpu", use_ema: bool = True) -> torch.nn.Module:
    """Rebuild a U-Net from a training checkpoint (EMA weights by default)."""
    ck = read_checkpoint(path, device)
    require_keys(ck, path, ("config", "ema" if use_ema else "model"))
    model = build_unet(ck["config"]["preset"], ck["config"]["resolution"], **ck["config"].get("overrides", {}))
    model.load_state_dict(ck["ema"] if use_ema else ck["model"])
    return model.to(device).eval()
