"""More surrogate restarts for the sign class's start when they fit in part of its share: never a worse start than
the usual four (restarts 0-3 are the same fits), and the plan falls back to the usual one when time is short."""

from __future__ import annotations

import numpy as np

from mipnet.train import TrainConfig
from mipnet.train.formulation import TrainingProblem
from mipnet.train.penalty_cv import FULL_DATA_RESTARTS, STEPS, surrogate_steps
from mipnet.train.sign_start import better_start
from mipnet.train.surrogate import fit_sign_network_best, sign_objective
from mipnet.train.trainer import encode_targets


def _data(n: int = 300, seed: int = 2) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    y = np.where(X[:, 0] * X[:, 1] + 0.3 * X[:, 2] + 0.4 * rng.normal(size=n) > 0, 1.0, -1.0)
    return (X - X.mean(axis=0)) / X.std(axis=0), y


def test_restart_plan_grows_only_within_the_time() -> None:
    X, y = _data()
    kw = dict(margin=1.0, weight_bound=1.0, bias_bound=1.0, seed=0)
    assert surrogate_steps(X, y, 3, 0.01, 4, 1e4, most=16, **kw) == (16, STEPS)
    assert surrogate_steps(X, y, 3, 0.01, 4, 1e4, **kw) == (4, STEPS)  # without ``most``: the plan as before
    r, s = surrogate_steps(X, y, 3, 0.01, 4, 1e-4, most=16, **kw)
    assert r == 1 and s == 0  # no time: no fit at all


def test_more_restarts_never_give_a_worse_start() -> None:
    X, y = _data()
    kw = dict(margin=1.0, weight_bound=1.0, bias_bound=1.0, seed=5, steps=200)
    objs = {}
    for R in (FULL_DATA_RESTARTS, 16):
        w = fit_sign_network_best(X, y, 3, l1=0.01, restarts=R, **kw).weights()
        objs[R] = sign_objective(w[0][0], w[0][1], w[1][0][0], float(w[1][1][0]), X, y, 0.01, 1.0)
    assert objs[16] <= objs[FULL_DATA_RESTARTS] + 1e-12
    # and the trainer's start with a generous share keeps the better of the mapped net and the surrogate
    cfg = TrainConfig(hidden=(3,), hypothesis="sign", l1=0.01)
    t = encode_targets(np.where(y > 0, 1, 0), "classify")[0]
    problem = TrainingProblem(X[:2], t[:2], "classify", 2, cfg)
    zero = [(np.zeros((3, 4)), np.zeros(3)), (np.zeros((1, 3)), np.zeros(1))]
    w, origin = better_start(zero, problem, X, t, cfg, 5, 60.0)
    assert "surrogate" in origin
    got = sign_objective(w[0][0], w[0][1], w[1][0][0], float(w[1][1][0]), X, t, 0.01, 1.0)
    assert got <= 1.0 + 1e-12  # never above the zero network's objective (the margin)
