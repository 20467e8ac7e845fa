"""The matrix-built training MILP (mipnet.train.matrix) is the Pyomo TrainingProblem's model: same optimum,
same LP relaxation, same cut pairs and columns; its read-back network's objective is re-computed by numpy."""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo
import pytest

from mipnet.errors import UnsupportedError
from mipnet.solve import solve
from mipnet.train.formulation import TrainConfig, TrainingProblem, merge_rows
from mipnet.train.matrix import MatrixTrainingModel
from mipnet.train.surrogate import sign_objective

# (seed, N, d, J, l1, symmetry breaking)
CASES = [(0, 8, 2, 1, 0.05, True), (1, 10, 3, 2, 0.05, True), (3, 12, 2, 2, 0.02, False), (4, 6, 2, 2, 0.0, True)]


def data(seed: int, N: int, d: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(N, d))
    y = np.where(X[:, 0] + 0.7 * rng.normal(size=N) > 0, 1.0, -1.0)
    y[:2] = [1.0, -1.0]  # both classes present
    return X, y


def pyomo_lp(problem: TrainingProblem) -> float:
    m = problem.model.clone()
    pyo.TransformationFactory("core.relax_integer_vars").apply_to(m)
    r = solve(m, "highs", time_limit=30)
    assert r.status == "optimal" and r.incumbent is not None
    return float(r.incumbent)


@pytest.mark.parametrize("case", CASES)
def test_optimum_and_relaxation_equal_pyomo(case: tuple[int, int, int, int, float, bool]) -> None:
    seed, N, d, J, l1, sym = case
    X, y = data(seed, N, d)
    cfg = TrainConfig(hidden=(J,), l1=l1, symmetry_breaking=sym)
    prob = TrainingProblem(X, y, "classify", 2, cfg)
    mm = MatrixTrainingModel(X, y, cfg)
    # the same columns; the rows r >= 0 p of the Pyomo product rule are column bounds here (2 N J rows fewer)
    ps, ms = prob.size(), mm.size()
    assert ms["variables"] == ps["variables"] and ms["binaries"] == ps["binaries"]
    assert ms["constraints"] == ps["constraints"] - 2 * N * J
    assert sorted(prob.cut_pairs) == list(zip(mm.cut_pairs[0].tolist(), mm.cut_pairs[1].tolist()))
    # LP relaxations: equal (same rows and bounds)
    lp_m = mm.relaxation(time_limit=30)
    assert lp_m is not None
    assert lp_m == pytest.approx(pyomo_lp(prob), abs=1e-7)
    # MILP optima at gap 0
    rp = solve(prob.model, "highs", time_limit=60, mip_gap=0.0)
    out = mm.solve(60, mip_gap=0.0)
    assert rp.status == "optimal" and out.status == "optimal"
    assert out.objective is not None and rp.incumbent is not None
    assert out.objective == pytest.approx(rp.incumbent, abs=1e-6)
    assert out.bound is not None and out.bound <= out.objective + 1e-12
    # the read-back network, its objective recomputed by numpy
    w = mm.weights()
    (W, b), (v, c) = w
    assert set(np.unique(v)) <= {-1.0, 0.0, 1.0}
    F = sign_objective(W, b, v.ravel(), float(c[0]), X, y, l1, 1.0)
    assert F == pytest.approx(out.objective, abs=1e-6)
    assert mm.objective_of(w) == pytest.approx(F, abs=1e-12)


def test_merged_duplicates_same_optimum() -> None:
    X, y = data(7, 7, 2)
    X = np.vstack([X, X[:3], X[:2]])  # 5 duplicated rows
    y = np.concatenate([y, y[:3], y[:2]])
    cfg = TrainConfig(hidden=(2,), l1=0.03)
    full = MatrixTrainingModel(X, y, cfg).solve(60, mip_gap=0.0)
    Xu, yu, counts, _ = merge_rows(X, y)
    assert Xu.shape[0] == 7
    mm = MatrixTrainingModel(Xu, yu, cfg, sample_weight=counts, loss_denominator=int(counts.sum()))
    merged = mm.solve(60, mip_gap=0.0)
    assert full.status == merged.status == "optimal"
    assert merged.objective is not None and full.objective is not None
    assert merged.objective == pytest.approx(full.objective, abs=1e-6)
    (W, b), (v, c) = mm.weights()  # the merged model's network, evaluated on the original rows
    assert sign_objective(W, b, v.ravel(), float(c[0]), X, y, 0.03, 1.0) == pytest.approx(merged.objective, abs=1e-6)


def test_unsupported_configs_refused() -> None:
    X, y = data(0, 6, 2)
    for cfg in (
        TrainConfig(hidden=(2,), l2=0.1),
        TrainConfig(hidden=(2,), hypothesis="quantized"),
        TrainConfig(hidden=(2,), loss="zero_one"),
        TrainConfig(hidden=(2,), tight_bounds=False),
        TrainConfig(hidden=(2,), neuron_penalty=0.1),
        TrainConfig(hidden=(2, 2)),
    ):
        with pytest.raises(UnsupportedError):
            MatrixTrainingModel(X, y, cfg)
