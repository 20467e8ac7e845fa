"""Warm starts of the matrix training model: a network of the class becomes a feasible model point that HiGHS
takes as its incumbent; weights outside the class are refused."""

from __future__ import annotations

import numpy as np
import pytest

from mipnet.deadline import Deadline
from mipnet.errors import DataError
from mipnet.train.formulation import TrainConfig
from mipnet.train.matrix import MatrixTrainingModel
from mipnet.train.surrogate import sign_objective


def model(sym: bool = True, N: int = 20) -> tuple[MatrixTrainingModel, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(2)
    X = rng.normal(size=(N, 3))
    y = np.where(X[:, 1] > 0, 1.0, -1.0)
    return MatrixTrainingModel(X, y, TrainConfig(hidden=(3,), l1=0.02, symmetry_breaking=sym)), X, y


def test_start_is_feasible_and_accepted() -> None:
    mm, X, y = model()
    rng = np.random.default_rng(5)
    W, b = rng.uniform(-1, 1, (3, 3)), rng.uniform(-1, 1, 3)
    v = np.array([[-1.0, 0.0, 1.0]])  # out of the symmetry-breaking order, one pruned unit with nonzero weights
    w = [(W, b), (v, np.array([0.2]))]
    x = mm.point(w)
    assert mm.violation(x) <= 1e-9
    obj = mm.set_start(w)
    # the pruned unit's weights are zeroed (it computes nothing), the order does not change the function
    Wk, bk = W.copy(), b.copy()
    Wk[1], bk[1] = 0.0, 0.0
    F = sign_objective(Wk, bk, v.ravel(), 0.2, X, y, 0.02, 1.0)
    assert obj == pytest.approx(F, abs=1e-12)
    h = mm.highs()
    h.setOptionValue("mip_max_nodes", 0)  # stop at once: the incumbent is the start HiGHS accepted
    out = mm.solve(30)
    assert out.status == "feasible" and out.objective == pytest.approx(obj, abs=1e-9)
    (W2, b2), (v2, c2) = mm.weights()
    assert sign_objective(W2, b2, v2.ravel(), float(c2[0]), X, y, 0.02, 1.0) == pytest.approx(obj, abs=1e-9)


def test_start_then_solve_never_worse() -> None:
    mm, X, y = model(sym=False, N=8)
    w = [(np.zeros((3, 3)), np.zeros(3)), (np.zeros((1, 3)), np.array([0.0]))]  # the constant network
    obj = mm.set_start(w)
    assert obj == pytest.approx(1.0)  # hinge 1 on every row, no weights
    out = mm.solve(30, mip_gap=0.0)
    assert out.status == "optimal" and out.objective is not None and out.objective <= obj + 1e-9


def test_start_outside_class_refused() -> None:
    mm, _, _ = model()
    W, b = np.zeros((3, 3)), np.zeros(3)
    with pytest.raises(DataError):
        mm.set_start([(W, b), (np.array([[0.5, 1.0, 0.0]]), np.array([0.0]))])  # v not in {-1, 0, 1}
    with pytest.raises(DataError):
        mm.set_start([(W + 2.0, b), (np.array([[1.0, 1.0, 1.0]]), np.array([0.0]))])  # |W| > B_w


def test_expired_limit_claims_nothing() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 4))
    y = np.where(X[:, 0] + rng.normal(size=200) > 0, 1.0, -1.0)
    mm = MatrixTrainingModel(X, y, TrainConfig(hidden=(3,), l1=0.01))
    out = mm.solve(Deadline(0.0))
    assert out.status in ("unknown", "feasible")  # never "optimal" without the time to prove it
    if out.objective is not None and out.bound is not None:
        assert out.bound <= out.objective + 1e-9
