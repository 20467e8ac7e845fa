"""Batched CROWN / alpha-CROWN (mipnet.verify.batched_bounds) and the batched input branch-and-bound
(mipnet.verify.batch_tree): the batch equals the one-box bounds, every bound is sound against sampled points,
box corners and points just inside them, and the tree's verdicts: a property built to hold is proved, a planted
counterexample just inside the box is found and re-checked, one just outside the box is never reported."""

from __future__ import annotations

import itertools

import numpy as np
from helpers import bab_boxes as boxes
from helpers import bab_net as net_of
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mipnet.verify.batch_tree as bt
from mipnet import Dense, Domain, Network, ReLU
from mipnet.deadline import Deadline
from mipnet.verify.batched_bounds import batch_plan, layer_bounds, spec_alpha, spec_crown, unstable_counts
from mipnet.verify.input_split import box_network, branch_and_bound
from mipnet.verify.spec_bounds import affine_maps, crown_bounds, spec_bounds
from mipnet.verify.vnnlib import CHECK_TOL, check_property, parse_vnnlib
from mipnet.verify.vnnlib_format import some_disjunct_holds

SETTINGS = settings(max_examples=10, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])


def points(rng: np.random.Generator, lo: np.ndarray, hi: np.ndarray, n: int = 400) -> np.ndarray:
    """(B, P, n_in): uniform points, every corner and points 1e-9 inside every corner."""
    B, k = lo.shape
    U = rng.uniform(lo[:, None, :], hi[:, None, :], (B, n, k))
    sel = np.array(list(itertools.product((0.0, 1.0), repeat=k)))[None]  # (1, 2^k, k)
    corners = lo[:, None, :] + sel * (hi - lo)[:, None, :]
    inside = corners + (1.0 - 2.0 * sel) * np.minimum(1e-9, (hi - lo)[:, None, :])
    return np.concatenate([U, corners, inside], axis=1)


@SETTINGS
@given(st.integers(0, 10_000), st.booleans(), st.sampled_from(["all", "unstable"]))
def test_batched_bounds_equal_the_one_box_bounds_and_are_sound(seed: int, leaky: bool, rows: str) -> None:
    rng = np.random.default_rng(seed)
    net = net_of(rng, [3, 8, 8, 8, 2], leaky)
    maps = batch_plan(net)
    assert maps is not None
    lo, hi = boxes(rng, 3, 5)
    bounds, ops = layer_bounds(net, lo, hi, maps, rows)
    C, E, d = rng.normal(size=(3, 2)), rng.normal(size=(3, 3)) * (rng.random((3, 1)) < 0.5), rng.normal(size=3)
    lb, Lam = spec_crown(ops, bounds, C, E, d, lo, hi)
    best, _ = spec_alpha(ops, C, E, d, lo, hi, lb, Lam, 15)
    assert np.all(best >= lb)
    X = points(rng, lo, hi)
    for b in range(lo.shape[0]):
        one = crown_bounds(net, lo[b], hi[b], affine_maps(net))
        trace = net.forward_trace(X[b])[1:]
        for (L, U), (Lb, Ub), v in zip(one, bounds, trace):
            v = v.reshape(v.shape[0], -1)
            scale = 1e-9 * (1.0 + np.abs(L.ravel()))
            if rows == "all":  # equal to the one-box CROWN bounds
                np.testing.assert_allclose(Lb[b], L.ravel(), rtol=0, atol=float(scale.max()))
                np.testing.assert_allclose(Ub[b], U.ravel(), rtol=0, atol=float(scale.max()))
            assert np.all(v >= Lb[b] - 1e-9) and np.all(v <= Ub[b] + 1e-9)  # sound
        sb = spec_bounds(net, C, d, lo[b], hi[b], E=E, bounds=[(Lb[b], Ub[b]) for Lb, Ub in bounds], steps=0)
        np.testing.assert_allclose(lb[b], sb.crown, rtol=0, atol=1e-9 * (1 + np.abs(sb.crown).max()))
        s = trace[-1] @ C.T + X[b] @ E.T + d
        assert np.all(s.min(axis=0) >= best[b] - 1e-9), (s.min(axis=0), best[b])


def test_unstable_rows_are_never_looser_than_interval_and_count_unstable_units() -> None:
    rng = np.random.default_rng(3)
    net = net_of(rng, [4, 12, 12, 3])
    maps = batch_plan(net)
    assert maps is not None
    lo, hi = boxes(rng, 4, 6)
    full, _ = layer_bounds(net, lo, hi, maps, "all")
    part, _ = layer_bounds(net, lo, hi, maps, "unstable")
    for (L, U), (P, Q) in zip(full, part):
        assert np.all(P <= L + 1e-12) and np.all(Q >= U - 1e-12)  # all rows: at least as tight
    n = unstable_counts(net, full)
    for b in range(6):
        one = crown_bounds(net, lo[b], hi[b], maps)
        assert n[b] == sum(int(np.sum((one[i - 1][0] < 0) & (one[i - 1][1] > 0))) for i in (1, 3))


def test_parent_bounds_as_prior_are_sound_and_inside_the_prior() -> None:
    rng = np.random.default_rng(5)
    net = net_of(rng, [3, 10, 10, 10, 2])
    maps = batch_plan(net)
    assert maps is not None
    plo, phi = boxes(rng, 3, 4)
    parent, _ = layer_bounds(net, plo, phi, maps, "unstable")
    mid = (plo + phi) / 2  # the left halves in input 0
    clo, chi = plo.copy(), phi.copy()
    chi[:, 0] = mid[:, 0]
    child, _ = layer_bounds(net, clo, chi, maps, "unstable", prior=parent)
    X = points(rng, clo, chi)
    for b in range(4):
        trace = net.forward_trace(X[b])[1:]
        for (L, U), (P, Q), v in zip(child, parent, trace):
            v = v.reshape(v.shape[0], -1)
            assert np.all(v >= L[b] - 1e-9) and np.all(v <= U[b] + 1e-9)
            assert np.all(L[b] >= P[b]) and np.all(U[b] <= Q[b])


def test_batch_plan_refuses_other_layers() -> None:
    from mipnet.layers import HardTanh

    net = Network([Dense(np.eye(2), np.zeros(2)), HardTanh(-1, 1), Dense(np.ones((1, 2)), np.zeros(1))])
    assert batch_plan(net) is None


# ----------------------------------------------------------------------------- the tree


def ridge_net(peak: np.ndarray, height: float = 1.0) -> Network:
    """y = height - sum_i 4 |x_i - peak_i| (as ReLUs: |t| = relu(t) + relu(-t)), plus two cancelling ReLU
    pairs that loosen the relaxation; max over a box is at its point nearest to ``peak``."""
    n = peak.size
    rng = np.random.default_rng(0)
    We = rng.normal(0, 1, (2, n))
    W = np.vstack([np.eye(n), -np.eye(n), We, We])
    b = np.concatenate([-peak, peak, np.zeros(2), np.zeros(2)])
    out = np.concatenate([-4 * np.ones(2 * n), [1.0, 1.0, -1.0, -1.0]])
    return Network([Dense(W, b), ReLU(), Dense(out[None], np.array([height]))], domain=Domain.box(n, 0.0, 1.0))


def vnnlib(n: int, lo: float, hi: float, threshold: float) -> str:
    decl = "".join(f"(declare-const X_{i} Real)" for i in range(n)) + "(declare-const Y_0 Real)"
    box = "".join(f"(assert (>= X_{i} {lo}))(assert (<= X_{i} {hi}))" for i in range(n))
    return decl + box + f"(assert (>= Y_0 {threshold}))"


def tree(net: Network, text: str, seconds: float = 30.0):  # type: ignore[no-untyped-def]
    (g,) = parse_vnnlib(text).box_groups()
    calls: list[int] = []

    def leaf(*args):  # type: ignore[no-untyped-def]
        calls.append(1)
        return "unknown", None

    out = branch_and_bound(
        box_network(net, g.lower, g.upper),
        g.lower,
        g.upper,
        g.rest,
        lambda x, y: some_disjunct_holds(g.whole, x, y),
        leaf,
        0.0,
        Deadline(seconds),
        batch=32,
    )
    return out, calls, g


def test_tree_proves_a_property_built_to_hold(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr("mipnet.verify.input_split.LEAF_UNSTABLE", -1)  # splitting alone
    peak = np.array([0.9, 0.9, 0.9])
    net = ridge_net(peak)  # on [0, 0.5]^3 the max is 1 - 3 * 4 * 0.4 = -3.8
    out, calls, _ = tree(net, vnnlib(3, 0.0, 0.5, -3.7))
    assert out.status == "infeasible" and out.open_leaves == 0 and not calls and out.nodes > 1


def test_tree_finds_a_counterexample_just_inside_and_never_one_just_outside(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr("mipnet.verify.input_split.LEAF_UNSTABLE", -1)
    # inside: peak 1e-3 inside the corner (0.5, 0.5, 0.5); only a tiny region reaches 0.99
    net = ridge_net(np.full(3, 0.5 - 1e-3))
    out, _, g = tree(net, vnnlib(3, 0.0, 0.5, 0.99))
    assert out.status == "violated"
    y = net.forward(out.x[None])[0]
    assert some_disjunct_holds(g.whole, out.x, y) and y[0] >= 0.99 - CHECK_TOL
    assert np.all(out.x >= 0.0) and np.all(out.x <= 0.5)
    # outside: the peak 1e-3 outside the corner, max inside 1 - 0.012 < 0.99
    net = ridge_net(np.full(3, 0.5 + 1e-3))
    out, _, _ = tree(net, vnnlib(3, 0.0, 0.5, 0.99))
    assert out.status == "infeasible"


def test_tree_verdicts_through_check_property() -> None:
    net = ridge_net(np.full(3, 0.5 + 1e-3))
    r = check_property(net, parse_vnnlib(vnnlib(3, 0.0, 0.5, 0.99)), time_limit=30)
    assert r.verdict == "holds", r
    net = ridge_net(np.full(3, 0.5 - 1e-3))
    r = check_property(net, parse_vnnlib(vnnlib(3, 0.0, 0.5, 0.99)), time_limit=30)
    assert r.verdict == "violated" and r.y is not None and r.x is not None
    np.testing.assert_allclose(r.y, net.forward(r.x[None])[0])


def test_batch_and_serial_trees_agree_and_the_deadline_cuts(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr("mipnet.verify.input_split.LEAF_UNSTABLE", -1)
    net = ridge_net(np.full(3, 0.5 + 1e-3))
    (g,) = parse_vnnlib(vnnlib(3, 0.0, 0.5, 0.99)).box_groups()
    args = (
        box_network(net, g.lower, g.upper),
        g.lower,
        g.upper,
        g.rest,
        lambda x, y: some_disjunct_holds(g.whole, x, y),
    )
    serial = branch_and_bound(*args, lambda *a: ("unknown", None), 0.0, Deadline(30), batch=1)
    batched = branch_and_bound(*args, lambda *a: ("unknown", None), 0.0, Deadline(30), batch=16)
    assert serial.status == batched.status == "infeasible"
    cut = branch_and_bound(*args, lambda *a: ("unknown", None), 0.0, Deadline(0.0), batch=16)
    assert cut.status == "unknown" and cut.open_leaves >= 1
    assert bt.batched_tree is not None
