"""Every layer's forward pass against torch (float64, 1e-9), window indices, (de)serialisation, errors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from mipnet.errors import ModelFormatError, UnsupportedError
from mipnet.layers import (
    GELU,
    LAYER_TYPES,
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
    layer_from_dict,
    window_indices,
)

TOL = 1e-9


def t(a: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(a, dtype=np.float64))


def close(ours: np.ndarray, ref: torch.Tensor) -> None:
    ref_np = ref.detach().numpy()
    assert ours.shape == ref_np.shape
    assert ours.dtype == np.float64
    np.testing.assert_allclose(ours, ref_np, rtol=0, atol=TOL)


# ----------------------------------------------------------------------------- affine layers


def test_dense_matches_torch(rng):
    layer = Dense(rng.normal(size=(5, 7)), rng.normal(size=5))
    x = rng.normal(size=(11, 7))
    close(layer.forward(x), F.linear(t(x), t(layer.weight), t(layer.bias)))
    assert layer.output_shape((7,)) == (5,)
    assert (layer.in_features, layer.out_features) == (7, 5)


@pytest.mark.parametrize(
    "c_in, c_out, kernel, stride, padding, hw",
    [
        (1, 2, (3, 3), (1, 1), (0, 0), (6, 6)),
        (3, 4, (3, 3), (2, 2), (1, 1), (9, 8)),
        (2, 3, (3, 2), (2, 1), (1, 2), (7, 5)),  # non-square kernel, stride, padding and image
        (2, 2, (1, 4), (3, 2), (0, 1), (5, 10)),
        (1, 1, (5, 5), (1, 1), (2, 2), (5, 5)),
    ],
)
def test_conv2d_matches_torch(rng, c_in, c_out, kernel, stride, padding, hw):
    layer = Conv2D(rng.normal(size=(c_out, c_in) + kernel), rng.normal(size=c_out), stride=stride, padding=padding)
    x = rng.normal(size=(3, c_in) + hw)
    ref = F.conv2d(t(x), t(layer.weight), t(layer.bias), stride=stride, padding=padding)
    close(layer.forward(x), ref)
    assert layer.output_shape((c_in,) + hw) == tuple(ref.shape[1:])


@pytest.mark.parametrize(
    "kernel, stride, padding, hw",
    [
        ((2, 2), None, (0, 0), (6, 6)),  # stride defaults to the kernel
        ((3, 3), (2, 2), (1, 1), (7, 7)),  # stride != kernel, padding
        ((3, 2), (1, 2), (1, 1), (5, 6)),  # non-square, overlapping windows
        ((2, 3), (3, 1), (0, 1), (8, 5)),
    ],
)
def test_maxpool_matches_torch(rng, kernel, stride, padding, hw):
    layer = MaxPool2D(kernel=kernel, stride=stride, padding=padding)
    # negative inputs: a padded position (value -inf in torch) must never win over them
    x = rng.normal(size=(2, 3) + hw) - 5.0
    ref = F.max_pool2d(t(x), kernel, stride=stride if stride is not None else kernel, padding=padding)
    close(layer.forward(x), ref)
    assert layer.output_shape((3,) + hw) == tuple(ref.shape[1:])
    assert np.all(layer.forward(x) < 0)


@pytest.mark.parametrize("count_include_pad", [True, False])
@pytest.mark.parametrize(
    "kernel, stride, padding, hw",
    [
        ((3, 3), (2, 2), (1, 1), (7, 7)),
        ((3, 2), (1, 2), (1, 1), (5, 6)),
        ((2, 2), (2, 2), (0, 0), (6, 4)),
    ],
)
def test_avgpool_matches_torch(rng, kernel, stride, padding, hw, count_include_pad):
    layer = AvgPool2D(kernel=kernel, stride=stride, padding=padding, count_include_pad=count_include_pad)
    x = rng.normal(size=(2, 3) + hw) + 3.0
    ref = F.avg_pool2d(t(x), kernel, stride=stride, padding=padding, count_include_pad=count_include_pad)
    close(layer.forward(x), ref)


def test_avgpool_divisors_differ_only_with_padding():
    inc = AvgPool2D(kernel=3, stride=2, padding=1, count_include_pad=True)
    exc = AvgPool2D(kernel=3, stride=2, padding=1, count_include_pad=False)
    np.testing.assert_array_equal(inc.divisors((1, 5, 5)), np.full((1, 3, 3), 9.0))
    # corner windows see 2x2 real pixels, edge windows 2x3, the centre 3x3
    np.testing.assert_array_equal(exc.divisors((1, 5, 5))[0], [[4, 6, 4], [6, 9, 6], [4, 6, 4]])


def test_flatten_matches_torch(rng):
    x = rng.normal(size=(4, 3, 2, 5))
    close(Flatten().forward(x), torch.flatten(t(x), start_dim=1))
    assert Flatten().output_shape((3, 2, 5)) == (30,)


def test_normalize_per_feature(rng):
    scale, offset = rng.uniform(0.5, 2.0, size=6), rng.normal(size=6)
    layer = Normalize(scale, offset)
    x = rng.normal(size=(5, 6))
    close(layer.forward(x), t(x) * t(scale) + t(offset))
    assert layer.output_shape((6,)) == (6,)


def test_normalize_per_channel_broadcast(rng):
    mean, std = np.array([0.2, 0.5, 0.7]), np.array([0.3, 0.1, 0.25])
    layer = Normalize((1.0 / std).reshape(3, 1, 1), (-mean / std).reshape(3, 1, 1))
    x = rng.uniform(size=(4, 3, 5, 6))
    ref = (t(x) - t(mean).view(1, 3, 1, 1)) / t(std).view(1, 3, 1, 1)
    close(layer.forward(x), ref)
    assert layer.output_shape((3, 5, 6)) == (3, 5, 6)


@pytest.mark.parametrize(
    "param_shape, input_shape",
    [((4,), (3,)), ((3,), (1,)), ((2, 1, 1), (3, 4, 4)), ((1, 3), (3,))],
)
def test_normalize_rejects_parameters_that_do_not_fit(param_shape, input_shape):
    layer = Normalize(np.ones(param_shape), np.zeros(param_shape))
    with pytest.raises(ModelFormatError, match="do not fit"):
        layer.output_shape(input_shape)


# ----------------------------------------------------------------------------- activations

X_ACT = np.concatenate([np.linspace(-8.0, 8.0, 161), [-30.0, -1e-12, 1e-12, 30.0]]).reshape(3, -1)


@pytest.mark.parametrize(
    "layer, ref",
    [
        (ReLU(), F.relu),
        (LeakyReLU(alpha=0.2), lambda x: F.leaky_relu(x, 0.2)),
        (LeakyReLU(), lambda x: F.leaky_relu(x, 0.01)),
        (Identity(), lambda x: x),
        (GELU(), lambda x: F.gelu(x, approximate="none")),
        (Tanh(), torch.tanh),
        (Sigmoid(), torch.sigmoid),
    ],
    ids=["relu", "leaky0.2", "leaky-default", "identity", "gelu", "tanh", "sigmoid"],
)
def test_activation_matches_torch(layer, ref):
    x4 = X_ACT.reshape(3, 1, 1, -1)  # activations are elementwise on any shape
    close(layer.forward(X_ACT), ref(t(X_ACT)))
    close(layer.forward(x4), ref(t(x4)))
    assert layer.activation and layer.output_shape((7, 2)) == (7, 2)


def test_piecewise_linear_flags():
    assert all(l.piecewise_linear for l in (ReLU(), LeakyReLU(), Identity(), MaxPool2D()))
    assert not any(l.piecewise_linear for l in (GELU(), Tanh(), Sigmoid()))


@pytest.mark.parametrize("layer", [Sigmoid(), Tanh(), GELU()], ids=["sigmoid", "tanh", "gelu"])
def test_smooth_activations_on_extreme_inputs_without_warnings(layer):
    x = np.array([[-1e308, -1e5, -800.0, -745.0, -40.0, 0.0, 40.0, 745.0, 800.0, 1e5, 1e308]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            out = layer.forward(x)
    assert np.all(np.isfinite(out))
    ref = {"Sigmoid": torch.sigmoid, "Tanh": torch.tanh, "GELU": lambda v: F.gelu(v, approximate="none")}[layer.kind]
    close(out, ref(t(x)))


def test_sigmoid_saturates_exactly():
    out = Sigmoid().forward(np.array([-1e308, 0.0, 1e308]))
    np.testing.assert_array_equal(out, [0.0, 0.5, 1.0])


def test_leaky_relu_rejects_bad_alpha():
    for alpha in (-0.1, 1.0, float("nan")):
        with pytest.raises(ModelFormatError, match="alpha"):
            LeakyReLU(alpha=alpha)


# ----------------------------------------------------------------------------- window indices


@pytest.mark.parametrize(
    "shape, kernel, stride, padding",
    [
        ((2, 6, 6), (2, 2), (2, 2), (0, 0)),
        ((3, 7, 5), (3, 2), (2, 1), (1, 1)),
        ((1, 5, 8), (2, 3), (3, 2), (1, 0)),
    ],
)
def test_window_indices_reproduce_pooling_and_conv(rng, shape, kernel, stride, padding):
    idx = window_indices(shape, kernel, stride, padding)
    c, h, w = shape
    mp = MaxPool2D(kernel=kernel, stride=stride, padding=padding)
    oh, ow = mp.output_shape(shape)[1:]
    assert idx.shape == (c, oh, ow) + kernel and idx.dtype == np.int64
    assert idx.min() >= -1 and idx.max() < c * h * w
    x = rng.normal(size=(4,) + shape)
    flat = x.reshape(4, -1)

    # MaxPool: padded positions gather -inf
    padded = np.concatenate([flat, np.full((4, 1), -np.inf)], axis=1)
    gathered = padded[:, np.where(idx >= 0, idx, flat.shape[1])]
    np.testing.assert_array_equal(gathered.max(axis=(4, 5)), mp.forward(x))

    # AvgPool (count_include_pad=False): padding gathers 0 and is not counted
    zero_padded = np.concatenate([flat, np.zeros((4, 1))], axis=1)[:, np.where(idx >= 0, idx, flat.shape[1])]
    ap = AvgPool2D(kernel=kernel, stride=stride, padding=padding, count_include_pad=False)
    np.testing.assert_allclose(
        zero_padded.sum(axis=(4, 5)) / (idx >= 0).sum(axis=(3, 4)), ap.forward(x), rtol=0, atol=TOL
    )

    # every window element of channel k indexes channel k, in row-major order
    ch = np.where(idx >= 0, idx // (h * w), np.arange(c)[:, None, None, None, None])
    np.testing.assert_array_equal(ch, np.broadcast_to(np.arange(c)[:, None, None, None, None], idx.shape))


def test_window_indices_reproduce_conv(rng):
    shape, kernel, stride, padding = (2, 6, 5), (3, 3), (2, 1), (1, 1)
    conv = Conv2D(rng.normal(size=(3, 2) + kernel), rng.normal(size=3), stride=stride, padding=padding)
    idx = window_indices(shape, kernel, stride, padding)
    x = rng.normal(size=(3,) + shape)
    flat = np.concatenate([x.reshape(3, -1), np.zeros((3, 1))], axis=1)
    cols = flat[:, np.where(idx >= 0, idx, flat.shape[1] - 1)]  # (N, C, oh, ow, kh, kw)
    ours = np.einsum("ncijpq,ocpq->noij", cols, conv.weight) + conv.bias[None, :, None, None]
    np.testing.assert_allclose(ours, conv.forward(x), rtol=0, atol=TOL)


def test_window_indices_padding_marks():
    idx = window_indices((1, 3, 3), (3, 3), (1, 1), (1, 1))
    # 3x3 image, 3x3 kernel, padding 1: the corner windows see 4 pixels, the centre all 9
    np.testing.assert_array_equal((idx >= 0).sum(axis=(3, 4))[0], [[4, 6, 4], [6, 9, 6], [4, 6, 4]])
    np.testing.assert_array_equal(idx[0, 1, 1], np.arange(9).reshape(3, 3))


# ----------------------------------------------------------------------------- (de)serialisation


def _all_layers(rng: np.random.Generator) -> list:
    return [
        Dense(rng.normal(size=(3, 4)), rng.normal(size=3)),
        Conv2D(rng.normal(size=(2, 3, 3, 2)), rng.normal(size=2), stride=(2, 1), padding=(1, 0)),
        MaxPool2D(kernel=(3, 2), stride=(1, 2), padding=(1, 1)),
        AvgPool2D(kernel=3, stride=2, padding=1, count_include_pad=False),
        AvgPool2D(kernel=2),
        Flatten(),
        Normalize(rng.normal(size=(3, 1, 1)), rng.normal(size=(3, 1, 1))),
        ReLU(),
        LeakyReLU(alpha=0.3),
        Identity(),
        GELU(),
        Tanh(),
        Sigmoid(),
        HardTanh(-0.5, 2.0),
    ]


def test_every_layer_type_round_trips_through_dict(rng):
    layers = _all_layers(rng)
    assert {l.kind for l in layers} == set(LAYER_TYPES)
    for layer in layers:
        back = layer_from_dict(layer.to_dict())
        assert type(back) is type(layer)
        assert back.config() == layer.config()
        for k, v in layer.parameters().items():
            assert np.array_equal(back.parameters()[k], v)
        assert back.n_params() == layer.n_params()


def test_counts(rng):
    w = rng.normal(size=(3, 4))
    w[0, :2] = 0.0
    layer = Dense(w, np.array([0.0, 1.0, 2.0]))
    assert layer.n_params() == 15
    assert layer.n_nonzero() == 12
    assert ReLU().n_params() == 0


@pytest.mark.parametrize(
    "d, exc, msg",
    [
        ({"type": "Softmax"}, UnsupportedError, "unknown layer type 'Softmax'"),
        ({"type": ["Dense"]}, UnsupportedError, "unknown layer type"),
        ({"weight": [[1.0]]}, ModelFormatError, "'type' field"),
        ("Dense", ModelFormatError, "'type' field"),
        ({"type": "Dense", "weight": [[1.0]]}, ModelFormatError, "missing field.*bias"),
        ({"type": "Dense", "weight": [[1.0]], "bias": [0.0], "scale": 2}, ModelFormatError, "unknown field.*scale"),
        ({"type": "Dense", "weight": [[1.0, 2.0]], "bias": [0.0, 1.0]}, ModelFormatError, "2 entries but"),
        ({"type": "Dense", "weight": [1.0, 2.0], "bias": [0.0]}, ModelFormatError, "2 dimensions"),
        ({"type": "Dense", "weight": [[1.0], [2.0, 3.0]], "bias": [0.0, 0.0]}, ModelFormatError, "not a numeric"),
        ({"type": "Dense", "weight": [["nan"]], "bias": [0.0]}, ModelFormatError, "NaN or inf"),
        ({"type": "Dense", "weight": [[1.0]], "bias": ["-inf"]}, ModelFormatError, "NaN or inf"),
        ({"type": "Dense", "weight": [["a"]], "bias": [0.0]}, ModelFormatError, "not a numeric"),
        ({"type": "Conv2D", "weight": [[[[1.0]]]], "bias": [0.0], "stride": "x"}, ModelFormatError, "integer"),
        ({"type": "Conv2D", "weight": [[[[1.0]]]], "bias": [0.0], "stride": 1.5}, ModelFormatError, "integer"),
        ({"type": "Conv2D", "weight": [[[[1.0]]]], "bias": [0.0], "stride": 0}, ModelFormatError, "stride"),
        ({"type": "Conv2D", "weight": [[[[1.0]]]], "bias": [0.0, 1.0]}, ModelFormatError, "bias"),
        ({"type": "MaxPool2D", "kernel": [2, 2, 2]}, ModelFormatError, "pair"),
        ({"type": "MaxPool2D", "kernel": 2, "padding": 2}, ModelFormatError, "smaller than the kernel"),
        ({"type": "AvgPool2D", "kernel": 3, "padding": [1, 3]}, ModelFormatError, "smaller than the kernel"),
        ({"type": "Normalize", "scale": [1.0, 2.0], "offset": [0.0]}, ModelFormatError, "same shape"),
        ({"type": "LeakyReLU", "alpha": 2.0}, ModelFormatError, "alpha"),
        ({"type": "LeakyReLU", "alpha": "x"}, ModelFormatError, "LeakyReLU"),
    ],
)
def test_layer_from_bad_dict(d, exc, msg):
    with pytest.raises(exc, match=msg):
        layer_from_dict(d)


def test_shape_errors_name_the_problem():
    with pytest.raises(ModelFormatError, match="expects 3 inputs"):
        Dense(np.ones((2, 3)), np.zeros(2)).output_shape((4,))
    with pytest.raises(ModelFormatError, match="C=2"):
        Conv2D(np.ones((1, 2, 3, 3)), np.zeros(1)).output_shape((3, 5, 5))
    with pytest.raises(ModelFormatError, match="does not fit"):
        Conv2D(np.ones((1, 1, 5, 5)), np.zeros(1)).output_shape((1, 4, 4))
    with pytest.raises(ModelFormatError, match="expects an input"):
        MaxPool2D().output_shape((8,))


@pytest.mark.parametrize("flag", ["false", "no", 2, None, []])
def test_avgpool_count_include_pad_must_be_a_boolean(flag) -> None:
    """A hand-edited "count_include_pad": "false" was read as True (any truthy value): the model computed another
    function without a word."""
    from mipnet.layers import layer_from_dict

    d = AvgPool2D(2, 1, padding=1, count_include_pad=False).to_dict()
    d["count_include_pad"] = flag
    with pytest.raises(ModelFormatError, match="count_include_pad"):
        layer_from_dict(d)
    assert AvgPool2D(2, 1, padding=1, count_include_pad=np.bool_(False)).count_include_pad is False
    assert AvgPool2D(2, 1, padding=1, count_include_pad=1).count_include_pad is True
