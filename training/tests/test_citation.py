"""CITATION.cff at the repository root: Citation File Format 1.2.0's required keys, the package's
version and license, and references that agree with the BibTeX the model cards give."""

import json
import re
from pathlib import Path

import pytest

from pigkit.exporter.citations import METHOD_BIBTEX
from pigkit.exporter.data_card import read_data_card

REPO = Path(__file__).resolve().parents[2]
yaml = pytest.importorskip("yaml")  # Debian's python3-yaml (python3-torch depends on it)


def cff() -> dict:
    return yaml.safe_load((REPO / "CITATION.cff").read_text(encoding="utf-8"))


def bibtex_authors(entry: str) -> list[tuple[str, str]]:
    names = re.search(r"author\s*=\s*\{(.*?)\},\n", entry, re.S).group(1)
    return [tuple(n.strip() for n in name.split(",", 1)) for name in names.split(" and ")]


def test_required_keys_and_the_package():
    c, package = cff(), json.loads((REPO / "package.json").read_text())
    assert c["cff-version"] == "1.2.0"
    assert all(isinstance(c[k], str) and c[k].strip() for k in ("message", "title"))
    assert c["authors"] and all("name" in a or "family-names" in a for a in c["authors"])
    assert c["type"] == "software" and c["version"] == package["version"] and c["license"] == package["license"]


def test_references_agree_with_the_model_cards():
    refs = {r["title"]: r for r in cff()["references"]}
    assert all(r["type"] and r["authors"] and r["year"] for r in refs.values())
    for entry in METHOD_BIBTEX.values():
        title = re.search(r"title\s*=\s*\{(.*?)\},", entry).group(1)
        people = [(a["family-names"], a["given-names"]) for a in refs[title]["authors"]]
        assert people == bibtex_authors(entry), title
        assert refs[title]["url"].endswith(re.search(r"eprint\s*=\s*\{(.*?)\}", entry).group(1))
    busbra = read_data_card(REPO / "training" / "datasets" / "busbra.json")["bibtex"]
    ref = refs["BUS-BRA: A Breast Ultrasound Dataset for Assessing Computer-aided Diagnosis Systems"]
    assert [(a["family-names"], a["given-names"]) for a in ref["authors"]] == bibtex_authors(busbra)
    for key, value in (("doi", ref["doi"]), ("volume", ref["volume"]), ("pages", f"{ref['start']}--{ref['end']}")):
        assert f"{key}" in busbra and f"{{{value}}}" in busbra, key
