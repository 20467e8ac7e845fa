"""--domain DATA.csv [--domain-margin F] / --domain-json FILE: a bounded input domain for imported models.

An sklearn MLP converted to mipnet has an unbounded domain: verify resilience refuses it, and runs with
--domain; convert --domain stores the box in the model; bad domain inputs fail at once (exit 2, one line).
"""

from __future__ import annotations

import json
import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from mipnet.cli import cli
from mipnet.io import load_model

NAMES = ["a", "b", "c"]


@pytest.fixture(scope="module")
def sk(tmp_path_factory) -> dict[str, str]:
    from sklearn.neural_network import MLPClassifier

    d = tmp_path_factory.mktemp("domain")
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (40, 3))
    y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(int) + (X[:, 2] > 0.5).astype(int)
    df = pd.DataFrame(X, columns=NAMES)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mlp = MLPClassifier(hidden_layer_sizes=(3,), max_iter=200, random_state=0).fit(df, y)
    (d / "mlp.pkl").write_bytes(pickle.dumps(mlp))
    df.assign(label=y).to_csv(d / "data.csv", index=False)
    inf = df.copy()
    inf.loc[4, "b"] = np.inf
    inf.to_csv(d / "inf.csv", index=False)
    df.rename(columns={"c": "z"}).to_csv(d / "cols.csv", index=False)
    (d / "box.json").write_text(json.dumps({"lower": [-1, -1, -1], "upper": [1, 1, 1]}))
    (d / "feat.json").write_text(json.dumps({"features": {"a": [-2, 2], "b": [-1, 1], "c": [0, 1]}}))
    (d / "swap.json").write_text(json.dumps({"lower": [1, -1, -1], "upper": [-1, 1, 1]}))
    (d / "short.json").write_text(json.dumps({"lower": [0, 0], "upper": [1, 1]}))
    (d / "unknown.json").write_text(json.dumps({"features": {"zz": [0, 1]}}))
    r = CliRunner().invoke(cli, ["convert", str(d / "mlp.pkl"), "-o", str(d / "mlp.json")])
    assert r.exit_code == 0, r.output
    return {p.stem: str(p) for p in d.iterdir()}


def _run(*argv: str):
    return CliRunner().invoke(cli, list(argv))


def test_resilience_refused_without_domain_and_runs_with_one(sk):
    r = _run("verify", "resilience", sk["mlp"], "--class", "0", "--time-limit", "5")
    assert r.exit_code == 2 and "set finite bounds first" in r.stderr and "--domain" in r.stderr, r.output
    r = _run("verify", "resilience", sk["mlp"], "--class", "0", "--time-limit", "5", "--domain", sk["data"])
    assert r.exit_code in (0, 3), (r.output, r.exception)
    assert "domain: box of data.csv" in r.stdout
    assert "class 0: Phi =" in r.stdout
    r = _run(
        "verify", "resilience", sk["mlp"], "--class", "0", "--time-limit", "5", "--domain-json", sk["box"], "--json"
    )
    assert r.exit_code in (0, 3), (r.output, r.exception)
    json.loads(r.stdout)  # the domain line goes to stderr with --json
    assert "domain: box of box.json" in r.stderr


def test_convert_stores_the_box(sk, tmp_path):
    out = tmp_path / "m.json"
    r = _run("convert", sk["mlp"], "-o", str(out), "--domain", sk["data"], "--domain-margin", "0.5")
    assert r.exit_code == 0, r.output
    assert "domain: box of data.csv (+0.5 margin)" in r.stdout
    X = pd.read_csv(sk["data"])[NAMES].to_numpy()
    lo, hi = X.min(0), X.max(0)
    net = load_model(out)
    np.testing.assert_allclose(net.domain.lower, lo - 0.5 * (hi - lo))
    np.testing.assert_allclose(net.domain.upper, hi + 0.5 * (hi - lo))
    info = _run("info", str(out))
    assert info.exit_code == 0 and f"[{net.domain.lower[0]:g}, {net.domain.upper[0]:g}]" in info.stdout
    out2 = tmp_path / "f.json"
    assert _run("convert", sk["mlp"], "-o", str(out2), "--domain-json", sk["feat"]).exit_code == 0
    d2 = load_model(out2).domain
    assert d2.lower.tolist() == [-2, -1, 0] and d2.upper.tolist() == [2, 1, 1]


def test_monotonic_and_robustness_take_a_domain(sk):
    r = _run("verify", "monotonic", sk["mlp"], "--increasing", "a", "--output", "0", "--time-limit", "5")
    assert r.exit_code == 2 and "set finite bounds first" in r.stderr, r.output
    r = _run(
        "verify",
        "monotonic",
        sk["mlp"],
        "--increasing",
        "a",
        "--output",
        "0",
        "--time-limit",
        "5",
        "--domain-json",
        sk["box"],
    )
    assert r.exit_code in (0, 1, 3) and "domain: box of box.json" in r.stdout, (r.output, r.exception)
    r = _run(
        "verify", "robustness", sk["mlp"], sk["data"], "--eps", "0.01", "--time-limit", "5", "--domain", sk["data"]
    )
    assert r.exit_code in (0, 1, 3) and "domain: box of data.csv" in r.stdout, (r.output, r.exception)


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["--domain", "{inf}"], "NaN or inf"),
        (["--domain", "{cols}"], "lacks the model's feature columns"),
        (["--domain-json", "{swap}"], "exceeds upper bound"),
        (["--domain-json", "{short}"], "list of 3 numbers"),
        (["--domain-json", "{unknown}"], "unknown features ['zz']"),
        (["--domain", "{data}", "--domain-margin", "-1"], "--domain-margin"),
        (["--domain", "{data}", "--domain-json", "{box}"], "not both"),
        (["--domain-margin", "0.1"], "needs --domain"),
    ],
)
@pytest.mark.parametrize("command", ["resilience", "convert"])
def test_bad_domain_fails_at_once(sk, tmp_path, monkeypatch, args, fragment, command):
    import highspy

    def no_run(*a, **k):
        raise AssertionError("a solver ran")

    monkeypatch.setattr(highspy.Highs, "run", no_run)
    argv = (
        [*("verify resilience".split()), sk["mlp"]]
        if command == "resilience"
        else ["convert", sk["mlp"], "-o", str(tmp_path / "m.json")]
    )
    r = _run(*argv, *[a.format(**sk) for a in args])
    assert r.exit_code == 2, (r.output, r.exception)
    lines = r.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and fragment in lines[0], r.stderr
    assert not (tmp_path / "m.json").exists()


def test_domain_from_data_is_the_box_not_its_lattice(tmp_path) -> None:
    """A data column of whole numbers 0..10 gave the feature integer flags: an ONNX model whose output dips
    between 3.2 and 3.5 was proved monotone "on the box of the data" (only the integers were checked)."""
    from mipnet.domain import Domain
    from mipnet.io import save_model
    from mipnet.layers import Dense, ReLU
    from mipnet.network import Network

    net = Network(
        [
            Dense(np.array([[1.0], [1.0], [1.0]]), np.array([0.0, -3.2, -3.5])),
            ReLU(),
            Dense(np.array([[1.0, -3.0, 3.0]]), np.array([0.0])),
        ],
        Domain(["x0"], [-np.inf], [np.inf]),
        task="regress",
    )
    assert net.forward(np.array([[3.2]]))[0, 0] > net.forward(np.array([[3.5]]))[0, 0]
    save_model(net, tmp_path / "m.onnx")
    pd.DataFrame({"x0": np.arange(0, 11)}).to_csv(tmp_path / "d.csv", index=False)
    args = ["verify", "monotonic", str(tmp_path / "m.onnx"), "--increasing", "x0", "--domain", str(tmp_path / "d.csv")]
    r = CliRunner().invoke(cli, [*args, "--time-limit", "20"])
    assert r.exit_code == 1, r.output
    assert "violated" in r.output


def test_extreme_numbers_in_domains_are_one_error_or_exact():
    """An integer of 400 digits in --domain-json was an OverflowError traceback; data near +-1e308 gave "domain
    lower contains NaN" (0 * inf of its range) without a margin, and +-inf silently with one."""
    from mipnet.cli.options import _domain_json
    from mipnet.domain import Domain
    from mipnet.errors import DataError

    X = np.array([[-1e308, 0.0], [1e308, 1.0]])
    d = Domain.from_data(X)
    assert d.lower[0] == -1e308 and d.upper[0] == 1e308 and np.isfinite(d.lower).all()
    with pytest.raises(DataError, match="overflows float64"):
        Domain.from_data(X, margin=0.1)
    assert Domain.from_data(X[:, 1:], margin=0.1).upper[0] == pytest.approx(1.1)
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        p = Path(tmp) / "big.json"
        p.write_text('{"lower": [0, 0], "upper": [1, ' + "9" * 400 + "]}")
        with pytest.raises(DataError, match="an integer of 400 digits"):
            _domain_json(p, ["a", "b"], np.zeros(2), np.ones(2))


def test_a_box_with_no_whole_number_for_an_integer_feature_is_refused(tmp_path) -> None:
    """--domain-json {"features": {"k": [0.3, 0.7]}} for an integer feature k silently made k continuous: the
    verdict then spoke of (and its witness lay on) points off the model's lattice."""
    from mipnet.domain import Domain
    from mipnet.io import save_model
    from mipnet.layers import Dense
    from mipnet.network import Network

    net = Network([Dense(np.array([[-1.0, 1.0]]), np.zeros(1))], Domain(["k", "u"], [0, 0], [3, 1], [True, False]))
    save_model(net, tmp_path / "m.json")
    (tmp_path / "d.json").write_text(json.dumps({"features": {"k": [0.3, 0.7]}}))
    args = [
        "verify",
        "monotonic",
        str(tmp_path / "m.json"),
        "--increasing",
        "k",
        "--domain-json",
        str(tmp_path / "d.json"),
    ]
    r = CliRunner().invoke(cli, args)
    assert r.exit_code == 2 and "integer feature 'k' has no whole number within [0.3, 0.7]" in r.output, r.output
