"""The spatial branch and bound of the single-neuron pricing (:mod:`mipnet.train.dual_bound.spatial`) and the
pricing MILP over a sub-box (``price(box=)``): the facets and the splits cover what they replace, every bound is
>= the exact maximum (enumeration of the vertices of the arrangement of the rows' hyperplanes, the planes w_i = 0
and the box faces: g is linear on each cell, so its maximum is at such a vertex) and a finished search meets it."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mipnet.train.dual_bound import price
from mipnet.train.dual_bound.spatial import Rows, box_bound, facets, spatial_price, split, values
from mipnet.train.dual_bound.spatial_pairs import Pairs, pair_bound


def _g(X: np.ndarray, a: np.ndarray, sign: int, lam: float, kappa: float, V: np.ndarray) -> np.ndarray:
    return sign * (np.maximum(V[:, :-1] @ X.T + V[:, -1:], 0.0) @ a) - lam * np.abs(V[:, :-1]).sum(axis=1) - kappa


def _exact_max(
    X: np.ndarray, a: np.ndarray, sign: int, lam: float, kappa: float, Bw: float, Bb: float,
    lo: np.ndarray | None = None, hi: np.ndarray | None = None,
) -> float:  # fmt: skip
    """max of g over the box [lo, hi] (default the whole box) by vertex enumeration (module docstring)."""
    N, d = X.shape
    top = np.append(np.full(d, Bw), Bb)
    lo = -top if lo is None else lo
    hi = top if hi is None else hi
    planes = [(np.append(x, 1.0), 0.0) for x in X]
    for i in range(d + 1):
        e = np.eye(d + 1)[i]
        planes += [(e, float(lo[i])), (e, float(hi[i]))] + ([(e, 0.0)] if i < d else [])
    best = -math.inf
    for comb in itertools.combinations(range(len(planes)), d + 1):
        A = np.array([planes[k][0] for k in comb])
        if abs(np.linalg.det(A)) < 1e-10:
            continue
        v = np.linalg.solve(A, np.array([planes[k][1] for k in comb]))
        if np.all(v >= lo - 1e-9) and np.all(v <= hi + 1e-9):
            best = max(best, float(_g(X, a, sign, lam, kappa, np.clip(v, lo, hi)[None, :])[0]))
    return best


def _instance(seed: int, N: int, d: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = np.round(rng.normal(size=(N, d)), 1)
    X[-1] = X[0]  # a repeated row (merged with its net weight)
    a = rng.uniform(-1, 1, size=N) / N
    a[1] = 0.0
    return X, a


@settings(max_examples=12, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    N=st.integers(6, 12),
    d=st.integers(2, 3),
    sign=st.sampled_from([1, -1]),
    lam=st.sampled_from([0.0, 0.01, 0.05]),
    k=st.sampled_from([0, 3]),
)
def test_bound_is_valid_and_a_finished_search_is_exact(
    seed: int, N: int, d: int, sign: int, lam: float, k: int
) -> None:
    X, a = _instance(seed, N, d)
    kappa, Bw, Bb = 0.01, 1.0, 0.7
    exact = _exact_max(X, a, sign, lam, kappa, Bw, Bb)
    # a dense grid never beats the exact maximum (a check of the enumeration itself)
    grid = np.array(list(itertools.product(*[np.linspace(-Bw, Bw, 9)] * d, np.linspace(-Bb, Bb, 9))))
    assert _g(X, a, sign, lam, kappa, grid).max() <= exact + 1e-12
    kw = dict(lam=lam, kappa=kappa, w_bound=Bw, b_bound=Bb, time_limit=20, pair_cuts=k)
    p = spatial_price(X, a, sign, needed=-math.inf, **kw)  # type: ignore[arg-type]
    assert p.upper >= exact - 1e-12
    assert p.value <= exact + 1e-12 and p.w is not None
    assert np.all(np.abs(p.w) <= Bw) and abs(p.b) <= Bb
    assert math.isclose(float(_g(X, a, sign, lam, kappa, np.append(p.w, p.b)[None, :])[0]), p.value, abs_tol=1e-12)
    if p.optimal:  # (a search the time limit cut on a loaded machine proves only the valid bound above)
        assert p.consistent
        assert p.upper <= exact + 1e-5
        milp = price(X, a, sign, lam=lam, kappa=kappa, ball=False, w_bound=Bw, b_bound=Bb, time_limit=20)
        assert p.upper <= milp.upper + 1e-5
    # an unfinished search (two batches of splits) still bounds the maximum
    q = spatial_price(X, a, sign, max_boxes=4, batch=2, **kw)  # type: ignore[arg-type]
    assert q.upper >= exact - 1e-12
    r = spatial_price(X, a, sign, max_boxes=6, lp=False, **kw)  # type: ignore[arg-type]
    assert r.upper >= exact - 1e-12


@pytest.mark.parametrize("seed", [0, 1])
def test_sub_box_milp_bounds_the_sub_box(seed: int) -> None:
    X, a = _instance(seed, 9, 2)
    rng = np.random.default_rng(seed)
    lo = np.array([-1.0, 0.0, -0.7])
    hi = np.array([0.0, rng.uniform(0.2, 1.0), 0.1])
    for sign in (1, -1):
        exact = _exact_max(X, a, sign, 0.02, 0.01, 1.0, 0.7, lo, hi)
        p = price(X, a, sign, lam=0.02, kappa=0.01, ball=False, w_bound=1.0, b_bound=0.7, time_limit=20, box=(lo, hi))
        assert p.upper >= exact - 1e-12
        assert p.upper <= exact + 1e-4 and p.optimal
        assert p.value <= exact + 1e-12
        assert p.w is not None and np.all(np.append(p.w, p.b) >= lo - 1e-9) and np.all(np.append(p.w, p.b) <= hi + 1e-9)


def test_planted_optimum() -> None:
    """Every multiplier positive and lam = 0: g is convex, its maximum is at a corner of the box: the all-on corner
    w_i = sign(x_i) B_w on the positive orthant's data, b = B_b, value sum_n a_n (B_w ||x_n||_1 + B_b) - kappa."""
    rng = np.random.default_rng(3)
    X = rng.uniform(0.1, 1.0, size=(10, 3))
    a = rng.uniform(0.01, 0.1, size=10)
    known = float(a @ (X.sum(axis=1) + 0.5)) - 0.02
    p = spatial_price(X, a, 1, lam=0.0, kappa=0.02, w_bound=1.0, b_bound=0.5, time_limit=20, needed=-math.inf)
    assert math.isclose(p.value, known, rel_tol=1e-12)
    assert known - 1e-12 <= p.upper <= known + 1e-5 and p.optimal
    q = spatial_price(X, a, -1, lam=0.0, kappa=0.02, w_bound=1.0, b_bound=0.5, time_limit=20, needed=-math.inf)
    assert q.value == pytest.approx(-0.02, abs=1e-15) and q.upper <= -0.02 + 1e-5  # all units off: -kappa


def test_facets_and_splits_cover() -> None:
    rng = np.random.default_rng(0)
    d, Bw, Bb = 3, 1.5, 0.5
    lo, hi = facets(d, Bw, Bb)
    top = np.append(np.full(d, Bw), Bb)
    V = rng.uniform(-1, 1, size=(2000, d + 1)) * top
    S = V / np.max(np.abs(V) / top, axis=1, keepdims=True)  # the surface points along each ray
    inside = np.all((S[:, None, :] >= lo[None] - 1e-12) & (S[:, None, :] <= hi[None] + 1e-12), axis=2)
    assert inside.any(axis=1).all()
    X, a = _instance(0, 10, d)
    rows = Rows.of(X, a, 1)
    ub, v, _, _ = box_bound(rows, np.full(d, 0.01), 0.0, lo, hi)
    lo2, hi2 = split(rows, lo, hi, v, np.full((lo.shape[0], rows.c.size), 0.5), d)
    for k in range(lo.shape[0]):
        P = rng.uniform(lo[k], hi[k], size=(500, d + 1))
        P[:, hi[k] == lo[k]] = lo[k][hi[k] == lo[k]]
        c0 = np.all((P >= lo2[2 * k]) & (P <= hi2[2 * k]), axis=1)
        c1 = np.all((P >= lo2[2 * k + 1]) & (P <= hi2[2 * k + 1]), axis=1)
        assert np.all(c0 | c1)
        assert np.all(lo2[2 * k : 2 * k + 2] >= lo[k]) and np.all(hi2[2 * k : 2 * k + 2] <= hi[k])
        assert np.count_nonzero((lo2[2 * k] != lo[k]) | (hi2[2 * k] != hi[k])) == 1
    # the separable bound is >= g at random points of each box
    for k in range(lo.shape[0]):
        P = rng.uniform(lo[k], hi[k], size=(300, d + 1))
        P[:, hi[k] == lo[k]] = lo[k][hi[k] == lo[k]]
        assert values(rows, np.full(d, 0.01), 0.0, P).max() <= ub[k] + 1e-12


def test_time_limit_and_box_limit_are_honoured() -> None:
    rng = np.random.default_rng(1)
    X = rng.normal(size=(150, 6))
    a = rng.uniform(-1, 1, size=150) / 150
    p = spatial_price(X, a, 1, lam=0.001, kappa=0.0, w_bound=1.0, b_bound=1.0, time_limit=0.5, needed=-math.inf)
    assert not p.optimal and p.search["open"] > 0
    assert p.seconds < 5.0  # the limit is checked between LPs and batches (generous: a loaded machine)
    q = spatial_price(X, a, 1, lam=0.001, kappa=0.0, w_bound=1.0, b_bound=1.0, time_limit=60, max_boxes=32)
    assert q.search["boxes"] <= 32 + 16
    assert q.upper >= p.value - 1e-12 and p.upper >= q.value - 1e-12


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_pair_bound_holds_for_any_multipliers(seed: int) -> None:
    """The node bound with pair terms is >= g at every point of the box for random (even out-of-range) t and mu."""
    rng = np.random.default_rng(seed)
    d = 3
    X, a = _instance(seed, 12, d)
    rows = Rows.of(X, a, -1)
    pairs = Pairs.of(rows, 3)
    assert pairs.p.size > 0
    lam = np.full(d, 0.01)
    lo, hi = facets(d, 1.0, 0.8)
    K = lo.shape[0]
    t = rng.uniform(-0.5, 1.5, size=(K, rows.c.size))
    mu = rng.uniform(-0.2, 1.0, size=(K, pairs.p.size))
    ub, v = pair_bound(rows, pairs, lam, 0.0, lo, hi, t, mu)
    for k in range(K):
        P = rng.uniform(lo[k], hi[k], size=(400, d + 1))
        P[:, hi[k] == lo[k]] = lo[k][hi[k] == lo[k]]
        assert values(rows, lam, 0.0, np.vstack([P, v[k]])).max() <= ub[k] + 1e-12
    # mu = 0 is the plain separable bound
    ub0, _ = pair_bound(rows, pairs, lam, 0.0, lo, hi, t, np.zeros_like(mu))
    ub1, _, _, _ = box_bound(rows, lam, 0.0, lo, hi, t)
    assert np.allclose(ub0, ub1, rtol=1e-12, atol=1e-12)
