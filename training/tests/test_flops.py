"""pigkit.flops: the matrix work of an ONNX graph, against a hand count and against PyTorch's modules."""

import numpy as np
import torch
from onnx import TensorProto, helper, numpy_helper

from pigkit.benchmark.flops import count
from pigkit.exporter.export import export_unet
from pigkit.model.unet import AttnBlock, build_unet


def test_hand_counted_graph(tmp_path):
    """Conv, Conv after a Pad whose pads the exporter's way computes (ConstantOfShape, Concat,
    Reshape, Slice, Transpose, Cast: folded before shapes are inferred), Gemm and batched MatMul."""
    f = TensorProto.FLOAT
    w = lambda name, *shape: numpy_helper.from_array(np.zeros(shape, np.float32), name)  # noqa: E731
    i64 = lambda name, *v: numpy_helper.from_array(np.array(v, np.int64), name)  # noqa: E731
    nodes = [
        helper.make_node("Conv", ["x", "w1"], ["y"], pads=[1, 1, 1, 1]),  # [1,4,8,8]: 4·8·8 × 2·3·3 = 4608
        helper.make_node("ConstantOfShape", ["n4"], ["zeros"], value=numpy_helper.from_array(np.zeros(1, np.int64))),
        helper.make_node("Concat", ["ones", "zeros"], ["p0"], axis=0),  # [0,1,0,1,0,0,0,0]
        helper.make_node("Reshape", ["p0", "shape42"], ["p1"]),
        helper.make_node("Slice", ["p1", "start", "end", "axis0", "step"], ["p2"]),  # reversed rows
        helper.make_node("Transpose", ["p2"], ["p3"], perm=[1, 0]),
        helper.make_node("Reshape", ["p3", "flat"], ["p4"]),
        helper.make_node("Cast", ["p4"], ["pads"], to=TensorProto.INT64),
        helper.make_node("Pad", ["y", "pads"], ["yp"]),  # [1,4,9,9]
        helper.make_node("Conv", ["yp", "w2"], ["z"], strides=[2, 2]),  # [1,4,4,4]: 4·4·4 × 4·3·3 = 2304
        helper.make_node("Gemm", ["a", "b"], ["g"], transB=1),  # [1,16] × [32,16]ᵀ: 1·32·16 = 512
        helper.make_node("MatMul", ["m1", "m2"], ["mm"]),  # [2,3,4] × [4,5]: 2·3·5·4 = 120
    ]
    inits = [
        w("w1", 4, 2, 3, 3),
        w("w2", 4, 4, 3, 3),
        w("b", 32, 16),
        w("m2", 4, 5),
        i64("n4", 4),
        i64("ones", 0, 1, 0, 1),
        i64("shape42", 4, 2),
        i64("start", -1),
        i64("end", -5),
        i64("axis0", 0),
        i64("step", -1),
        i64("flat", -1),
    ]
    graph = helper.make_graph(
        nodes,
        "g",
        [
            helper.make_tensor_value_info("x", f, [1, 2, 8, 8]),
            helper.make_tensor_value_info("a", f, [1, 16]),
            helper.make_tensor_value_info("m1", f, [2, 3, 4]),
        ],
        [helper.make_tensor_value_info(n, f, None) for n in ("z", "g", "mm")],
        inits,
    )
    path = tmp_path / "hand.onnx"
    path.write_bytes(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString())
    c = count(path)
    assert c["unknown_shapes"] == []
    assert c["macs_by_op"] == {"Conv": 4608 + 2304, "Gemm": 512, "MatMul": 120}
    assert c["flops"] == 2 * (4608 + 2304 + 512 + 120)
    assert c["weight_bytes"] == 4 * (72 + 144 + 512 + 20) + 8 * 12  # the float32 weights and the int64 constants


def test_unet_export_counts_what_its_modules_compute(tmp_path):
    """The tiny U-Net at 32², exported: its ONNX count equals the MACs of its Conv2d and Linear
    modules (hooks on a forward pass) plus the two attention products of each AttnBlock."""
    torch.manual_seed(0)
    model = build_unet("tiny", 32).eval()
    macs = 0

    def hook(module, inputs, output):
        nonlocal macs
        if isinstance(module, torch.nn.Conv2d):
            macs += output.numel() * module.in_channels // module.groups * module.kernel_size[0] * module.kernel_size[1]
        elif isinstance(module, torch.nn.Linear):
            macs += output.numel() * module.in_features
        elif isinstance(module, AttnBlock):
            b, c, h, w = inputs[0].shape
            macs += 2 * int(b) * (int(h) * int(w)) ** 2 * int(c)  # qᵀk and v·wᵀ

    handles = [m.register_forward_hook(hook) for m in model.modules()]
    with torch.no_grad():
        model(torch.randn(1, 2, 32, 32), torch.tensor([500.0]))
    for h in handles:  # the export's trace runs the model again
        h.remove()
    path = tmp_path / "unet.onnx"
    export_unet(model, 32, path)
    c = count(path)
    assert c["unknown_shapes"] == []
    assert c["macs"] == macs
