"""Reading a model folder's manifest.json (docs/contracts.md §2, and §6 for format 2) and checking its files, in Python:
the fields by schemas/manifest.schema.json (manifest_schema), what a schema cannot say written out
here, as src/core/manifest.ts does and in its words (the shared corpus fixtures/manifests, run by
both test suites, holds them to it). Every error names the folder or the file and the field. Both
layouts of a folder are read: graphs that hold their weights, and graphs whose large initializers
live in a shared weights file (ONNX external data; the manifest's `weights` entry names it,
pigkit.share_weights writes it).
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from .limits import MAX_CARD_CHARS, MAX_MANIFEST_CHARS, MAX_MANIFEST_DEPTH
from .manifest_schema import check_schema, in_field_order, ints_as_javascript_reads_them, js, num
from .stepgraph import STEP_GRAPHS, step_shapes


class ManifestError(ValueError):
    """A model folder that is not what docs/contracts.md describes."""


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# a file of the model folder itself: no folder part, not "." or ".." (the schema's $defs.fileName, for
# the external data locations inside a graph; test_manifest_corpus compares the two)
PLAIN_FILE = re.compile(r"^(?!\.+$)[A-Za-z0-9._-]+$")
ROLES = ("mask", "image", "maskStep", "imageStep")
STEP_ROLES = ("maskStep", "imageStep")
LATENT_ROLES = ("mask", "image", "encoder", "decoder")  # format 2 with a latent (docs/contracts.md §6a)
ATTRIBUTE_INPUT = "a"  # the U-Nets' one-hot attribute code [1, K] (§6b)
ANY_VALUE = "any"  # what a request says for no value of an attribute


def model_roles(manifest: dict) -> tuple[str, ...]:
    """The models a valid manifest may list, in manifest order: format 1's U-Nets and step graphs;
    format 2's U-Nets and, with a latent, the autoencoder (src/core/manifest.ts modelKeys)."""
    if manifest.get("format") != 2:
        return ROLES
    return LATENT_ROLES if "latent" in manifest else LATENT_ROLES[:2]


def plain_file_name(name) -> bool:
    """Whether `name` names a file in the model folder itself (letters, digits, . _ -; not . or ..)."""
    return isinstance(name, str) and PLAIN_FILE.fullmatch(name) is not None


def write_manifest(folder: Path | str, manifest: dict) -> None:
    """manifest.json of a model folder, as the export writes it (2-space indent, UTF-8 kept)."""
    (Path(folder) / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


def read_manifest(folder: Path | str) -> dict:
    """manifest.json of a model folder, checked in full as the studio and the CLI check it
    (validate_manifest; the shared corpus fixtures/manifests proves the two agree)."""
    folder = Path(folder)
    where = folder / "manifest.json"
    if not folder.is_dir():
        raise ManifestError(f"{folder}: no such model folder")
    if not where.is_file():
        raise ManifestError(
            f"{folder}: no manifest.json (a model folder holds manifest.json and its ONNX files, e.g. public/models/tiny)"
        )
    if where.stat().st_size > 4 * MAX_MANIFEST_CHARS:  # before reading: no UTF-8 character is longer
        size = where.stat().st_size
        raise ManifestError(f"{where} is {size} bytes, more than a model manifest ({MAX_MANIFEST_CHARS} characters)")
    try:
        text = where.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise ManifestError(f"{where} is not valid JSON ({e})") from None
    return parse_manifest(text, where)


def parse_manifest(text: str, where: Path | str) -> dict:
    """The manifest in `text` (manifest.json at `where`, for messages), checked by validate_manifest.
    NaN and Infinity, which Python's JSON reader takes and JSON does not, are refused."""
    if len(text) > MAX_MANIFEST_CHARS:
        raise ManifestError(f"{where} is {len(text)} characters, more than a model manifest ({MAX_MANIFEST_CHARS})")
    try:
        m = json.loads(text, parse_constant=_refuse_constant)
    except RecursionError:
        raise ManifestError(f"{where} nests objects and arrays more than {MAX_MANIFEST_DEPTH} deep (too deep to read)") from None
    except ValueError as e:
        raise ManifestError(f"{where} is not valid JSON ({e})") from None
    problems = validate_manifest(m)
    if problems:
        said = problems[0] if len(problems) == 1 else "invalid manifest:\n- " + "\n- ".join(problems)
        raise ManifestError(f"{where}: {said}")
    return m


def validate_manifest(m) -> list[str]:
    """Every problem of a parsed manifest.json, in src/core/manifest.ts validateManifest's words (empty:
    valid). The fields' types and bounds are schemas/manifest.schema.json's (manifest_schema); what a
    schema cannot say is written out here, checked where the fields it reads are sound: the checks
    across fields (betas, steps, the latent's grid, attribute names, the graphs' tensors, weights
    files) and the nesting depth and size of the values. Integral floats of integer fields become
    ints, as JavaScript reads them."""
    problems, sound = check_schema(m)
    if not isinstance(m, dict):
        return problems
    if not problems:
        ints_as_javascript_reads_them(m)
    problems += _cross_field_problems(m, sound)
    _check_size(problems, m)
    return in_field_order(problems)


def _cross_field_problems(m: dict, sound) -> list[str]:
    """What the schema cannot say about a manifest, for the fields the schema found sound."""
    problems: list[str] = []

    def all_sound(*paths: str) -> bool:
        return all(sound(tuple(p.split("/"))) for p in paths)

    if all_sound("schedule/betaStart", "schedule/betaEnd") and m["schedule"]["betaEnd"] < m["schedule"]["betaStart"]:
        b0, b1 = m["schedule"]["betaStart"], m["schedule"]["betaEnd"]
        problems.append(f"manifest.schedule.betaEnd ({num(b1)}) must be ≥ betaStart ({num(b0)})")
    if all_sound("sampler/steps", "schedule/T") and m["sampler"]["steps"] > m["schedule"]["T"]:
        problems.append(f"manifest.sampler.steps ({num(m['sampler']['steps'])}) must be ≤ schedule.T ({num(m['schedule']['T'])})")
    # the graphs' shapes follow from the resolution, the latent and the attributes, where all are sound
    shapes_known = all_sound("resolution")
    latent = m.get("latent") if m.get("format") == 2 else None
    if latent is not None:
        before = len(problems)
        if all_sound("latent", "resolution"):
            _check_latent(problems, latent, m["resolution"])
        shapes_known = shapes_known and all_sound("latent") and len(problems) == before
    attributes = m.get("attributes", []) if m.get("format") == 2 else []
    if m.get("format") == 2 and "attributes" in m:
        before = len(problems)
        if all_sound("attributes"):
            _check_attribute_names(problems, attributes)
        shapes_known = shapes_known and all_sound("attributes") and len(problems) == before
    roles = model_roles(m)
    if shapes_known:
        res = m["resolution"]
        shapes = {"res": res, "grid": latent["grid"] if latent else res, "channels": latent["channels"] if latent else 1}
        shapes["code"] = sum(len(a["values"]) + 1 for a in attributes)
        models = m.get("models") if isinstance(m.get("models"), dict) else {}
        for role in roles:
            if role in models and all_sound(f"models/{role}/inputs", f"models/{role}/outputs"):
                entry = models[role]
                _check_contract(problems, f"manifest.models.{role}", role, entry["inputs"], entry["outputs"], shapes)
    if not problems and sound(()):
        _check_weights_files(problems, m["models"], roles)
    return problems


def _check_attribute_names(problems: list[str], attributes: list) -> None:
    """Each attribute named once (the schema's uniqueItems would compare whole entries)."""
    first: dict[str, int] = {}
    for i, a in enumerate(attributes):
        other = first.setdefault(a["name"], i)
        if other != i:
            said = f"is also manifest.attributes[{other}].name: each attribute is listed once"
            problems.append(f'manifest.attributes[{i}].name "{a["name"]}" {said}')


def _check_latent(problems: list[str], latent: dict, res: list) -> None:
    """`manifest.latent` against the resolution, and one preview weight per channel (contracts.md §6a)."""
    p, f, grid, weights = "manifest.latent", latent["factor"], latent["grid"], latent["preview"]["weights"]
    if len(weights) != latent["channels"]:
        want = f"an array of {latent['channels']} finite numbers (one per latent channel)"
        problems.append(f"{p}.preview.weights must be {want}, got {js(weights)}")
    if res[0] % f or res[1] % f:
        problems.append(f"manifest.resolution {js(res)} must be a multiple of latent.factor {f}")
    elif grid != [res[0] // f, res[1] // f]:
        want = js([res[0] // f, res[1] // f])
        problems.append(f"{p}.grid must be {want} (resolution {js(res)} / factor {f}), got {js(grid)}")


def _depth(v, limit: int) -> int:
    """How deep `v` nests objects and arrays, counting up to `limit` + 1 at most (manifest.ts depth)."""
    if not isinstance(v, (dict, list)):
        return 0
    if limit < 0:
        return 1
    return 1 + max((_depth(x, limit - 1) for x in (v.values() if isinstance(v, dict) else v)), default=0)


def _check_size(problems: list[str], m: dict) -> None:
    for key, v in m.items():
        if _depth(v, MAX_MANIFEST_DEPTH) > MAX_MANIFEST_DEPTH:
            problems.append(f"manifest.{key} nests objects and arrays more than {MAX_MANIFEST_DEPTH} deep")
    card = m.get("card")
    if not isinstance(card, dict) or _depth(card, MAX_MANIFEST_DEPTH) > MAX_MANIFEST_DEPTH:
        return
    chars = len(js(card))
    if chars > MAX_CARD_CHARS:
        problems.append(
            f"manifest.card is {chars} characters of JSON, more than {MAX_CARD_CHARS}: keep long text in the folder's README.md"
        )


def _want_tensor(problems: list[str], path: str, specs: list[dict], name: str, shape: list[int], where: str) -> None:
    s = next((x for x in specs if x["name"] == name), None)
    if s is None:
        found = ", ".join(f'"{x["name"]}"' for x in specs)
        problems.append(f'{path}.{where} has no tensor named "{name}" (found {found})')
    elif s["shape"] != shape:
        problems.append(f'{path}.{where} "{name}" must have shape {js(shape)}, got {js(s["shape"])}')


def _check_contract(problems: list[str], path: str, role: str, inputs: list[dict], outputs: list[dict], shapes: dict) -> None:
    """A U-Net's contract (x [1, 1 + C, h, w], t [1], with attributes a [1, K] → eps [1, 1 or C, h, w];
    format 1: C = 1 at [h, w] = [H, W]), a step graph's, or the autoencoder's (encoder y [1,1,H,W] →
    z [1,C,h,w], decoder back): contracts.md §1, §1b, §6 (src/core/manifest.ts checkGraphContract)."""
    (H, W), (h, w), C, K = shapes["res"], shapes["grid"], shapes["channels"], shapes["code"]
    if role in ("encoder", "decoder"):
        pixels, latent = ("y", [1, 1, H, W]), ("z", [1, C, h, w])
        wanted_in, wanted_out = ([pixels], [latent]) if role == "encoder" else ([latent], [pixels])
    elif role not in STEP_ROLES:
        wanted_in = [("x", [1, 1 + C, h, w]), ("t", [1])] + ([(ATTRIBUTE_INPUT, [1, K])] if K > 0 else [])
        wanted_out = [("eps", [1, 1 if role == "mask" else C, h, w])]
    else:
        ins, outs = STEP_GRAPHS[role][1], STEP_GRAPHS[role][2]
        names = ins if any(s["name"] == "clip" for s in inputs) else [n for n in ins if n != "clip"]
        wanted_in = list(zip(names, step_shapes(names, H, W)))
        wanted_out = list(zip(outs, step_shapes(outs, H, W)))
    for name, shape in wanted_in:
        _want_tensor(problems, path, inputs, name, shape, "inputs")
    for name, shape in wanted_out:
        _want_tensor(problems, path, outputs, name, shape, "outputs")


def _check_weights_files(problems: list[str], models: dict, roles_: tuple[str, ...] = ROLES) -> None:
    """A weights file named by several graphs has one size and one SHA-256, and is not a graph or the manifest."""
    roles = [r for r in roles_ if r in models]
    graphs = {"manifest.json", *(models[r]["file"] for r in roles)}
    first: dict[str, str] = {}
    for role in roles:
        w = models[role].get("weights")
        if w is None:
            continue
        p = f"manifest.models.{role}.weights"
        if w["file"] in graphs:
            problems.append(f'{p}.file "{w["file"]}" is a model graph or the manifest, not a weights file')
            continue
        other = first.setdefault(w["file"], role)
        o = models[other]["weights"]
        if (o["bytes"], o["sha256"]) != (w["bytes"], w["sha256"]):
            problems.append(
                f"{p} names {w['file']} as manifest.models.{other}.weights does, but with another bytes or sha256: "
                "one file has one size and one SHA-256"
            )


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
    graphs = [models[r] for r in model_roles(manifest) if r in models]
    out, seen = [], set()
    for entry in graphs + [g["weights"] for g in graphs if "weights" in g]:
        if entry["file"] not in seen:
            seen.add(entry["file"])
            out.append({k: entry[k] for k in ("file", "bytes", "sha256") if k in entry})
    return out
