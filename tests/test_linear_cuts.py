"""The linear term alone by cutting planes (mipnet.train.linear_cuts): valid cuts, a bound never above the optimum
found by brute force over the supports (solved independently: scipy's linprog for the hinge, L-BFGS-B for the
logistic loss), an incumbent at the optimum, constraints met, merged rows exact, and the certificate's re-check
(honest passes; a raised bound or edited points fail)."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pandas as pd
import pytest
from helpers import forged
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog, minimize

from mipnet.certificates import recheck, training_certificate
from mipnet.deadline import Deadline
from mipnet.train import TrainConfig, train
from mipnet.train.config import resolve_config
from mipnet.train.constraints import ConstraintError, Resolved
from mipnet.train.linear_cuts import LinearCuts, applies, fit_by_cuts, master_bound


def _data(seed: int, n: int, d: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = np.where(X[:, 0] - 0.7 * X[:, -1] + 0.8 * rng.normal(size=n) > 0, 1.0, -1.0)
    return X, y


def _cfg(loss: str, l1: float, l0: float = 0.0, constraints: tuple[Resolved, ...] = ()) -> TrainConfig:
    return resolve_config(
        TrainConfig(hidden=(1,), loss=loss, l1=l1, l0=l0, linear=True, max_neurons=0, constraints=constraints),
        "classify",
        2,
    )


def _support_optimum(X, y, S, loss, l1, lo, hi, orders=()) -> float:
    """min over w supported on S, |b| <= 1: (1/N) sum l(y (x w + b)) + l1 |w|_1, solved without mipnet."""
    N, k = X.shape[0], len(S)
    XS = X[:, list(S)]
    if loss == "hinge":
        # variables: u (k), v (k), b, xi (N); w = u - v
        c = np.concatenate([np.full(2 * k, l1), [0.0], np.full(N, 1.0 / N)])
        yX = y[:, None] * XS
        A = np.hstack([-yX, yX, -y[:, None], -np.eye(N)])  # -(y (x w + b)) - xi <= -1
        A_ub, b_ub = [A], [-np.ones(N)]
        for dx, delta in orders:
            A_ub.append(np.concatenate([-dx[list(S)], dx[list(S)], [0.0], np.zeros(N)])[None, :])
            b_ub.append(np.array([-delta]))
        bounds = [(0, max(0.0, hi[i])) for i in S] + [(0, max(0.0, -lo[i])) for i in S] + [(-1, 1)] + [(0, None)] * N
        r = linprog(c, A_ub=np.vstack(A_ub), b_ub=np.concatenate(b_ub), bounds=bounds, method="highs")
        return float(r.fun) if r.status == 0 else np.inf
    assert not orders

    def f(p):
        w = p[:k] - p[k : 2 * k]
        z = y * (XS @ w + p[-1])
        val = np.mean(np.logaddexp(0.0, -z)) + l1 * p[: 2 * k].sum()
        s = -y / (1.0 + np.exp(z)) / N
        g = XS.T @ s
        return val, np.concatenate([g + l1, -g + l1, [s.sum()]])

    bounds = [(0, max(0.0, hi[i])) for i in S] + [(0, max(0.0, -lo[i])) for i in S] + [(-1, 1)]
    r = minimize(f, np.zeros(2 * k + 1), jac=True, method="L-BFGS-B", bounds=bounds, options={"gtol": 1e-12})
    return float(r.fun)


def _brute(X, y, loss, l1, l0, k, lo, hi, orders=()) -> float:
    d = X.shape[1]
    best = np.inf
    free = [i for i in range(d) if hi[i] > lo[i]]
    for size in range(0, min(k, len(free)) + 1):
        for S in itertools.combinations(free, size):
            best = min(best, _support_optimum(X, y, S, loss, l1, lo, hi, orders) + l0 * size)
    return best


@settings(max_examples=14, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    loss=st.sampled_from(["hinge", "logistic"]),
    l1=st.sampled_from([0.0, 0.01, 0.05]),
    l0=st.sampled_from([0.0, 0.02]),
    k=st.sampled_from([1, 2, 4]),
    groups=st.sampled_from([1, 7, 30]),
)
@example(seed=332, loss="logistic", l1=0.05, l0=0.02, k=2, groups=1)  # HiGHS's absolute gap 1e-6 ended it "feasible"
def test_bound_below_the_brute_force_optimum_and_incumbent_at_it(seed, loss, l1, l0, k, groups):
    X, y = _data(seed, 30, 4)
    cons = (Resolved(kind="budget", k=k),) if k < 4 else ()
    P = LinearCuts(X, y, _cfg(loss, l1, l0, cons), groups=groups)
    r = fit_by_cuts(P, Deadline(30), mip_gap=1e-7)
    opt = _brute(X, y, loss, l1, l0, k, -np.ones(4), np.ones(4))
    tol = 1e-6 * max(1.0, opt)
    assert r.bound is not None and r.bound <= opt + tol, (r.bound, opt)
    assert r.objective >= opt - tol and abs(P.objective(r.w, r.b) - r.objective) <= 1e-12
    assert r.status == "optimal" and r.objective <= opt + 1e-5, (r.objective, opt, r.stop)
    assert np.count_nonzero(r.w) <= k
    # the recorded points re-derive the bound on a fresh master
    again = master_bound(LinearCuts(X, y, _cfg(loss, l1, l0, cons), groups=groups), r.points, Deadline(30))
    assert again is not None and r.bound - 1e-7 <= again <= opt + tol  # (the master's own bound: not clipped)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000), loss=st.sampled_from(["hinge", "logistic"]), groups=st.sampled_from([1, 4, 25]))
def test_every_cut_lies_below_the_loss(seed, loss, groups):
    """Cuts at random points (and hinge cuts with random alphas in [0, 1]) never exceed each group's loss at
    sampled points, nor does their sum exceed L; a tangent / subgradient cut touches L at its point."""
    X, y = _data(seed, 25, 3)
    P = LinearCuts(X, y, _cfg(loss, 0.0), groups=groups)
    rng = np.random.default_rng(seed)
    probes = rng.uniform(-1, 1, size=(400, 4))
    L = np.array([P.objective(p[:3], p[3]) for p in probes])
    group_of = np.arange(25) % groups
    for _ in range(6):
        w, b = rng.uniform(-1, 1, 3), float(rng.uniform(-1, 1))
        alpha = rng.uniform(0, 1, 25) if loss == "hinge" else None
        g_w, g_b, r = P.cut(w, b, alpha)
        cut = probes[:, :3] @ g_w.T + probes[:, [3]] * g_b[None, :] + r[None, :]  # (probes, groups)
        for g in range(groups):
            m = group_of == g
            z = y[m][:, None] * (X[m] @ probes[:, :3].T + probes[:, 3][None, :])  # (rows of g, probes)
            lg = (np.logaddexp(0.0, -z) if loss == "logistic" else np.maximum(0.0, 1.0 - z)).sum(axis=0) / 25
            assert np.all(cut[:, g] <= lg + 1e-12)
        assert np.all(cut.sum(axis=1) <= L + 1e-12)
        if alpha is None:
            assert abs(float((g_w @ w + g_b * b + r).sum()) - P.objective(w, b)) <= 1e-12


def test_sign_exclusion_and_order_constraints_are_met_and_bounded():
    X, y = _data(3, 40, 3)
    dx = np.array([0.0, 1.0, 0.0])  # f(x_a) - f(x_b) = w_1 >= 0.3: forces the second feature in
    cons = (
        Resolved(kind="sign", features=(0,), sign=-1),  # against the data: the first weight is pushed to 0
        Resolved(kind="exclude", features=(2,)),
        Resolved(kind="order", x_a=tuple(dx), x_b=(0.0, 0.0, 0.0), delta=0.3),
    )
    P = LinearCuts(X, y, _cfg("hinge", 0.01, 0.0, cons))
    r = fit_by_cuts(P, Deadline(30), mip_gap=1e-7)
    assert r.w[0] <= 0 and r.w[2] == 0 and r.w[1] >= 0.3 - 1e-9
    lo, hi = np.array([-1.0, -1.0, 0.0]), np.array([0.0, 1.0, 0.0])
    opt = _brute(X, y, "hinge", 0.01, 0.0, 3, lo, hi, orders=[(dx, 0.3)])
    assert r.bound is not None and r.bound <= opt + 1e-7 and r.objective <= opt + 1e-6
    # just outside: delta above what the box allows (w_1 <= 1) leaves no network; said before any master is built
    bad = (Resolved(kind="order", x_a=tuple(dx), x_b=(0.0, 0.0, 0.0), delta=1.0 + 1e-3),)
    with pytest.raises(ConstraintError, match="infeasible: f.x_a. - f.x_b. is at most 1 for every linear model"):
        LinearCuts(X, y, _cfg("hinge", 0.01, 0.0, bad))
    at_edge = (Resolved(kind="order", x_a=tuple(dx), x_b=(0.0, 0.0, 0.0), delta=1.0),)  # just inside: w_1 = 1
    assert LinearCuts(X, y, _cfg("hinge", 0.01, 0.0, at_edge)).feasible(np.array([0.0, 1.0, 0.0]))


def test_merged_rows_give_the_same_objective_and_bound():
    X, y = _data(5, 20, 3)
    Xd, yd = np.vstack([X, X[:7]]), np.concatenate([y, y[:7]])
    counts = np.concatenate([np.full(7, 2.0), np.ones(13)])
    cfg = _cfg("logistic", 0.02, 0.0, (Resolved(kind="budget", k=2),))
    full = fit_by_cuts(LinearCuts(Xd, yd, cfg), Deadline(30), mip_gap=1e-8)
    merged = fit_by_cuts(LinearCuts(X, y, cfg, counts, Xd.shape[0]), Deadline(30), mip_gap=1e-8)
    assert abs(full.objective - merged.objective) <= 1e-8
    assert full.bound is not None and merged.bound is not None and abs(full.bound - merged.bound) <= 1e-6


def test_applies_only_to_the_linear_term_alone():
    assert applies(_cfg("hinge", 0.01), "classify", 2) is None
    assert applies(_cfg("hinge", 0.01), "classify", 3) is not None
    hidden = resolve_config(TrainConfig(hidden=(2,), loss="hinge", linear=True), "classify", 2)
    assert applies(hidden, "classify", 2) is not None
    parity = _cfg("hinge", 0.01, 0.0, (Resolved(kind="parity", groups=(0, 1), delta=0.1),))
    assert "parity" in str(applies(parity, "classify", 2))


# ------------------------------------------------------------------------------------- the trainer and re-check
@pytest.fixture(scope="module")
def trained():
    X, y = _data(11, 120, 4)
    df = pd.DataFrame(X, columns=["x0", "x1", "x2", "x3"])
    yl = (y > 0).astype(int)
    cfg = TrainConfig(hidden=(1,), loss="hinge", l1=0.01, max_neurons=0)
    res = train(df.to_numpy(), yl, config=cfg, linear=True, constraints=[{"kind": "budget", "k": 2}], time_limit=30)
    df["y"] = yl
    net = res.network
    return net, df, training_certificate(net, net.metadata["certificate"], target="y"), res


def test_trained_network_certificate_by_cuts(trained):
    net, df, cert, res = trained
    c = res.certificate
    assert c.bound_source == "cuts" and c.status == "optimal" and res.check["ok"]
    assert np.count_nonzero(np.abs(net.layers[1].weight).sum(axis=0)) <= 2  # the budget, on the returned network
    Xr = df[["x0", "x1", "x2", "x3"]].to_numpy()
    Xs = (Xr - Xr.mean(axis=0)) / Xr.std(axis=0)
    opt = _brute(Xs, np.where(df["y"] > 0, 1.0, -1.0), "hinge", 0.01, 0.0, 2, -np.ones(4), np.ones(4))
    assert c.bound <= opt + 1e-7 and c.incumbent <= opt + 1e-6
    rep = recheck(cert, net, df, second_solver=None, time_limit=30)
    assert rep.status == "ok" and rep.exit_code == 0, rep.lines()
    assert any("recorded cuts" in line and "PASS" in line for line in rep.lines()), rep.lines()


def test_recheck_refuses_thinned_or_unreadable_cuts(trained):
    net, df, cert, _ = trained

    def thinned(d):  # only the first cut kept: the master proves far less than the claimed bound
        d["result"]["formulation"]["cuts"]["points"] = d["result"]["formulation"]["cuts"]["points"][:1]

    def garbage(d):
        d["result"]["formulation"]["cuts"]["points"] = [["x"]]

    def none(d):
        del d["result"]["formulation"]["cuts"]

    def bad_groups(d):
        d["result"]["formulation"]["cuts"]["groups"] = -1

    def truncated_short(d):  # the fit truncates only a record past MAX_RECORDED_POINTS: "truncated" here is an edit
        thinned(d)
        d["result"]["formulation"]["cuts"]["truncated"] = True

    def no_config(d):  # a bound from cuts whose class is not recorded names no problem (was: not re-proved)
        d["question"]["config"] = None

    for edit in (thinned, garbage, none, bad_groups, truncated_short, no_config):
        rep = recheck(forged(cert, edit), net, df, second_solver=None, time_limit=20)
        assert rep.status == "failed" and rep.exit_code != 0, (edit.__name__, rep.lines())
        assert any("recorded cuts" in line and "FAIL" in line for line in rep.lines()), rep.lines()


def test_recheck_refuses_cuts_named_for_a_network_with_hidden_units():
    X, y = _data(2, 40, 3)
    df = pd.DataFrame(X, columns=["x0", "x1", "x2"])
    yl = (y > 0).astype(int)
    res = train(df.to_numpy(), yl, config=TrainConfig(hidden=(2,), l1=0.01), time_limit=10, threads=1)
    df["y"] = yl
    net = res.network
    cert = training_certificate(net, net.metadata["certificate"], target="y")
    if cert.answer.get("bound") is None or cert.answer["bound"] <= 0:
        pytest.skip("no positive bound to re-attribute")

    def to_cuts(d):
        d["result"]["bound_source"] = "cuts"
        d["result"]["formulation"]["cuts"] = {"points": [[0.0, 0.0, 0.0, 0.0]]}

    rep = recheck(forged(cert, to_cuts), net, df, second_solver=None, time_limit=10)
    assert rep.status == "failed", rep.lines()


def test_cutting_planes_off_uses_the_training_milp():
    X, y = _data(4, 40, 3)
    cfg = TrainConfig(hidden=(1,), loss="hinge", l1=0.01, max_neurons=0)
    on = train(X, (y > 0).astype(int), config=cfg, linear=True, time_limit=20, threads=1)
    off = train(X, (y > 0).astype(int), config=cfg, linear=True, time_limit=20, threads=1, cutting_planes=False)
    assert on.certificate.bound_source == "cuts" and off.certificate.bound_source == "milp"
    assert abs(on.certificate.incumbent - off.certificate.incumbent) <= 1e-5 * max(1.0, off.certificate.incumbent)


def test_cli_trains_the_linear_model_alone_and_rechecks_it(tmp_path):
    from click.testing import CliRunner

    from mipnet.cli import cli
    from mipnet.io import load_model
    from mipnet.report.certificates import save_certificate

    X, y = _data(8, 60, 3)
    df = pd.DataFrame(X, columns=["a", "b", "c"])
    df["y"] = (y > 0).astype(int)
    data, model, cons = tmp_path / "d.csv", tmp_path / "m.json", tmp_path / "c.json"
    df.to_csv(data, index=False)
    cons.write_text(json.dumps([{"kind": "budget", "k": 1}, {"kind": "sign", "feature": "a", "sign": 1}]))
    r = CliRunner().invoke(
        cli, ["train", str(data), "--target", "y", "--hidden", "1", "--max-neurons", "0", "--linear",
              "--loss", "logistic", "--l1", "0.01", "--constraint", str(cons), "--time-limit", "20", "-o", str(model)],
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    net = load_model(model)
    cert = net.metadata["certificate"]
    assert cert["bound_source"] == "cuts" and cert["status"] == "optimal", cert["status"]
    W = net.layers[1].weight
    assert np.count_nonzero(np.abs(W).sum(axis=0)) <= 1
    # the summary's count of the exported unit pairs (weights twice, +-1 outputs) says how training counts them
    from mipnet.train.objective_check import sparsity_counts

    once = int(sparsity_counts(net)["nonzeros"])
    assert f"{net.n_nonzero()} of" in r.output and f"; {once} as training counts them" in r.output, r.output
    path = tmp_path / "cert.json"
    save_certificate(training_certificate(net, cert, target="y"), path)
    r = CliRunner().invoke(cli, ["recheck", str(path), str(model), str(data), "--second-solver", "none"])
    assert r.exit_code == 0 and "recorded cuts" in r.output, r.output
    # a nonsense option fails before any work, in one line
    r = CliRunner().invoke(
        cli, ["train", str(data), "--target", "y", "--max-neurons", "-1", "--linear", "-o", str(tmp_path / "x.json")]
    )
    assert r.exit_code == 2 and not (tmp_path / "x.json").exists()
    # no hidden unit and no linear term is the constant model (trained silently at accuracy 0.5): refused
    r = CliRunner().invoke(cli, ["train", str(data), "--target", "y", "--max-neurons", "0", "-o", str(model)])
    assert r.exit_code == 2 and "add --linear" in r.output, r.output


def test_a_truncated_record_is_re_proved_by_more_cuts_or_refuted(trained):
    """A fit with more points than the record keeps says so; the re-check goes on cutting from the recorded points:
    an honest claim is re-proved (never "failed"), and a forged one (the budget struck out of the recorded class, so
    that "optimal" claims the unconstrained optimum) is refuted by the model it finds, not left "not re-proved"."""
    net, df, cert, _ = trained

    from mipnet.train.linear_cuts import MAX_RECORDED_POINTS

    def truncated(d):  # a full record (the cap) of one repeated point: proves less than the claim alone
        first = d["result"]["formulation"]["cuts"]["points"][0]
        d["result"]["formulation"]["cuts"]["points"] = [first] * MAX_RECORDED_POINTS
        d["result"]["formulation"]["cuts"]["truncated"] = True

    rep = recheck(forged(cert, truncated), net, df, second_solver=None, time_limit=20)
    assert rep.status != "failed", rep.lines()
    line = next(line for line in rep.lines() if "recorded cuts" in line)
    assert ("PASS" in line and "new" in line) or f"first {MAX_RECORDED_POINTS} cut points" in line, line

    def unconstrained(d):
        truncated(d)
        for block in (d["question"]["config"], d["result"]["formulation"]["config"]):
            block["constraints"] = []
        d["result"]["formulation"].pop("domain_constraints", None)

    rep = recheck(forged(cert, unconstrained), net, df, second_solver=None, time_limit=20)
    assert rep.status == "failed" and rep.exit_code == 1, rep.lines()
    assert any("below the claimed bound" in line and "FAIL" in line for line in rep.lines()), rep.lines()


def test_no_time_with_an_output_order_is_one_clear_error():
    """With an output order the constant model is not a network of the class: a deadline that leaves no master
    solve gives the trainer's one-line SolverError, not an assertion."""
    from mipnet.errors import SolverError

    X, y = _data(6, 30, 3)
    cons = (Resolved(kind="order", x_a=(0.0, 1.0, 0.0), x_b=(0.0, 0.0, 0.0), delta=0.3),)
    P = LinearCuts(X, y, _cfg("logistic", 0.01, 0.0, cons))
    with pytest.raises(SolverError, match="no network meeting the training constraints"):
        fit_by_cuts(P, Deadline(0.0), mip_gap=1e-6)


def test_top_k_start_is_the_largest_allowed_weights_and_meets_the_budget():
    """top_k_support: the K allowed features of largest |w| at the given point; an excluded feature is never picked;
    at a point with <= K non-zeros (or none) the l1-logistic fit over every allowed feature ranks them. The fit's
    incumbent meets the budget however the start was found (the start is the logistic loss's; the hinge's fit here
    goes without it)."""
    from mipnet.train.linear_cuts import top_k_support
    from mipnet.train.linear_polish import polish_logistic

    X, y = _data(5, 80, 6)
    excl = Resolved(kind="exclude", features=(0,))
    P = LinearCuts(X, y, _cfg("hinge", 0.001, constraints=(excl, Resolved(kind="budget", k=2))))
    allowed = np.flatnonzero(P.w_hi - P.w_lo)
    assert 0 not in allowed
    w = np.array([9.0, 0.1, -0.5, 0.3, 0.0, 0.7])
    assert top_k_support(P, allowed, 2, w).tolist() == [2, 5]
    ranked = top_k_support(P, allowed, 2, np.zeros(6))  # no information at the point: the logistic fit ranks
    w_log = polish_logistic(P, allowed)[0]
    assert 0 not in ranked and len(ranked) == 2
    assert set(ranked) == set(allowed[np.argsort(-np.abs(w_log[allowed]))[:2]])
    res = fit_by_cuts(P, Deadline(20), mip_gap=1e-6)
    assert np.count_nonzero(res.w) <= 2 and res.w[0] == 0.0


# ------------------------------------------------------------------------------------- l2 (elastic net), logistic
def _l2_support_optimum(X, y, S, l1, l2) -> float:
    """min over w supported on S, |w| <= 1, |b| <= 1 of the mean logistic loss + l1 |w|_1 + l2 |w|^2 (scipy)."""
    k = len(S)
    XS = X[:, list(S)]
    N = X.shape[0]

    def f(p):
        w = p[:k] - p[k : 2 * k]
        z = y * (XS @ w + p[-1])
        val = np.mean(np.logaddexp(0.0, -z)) + l1 * p[: 2 * k].sum() + l2 * float(w @ w)
        s = -y / (1.0 + np.exp(z)) / N
        g = XS.T @ s + 2 * l2 * w
        return val, np.concatenate([g + l1, -g + l1, [s.sum()]])

    bounds = [(0, 1)] * (2 * k) + [(-1, 1)]
    r = minimize(f, np.zeros(2 * k + 1), jac=True, method="L-BFGS-B", bounds=bounds, options={"gtol": 1e-12})
    return float(r.fun)


def _cfg_l2(l1: float, l2: float, constraints: tuple[Resolved, ...] = ()) -> TrainConfig:
    cfg = TrainConfig(hidden=(1,), loss="logistic", l1=l1, l2=l2, linear=True, max_neurons=0, constraints=constraints)
    return resolve_config(cfg, "classify", 2)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), l1=st.sampled_from([0.0, 0.01]), l2=st.sampled_from([0.01, 0.1]),
       k=st.sampled_from([1, 2, 4]))  # fmt: skip
def test_l2_bound_below_the_brute_force_optimum_and_incumbent_at_it(seed, l1, l2, k):
    """Elastic net with the logistic loss (the s_i >= w_i^2 cuts, perspective with a budget): bound <= the optimum
    over every support of size <= k (scipy), incumbent at it, and the recorded points re-derive the bound."""
    X, y = _data(seed, 30, 4)
    cons = (Resolved(kind="budget", k=k),) if k < 4 else ()
    P = LinearCuts(X, y, _cfg_l2(l1, l2, cons))
    r = fit_by_cuts(P, Deadline(30), mip_gap=1e-7)
    opt = min(
        _l2_support_optimum(X, y, S, l1, l2) for size in range(k + 1) for S in itertools.combinations(range(4), size)
    )
    tol = 1e-6 * max(1.0, opt)
    assert r.bound is not None and r.bound <= opt + tol, (r.bound, opt)
    assert r.status == "optimal" and r.objective <= opt + 1e-5 and r.objective >= opt - tol, (r.objective, opt)
    assert abs(r.objective - (P.objective(r.w, r.b))) <= 1e-12
    assert np.count_nonzero(r.w) <= k
    again = master_bound(LinearCuts(X, y, _cfg_l2(l1, l2, cons)), r.points, Deadline(30))
    assert again is not None and r.bound - 1e-7 <= again <= opt + tol  # (the master's own bound: not clipped)


def test_perspective_cuts_are_valid_and_tighter_than_tangents():
    """With a budget, the master's relaxation with the s_i cuts in perspective form is never below the same master
    with plain tangents s_i >= 2 a w_i - a^2 (same points) and never above the optimum."""
    X, y = _data(3, 40, 5)
    cons = (Resolved(kind="budget", k=1),)
    r = fit_by_cuts(LinearCuts(X, y, _cfg_l2(0.0, 0.2, cons)), Deadline(30), mip_gap=1e-7)
    persp = LinearCuts(X, y, _cfg_l2(0.0, 0.2, cons))
    plain = LinearCuts(X, y, _cfg_l2(0.0, 0.2, cons))
    plain.binaries = False  # its s_i rows without z_i (the z_i columns and budget rows are built already)
    for P in (persp, plain):
        for p in r.points:
            v = np.asarray(p)
            P.add_point(v[:-1], float(v[-1]))
    lp_persp = persp.solve(Deadline(30), 1e-9, relaxed=True)[0]
    plain.binaries = True
    lp_plain = plain.solve(Deadline(30), 1e-9, relaxed=True)[0]
    assert lp_persp is not None and lp_plain is not None
    assert lp_plain <= lp_persp + 1e-9 <= r.objective + 1e-9
    assert lp_persp > lp_plain + 1e-4, (lp_persp, lp_plain)  # strictly tighter here


def test_l2_with_the_hinge_stays_on_the_training_milp():
    hinge = resolve_config(TrainConfig(hidden=(1,), loss="hinge", l2=0.01, linear=True, max_neurons=0), "classify", 2)
    assert "l2" in str(applies(hinge, "classify", 2))
    assert applies(_cfg_l2(0.01, 0.01), "classify", 2) is None


def test_l2_certificate_by_cuts_rechecks():
    X, y = _data(12, 100, 4)
    df = pd.DataFrame(X, columns=["x0", "x1", "x2", "x3"])
    yl = (y > 0).astype(int)
    cfg = TrainConfig(hidden=(1,), loss="logistic", l1=0.005, l2=0.05, max_neurons=0)
    res = train(df.to_numpy(), yl, config=cfg, linear=True, constraints=[{"kind": "budget", "k": 2}], time_limit=30)
    assert res.certificate.bound_source == "cuts" and res.certificate.status == "optimal" and res.check["ok"]
    df["y"] = yl
    net = res.network
    rep = recheck(training_certificate(net, net.metadata["certificate"], target="y"), net, df, second_solver=None,
                  time_limit=30)  # fmt: skip
    assert rep.status == "ok" and rep.exit_code == 0, rep.lines()


# ------------------------------------------------------------------------------------- swap search (primal side)
@pytest.mark.parametrize("loss", ["logistic", "hinge"])
def test_swap_search_walks_from_a_bad_support_to_the_planted_one(loss):
    """swap_search from the worst start, the two noise features, reaches the brute-force best support of size 2 (the
    two planted features), each trial within the budget; a start already at the best support is kept."""
    from mipnet.train.linear_cuts import swap_search

    rng = np.random.default_rng(3)
    X = rng.normal(size=(120, 5))
    y = np.where(X[:, 0] - X[:, 1] + 0.3 * rng.normal(size=120) > 0, 1.0, -1.0)
    P = LinearCuts(X, y, _cfg(loss, 0.01, constraints=(Resolved(kind="budget", k=2),)))
    allowed = np.arange(5)
    opt = {S: _support_optimum(X, y, S, loss, 0.01, P.w_lo, P.w_hi) for S in itertools.combinations(range(5), 2)}
    best_S = min(opt, key=opt.get)
    assert set(best_S) == {0, 1}
    tried: list[tuple[int, ...]] = []
    state: dict[str, tuple[float, np.ndarray, float]] = {}

    def polish(S, deadline):
        assert S.size <= 2
        tried.append(tuple(int(i) for i in S))
        w, b, _ = P.polish(S, deadline)
        f = P.objective(w, b)
        if f < state["best"][0]:
            state["best"] = (f, w, b)

    w0, b0, _ = P.polish(np.array([3, 4]), Deadline(10))
    state["best"] = (P.objective(w0, b0), w0, b0)
    swap_search(P, allowed, lambda: state["best"], polish, Deadline(30), candidates=3)
    f, w, b = state["best"]
    assert set(np.flatnonzero(w)) == {0, 1}
    assert f == pytest.approx(opt[best_S], rel=1e-4, abs=1e-6)
    assert f < P.objective(w0, b0) - 1e-3  # the search moved
    n_before = len(tried)
    swap_search(P, allowed, lambda: state["best"], polish, Deadline(30), candidates=3)
    assert state["best"][0] == f  # at the best support no swap helps: kept
    assert len(tried) - n_before == 2 * 3  # each of the 2 features swapped for each of the 3 candidates, once


def test_swap_search_never_worsens_the_fit_and_keeps_the_budget():
    """fit_by_cuts with and without the swap search on the same instances: the incumbent with it is never worse
    (to 1e-9), meets the budget, and the bound is never above the brute-force optimum."""
    import mipnet.train.linear_cuts as lc

    for seed in range(3):
        X, y = _data(20 + seed, 60, 5)
        cfg = _cfg("logistic", 0.005, constraints=(Resolved(kind="budget", k=2),))
        opt = min(
            _support_optimum(X, y, S, "logistic", 0.005, -np.ones(5), np.ones(5))
            for k in range(3)
            for S in itertools.combinations(range(5), k)
        )
        out = {}
        for on in (False, True):
            lc.SWAP_SEARCH = on
            try:
                out[on] = fit_by_cuts(LinearCuts(X, y, cfg), Deadline(20), mip_gap=1e-6)
            finally:
                lc.SWAP_SEARCH = True
        assert out[True].objective <= out[False].objective + 1e-9
        assert np.count_nonzero(out[True].w) <= 2
        for r in out.values():
            assert r.bound is not None and r.bound <= opt + 1e-6


@pytest.mark.parametrize("bias_bound", [0.5, 1.0, 8.0])
def test_hinge_fit_is_never_worse_than_the_best_constant_model_in_the_box(bias_bound):
    """With no time for a master solve, the hinge fit's incumbent is the best constant model in the bias box (brute
    force over a fine grid of b): with B_b = 8 the starts once missed b = -m and returned a worse constant."""
    rng = np.random.default_rng(4)
    X = rng.normal(size=(50, 3))
    y = np.where(rng.random(50) < 0.25, 1.0, -1.0)
    cfg = resolve_config(
        TrainConfig(hidden=(1,), loss="hinge", l1=0.01, linear=True, max_neurons=0, bias_bound=bias_bound),
        "classify",
        2,
    )
    P = LinearCuts(X, y, cfg)
    res = fit_by_cuts(P, Deadline(0.0), mip_gap=1e-6)
    grid = np.linspace(-bias_bound, bias_bound, 4001)
    best_const = min(float(np.mean(np.maximum(0.0, 1.0 - y * b))) for b in grid)
    assert res.objective <= best_const + 1e-12


def test_a_slope_below_the_solver_s_zero_keeps_its_cut_below_the_loss():
    """Logistic, l1 = 0, box 1e6: two rows at x = +-1e-6 want a weight at the box; at the polish point their cut's
    slope was -7.6e-11, stored by HiGHS as zero while the cut's constant kept it: "optimal, gap 0" with a bound
    above what a weight in the box reaches. The bound stays below every objective of the class."""
    import numpy as np

    from mipnet.train.config import TrainConfig
    from mipnet.train.scaling import column_scale
    from mipnet.train.trainer import train

    x = np.array([-2.0, -1.5, -1.0, -0.5, 0.5, 1.0, 1.5, 2.0] * 1500 + [1e-6, -1e-6])
    y = np.array([0, 0, 0, 0, 1, 1, 1, 1] * 1500 + [1, 0])
    cfg = TrainConfig(hidden=(3,), loss="logistic", l1=0.0, max_neurons=0, weight_bound=1e6, bias_bound=1.0)
    r = train(x[:, None], y, config=cfg, linear=True, time_limit=3)
    mu, sd = column_scale(x[:, None])
    t = np.where(y == 1, 1.0, -1.0)
    at_the_box = np.logaddexp(0, -t * 1e6 * (x - mu[0]) / sd[0]).mean()  # standardised weight 1e6, bias 0
    assert r.certificate.bound is not None and r.certificate.bound <= at_the_box + 1e-12, (r.certificate, at_the_box)
