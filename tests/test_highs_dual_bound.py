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


def test_an_lp_gives_its_optimum_not_the_mip_field() -> None:
    """Without integer columns HiGHS runs its LP solver and leaves mip_dual_bound at 0.0: the bound is the LP's
    optimum (min x0 + x1 over [1, 2]^2 is 2)."""
    from mipnet.solve import highs_threads

    h = new_highs()
    h.setOptionValue("threads", highs_threads())  # the process' count (another one would be refused)
    h.addVars(2, np.ones(2), 2 * np.ones(2))
    h.changeColsCost(2, np.arange(2, dtype=np.int32), np.ones(2))
    status = h.run()
    assert proved_dual_bound(h, status) == 2.0


def test_mip_bounds_of_a_window_without_binaries() -> None:
    """compute_bounds(method="mip") when every ReLU before a layer is stable: the window is an LP, and its
    bounds were [-1e-6, 1e-6] (the MIP field 0.0) where the true range is [-2, 2]."""
    from mipnet.bounds import compute_bounds
    from mipnet.domain import Domain
    from mipnet.layers import Dense, ReLU
    from mipnet.network import Network

    net = Network(
        [
            Dense(np.eye(2), np.array([5.0, 5.0])),
            ReLU(),
            Dense(np.array([[1.0, -1.0]]), np.array([0.0])),
            ReLU(),
            Dense(np.array([[1.0]]), np.array([0.0])),
        ],
        domain=Domain(["a", "b"], [-1, -1], [1, 1]),
    )
    lo, hi = compute_bounds(net, method="mip")[2]
    assert lo[0] <= -2.0 + 1e-9 and hi[0] >= 2.0 - 1e-9
    assert lo[0] >= -2.0 - 1e-3 and hi[0] <= 2.0 + 1e-3
