"""Exact data reduction: identical (x, label) rows merged into one weighted block of the training MILP."""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo
import pytest

from mipnet.solve import solve
from mipnet.train import TrainConfig, TrainingProblem, train
from mipnet.train.certificate import sample_losses
from mipnet.train.formulation import merge_rows
from mipnet.train.groups import sample_group_bound
from mipnet.train.trainer import encode_targets
from mipnet.train.warmstart import fixed_lp


def _dup_data(task: str, classes: int = 2, seed: int = 0):
    """7 distinct rows on a small grid, planted duplicates (12 rows), one x with two labels."""
    rng = np.random.default_rng(seed)
    base = np.round(rng.normal(size=(7, 2)) * np.array([1.0, 2.0]) + 1.0, 1)
    reps = np.array([3, 1, 2, 1, 2, 1, 2])
    X = np.repeat(base, reps, axis=0)
    if task == "regress":
        y = np.repeat(base[:, 0] - 0.5 * base[:, 1], reps)
        y[1] += 0.7  # the same x as rows 0 and 2 with another target
    else:
        score = base[:, 0] - base[:, 1] / 2
        lab = np.argsort(np.argsort(score)) % classes
        y = np.repeat(lab, reps)
        y[1] = (y[1] + 1) % classes  # the same x as rows 0 and 2 with another label
        if classes == 2:
            y = np.where(y == 1, "b", "a")
    perm = rng.permutation(len(X))
    return X[perm], y[perm]


def _standardised(X, y, task):
    target, cls, n_classes, _, _ = encode_targets(np.asarray(y), task)
    mu, sd = X.mean(0), X.std(0)
    return (X - mu) / np.where(sd > 1e-12, sd, 1.0), target, n_classes, cls


CASES = [
    ("hinge sign", "classify", 2, TrainConfig(hidden=(2,), l1=0.05)),
    ("multiclass hinge quantized", "classify", 3, TrainConfig(hidden=(1,), l1=0.02)),
    ("l1 regression", "regress", 0, TrainConfig(hidden=(2,), loss="l1", l1=0.02)),
]


def test_merge_rows_is_exact_and_keeps_labels_apart():
    X, y = _dup_data("classify")
    Xs, t, _, _ = _standardised(X, y, "classify")
    Xu, tu, counts, inv = merge_rows(Xs, t)
    assert counts.sum() == len(t) == 12 and len(tu) == 8  # 7 distinct x, one of them with both labels
    assert np.array_equal(Xu[inv], Xs) and np.array_equal(tu[inv], t)
    assert len(np.unique(Xu, axis=0)) == 7
    first = [int(np.flatnonzero(inv == k)[0]) for k in range(len(tu))]
    assert first == sorted(first)  # first-occurrence order


@pytest.mark.parametrize("name,task,classes,cfg", CASES, ids=[c[0] for c in CASES])
def test_merged_milp_has_the_same_optimum_and_fewer_binaries(name, task, classes, cfg):
    X, y = _dup_data(task, classes)
    Xs, t, n_classes, _ = _standardised(X, y, task)
    Xu, tu, counts, _ = merge_rows(Xs, t)
    full = TrainingProblem(Xs, t, task, n_classes, cfg)
    merged = TrainingProblem(Xu, tu, task, n_classes, cfg, sample_weight=counts, loss_denominator=len(t))
    assert merged.loss_denominator == full.loss_denominator == len(t)
    assert merged.size()["binaries"] < full.size()["binaries"]
    r_full = solve(full.model, "highs", time_limit=60, mip_gap=0.0)
    r_merged = solve(merged.model, "highs", time_limit=60, mip_gap=0.0)
    assert r_full.status == r_merged.status == "optimal"
    assert abs(r_full.incumbent - r_merged.incumbent) <= 1e-7
    assert abs(r_full.bound - r_merged.bound) <= 1e-7


LOSS_CASES = CASES + [
    ("zero_one", "classify", 2, TrainConfig(hidden=(2,), loss="zero_one", l1=0.01)),
    ("squared regression", "regress", 0, TrainConfig(hidden=(2,), loss="squared", l1=0.01)),
]


@pytest.mark.parametrize("name,task,classes,cfg", LOSS_CASES, ids=[c[0] for c in LOSS_CASES])
def test_fixed_network_objective_on_merged_rows_equals_original(name, task, classes, cfg):
    """For random networks of the class, the merged model's loss term at the exact per-row losses equals the
    numpy loss over the original rows (1e-9), and the completion LPs of both models agree."""
    X, y = _dup_data(task, classes, seed=1)
    Xs, t, n_classes, _ = _standardised(X, y, task)
    Xu, tu, counts, _ = merge_rows(Xs, t)
    full = TrainingProblem(Xs, t, task, n_classes, cfg)
    merged = TrainingProblem(Xu, tu, task, n_classes, cfg, sample_weight=counts, loss_denominator=len(t))
    rng = np.random.default_rng(3)
    loss_var = next(iter(merged.loss_vars.values()))
    for _ in range(5):
        w = []
        for lp in merged.params:
            if lp.kind == "sign":
                W = rng.integers(-1, 2, size=lp.shape).astype(float)
            elif lp.kind == "quantized":
                W = cfg.scale * rng.integers(-cfg.levels, cfg.levels + 1, size=lp.shape).astype(float)
            else:
                W = rng.uniform(-cfg.weight_bound, cfg.weight_bound, size=lp.shape)
            w.append((W, rng.uniform(-cfg.bias_bound, cfg.bias_bound, size=lp.shape[0])))
        _, f_full = full.pre_activations(w)
        _, f_merged = merged.pre_activations(w)
        true = sample_losses(f_full, t, cfg.loss if cfg.loss != "auto" else full.config.loss, cfg.margin).sum() / len(t)
        per_row = sample_losses(f_merged, tu, merged.config.loss, cfg.margin)
        for n in range(merged.N):
            loss_var[n].set_value(float(per_row[n]), skip_validation=True)
        assert abs(pyo.value(merged.terms["loss"]) - true) <= 1e-9 * max(1.0, abs(true))
        if merged.config.loss == "squared":
            continue  # HiGHS: tangent outer approximation, model <= true
        if merged.config.hypothesis == "sign":
            from mipnet.train.warmstart import _zero_dead_units

            w = _zero_dead_units(w, merged)
        a, b = fixed_lp(full, w, free_weights=False), fixed_lp(merged, w, free_weights=False)
        if a is None:  # a random net that breaks a switch forcing row: infeasible in both
            assert b is None
            continue
        assert abs(a - b) <= 1e-7 * max(1.0, abs(a))


@pytest.mark.parametrize("name,task,classes,cfg", CASES, ids=[c[0] for c in CASES])
def test_trainer_merges_and_certificate_rechecks_on_original_rows(name, task, classes, cfg):
    X, y = _dup_data(task, classes)
    on = train(X, y, task=task, config=cfg, time_limit=20, lp_heuristic_rounds=2)
    off = train(X, y, task=task, config=cfg, time_limit=20, lp_heuristic_rounds=2, merge_duplicates=False)
    c = on.certificate
    assert on.check["ok"] and on.check["hash_ok"], on.check
    assert c.n_samples == 12 and c.formulation["rows"] == 12 and c.formulation["distinct_rows"] == 8
    assert off.certificate.formulation["distinct_rows"] == 12
    assert c.formulation["binaries"] < off.certificate.formulation["binaries"]
    # the model's objective at the returned network is the numpy objective on the original rows
    model = sum(c.model_terms.values())
    assert abs(model - c.incumbent) <= 1e-9 * max(1.0, abs(c.incumbent))
    assert c.status == off.certificate.status == "optimal"
    assert abs(c.incumbent - off.certificate.incumbent) <= 1e-7
    # the warm start (the same gradient net) completes to the same objective on both models
    assert abs(c.warm_start_objective - off.certificate.warm_start_objective) <= 1e-7


def test_sign_patterns_and_hull_cuts_on_merged_rows():
    X, y = _dup_data("classify", seed=2)
    cfg = TrainConfig(hidden=(2,), l1=0.05)
    on = train(X, y, config=cfg, time_limit=30, lp_heuristic_rounds=2, sign_patterns=True)
    off = train(X, y, config=cfg, time_limit=30, lp_heuristic_rounds=2, sign_patterns=True, merge_duplicates=False)
    assert on.check["ok"], on.check
    assert on.certificate.status == off.certificate.status == "optimal"
    assert abs(on.certificate.incumbent - off.certificate.incumbent) <= 1e-7
    assert abs(on.certificate.bound - off.certificate.bound) <= 1e-6


def test_group_bound_uses_the_weights():
    X, y = _dup_data("classify")
    Xs, t, n_classes, _ = _standardised(X, y, "classify")
    Xu, tu, counts, _ = merge_rows(Xs, t)
    cfg = TrainConfig(hidden=(2,), l1=0.05)
    full = TrainingProblem(Xs, t, "classify", n_classes, cfg)
    opt = solve(full.model, "highs", time_limit=60, mip_gap=0.0).incumbent
    one = sample_group_bound(Xu, tu, "classify", n_classes, cfg, groups=1, time_limit=30, sample_weight=counts)
    assert abs(one["bound"] - opt) <= 1e-6  # one group is the whole weighted problem
    two = sample_group_bound(
        Xu, tu, "classify", n_classes, cfg, groups=2, time_limit=30, sample_weight=counts, loss_denominator=len(t)
    )
    plain = sample_group_bound(Xs, t, "classify", n_classes, cfg, groups=2, time_limit=30)
    assert 0 < two["bound"] <= opt + 1e-6 and plain["bound"] <= opt + 1e-6


def test_sample_weight_is_validated():
    X, y = _dup_data("classify")
    Xs, t, n_classes, _ = _standardised(X, y, "classify")
    from mipnet.errors import DataError

    with pytest.raises(DataError):
        TrainingProblem(Xs, t, "classify", n_classes, TrainConfig(hidden=(2,)), sample_weight=np.zeros(len(t)))
