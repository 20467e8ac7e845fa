"""A HiGHS instance stopped by a deadline solves normally afterwards: HiGHS 1.16 keeps an interrupt request on the
instance after the run it stopped, so :func:`mipnet.highs.stop_at` and the Ctrl-C callback set the request on every
poll instead of only raising it (the cutting planes' master, stopped once by its LP phase's deadline, had proved no
bound for the rest of the fit)."""

from __future__ import annotations

import numpy as np

from mipnet import interrupt
from mipnet.deadline import Deadline
from mipnet.highs import stop_at


def _hard_mip():
    import highspy

    rng = np.random.default_rng(0)
    n, m = 300, 150
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", 1)
    A = rng.integers(1, 20, size=(m, n)).astype(float)
    h.addVars(n, np.zeros(n), np.ones(n))
    h.changeColsCost(n, np.arange(n, dtype=np.int32), -rng.integers(1, 30, size=n).astype(float))
    for i in range(m):
        h.addRow(-highspy.kHighsInf, A[i].sum() / 3, n, np.arange(n, dtype=np.int32), A[i])
    h.changeColsIntegrality(n, np.arange(n, dtype=np.int32), np.ones(n, dtype=np.uint8))
    return h


def _stopped_once():
    """A hard MIP whose first run a 0.3 s deadline stopped (HiGHS's own limit far away)."""
    import highspy

    h = _hard_mip()
    h.setOptionValue("time_limit", 100.0)
    with stop_at(h, Deadline(0.3)):
        h.run()
    assert h.getModelStatus() == highspy.HighsModelStatus.kInterrupt
    return h


def _run_watched(h) -> None:
    """One run under the Ctrl-C watcher alone (no deadline)."""
    undo = interrupt.watch_highs(h)
    try:
        h.run()
    finally:
        undo()


def test_a_run_after_a_deadline_stop_is_not_stopped_again():
    import highspy

    h = _stopped_once()
    # the next run has time: it ends by HiGHS's own limit (or solves), not by the stale request
    h.setOptionValue("time_limit", 1.5)
    with stop_at(h, Deadline(30.0)):
        h.run()
    assert h.getModelStatus() in (highspy.HighsModelStatus.kTimeLimit, highspy.HighsModelStatus.kOptimal)
    # and the Ctrl-C watcher alone (no deadline) does not replay it either
    h = _stopped_once()
    h.setOptionValue("time_limit", 1.5)
    _run_watched(h)
    assert h.getModelStatus() in (highspy.HighsModelStatus.kTimeLimit, highspy.HighsModelStatus.kOptimal)


def test_a_deadline_still_stops_and_ctrl_c_still_stops():
    import highspy

    h = _stopped_once()
    interrupt.request()
    try:
        _run_watched(h)
        assert h.getModelStatus() == highspy.HighsModelStatus.kInterrupt
    finally:
        interrupt.clear()
