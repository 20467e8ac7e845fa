"""Input branching of the batched tree (mipnet.verify.batch_tree): the interval bounds of the input gradient
contain every sampled gradient, the split input is the smear's argmax, and the tree's verdicts under each
branching rule are sound against dense sampling on small random nets (thresholds just below the sampled
maximum: a re-checked counterexample; above it: never a counterexample, and "holds" never contradicts a sample)."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import bab_net as net_of
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mipnet.verify.batch_tree as bt
from mipnet import Network
from mipnet.deadline import Deadline
from mipnet.verify.batched_bounds import batch_plan, layer_bounds
from mipnet.verify.input_split import box_network, branch_and_bound
from mipnet.verify.vnnlib import parse_vnnlib, some_disjunct_holds

SETTINGS = settings(max_examples=8, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])


def gradients(net: Network, X: np.ndarray, C: np.ndarray, E: np.ndarray) -> np.ndarray:
    """(P, m, n_in): the exact input gradient of C f(x) + E x at each point (activation pattern of the point)."""
    maps = batch_plan(net)
    assert maps is not None
    trace = net.forward_trace(X)
    G = np.broadcast_to(C, (X.shape[0],) + C.shape).copy()
    for i in range(len(net.layers) - 1, -1, -1):
        layer = net.layers[i]
        if layer.affine:
            G = G @ maps[i][0]
        else:
            z = trace[i].reshape(X.shape[0], -1)
            G = G * np.where(z > 0, 1.0, float(layer.negative_slope))[:, None, :]
    return G + E


@SETTINGS
@given(st.integers(0, 10_000), st.booleans())
def test_gradient_bounds_contain_every_sampled_gradient(seed: int, leaky: bool) -> None:
    rng = np.random.default_rng(seed)
    net = net_of(rng, [3, 8, 8, 8, 2], leaky)
    maps = batch_plan(net)
    assert maps is not None
    c = rng.uniform(-0.6, 0.6, (4, 3))
    w = rng.uniform(0.0, 0.4, (4, 3))
    lo, hi = c - w, c + w
    bounds, _ = layer_bounds(net, lo, hi, maps, "unstable")
    C, E = rng.normal(size=(3, 2)), rng.normal(size=(3, 3))
    Gl, Gu = bt.gradient_box(net, maps, bounds, C, E)
    assert np.all(Gl <= Gu)
    for b in range(lo.shape[0]):
        X = rng.uniform(lo[b], hi[b], (300, 3))
        G = gradients(net, X, C, E)
        assert np.all(G >= Gl[b] - 1e-9) and np.all(G <= Gu[b] + 1e-9)


def test_split_dims_is_the_argmax_of_the_score_and_the_widest_when_all_are_zero() -> None:
    width = np.array([[1.0, 1.0, 0.5], [0.2, 1.0, 0.3]])
    coef = np.array([[[0.1, 0.5, 3.0]], [[0.0, 0.0, 0.0]]])
    live = np.ones((2, 1), dtype=bool)
    np.testing.assert_array_equal(bt.split_dims(width, coef, live), [2, 1])
    grad = (np.array([[[-4.0, 0.1, 0.0]], [[0.0, 0.0, 0.0]]]), np.array([[[0.0, 0.2, 1.0]], [[0.0, 0.0, 0.0]]]))
    np.testing.assert_array_equal(bt.split_dims(width, coef, live, grad), [0, 1])
    dead = np.zeros((2, 1), dtype=bool)  # no live row: the widest input
    np.testing.assert_array_equal(bt.split_dims(width, coef, dead, grad), [0, 1])


def test_halves_cover_the_box_and_meet_at_the_middle() -> None:
    rng = np.random.default_rng(3)
    lo = rng.uniform(-1, 0, (6, 4))
    hi = lo + rng.uniform(0, 1, (6, 4))
    dim = rng.integers(0, 4, 6)
    c_lo, c_hi = bt.halve(lo, hi, dim)
    X = rng.uniform(lo[:, None, :], hi[:, None, :], (6, 500, 4))
    for b in range(6):
        inside = [np.all((X[b] >= c_lo[k]) & (X[b] <= c_hi[k]), axis=1) for k in (b, 6 + b)]
        assert np.all(inside[0] | inside[1])  # every point of the box is in a half
        assert np.all(c_lo[[b, 6 + b]] >= lo[b]) and np.all(c_hi[[b, 6 + b]] <= hi[b])  # inside the box
        assert c_lo[b, dim[b]] == c_hi[6 + b, dim[b]] == 0.5 * (lo[b, dim[b]] + hi[b, dim[b]])


def _query(net: Network, lo: np.ndarray, hi: np.ndarray, thr: float):  # type: ignore[no-untyped-def]
    n = lo.size
    text = "".join(f"(declare-const X_{i} Real)" for i in range(n)) + "(declare-const Y_0 Real)"
    text += "".join(f"(assert (>= X_{i} {float(lo[i])!r}))(assert (<= X_{i} {float(hi[i])!r}))" for i in range(n))
    text += f"(assert (>= Y_0 {thr!r}))"
    (g,) = parse_vnnlib(text).box_groups()
    return branch_and_bound(
        box_network(net, g.lower, g.upper),
        g.lower,
        g.upper,
        g.rest,
        lambda x, y: some_disjunct_holds(g.whole, x, y),
        lambda *a: ("unknown", None),
        0.0,
        Deadline(20),
        batch=16,
    ), g


@pytest.mark.parametrize(("rule", "multi"), [("crown", np.inf), ("smear", np.inf), ("smear", 0.0)])
@settings(
    max_examples=5,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(seed=st.integers(0, 10_000), above=st.sampled_from([-0.02, 0.05]))
def test_tree_verdicts_are_sound_against_dense_sampling(
    monkeypatch, rule: str, multi: float, seed: int, above: float
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr("mipnet.verify.input_split.LEAF_UNSTABLE", -1)  # splitting alone
    monkeypatch.setattr(bt, "BRANCHING", rule)
    monkeypatch.setattr(bt, "MULTI_GAP", multi)  # 0: every box that can be is split twice at once
    rng = np.random.default_rng(seed)
    net = net_of(rng, [2, 10, 10, 1])
    lo, hi = np.array([-0.5, -0.3]), np.array([0.4, 0.6])
    g = np.stack(np.meshgrid(np.linspace(lo[0], hi[0], 201), np.linspace(lo[1], hi[1], 201)), -1).reshape(-1, 2)
    ys = net.forward(g)[:, 0]
    spread = float(ys.max() - ys.min()) + 1e-3
    thr = float(ys.max() + above * spread)
    out, grp = _query(net, lo, hi, thr)
    if out.status == "violated":  # re-checked and inside the box
        assert out.x is not None and np.all(out.x >= lo) and np.all(out.x <= hi)
        assert some_disjunct_holds(grp.whole, out.x, net.forward(out.x[None])[0])
    if out.status == "infeasible":  # never contradicted by a sample
        assert not np.any(ys >= thr)
    if above < 0:  # a sampled point reaches thr: "holds" would be wrong
        assert out.status == "violated"
    else:
        assert out.status == "infeasible"


def test_pyomo_s_skipped_priority_suffix_warning_is_not_printed(caplog):
    """Gurobi with priorities printed "EXPORT Suffix 'priority' ... ignores export suffixes. Skipping." although
    GurobiPriority applies them (BranchPriority); other warnings of that logger still pass."""
    import logging

    import mipnet.verify.branching  # noqa: F401  (installs the filter)

    log = logging.getLogger("pyomo.repn.plugins.standard_form")
    with caplog.at_level(logging.WARNING):
        log.warning("EXPORT Suffix 'priority' found on 1 block:\n    m\nStandard Form compiler ignores them.")
        log.warning("something else")
    assert [r.getMessage() for r in caplog.records] == ["something else"]
