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
