"""The shared corpus of good and bad manifests (fixtures/manifests/README.md): the kit's validator
must give each case the verdict and message the studio's gives (src/engine/manifest-corpus.test.ts
runs the same files), and the kit's bounds are the studio's (src/core/limits.ts)."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest

from pigkit import limits, manifest_schema
from pigkit.manifest import PLAIN_FILE, ManifestError, parse_manifest, read_manifest, validate_manifest
from pigkit.schedule import CLIP_MODES

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "fixtures" / "manifests"
CASES = sorted(CORPUS.glob("*.json"))
TINY = ROOT / "public" / "models" / "tiny" / "manifest.json"


def _keys(pointer: str) -> list:
    """The keys of a JSON Pointer (RFC 6901), list indexes as ints."""
    return [k.replace("~1", "/").replace("~0", "~") for k in pointer.split("/")[1:]]


def _parent(value, keys: list):
    for k in keys[:-1]:
        value = value[int(k) if isinstance(value, list) else k]
    return value


def manifest_of(case: dict):
    """The case's manifest as a parsed value (every case but `text`)."""
    m = json.loads((ROOT / case["base"]).read_text(encoding="utf-8")) if "base" in case else copy.deepcopy(case["manifest"])
    for pointer, v in case.get("set", {}).items():
        keys = _keys(pointer)
        parent = _parent(m, keys)
        parent[int(keys[-1]) if isinstance(parent, list) else keys[-1]] = v
    for pointer in case.get("remove", []):
        keys = _keys(pointer)
        parent = _parent(m, keys)
        del parent[int(keys[-1]) if isinstance(parent, list) else keys[-1]]
    return m


def verdict(case: dict) -> str | None:
    """None when valid, else the message: the validator on a value, the loader on a text."""
    if "text" in case:
        try:
            parse_manifest(case["text"], "manifest.json")
        except ManifestError as e:
            return str(e)
        return None
    problems = validate_manifest(manifest_of(case))
    return None if not problems else problems[0] if len(problems) == 1 else "invalid manifest:\n- " + "\n- ".join(problems)


def test_the_corpus_has_good_and_bad_cases():
    cases = [json.loads(p.read_text(encoding="utf-8")) for p in CASES]
    assert sum(c["valid"] for c in cases) >= 5 and sum(not c["valid"] for c in cases) >= 40
    assert all(c["valid"] or isinstance(c.get("mentions"), str) for c in cases)


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_corpus_case(path):
    case = json.loads(path.read_text(encoding="utf-8"))
    message = verdict(case)
    if case["valid"]:
        assert message is None, f"{case['about']}: {message}"
    else:
        assert message is not None and case["mentions"] in message, f"{case['about']}: {message}"


def test_bounds_are_the_studios():
    """One set of values: pigkit.limits holds src/core/limits.ts's numbers."""
    ts = (ROOT / "src" / "core" / "limits.ts").read_text(encoding="utf-8")
    found = dict(re.findall(r"export const (\w+) = ([\d_]+);", ts))
    names = ("ETA_MIN", "ETA_MAX", "MAX_T", "MAX_RESOLUTION", "MAX_MANIFEST_DEPTH", "MAX_CARD_CHARS", "MAX_MANIFEST_CHARS")
    names += ("GUIDANCE_MIN", "GUIDANCE_MAX", "MAX_ATTRIBUTES", "MAX_ATTRIBUTE_VALUES", "MAX_ATTRIBUTE_NAME_CHARS")
    names += ("MAX_ATTRIBUTE_VALUE_CHARS", "MAX_LATENT_CHANNELS", "MAX_LATENT_FACTOR")
    for name in names:
        assert getattr(limits, name) == int(found[name].replace("_", "")), name


def _at(value, pointer: str):
    for k in _keys(pointer):
        value = value[int(k) if isinstance(value, list) else k]
    return value


def test_the_schemas_bounds_are_the_kits():
    """schemas/manifest.schema.json states pigkit.limits' values (fixtures/manifest-schema-bounds.json
    lists where; src/core/manifest-schema.test.ts checks the studio's against the same table)."""
    schema = json.loads((ROOT / "schemas" / "manifest.schema.json").read_text(encoding="utf-8"))
    table = json.loads((ROOT / "fixtures" / "manifest-schema-bounds.json").read_text(encoding="utf-8"))
    for pointer, name in table["bounds"].items():
        assert _at(schema, pointer) == getattr(limits, name), pointer
    for pointer, fragment in table["said"].items():
        said = re.sub(r"\{([A-Z_]+)\}", lambda m: str(getattr(limits, m[1])), fragment)
        assert said in _at(schema, pointer), pointer
    assert _at(schema, "/properties/sampler/properties/clip/enum") == list(CLIP_MODES)
    assert _at(schema, "/$defs/fileName/pattern") == PLAIN_FILE.pattern
    assert manifest_schema.schema()["$defs"]["size"]["items"]["x-of-array"]  # the kit reads it as the studio does


def _folder(tmp_path: Path, text: str) -> Path:
    (tmp_path / "manifest.json").write_text(text, encoding="utf-8")
    return tmp_path


def test_a_card_too_large_or_too_deep_is_one_line_not_a_traceback(tmp_path):
    m = json.loads(TINY.read_text())
    m["card"] = {"text": ""}
    m["card"]["text"] = "x" * (limits.MAX_CARD_CHARS - len(json.dumps(m["card"], separators=(",", ":"))))
    assert read_manifest(_folder(tmp_path, json.dumps(m)))["card"] == m["card"]
    m["card"]["text"] += "x"
    with pytest.raises(ManifestError, match=f"manifest.card is {limits.MAX_CARD_CHARS + 1} characters of JSON, more than"):
        read_manifest(_folder(tmp_path, json.dumps(m)))
    deep = json.dumps(m).replace('"card": {', '"card": {"notes": ' + "[" * 100_000 + "]" * 100_000 + ", ", 1)
    with pytest.raises(ManifestError, match=r"manifest.json nests objects and arrays more than 16 deep \(too deep to read\)"):
        read_manifest(_folder(tmp_path, deep))


def test_a_huge_manifest_is_refused_before_it_is_read(tmp_path):
    text = '{"pad": "' + "x" * limits.MAX_MANIFEST_CHARS + '"}'
    with pytest.raises(ManifestError, match=f"is {len(text)} characters, more than a model manifest"):
        read_manifest(_folder(tmp_path, text))


def test_integral_floats_become_ints_as_javascript_reads_them(tmp_path):
    m = json.loads(TINY.read_text())
    m["schedule"]["T"], m["resolution"] = 1024.0, [32.0, 32.0]
    got = read_manifest(_folder(tmp_path, json.dumps(m)))
    assert type(got["schedule"]["T"]) is int and [type(v) for v in got["resolution"]] == [int, int]
