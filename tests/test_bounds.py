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


def test_linear_bounds_exact_on_one_hot_groups_and_sound():
    """One-hot groups are concretised exactly (a single Dense layer: the bound is attained by an
    enumerated vertex) and every layer's bounds hold on domain samples; the box bound is looser."""
    import itertools

    from mipnet.bounds import interval_bounds, linear_bounds
    from mipnet.domain import Domain
    from mipnet.layers import Dense, ReLU
    from mipnet.network import Network

    rng = np.random.default_rng(4)
    names = ["a", "b", "g0", "g1", "g2", "h0", "h1"]
    dom = Domain(
        names,
        np.array([-1.0, 0, 0, 0, 0, 0, 0]),
        np.array([1.0, 2, 1, 1, 1, 1, 1]),
        np.array([False, True, True, True, True, True, True]),
        [[2, 3, 4], [5, 6]],
    )
    single = Network([Dense(rng.normal(size=(5, 7)), rng.normal(size=5))], dom, task="regress")
    lo, hi = linear_bounds(single, dom.lower, dom.upper)[0]
    verts = []
    for a, b, g, h in itertools.product([-1.0, 1.0], [0.0, 2.0], range(3), range(2)):
        x = np.zeros(7)
        x[0], x[1], x[2 + g], x[5 + h] = a, b, 1.0, 1.0
        verts.append(x)
    f = single.forward(np.array(verts))
    np.testing.assert_allclose(hi, f.max(axis=0), atol=1e-4)  # up to the 1e-6 (1 + |l| + |u|) safety margin
    np.testing.assert_allclose(lo, f.min(axis=0), atol=1e-4)
    box_lo, box_hi = interval_bounds(single)[0]
    assert np.all(hi <= box_hi + 1e-9) and np.any(hi < box_hi - 1e-3)
    deep = Network(
        [
            Dense(rng.normal(size=(6, 7)), rng.normal(size=6)),
            ReLU(),
            Dense(rng.normal(size=(4, 6)), rng.normal(size=4)),
            ReLU(),
            Dense(rng.normal(size=(1, 4)), rng.normal(size=1)),
        ],
        dom,
        task="regress",
    )
    X = dom.sample(3000, 1)
    for method in ("linear", "lp"):
        bnds = compute_bounds(deep, method=method)
        trace = deep.forward_trace(X)
        for i, (l, u) in enumerate(bnds):
            v = trace[i + 1].reshape(len(X), -1)
            assert np.all(v >= l.ravel() - 1e-9) and np.all(v <= u.ravel() + 1e-9)


def test_every_mip_bound_solve_gets_its_own_time_limit(monkeypatch) -> None:
    """The MIP tightening re-solves one HiGHS instance per chunk of neurons with a limit per solve. HiGHS keeps
    one clock per instance across runs (an LP's limit counts on it, a MIP's from the run's start): every
    solve stopped by the limit must have had its own 0.02 s, no less and not the time of earlier runs too."""
    import highspy

    real = highspy.Highs.run
    stopped: list[float] = []  # durations (HiGHS's clock) of the runs that ended at the time limit

    def spy(self):
        before = self.getRunTime()
        out = real(self)
        if self.getModelStatus() == highspy.HighsModelStatus.kTimeLimit:
            stopped.append(self.getRunTime() - before)
        return out

    monkeypatch.setattr(highspy.Highs, "run", spy)
    net = random_dense_net(np.random.default_rng(5), [3, 8, 8, 2])
    b = compute_bounds(net, -np.ones(3), np.ones(3), method="mip", time_limit_per_neuron=0.02)
    assert len(stopped) >= 4
    assert min(stopped) >= 0.018 and max(stopped) <= 0.52
    X = np.random.default_rng(6).uniform(-1, 1, (3000, 3))
    assert check_bounds(net, b, X, tol=1e-6)
