"""Bounds are sound (no sampled input leaves them), and LP/MIP tightening only tightens."""

from __future__ import annotations

import numpy as np
from helpers import random_conv_net, random_dense_net
from hypothesis import given, settings
from hypothesis import strategies as st

from mipnet.bounds import check_bounds, compute_bounds, interval_bounds


def _width(b):
    return sum(float(np.sum(hi - lo)) for lo, hi in b)


@settings(max_examples=5, deadline=None, derandomize=True)
@given(st.integers(0, 10_000), st.sampled_from(["relu", "leaky_relu", "gelu", "tanh", "sigmoid"]))
def test_bounds_sound_on_samples(seed: int, act: str) -> None:
    rng = np.random.default_rng(seed)
    net = random_dense_net(rng, [3, 6, 5, 2], act)
    center = rng.uniform(-0.5, 0.5, 3)
    lo, hi = center - 0.4, center + 0.4
    X = rng.uniform(lo, hi, size=(4000, 3))
    X = np.vstack([X, lo, hi])
    widths = []
    for method in ("interval", "lp", "mip"):
        b = compute_bounds(net, lo, hi, method=method)
        assert check_bounds(net, b, X, tol=1e-6), method
        widths.append(_width(b))
    assert widths[1] <= widths[0] + 1e-6 and widths[2] <= widths[0] + 1e-6


def test_tightening_is_strict_somewhere_and_sound_on_conv() -> None:
    rng = np.random.default_rng(3)
    net = random_dense_net(rng, [4, 12, 12, 3])
    ib = interval_bounds(net, -np.ones(4), np.ones(4))
    lb = compute_bounds(net, -np.ones(4), np.ones(4), method="lp")
    assert _width(lb) < _width(ib) - 1e-3
    X = rng.uniform(-1, 1, (5000, 4))
    assert check_bounds(net, lb, X, tol=1e-6)
    cn = random_conv_net(np.random.default_rng(2))
    Xc = rng.uniform(0, 1, (2000, 36))
    for method in ("interval", "lp"):
        assert check_bounds(cn, compute_bounds(cn, method=method), Xc, tol=1e-6)


def test_parallel_bounds_equal_serial() -> None:
    net = random_dense_net(np.random.default_rng(4), [3, 8, 8, 2])
    a = compute_bounds(net, method="lp")
    b = compute_bounds(net, method="lp", processes=2)
    for (l1, h1), (l2, h2) in zip(a, b):
        np.testing.assert_allclose(l1, l2, atol=1e-6)
        np.testing.assert_allclose(h1, h2, atol=1e-6)
