"""Maximum resilience: the MILP's Phi_m against random search, witnesses, heuristics, local variant, CLI."""

from __future__ import annotations

import json
import math

import click
import numpy as np
import pytest
from click.testing import CliRunner
from helpers import random_dense_net

from mipnet.errors import DataError, UnsupportedError
from mipnet.io import save_model
from mipnet.verify.resilience import Heuristics, alpha_max, class_resilience, local_resilience
from mipnet.verify.search import logits, reached, strong_margin

TL = 20.0


def random_search_phi(net, m: int, alpha: float, k: int, norm: str, n: int = 4000, seed: int = 0) -> float:
    """Smallest ||b - a|| over random pairs with a strongly classified to m and >= k classes reaching m in b."""
    rng = np.random.default_rng(seed)
    A = net.domain.sample(n, rng)
    A = A[strong_margin(logits(net, A), m) >= math.log(alpha)]
    assert len(A) > 20, "the random search needs strongly classified samples"
    best = np.inf
    for scale in (0.05, 0.1, 0.2, 0.4, 0.8, 1.6):
        for _ in range(3):
            B = np.clip(A + rng.normal(0, scale, size=A.shape), net.domain.lower, net.domain.upper)
            ok = reached(logits(net, B), m) >= k
            if ok.any():
                d = np.abs(B[ok] - A[ok])
                best = min(best, float((d.max(axis=1) if norm == "inf" else d.sum(axis=1)).min()))
    return best


@pytest.fixture(scope="module")
def net3():
    return random_dense_net(np.random.default_rng(1), [3, 6, 3])


@pytest.fixture(scope="module")
def net_deep():
    return random_dense_net(np.random.default_rng(3), [4, 6, 5, 3])


@pytest.mark.parametrize("norm", ["1", "inf"])
def test_phi_below_random_search_and_witness_holds(net3, norm):
    alpha = 1.1
    r = class_resilience(net3, 1, alpha=alpha, k=1, norm=norm, time_limit=TL)
    assert r.status == "optimal"
    rs = random_search_phi(net3, 1, alpha, 1, norm)
    assert 0 < r.phi <= rs + 1e-6
    w = r.witness
    assert w["ok"] and w["in_domain"]
    assert w["strong_margin"] >= math.log(alpha) - 1e-6
    assert w["classes_reached"] >= 1
    assert abs(w["norm_value"] - r.phi) <= 1e-5
    # the witness pair, re-checked here independently
    z = logits(net3, np.vstack([r.a, r.b]))
    assert z[0, 1] - np.delete(z[0], 1).max() >= math.log(alpha) - 1e-6
    assert np.delete(z[1], 1).max() >= z[1, 1] - 1e-6


@pytest.mark.parametrize(
    "norm,specs", [("1", ("none", "dataflow", "all", "dataflow,mip_bounds,init")), ("inf", ("none", "all"))]
)
def test_heuristics_do_not_change_the_optimum(net_deep, norm, specs):
    vals = {}
    for spec in specs:
        r = class_resilience(net_deep, 2, alpha=1.05, k=1, norm=norm, heuristics=Heuristics.parse(spec), time_limit=TL)
        assert r.status == "optimal", spec
        assert r.witness["ok"], spec
        vals[spec] = r.phi
    ref = vals["none"]
    assert all(abs(v - ref) <= 1e-5 * (1 + ref) for v in vals.values()), vals
    assert ref <= random_search_phi(net_deep, 2, 1.05, 1, norm) + 1e-6


def test_initial_cut_is_valid_for_linf():
    """The L-inf optimum here moves all 8 inputs: |sum e_i| exceeds Phi_ini, so a cut |sum e| <= Phi_ini
    (valid for L1 only) would cut it off; the cut must scale with n."""
    net = random_dense_net(np.random.default_rng(0), [8, 6, 3])
    full = class_resilience(net, 2, alpha=1.05, norm="inf", time_limit=TL)
    plain = class_resilience(net, 2, alpha=1.05, norm="inf", heuristics=Heuristics.none(), time_limit=TL)
    assert full.status == plain.status == "optimal"
    assert abs(full.phi - plain.phi) <= 1e-6
    assert abs(np.sum(full.b - full.a)) > full.phi_init  # the case the L1 cut would get wrong


def test_phi_grows_with_alpha_and_k(net_deep):
    p1 = class_resilience(net_deep, 2, alpha=1.02, norm="inf", time_limit=TL).phi
    p2 = class_resilience(net_deep, 2, alpha=1.1, norm="inf", time_limit=TL).phi
    assert p2 >= p1 - 1e-7 and p2 > 0
    pk2 = class_resilience(net_deep, 2, alpha=1.02, k=2, norm="inf", time_limit=TL)
    if pk2.status == "optimal":
        assert pk2.phi >= p1 - 1e-7
        assert pk2.witness["classes_reached"] >= 2


def test_alpha_max_and_infeasible_alpha(net3):
    am = alpha_max(net3, 0, time_limit=TL)
    assert am.status == "optimal"
    X = net3.domain.sample(5000, 3)
    assert am.phi >= strong_margin(logits(net3, X), 0).max() - 1e-7
    assert am.witness["ok"]
    r = class_resilience(net3, 0, alpha=am.alpha_max * 1.01, time_limit=TL)
    assert r.status == "infeasible" and r.phi is None
    r = class_resilience(net3, 0, alpha=am.alpha_max * 1.01, heuristics=Heuristics.none(), time_limit=TL)
    assert r.status == "infeasible"


def test_local_minimum_and_decision(net3):
    x = net3.domain.sample(10, 5)[0]
    m = int(logits(net3, x[None]).argmax())
    r = local_resilience(net3, x, norm="1", time_limit=TL)
    assert r.status == "optimal" and r.cls == m and r.witness["ok"]
    rng = np.random.default_rng(0)
    B = np.clip(x + rng.normal(0, 0.5, size=(20000, 3)), -1, 1)
    ok = reached(logits(net3, B), m) >= 1
    assert r.phi <= np.abs(B[ok] - x).sum(axis=1).min() + 1e-6
    for heur in (Heuristics.none(), Heuristics()):
        below = local_resilience(net3, x, delta=1.05 * r.phi, decide=True, heuristics=heur, time_limit=TL)
        above = local_resilience(net3, x, delta=0.95 * r.phi, decide=True, heuristics=heur, time_limit=TL)
        assert below.verdict == "below" and below.witness["ok"]
        assert above.verdict == "not_below" and above.status == "infeasible"


def test_single_logit_binary_net():
    net = random_dense_net(np.random.default_rng(1), [4, 5, 3, 1])  # about 1/3 of the box is class 1
    for m in (0, 1):
        r = class_resilience(net, m, alpha=1.0, norm="inf", time_limit=TL)
        assert r.status == "optimal" and r.witness["ok"]
        assert r.phi <= random_search_phi(net, m, 1.0, 1, "inf") + 1e-6
    always_on = random_dense_net(np.random.default_rng(0), [4, 5, 3, 1])  # class 1 everywhere on the box
    assert class_resilience(always_on, 1, time_limit=TL).status == "infeasible"


def test_bad_arguments(net3):
    with pytest.raises(DataError):
        class_resilience(net3, 0, alpha=0.5)
    with pytest.raises(DataError):
        class_resilience(net3, 0, k=3)
    with pytest.raises(DataError):
        class_resilience(net3, 7)
    with pytest.raises(UnsupportedError):
        Heuristics.parse("dataflow,magic")
    gelu = random_dense_net(np.random.default_rng(0), [3, 4, 3], act="gelu")
    with pytest.raises(UnsupportedError):
        class_resilience(gelu, 0)
    x = net3.domain.sample(1, 5)[0]
    m = int(logits(net3, x[None]).argmax())
    with pytest.raises(DataError, match="strongly classified"):
        local_resilience(net3, x, m, alpha=1e6)


def test_priority_with_scip_matches_highs(net3):
    from mipnet.solve import available_solvers

    if "scip" not in available_solvers():
        pytest.skip("SCIP not installed")
    a = class_resilience(net3, 1, alpha=1.1, norm="1", time_limit=TL)
    b = class_resilience(net3, 1, alpha=1.1, norm="1", solver="scip", time_limit=TL)
    assert b.status == "optimal" and b.solver["solver"] == "scip_priority"
    assert abs(a.phi - b.phi) <= 1e-5
    assert any("no priority" in n for n in a.notes)


def test_cli_resilience(net3, tmp_path):
    from mipnet.cli.resilience import SUBCOMMANDS

    group = click.Group("verify", commands=SUBCOMMANDS["verify"])
    path = tmp_path / "net.json"
    save_model(net3, path)
    runner = CliRunner()
    res = runner.invoke(
        group,
        [
            "resilience",
            str(path),
            "--class",
            "1",
            "--alpha",
            "1.1",
            "--k",
            "1",
            "--norm",
            "inf",
            "--time-limit",
            "20",
            "--json",
        ],
    )
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["results"][0]["status"] == "optimal" and out["results"][0]["witness"]["ok"]
    x = ",".join(str(v) for v in net3.domain.sample(1, 5)[0])
    res = runner.invoke(group, ["resilience", str(path), "--input", x, "--delta", "1e-4"])
    assert res.exit_code == 0, res.output
    assert "not_below" in res.output


def test_cli_network_bound_not_printed_as_a_value_when_unproved(tmp_path):
    """Digits (10 classes) in 1 s: the classes are not all decided, so Xi is no value: the line says "not proved",
    with the smallest Phi found as an upper bound, and the JSON's xi is null (it printed "Xi = ... = 0.116" before,
    with every class's bound 0)."""
    from pathlib import Path

    from mipnet.cli.resilience import SUBCOMMANDS

    model = Path(__file__).resolve().parents[1] / "benchmarks" / "models" / "digits_mlp_50_50.json"
    group = click.Group("verify", commands=SUBCOMMANDS["verify"])
    args = ["resilience", str(model), "--alpha", "2", "--k", "1", "--time-limit", "1"]
    res = CliRunner().invoke(group, args)
    assert res.exit_code == 3, res.output
    assert "Xi = min_m Phi_m: not proved" in res.output and "Xi = min_m Phi_m =" not in res.output, res.output
    out = json.loads(CliRunner().invoke(group, [*args, "--json"]).output)
    assert out["xi"] is None
    phis = [r["phi"] for r in out["results"] if r["phi"] is not None]
    assert out["xi_upper"] == (min(phis) if phis else None)
