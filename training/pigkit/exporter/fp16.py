"""A model folder's graphs in float16: the U-Net's weights and arithmetic in half precision, every
input and output still float32, so the studio's engine feeds and reads them unchanged.

    python3 -m pigkit.fp16 --model public/models/NAME --out DIR [--check]

Writes DIR/manifest.json (name + "-fp16", each file's SHA-256 and size updated, card.precision
saying what was converted) and every model file of the manifest converted. Kept in float32:
- the nodes that compute the sinusoidal timestep embedding's arguments (t × frequencies: t reaches
  999 and float16 keeps 11 bits, so sin/cos of it would be noise);
- in the step graphs, everything downstream of the inputs k, z and clip: the DDIM update and B(·).
  x_t is carried from step to step (float16 rounding there would add up over the steps), and
  x̂₀ = (x_t − √(1−ᾱ)·ε)/√ᾱ subtracts nearly equal numbers near t = T;
- GroupNorm's InstanceNormalization (sums of squares over a whole image per group: a kernel that
  accumulates in float16 would overflow at 512²);
- constant subgraphs, shape arithmetic included (the shapes are static: ONNX Runtime folds them at
  load, with the Cast to float16 after them).
A Cast sits at each boundary; Resize's scales and ROI stay float32 (the operator's type). ONNX
Runtime's WebGPU provider runs float16 kernels where the adapter has `shader-f16`; its CPU provider
runs the graph too (casting around the kernels it lacks in float16), which is how the tests and
--check measure the error against the float32 graph.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper, shape_inference

from pigkit.exporter.export import _random_feeds
from pigkit.exporter.manifest import sha256_of
from pigkit.inference.runtime import run_once
from pigkit.model.schedule import Schedule

FLOAT, HALF = TensorProto.FLOAT, TensorProto.FLOAT16
# the step graphs' inputs whose consumers (the DDIM update, B(·), clip) stay float32
SAMPLER_INPUTS = ("k", "z", "clip")
# operators whose arguments stay float32, with everything upstream of them (the timestep embedding)
EMBEDDING_OPS = ("Sin", "Cos")
# operators that stay float32 themselves: GroupNorm's InstanceNormalization sums squares over up to
# 512² pixels per group, which float16 accumulation would overflow (65504) where a kernel does it so
FLOAT32_OPS = ("InstanceNormalization",)
# inputs that are float32 by the operator's definition, whatever the data's type: (op, input index)
FIXED_FLOAT = {("Resize", 1), ("Resize", 2)}


def _consumers(graph: onnx.GraphProto) -> dict[str, list[onnx.NodeProto]]:
    out: dict[str, list[onnx.NodeProto]] = {}
    for node in graph.node:
        for name in node.input:
            out.setdefault(name, []).append(node)
    return out


def float32_nodes(graph: onnx.GraphProto, sampler_inputs=SAMPLER_INPUTS) -> set[int]:
    """Indices of the nodes that stay float32: the embedding's arguments, the sampler's update,
    FLOAT32_OPS and constant subgraphs (ONNX Runtime folds them at load, the Cast to float16 too)."""
    producer = {o: i for i, n in enumerate(graph.node) for o in n.output}
    consumers = _consumers(graph)
    index = {id(n): i for i, n in enumerate(graph.node)}
    keep: set[int] = {i for i, n in enumerate(graph.node) if n.op_type in FLOAT32_OPS}
    stack = [i for i, n in enumerate(graph.node) if n.op_type in EMBEDDING_OPS]
    seen: set[int] = set()
    while stack:  # the embedding ops and everything upstream of them
        i = stack.pop()
        if i not in seen:
            seen.add(i)
            stack += [producer[x] for x in graph.node[i].input if x in producer]
    keep |= seen
    seen = set()
    stack = [index[id(n)] for name in sampler_inputs for n in consumers.get(name, [])]
    while stack:  # everything downstream of k, z and clip
        i = stack.pop()
        if i not in seen:
            seen.add(i)
            stack += [index[id(n)] for o in graph.node[i].output for n in consumers.get(o, [])]
    keep |= seen
    dynamic = {i.name for i in graph.input}  # tensors whose values depend on an input (not only its shape: static)
    for n in graph.node:
        if n.op_type not in ("Shape", "Size") and any(x in dynamic for x in n.input):
            dynamic.update(n.output)
    keep |= {i for i, n in enumerate(graph.node) if not any(o in dynamic for o in n.output)}
    return keep


def _float_types(model: onnx.ModelProto) -> dict[str, int]:
    """Each tensor's element type by name: inferred, the graph's inputs and outputs, the initializers,
    the Constant nodes' values."""
    g = model.graph
    inferred = shape_inference.infer_shapes(model)
    types = {v.name: v.type.tensor_type.elem_type for v in list(inferred.graph.value_info) + list(g.input) + list(g.output)}
    types.update({i.name: i.data_type for i in g.initializer})
    for node in g.node:  # Constant outputs: their value's type
        if node.op_type == "Constant":
            for a in node.attribute:
                if a.name == "value":
                    types[node.output[0]] = a.t.data_type
    return types


class _Retyping:
    """The converted graph as it is built: each float tensor's type there, the float16 copies of
    constants and the Casts made so far (each made once), the nodes and initializers to add."""

    def __init__(self, g: onnx.GraphProto, initializers: dict[str, onnx.TensorProto]):
        self.precision: dict[str, int] = {name: FLOAT for name in [i.name for i in g.input]}
        self.half_constants: dict[str, str] = {}
        self.casts: dict[tuple[str, int], str] = {}
        self.new_nodes: list[onnx.NodeProto] = []
        self.new_inits: list[onnx.TensorProto] = []
        self.initializers = initializers
        self.constants = {n.output[0]: a.t for n in g.node if n.op_type == "Constant" for a in n.attribute if a.name == "value"}

    def constant_value(self, name: str) -> np.ndarray | None:
        """An initializer's or a Constant node's value (converted by a float16 copy, not a Cast)."""
        if name in self.initializers:
            return numpy_helper.to_array(self.initializers[name])
        if name in self.constants:
            return numpy_helper.to_array(self.constants[name])
        return None

    def as_type(self, name: str, want: int) -> str:
        """`name` as a tensor of type `want`: itself, a float16 copy of a constant, or a Cast."""
        have = self.precision.get(name, FLOAT)
        if have == want:
            return name
        value = self.constant_value(name)
        if value is not None and want == HALF:
            if name not in self.half_constants:
                self.half_constants[name] = f"{name}__fp16"
                self.new_inits.append(numpy_helper.from_array(value.astype(np.float16), self.half_constants[name]))
            return self.half_constants[name]
        key = (name, want)
        if key not in self.casts:
            self.casts[key] = f"{name}__to_{'fp16' if want == HALF else 'fp32'}"
            self.new_nodes.append(helper.make_node("Cast", [name], [self.casts[key]], to=want, name=f"{self.casts[key]}__cast"))
        return self.casts[key]

    def add(self, node: onnx.NodeProto, half: bool, types: dict[str, int]) -> None:
        """`node` with its float inputs in its precision (float16 where `half`), its float32 Cast and
        ConstantOfShape values made float16 where it runs in half, its outputs' types recorded."""
        for j, name in enumerate(node.input):
            if name == "" or types.get(name) != FLOAT:
                continue
            if (node.op_type, j) in FIXED_FLOAT:
                node.input[j] = self.as_type(name, FLOAT)
            else:
                node.input[j] = self.as_type(name, HALF if half else FLOAT)
        if half:
            if node.op_type == "Cast" and helper.get_attribute_value(next(a for a in node.attribute if a.name == "to")) == FLOAT:
                for a in node.attribute:
                    if a.name == "to":
                        a.i = HALF
            if node.op_type == "ConstantOfShape":
                for a in node.attribute:
                    if a.name == "value" and a.t.data_type == FLOAT:
                        a.t.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(a.t).astype(np.float16), a.t.name))
        for name in node.output:
            if types.get(name) == FLOAT:  # a Constant's value stays float32 (copied where float16 is read)
                self.precision[name] = HALF if half and node.op_type != "Constant" else FLOAT
        self.new_nodes.append(node)

    def float32_outputs(self, outputs) -> None:
        """The graph's outputs float32 again: a half one renamed inside, a Cast to its name appended."""
        for out in outputs:
            if self.precision.get(out.name) == HALF:
                inner = f"{out.name}__fp16"
                for node in self.new_nodes:
                    node.output[:] = [inner if o == out.name else o for o in node.output]
                    node.input[:] = [inner if x == out.name else x for x in node.input]
                self.new_nodes.append(helper.make_node("Cast", [inner], [out.name], to=FLOAT, name=f"{out.name}__cast"))


def _drop_unused(g: onnx.GraphProto, initializers: dict[str, onnx.TensorProto]) -> None:
    """The initializers and Constant nodes nothing reads any more (their float16 copies are read)."""
    used = {x for n in g.node for x in n.input} | {o.name for o in g.output}
    for name in list(initializers):
        if name not in used:
            g.initializer.remove(initializers[name])
    unused = [n for n in g.node if n.op_type == "Constant" and n.output[0] not in used]
    for n in unused:
        g.node.remove(n)


def convert(model: onnx.ModelProto, sampler_inputs=SAMPLER_INPUTS) -> onnx.ModelProto:
    """The model with float32 tensors in float16 except the nodes float32_nodes() keeps, its
    inputs and outputs float32 (Casts at the boundaries)."""
    model = onnx.ModelProto.FromString(model.SerializeToString())
    g = model.graph
    types = _float_types(model)
    initializers = {i.name: i for i in g.initializer}
    keep = float32_nodes(g, sampler_inputs)
    built = _Retyping(g, initializers)
    for i, node in enumerate(g.node):
        built.add(node, i not in keep, types)
    built.float32_outputs(g.output)
    del g.node[:]
    available = [i.name for i in g.input] + list(initializers) + [i.name for i in built.new_inits]
    g.node.extend(_topological(built.new_nodes, available))
    g.initializer.extend(built.new_inits)
    _drop_unused(g, initializers)
    del g.value_info[:]
    onnx.checker.check_model(model)
    return model


def _topological(nodes: list[onnx.NodeProto], available: list[str]) -> list[onnx.NodeProto]:
    """The nodes in an order where each comes after what it reads (the Casts were appended last)."""
    ready = set(available) | {""}
    pending = list(nodes)
    ordered: list[onnx.NodeProto] = []
    while pending:
        rest = []
        for n in pending:
            if all(x in ready for x in n.input):
                ordered.append(n)
                ready.update(n.output)
            else:
                rest.append(n)
        if len(rest) == len(pending):
            raise ValueError(f"cannot order the converted graph: {rest[0].name} reads {list(rest[0].input)}")
        pending = rest
    return ordered


def convert_folder(model_dir: Path, out: Path) -> dict:
    """Every model file of a folder's manifest converted; the manifest beside them."""
    manifest = json.loads((model_dir / "manifest.json").read_text())
    out.mkdir(parents=True, exist_ok=True)
    for key, entry in manifest["models"].items():
        path = out / entry["file"]
        # onnx.load reads a shared weights file (external data) into the graph: the float16 graphs are
        # written self-contained, so their manifest entries name no weights file
        onnx.save(convert(onnx.load(str(model_dir / entry["file"]))), str(path))
        entry.pop("weights", None)
        entry["sha256"], entry["bytes"] = sha256_of(path), path.stat().st_size
        print(f"{key}: {path} ({entry['bytes'] / 1e6:.2f} MB, float16)", file=sys.stderr)
    manifest["name"] = f"{manifest['name']}-fp16"
    manifest["card"]["precision"] = (
        "float16 weights and arithmetic (pigkit.fp16); inputs, outputs, the timestep embedding's arguments "
        "and the DDIM update in float32"
    )
    for extra in ("README.md", "DATA-LICENSE.txt"):
        if (model_dir / extra).exists():
            shutil.copy(model_dir / extra, out / extra)
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    return manifest


def max_abs_error(fp32: Path, fp16: Path, trials: int = 2, seed: int = 0) -> dict[str, float]:
    """Max |Δ| per output between a graph and its conversion on ONNX Runtime's CPU provider, on
    random inputs (t a random step, k that step's coefficients), as pigkit.export checks an export."""
    import torch  # noqa: PLC0415 (the export's random feeds; only here)

    g = onnx.load(str(fp32)).graph
    names = [i.name for i in g.input]
    shapes = [[d.dim_value for d in i.type.tensor_type.shape.dim] for i in g.input]
    rng = torch.Generator().manual_seed(seed)
    worst: dict[str, float] = {}
    for trial in range(trials):
        feeds = {k: v.numpy() for k, v in _random_feeds(names, shapes, Schedule(), rng, trial).items()}
        a, b = run_once(fp32, feeds), run_once(fp16, feeds)
        for name in a:
            diff = np.abs(a[name] - b[name])
            worst[name] = max(worst.get(name, 0.0), float((diff > 0).mean() if name == "c" else diff.max()))
    return worst


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="pigkit.fp16", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True, help="model folder (manifest.json and its ONNX files)")
    p.add_argument("--out", required=True, help="folder to write the float16 model into")
    p.add_argument("--check", action="store_true", help="also run each graph and its conversion on the CPU and print max |Δ|")
    a = p.parse_args(argv)
    manifest = convert_folder(Path(a.model), Path(a.out))
    if a.check:
        for key, entry in manifest["models"].items():
            err = max_abs_error(Path(a.model) / entry["file"], Path(a.out) / entry["file"])
            print(f"{key}: float16 vs float32 on the CPU: " + ", ".join(f"{k} {v:.2e}" for k, v in err.items()), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
