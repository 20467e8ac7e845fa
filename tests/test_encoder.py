"""The encoder with constant weights reproduces the numpy forward pass at the solver's own solution,
and the smooth envelopes contain their activation."""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mipnet.domain import Domain
from mipnet.encode import encode_network, envelope, input_terms
from mipnet.layers import AvgPool2D, Conv2D, Dense, Flatten, LeakyReLU, MaxPool2D, Normalize, ReLU
from mipnet.network import Network
from mipnet.solve import solve

SETTINGS = settings(max_examples=6, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])


def dense_net(rng: np.random.Generator, n_in: int, h1: int, h2: int) -> Network:
    return Network(
        [
            Normalize(rng.uniform(0.5, 2.0, n_in), rng.normal(0, 0.2, n_in)),
            Dense(rng.normal(0, 1, (h1, n_in)), rng.normal(0, 0.3, h1)),
            ReLU(),
            Dense(rng.normal(0, 1, (h2, h1)), rng.normal(0, 0.3, h2)),
            LeakyReLU(0.1),
            Dense(rng.normal(0, 1, (3, h2)), rng.normal(0, 0.3, 3)),
        ],
        domain=Domain.box(n_in, -1.0, 1.0),
    )


def conv_net(rng: np.random.Generator, channels: int) -> Network:
    """Over a small box around a random image (a random objective over all of [0, 1]^36 is a hard MILP)."""
    center = rng.uniform(0.1, 0.9, 36)
    return Network(
        [
            Conv2D(rng.normal(0, 0.5, (channels, 1, 3, 3)), rng.normal(0, 0.1, channels), padding=1),
            ReLU(),
            MaxPool2D(kernel=2),
            AvgPool2D(kernel=3, stride=1, padding=1),
            Flatten(),
            Dense(rng.normal(0, 0.5, (2, channels * 9)), rng.normal(0, 0.1, 2)),
        ],
        domain=Domain(["p%d" % i for i in range(36)], center - 0.1, center + 0.1),
        input_shape=(1, 6, 6),
    )


def encoded_equals_forward(net: Network, seed: int) -> None:
    """Maximise a random linear function of the outputs; the encoded outputs must equal f(x*)."""
    m = pyo.ConcreteModel()
    x = input_terms(m, net.domain)
    enc = encode_network(m, net, x)
    c = np.random.default_rng(seed).normal(size=net.n_outputs)
    m.obj = pyo.Objective(expr=sum(float(ci) * z for ci, z in zip(c, enc.outputs.expr.ravel())), sense=pyo.maximize)
    r = solve(m, time_limit=20)
    assert r.status == "optimal"
    xv = x.values().ravel()
    assert np.all(xv >= net.domain.lower - 1e-9) and np.all(xv <= net.domain.upper + 1e-9)
    np.testing.assert_allclose(enc.outputs.values().ravel(), net.forward(xv[None])[0], atol=1e-5)
    # every intermediate layer agrees too
    trace = net.forward_trace(xv[None])
    for t, v in zip(enc.terms[1:], trace[1:]):
        np.testing.assert_allclose(t.values(), v[0], atol=1e-5)
    # and the optimum is at least as good as any sampled input (the encoding is not too tight)
    S = net.domain.sample(400, seed)
    assert r.incumbent >= (net.forward(S) @ c).max() - 1e-6


@SETTINGS
@given(st.integers(0, 10_000), st.integers(2, 4), st.integers(2, 5), st.integers(2, 5))
def test_dense_encoding_matches_forward(seed: int, n_in: int, h1: int, h2: int) -> None:
    encoded_equals_forward(dense_net(np.random.default_rng(seed), n_in, h1, h2), seed)


@settings(max_examples=3, deadline=None, derandomize=True)
@given(st.integers(0, 10_000), st.integers(1, 2))
def test_conv_pool_encoding_matches_forward(seed: int, channels: int) -> None:
    encoded_equals_forward(conv_net(np.random.default_rng(seed), channels), seed)


def test_stable_neurons_get_no_binary() -> None:
    """A ReLU whose pre-activation is always positive (or negative) adds no binary."""
    net = Network(
        [
            Dense(np.array([[1.0], [-1.0], [1.0]]), np.array([2.0, -2.0, 0.0])),
            ReLU(),
            Dense(np.ones((1, 3)), np.zeros(1)),
        ],
        domain=Domain.box(1, -1.0, 1.0),
    )
    m = pyo.ConcreteModel()
    enc = encode_network(m, net, input_terms(m, net.domain))
    assert enc.n_binaries() == 1


@pytest.mark.parametrize("kind", ["GELU", "Tanh", "Sigmoid"])
def test_envelopes_contain_activation(kind: str) -> None:
    from mipnet.encode.envelopes import _f

    rng = np.random.default_rng(7)
    L = rng.uniform(-6, 2, 50)
    U = L + rng.uniform(0.01, 6, 50)
    a_lo, b_lo, a_hi, b_hi = envelope(kind, L, U)
    t = np.linspace(0, 1, 2001)
    Z = L[:, None] + (U - L)[:, None] * t[None]
    F = _f(kind, Z)
    assert np.all(F >= a_lo[:, None] * Z + b_lo[:, None])
    assert np.all(F <= a_hi[:, None] * Z + b_hi[:, None])
    # tight at the chord: the band's width shrinks with the interval
    a2, lo2, _, hi2 = envelope(kind, L, L + 1e-3)
    assert np.all(hi2 - lo2 < 1e-3)


def _pool_at(net: Network, lo: np.ndarray, hi: np.ndarray, x: np.ndarray | None, sense: str = "min") -> float | None:
    """The encoded output with the inputs fixed at x (None: optimised over the box); None when infeasible."""
    m = pyo.ConcreteModel()
    inp = input_terms(m, net.domain, lo, hi)
    enc = encode_network(m, net, inp)
    if x is not None:
        for e, v in zip(inp.expr.ravel(), x):
            if hasattr(e, "fix"):
                e.fix(float(v))
    y = enc.outputs.expr.ravel()[0]
    m.obj = pyo.Objective(expr=y, sense=pyo.minimize if sense == "min" else pyo.maximize)
    r = solve(m, "highs")
    return float(pyo.value(m.obj)) if r.status == "optimal" else None


@given(st.integers(0, 10_000), st.integers(2, 4))
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_maxpool_with_single_point_inputs_matches_brute_force(seed: int, k: int) -> None:
    """Window elements whose bounds are one point (a conv output that is constant, e.g. at a zero-padded border
    with a zero tap): the encoder dropped the element that sets the largest lower bound when its upper bound was
    no larger, and then cut off points of the box (max(2, x1) at x1 = 1 infeasible) or, as the last layer,
    encoded max(2, x1) as x1. At grid points of a box with some fixed inputs the encoded output is the forward
    pass, and min / max over the box are the grid's."""
    rng = np.random.default_rng(seed)
    lo = rng.integers(-3, 3, k).astype(float)
    hi = lo + rng.integers(0, 4, k)  # some sides of width 0
    hi[0] = lo[0]
    v = rng.choice([-1.0, 1.0])
    for head in ([Flatten(), Dense(np.array([[v]]), np.array([0.0]))], [Flatten()]):
        net = Network([MaxPool2D((1, k)), *head], input_shape=(1, 1, k))
        net.domain = Domain.box(k, lo, hi)
        axes = [np.linspace(a, b, 5) for a, b in zip(lo, hi)]
        grid = np.array(np.meshgrid(*axes)).reshape(k, -1).T
        f = net.forward(grid.reshape(-1, 1, 1, k)).ravel()
        for n in rng.choice(grid.shape[0], 4, replace=False):
            assert _pool_at(net, lo, hi, grid[n]) == pytest.approx(f[n], abs=1e-6), grid[n]
        assert _pool_at(net, lo, hi, None, "min") == pytest.approx(f.min(), abs=1e-6)
        assert _pool_at(net, lo, hi, None, "max") == pytest.approx(f.max(), abs=1e-6)
