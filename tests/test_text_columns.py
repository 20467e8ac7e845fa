"""A CSV with a text column: `mipnet train` one-hot encodes it ("col=level" features), and the commands that read a
CSV for a model (predict, explain, verify) encode it the same way, so the file a model was trained on reads back."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from mipnet.cli import cli
from mipnet.errors import DataError
from mipnet.io import load_model
from mipnet.tabular import features_for


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("text")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 3))
    df = pd.DataFrame(
        {"a": X[:, 0], "b": X[:, 1], "c": np.where(X[:, 2] > 0, "u", "v"), "t": (X[:, 0] > 0).astype(int)}
    )
    data, model = tmp / "cat.csv", tmp / "cat.json"
    df.to_csv(data, index=False)
    r = CliRunner().invoke(
        cli, ["train", str(data), "--target", "t", "--hidden", "2", "--time-limit", "5", "-o", str(model)]
    )
    assert r.exit_code == 0, r.output
    return tmp, data, model, df


def test_the_training_csv_reads_back(trained):
    tmp, data, model, df = trained
    net = load_model(model)
    assert {"c=u", "c=v"} <= set(net.feature_names)
    X = features_for(net, df)
    i, j = net.feature_names.index("c=u"), net.feature_names.index("c=v")
    assert np.array_equal(X[:, i], (df["c"] == "u").to_numpy(float)) and np.array_equal(X[:, i] + X[:, j], np.ones(30))
    for args in (["predict", str(model), str(data)], ["explain", str(model), str(data), "-o", str(tmp / "ex")]):
        r = CliRunner().invoke(cli, args)
        assert r.exit_code == 0, (args, r.output)


def test_an_unseen_level_is_one_error(trained):
    tmp, data, model, df = trained
    bad = df.copy()
    bad.loc[0, "c"] = "w"
    with pytest.raises(DataError, match="not trained on"):
        features_for(load_model(model), bad)


@pytest.mark.parametrize(
    "levels",
    [
        pd.Series([1, 2, 3] * 8).astype("category"),  # reads back as int64
        pd.Series(["True", "False", "False"] * 8, dtype=object),  # reads back as bool
        pd.Series(["1.0", "2.5", "2.5"] * 8, dtype=object),  # reads back as float64
        pd.Series(["None", "x", "x"] * 8, dtype=object),  # "None" reads back as NaN
    ],
    ids=["int-category", "bool-text", "float-text", "none-text"],
)
def test_an_estimators_training_frame_reads_back_from_csv(tmp_path, levels):
    """Levels pandas re-reads as numbers, booleans or missing values: the CSV of the frame an estimator was fitted on
    was refused ("lacks the model's feature columns ['c=1', ...]", "value(s) [nan] not trained on")."""
    from mipnet import MIPNetClassifier

    rng = np.random.default_rng(0)
    num = rng.normal(size=len(levels))
    df = pd.DataFrame({"num": num, "c": levels})
    y = (num + (levels.astype(str) == str(levels.iloc[0])) > 0.3).astype(int)
    clf = MIPNetClassifier((1,), time_limit=5, threads=1).fit(df, y)
    df.to_csv(tmp_path / "d.csv", index=False)
    back = pd.read_csv(tmp_path / "d.csv")
    X = features_for(clf.network_, back)
    np.testing.assert_array_equal(X, clf._encode(df, reset=False))
    assert clf.network_.predict(X).tolist() == clf.predict(df).tolist()


def test_a_fitted_categorical_column_arriving_numeric_is_named():
    """It said "fitted on a frame with categorical columns; pass a frame" to a caller who passed a frame."""
    from mipnet import MIPNetClassifier
    from mipnet.train.estimators import InputError

    rng = np.random.default_rng(1)
    X = rng.normal(size=(24, 2))
    y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(int)
    df = pd.DataFrame({"num": X[:, 0], "col": np.where(X[:, 1] > 0, "hi", "lo")})
    clf = MIPNetClassifier((1,), time_limit=5, threads=1).fit(df, y)
    with pytest.raises(InputError, match=r"column 'col' has the level 1\.0 not seen in fit"):
        clf.predict(df.assign(col=1.0))


def test_levels_that_read_back_as_one_number_are_an_error_not_the_first_level():
    """Levels "01" and "1" both read back from CSV as 1: every such row took the first level, and `mipnet predict`
    gave other classes than the estimator on half the rows, exit 0."""
    from mipnet.tabular import _level_of

    with pytest.raises(DataError, match="cannot be told apart"):
        _level_of(pd.Series([1, 2], name="code"), ["01", "1", "2"])
    assert _level_of(pd.Series([2, 3], name="code"), ["01", "1", "2", "3.0"]) == ["2", "3.0"]  # the rest still read
    assert _level_of(pd.Series(["01", "1"], name="code"), ["01", "1"]) == ["01", "1"]  # text is read as text


def test_a_network_reads_a_table_by_its_feature_names():
    """Network.forward / predict read a DataFrame by position: its columns in another order gave other predictions
    (14 of 30 rows), silently, where the estimator refused the frame and `mipnet predict` read it by name."""
    from mipnet import Dense, Domain, Network, ReLU

    net = Network(
        [Dense([[1.0, -2.0], [0.5, 0.3]], [0.0, -0.1]), ReLU(), Dense([[1.0, -1.0]], [0.05])],
        input_shape=(2,),
        task="classify",
        class_names=["no", "yes"],
        domain=Domain(["age", "score"], np.array([-5.0, -5.0]), np.array([5.0, 5.0])),
    )
    rng = np.random.default_rng(0)
    df = pd.DataFrame(rng.normal(size=(30, 2)), columns=["age", "score"])
    want = net.forward(df.to_numpy())
    np.testing.assert_array_equal(net.forward(df[["score", "age"]]), want)
    np.testing.assert_array_equal(net.forward(df.assign(extra=1.0)), want)
    assert net.predict(df[["score", "age"]]).tolist() == net.predict(df.to_numpy()).tolist()
    with pytest.raises(DataError, match="lacks the model's feature columns \\['score'\\]"):
        net.forward(df[["age"]].assign(other=1.0))
    np.testing.assert_array_equal(net.forward(df.set_axis(["p", "q"], axis=1)), want)  # no name in common: position
    with pytest.raises(DataError, match="overflow"):  # a NaN score was class 0, silently
        net.predict(np.array([[1e308, -1e308]]))


def test_a_date_column_is_refused_at_fit():
    """A date column was one-hot encoded one level per timestamp, and the CSV of the fitted frame no longer read back
    ("the value(s) ['2020-01-01', ...] that the model was not trained on")."""
    from mipnet import MIPNetClassifier

    df = pd.DataFrame({"a": np.arange(10.0), "d": pd.date_range("2020-01-01", periods=10)})
    with pytest.raises(ValueError, match="column 'd' holds dates or times"):
        MIPNetClassifier((1,), time_limit=5).fit(df, np.arange(10) % 2)
