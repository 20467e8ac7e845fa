"""The strong ReLU cuts of the pricing MILP (:mod:`mipnet.train.dual_bound.relu_cuts`) are valid: every cut the
separation returns holds at every point of the box with h = (z)_+ and d = [z > 0] (checked exactly: the cut is
linear in v for fixed d, so its worst case over the box is taken coordinate by coordinate), and the pricing with
the root cut loop keeps the exact optimum (enumeration in one dimension, a grid in two)."""

from __future__ import annotations

import numpy as np
import pytest
from test_pricing_cuts import _exact_max_1d

from mipnet.train.dual_bound import price
from mipnet.train.dual_bound.relu_cuts import concatenate, row_coefficients, select, separate


def _cut_matrix(cuts, ncol: int) -> np.ndarray:  # type: ignore[no-untyped-def]
    A = np.zeros((cuts.count, ncol))
    for r in range(cuts.count):
        for k in range(cuts.starts[r], cuts.starts[r + 1]):
            A[r, cuts.index[k]] += cuts.value[k]
    return A


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_separated_cuts_hold_on_the_whole_box(seed: int) -> None:
    rng = np.random.default_rng(seed)
    P, d, Bw, Bb = 6, 3, float(rng.uniform(0.5, 2)), float(rng.uniform(0.5, 2))
    X = rng.normal(size=(P, d))
    X[0, 1] = 0.0  # a zero coefficient
    lo = np.concatenate([np.zeros(2 * d), [-Bb]])
    hi = np.concatenate([np.full(2 * d, Bw), [Bb]])
    C, m, M = row_coefficients(X, lo, hi)
    nv = 2 * d + 1
    col_v, col_h, col_d = np.arange(nv), nv + np.arange(P), nv + P + np.arange(P)
    ncol = nv + 2 * P
    found = []
    for _ in range(30):  # random fractional LP points, h above the relu: many violated cuts
        v = rng.uniform(lo, hi)
        dv = rng.uniform(0, 1, size=P)
        hv = rng.uniform(0, 1, size=P) * M.sum(axis=1)
        cuts = separate(C, m, M, v, dv, hv, col_v=col_v, col_h=col_h, col_d=col_d)
        found.append(cuts)
        if cuts.count:  # the separated rows are violated at the point they were separated from
            x = np.zeros(ncol)
            x[col_v], x[col_h], x[col_d] = v, hv, dv
            assert np.all(_cut_matrix(cuts, ncol) @ x > cuts.upper)
    allc = concatenate(found)
    assert allc.count > 20
    A = _cut_matrix(allc, ncol)
    for r in range(allc.count):
        n = int(np.flatnonzero(A[r, col_h])[0])
        av, ad = A[r, col_v], A[r, col_d[n]]
        # the worst point of the box for d = 1 (h = z = c . v) and for d = 0 (h = 0)
        g = av + C[n]  # row . x with h = c . v
        worst1 = np.where(g > 0, hi, lo) @ g + ad
        worst0 = np.where(av > 0, hi, lo) @ av
        assert worst1 <= allc.upper[r] + 1e-9
        assert worst0 <= allc.upper[r] + 1e-9
    sub = select(allc, np.array([0, allc.count - 1]))
    assert np.allclose(_cut_matrix(sub, ncol), A[[0, allc.count - 1]]) and sub.count == 2
    rand = rng.uniform(lo, hi, size=(2000, nv))  # and at random points of the box
    z = rand @ C.T
    for r in range(allc.count):
        n = int(np.flatnonzero(A[r, col_h])[0])
        lhs = rand @ A[r, col_v] + np.maximum(z[:, n], 0) + A[r, col_d[n]] * (z[:, n] > 0)
        assert np.all(lhs <= allc.upper[r] + 1e-9)


@pytest.mark.parametrize("seed", [0, 3])
def test_pricing_with_relu_cuts_matches_enumeration(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 16
    x = rng.normal(size=n) * 1.5
    a = rng.uniform(-1, 1, size=n) / n
    kappa = 0.01
    for lp, ln in ((0.02, 0.02), (0.05, -0.01)):
        for s in (1, -1):
            exact = _exact_max_1d(x, a, s, lp, ln, kappa)
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
                relu_cuts=10,
                cut_share=0.5,
            )
            assert p.upper >= exact - 1e-12 and p.value <= exact + 1e-9
            assert p.optimal and p.value >= exact - 1e-6 and p.upper <= exact + 1e-4


def test_relu_cuts_keep_the_optimum_and_tighten_the_root_lp_in_two_dimensions() -> None:
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
        plain = price(X, a, s, relu_cuts=0, **kw)  # type: ignore[arg-type]
        cut = price(X, a, s, relu_cuts=10, cut_share=0.5, **kw)  # type: ignore[arg-type]
        assert plain.optimal and cut.optimal
        assert cut.upper >= best - 1e-12
        assert cut.value == pytest.approx(plain.value, abs=1e-6)
        assert cut.cuts["lp_last"] <= cut.cuts["lp_first"] + 1e-12


def test_a_pricing_whose_solver_did_not_run_claims_only_the_trivial_bound() -> None:
    """HiGHS refuses a thread count other than its process-wide scheduler's (status "Not Set", mip_dual_bound
    0.0): the pricing must not take that 0.0 as a bound."""
    import highspy

    rng = np.random.default_rng(3)
    x = rng.normal(size=12)
    a = rng.uniform(-1, 1, size=12) / 12
    exact = _exact_max_1d(x, a, 1, 0.0, 0.0, 0.0)
    try:
        highspy.Highs.resetThreadScheduler(True)
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        h.setOptionValue("threads", 2)
        h.passModel(highspy.HighsLp())
        h.run()  # the scheduler now has 2 threads; a solve asking for 1 errors
        kw = dict(lam=0.0, kappa=0.0, ball=False, w_bound=1.0, b_bound=1.0, time_limit=5, threads=1)
        p = price(x[:, None], a, 1, **kw)  # type: ignore[arg-type]
        assert p.upper >= exact - 1e-12
        assert not p.optimal
    finally:
        highspy.Highs.resetThreadScheduler(True)
