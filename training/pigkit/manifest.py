"""Reading a model folder's manifest.json (docs/contracts.md §2) and checking its files, in Python:
what pigkit.pipeline and pigkit.card need of the contract that src/core/manifest.ts validates in full.
Every error names the folder or the file and the field. Both layouts of a folder are read: graphs
that hold their weights, and graphs whose large initializers live in a shared weights file (ONNX
external data; the manifest's `weights` entry names it, pigkit.share_weights writes it).
"""

from __future__ import annotations

import hashlib
import json
import re
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
# a file of the model folder itself: no folder part, not "." or ".." (src/core/manifest.ts FILE_NAME)
PLAIN_FILE = re.compile(r"^(?!\.+$)[A-Za-z0-9._-]+$")
ROLES = ("mask", "image", "maskStep", "imageStep")


def plain_file_name(name) -> bool:
    """Whether `name` names a file in the model folder itself (letters, digits, . _ -; not . or ..)."""
    return isinstance(name, str) and PLAIN_FILE.match(name) is not None


def _field(value, path: str, kind, where: Path):
    if not isinstance(value, kind) or isinstance(value, bool):
        raise ManifestError(f"{where}: {path} is {json.dumps(value)}, expected {KINDS[kind]}")
    return value


def write_manifest(folder: Path | str, manifest: dict) -> None:
    """manifest.json of a model folder, as the export writes it (2-space indent, UTF-8 kept)."""
    (Path(folder) / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


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
    for role in ROLES:
        if role not in ("mask", "image") and role not in models:
            continue
        entry = _field(models.get(role), f"models.{role}", dict, where)
        _field(entry.get("file"), f"models.{role}.file", str, where)
        if "weights" in entry:
            _weights_entry(entry["weights"], f"models.{role}.weights", where)
    shared: dict[str, tuple[str, dict]] = {}
    for role in ROLES:
        w = models.get(role, {}).get("weights")
        if w is None:
            continue
        first = shared.setdefault(w["file"], (role, w))
        if (first[1]["bytes"], first[1]["sha256"]) != (w["bytes"], w["sha256"]):
            raise ManifestError(
                f"{where}: models.{role}.weights names {w['file']} as models.{first[0]}.weights does, but with another "
                "bytes or sha256: one file has one size and one SHA-256"
            )
        if w["file"] in {models[r]["file"] for r in ROLES if r in models} | {"manifest.json"}:
            raise ManifestError(
                f"{where}: models.{role}.weights.file {w['file']} is a model graph or the manifest, not a weights file"
            )
    if "card" in m:
        _field(m["card"], "card", dict, where)
    return m


def _weights_entry(w, path: str, where: Path) -> None:
    _field(w, path, dict, where)
    name = _field(w.get("file"), f"{path}.file", str, where)
    if not plain_file_name(name):
        raise ManifestError(
            f"{where}: {path}.file must be a plain file name in the model folder (letters, digits, . _ -), got {json.dumps(name)}"
        )
    _field(w.get("bytes"), f"{path}.bytes", int, where)
    _field(w.get("sha256"), f"{path}.sha256", str, where)


def _checked(path: Path, entry: dict, field: str) -> Path:
    """`path` exists and has the entry's bytes and sha256 (where it gives them)."""
    if not path.is_file():
        raise ManifestError(f"{path} is missing: manifest.json names it as {field}")
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


def external_data_files(model) -> set[str]:
    """The files an ONNX ModelProto (loaded without its external data) keeps tensors in: the
    `location` of every initializer, sparse initializer and tensor attribute, subgraphs included."""
    import onnx  # noqa: PLC0415 (only model folders with external data need it)

    found: set[str] = set()

    def tensor(t) -> None:
        if t.data_location == onnx.TensorProto.EXTERNAL:
            found.update(e.value for e in t.external_data if e.key == "location")

    def graph(g) -> None:
        for t in g.initializer:
            tensor(t)
        for s in g.sparse_initializer:
            tensor(s.values)
            tensor(s.indices)
        for node in g.node:
            for a in node.attribute:
                if a.HasField("t"):
                    tensor(a.t)
                for t in a.tensors:
                    tensor(t)
                if a.HasField("g"):
                    graph(a.g)
                for sub in a.graphs:
                    graph(sub)

    graph(model.graph)
    return found


def check_external_data(path: Path, weights: str | None) -> None:
    """The ONNX file at `path` keeps tensors only in `weights` (a plain file name beside it), or in no
    file when `weights` is None. Refuses a location with a folder in it or one the manifest does not name."""
    import onnx  # noqa: PLC0415

    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception:  # onnx raises DecodeError and friends for a file that is not ONNX
        return  # ONNX Runtime cannot parse it either, and its error names the file (runtime.SessionError)
    for location in sorted(external_data_files(model)):
        if not plain_file_name(location):
            raise ManifestError(
                f"{path} keeps tensors in {json.dumps(location)}: external data must be a plain file name in the model folder"
            )
        if location != weights:
            said = f"names {weights} as its weights" if weights else "names no weights file for it"
            raise ManifestError(f"{path} keeps tensors in {location}, but the manifest {said}")


def model_file(folder: Path | str, manifest: dict, role: str) -> Path:
    """The ONNX file of `role`, checked against the manifest's bytes and sha256 where it gives them;
    where the manifest names a weights file for it, that file too, and that the graph's external
    data is in that file alone (an ONNX Runtime session on the returned path reads it from there)."""
    entry = manifest["models"][role]
    if not plain_file_name(entry["file"]):
        raise ManifestError(f"models.{role}.file must be a plain file name in the model folder, got {json.dumps(entry['file'])}")
    path = _checked(Path(folder) / entry["file"], entry, f"models.{role}.file")
    weights = entry.get("weights")
    if weights is not None:
        _checked(Path(folder) / weights["file"], weights, f"models.{role}.weights.file")
    check_external_data(path, weights["file"] if weights else None)
    return path


def model_files(manifest: dict) -> list[dict]:
    """Every file the manifest lists, once each: {file, bytes, sha256} of the graphs, then of the weights files."""
    models = manifest["models"]
    graphs = [models[r] for r in ROLES if r in models]
    out, seen = [], set()
    for entry in graphs + [g["weights"] for g in graphs if "weights" in g]:
        if entry["file"] not in seen:
            seen.add(entry["file"])
            out.append({k: entry[k] for k in ("file", "bytes", "sha256") if k in entry})
    return out
