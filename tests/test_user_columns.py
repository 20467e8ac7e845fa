"""User data in names and columns: figures draw feature names as written (no mathtext); a text column the model
reads one-hot is not taken for the target."""

from __future__ import annotations

import numpy as np
import pandas as pd
from click.testing import CliRunner

from mipnet.cli import cli
from mipnet.domain import Domain
from mipnet.io import save_model
from mipnet.layers import Dense, ReLU
from mipnet.network import Network


def test_feature_names_with_dollar_signs_are_drawn_as_written(tmp_path) -> None:
    """A feature named "$\\frac$" is legal in a model and a CSV; matplotlib read it as mathtext and every figure,
    so the whole audit and explain, failed after all the work (exit 2, no report)."""
    names = ["x1", "$\\frac$"]
    rng = np.random.default_rng(0)
    net = Network(
        [Dense(rng.normal(size=(3, 2)), rng.normal(size=3)), ReLU(), Dense(rng.normal(size=(1, 3)), np.zeros(1))],
        domain=Domain(names, [0, 0], [1, 1]),
        class_names=["no", "yes"],
    )
    save_model(net, tmp_path / "m.json")
    pd.DataFrame(rng.uniform(size=(6, 2)), columns=names).to_csv(tmp_path / "d.csv", index=False)
    m, d = str(tmp_path / "m.json"), str(tmp_path / "d.csv")
    r = CliRunner().invoke(cli, ["explain", m, d, "-o", str(tmp_path / "ex")])
    assert r.exit_code == 0, r.output
    out = tmp_path / "a.html"
    r = CliRunner().invoke(cli, ["audit", m, d, "--eps", "0.05", "--rows", "2", "--workers", "0", "-o", str(out)])
    assert r.exit_code in (0, 1, 3), r.output
    assert out.is_file()


def test_a_text_column_is_not_taken_for_the_target(tmp_path) -> None:
    """A model trained on a CSV with a text column reads it one-hot ("color=red", ...): the training certificate's
    re-check with that CSV, and the audit's accuracy, took "color" for a second target candidate ("name the target
    column", exit 2; "the data have no target column")."""
    rng = np.random.default_rng(0)
    n = 30
    df = pd.DataFrame(
        {"age": rng.integers(18, 60, n), "score": rng.normal(size=n), "color": rng.choice(["red", "green", "blue"], n)}
    )
    df["label"] = np.where((df.score > 0) | (df.color == "red"), "yes", "no")
    data, model = str(tmp_path / "t.csv"), str(tmp_path / "t.json")
    df.to_csv(data, index=False)
    r = CliRunner().invoke(
        cli, ["train", data, "--target", "label", "--hidden", "1", "--time-limit", "10", "-o", model]
    )
    assert r.exit_code == 0, r.output
    out = tmp_path / "a.html"
    r = CliRunner().invoke(cli, ["audit", model, data, "--eps", "0.1", "--rows", "2", "--workers", "0", "-o", str(out)])
    assert r.exit_code in (0, 1, 3), r.output
    assert "accuracy on" in r.output
    r = CliRunner().invoke(cli, ["recheck", str(tmp_path / "a-certificates" / "training.json"), model, data])
    assert r.exit_code in (0, 3), r.output
    assert "name the target column" not in r.output


def test_datasets_options_and_unwritable_directories(tmp_path) -> None:
    """A yes/no loader option took any word ("dropna=maybe" ran as True); a directory that takes no files reported
    a missing temporary '.part' file."""
    r = CliRunner().invoke(cli, ["datasets", "heart", "--set", "dropna=maybe", "-o", str(tmp_path / "h.csv")])
    assert r.exit_code == 2 and "true or false" in r.output and not (tmp_path / "h.csv").exists()
    r = CliRunner().invoke(cli, ["datasets", "heart", "--set", "dropna=false", "-o", str(tmp_path / "h.csv")])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(cli, ["datasets", "heart", "-o", "/proc/h.csv"])
    assert r.exit_code == 2 and ".part" not in r.output and "cannot write" in r.output
