"""Monotonicity's slope tolerance along wide features, and the re-check of what a "holds" claims.

A proved slope of -tol per unit is round-off on a narrow feature and a real drop on a wide one: the tolerance along
a feature is min(tol, DROP_TOL / range) in both modes (block-wise accepted -5e-8 on [0, 1e8], a drop of 5, as
"holds"; exact mode's cut-off solve at -tol could never prove a feature wider than 100 units). The re-check of a
claimed bound above round-off re-derives it (a forged minimum slope or worst margin was "OK"), a lattice proof's
certificate (no bound recorded) re-checks, and an individual "holds" cannot claim a maximum below f(x)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from helpers import forged

from mipnet.domain import Domain
from mipnet.layers import Dense, ReLU
from mipnet.network import Network
from mipnet.report.certificates import (
    individual_monotonicity_certificate,
    monotonicity_certificate,
    robustness_certificate,
)
from mipnet.report.recheck import recheck
from mipnet.verify.monotonic import verify_global, verify_individual
from mipnet.verify.monotonic.common import DROP_TOL, TOL, slope_tolerance
from mipnet.verify.robustness import verify_robustness


def _drop_net() -> Network:  # f = 1 - 5e-8 u on [0, 1e8]: slope above -tol, a drop of 5
    return Network([Dense(np.array([[-5e-8]]), np.array([1.0]))], domain=Domain(["u"], [0.0], [1e8]), task="regress")


def _ramp(width: float) -> Network:  # slopes 0, 2, 1 along x0: monotone
    layers = [Dense(np.array([[1.0], [1.0]]), np.array([0.0, -1.0])), ReLU(), Dense(np.array([[2.0, -1.0]]), [0.0])]
    return Network(layers, domain=Domain(["x0"], [-width], [width]), task="regress")


def test_slope_tolerance_caps_the_drop_over_the_range() -> None:
    assert slope_tolerance(TOL, 1.0) == TOL
    assert slope_tolerance(TOL, 1e8) == DROP_TOL / 1e8
    assert slope_tolerance(TOL, float("inf")) == TOL and slope_tolerance(TOL, 0.0) == TOL


def test_a_real_drop_on_a_wide_feature_is_never_holds() -> None:
    net = _drop_net()
    for mode in ("exact", "blockwise"):
        fv = verify_global(net, ["u"], mode=mode, time_limit=10).features[0]
        assert fv.status != "holds", (mode, fv)
    fv = verify_global(net, ["u"], mode="exact", time_limit=10).features[0]
    assert fv.status == "violated" and fv.witness is not None
    assert fv.witness.f_x_prime < fv.witness.f_x - 1.0  # the pair shows the drop


def test_a_falling_classifier_with_tiny_logits_is_never_holds() -> None:
    """logit = sc (0.5 - x0): the class falls from 1 to 0 as x0 grows, whatever sc > 0. At sc = 1e-8 the exact
    interval bound -1e-8 was within the absolute tolerance 1e-7: "holds". The tolerance is also relative to the
    slopes the bounds allow (REL_TOL x 1e-8); scaled up, a truly monotone net of the same size still holds."""
    from mipnet.verify.monotonic.common import REL_TOL

    for sc in (1e-8, 1e-10, 1e-6):
        net = Network(
            [Dense(np.array([[-sc, 0.0]]), np.array([0.5 * sc]))], domain=Domain(["x0", "x1"], [0, 0], [1, 1])
        )
        assert list(net.predict(np.array([[0.2, 0.5], [0.8, 0.5]]))) == [1, 0]
        for mode in ("exact", "blockwise"):
            fv = verify_global(net, ["x0"], mode=mode, time_limit=10).features[0]
            assert fv.status == "violated" or (sc < 1e-8 and fv.status == "unknown"), (sc, mode, fv)
        rising = Network([Dense(np.array([[sc, 0.0]]), np.array([-0.5 * sc]))], domain=net.domain)
        for mode in ("exact", "blockwise"):
            assert verify_global(rising, ["x0"], mode=mode, time_limit=10).features[0].status == "holds"
    assert slope_tolerance(TOL, 1.0, 1e-8) == REL_TOL * 1e-8 and slope_tolerance(TOL, 1.0, 1.0) == TOL


def test_a_monotone_feature_wider_than_100_units_is_proved() -> None:
    for width in (50.0, 200.0, 1e4):
        fv = verify_global(_ramp(width), ["x0"], mode="exact", time_limit=10).features[0]
        assert fv.status == "holds", (width, fv)


def _thin() -> Network:
    """f = x0 - 0.8 relu(x0 + 1e4 x1 - 1e4 + 0.5): slope 1 except in a strip x1 > ~0.99995, where it is 0.2."""
    layers = [
        Dense(np.array([[1.0, 0.0], [1.0, 1e4]]), np.array([0.0, -1e4 + 0.5])),
        ReLU(),
        Dense(np.array([[1.0, -0.8]]), np.array([0.0])),
    ]
    return Network(layers, domain=Domain(["x0", "x1"], [0.0, 0.0], [1.0, 1.0]), task="regress")


def test_a_raised_minimum_slope_is_refuted() -> None:
    net = _thin()
    df = pd.DataFrame({"x0": [0.1, 0.5], "x1": [0.2, 0.7]})
    rep = verify_global(net, ["x0"], time_limit=10)
    assert rep.features[0].status == "holds"
    cert = monotonicity_certificate(net, rep, increasing=["x0"])
    assert recheck(cert, net, df, second_solver=None, time_limit=30).status == "ok"

    def raise_bound(d):
        d["answer"]["bound"] = 0.9
        d["answer"]["items"][0]["bound"] = 0.9
        d["result"]["features"][0]["bound"] = 0.9

    bad = recheck(forged(cert, raise_bound), net, df, second_solver=None, time_limit=30)
    assert bad.status == "failed", bad.lines()


def test_a_lattice_proof_rechecks() -> None:
    """Monotone on the integers 0..10 but not between them: the lattice proof records no bound."""
    layers = [
        Dense(np.array([[1.0], [1.0], [1.0]]), np.array([0.0, -6.2, -6.6])),
        ReLU(),
        Dense(np.array([[1.0, -2.0, 2.0]]), np.array([0.0])),
    ]
    net = Network(layers, domain=Domain(["x0"], [0.0], [10.0], np.array([True])), task="regress")
    assert np.all(np.diff(net.forward(np.arange(11.0)[:, None]).ravel()) >= 0)
    rep = verify_global(net, ["x0"], time_limit=10)
    assert rep.features[0].status == "holds"
    cert = monotonicity_certificate(net, rep, increasing=["x0"])
    out = recheck(cert, net, pd.DataFrame({"x0": [1, 5]}), second_solver=None, time_limit=30)
    assert out.status == "ok", out.lines()


def test_an_individual_maximum_below_f_x_is_refuted() -> None:
    net = _ramp(2.0)
    X = np.array([[0.5], [1.5]])
    r = verify_individual(net, X, ["x0"], time_limit=5)
    assert [p.status for p in r.points] == ["holds", "holds"]
    cert = individual_monotonicity_certificate(net, X, r, increasing=["x0"])
    df = pd.DataFrame({"x0": X[:, 0]})
    assert recheck(cert, net, df, second_solver=None, time_limit=20).status == "ok"

    def sink(d):
        d["answer"]["items"][1].update(bound=-100.0, f_best=-100.0)
        d["result"]["points"][1]["bound"] = -100.0

    bad = recheck(forged(cert, sink), net, df, second_solver=None, time_limit=20)
    assert bad.status == "failed", bad.lines()


def test_a_raised_worst_margin_is_refuted() -> None:
    """Class 1 iff a - 0.5 > 0; the sample a = 0.8, eps 0.2: the worst margin is 0.1 (at a = 0.6)."""
    net = Network([Dense(np.array([[1.0]]), np.array([-0.5]))], domain=Domain(["a"], [0.0], [1.0]))
    X = np.array([[0.8]])
    res = verify_robustness(net, X, 0.2, time_limit=10)
    assert res[0].verdict == "holds"
    cert = robustness_certificate(net, X, res, eps=0.2)
    df = pd.DataFrame({"a": [0.8]})
    assert recheck(cert, net, df, second_solver=None, time_limit=20).status == "ok"

    def lift(d):
        d["answer"]["items"][0]["bound"] = 0.25
        d["answer"]["bound"] = 0.25
        for r in d["result"] if isinstance(d["result"], list) else d["result"].get("rows", []):
            r["bound"] = 0.25

    bad = recheck(forged(cert, lift), net, df, second_solver=None, time_limit=20)
    assert bad.status == "failed", bad.lines()


def test_individual_rows_must_lie_in_the_domain_exactly() -> None:
    """A row 5e-8 above the box was accepted (tolerance 1e-7), then its region came out empty and the whole run
    stopped with "the requested input region is empty": it is refused up front, naming the feature."""
    import pytest

    from mipnet.errors import DataError

    net = Network(
        [Dense(np.array([[1.0, 0.5]]), np.array([0.0]))], domain=Domain(["x0", "x1"], [0, 0], [1, 1]), task="regress"
    )
    with pytest.raises(DataError, match="row 1 .*'x1' = 1.00000005 is outside"):
        verify_individual(net, np.array([[0.5, 0.5], [0.9999, 1.00000005]]), ["x0"], time_limit=5)


def test_cli_words_of_a_lattice_proof(tmp_path) -> None:
    """A lattice "holds" printed "min slope -1" next to the footer "holds = a proved minimum slope >= -1e-07"."""
    from click.testing import CliRunner

    from mipnet.cli import cli
    from mipnet.io import save_model

    layers = [
        Dense(np.array([[1.0], [1.0], [1.0]]), np.array([0.0, -6.2, -6.6])),
        ReLU(),
        Dense(np.array([[1.0, -2.0, 2.0]]), np.array([0.0])),
    ]
    net = Network(layers, domain=Domain(["x0"], [0.0], [10.0], np.array([True])), task="regress")
    save_model(net, tmp_path / "m.json")
    r = CliRunner().invoke(cli, ["verify", "monotonic", str(tmp_path / "m.json"), "--increasing", "x0"])
    assert r.exit_code == 0, r.output
    assert "(between whole numbers)" in r.output and "by the lattice check" in r.output
    assert "a proved minimum slope >=" not in r.output


def test_an_undecided_slope_says_whether_the_time_limit_or_the_solver_stopped_it() -> None:
    """HiGHS's "solve error" on a badly scaled model (after 0.01 s) was reported as "time limit of 10 s reached"."""
    from types import SimpleNamespace

    from mipnet.verify.monotonic.common import stopped_note

    assert stopped_note(SimpleNamespace(termination="maxTimeLimit"), 10.0, "x").startswith("time limit of 10 s")
    words = stopped_note(SimpleNamespace(termination="error"), 10.0, "in block 0")
    assert "not the time limit" in words and "(error)" in words and words.endswith("in block 0")


def test_an_individual_counterexample_stays_inside_the_points_own_box():
    """HiGHS's point lay 1e-8 past x_c (c increasing: x'_c <= x_c) and a steep net (weights 1e8) made that a gain:
    a "counterexample" outside the set the property names, where exact search finds none. The point is clipped into
    its box before the forward check."""
    from mipnet.network import Network
    from mipnet.verify.monotonic import verify_individual

    net = Network.from_dict(
        {
            "format": "mipnet", "version": 1, "task": "regress", "input_shape": [3], "output_names": ["y0"],
            "domain": {"names": ["a", "b", "c"], "lower": [-2.0, 0.0, -1.0], "upper": [3.0, 4.0, 1.0],
                       "integer": [0, 1], "onehot_groups": []},
            "class_names": None, "metadata": {},
            "layers": [
                {"type": "Dense",
                 "weight": [[0.7, -1.8, 1.7e8], [-0.5, -0.6, -1e8], [0.9, 0.7, 1.2e8], [0.9, 0.3, 3e7]],
                 "bias": [0.9, -0.9, -0.0, 0.4]},
                {"type": "ReLU"},
                {"type": "Dense", "weight": [[0.7, -0.4, 0.7, 0.1], [0.5, -1.5, -0.9, 1.3]], "bias": [0.2, -0.1]},
                {"type": "ReLU"},
                {"type": "Dense", "weight": [[1.0, 0.8]], "bias": [-0.0]},
            ],
        }
    )  # fmt: skip
    x = np.array([[1.0, 1.0, 0.55569846400356826]])
    rep = verify_individual(net, x, ["a", "c"], ["b"], time_limit=10)
    p = rep.points[0]
    assert p.status != "counterexample" or (
        p.x_prime is not None
        and p.x_prime[0] <= x[0, 0]
        and p.x_prime[2] <= x[0, 2]
        and p.x_prime[1] >= x[0, 1]
        and float(net.forward(np.array([p.x_prime]))[0, 0]) > p.f_x
    ), (p.status, p.x_prime)


def test_recheck_takes_no_tolerance_on_a_monotonicity_witness():
    """A forged global 'violated' with x' 9e-8 outside the domain (where a net monotone on its domain drops), and a
    forged individual one whose increasing feature moved up by 9e-10 on a slope of 10, both re-checked OK."""
    import json

    import pandas as pd

    from mipnet.certificates.format import certificate_from_dict
    from mipnet.certificates.monotonicity import individual_monotonicity_certificate, monotonicity_certificate
    from mipnet.domain import Domain
    from mipnet.layers import Dense, ReLU
    from mipnet.network import Network
    from mipnet.report.recheck import recheck
    from mipnet.verify.monotonic import verify_global, verify_individual

    net = Network(
        [Dense([[1.0, 0], [1.0, 0], [0, 1.0]], [0.0, -1.0, 0.0]), ReLU(), Dense([[1.0, -1e8, 1.0]], [0.0])],
        domain=Domain(["a", "b"], [0, 0], [1, 1]),
        task="regress",
    )
    rep = verify_global(net, ["a"], [], time_limit=10)
    assert rep.features[0].status == "holds"
    cert = json.loads(json.dumps(monotonicity_certificate(net, rep, increasing=["a"]).to_dict()))
    x, xp = [1.0, 0.5], [1.0 + 9e-8, 0.5]
    fx, fxp = net.forward(np.array([x, xp]))[:, 0].tolist()
    w = {"x": x, "x_prime": xp, "f_x": fx, "f_x_prime": fxp, "slope": None}
    item, feature = cert["answer"]["items"][0], cert["result"]["features"][0]
    item.update({"verdict": "violated", "bound": None, "min_derivative": -1.0, "witness": w})
    feature.update({"status": "violated", "bound": None, "min_derivative": -1.0, "witness": w})
    cert["answer"]["status"] = cert["result"]["status"] = "violated"
    cert["answer"]["bound"] = None
    forged = certificate_from_dict(cert)
    forged.seal = forged.compute_seal()
    assert recheck(forged, net, second_solver=None, time_limit=10).status == "failed"

    net = Network(
        [Dense([[0, 10.0], [1.0, 0]], [0.0, 0.0]), ReLU(), Dense([[1.0, 1.0]], [0.0])],
        domain=Domain(["b", "c"], [0, 0], [1, 1]),
        task="regress",
    )
    X = np.array([[0.0, 0.5]])
    rep = verify_individual(net, X, ["c"], [], time_limit=5)
    assert rep.points[0].status == "holds"
    cert = json.loads(
        json.dumps(individual_monotonicity_certificate(net, X, rep, increasing=["c"], rows=[0]).to_dict())
    )
    xp = [0.0, 0.5 + 9e-10]
    item = cert["answer"]["items"][0]
    item.update({"verdict": "violated", "f_best": float(net.forward(np.array([xp]))[0, 0]), "bound": None})
    item["x_prime"] = xp
    cert["answer"]["status"] = cert["result"]["status"] = "violated"
    cert["answer"]["fraction_counterexamples"] = 1.0
    forged = certificate_from_dict(cert)
    forged.seal = forged.compute_seal()
    data = pd.DataFrame(X, columns=["b", "c"])
    assert recheck(forged, net, data, second_solver=None, time_limit=10).status == "failed"


def test_an_edited_output_or_feature_name_fails_the_recheck_not_the_command() -> None:
    """question.output = 5 on a 2-output model, output = true, or an individual certificate's feature renamed ended
    the re-check as an input error (exit 2): an edited certificate is FAILED (exit 1)."""
    layers = [Dense(np.array([[1.0, 0.0], [0.0, 1.0]]), np.zeros(2)), ReLU(), Dense(np.eye(2), np.zeros(2))]
    net = Network(layers, domain=Domain(["a", "b"], [0.0, 0.0], [1.0, 1.0]), class_names=["p", "q"])
    rep = verify_global(net, ["a"], output=1, time_limit=10)
    cert = monotonicity_certificate(net, rep, increasing=["a"], output=1)
    assert recheck(cert, net, second_solver=None, time_limit=30).status == "ok"
    for value in (5, True, 0.5):
        bad = recheck(forged(cert, lambda d, v=value: d["question"].update(output=v)), net, second_solver=None)
        assert bad.status == "failed" and bad.exit_code == 1, (value, bad.lines())
    X = np.array([[0.2, 0.3], [0.6, 0.1]])
    ind = individual_monotonicity_certificate(
        net, X, verify_individual(net, X, ["a"], output=1, time_limit=10), increasing=["a"], output=1
    )
    assert recheck(ind, net, second_solver=None, time_limit=30).status in ("ok", "partial")
    for edit in (lambda d: d["question"].update(increasing=["zz"]), lambda d: d["question"].update(output=-7)):
        bad = recheck(forged(ind, edit), net, second_solver=None)
        assert bad.status == "failed" and bad.exit_code == 1, bad.lines()
