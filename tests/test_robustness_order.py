"""The order of the robustness stages (issue 21): a CROWN pass first, then the attack, the MILP's layer bounds,
alpha-CROWN and the MILP; verdicts as the plain attack + MILP pipeline gives them."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mipnet.verify.robustness as rob
import mipnet.verify.robustness.hard_milp as hm
import mipnet.verify.robustness.margin_milp as mm
from mipnet.bounds import compute_bounds
from mipnet.domain import Domain
from mipnet.errors import DataError, UnsupportedError
from mipnet.layers import Dense, ReLU
from mipnet.network import Network
from mipnet.verify.robustness import ball_box, verify_robustness, verify_sample
from mipnet.verify.robustness.threads import blas_threads
from mipnet.verify.spec_bounds import affine_maps, crown_bounds, network_maps
from tests.helpers import random_dense_net


def _forbid(monkeypatch: pytest.MonkeyPatch, *names: str) -> None:
    """Make the named stages fail loudly if they run (attack, solve, compute_bounds)."""

    def boom(*a: Any, **k: Any) -> Any:
        raise AssertionError("a stage after the CROWN pass ran")

    for n in names:
        if n == "solve":
            monkeypatch.setattr(rob, "solve", boom)
        elif n == "compute_bounds":  # the MILP's layer bounds (hard_milp.milp_bounds) and the tightening
            monkeypatch.setattr(hm, n, boom)
            monkeypatch.setattr(mm, "milp_bounds", boom)
        else:
            monkeypatch.setattr(mm, n, boom)


def _net(seed: int, sizes: list[int]) -> Network:
    return random_dense_net(np.random.default_rng(seed), sizes)


def test_crown_proves_without_attack_bounds_or_milp(monkeypatch: pytest.MonkeyPatch) -> None:
    net = _net(3, [4, 10, 10, 3])
    x = np.random.default_rng(1).uniform(-0.5, 0.5, 4)
    _forbid(monkeypatch, "attack", "compute_bounds", "solve")
    r = verify_sample(net, x, 1e-3, time_limit=10)
    assert r.verdict == "holds" and r.prover == "crown" and r.status == "bounds"
    assert r.bound is not None and 0 < r.bound <= float(rob.margins(net, net.forward(x[None]), np.array([r.cls]))[0])
    assert set(r.seconds) == {"bounds", "crown"} and r.n_binaries == 0
    # the verdict speaks of the ball: sampled points keep the class
    lo, hi = ball_box(net, x, 1e-3, "inf")
    S = np.random.default_rng(2).uniform(lo, hi, (2000, 4))
    assert np.all(net.predict_index(net.forward(S)) == r.cls)
    # the batch path runs the same stages
    out = verify_robustness(net, np.vstack([x, x]), 1e-3, time_limit=10)
    assert [o.prover for o in out] == ["crown", "crown"]


def test_violated_query_still_finds_a_counterexample(monkeypatch: pytest.MonkeyPatch) -> None:
    net = _net(5, [3, 8, 8, 3])
    x = np.zeros(3)
    r = verify_sample(net, x, 1.0, time_limit=20)  # the whole domain: some other class is reachable
    assert r.verdict == "violated" and r.prover == "attack"
    assert list(r.seconds)[:3] == ["bounds", "crown", "attack"]  # the CROWN pass ran first and did not prove it
    xc = np.asarray(r.counterexample)
    assert np.all(np.abs(xc - x) <= 1.0 + 1e-9) and int(net.predict_index(net.forward(xc[None]))[0]) != r.cls
    # without the attack the MILP finds one, re-checked by the forward pass
    m = verify_sample(net, x, 1.0, time_limit=20, use_attack=False)
    assert m.verdict == "violated" and m.prover == "milp" and "attack" not in m.seconds
    xm = np.asarray(m.counterexample)
    assert np.all(np.abs(xm - x) <= 1.0 + 1e-9) and int(net.predict_index(net.forward(xm[None]))[0]) != m.cls


def test_unknown_bound_method_is_refused_before_any_work() -> None:
    net = _net(0, [2, 4, 2])
    with pytest.raises(UnsupportedError, match="bound method"):
        verify_sample(net, np.zeros(2), 1e-3, bounds="nope")


@settings(max_examples=8, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.integers(0, 10_000),
    st.sampled_from([[3, 8, 8, 4], [2, 10, 3], [4, 12, 12, 1], [3, 10, 6]]),
    st.sampled_from(["inf", "1"]),
    st.floats(0.01, 0.5),
    st.sampled_from(["linear", "interval", "lp"]),
)
def test_verdicts_equal_the_plain_pipeline(seed: int, sizes: list[int], norm: str, eps: float, method: str) -> None:
    """CROWN first gives the verdict of the plain pipeline (attack, layer bounds, MILP; no spec bound) and of the
    MILP alone; a holds is never contradicted by sampled points, a counterexample always re-checks."""
    rng = np.random.default_rng(seed)
    net = random_dense_net(rng, sizes, "relu")
    x = rng.uniform(-0.7, 0.7, sizes[0])
    new = verify_sample(net, x, eps, norm, time_limit=20, bounds=method)
    plain = verify_sample(net, x, eps, norm, time_limit=20, bounds=method, spec_bound=False)
    milp = verify_sample(net, x, eps, norm, time_limit=20, bounds=method, spec_bound=False, use_attack=False)
    assert new.verdict == plain.verdict == milp.verdict, (new, plain, milp)
    assert new.verdict in ("holds", "violated")
    lo, hi = ball_box(net, x, eps, norm)
    if new.verdict == "holds":
        S = rng.uniform(lo, hi, (3000, x.size))
        if norm == "1":
            S = S[np.abs(S - x).sum(axis=1) <= eps]
        assert np.all(net.predict_index(net.forward(S)) == new.cls)
        assert new.bound is None or new.bound > 0  # an infeasible MILP proves margin > 0 without a number
    else:
        xc = np.asarray(new.counterexample)
        dist = np.max(np.abs(xc - x)) if norm == "inf" else np.abs(xc - x).sum()
        assert dist <= eps + 1e-9 and int(net.predict_index(net.forward(xc[None]))[0]) != new.cls
    if new.prover == "crown" and "attack" not in new.seconds:
        assert "milp" not in new.seconds and "alpha-crown" not in new.seconds


def test_one_hot_domain_linear_bounds_are_intersected() -> None:
    rng = np.random.default_rng(7)
    dom = Domain([f"x{i}" for i in range(4)], np.zeros(4), np.ones(4), onehot_groups=[[0, 1, 2]])
    net = Network(
        [Dense(rng.normal(size=(6, 4)), rng.normal(size=6)), ReLU(), Dense(rng.normal(size=(2, 6)), np.zeros(2))], dom
    )
    lo, hi = np.zeros(4), np.ones(4)
    got = mm.milp_bounds(net, lo, hi, "linear", mm.Deadline(10.0), crown_bounds(net, lo, hi))
    lin = compute_bounds(net, lo, hi, method="linear")
    for (gl, gu), (ll, lu) in zip(got, lin):
        assert np.all(gl >= ll - 1e-12) and np.all(gu <= lu + 1e-12) and np.all(gl <= gu)
    # every one-hot point of the box lies inside the bounds of every layer
    for k in range(3):
        for v in (0.0, 1.0):
            p = np.zeros(4)
            p[k], p[3] = 1.0, v
            h = p[None]
            for layer, (gl, gu) in zip(net.layers, got):
                h = layer.forward(h)
                assert np.all(h[0] >= gl - 1e-9) and np.all(h[0] <= gu + 1e-9)


def test_network_maps_are_cached_and_follow_weight_changes() -> None:
    net = _net(11, [3, 5, 2])
    m1 = network_maps(net)
    assert network_maps(net) is m1  # the same maps while nothing changed
    dense = net.layers[0]
    assert isinstance(dense, Dense)
    dense.weight[0, 0] += 1.0  # an in-place change of a weight
    m2 = network_maps(net)
    assert m2 is not m1
    np.testing.assert_array_equal(np.asarray(m2[0][0]), np.asarray(affine_maps(net)[0][0]))
    net.layers[2] = Dense(np.ones((2, 5)), np.zeros(2))  # a replaced layer
    np.testing.assert_array_equal(np.asarray(network_maps(net)[2][0]), np.ones((2, 5)))


def test_blas_threads_cap() -> None:
    tp = pytest.importorskip("threadpoolctl")
    with blas_threads(1):
        inside = [i["num_threads"] for i in tp.threadpool_info() if i.get("user_api") == "blas"]
        assert all(n == 1 for n in inside)
    with blas_threads(None):  # no cap: nothing changes
        pass


def test_unbounded_ball_is_an_input_error_not_a_bound() -> None:
    net = Network([Dense(np.eye(2), np.zeros(2))], Domain.box(2, -np.inf, np.inf))
    with pytest.raises(DataError, match="unbounded"):
        verify_sample(net, np.array([1.0, 0.0]), np.inf)


def test_benchmark_summary_before_column() -> None:
    """benchmarks/robustness/competitors_summary.py: the 'mipnet before' ratios of the same run."""
    import importlib
    import sys
    from pathlib import Path

    import pandas as pd

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    summary = importlib.import_module("robustness.competitors_summary")
    rows = []
    for image, (new, before, crown, verdict) in enumerate([(0.002, 0.02, 0.004, "holds"), (0.01, 0.005, 0.004, "u")]):
        for tool, t, v in (("mipnet", new, "holds"), ("mipnet_before", before, "holds"), ("crown", crown, verdict)):
            rows.append({"model": "m", "eps": 0.1, "image": image, "tool": tool, "verdict": v, "seconds": t})
    s = summary.summarise(pd.DataFrame(rows))
    r = s.iloc[0]
    assert r.ratio_before_crown_max == pytest.approx(5.0) and r.ratio_crown_max == pytest.approx(0.5)
    assert r.ratio_new_before_crown_median == pytest.approx(0.1)
    assert r.ratio_new_before_median == pytest.approx(np.median([0.1, 2.0]))
    lines = "\n".join(summary.target_lines(s, crown_ran=True))
    assert "mipnet before (same run): max / CROWN = 5.00" in lines and "= 0.50 (target <= 2): reached" in lines
    assert "| 2/0/0/0 | 0.013 | 5.00, 5.00 | 0.100, 1.050 |" in "\n".join(summary.table(s))
