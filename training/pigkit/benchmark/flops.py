"""Multiply-accumulates of an ONNX graph: what a step costs at the least, for a ratio to a GPU's peak.

    python3 -m pigkit.flops MODEL.onnx [MODEL.onnx …]     one JSON object per file on stdout

Counts the matrix work only, from the shapes ONNX's shape inference gives (static shapes, as the
kit exports them): Conv (output elements × input channels per group × kernel size), Gemm (M·N·K),
MatMul (batch · M·N·K, broadcast batch). ConvTranspose would be counted like Conv but the kit's
U-Net has none. Everything else (normalisation, activations, the DDIM update) is memory-bound
elementwise work, a few per cent of the FLOPs, and is listed apart as `elementwise_outputs` (the
number of output elements of the other nodes: a rough measure of their memory traffic), never
counted as FLOPs. FLOPs = 2 × MACs (one multiply and one add).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from math import prod
from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper, shape_inference

MATRIX_OPS = ("Conv", "ConvTranspose", "Gemm", "MatMul")


def _constant(node: onnx.NodeProto) -> np.ndarray | None:
    for a in node.attribute:
        if a.name == "value":
            return numpy_helper.to_array(a.t)
    return None


def _evaluate(node: onnx.NodeProto, x: list, shapes: dict[str, list[int]]) -> list | None:
    """Outputs of a node whose inputs are all constants (the exporter's shape arithmetic), or None."""
    op = node.op_type
    if op == "Constant":
        v = _constant(node)
        return None if v is None else [v]
    if op == "Shape":
        shape = shapes.get(node.input[0])
        return None if shape is None else [np.array(shape[_attr(node, "start", 0) : _attr(node, "end", None)], np.int64)]
    if op == "ConstantOfShape":
        value = next((numpy_helper.to_array(a.t) for a in node.attribute if a.name == "value"), np.zeros(1, np.float32))
        return [np.full(tuple(int(d) for d in x[0]), value.reshape(-1)[0], value.dtype)]
    if op == "Concat":
        return [np.concatenate(x, axis=_attr(node, "axis", 0))]
    if op == "Reshape":
        shape = [int(d) if d != 0 else x[0].shape[i] for i, d in enumerate(x[1])]
        return [x[0].reshape(shape)]
    if op == "Slice":
        starts, ends = x[1], x[2]
        axes = x[3] if len(x) > 3 and x[3] is not None else range(len(starts))
        steps = x[4] if len(x) > 4 and x[4] is not None else [1] * len(starts)
        index = [slice(None)] * x[0].ndim
        for a, b, e, st in zip(axes, starts, ends, steps):
            index[int(a)] = slice(int(b), int(e), int(st))
        return [x[0][tuple(index)]]
    if op == "Transpose":
        return [np.transpose(x[0], _attr(node, "perm", None))]
    if op == "Cast":
        return [x[0].astype(helper_np_dtype(_attr(node, "to", 1)))]
    if op == "Gather":
        return [np.take(x[0], x[1], axis=_attr(node, "axis", 0))]
    if op == "Unsqueeze":
        return [np.expand_dims(x[0], tuple(int(a) for a in x[1]))]
    if op == "Squeeze":
        return [np.squeeze(x[0], tuple(int(a) for a in x[1])) if len(x) > 1 else np.squeeze(x[0])]
    if op in ("Add", "Sub", "Mul"):
        return [{"Add": np.add, "Sub": np.subtract, "Mul": np.multiply}[op](x[0], x[1])]
    if op == "Div":
        q = np.true_divide(x[0], x[1])
        return [np.trunc(q).astype(x[0].dtype) if np.issubdtype(x[0].dtype, np.integer) else q]
    return None


def helper_np_dtype(onnx_type: int) -> np.dtype:
    if hasattr(onnx.helper, "tensor_dtype_to_np_dtype"):  # onnx ≥ 1.13 (onnx.mapping is gone in 1.23)
        return np.dtype(onnx.helper.tensor_dtype_to_np_dtype(onnx_type))
    return np.dtype(onnx.mapping.TENSOR_TYPE_TO_NP_TYPE[onnx_type])  # Debian's onnx 1.12


def _shapes(model: onnx.ModelProto) -> dict[str, list[int]]:
    """Static shape of every tensor that has one. The exporter computes some shapes at run time
    (F.pad's pads through ConstantOfShape, Concat, Slice, Transpose…), which ONNX's shape inference
    does not follow: those constants are folded first (here, in numpy), then shapes inferred again,
    until nothing more folds."""
    model = onnx.ModelProto.FromString(model.SerializeToString())
    g = model.graph
    values = {i.name: numpy_helper.to_array(i) for i in g.initializer}
    while True:
        inferred = shape_inference.infer_shapes(model, data_prop=True)  # data_prop: through Shape → Reshape
        shapes = {}
        for v in list(inferred.graph.input) + list(inferred.graph.output) + list(inferred.graph.value_info):
            dims = v.type.tensor_type.shape.dim
            if v.type.tensor_type.HasField("shape") and all(d.HasField("dim_value") for d in dims):
                shapes[v.name] = [d.dim_value for d in dims]
        shapes.update({name: list(v.shape) for name, v in values.items()})
        folded = []
        for node in g.node:
            if all(i == "" or i in values for i in node.input) or node.op_type == "Shape":
                out = _evaluate(node, [values.get(i) if i else None for i in node.input], shapes)
                if out is not None:
                    folded.append(node)
                    values.update(zip(node.output, out))
        if not folded:
            return shapes
        for node in folded:
            g.node.remove(node)
            for name in node.output:
                g.initializer.append(numpy_helper.from_array(np.asarray(values[name]), name))


def _attr(node: onnx.NodeProto, name: str, default):
    for a in node.attribute:
        if a.name == name:
            return onnx.helper.get_attribute_value(a)
    return default


def node_macs(node: onnx.NodeProto, shapes: dict[str, list[int]]) -> int | None:
    """MACs of one matrix node, or None when it is not one (or a shape is unknown)."""
    try:
        if node.op_type in ("Conv", "ConvTranspose"):
            w = shapes[node.input[1]]  # Conv: [Cout, Cin/group, k…]; ConvTranspose: [Cin, Cout/group, k…]
            if node.op_type == "Conv":
                return prod(shapes[node.output[0]]) * prod(w[1:])
            x = shapes[node.input[0]]  # each input element meets Cout/group × kernel weights
            return prod(x) * prod(w[1:])
        if node.op_type == "Gemm":
            a, b = shapes[node.input[0]], shapes[node.input[1]]
            m, k = (a[1], a[0]) if _attr(node, "transA", 0) else (a[0], a[1])
            n = b[0] if _attr(node, "transB", 0) else b[1]
            return m * n * k
        if node.op_type == "MatMul":
            a, b = shapes[node.input[0]], shapes[node.input[1]]
            if len(a) == 1:
                a = [1, a[0]]
            if len(b) == 1:
                b = [b[0], 1]
            out = shapes.get(node.output[0])
            batch = prod(out[:-2]) if out else max(prod(a[:-2]), prod(b[:-2]))
            return batch * a[-2] * b[-1] * a[-1]
    except KeyError:
        return None
    return None


def count(path: Path) -> dict:
    """MACs per matrix op type, their total, FLOPs (2 × MACs), and the other nodes' output elements."""
    model = onnx.load(str(path))
    shapes = _shapes(model)
    macs: Counter[str] = Counter()
    nodes: Counter[str] = Counter()
    unknown: list[str] = []
    other = 0
    for node in model.graph.node:
        if node.op_type in MATRIX_OPS:
            m = node_macs(node, shapes)
            if m is None:
                unknown.append(node.name or node.op_type)
                continue
            macs[node.op_type] += m
            nodes[node.op_type] += 1
        elif node.op_type not in ("Constant", "Shape", "Reshape", "Unsqueeze", "Squeeze", "Gather", "Concat", "Slice"):
            other += sum(prod(shapes[o]) for o in node.output if o in shapes)
    total = sum(macs.values())
    return {
        "file": str(path),
        "macs": total,
        "flops": 2 * total,
        "macs_by_op": dict(macs),
        "matrix_nodes": dict(nodes),
        "elementwise_outputs": other,
        "unknown_shapes": unknown,
        # what the graph's weights take, stored as float32 etc. (the download's floor)
        "weight_bytes": sum(prod(t.dims) * helper_np_dtype(t.data_type).itemsize for t in model.graph.initializer),
    }


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="pigkit.flops", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("models", nargs="+", help="ONNX files (static shapes)")
    a = p.parse_args(argv)
    for m in a.models:
        print(json.dumps(count(Path(m))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
