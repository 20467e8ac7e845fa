"""Every registered layer type owns its rules (mipnet.layers.<type>): each rule is checked against the
layer's forward pass on small random inputs."""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo
import pytest

from mipnet.encode import Terms
from mipnet.errors import UnsupportedError
from mipnet.layers import (
    GELU,
    LAYER_TYPES,
    AvgPool2D,
    Conv2D,
    Dense,
    Flatten,
    HardTanh,
    Identity,
    Layer,
    LeakyReLU,
    MaxPool2D,
    Normalize,
    ReLU,
    Sigmoid,
    Tanh,
    layer_from_dict,
)

_rng = np.random.default_rng(7)
CASES: list[tuple[Layer, tuple[int, ...]]] = [
    (Dense(_rng.normal(size=(4, 5)), _rng.normal(size=4)), (5,)),
    (Conv2D(_rng.normal(size=(3, 2, 3, 2)), _rng.normal(size=3), (2, 1), (1, 1)), (2, 5, 4)),
    (MaxPool2D((2, 2), (1, 2), (1, 0)), (2, 4, 5)),
    (AvgPool2D((3, 2), (1, 1), (1, 1), count_include_pad=False), (2, 4, 4)),
    (AvgPool2D((2, 2), (2, 2), (1, 1), count_include_pad=True), (1, 5, 4)),
    (Flatten(), (2, 3, 2)),
    (Normalize(_rng.normal(size=(2, 1, 3)), _rng.normal(size=(2, 1, 3))), (2, 2, 3)),
    (ReLU(), (6,)),
    (LeakyReLU(0.15), (2, 3, 2)),
    (Identity(), (5,)),
    (GELU(), (7,)),
    (Tanh(), (7,)),
    (Sigmoid(), (7,)),
    (HardTanh(-0.4, 0.9), (2, 4)),
]
IDS = [f"{layer.kind}{i}" for i, (layer, _) in enumerate(CASES)]


def _box(shape: tuple[int, ...], seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    a, b = rng.normal(scale=1.5, size=(2, 1) + shape)
    return np.minimum(a, b), np.maximum(a, b)


def _inside(lo: np.ndarray, hi: np.ndarray, n: int, seed: int) -> np.ndarray:
    t = np.random.default_rng(seed).uniform(size=(n,) + lo.shape[1:])
    t[0], t[1] = 0.0, 1.0  # the corners are samples too
    return lo + t * (hi - lo)


def test_every_registered_type_is_covered_and_registered_once():
    assert {layer.kind for layer, _ in CASES} == set(LAYER_TYPES)
    for kind, cls in LAYER_TYPES.items():
        assert cls.kind == kind


@pytest.mark.parametrize("layer,shape", CASES, ids=IDS)
def test_interval_contains_sampled_outputs(layer: Layer, shape: tuple[int, ...]):
    for seed in range(5):
        lo, hi = _box(shape, seed)
        olo, ohi = layer.interval(lo, hi)
        assert olo.shape == ohi.shape == (1,) + tuple(layer.output_shape(shape))
        y = layer.forward(_inside(lo, hi, 200, seed))
        assert np.all(y >= olo - 1e-12) and np.all(y <= ohi + 1e-12)


@pytest.mark.parametrize(
    "layer,shape", [c for c in CASES if c[0].affine], ids=[i for i, c in zip(IDS, CASES) if c[0].affine]
)
def test_linear_map_reproduces_forward(layer: Layer, shape: tuple[int, ...]):
    X = np.random.default_rng(1).normal(size=(6,) + shape)
    A, c = layer.linear_map(shape)
    n_out = int(np.prod(layer.output_shape(shape)))
    assert A.shape == (n_out, int(np.prod(shape))) and c.shape == (n_out,)
    y = layer.forward(X).reshape(6, -1)
    np.testing.assert_allclose(X.reshape(6, -1) @ A.T.toarray() + c, y, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(layer.linear_matrix(shape), A.toarray())
    lin = layer.linear_forward(X) - layer.linear_forward(np.zeros_like(X))
    np.testing.assert_allclose(
        lin.reshape(6, -1), y - layer.forward(np.zeros((1,) + shape)).reshape(1, -1), rtol=1e-12, atol=1e-12
    )


def test_dense_linear_map_is_the_connection_map_entry_for_entry():
    """Dense writes its CSR matrix directly; it is the one the generic connection lists build (every entry kept,
    explicit zeros and -0.0 included), and it does not alias the layer's weights."""
    from mipnet.layers.base import _connection_map

    rng = np.random.default_rng(11)
    W = rng.normal(size=(6, 9))
    W[W < 0.2] = 0.0
    W[1] = -0.0
    layer = Dense(W, rng.normal(size=6))
    A, c = layer.linear_map((9,))
    B, d = _connection_map(layer, (9,))
    for name in ("indptr", "indices", "data"):
        np.testing.assert_array_equal(getattr(A, name), getattr(B, name))
    assert np.array_equal(np.signbit(A.data), np.signbit(B.data)) and A.nnz == W.size
    np.testing.assert_array_equal(c, d)
    A.data[:] = 7.0
    c[:] = 7.0
    assert not np.any(layer.weight == 7.0) and not np.any(layer.bias == 7.0)
    with pytest.raises(Exception, match="expects 9 inputs"):
        layer.linear_map((8,))


@pytest.mark.parametrize("layer,shape", CASES, ids=IDS)
def test_vjp_matches_finite_differences(layer: Layer, shape: tuple[int, ...]):
    rng = np.random.default_rng(3)
    x = rng.normal(size=shape)
    x = np.where(np.abs(x) < 1e-2, 0.5, x)  # away from the ReLU kinks
    out_shape = tuple(layer.output_shape(shape))
    g = rng.normal(size=(2,) + out_shape)
    got = layer.vjp(x, g).reshape(2, -1)
    h = 1e-6
    num = np.zeros_like(got)
    for k in range(x.size):
        e = np.zeros(x.size)
        e[k] = h
        d = (
            layer.forward((x.ravel() + e).reshape((1,) + shape)) - layer.forward((x.ravel() - e).reshape((1,) + shape))
        ) / (2 * h)
        num[:, k] = g.reshape(2, -1) @ d.ravel()
    np.testing.assert_allclose(got, num, rtol=1e-5, atol=1e-6)
    # the batched form is the same product row by row
    X = np.stack([x, -x])
    G = g.reshape(2, -1)
    rows = np.concatenate([layer.vjp(X[k], G[k : k + 1].reshape((1,) + out_shape)).reshape(1, -1) for k in range(2)])
    np.testing.assert_allclose(layer.batch_vjp(X, G), rows, rtol=1e-14, atol=1e-14)


@pytest.mark.parametrize(
    "layer,shape", [c for c in CASES if c[0].activation], ids=[i for i, c in zip(IDS, CASES) if c[0].activation]
)
def test_derivative_matches_finite_differences(layer: Layer, shape: tuple[int, ...]):
    z = np.random.default_rng(4).normal(size=(3,) + shape)
    z = np.where(np.abs(z) < 1e-2, 0.5, z)
    h = 1e-6
    np.testing.assert_allclose(
        layer.derivative(z), (layer.forward(z + h) - layer.forward(z - h)) / (2 * h), rtol=1e-6, atol=1e-7
    )


@pytest.mark.parametrize(
    "layer,shape", [c for c in CASES if not c[0].affine], ids=[i for i, c in zip(IDS, CASES) if not c[0].affine]
)
def test_relaxation_bounds_the_layer(layer: Layer, shape: tuple[int, ...]):
    for seed in range(4):
        lo, hi = _box(shape, 10 + seed)
        Al, bl, Au, bu = layer.relaxation(lo.ravel(), hi.ravel(), shape)
        X = _inside(lo, hi, 300, seed)
        flat = X.reshape(X.shape[0], -1)
        y = layer.forward(X).reshape(X.shape[0], -1)
        assert np.all(flat @ Al.T.toarray() + bl <= y + 1e-9)
        assert np.all(y <= flat @ Au.T.toarray() + bu + 1e-9)


@pytest.mark.parametrize("layer,shape", CASES, ids=IDS)
def test_registry_round_trip(layer: Layer, shape: tuple[int, ...]):
    d = layer.to_dict()
    back = layer_from_dict(d)
    assert type(back) is type(layer) and back.to_dict() == d
    X = np.random.default_rng(5).normal(size=(3,) + shape)
    np.testing.assert_array_equal(back.forward(X), layer.forward(X))


@pytest.mark.parametrize("layer,shape", CASES, ids=IDS)
def test_encoding_of_a_constant_input_is_the_forward_value(layer: Layer, shape: tuple[int, ...]):
    x = np.random.default_rng(6).normal(size=shape)
    m = pyo.ConcreteModel()
    y, _ = layer.encode(m, "t", Terms.constant(x))
    np.testing.assert_allclose(y.values().ravel(), layer.forward(x[None]).ravel(), rtol=1e-12, atol=1e-12)


def test_structural_attributes():
    for layer, shape in CASES:
        assert layer.parametrised == ("weight" in layer.parameters() and "bias" in layer.parameters())
        if layer.parametrised:
            assert layer.units == layer.output_shape(shape)[0]
            assert layer.unit_name in ("neurons", "channels")
        else:
            with pytest.raises(UnsupportedError):
                _ = layer.units
        if layer.gated:
            assert layer.piece_kind in ("relu", "leaky") and layer.activation and layer.piecewise_linear
        if layer.passthrough:
            x = np.arange(float(np.prod(shape))).reshape((1,) + shape)
            np.testing.assert_array_equal(layer.forward(x).ravel(), x.ravel())
    assert ReLU().negative_slope == 0.0 and LeakyReLU(0.3).negative_slope == 0.3


def test_a_rule_a_layer_does_not_have_is_a_clear_error():
    with pytest.raises(UnsupportedError, match="no linear relaxation"):
        Dense(np.eye(2), np.zeros(2)).relaxation(np.zeros(2), np.ones(2), (2,))
    with pytest.raises(UnsupportedError, match="no affine matrix"):
        ReLU().linear_map((3,))
    with pytest.raises(UnsupportedError, match="no derivative"):
        Flatten().derivative(np.zeros(3))
