"""One copy of each U-Net's weights in a model folder (docs/contracts.md §2, `weights`).

    python3 -m pigkit.share_weights --model ../public/models/busbra64
    python3 -m pigkit.share_weights --model ../public/models/busbra64 --inline /tmp/busbra64-old

A model folder ships each U-Net twice: the plain graph (mask.onnx: ε from [x_t, y_t]) and the step
graph (mask_step.onnx: the same U-Net with the DDIM update and B(·)). Exported self-contained, each
holds every weight, so the folder holds them twice. This rewrites the folder so that both graphs of
a U-Net keep their large initializers (at least SIZE_THRESHOLD bytes) as ONNX external data in one
file, mask.weights and image.weights, each tensor once: tensors are matched by content (dtype, dims,
bytes), since the step graph names them otherwise (`unet.…`, other `onnx::…` numbers). Small tensors
stay inline. manifest.json gets each graph's new size and SHA-256 and a `weights` entry
{file, bytes, sha256}, the same for mask and maskStep; the model card's file table (README.md) is
updated. pigkit.export writes this layout directly.

Nothing about the weights changes: before anything is written, every rewritten graph is read back
with its external data inlined and must serialize to the original graph byte for byte (for a
self-contained export, the original file's bytes), so every ε is the old folder's, bit for bit. A
folder already in this layout is rewritten to the same bytes. `--inline DIR` writes the other way:
a copy of the folder with self-contained graphs and a manifest without `weights` (the layout before,
for tools that read one file per model).
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import shutil
import sys
from pathlib import Path

import onnx

from pigkit.exporter.card_files import replace_file_table
from pigkit.exporter.manifest import (
    ManifestError,
    external_data_files,
    model_file,
    model_files,
    plain_file_name,
    read_manifest,
    sha256_of,
)

SIZE_THRESHOLD = 1024  # bytes; onnx's own default for external data
ALIGN = 64  # each tensor starts at a multiple of this in the weights file
MAX_IR_VERSION = 13  # onnxruntime 1.30 (the studio's) opens ONNX files of IR version ≤ 13
UNETS = {"mask": "maskStep", "image": "imageStep"}  # each U-Net's plain graph and its step graph


def weights_file_name(graph_file: str) -> str:
    """mask.onnx → mask.weights."""
    return f"{Path(graph_file).stem}.weights"


def load_inline(path: Path) -> onnx.ModelProto:
    """The ONNX file at `path` with its external data (if any) read into the graph: the self-contained
    model, serialized as the exporter wrote it (no data_location field left behind)."""
    check_external_data_names(path)
    model = onnx.load(str(path), load_external_data=True)
    for t in _tensors(model.graph):
        t.ClearField("data_location")
    return model


def check_external_data_names(path: Path) -> None:
    """Every external data location of `path` is a plain file name (read from beside it, nowhere else)."""
    for location in external_data_files(onnx.load(str(path), load_external_data=False)):
        if not plain_file_name(location):
            raise ManifestError(
                f"{path} keeps tensors in {json.dumps(location)}: external data must be a plain file name in the model folder"
            )


def _tensors(graph: onnx.GraphProto):
    """The graph's initializers (the only tensors moved to a weights file)."""
    return list(graph.initializer)


def _content(t: onnx.TensorProto) -> bytes | None:
    """The tensor's bytes as ONNX external data stores them (its raw_data, as the exporter writes
    every initializer), or None for one that stays inline: too small, or values in typed fields
    (float_data, …), which moved out and back would not serialize as they were."""
    if t.data_location == onnx.TensorProto.EXTERNAL or not t.HasField("raw_data"):
        return None
    return t.raw_data if len(t.raw_data) >= SIZE_THRESHOLD else None


def _externalize(t: onnx.TensorProto, location: str, offset: int) -> None:
    onnx.external_data_helper.set_external_data(t, location, offset, len(t.raw_data))
    t.ClearField("raw_data")


def _inline_from(model: onnx.ModelProto, blob: bytes) -> onnx.ModelProto:
    """A copy of `model` with every external tensor's bytes taken from `blob` (its one weights file)."""
    out = copy.deepcopy(model)
    for t in _tensors(out.graph):
        if t.data_location != onnx.TensorProto.EXTERNAL:
            continue
        info = {e.key: e.value for e in t.external_data}
        offset, length = int(info.get("offset", 0)), int(info["length"])
        t.raw_data = blob[offset : offset + length]
        del t.external_data[:]
        t.ClearField("data_location")
    return out


def share_unet(graphs: dict[str, onnx.ModelProto], weights_name: str) -> tuple[dict[str, onnx.ModelProto], bytes]:
    """The graphs of one U-Net (self-contained ModelProtos) with their large initializers moved to one
    weights blob, each distinct tensor (dtype, dims, bytes) once; returns the new graphs and the blob."""
    blob = bytearray()
    where: dict[tuple, int] = {}
    shared = {}
    for key, model in graphs.items():
        model = copy.deepcopy(model)
        for t in _tensors(model.graph):
            raw = _content(t)
            if raw is None:
                continue
            content = (t.data_type, tuple(t.dims), raw)
            if content not in where:
                blob += bytes(-len(blob) % ALIGN)
                where[content] = len(blob)
                blob += raw
            _externalize(t, weights_name, where[content])
        shared[key] = model
    return shared, bytes(blob)


def _write(path: Path, data: bytes) -> None:
    """Written beside, then renamed: a killed conversion never leaves half a file under the name."""
    tmp = path.with_name(path.name + ".partial")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _with_weights(entry: dict, path: Path, weights: dict | None) -> dict:
    """The manifest entry of a rewritten graph: its new sha256 and bytes, `weights` after them."""
    out = {k: v for k, v in entry.items() if k != "weights"}
    out.update(sha256=sha256_of(path), bytes=path.stat().st_size)
    ordered = {k: out[k] for k in ("file", "sha256", "bytes")}
    if weights is not None:
        ordered["weights"] = weights
    return {**ordered, **{k: v for k, v in out.items() if k not in ordered}}


def share_weights(folder: Path | str, entries: dict) -> dict:
    """Rewrites the graphs of `entries` (a manifest's `models`) in `folder` into the shared layout and
    returns the entries to write into its manifest. Graphs are read whichever layout they have; every
    rewritten graph is checked to be its original, weights inlined, byte for byte, before any write."""
    folder = Path(folder)
    entries = dict(entries)
    plan = []
    for plain, step in UNETS.items():
        keys = [k for k in (plain, step) if k in entries]
        if plain not in keys:
            continue
        originals = {k: load_inline(folder / entries[k]["file"]) for k in keys}
        for k, m in originals.items():
            if m.ir_version > MAX_IR_VERSION:
                raise ValueError(
                    f"{folder / entries[k]['file']}: IR version {m.ir_version}; the studio's ONNX Runtime opens "
                    f"≤ {MAX_IR_VERSION}"
                )
        name = weights_file_name(entries[plain]["file"])
        shared, blob = share_unet(originals, name)
        for k, m in shared.items():
            if _inline_from(m, blob).SerializeToString() != originals[k].SerializeToString():
                raise AssertionError(f"{entries[k]['file']}: the shared graph does not give back the original")
        plan.append((keys, name, shared, blob))
    for keys, name, shared, blob in plan:
        _write(folder / name, blob)
        weights = {"file": name, "bytes": len(blob), "sha256": sha256_of(folder / name)}
        for k in keys:
            path = folder / entries[k]["file"]
            _write(path, shared[k].SerializeToString())
            entries[k] = _with_weights(entries[k], path, weights)
    return entries


def inline_weights(folder: Path | str, entries: dict, dest: Path | str | None = None) -> dict:
    """The graphs of `entries` read from `folder` and written self-contained (weights inlined, the
    bytes a self-contained export writes) into `dest` (default: `folder`); returns the entries without
    `weights`. Weights files are neither copied nor deleted."""
    folder, dest = Path(folder), Path(dest if dest is not None else folder)
    entries = dict(entries)
    models = {k: load_inline(folder / e["file"]) for k, e in entries.items()}
    for k, model in models.items():
        path = dest / entries[k]["file"]
        _write(path, model.SerializeToString())
        entries[k] = _with_weights(entries[k], path, None)
    return entries


def _update_card(folder: Path, manifest: dict) -> None:

    readme = folder / "README.md"
    if readme.is_file():
        readme.write_text(replace_file_table(readme.read_text(encoding="utf-8"), manifest), encoding="utf-8")


def _write_manifest(folder: Path, manifest: dict) -> None:
    _write(folder / "manifest.json", (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode())


def convert_folder(folder: Path | str) -> dict:
    """A model folder in place: its graphs share one weights file per U-Net; returns the new manifest."""
    folder = Path(folder)
    manifest = read_manifest(folder)
    for role in manifest["models"]:
        model_file(folder, manifest, role)  # the files are the manifest's before anything changes
    manifest["models"] = share_weights(folder, manifest["models"])
    _write_manifest(folder, manifest)
    _update_card(folder, manifest)
    for role in manifest["models"]:
        model_file(folder, manifest, role)
    return manifest


def inline_folder(folder: Path | str, dest: Path | str) -> dict:
    """A copy of `folder` at `dest` (which must not exist) in the self-contained layout (no weights
    files, graphs with their weights inside, manifest without `weights`); returns its manifest."""
    folder, dest = Path(folder), Path(dest)
    manifest = read_manifest(folder)
    for role in manifest["models"]:
        model_file(folder, manifest, role)
    weights = {e["weights"]["file"] for e in manifest["models"].values() if "weights" in e}
    shutil.copytree(folder, dest, ignore=lambda _d, names: [n for n in names if n in weights])
    manifest["models"] = inline_weights(folder, manifest["models"], dest)
    _write_manifest(dest, manifest)
    _update_card(dest, manifest)
    return manifest


def main(argv=None) -> int:
    p = argparse.ArgumentParser(
        prog="pigkit.share_weights", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--model", required=True, help="a model folder (manifest.json and its ONNX files), rewritten in place")
    p.add_argument("--inline", default=None, metavar="DIR", help="instead write a self-contained copy of the folder to DIR")
    a = p.parse_args(argv)
    try:
        if a.inline:
            if Path(a.inline).exists():
                p.error(f"--inline {a.inline} exists: name a new folder")
            manifest = inline_folder(a.model, a.inline)
            where = Path(a.inline)
        else:
            manifest = convert_folder(a.model)
            where = Path(a.model)
    except (ManifestError, OSError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    files = model_files(manifest)
    listed = ", ".join(f"{e['file']} {e['bytes']}" for e in files)
    print(f"{where}: {listed} ({sum(e['bytes'] for e in files)} bytes)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
