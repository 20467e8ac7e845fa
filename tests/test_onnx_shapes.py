"""ONNX inputs of the shapes competition networks use: rank 1 (no batch dim), batch fixed to 1 ([1, 5]),
[1, 1, 1, 5] and similar where the network flattens. Each hand-built file is compared with onnxruntime on the
same inputs, reshaped as the file expects; the network's ``input_shape`` is one sample's shape."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from mipnet.errors import UnsupportedError
from mipnet.io.onnx_io import from_onnx, to_onnx
from mipnet.layers import Conv2D, Dense, Flatten, Normalize, ReLU
from mipnet.verify.vnnlib import check_property, parse_vnnlib


def _model(nodes: list, inits: dict, in_dims: list, elem: int = TensorProto.DOUBLE, opset: int = 17) -> onnx.ModelProto:
    dtype = np.float64 if elem == TensorProto.DOUBLE else np.float32
    tensors = [
        numpy_helper.from_array(np.asarray(v, dtype=dtype) if np.asarray(v).dtype.kind == "f" else np.asarray(v), k)
        for k, v in inits.items()
    ]
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("X", elem, in_dims)],
        [helper.make_tensor_value_info("Y", elem, None)],
        tensors,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    return model  # onnxruntime checks each model when it loads it


def _ort_rows(model: onnx.ModelProto, X: np.ndarray, in_dims: list) -> np.ndarray:
    """onnxruntime on each row of X, reshaped to the file's input shape (one sample per run: no dynamic batch)."""
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    inp = sess.get_inputs()[0]
    dtype = np.float64 if inp.type == "tensor(double)" else np.float32
    return np.stack(
        [np.asarray(sess.run(None, {inp.name: x.reshape(in_dims).astype(dtype)})[0]).reshape(-1) for x in X]
    )


def _mlp(rng: np.random.Generator, n: int = 5, h: int = 7, m: int = 3) -> dict:
    return {
        "W1": rng.normal(size=(n, h)),
        "b1": rng.normal(size=h),
        "W2": rng.normal(size=(h, m)),
        "b2": rng.normal(size=m),
    }


_MATMUL_MLP = [
    helper.make_node("MatMul", ["X", "W1"], ["h"]),
    helper.make_node("Add", ["h", "b1"], ["hb"]),
    helper.make_node("Relu", ["hb"], ["r"]),
    helper.make_node("MatMul", ["r", "W2"], ["z"]),
    helper.make_node("Add", ["z", "b2"], ["Y"]),
]


def _check_against_ort(
    model: onnx.ModelProto, in_dims: list, sample_shape: tuple, rng: np.random.Generator, atol: float = 1e-9
) -> None:
    net = from_onnx(model)
    assert net.input_shape == sample_shape
    X = rng.uniform(-2, 2, size=(12, int(np.prod(sample_shape))))
    if model.graph.input[0].type.tensor_type.elem_type == TensorProto.FLOAT:
        X = X.astype(np.float32).astype(np.float64)
    np.testing.assert_allclose(net.forward(X), _ort_rows(model, X, in_dims), atol=atol, rtol=1e-6)


def test_rank1_input_without_batch_dim(rng):
    model = _model(_MATMUL_MLP, _mlp(rng), [5])
    _check_against_ort(model, [5], (5,), rng)
    net = from_onnx(model)
    assert [type(l) for l in net.layers] == [Dense, ReLU, Dense]
    assert (net.n_inputs, net.n_outputs) == (5, 3)


def test_batch_fixed_to_one(rng):
    p = _mlp(rng)
    nodes = [
        helper.make_node("Gemm", ["X", "W1", "b1"], ["h"]),
        helper.make_node("Relu", ["h"], ["r"]),
        helper.make_node("Gemm", ["r", "W2", "b2"], ["Y"]),
    ]
    _check_against_ort(_model(nodes, p, [1, 5]), [1, 5], (5,), rng)
    _check_against_ort(_model(_MATMUL_MLP, p, [1, 5]), [1, 5], (5,), rng)


@pytest.mark.parametrize("elem", [TensorProto.FLOAT, TensorProto.DOUBLE], ids=["float32", "float64"])
def test_four_dim_input_normalised_then_flattened(rng, elem):
    """The layout of controller nets in the competition: [1, 1, 1, 5], Sub / Div, Flatten, MatMul + Add."""
    p = _mlp(rng)
    p.update(mean=rng.normal(size=(1, 1, 1, 5)), std=rng.uniform(0.5, 2, (1, 1, 1, 5)))
    nodes = [
        helper.make_node("Sub", ["X", "mean"], ["c"]),
        helper.make_node("Div", ["c", "std"], ["s"]),
        helper.make_node("Flatten", ["s"], ["f"], axis=1),
    ]
    nodes += [
        helper.make_node(n.op_type, ["f" if i == "X" else i for i in n.input], list(n.output)) for n in _MATMUL_MLP
    ]
    model = _model(nodes, p, [1, 1, 1, 5], elem)
    _check_against_ort(model, [1, 1, 1, 5], (1, 1, 5), rng, atol=1e-9 if elem == TensorProto.DOUBLE else 2e-5)
    assert [type(l) for l in from_onnx(model).layers] == [Normalize, Flatten, Dense, ReLU, Dense]


def test_four_dim_input_straight_into_matmul(rng):
    """[1, 1, 1, 5] @ W broadcasts over the leading ones: the same values as the flat sample."""
    model = _model(_MATMUL_MLP, _mlp(rng), [1, 1, 1, 5])
    _check_against_ort(model, [1, 1, 1, 5], (1, 1, 5), rng)
    assert [type(l) for l in from_onnx(model).layers] == [Flatten, Dense, ReLU, Dense]


@pytest.mark.parametrize("shape", [[-1], [5], [1, 5], [1, -1], [0, 5]], ids=str)
def test_reshape_adds_or_removes_the_batch_axis(rng, shape):
    p = _mlp(rng)
    p["shape"] = np.array(shape, dtype=np.int64)
    nodes = [helper.make_node("Reshape", ["X", "shape"], ["f"])]
    nodes += [
        helper.make_node(n.op_type, ["f" if i == "X" else i for i in n.input], list(n.output)) for n in _MATMUL_MLP
    ]
    for dims in ([1, 1, 1, 5], [1, 5], [5]):
        if 0 in shape and len(dims) == 1:
            continue  # [0, 5] copies a dim the rank-1 input does not have
        _check_against_ort(_model(nodes, p, dims), dims, tuple(dims[1:]) if len(dims) > 1 else (5,), rng)


def test_rank1_input_reshaped_to_a_batch_for_gemm(rng):
    p = _mlp(rng)
    p["shape"] = np.array([1, 5], dtype=np.int64)
    nodes = [
        helper.make_node("Reshape", ["X", "shape"], ["x2"]),
        helper.make_node("Gemm", ["x2", "W1", "b1"], ["h"]),
        helper.make_node("Relu", ["h"], ["r"]),
        helper.make_node("Gemm", ["r", "W2", "b2"], ["Y"]),
    ]
    _check_against_ort(_model(nodes, p, [5]), [5], (5,), rng)


def test_unsqueeze_and_squeeze(rng):
    p = _mlp(rng)
    p.update(ax0=np.array([0], dtype=np.int64), ax12=np.array([1, 2], dtype=np.int64))
    nodes = [
        helper.make_node("Unsqueeze", ["X", "ax0"], ["x2"]),
        helper.make_node("Gemm", ["x2", "W1", "b1"], ["h"]),
        helper.make_node("Relu", ["h"], ["r"]),
        helper.make_node("Gemm", ["r", "W2", "b2"], ["Y"]),
    ]
    _check_against_ort(_model(nodes, p, [5]), [5], (5,), rng)
    nodes = [
        helper.make_node("Squeeze", ["X", "ax12"], ["x2"]),
        helper.make_node("Gemm", ["x2", "W1", "b1"], ["h"]),
        helper.make_node("Relu", ["h"], ["r"]),
        helper.make_node("Gemm", ["r", "W2", "b2"], ["Y"]),
    ]
    _check_against_ort(_model(nodes, p, [1, 1, 1, 5]), [1, 1, 1, 5], (1, 1, 5), rng)
    nodes = [helper.make_node("Squeeze", ["X"], ["x2"])] + [
        helper.make_node(n.op_type, ["x2" if i == "X" else i for i in n.input], list(n.output)) for n in _MATMUL_MLP
    ]
    _check_against_ort(_model(nodes, p, [1, 1, 1, 5]), [1, 1, 1, 5], (1, 1, 5), rng)
    # opset 11: axes as an attribute
    nodes = [
        helper.make_node("Unsqueeze", ["X"], ["x2"], axes=[0]),
        helper.make_node("Gemm", ["x2", "W1", "b1"], ["h"]),
        helper.make_node("Relu", ["h"], ["r"]),
        helper.make_node("Gemm", ["r", "W2", "b2"], ["Y"]),
    ]
    _check_against_ort(_model(nodes, p, [5], opset=11), [5], (5,), rng)


def test_image_with_batch_fixed_to_one(rng):
    W, B = rng.normal(size=(3, 1, 3, 3)), rng.normal(size=3)
    nodes = [
        helper.make_node("Conv", ["X", "W", "B"], ["c"], kernel_shape=[3, 3]),
        helper.make_node("Relu", ["c"], ["r"]),
        helper.make_node("Flatten", ["r"], ["f"]),
        helper.make_node("Gemm", ["f", "Wg"], ["Y"], transB=1),
    ]
    model = _model(nodes, {"W": W, "B": B, "Wg": rng.normal(size=(2, 48))}, [1, 1, 6, 6], TensorProto.FLOAT)
    _check_against_ort(model, [1, 1, 6, 6], (1, 6, 6), rng, atol=2e-5)
    assert [type(l) for l in from_onnx(model).layers] == [Conv2D, ReLU, Flatten, Dense]


def test_dynamic_batch_still_reads_as_before(rng):
    model = _model(_MATMUL_MLP, _mlp(rng), ["N", 5])
    net = from_onnx(model)
    assert net.input_shape == (5,)
    X = rng.normal(size=(6, 5))
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    np.testing.assert_allclose(net.forward(X), sess.run(None, {"X": X})[0], atol=1e-12)


def test_export_is_unchanged_dynamic_batch(rng):
    net = from_onnx(_model(_MATMUL_MLP, _mlp(rng), [5]))
    dims = to_onnx(net).graph.input[0].type.tensor_type.shape.dim
    assert dims[0].dim_param == "N" and [d.dim_value for d in dims[1:]] == [5]
    assert from_onnx(to_onnx(net)).fingerprint() == net.fingerprint()


@pytest.mark.parametrize(
    "dims, message",
    [
        ([2, 5], "first dimension must be the batch"),
        (["n"], "not fixed"),
        ([], "needs fixed sizes"),
        (["N", "k"], "needs fixed sizes"),
    ],
    ids=["batch-2", "rank1-dynamic", "rank0", "dynamic-sizes"],
)
def test_unreadable_input_shapes_say_why(dims, message):
    graph = helper.make_graph(
        [helper.make_node("Relu", ["X"], ["Y"])],
        "g",
        [helper.make_tensor_value_info("X", TensorProto.DOUBLE, dims)],
        [helper.make_tensor_value_info("Y", TensorProto.DOUBLE, None)],
    )
    with pytest.raises(UnsupportedError, match=message):
        from_onnx(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]))


def test_image_op_on_a_tensor_without_batch_is_refused(rng):
    nodes = [helper.make_node("Conv", ["X", "W"], ["Y"], kernel_shape=[1])]
    with pytest.raises(UnsupportedError, match="without batch dim"):
        from_onnx(_model(nodes, {"W": rng.normal(size=(1, 5, 1))}, [5]))


def test_vnnlib_on_a_rank1_network(rng):
    """A property over the rank-1 net: decided, and a counterexample agrees with onnxruntime."""
    p = _mlp(rng, m=2)
    model = _model(_MATMUL_MLP, p, [5])
    net = from_onnx(model)
    box = "\n".join(f"(assert (>= X_{i} -1))\n(assert (<= X_{i} 1))" for i in range(5))
    decl = "\n".join(
        [f"(declare-const X_{i} Real)" for i in range(5)] + ["(declare-const Y_0 Real)", "(declare-const Y_1 Real)"]
    )
    corners = net.forward(rng.uniform(-1, 1, size=(2000, 5)))
    reachable = float(corners[:, 0].max())
    res = check_property(net, parse_vnnlib(f"{decl}\n{box}\n(assert (>= Y_0 {reachable - 1e-3}))"), time_limit=60)
    assert res.verdict == "violated"
    np.testing.assert_allclose(res.y, _ort_rows(model, res.x[None], [5])[0], atol=1e-9)
    assert res.y[0] >= reachable - 1e-3 - 1e-9
    hmax = np.abs(p["W1"]).sum(0) + np.abs(p["b1"])  # interval bound of each hidden unit over the box
    far = float(np.abs(p["W2"][:, 0]) @ hmax + abs(p["b2"][0])) + 1.0
    res = check_property(net, parse_vnnlib(f"{decl}\n{box}\n(assert (>= Y_0 {far}))"), time_limit=60)
    assert res.verdict == "holds"


def test_softmax_over_the_size_one_axis_a_matmul_kept_is_refused():
    """Input (1, 1, 4) -> MatMul -> Add -> Softmax(axis=1): onnxruntime normalises the size-1 axis (every output 1),
    the reader took the classes' softmax (its flattened rank 2) and a VNN-LIB property was proved on other logits."""
    import onnx
    import pytest
    from onnx import TensorProto, helper, numpy_helper

    from mipnet.errors import UnsupportedError
    from mipnet.io.onnx_io import from_onnx

    W = np.eye(4, 3, dtype=np.float32)
    b = np.array([-5.0, 5.0, 0.0], dtype=np.float32)
    nodes = [
        helper.make_node("MatMul", ["x", "W"], ["h"]),
        helper.make_node("Add", ["h", "b"], ["z"]),
        helper.make_node("Softmax", ["z"], ["y"], axis=1),
    ]
    g = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 1, 3])],
        [numpy_helper.from_array(W, "W"), numpy_helper.from_array(b, "b")],
    )
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    onnx.checker.check_model(m)
    with pytest.raises(UnsupportedError, match="axis 1"):
        from_onnx(m)
    m.graph.node[2].attribute[0].i = -1  # the classes' axis: read, the Softmax dropped
    assert from_onnx(m).metadata.get("onnx_dropped_output") == "Softmax"
