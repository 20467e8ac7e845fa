"""The pattern local search of the pricing (:mod:`mipnet.train.dual_bound.local_search`) returns real units: values
recomputed in numpy, never below its start, never above the exact maximum (enumeration in one dimension), inside
the ball in the any-width mode; the column generation that takes its columns first stays a valid lower bound."""

from __future__ import annotations

import numpy as np
import pytest
from test_pricing_cuts import _exact_max_1d

from mipnet.train import TrainConfig, train
from mipnet.train.dual_bound import any_width_lower_bound, bound_for_config, standardise
from mipnet.train.dual_bound.local_search import local_search
from mipnet.train.trainer import encode_targets


def _value(X: np.ndarray, a: np.ndarray, s: int, u: np.ndarray, lam: float, kappa: float) -> float:
    return s * float(a @ np.maximum(X @ u[:-1] + u[-1], 0.0)) - lam * float(np.abs(u[:-1]).sum()) - kappa


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_local_search_finds_real_units_below_the_exact_maximum(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 20
    x = rng.normal(size=n) * 1.5
    a = rng.uniform(-1, 1, size=n) / n
    lam, kappa = 0.02, 0.01
    starts = [np.array([rng.uniform(-1, 1), rng.uniform(-1, 1)]) for _ in range(6)]
    for s in (1, -1):
        exact = _exact_max_1d(x, a, s, lam, lam, kappa)
        found = local_search(
            x[:, None], a, s, starts, lam=lam, kappa=kappa, ball=False, w_bound=1.0, b_bound=1.0, time_limit=10
        )
        assert found
        for u, v in found:
            assert np.all(np.abs(u) <= 1.0 + 1e-12)
            assert v == pytest.approx(_value(x[:, None], a, s, u, lam, kappa), abs=1e-12)
            assert v <= exact + 1e-9
        best_start = max(_value(x[:, None], a, s, u, lam, kappa) for u in starts)
        assert found[0][1] >= best_start - 1e-12  # it only climbs
        assert found == sorted(found, key=lambda t: -t[1])


def test_local_search_stays_in_the_ball() -> None:
    rng = np.random.default_rng(4)
    X = rng.normal(size=(30, 3))
    a = rng.uniform(-1, 1, size=30) / 30
    starts = [rng.uniform(-2, 2, size=4) for _ in range(5)]
    for s in (1, -1):
        found = local_search(X, a, s, starts, lam=0.0, kappa=0.0, ball=True, w_bound=1.0, b_bound=2.5, time_limit=10)
        for u, v in found:
            assert float(np.abs(u[:-1]).sum()) <= 1.0 + 1e-9 and abs(u[-1]) <= 2.5 + 1e-12
            assert v == pytest.approx(_value(X, a, s, u, 0.0, 0.0), abs=1e-12)


@pytest.mark.parametrize("seed", [1])
def test_column_generation_with_local_search_stays_below_the_optimum(seed: int) -> None:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(12, 2))
    y = np.where(X[:, 0] * X[:, 1] + 0.3 * rng.normal(size=12) > 0, 1, 0)
    y[:2] = (0, 1)
    cfg = TrainConfig(hidden=(2,), hypothesis="sign", l1=0.05)
    cert = train(X, y, config=cfg, time_limit=60, threads=1).certificate
    assert cert.status == "optimal"
    Xs, t = standardise(X), encode_targets(y, "classify")[0]
    with_ls = bound_for_config(Xs, t, cfg, time_limit=4, local_starts=6)
    without = bound_for_config(Xs, t, cfg, time_limit=4, local_starts=0)
    assert 0.0 <= with_ls.bound <= cert.incumbent + 1e-7
    assert 0.0 <= without.bound <= cert.incumbent + 1e-7
    assert with_ls.info["local_rounds"] >= 1 and without.info["local_rounds"] == 0
    anyw = any_width_lower_bound(Xs, t, l1=cfg.l1, time_limit=4, local_starts=6)
    assert 0.0 <= anyw.bound <= cert.incumbent + 1e-7
    assert with_ls.bound >= without.bound - 1e-6  # the cheap columns converge the master at least as far here
