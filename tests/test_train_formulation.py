"""Training MILP: certificates recomputed with numpy for every loss and penalty, classes, budgets, bounds."""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo
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
    ("logistic (tangent OA)", 2, "classify", TrainConfig(hidden=(2,), loss="logistic", l1=0.01)),
    (
        "quantized neurons+layers",
        2,
        "classify",
        TrainConfig(hidden=(2,), hypothesis="quantized", neuron_penalty=0.05, layer_penalty=0.05, l1=0.01),
    ),
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
    assert set(c.terms) == {"loss"} | {
        k
        for k, a in (
            ("l1", cfg.l1),
            ("l2", cfg.l2),
            ("l0", cfg.l0),
            ("neurons", cfg.neuron_penalty),
            ("layers", cfg.layer_penalty),
        )
        if a > 0
    }
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
    assert any(
        np.any(loose.pre_activation_bounds(n)[0][1] > tight.pre_activation_bounds(n)[0][1] + 1e-9) for n in range(6)
    )


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
        r = train(
            X, y, config=TrainConfig(hidden=(2,), l1=0.05, lipschitz_pairs=k), time_limit=30, lp_heuristic_rounds=1
        )
        assert r.certificate.status == "optimal"
        objs.append(r.certificate.incumbent)
    assert objs[0] == pytest.approx(objs[1], abs=1e-5)


# ---------------------------------------------------------------------- layer switches (pruned layer = identity)
def _problem(X, y, **kw):
    t = np.where(y == "b", 1.0, -1.0)
    Xs = (X - X.mean(0)) / X.std(0)
    return TrainingProblem(Xs, t, "classify", 2, TrainConfig(**kw)), Xs, t


def _dense(net):
    return [l for l in net.layers if l.kind == "Dense"]


def test_layer_switch_removes_the_middle_layer():
    """A large layer penalty: the optimum skips the equal-width middle layer; the certificate agrees and the
    returned network is the 1-hidden-layer function W_2 ReLU(W_0 x + b_0) + b_2 of the standardised data."""
    X, y = _data(n=8)
    cfg = TrainConfig(hidden=(2, 2), hypothesis="quantized", layer_penalty=1.0, l1=0.01)
    r = train(X, y, config=cfg, time_limit=15, lp_heuristic_rounds=1)
    c = r.certificate
    assert r.check["ok"], r.check
    assert c.status == "optimal"
    full = _dense(r.network_full)
    assert len(full) == 2  # one hidden Dense layer and the output layer
    assert c.terms["layers"] == pytest.approx(1.0, abs=1e-12)
    assert c.model_terms["layers"] == pytest.approx(1.0, abs=1e-6)
    Xs = (X - X.mean(0)) / X.std(0)
    f = full[1].weight @ np.maximum(full[0].weight @ Xs.T + full[0].bias[:, None], 0.0) + full[1].bias[:, None]
    np.testing.assert_allclose(r.network_full.forward(X), f.T, atol=1e-9)
    np.testing.assert_allclose(r.network.forward(X), f.T, atol=1e-9)
    assert np.any(full[1].weight != 0)  # the skipped layer is the identity, not a dead end
    # the solver's incumbent is the certified one (the skip is exact in the MILP)
    assert c.solver_incumbent == pytest.approx(c.incumbent, abs=1e-6)


def test_layer_switch_absent_without_layer_penalty():
    X, y = _data(n=8)
    cfg = TrainConfig(hidden=(2, 2), hypothesis="quantized", l1=0.01)
    prob, _, _ = _problem(X, y, **{k: getattr(cfg, k) for k in ("hidden", "hypothesis", "l1")})
    assert prob.layer_switch == [None, None]
    r = train(X, y, config=cfg, time_limit=5, lp_heuristic_rounds=1)
    assert r.check["ok"], r.check
    assert len(_dense(r.network_full)) == 3
    assert "layers" not in r.certificate.terms


def _cmap(pairs):
    from pyomo.common.collections import ComponentMap

    return ComponentMap(pairs)


def _hinge_objective(f, t, W0, W2, active, cfg):
    return (
        np.maximum(0, 1 - t * f).mean()
        + cfg.l1 * (np.abs(W0).sum() + np.abs(W2).sum())
        + cfg.neuron_penalty * active
        + cfg.layer_penalty * 1
    )


@pytest.mark.parametrize("seed,silent", [(0, False), (1, False), (2, True)])
def test_fixed_skipped_layer_gives_the_identity_objective(seed, silent):
    """Weights of a 2-2-2-1 net with an all-zero middle layer, fixed in the MILP: the model's objective is
    the numpy objective of the 2-2-1 net (middle layer = identity), with one hidden layer counted."""
    from mipnet.train.warmstart import discrete_values, fixed_lp

    X, y = _data(n=10, d=2, seed=seed)
    kw = dict(
        hidden=(2, 2),
        hypothesis="quantized",
        levels=2,
        l1=0.03,
        neuron_penalty=0.02,
        layer_penalty=0.1,
        symmetry_breaking=False,
    )
    prob, Xs, t = _problem(X, y, **kw)
    cfg = prob.config
    assert prob.layer_switch[0] is None and prob.layer_switch[1] is not None
    rng = np.random.default_rng(seed)
    W0, b0 = rng.uniform(-1, 1, size=(2, 2)), rng.uniform(-1, 1, size=2)
    W2, b2 = rng.integers(-2, 3, size=(1, 2)).astype(float), rng.uniform(-1, 1, size=1)
    W2[0, 0] = 2.0  # unit 0 of layer 0 is active through the skipped layer
    if silent:  # unit 1 of layer 0: no in-weights or bias, an out-weight through the skipped layer
        W0[1], b0[1], W2[0, 1] = 0.0, 0.0, -1.0
    w = [(W0, b0), (np.zeros((2, 2)), np.zeros(2)), (W2, b2)]
    assert prob.skipped_layers(w).tolist() == [False, True]
    obj = fixed_lp(prob, w, free_weights=False)
    f = (W2 @ np.maximum(W0 @ Xs.T + b0[:, None], 0.0) + b2[:, None])[0]
    active = int(np.sum((np.abs(W0).sum(1) + np.abs(b0) + np.abs(W2).sum(0)) > 0))
    expect = _hinge_objective(f, t, W0, W2, active, cfg)
    assert obj == pytest.approx(expect, abs=1e-7)
    assert prob.term_values()["layers"] == pytest.approx(0.1, abs=1e-9)
    assert discrete_values(prob, w)[prob.layer_switch[1]] == 0.0
    if silent:  # the out-weight through the skipped layer needs unit 1 of layer 0 switched on
        assert fixed_lp(prob, w, free_weights=False, flips=_cmap([(prob.neuron_ind[0][1], 0.0)])) is None
    # the numpy side of the convention: forward pass and the network handed out skip the layer
    _, out = prob.pre_activations(w)
    np.testing.assert_allclose(out[:, 0], f, atol=1e-12)
    assert len(_dense(prob.network_with(w))) == 2
    # the model's value of every sample's output is the identity network's
    np.testing.assert_allclose([o.values()[0] for o in prob.outputs], f, atol=1e-6)
    # r = 1 with an all-zero layer is the zero layer in the MILP (output b2); the read-back zeroes the
    # weights reading it, so the convention (identity into zero weights) gives the same function
    on = [(prob.layer_switch[1], 1.0)] + [(u, 1.0) for u in prob.neuron_ind[1]]  # out-weights W2 need u^1 = 1
    obj_on = fixed_lp(prob, w, free_weights=False, flips=_cmap(on))
    assert obj_on is not None
    np.testing.assert_allclose([o.values()[0] for o in prob.outputs], np.full(len(t), b2[0]), atol=1e-6)
    back = prob.weight_values()
    assert prob.skipped_layers(back).tolist() == [False, True] and not np.any(back[2][0])
    np.testing.assert_allclose(prob.pre_activations(back)[1][:, 0], np.full(len(t), b2[0]), atol=1e-12)
    assert fixed_lp(prob, back, free_weights=False) <= obj_on + 1e-9
    # a nonzero middle layer is a layer: two hidden layers counted, ReLU applied
    W1 = np.array([[1.0, -1.0], [0.0, 2.0]])
    w2 = [(W0, b0), (W1, np.array([0.1, -0.2])), (W2, b2)]
    obj2 = fixed_lp(prob, w2, free_weights=False)
    h = np.maximum(W1 @ np.maximum(W0 @ Xs.T + b0[:, None], 0.0) + np.array([[0.1], [-0.2]]), 0.0)
    f2 = (W2 @ h + b2[:, None])[0]
    act0 = (np.abs(W0).sum(1) + np.abs(b0) + np.abs(W1).sum(0)) > 0
    act1 = (np.abs(W1).sum(1) + np.abs([0.1, -0.2]) + np.abs(W2).sum(0)) > 0
    expect2 = (
        np.maximum(0, 1 - t * f2).mean()
        + cfg.l1 * (np.abs(W0).sum() + np.abs(W1).sum() + np.abs(W2).sum())
        + cfg.neuron_penalty * (act0.sum() + act1.sum())
        + cfg.layer_penalty * 2
    )
    assert obj2 == pytest.approx(expect2, abs=1e-7)
    # without a layer switch the same all-zero layer is a zero layer: the output is the constant b2
    plain, _, _ = _problem(X, y, **{**kw, "layer_penalty": 0.0})
    obj3 = fixed_lp(plain, w, free_weights=False)
    units3 = np.sum((np.abs(W0).sum(1) + np.abs(b0)) > 0) + np.sum(np.abs(W2).sum(0) > 0)
    expect3 = (
        np.maximum(0, 1 - t * b2[0]).mean()
        + cfg.l1 * (np.abs(W0).sum() + np.abs(W2).sum())
        + cfg.neuron_penalty * units3
    )
    assert obj3 == pytest.approx(expect3, abs=1e-7)


def test_no_layer_switch_when_widths_differ():
    X, y = _data(n=6)
    kw = dict(hidden=(3, 2), hypothesis="quantized", l1=0.01)
    prob, _, _ = _problem(X, y, **kw, layer_penalty=0.3)
    base, _, _ = _problem(X, y, **kw)
    assert prob.layer_switch == [None, None]
    from pyomo.core.expr.visitor import identify_variables

    assert list(identify_variables(prob.terms["layers"].expr)) == []
    assert float(prob.terms["layers"].expr) == pytest.approx(0.6, abs=1e-12)  # c_l * 2 hidden layers
    assert prob.size() == base.size()
    r = train(X, y, config=TrainConfig(**kw, layer_penalty=0.3), time_limit=6, lp_heuristic_rounds=1)
    assert r.check["ok"], r.check
    assert r.certificate.terms["layers"] == pytest.approx(0.6, abs=1e-12)
    assert len(_dense(r.network_full)) == 3


def test_conv_dense_head_layer_switch_matches_numpy():
    """Conv net with an equal-width dense head: conv layers are never switched, the second dense layer is;
    with it all zero the MILP's objective at fixed weights is the numpy objective of the net without it."""
    from mipnet.train.conv import ConvTrainingProblem
    from mipnet.train.conv_trainer import prepare_images
    from mipnet.train.convstart import canonical_conv_order, numpy_objective
    from mipnet.train.formulation import resolve_config
    from mipnet.train.warmstart import fixed_lp

    rng = np.random.default_rng(0)
    imgs = rng.uniform(0, 1, size=(6, 1, 6, 6))
    y = np.where(imgs[:, 0, :3].mean(axis=(1, 2)) > imgs[:, 0, 3:].mean(axis=(1, 2)), 1.0, -1.0)
    _, _, _, Xs, small = prepare_images(imgs, None, 1)
    cfg = resolve_config(
        TrainConfig(architecture="conv2x3-maxpool2-dense2-dense2", l1=0.01, layer_penalty=0.1, neuron_penalty=0.02),
        "classify",
        2,
    )
    prob = ConvTrainingProblem(Xs, y, "classify", 2, cfg, small)
    assert prob.layer_switch[0] is None and prob.layer_switch[1] is not None
    for seed in (0, 1):
        r = np.random.default_rng(seed)
        w = [
            (
                np.round(r.uniform(-1, 1, lp.shape)) if lp.kind == "quantized" else r.uniform(-1, 1, lp.shape),
                r.uniform(-0.5, 0.5, lp.shape[0]),
            )
            for lp in prob.params
        ]
        w[2] = (np.zeros((2, 2)), np.zeros(2))
        w[3][0][0] = [1.0, -1.0]  # both units of dense layer 0 reach the output through the skipped layer
        w = canonical_conv_order(prob.zero_dead_units(w), prob)
        assert prob.skipped_layers(w).tolist() == [False, True] and prob.consumers(w) == [1, 3, 3]
        assert np.all(np.abs(w[1][0]).sum(1) > 0) and np.all(w[3][0] != 0)  # dense layer 0 is not dead
        net = prob.network_with(w)
        assert len([l for l in net.layers if l.kind == "Dense"]) == 2
        expect = numpy_objective(w, prob)
        assert fixed_lp(prob, w, free_weights=False) == pytest.approx(expect, abs=1e-7)
        assert prob.term_values()["layers"] == pytest.approx(0.1, abs=1e-9)
        np.testing.assert_allclose([o.values()[0] for o in prob.outputs], net.forward(Xs)[:, 0], atol=1e-6)


@pytest.mark.parametrize("name,classes,task,cfg", CASES, ids=[c[0] for c in CASES])
def test_persistent_instance_gives_the_fresh_answers(name, classes, task, cfg):
    """Pattern-fixed LPs and the LP heuristic on one persistent HiGHS instance (fixed binaries sent as
    continuous columns and taken back) give the objectives of fresh translations, and the instance is left
    in sync: the MILP solved on it afterwards has the fresh MILP's optimum."""
    from mipnet.solve import solve
    from mipnet.train.formulation import resolve_config
    from mipnet.train.trainer import encode_targets
    from mipnet.train.warmstart import fixed_lp, gradient_weights, lp_heuristic, lp_instance

    X, y = _data(n=4 if classes == 3 else 8, classes=classes)  # the multiclass MILP is slow to prove at 8
    target, _, n_classes, _, _ = encode_targets(np.asarray(y), task, None)
    Xs = (X - X.mean(0)) / X.std(0)
    cfg = resolve_config(cfg, task, n_classes)
    prob = TrainingProblem(Xs, target, task, n_classes, cfg)
    w = map_to_class(gradient_weights(Xs, target, task, n_classes, cfg.hidden, seed=0), prob)
    inst = lp_instance(prob)
    for free in (False, True):
        fresh = fixed_lp(prob, w, free_weights=free)
        shared = fixed_lp(prob, w, free_weights=free, instance=inst)
        assert (fresh is None) == (shared is None)
        if fresh is not None:
            assert shared == pytest.approx(fresh, abs=1e-7)
    _, h_fresh, _ = lp_heuristic(prob, w, max_rounds=3, time_budget=60)
    _, h_shared, _ = lp_heuristic(prob, w, max_rounds=3, time_budget=60, instance=inst)
    assert (h_fresh is None) == (h_shared is None)
    if h_fresh is not None:
        assert h_shared == pytest.approx(h_fresh, abs=1e-7)
    milp_fresh = solve(prob.model, "highs", time_limit=60, mip_gap=1e-9)
    milp_shared = solve(prob.model, "highs", time_limit=60, mip_gap=1e-9, instance=inst)
    assert milp_fresh.status == milp_shared.status == "optimal"
    assert milp_shared.incumbent == pytest.approx(milp_fresh.incumbent, abs=1e-6)
    assert not any(v.fixed for v in prob.model.component_data_objects(pyo.Var))


def test_progress_reaches_the_caller_on_the_shared_instance():
    """The MILP runs on the instance the warm-start LPs used: its progress points (MIP callback, seconds since
    the MILP started) must still reach the caller as it goes."""
    from mipnet.datasets import load_breast_cancer

    data = load_breast_cancer().sample(40, random_state=0)
    X, _ = data.X_numeric()
    points: list[tuple[float, float | None, float | None]] = []
    r = train(
        X,
        data.y.to_numpy(),
        config=TrainConfig(hidden=(3,), l1=0.01, symmetry_breaking=False),
        time_limit=14,
        progress=lambda t, inc, bound: points.append((t, inc, bound)),
        lp_heuristic_rounds=1,
    )
    assert points  # the first callback passes on at once, the next ones every 5 s
    assert all(0 <= t <= r.certificate.solve_time + 1 for t, _, _ in points)
    assert all(inc is None or inc >= r.certificate.incumbent - 1e-9 for _, inc, _ in points)


def test_build_projection_waits_for_evidence_before_a_close_refusal() -> None:
    """The build's projection refuses a hopeless build early, a close one only once a quarter of the samples is in
    (a pause of the machine in the first samples must not refuse a build that fits: a CI run saw that)."""
    from mipnet.deadline import Deadline, OutOfTime
    from mipnet.train.formulation import BUILD_TAIL, _check_build

    def need(spent: float, done: int, total: int, after: float) -> float:
        build = spent * total / done * (1.0 + BUILD_TAIL)
        return build - spent + after * build

    total, after = 160, 1.0
    left = Deadline(100.0).remaining()
    # 16 of 160 samples: a projection 1.5x the time left goes on, 3x is refused
    spent = 1.5 * left / need(1.0, 16, total, after)
    _check_build(Deadline(100.0), spent, 16, total, after)
    spent = 3.0 * left / need(1.0, 16, total, after)
    with pytest.raises(OutOfTime, match="would need about"):
        _check_build(Deadline(100.0), spent, 16, total, after)
    # 48 of 160 samples: a projection 1.2x the time left is refused, 0.8x goes on
    spent = 1.2 * left / need(1.0, 48, total, after)
    with pytest.raises(OutOfTime, match="would need about"):
        _check_build(Deadline(100.0), spent, 48, total, after)
    _check_build(Deadline(100.0), 0.8 * left / need(1.0, 48, total, after), 48, total, after)
    with pytest.raises(OutOfTime, match="time limit passed"):
        _check_build(Deadline(0.0), 0.1, 16, total, after)


def test_the_build_stops_at_the_first_sample_past_its_deadline(monkeypatch) -> None:
    """The deadline was looked at every 16 samples: one 10x10 conv sample took 1.7 s to encode, and a 1 s limit ended
    after 15 s. Now after every sample: a passed deadline stops the build after one."""
    from mipnet.deadline import Deadline, OutOfTime
    from mipnet.train import TrainConfig, TrainingProblem

    calls = []
    original = TrainingProblem.encode

    def counting(self, block, inputs):
        calls.append(1)
        return original(self, block, inputs)

    monkeypatch.setattr(TrainingProblem, "encode", counting)
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(40, 2)), rng.integers(0, 2, 40)
    with pytest.raises(OutOfTime):
        TrainingProblem(X, np.where(y > 0, 1.0, -1.0), "classify", 2, TrainConfig(hidden=(2,)), deadline=Deadline(0.0))
    assert len(calls) == 1


def test_no_network_within_the_time_limit_is_a_limit_not_an_input_error(tmp_path) -> None:
    """A limit that leaves training without any network exited 2 (the input-error code): it is exit 3 (unknown),
    the error a LimitError."""
    import pandas as pd
    from click.testing import CliRunner

    from mipnet.cli import cli
    from mipnet.errors import LimitError
    from mipnet.train import TrainConfig, train

    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(20, 3)), rng.integers(0, 2, 20)
    with pytest.raises(LimitError, match="found no network"):
        train(X, y, config=TrainConfig(hidden=(3,)), time_limit=1e-6)
    data = tmp_path / "d.csv"
    pd.DataFrame(np.column_stack([X, y]), columns=["a", "b", "c", "y"]).to_csv(data, index=False)
    args = [
        "train",
        str(data),
        "--target",
        "y",
        "--hidden",
        "3",
        "--time-limit",
        "0.000001",
        "-o",
        str(tmp_path / "m.json"),
    ]
    r = CliRunner().invoke(cli, args)
    assert r.exit_code in (0, 3), r.output  # (0: a machine fast enough to map the warm start in time)


def test_time_budgets_in_messages_read_as_seconds() -> None:
    from mipnet.train.outcome import _seconds

    assert _seconds(3600.0) == "3600 s" and _seconds(6.398825409996789) == "6.4 s" and _seconds(None) == "no limit"
    assert _seconds(0.0047) == "0.0047 s"


def test_model_terms_at_a_point_that_need_not_be_tight(monkeypatch):
    """Without the LP at the returned weights (a conv model cut by its limit), the model's terms are read at a
    MIP's or the solver's own point, whose |w| and hinge auxiliaries may sit above their terms: the re-check then
    asks model >= true, not equality, and says so in the certificate (a correct certificate is no MISMATCH)."""
    import dataclasses

    import mipnet.train.outcome as outcome

    monkeypatch.setattr(outcome, "fixed_lp", lambda *a, **k: None)
    X, y = _data(n=8)
    r = train(X, y, config=TrainConfig(hidden=(2,), l1=0.05), time_limit=4)
    c = r.certificate
    assert c.formulation["model_point"] == "not tight"
    assert c.model_terms and r.check["ok"], r.check
    above = dataclasses.replace(c, model_terms={k: v + 0.01 for k, v in c.model_terms.items()})
    assert check_certificate(r.network_full, X, y, above)["ok"]
    below = dataclasses.replace(c, model_terms={k: v - 0.01 for k, v in c.model_terms.items()})
    assert not check_certificate(r.network_full, X, y, below)["ok"]
    tight = dataclasses.replace(above, formulation={k: v for k, v in c.formulation.items() if k != "model_point"})
    assert not check_certificate(r.network_full, X, y, tight)["ok"]
