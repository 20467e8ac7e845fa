"""The sign class without the Pyomo model (mipnet/train/large_data.py): pattern search, dual bound and the matrix
MILP around the warm start. Forced on small data (LARGE_ROWS lowered): the certificate's objective is numpy's on
the original rows, its bound never above the optimum the Pyomo MILP proves, the network never worse than the
warm start; a training constraint the returned network would break stops the fit."""

from __future__ import annotations

import numpy as np
import pytest

from mipnet.errors import SolverError
from mipnet.train import TrainConfig, train
from mipnet.train import trainer as trainer_mod
from mipnet.train.constraints import ParityBound
from mipnet.train.large_data import matrix_milp, search_patterns, zero_dead_units
from mipnet.train.scale_policy import ScalePolicy
from mipnet.train.surrogate import sign_objective

CFG = TrainConfig(hidden=(2,), hypothesis="sign", l1=0.02)


def _data(n: int = 40, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = np.round(rng.normal(size=(n, 3)), 1)
    X[n // 2 :] = X[: n - n // 2]  # duplicate rows: the merged weights must be exact
    y = (X[:, 0] - 0.7 * np.abs(X[:, 1]) + 0.3 * rng.normal(size=n) > 0).astype(int)
    return X, y


@pytest.fixture(scope="module")
def optimum() -> float:
    X, y = _data()
    r = train(X, y, config=CFG, time_limit=120, seed=0, mip_gap=0.0, scale_policy=ScalePolicy(enabled=False))
    assert r.certificate.status == "optimal"
    return float(r.certificate.incumbent)


def test_large_path_certificate_is_exact_and_bound_valid(monkeypatch, optimum) -> None:
    monkeypatch.setattr(trainer_mod, "LARGE_ROWS", 1)
    X, y = _data()
    notes: list[str] = []
    r = train(X, y, config=CFG, time_limit=40, seed=0, log=notes.append, scale_policy=ScalePolicy(slowdown=1.0))
    c = r.certificate
    assert any("matrix MILP replaces it" in s for s in notes)
    assert any(s.startswith("matrix MILP:") for s in notes)
    assert r.check["ok"]
    assert c.incumbent == pytest.approx(sum(c.terms.values()), abs=1e-12)
    assert c.incumbent >= optimum - 1e-7  # a network of the class: never below the proved optimum
    assert c.bound is not None and c.bound <= optimum + 1e-7  # never above it
    note = c.formulation["time_limit_note"]
    assert "matrix MILP ran" in note and "proved:" in note
    (said,) = [s for s in notes if "; the network: " in s]  # where the returned network came from, as the note
    assert ("matrix MILP's" in said) == ("found a better network" in note)
    assert ("pattern search" in said) == ("improved by the pattern search" in note)
    ps = c.formulation.get("pattern_search")
    if ps is not None:
        assert ps["objective"] <= ps["start_objective"] + 1e-12


def test_pattern_search_and_matrix_milp_never_worse(optimum) -> None:
    X, y = _data()
    mu, sd = X.mean(0), X.std(0)
    Xs, t = (X - mu) / sd, np.where(y == 1, 1.0, -1.0)
    rng = np.random.default_rng(0)
    W, b = np.clip(rng.normal(size=(2, 3)), -1, 1), np.clip(rng.normal(size=2), -1, 1)
    start = [(W, b), (np.array([[1.0, -1.0]]), np.array([0.1]))]
    f0 = sign_objective(W, b, np.array([1.0, -1.0]), 0.1, Xs, t, CFG.l1, 1.0)
    from mipnet.deadline import Deadline

    w1, info = search_patterns(start, Xs, t, None, len(t), CFG, Deadline(20.0), seed=0, say=lambda s: None)
    f1 = sign_objective(w1[0][0], w1[0][1], w1[1][0].ravel(), float(w1[1][1][0]), Xs, t, CFG.l1, 1.0)
    assert info is not None and f1 <= f0 + 1e-12
    w2, res = matrix_milp(
        w1, Xs, t, None, len(t), CFG, Deadline(30.0), threads=1, seed=0, mip_gap=0.0, say=lambda s: None
    )
    assert res is not None
    f2 = sign_objective(w2[0][0], w2[0][1], w2[1][0].ravel(), float(w2[1][1][0]), Xs, t, CFG.l1, 1.0)
    assert f2 <= f1 + 1e-12
    assert res.incumbent == pytest.approx(f2, abs=1e-9)
    assert res.bound is not None and res.bound <= optimum + 1e-6
    if res.status == "optimal":
        assert f2 == pytest.approx(optimum, abs=1e-6)


def test_zero_dead_units_keeps_the_function() -> None:
    W, b = np.ones((2, 3)), np.ones(2)
    w = zero_dead_units([(W, b), (np.array([[1.0, 0.0]]), np.array([0.5]))])
    assert np.all(w[0][0][1] == 0) and w[0][1][1] == 0 and np.all(w[0][0][0] == 1)
    assert np.all(W == 1)  # the input is not changed


def test_a_broken_training_constraint_stops_the_fit() -> None:
    """When no solve runs (the plan forbids the MILP), the warm start would be returned: if it breaks a
    constraint the user required (a parity bound), the fit stops with one clear line instead."""
    rng = np.random.default_rng(4)
    X = rng.normal(size=(60, 3))
    y = (X[:, 0] > 0).astype(int)
    g = X[:, 0] > 0  # the label's own feature: an accurate network is far from parity
    with pytest.raises(SolverError, match="training constraints"):
        train(
            X,
            y,
            config=TrainConfig(hidden=(2,), hypothesis="sign", l1=0.01),
            constraints=[ParityBound(g, 0.0)],
            time_limit=20,
            seed=0,
            scale_policy=ScalePolicy(time_share=1e-12, min_seconds=0.0, slowdown=1.0),
        )


def test_a_mapping_model_that_cannot_be_built_in_time_is_declined_before_its_build(monkeypatch) -> None:
    """Without the full model the warm start is mapped into the class by a two-row Pyomo model, whose build
    cannot be interrupted (5000 hidden units: 14 s after a 3 s limit). When its estimate does not fit in the time
    left, the fit stops with one error before building it, instead of overrunning the limit."""
    from mipnet.train import large_data, scale_policy

    monkeypatch.setattr(scale_policy, "BUILD_SECONDS", (50.0, 0.0))  # 2 rows x 2 units: 200 s

    def no_build(*args: object, **kwargs: object) -> None:
        raise AssertionError("the two-row model was built")

    monkeypatch.setattr(large_data, "TrainingProblem", no_build)
    X, y = _data()
    with pytest.raises(
        SolverError, match=r"maps the warm start into the class \(2 hidden units\) takes about \d+ s to build"
    ):
        train(X, y, config=CFG, time_limit=20, seed=0, scale_policy=ScalePolicy(slowdown=1.0))
