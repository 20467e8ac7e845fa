"""The sign-class gradient surrogate: feasible for the MILP, its objective is the MILP's, it fits and sparsifies."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mipnet.errors import DataError
from mipnet.train.formulation import TrainConfig, TrainingProblem, resolve_config
from mipnet.train.surrogate import (
    constant_network,
    fit_sign_network,
    fit_sign_network_best,
    fit_sign_path,
    sign_objective,
)
from mipnet.train.warmstart import fixed_lp, lp_solver_for, map_to_class


def _data(n: int, d: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = np.where(X[:, 0] - 0.5 * X[:, 1] + 0.3 * rng.normal(size=n) > 0, 1.0, -1.0)
    if np.all(y == y[0]):
        y[0] = -y[0]
    return X, y


@settings(max_examples=15, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    hidden=st.integers(1, 4),
    l1=st.sampled_from([0.0, 0.01, 0.3]),
    wb=st.sampled_from([0.5, 1.0]),
    bb=st.sampled_from([0.5, 2.0]),
)
def test_result_is_in_the_sign_class_and_objective_is_exact(seed, hidden, l1, wb, bb):
    X, y = _data(30, 4, seed)
    net = fit_sign_network(X, y, hidden, l1=l1, weight_bound=wb, bias_bound=bb, steps=120, seed=seed)
    assert np.all(np.abs(net.W) <= wb) and np.all(np.abs(net.b) <= bb) and abs(net.c) <= bb
    assert set(np.unique(net.v)) <= {-1.0, 0.0, 1.0}
    assert np.all(net.W[net.v == 0] == 0) and np.all(net.b[net.v == 0] == 0)  # switched-off units are empty
    f = np.maximum(X @ net.W.T + net.b, 0.0) @ net.v + net.c
    assert np.allclose(net.decision(X), f)
    direct = np.maximum(0.0, 1.0 - y * f).mean() + l1 * (np.abs(net.W).sum() + np.abs(net.v).sum())
    assert net.objective == pytest.approx(direct, abs=1e-12)


@pytest.mark.parametrize("l1", [0.0, 0.02])
def test_surrogate_objective_equals_the_milp_objective_at_its_point(l1):
    X, y = _data(25, 3, 1)
    cfg = resolve_config(TrainConfig(hidden=(3,), l1=l1), "classify", 2)
    problem = TrainingProblem(X, y, "classify", 2, cfg)
    net = fit_sign_network_best(X, y, 3, l1=l1, seed=0, steps=300)
    w = map_to_class(net.weights(), problem)  # unit order for symmetry breaking; the function is unchanged
    assert np.allclose(np.maximum(X @ w[0][0].T + w[0][1], 0) @ w[1][0][0] + w[1][1][0], net.decision(X))
    milp = fixed_lp(problem, w, free_weights=False, solver=lp_solver_for(problem, "highs"))
    assert milp is not None  # the point is feasible for the MILP
    assert milp == pytest.approx(net.objective, abs=1e-6)
    assert sign_objective(w[0][0], w[0][1], w[1][0][0], float(w[1][1][0]), X, y, l1, 1.0) == pytest.approx(
        milp, abs=1e-6
    )


def test_fits_separable_data_and_l1_sparsifies():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(80, 10))
    y = np.where(X[:, 0] + X[:, 1] > 0, 1.0, -1.0)
    loose = fit_sign_network_best(X, y, 4, l1=0.0, seed=0)
    assert np.mean(np.sign(loose.decision(X)) == y) >= 0.97
    assert loose.objective < 0.2  # the zero network scores 1
    sparse = fit_sign_network_best(X, y, 4, l1=0.05, seed=0)
    assert sparse.nonzero() < loose.nonzero()
    assert np.mean(np.sign(sparse.decision(X)) == y) >= 0.9
    # with l1 = 0.05 the irrelevant features 2..9 carry little weight
    assert np.abs(sparse.W[:, 2:]).sum() < 0.25 * np.abs(sparse.W[:, :2]).sum()


def test_a_huge_penalty_gives_the_constant_network():
    X, y = _data(40, 3, 2)
    net = fit_sign_network(X, y, 2, l1=10.0, seed=0)
    assert net.nonzero() == 0 and np.all(net.v == 0)
    # best constant: mean hinge of c over the labels, with |c| <= 1
    best_constant = min(np.maximum(0.0, 1.0 - y * c).mean() for c in np.linspace(-1, 1, 2001))
    assert net.objective == pytest.approx(best_constant, abs=0.02)


@pytest.mark.parametrize("margin,bias_bound", [(1.0, 1.0), (1.0, 0.5), (0.5, 2.0)])
def test_the_constant_network_is_the_best_constant_and_wins_against_a_worse_local_fit(margin, bias_bound):
    X, y = _data(50, 3, 8)
    y[:35] = 1.0  # unbalanced: the best constant is not 0
    const = constant_network(X, y, 2, margin, bias_bound)
    grid = np.linspace(-bias_bound, bias_bound, 4001)
    assert const.objective == pytest.approx(min(np.maximum(0.0, margin - y * c).mean() for c in grid), abs=1e-9)
    assert const.nonzero() == 0 and np.allclose(const.decision(X), const.c)
    # a penalty so high that every local fit with a unit on is worse than the constant network
    local = fit_sign_network(X, y, 2, l1=0.4, margin=margin, bias_bound=bias_bound, positive=1, steps=5)
    path = fit_sign_path(X, y, 2, [0.4], restarts=1, margin=margin, bias_bound=bias_bound, steps=5)[0]
    assert path.objective == pytest.approx(min(local.objective, const.objective))
    assert path.objective <= const.objective


def test_restarts_keep_the_best_and_bad_input_is_refused():
    X, y = _data(30, 3, 4)
    single = [fit_sign_network(X, y, 3, l1=0.01, positive=p, seed=s) for s, p in ((0, 2), (1, 1), (2, 3))]
    best = fit_sign_network_best(X, y, 3, l1=0.01, restarts=3, seed=0)
    assert best.objective == pytest.approx(min(s.objective for s in single))
    assert best.objective < constant_network(X, y, 3).objective
    with pytest.raises(DataError, match="labels"):
        fit_sign_network(X, np.where(y > 0, 1.0, 0.0), 2, l1=0.0)
    with pytest.raises(DataError, match="X must be"):
        fit_sign_network(X, y[:-1], 2, l1=0.0)
    with pytest.raises(DataError, match="hidden"):
        fit_sign_network(X, y, 0, l1=0.0)


def test_a_batched_path_equals_the_separate_fits():
    X, y = _data(40, 5, 6)
    grid = [0.0, 0.01, 0.1]
    path = fit_sign_path(X, y, 3, grid, restarts=3, seed=2, steps=200)
    for c, net in zip(grid, path):
        alone = fit_sign_network_best(X, y, 3, l1=c, restarts=3, seed=2, steps=200)
        assert net.objective == pytest.approx(alone.objective, rel=1e-9)
        assert np.allclose(net.W, alone.W) and np.array_equal(net.v, alone.v)


def test_the_warm_start_keeps_the_candidate_with_the_lower_objective():
    from mipnet.train.trainer import _better_start

    X, y = _data(30, 3, 9)
    cfg = resolve_config(TrainConfig(hidden=(2,), l1=0.01), "classify", 2)
    problem = TrainingProblem(X, y, "classify", 2, cfg)
    empty = [(np.zeros((2, 3)), np.zeros(2)), (np.zeros((1, 2)), np.zeros(1))]  # objective 1 (mean hinge at f = 0)
    chosen, origin = _better_start(empty, problem, X, y, cfg, seed=0)
    assert "surrogate" in origin
    f = np.maximum(X @ chosen[0][0].T + chosen[0][1], 0) @ chosen[1][0][0] + chosen[1][1][0]
    assert np.maximum(0, 1 - y * f).mean() + 0.01 * sum(np.abs(W).sum() for W, _ in chosen) < 1.0
    again, origin = _better_start(chosen, problem, X, y, cfg, seed=0)  # the same network: not strictly better
    assert "mapped" in origin and all(np.array_equal(a[0], b[0]) for a, b in zip(again, chosen))
