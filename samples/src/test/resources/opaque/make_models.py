"""Writes the small ONNX models of OpaqueImportTest into the directory given as argv[1].

Each uses operators cmod's importer does not raise, so it is imported as opaque regions:
lpnorm.onnx (LpNormalization), if.onnx (an If whose branches read an outer value), contrib.onnx
(com.microsoft FusedMatMul with an initializer only it reads), mixed.onnx (raised ops before
and after a run of LpNormalization and com.microsoft Gelu).
"""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

out = sys.argv[1]
F = TensorProto.FLOAT
ops17 = [helper.make_opsetid("", 17)]
ops17ms = ops17 + [helper.make_opsetid("com.microsoft", 1)]


def save(name, graph, opsets):
    m = helper.make_model(graph, opset_imports=opsets, producer_name="cmod-test")
    m.ir_version = 8
    onnx.save(m, f"{out}/{name}")


def vi(name, shape):
    return helper.make_tensor_value_info(name, F, shape)


# LpNormalization: each row over its Euclidean norm
save(
    "lpnorm.onnx",
    helper.make_graph(
        [helper.make_node("LpNormalization", ["x"], ["y"], axis=-1, p=2)],
        "lpnorm",
        [vi("x", ["N", 4, 4])],
        [vi("y", ["N", 4, 4])],
    ),
    ops17,
)

# If: the condition is raised (ReduceSum, Greater), the branches read x from the outer scope
zero = numpy_helper.from_array(np.array(0.0, dtype=np.float32), "zero")
two = numpy_helper.from_array(np.array(2.0, dtype=np.float32), "two")
then_g = helper.make_graph(
    [helper.make_node("Mul", ["x", "two"], ["t_out"])], "then", [], [vi("t_out", ["N", 4])]
)
else_g = helper.make_graph(
    [helper.make_node("Neg", ["x"], ["e_out"])], "else", [], [vi("e_out", ["N", 4])]
)
save(
    "if.onnx",
    helper.make_graph(
        [
            helper.make_node("ReduceSum", ["x"], ["s"], keepdims=0),
            helper.make_node("Greater", ["s", "zero"], ["c"]),
            helper.make_node("If", ["c"], ["y"], then_branch=then_g, else_branch=else_g),
        ],
        "if",
        [vi("x", ["N", 4])],
        [vi("y", ["N", 4])],
        [zero, two],
    ),
    ops17,
)

# com.microsoft FusedMatMul: alpha * x @ B^T, B an initializer only the region reads
rng = np.random.default_rng(7)
b = numpy_helper.from_array(rng.standard_normal((5, 4)).astype(np.float32), "B")
save(
    "contrib.onnx",
    helper.make_graph(
        [
            helper.make_node(
                "FusedMatMul", ["x", "B"], ["y"], domain="com.microsoft", alpha=0.5, transB=1
            )
        ],
        "contrib",
        [vi("x", ["N", 3, 4])],
        [vi("y", ["N", 3, 5])],
        [b],
    ),
    ops17ms,
)

# raised Add and Tanh, then LpNormalization and com.microsoft Gelu (one region), then a raised
# MatMul
c = numpy_helper.from_array(rng.standard_normal((4, 4)).astype(np.float32), "c")
w = numpy_helper.from_array(rng.standard_normal((4, 3)).astype(np.float32), "W")
save(
    "mixed.onnx",
    helper.make_graph(
        [
            helper.make_node("Add", ["x", "c"], ["a"]),
            helper.make_node("Tanh", ["a"], ["t"]),
            helper.make_node("LpNormalization", ["t"], ["u"], axis=-1, p=2),
            helper.make_node("Gelu", ["u"], ["g"], domain="com.microsoft"),
            helper.make_node("MatMul", ["g", "W"], ["y"]),
        ],
        "mixed",
        [vi("x", ["N", 4, 4])],
        [vi("y", ["N", 4, 3])],
        [c, w],
        value_info=[vi("g", ["N", 4, 4])],
    ),
    ops17ms,
)
