"""The matrix training MILP of the large-data path: its child answers before the fit's deadline (a solve that runs
to its time limit used to be discarded), and the bound it proves is re-proved by the re-check; a certificate whose
MILP bound was raised is never reported as re-checked."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from mipnet.deadline import Deadline
from mipnet.report.certificates import certificate_from_dict, training_certificate
from mipnet.report.recheck import recheck
from mipnet.train import TrainConfig, large_data, train
from mipnet.train import trainer as trainer_mod

CFG = TrainConfig(hidden=(2,), hypothesis="sign", l1=0.01)


def _data(n: int = 40, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = np.round(rng.normal(size=(n, 3)), 1)
    y = (X[:, 0] + 0.5 * X[:, 1] + 0.7 * rng.normal(size=n) > 0).astype(int)
    return X, y


def test_child_answers_before_the_deadline() -> None:
    """40 noisy rows: the MILP is not closed in 3 s, so the child's solve runs to its time limit; its answer
    (a bound and the network) must still reach the parent, within the deadline plus the child's grace."""
    X, y = _data()
    t = np.where(y == 1, 1.0, -1.0)
    W = np.array([[1.0, 0.5, 0.0], [0.0, 0.0, 0.0]])
    weights = [(W, np.zeros(2)), (np.array([[1.0, 0.0]]), np.zeros(1))]
    deadline = Deadline(3.0)
    chosen, res = large_data.matrix_milp(
        weights, X, t, None, X.shape[0], CFG, deadline, threads=1, seed=0, mip_gap=1e-6, say=lambda s: None
    )
    assert res is not None, "the child's answer was lost"
    assert res.bound is not None and res.incumbent is not None and res.bound <= res.incumbent + 1e-9
    assert deadline.elapsed() <= 3.0 + large_data.CHILD_GRACE + 1.0


def test_matrix_milp_bound_rechecked_and_raised_bound_not_passed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(trainer_mod, "LARGE_ROWS", 10)  # the large-data path on a small set
    monkeypatch.setattr(large_data, "dual_applies", lambda *a, **k: False)  # the bound is the matrix MILP's
    X, y = _data()
    r = train(X, y, config=CFG, time_limit=6, threads=1)
    c = r.certificate
    assert c.bound_source == "milp" and c.bound is not None and 0 < c.bound < c.incumbent, c.lines()
    assert "matrix MILP ran" in c.formulation["time_limit_note"]
    df = pd.DataFrame(X, columns=["x0", "x1", "x2"])
    df["y"] = y
    cert = training_certificate(r.network_full, r.network_full.metadata["certificate"], target="y")
    rep = recheck(cert, r.network_full, df, second_solver=None, time_limit=8)
    assert rep.status != "failed", rep.lines()

    d = json.loads(json.dumps(cert.to_dict()))  # a careful forger: the gap closed everywhere, the seal redone
    inc = d["answer"]["incumbent"]
    for part in (d["answer"], d["result"]):
        part.update(bound=inc, gap=0.0, status="optimal")
    forged = certificate_from_dict(d)
    forged.seal = forged.compute_seal()
    bad = recheck(forged, r.network_full, df, second_solver=None, time_limit=5)
    assert bad.status in ("failed", "partial"), bad.lines()
    (chk,) = [k for k in bad.checks if k.name.startswith("training bound re-proved")]
    assert chk.outcome != "pass", bad.lines()
