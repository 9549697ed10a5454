"""The committed model folders and fixtures are what the kit says they are."""

import hashlib
import json
from pathlib import Path

import pytest
from test_export import needs_ort

from pigkit.exporter.manifest import model_file, model_files, validate_manifest
from pigkit.inference.golden import make_golden

REPO = Path(__file__).resolve().parents[2]
MODELS = sorted((REPO / "public" / "models").glob("*/manifest.json"))
TINY_WEIGHTS = REPO / "training" / "fixtures" / "tiny"
GOLDEN = REPO / "src" / "core" / "fixtures" / "tiny-golden.json"


@pytest.mark.parametrize("manifest_path", MODELS, ids=lambda p: p.parent.name)
def test_manifest_matches_its_files(manifest_path):
    m = json.loads(manifest_path.read_text())
    assert validate_manifest(m) == []  # format 2 (tiny-latent): its shapes on the latent grid, its attribute input a
    assert m["format"] in (1, 2) and m["schedule"] == {"kind": "linear", "betaStart": 1e-4, "betaEnd": 0.02, "T": 1024}
    h, w = m["resolution"]
    for e in model_files(m):  # the graphs and their weights files
        data = (manifest_path.parent / e["file"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == e["sha256"], f"{e['file']} does not match its sha256"
        assert len(data) == e["bytes"], f"{e['file']} does not have its bytes"
    for role in m["models"]:
        model_file(manifest_path.parent, m, role)  # external data only in the weights file the manifest names
    for role in ("mask", "image") if m["format"] == 1 else ():
        assert m["models"][role]["inputs"] == [{"name": "x", "shape": [1, 2, h, w]}, {"name": "t", "shape": [1]}]
    for field in ("data", "license", "citation", "stepsTrained", "exportMaxAbsError"):
        assert field in m["card"]


@needs_ort
def test_tiny_onnx_files_are_the_committed_weights():
    from pigkit.exporter.export import parity_error
    from pigkit.training.checkpoint import load_model_checkpoint

    for role in ("mask", "image"):
        model = load_model_checkpoint(TINY_WEIGHTS / role / "ckpt.pt")
        err = parity_error(
            model, REPO / "public" / "models" / "tiny" / f"{role}.onnx", ["x", "t"], [[1, 2, 32, 32], [1]], trials=1
        )
        assert err["eps"] < 1e-4


def test_golden_fixture_is_the_reference_samplers_output():
    stored = json.loads(GOLDEN.read_text())
    fresh = make_golden(TINY_WEIGHTS, stored["model"], stored["seed"], stored["steps"], stored["eta"])
    assert [(f["t"], f["tPrev"]) for f in fresh["frames"]] == [(f["t"], f["tPrev"]) for f in stored["frames"]]
    assert fresh["xT"] == stored["xT"] and fresh["yT"] == stored["yT"]
    for key in ("mask", "image"):
        assert max(abs(a - b) for a, b in zip(fresh[key], stored[key])) < 1e-4
