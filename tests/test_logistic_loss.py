"""The logistic loss: its tangent envelope (below l, within the tolerance), the training MILP's bound never above
the true optimum (an independent convex solve; random networks of the class), the certificate's true loss, the
estimator's probabilities, the command line and the refusals."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import minimize

from mipnet.certificates import training_certificate
from mipnet.cli import cli
from mipnet.errors import UnsupportedError
from mipnet.io import load_model
from mipnet.report.recheck import recheck
from mipnet.train import TrainConfig, train
from mipnet.train.logistic import (
    LOGISTIC_TOLERANCE,
    envelope_error,
    logistic_loss,
    logistic_slope,
    logistic_tangent_points,
    restrict,
)

L1 = 0.02


def envelope(points: np.ndarray, z: np.ndarray) -> np.ndarray:
    tangents = logistic_loss(points)[:, None] + logistic_slope(points)[:, None] * (z[None, :] - points[:, None])
    return np.maximum(0.0, tangents.max(axis=0))


@settings(max_examples=60, deadline=None)
@given(
    st.floats(-30, 10),
    st.floats(0.01, 40),
    st.sampled_from([1e-2, 2e-3, 1e-4]),
    st.floats(0, 1),
    st.floats(0, 1),
)
def test_envelope_is_below_and_within_tolerance(lo, width, tol, a, b):
    hi = lo + width
    pts = logistic_tangent_points(lo, hi, tol)
    assert pts[0] == lo and np.all(np.diff(pts) > 0)
    # the grid reaches hi, or stops at the first point where l <= tol (xi >= 0 covers the rest)
    assert pts[-1] == hi or (logistic_loss(pts[-1]) <= tol and np.all(logistic_loss(pts[:-1]) > tol))
    z = np.linspace(lo, hi, 20001)
    err = logistic_loss(z) - envelope(pts, z)
    assert err.min() >= -1e-12  # a lower approximation: the bound stays valid
    assert err.max() <= tol * (1 + 1e-6)
    # a sample's sub-range: the grid restricted to it, with its ends, keeps the error bound
    sub_lo, sub_hi = sorted((lo + a * width, lo + b * width))
    if sub_hi > sub_lo:
        sub = restrict(pts, sub_lo, sub_hi, tol)
        zs = np.linspace(sub_lo, sub_hi, 5001)
        e2 = logistic_loss(zs) - envelope(sub, zs)
        assert e2.min() >= -1e-12 and e2.max() <= tol * (1 + 1e-6)


def test_envelope_error_of_far_points_is_large():
    assert envelope_error(-2.0, 2.0) > 0.1  # the check above is not vacuous
    assert envelope_error(0.0, 0.01) < 1e-5


def _data(n: int = 30, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3)) * [1.0, 2.0, 0.5] + [0.0, 1.0, -1.0]
    y = (X @ [1.0, -0.4, 0.8] + 0.8 * rng.normal(size=n) > -0.2).astype(int)
    return X, y


def l1_logistic(X: np.ndarray, y: np.ndarray, lam: float, bw: float, bb: float) -> float:
    """min (1/N) sum_n l(y_n (w x_n + b)) + lam ||w||_1, |w| <= bw, |b| <= bb on the standardised data: a smooth
    convex problem in w = p - q (p, q in [0, bw]), solved by L-BFGS-B."""
    Xs = (X - X.mean(axis=0)) / X.std(axis=0)
    t = np.where(y == 1, 1.0, -1.0)
    d = Xs.shape[1]

    def fun(v: np.ndarray) -> tuple[float, np.ndarray]:
        p, q, b = v[:d], v[d : 2 * d], v[-1]
        z = t * (Xs @ (p - q) + b)
        g = logistic_slope(z) * t / len(t)
        gw = Xs.T @ g
        val = float(logistic_loss(z).mean() + lam * (p.sum() + q.sum()))
        return val, np.concatenate([gw + lam, -gw + lam, [g.sum()]])

    best = np.inf
    for start in (np.zeros(2 * d + 1), np.full(2 * d + 1, 0.3)):
        r = minimize(fun, start, jac=True, method="L-BFGS-B", bounds=[(0, bw)] * (2 * d) + [(-bb, bb)],
                     options={"ftol": 1e-14, "gtol": 1e-10, "maxiter": 10000})  # fmt: skip
        best = min(best, float(r.fun))
    return best


@pytest.fixture(scope="module")
def linear_only():
    X, y = _data()
    cfg = TrainConfig(hidden=(1,), loss="logistic", l1=L1, max_neurons=0)
    # the envelope MILP (the path of every class with hidden units); the cutting planes have their own test below
    return X, y, train(X, y, config=cfg, linear=True, time_limit=60, threads=1, cutting_planes=False)


def test_linear_only_by_cutting_planes_is_the_convex_optimum():
    """The default path for the linear term alone: cuts on the true loss, no envelope tolerance in the bound."""
    X, y = _data()
    cfg = TrainConfig(hidden=(1,), loss="logistic", l1=L1, max_neurons=0)
    res = train(X, y, config=cfg, linear=True, time_limit=60, threads=1)
    cert = res.certificate
    assert res.check["ok"], res.check
    assert cert.bound_source == "cuts" and cert.status == "optimal", cert
    opt = l1_logistic(X, y, L1, 1.0, 1.0)
    assert cert.bound is not None and cert.bound <= opt + 1e-9, (cert.bound, opt)
    assert opt - 1e-9 <= cert.incumbent <= opt + 1e-6, (cert.incumbent, opt)
    assert cert.gap is not None and cert.gap <= 1e-5


def test_linear_only_brackets_the_convex_optimum(linear_only):
    X, y, res = linear_only
    cert = res.certificate
    assert res.check["ok"], res.check
    assert cert.loss == "logistic" and "loss" in cert.outer_approximated
    opt = l1_logistic(X, y, L1, 1.0, 1.0)
    assert cert.bound is not None and cert.bound <= opt + 1e-7, (cert.bound, opt)
    assert cert.incumbent >= opt - 1e-7
    # the envelope's optimum is within the tolerance of l's: the returned network is within it of the optimum
    assert cert.incumbent <= opt + LOGISTIC_TOLERANCE + 1e-6, (cert.incumbent, opt)
    assert cert.gap is not None and cert.gap <= 1.5 * LOGISTIC_TOLERANCE / cert.incumbent
    # the model's loss is the envelope's: below the true loss, within the tolerance
    assert cert.terms["loss"] - LOGISTIC_TOLERANCE - 1e-7 <= cert.model_terms["loss"] <= cert.terms["loss"] + 1e-7


def test_certificate_loss_is_the_true_logistic_loss(linear_only):
    X, y, res = linear_only
    f = res.network.forward(X)[:, 0]
    t = np.where(y == 1, 1.0, -1.0)
    assert abs(res.certificate.terms["loss"] - float(np.mean(np.log1p(np.exp(-t * f))))) <= 1e-9


def test_certificate_rechecks_and_a_lowered_loss_fails(linear_only):
    X, y, res = linear_only
    meta = res.network.metadata["certificate"]
    rep = recheck(training_certificate(res.network, meta, target="y"), res.network, (X, y))
    assert rep.status == "ok", rep.lines()
    forged = {**meta, "terms": {**meta["terms"], "loss": meta["terms"]["loss"] - 0.01}}
    forged["incumbent"] = meta["incumbent"] - 0.01
    rep = recheck(training_certificate(res.network, forged, target="y"), res.network, (X, y))
    assert rep.status != "ok"


def _sign_objective(Xs: np.ndarray, t: np.ndarray, W: np.ndarray, b: np.ndarray, v: np.ndarray, c: float) -> float:
    f = np.maximum(Xs @ W.T + b, 0.0) @ v + c
    return float(logistic_loss(t * f).mean() + L1 * (np.abs(W[v != 0]).sum() + np.abs(v).sum()))


def test_sign_class_bound_below_every_sampled_network():
    X, y = _data(n=14, seed=3)
    X = X[:, :2]
    cfg = TrainConfig(hidden=(2,), loss="logistic", l1=L1)
    res = train(X, y, config=cfg, time_limit=60, threads=1)
    cert = res.certificate
    assert res.check["ok"] and cert.bound is not None and cert.bound <= cert.incumbent + 1e-9
    Xs = (X - X.mean(axis=0)) / X.std(axis=0)
    t = np.where(y == 1, 1.0, -1.0)
    rng = np.random.default_rng(0)
    best = np.inf
    for _ in range(3000):
        W = rng.uniform(-1, 1, size=(2, 2))
        b = rng.uniform(-1, 1, size=2)
        v = rng.integers(-1, 2, size=2).astype(float)
        best = min(best, _sign_objective(Xs, t, W, b, v, float(rng.uniform(-1, 1))))
    assert cert.bound <= best + 1e-9, (cert.bound, best)
    if cert.status in ("optimal", "feasible") and cert.gap is not None and cert.gap <= 1e-3:
        assert cert.incumbent <= best + LOGISTIC_TOLERANCE + 1e-6


def test_predict_proba_only_for_the_logistic_loss():
    from mipnet import MIPNetClassifier

    X, y = _data(20, seed=1)
    clf = MIPNetClassifier((1,), loss="logistic", l1=L1, time_limit=30).fit(X, y)
    p = clf.predict_proba(X)
    assert p.shape == (20, 2) and np.allclose(p.sum(axis=1), 1.0)
    np.testing.assert_array_equal(clf.classes_[p.argmax(axis=1)], clf.predict(X))
    np.testing.assert_allclose(p[:, 1], 1 / (1 + np.exp(-clf.decision_function(X))), atol=1e-12)
    hinge = MIPNetClassifier((1,), l1=L1, time_limit=30)
    assert not hasattr(hinge, "predict_proba")


def test_multiclass_logistic_is_refused():
    X, _ = _data(12)
    y = np.arange(12) % 3
    with pytest.raises(UnsupportedError, match="binary"):
        train(X, y, config=TrainConfig(hidden=(1,), loss="logistic"), time_limit=5)


def test_cli_trains_with_the_logistic_loss(tmp_path):
    X, y = _data(24, seed=4)
    df = pd.DataFrame(X, columns=["a", "b", "c"])
    df["y"] = y
    path, out = tmp_path / "d.csv", tmp_path / "m.json"
    df.to_csv(path, index=False)
    r = CliRunner().invoke(
        cli, ["train", str(path), "--target", "y", "--hidden", "1", "--loss", "logistic", "--l1", "0.02",
              "--time-limit", "20", "-o", str(out)],
    )  # fmt: skip
    assert r.exit_code in (0, 1), r.output
    cert = load_model(out).metadata["certificate"]
    assert cert["loss"] == "logistic" and "loss" in cert["outer_approximated"]


def test_sub_mip_effort_is_lower_for_the_logistic_loss_only():
    from mipnet.train import TrainingProblem
    from mipnet.train.warmstart_complete import LOGISTIC_HEURISTIC_EFFORT, _highs_knows, milp_options

    if not _highs_knows("mip_heuristic_effort"):
        pytest.skip("this HiGHS has no mip_heuristic_effort")
    X, y = _data(8)
    Xs = (X - X.mean(axis=0)) / X.std(axis=0)
    t = np.where(y == 1, 1.0, -1.0)
    efforts = {}
    for loss in ("logistic", "hinge"):
        prob = TrainingProblem(Xs, t, "classify", 2, TrainConfig(hidden=(1,), loss=loss, l1=L1), solver="highs")
        efforts[loss] = milp_options(prob, "highs", 60.0)["mip_heuristic_effort"]
    # set explicitly both ways: options persist on a shared HiGHS instance
    assert efforts == {"logistic": LOGISTIC_HEURISTIC_EFFORT, "hinge": 0.05}


def test_logistic_start_prefers_the_best_constant_over_a_worse_mapped_net():
    from mipnet.train.sign_start import logistic_start

    rng = np.random.default_rng(5)
    Xs = rng.normal(size=(200, 3))
    t = np.where(Xs[:, 0] + 0.3 * rng.normal(size=200) > 0.8, 1.0, -1.0)  # about a quarter positive
    cfg = TrainConfig(hidden=(2,), loss="logistic", l1=L1, bias_bound=2.0)
    wrong = [(np.zeros((2, 3)), np.zeros(2)), (np.array([[1.0, -1.0]]), np.array([2.0]))]  # everyone positive
    got = logistic_start(wrong, Xs, t, cfg)
    assert got is not None
    w, origin = got
    assert "constant" in origin and all(not W.any() for W, _ in w) and not w[0][1].any()
    p = float(np.mean(t > 0))
    c = float(w[-1][1][0])
    assert abs(c - np.log(p / (1 - p))) <= 1e-12  # inside the box: the exact minimiser
    grid = np.linspace(-2, 2, 4001)
    assert logistic_loss(t * c).mean() <= min(logistic_loss(t * g).mean() for g in grid) + 1e-12
    # a mapped net with a lower loss is kept
    good = [
        (np.array([[2.0, 0.0, 0.0], [0.0, 0.0, 0.0]]), np.array([-1.6, 0.0])),
        (np.array([[1.0, 0.0]]), np.array([-1.2])),
    ]
    assert logistic_start(good, Xs, t, cfg) is None
    # the box clips the constant (the loss is convex in c: the clipped value is the minimum on the box)
    w2, _ = logistic_start(wrong, Xs, t, TrainConfig(hidden=(2,), loss="logistic", bias_bound=0.1))
    assert w2[-1][1][0] == pytest.approx(-0.1)


def test_certificate_with_the_loss_renamed_fails(linear_only):
    """A forger who renames the loss (the hinge's recorded figures stay those of the logistic loss) is caught by the
    loss recomputed from the data."""
    X, y, res = linear_only
    meta = copy.deepcopy(res.network.metadata["certificate"])
    meta["loss"] = "hinge"
    meta["formulation"]["config"]["loss"] = "hinge"
    rep = recheck(training_certificate(res.network, meta, target="y"), res.network, (X, y), second_solver=None)
    assert rep.status != "ok"
    assert any(c.name == "objective terms recomputed from weights and data" and c.outcome == "fail" for c in rep.checks)


def test_scorecard_prints_the_risk_of_a_logistic_model(linear_only):
    from mipnet.explain.scorecard import RISK_POINTS, scorecard

    X, _, res = linear_only
    card = scorecard(res.network)
    assert card.logistic
    # the risk at a total of points is the model's probability at any input with that total
    total = card.evaluate(X)[:, 0] / card.scale
    np.testing.assert_allclose(card.risks(total), 1 / (1 + np.exp(-res.network.forward(X)[:, 0])), atol=1e-12)
    np.testing.assert_allclose(card.risks(), 1 / (1 + np.exp(-card.scale * np.asarray(RISK_POINTS))), atol=1e-15)
    text = card.render(3)
    assert "risk (trained with the logistic loss)" in text and "+0 points: 50 %" in text
    assert card.to_dict()["risk"]["points"] == RISK_POINTS
    hinge = train(*_data(), config=TrainConfig(hidden=(1,), l1=L1, max_neurons=0), linear=True, time_limit=30)
    hinge_card = scorecard(hinge.network)
    assert not hinge_card.logistic and "risk" not in hinge_card.render(3) and "risk" not in hinge_card.to_dict()


def test_without_the_model_a_logistic_fit_is_no_worse_than_the_best_constant():
    """When the scale plan builds no model (here: a 1 MB memory cap), the warm start is returned: with the logistic
    loss it is the best constant network whenever the mapped gradient net's loss is no lower (before: the mapped
    net, which could predict the minority class everywhere)."""
    from mipnet.train.scale_policy import ScalePolicy

    rng = np.random.default_rng(7)
    X = rng.normal(size=(300, 4))
    y = (rng.uniform(size=300) < 0.2).astype(int)  # labels independent of X: nothing beats the constant by much
    cfg = TrainConfig(hidden=(2,), loss="logistic", l1=0.01)
    res = train(X, y, config=cfg, time_limit=20, threads=1, scale_policy=ScalePolicy(memory_cap_mb=1.0))
    cert = res.certificate
    assert cert.bound is None and res.check["ok"]
    p = y.mean()
    c = float(np.clip(np.log(p / (1 - p)), -1.0, 1.0))
    const = float(np.mean(np.log1p(np.exp(-np.where(y == 1, 1.0, -1.0) * c))))
    assert cert.incumbent <= const + 1e-9, (cert.incumbent, const)
    assert (res.network.predict(X) == 0).mean() >= 0.5  # the majority class, not the minority everywhere
