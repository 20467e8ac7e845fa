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


def _side(X: np.ndarray, f: int, t: float, exact: bool = False) -> bytes:
    """Which training rows go right at the threshold t of feature f: a tree's float32 rule, or (exact) x > t."""
    col = X[:, f] if exact else X[:, f].astype(np.float32).astype(np.float64)
    return (col > np.float64(t)).tobytes()


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
    # each column splits the training rows as its stump does (the tree compares float32(x) <= t)
    expected = sorted({(int(t.feature[0]), _side(X, int(t.feature[0]), t.threshold[0])) for t in stumps_
                       if t.feature[0] >= 0})  # fmt: skip
    got = sorted({(f, _side(X, f, t, exact=True)) for f, t in tf.thresholds_})
    assert got == expected and 1 <= len(expected) <= stumps
    B = tf.transform(X)
    assert B.shape == (X.shape[0], len(tf.thresholds_)) and set(np.unique(B)) <= {0.0, 1.0}
    for j, (f, t) in enumerate(tf.thresholds_):
        assert np.array_equal(B[:, j], (X[:, f] > t).astype(float))
        assert float(repr(t)) == t  # the printed threshold reads back exactly
        # planted just below, at and just above the threshold: > is strict
        probe = np.tile(X[:1], (3, 1))
        probe[:, f] = [np.nextafter(t, -np.inf), t, np.nextafter(t, np.inf)]
        assert tf.transform(probe)[:, j].tolist() == [0.0, 0.0, 1.0]


@settings(max_examples=12, deadline=None)
@given(seed=st.integers(0, 10_000), trees=st.integers(1, 8))
def test_pair_questions_are_the_trees_paths(seed: int, trees: int) -> None:
    """Depth 2: the singles are every split of the trees, each pair column is exactly its root side and child split
    (planted just below / at / just above both thresholds), and a linear model on the columns reproduces every
    tree's prediction exactly (the columns span the leaves)."""
    X, y = _data(seed)
    tf = ThresholdFeatures(n_stumps=trees, depth=2, random_state=seed).fit(X, y)
    gb = GradientBoostingClassifier(n_estimators=trees, max_depth=2, random_state=seed).fit(X, y)
    splits, paths = set(), set()
    for est in gb.estimators_[:, 0]:
        t = est.tree_
        for node in range(t.node_count):
            if t.feature[node] >= 0:
                splits.add((int(t.feature[node]), _side(X, int(t.feature[node]), t.threshold[node])))
        for child, above in ((t.children_left[0], False), (t.children_right[0], True)):
            if t.feature[0] >= 0 and t.feature[child] >= 0:
                f0, fc = int(t.feature[0]), int(t.feature[child])
                paths.add(((f0, _side(X, f0, t.threshold[0]), above), (fc, _side(X, fc, t.threshold[child]))))
    # the same splits and paths of the training rows (the thresholds moved to short decimals between the rows)
    assert {(f, _side(X, f, t, True)) for f, t in tf.thresholds_} == splits and len(tf.thresholds_) == len(splits)
    assert {((f, _side(X, f, t, True), a), (g, _side(X, g, u, True))) for (f, t, a), (g, u) in tf.pairs_} == paths
    B = tf.transform(X)
    k = len(tf.thresholds_)
    assert B.shape == (X.shape[0], k + len(tf.pairs_)) and set(np.unique(B)) <= {0.0, 1.0}
    for j, ((f, t, above), (g, s)) in enumerate(tf.pairs_):
        assert np.array_equal(B[:, k + j], (((X[:, f] > t) == above) & (X[:, g] > s)).astype(float))
        probe = np.tile(X[:1], (9, 1))
        grid = [(a, b) for a in (np.nextafter(t, -np.inf), t, np.nextafter(t, np.inf))
                for b in (np.nextafter(s, -np.inf), s, np.nextafter(s, np.inf))]  # fmt: skip
        if f == g:
            continue  # one column asked twice: the 3 x 3 grid is not realisable
        probe[:, f], probe[:, g] = [a for a, _ in grid], [b for _, b in grid]
        expected = [float(((ai > 1) == above) and bi == 2) for ai in range(3) for bi in range(3)]
        assert tf.transform(probe)[:, k + j].tolist() == expected
    # on the training rows every tree is a linear function of the columns and a constant: least squares reproduces
    # it exactly (between two training values the column's threshold is a short decimal, the tree's a float32)
    Xs = X
    D = np.hstack([tf.transform(Xs), np.ones((Xs.shape[0], 1))])
    for est in gb.estimators_[:, 0]:
        target = est.predict(Xs)
        coef = np.linalg.lstsq(D, target, rcond=None)[0]
        assert np.allclose(D @ coef, target, atol=1e-8)


def test_pair_names() -> None:
    X, y = _data(1)
    tf = ThresholdFeatures(n_stumps=6, depth=2).fit(X, y)
    names = tf.get_feature_names_out(["a", "b", "c", "d"])
    (f, t, above), (g, s) = tf.pairs_[0]
    assert names[len(tf.thresholds_)] == f"{'abcd'[f]} {'>' if above else '<='} {t!r} and {'abcd'[g]} > {s!r}"
    assert len(names) == len(tf.thresholds_) + len(tf.pairs_)
    for bad in (0, 3, True, 1.5):
        with pytest.raises(DataError, match="depth"):
            ThresholdFeatures(depth=bad).fit(X, y)


def test_names_and_bad_input() -> None:
    X, y = _data(0)
    tf = ThresholdFeatures(n_stumps=5).fit(X, y)
    names = tf.get_feature_names_out(["a", "b", "c", "d"])
    f, t = tf.thresholds_[0]
    assert names[0] == f"{'abcd'[f]} > {t!r}" and len(names) == len(tf.thresholds_)
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


def test_printed_questions_are_exactly_their_columns_and_names_follow_a_frame() -> None:
    """Data on a 0.01 grid: the trees' float32 midpoints (0.48999999...) moved to short decimals between the training
    values, so "b > t" as printed is true exactly where its column is 1, at the training values too. A DataFrame's
    names are kept: its columns in another order are read by name, a missing column is one error."""
    import pandas as pd

    X, y = _data(3)
    df = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    tf = ThresholdFeatures(n_stumps=8).fit(df, y)
    names = tf.get_feature_names_out()
    B = tf.transform(df)
    for j, name in enumerate(names):
        col, t = name.split(" > ")
        assert np.array_equal(B[:, j], (df[col].to_numpy() > float(t)).astype(float)), name
    assert np.array_equal(tf.transform(df[["d", "c", "b", "a"]]), B)
    # a frame's labels need not be text (the names kept are their text): integer labels reordered, read by position
    plain = pd.DataFrame(X)
    tp = ThresholdFeatures(n_stumps=8).fit(plain, y)
    assert np.array_equal(tp.transform(plain[[3, 2, 1, 0]]), tp.transform(plain))
    with pytest.raises(DataError, match="columns"):
        tf.transform(df.rename(columns={"a": "z"}))
