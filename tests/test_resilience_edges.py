"""Maximum resilience at the edges: layers without one indicator per unit, logits that are constants on the
domain, a solver pair whose distance is not the solver's objective, and a class no perturbation can leave.

Each case used to fail: HardTanh's warm start raised a reshape error (exit 2 for a valid model); constant
logits made Pyomo refuse a plain boolean row; Phi was the solver's objective while its pair lay 0.4 % further
apart (the audit's own re-check refuted its certificate, yet the audit said "holds" and exited 0); an honest
"infeasible" (no input reaches another class) was refuted by the re-check, which read it as "no input is
strongly classified"."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from mipnet.cli import cli
from mipnet.domain import Domain
from mipnet.io import save_model
from mipnet.layers import Dense, HardTanh, ReLU
from mipnet.network import Network
from mipnet.report.certificates import resilience_certificate
from mipnet.report.recheck import recheck
from mipnet.verify.resilience import Heuristics, class_resilience
from mipnet.verify.search import perturbation_norm


def test_hardtanh_net_gets_a_checked_value() -> None:
    net = Network(
        [
            Dense(np.array([[1.0, -1.0], [0.5, 1.0]]), np.array([0.0, 0.1])),
            HardTanh(-1.0, 1.0),
            Dense(np.array([[1.0, -1.0], [-1.0, 1.0]]), np.zeros(2)),
        ],
        domain=Domain(["a", "b"], [-1, -1], [1, 1]),
    )
    r = class_resilience(net, 0, alpha=1.5, time_limit=20)
    assert r.phi is not None and r.witness["ok"]
    assert abs(perturbation_norm(r.a, r.b, "1") - r.phi) <= 1e-9 * (1 + r.phi)


def test_constant_logits_are_infeasible_not_an_error() -> None:
    """Every ReLU is dead on the domain: logits (0, 1) everywhere, class 0 never strongly classified."""
    net = Network(
        [Dense(np.eye(2), np.array([-5.0, -5.0])), ReLU(), Dense(np.eye(2), np.array([0.0, 1.0]))],
        domain=Domain(["a", "b"], [-1, -1], [1, 1]),
    )
    for m in (0, 1):
        assert class_resilience(net, m, alpha=1.5, time_limit=20).status == "infeasible"


def _ramp() -> Network:  # logit = a - 0.5 on [0, 1]^2
    return Network(
        [Dense(np.eye(2), np.zeros(2)), ReLU(), Dense(np.array([[1.0, 0.0]]), np.array([-0.5]))],
        domain=Domain(["a", "b"], [0, 0], [1, 1]),
        class_names=["no", "yes"],
    )


def _audit_ramp(tmp_path):
    """``mipnet audit`` of the ramp net's resilience (alpha 1.2, k 1): (the CLI result, the report path)."""
    save_model(_ramp(), tmp_path / "m.json")
    pd.DataFrame({"a": [0.8, 0.9], "b": [0.5, 0.5]}).to_csv(tmp_path / "d.csv", index=False)
    out = tmp_path / "r.html"
    args = ["audit", str(tmp_path / "m.json"), str(tmp_path / "d.csv"), "--alpha", "1.2", "--k", "1"]
    return CliRunner().invoke(cli, [*args, "--workers", "0", "--time-limit", "20", "-o", str(out)]), out


def test_phi_is_the_distance_of_its_witness_pair() -> None:
    net = _ramp()
    for m in (0, 1):
        r = class_resilience(net, m, alpha=1.2, k=1, time_limit=20)
        assert r.phi is not None and r.witness["ok"]
        assert abs(perturbation_norm(r.a, r.b, "1") - r.phi) <= 1e-9 * (1 + r.phi)
        assert r.bound is not None and r.bound <= r.phi + 1e-12
        assert r.bound <= np.log(1.2) + 1e-6  # the true value: from a = 0.5 +- ln 1.2 to the boundary a = 0.5
        if r.status == "optimal":
            assert r.phi - r.bound <= 1e-4 * max(1.0, r.phi)  # OPTIMAL_TOL


def test_the_audit_certificate_of_resilience_rechecks(tmp_path) -> None:
    r, out = _audit_ramp(tmp_path)
    assert r.exit_code in (0, 3), r.output
    assert "re-check of its certificate FAILED" not in r.output
    r2 = CliRunner().invoke(
        cli, ["recheck", str(tmp_path / "r-certificates" / "resilience.json"), str(tmp_path / "m.json")]
    )
    assert r2.exit_code in (0, 3), r2.output


def test_a_class_that_no_perturbation_leaves_rechecks_as_infeasible() -> None:
    """Logits (0, 1 + relu(a)) on [0, 1]: class 1 everywhere. Class 1 is strongly classified at alpha 1.5
    (margin >= 1 > ln 1.5), but no input reaches class 0: Phi_1 = +inf, "infeasible"."""
    net = Network(
        [Dense(np.array([[1.0]]), np.array([0.0])), ReLU(), Dense(np.array([[0.0], [1.0]]), np.array([0.0, 1.0]))],
        domain=Domain(["a"], [0.0], [1.0]),
        class_names=["p", "q"],
    )
    res = [class_resilience(net, m, alpha=1.5, time_limit=20) for m in (0, 1)]
    assert [r.status for r in res] == ["infeasible", "infeasible"]
    cert = resilience_certificate(net, res)
    rep = recheck(cert, net, None, second_solver=None, time_limit=30)
    assert rep.status == "ok", rep.lines()


def test_a_property_whose_own_recheck_fails_is_not_reported_as_holding(tmp_path, monkeypatch) -> None:
    """If the audit's re-check of a property's certificate fails, the page and the exit code say so (exit 1, as
    for a refuted training certificate), never "holds" with exit 0."""
    import mipnet.report.audit.summaries as summaries
    from mipnet.certificates.checks import RecheckReport

    real = summaries.recheck

    def failing(cert, *args, **kwargs):
        rep = real(cert, *args, **kwargs)
        if cert.kind == "resilience":
            rep = RecheckReport(rep.kind, rep.title, rep.claimed, list(rep.checks))
            rep.add("planted", "witness", False, "a refutation planted by the test")
        return rep

    monkeypatch.setattr(summaries, "recheck", failing)
    r, out = _audit_ramp(tmp_path)
    assert r.exit_code == 1, r.output
    assert "re-check of its certificate FAILED" in r.output
    page = out.read_text()
    assert "re-check FAILED" in page and "verdict holds" not in page


def _small_units(s: float) -> Network:
    """A 2-6-3 ReLU net on [0, s]^2 (first-layer weights / s): the same classifier for every s, Phi scales by s."""
    rng = np.random.default_rng(20)
    W1, b1 = rng.normal(size=(6, 2)), rng.normal(size=6)
    W2, b2 = rng.normal(size=(3, 6)), rng.normal(size=3)
    return Network(
        [Dense(W1 / s, b1), ReLU(), Dense(W2, b2)],
        domain=Domain(["u", "v"], lower=[0, 0], upper=[s, s]),
        class_names=["a", "b", "c"],
    )


def test_phi_in_small_units_is_not_optimal_off_by_the_solvers_absolute_gap() -> None:
    """Domain [0, 1e-5]^2: HiGHS's absolute gap of 1e-6 ended "optimal" 10 % above Phi; the same classifier in
    units 1 gives Phi / 1e-5."""
    for m in (0, 2):  # (class 0: "optimal" 1.7 % above Phi by HiGHS's tolerances: now solved in units of the width)
        ref = class_resilience(_small_units(1.0), m, alpha=2.0, time_limit=30)
        small = class_resilience(_small_units(1e-5), m, alpha=2.0, time_limit=30)
        assert ref.status == "optimal" and ref.phi is not None
        if small.status == "optimal":
            assert small.bound is not None and small.bound <= ref.phi * 1e-5 * (1 + 1e-6)
            assert small.phi == pytest.approx(ref.phi * 1e-5, rel=1e-4)


def test_a_bound_above_a_sampled_pair_is_dropped() -> None:
    """Logits of 1e-6 (x - 0.5) on [0, 1]: HiGHS proved "optimal" Phi = 0.5 where the true Phi is 0.45; a checked
    sampled pair below the bound now refutes it (feasible, no bound)."""
    s = 1e-6
    net = Network(
        [Dense([[1.0], [-1.0]], [0.0, 0.0]), ReLU(), Dense([[0.0, 0.0], [s, -s]], [0.0, -s * 0.5])],
        domain=Domain(["x"], lower=[0.0], upper=[1.0]),
        class_names=["a", "b"],
    )
    alpha = 1.0 + 0.9 * s * 0.5
    r = class_resilience(net, "b", alpha=alpha, time_limit=20, heuristics=Heuristics.parse("dataflow"))
    true_phi = 0.5 - math.log(alpha) / s  # b strongly classified from x >= 0.5 + ln(alpha) / s; reaches a at 0.5
    assert r.bound is None or r.bound <= true_phi * (1 + 1e-4), (r.status, r.bound, r.notes)
    assert r.phi is not None and r.phi >= true_phi * (1 - 1e-6)


def test_recheck_refutes_an_optimal_claim_far_from_its_bound_in_small_units() -> None:
    """Closeness of Phi and bound was absolute below 1: "optimal" Phi 1.2e-5 with bound 0 re-checked OK, and a
    bound 3x the true one was accepted within an absolute 1e-5."""
    from mipnet.certificates.format import certificate_from_dict

    net = _small_units(1e-5)
    r = class_resilience(net, 2, alpha=2.0, time_limit=30)
    cert = resilience_certificate(net, [r])
    assert recheck(cert, net, second_solver=None, time_limit=30).status == "ok"
    for phi, bound in ((3.0 * r.phi, 0.0), (3.0 * r.phi, 3.0 * r.phi)):
        d = cert.to_dict()
        it = d["answer"]["items"][0]
        it.update(phi=phi, bound=bound)
        d["result"][0].update(phi=phi, bound=bound)
        d["answer"].update(incumbent=phi, bound=bound, gap=(phi - bound) / phi)
        it["gap"] = d["answer"]["gap"]
        forged = certificate_from_dict(d)
        forged.seal = forged.compute_seal()
        rep = recheck(forged, net, second_solver=None, time_limit=30)
        assert rep.status == "failed", rep.lines()


def test_one_wide_feature_does_not_loosen_optimal() -> None:
    """Tolerances floored at the domain's largest distance let a net with one irrelevant feature of width 1e5 beside
    two of width 1e-3 end "optimal" 3.7 % above Phi: the floor is the narrowest feature's width."""
    base = _small_units(1e-3)
    W1 = np.asarray(base.layers[0].weight)
    wide = Network(
        [Dense(np.hstack([W1, np.zeros((W1.shape[0], 1))]), base.layers[0].bias), ReLU(), base.layers[2]],
        domain=Domain(["u", "v", "w"], lower=[0, 0, 0], upper=[1e-3, 1e-3, 1e5]),
        class_names=["a", "b", "c"],
    )
    for m in (0, 2):
        ref = class_resilience(base, m, alpha=2.0, time_limit=30)
        got = class_resilience(wide, m, alpha=2.0, time_limit=30)
        assert ref.status == "optimal" and ref.phi is not None
        if got.status == "optimal":
            assert got.phi == pytest.approx(ref.phi, rel=1e-4), (got.phi, ref.phi)
        assert got.bound is None or got.bound <= ref.phi * (1 + 1e-6)
