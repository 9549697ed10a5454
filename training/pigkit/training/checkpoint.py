"""Training checkpoints: writing them atomically, reading them back with errors that name the file,
and rebuilding a U-Net from one. pigkit.train writes them (OUT/<model>/ckpt.pt); export, pack,
evaluate, downstream, bench, golden, segment and untrained read or write them through this module,
so none of them imports the training CLI.

A checkpoint is a plain `torch.save` dict of tensors, numbers, strings, lists and dicts (no pigkit
class is pickled): its bytes do not depend on which module wrote it. Checkpoints travel between
machines, so every one the kit reads (training checkpoints, segmenters, downstream caches) goes
through load_checkpoint_file, which builds nothing but those types: a file whose pickle names any
other class or function (os.system, a __reduce__ of its own, a TorchScript archive) is refused
before anything in it runs.
"""

from __future__ import annotations

import os
import pickle
import re
import types
from pathlib import Path

import torch
from torch.torch_version import TorchVersion

from pigkit.model.unet import build_unet


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


# What a checkpoint may name besides torch's own weights-only allow-list: config["torch"] is a
# TorchVersion (a str). Nothing else: NumPy arrays were kept as tensors from 2026-12-02 on.
EXTRA_SAFE_GLOBALS = {"torch.torch_version.TorchVersion": TorchVersion}


class _Refused(pickle.UnpicklingError):
    """A checkpoint's pickle names a global outside the allow-list (its dotted name)."""


class _AllowListUnpickler(pickle.Unpickler):
    """PyTorch 1.13's weights_only unpickler cannot read a float (no BINFLOAT opcode), and every
    checkpoint holds some (the learning rate, the RNG state), so there the kit unpickles with the
    standard unpickler restricted to the same allow-list: find_class is the one door through which
    a pickle reaches a class or function (GLOBAL, STACK_GLOBAL, INST, OBJ, EXT)."""

    def find_class(self, module, name):
        from torch._weights_only_unpickler import _get_allowed_globals

        found = {**_get_allowed_globals(), **EXTRA_SAFE_GLOBALS}.get(f"{module}.{name}")
        if found is None:
            raise _Refused(f"{module}.{name}")
        return found


# torch's loaders take a module with Unpickler and load (the latter for the legacy format)
_allow_list_pickle = types.ModuleType("pigkit_allow_list_pickle")
_allow_list_pickle.Unpickler = _AllowListUnpickler
_allow_list_pickle.load = lambda f, **kw: _AllowListUnpickler(f, **kw).load()


def _torch_load(path: Path, device):
    ser = torch.serialization
    with open(path, "rb") as f:
        zipped = ser._is_zipfile(f)
        if zipped:
            with ser._open_zipfile_reader(f) as z:
                if ser._is_torchscript_zip(z):  # torch.load would hand it to torch.jit.load, which runs its code
                    raise _Refused("torch.jit.load (a TorchScript program)")
            f.seek(0)
        if hasattr(ser, "safe_globals"):  # PyTorch ≥ 2.5
            with ser.safe_globals(list(EXTRA_SAFE_GLOBALS.values())):
                return torch.load(f, map_location=device, weights_only=True)
        # PyTorch 1.13: torch.load replaces any pickle_module by pickle when weights_only is False
        if zipped:
            with ser._open_zipfile_reader(f) as z:
                return ser._load(z, device, _allow_list_pickle, encoding="utf-8")
        return ser._legacy_load(f, device, _allow_list_pickle, encoding="utf-8")


def load_checkpoint_file(path: Path, device="cpu"):
    """torch.load of a file the kit wrote, building only tensors, numbers, strings, lists and dicts;
    raises CheckpointError naming the file (refused or damaged)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: checkpoint not found (train that model first)")
    try:
        return _torch_load(path, device)
    except _Refused as e:
        raise _refused(path, str(e)) from None
    except pickle.UnpicklingError as e:
        # PyTorch 2's weights-only unpickler names a global it refuses ("… GLOBAL posix.system whose
        # module …"); any other refusal of it (an opcode it lacks) is a file no torch.save wrote
        named = re.search(r"GLOBAL ([\w.]+)", str(e)) if "Weights only load failed" in str(e) else None
        raise (_refused(path, named.group(1)) if named else _damaged(path, e)) from None
    except Exception as e:  # torch raises RuntimeError, EOFError … for a damaged file
        raise _damaged(path, e) from None


def _refused(path: Path, what: str) -> CheckpointError:
    if what.startswith("numpy"):  # NumPy's RNG state before 2026-12-02
        return CheckpointError(
            f"{path}: refused: it holds a NumPy array ({what}), which pigkit no longer unpickles; checkpoints "
            f"written before 2026-12-02 kept NumPy's RNG state so: train again, or re-save it with that pigkit"
        )
    return CheckpointError(
        f"{path}: refused: unpickling it would call {what}, which no pigkit checkpoint holds (a crafted "
        f"file runs code this way); nothing was run: use a checkpoint from a run you trust, or train again"
    )


def _damaged(path: Path, e: Exception) -> CheckpointError:
    detail = str(e).splitlines()[0] if str(e) else "no detail"
    return CheckpointError(
        f"{path}: checkpoint cannot be read ({e.__class__.__name__}: {detail}); a damaged or "
        f"truncated file: restore it from a copy, or delete it to start over"
    )


def read_checkpoint(path: Path, device="cpu") -> dict:
    """A training checkpoint (load_checkpoint_file: plain types only, PyTorch 1.13 and 2.x alike)."""
    ck = load_checkpoint_file(path, device)
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
