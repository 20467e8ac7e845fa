"""The scale policy (mipnet.train.scale_policy): the size model, the plan, and a fit without the MILP."""

from __future__ import annotations

import numpy as np
import pytest

from mipnet.train import TrainConfig, train
from mipnet.train.formulation import TrainingProblem
from mipnet.train.scale_policy import ScalePolicy, check_calibration, estimate, plan, proved_words

QUIET = ScalePolicy(slowdown=1.0)


def _data(n: int = 60, d: int = 4, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = np.where(X[:, 0] - 0.5 * X[:, 1] + 0.3 * rng.normal(size=n) > 0, 1, 0)
    return X, y


def test_the_fit_reproduces_its_calibration_within_a_factor_of_two() -> None:
    ratios = check_calibration()
    assert ratios.shape[1] == 6 and np.all(ratios > 0.5) and np.all(ratios < 2.0)


def test_estimated_counts_match_a_built_model_within_a_factor_of_three() -> None:
    X, y = _data(40, 5)
    t = np.where(y == 1, 1.0, -1.0)
    Xs = (X - X.mean(0)) / X.std(0)
    p = TrainingProblem(Xs, t, "classify", 2, TrainConfig(hidden=(3,), hypothesis="sign", l1=0.01))
    got = p.size()
    e = estimate(40, 5, [3], base_mb=0.0)
    for key, est in (("variables", e.variables), ("binaries", e.binaries), ("constraints", e.constraints)):
        assert got[key] / 3 <= est <= 3 * got[key], (key, est, got[key])


def test_the_decision_is_monotone_in_rows() -> None:
    sizes = [100, 300, 1000, 3000, 10000, 30000, 100000]
    for left in (10.0, 60.0, 120.0, 600.0, float("inf")):
        builds = [plan(n, 86, [4], left, QUIET, base_mb=200.0).build for n in sizes]
        first_no = builds.index(False) if False in builds else len(builds)
        assert all(builds[:first_no]) and not any(builds[first_no:]), (left, builds)
    # the two reasons: time (a short limit) and memory (no limit, very many rows)
    short = plan(3000, 13, [4], 10.0, QUIET, base_mb=200.0)
    assert not short.build and "of the 10 s left" in short.reason
    huge = plan(100000, 86, [4], float("inf"), QUIET, base_mb=200.0)
    assert not huge.build and "GB cap" in huge.reason
    assert plan(200, 13, [4], 120.0, QUIET, base_mb=200.0).build
    # more time left never turns "milp" into "no milp"
    assert [plan(3000, 13, [4], s, QUIET, base_mb=200.0).build for s in (5, 20, 60, 300)] == sorted(
        plan(3000, 13, [4], s, QUIET, base_mb=200.0).build for s in (5, 20, 60, 300)
    )


def test_the_policy_off_always_builds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MIPNET_SCALE_POLICY", "off")
    assert plan(100000, 86, [4], 1.0, base_mb=200.0).build
    monkeypatch.setenv("MIPNET_SCALE_POLICY", "on")
    assert not plan(100000, 86, [4], 1.0, base_mb=200.0).build


def _numpy_objective(net: object, X: np.ndarray, t: np.ndarray, l1: float) -> float:
    dense = [l for l in net.layers if type(l).__name__ == "Dense"]  # type: ignore[attr-defined]
    f = net.forward(X).ravel()  # type: ignore[attr-defined]
    return float(np.mean(np.maximum(0.0, 1.0 - t * f)) + l1 * sum(np.abs(l.weight).sum() for l in dense))


def test_a_fit_without_the_milp_certifies_only_what_was_proved() -> None:
    X, y = _data(80, 4)
    t = np.where(y == 1, 1.0, -1.0)
    lines: list[str] = []
    never = ScalePolicy(time_share=1e-12, min_seconds=0.0, slowdown=1.0)
    r = train(
        X,
        y,
        config=TrainConfig(hidden=(2,), hypothesis="sign", l1=0.01),
        time_limit=30,
        seed=0,
        log=lines.append,
        scale_policy=never,
    )
    c = r.certificate
    assert any(s.startswith("formulation: not built") for s in lines)
    assert not any(s.startswith("solver:") for s in lines)  # no MILP ran
    assert c.bound_source != "milp" and r.result.bound is None
    assert c.incumbent == pytest.approx(_numpy_objective(r.network_full, X, t, 0.01), rel=1e-9, abs=1e-12)
    note = c.formulation["time_limit_note"]
    assert "no Pyomo MILP was built" in note and "matrix MILP ran" not in note
    if c.bound is not None:
        assert str(c.bound_source).startswith("dual") and 0 < c.bound <= c.incumbent + 1e-9
        assert "proved: the dual lower bound" in note and c.dual_bound is not None
    else:
        assert "no certificate: no bound was proved" in note
    assert r.network_full.metadata["certificate"]["formulation"]["time_limit_note"] == note
    assert r.check["ok"]


def test_without_a_dual_bound_the_note_says_no_certificate() -> None:
    X, y = _data(60, 3)
    r = train(
        X,
        X[:, 0] - X[:, 1] + 0.1 * y,
        task="regress",
        config=TrainConfig(hidden=(2,), hypothesis="sign", loss="l1", l1=0.01),
        time_limit=30,
        seed=0,
        scale_policy=ScalePolicy(time_share=1e-12, min_seconds=0.0, slowdown=1.0),
    )
    c = r.certificate
    assert c.bound is None and c.gap is None and c.status == "feasible"
    assert "no certificate: no bound was proved" in c.formulation["time_limit_note"]
    assert proved_words(None) == "no certificate: no bound was proved"
    assert proved_words({"bound": 0.0, "source": "dual: transport"}) == proved_words(None)
