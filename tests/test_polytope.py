"""Polytope LP analysis: envelope soundness on dense samples, LP margins against sampled points, CLI."""

from __future__ import annotations

import json

import click
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from helpers import random_dense_net
from scipy.special import erf

from mipnet.domain import Domain
from mipnet.encode import envelope
from mipnet.errors import DataError
from mipnet.io import save_model
from mipnet.verify.polytope import analyse, polytope_lp

F = {
    "GELU": lambda z: 0.5 * z * (1 + erf(z / np.sqrt(2))),
    "Tanh": np.tanh,
    "Sigmoid": lambda z: 1 / (1 + np.exp(-z)),
}


@pytest.mark.parametrize("kind", sorted(F))
def test_envelopes_contain_the_activation_on_dense_samples(kind):
    rng = np.random.default_rng(0)
    centre = rng.uniform(-6, 6, 300)
    width = np.concatenate([rng.uniform(0, 0.05, 100), rng.uniform(0.05, 2, 100), rng.uniform(2, 12, 100)])
    L, U = centre - width / 2, centre + width / 2
    a_lo, b_lo, a_hi, b_hi = envelope(kind, L, U)
    t = np.linspace(0, 1, 4001)
    Z = L[:, None] + (U - L)[:, None] * t[None, :]
    fz = F[kind](Z)
    assert np.all(a_lo[:, None] * Z + b_lo[:, None] <= fz + 1e-12)
    assert np.all(fz <= a_hi[:, None] * Z + b_hi[:, None] + 1e-12)
    # and not absurdly loose: the gap at the midpoint shrinks with the interval
    gap = (a_hi - a_lo) * (L + U) / 2 + b_hi - b_lo
    assert np.all(gap[width < 0.05] < 1e-2)


@pytest.fixture(scope="module")
def gelu_net():
    net = random_dense_net(np.random.default_rng(4), [9, 4, 3, 4], act="gelu")
    net.domain = Domain.box(9, 0.0, 1.0)
    return net


@pytest.mark.parametrize("act", ["gelu", "tanh", "sigmoid", "relu"])
def test_worst_margin_below_sampled_margins_best_above(act):
    net = random_dense_net(np.random.default_rng(5), [6, 5, 4, 3], act=act)
    rng = np.random.default_rng(1)
    x = rng.uniform(-0.5, 0.5, 6)
    y = int(net.forward(x[None]).argmax())
    for eps in (0.0, 0.05, 0.2):
        worst = polytope_lp(net, x, y, eps, "worst")
        best = polytope_lp(net, x, y, eps, "best")
        P = x + rng.uniform(-eps, eps, size=(3000, 6))
        z = net.forward(P)
        margins = z[:, y] - np.delete(z, y, axis=1).max(axis=1)
        assert worst.margin <= margins.min() + 1e-6
        z0 = net.forward(x[None])[0]
        assert best.margin >= z0[y] - np.delete(z0, y).max() - 1e-6
        if eps == 0.0:
            assert abs(worst.margin - margins.min()) <= 1e-5
            assert abs(best.margin - worst.margin) <= 1e-5
            assert not worst.at_upper.any() and not worst.at_lower.any()


def test_signature_and_aggregation(gelu_net):
    rng = np.random.default_rng(2)
    X = rng.uniform(0, 1, size=(12, 9))
    y = gelu_net.forward(X).argmax(1)
    an = analyse(gelu_net, X, y, [0.0, 0.1])
    assert len(an.rows) == 24 and an.smooth_layers == [1, 3]
    assert set(an.accuracy["eps"]) == {0.0, 0.1}
    acc0 = an.rows[an.rows.eps == 0.0]["correct"].mean()
    acc1 = an.rows[an.rows.eps == 0.1]["correct"].mean()
    assert acc0 == 1.0 and acc1 <= acc0  # predictions are the labels: the LP keeps them at eps = 0
    for (c, e), v in an.upper.items():
        assert v.shape == (9,) and np.all((0 <= v) & (v <= 1))
        assert np.all(an.lower[(c, e)] + v <= 1 + 1e-12)  # an input is not at both ends of a non-empty box
        assert [p.shape for p in an.envelopes[(c, e)]] == [(4, 3), (3, 3)]
    r = polytope_lp(gelu_net, X[0], int(y[0]), 0.1)
    # at an LP vertex with 9 free inputs some inputs sit at an end of the box
    assert r.at_upper.sum() + r.at_lower.sum() >= 1
    assert all(set(np.unique(e)) <= {0, 1, 2, 3} for e in r.envelopes)


def test_cli_polytope(gelu_net, tmp_path):
    from mipnet.cli.resilience import SUBCOMMANDS

    group = click.Group("explain", commands=SUBCOMMANDS["explain"])
    path = tmp_path / "net.json"
    save_model(gelu_net, path)
    X = np.random.default_rng(3).uniform(0, 1, size=(6, 9))
    df = pd.DataFrame(X, columns=gelu_net.feature_names)
    df["label"] = gelu_net.forward(X).argmax(1)
    df.to_csv(tmp_path / "d.csv", index=False)
    out = tmp_path / "out"
    res = CliRunner().invoke(group, ["polytope", str(path), str(tmp_path / "d.csv"), "--eps", "0.05", "-o", str(out)])
    assert res.exit_code == 0, res.output
    summary = json.loads((out / "summary.json").read_text())
    rows = pd.read_csv(out / "rows.csv")
    assert len(rows) == 6 and summary["lp_accuracy"]["0.05"] == rows["correct"].mean()
    assert (out / "signature_eps0.05.png").stat().st_size > 1000
    assert (out / "envelopes_eps0.05.png").exists()
    bad = CliRunner().invoke(group, ["polytope", str(path), str(tmp_path / "d.csv"), "--eps", "-1", "-o", str(out)])
    assert bad.exit_code != 0
    # two radii that print alike under %g had one figure (the second replaced the first)
    two = tmp_path / "two"
    args = ["polytope", str(path), str(tmp_path / "d.csv"), "--eps", "0.1,0.1000001", "-o", str(two)]
    assert CliRunner().invoke(group, args).exit_code == 0
    assert {p.name for p in two.glob("signature_eps*.png")} == {"signature_eps0.1.png", "signature_eps0.1000001.png"}
    # the model and the data under the output's own names in the output directory: refused, both kept
    (out / "summary.json").write_bytes(path.read_bytes())
    (out / "rows.csv").write_bytes((tmp_path / "d.csv").read_bytes())
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    args = ["polytope", str(out / "summary.json"), str(out / "rows.csv"), "--eps", "0.05", "-o", str(out)]
    same = CliRunner().invoke(group, args)
    assert isinstance(same.exception, DataError) and "is also an input of this command" in str(same.exception)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_a_row_outside_the_domain_is_refused_not_counted_correct(gelu_net):
    """The eps-box cut to the domain did not contain a row outside it: a misclassified row was counted "correct"
    (LP accuracy 1.000), and a row further out than eps emptied the box and stopped the run without naming it."""
    X = np.array([[0.0] * gelu_net.n_inputs, [5.0] + [0.0] * (gelu_net.n_inputs - 1)])
    with pytest.raises(DataError, match="row 1 lies outside the model's input domain"):
        analyse(gelu_net, X, [0, 0], [0.1])


def test_an_open_domain_needs_no_box_for_the_finite_eps_box(tmp_path):
    """The eps-box around a row is finite: an imported model with an unbounded domain was refused with a hint to
    options explain polytope does not have."""
    net = random_dense_net(np.random.default_rng(5), [3, 4, 2])
    net.domain = Domain.box(3, -np.inf, np.inf)
    an = analyse(net, np.zeros((2, 3)), [0, 1], [0.1])
    assert len(an.rows) == 2


def test_a_row_just_outside_the_domain_is_refused_with_its_exact_value(gelu_net):
    """A row 5e-8 above the box passed a 1e-7 tolerance, then its eps-box (eps 0) met the domain nowhere and the
    run stopped with "the requested input region is empty"; the refusal names the exact value."""
    x = np.zeros((1, gelu_net.n_inputs))
    x[0, 0] = gelu_net.domain.upper[0] + 5e-8
    with pytest.raises(DataError, match=r"row 0 lies outside .* = 1\.00000005 is outside \[0\.0, 1\.0\]"):
        analyse(gelu_net, x, [0], [0.0])


def test_cli_polytope_reads_labels_of_float_class_names(tmp_path):
    """A model with classes [0.0, 1.0] (an sklearn MLP fitted on a float target) refused its own labels "1.0"."""
    from mipnet.cli.resilience import SUBCOMMANDS

    net = random_dense_net(np.random.default_rng(2), [2, 3, 2])
    net.domain = Domain.box(2, -1, 1)
    net.class_names = [0.0, 1.0]
    path = tmp_path / "net.json"
    save_model(net, path)
    X = np.random.default_rng(3).uniform(-1, 1, size=(5, 2))
    df = pd.DataFrame(X, columns=net.feature_names)
    df["y"] = [float(c) for c in net.forward(X).argmax(1)]
    df.to_csv(tmp_path / "d.csv", index=False)
    group = click.Group("explain", commands=SUBCOMMANDS["explain"])
    out = tmp_path / "out"
    res = CliRunner().invoke(
        group, ["polytope", str(path), str(tmp_path / "d.csv"), "--eps", "0", "--target", "y", "-o", str(out)]
    )
    assert res.exit_code == 0, res.output
    assert pd.read_csv(out / "rows.csv")["correct"].all()  # eps 0: every row is its own (correct) class
