"""A network of objective 0 and a bound a hair below it: the relative gap's denominator max(|incumbent|, 1e-10)
made a bound 1e-12 below a zero-loss network a 1 % gap, so such a fit was labelled "feasible" and an honest
certificate of it failed its re-check. An absolute gap of 1e-9 is closed too (tighter than HiGHS's 1e-6)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from helpers import forged

from mipnet.gaps import OPTIMAL_ABS_GAP, gap_closed
from mipnet.report.certificates import training_certificate
from mipnet.report.recheck import recheck
from mipnet.train import TrainConfig, train


def test_gap_closed_is_relative_or_absolute():
    assert gap_closed(0.0, -1e-12, 1e-6) and gap_closed(0.0, -OPTIMAL_ABS_GAP, 1e-6)
    assert not gap_closed(0.0, -2e-9, 1e-6) and not gap_closed(1.0, 1.0 - 2e-6, 1e-6)
    assert gap_closed(1.0, 1.0 - 0.9e-6, 1e-6) and gap_closed(100.0, 100.0 - 5e-5, 1e-6)


def test_zero_objective_certificate_with_a_bound_just_below_rechecks_optimal():
    rng = np.random.default_rng(0)
    X = np.r_[rng.normal(-3, 0.3, (6, 2)), rng.normal(3, 0.3, (6, 2))]
    y = np.r_[np.zeros(6), np.ones(6)]
    res = train(X, y, config=TrainConfig(hidden=(1,), l1=0.0), time_limit=20, warm_start=False)
    assert res.certificate.status == "optimal" and abs(res.certificate.incumbent) < 1e-12, res.certificate
    df = pd.DataFrame(np.c_[X, y], columns=["x0", "x1", "y"])
    cert = training_certificate(res.network, res.network.metadata["certificate"], target="y")

    def below(d):  # what a solver may return: its bound 1e-12 under the exact 0
        for part in ("answer", "result"):
            if part in d and isinstance(d[part], dict) and "bound" in d[part]:
                d[part].update(bound=-1e-12, gap=1e-12 / 1e-10)

    honest = forged(cert, below)
    rep = recheck(honest, res.network, df, second_solver=None, time_limit=5, reprove=False)
    assert not any("closed gap" in line and "FAIL" in line for line in rep.lines()), rep.lines()

    def far(d):  # 2e-9 below zero is not closed
        for part in ("answer", "result"):
            if part in d and isinstance(d[part], dict) and "bound" in d[part]:
                d[part].update(bound=-2e-9, gap=2e-9 / 1e-10)

    rep2 = recheck(forged(cert, far), res.network, df, second_solver=None, time_limit=5, reprove=False)
    assert any("closed gap" in line and "FAIL" in line for line in rep2.lines()), rep2.lines()
