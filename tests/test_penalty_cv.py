"""l1 chosen by cross-validation on the training data: the scores are what they claim, the choice follows them."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest
from click.testing import CliRunner
from sklearn.model_selection import RepeatedStratifiedKFold

from mipnet import MIPNetClassifier, MIPNetRegressor
from mipnet.errors import DataError, MipnetError, UnsupportedError
from mipnet.train.formulation import TrainConfig
from mipnet.train.penalty_cv import select_l1
from mipnet.train.surrogate import fit_sign_network_best
from mipnet.train.trainer import train


def _data(n: int = 60, d: int = 6, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) * np.arange(1, d + 1) + 3.0  # unscaled columns: each fold standardises its own
    y = np.where(X[:, 0] - 3.0 > 0, 1.0, -1.0)
    return X, y


def test_scores_are_the_held_out_accuracies_of_the_surrogate():
    X, y = _data()
    sel = select_l1(X, y, 2, [0.001, 0.05], folds=3, repeats=1, seed=7)
    assert sel.grid == [0.001, 0.05] and sel.folds == 3 and sel.repeats == 1
    for i, c in enumerate(sel.grid):
        accs = []
        for tr, va in RepeatedStratifiedKFold(n_splits=3, n_repeats=1, random_state=7).split(X, y):
            mu, sd = X[tr].mean(axis=0), X[tr].std(axis=0)
            net = fit_sign_network_best((X[tr] - mu) / sd, y[tr], 2, l1=c, seed=7)
            accs.append(np.mean(np.where(net.decision((X[va] - mu) / sd) > 0, 1.0, -1.0) == y[va]))
        assert sel.mean_accuracy[i] == pytest.approx(np.mean(accs))
        assert sel.std_accuracy[i] == pytest.approx(np.std(accs))
    assert sel.l1 == sel.grid[int(np.argmax(sel.mean_accuracy))] or (
        sel.mean_accuracy[0] == pytest.approx(sel.mean_accuracy[1]) and sel.l1 == 0.05
    )


def test_a_penalty_that_kills_the_network_is_not_chosen_and_ties_go_to_the_sparser():
    X, y = _data(seed=1)
    sel = select_l1(X, y, 2, [0.001, 50.0], folds=3, repeats=1)
    assert sel.mean_accuracy[0] > 0.85 > sel.mean_accuracy[1]  # 50: the constant network, about the majority rate
    assert sel.l1 == 0.001
    tie = select_l1(X, y, 2, [0.002, 0.002 + 1e-13], folds=3, repeats=1)  # the same fits: equal scores
    assert tie.mean_accuracy[0] == pytest.approx(tie.mean_accuracy[1]) and tie.l1 == tie.grid[1]


def test_a_candidate_whose_full_data_fit_is_constant_is_passed_over(monkeypatch):
    import mipnet.train.penalty_cv as cv
    from mipnet.train.surrogate import constant_network

    X, y = _data(seed=6)
    base = select_l1(X, y, 2, [0.001, 50.0], folds=3, repeats=1)
    assert base.full_data_nonzero[0] > 0 and base.full_data_nonzero[1] == 0 and base.l1 == 0.001
    Xs = (X - X.mean(axis=0)) / X.std(axis=0)
    real = cv.fit_sign_path
    assert [n.nonzero() for n in real(Xs, y, 2, base.grid, restarts=cv.FULL_DATA_RESTARTS)] == base.full_data_nonzero

    grid = [0.001, 0.003, 50.0]
    plain = select_l1(X, y, 2, grid, folds=3, repeats=1)
    order = sorted(range(3), key=lambda i: (-round(plain.mean_accuracy[i], 12), -grid[i]))
    assert grid[order[0]] == plain.l1 != 50.0 and grid[order[1]] != 50.0

    def constant_on_all_rows(Xa, ya, hidden, g, restarts=2, **kw):
        nets = real(Xa, ya, hidden, g, restarts=restarts, **kw)
        if restarts == cv.FULL_DATA_RESTARTS:  # the full-data fit: the CV favourite ends constant
            nets[order[0] if len(g) == 3 else 0] = constant_network(Xa, ya, hidden)
        return nets

    monkeypatch.setattr(cv, "fit_sign_path", constant_on_all_rows)
    guarded = cv.select_l1(X, y, 2, grid, folds=3, repeats=1)
    assert guarded.mean_accuracy == plain.mean_accuracy
    assert guarded.full_data_nonzero[order[0]] == 0 and guarded.l1 == grid[order[1]]
    everything_constant = cv.select_l1(X, y, 2, [grid[order[0]]], folds=3, repeats=1)
    assert everything_constant.full_data_nonzero == [0] and everything_constant.l1 == grid[order[0]]


def test_a_deadline_stops_after_the_first_split():
    import time

    X, y = _data(seed=5)
    sel = select_l1(X, y, 2, [0.001, 0.01], folds=3, repeats=2, deadline=time.perf_counter() - 1.0)
    assert sel.splits == 1 and sel.folds == 3 and sel.repeats == 2
    full = select_l1(X, y, 2, [0.001, 0.01], folds=3, repeats=2)
    assert full.splits == 6
    # the trainer's call (strict): a first split past its share of the time limit is one error, not an overrun
    # (Adult, --time-limit 0.5: 6.7-8.2 s of the 5.55 s promised)
    from mipnet.errors import SolverError

    with pytest.raises(SolverError, match="no time for the cross-validation of l1"):
        select_l1(X, y, 2, [0.001, 0.01], folds=3, repeats=2, deadline=time.perf_counter() - 1.0, first_split_max=0.0)


def test_bad_grids_and_too_few_rows_are_clear_errors():
    X, y = _data(n=12)
    with pytest.raises(DataError, match="grid"):
        select_l1(X, y, 2, [])
    with pytest.raises(DataError, match="grid"):
        select_l1(X, y, 2, [0.01, -1.0])
    with pytest.raises(DataError, match="folds"):
        select_l1(X, y, 2, [0.01], folds=1)
    y2 = -np.ones(12)
    y2[:3] = 1.0
    with pytest.raises(DataError, match="smaller class has 3 rows"):
        select_l1(X, y2, 2, [0.01], folds=5)


def test_train_records_the_choice_and_certifies_with_it():
    X, y = _data(n=30, d=3, seed=2)
    res = train(X, y, config=TrainConfig(hidden=(2,)), time_limit=8, threads=1, l1_grid=[0.003, 0.03], cv_folds=3)
    sel = res.certificate.formulation["penalty_selection"]
    assert sel["grid"] == [0.003, 0.03] and sel["folds"] == 3 and len(sel["mean_accuracy"]) == 2
    assert res.certificate.coefficients["l1"] == sel["l1"]
    assert res.check["ok"]  # the certificate's terms, with the chosen l1, recomputed by numpy
    W = [lay.weight for lay in res.network_full.layers if hasattr(lay, "weight")]
    assert res.certificate.terms["l1"] == pytest.approx(sel["l1"] * sum(np.abs(w).sum() for w in W), abs=1e-9)


def test_where_cross_validation_does_not_apply_it_says_so():
    X, y = _data(n=20, d=3)
    with pytest.raises(UnsupportedError, match="not yet supported"):
        train(X, X[:, 0], task="regress", config=TrainConfig(hidden=(2,)), l1_grid=[0.01], time_limit=5)
    with pytest.raises(UnsupportedError, match="not yet supported"):
        train(X, y, config=TrainConfig(hidden=(2,), loss="zero_one"), l1_grid=[0.01], time_limit=5)
    with pytest.raises(MipnetError, match="not yet supported"):
        MIPNetRegressor((2,), l1="cv", time_limit=5).fit(X, X[:, 0])
    with pytest.raises(ValueError, match="'cv'"):
        MIPNetClassifier((2,), l1="auto", time_limit=5).fit(X, y)


def test_estimator_l1_cv():
    X, y = _data(n=30, d=3, seed=3)
    est = MIPNetClassifier((2,), l1="cv", l1_grid=(0.001, 0.03), cv_folds=3, time_limit=8, threads=1).fit(X, y)
    assert est.l1_ in (0.001, 0.03) and est.cv_results_["l1"] == est.l1_
    assert est.certificate_.coefficients["l1"] == est.l1_ and est.certificate_check_["ok"]
    assert est.get_params()["l1"] == "cv"  # the parameter is kept as given
    line = [t for t in est.certificate_.lines() if t.startswith("l1 chosen")]
    # the chosen penalty's own held-out accuracy (it printed the grid's best, of a penalty passed over)
    acc = est.cv_results_["mean_accuracy"][list(est.cv_results_["grid"]).index(est.l1_)]
    assert len(line) == 1 and line[0].startswith(
        f"l1 chosen     {est.l1_:g} of 0.001, 0.03 by 3-fold cross-validation x 2, held-out accuracy {acc:.3f}"
    )
    plain = MIPNetClassifier((2,), l1=0.01, time_limit=5, threads=1).fit(X, y)
    assert plain.l1_ == 0.01 and not hasattr(plain, "cv_results_")
    assert not any(t.startswith("l1 chosen") for t in plain.certificate_.lines())


def test_cli_l1_cv(tmp_path):
    from mipnet.cli import cli
    from mipnet.cli.train import COMMANDS

    for cmd in COMMANDS:
        if cmd.name not in cli.commands:
            cli.add_command(cmd)
    X, y = _data(n=30, d=3, seed=4)
    path = tmp_path / "d.csv"
    np.savetxt(path, np.column_stack([X, y]), delimiter=",", header="a,b,c,label", comments="")
    out = tmp_path / "m.json"
    res = CliRunner().invoke(
        cli,
        [
            "train",
            str(path),
            "--target",
            "label",
            "--hidden",
            "2",
            "--l1",
            "cv",
            "--l1-grid",
            "0.002,0.02",
            "--time-limit",
            "8",
            "-o",
            str(out),
        ],
    )
    assert res.exit_code == 0, res.output
    assert "l1 by 5-fold cross-validation" in res.output and "re-check with numpy: ok" in res.output
    cert = json.loads(out.read_text())["metadata"]["certificate"]
    assert cert["coefficients"]["l1"] in (0.002, 0.02)
    for args, msg in (
        (["--l1", "lots"], "--l1 must be"),
        (["--l1", "-1"], "--l1 must be"),
        (["--l1", "0.01", "--l1-grid", "0.1"], "--l1 cv"),
        (["--l1", "cv", "--l1-grid", "a"], "--l1-grid"),
    ):
        bad_out = tmp_path / "bad.json"
        bad = CliRunner().invoke(cli, ["train", str(path), "--target", "label", *args, "-o", str(bad_out)])
        assert bad.exit_code != 0 and msg in bad.output and not bad_out.exists()


def test_the_default_grid_steps_by_at_most_a_factor_two():
    from mipnet.train.penalty_cv import DEFAULT_L1_GRID

    grid = np.asarray(DEFAULT_L1_GRID)
    assert np.all(np.diff(grid) > 0) and grid[0] == 0.001 and grid[-1] == 0.1
    assert np.max(grid[1:] / grid[:-1]) <= 2.0 + 1e-12  # a coarser grid stepped over the accuracy peak
    assert MIPNetClassifier().l1_grid == DEFAULT_L1_GRID


def test_the_speed_probe_stops_at_its_budget_and_prices_what_it_ran(monkeypatch):
    """The probe of the surrogate's speed gets an end (a share of the time left; full Adult with l1 cv and 5 s: its
    30 steps took over 20 s) and, stopped there, prices its time as one step (the fits after it then plan fewer)."""
    import mipnet.train.penalty_cv as pcv

    seen: list = []

    def fake(*args, **kwargs):
        seen.append(kwargs.get("end"))
        time.sleep(0.02)  # the same seconds either way: only the steps they are divided by differ
        kwargs["ran"].append(1 if kwargs.get("end") is not None else kwargs["steps"])  # stopped after one step
        return []

    monkeypatch.setattr(pcv, "fit_sign_path", fake)
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(200, 3)), np.where(rng.random(200) < 0.5, 1.0, -1.0)
    kw = dict(margin=1.0, weight_bound=1.0, bias_bound=1.0, seed=0)
    rate_free, _ = pcv._probe(X, y, 2, [0.01, 0.1], kw, standardised=True)
    rate_cut, _ = pcv._probe(X, y, 2, [0.01, 0.1], kw, standardised=True, budget=0.0)
    assert seen[0] is None and seen[1] is not None
    assert rate_cut > 10 * rate_free > 0  # the stopped probe divides by the one step it ran, not PROBE_STEPS (30)


def test_recheck_binds_the_selection_record():
    """The --l1 cv record was never read by the re-check: a chosen l1 of 0.01 beside the objective's 0.1, or scores
    edited so that another penalty wins, re-checked OK. It must be the objective's l1 and the rule's choice."""
    from helpers import forged

    from mipnet.certificates import training_certificate
    from mipnet.report.recheck import recheck

    X, y = _data(n=30, d=3, seed=3)
    est = MIPNetClassifier((2,), l1="cv", l1_grid=(0.001, 0.03), cv_folds=3, time_limit=3, threads=1).fit(X, y)
    cert = training_certificate(est.network_, est.network_.metadata["certificate"], target="y")
    rep = recheck(cert, est.network_, (X, y), reprove=False)  # (the bound's re-proof is not what this checks)
    claim = [c for c in rep.checks if c.name == "l1 chosen by cross-validation, as recorded"]
    assert claim and claim[0].outcome == "pass", rep.lines()
    other = 0.001 if est.l1_ == 0.03 else 0.03

    def moved_l1(d):
        d["result"]["formulation"]["penalty_selection"]["l1"] = other

    def other_wins(d):  # scores that make the other penalty the rule's choice (its full-data fit not constant)
        sel = d["result"]["formulation"]["penalty_selection"]
        k = sel["grid"].index(other)
        sel["mean_accuracy"] = [0.99 if i == k else 0.5 for i in range(len(sel["grid"]))]
        sel["full_data_nonzero"] = [5] * len(sel["grid"])

    for edit in (moved_l1, other_wins):
        bad = recheck(forged(cert, edit), est.network_, (X, y), reprove=False)
        failed = [
            c for c in bad.checks if c.name == "l1 chosen by cross-validation, as recorded" and c.outcome == "fail"
        ]
        assert bad.status == "failed" and failed, (edit.__name__, bad.lines())


def test_margin_zero_fits_and_cv_names_what_is_missing():
    """margin=0 passed validation, then the surrogate start stopped the fit with "need ... margin > 0"; the --l1 cv
    refusal named the class and loss (both fine) instead of what kept it out (a budget, a zero margin)."""
    X, y = _data(n=30, d=2, seed=1)
    est = MIPNetClassifier((2,), l1=0.01, margin=0.0, time_limit=20, threads=1).fit(X, y)
    assert est.certificate_check_["ok"]
    with pytest.raises(UnsupportedError, match=r"lacks: no --max-nonzeros / --max-neurons budget\)"):
        MIPNetClassifier((2,), l1="cv", max_nonzeros=2, time_limit=5).fit(X, y)
    with pytest.raises(UnsupportedError, match=r"lacks: a margin > 0\)"):
        MIPNetClassifier((2,), l1="cv", margin=0.0, time_limit=5).fit(X, y)
