"""Reading a model folder's manifest.json (docs/contracts.md §2) and checking its files, in Python:
what pigkit.pipeline and pigkit.card need of the contract that src/core/manifest.ts validates in full.
Every error names the folder or the file and the field.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from .schedule import CLIP_MODES


class ManifestError(ValueError):
    """A model folder that is not what docs/contracts.md describes."""


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


KINDS = {dict: "an object", str: "a string", int: "an integer", (int, float): "a number"}


def _field(value, path: str, kind, where: Path):
    if not isinstance(value, kind) or isinstance(value, bool):
        raise ManifestError(f"{where}: {path} is {json.dumps(value)}, expected {KINDS[kind]}")
    return value


def read_manifest(folder: Path | str) -> dict:
    """manifest.json of a model folder, its fields the kit reads checked (format, resolution, schedule,
    sampler, models.mask and models.image)."""
    folder = Path(folder)
    where = folder / "manifest.json"
    if not folder.is_dir():
        raise ManifestError(f"{folder}: no such model folder")
    if not where.is_file():
        raise ManifestError(
            f"{folder}: no manifest.json (a model folder holds manifest.json and its ONNX files, e.g. public/models/tiny)"
        )
    try:
        m = json.loads(where.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ManifestError(f"{where} is not valid JSON ({e})") from None
    if not isinstance(m, dict) or m.get("format") != 1:
        raise ManifestError(f"{where}: format must be 1, got {json.dumps(m.get('format') if isinstance(m, dict) else m)}")
    res = m.get("resolution")
    if not (isinstance(res, list) and len(res) == 2 and all(isinstance(v, int) and v > 0 for v in res)):
        raise ManifestError(f"{where}: resolution must be [H, W] (positive integers), got {json.dumps(res)}")
    schedule = _field(m.get("schedule"), "schedule", dict, where)
    if schedule.get("kind") != "linear":
        raise ManifestError(f'{where}: schedule.kind must be "linear", got {json.dumps(schedule.get("kind"))}')
    for key in ("betaStart", "betaEnd"):
        _field(schedule.get(key), f"schedule.{key}", (int, float), where)
    _field(schedule.get("T"), "schedule.T", int, where)
    sampler = _field(m.get("sampler"), "sampler", dict, where)
    _field(sampler.get("steps"), "sampler.steps", int, where)
    _field(sampler.get("eta"), "sampler.eta", (int, float), where)
    if sampler.get("clip", "none") not in CLIP_MODES:
        raise ManifestError(f"{where}: sampler.clip must be one of {', '.join(CLIP_MODES)}, got {json.dumps(sampler['clip'])}")
    models = _field(m.get("models"), "models", dict, where)
    for role in ("mask", "image"):
        entry = _field(models.get(role), f"models.{role}", dict, where)
        _field(entry.get("file"), f"models.{role}.file", str, where)
    if "card" in m:
        _field(m["card"], "card", dict, where)
    return m


def model_file(folder: Path | str, manifest: dict, role: str) -> Path:
    """The ONNX file of `role`, checked against the manifest's bytes and sha256 where it gives them."""
    entry = manifest["models"][role]
    path = Path(folder) / entry["file"]
    if not path.is_file():
        raise ManifestError(f"{path} is missing: manifest.json names it as models.{role}.file")
    if "bytes" in entry and path.stat().st_size != entry["bytes"]:
        raise ManifestError(
            f"{path} has {path.stat().st_size} bytes, the manifest says {entry['bytes']}: "
            "the file is truncated, corrupt or from another export"
        )
    digest = sha256_of(path) if "sha256" in entry else None
    if digest != entry.get("sha256"):
        raise ManifestError(
            f"{path} has SHA-256 {digest}, the manifest says {entry['sha256']}: the file is corrupt or from another export"
        )
    return path
