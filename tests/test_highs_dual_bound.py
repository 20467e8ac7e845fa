"""HiGHS' MIP dual bound is taken only from a run that happened (mipnet.highs.proved_dual_bound): a refused run
leaves model status "Not Set" and mip_dual_bound 0.0, a finite number that bounds nothing."""

from __future__ import annotations

import numpy as np

from mipnet.highs import new_highs, proved_dual_bound


def _knapsack(h) -> None:  # max 3 x0 + 2 x1 s.t. 2 x0 + 2 x1 <= 3, x binary: optimum 3 (as min: -3)
    import highspy

    inf = highspy.kHighsInf
    h.addVars(2, np.zeros(2), np.ones(2))
    h.changeColsCost(2, np.arange(2, dtype=np.int32), np.array([-3.0, -2.0]))
    h.changeColsIntegrality(
        2, np.arange(2, dtype=np.int32), np.array([highspy.HighsVarType.kInteger] * 2, dtype=np.uint8)
    )
    h.addRow(-inf, 3.0, 2, np.arange(2, dtype=np.int32), np.array([2.0, 2.0]))


def test_a_run_that_happened_gives_its_bound() -> None:
    h = new_highs()
    _knapsack(h)
    status = h.run()
    assert proved_dual_bound(h, status) == -3.0


def test_a_refused_run_gives_no_bound() -> None:
    import highspy

    try:
        highspy.Highs.resetThreadScheduler(True)
        first = new_highs()
        first.setOptionValue("threads", 2)
        first.passModel(highspy.HighsLp())
        first.run()  # the process' scheduler now has 2 threads: a run asking for 1 is refused
        h = new_highs()
        h.setOptionValue("threads", 1)
        _knapsack(h)
        status = h.run()
        assert status == highspy.HighsStatus.kError  # the setting this test relies on
        assert float(h.getInfo().mip_dual_bound) == 0.0  # the trap: a finite number after a refused run
        assert proved_dual_bound(h, status) is None
    finally:
        highspy.Highs.resetThreadScheduler(True)
