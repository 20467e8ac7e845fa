"""`mipnet explain scorecard MODEL`: a trained model prints its rules (exit 0); its --json numbers reproduce the
model; bad input (no such file, a conv net) gives one error line, exit 2, no traceback."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from mipnet import Conv2D, Dense, Flatten, Network, ReLU
from mipnet.cli import cli
from mipnet.domain import Domain
from mipnet.io import load_model, save_model
from mipnet.train import TrainConfig, train


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A sign-class net (one hidden layer, +-1 output weights) on 16 rows: age (real) and male (0/1)."""
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.uniform(20, 70, 16), rng.integers(0, 2, 16)]).astype(float)
    y = (X[:, 0] / 10 + 2 * X[:, 1] > 6).astype(int)
    dom = Domain(["age", "male"], [18.0, 0.0], [90.0, 1.0], np.array([False, True]))
    res = train(X, y, config=TrainConfig(hidden=(2,), l1=0.01), domain=dom, time_limit=10, threads=1)
    path = tmp_path_factory.mktemp("sc") / "model.json"
    save_model(res.network, path)
    return str(path)


def test_scorecard_of_a_trained_model(trained: str) -> None:
    r = CliRunner().invoke(cli, ["explain", "scorecard", trained])
    assert r.exit_code == 0, r.output
    assert r.output.startswith("Scorecard (")
    assert "decision: predict 1 when points > 0, otherwise 0" in r.output
    net = load_model(trained)
    n_units = sum(1 for line in r.output.splitlines() if line.lstrip().startswith("unit h"))
    assert n_units == net.n_active_neurons() and n_units >= 1
    assert all(p in ("+1", "-1") for p in (line.split()[2] for line in r.output.splitlines() if "unit h" in line))
    assert "if male" in r.output


def test_json_numbers_reproduce_the_model(trained: str) -> None:
    r = CliRunner().invoke(cli, ["explain", "scorecard", trained, "--json"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    net = load_model(trained)
    X = net.domain.sample(40, rng=0)
    W = np.array([u["weights"] for u in d["units"]]).reshape(-1, 2)
    b = np.array([u["bias"] for u in d["units"]])
    P = np.array([u["points"] for u in d["units"]]).reshape(-1, 1).T
    f = d["scale"] * (np.array(d["base"]) + X @ np.array(d["linear"]).T + np.maximum(0, X @ W.T + b) @ P.T)
    assert np.allclose(f, net.forward(X), rtol=1e-9, atol=1e-9)


def test_exact_digits(tmp_path) -> None:
    net = Network([Dense(np.array([[0.1 + 0.2]]), [0.0]), ReLU(), Dense(np.array([[1.0]]), [0.0])], Domain.box(["x"]))
    save_model(net, tmp_path / "m.json")
    r = CliRunner().invoke(cli, ["explain", "scorecard", str(tmp_path / "m.json"), "--digits", "0"])
    assert r.exit_code == 0 and "0.30000000000000004*x" in r.output and "numbers exact" in r.output
    r = CliRunner().invoke(cli, ["explain", "scorecard", str(tmp_path / "m.json")])
    assert "(0.3*x)" in r.output


def _fails_with_one_line(argv: list[str], fragment: str) -> None:
    r = CliRunner().invoke(cli, argv)
    assert r.exit_code == 2, (r.exit_code, r.output)
    lines = r.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and fragment in lines[0], r.stderr
    assert "Traceback" not in r.output


def test_missing_file(tmp_path) -> None:
    _fails_with_one_line(["explain", "scorecard", str(tmp_path / "nothing.json")], "not found")


def test_conv_net(tmp_path) -> None:
    conv = Network(
        [Conv2D(np.ones((1, 1, 2, 2)), np.zeros(1)), ReLU(), Flatten(), Dense(np.ones((1, 9)), [0.0])],
        input_shape=(1, 4, 4),
    )
    save_model(conv, tmp_path / "conv.json")
    _fails_with_one_line(["explain", "scorecard", str(tmp_path / "conv.json")], "flat features")
