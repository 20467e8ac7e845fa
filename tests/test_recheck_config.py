"""The training re-check binds the recorded configuration: the budgets it names are measured on the network, the
question's and the formulation's copies must agree, and a malformed value (a box of null, a budget of "three") is a
failed check with one line, never a traceback. Each forgery is re-sealed (anyone can recompute the seal), so only
the re-derivation can catch it."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from helpers import forged

from mipnet.certificates import recheck, training_certificate
from mipnet.cli import cli
from mipnet.cli.audit import COMMANDS
from mipnet.io import save_model
from mipnet.train import TrainConfig, train

for _cmd in COMMANDS:
    if _cmd.name not in cli.commands:
        cli.add_command(_cmd)


@pytest.fixture(scope="module")
def linear_fit():
    """The linear term alone (cutting planes) with a budget of 2 features: 2 non-zero weights."""
    rng = np.random.default_rng(8)
    X = rng.normal(size=(80, 4))
    y = (X[:, 0] - X[:, 1] + 0.5 * rng.normal(size=80) > 0).astype(int)
    df = pd.DataFrame(X, columns=["x0", "x1", "x2", "x3"])
    cfg = TrainConfig(hidden=(1,), loss="logistic", l1=0.01, max_neurons=0)
    res = train(X, y, config=cfg, linear=True, constraints=[{"kind": "budget", "k": 2}], time_limit=20, threads=1)
    df["y"] = y
    net = res.network
    return net, df, training_certificate(net, net.metadata["certificate"], target="y")


def _both_configs(d):
    return d["question"]["config"], d["result"]["formulation"]["config"]


def _failed(rep, name: str) -> bool:
    return any(c.name == name and c.outcome == "fail" for c in rep.checks)


def test_honest_certificate_passes_the_new_checks(linear_fit):
    net, df, cert = linear_fit
    rep = recheck(cert, net, df, second_solver=None, time_limit=30)
    assert rep.status == "ok", rep.lines()
    assert not any(c.name == "recorded configuration readable" for c in rep.checks)


def test_a_budget_the_network_breaks_fails_the_recheck(linear_fit):
    """max_nonzeros = 1 (or max_neurons = 0 on a net with units) in both copies, status optimal with gap 0: the
    class with the smaller budget has a higher optimum, so its bound would pass the master; the count fails it."""
    net, df, cert = linear_fit
    nz = int(np.count_nonzero(np.abs(net.layers[1].weight).sum(axis=0)))
    assert nz == 2

    def forge(d):
        for c in _both_configs(d):
            c["max_nonzeros"] = 1
        d["answer"]["status"] = d["result"]["status"] = "optimal"
        for part in (d["answer"], d["result"]):
            part["bound"], part["gap"] = part["incumbent"], 0.0

    rep = recheck(forged(cert, forge), net, df, second_solver=None, time_limit=30)
    assert rep.status == "failed" and rep.exit_code == 1, rep.lines()
    assert _failed(rep, "budgets of the recorded class"), rep.lines()
    assert any("nonzeros > max_nonzeros 1" in c.detail for c in rep.checks)

    def at_count(d):  # max_nonzeros = 2 is met: the check passes (the rest of the record is untouched)
        for c in _both_configs(d):
            c["max_nonzeros"] = 2

    rep = recheck(forged(cert, at_count), net, df, second_solver=None, time_limit=30)
    assert not _failed(rep, "budgets of the recorded class"), rep.lines()
    assert any(c.name == "budgets of the recorded class" and c.outcome == "pass" for c in rep.checks)


def test_question_and_formulation_configs_must_agree(linear_fit):
    net, df, cert = linear_fit

    def wider_box_in_the_record(d):
        d["result"]["formulation"]["config"]["weight_bound"] = 4.0
        d["result"]["formulation"]["config"]["constraints"] = []

    rep = recheck(forged(cert, wider_box_in_the_record), net, df, second_solver=None, time_limit=30)
    assert rep.status == "failed", rep.lines()
    assert _failed(rep, "question, answer and record agree"), rep.lines()
    assert any("weight_bound" in c.detail for c in rep.checks)


@pytest.mark.parametrize("value", [None, "x", 3])
def test_a_question_without_the_recorded_configuration_fails(linear_fit, value):
    """The question's configuration null or not a mapping while the formulation records one: inconsistent (before:
    null was PARTIAL, a string a traceback)."""
    net, df, cert = linear_fit

    def edit(d):
        d["question"]["config"] = value

    rep = recheck(forged(cert, edit), net, df, second_solver=None, time_limit=30)
    assert rep.status == "failed", rep.lines()
    assert _failed(rep, "question, answer and record agree"), rep.lines()


@pytest.mark.parametrize(
    "field, value",
    [
        ("weight_bound", None),
        ("weight_bound", "abc"),
        ("hidden", ["x"]),
        ("max_nonzeros", "two"),
        ("max_nonzeros", 2.5),
        ("max_neurons", True),
        ("levels", "x"),
        ("bias_bound", -1.0),
        ("weight_bound", 1e300),
    ],
)
def test_malformed_recorded_values_fail_in_one_line(linear_fit, field, value):
    net, df, cert = linear_fit

    def edit(d):
        for c in _both_configs(d):
            c[field] = value

    rep = recheck(forged(cert, edit), net, df, second_solver=None, time_limit=30)
    assert rep.status == "failed" and rep.exit_code == 1, rep.lines()
    assert _failed(rep, "recorded configuration readable"), rep.lines()


@pytest.mark.parametrize("key, value", [("k", "three"), ("k", None), ("features", ["a"]), ("delta", float("nan"))])
def test_malformed_recorded_constraint_fails_in_one_line(linear_fit, key, value):
    net, df, cert = linear_fit

    def edit(d):
        for c in _both_configs(d):
            c["constraints"][0][key] = value

    rep = recheck(forged(cert, edit), net, df, second_solver=None, time_limit=30)
    assert rep.status == "failed", rep.lines()
    assert _failed(rep, "recorded configuration readable"), rep.lines()
    assert "budget constraint is not readable" in next(
        c.detail for c in rep.checks if c.name == "recorded configuration readable"
    )


def test_cli_recheck_and_audit_of_a_malformed_record(linear_fit, tmp_path):
    """mipnet recheck: exit 1 and FAILED, no traceback. mipnet audit of a model whose stored certificate has a box of
    null: the report is written, the training line says FAILED, exit 1."""
    net, df, cert = linear_fit
    model, path, data = tmp_path / "m.json", tmp_path / "c.json", tmp_path / "d.csv"
    save_model(net, model)
    df.to_csv(data, index=False)
    from mipnet.report.certificates import save_certificate

    def edit(d):
        for c in _both_configs(d):
            c["weight_bound"] = None

    save_certificate(forged(cert, edit), path)
    r = CliRunner().invoke(cli, ["recheck", str(path), str(model), str(data), "--time-limit", "20"])
    assert r.exit_code == 1 and "FAILED" in r.output and "Traceback" not in r.output, r.output
    assert r.exception is None or isinstance(r.exception, SystemExit)

    meta = json.loads(model.read_text())
    meta["metadata"]["certificate"]["formulation"]["config"]["weight_bound"] = None
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(meta))
    args = ["audit", str(bad), str(data), "-o", str(tmp_path / "a.html"), "--eps", "0.01", "--rows", "1"]
    r = CliRunner().invoke(cli, args + ["--workers", "0", "--time-limit", "20"])
    assert r.exception is None or isinstance(r.exception, SystemExit), r.output
    assert r.exit_code == 1, r.output
    assert "training certificate (claimed" in r.output and "FAILED" in r.output, r.output
    assert (tmp_path / "a.html").exists()
