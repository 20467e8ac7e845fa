"""A training certificate vouches for a network of its recorded class only: each forgery below claims "optimal"
at a value below the class's true optimum by attaching the certificate to a network outside the class (or by
editing what the loss is measured with); the fresh solve proves a bound at or above the claim, so only the class
checks can refute it. Each used to re-check OK."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mipnet.certificates.training import training_certificate
from mipnet.layers import Dense, Normalize
from mipnet.report.recheck import recheck
from mipnet.train.objective_check import Certificate, recompute_terms

XOR = pd.DataFrame(
    [(-1, -1, 0), (1, 1, 0), (-1, 1, 1), (1, -1, 1), (-2, -2, 0), (2, 2, 0), (-2, 2, 1), (2, -2, 1)],
    columns=["a", "b", "t"],
)
D1 = pd.DataFrame(
    [(2, 1, 0), (0, -1, 0), (-1, -2, 0), (-2, -2, 0), (-2, 2, 0), (1, 2, 1), (0, 1, 1), (2, 1, 1)],
    columns=["a", "b", "t"],
)


def _fit(df: pd.DataFrame, **kw):
    from mipnet import MIPNetClassifier

    est = MIPNetClassifier(time_limit=20, **kw).fit(df[["a", "b"]], df["t"])
    return est.network_


def _claim(net, cert: dict, df: pd.DataFrame) -> dict:
    """``cert`` claiming optimal at ``net``'s own objective (recomputed), as a forger would write it."""
    X, y = df[["a", "b"]].to_numpy(float), df["t"].to_numpy()
    terms = recompute_terms(net, X, y, Certificate.from_dict(cert))
    inc = float(sum(terms.values()))
    c = dict(cert)
    c.update(terms=terms, model_terms=dict(terms), incumbent=inc, solver_incumbent=inc, bound=inc, gap=0.0)
    c.update(status="optimal", bound_source="milp")
    return c


def _status(net, cert: dict, df: pd.DataFrame) -> str:
    net.metadata = {**(net.metadata or {}), "certificate": cert}
    rep = recheck(training_certificate(net, cert, target="t"), net, df, second_solver=None, time_limit=30)
    return rep.status


@pytest.fixture(scope="module")
def honest_q1():
    net = _fit(XOR, hidden_layer_sizes=(1,), hypothesis="quantized", l1=0.01)
    return net, dict(net.metadata["certificate"])


def test_the_honest_certificate_rechecks(honest_q1) -> None:
    net, cert = honest_q1
    assert _status(net.copy(), cert, XOR) in ("ok", "partial")


def test_a_wider_network_is_refuted(honest_q1) -> None:
    _, cert = honest_q1
    wide = _fit(XOR, hidden_layer_sizes=(3,), hypothesis="quantized", l1=0.01)
    c = _claim(wide, cert, XOR)
    assert c["incumbent"] < cert["incumbent"] - 1e-6  # below the width-1 optimum
    assert _status(wide, c, XOR) == "failed"


def test_a_missing_hidden_layer_without_layer_switches_is_refuted(honest_q1) -> None:
    net11 = _fit(XOR, hidden_layer_sizes=(1, 1), hypothesis="quantized", l1=0.01)
    c11 = dict(net11.metadata["certificate"])
    one, _ = honest_q1
    assert _status(one.copy(), _claim(one.copy(), c11, XOR), XOR) == "failed"


def test_a_trailing_normalize_on_a_classifier_is_refuted() -> None:
    net = _fit(D1, hidden_layer_sizes=(1,), weight_bound=0.2, bias_bound=0.2)
    bad = net.copy()
    bad.layers = [*net.layers, Normalize(np.array([8.5]), np.array([2.7]))]
    assert _status(bad, _claim(bad, dict(net.metadata["certificate"]), D1), D1) == "failed"


def test_swapped_class_order_is_refuted() -> None:
    net = _fit(D1, hidden_layer_sizes=(1,))
    bad = net.copy()
    last = bad.layers[-1]
    bad.layers = [*bad.layers[:-1], Dense(-np.asarray(last.weight), -np.asarray(last.bias))]
    c = dict(net.metadata["certificate"])
    c["classes"] = list(reversed([str(k) for k in c["classes"]]))
    assert _status(bad, _claim(bad, c, D1), D1) == "failed"


def test_an_edited_target_scale_is_refuted() -> None:
    from mipnet import MIPNetRegressor

    rng = np.random.default_rng(0)
    df = pd.DataFrame({"a": rng.normal(size=8), "b": rng.normal(size=8)})
    df["t"] = 2 * df.a - df.b + rng.normal(size=8) * 0.3
    net = MIPNetRegressor(hidden_layer_sizes=(1,), loss="l1", time_limit=20).fit(df[["a", "b"]], df["t"]).network_
    c = dict(net.metadata["certificate"])
    assert _status(net.copy(), c, df) in ("ok", "partial")
    c["target_scale"] = 10 * float(c["target_scale"])
    assert _status(net.copy(), _claim(net, c, df), df) == "failed"


def test_several_linear_pairs_for_one_output_are_not_linear_units() -> None:
    from mipnet.train.linear_term import linear_units_of

    net = _fit(D1, hidden_layer_sizes=(1,), linear_term=True, max_neurons=0, weight_bound=0.2)
    units = linear_units_of(net)
    assert len(units) == 1
    p, q, k = units[0]
    W, b = np.asarray(net.layers[1].weight), np.asarray(net.layers[1].bias)
    V = np.asarray(net.layers[3].weight)
    W2 = np.vstack([W, W[[p, q]], W[[p, q]]])
    V2 = np.hstack([V, V[:, [p, q]], V[:, [p, q]]])
    bad = net.copy()
    bad.layers = [
        bad.layers[0],
        Dense(W2, np.concatenate([b, [0, 0, 0, 0]])),
        bad.layers[2],
        Dense(V2, net.layers[3].bias),
    ]
    n = W.shape[0]
    bad.metadata = {**(net.metadata or {}), "linear_units": [[p, q, k], [n, n + 1, k], [n + 2, n + 3, k]]}
    assert linear_units_of(bad) == []


@pytest.mark.parametrize("field", ["margin", "bias_bound", "l1"])
def test_a_config_missing_a_field_the_bound_depends_on_is_refuted(field):
    """Deleting "margin" from both recorded configurations made the re-check read the default 1.0: a dual plan for
    margin 1 then "proved" an optimum that a margin-0.5 network beats (0.22751 < 0.22772)."""
    from helpers import forged

    net = _fit(D1, hidden_layer_sizes=(2,), l1=0.01, margin=0.5)
    cert = training_certificate(net, net.metadata["certificate"], target="t")
    X, y = D1[["a", "b"]].to_numpy(float), D1["t"].to_numpy()
    assert recheck(cert, net, (X, y)).status in ("ok", "partial")

    def drop(d):
        d["question"]["config"].pop(field)
        d["result"]["formulation"]["config"].pop(field)

    rep = recheck(forged(cert, drop), net, (X, y))
    bad = [c for c in rep.checks if c.name == "recorded configuration readable" and c.outcome == "fail"]
    assert rep.status == "failed" and bad and field in bad[0].detail, rep.lines()
