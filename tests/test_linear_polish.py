"""The cutting planes' polish (:mod:`mipnet.train.linear_polish`): the hinge's dual LP gives the same optimum as the
primal LP and as scipy's independent LP over the support, with signs, exclusions and boxes; its alphas make a cut
that is valid everywhere and tight at the polished point; a dual answer that does not match falls back."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

import mipnet.train.linear_polish as linear_polish
from mipnet.deadline import Deadline
from mipnet.train import TrainConfig
from mipnet.train.config import resolve_config
from mipnet.train.constraints import Resolved
from mipnet.train.linear_cuts import LinearCuts


def _problem(seed: int, n: int, d: int, l1: float, bw: float, bb: float, signs: bool) -> LinearCuts:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)).round(1)  # rounded: repeated values, degenerate LPs
    y = np.where(X[:, 0] - 0.7 * X[:, -1] + 0.8 * rng.normal(size=n) > 0.6, 1.0, -1.0)
    rules: tuple[Resolved, ...] = ()
    if signs:
        rules = (Resolved(kind="sign", features=(0,), sign=-1), Resolved(kind="exclude", features=(1,)))
    cfg = TrainConfig(hidden=(1,), loss="hinge", l1=l1, linear=True, max_neurons=0, constraints=rules,
                      weight_bound=bw, bias_bound=bb)  # fmt: skip
    counts = rng.integers(1, 4, size=n).astype(float)
    return LinearCuts(X, y, resolve_config(cfg, "classify", 2), counts=counts)


def _scipy_optimum(P: LinearCuts, S: np.ndarray) -> float:
    """min (1/D) sum c_n xi_n + l1 sum t over the support: HiGHS-independent (scipy's linprog, its own method)."""
    N, k = P.N, S.size
    # variables: w (k), b, t (k), xi (N)
    c = np.concatenate([np.zeros(k + 1), np.full(k, P.l1), P.weight])
    A = np.zeros((N + 2 * k, 2 * k + 1 + N))
    A[:N, :k] = -(P.y[:, None] * P.X[:, S])
    A[:N, k] = -P.y
    A[:N, 2 * k + 1 :] = -np.eye(N)
    for j in range(k):
        A[N + j, j], A[N + j, k + 1 + j] = 1.0, -1.0
        A[N + k + j, j], A[N + k + j, k + 1 + j] = -1.0, -1.0
    rhs = np.concatenate([np.full(N, -P.margin), np.zeros(2 * k)])
    bounds = [(P.w_lo[i], P.w_hi[i]) for i in S] + [(-P.Bb, P.Bb)] + [(0, None)] * (k + N)
    res = linprog(c, A_ub=A, b_ub=rhs, bounds=bounds, method="highs-ipm")
    assert res.status == 0
    return float(res.fun)


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    l1=st.sampled_from([0.0, 0.001, 0.05, 0.3]),
    boxes=st.sampled_from([(1.0, 1.0), (0.2, 0.3), (4.0, 8.0)]),
    signs=st.booleans(),
    width=st.integers(1, 5),
)
def test_dual_polish_is_the_optimum_over_the_support(
    seed: int, l1: float, boxes: tuple[float, float], signs: bool, width: int
) -> None:
    P = _problem(seed, 40, 5, l1, *boxes, signs)
    S = np.flatnonzero(P.w_hi - P.w_lo)[:width]
    dual = linear_polish._hinge_dual(P, S, Deadline(30))
    assert dual is not None
    w, b, alpha = dual
    assert np.all(w[np.setdiff1d(np.arange(P.d), S)] == 0.0) and P.feasible(w) and abs(b) <= P.Bb
    F = P.objective(w, b)
    primal = linear_polish._hinge_primal(P, S, Deadline(30))
    assert primal is not None
    assert F == pytest.approx(P.objective(primal[0], primal[1]), abs=1e-7)
    assert F == pytest.approx(_scipy_optimum(P, S), abs=1e-6)
    # the alphas' cut: below L at random points of the box, equal to L at the polished point
    assert alpha is not None and np.all((alpha >= 0) & (alpha <= 1))
    g_w, g_b, r = P.cut(w, b, alpha)
    rng = np.random.default_rng(seed)
    for _ in range(50):
        v = rng.uniform(-P.Bw, P.Bw, P.d)
        c = rng.uniform(-P.Bb, P.Bb)
        L = P.objective(v, c) - P.l1 * np.abs(v).sum()
        assert float(g_w.sum(axis=0) @ v + g_b.sum() * c + r.sum()) <= L + 1e-12
    L_at = P.objective(w, b) - P.l1 * np.abs(w).sum()
    assert float(g_w.sum(axis=0) @ w + g_b.sum() * b + r.sum()) == pytest.approx(L_at, abs=1e-7)


def test_a_dual_answer_that_does_not_match_falls_back_to_the_primal(monkeypatch: pytest.MonkeyPatch) -> None:
    """The dual's (w, b) is used only when F by numpy equals the LP's value: with the check made impossible, the
    polish is the primal LP's (same optimum)."""
    P = _problem(7, 40, 5, 0.01, 1.0, 1.0, False)
    S = np.arange(P.d)
    want = linear_polish._hinge_primal(P, S, Deadline(30))
    assert want is not None
    monkeypatch.setattr(linear_polish, "DUAL_MATCH", -1.0)
    assert linear_polish._hinge_dual(P, S, Deadline(30)) is None
    got = linear_polish.polish_hinge(P, S, Deadline(30))
    assert got is not None and P.objective(got[0], got[1]) == pytest.approx(P.objective(want[0], want[1]), abs=1e-9)


def test_logistic_polish_stops_at_its_deadline_with_the_best_point_so_far() -> None:
    """L-BFGS-B has no time limit: at the deadline the polish returns the best point it evaluated (an expired
    deadline: the first, w = 0), and with time it reaches the optimum over the support."""
    from mipnet.train.linear_polish import polish_logistic

    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 4))
    y = np.where(X[:, 0] + 0.5 * rng.normal(size=60) > 0, 1.0, -1.0)
    cfg = TrainConfig(hidden=(1,), loss="logistic", l1=0.01, linear=True, max_neurons=0)
    P = LinearCuts(X, y, resolve_config(cfg, "classify", 2))
    S = np.arange(4)
    w0, b0, _ = polish_logistic(P, S, Deadline(0.0))
    assert np.all(w0 == 0.0) and b0 == 0.0
    w, b, _ = polish_logistic(P, S, Deadline(30))
    assert P.objective(w, b) < P.objective(w0, b0) - 0.05
    assert P.objective(w, b) == pytest.approx(P.objective(*polish_logistic(P, S)[:2]), abs=1e-12)
