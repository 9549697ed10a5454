"""The manifest's schema (schemas/manifest.schema.json) as the kit runs it: jsonschema's validator and
its errors in the studio's words (src/core/manifest-schema.ts says the same), one line each naming
the field. The schema's $comment describes its x-message and x-why annotations."""

from __future__ import annotations

import copy
import json
import math
import re
from collections.abc import Callable
from functools import cache
from pathlib import Path

import jsonschema
from jsonschema import Draft7Validator, ValidationError

# the repository's schema, beside the studio's: the kit is installed editable (training/pyproject.toml)
SCHEMA_PATH = Path(__file__).resolve().parents[2] / "schemas" / "manifest.schema.json"
MAX_SHOWN = 200  # characters of a value's JSON in a message


def finite(v) -> bool:
    try:
        return math.isfinite(v)
    except OverflowError:  # an integer too large for a double, which JSON.parse reads as Infinity
        return False


def is_number(v) -> bool:
    """A JSON number as JavaScript holds one: not a bool, and finite (1e999 reads as Infinity)."""
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def type_name(v) -> str:
    """What a JSON value is, in the studio's words (manifest-schema.ts typeName)."""
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "boolean"
    return {dict: "object", list: "an array", str: "string"}.get(type(v), "number" if is_number(v) else type(v).__name__)


def js(v) -> str:
    """v as JSON.stringify writes it (no spaces), for messages."""
    return json.dumps(v, separators=(",", ":"), ensure_ascii=False, default=str)


def num(v) -> str:
    """A number as JavaScript's String(v) writes it (8, not 8.0), for messages."""
    if not finite(v):
        return "Infinity" if v > 0 else "-Infinity"
    return str(int(v)) if isinstance(v, float) and v.is_integer() and abs(v) < 1e21 else str(v)


def _shown(v) -> str:
    text = js(v)
    return text[:MAX_SHOWN] + "…" if len(text) > MAX_SHOWN else text


def _with_item_messages(node):
    """An array's items without a message of their own say the array's, about the array (as
    scripts/build-manifest-validator.mjs's withItemMessages gives the studio's validator)."""
    if isinstance(node, list):
        return [_with_item_messages(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {k: _with_item_messages(v) for k, v in node.items()}
    items = out.get("items")
    if isinstance(out.get("x-message"), str) and isinstance(items, dict) and "x-message" not in items:
        out["items"] = {**items, "x-message": out["x-message"], "x-of-array": "true"}
    return out


def _pattern(validator, pattern, instance, schema):
    """ECMA-262's anchored match: Python's $ also matches before a final newline, fullmatch does not."""
    if validator.is_type(instance, "string") and not re.fullmatch(pattern, instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


def _validator(integer):
    types = Draft7Validator.TYPE_CHECKER.redefine_many(
        {"number": lambda _, v: is_number(v) and finite(v), "integer": lambda _, v: is_number(v) and integer(v)}
    )
    cls = jsonschema.validators.extend(Draft7Validator, validators={"pattern": _pattern}, type_checker=types)
    if not SCHEMA_PATH.is_file():
        raise FileNotFoundError(f"{SCHEMA_PATH} is missing: the kit reads the repository's schema (pip install -e training)")
    return cls(_with_item_messages(json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))))


@cache
def _validators():
    """The schema's validator, and one whose integers are ints only (it finds the integral floats)."""
    return _validator(lambda v: finite(v) and float(v).is_integer()), _validator(lambda v: isinstance(v, int))


def schema() -> dict:
    """The schema as the validators read it (a copy)."""
    return copy.deepcopy(_validators()[0].schema)


def _field(path) -> str:
    return "manifest" + "".join(f"[{k}]" if isinstance(k, int) else f".{k}" for k in path)


BOUND = {"minimum": "≥", "exclusiveMinimum": ">", "maximum": "≤", "exclusiveMaximum": "<"}


def _plain(e: ValidationError, path: str) -> str:
    """A failing keyword's message where its schema node has none."""
    v = e.instance
    if e.validator == "type":
        want = e.validator_value
        if want not in ("integer", "number"):
            return f"{path} must be {'an object' if want == 'object' else 'a ' + want}, got {type_name(v)}"
        if not is_number(v):
            return f"{path} must be a number, got {type_name(v)}"
        return f"{path} must be an integer, got {num(v)}" if finite(v) else f"{path} must be a finite number, got {num(v)}"
    if e.validator in BOUND:
        why = e.schema.get("x-why") if e.validator.endswith("aximum") else None
        return f"{path} must be {BOUND[e.validator]} {num(e.validator_value)}{f' ({why})' if why else ''}, got {num(v)}"
    if e.validator in ("enum", "const"):
        allowed = e.validator_value if e.validator == "enum" else [e.validator_value]
        return f"{path} must be {' or '.join(js(a) for a in allowed)}, got {_shown(v)}"
    return f'{path} does not meet the manifest schema\'s "{e.validator}" (schemas/manifest.schema.json)'


def _messages(e: ValidationError, root) -> list[str]:
    """The lines one error says: the missing fields, each repeated item, or the node's message."""
    path = _field(e.path)
    if e.validator == "required":
        return [f"{path}.{k} is missing" for k in e.validator_value if k not in e.instance]
    if e.validator == "uniqueItems":
        seen, out = set(), []
        for j, v in enumerate(e.instance):
            key = js(v)
            if key in seen:
                out.append(f"{path}[{j}] {key} is listed twice")
            seen.add(key)
        return out
    template = e.schema.get("x-message")
    if not isinstance(template, str):
        return [_plain(e, path)]
    where, v = list(e.path), e.instance
    if "x-of-array" in e.schema:  # an item's error, said about its array
        where = where[:-1]
        v = root
        for k in where:
            v = v[k]
    fill = {
        "path": lambda: _field(where),
        "json": lambda: _shown(v),
        "type": lambda: type_name(v),
        "value": lambda: _shown(v[:80]) if isinstance(v, str) else type_name(v),
        "entries": lambda: f"{len(v)} entries" if isinstance(v, list) else type_name(v),
    }
    return [re.sub(r"\{(\w+)\}", lambda m: fill[m[1]]() if m[1] in fill else m[0], template)]


def check_schema(manifest) -> tuple[list[str], Callable[[tuple], bool]]:
    """The schema's problems with a parsed manifest (every one, in the schema's order, each once;
    empty: the fields are what the schema says), and whether the value at a path ("schedule", "T")
    and all inside it are sound. The checks across fields are manifest.py's."""
    out: dict[str, None] = {}
    flawed: list[tuple] = []
    for e in _validators()[0].iter_errors(manifest):
        out.update(dict.fromkeys(_messages(e, manifest)))
        at = tuple(e.path)
        missing = [k for k in e.validator_value if k not in e.instance] if e.validator == "required" else []
        flawed += [(*at, k) for k in missing] or [at]

    def sound(path: tuple) -> bool:
        return not any(f[: len(path)] == path or path[: len(f)] == f for f in flawed)

    return list(out), sound


def ints_as_javascript_reads_them(manifest) -> None:
    """Integral floats where the schema says integer become ints (JSON does not tell 8.0 from 8, and
    JavaScript reads both as 8). For a manifest the schema accepts."""
    found = [e for e in _validators()[1].iter_errors(manifest) if e.validator == "type" and isinstance(e.instance, float)]
    for e in found:
        *where, last = e.path
        parent = manifest
        for k in where:
            parent = parent[k]
        parent[last] = int(e.instance)


def in_field_order(problems: list[str]) -> list[str]:
    """The problems in the order of the schema's top-level fields (by the field each names; "manifest
    must be …" first, unknown fields last), as the studio orders them (manifest-schema.ts inFieldOrder)."""
    order = list(_validators()[0].schema["properties"])

    def rank(line: str) -> int:
        m = re.match(r"manifest\.(\w+)", line)
        return -1 if m is None else order.index(m[1]) if m[1] in order else len(order)

    return sorted(problems, key=rank)
