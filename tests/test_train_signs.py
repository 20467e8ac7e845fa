"""Sign-pattern decomposition of the sign class (mipnet.train.signs)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mipnet.errors import UnsupportedError
from mipnet.train import TrainConfig, TrainingProblem, train
from mipnet.train.signs import FixedPattern, pattern_signs, sign_patterns, weights_in_pattern
from mipnet.train.warmstart import fixed_weights_mip, forward_pre


def _data(n: int = 8, d: int = 2, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) * np.array([1.0, 3.0])[:d] + 2.0
    score = X[:, 0] - X[:, 1] / 3 + 0.3 * rng.normal(size=n)
    return X, np.where(score > np.median(score), "b", "a")


def _problem(cfg: TrainConfig, n: int = 8, seed: int = 0) -> tuple[TrainingProblem, np.ndarray, np.ndarray]:
    X, y = _data(n=n, seed=seed)
    t = np.where(y == "b", 1.0, -1.0)
    Xs = (X - X.mean(0)) / X.std(0)
    return TrainingProblem(Xs, t, "classify", 2, cfg), Xs, t


def test_patterns_cover_the_class():
    full = sign_patterns(_problem(TrainConfig(hidden=(3,)))[0])
    assert full == [(3, 0), (2, 1), (1, 2), (0, 3)]
    # a unit that costs something by itself (its penalty, or l1 / l2 / l0 on |v_j| = 1): every smaller
    # pattern too (10 = pairs P + M <= 3)
    for kw in ({"neuron_penalty": 0.1}, {"l1": 0.01}, {"l2": 0.01}, {"l0": 0.01}):
        every = sign_patterns(_problem(TrainConfig(hidden=(3,), **kw))[0])
        assert len(every) == 10 and (0, 0) in every and len(set(every)) == 10
    # a budget on non-zeros counts the output weights: a full pattern cannot stand in for a smaller one
    budget = sign_patterns(_problem(TrainConfig(hidden=(3,), max_nonzeros=2))[0])
    assert len(budget) == 10 and (0, 0) in budget
    capped = sign_patterns(_problem(TrainConfig(hidden=(3,), max_neurons=1))[0])
    assert sorted(capped) == [(0, 0), (0, 1), (1, 0)]
    with pytest.raises(UnsupportedError):
        sign_patterns(_problem(TrainConfig(hidden=(2,), hypothesis="quantized"))[0])


@pytest.mark.parametrize("loss", ["hinge", "zero_one"])
@settings(max_examples=6, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_directional_relaxation_is_exact_at_fixed_weights(loss, seed):
    """With a pattern fixed and the loss-irrelevant binaries relaxed, the model's minimum at fixed weights
    is exactly the numpy objective of the network (a relaxation in the wrong direction would go below)."""
    cfg = TrainConfig(hidden=(3,), l1=0.05, loss=loss, symmetry_breaking=False)
    prob, Xs, t = _problem(cfg, n=10, seed=seed % 7)
    rng = np.random.default_rng(seed)
    P = int(rng.integers(0, 4))
    signs = pattern_signs(3, P, 3 - P)
    W0 = rng.uniform(-1, 1, size=(3, 2))
    b0 = rng.uniform(-1, 1, 3)
    w = [(W0, b0), (signs[None, :].astype(float), rng.uniform(-1, 1, 1))]
    fixed = FixedPattern(prob, signs)
    try:
        assert len(fixed.relaxed) > 0
        obj = fixed_weights_mip(prob, w)
    finally:
        fixed.undo()
    f = forward_pre(w, Xs)[-1][:, 0]
    if loss == "hinge":
        data = np.maximum(0, 1 - t * f).mean()
    else:
        data = np.mean(t * f < 1 - 1e-6)
    expect = data + 0.05 * (np.abs(W0).sum() + 3)
    assert obj == pytest.approx(expect, abs=1e-6)
    # undo restored the model: binaries binary again, signs free
    assert all(a.is_binary() for a in fixed.relaxed)
    assert not any(v.fixed for v in fixed.fixed)


def test_regression_loss_keeps_every_binary():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(8, 2))
    prob = TrainingProblem(X, X[:, 0] - X[:, 1], "regress", 0, TrainConfig(hidden=(2,), hypothesis="sign"))
    fixed = FixedPattern(prob, pattern_signs(2, 1, 1))
    assert fixed.relaxed == []
    fixed.undo()


def test_weights_in_pattern_keeps_the_function():
    prob, Xs, _ = _problem(TrainConfig(hidden=(3,), l1=0.01))
    rng = np.random.default_rng(1)
    W0, b0 = rng.uniform(-1, 1, (3, 2)), rng.uniform(-1, 1, 3)
    V = np.array([[1.0, 0.0, -1.0]])
    W0[1], b0[1] = 0.0, 0.0  # the pruned unit
    w = [(W0, b0), (V, np.array([0.2]))]
    f = forward_pre(w, Xs)[-1]
    for P, M in [(2, 1), (1, 2)]:
        moved = weights_in_pattern(w, prob, pattern_signs(3, P, M))
        assert moved is not None
        assert np.array_equal(moved[1][0][0], pattern_signs(3, P, M))
        np.testing.assert_allclose(forward_pre(moved, Xs)[-1], f, atol=1e-12)
    assert weights_in_pattern(w, prob, pattern_signs(3, 3, 0)) is None  # a negative unit cannot move


@pytest.mark.parametrize(
    "kw", [{"l1": 0.05}, {"l1": 0.3}, {"l1": 0.05, "loss": "zero_one"}, {"l1": 0.02, "neuron_penalty": 0.05}]
)
def test_decomposition_reaches_the_joint_optimum(kw):
    X, y = _data(n=8, seed=3)
    objs = []
    for patterns in (False, True):
        r = train(
            X, y, config=TrainConfig(hidden=(2,), **kw), time_limit=60, lp_heuristic_rounds=2, sign_patterns=patterns
        )
        c = r.certificate
        assert c.status == "optimal" and r.check["ok"]
        objs.append(c.incumbent)
    assert objs[1] == pytest.approx(objs[0], abs=1e-5)
    outcomes = c.formulation["sign_patterns"]
    assert len(outcomes) == len(sign_patterns(_problem(TrainConfig(hidden=(2,), **kw))[0]))
    assert min(o["bound"] for o in outcomes) == pytest.approx(c.bound, abs=1e-9)


def test_time_left_goes_to_the_weakest_pattern(monkeypatch):
    """A pattern stopped with a weak bound is solved again with the time left; it keeps the larger of its two
    proved bounds, and the combined certificate is optimal again."""
    import dataclasses

    import mipnet.train.signs as signs_mod
    from mipnet.solve import solve as real_solve

    calls = []

    def first_call_cut_short(model, solver, **kw):
        res = real_solve(model, solver, **kw)
        calls.append(res)
        if len(calls) == 1:  # the first pattern "ran out of time" with a weaker (still valid) bound
            weak = None if res.bound is None else res.bound - 0.05
            return dataclasses.replace(res, status="feasible", bound=weak)
        return res

    monkeypatch.setattr(signs_mod, "solve", first_call_cut_short)
    X, y = _data(n=8, seed=3)
    r = train(X, y, config=TrainConfig(hidden=(2,), l1=0.05), time_limit=60, lp_heuristic_rounds=2, sign_patterns=True)
    outcomes = r.certificate.formulation["sign_patterns"]
    again = [o for o in outcomes if o["runs"] == 2]
    assert len(again) == 1 and again[0]["status"] != "feasible"
    assert len(calls) == sum(o["status"] != "pruned" for o in outcomes) + 1  # a pruned pattern runs no MILP
    assert r.certificate.status == "optimal" and r.check["ok"]
    assert r.certificate.bound == pytest.approx(min(o["bound"] for o in outcomes), abs=1e-9)


def test_cut_loop_lp_bound_stands_in_for_a_milp_without_bound(monkeypatch):
    """A pattern whose MILP ends with no bound (no time left after the cut loop) keeps its cut loop's LP
    optimum as its bound: below the pattern's true optimum, and the certificate still has a gap."""
    import dataclasses

    import mipnet.train.signs as signs_mod
    from mipnet.solve import solve as real_solve

    X, y = _data(n=10, seed=5)
    cfg = TrainConfig(hidden=(2,), l1=0.05)
    exact = train(X, y, config=cfg, time_limit=60, lp_heuristic_rounds=2, sign_patterns=True)
    true_bound = {(o["positive"], o["negative"]): o["bound"] for o in exact.certificate.formulation["sign_patterns"]}

    def no_bound_for_one(model, solver, **kw):
        res = real_solve(model, solver, **kw)
        p, q = model.component("p1"), model.component("q1")
        plus, minus = (sum(v.value for v in c.values()) for c in (p, q))
        if all(v.fixed for v in p.values()) and plus == 1 == minus:
            return dataclasses.replace(res, status="unknown", incumbent=None, bound=None, gap=None)  # pattern (+1, -1)
        return res

    monkeypatch.setattr(signs_mod, "solve", no_bound_for_one)
    r = train(X, y, config=cfg, time_limit=60, lp_heuristic_rounds=2, sign_patterns=True)
    hit = [o for o in r.certificate.formulation["sign_patterns"] if o["status"] == "unknown"]
    assert len(hit) == 1 and hit[0]["cut_loop"]["lp_bounds"]
    assert hit[0]["runs"] == 2  # solved again once with the time left, not again and again
    lp = hit[0]["cut_loop"]["lp_bounds"][-1]
    assert hit[0]["bound"] == pytest.approx(lp - signs_mod.LP_BOUND_TOL, abs=1e-12)
    assert hit[0]["bound"] <= true_bound[(hit[0]["positive"], hit[0]["negative"])] + 1e-9
    assert r.certificate.bound is not None and r.certificate.bound <= r.certificate.incumbent + 1e-9


def _solve_pattern_alone(prob, outcome):
    """The pattern's own model (its signs fixed on the joint model), solved afresh to optimality."""
    from mipnet.solve import solve

    fixed = FixedPattern(prob, pattern_signs(2, outcome.positive, outcome.negative))
    try:
        alone = solve(prob.model, "highs", time_limit=60, mip_gap=1e-9)
    finally:
        fixed.undo()
    assert alone.status == "optimal"
    return alone


def test_an_optimal_warm_start_cuts_off_every_pattern():
    """The warm start is the first incumbent: started at the optimum, each pattern is searched under its
    objective as cutoff (none finds a better network), and the certificate proves the warm network optimal."""
    from mipnet.solve import solve
    from mipnet.train.signs import solve_by_patterns
    from mipnet.train.warmstart import fixed_lp

    prob, _, _ = _problem(TrainConfig(hidden=(2,), l1=0.05), n=10, seed=5)
    joint = solve(prob.model, "highs", time_limit=60, mip_gap=1e-9)
    assert joint.status == "optimal"
    best = prob.weight_values()
    res, outcomes = solve_by_patterns(prob, "highs", time_limit=60, warm_weights=best, mip_gap=1e-9)
    assert res.status == "optimal"
    assert res.incumbent == pytest.approx(joint.incumbent, abs=1e-6)
    assert prob.objective_value() == pytest.approx(res.incumbent, abs=1e-6)  # its values are loaded
    assert all(o.incumbent is None or o.incumbent >= joint.incumbent - 1e-6 for o in outcomes)
    assert any(o.status == "infeasible" for o in outcomes)  # cut off at the warm start's objective
    assert res.trace[0][1] == pytest.approx(fixed_lp(prob, best, free_weights=False), abs=1e-9)


def test_a_pruned_pattern_has_no_better_network():
    """A pattern pruned by its cut loop's LP bound (no MILP run) must hold no network below the incumbent:
    each pruned pattern's own MILP, solved here without cuts, confirms its recorded bound."""
    from mipnet.solve import solve
    from mipnet.train.signs import solve_by_patterns

    prob, _, _ = _problem(TrainConfig(hidden=(2,), l1=0.05), n=16, seed=1)
    joint = solve(prob.model, "highs", time_limit=60, mip_gap=1e-9)
    res, outcomes = solve_by_patterns(prob, "highs", time_limit=120, warm_weights=prob.weight_values(), mip_gap=1e-9)
    assert res.status == "optimal" and res.incumbent == pytest.approx(joint.incumbent, abs=1e-6)
    pruned = [o for o in outcomes if o.status == "pruned"]
    assert len(pruned) >= 2
    for o in pruned:
        assert o.bound >= res.incumbent and o.cut_loop is not None and o.nodes == 0
        alone = _solve_pattern_alone(prob, o)
        assert alone.incumbent >= o.bound - 1e-7 and alone.incumbent >= res.incumbent - 1e-6


@pytest.mark.parametrize("cuts", [True, False])
def test_every_pattern_outcome_is_exact_on_the_shared_instance(cuts):
    """Patterns run one after another on one HiGHS instance (signs fixed and freed, binaries relaxed and
    restored, cuts added and removed): each pattern's bound and incumbent must still be those of its own
    model, solved here afresh."""
    from mipnet.train.signs import solve_by_patterns

    prob, _, _ = _problem(TrainConfig(hidden=(2,), l1=0.05), n=10, seed=2)
    res, outcomes = solve_by_patterns(prob, "highs", time_limit=120, mip_gap=1e-9, hull_cuts=cuts)
    assert res.status == "optimal"
    assert prob.objective_value() == pytest.approx(res.incumbent, abs=1e-6)
    for o in outcomes:
        alone = _solve_pattern_alone(prob, o)
        assert o.bound <= alone.incumbent + 1e-6
        if o.incumbent is not None:
            assert o.incumbent >= alone.incumbent - 1e-6
        if o.status == "optimal" and o.incumbent is not None and o.incumbent < res.incumbent + 1e-9:
            assert o.incumbent == pytest.approx(alone.incumbent, abs=1e-6)


def test_a_nonzero_budget_without_unit_costs_keeps_the_smaller_patterns():
    """Only the full patterns were solved: each spent both output weights of a budget of 2, and "optimal" at 1.0
    (the constant model) was proved where one unit reaches 0.226."""
    X = np.array(
        [[-2.0, 0.3], [-1.0, -0.4], [-1.5, 0.8], [-0.5, -1.0], [0.5, 0.9], [1.0, -0.2], [1.5, 0.4], [2.0, -0.7]]
    )
    y = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    cfg = TrainConfig(hidden=(2,), hypothesis="sign", loss="hinge", l1=0.0, max_nonzeros=2)
    joint = train(X, y, config=cfg, time_limit=60).certificate
    split = train(X, y, config=cfg, time_limit=60, sign_patterns=True).certificate
    assert joint.status == "optimal" and joint.incumbent < 0.5
    assert split.bound <= joint.incumbent + 1e-6
    assert split.incumbent == pytest.approx(joint.incumbent, abs=1e-5)
