"""`mipnet train --monotone-increasing`: certified monotonic learning from the command line."""

import numpy as np
import pandas as pd
from click.testing import CliRunner

from mipnet.cli import cli
from mipnet.io import load_model
from mipnet.verify.monotonic import verify_global


def _csv(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.uniform(0, 1, size=(40, 3))
    y = 2 * X[:, 0] - X[:, 1] + 0.05 * rng.normal(size=40)
    df = pd.DataFrame(X, columns=["a", "b", "c"])
    df["y"] = y
    path = tmp_path / "d.csv"
    df.to_csv(path, index=False)
    return path


def test_certified_monotone_training_saves_a_network_whose_certificate_rechecks(tmp_path):
    path, out = _csv(tmp_path), tmp_path / "m.json"
    r = CliRunner().invoke(
        cli,
        [
            "train",
            str(path),
            "--target",
            "y",
            "--task",
            "regress",
            "--hidden",
            "2",
            "--time-limit",
            "5",
            "--monotone-increasing",
            "a",
            "-o",
            str(out),
        ],
    )
    assert r.exit_code in (0, 1, 3), r.output
    assert "global monotonicity certificate:" in r.output
    assert out.exists() == (r.exit_code == 0)  # a network not proved monotone is never written
    if r.exit_code == 0:
        assert verify_global(load_model(out), ["a"], [], time_limit=20).status == "holds"


def test_unknown_monotone_feature_is_an_input_error(tmp_path):
    path, out = _csv(tmp_path), tmp_path / "m.json"
    r = CliRunner().invoke(
        cli, ["train", str(path), "--target", "y", "--task", "regress", "--monotone-increasing", "zz", "-o", str(out)]
    )
    assert r.exit_code == 2
    assert "zz" in r.output
    assert not out.exists()
