"""The dual bound of the sign class with the linear term (mipnet.train.dual_bound.linear_part): the linear part's
share against brute force, the best scale against a dense grid, the bound never above the proved optimum of the
larger class (where the plain bound is), never above random networks of that class, and re-checked in the
certificate (a raised figure refuted)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from helpers import forged as _forged
from hypothesis import given, settings
from hypothesis import strategies as st
from test_dual_bound import objective
from test_dual_bound_certificate import _dual_check, _file, _no_model, _raised

from mipnet.report.recheck import recheck
from mipnet.train import TrainConfig, train
from mipnet.train import dual_record as dual_record_mod
from mipnet.train.dual_bound import bound_for_config, standardise
from mipnet.train.dual_bound.linear_part import best_scale, linear_penalty, scaled_value
from mipnet.train.trainer import encode_targets

TOL = 1e-7
finite = st.floats(-3.0, 3.0, allow_nan=False)


@settings(max_examples=60, deadline=None)
@given(
    g=st.lists(finite, min_size=1, max_size=5),
    lam=st.floats(0.0, 1.0),
    l0=st.floats(0.0, 0.5),
    B=st.floats(0.1, 2.0),
)
def test_linear_share_is_the_least_over_the_box(g: list[float], lam: float, l0: float, B: float) -> None:
    """L(g) = - min over w0 in [-B, B]^d of sum_i (lam |w_i| + l0 [w_i != 0] - g_i w_i), by a dense grid with 0 and
    the box's ends (where the minimum is)."""
    w = np.concatenate([np.linspace(-B, B, 401), [0.0]])
    least = sum(float(np.min(lam * np.abs(w) + l0 * (w != 0) - gi * w)) for gi in g)
    assert linear_penalty(np.array(g), lam=lam, l0=l0, weight_bound=B) == pytest.approx(-least, abs=1e-9)


@settings(max_examples=60, deadline=None)
@given(
    base=st.floats(0.0, 2.0),
    V=st.floats(-0.5, 2.0),
    kappa=st.floats(0.0, 0.3),
    J=st.integers(1, 5),
    g=st.lists(finite, min_size=1, max_size=4),
    lam=st.floats(0.0, 0.5),
    l0=st.floats(0.0, 0.2),
)
def test_best_scale_is_the_maximum_over_t(
    base: float, V: float, kappa: float, J: int, g: list[float], lam: float, l0: float
) -> None:
    kw = dict(base=base, V=V, kappa=kappa, J=float(J), g=np.array(g), lam=lam, l0=l0, weight_bound=1.0)
    t, value = best_scale(**kw)
    assert 0.0 <= t <= 1.0 and value == pytest.approx(scaled_value(t, **kw), abs=1e-12)
    grid = max(scaled_value(float(s), **kw) for s in np.linspace(0.0, 1.0, 2001))
    assert value >= grid - 1e-12


def _linear_data(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Nearly linear labels: the linear term pays, and the plain class's bound is above the larger class's optimum."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(16, 2))
    y = (X[:, 0] - 0.8 * X[:, 1] + 0.2 * rng.normal(size=16) > 0).astype(int)
    return X, y


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_bound_below_the_optimum_of_the_class_with_the_linear_term(seed: int) -> None:
    X, y = _linear_data(seed)
    plain = TrainConfig(hidden=(1,), hypothesis="sign", l1=0.01)
    cfg = TrainConfig(hidden=(1,), hypothesis="sign", l1=0.01, linear=True)
    cert = train(X, y, config=cfg, time_limit=60, threads=1).certificate
    assert cert.status == "optimal", cert.lines()
    Xs, t = standardise(X), encode_targets(y, "classify")[0]
    # the plain class's bound does not hold for the larger class: the linear part's share is needed
    assert bound_for_config(Xs, t, plain, time_limit=8).bound > cert.incumbent + 0.05
    bounds = {
        m: bound_for_config(Xs, t, cfg, time_limit=8, method=m, **({"milp_rows": 5} if m == "hybrid" else {})).bound
        for m in ("cg", "transport", "vertex", "hybrid")
    }
    for name, b in bounds.items():
        assert 0.0 <= b <= cert.incumbent + TOL, (name, b, cert.incumbent)
    # the column generation's master and the hybrid's LP price the linear part: their multipliers suit the class
    assert bounds["cg"] >= 0.7 * cert.incumbent, (bounds, cert.incumbent)
    assert bounds["hybrid"] >= 0.5 * cert.incumbent, (bounds, cert.incumbent)


def test_bound_below_random_networks_of_the_class() -> None:
    rng = np.random.default_rng(5)
    X, y = _linear_data(4)
    Xs, t = standardise(X), encode_targets(y, "classify")[0]
    l1, J = 0.01, 2
    cfg = TrainConfig(hidden=(J,), hypothesis="sign", l1=l1, linear=True)
    bound = max(bound_for_config(Xs, t, cfg, time_limit=8, method=m).bound for m in ("cg", "vertex"))
    assert bound > 0
    for _ in range(300):
        W, b = rng.uniform(-1, 1, size=(J, 2)), rng.uniform(-1, 1, size=J)
        v = rng.choice([-1.0, 0.0, 1.0], size=J)
        W[v == 0], b[v == 0] = 0.0, 0.0
        w0 = rng.uniform(-1, 1, size=2) * rng.choice([0.0, 1.0], size=2)
        c = float(rng.uniform(-1, 1))
        f = c + np.maximum(Xs @ W.T + b, 0.0) @ v + Xs @ w0  # the linear part moves the hinge, pays its own l1
        obj = float(np.maximum(0.0, 1.0 - t * f).mean() + l1 * (np.abs(W).sum() + np.abs(v).sum() + np.abs(w0).sum()))
        if not w0.any():
            assert obj == pytest.approx(objective(Xs, t, W, b, v, c, l1))  # w0 = 0: the plain class's objective
        assert bound <= obj + TOL, (bound, obj)


@pytest.mark.parametrize("method", ["transport", "vertex"])
def test_certificate_with_the_linear_term_rechecked_and_forgery_refuted(
    monkeypatch: pytest.MonkeyPatch, method: str
) -> None:
    """No model built: the dual bound of the larger class is the certificate's bound; the re-check recomputes it with
    the linear part's share from the recorded multipliers, and a raised figure fails."""
    _no_model(monkeypatch)
    monkeypatch.setattr(dual_record_mod, "DUAL_METHOD", method)
    rng = np.random.default_rng(3)
    X = np.round(rng.normal(size=(60, 3)), 1)
    y = (X[:, 0] + 0.5 * X[:, 1] + 0.7 * rng.normal(size=60) > 0).astype(int)
    cfg = TrainConfig(hidden=(2,), hypothesis="sign", l1=0.01, linear=True)
    r = train(X, y, config=cfg, time_limit=8, threads=1)
    c = r.certificate
    assert c.bound_source.startswith("dual:") and c.bound_source.endswith("+ linear term"), c.lines()
    assert 0 < c.bound <= c.incumbent and c.dual_bound["linear"] is True
    cert, df = _file(r.network_full, X, y)
    rep = recheck(cert, r.network_full, df, second_solver=None, time_limit=10, reprove=False)
    (chk,) = _dual_check(rep)
    assert chk.outcome == "pass", rep.lines()
    # raised to the incumbent (the vertex enumeration of the re-check can prove more than a transport record claims)
    bad = recheck(_forged(cert, _raised(1e9)), r.network_full, df, second_solver=None, time_limit=10, reprove=False)
    (chk,) = _dual_check(bad)
    assert chk.outcome == "fail" and bad.status == "failed", bad.lines()

    def unflagged(d):  # the record's flag removed: the recorded config still names the linear term
        d["result"]["dual_bound"].pop("linear", None)

    same = recheck(_forged(cert, unflagged), r.network_full, df, second_solver=None, time_limit=10, reprove=False)
    (chk,) = _dual_check(same)
    assert chk.outcome == "pass" and "recomputed" in str(vars(chk)), same.lines()


def test_recheck_subtracts_the_linear_share(monkeypatch: pytest.MonkeyPatch) -> None:
    """A forger who records the plain class's figure (t = 1, no linear share) at the trainer's own multipliers, on
    data where the linear part's share is positive there: the re-check subtracts the share and refutes it."""
    import json

    from mipnet.report.certificates import certificate_from_dict, training_certificate
    from mipnet.train.dual_bound.pair_vertices import vertex_pricing_value

    _no_model(monkeypatch)
    monkeypatch.setattr(dual_record_mod, "DUAL_METHOD", "transport")
    rng = np.random.default_rng(0)
    X = np.round(rng.normal(size=(24, 3)), 2)
    y = (X[:, 0] - 0.8 * X[:, 1] + 0.2 * rng.normal(size=24) > 0).astype(int)
    l1, J = 0.01, 1
    r = train(X, y, config=TrainConfig(hidden=(J,), hypothesis="sign", l1=l1, linear=True), time_limit=8, threads=1)
    net = r.network_full
    cert = training_certificate(net, net.metadata["certificate"], target="y")
    df = pd.DataFrame(X, columns=["x0", "x1", "x2"]).assign(y=y)
    rec = cert.result["dual_bound"]
    pairs = np.asarray(rec["pairs"], dtype=np.float64).reshape(-1, 3)
    Xs = (X - X.mean(axis=0)) / X.std(axis=0)
    dx, pi = Xs[pairs[:, 0].astype(int)] - Xs[pairs[:, 1].astype(int)], pairs[:, 2]
    V = vertex_pricing_value(dx, pi, lam=l1, kappa=l1, weight_bound=1.0)[0]
    plain = 2.0 * pi.sum() - J * max(0.0, V)  # the plain class's value at t = 1 (the smallest V the re-check has)
    share = linear_penalty(dx.T @ pi, lam=l1, l0=0.0, weight_bound=1.0)
    assert share > 1e-3 and plain - share < cert.answer["incumbent"], (share, plain)  # the test can fail
    claim = min(plain, cert.answer["incumbent"]) * (1 - 1e-6)

    d = json.loads(json.dumps(cert.to_dict()))
    inc = d["answer"]["incumbent"]
    for part in (d["answer"], d["result"]):
        part.update(bound=claim, gap=(inc - claim) / inc)
    d["result"]["dual_bound"].update(bound=claim, t=1.0)
    forged = certificate_from_dict(d)
    forged.seal = forged.compute_seal()
    bad = recheck(forged, net, df, second_solver=None, time_limit=10, reprove=False)
    (chk,) = _dual_check(bad)
    assert chk.outcome == "fail" and bad.status == "failed", bad.lines()


def test_recheck_refuses_a_linear_term_outside_the_recorded_class() -> None:
    """A network with exact linear units whose certificate's configuration no longer names the linear term (a bound
    of the smaller class says nothing of it) fails the class check; the honest certificate passes it."""
    import json

    from mipnet.report.certificates import certificate_from_dict, training_certificate

    X, y = _linear_data(0)
    r = train(X, y, config=TrainConfig(hidden=(1,), hypothesis="sign", l1=0.01, linear=True), time_limit=30, threads=1)
    net = r.network_full
    assert net.metadata.get("linear_units"), "the optimum uses the linear term here"
    cert = training_certificate(net, net.metadata["certificate"], target="y")
    df = pd.DataFrame(X, columns=["x0", "x1"]).assign(y=y)

    def class_check(rep):
        return [c for c in rep.checks if c.name == "network of the recorded class"]

    rep = recheck(cert, net, df, second_solver=None, time_limit=10, reprove=False)
    (chk,) = class_check(rep)
    assert chk.outcome == "pass", rep.lines()
    d = json.loads(json.dumps(cert.to_dict()))
    d["question"]["config"].pop("linear")
    forged = certificate_from_dict(d)
    forged.seal = forged.compute_seal()
    bad = recheck(forged, net, df, second_solver=None, time_limit=10, reprove=False)
    (chk,) = class_check(bad)
    assert chk.outcome == "fail" and bad.status == "failed", bad.lines()
