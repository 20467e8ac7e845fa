"""The sign-class surrogate stops at its end time: its planned number of steps comes from a probe of the speed,
which a loaded machine made wrong (a 120 s fit spent 150 s in the surrogate), so the fit also checks the clock."""

from __future__ import annotations

import time

import numpy as np

from mipnet.train.surrogate import fit_sign_network_best


def _data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 4))
    y = np.where(X[:, 0] - 0.5 * X[:, 1] + 0.3 * rng.normal(size=60) > 0, 1.0, -1.0)
    return X, y


def test_the_fit_stops_at_its_end_with_its_progress_kept() -> None:
    """Ten million planned steps (hours) and an end 0.3 s away: the call returns, with a fit better than the
    constant network (the steps made are scored, not lost); an end already passed returns after one step."""
    from mipnet.train.surrogate import constant_network

    X, y = _data()
    const = constant_network(X, y, 3).objective
    fit = fit_sign_network_best(X, y, 3, l1=0.01, restarts=2, steps=10**7, seed=0, end=time.perf_counter() + 0.3)
    assert np.isfinite(fit.objective) and fit.objective < const
    one = fit_sign_network_best(X, y, 3, l1=0.01, restarts=2, steps=1, seed=0)
    late = fit_sign_network_best(X, y, 3, l1=0.01, restarts=2, steps=10**7, seed=0, end=time.perf_counter() - 1.0)
    assert late.objective == one.objective


def test_no_end_runs_the_planned_steps() -> None:
    X, y = _data()
    full = fit_sign_network_best(X, y, 3, l1=0.01, restarts=2, steps=200, seed=0)
    same = fit_sign_network_best(X, y, 3, l1=0.01, restarts=2, steps=200, seed=0, end=time.perf_counter() + 3600)
    assert full.objective == same.objective
    assert full.objective <= fit_sign_network_best(X, y, 3, l1=0.01, restarts=2, steps=1, seed=0).objective
