"""ONNX import/export: against onnxruntime and torch, round trips, and clear errors."""

from __future__ import annotations

import io
import json
import math
import warnings

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
from onnx import TensorProto, helper, numpy_helper
from torch import nn

from mipnet.domain import Domain
from mipnet.errors import ModelFormatError, UnsupportedError
from mipnet.io import load_model, save_model
from mipnet.io.onnx_io import from_onnx, to_onnx
from mipnet.io.torch_io import from_torch
from mipnet.layers import (
    GELU,
    AvgPool2D,
    Conv2D,
    Dense,
    Flatten,
    HardTanh,
    Identity,
    LeakyReLU,
    MaxPool2D,
    Normalize,
    ReLU,
    Sigmoid,
    Tanh,
)
from mipnet.network import Network


def _ort(model: onnx.ModelProto, X: np.ndarray) -> np.ndarray:
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    inp = sess.get_inputs()[0]
    dtype = np.float64 if inp.type == "tensor(double)" else np.float32
    return sess.run(None, {inp.name: X.astype(dtype)})[0]


def _every_layer_net(rng: np.random.Generator) -> Network:
    layers = [
        Normalize(rng.uniform(0.5, 2, (2, 7, 6)), rng.normal(size=(2, 7, 6))),
        Conv2D(rng.normal(0, 0.4, (3, 2, 3, 2)), rng.normal(size=3), stride=(2, 1), padding=(1, 0)),
        ReLU(),
        MaxPool2D(2, 1, padding=1),
        AvgPool2D(2, 2, padding=1, count_include_pad=False),
        LeakyReLU(0.1),
        AvgPool2D(2, 1, padding=1, count_include_pad=True),
        Flatten(),
        Dense(rng.normal(0, 0.3, (6, 60)), rng.normal(size=6)),
        GELU(),
        Dense(rng.normal(0, 0.5, (5, 6)), rng.normal(size=5)),
        Tanh(),
        Identity(),
        Dense(rng.normal(size=(4, 5)), rng.normal(size=4)),
        Sigmoid(),
        Dense(rng.normal(size=(3, 4)), rng.normal(size=3)),
    ]
    dom = Domain.box([f"p{i}" for i in range(84)], -2.0, 2.0)
    return Network(
        layers,
        domain=dom,
        input_shape=(2, 7, 6),
        class_names=["cat", "dog", "eel"],
        metadata={"trained_by": "test", "gap": 0.0},
    )


def test_export_runs_in_onnxruntime_and_checks(rng):
    net = _every_layer_net(rng)
    model = to_onnx(net, dtype="float32")
    assert model.graph.input[0].type.tensor_type.elem_type == TensorProto.FLOAT
    onnx.checker.check_model(model, full_check=True)
    assert model.opset_import[0].version >= 17
    assert model.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "N"
    X = rng.uniform(-2, 2, size=(50, 84))
    got = _ort(model, X.reshape(50, 2, 7, 6))
    # float32 arithmetic in onnxruntime against float64 here: agreement to float32 precision
    np.testing.assert_allclose(got, net.forward(X), atol=2e-6, rtol=1e-5)
    # the network read back from the float32 file, on float32-rounded inputs, is what onnxruntime computes
    back = from_onnx(model)
    X32 = X.astype(np.float32).astype(np.float64)
    np.testing.assert_allclose(_ort(model, X32.reshape(50, 2, 7, 6)), back.forward(X32), atol=2e-6, rtol=0)


def _exact_net(rng: np.random.Generator) -> Network:
    """Every layer, with values float32 cannot hold: biases 0.1, a -0.0 offset, LeakyReLU alpha 1/3."""
    net = _every_layer_net(rng)
    net.layers[0].offset[0, 0, 0] = -0.0  # -mu/sd with mu = 0, as the trainers write it
    net.layers[5] = LeakyReLU(1 / 3)
    net.layers[8].bias[:] = 0.1
    return net


def test_default_export_is_float64_bit_exact_and_runs_in_onnxruntime(rng, tmp_path):
    net = _exact_net(rng)
    save_model(net, tmp_path / "m.json")
    save_model(net, tmp_path / "m.onnx")
    model = onnx.load(str(tmp_path / "m.onnx"))
    onnx.checker.check_model(model, full_check=True)
    for v in (*model.graph.input, *model.graph.output):
        assert v.type.tensor_type.elem_type == TensorProto.DOUBLE
    assert {t.data_type for t in model.graph.initializer} == {TensorProto.DOUBLE}
    from_json, from_onnx_file = load_model(tmp_path / "m.json"), load_model(tmp_path / "m.onnx")
    # the hash certificates bind to: the JSON and the ONNX copy of a model are the same model
    assert from_onnx_file.fingerprint() == from_json.fingerprint() == net.fingerprint()
    for a, b in zip(from_onnx_file.layers, from_json.layers):
        assert type(a) is type(b) and a.config() == b.config()
        for k, v in b.parameters().items():
            assert a.parameters()[k].dtype == np.float64
            assert a.parameters()[k].tobytes() == v.tobytes()  # bit for bit, the sign of -0.0 included
    assert from_onnx_file.layers[8].bias[0] == 0.1 and from_onnx_file.layers[5].alpha == 1 / 3
    # onnxruntime runs it (Conv/AveragePool/Erf in float32 between Casts, the rest in float64)
    X = rng.uniform(-2, 2, size=(50, 84))
    got = _ort(model, X.reshape(50, 2, 7, 6))
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, net.forward(X), atol=2e-6, rtol=1e-5)
    # a Dense/ReLU net runs wholly in float64: onnxruntime agrees to float64 rounding
    dense = Network(
        [Dense(rng.normal(size=(6, 4)), np.full(6, 0.1)), ReLU(), Dense(rng.normal(size=(2, 6)), np.array([0.1, -0.3]))]
    )
    Xd = rng.normal(size=(40, 4))
    np.testing.assert_allclose(_ort(to_onnx(dense), Xd), dense.forward(Xd), atol=1e-13, rtol=1e-13)


def test_float32_option_and_float32_files_are_upcast(rng, tmp_path):
    net = _exact_net(rng)
    model = to_onnx(net, dtype="float32")
    assert {t.data_type for t in model.graph.initializer} == {TensorProto.FLOAT}
    assert not [n for n in model.graph.node if n.op_type == "Cast"]
    back = from_onnx(model)  # as from another tool's float32 file: weights upcast to float64
    for a, b in zip(back.layers, net.layers):
        for k, v in b.parameters().items():
            assert a.parameters()[k].dtype == np.float64
            np.testing.assert_array_equal(a.parameters()[k], v.astype(np.float32).astype(np.float64))
    # the float32 file computes with float32(1/3), and that is what is read (metadata never overrides the graph)
    assert back.layers[5].alpha == float(np.float32(1 / 3))
    X = rng.normal(size=(5, *net.input_shape))
    np.testing.assert_allclose(back.forward(X), _ort(model, X), rtol=1e-5, atol=1e-5)
    assert back.fingerprint() != net.fingerprint()  # rounded weights: a different model, as it should be


def test_casts_to_float_are_read_through_on_constants_and_data(rng):
    """A float64 weight cast to float32 for the runtime reads as the float64 value, as the export writes it."""
    W, b = rng.normal(size=(3, 4)), np.full(3, 0.1)
    nodes = [
        helper.make_node("Cast", ["x"], ["x32"], to=TensorProto.FLOAT),
        helper.make_node("Cast", ["W"], ["W32"], to=TensorProto.FLOAT),
        helper.make_node("Cast", ["b"], ["b32"], to=TensorProto.FLOAT),
        helper.make_node("Gemm", ["x32", "W32", "b32"], ["z32"], transB=1),
        helper.make_node("Cast", ["z32"], ["y"], to=TensorProto.DOUBLE),
    ]
    net = from_onnx(_model(nodes, {"W": W, "b": b}, [4]))
    assert [type(l) for l in net.layers] == [Dense]
    assert np.array_equal(net.layers[0].weight, W) and np.array_equal(net.layers[0].bias, b)


def test_gemm_attributes_explicit_and_node_names_unique(rng):
    model = to_onnx(_every_layer_net(rng))
    gemms = [n for n in model.graph.node if n.op_type == "Gemm"]
    assert len(gemms) == 4
    for n in gemms:
        assert {a.name: helper.get_attribute_value(a) for a in n.attribute} == {
            "alpha": 1.0,
            "beta": 1.0,
            "transA": 0,
            "transB": 1,
        }
    names = [n.name for n in model.graph.node]
    assert all(names) and len(set(names)) == len(names)


def test_omlt_reads_the_export(rng):
    omlt_onnx = pytest.importorskip("omlt.io.onnx")
    net = Network(
        [
            Dense(rng.normal(size=(5, 3)), np.full(5, 0.1)),
            ReLU(),
            Dense(rng.normal(size=(4, 5)), rng.normal(size=4)),
            ReLU(),
            Dense(rng.normal(size=(2, 4)), np.array([0.1, -0.2])),
        ],
        domain=Domain.box(3, -1.0, 1.0),
    )
    definition = omlt_onnx.load_onnx_neural_network(to_onnx(net), input_bounds=[(-1.0, 1.0)] * 3)
    layers = list(definition.layers)
    assert [type(l).__name__ for l in layers] == ["InputLayer", "DenseLayer", "DenseLayer", "DenseLayer"]
    assert [l.activation for l in layers[1:]] == ["relu", "relu", "linear"]
    for x in rng.uniform(-1, 1, size=(10, 3)):
        v = x
        for layer in layers[1:]:
            v = layer.eval_single_layer(v)
        np.testing.assert_allclose(v, net.forward(x)[0], atol=1e-12, rtol=1e-12)


def test_round_trip_keeps_everything(rng, tmp_path):
    net = _every_layer_net(rng)
    exact = from_onnx(to_onnx(net, dtype="float64"))
    assert exact.fingerprint() == net.fingerprint()  # same layers, weights bit for bit, domain, names
    assert exact.metadata == net.metadata
    save_model(net, tmp_path / "m.onnx")
    back = load_model(tmp_path / "m.onnx")
    assert back.class_names == ["cat", "dog", "eel"]
    assert back.domain.names == net.domain.names and back.domain.lower.tolist() == [-2.0] * 84
    assert [type(l) for l in back.layers] == [type(l) for l in net.layers]
    X = rng.uniform(-2, 2, size=(30, 84))
    np.testing.assert_allclose(back.forward(X), net.forward(X), atol=1e-6, rtol=1e-6)
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]


def test_regression_round_trip(dense_net):
    net = Network(dense_net.layers, domain=dense_net.domain, task="regress", output_names=["price"])
    back = from_onnx(to_onnx(net, dtype="float64"))
    assert back.task == "regress" and back.output_names == ["price"]


def _torch_export(model: nn.Module, shape: tuple[int, ...]) -> bytes:
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model,
            (torch.zeros((1, *shape), dtype=torch.float64),),
            buf,
            dynamo=False,
            opset_version=17,
            input_names=["x"],
            output_names=["y"],
            dynamic_axes={"x": {0: "batch"}},
        )
    return buf.getvalue()


def test_torch_export_conv_net_reads_back():
    torch.manual_seed(3)
    model = nn.Sequential(
        nn.Conv2d(1, 3, 3, stride=2, padding=1),
        nn.BatchNorm2d(3),
        nn.ReLU(),
        nn.MaxPool2d(2, padding=1),
        nn.AvgPool2d(2, stride=1, padding=1, count_include_pad=False),
        nn.Flatten(),
        nn.Dropout(0.2),
        nn.Linear(3 * 5 * 5, 6),
        nn.GELU(),
        nn.Linear(6, 4),
        nn.Tanh(),
        nn.Linear(4, 4),
        nn.Sigmoid(),
        nn.Linear(4, 3),
        nn.LeakyReLU(0.3),
        nn.Linear(3, 2),
    ).double()
    with torch.no_grad():
        model[1].running_mean.uniform_(-1, 1)
        model[1].running_var.uniform_(0.5, 2)
    model.eval()
    net = from_onnx(_torch_export(model, (1, 12, 12)))
    # the exporter folds the eval-mode BatchNorm into the Conv; every other layer comes back as it was
    kinds = [type(l) for l in from_torch(model, (1, 12, 12)).layers]
    assert [type(l) for l in net.layers] == [k for k in kinds if k is not Normalize]
    X = torch.randn(40, 1, 12, 12, dtype=torch.float64)
    with torch.no_grad():
        want = model(X).numpy()
    np.testing.assert_allclose(net.forward(X.numpy().reshape(40, -1)), want, atol=1e-6, rtol=0)


@pytest.mark.parametrize(
    "act", [nn.ReLU(), nn.LeakyReLU(0.2), nn.GELU(), nn.Tanh(), nn.Sigmoid()], ids=lambda m: type(m).__name__
)
def test_torch_export_each_activation(act):
    torch.manual_seed(4)
    model = nn.Sequential(nn.Linear(5, 8), act, nn.Linear(8, 3)).double().eval()
    net = from_onnx(_torch_export(model, (5,)))
    X = torch.randn(50, 5, dtype=torch.float64) * 2
    with torch.no_grad():
        np.testing.assert_allclose(net.forward(X.numpy()), model(X).numpy(), atol=1e-6, rtol=0)


# ----------------------------------------------------------------------------- hand-built graphs


def _model(nodes, inits, in_shape, out_shape=None, elem=TensorProto.DOUBLE):
    tensors = [
        numpy_helper.from_array(np.asarray(v, dtype=np.float64 if elem == TensorProto.DOUBLE else np.float32), k)
        if np.asarray(v).dtype.kind == "f"
        else numpy_helper.from_array(v, k)
        for k, v in inits.items()
    ]
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", elem, ["batch", *in_shape])],
        [helper.make_tensor_value_info("y", elem, out_shape)],
        tensors,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def test_normalisation_matmul_add_and_softmax(rng):
    mean, std = rng.normal(size=4), rng.uniform(0.5, 2, 4)
    W1, b1, W2 = rng.normal(size=(4, 6)), rng.normal(size=6), rng.normal(size=(3, 6))
    nodes = [
        helper.make_node("Sub", ["x", "mean"], ["c"]),
        helper.make_node("Div", ["c", "std"], ["s"]),
        helper.make_node("Mul", ["s", "two"], ["m"]),
        helper.make_node("MatMul", ["m", "W1"], ["h"]),
        helper.make_node("Add", ["b1", "h"], ["hb"]),  # bias first: still folded
        helper.make_node("Relu", ["hb"], ["r"]),
        helper.make_node("Constant", [], ["W2"], value=numpy_helper.from_array(W2, "W2")),
        helper.make_node("Gemm", ["r", "W2", "b2"], ["z"], transB=1, alpha=0.5, beta=2.0),
        helper.make_node("Softmax", ["z"], ["y"], axis=-1),
    ]
    model = _model(nodes, {"mean": mean, "std": std, "two": [2.0], "W1": W1, "b1": b1, "b2": [[1.0, -1.0, 0.5]]}, [4])
    net = from_onnx(model)
    assert [type(l) for l in net.layers] == [Normalize, Dense, ReLU, Dense]  # Sub/Div/Mul merged, Add -> bias
    assert net.metadata["onnx_dropped_output"] == "Softmax"
    X = rng.normal(size=(25, 4))
    logits = net.forward(X)
    probs = np.exp(logits - logits.max(1, keepdims=True))
    np.testing.assert_allclose(probs / probs.sum(1, keepdims=True), _ort(model, X), atol=1e-9)
    assert np.array_equal(net.predict_index(logits), _ort(model, X).argmax(1))


def _batchnorm_model(rng, **attrs):
    c = 2
    inits = {"g": rng.uniform(0.5, 2, c), "b": rng.normal(size=c), "m": rng.normal(size=c), "v": rng.uniform(0.5, 2, c)}
    outputs = ["z"] + (["rm", "rv"] if attrs.pop("extra_outputs", False) else [])
    nodes = [
        helper.make_node("BatchNormalization", ["x", "g", "b", "m", "v"], outputs, name="bn", **attrs),
        helper.make_node("Flatten", ["z"], ["y"]),
    ]
    return _model(nodes, inits, [c, 3, 3])


def test_batchnorm_in_inference_mode_reads_and_training_mode_is_refused(rng):
    """training_mode=1 normalises by the batch's statistics (onnxruntime does): reading the stored ones gave
    another function and a false "holds" on it."""
    model = _batchnorm_model(rng)
    net = from_onnx(model)
    X = rng.normal(size=(4, 2, 3, 3))
    np.testing.assert_allclose(net.forward(X), _ort(model, X), atol=1e-9)
    assert net.n_params() == 4  # 2 numbers per channel (`mipnet info` counted them per pixel: 36)
    for attrs in ({"training_mode": 1}, {"extra_outputs": True, "training_mode": 1}):
        with pytest.raises(UnsupportedError, match="training mode"):
            from_onnx(_batchnorm_model(rng, **attrs))


def test_gemm_transb0_reshape_image_normalisation_and_global_pool(rng):
    W, B = rng.normal(size=(4, 2, 3, 3)), rng.normal(size=4)
    nodes = [
        helper.make_node("Sub", ["x", "mean"], ["a"]),
        helper.make_node("Mul", ["a", "inv"], ["b"]),
        helper.make_node("Conv", ["b", "W", "B"], ["c"], pads=[1, 1, 1, 1], kernel_shape=[3, 3]),
        helper.make_node("Add", ["c", "cb"], ["d"]),  # per-channel shift -> conv bias
        helper.make_node("Relu", ["d"], ["e"]),
        helper.make_node("AveragePool", ["e"], ["f"], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Reshape", ["f", "shape"], ["g"]),
        helper.make_node("Gemm", ["g", "Wg"], ["y"]),
    ]
    inits = {
        "mean": rng.normal(size=(1, 2, 1, 1)),
        "inv": rng.uniform(1, 2, (1, 2, 1, 1)),
        "W": W,
        "B": B,
        "cb": rng.normal(size=(4, 1, 1)),
        "shape": np.array([-1, 36], dtype=np.int64),
        "Wg": rng.normal(size=(36, 2)),
    }
    model = _model(nodes, inits, [2, 6, 6], elem=TensorProto.FLOAT)  # onnxruntime has no float64 Conv
    net = from_onnx(model, task="regress")
    assert [type(l) for l in net.layers] == [Normalize, Conv2D, ReLU, AvgPool2D, Flatten, Dense]
    assert net.task == "regress"
    X = rng.normal(size=(20, 72)).astype(np.float32).astype(np.float64)
    np.testing.assert_allclose(net.forward(X), _ort(model, X.reshape(20, 2, 6, 6)), atol=1e-5, rtol=1e-6)

    gp = _model(
        [helper.make_node("GlobalAveragePool", ["x"], ["p"]), helper.make_node("Flatten", ["p"], ["y"])],
        {},
        [3, 4, 5],
        elem=TensorProto.FLOAT,
    )
    X = rng.normal(size=(5, 60))
    np.testing.assert_allclose(from_onnx(gp).forward(X), _ort(gp, X.reshape(5, 3, 4, 5)), atol=1e-6)


def test_opset20_gelu_node(rng):
    model = _model([helper.make_node("Gelu", ["x"], ["y"])], {}, [3], elem=TensorProto.FLOAT)
    model.opset_import[0].version = 20
    net = from_onnx(model)
    assert isinstance(net.layers[0], GELU)
    X = rng.normal(size=(10, 3))
    np.testing.assert_allclose(net.forward(X), _ort(model, X), atol=1e-6)
    erf_half = 0.5 * 1.0 * (1 + math.erf(1 / math.sqrt(2)))
    assert net.forward(np.ones((1, 3)))[0, 0] == pytest.approx(erf_half, abs=1e-15)


@pytest.mark.parametrize(
    "nodes, inits, message",
    [
        (
            [
                helper.make_node("Gemm", ["x", "W"], ["z"], transB=1),
                helper.make_node("Softmax", ["z"], ["s"]),
                helper.make_node("Relu", ["s"], ["y"]),
            ],
            {"W": np.ones((2, 3))},
            "unsupported ONNX operator 'Softmax'",
        ),
        ([helper.make_node("Transpose", ["x"], ["y"], perm=[1, 0])], {}, "unsupported ONNX operator 'Transpose'"),
        ([helper.make_node("Add", ["x", "x"], ["y"])], {}, "single-path"),
        ([helper.make_node("Div", ["one", "x"], ["y"])], {"one": [1.0]}, "not an affine map"),
        ([helper.make_node("Gemm", ["x", "W"], ["y"], transA=1)], {"W": np.ones((3, 3))}, "transA"),
    ],
)
def test_unsupported_graphs_name_the_problem(nodes, inits, message):
    with pytest.raises(UnsupportedError, match=message):
        from_onnx(_model(nodes, inits, [3]))


def test_unsupported_conv_settings():
    W = np.ones((2, 1, 3, 3))
    for attrs, message in [({"pads": [1, 1, 0, 0]}, "asymmetric"), ({"group": 1, "dilations": [2, 2]}, "dilation")]:
        with pytest.raises(UnsupportedError, match=message):
            from_onnx(_model([helper.make_node("Conv", ["x", "W"], ["y"], **attrs)], {"W": W}, [1, 5, 5]))


def test_bad_files(tmp_path):
    (tmp_path / "junk.onnx").write_bytes(b"\x00\x01garbage")
    with pytest.raises(ModelFormatError, match="junk.onnx"):
        load_model(tmp_path / "junk.onnx")
    two_inputs = helper.make_model(
        helper.make_graph(
            [helper.make_node("Add", ["a", "b"], ["y"])],
            "g",
            [helper.make_tensor_value_info(n, TensorProto.FLOAT, ["N", 2]) for n in "ab"],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        )
    )
    with pytest.raises(UnsupportedError, match="one input and one output"):
        from_onnx(two_inputs)
    with pytest.raises(UnsupportedError, match="float32 and float64"):
        to_onnx(Network([Dense(np.ones((1, 2)), np.zeros(1))]), dtype="int8")


def test_numpy_class_names_save_as_plain_values(tmp_path):
    """A fitted estimator's class names come from np.unique (np.int64, np.bool_): the ONNX file holds them as the
    plain values a JSON model holds (before: a raw json TypeError)."""
    from mipnet.io import load_model, save_model

    for names in ([np.int64(0), np.int64(1)], [np.bool_(False), np.bool_(True)]):
        net = Network([Dense(np.ones((1, 2)), np.zeros(1))], class_names=names)
        save_model(net, tmp_path / "m.onnx")
        back = load_model(tmp_path / "m.onnx")
        assert back.class_names == [n.item() for n in names]
        assert all(type(a) is type(n.item()) for a, n in zip(back.class_names, names))


@pytest.mark.parametrize("channels", [1, 3])
def test_lenet_export_is_valid_onnx_and_keeps_the_fingerprint(rng, tmp_path, channels):
    """conv -> avgpool -> conv (float64 export: Conv and AveragePool between Casts) wrote two nodes with one output
    name (onnx.checker and onnxruntime refused the file); a per-channel Normalize (C, 1, 1), as the conv trainer
    writes it, came back as (C, H, W): same forward pass, another fingerprint, so certificates stopped re-checking."""
    net = Network(
        [
            Normalize(rng.uniform(0.5, 2, (channels, 1, 1)), rng.normal(size=(channels, 1, 1))),
            Conv2D(rng.normal(size=(2, channels, 3, 3)), rng.normal(size=2)),
            ReLU(),
            AvgPool2D((2, 2)),
            Conv2D(rng.normal(size=(2, 2, 2, 2)), rng.normal(size=2)),
            ReLU(),
            Flatten(),
            Dense(rng.normal(size=(2, 2)), rng.normal(size=2)),
        ],
        input_shape=(channels, 6, 6),
    )
    save_model(net, tmp_path / "m.onnx")
    model = onnx.load(str(tmp_path / "m.onnx"))
    onnx.checker.check_model(model, full_check=True)
    outs = [o for n in model.graph.node for o in n.output]
    assert len(outs) == len(set(outs))
    X = rng.normal(size=(20, channels, 6, 6))
    np.testing.assert_allclose(_ort(model, X), net.forward(X), rtol=1e-5, atol=1e-5)
    back = load_model(tmp_path / "m.onnx")
    assert back.fingerprint() == net.fingerprint()
    assert back.layers[0].scale.shape == (channels, 1, 1)


def test_an_integer_input_is_refused(tmp_path):
    """An INT64 input was verified over the reals: a counterexample could be fractional, not an input the graph
    takes."""
    W = np.eye(2)
    graph = helper.make_graph(
        [
            helper.make_node("Cast", ["input"], ["xf"], to=TensorProto.DOUBLE),
            helper.make_node("MatMul", ["xf", "W"], ["output"]),
        ],
        "g",
        [helper.make_tensor_value_info("input", TensorProto.INT64, ["N", 2])],
        [helper.make_tensor_value_info("output", TensorProto.DOUBLE, ["N", 2])],
        [numpy_helper.from_array(W, "W")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    with pytest.raises(UnsupportedError, match="real-valued"):
        from_onnx(model)


def test_a_domain_integer_list_of_booleans_is_refused():
    """ "integer": [true] read as index 1 (True == 1) and marked the second feature integer."""
    from mipnet.domain import Domain

    with pytest.raises(ModelFormatError, match="list of feature indices"):
        Domain.from_dict({"names": ["a", "b"], "lower": [0, 0], "upper": [1, 1], "integer": [True]})


def test_dropout_in_training_mode_and_a_regrouping_reshape_are_refused(rng):
    """Dropout(training_mode=true) drops random inputs (onnxruntime: y in {2, 4, 6, 8}); a Reshape (2, -1) of a
    batch of any size regroups samples (a Softmax after it normalises other groups): both were read as no-ops and
    a "holds" proved on another function."""
    W = rng.normal(size=(3, 4))
    drop = [
        helper.make_node("Gemm", ["x", "W"], ["h"], transB=1),
        helper.make_node("Dropout", ["h", "ratio", "train"], ["y"], name="d"),
    ]
    inits = {"W": W, "ratio": np.array(0.5), "train": np.array(True)}
    with pytest.raises(UnsupportedError, match="Dropout in training mode"):
        from_onnx(_model(drop, inits, [4]))
    inits["train"] = np.array(False)  # inference mode: read as the identity
    net = from_onnx(_model(drop, inits, [4]))
    X = rng.normal(size=(5, 4))
    np.testing.assert_allclose(net.forward(X), X @ W.T, atol=1e-12)
    regroup = [
        helper.make_node("Gemm", ["x", "W"], ["h"], transB=1),
        helper.make_node("Reshape", ["h", "shape"], ["y"], name="r"),
    ]
    with pytest.raises(UnsupportedError, match="keep the batch first"):
        from_onnx(_model(regroup, {"W": rng.normal(size=(6, 4)), "shape": np.array([2, -1], dtype=np.int64)}, [4]))
    keep = from_onnx(_model(regroup, {"W": W, "shape": np.array([0, -1], dtype=np.int64)}, [4]))
    np.testing.assert_allclose(keep.forward(X), X @ W.T, atol=1e-12)


def test_saved_metadata_of_any_shape_and_the_softmax_note(tmp_path, rng):
    """A "metadata" entry that is a list crashed the import; a Softmax the import dropped was kept as a note
    through JSON and exported back as if the logits-only graph still ended in it (counterexample Y were
    probabilities of a graph that outputs logits)."""
    import json as _json

    W = rng.normal(size=(2, 3))
    model = _model(
        [helper.make_node("Gemm", ["x", "W"], ["z"], transB=1), helper.make_node("Softmax", ["z"], ["y"])],
        {"W": W},
        [3],
    )
    net = from_onnx(model)
    assert net.metadata["onnx_dropped_output"] == "Softmax"
    back = from_onnx(to_onnx(net))
    assert "onnx_dropped_output" not in back.metadata  # the exported graph ends in the logits
    exported = to_onnx(net)
    for bad in ([1, 2], "text"):
        for p in exported.metadata_props:
            if p.key == "mipnet":
                d = _json.loads(p.value)
                d["metadata"] = bad
                p.value = _json.dumps(d)
        assert from_onnx(exported).metadata["source"] == "onnx"


@pytest.mark.parametrize(
    "nodes",
    [
        [helper.make_node("Gemm", ["x"], ["y"])],
        [helper.make_node("MatMul", ["x"], ["y"])],
        [helper.make_node("Sub", ["x"], ["y"])],
        [helper.make_node("Gemm", ["x", "W"], ["h"]), helper.make_node("Reshape", ["h"], ["y"])],
        [helper.make_node("Gemm", ["x", "W"], ["h"]), helper.make_node("Relu", ["h"], [])],
    ],
)
def test_a_node_missing_its_inputs_or_output_is_one_error(nodes) -> None:
    """A Gemm, MatMul or Sub with one input, a Reshape without its shape, a Relu without an output: IndexError
    tracebacks from inside the reader."""
    W = numpy_helper.from_array(np.ones((4, 3), np.float32), "W")
    g = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        [W],
    )
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    with pytest.raises((ModelFormatError, UnsupportedError)):
        from_onnx(model)


def test_an_empty_torch_model_is_one_error(tmp_path) -> None:
    """An empty nn.Sequential saved whole: IndexError while guessing its input shape."""
    from mipnet.io.torch_io import load_torch_file

    torch.save(nn.Sequential(), tmp_path / "empty.pt")
    with pytest.raises(ModelFormatError, match="no layers"):
        load_torch_file(tmp_path / "empty.pt")


def test_a_weight_too_large_for_float32_is_refused_by_the_float32_export(tmp_path) -> None:
    """save_model(net, "x.onnx", dtype="float32") with a weight of 1e39 wrote inf (onnxruntime then gave NaN and
    mipnet refused to read its own file)."""
    net = Network([Dense(np.array([[1e39, 1.0]]), np.zeros(1))], domain=Domain.box(2, -1.0, 1.0))
    with pytest.raises(UnsupportedError, match="does not fit"):
        save_model(net, tmp_path / "x.onnx", dtype="float32")
    assert not (tmp_path / "x.onnx").exists()
    save_model(net, tmp_path / "x64.onnx")  # float64 keeps it
    assert from_onnx(onnx.load(tmp_path / "x64.onnx")).layers[0].weight[0, 0] == 1e39


def test_batch_norm_with_spatial_0_and_a_missing_external_file_are_named(tmp_path) -> None:
    """BatchNormalization(spatial=0) (opset 7) failed with numpy's broadcast message naming no node; an external
    weights file that is missing said only "ValidationError"."""
    shape = [None, 3]
    stats = [numpy_helper.from_array(np.full(6, v, np.float32), n) for v, n in [(1, "g"), (0, "b"), (0, "m"), (1, "v")]]
    g = helper.make_graph(
        [helper.make_node("BatchNormalization", ["x", "g", "b", "m", "v"], ["y"], spatial=0)],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [*shape[:1], 2, 3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        stats,
    )
    with pytest.raises((UnsupportedError, ModelFormatError), match="spatial=0"):
        from_onnx(helper.make_model(g, opset_imports=[helper.make_opsetid("", 7)]))
    net = Network([Dense(np.ones((1, 2)), np.zeros(1))], domain=Domain.box(2, -1.0, 1.0))
    m = to_onnx(net)
    onnx.save_model(m, str(tmp_path / "m.onnx"), save_as_external_data=True, location="w.bin", size_threshold=0)
    (tmp_path / "w.bin").unlink()
    with pytest.raises(ModelFormatError, match="w.bin"):
        from_onnx(tmp_path / "m.onnx")


@pytest.mark.parametrize("low", [-1.0, 0.0, -3.0])
def test_relu_then_hardtanh_float64_export_loads_in_onnxruntime(rng, low):
    """onnxruntime's Relu-Clip fusion cannot read a float64 Clip min: the export leaves the min out after a ReLU
    (the same function for every min <= 0) and the import restores it from the metadata, not from an edit."""
    net = Network(
        [
            Dense(rng.normal(size=(3, 2)), rng.normal(size=3)),
            ReLU(),
            HardTanh(low, low + 2.0),
            Dense(rng.normal(size=(1, 3)), [0.0]),
        ],
        input_shape=(2,),
    )
    model = to_onnx(net)
    clip = next(n for n in model.graph.node if n.op_type == "Clip")
    assert clip.input[1] == ""
    x = rng.normal(size=(64, 2)) * 3
    got = ort.InferenceSession(model.SerializeToString()).run(None, {"input": x})[0]
    np.testing.assert_allclose(got, net.forward(x), rtol=1e-12, atol=1e-12)
    back = from_onnx(model)
    assert back.fingerprint() == net.fingerprint()
    # metadata claiming a min above 0 (another function than the graph's) is not trusted: the graph's own 0
    meta = next(p for p in model.metadata_props if p.key == "mipnet")
    meta.value = meta.value.replace(f'"min": {low}', '"min": 0.5')
    edited = from_onnx(model)
    assert edited.layers[2].config()["min_val"] == min(0.0, low + 1.0)
    np.testing.assert_array_equal(edited.forward(x), net.forward(x))
    # a foreign Relu then Clip(max only) reads as HardTanh(0, max)
    foreign = onnx.load_from_string(model.SerializeToString())
    del foreign.metadata_props[:]
    read = from_onnx(foreign)
    assert read.layers[2].config() == {"min_val": min(0.0, low + 1.0), "max_val": low + 2.0}
    np.testing.assert_array_equal(read.forward(x), net.forward(x))


def test_a_foreign_leaky_relu_alpha_is_read_as_onnxruntime_computes_it():
    """ONNX holds alpha as float32 (0.10000000149): read as the decimal 0.1, a float64 model's output at x = -1e6 was
    1.5e-3 off onnxruntime's, and a VNN-LIB property between the two values "held"."""
    D = TensorProto.DOUBLE
    nodes = [
        helper.make_node("Gemm", ["x", "W", "b"], ["h"]),
        helper.make_node("LeakyRelu", ["h"], ["r"], alpha=0.1),
        helper.make_node("Gemm", ["r", "V", "c"], ["y"]),
    ]
    inits = [
        numpy_helper.from_array(np.array([[1.0]]), "W"),
        numpy_helper.from_array(np.array([0.0]), "b"),
        numpy_helper.from_array(np.array([[1.0]]), "V"),
        numpy_helper.from_array(np.array([0.0]), "c"),
    ]
    io = [helper.make_tensor_value_info(n, D, ["N", 1]) for n in ("x", "y")]
    graph = helper.make_graph(nodes, "g", io[:1], io[1:], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    x = np.array([[-1e6], [3.0]])
    ours = from_onnx(model).forward(x)
    theirs = ort.InferenceSession(model.SerializeToString()).run(None, {"x": x})[0]
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)


@pytest.mark.parametrize("alpha", [0.1, 0.25, 0.0])
def test_a_leaky_relu_export_computes_with_its_own_alpha_and_metadata_never_overrides_the_graph(alpha):
    """A float64 export wrote the float32 attribute 0.10000000149 and the exact 0.1 in metadata: mipnet read 0.1,
    onnxruntime computed with the float32 value, and verify vnnlib said "holds" where the file violates it. Now an
    alpha float32 does not hold is PRelu's float64 slope; the graph is read as it computes, whatever the metadata."""
    from mipnet.layers import LeakyReLU

    net = Network(
        [Dense(np.array([[1.0]]), np.array([0.0])), LeakyReLU(alpha), Dense(np.array([[1.0]]), np.array([1e5 + 1e-3]))],
        domain=Domain(["x"], lower=[-1e6], upper=[1e6]),
        task="regress",
    )
    model = to_onnx(net)
    assert [n.op_type for n in model.graph.node][1] == ("PRelu" if alpha == 0.1 else "LeakyRelu")
    x = np.array([[-1e6], [-3.0], [2.0]])
    back = from_onnx(model)
    assert back.fingerprint() == net.fingerprint()
    np.testing.assert_array_equal(_ort(model, x), net.forward(x))
    np.testing.assert_array_equal(back.forward(x), net.forward(x))
    # an older export's form: the float32 attribute, the exact value in (editable) metadata: read as it computes
    old = onnx.load_from_string(model.SerializeToString())
    for n in old.graph.node:
        if n.op_type == "PRelu":
            n.op_type = "LeakyRelu"
            del n.input[1:]
            n.attribute.append(helper.make_attribute("alpha", alpha))
    meta = next(p for p in old.metadata_props if p.key == "mipnet")
    saved = json.loads(meta.value)
    saved["exact_attributes"] = {old.graph.node[1].output[0]: {"alpha": alpha}}
    meta.value = json.dumps(saved)
    read = from_onnx(old)
    assert read.layers[1].alpha == float(np.float32(alpha))
    np.testing.assert_allclose(read.forward(x), _ort(old, x), rtol=0, atol=1e-12)


def test_a_prelu_with_one_slope_is_a_leaky_relu_and_per_channel_slopes_are_refused():
    D = TensorProto.DOUBLE

    def model(slope):
        nodes = [helper.make_node("Gemm", ["x", "W", "b"], ["h"]), helper.make_node("PRelu", ["h", "s"], ["y"])]
        inits = [
            numpy_helper.from_array(np.eye(2), "W"),
            numpy_helper.from_array(np.zeros(2), "b"),
            numpy_helper.from_array(np.asarray(slope, dtype=np.float64), "s"),
        ]
        io = [helper.make_tensor_value_info(n, D, ["N", 2]) for n in ("x", "y")]
        m = helper.make_model(
            helper.make_graph(nodes, "g", io[:1], io[1:], inits), opset_imports=[helper.make_opsetid("", 17)]
        )
        m.ir_version = 8
        return m

    x = np.array([[-2.0, 3.0], [1.0, -7.0]])
    m = model([0.3, 0.3])
    np.testing.assert_array_equal(from_onnx(m).forward(x), _ort(m, x))
    with pytest.raises(UnsupportedError, match="one slope"):
        from_onnx(model([0.3, 0.2]))


@pytest.mark.parametrize("key,value", [("torch_dropped_output", "Softmax"), ("output_activation", "logistic")])
def test_an_export_ending_in_logits_carries_no_dropped_output_and_convert_says_so(tmp_path, key, value):
    """The written ONNX ends in the logits: metadata saying the model ends in a Sigmoid made verify refuse a property
    for a reason the file does not have, and convert changed the outputs without a word."""
    from click.testing import CliRunner

    from mipnet.cli import cli
    from mipnet.network import dropped_output

    net = Network([Dense(np.array([[1.0, -1.0], [0.5, 2.0]]), np.zeros(2))], domain=Domain.box(2, -1, 1))
    net.metadata = {key: value}
    assert dropped_output(net)
    assert dropped_output(from_onnx(to_onnx(net))) is None
    save_model(net, tmp_path / "m.json")
    r = CliRunner().invoke(cli, ["convert", str(tmp_path / "m.json"), "-o", str(tmp_path / "m.onnx")])
    assert r.exit_code == 0, r.output
    assert "outputs the logits" in r.output and ("Softmax" in r.output or "Sigmoid" in r.output)


def test_a_prelu_slope_that_would_raise_the_tensor_s_rank_is_refused():
    """A slope of shape (1, 1, 3) on (N, 3) makes onnxruntime's tensor (1, N, 3): its Softmax then ran over the
    batch, while mipnet read a LeakyReLU and another function."""
    D = TensorProto.DOUBLE
    nodes = [helper.make_node("Gemm", ["x", "W", "b"], ["h"]), helper.make_node("PRelu", ["h", "s"], ["y"])]
    inits = [numpy_helper.from_array(np.eye(3), "W"), numpy_helper.from_array(np.zeros(3), "b"),
             numpy_helper.from_array(np.full((1, 1, 3), 0.2), "s")]  # fmt: skip
    io_ = [helper.make_tensor_value_info(n, D, ["N", 3]) for n in ("x", "y")]
    m = helper.make_model(
        helper.make_graph(nodes, "g", io_[:1], io_[1:], inits), opset_imports=[helper.make_opsetid("", 17)]
    )
    m.ir_version = 8
    with pytest.raises(UnsupportedError, match="changes the shape"):
        from_onnx(m)


def test_a_tiny_onnx_file_declaring_a_huge_input_is_refused_before_any_array_is_made():
    """An Add's constant was broadcast to the declared 1e12 values per row (7 TiB) before the size check."""
    D = TensorProto.DOUBLE
    nodes = [helper.make_node("Add", ["x", "c"], ["y"])]
    inits = [numpy_helper.from_array(np.array([1.0]), "c")]
    io_ = [helper.make_tensor_value_info(n, D, ["N", 100000, 100000, 100]) for n in ("x", "y")]
    m = helper.make_model(
        helper.make_graph(nodes, "g", io_[:1], io_[1:], inits), opset_imports=[helper.make_opsetid("", 17)]
    )
    with pytest.raises(ModelFormatError, match="values per row"):
        from_onnx(m)


def test_a_float32_export_of_an_alpha_that_rounds_to_one_is_refused():
    from mipnet.layers import LeakyReLU

    alpha = float(np.nextafter(1.0, 0.0))
    net = Network([Dense(np.eye(2), np.zeros(2)), LeakyReLU(alpha), Dense(np.eye(2), np.zeros(2))],
                  domain=Domain.box(2, -1, 1))  # fmt: skip
    with pytest.raises(UnsupportedError, match="rounds to 1 in float32"):
        to_onnx(net, dtype="float32")
    assert from_onnx(to_onnx(net)).layers[1].alpha == alpha  # float64: exact


@pytest.mark.parametrize(
    "nodes, inits, error, message",
    [  # a random draw was folded into the bias, another at every load
        (
            [helper.make_node("RandomNormal", [], ["r"], shape=[3]), helper.make_node("Add", ["x", "r"], ["y"])],
            {},
            UnsupportedError,
            "draws random numbers",
        ),
        (
            [helper.make_node("RandomUniform", [], ["r"], shape=[3]), helper.make_node("Mul", ["x", "r"], ["y"])],
            {},
            UnsupportedError,
            "draws random numbers",
        ),
        (  # a NaN shift after a Gemm went into its bias unchecked
            [helper.make_node("Gemm", ["x", "W"], ["z"], transB=1), helper.make_node("Add", ["z", "c"], ["y"])],
            {"W": np.ones((3, 3)), "c": [0.0, np.nan, 0.0]},
            ModelFormatError,
            "NaN or inf",
        ),
        (  # a file of a few hundred bytes asked for 7 GB before the broadcast failed
            [
                helper.make_node("ConstantOfShape", ["s"], ["c"]),
                helper.make_node("Add", ["x", "c"], ["y"]),
            ],
            {"s": np.array([30000, 30000], dtype=np.int64)},
            ModelFormatError,
            "900000000 elements",
        ),
    ],
)
def test_random_non_finite_and_huge_constants_are_refused(nodes, inits, error, message):
    with pytest.raises(error, match=message):
        from_onnx(_model(nodes, inits, [3]))
