"""Attributes a generated pair can be asked for (pathology, BI-RADS, scanner …), read from a
table of cases such as BUS-BRA's `bus_data.csv` (Gómez-Flores et al., Medical Physics 2024).

Each attribute is a list of values; a case holds one index per attribute, where 0 means "none"
(unknown, or dropped in training) and i ≥ 1 the value `values[i - 1]`. The U-Nets add one learned
embedding per attribute to their time embedding (pigkit.unet), so any subset can be asked for and
the rest left "none"; training replaces each attribute by "none" with probability `drop`
(classifier-free guidance needs the unconditional model too).
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path

import torch

# BUS-BRA's columns, the names a user asks for (`--attr pathology=malignant`)
BUSBRA_COLUMNS = {"pathology": "Pathology", "birads": "BIRADS", "scanner": "Device"}
MAX_VALUES = 64  # per attribute: a table with more distinct values is not a set of categories
DEFAULT_DROP = 0.15


class AttributeError_(ValueError):
    """A problem with the attribute table or a request, naming the attribute and the value."""


@dataclass(frozen=True)
class AttributeSpec:
    """The attributes of a model: names in order, and each one's values (without "none")."""

    names: tuple[str, ...]
    values: tuple[tuple[str, ...], ...]

    def sizes(self) -> tuple[int, ...]:
        """Values per attribute (the U-Net's embedding tables have one more row, for "none")."""
        return tuple(len(v) for v in self.values)

    def to_dict(self) -> list[dict]:
        return [{"name": n, "values": list(v)} for n, v in zip(self.names, self.values)]

    @classmethod
    def from_dict(cls, entries: list[dict]) -> AttributeSpec:
        return cls(tuple(e["name"] for e in entries), tuple(tuple(e["values"]) for e in entries))

    def encode(self, request: dict[str, str]) -> list[int]:
        """One index per attribute for a request such as {"pathology": "malignant"} (others "none")."""
        unknown = sorted(set(request) - set(self.names))
        if unknown:
            raise AttributeError_(f"unknown attribute(s) {', '.join(unknown)}; this model has {', '.join(self.names) or 'none'}")
        out = []
        for name, values in zip(self.names, self.values):
            v = request.get(name)
            if v is None or v == "any":
                out.append(0)
            elif str(v) in values:
                out.append(values.index(str(v)) + 1)
            else:
                raise AttributeError_(f"{name}={v} is not a value of this model's {name}: one of {', '.join(values)} (or any)")
        return out


def read_table(csv_path: str | os.PathLike, columns: dict[str, str] | None = None) -> tuple[AttributeSpec, dict[str, list[int]]]:
    """The attribute spec (values sorted, as text) and each case's indices, from a CSV with an `ID`
    column (the case name, an image's stem) and one column per attribute. Empty cells are "none"."""
    columns = columns or BUSBRA_COLUMNS
    path = Path(csv_path)
    if not path.is_file():
        raise AttributeError_(f"{path}: attribute table not found")
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    header = set(rows[0]) if rows else set()
    missing = [c for c in ["ID", *columns.values()] if c not in header]
    if missing:
        raise AttributeError_(f"{path}: no column(s) {', '.join(missing)} (found {', '.join(sorted(header)) or 'no header'})")
    values = []
    for name, col in columns.items():
        distinct = sorted({r[col].strip() for r in rows if r[col].strip()}, key=_natural)
        if len(distinct) > MAX_VALUES:
            raise AttributeError_(f"{path}: column {col} ({name}) has {len(distinct)} distinct values, more than {MAX_VALUES}")
        values.append(tuple(distinct))
    spec = AttributeSpec(tuple(columns), tuple(values))
    cases = {r["ID"].strip(): spec.encode({n: r[c].strip() for n, c in columns.items() if r[c].strip()}) for r in rows}
    return spec, cases


def _natural(v: str):
    return (0, int(v), "") if v.isdigit() else (1, 0, v)


def case_attributes(case_ids: list[str], cases: dict[str, list[int]], spec: AttributeSpec) -> torch.Tensor:
    """[N, k] int64 indices for the dataset's cases; a case the table lacks is all "none"."""
    none = [0] * len(spec.names)
    return torch.tensor([cases.get(c, none) for c in case_ids], dtype=torch.long).view(len(case_ids), len(spec.names))


def drop_attributes(attrs: torch.Tensor, p: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """Each index independently replaced by 0 ("none") with probability p (classifier-free training)."""
    keep = torch.rand(attrs.shape, generator=generator) >= p
    return torch.where(keep.to(attrs.device), attrs, torch.zeros_like(attrs))
