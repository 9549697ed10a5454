"""Reading a model folder's manifest.json (docs/contracts.md §2, and §6 for format 2) and checking its files, in Python:
the validation src/core/manifest.ts makes, field for field and in its words (the shared corpus
fixtures/manifests, run by both test suites, holds them to it). Every error names the folder or the
file and the field. Both layouts of a folder are read: graphs
that hold their weights, and graphs whose large initializers live in a shared weights file (ONNX
external data; the manifest's `weights` entry names it, pigkit.share_weights writes it).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import unicodedata
from pathlib import Path

from .limits import (
    ETA_MAX,
    ETA_MIN,
    GUIDANCE_MAX,
    GUIDANCE_MIN,
    MAX_ATTRIBUTE_NAME_CHARS,
    MAX_ATTRIBUTE_VALUE_CHARS,
    MAX_ATTRIBUTE_VALUES,
    MAX_ATTRIBUTES,
    MAX_CARD_CHARS,
    MAX_LATENT_CHANNELS,
    MAX_LATENT_FACTOR,
    MAX_MANIFEST_CHARS,
    MAX_MANIFEST_DEPTH,
    MAX_RESOLUTION,
    MAX_T,
)
from .schedule import CLIP_MODES
from .stepgraph import STEP_GRAPHS, step_shapes


class ManifestError(ValueError):
    """A model folder that is not what docs/contracts.md describes."""


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# a file of the model folder itself: no folder part, not "." or ".." (src/core/manifest.ts FILE_NAME)
PLAIN_FILE = re.compile(r"^(?!\.+$)[A-Za-z0-9._-]+$")
FILE_NAME_WHAT = "a plain file name in the model folder (letters, digits, . _ -)"
SHA256 = re.compile(r"^[0-9a-f]{64}$")
ROLES = ("mask", "image", "maskStep", "imageStep")
STEP_ROLES = ("maskStep", "imageStep")
LATENT_ROLES = ("mask", "image", "encoder", "decoder")  # format 2 with a latent (docs/contracts.md §6a)
ATTRIBUTE_INPUT = "a"  # the U-Nets' one-hot attribute code [1, K] (§6b)
ANY_VALUE = "any"  # what a request says for no value of an attribute
ATTRIBUTE_NAME = re.compile(rf"[A-Za-z0-9_-]{{1,{MAX_ATTRIBUTE_NAME_CHARS}}}")  # fullmatch: no trailing newline


def model_roles(manifest: dict) -> tuple[str, ...]:
    """The models a valid manifest may list, in manifest order: format 1's U-Nets and step graphs;
    format 2's U-Nets and, with a latent, the autoencoder (src/core/manifest.ts modelKeys)."""
    if manifest.get("format") != 2:
        return ROLES
    return LATENT_ROLES if "latent" in manifest else LATENT_ROLES[:2]


def plain_file_name(name) -> bool:
    """Whether `name` names a file in the model folder itself (letters, digits, . _ -; not . or ..)."""
    return isinstance(name, str) and PLAIN_FILE.match(name) is not None


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


def _type_name(v) -> str:
    """What a JSON value is, in the studio's words (manifest.ts typeName)."""
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "boolean"
    return {dict: "object", list: "an array", str: "string"}.get(type(v), "number" if _is_number(v) else type(v).__name__)


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _finite(v) -> bool:
    try:
        return math.isfinite(v)
    except OverflowError:  # an integer too large for a double, which JSON.parse reads as Infinity
        return False


def _integral(v) -> bool:
    return _is_number(v) and _finite(v) and float(v).is_integer()


def _js(v) -> str:
    """v as JSON.stringify writes it (no spaces), for messages."""
    return json.dumps(v, separators=(",", ":"), ensure_ascii=False, default=str)


def _num(v) -> str:
    """A number as JavaScript's String(v) writes it (8, not 8.0), for messages."""
    return str(int(v)) if isinstance(v, float) and v.is_integer() and abs(v) < 1e21 else str(v)


_ABSENT = object()


class _Checker:
    """src/core/manifest.ts's Checker: every problem collected, each naming the field the same way."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def field(self, obj: dict, key: str, path: str):
        if key not in obj:
            self.problems.append(f"{path}.{key} is missing")
            return _ABSENT
        return obj[key]

    def object(self, obj: dict, key: str, path: str) -> dict | None:
        v = self.field(obj, key, path)
        if v is _ABSENT:
            return None
        if not isinstance(v, dict):
            self.problems.append(f"{path}.{key} must be an object, got {_type_name(v)}")
            return None
        return v

    def string(self, obj: dict, key: str, path: str, pattern: re.Pattern | None = None, what: str = "") -> str | None:
        v = self.field(obj, key, path)
        if v is _ABSENT:
            return None
        if not isinstance(v, str) or not v:
            self.problems.append(f"{path}.{key} must be a non-empty string, got {_type_name(v)}")
            return None
        if pattern and not pattern.match(v):
            self.problems.append(f'{path}.{key} must be {what}, got "{v[:80]}"')
            return None
        return v

    def number(self, obj: dict, key: str, path: str, *, integer=False, lo=None, hi=None, open_lo=False, open_hi=False, why=""):
        """The number at obj[key] within its bounds (an integral float made an int), else None."""
        v = self.field(obj, key, path)
        if v is _ABSENT:
            return None
        if not _is_number(v):
            self.problems.append(f"{path}.{key} must be a number, got {_type_name(v)}")
            return None
        if not _finite(v):
            self.problems.append(f"{path}.{key} must be a finite number, got {'Infinity' if v > 0 else '-Infinity'}")
            return None
        if integer and not _integral(v):
            self.problems.append(f"{path}.{key} must be an integer, got {_num(v)}")
            return None
        if lo is not None and (v <= lo if open_lo else v < lo):
            self.problems.append(f"{path}.{key} must be {'>' if open_lo else '≥'} {lo}, got {_num(v)}")
            return None
        if hi is not None and (v >= hi if open_hi else v > hi):
            why = f" ({why})" if why else ""
            self.problems.append(f"{path}.{key} must be {'<' if open_hi else '≤'} {hi}{why}, got {_num(v)}")
            return None
        if integer:
            obj[key] = v = int(v)  # JSON does not tell 8.0 from 8, and JavaScript reads both as 8
        return v

    def literal(self, obj: dict, key: str, path: str, allowed: tuple):
        v = self.field(obj, key, path)
        if v is _ABSENT:
            return None
        if isinstance(v, bool) or v not in allowed:
            self.problems.append(f"{path}.{key} must be {' or '.join(_js(a) for a in allowed)}, got {_js(v)}")
            return None
        return v

    def number_tuple(self, obj: dict, key: str, path: str, length: int, max_integer: int | None = None) -> list | None:
        """`length` numbers; with `max_integer`, positive integers up to it (made ints)."""
        v = self.field(obj, key, path)
        if v is _ABSENT:
            return None

        def ok(x) -> bool:
            if not (_is_number(x) and _finite(x)):
                return False
            return max_integer is None or (_integral(x) and 0 < x <= max_integer)

        if not (isinstance(v, list) and len(v) == length and all(ok(x) for x in v)):
            what = f"integers from 1 to {max_integer}" if max_integer is not None else "finite numbers"
            self.problems.append(f"{path}.{key} must be an array of {length} {what}, got {_js(v)}")
            return None
        if max_integer is not None:
            v[:] = [int(x) for x in v]
        return v

    def tensor_list(self, obj: dict, key: str, path: str) -> list[dict] | None:
        v = self.field(obj, key, path)
        if v is _ABSENT:
            return None
        if not isinstance(v, list) or not v:
            self.problems.append(f"{path}.{key} must be a non-empty array of {{ name, shape }}")
            return None
        out = []
        for i, item in enumerate(v):
            p = f"{path}.{key}[{i}]"
            if not isinstance(item, dict):
                self.problems.append(f"{p} must be an object {{ name, shape }}, got {_type_name(item)}")
                continue
            name = self.string(item, "name", p)
            shape = self.field(item, "shape", p)
            if shape is not _ABSENT and not (isinstance(shape, list) and all(_integral(d) and d > 0 for d in shape)):
                self.problems.append(f"{p}.shape must be an array of positive integers (static shapes), got {_js(shape)}")
                continue
            if name is not None and shape is not _ABSENT:
                shape[:] = [int(d) for d in shape]
                out.append({"name": name, "shape": shape})
        return out


def validate_manifest(m) -> list[str]:
    """Every problem of a parsed manifest.json, in src/core/manifest.ts validateManifest's words and
    order (empty: valid). Integral floats of integer fields become ints, as JavaScript reads them."""
    c, root = _Checker(), "manifest"
    if not isinstance(m, dict):
        return [f"{root} must be a JSON object, got {_type_name(m)}"]
    fmt = c.literal(m, "format", root, (1, 2))
    c.string(m, "name", root)
    res = c.number_tuple(m, "resolution", root, 2, MAX_RESOLUTION)

    schedule = c.object(m, "schedule", root)
    if schedule is not None:
        p = f"{root}.schedule"
        c.literal(schedule, "kind", p, ("linear",))
        # 0 < β < 1: ᾱ is the product of (1 − β), and β = 1 makes it 0 for every later step
        b0 = c.number(schedule, "betaStart", p, lo=0, open_lo=True, hi=1, open_hi=True)
        b1 = c.number(schedule, "betaEnd", p, lo=0, open_lo=True, hi=1, open_hi=True)
        c.number(schedule, "T", p, integer=True, lo=1, hi=MAX_T, why="the longest schedule the studio, the CLI and the kit take")
        if b0 is not None and b1 is not None and b1 < b0:
            c.problems.append(f"{p}.betaEnd ({_num(b1)}) must be ≥ betaStart ({_num(b0)})")

    sampler = c.object(m, "sampler", root)
    if sampler is not None:
        p = f"{root}.sampler"
        steps = c.number(sampler, "steps", p, integer=True, lo=1, hi=MAX_T)
        T = schedule.get("T") if schedule is not None else None
        if steps is not None and _is_number(T) and steps > T:
            c.problems.append(f"{p}.steps ({steps}) must be ≤ schedule.T ({_num(T)})")
        c.literal(sampler, "skip", p, ("uniform",))
        eta_why = "η: 0 is deterministic DDIM, 1 DDPM-like; past 1 the chains saturate"
        c.number(sampler, "eta", p, lo=ETA_MIN, hi=ETA_MAX, why=eta_why)
        if "clip" in sampler:
            c.literal(sampler, "clip", p, CLIP_MODES)
        if fmt == 2 and "guidance" in sampler:
            why = "classifier-free guidance w: 1 is none, past 20 the guided ε only saturates"
            c.number(sampler, "guidance", p, lo=GUIDANCE_MIN, hi=GUIDANCE_MAX, why=why)
        binarize = c.object(sampler, "binarize", p)
        if binarize is not None:
            q = f"{p}.binarize"
            k = c.number(binarize, "kernel", q, integer=True, lo=1)
            if k is not None and k % 2 != 1:
                c.problems.append(f"{q}.kernel must be odd, got {k}")
            c.number_tuple(binarize, "weights", q, 2)

    # format 2's capabilities; shapes stays None where a bad field leaves the models' shapes unknown
    shapes = {"res": res, "grid": res, "channels": 1, "code": 0} if res is not None else None
    roles = ROLES
    if fmt == 2:
        if "latent" not in m and "attributes" not in m:
            said = "format 2 adds one or both (docs/contracts.md §6)"
            c.problems.append(f"{root}.format is 2 but the manifest has neither latent nor attributes: {said}")
        if "latent" in m:
            roles = LATENT_ROLES
            latent = _check_latent(c, m, res)
            shapes = {**shapes, "grid": latent["grid"], "channels": latent["channels"]} if latent and shapes else None
        else:
            roles = LATENT_ROLES[:2]
        if "attributes" in m:
            attributes = _check_attributes(c, m["attributes"])
            code = sum(len(a["values"]) + 1 for a in attributes or [])
            shapes = {**shapes, "code": code} if attributes and shapes else None

    models = c.object(m, "models", root)
    if models is not None:
        if fmt == 2:
            for role in STEP_ROLES:
                if role in models:
                    said = "they are a format-1 option, docs/contracts.md §1b"
                    c.problems.append(f"{root}.models.{role}: format 2 has no step graphs ({said})")
        for role in roles:
            if role in STEP_ROLES and role not in models:
                continue
            entry = c.object(models, role, f"{root}.models")
            if entry is None:
                continue
            p = f"{root}.models.{role}"
            c.string(entry, "file", p, PLAIN_FILE, FILE_NAME_WHAT)
            c.string(entry, "sha256", p, SHA256, "64 lowercase hex digits")
            c.number(entry, "bytes", p, integer=True, lo=1)
            if "weights" in entry:
                w = c.object(entry, "weights", p)
                if w is not None:
                    c.string(w, "file", f"{p}.weights", PLAIN_FILE, FILE_NAME_WHAT)
                    c.number(w, "bytes", f"{p}.weights", integer=True, lo=1)
                    c.string(w, "sha256", f"{p}.weights", SHA256, "64 lowercase hex digits")
            inputs = c.tensor_list(entry, "inputs", p)
            outputs = c.tensor_list(entry, "outputs", p)
            if shapes is None or inputs is None or outputs is None:
                continue
            _check_contract(c.problems, p, role, inputs, outputs, shapes)
    if models is not None and not c.problems:
        _check_weights_files(c.problems, models, roles)

    if "card" not in m:
        c.problems.append(f"{root}.card is missing")
    elif not isinstance(m["card"], dict):
        c.problems.append(f"{root}.card must be an object, got {_type_name(m['card'])}")
    _check_size(c.problems, m)
    return c.problems


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
    chars = len(_js(card))
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
        problems.append(f'{path}.{where} "{name}" must have shape {_js(shape)}, got {_js(s["shape"])}')


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


def _check_latent(c: _Checker, m: dict, res: list | None) -> dict | None:
    """`manifest.latent` (contracts.md §6a), checked against the resolution; None when anything in it is wrong."""
    before = len(c.problems)
    latent = c.object(m, "latent", "manifest")
    if latent is None:
        return None
    p = "manifest.latent"
    few = "an autoencoder of a slice has a few"
    channels = c.number(latent, "channels", p, integer=True, lo=1, hi=MAX_LATENT_CHANNELS, why=few)
    f = c.number(latent, "factor", p, integer=True, lo=1, hi=MAX_LATENT_FACTOR)
    if f is not None and f & (f - 1):
        c.problems.append(f"{p}.factor must be a power of two, got {f}")
    grid = c.number_tuple(latent, "grid", p, 2, MAX_RESOLUTION)
    c.number(latent, "scale", p, lo=0, open_lo=True)
    preview = c.object(latent, "preview", p)
    if preview is not None:
        if channels is not None:
            c.number_tuple(preview, "weights", f"{p}.preview", channels)
        c.number(preview, "bias", f"{p}.preview")
    if res is not None and f is not None and grid is not None and len(c.problems) == before:
        if res[0] % f or res[1] % f:
            c.problems.append(f"manifest.resolution {_js(res)} must be a multiple of latent.factor {f}")
        elif grid != [res[0] // f, res[1] // f]:
            want = _js([res[0] // f, res[1] // f])
            c.problems.append(f"{p}.grid must be {want} (resolution {_js(res)} / factor {f}), got {_js(grid)}")
    return latent if len(c.problems) == before else None


def _printable(v: str) -> bool:
    return not any(unicodedata.category(ch) == "Cc" for ch in v)


def _check_attributes(c: _Checker, v) -> list | None:
    """`manifest.attributes` (contracts.md §6b); None when anything in it is wrong."""
    before = len(c.problems)
    p = "manifest.attributes"
    if not isinstance(v, list) or not 1 <= len(v) <= MAX_ATTRIBUTES:
        got = f"{len(v)} entries" if isinstance(v, list) else _type_name(v)
        c.problems.append(f"{p} must be an array of 1 to {MAX_ATTRIBUTES} {{ name, values }}, got {got}")
        return None
    names: dict[str, int] = {}
    for i, item in enumerate(v):
        q = f"{p}[{i}]"
        if not isinstance(item, dict):
            c.problems.append(f"{q} must be an object {{ name, values }}, got {_type_name(item)}")
            continue
        name = c.field(item, "name", q)
        if name is not _ABSENT:
            if not isinstance(name, str) or not name:
                c.problems.append(f"{q}.name must be a non-empty string, got {_type_name(name)}")
            elif not ATTRIBUTE_NAME.fullmatch(name):
                c.problems.append(f'{q}.name must be 1 to {MAX_ATTRIBUTE_NAME_CHARS} letters, digits, _ or -, got "{name[:80]}"')
            elif name in names:
                c.problems.append(f'{q}.name "{name}" is also {p}[{names[name]}].name: each attribute is listed once')
            else:
                names[name] = i
        values = c.field(item, "values", q)
        if values is _ABSENT:
            continue
        if not isinstance(values, list) or not 1 <= len(values) <= MAX_ATTRIBUTE_VALUES:
            got = f"{len(values)} entries" if isinstance(values, list) else _type_name(values)
            c.problems.append(f"{q}.values must be an array of 1 to {MAX_ATTRIBUTE_VALUES} values, got {got}")
            continue
        seen: set[str] = set()
        for j, value in enumerate(values):
            r = f"{q}.values[{j}]"
            if not isinstance(value, str) or not 1 <= len(value) <= MAX_ATTRIBUTE_VALUE_CHARS or not _printable(value):
                got = _js(value[:80]) if isinstance(value, str) else _type_name(value)
                c.problems.append(f"{r} must be 1 to {MAX_ATTRIBUTE_VALUE_CHARS} printable characters, got {got}")
            elif value == ANY_VALUE:
                c.problems.append(f'{r} is "{ANY_VALUE}", which a request says for no value: name the value otherwise')
            elif value in seen:
                c.problems.append(f"{r} {_js(value)} is listed twice")
            else:
                seen.add(value)
    return v if len(c.problems) == before else None


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
