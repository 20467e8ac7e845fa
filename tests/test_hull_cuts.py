"""Convex-combination cuts of a sign pattern (mipnet.train.hull_cuts)."""

from __future__ import annotations

import highspy
import numpy as np
import pyomo.environ as pyo
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mipnet.solve import solve
from mipnet.train import TrainConfig, TrainingProblem
from mipnet.train.hull_cuts import Cut, HullCuts, root_cut_loop
from mipnet.train.signs import FixedPattern, pattern_signs


def _problem(n: int, d: int, H: int, seed: int, l1: float = 0.05) -> TrainingProblem:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    t = np.where(X[:, 0] + 0.5 * rng.normal(size=n) > 0, 1.0, -1.0)
    t[:2] = [1.0, -1.0]  # both labels present
    return TrainingProblem(X, t, "classify", 2, TrainConfig(hidden=(H,), hypothesis="sign", l1=l1, lipschitz_pairs=3))


def _cut_slack(cut_con) -> float:
    return float(pyo.value(cut_con.upper) - pyo.value(cut_con.body))


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 100_000))
def test_every_network_satisfies_every_cut(seed):
    """Cuts with arbitrary lambda (not only separated ones) at the values of a random network of the class:
    h = ReLU(X W^T + b), t = |W| (and t above |W|), nothing may be violated."""
    rng = np.random.default_rng(seed)
    prob = _problem(n=9, d=3, H=3, seed=seed % 13)
    P = int(rng.integers(0, 4))
    signs = pattern_signs(3, P, 3 - P)
    cuts = HullCuts(prob, signs)
    made = []
    for _ in range(25):
        n, j = int(rng.integers(0, prob.N)), int(rng.integers(0, 3))
        others = np.flatnonzero(np.arange(prob.N) != n)
        pick = rng.choice(others, size=int(rng.integers(1, others.size + 1)), replace=False)
        lam = rng.dirichlet(np.ones(pick.size))
        made.append(Cut(n, j, pick, lam))
    cons = cuts.add(made)
    W = rng.uniform(-1, 1, (3, 3)) * (rng.random((3, 3)) < 0.7)
    b = rng.uniform(-1, 1, 3)
    Hval = np.maximum(0.0, prob.X @ W.T + b)
    for n in range(prob.N):
        for j in range(3):
            cuts.h[n][j].set_value(float(Hval[n, j]), skip_validation=True)
    for extra in (0.0, 0.3):
        for j in range(3):
            for i in range(3):
                cuts.W[j, i].set_value(float(W[j, i]), skip_validation=True)
                cuts.t[j, i].set_value(float(abs(W[j, i]) + extra), skip_validation=True)
        assert min(_cut_slack(c) for c in cons) >= -1e-9
    cuts.remove()
    assert prob.model.component("hull_cuts") is None


def test_separation_returns_the_most_violated_combination():
    """The separation LP's cut is violated by exactly what it reports, and no single sample or random
    convex combination of the other label is violated by more."""
    prob = _problem(n=14, d=3, H=2, seed=4)
    signs = pattern_signs(2, 1, 1)
    cuts = HullCuts(prob, signs, tol=-np.inf)  # return every (n, j), violated or not
    rng = np.random.default_rng(0)
    hv = rng.uniform(0, 2, (prob.N, 2))
    tv = rng.uniform(0, 1, (2, 3))
    wv = rng.uniform(-1, 1, (2, 3)) * tv

    def violation(n: int, j: int, idx: np.ndarray, lam: np.ndarray) -> float:
        delta = prob.X[n] - lam @ prob.X[idx]
        return hv[n, j] - lam @ hv[idx, j] - 0.5 * (tv[j] @ np.abs(delta) + wv[j] @ delta)

    found, worst = cuts.separate(hv, tv, wv)
    useful = sum(1 for j in range(2) for n in range(prob.N) if signs[j] * prob.target[n] > 0)
    assert len(found) == useful
    best = -np.inf
    for c in found:
        assert signs[c.j] * prob.target[c.n] > 0 and np.all(prob.target[c.others] != prob.target[c.n])
        v = violation(c.n, c.j, c.others, c.lam)
        best = max(best, v)
        opp = np.flatnonzero(prob.target != prob.target[c.n])
        rivals = [violation(c.n, c.j, np.array([m]), np.ones(1)) for m in opp]
        rivals += [violation(c.n, c.j, opp, rng.dirichlet(np.ones(opp.size))) for _ in range(200)]
        assert max(rivals) <= v + 1e-7
    assert worst == pytest.approx(best, abs=1e-7)


@pytest.mark.parametrize("P,M", [(1, 1), (2, 0), (0, 1)])
def test_cuts_keep_the_pattern_optimum(P, M):
    """The pattern's MILP optimum with the root cut loop's cuts equals the one without (they are valid),
    while the loop raises the LP bound; the relaxed binaries are binary again after the loop."""
    prob = _problem(n=10, d=2, H=2, seed=7, l1=0.05)
    signs = pattern_signs(2, P, M)
    fixed = FixedPattern(prob, signs)
    try:
        plain = solve(prob.model, "highs", time_limit=60, mip_gap=1e-9)
        cuts = HullCuts(prob, signs)
        report = root_cut_loop(cuts, time_limit=60)
        relaxed = {id(v) for v in fixed.relaxed}
        assert all(
            v.is_binary()
            for n in range(prob.N)
            for v in prob.relu_binaries(n)[0]
            if v is not None and id(v) not in relaxed
        )
        assert all(v.domain is pyo.UnitInterval for v in fixed.relaxed)
        cut = solve(prob.model, "highs", time_limit=60, mip_gap=1e-9)
    finally:
        fixed.undo()
    assert plain.status == cut.status == "optimal"
    assert cut.incumbent == pytest.approx(plain.incumbent, abs=1e-6)
    assert report.cuts > 0 and report.lp_bounds
    assert report.lp_bounds[-1] >= report.lp_bounds[0] - 1e-9
    assert report.lp_bounds[-1] <= plain.incumbent + 1e-6


def test_cut_loop_tightens_a_real_relaxation():
    """Breast cancer, 40 samples, pattern (+1, -1): the convex combinations lift the LP bound above the
    pair cuts' one."""
    from mipnet.datasets import load_breast_cancer

    data = load_breast_cancer().sample(40, random_state=0)
    X, _ = data.X_numeric()
    Xs = (X - X.mean(0)) / np.where(X.std(0) > 0, X.std(0), 1.0)
    t = np.where(data.y.to_numpy() == sorted(set(data.y))[1], 1.0, -1.0)
    prob = TrainingProblem(Xs, t, "classify", 2, TrainConfig(hidden=(2,), hypothesis="sign", l1=0.01))
    signs = pattern_signs(2, 1, 1)
    fixed = FixedPattern(prob, signs)
    try:
        report = root_cut_loop(HullCuts(prob, signs), time_limit=60, max_rounds=6)
    finally:
        fixed.undo()
    assert report.rounds >= 1
    assert report.lp_bounds[-1] > report.lp_bounds[0] * 1.02


def test_cut_loop_resolves_a_pure_lp_from_its_basis(monkeypatch):
    """The pattern's signs are fixed integer variables: sent as integers, HiGHS would solve each round as a MIP
    from scratch (about 30x slower at N = 100). Every round must be a pure LP and every round after the first
    must start from the previous basis; the fixed signs stay fixed and integer afterwards."""
    import pyomo.contrib.solver.solvers.highs as pyomo_highs

    seen: list[tuple[int, bool]] = []
    real = pyomo_highs.Highs._solve

    def spy(self, *args, **kwargs):
        h = self._solver_model
        ints = sum(1 for v in h.getLp().integrality_ if v != highspy.HighsVarType.kContinuous)
        seen.append((ints, bool(h.getBasis().valid)))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(pyomo_highs.Highs, "_solve", spy)
    prob = _problem(n=16, d=3, H=2, seed=4)
    signs = pattern_signs(2, 1, 1)
    fixed = FixedPattern(prob, signs)
    try:
        report = root_cut_loop(HullCuts(prob, signs), time_limit=60, max_rounds=4)
        assert all(v.fixed and v.is_binary() for v in fixed.fixed)
    finally:
        fixed.undo()
    assert report.rounds >= 1 and len(seen) == len(report.lp_bounds) >= 2
    assert all(ints == 0 for ints, _ in seen)
    assert all(valid for _, valid in seen[1:])


def test_refuses_without_l1():
    prob = _problem(n=6, d=2, H=2, seed=1, l1=0.0)
    with pytest.raises(ValueError, match="l1"):
        HullCuts(prob, pattern_signs(2, 1, 1))


def test_regression_patterns_with_cuts_reach_the_joint_optimum():
    """Regression (no directional relaxation; every other sample is on the 'other side'): the cut loop
    keeps the optimum of the joint MILP."""
    from mipnet.train import train

    rng = np.random.default_rng(0)
    X = rng.normal(size=(12, 2))
    y = np.maximum(0, X[:, 0]) - 0.5 * X[:, 1]
    objs = []
    for patterns in (False, True):
        r = train(
            X,
            y,
            task="regress",
            config=TrainConfig(hidden=(2,), hypothesis="sign", l1=0.05, loss="l1"),
            time_limit=60,
            lp_heuristic_rounds=2,
            sign_patterns=patterns,
        )
        assert r.certificate.status == "optimal" and r.check["ok"]
        objs.append(r.certificate.incumbent)
    assert objs[1] == pytest.approx(objs[0], abs=1e-5)
    loops = [o["cut_loop"] for o in r.certificate.formulation["sign_patterns"] if o["cut_loop"]]
    assert loops and all(lp["cuts"] > 0 for lp in loops)


def test_a_cut_of_one_unit_is_added_for_its_twins():
    """Units of one sign are interchangeable: a combination violated by unit 0 is added for unit 1 (same
    sign) but not for unit 2 (the other sign)."""
    prob = _problem(n=12, d=3, H=3, seed=2)
    signs = pattern_signs(3, 2, 1)
    cuts = HullCuts(prob, signs)
    hv = np.zeros((prob.N, 3))
    pos = np.flatnonzero(prob.target > 0)
    hv[pos, 0] = 5.0  # unit 0 far above anything its (zero) weights allow on the positive samples
    found, worst = cuts.separate(hv, np.zeros((3, 3)), np.zeros((3, 3)))
    assert worst == pytest.approx(5.0)
    by_unit = {j: {c.n: c for c in found if c.j == j} for j in range(3)}
    assert set(by_unit[0]) == set(pos) == set(by_unit[1]) and not by_unit[2]
    for n in pos:
        np.testing.assert_array_equal(by_unit[1][n].others, by_unit[0][n].others)


def test_separation_stops_at_its_deadline():
    prob = _problem(n=14, d=3, H=2, seed=4)
    cuts = HullCuts(prob, pattern_signs(2, 1, 1), tol=-np.inf)
    rng = np.random.default_rng(1)
    hv, tv, wv = rng.uniform(0, 2, (prob.N, 2)), rng.uniform(0, 1, (2, 3)), np.zeros((2, 3))
    assert cuts.separate(hv, tv, wv, deadline=0.0) == ([], 0.0)  # long past
    assert len(cuts.separate(hv, tv, wv)[0]) > 0


def test_a_reused_instance_measures_each_run_from_its_start():
    """HiGHS measures time_limit on one clock per instance that keeps running across runs. After a MILP that
    spent its 6 s on a shared instance, an LP with a 2 s limit and a cut loop with 4 s must still run."""
    from mipnet.datasets import load_breast_cancer
    from mipnet.train.warmstart import fixed_lp, gradient_weights, lp_instance, map_to_class

    data = load_breast_cancer().sample(40, random_state=0)
    X, _ = data.X_numeric()
    Xs = (X - X.mean(0)) / np.where(X.std(0) > 0, X.std(0), 1.0)
    t = np.where(data.y.to_numpy() == sorted(set(data.y))[1], 1.0, -1.0)
    prob = TrainingProblem(
        Xs,
        t,
        "classify",
        2,
        TrainConfig(hidden=(3,), hypothesis="sign", l1=0.01, symmetry_breaking=False, tight_bounds=False),
    )
    inst = lp_instance(prob)
    first = solve(prob.model, "highs", time_limit=6.0, instance=inst)
    assert first.status != "optimal"  # it used its whole 6 s
    assert inst._solver_model.getRunTime() >= 5.5
    w = map_to_class(gradient_weights(Xs, t, "classify", 2, (3,), seed=0), prob)
    assert fixed_lp(prob, w, free_weights=False, time_limit=2.0, instance=inst) is not None
    signs = pattern_signs(3, 2, 1)
    fixed = FixedPattern(prob, signs)
    inst.update_variables(fixed.variables())
    cuts = HullCuts(prob, signs, instance=inst)
    try:
        report = root_cut_loop(cuts, time_limit=4.0, max_rounds=1)
    finally:
        fixed.undo()
        inst.update_variables(fixed.variables())
        cuts.remove()
    assert report.lp_bounds and "time" not in report.stopped.lower()
