"""The linear (skip) term: with every hidden unit off the certified optimum is the L1-SVM's (an independent LP),
with units it is never above it; the returned network computes what the certificate recomputed; JSON / ONNX round
trips keep the function and the linear units; the certificate re-checks (mipnet.train.linear_term)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy.optimize import linprog

from mipnet.certificates import training_certificate
from mipnet.io import load_model, save_model
from mipnet.report.recheck import recheck
from mipnet.train import TrainConfig, train
from mipnet.train.linear_term import linear_units_of
from mipnet.train.objective_check import _targets, penalty_terms

L1, BW, BB = 0.05, 1.0, 1.0


def _data(n: int = 24, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3)) * [1.0, 2.0, 0.5] + [0.0, 1.0, -1.0]
    y = (X @ [1.0, -0.4, 0.8] + 0.4 * rng.normal(size=n) > -0.2).astype(int)
    return X, y


def l1_svm(X: np.ndarray, y: np.ndarray, lam: float, bw: float, bb: float) -> float:
    """min (1/N) sum_n max(0, 1 - y_n (w x_n + b)) + lam ||w||_1, |w| <= bw, |b| <= bb on the standardised data,
    as an LP (variables w, b, xi, t) solved by scipy's HiGHS."""
    mu, sd = X.mean(axis=0), X.std(axis=0)
    Xs = (X - mu) / np.where(sd > 1e-12, sd, 1.0)
    t = np.where(y == 1, 1.0, -1.0)
    N, d = Xs.shape
    # columns: w (d), b, xi (N), t (d)
    c = np.concatenate([np.zeros(d + 1), np.full(N, 1.0 / N), np.full(d, lam)])
    A, rhs = [], []
    for n in range(N):  # -y (w x + b) - xi <= -1
        row = np.zeros(2 * d + 1 + N)
        row[:d], row[d], row[d + 1 + n] = -t[n] * Xs[n], -t[n], -1.0
        A.append(row)
        rhs.append(-1.0)
    for i in range(d):  # +-w_i - t_i <= 0
        for s in (1.0, -1.0):
            row = np.zeros(2 * d + 1 + N)
            row[i], row[d + 1 + N + i] = s, -1.0
            A.append(row)
            rhs.append(0.0)
    bounds = [(-bw, bw)] * d + [(-bb, bb)] + [(0, None)] * N + [(0, None)] * d
    r = linprog(c, A_ub=np.array(A), b_ub=np.array(rhs), bounds=bounds, method="highs")
    assert r.status == 0
    return float(r.fun)


@pytest.fixture(scope="module")
def linear_only():
    X, y = _data()
    res = train(
        X, y, config=TrainConfig(hidden=(2,), l1=L1, neuron_penalty=100.0), linear=True, time_limit=60, threads=1
    )
    return X, y, res


@pytest.fixture(scope="module")
def with_units():
    X, y = _data()
    res = train(X, y, config=TrainConfig(hidden=(2,), l1=L1), linear=True, time_limit=120, threads=1)
    return X, y, res


def test_linear_only_equals_l1_svm(linear_only):
    X, y, res = linear_only
    cert = res.certificate
    assert cert.status == "optimal" and cert.gap is not None and cert.gap <= 1e-6
    assert res.check["ok"]
    assert cert.terms.get("neurons", 0.0) == 0.0
    lp = l1_svm(X, y, L1, BW, BB)
    assert abs(cert.incumbent - lp) <= 1e-6 * max(1.0, abs(lp)), (cert.incumbent, lp)
    assert linear_units_of(res.network)  # the optimum uses the linear part, as exact ReLU units


def test_with_units_never_above_linear_only(with_units):
    X, y, res = with_units
    cert = res.certificate
    assert cert.status == "optimal" and cert.gap is not None and cert.gap <= 1e-6
    assert cert.incumbent <= l1_svm(X, y, L1, BW, BB) + 1e-6
    assert res.check["ok"]


def test_plain_class_is_not_changed_by_the_option_off():
    X, y = _data()
    res = train(X, y, config=TrainConfig(hidden=(2,), l1=L1), time_limit=60, threads=1)
    assert "linear_units" not in res.network.metadata
    assert "linear" not in res.certificate.formulation["config"]


@pytest.mark.parametrize("which", ["linear_only", "with_units"])
def test_network_forward_is_what_the_certificate_recomputed(which, request):
    X, y, res = request.getfixturevalue(which)
    cert = res.certificate
    for net in (res.network, res.network_full):
        f = net.forward(X)
        target = _targets(y, "classify", cert.classes, 1)
        loss = float(np.maximum(0.0, 1.0 - target * f[:, 0]).mean())
        assert abs(loss - cert.terms["loss"]) <= 1e-9
        pen = penalty_terms(net, cert.coefficients)
        for k, v in pen.items():
            assert abs(v - cert.terms[k]) <= 1e-9 * max(1.0, abs(v)), k


def test_linear_weights_counted_once(linear_only):
    X, y, res = linear_only
    net = res.network
    ((p, q, k),) = linear_units_of(net)
    W = net.layers[1].weight
    assert np.array_equal(W[q], -W[p])
    assert res.certificate.terms["l1"] == pytest.approx(L1 * np.abs(W[p]).sum(), rel=1e-12)
    forged = load_model_dict(net)
    forged.metadata["linear_units"] = [[0, 0, 0]]  # not of the exact form: ordinary units
    assert not linear_units_of(forged)


def load_model_dict(net):
    from mipnet.network import Network

    return Network.from_dict(json.loads(json.dumps(net.to_dict())))


@pytest.mark.parametrize("suffix", [".json", ".onnx"])
def test_round_trip_keeps_function_and_units(with_units, suffix, tmp_path):
    X, y, res = with_units
    path = tmp_path / f"m{suffix}"
    save_model(res.network, path)
    back = load_model(path)
    np.testing.assert_allclose(
        back.forward(X),
        res.network.forward(X),
        rtol=1e-6 if suffix == ".onnx" else 0,
        atol=1e-6 if suffix == ".onnx" else 0,
    )
    assert back.metadata.get("linear_units") == res.network.metadata["linear_units"]


@pytest.mark.parametrize("which", ["linear_only", "with_units"])
def test_certificate_rechecks(which, request):
    X, y, res = request.getfixturevalue(which)
    cert = training_certificate(res.network, res.network.metadata["certificate"], target="y")
    rep = recheck(cert, res.network, (X, y))
    assert rep.status == "ok", rep.lines()
    assert any(c.name == "training bound re-proved by a fresh solve" and c.outcome == "pass" for c in rep.checks)


def test_estimator_and_multiclass_linear_term():
    from mipnet import MIPNetClassifier

    X, y = _data(18, seed=2)
    clf = MIPNetClassifier((1,), l1=L1, linear_term=True, time_limit=60).fit(X, y)
    assert clf.certificate_check_["ok"]
    assert clf.certificate_.formulation["config"]["linear"] is True
    y3 = np.digitize(X[:, 0], [-0.5, 0.5])
    res = train(X, y3, config=TrainConfig(hidden=(1,), l1=L1), linear=True, time_limit=60)
    assert res.check["ok"]


def test_linear_start_is_the_l1_svm_and_beats_a_poor_mapped_start(monkeypatch):
    """The warm start of the class with the linear term is the lower of the mapped gradient net and the sparse linear
    model (every hidden unit off, one LP): the latter is the L1-SVM's optimum; a poor mapped start (every weight at
    the box) loses to it, and the returned network is never above it."""
    from mipnet.train import trainer as trainer_mod
    from mipnet.train.formulation import TrainingProblem, resolve_config
    from mipnet.train.linear_term import linear_start

    X, y = _data(40, 3)
    mu, sd = X.mean(axis=0), X.std(axis=0)
    Xs, t = (X - mu) / sd, np.where(y == 1, 1.0, -1.0)
    cfg = resolve_config(TrainConfig(hidden=(3,), l1=L1, linear=True), "classify", 2)
    problem = TrainingProblem(Xs, t, "classify", 2, cfg, solver="highs")
    like = [(np.zeros(p.shape), np.zeros(p.shape[0])) for p in problem.params]
    w, obj = linear_start(problem, like, solver="highs", threads=1, instance=None)
    svm = l1_svm(X, y, L1, BW, BB)
    assert obj == pytest.approx(svm, abs=1e-6) and not np.any(w[0][0]) and np.any(problem.linear_w)

    real = trainer_mod.map_to_class

    def poor(weights, problem):  # every weight at the box, output signs alternating
        mapped = real(weights, problem)
        return [(np.full_like(W, BW), np.zeros_like(b)) for W, b in mapped[:-1]] + [
            (np.where(np.arange(mapped[-1][0].size) % 2, -1.0, 1.0).reshape(mapped[-1][0].shape), mapped[-1][1])
        ]

    monkeypatch.setattr(trainer_mod, "map_to_class", poor)
    lines: list[str] = []
    res = train(X, y, config=TrainConfig(hidden=(3,), l1=L1), linear=True, time_limit=30, threads=1, log=lines.append)
    assert any("warm start: the sparse linear model" in s for s in lines), lines
    assert res.certificate.incumbent <= svm + 1e-6 and res.check["ok"]
