"""The output bias at its box: the estimator warns (BoundWarning), the command line says so in one note line and
takes --weight-bound / --bias-bound (checked before the data are read); a larger box never fits worse."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from mipnet import MIPNetClassifier
from mipnet.errors import BoundWarning


def _unbalanced(n: int = 120, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """About 12 % positives: the best intercept of a linear score lies well beyond 1 (logit of 0.12 is -2)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    y = (X[:, 0] + 0.3 * rng.normal(size=n) > 1.2).astype(int)
    return X, y


def _score(bias_bound: float) -> MIPNetClassifier:
    X, y = _unbalanced()
    return MIPNetClassifier((1,), max_neurons=0, linear_term=True, loss="logistic", l1=0.01, time_limit=30,
                            bias_bound=bias_bound, threads=1)  # fmt: skip


def test_warns_when_the_output_bias_sits_at_its_box_and_a_larger_box_fits_better():
    X, y = _unbalanced()
    with pytest.warns(BoundWarning, match="bias_bound=1") as caught:
        boxed = _score(1.0).fit(X, y)
    assert {w.filename for w in caught if w.category is BoundWarning} == {__file__}  # the caller's line
    out = boxed.network_.layers[-1]
    assert abs(float(out.bias[0])) == pytest.approx(1.0)
    assert boxed.output_bias_at_bound_ == pytest.approx(float(out.bias[0]))
    with warnings.catch_warnings():
        warnings.simplefilter("error", BoundWarning)
        free = _score(8.0).fit(X, y)
    assert abs(float(free.network_.layers[-1].bias[0])) < 8.0 - 1e-6
    assert free.output_bias_at_bound_ is None
    assert boxed.certificate_.status == free.certificate_.status == "optimal"
    # the larger box contains the smaller: its certified optimum is never higher
    assert free.certificate_.incumbent <= boxed.certificate_.incumbent + 1e-9
    assert free.certificate_.incumbent < boxed.certificate_.incumbent - 1e-3  # and here strictly lower


def test_no_warning_for_a_balanced_target():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(80, 3))
    y = (X[:, 0] > 0).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("error", BoundWarning)
        MIPNetClassifier((1,), max_neurons=0, linear_term=True, l1=0.01, time_limit=30, threads=1).fit(X, y)


def test_cli_note_and_the_box_options(tmp_path):
    from mipnet.cli import cli

    X, y = _unbalanced()
    path = tmp_path / "d.csv"
    pd.DataFrame(X, columns=["a", "b", "c"]).assign(label=y).to_csv(path, index=False)
    base = ["train", str(path), "--target", "label", "--hidden", "1", "--linear", "--max-neurons", "0",
            "--loss", "logistic", "--l1", "0.01", "--time-limit", "30"]  # fmt: skip
    res = CliRunner().invoke(cli, [*base, "-o", str(tmp_path / "m1.json")])
    assert res.exit_code == 0, res.output
    assert "note: the output bias is at its bound" in res.output and "--bias-bound 1" in res.output
    # the target's name is kept: a re-check of the training certificate with the CSV plus other columns finds it
    from mipnet.io import load_model
    from mipnet.report import recheck
    from mipnet.report.audit.run import _training_of

    net = load_model(tmp_path / "m1.json")
    assert net.metadata["target"] == "label"
    frame = pd.read_csv(path).assign(note=1.0)
    rep = recheck(_training_of(net), net, frame, second_solver=None, reprove=False)
    assert rep.status != "failed", rep.lines()
    res = CliRunner().invoke(cli, [*base, "--bias-bound", "8", "--weight-bound", "2", "-o", str(tmp_path / "m8.json")])
    assert res.exit_code == 0, res.output
    assert "note: the output bias" not in res.output
    for bad in (["--bias-bound", "-1"], ["--bias-bound", "nan"], ["--weight-bound", "0"], ["--weight-bound", "1e300"]):
        out = tmp_path / "bad.json"
        r = CliRunner().invoke(cli, [*base, *bad, "-o", str(out)])
        assert r.exit_code == 2 and not out.exists(), (bad, r.output)
        assert "Traceback" not in r.output
    r = CliRunner().invoke(
        cli, [*base[:4], "--monotone-increasing", "a", "--bias-bound", "4", "-o", str(tmp_path / "mono.json")]
    )
    assert r.exit_code == 2 and "not yet supported" in r.output


def test_boxes_above_the_largest_are_refused_everywhere():
    """A box above MAX_BOX (the MILP's big-M constants lose the solver's tolerances): the option type, the estimator's
    parameter check and the configuration's validation all refuse it, with the same limit."""
    from sklearn.utils._param_validation import InvalidParameterError

    from mipnet.cli.options import BOX
    from mipnet.errors import DataError
    from mipnet.train.config import MAX_BOX, TrainConfig, resolve_config

    assert BOX.max == MAX_BOX
    X, y = _unbalanced()
    with pytest.raises(InvalidParameterError):
        MIPNetClassifier((1,), weight_bound=MAX_BOX * 10).fit(X, y)
    with pytest.raises(DataError, match="bias_bound must be at most"):
        resolve_config(TrainConfig(bias_bound=MAX_BOX * 2), "classify", 2)
    resolve_config(TrainConfig(weight_bound=MAX_BOX), "classify", 2)  # the limit itself is allowed


def test_cli_refuses_data_without_features_or_with_one_class_before_any_work(tmp_path):
    from mipnet.cli import cli

    one = tmp_path / "one.csv"
    pd.DataFrame({"a": [0.1, 0.2, 0.3], "label": [1, 1, 1]}).to_csv(one, index=False)
    r = CliRunner().invoke(cli, ["train", str(one), "--target", "label", "-o", str(tmp_path / "m.json")])
    assert r.exit_code == 2 and "only one class (1)" in r.output and "training on" not in r.output, r.output
    none = tmp_path / "none.csv"
    pd.DataFrame({"label": [0, 1, 0]}).to_csv(none, index=False)
    r = CliRunner().invoke(cli, ["train", str(none), "--target", "label", "-o", str(tmp_path / "m.json")])
    assert r.exit_code == 2 and "no feature columns" in r.output and "training on" not in r.output, r.output
    huge = tmp_path / "huge.csv"
    pd.DataFrame({"a": [0.1, 1e302, 0.3], "label": [0, 1, 0]}).to_csv(huge, index=False)
    r = CliRunner().invoke(cli, ["train", str(huge), "--target", "label", "-o", str(tmp_path / "m.json")])
    assert r.exit_code == 2 and "rescale the column" in r.output and "training on" not in r.output, r.output
    assert not (tmp_path / "m.json").exists()


def test_the_time_limit_covers_reading_the_data(monkeypatch):
    """mipnet train hands the fit what reading and checking the data left of --time-limit (at least 1 % of it)."""
    from mipnet.cli import train as train_cli

    now = [100.0]
    monkeypatch.setattr(train_cli.time, "perf_counter", lambda: now[0])
    assert train_cli._time_left(10.0, 100.0) == 10.0
    now[0] = 102.5
    assert train_cli._time_left(10.0, 100.0) == pytest.approx(7.5)
    now[0] = 130.0
    assert train_cli._time_left(10.0, 100.0) == pytest.approx(0.1)
