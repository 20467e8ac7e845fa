"""Threshold features (:mod:`mipnet.thresholds`): the questions are the boosted stumps' own splits, the columns
exactly 1[x_f > t] (checked just below, at and just above every threshold), names readable, bad input one error;
and the certified sparse logistic score on them (the linear term alone, a feature budget) re-checks."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.ensemble import GradientBoostingClassifier

from mipnet.errors import DataError
from mipnet.thresholds import ThresholdFeatures


def _data(seed: int, n: int = 120, d: int = 4) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)).round(2)
    y = (X[:, 0] + (X[:, 1] > 0.5) - 0.3 * X[:, 2] + 0.2 * rng.normal(size=n) > 0.4).astype(int)
    return X, y


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), stumps=st.integers(1, 12))
def test_columns_are_the_stumps_questions(seed: int, stumps: int) -> None:
    X, y = _data(seed)
    tf = ThresholdFeatures(n_stumps=stumps, random_state=seed).fit(X, y)
    gb = GradientBoostingClassifier(n_estimators=stumps, max_depth=1, random_state=seed).fit(X, y)
    stumps_ = [t.tree_ for t in gb.estimators_[:, 0]]
    expected = sorted({(int(t.feature[0]), float(t.threshold[0])) for t in stumps_ if t.feature[0] >= 0})
    assert tf.thresholds_ == expected and 1 <= len(expected) <= stumps
    B = tf.transform(X)
    assert B.shape == (X.shape[0], len(expected)) and set(np.unique(B)) <= {0.0, 1.0}
    for j, (f, t) in enumerate(expected):
        assert np.array_equal(B[:, j], (X[:, f] > t).astype(float))
        # planted just below, at and just above the threshold: > is strict
        probe = np.tile(X[:1], (3, 1))
        probe[:, f] = [np.nextafter(t, -np.inf), t, np.nextafter(t, np.inf)]
        assert tf.transform(probe)[:, j].tolist() == [0.0, 0.0, 1.0]


def test_names_and_bad_input() -> None:
    X, y = _data(0)
    tf = ThresholdFeatures(n_stumps=5).fit(X, y)
    names = tf.get_feature_names_out(["a", "b", "c", "d"])
    f, t = tf.thresholds_[0]
    assert names[0] == f"{'abcd'[f]} > {t:.6g}" and len(names) == len(tf.thresholds_)
    assert tf.get_feature_names_out()[0].startswith(f"x{f} > ")
    with pytest.raises(DataError, match="columns"):
        tf.transform(X[:, :3])
    with pytest.raises(DataError, match="finite"):
        tf.transform(np.where(np.eye(X.shape[0], X.shape[1]) > 0, np.nan, X))
    with pytest.raises(DataError, match="two classes"):
        ThresholdFeatures().fit(X, np.zeros(X.shape[0]))
    with pytest.raises(DataError, match="positive integer"):
        ThresholdFeatures(n_stumps=0).fit(X, y)
    with pytest.raises(DataError, match="rows"):
        ThresholdFeatures().fit(X, y[:-1])
    with pytest.raises(DataError, match="fit first"):
        ThresholdFeatures().transform(X)
    with pytest.raises(DataError, match="names"):
        tf.get_feature_names_out(["a"])


def test_certified_sparse_score_on_the_questions() -> None:
    """The linear term alone, logistic, at most 2 questions: optimal by cutting planes, and never above the best
    2-question model found by brute force over every pair (each pair's convex fit by Powell's method in the boxes)."""
    from itertools import combinations

    import pandas as pd
    from scipy.optimize import minimize

    from mipnet.certificates import recheck, training_certificate
    from mipnet.train import TrainConfig, train
    from mipnet.train.constraints import FeatureBudget

    X, y = _data(3, n=150)
    B = ThresholdFeatures(n_stumps=8, random_state=0).fit_transform(X, y)
    cfg = TrainConfig(hidden=(1,), loss="logistic", l1=0.001, max_neurons=0)
    res = train(B, y, config=cfg, linear=True, constraints=[FeatureBudget(2)], time_limit=60, threads=1)
    cert = res.certificate
    assert cert.status == "optimal"
    first = next(layer for layer in res.network.layers if getattr(layer, "weight", None) is not None)
    assert np.count_nonzero(np.abs(first.weight).sum(axis=0)) <= 2
    # brute force on the standardised columns (the class's weights live there, boxes |w| <= 1, |b| <= 1)
    mu, sd = B.mean(axis=0), B.std(axis=0)
    sd[sd == 0] = 1.0
    Z = (B - mu) / sd
    s = np.where(y > 0, 1.0, -1.0)
    best = np.inf
    for S in combinations(range(B.shape[1]), 2):
        A = Z[:, list(S)]

        def f(v: np.ndarray, A: np.ndarray = A) -> float:
            return float(np.mean(np.logaddexp(0.0, -s * (A @ v[:2] + v[2])))) + 0.001 * float(np.abs(v[:2]).sum())

        r = minimize(f, np.zeros(3), method="Powell", bounds=[(-1, 1)] * 3, options={"xtol": 1e-9, "ftol": 1e-12})
        best = min(best, float(r.fun))
    assert cert.bound is not None and cert.bound <= best + 1e-6
    assert cert.incumbent <= best + 1e-5
    df = pd.DataFrame(B, columns=[f"x{i}" for i in range(B.shape[1])]).assign(y=y)
    net = res.network
    rep = recheck(training_certificate(net, net.metadata["certificate"], target="y"), net, df, second_solver=None,
                  time_limit=30)  # fmt: skip
    assert rep.status == "ok" and rep.exit_code == 0, rep.lines()
