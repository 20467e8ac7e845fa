"""Exact input gradients (reverse mode) against central finite differences and torch autograd."""

import numpy as np
import pytest
import torch
from helpers import random_conv_net, random_dense_net

import mipnet as m
from mipnet.gradients import jacobian
from mipnet.io.torch_io import to_torch


def _fd(net, x, h=1e-6):
    n = x.size
    P = np.repeat(x[None], 2 * n, axis=0)
    P[np.arange(n), np.arange(n)] += h
    P[n + np.arange(n), np.arange(n)] -= h
    out = net.forward(P)
    return ((out[:n] - out[n:]) / (2 * h)).T


@pytest.mark.parametrize("act", ["relu", "leaky_relu", "identity", "gelu", "tanh", "sigmoid"])
def test_dense_jacobian_matches_finite_differences(act):
    rng = np.random.default_rng(3)
    net = random_dense_net(rng, [4, 7, 5, 3], act=act)
    for x in net.domain.sample(5, 1):
        out, J = jacobian(net, x)
        np.testing.assert_allclose(out, net.forward(x[None])[0], rtol=0, atol=1e-12)
        np.testing.assert_allclose(J, _fd(net, x), rtol=1e-5, atol=1e-6)


def test_conv_pool_jacobian_matches_torch_autograd():
    rng = np.random.default_rng(5)
    net = random_conv_net(rng)
    # add an average pooling with padding to cover that rule as well
    layers = list(net.layers)
    layers.insert(3, m.AvgPool2D(kernel=2, stride=1, padding=1, count_include_pad=False))
    shape = net.input_shape
    for layer in layers[:4]:
        shape = layer.output_shape(shape)
    dense_in = int(np.prod(shape))
    layers = layers[:4] + [m.Flatten(), m.Dense(rng.normal(size=(3, dense_in)), rng.normal(size=3))]
    net2 = m.Network(layers, domain=net.domain, input_shape=net.input_shape)
    tnet = to_torch(net2, dtype=torch.float64)
    for x in net2.domain.sample(4, 2):
        out, J = jacobian(net2, x)
        xt = torch.tensor(x.reshape((1,) + net2.input_shape), requires_grad=True)
        Jt = torch.autograd.functional.jacobian(lambda v: tnet(v)[0], xt).reshape(3, -1).numpy()
        np.testing.assert_allclose(J, Jt, rtol=1e-9, atol=1e-12)


def test_rows_give_directional_products():
    rng = np.random.default_rng(0)
    net = random_dense_net(rng, [3, 6, 4], act="relu")
    x = net.domain.sample(1, 0)[0]
    _, J = jacobian(net, x)
    r = rng.normal(size=(2, 4))
    _, G = jacobian(net, x, rows=r)
    np.testing.assert_allclose(G, r @ J, atol=1e-12)


@pytest.mark.parametrize("kind", ["relu", "leaky_relu", "tanh", "conv"])
def test_batch_gradients_equal_jacobian_rows(kind):
    from mipnet.gradients import batch_gradients

    rng = np.random.default_rng(7)
    net = random_conv_net(rng) if kind == "conv" else random_dense_net(rng, [4, 6, 5, 3], act=kind)
    X = net.domain.sample(6, 3)
    coef = rng.normal(size=net.n_outputs)
    G = batch_gradients(net, X, coef)
    assert G.shape == (6, net.n_inputs)
    for k, x in enumerate(X):
        _, J = jacobian(net, x)
        np.testing.assert_allclose(G[k], coef @ J, rtol=1e-12, atol=1e-12)
