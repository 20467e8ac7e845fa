"""The strengthened pricing of the dual bounds stays an upper bound: pair cuts and one-sided feature prices in the
single-neuron MILP (checked against exact enumeration in one dimension and a grid in two), the one-sided transport
loads (checked unit by unit in numpy), and the bounds built on them stay below the training MILP's optimum."""

from __future__ import annotations

import numpy as np
import pytest

from mipnet.train import TrainConfig, train
from mipnet.train.dual_bound import bound_for_config, price, standardise
from mipnet.train.dual_bound.hybrid import _load_weights
from mipnet.train.dual_bound.pairwise import one_sided_excess, opposite_pairs, pair_signed_loads
from mipnet.train.trainer import encode_targets


def _objective(
    x: np.ndarray, a: np.ndarray, s: int, w: np.ndarray, b: np.ndarray, lp: float, ln: float, kappa: float
) -> np.ndarray:
    """s sum_n a_n (w x_n + b)_+ - lp (w)_+ - ln (-w)_+ - kappa for arrays of (w, b) (one feature)."""
    z = np.maximum(np.multiply.outer(w, x) + b[:, None], 0.0)
    return s * (z @ a) - lp * np.maximum(w, 0.0) - ln * np.maximum(-w, 0.0) - kappa


def _exact_max_1d(x: np.ndarray, a: np.ndarray, s: int, lp: float, ln: float, kappa: float) -> float:
    """The exact maximum over |w| <= 1, |b| <= 1 (one feature): the objective is linear on the cells cut by the
    lines w x_n + b = 0 (all through the origin) and w = 0, so it peaks at a vertex: a box corner, the origin,
    or where one of those lines meets the box's edges."""
    W, B = [1.0, 1.0, -1.0, -1.0, 0.0, 0.0, 0.0], [1.0, -1.0, 1.0, -1.0, 0.0, 1.0, -1.0]
    for xn in x:
        for e in (-1.0, 1.0):
            if abs(xn) <= 1.0:  # w = e: b = -e x
                W.append(e)
                B.append(-e * xn)
            if xn != 0 and abs(1.0 / xn) <= 1.0:  # b = e: w = -e / x
                W.append(-e / xn)
                B.append(e)
    return float(_objective(x, a, s, np.array(W), np.array(B), lp, ln, kappa).max())


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_pricing_with_cuts_and_one_sided_prices_matches_enumeration(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 16
    x = rng.normal(size=n) * 1.5
    a = rng.uniform(-1, 1, size=n) / n
    kappa = 0.01
    for lp, ln in ((0.02, 0.02), (0.05, -0.01), (-0.02, 0.03)):
        for s in (1, -1):
            exact = _exact_max_1d(x, a, s, lp, ln, kappa)
            grid = np.linspace(-1, 1, 201)
            Wg, Bg = np.meshgrid(grid, grid, indexing="ij")
            assert _objective(x, a, s, Wg.ravel(), Bg.ravel(), lp, ln, kappa).max() <= exact + 1e-12
            for k in (0, 3, 50):
                p = price(
                    x[:, None],
                    a,
                    s,
                    lam=lp,
                    lam_neg=ln,
                    kappa=kappa,
                    ball=False,
                    w_bound=1.0,
                    b_bound=1.0,
                    time_limit=20,
                    mip_gap=1e-9,
                    pair_cuts=k,
                )
                assert p.upper >= exact - 1e-12, (lp, ln, s, k, p.upper, exact)
                assert p.value <= exact + 1e-9  # the unit it returns is a real unit (numpy value)
                assert p.optimal and p.value >= exact - 1e-6
                assert p.upper <= exact + 1e-4


def test_pair_cuts_keep_the_optimum_in_two_dimensions() -> None:
    rng = np.random.default_rng(7)
    n = 24
    X = rng.normal(size=(n, 2))
    a = rng.uniform(-1, 1, size=n) / n
    g = np.linspace(-1, 1, 81)
    W1, W2, B = np.meshgrid(g, g, g, indexing="ij")
    Z = np.maximum(X[:, 0, None, None, None] * W1 + X[:, 1, None, None, None] * W2 + B, 0.0)
    S = np.tensordot(a, Z, axes=(0, 0))
    lam, kappa = 0.01, 0.005
    for s in (1, -1):
        best = float((s * S - lam * (np.abs(W1) + np.abs(W2)) - kappa).max())
        kw = dict(lam=lam, kappa=kappa, ball=False, w_bound=1.0, b_bound=1.0, time_limit=20, mip_gap=1e-9)
        plain = price(X, a, s, pair_cuts=0, **kw)  # type: ignore[arg-type]
        cut = price(X, a, s, pair_cuts=10, **kw)  # type: ignore[arg-type]
        assert plain.optimal and cut.optimal
        assert cut.upper >= best - 1e-12 and plain.upper >= best - 1e-12
        assert cut.value == pytest.approx(plain.value, abs=1e-6)


def test_one_sided_loads_bound_every_unit() -> None:
    """s S_T(w, b) <= sum of the unit's one-sided load term, for random plans and units (either sign); and the
    one-sided width-J excess is never above the two-sided one."""
    rng = np.random.default_rng(11)
    X = rng.normal(size=(30, 4))
    X[:, 3] = rng.integers(0, 2, size=30)  # a binary feature, as in tabular data
    y = np.where(rng.random(30) < 0.5, 1.0, -1.0)
    y[:2] = (1.0, -1.0)
    pairs = opposite_pairs(X, y, 4)
    loads = pair_signed_loads(X, pairs)
    dx = X[pairs[:, 0]] - X[pairs[:, 1]]
    assert np.allclose(loads.toarray(), np.hstack([np.clip(dx, 0, None), np.clip(-dx, 0, None)]))
    for _ in range(20):
        pi = rng.uniform(0, 1, size=pairs.shape[0]) * (rng.random(pairs.shape[0]) < 0.5)
        beta = np.asarray(loads.T @ pi).ravel()
        lam = float(rng.uniform(0, 0.5))
        two_sided = float(np.clip(beta[:4] + beta[4:] - lam, 0, None).sum())
        assert one_sided_excess(beta, lam, 4) <= two_sided + 1e-12
        for _ in range(20):
            w, b = rng.uniform(-1, 1, size=4), float(rng.uniform(-1, 1))
            h = np.maximum(X @ w + b, 0.0)
            S = float(pi @ (h[pairs[:, 0]] - h[pairs[:, 1]]))
            for s in (1, -1):
                assert s * S <= float(_load_weights(w, s) @ beta) + 1e-12


@pytest.mark.parametrize("seed", [2, 4])
def test_one_sided_bounds_below_the_milp_optimum(seed: int) -> None:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(12, 2))
    X[:, 1] = np.round(X[:, 1])  # near-duplicates: the transport part carries weight
    y = np.where(X[:, 0] + 0.8 * rng.normal(size=12) > 0, 1, 0)
    y[:2] = (0, 1)
    cfg = TrainConfig(hidden=(1,), hypothesis="sign", l1=0.05)
    cert = train(X, y, config=cfg, time_limit=60, threads=1).certificate
    assert cert.status == "optimal"
    Xs, t = standardise(X), encode_targets(y, "classify")[0]
    for method, extra in (("transport", {}), ("hybrid", {"milp_rows": 4, "neighbours": 3}), ("cg", {})):
        b = bound_for_config(Xs, t, cfg, time_limit=8, method=method, **extra).bound
        assert 0.0 <= b <= cert.incumbent + 1e-7, (method, b, cert.incumbent)
