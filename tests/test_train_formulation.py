"""Training MILP: certificates recomputed with numpy for every loss and penalty, classes, budgets, bounds."""

from __future__ import annotations

import numpy as np
import pytest

from mipnet.errors import SolverError, UnsupportedError
from mipnet.train import TrainConfig, TrainingProblem, train
from mipnet.train.certificate import check_certificate
from mipnet.train.formulation import tangent_points
from mipnet.train.groups import sample_group_bound
from mipnet.train.warmstart import canonical_order, forward_pre, map_to_class


def _data(n: int = 10, d: int = 2, seed: int = 0, classes: int = 2):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) * np.array([1.0, 3.0])[:d] + 2.0
    if classes == 0:
        return X, X[:, 0] - 0.5 * X[:, 1] + 0.1 * rng.normal(size=n)
    score = X[:, 0] - X[:, 1] / 3
    if classes == 2:
        return X, np.where(score > np.median(score), "b", "a")
    return X, np.digitize(score, np.quantile(score, [1 / 3, 2 / 3]))


CASES = [
    ("hinge+l1 sign", 2, "classify", TrainConfig(hidden=(2,), l1=0.05)),
    ("hinge+l2 (tangent OA)", 2, "classify", TrainConfig(hidden=(2,), l2=0.05)),
    ("hinge+l0", 2, "classify", TrainConfig(hidden=(2,), l0=0.02)),
    ("zero_one", 2, "classify", TrainConfig(hidden=(2,), loss="zero_one", l1=0.01)),
    ("quantized neurons+layers", 2, "classify",
     TrainConfig(hidden=(2,), hypothesis="quantized", neuron_penalty=0.05, layer_penalty=0.05, l1=0.01)),
    ("multiclass hinge", 3, "classify", TrainConfig(hidden=(2,), l1=0.01)),
    ("regression l1", 0, "regress", TrainConfig(hidden=(2,), loss="l1", l1=0.01)),
    ("regression squared (OA)", 0, "regress", TrainConfig(hidden=(2,), loss="squared", l1=0.01)),
]


@pytest.mark.parametrize("name,classes,task,cfg", CASES, ids=[c[0] for c in CASES])
def test_certificate_recomputed_matches(name, classes, task, cfg):
    X, y = _data(n=8, classes=classes)
    r = train(X, y, task=task, config=cfg, time_limit=4, lp_heuristic_rounds=2)
    c = r.certificate
    assert r.check["ok"], r.check
    assert r.check["hash_ok"]
    # every exact term: model value at the returned network == numpy value (1e-6)
    for k, v in c.model_terms.items():
        if k in c.outer_approximated:
            assert v <= c.terms[k] + 1e-6
            assert c.terms[k] - v <= 0.05 * c.terms[k] + 1e-6
        else:
            assert abs(v - c.terms[k]) <= 1e-6
    assert abs(c.incumbent - sum(c.terms.values())) <= 1e-9
    if c.status == "optimal" and not c.outer_approximated:
        assert abs(c.solver_incumbent - c.incumbent) <= 1e-6
        assert c.gap <= 1e-5
    assert c.bound is None or c.bound <= c.incumbent + 1e-6
    assert set(c.terms) == {"loss"} | {k for k, a in (("l1", cfg.l1), ("l2", cfg.l2), ("l0", cfg.l0),
                                                        ("neurons", cfg.neuron_penalty),
                                                        ("layers", cfg.layer_penalty)) if a > 0}
    # the pruned network computes the same function
    np.testing.assert_allclose(r.network.forward(X), r.network_full.forward(X), atol=1e-9)
    assert len(c.data_sha256) == 64 and c.n_samples == 8


def test_sign_class_structure_and_symmetry():
    X, y = _data(n=8)
    r = train(X, y, config=TrainConfig(hidden=(3,), l1=0.05), time_limit=4, lp_heuristic_rounds=2)
    W0, b0 = r.network_full.layers[1].weight, r.network_full.layers[1].bias
    v = r.network_full.layers[3].weight[0]
    assert set(np.unique(v)).issubset({-1.0, 0.0, 1.0})
    assert np.all(np.abs(W0) <= 1 + 1e-9) and np.all(np.abs(b0) <= 1 + 1e-9)
    # pruned units (v = 0) have zero weights; order: +1 units, then -1, then 0, biases non-increasing per group
    assert np.all(W0[v == 0] == 0) and np.all(b0[v == 0] == 0)
    group = np.where(v > 0, 0, np.where(v < 0, 1, 2))
    assert np.all(np.diff(group) >= 0)
    for g in (0, 1):
        assert np.all(np.diff(b0[group == g]) <= 1e-7)
    assert r.network.metadata["hypothesis"] == "sign"
    # raw features in: the saved network starts with the standardisation
    assert r.network.layers[0].kind == "Normalize"


def test_budgets_hold():
    X, y = _data(n=8)
    cfg = TrainConfig(hidden=(3,), hypothesis="quantized", max_nonzeros=3, max_neurons=1, l1=0.01)
    r = train(X, y, config=cfg, time_limit=8, lp_heuristic_rounds=1)
    dense = [l for l in r.network_full.layers if l.kind == "Dense"]
    assert sum(np.count_nonzero(l.weight) for l in dense) <= 3
    active = (np.abs(dense[0].weight).sum(1) + np.abs(dense[0].bias) + np.abs(dense[1].weight).sum(0)) > 0
    assert active.sum() <= 1
    assert r.check["ok"]


def test_quantized_two_layers_grid():
    X, y = _data(n=6)
    cfg = TrainConfig(hidden=(2, 2), hypothesis="quantized", levels=2, scale=0.5, l1=0.01)
    r = train(X, y, config=cfg, time_limit=4, lp_heuristic_rounds=1)
    dense = [l for l in r.network_full.layers if l.kind == "Dense"]
    for l in dense[1:]:
        k = l.weight / 0.5
        np.testing.assert_allclose(k, np.round(k), atol=1e-9)
        assert np.all(np.abs(k) <= 2)
    assert r.check["ok"]


def test_continuous_class_refused_by_highs_accepted_by_scip():
    X, y = _data(n=4)
    cfg = TrainConfig(hidden=(2,), hypothesis="continuous")
    with pytest.raises(SolverError, match="bilinear"):
        train(X, y, config=cfg, time_limit=3, warm_start=False)
    pytest.importorskip("pyscipopt")
    r = train(X, y, config=cfg, solver="scip", time_limit=5, warm_start=False)
    assert r.certificate.solver == "scip"
    assert r.check["ok"]


def test_sign_class_needs_one_hidden_layer():
    X, y = _data(n=4)
    with pytest.raises(UnsupportedError):
        train(X, y, config=TrainConfig(hidden=(2, 2), hypothesis="sign"), time_limit=2)


def test_tight_big_m_is_per_sample_and_tighter_than_plain():
    X, y = _data(n=6)
    t = np.where(y == "b", 1.0, -1.0)
    Xs = (X - X.mean(0)) / X.std(0)
    tight = TrainingProblem(Xs, t, "classify", 2, TrainConfig(hidden=(2,)))
    loose = TrainingProblem(Xs, t, "classify", 2, TrainConfig(hidden=(2,), tight_bounds=False))
    for n in range(6):
        lo, hi = tight.pre_activation_bounds(n)[0]
        expect = np.abs(Xs[n]).sum() + 1.0  # B_w ||x_n||_1 + B_b
        np.testing.assert_allclose(hi, expect)
        np.testing.assert_allclose(lo, -expect)
        assert np.all(loose.pre_activation_bounds(n)[0][1] >= hi - 1e-12)
    assert any(np.any(loose.pre_activation_bounds(n)[0][1] > tight.pre_activation_bounds(n)[0][1] + 1e-9)
               for n in range(6))


def test_mapping_into_class_keeps_sign_of_function():
    X, y = _data(n=12)
    t = np.where(y == "b", 1.0, -1.0)
    Xs = (X - X.mean(0)) / X.std(0)
    prob = TrainingProblem(Xs, t, "classify", 2, TrainConfig(hidden=(3,), weight_bound=10.0, bias_bound=10.0))
    rng = np.random.default_rng(3)
    w = [(rng.normal(size=(3, 2)), rng.normal(size=3) * 0.3), (rng.normal(size=(1, 3)) * 2, np.array([0.1]))]
    mapped = map_to_class(w, prob)
    assert set(np.unique(mapped[1][0])).issubset({-1.0, 0.0, 1.0})
    f0, f1 = forward_pre(w, Xs)[-1], forward_pre(mapped, Xs)[-1]
    np.testing.assert_allclose(np.sign(f0), np.sign(f1))  # positive rescaling only (gamma = 1 here)
    perm = canonical_order(w, prob)
    np.testing.assert_allclose(forward_pre(perm, Xs)[-1], f0)


def test_tangent_points_cover_interval():
    p = tangent_points(-2.0, 3.0, 4)
    assert p.min() == -2.0 and p.max() == 3.0 and 0.0 in p
    r = np.linspace(-2, 3, 101)
    approx = np.max(2 * p[None, :] * r[:, None] - p[None, :] ** 2, axis=1)
    assert np.all(approx <= r**2 + 1e-12)


def test_sample_group_bound_is_below_full_optimum():
    X, y = _data(n=8)
    t = np.where(y == "b", 1.0, -1.0)
    Xs = (X - X.mean(0)) / X.std(0)
    cfg = TrainConfig(hidden=(2,), l1=0.05)
    r = train(X, y, config=cfg, time_limit=4, lp_heuristic_rounds=1)
    g = sample_group_bound(Xs, t, "classify", 2, cfg, groups=2, time_limit=3)
    assert len(g["groups"]) == 2 and sum(x["n"] for x in g["groups"]) == 8
    assert g["bound"] <= r.certificate.incumbent + 1e-6
    assert g["bound"] > 0


def test_tampered_certificate_fails_recheck():
    X, y = _data(n=6)
    r = train(X, y, config=TrainConfig(hidden=(2,), l1=0.05), time_limit=5, lp_heuristic_rounds=1)
    c = r.certificate
    assert check_certificate(r.network_full, X, y, c)["ok"]
    y2 = y.copy()
    y2[0] = "a" if y[0] == "b" else "b"
    assert not check_certificate(r.network_full, X, y2, c)["hash_ok"]
    c.terms["loss"] += 1e-3
    assert not check_certificate(r.network_full, X, y, c)["ok"]


def _relaxation_value(prob: TrainingProblem) -> float:
    import pyomo.environ as pyo

    from mipnet.solve import solve

    pyo.TransformationFactory("core.relax_integer_vars").apply_to(prob.model)
    return solve(prob.model, "highs", time_limit=30).incumbent


def test_lipschitz_cuts_keep_every_network_feasible_and_raise_the_relaxation():
    """Every sign-class network (random weights, signs and prunings) stays feasible with the cuts, at
    exactly its numpy objective; the LP relaxation bound rises."""
    from mipnet.train.warmstart import fixed_lp

    X, y = _data(n=10, d=2, seed=4)
    t = np.where(y == "b", 1.0, -1.0)
    Xs = (X - X.mean(0)) / X.std(0)
    cfg = TrainConfig(hidden=(3,), l1=0.05, symmetry_breaking=False)
    prob = TrainingProblem(Xs, t, "classify", 2, cfg)
    assert len(prob.cut_pairs) > 0
    assert all(t[n] > t[m] for n, m in prob.cut_pairs)
    rng = np.random.default_rng(0)
    for _ in range(8):
        W0 = rng.uniform(-1, 1, size=(3, 2))
        v = rng.integers(-1, 2, size=(1, 3)).astype(float)
        W0[v[0] == 0] = 0.0
        b0 = np.where(v[0] != 0, rng.uniform(-1, 1, 3), 0.0)
        w = [(W0, b0), (v, rng.uniform(-1, 1, 1))]
        obj = fixed_lp(prob, w, free_weights=False)
        f = forward_pre(w, Xs)[-1][:, 0]
        expect = np.maximum(0, 1 - t * f).mean() + 0.05 * (np.abs(W0).sum() + np.abs(v).sum())
        assert obj == pytest.approx(expect, abs=1e-7)
    plain = TrainingProblem(Xs, t, "classify", 2, TrainConfig(hidden=(3,), l1=0.05, lipschitz_pairs=0))
    assert plain.cut_pairs == []
    cut = TrainingProblem(Xs, t, "classify", 2, TrainConfig(hidden=(3,), l1=0.05))
    assert _relaxation_value(cut) > _relaxation_value(plain) + 1e-3


@pytest.mark.parametrize("seed", [1, 2])
def test_lipschitz_cuts_do_not_change_the_optimum(seed):
    X, y = _data(n=8, d=2, seed=seed)
    objs = []
    for k in (0, 20):
        r = train(X, y, config=TrainConfig(hidden=(2,), l1=0.05, lipschitz_pairs=k), time_limit=30,
                  lp_heuristic_rounds=1)
        assert r.certificate.status == "optimal"
        objs.append(r.certificate.incumbent)
    assert objs[0] == pytest.approx(objs[1], abs=1e-5)
