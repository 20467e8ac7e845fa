"""Network: shape chaining, forward/predict, activation patterns, counts, pruning; and the input Domain."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from helpers import random_dense, random_dense_net
from hypothesis import given, settings
from hypothesis import strategies as st

from mipnet.domain import Domain
from mipnet.errors import DataError, ModelFormatError
from mipnet.layers import AvgPool2D, Conv2D, Dense, Flatten, MaxPool2D, Normalize, ReLU
from mipnet.network import Network

HYP = settings(max_examples=30, deadline=None, derandomize=True, database=None)


def torch_forward(net: Network, X: np.ndarray) -> np.ndarray:
    """The same network evaluated by torch (float64)."""
    mods: list[torch.nn.Module] = []
    for layer in net.layers:
        if isinstance(layer, Dense):
            m = torch.nn.Linear(layer.in_features, layer.out_features).double()
            m.weight.data, m.bias.data = torch.from_numpy(layer.weight), torch.from_numpy(layer.bias)
        elif isinstance(layer, Conv2D):
            m = torch.nn.Conv2d(layer.in_channels, layer.out_channels, layer.kernel, layer.stride, layer.padding)
            m = m.double()
            m.weight.data, m.bias.data = torch.from_numpy(layer.weight), torch.from_numpy(layer.bias)
        elif isinstance(layer, MaxPool2D):
            m = torch.nn.MaxPool2d(layer.kernel, layer.stride, layer.padding)
        elif isinstance(layer, Flatten):
            m = torch.nn.Flatten()
        elif isinstance(layer, ReLU):
            m = torch.nn.ReLU()
        else:
            raise AssertionError(f"no torch twin for {layer.kind}")
        mods.append(m)
    x = torch.from_numpy(np.asarray(X, dtype=np.float64).reshape((len(X),) + net.input_shape))
    with torch.no_grad():
        return torch.nn.Sequential(*mods)(x).numpy()


# ----------------------------------------------------------------------------- construction


def test_shapes_chain(dense_net, conv_net):
    assert dense_net.shapes == [(4,), (5,), (5,), (3,), (3,), (1,)]
    assert conv_net.shapes == [(1, 6, 6), (2, 6, 6), (2, 6, 6), (2, 3, 3), (18,), (4,), (4,), (2,)]
    assert (conv_net.n_inputs, conv_net.n_outputs) == (36, 2)
    assert dense_net.feature_names == ["x0", "x1", "x2", "x3"]


@pytest.mark.parametrize(
    "layers, kwargs, msg",
    [
        (
            [Dense(np.ones((4, 3)), np.zeros(4)), ReLU(), Dense(np.ones((2, 5)), np.zeros(2))],
            {},
            r"layer 2 \(Dense\): Dense layer expects 5 inputs but receives shape \(4,\)",
        ),
        (
            [Conv2D(np.ones((2, 1, 3, 3)), np.zeros(2)), Conv2D(np.ones((1, 3, 3, 3)), np.zeros(1)), Flatten()],
            {"input_shape": (1, 8, 8)},
            r"layer 1 \(Conv2D\): Conv2D expects input \(C=3",
        ),
        ([Dense(np.ones((4, 3)), np.zeros(4)), Conv2D(np.ones((1, 1, 1, 1)), np.zeros(1))], {}, r"layer 1 \(Conv2D\)"),
        ([Conv2D(np.ones((2, 1, 3, 3)), np.zeros(2))], {"input_shape": (1, 5, 5)}, "flat output"),
        (
            [Conv2D(np.ones((2, 1, 7, 7)), np.zeros(2)), Flatten()],
            {"input_shape": (1, 5, 5)},
            r"layer 0 \(Conv2D\).*does not fit",
        ),
        ([Flatten(), MaxPool2D()], {"input_shape": (1, 4, 4)}, r"layer 1 \(MaxPool2D\)"),
        ([Normalize(np.ones(4), np.zeros(4))], {"input_shape": (3,)}, r"layer 0 \(Normalize\)"),
        (
            [Dense(np.ones((2, 3)), np.zeros(2))],
            {"domain": Domain.box(4), "input_shape": (3,)},
            "domain has 4 features",
        ),
        ([Dense(np.ones((3, 3)), np.zeros(3))], {"class_names": ["a", "b"]}, "2 class names"),
        ([Dense(np.ones((1, 3)), np.zeros(1))], {"class_names": ["a", "b", "c"]}, "3 class names"),
        ([Dense(np.ones((2, 3)), np.zeros(2))], {"output_names": ["y"]}, "1 output names for 2"),
        ([Dense(np.ones((2, 3)), np.zeros(2))], {"task": "cluster"}, "task must be"),
        ([], {}, "at least one layer"),
        ([ReLU(), Dense(np.ones((2, 3)), np.zeros(2))], {}, "input_shape"),
    ],
)
def test_construction_errors_name_the_layer(layers, kwargs, msg):
    with pytest.raises(ModelFormatError, match=msg):
        Network(layers, **kwargs)


# ----------------------------------------------------------------------------- forward and predict


def test_forward_matches_torch(dense_net, conv_net, rng):
    X = rng.uniform(-1, 1, size=(20, 4))
    np.testing.assert_allclose(dense_net.forward(X), torch_forward(dense_net, X), rtol=0, atol=1e-9)
    Xi = rng.uniform(0, 1, size=(20, 36))
    np.testing.assert_allclose(conv_net.forward(Xi), torch_forward(conv_net, Xi), rtol=0, atol=1e-9)
    # image-shaped input is accepted and means the same as its C-order flattening
    np.testing.assert_array_equal(conv_net.forward(Xi.reshape(20, 1, 6, 6)), conv_net.forward(Xi))
    # a single row as a vector
    np.testing.assert_array_equal(dense_net.forward(X[3]), dense_net.forward(X[3:4]))


def test_forward_trace_is_layer_by_layer(dense_net, rng):
    X = rng.uniform(-1, 1, size=(6, 4))
    trace = dense_net.forward_trace(X)
    assert len(trace) == len(dense_net.layers) + 1
    for i, layer in enumerate(dense_net.layers):
        np.testing.assert_array_equal(trace[i + 1], layer.forward(trace[i]))
        assert trace[i + 1].shape[1:] == dense_net.shapes[i + 1]


def test_predict_binary_one_logit():
    w = np.array([[1.0, -2.0]])
    net = Network([Dense(w, np.array([0.5]))], class_names=["neg", "pos"])
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.5, 1.0], [3.0, 0.0], [-0.5, 0.0]])
    logits = X @ w.T + 0.5  # 0.5, -1.5, 0.0 (exactly on the boundary), 3.5, 0.0
    np.testing.assert_array_equal(net.forward(X), logits)
    assert net.predict(X).tolist() == ["pos", "neg", "neg", "pos", "neg"]
    assert net.predict_index(logits).tolist() == [1, 0, 0, 1, 0]
    assert Network([Dense(w, np.array([0.5]))]).predict(X).tolist() == [1, 0, 0, 1, 0]


def test_predict_multiclass(multiclass_net, rng):
    X = rng.uniform(-1, 1, size=(50, 3))
    logits = multiclass_net.forward(X)
    np.testing.assert_array_equal(multiclass_net.predict(X), np.argmax(logits, axis=1))
    named = Network(multiclass_net.layers, domain=multiclass_net.domain, class_names=["a", "b", "c"])
    assert named.predict(X).tolist() == [["a", "b", "c"][k] for k in np.argmax(logits, axis=1)]
    assert len(set(named.predict(X))) >= 2  # the random net is not constant on its domain
    tie = Network([Dense(np.zeros((3, 2)), np.array([1.0, 2.0, 2.0]))], class_names=["a", "b", "c"])
    assert tie.predict(np.zeros((1, 2))).tolist() == ["b"]  # ties go to the first maximal logit


def test_predict_regression(rng):
    one = Network([Dense(np.array([[2.0, 1.0]]), np.array([1.0]))], task="regress")
    X = rng.normal(size=(4, 2))
    np.testing.assert_array_equal(one.predict(X), 2 * X[:, 0] + X[:, 1] + 1)
    two = Network([Dense(np.eye(2), np.zeros(2))], task="regress")
    np.testing.assert_array_equal(two.predict(X), X)
    assert one.class_names is None


@pytest.mark.parametrize(
    "X, msg",
    [
        (np.zeros((3, 5)), "takes 4 features, the data have 5"),
        (np.array([[0.0, np.nan, 0.0, 0.0]]), "NaN or inf"),
        (np.array([[0.0, np.inf, 0.0, 0.0]]), "NaN or inf"),
        ([["a", "b", "c", "d"]], "not numeric"),
        (1.0, "vector or a matrix"),
    ],
)
def test_bad_input_data(dense_net, X, msg):
    with pytest.raises(DataError, match=msg):
        dense_net.forward(X)


def test_activation_patterns(dense_net, conv_net, rng):
    X = rng.uniform(-1, 1, size=(40, 4))
    pats = dense_net.activation_patterns(X)
    assert [p.shape for p in pats] == [(40, 5), (40, 3)]
    z1 = X @ dense_net.layers[0].weight.T + dense_net.layers[0].bias
    z2 = np.maximum(z1, 0) @ dense_net.layers[2].weight.T + dense_net.layers[2].bias
    np.testing.assert_array_equal(pats[0], z1 > 0)
    np.testing.assert_array_equal(pats[1], z2 > 0)
    assert pats[0].dtype == bool and 0 < pats[0].mean() < 1
    cp = conv_net.activation_patterns(rng.uniform(0, 1, size=(3, 36)))
    assert [p.shape for p in cp] == [(3, 2, 6, 6), (3, 4)]


def test_counts_and_active_units(dense_net, conv_net):
    assert dense_net.n_params() == (4 * 5 + 5) + (5 * 3 + 3) + (3 + 1)
    assert dense_net.n_weights() == 4 * 5 + 5 * 3 + 3  # weights only: biases are not counted
    assert dense_net.n_nonzero() == dense_net.n_weights()
    assert dense_net.n_nonzero(include_bias=True) == dense_net.n_weights(include_bias=True) == dense_net.n_params()
    assert dense_net.active_units() == [
        {"layer": 0, "kind": "neurons", "total": 5, "active": 5},
        {"layer": 2, "kind": "neurons", "total": 3, "active": 3},
    ]
    net = dense_net.copy()
    net.layers[0].weight[1] = 0.0  # neuron 0/1: no inputs
    net.layers[2].weight[:, 4] = 0.0  # neuron 0/4: no outputs
    net.layers[2].weight[0, 0] = 0.0  # one more zero, the neuron stays active
    assert net.n_params() == dense_net.n_params()
    assert net.n_nonzero() == dense_net.n_weights() - 4 - 3 - 1
    assert [u["active"] for u in net.active_units()] == [3, 3]
    assert net.n_active_neurons() == 6 and net.n_active_channels() == 0
    assert conv_net.n_params() == (2 * 9 + 2) + (18 * 4 + 4) + (4 * 2 + 2)
    assert conv_net.active_units()[0] == {"layer": 0, "kind": "channels", "total": 2, "active": 2}
    cn = conv_net.copy()
    cn.layers[4].weight[:, 9:] = 0.0  # channel 1's block of the flattened (2, 3, 3) map
    assert cn.n_active_channels() == 1 and cn.n_active_neurons() == 4
    s = cn.summary()
    assert s["n_params"] == conv_net.n_params() and s["n_nonzero"] == conv_net.n_weights() - 36
    assert s["n_weights"] == conv_net.n_weights() == 2 * 9 + 18 * 4 + 4 * 2


def test_n_nonzero_counts_trainable_weights_only():
    """One sparsity count: non-zero Dense/Conv2D weight entries; biases and Normalize parameters not counted."""
    W1 = np.array([[0.5, 0.0, 0.0, -1.0], [0.0, 0.0, 2.0, 0.0]])  # 3 non-zero of 8
    K = np.zeros((4, 1, 2, 2))
    K[0, 0, 0, 0], K[1, 0, 1, 1], K[3, 0, 0, 1] = 1.0, -0.0, 2.0  # 2 non-zero of 16 (-0.0 is zero)
    net = Network(
        [
            Normalize(np.full((1, 2, 2), 2.0), np.full((1, 2, 2), -0.5)),
            Conv2D(K, np.array([0.3, 0.0, 0.0, 0.0])),
            ReLU(),
            Flatten(),
            Dense(W1, np.array([0.1, -0.2])),
            ReLU(),
            Dense(np.array([[0.0, 3.0]]), np.array([0.7])),
            Normalize(np.array([4.0]), np.array([1.0])),
        ],
        input_shape=(1, 2, 2),
        task="regress",
    )
    assert net.n_nonzero() == 2 + 3 + 1
    assert net.n_weights() == 16 + 8 + 2
    assert net.n_nonzero(include_bias=True) == 6 + 1 + 2 + 1
    assert net.n_weights(include_bias=True) == 26 + 4 + 2 + 1
    assert net.n_params() == 8 + 20 + 10 + 3 + 2  # every parameter, the Normalize layers' included
    assert net.summary()["n_nonzero"] == 6 and net.summary()["n_weights"] == 26


def test_fingerprint_and_copy(dense_net):
    net = dense_net.copy()
    net.metadata["note"] = "metadata does not change the function"
    assert net.fingerprint() == dense_net.fingerprint()
    net.layers[0].weight[0, 0] += 1e-15
    assert net.fingerprint() != dense_net.fingerprint()
    assert dense_net.layers[0].weight[0, 0] != net.layers[0].weight[0, 0]  # deep copy
    wd = dense_net.with_domain(Domain.box(["a", "b", "c", "d"], -2, 2))
    assert wd.feature_names == ["a", "b", "c", "d"] and dense_net.feature_names[0] == "x0"
    with pytest.raises(ModelFormatError, match="3 features"):
        dense_net.with_domain(Domain.box(3))


def _uncached_fingerprint(net: Network) -> str:
    import hashlib

    d = net.to_dict()
    d.pop("metadata")
    text = json.dumps(
        d, sort_keys=True, allow_nan=False, default=lambda o: o.item() if isinstance(o, np.generic) else str(o)
    )
    return hashlib.sha256(text.encode()).hexdigest()


def test_fingerprint_cache_is_exact_after_in_place_edits(dense_net):
    """The fingerprint's cache (keyed by the pickled dict) returns what the JSON text hashes to, edit after edit
    of one weight in place, -0.0 against 0.0 and numpy class names against plain ones included."""
    import mipnet.network as network_module

    net = dense_net.copy()
    seen = set()
    for k, value in enumerate([0.5, 0.0, -0.0, 0.5, 1e-300, 0.5]):
        net.layers[0].weight[0, 0] = value
        for _ in range(2):  # the second call is a cache hit
            assert net.fingerprint() == _uncached_fingerprint(net), (k, value)
        seen.add(net.fingerprint())
    assert len(seen) == 4  # 0.5, 0.0, -0.0 and 1e-300 are four functions' texts
    net.task, net.class_names = "classify", [np.int64(0), np.int64(1)]
    plain = net.copy()
    plain.class_names = [0, 1]
    assert net.fingerprint() == plain.fingerprint() == _uncached_fingerprint(plain)
    for i in range(3 * network_module._FINGERPRINT_CACHE_SIZE):
        net.layers[0].bias[0] = float(i)
        assert net.fingerprint() == _uncached_fingerprint(net)
    assert len(network_module._FINGERPRINTS) <= network_module._FINGERPRINT_CACHE_SIZE


# ----------------------------------------------------------------------------- pruning


def _assert_same_function(a: Network, b: Network, X: np.ndarray) -> None:
    np.testing.assert_allclose(b.forward(X), a.forward(X), rtol=0, atol=1e-12)


def test_pruned_dense_removes_dead_neurons_and_folds_constants():
    rng = np.random.default_rng(7)
    net = random_dense_net(rng, [3, 5, 2])
    w1, b1, w2, b2 = net.layers[0].weight, net.layers[0].bias, net.layers[2].weight, net.layers[2].bias
    w2[:, 1] = 0.0  # neuron 1 feeds nothing
    w1[3], b1[3] = 0.0, 0.7  # neuron 3 is the constant relu(0.7) = 0.7
    w1[4], b1[4] = 0.0, -0.3  # neuron 4 is the constant 0
    before = net.copy()
    p = net.pruned()
    assert p.shapes == [(3,), (2,), (2,), (2,)]
    np.testing.assert_array_equal(p.layers[0].weight, w1[[0, 2]])
    np.testing.assert_array_equal(p.layers[2].weight, w2[:, [0, 2]])
    np.testing.assert_allclose(p.layers[2].bias, b2 + 0.7 * w2[:, 3], rtol=0, atol=1e-15)
    _assert_same_function(net, p, rng.uniform(-3, 3, size=(200, 3)))
    assert np.array_equal(net.layers[0].weight, before.layers[0].weight) and len(net.layers[0].bias) == 5
    assert p.n_params() == net.n_params() - 3 * 4 - 3 * 2


def test_pruned_keeps_one_unit_when_all_are_dead():
    # every hidden neuron is a constant: all fold into the output bias; one must stay for the shapes
    net = Network([Dense(np.zeros((3, 2)), np.array([1.0, 2.0, -1.0])), ReLU(), Dense(np.ones((1, 3)), [0.5])])
    p = net.pruned()
    assert p.shapes[1] == (1,)
    X = np.random.default_rng(0).normal(size=(10, 2))
    np.testing.assert_allclose(p.forward(X), np.full((10, 1), 3.5), rtol=0, atol=1e-12)
    _assert_same_function(net, p, X)


def test_pruned_cascades_through_layers():
    rng = np.random.default_rng(3)
    net = random_dense_net(rng, [2, 3, 3, 1])
    net.layers[2].weight[:, 0] = 0.0  # 0/0 feeds nothing -> its row in layer 0 goes
    net.layers[4].weight[:, :2] = 0.0  # 2/0 and 2/1 feed nothing
    p = net.pruned()
    assert [s[0] for s in p.shapes] == [2, 2, 2, 1, 1, 1]
    _assert_same_function(net, p, rng.uniform(-2, 2, size=(100, 2)))


def test_pruned_leaves_units_behind_a_normalize_alone():
    rng = np.random.default_rng(4)
    net = random_dense_net(rng, [2, 3, 1])
    net.layers[2].weight[:, 1] = 0.0
    net = Network(net.layers[:2] + [Normalize(np.full(3, 2.0), np.ones(3))] + net.layers[2:])
    p = net.pruned()
    assert p.shapes[1] == (3,)  # an affine map between the layers: the unit structure is not kept
    _assert_same_function(net, p, rng.uniform(-1, 1, size=(20, 2)))


def _conv_pair_net(rng: np.random.Generator, c1: int, c2: int) -> Network:
    """(1,5,5) -> Conv(c1, pad 1) -> ReLU -> MaxPool(2, s1, p1) -> Conv(c2, s2, pad 1) -> ReLU
    -> AvgPool(2, s1, p1, counted padding) -> Flatten -> Dense(2)."""
    conv1 = Conv2D(rng.normal(0, 0.4, size=(c1, 1, 3, 3)), rng.normal(0, 0.1, size=c1), padding=1)
    conv2 = Conv2D(rng.normal(0, 0.4, size=(c2, c1, 3, 3)), rng.normal(0, 0.1, size=c2), stride=2, padding=1)
    layers = [
        conv1,
        ReLU(),
        MaxPool2D(kernel=2, stride=1, padding=1),
        conv2,
        ReLU(),
        AvgPool2D(kernel=2, stride=1, padding=1, count_include_pad=True),
        Flatten(),
        random_dense(rng, c2 * 16, 2),
    ]
    return Network(layers, domain=Domain.box(25, 0.0, 1.0), input_shape=(1, 5, 5))


def test_pruned_conv_channels():
    rng = np.random.default_rng(11)
    net = _conv_pair_net(rng, 4, 3)
    conv1, conv2, dense = net.layers[0], net.layers[3], net.layers[7]
    conv2.weight[:, 0] = 0.0  # conv1 channel 0 feeds nothing
    conv1.weight[1], conv1.bias[1] = 0.0, -0.2  # conv1 channel 1 is constant 0 after ReLU: removable
    conv1.weight[2], conv1.bias[2] = 0.0, 0.3  # constant 0.3 meets conv2's zero padding: must stay
    dense.weight[:, 16:32] = 0.0  # conv2 channel 1 feeds nothing (its block of the flattened map)
    p = net.pruned()
    assert p.layers[0].out_channels == 2 and p.layers[3].in_channels == 2
    assert p.layers[3].out_channels == 2 and p.layers[7].in_features == 32
    np.testing.assert_array_equal(p.layers[0].weight, conv1.weight[[2, 3]])
    np.testing.assert_array_equal(p.layers[7].weight, dense.weight[:, np.r_[0:16, 32:48]])
    assert p.active_units() == [
        {"layer": 0, "kind": "channels", "total": 2, "active": 1},  # the constant channel has no inputs
        {"layer": 3, "kind": "channels", "total": 2, "active": 2},
    ]
    _assert_same_function(net, p, rng.uniform(0, 1, size=(30, 25)))


def _hidden_dense(net: Network) -> list[tuple[Dense, Dense]]:
    dense = [l for l in net.layers if isinstance(l, Dense)]
    return list(zip(dense[:-1], dense[1:]))


@HYP
@given(
    sizes=st.lists(st.integers(1, 5), min_size=1, max_size=3),
    n_in=st.integers(1, 4),
    n_out=st.integers(1, 3),
    act=st.sampled_from(["relu", "leaky_relu", "tanh", "gelu", "identity"]),
    seed=st.integers(0, 2**31),
    dead_rate=st.floats(0.0, 0.7),
)
def test_pruned_random_dense_nets(sizes, n_in, n_out, act, seed, dead_rate):
    rng = np.random.default_rng(seed)
    net = random_dense_net(rng, [n_in, *sizes, n_out], act)
    n_dead = []
    for prod, cons in _hidden_dense(net):
        out_dead = rng.random(prod.out_features) < dead_rate
        in_dead = rng.random(prod.out_features) < dead_rate
        cons.weight[:, out_dead] = 0.0
        prod.weight[in_dead] = 0.0
        prod.bias[in_dead] = rng.choice([-1.0, 1.0], size=in_dead.sum()) * rng.uniform(0.1, 1.0, size=in_dead.sum())
        n_dead.append(int((out_dead | in_dead).sum()))
    p = net.pruned()
    X = rng.uniform(-2, 2, size=(64, n_in))
    _assert_same_function(net, p, X)
    for (prod, cons), (old, _), dead in zip(_hidden_dense(p), _hidden_dense(net), n_dead):
        # directly dead units are gone (one stays when all are dead), further ones may cascade
        assert prod.out_features <= max(1, old.out_features - dead)
        if prod.out_features > 1:  # no dead unit is left behind
            assert np.all(np.abs(prod.weight).max(axis=1) > 0)
            assert np.all(np.abs(cons.weight).max(axis=0) > 0)
    assert p.n_params() <= net.n_params()
    assert p.pruned().shapes == p.shapes  # pruning is idempotent


@HYP
@given(
    c1=st.integers(1, 4),
    c2=st.integers(1, 3),
    seed=st.integers(0, 2**31),
    data=st.data(),
)
def test_pruned_random_conv_nets(c1, c2, seed, data):
    rng = np.random.default_rng(seed)
    net = _conv_pair_net(rng, c1, c2)
    conv1, conv2, dense = net.layers[0], net.layers[3], net.layers[7]
    out1 = np.array(data.draw(st.lists(st.booleans(), min_size=c1, max_size=c1)))
    in1 = np.array(data.draw(st.lists(st.sampled_from([None, -0.5, 0.5]), min_size=c1, max_size=c1)), dtype=object)
    out2 = np.array(data.draw(st.lists(st.booleans(), min_size=c2, max_size=c2)))
    in2 = np.array(data.draw(st.lists(st.sampled_from([None, -0.5, 0.5]), min_size=c2, max_size=c2)), dtype=object)
    conv2.weight[:, out1] = 0.0
    for k in np.flatnonzero(in1 != None):  # noqa: E711 - elementwise on an object array
        conv1.weight[k], conv1.bias[k] = 0.0, in1[k]
    dense.weight.reshape(2, c2, 16)[:, out2] = 0.0
    for k in np.flatnonzero(in2 != None):  # noqa: E711
        conv2.weight[k], conv2.bias[k] = 0.0, in2[k]
    p = net.pruned()
    _assert_same_function(net, p, rng.uniform(0, 1, size=(16, 25)))
    # channels that feed nothing or are constant 0 after the ReLU are gone
    removable1 = out1 | (in1 == -0.5)
    assert p.layers[0].out_channels <= max(1, c1 - int(removable1.sum()))
    removable2 = out2 | (in2 == -0.5)
    assert p.layers[3].out_channels <= max(1, c2 - int(removable2.sum()))
    # a channel that is the constant 0.5 stays (zero padding downstream sees it), unless it feeds nothing
    kept_const = int(((in1 == 0.5) & ~out1).sum())
    if removable1.sum() < c1:
        assert p.layers[0].out_channels >= min(kept_const, 1)


# ----------------------------------------------------------------------------- domain


def test_domain_from_data():
    X = np.array([[0.0, 1.5, 3.0, 1.0], [2.0, -0.5, 5.0, 0.0], [1.0, 0.25, 4.0, 0.0]])
    d = Domain.from_data(X, names=["a", "b", "c", "flag"])
    np.testing.assert_array_equal(d.lower, [0.0, -0.5, 3.0, 0.0])
    np.testing.assert_array_equal(d.upper, [2.0, 1.5, 5.0, 1.0])
    assert d.integer.tolist() == [True, False, True, True]
    assert d.contains(X).all()
    wide = Domain.from_data(X, margin=0.5)
    np.testing.assert_array_equal(wide.lower, [-1.0, -1.5, 2.0, -0.5])
    np.testing.assert_array_equal(wide.upper, [3.0, 2.5, 6.0, 1.5])
    assert not wide.integer.any() and wide.names == ["x0", "x1", "x2", "x3"]
    with pytest.raises(DataError, match="NaN or inf"):
        Domain.from_data(np.array([[1.0, np.nan]]))
    with pytest.raises(DataError, match="non-empty"):
        Domain.from_data(np.zeros((0, 3)))
    with pytest.raises(ModelFormatError, match="feature names"):
        Domain.from_data(X, names=["a", "b"])


def _mixed_domain() -> Domain:
    # x0 continuous, x1 integer in [-2.5, 3.7], x2..x4 one-hot, x5 integer, x6 unbounded-free in [-1, 1]
    return Domain(
        ["age", "n", "red", "green", "blue", "k", "z"],
        [0.0, -2.5, 0.0, 0.0, 0.0, 1.0, -1.0],
        [90.0, 3.7, 1.0, 1.0, 1.0, 1.0, 1.0],
        np.array([False, True, True, True, True, True, False]),
        [[2, 3, 4]],
    )


def test_domain_contains():
    d = _mixed_domain()
    good = np.array([30.0, -2.0, 0.0, 1.0, 0.0, 1.0, 0.5])
    assert d.contains(good).tolist() == [True]
    bad = []
    for i, v in [(0, -0.1), (0, 90.5), (1, 0.5), (1, -3.0), (6, 1.1)]:
        x = good.copy()
        x[i] = v
        bad.append(x)
    onehot_two = good.copy()
    onehot_two[[2, 3]] = 1.0
    onehot_none = good.copy()
    onehot_none[3] = 0.0
    onehot_frac = good.copy()
    onehot_frac[[2, 3]] = 0.5
    bad += [onehot_two, onehot_none, onehot_frac]
    assert d.contains(np.array(bad)).tolist() == [False] * len(bad)
    assert d.contains(good + np.r_[0, 1e-10, 0, 0, 0, 0, 0]).tolist() == [True]  # tolerance


def test_domain_sample_stays_inside():
    d = _mixed_domain()
    X = d.sample(2000, rng=0)
    assert X.shape == (2000, 7) and d.contains(X, tol=0.0).all()
    assert set(np.unique(X[:, 1])) == {-2.0, -1.0, 0.0, 1.0, 2.0, 3.0}
    assert set(np.argmax(X[:, 2:5], axis=1)) == {0, 1, 2}
    np.testing.assert_array_equal(X[:, 5], 1.0)
    np.testing.assert_array_equal(d.sample(5, rng=3), d.sample(5, rng=3))
    with pytest.raises(DataError, match="unbounded"):
        Domain.box(2, 0.0, np.inf).sample(3)


@HYP
@given(
    bounds=st.lists(st.tuples(st.floats(-50, 50), st.floats(0, 20), st.booleans()), min_size=1, max_size=6),
    group=st.integers(0, 4),
    seed=st.integers(0, 1000),
)
def test_domain_sample_random_domains(bounds, group, seed):
    lower = [lo for lo, _, _ in bounds]
    upper = [lo + w for lo, w, _ in bounds]
    integer = [isint and np.ceil(lo) <= np.floor(lo + w) for lo, w, isint in bounds]
    n = len(bounds)
    names = [f"f{i}" for i in range(n)]
    groups = []
    if group >= 2:
        lower += [0.0] * group
        upper += [1.0] * group
        integer += [True] * group
        names += [f"g{i}" for i in range(group)]
        groups = [list(range(n, n + group))]
    d = Domain(names, lower, upper, np.array(integer), groups)
    X = d.sample(50, rng=seed)
    assert d.contains(X, tol=0.0).all()


def test_domain_dict_round_trip():
    d = _mixed_domain()
    d.upper[0] = np.inf
    d.lower[6] = -np.inf
    dd = d.to_dict()
    text = json.dumps(dd, allow_nan=False)  # infinite bounds are JSON-safe strings
    back = Domain.from_dict(json.loads(text))
    assert back.names == d.names and back.onehot_groups == [[2, 3, 4]]
    assert np.array_equal(back.lower, d.lower) and np.array_equal(back.upper, d.upper)
    assert np.array_equal(back.integer, d.integer)
    assert dd["integer"] == [1, 2, 3, 4, 5]
    assert not back.is_finite()
    with pytest.raises(DataError, match=r"unbounded for features \['age', 'z'\]"):
        back.require_finite()


@pytest.mark.parametrize(
    "args, msg",
    [
        ((["a", "b"], [0, 2], [1, 1]), "lower bound exceeds upper bound for feature 'b'"),
        ((["a", "a"], [0, 0], [1, 1]), "unique"),
        ((["a", "b"], [0], [1, 1]), "bounds of lengths"),
        ((["a", "b"], [0, float("nan")], [1, 1]), "NaN"),
        ((["a", "b"], [0, 0], [1, 1], None, [[0]]), "one-hot group"),
        ((["a", "b"], [0, 0], [1, 1], None, [[0, 2]]), "one-hot group"),
        ((["a", "b"], [0, 0], [1, 2], None, [[0, 1]]), r"within \[0, 1\]"),
        ((["a", "b"], [0, 0.2], [1, 0.8], np.array([False, True])), "no integer value"),
    ],
)
def test_domain_errors(args, msg):
    with pytest.raises(ModelFormatError, match=msg):
        Domain(*args)


@pytest.mark.parametrize(
    "d, msg",
    [
        ({"names": ["a"], "lower": [0]}, "missing field 'upper'"),
        ({"names": ["a"], "lower": [0], "upper": [1], "integer": [3]}, "out of range"),
        ({"names": ["a"], "lower": [0], "upper": [1], "integer": ["x"]}, "malformed domain"),
        ({"names": 3, "lower": [0], "upper": [1]}, "malformed domain"),
        ({"names": ["a"], "lower": ["nan"], "upper": [1]}, "NaN"),
        ({"names": ["a"], "lower": ["low"], "upper": [1]}, "list of numbers"),
        ([1, 2], "must be an object"),
    ],
)
def test_domain_from_bad_dict(d, msg):
    with pytest.raises(ModelFormatError, match=msg):
        Domain.from_dict(d)


def test_domain_index():
    d = _mixed_domain()
    assert d.indices(["green", "age"]) == [3, 0]
    with pytest.raises(DataError, match="unknown feature 'height'"):
        d.index("height")
