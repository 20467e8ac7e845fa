"""Pattern search: never worse than the start, exact on merged duplicates, stops at its deadline or round limit."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mipnet.deadline import Deadline
from mipnet.train.pattern_search import improve_by_patterns
from mipnet.train.surrogate import fit_sign_network, sign_objective


def _data(n: int, d: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = np.where(np.abs(X[:, 0]) - 0.6 + 0.3 * rng.normal(size=n) > 0, 1.0, -1.0)
    if np.all(y == y[0]):
        y[0] = -y[0]
    return X, y


def _objective(w, X, y, l1, m=1.0):  # type: ignore[no-untyped-def]
    return sign_objective(w[0][0], w[0][1], w[1][0][0], float(w[1][1][0]), X, y, l1, m)


def _in_class(w, wb: float, bb: float) -> None:  # type: ignore[no-untyped-def]
    (W, b), (V, c) = w
    v = V[0]
    assert np.all(np.abs(W) <= wb) and np.all(np.abs(b) <= bb) and abs(c[0]) <= bb
    assert np.all(np.isin(v, (-1.0, 0.0, 1.0)))
    assert np.all(W[v == 0] == 0.0) and np.all(b[v == 0] == 0.0)


@settings(max_examples=10, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    hidden=st.integers(1, 3),
    l1=st.sampled_from([0.0, 0.01, 0.1]),
    wb=st.sampled_from([0.5, 1.0]),
)
def test_result_is_never_worse_than_the_start_and_its_objective_is_exact(seed, hidden, l1, wb):  # type: ignore[no-untyped-def]
    X, y = _data(25, 3, seed)
    start = fit_sign_network(X, y, hidden, l1=l1, weight_bound=wb, steps=40, seed=seed).weights()
    r = improve_by_patterns(
        X, y, start, l1=l1, margin=1.0, weight_bound=wb, bias_bound=1.0, deadline=20.0, max_rounds=6, seed=seed
    )
    assert r.start_objective == pytest.approx(_objective(start, X, y, l1), abs=1e-12)
    assert r.objective <= r.start_objective
    assert r.objective == pytest.approx(_objective(r.weights, X, y, l1), abs=1e-12)
    _in_class(r.weights, wb, 1.0)
    hist = [F for _, F in r.info["history"]]
    assert all(b < a for a, b in zip(hist, hist[1:]))  # every kept network lowered the objective


def test_a_poor_start_is_improved() -> None:
    X, y = _data(60, 2, 7)
    rng = np.random.default_rng(0)
    start = [(rng.uniform(-0.3, 0.3, size=(3, 2)), np.zeros(3)), (np.array([[1.0, -1.0, 1.0]]), np.array([0.0]))]
    r = improve_by_patterns(
        X, y, start, l1=0.01, margin=1.0, weight_bound=1.0, bias_bound=1.0, deadline=20.0, max_rounds=20
    )
    assert r.objective < r.start_objective - 1e-3
    assert r.info["lp_solves"] >= 1


def test_merged_duplicates_give_the_unmerged_objective() -> None:
    X0, y0 = _data(15, 2, 11)
    reps = np.array([1, 3, 2, 1, 4, 1, 1, 2, 1, 1, 5, 1, 1, 2, 1])
    X, y = np.repeat(X0, reps, axis=0), np.repeat(y0, reps)
    perm = np.random.default_rng(1).permutation(X.shape[0])
    X, y = X[perm], y[perm]
    start = fit_sign_network(X, y, 2, l1=0.01, steps=30).weights()
    kw = dict(l1=0.01, margin=1.0, weight_bound=1.0, bias_bound=1.0, deadline=20.0, max_rounds=5)
    r = improve_by_patterns(X, y, start, **kw)  # type: ignore[arg-type]
    assert r.info["merged_rows"] == 15 and r.info["rows"] == X.shape[0]
    assert r.objective == pytest.approx(_objective(r.weights, X, y, 0.01), abs=1e-9)
    # the caller's own merge: the weighted rows with the original row count as denominator
    rw = improve_by_patterns(X0, y0, start, sample_weight=reps, loss_denominator=float(reps.sum()), **kw)  # type: ignore[arg-type]
    assert rw.objective == pytest.approx(_objective(rw.weights, X, y, 0.01), abs=1e-9)
    assert rw.start_objective == pytest.approx(r.start_objective, abs=1e-9)


def test_deadline_and_round_limit_stop_the_search_with_the_best_so_far() -> None:
    X, y = _data(80, 3, 2)
    start = fit_sign_network(X, y, 3, l1=0.01, steps=20).weights()
    kw = dict(l1=0.01, margin=1.0, weight_bound=1.0, bias_bound=1.0)
    r0 = improve_by_patterns(X, y, start, deadline=Deadline(0.0), **kw)  # type: ignore[arg-type]
    assert r0.info["stop"] == "deadline" and r0.info["lp_solves"] == 0
    assert r0.objective == r0.start_objective
    assert all(np.array_equal(a, b) for pa, pb in zip(r0.weights, start) for a, b in zip(pa, pb))
    r1 = improve_by_patterns(X, y, start, deadline=30.0, max_rounds=1, **kw)  # type: ignore[arg-type]
    assert r1.info["rounds"] <= 1 and r1.info["stop"] in ("round limit", "local optimum")
    assert r1.objective <= r1.start_objective
    r2 = improve_by_patterns(X, y, start, deadline=0.2, **kw)  # type: ignore[arg-type]
    assert r2.info["stop"] in ("deadline", "local optimum", "first LP not solved")
    assert r2.objective <= r2.start_objective
    assert r2.objective == pytest.approx(_objective(r2.weights, X, y, 0.01), abs=1e-12)


def test_block_mode_moves_one_unit_at_a_time_and_is_never_worse() -> None:
    X, y = _data(50, 3, 4)
    start = fit_sign_network(X, y, 3, l1=0.01, steps=30).weights()
    kw = dict(l1=0.01, margin=1.0, weight_bound=1.0, bias_bound=1.0, deadline=20.0, max_rounds=6)
    r = improve_by_patterns(X, y, start, block=True, **kw)  # type: ignore[arg-type]
    assert r.info["block"] is True
    assert r.objective <= r.start_objective
    assert r.objective == pytest.approx(_objective(r.weights, X, y, 0.01), abs=1e-12)
    _in_class(r.weights, 1.0, 1.0)
    assert improve_by_patterns(X, y, start, **kw).info["block"] is False  # type: ignore[arg-type]
