"""Domain constraints in training (mipnet.train.constraints): each kind on a tiny planted problem whose
unconstrained optimum violates it; with the constraint it holds on the returned network (numpy), is recorded in
the certificate, the certified objective is no lower than without it, and the certificate re-checks. Bad
constraints fail before any work with one line (exit 2 on the command line)."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from click.testing import CliRunner

from mipnet import Dense, Network, ReLU
from mipnet.certificates import training_certificate
from mipnet.domain import Domain
from mipnet.report.recheck import recheck
from mipnet.train import TrainConfig, train
from mipnet.train.constraints import (
    ConstraintError,
    ExcludeFeatures,
    FeatureBudget,
    OutputOrder,
    ParityBound,
    WeightSign,
    check_constraints,
    parse_constraints,
)

NAMES = ["a", "b", "c"]
CFG = TrainConfig(hidden=(1,), l1=0.02)


def _data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(4)
    X = rng.normal(size=(14, 3))
    y = (1.5 * X[:, 0] - 1.0 * X[:, 1] + 0.6 * X[:, 2] > 0).astype(int)
    return X, y


def _train(constraints=None, linear=False, config=CFG):
    X, y = _data()
    return train(
        X,
        y,
        config=config,
        domain=Domain.from_data(X, names=NAMES),
        constraints=constraints,
        linear=linear,
        time_limit=120,
        threads=1,
    )


@pytest.fixture(scope="module")
def free():
    return _train()


def _first(net):
    return net.layers[1].weight, net.layers[3].weight


def _certified(res):
    c = res.certificate
    assert c.status == "optimal" and c.gap is not None and c.gap <= 1e-6, (c.status, c.gap)
    assert res.check["ok"]
    return c


def _recorded(res, kind):
    recs = res.certificate.formulation["domain_constraints"]
    rec = [r for r in recs if r["kind"] == kind]
    assert rec and all(r["holds"] for r in rec), recs
    # the same check again, on the saved (pruned) network
    X, _ = _data()
    cfg = res.certificate.formulation["config"]
    from mipnet.train.constraints import read_resolved

    again = check_constraints(res.network, [read_resolved(c) for c in cfg["constraints"]], X)
    assert all(r["holds"] for r in again)
    return rec


def _costs_at_least(res, free):
    assert _certified(res).incumbent >= _certified(free).incumbent - 1e-9


def _rechecks(res):
    X, y = _data()
    cert = training_certificate(res.network, res.network.metadata["certificate"], target="y")
    rep = recheck(cert, res.network, (X, y))
    assert rep.status == "ok", rep.lines()
    assert any(c.name == "domain constraints hold on the network" and c.outcome == "pass" for c in rep.checks)


def test_exclude_features(free):
    W, _ = _first(free.network)
    assert np.any(W[:, 0] != 0)  # planted: the free optimum reads feature a
    res = _train([ExcludeFeatures(("a",))], linear=True)
    W, _ = _first(res.network)
    assert np.all(W[:, 0] == 0)
    rec = _recorded(res, "exclude")
    assert rec[0]["measured"] == 0.0
    _costs_at_least(res, free)
    _rechecks(res)


def test_weight_sign_gives_a_certified_monotone_network(free):
    from mipnet.verify.monotonic import verify_global

    W, V = _first(free.network)
    assert np.min(V * W[:, 1][None, :]) < 0  # planted: the free optimum decreases in b
    res = _train([WeightSign("b", +1)])
    W, V = _first(res.network)
    assert np.min(V * W[:, 1][None, :]) >= 0
    _recorded(res, "sign")
    _costs_at_least(res, free)
    mono = verify_global(res.network, increasing=["b"], time_limit=30)
    assert mono.status == "holds"
    _rechecks(res)


@pytest.mark.parametrize("forge", ["input", "output"])
def test_a_sign_is_measured_from_the_raw_feature_through_the_scalings(forge):
    """A forged model with feature b's input scaling (or the output's) negated decreases in b; the check read only
    the Dense weights and printed the sign as holding (the re-check without data: a PASS line)."""
    from mipnet.layers import Normalize
    from mipnet.train.constraints import Resolved, check_constraints

    W, V = np.array([[0.5, 1.0, 0.0], [0.0, 2.0, -1.0]]), np.array([[1.0, 0.5]])
    layers = [Normalize(np.ones(3), np.zeros(3)), Dense(W, np.zeros(2)), ReLU(), Dense(V, np.zeros(1))]
    layers.append(Normalize(np.ones(1), np.zeros(1)))
    net = Network(layers, input_shape=(3,))
    sign = [Resolved("sign", "WeightSign(feature='b', sign=1)", features=(1,), sign=1)]
    X, _ = _data()
    assert check_constraints(net, sign, X)[0]["holds"]
    flipped = net.layers[0] if forge == "input" else net.layers[-1]
    k = 1 if forge == "input" else 0
    flipped.scale[k] = -flipped.scale[k]
    (rec,) = check_constraints(net, sign, X)
    assert rec["holds"] is False and rec["measured"] < 0
    x = np.array([[2.0, 0.0, 0.0], [2.0, 0.5, 0.0]])
    assert net.forward(x)[1, 0] < net.forward(x)[0, 0]  # (the forged network does decrease in b)


def test_weight_sign_other_classes_and_linear_part():
    from mipnet.verify.monotonic import verify_global

    cfg = TrainConfig(hidden=(2,), hypothesis="quantized", l1=0.02)
    res = _train([WeightSign("b", +1)], linear=True, config=cfg)
    assert res.check["ok"]
    _recorded(res, "sign")
    assert verify_global(res.network, increasing=["b"], time_limit=30).status == "holds"


def test_feature_budget(free):
    W, _ = _first(free.network)
    assert np.count_nonzero(np.any(W != 0, axis=0)) >= 2
    res = _train([FeatureBudget(1)])
    W, _ = _first(res.network)
    assert np.count_nonzero(np.any(W != 0, axis=0)) <= 1
    assert _recorded(res, "budget")[0]["measured"] <= 1
    _costs_at_least(res, free)
    _rechecks(res)


def test_output_order(free):
    X, y = _data()
    score = 1.5 * X[:, 0] - 1.0 * X[:, 1] + 0.6 * X[:, 2]
    xa, xb = X[np.argmin(score)], X[np.argmax(score)]  # planted: the free optimum ranks xb far above xa
    f = free.network.forward(np.array([xa, xb]))[:, 0]
    assert f[0] < f[1] - 0.1
    res = _train([OutputOrder(dict(zip(NAMES, xa)), list(xb), 0.1)])
    f = res.network.forward(np.array([xa, xb]))[:, 0]
    assert f[0] >= f[1] + 0.1 - 1e-6
    assert _recorded(res, "order")[0]["measured"] >= 0.1 - 1e-6
    _costs_at_least(res, free)
    _rechecks(res)


def test_parity_bound(free):
    X, y = _data()
    g = X[:, 0] > 0  # planted: group A is mostly positive
    pos = free.network.predict_index(free.network.forward(X)) == 1
    assert abs(pos[g].mean() - pos[~g].mean()) > 0.3
    res = _train([ParityBound(g, 0.2)])
    pos = res.network.predict_index(res.network.forward(X)) == 1
    assert abs(pos[g].mean() - pos[~g].mean()) <= 0.2
    assert _recorded(res, "parity")[0]["measured"] <= 0.2
    _costs_at_least(res, free)
    _rechecks(res)


def test_parity_by_feature_column_and_estimator():
    from mipnet import MIPNetClassifier

    X, y = _data()
    Xg = np.column_stack([X, (X[:, 0] > 0).astype(float)])
    clf = MIPNetClassifier(
        (1,),
        l1=0.02,
        time_limit=60,
        constraints=[{"kind": "parity", "group": 3, "delta": 0.25}, {"kind": "exclude", "features": [3]}],
    ).fit(Xg, y)
    recs = clf.certificate_.formulation["domain_constraints"]
    assert [r["holds"] for r in recs] == [True, True]


@pytest.mark.parametrize(
    "bad, message",
    [
        ([ExcludeFeatures(("zzz",))], "unknown feature 'zzz'"),
        ([{"kind": "budget", "k": 0}], "k must be an integer >= 1"),
        ([{"kind": "parity", "group": "a", "delta": -0.1}], "delta must be a finite number >= 0"),
        ([{"kind": "order", "x_a": [0, 0, float("nan")], "x_b": [0, 0, 0]}], "NaN"),
        ([{"kind": "sign", "feature": "a", "sign": 2}], "sign must be +1 or -1"),
        ([{"kind": "monotone", "feature": "a"}], "unknown kind"),
        ([OutputOrder([0, 0], [0, 0, 0])], "one value per feature"),
        ([{"kind": "order", "x_a": [[1, 30], [1, 1]], "x_b": [0, 0, 0, 0]}], "a flat list"),  # (was flattened)
    ],
)
def test_bad_constraints_fail_before_any_work(bad, message):
    X, y = _data()
    with pytest.raises(ConstraintError, match=re.escape(message)):
        train(X, y, config=CFG, domain=Domain.from_data(X, names=NAMES), constraints=bad, time_limit=0.001)


def test_cli_constraint_file(tmp_path):
    import pandas as pd

    from mipnet.cli import cli

    X, y = _data()
    df = pd.DataFrame(X, columns=NAMES)
    df["label"] = y
    data = tmp_path / "d.csv"
    df.to_csv(data, index=False)
    cons = tmp_path / "c.json"
    cons.write_text(json.dumps([{"kind": "exclude", "features": ["a"]}, {"kind": "sign", "feature": "b", "sign": 1}]))
    out = tmp_path / "m.json"
    r = CliRunner().invoke(
        cli,
        [
            "train",
            str(data),
            "--target",
            "label",
            "--hidden",
            "1",
            "--l1",
            "0.02",
            "--linear",
            "--constraint",
            str(cons),
            "--time-limit",
            "60",
            "-o",
            str(out),
        ],
    )
    assert r.exit_code == 0, r.output
    assert "holds" in r.output and "VIOLATED" not in r.output
    saved = json.loads(out.read_text())
    assert saved["metadata"]["certificate"]["formulation"]["config"]["linear"] is True
    for bad, msg in [
        ([{"kind": "exclude", "features": ["nope"]}], "unknown feature"),
        ("{", "not JSON"),
        ([{"kind": "budget", "k": 0}], "k must be"),
    ]:
        cons.write_text(bad if isinstance(bad, str) else json.dumps(bad))
        r = CliRunner().invoke(
            cli, ["train", str(data), "--target", "label", "--constraint", str(cons), "-o", str(out)]
        )
        assert r.exit_code == 2, r.output
        assert msg in r.output
    assert "--constraint" in CliRunner().invoke(cli, ["train", "--help"]).output


def test_parse_constraints_round_trip():
    cs = parse_constraints(
        [
            {"kind": "exclude", "features": ["a", 1]},
            {"kind": "budget", "k": 2},
            {"kind": "parity", "group": [True, False], "delta": 0.1},
        ]
    )
    assert cs == [ExcludeFeatures(("a", 1)), FeatureBudget(2), ParityBound((True, False), 0.1)]


# ---------------------------------------------------------------------- what the certificate says, and its re-check
def _forged(cert, edit):
    from helpers import forged

    return forged(cert, edit)


def _edit_constraint(kind, **changes):
    def edit(d):
        for block in (d["question"]["config"], d["result"]["formulation"]["config"]):
            for c in block["constraints"]:
                if c["kind"] == kind:
                    c.update(changes)
        for r in d["result"]["formulation"]["domain_constraints"]:
            if r["kind"] == kind and "text" in changes:
                r["constraint"] = changes["text"]

    return edit


@pytest.mark.parametrize(
    "kind, constraints, changes",
    [
        # the text names another feature than the indices encode (the model reads that feature)
        ("exclude", [ExcludeFeatures(("a",))], {"text": "ExcludeFeatures(features=('b',))"}),
        # the text claims the opposite sign; the recorded index points at another column
        ("sign", [WeightSign("b", +1)], {"text": "WeightSign(feature='b', sign=-1)", "sign": -1, "features": [0]}),
        # a parity group by feature with made-up groups: the data's column says otherwise
        ("parity", [ParityBound("a", 1.0)], {"groups": [1, 0] * 7}),
    ],
)
def test_recheck_refutes_a_constraint_whose_record_was_edited(kind, constraints, changes):
    """The re-check measured the recorded numbers only: an edited text ("excludes b", "sign -1") or made-up parity
    groups re-checked OK while the model breaks what the text says."""
    rep, failed, _ = _forged_recheck(constraints, _edit_constraint(kind, **changes))
    assert rep.status == "failed" and failed, rep.lines()


def _forged_recheck(constraints, edit):
    """Train under ``constraints`` (a 0/1 column a for parity groups), check the honest certificate re-checks OK,
    re-check the one ``edit`` forged: (report, failed constraint checks, re-check of the forgery without data)."""
    X, y = _data()
    Xp = X.copy()
    Xp[:, 0] = (X[:, 0] > 0).astype(float)
    res = train(
        Xp, y, config=CFG, domain=Domain.from_data(Xp, names=NAMES), constraints=constraints, time_limit=60, threads=1
    )
    cert = training_certificate(res.network, res.network.metadata["certificate"], target="y")
    assert recheck(cert, res.network, (Xp, y)).status == "ok"
    rep = recheck(_forged(cert, edit), res.network, (Xp, y))
    failed = [c for c in rep.checks if c.name == "domain constraints hold on the network" and c.outcome == "fail"]
    return rep, failed, recheck(_forged(cert, edit), res.network, None)


def _one_hot_data():
    """(rng, X, y, names): a numeric column and a one-hot column g=A, g=B, g=C of 30 rows."""
    rng = np.random.default_rng(0)
    level = rng.integers(0, 3, 30)
    X = np.column_stack([rng.normal(size=30), *(level == k for k in range(3))]).astype(float)
    y = (X[:, 0] + (level == 2) > 0.5).astype(int)
    return rng, X, y, ["x", "g=A", "g=B", "g=C"]


def test_a_one_hot_column_is_excluded_by_its_name_and_never_by_one_level():
    """Excluding one level (race=A) left the other levels in the model, which still read the attribute."""
    rng, X, y, names = _one_hot_data()
    dom = Domain.from_data(X, names=names)
    with pytest.raises(ConstraintError, match="one level of the one-hot column 'g'"):
        train(X, y, config=CFG, domain=dom, constraints=[ExcludeFeatures(("g=A",))], time_limit=0.001)
    with pytest.raises(ConstraintError, match="one-hot encoded into g=A, g=B, g=C"):
        train(X, y, config=CFG, domain=dom, constraints=[WeightSign("g", 1)], time_limit=0.001)
    res = train(X, y, config=CFG, domain=dom, constraints=[ExcludeFeatures(("g",))], time_limit=60, threads=1)
    W, _ = _first(res.network)
    assert np.all(W[:, 1:] == 0)
    assert res.certificate.formulation["domain_constraints"][0]["constraint"] == (
        "ExcludeFeatures(features=('g=A', 'g=B', 'g=C'))"
    )


def test_constraints_no_network_can_meet_are_called_infeasible():
    """They were reported as "found no network within the time limit; raise --time-limit" after the solver had
    proved the MILP infeasible."""
    X, y = _data()
    dom = Domain.from_data(X, names=NAMES)
    same = list(X[0])
    with pytest.raises(ConstraintError, match="the same point"):
        train(X, y, config=CFG, domain=dom, constraints=[OutputOrder(same, same, 1.0)], time_limit=0.001)
    lo, hi = X[:, 1].min(), X[:, 1].max()
    a, b = list(X[0]), list(X[0])
    a[1], b[1] = lo, hi
    contradiction = [WeightSign("b", +1), OutputOrder(a, b, 0.5)]  # non-decreasing in b, yet f(lo) >= f(hi) + 0.5
    with pytest.raises(ConstraintError, match="infeasible"):
        train(X, y, config=CFG, domain=dom, constraints=contradiction, time_limit=60, threads=1)
    # the linear model alone (cutting planes): its master proved infeasible said "raise --time-limit" after 2 s
    alone = TrainConfig(hidden=(2,), l1=0.02, max_neurons=0)
    with pytest.raises(ConstraintError, match="is at most 0 for every linear model in its weight box"):
        train(X, y, config=alone, domain=dom, constraints=contradiction, linear=True, time_limit=60, threads=1)
    zero = {"a": 0.0, "b": 0.0, "c": 0.0}
    two = [OutputOrder({**zero, "a": 0.5}, zero, 0.5), OutputOrder({**zero, "b": 0.5}, zero, 0.5), FeatureBudget(1)]
    with pytest.raises(ConstraintError, match="infeasible: highs proved that no linear model"):  # (two features)
        train(X, y, config=alone, domain=dom, constraints=two, linear=True, time_limit=60, threads=1)


@pytest.mark.parametrize("delta", [1e4, 1e20])
def test_an_order_delta_beyond_every_network_of_the_class_is_infeasible(delta):
    """A delta of 1e20 is HiGHS's infinity: the row was dropped, the MILP "optimal", and the fit ended in "no network
    meeting the constraints was found within the time limit; raise --time-limit"."""
    X, y = _data()
    dom = Domain.from_data(X, names=NAMES)
    far = [OutputOrder({"a": 1.0, "b": 0.0, "c": 0.0}, {"a": 0.0, "b": 0.0, "c": 0.0}, delta)]
    with pytest.raises(ConstraintError, match="infeasible: f.x_a. - f.x_b. is at most"):
        train(X, y, config=CFG, domain=dom, constraints=far, time_limit=60, threads=1)
    alone = TrainConfig(hidden=(2,), l1=0.02, max_neurons=0)
    with pytest.raises(ConstraintError, match="infeasible"):
        train(X, y, config=alone, domain=dom, constraints=far, linear=True, time_limit=60, threads=1)


def _edit_user_numbers(kind, **changes):
    """Edit the user's numbers of a recorded constraint and rewrite its text to match (the MILP's numbers kept)."""
    from mipnet.train.constraints import canonical_text, read_resolved

    def edit(d):
        text = None
        for block in (d["question"]["config"], d["result"]["formulation"]["config"]):
            for c in block["constraints"]:
                if c["kind"] == kind:
                    c.update(changes)
                    c["text"] = text = canonical_text(read_resolved(c), NAMES)
        for r in d["result"]["formulation"]["domain_constraints"]:
            if r["kind"] == kind:
                r["constraint"] = text

    return edit


@pytest.mark.parametrize(
    "kind, constraints, changes",
    [
        # trained under delta 0.5, claimed under delta 0: a looser constraint beside the tighter one's optimum
        (
            "order",
            [OutputOrder({"a": 1.0, "b": 0.0, "c": 0.0}, {"a": 0.0, "b": 0.0, "c": 0.0}, 0.5)],
            {"raw_delta": 0.0},
        ),
        # the raw point moved (its standardised copy, which the MILP reads, not)
        (
            "order",
            [OutputOrder({"a": 1.0, "b": 0.0, "c": 0.0}, {"a": 0.0, "b": 0.0, "c": 0.0}, 0.5)],
            {"raw_b": [0.9, 0.0, 0.0]},
        ),
        # trained under parity 0.1, claimed vacuous (delta 1)
        ("parity", [ParityBound("a", 0.1)], {"raw_delta": 1.0}),
    ],
)
def test_recheck_binds_the_users_numbers_to_the_milps(kind, constraints, changes):
    """A recorded order or parity constraint keeps the user's numbers (text, numpy check) and the MILP's (the fresh
    solve, the cuts). Editing the user's alone (text rewritten to match) re-checked OK: a claim of "optimal under
    delta 0" for the optimum under delta 0.5. The MILP's numbers must be the user's, standardised."""
    rep, failed, no_data = _forged_recheck(constraints, _edit_user_numbers(kind, **changes))
    assert rep.status == "failed" and failed, rep.lines()
    assert "in the MILP's units" in failed[0].detail or "standardised point" in failed[0].detail
    assert no_data.status == "failed", no_data.lines()  # the network's Normalize is the scale without data


def test_an_honest_certificate_with_constant_units_rechecks():
    """Every feature excluded, 9 of 10 labels 1 and the output bias box 0.5: the optimum adds constant units
    (W = 0, b = B_b, v = +1) as extra output bias. Saving folded them into the output bias (1 > its box 0.5) and
    dropped their weights v (the recorded l1 share): the honest certificate was refuted as tampered."""
    X = np.array(
        [
            [0.35, -0.2],
            [0.82, 0.1],
            [0.33, 1.1],
            [-1.3, -0.4],
            [0.91, 0.3],
            [0.45, -0.9],
            [-0.54, 0.2],
            [0.58, 0.7],
            [0.36, -0.1],
            [0.29, 0.5],
        ]
    )
    y = np.array([1, 1, 1, 1, 1, 1, 1, 1, 1, 0])
    cfg = TrainConfig(hidden=(2,), l1=0.01, bias_bound=0.5)
    res = train(
        X,
        y,
        config=cfg,
        domain=Domain.from_data(X, names=["x0", "x1"]),
        constraints=[ExcludeFeatures(("x0", "x1"))],
        time_limit=60,
        threads=1,
    )
    c = _certified(res)
    cert = training_certificate(res.network, res.network.metadata["certificate"], target="y")
    rep = recheck(cert, res.network, (X, y))
    assert rep.status == "ok", rep.lines()
    assert np.all(np.abs(res.network.layers[-1].bias) <= 0.5 + 1e-12)
    assert c.incumbent == pytest.approx(sum(c.terms.values()), abs=1e-12)


@pytest.mark.parametrize(
    "point, message",
    [
        ({"a": 1e9, "b": 0.0, "c": 0.0}, "outside the model's input domain"),  # (big-M of 1e9: a false optimal)
        ({"a": 0.0, "b": 0.0, "c": 0.0, "x": 1.0}, "unknown"),
    ],
)
def test_order_points_are_inputs_of_the_model(point, message):
    X, y = _data()
    c = [OutputOrder(point, {"a": 0.0, "b": 0.0, "c": 0.0}, 0.0)]
    with pytest.raises(ConstraintError, match=re.escape(message)):
        train(X, y, config=CFG, domain=Domain.from_data(X, names=NAMES), constraints=c, time_limit=0.001)


def test_order_points_far_from_the_data_and_deltas_below_resolution_are_refused():
    X, y = _data()
    wide = Domain(NAMES, [-1e12] * 3, [1e12] * 3)
    far = [OutputOrder({"a": 1e9, "b": 0.0, "c": 0.0}, {"a": 0.0, "b": 0.0, "c": 0.0}, 0.0)]
    with pytest.raises(ConstraintError, match="standard deviations"):
        train(X, y, config=CFG, domain=wide, constraints=far, time_limit=0.001)
    Xr, yr = X, 2e6 * X[:, 0]  # a target in millions: delta 1 is 5e-7 of its spread
    tiny = [OutputOrder({"a": 1.0, "b": 0.0, "c": 0.0}, {"a": 0.0, "b": 0.0, "c": 0.0}, 1.0)]
    with pytest.raises(ConstraintError, match="resolution"):
        train(Xr, yr, task="regress", config=TrainConfig(hidden=(1,), l1=0.02), domain=wide, constraints=tiny)


def test_one_hot_order_points_and_numeric_columns_named_with_equals():
    rng, X, y, names = _one_hot_data()
    dom = Domain(names, [-3, 0, 0, 0], [3, 1, 1, 1], onehot_groups=[[1, 2, 3]])
    two = [OutputOrder([0.0, 1.0, 1.0, 0.0], [0.0, 1.0, 0.0, 0.0], 0.0)]
    with pytest.raises(ConstraintError, match="exactly one 1"):
        train(X, y, config=CFG, domain=dom, constraints=two, time_limit=0.001)
    # numeric columns named t=1, t=2 are no levels of a column t: either may be excluded alone
    Xn = rng.normal(size=(30, 2))
    yn = (Xn[:, 0] > 0).astype(int)
    res = train(
        Xn,
        yn,
        config=CFG,
        domain=Domain.from_data(Xn, names=["t=1", "t=2"]),
        constraints=[ExcludeFeatures(("t=2",))],
        time_limit=20,
    )
    assert np.all(res.network.layers[1].weight[:, 1] == 0)


def test_the_printed_record_of_a_check_is_bound_to_the_measurement(free):
    """The trainer's record of each check (measured, required, kind) could be edited freely and re-check OK."""
    constraints = [OutputOrder({"a": 1.0, "b": 0.0, "c": 0.0}, {"a": 0.0, "b": 0.0, "c": 0.0}, 0.5)]

    def edit(d):
        rec = d["result"]["formulation"]["domain_constraints"][0]
        rec.update(measured=100.0, required="f(x_a) - f(x_b) >= 100")

    rep, failed, _ = _forged_recheck(constraints, edit)
    assert rep.status == "failed" and failed, rep.lines()


def test_a_deeply_nested_constraint_file_is_one_line(tmp_path):
    from mipnet.cli import cli

    X, y = _data()
    (tmp_path / "d.csv").write_text("a,b,c,y\n" + "".join(f"{r[0]},{r[1]},{r[2]},{t}\n" for r, t in zip(X, y)))
    (tmp_path / "c.json").write_text("[" * 3000 + "]" * 3000)
    args = ["train", str(tmp_path / "d.csv"), "--target", "y", "--constraint", str(tmp_path / "c.json")]
    r = CliRunner().invoke(cli, [*args, "-o", str(tmp_path / "m.json")])
    assert r.exit_code == 2 and "nested too deeply" in r.output and "Traceback" not in r.output
    assert not (tmp_path / "m.json").exists()


def test_constraints_unmet_when_the_time_limit_ends_exit_3_not_2(monkeypatch) -> None:
    """ "no network meeting the training constraints was found within the time limit" exited 2 (an input error),
    where the documentation says 3 (unknown), as with --monotone-*: a limit cut the work short."""
    from click.testing import CliRunner

    import mipnet.datasets as ds
    from mipnet.cli import cli
    from mipnet.errors import LimitError

    def cut(*args, **kwargs):
        raise LimitError("no network meeting the training constraints was found within the time limit (5 s)")

    monkeypatch.setattr(ds, "load", cut)
    res = CliRunner().invoke(cli, ["datasets", "heart"])
    assert res.exit_code == 3 and res.output.strip().startswith("error: no network meeting"), res.output


@pytest.mark.parametrize(
    "record",
    [
        {"kind": "sign", "features": [0], "sign": 0},
        {"kind": "sign", "features": [0], "sign": 2},
        {"kind": "sign", "features": [0, 1], "sign": 1},
        {"kind": "budget", "k": -1},
        {"kind": "parity", "delta": -0.1, "groups": [1, 0]},
        {"kind": "exclude", "features": []},
    ],
)
def test_a_recorded_constraint_that_means_nothing_is_refused(record):
    """A recorded sign of 0 read as "w <= 0" in the cutting planes' master and as no constraint in the other
    checks: an edited certificate re-checked OK an optimum over a constraint that restricted nothing."""
    from mipnet.train.constraints import ConstraintError, read_resolved

    with pytest.raises(ConstraintError, match="not readable"):
        read_resolved(record)
    ok = read_resolved({"kind": "sign", "features": [0], "sign": -1})
    assert ok.sign == -1


@pytest.mark.parametrize("extra", [["--linear"], ["--constraint", "CONS"]])
def test_cli_linear_and_constraints_need_one_hidden_layer_before_the_data_are_read(tmp_path, extra):
    """--linear --hidden 3,2 printed "training on N rows" and failed after the data were read."""
    from mipnet.cli import cli

    data = tmp_path / "d.csv"
    data.write_text("not,a\ncsv file at all,\x00\n")  # never read: the option error comes first
    cons = tmp_path / "c.json"
    cons.write_text(json.dumps([{"kind": "budget", "k": 1}]))
    args = ["train", str(data), "--target", "a", "--hidden", "3,2", "-o", str(tmp_path / "m.json")]
    r = CliRunner().invoke(cli, args + [str(cons) if e == "CONS" else e for e in extra])
    assert r.exit_code == 2 and "take one hidden layer" in r.output and "training on" not in r.output, r.output
    assert not (tmp_path / "m.json").exists()
