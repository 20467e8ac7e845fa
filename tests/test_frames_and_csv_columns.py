"""Frames and CSV columns the estimators and ``mipnet predict`` misread silently (found by review):

1. a text column "a" with a level "b=x" beside a text column "a=b": predict rebuilt the model's "a=b=w" from "a"
   (all zeros, accuracy 0.96 -> 0.46 on the training CSV);
2. integer column names with a text column: a reordered frame was accepted and read in the wrong order;
3. a frame naming a column twice crashed inside pandas; a text column's one-hot name equal to another column's
   renamed every feature x0, x1, ... (the saved model could not read its own CSV);
4. a feature varying by 1e-310 failed after the solve.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mipnet import MIPNetClassifier
from mipnet.errors import DataError, MipnetError
from mipnet.tabular import features_for


def test_predict_builds_one_hot_columns_from_the_column_holding_the_level():
    rng = np.random.default_rng(0)
    n = 24
    df = pd.DataFrame({"a": rng.choice(["b=x", "q"], n), "a=b": rng.choice(["y", "w"], n), "n": rng.normal(size=n)})
    y = np.where(df["a=b"] == "w", 1, 0)
    clf = MIPNetClassifier((1,), l1=0.001, time_limit=10, random_state=0).fit(df, y)
    X = features_for(clf.network_, df)  # as `mipnet predict` reads the same CSV
    assert np.array_equal(clf.network_.predict_index(clf.network_.forward(X)), clf.predict(df))


def test_features_for_refuses_rows_breaking_a_one_hot_group():
    rng = np.random.default_rng(1)
    df = pd.DataFrame({"c": rng.choice(["u", "v"], 20), "n": rng.normal(size=20)})
    clf = MIPNetClassifier((1,), l1=0.001, time_limit=10).fit(df, (df["c"] == "u").astype(int))
    bad = pd.DataFrame({"c=u": [1.0], "c=v": [1.0], "n": [0.0]})
    with pytest.raises(DataError, match="exactly one 1"):
        features_for(clf.network_, bad)


def test_a_reordered_frame_with_integer_names_is_refused():
    rng = np.random.default_rng(0)
    df = pd.DataFrame({0: rng.normal(size=30), 1: rng.choice(["a", "b"], 30), 2: rng.normal(size=30)})
    y = ((df[0] > 0) ^ (df[1] == "a")).astype(int)
    clf = MIPNetClassifier((1,), l1=0.001, time_limit=10).fit(df, y)
    with pytest.raises(MipnetError, match="differ from those seen in fit"):
        clf.predict(df[[1, 0, 2]])


def test_repeated_and_clashing_column_names_are_one_error():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(20, 2))
    twice = pd.DataFrame(a, columns=["a", "a"])
    with pytest.raises(MipnetError, match="more than once"):
        MIPNetClassifier((1,), time_limit=5).fit(twice, (a[:, 0] > 0).astype(int))
    clash = pd.DataFrame({"a": rng.choice(["p", "q"], 20), "a=p": a[:, 0]})
    with pytest.raises(MipnetError, match="has the name of another column"):
        MIPNetClassifier((1,), time_limit=5).fit(clash, (a[:, 0] > 0).astype(int))


def test_a_feature_too_small_to_standardise_is_refused_before_the_solve():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20, 2))
    X[:, 0] *= 1e-310
    with pytest.raises(MipnetError, match="too little to standardise"):
        MIPNetClassifier((1,), time_limit=5).fit(X, (X[:, 1] > 0).astype(int))


def test_one_hot_columns_already_encoded_in_the_data_form_a_group() -> None:
    """A model trained on `mipnet datasets`'s export (race=African-American, race=Asian, ... as 0/1 columns) had no
    one-hot group: robustness said "violated" with a witness of three races at once."""
    from mipnet.train.estimators import _encoded_groups

    names = ["age", "race=a", "race=b", "race=c", "sex=m", "flag=1"]
    X = np.array([[30, 1, 0, 0, 1, 0], [40, 0, 1, 0, 0, 1], [50, 0, 0, 1, 1, 1], [60, 0, 1, 0, 0, 0]], dtype=float)
    assert _encoded_groups(X, names, []) == [[1, 2, 3]]  # sex=m alone and flag=1 alone are no groups
    assert _encoded_groups(X, names, [[1, 2, 3]]) == []  # a group the frame's encoding made already
    X2 = X.copy()
    X2[0, 2] = 1.0  # two races in one row: not a one-hot encoding
    assert _encoded_groups(X2, names, []) == []
    frame = pd.DataFrame(np.vstack([X, X]), columns=names)
    est = MIPNetClassifier((1,), time_limit=3).fit(frame, [0, 1, 1, 0, 1, 0, 0, 1])
    assert est.network_.domain.onehot_groups == [[1, 2, 3]]


def test_a_subsample_of_one_class_is_refused() -> None:
    """--samples 1 trained a constant network on one row and certified it "optimal"."""
    X = np.random.default_rng(3).normal(size=(30, 3))
    y = (X[:, 0] > 0).astype(int)
    with pytest.raises(MipnetError, match="holds only the class"):
        MIPNetClassifier((1,), max_samples=1, time_limit=3).fit(X, y)


def test_a_regression_certificate_says_its_loss_is_of_the_standardised_target() -> None:
    """It printed "loss l1 (margin 1)": a margin means nothing for a regression, and the loss (0.12) was of the
    standardised target while the user's mean absolute error was 1.08."""
    from mipnet.train import TrainConfig, train

    X = np.random.default_rng(0).normal(size=(12, 2))
    res = train(X, X[:, 0] * 3 + 1, task="regress", config=TrainConfig(hidden=(1,), loss="l1", l1=0.01), time_limit=5)
    line = next(v for v in res.certificate.lines() if v.startswith("class"))
    assert "standardised target" in line and "margin" not in line, line
