"""The dual bound in the training certificate: never above the optimum, the only bound when the MILP is not built,
re-checked from its recorded multipliers (numpy, or a fresh pricing solve), a raised figure refuted."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from helpers import forged

from mipnet.deadline import OutOfTime
from mipnet.report.certificates import training_certificate
from mipnet.report.recheck import recheck
from mipnet.train import TrainConfig, train
from mipnet.train import dual_record as dual_record_mod
from mipnet.train import trainer as trainer_mod

CFG = TrainConfig(hidden=(2,), hypothesis="sign", l1=0.01)


def _data(n: int, seed: int, dup: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Noisy labels on 3 features; ``dup`` rows repeated with the opposite label (forced hinge loss)."""
    rng = np.random.default_rng(seed)
    X = np.round(rng.normal(size=(n, 3)), 1)
    y = (X[:, 0] + 0.5 * X[:, 1] + 0.7 * rng.normal(size=n) > 0).astype(int)
    if dup:
        X, y = np.vstack([X, X[:dup]]), np.concatenate([y, 1 - y[:dup]])
    return X, y


def _no_model(monkeypatch: pytest.MonkeyPatch) -> None:
    """The model of the full data is never built in time (the mapper of two rows still is)."""
    real = trainer_mod.TrainingProblem

    def problem(X, *args, **kwargs):
        if X.shape[0] > 2:
            raise OutOfTime("test: the model would not be built in time")
        return real(X, *args, **kwargs)

    monkeypatch.setattr(trainer_mod, "TrainingProblem", problem)


def _file(net, X, y):
    df = pd.DataFrame(X, columns=["x0", "x1", "x2"])
    df["y"] = y
    return training_certificate(net, net.metadata["certificate"], target="y"), df


def _raised(factor):
    """A careful forger's edit: every copy of the bound raised by ``factor`` (at most the incumbent), the gap
    recomputed."""

    def edit(d):
        b = min(d["answer"]["incumbent"], factor * d["answer"]["bound"])
        g = (d["answer"]["incumbent"] - b) / d["answer"]["incumbent"]
        for part in (d["answer"], d["result"]):
            part.update(bound=b, gap=g)
        d["result"]["dual_bound"]["bound"] = b

    return edit


def _dual_check(rep):
    return [c for c in rep.checks if "dual certificate" in c.name]


def test_bound_never_above_the_proved_optimum() -> None:
    X, y = _data(14, 3)
    r = train(X, y, config=CFG, time_limit=20, threads=1)
    c = r.certificate
    assert c.status == "optimal", c.lines()
    assert c.dual_bound is not None and c.dual_bound["bound"] > 0
    assert c.dual_bound["bound"] <= c.incumbent * (1 + 1e-9)
    assert c.bound <= c.incumbent * (1 + 1e-9)
    assert c.bound_source in ("milp", "dual: column generation")


def test_no_model_transport_bound_rechecked_and_forgery_refuted(monkeypatch: pytest.MonkeyPatch) -> None:
    _no_model(monkeypatch)
    monkeypatch.setattr(dual_record_mod, "DUAL_METHOD", "transport")
    X, y = _data(60, 1, dup=8)
    r = train(X, y, config=CFG, time_limit=8, threads=1)
    c = r.certificate
    assert c.bound_source == "dual: transport" and c.bound > 0 and c.status == "feasible", c.lines()
    assert c.bound <= c.incumbent and c.gap == pytest.approx((c.incumbent - c.bound) / c.incumbent)
    assert c.dual_bound["rows"] == [] and c.dual_bound["pairs"]
    cert, df = _file(r.network_full, X, y)
    rep = recheck(cert, r.network_full, df, second_solver=None, time_limit=10, reprove=False)
    (chk,) = _dual_check(rep)
    assert chk.outcome == "pass", rep.lines()

    raised = _raised(1.05)  # a careful forger: every copy of the bound raised, the gap recomputed

    bad = recheck(forged(cert, raised), r.network_full, df, second_solver=None, time_limit=10, reprove=False)
    (chk,) = _dual_check(bad)
    assert chk.outcome == "fail" and bad.status == "failed", bad.lines()

    def inflated(d):  # ... and the multipliers scaled up to match: they leave their caps
        raised(d)
        for p in d["result"]["dual_bound"]["pairs"]:
            p[2] *= 1.05

    bad2 = recheck(forged(cert, inflated), r.network_full, df, second_solver=None, time_limit=10, reprove=False)
    assert bad2.status == "failed", bad2.lines()


def test_no_model_column_generation_bound_rechecked_by_pricing(monkeypatch: pytest.MonkeyPatch) -> None:
    _no_model(monkeypatch)
    X, y = _data(30, 2, dup=4)
    r = train(X, y, config=CFG, time_limit=8, threads=1)
    c = r.certificate
    assert c.bound_source == "dual: column generation" and c.bound > 0, c.lines()
    assert c.dual_bound["pricing"]["upper"] is not None
    cert, df = _file(r.network_full, X, y)
    rep = recheck(cert, r.network_full, df, second_solver=None, time_limit=10)
    (chk,) = _dual_check(rep)
    assert chk.outcome == "pass", rep.lines()
    off = recheck(cert, r.network_full, df, second_solver=None, time_limit=10, reprove=False)
    (chk,) = _dual_check(off)
    assert chk.outcome == "undecided" and off.status == "partial", off.lines()


def test_no_model_vertex_pair_bound_rechecked_over_the_vertices(monkeypatch: pytest.MonkeyPatch) -> None:
    """The vertex-pair bound (its pricing exact over the box's vertices) is recorded as a plan on pairs; the re-check
    re-proves it by the same enumeration where the separable loads fall short, and refutes a raised figure."""
    _no_model(monkeypatch)
    monkeypatch.setattr(dual_record_mod, "DUAL_METHOD", "vertex")
    X, y = _data(80, 6)
    r = train(X, y, config=CFG, time_limit=8, threads=1)
    c = r.certificate
    assert c.bound_source == "dual: vertex pairs" and c.bound > 0 and c.status == "feasible", c.lines()
    assert c.bound <= c.incumbent and c.dual_bound["rows"] == [] and c.dual_bound["pairs"]
    cert, df = _file(r.network_full, X, y)
    rep = recheck(cert, r.network_full, df, second_solver=None, time_limit=10, reprove=False)
    (chk,) = _dual_check(rep)
    assert chk.outcome == "pass", rep.lines()
    assert "vertices of the box" in str(vars(chk)), vars(chk)  # the separable loads alone do not reach it

    bad = recheck(forged(cert, _raised(1.02)), r.network_full, df, second_solver=None, time_limit=10, reprove=False)
    (chk,) = _dual_check(bad)
    assert chk.outcome == "fail" and bad.status == "failed", bad.lines()


def test_hybrid_bound_with_one_label_is_zero_not_a_traceback():
    """No opposite-label pairs: numpy's bincount of no weights is an integer array, and adding the float
    multipliers into it raised a casting error."""
    from mipnet.train.config import TrainConfig
    from mipnet.train.dual_bound import bound_for_config

    Xs, y = np.array([[-1.0], [1.0], [0.5], [-0.5], [0.0]]), np.ones(5)
    cfg = TrainConfig(hidden=(1,), hypothesis="sign", loss="hinge", l1=0.05)
    assert bound_for_config(Xs, y, cfg, time_limit=10.0, method="hybrid").bound == 0.0
