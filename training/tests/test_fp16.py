"""pigkit.fp16: the tiny model's graphs in float16 (inputs and outputs float32), run on ONNX Runtime's
CPU provider against the float32 graphs (the pair-level check is bench/webgpu.test.ts)."""

import json
from pathlib import Path

import onnx
from onnx import TensorProto

from pigkit.fp16 import convert_folder, float32_nodes, max_abs_error
from pigkit.manifest import sha256_of

TINY = Path(__file__).resolve().parents[2] / "public" / "models" / "tiny"


def test_converts_the_unet_and_keeps_the_sampler_and_the_contract(tmp_path):
    manifest = convert_folder(TINY, tmp_path)
    assert manifest["name"].endswith("-fp16") and "float16" in manifest["card"]["precision"]
    for entry in manifest["models"].values():
        path = tmp_path / entry["file"]
        assert entry["sha256"] == sha256_of(path) and entry["bytes"] == path.stat().st_size
        model = onnx.load(str(path))
        g = model.graph
        # the contract: every input and output still float32
        assert {v.type.tensor_type.elem_type for v in list(g.input) + list(g.output)} == {TensorProto.FLOAT}
        inits = {i.name: i.data_type for i in g.initializer}
        convs = [n for n in g.node if n.op_type in ("Conv", "Gemm")]
        assert convs and all(inits[n.input[1]] == TensorProto.FLOAT16 for n in convs)
        kept = {g.node[i].op_type for i in float32_nodes(g)}
        assert {"Sin", "Cos", "InstanceNormalization"} <= kept
    original = json.loads((TINY / "manifest.json").read_text())
    assert manifest["resolution"] == original["resolution"] and manifest["sampler"] == original["sampler"]


def test_errors_against_float32_on_the_cpu(tmp_path):
    """Measured 2026-12-02 (ORT 1.30 CPU provider, two random inputs each): ε 1.8e-3; the step
    graphs' x_prev 3.1e-5, x̂₀ 5.5e-2 (ε's error over √ᾱ at a large t), c 0.2% of pixels."""
    manifest = convert_folder(TINY, tmp_path)
    err = {key: max_abs_error(TINY / e["file"], tmp_path / e["file"]) for key, e in manifest["models"].items()}
    assert 0 < err["mask"]["eps"] < 5e-3 and 0 < err["image"]["eps"] < 5e-3
    assert err["maskStep"]["x_prev"] < 2e-4 and err["imageStep"]["y_prev"] < 2e-4
    assert err["maskStep"]["x0"] < 0.2 and err["imageStep"]["y0"] < 0.2
    assert err["maskStep"]["c"] < 0.01  # the fraction of pixels B(x̂₀) puts on the other side
