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
            "30",  # (about 2 s alone; 5 s ran out on a loaded machine before any certificate line)
            "--monotone-increasing",
            "a",
            "-o",
            str(out),
        ],
    )
    assert r.exit_code in (0, 1, 3), r.output
    assert "global monotonicity certificate of the output y0:" in r.output  # the trained net names its output y0
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


def test_a_target_in_small_units_gets_a_network_that_is_monotone_at_its_scale(tmp_path):
    """y = -5e-8 a + 1e-8 c: the network fell by its whole output range in a (slope -5e-8 per unit) and passed as
    "holds" (the verifier's tolerance is 1e-7 per unit in output units). The loop's tolerance follows the target's
    scale: the network written does not decrease in a."""
    rng = np.random.default_rng(3)
    a, c = rng.uniform(0, 1, 25).round(4), rng.uniform(0, 1, 25).round(4)
    pd.DataFrame({"a": a, "c": c, "y": -5e-8 * a + 1e-8 * c}).to_csv(tmp_path / "t.csv", index=False)
    out = tmp_path / "t.json"
    argv = ["train", str(tmp_path / "t.csv"), "--task", "regress", "--target", "y", "--hidden", "2"]
    r = CliRunner().invoke(cli, argv + ["--monotone-increasing", "a", "--time-limit", "6", "-o", str(out)])
    assert r.exit_code in (0, 1, 3), r.output
    # exit 1: the limit ended the loop on a network with a counterexample pair (a loaded machine): nothing written
    assert out.exists() == (r.exit_code == 0) and (r.exit_code != 1 or "not written" in r.output), r.output
    if r.exit_code == 0:
        net = load_model(out)
        grid = np.linspace(0, 1, 201)
        for cv in (0.0, 0.5, 1.0):
            f = net.forward(np.column_stack([grid, np.full_like(grid, cv)]))[:, 0]
            assert np.all(np.diff(f) >= -1e-12), np.diff(f).min()  # the whole output range is 6e-8


def test_options_a_method_would_ignore_and_empty_lists_are_refused(tmp_path):
    """The gradient method wrote a 15-weight network for --max-nonzeros 1 (and ignored --loss and --l1); the MILP
    method dropped --layer-penalty; --monotone-increasing '' trained a plain network. One line each, before work."""
    path = _csv(tmp_path)
    base = ["train", str(path), "--target", "y", "--task", "regress", "--hidden", "2", "-o", str(tmp_path / "o.json")]
    cases = [
        (
            ["--monotone-increasing", "a", "--monotone-method", "gradient", "--max-nonzeros", "1", "--l1", "0.5"],
            "--l1, --max-nonzeros",
        ),
        (["--monotone-increasing", "a", "--layer-penalty", "5"], "--layer-penalty: not used"),
        (["--monotone-increasing", ""], "names no feature"),
    ]
    for extra, message in cases:
        r = CliRunner().invoke(cli, base + extra)
        assert r.exit_code == 2 and message in r.output, (extra, r.output)
        assert not (tmp_path / "o.json").exists()


def test_a_classifier_s_monotone_training_names_the_score_it_proves_about(tmp_path):
    """The line said "global monotonicity certificate: holds" without naming which class a higher logit favours."""
    rng = np.random.default_rng(1)
    X = rng.uniform(0, 1, size=(30, 2))
    df = pd.DataFrame(X, columns=["a", "b"])
    df["y"] = np.where(X[:, 0] > 0.5, "high", "low")
    df.to_csv(tmp_path / "d.csv", index=False)
    args = ["train", str(tmp_path / "d.csv"), "--target", "y", "--hidden", "1", "--time-limit", "30"]
    r = CliRunner().invoke(cli, [*args, "--monotone-increasing", "a", "-o", str(tmp_path / "m.json")])
    assert r.exit_code in (0, 1, 3), r.output
    assert "certificate of the logit (the network's score: above 0 means low, below 0 means high)" in r.output
