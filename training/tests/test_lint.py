"""scripts/ruff.mjs (`npm run lint:py`) reads pyproject.toml's [tool.ruff] settings and finds what
Ruff finds: a planted error is listed as file:line:col: RULE, a clean file has no findings."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(
    shutil.which("node") is None or not (REPO / "node_modules" / "@astral-sh" / "ruff-wasm-nodejs").is_dir(),
    reason="needs node and npm ci (@astral-sh/ruff-wasm-nodejs)",
)

SCRIPT = """
import { readFileSync } from 'node:fs';
import { PositionEncoding, Workspace } from '@astral-sh/ruff-wasm-nodejs';
import { lintFile, ruffOptions } from './scripts/ruff.mjs';
const options = ruffOptions(readFileSync('training/pyproject.toml', 'utf8'));
const ws = new Workspace(options, PositionEncoding.Utf32);
const files = JSON.parse(process.argv[1]);
console.log(JSON.stringify({ options, findings: Object.entries(files).map(([p, c]) => lintFile(ws, p, c).findings) }));
"""


def lint(files: dict[str, str]) -> dict:
    proc = subprocess.run(
        ["node", "--input-type=module", "-e", SCRIPT, json.dumps(files)], cwd=REPO, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_the_checker_reads_pyproject_and_finds_a_planted_error():
    clean = '"""A module."""\n\nimport os\n\nimport torch\n\nfrom pigkit.unet import build_unet\n\nprint(os, torch, build_unet)\n'
    planted = "import os, sys\ndef f(x = []):\n    return undefined_name\n"
    long_line = f'X = "{"a" * 140}"\n'
    result = lint({"clean.py": clean, "planted.py": planted, "long.py": long_line})
    assert result["options"]["line-length"] == 130 and "I" in result["options"]["lint"]["select"]
    found_clean, found_planted, found_long = ([(f["row"], f["rule"]) for f in fs] for fs in result["findings"])
    assert found_clean == []  # pigkit is first-party: its own import section, after torch's
    assert {"E401", "F401", "B006", "F821", "format"} <= {rule for _, rule in found_planted}
    assert (3, "F821") in found_planted
    assert found_long == [(1, "E501")]
