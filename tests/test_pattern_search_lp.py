"""Pattern search (mipnet.train.pattern_search): the LP of a fixed activation pattern is the sign-class objective."""

from __future__ import annotations

import numpy as np
import pytest

from mipnet.errors import DataError
from mipnet.train.pattern_search import PatternLP, canonical_weights, improve_by_patterns, sign_class_objective
from mipnet.train.surrogate import sign_objective


def _data(n: int, d: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = np.where(X[:, 0] - 0.5 * X[:, 1] ** 2 + 0.3 * rng.normal(size=n) > 0, 1.0, -1.0)
    return X, y


def _net(H: int, d: int, seed: int, v: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    rng = np.random.default_rng(seed)
    W = np.clip(rng.normal(0.0, 0.6, size=(H, d)), -1.0, 1.0)
    b = np.clip(rng.normal(0.0, 0.5, size=H), -1.0, 1.0)
    v = np.where(np.arange(H) % 2 == 0, 1.0, -1.0) if v is None else v
    return W, b, v, 0.1


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("l1", [0.0, 0.05])
def test_lp_value_at_the_start_pattern_is_the_numpy_objective_of_its_network(seed: int, l1: float) -> None:
    X, y = _data(40, 3, seed)
    W, b, v, c = _net(3, 3, seed, np.array([1.0, -1.0, 0.0]))
    W[2], b[2] = 0.0, 0.0
    k, D = np.ones(40), 40.0
    start = sign_class_objective(W, b, v, c, X, y, k, D, l1=l1, margin=1.0)
    lp = PatternLP(X, y, k, D, v, X @ W.T + b > 0, l1=l1, margin=1.0, weight_bound=1.0, bias_bound=1.0)
    assert lp.solve(__import__("mipnet.deadline", fromlist=["Deadline"]).Deadline(None))
    W1, b1, c1 = lp.network()
    F = sign_class_objective(W1, b1, lp.v, c1, X, y, k, D, l1=l1, margin=1.0)
    value = lp.value() + l1 * np.abs(v).sum()
    assert F == pytest.approx(value, abs=1e-6)
    # the start network is a feasible point of its own pattern's LP: the LP optimum is no worse
    assert value <= start + 1e-7
    # the LP's network has the fixed pattern (up to the feasibility tolerance) and the pruned unit stays off
    Z = X @ W1.T + b1
    assert np.all(Z[lp.A] >= -1e-6) and np.all(Z[~lp.A] <= 1e-6)
    assert np.all(W1[2] == 0.0) and b1[2] == 0.0
    assert F == pytest.approx(sign_objective(W1, b1, lp.v, c1, X, y, l1, 1.0), abs=1e-12)


def test_flips_and_unit_changes_are_undone_by_restore() -> None:
    X, y = _data(30, 2, 5)
    W, b, v, c = _net(2, 2, 5)
    k = np.ones(30)
    lp = PatternLP(X, y, k, 30.0, v, X @ W.T + b > 0, l1=0.01, margin=1.0, weight_bound=1.0, bias_bound=1.0)
    from mipnet.deadline import Deadline

    assert lp.solve(Deadline(None))
    before = lp.value()
    state = lp.save()
    lp.flip(np.array([0, 3, 7]), np.array([0, 1, 0]))
    lp.set_unit(1, -v[1], ~lp.A[:, 1])
    lp.set_unit(0, 0.0)
    lp.solve(Deadline(None))
    lp.restore(state)
    assert np.array_equal(lp.v, v) and np.array_equal(lp.A, state[1])
    assert lp.solve(Deadline(None))
    assert lp.value() == pytest.approx(before, abs=1e-9)


def test_canonical_order_keeps_the_function_and_the_milp_unit_order() -> None:
    X, _ = _data(20, 3, 3)
    W, b, v, c = _net(4, 3, 3, np.array([-1.0, 0.0, 1.0, 1.0]))
    f = np.maximum(X @ W.T + b, 0.0) @ v + c
    (W2, b2), (V2, c2) = canonical_weights(W, b, v, c)
    v2 = V2[0]
    assert np.allclose(np.maximum(X @ W2.T + b2, 0.0) @ v2 + c2[0], f, atol=1e-12)
    assert list(v2) == [1.0, 1.0, -1.0, 0.0]
    assert b2[0] >= b2[1] and np.all(W2[3] == 0.0) and b2[3] == 0.0


def test_bad_start_is_refused() -> None:
    X, y = _data(10, 2, 0)
    W, b, v, c = _net(2, 2, 0)
    with pytest.raises(DataError):
        improve_by_patterns(
            X,
            y,
            [(W, b), (np.array([[0.5, 1.0]]), np.array([c]))],
            l1=0.0,
            margin=1.0,
            weight_bound=1.0,
            bias_bound=1.0,
            deadline=5.0,
        )
    with pytest.raises(DataError):
        improve_by_patterns(
            X,
            y,
            [(2.0 * W + 3.0, b), (v[None, :], np.array([c]))],
            l1=0.0,
            margin=1.0,
            weight_bound=1.0,
            bias_bound=1.0,
            deadline=5.0,
        )


def test_held_units_keep_their_weights() -> None:
    from mipnet.deadline import Deadline

    X, y = _data(30, 3, 8)
    W, b, v, c = _net(3, 3, 8)
    lp = PatternLP(X, y, np.ones(30), 30.0, v, X @ W.T + b > 0, l1=0.01, margin=1.0, weight_bound=1.0, bias_bound=1.0)
    lp.set_free(np.array([False, True, False]), W, b)
    lp.set_start(W, b, c, X, 1.0)
    assert lp.solve(Deadline(None))
    W1, b1, c1 = lp.network()
    assert np.allclose(W1[[0, 2]], W[[0, 2]], atol=1e-12) and np.allclose(b1[[0, 2]], b[[0, 2]], atol=1e-12)
    start = sign_class_objective(W, b, v, c, X, y, np.ones(30), 30.0, l1=0.01, margin=1.0)
    assert sign_class_objective(W1, b1, v, c1, X, y, np.ones(30), 30.0, l1=0.01, margin=1.0) <= start + 1e-7
