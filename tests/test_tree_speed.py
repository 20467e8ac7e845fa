"""The faster node bounds of the input branch-and-bound (mipnet.verify.tree_bounds): equal to the batched
per-layer CROWN bounds they replace (with and without the parent's bounds as prior, ReLU and LeakyReLU), sound
against sampled points and box corners of every box, and the tree's verdicts with them."""

from __future__ import annotations

import itertools

import numpy as np
from helpers import bab_boxes as boxes
from helpers import bab_net as net_of
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mipnet.verify.batch_tree as bt
from mipnet import Dense, Domain, Network, ReLU
from mipnet.verify.batched_bounds import batch_plan, layer_bounds
from mipnet.verify.tree_bounds import active_layer_bounds, plan_ok
from mipnet.verify.vnnlib import check_property, parse_vnnlib

SETTINGS = settings(max_examples=12, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])


def points(rng: np.random.Generator, lo: np.ndarray, hi: np.ndarray, n: int = 300) -> np.ndarray:
    """(B, P, n_in): uniform points and every corner of each box."""
    B, k = lo.shape
    U = rng.uniform(lo[:, None, :], hi[:, None, :], (B, n, k))
    sel = np.array(list(itertools.product((0.0, 1.0), repeat=k)))[None]
    return np.concatenate([U, lo[:, None, :] + sel * (hi - lo)[:, None, :]], axis=1)


@SETTINGS
@given(st.integers(0, 10_000), st.booleans(), st.booleans())
def test_active_bounds_equal_the_batched_bounds_and_are_sound(seed: int, leaky: bool, with_prior: bool) -> None:
    rng = np.random.default_rng(seed)
    sizes = [3] + [int(v) for v in rng.integers(4, 12, size=int(rng.integers(1, 5)))] + [2]
    net = net_of(rng, sizes, leaky)
    maps = batch_plan(net)
    assert maps is not None and plan_ok(net)
    lo, hi = boxes(rng, 3, 6)
    prior = None
    if with_prior:  # the parents: each box widened; the children's bounds must lie inside them
        prior, _ = layer_bounds(net, lo - 0.2, hi + 0.2, maps, "unstable")
    ref, ref_ops = layer_bounds(net, lo, hi, maps, "unstable", prior)
    got, ops = active_layer_bounds(net, lo, hi, maps, prior)
    assert [op.kind for op in ops] == [op.kind for op in ref_ops]
    for (L0, U0), (L1, U1) in zip(ref, got):
        tol = 1e-9 * (1.0 + np.abs(L0).max() + np.abs(U0).max())
        np.testing.assert_allclose(L1, L0, rtol=0, atol=tol)
        np.testing.assert_allclose(U1, U0, rtol=0, atol=tol)
    X = points(rng, lo, hi)
    for b in range(lo.shape[0]):
        trace = net.forward_trace(X[b])[1:]
        for t, ((L, U), v) in enumerate(zip(got, trace)):
            v = v.reshape(v.shape[0], -1)
            assert np.all(v >= L[b] - 1e-9) and np.all(v <= U[b] + 1e-9)  # sound on every sampled point
            if prior is not None:
                assert np.all(L[b] >= prior[t][0][b]) and np.all(U[b] <= prior[t][1][b])


def test_plan_ok_only_for_alternating_affine_and_relu_layers() -> None:
    rng = np.random.default_rng(0)
    assert plan_ok(net_of(rng, [2, 4, 4, 1]))
    two = Network([Dense(np.eye(2), np.zeros(2)), Dense(np.eye(2), np.zeros(2))], domain=Domain.box(2, -1.0, 1.0))
    assert not plan_ok(two)
    ends_relu = Network([Dense(np.eye(2), np.zeros(2)), ReLU()], domain=Domain.box(2, -1.0, 1.0))
    assert not plan_ok(ends_relu)


def test_active_and_former_node_bounds_give_the_same_verdicts(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A property that holds (splitting alone, no MILP leaves) and one that fails, each with the tree's node
    bounds old and new."""
    monkeypatch.setattr("mipnet.verify.input_split.LEAF_UNSTABLE", -1)
    rng = np.random.default_rng(11)
    net = net_of(rng, [3, 16, 16, 16, 2])
    X = rng.uniform(-1, 1, (4000, 3))
    top = float(net.forward(X)[:, 0].max())
    decl = "".join(f"(declare-const X_{i} Real)\n" for i in range(3)) + "(declare-const Y_0 Real)\n"
    decl += "(declare-const Y_1 Real)\n" + "".join(f"(assert (>= X_{i} -1))\n(assert (<= X_{i} 1))\n" for i in range(3))
    for rows in ("unstable", "active"):
        monkeypatch.setattr(bt, "ROWS", rows)
        held = check_property(net, parse_vnnlib(decl + f"(assert (>= Y_0 {top + 0.1:.6f}))"), time_limit=30)
        assert held.verdict == "holds" and held.nodes > 1, (rows, held)
        bad = check_property(net, parse_vnnlib(decl + f"(assert (>= Y_0 {top - 0.05:.6f}))"), time_limit=30)
        assert bad.verdict == "violated" and bad.x is not None and bad.y is not None
        np.testing.assert_allclose(bad.y, net.forward(bad.x[None])[0])
        assert bad.y[0] >= top - 0.05 - 1e-9


def test_milp_leaves_get_sound_output_bounds_that_are_back_substituted(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Without the output's bounds on every node (``OUTPUT_BOUNDS = False``) a MILP leaf still gets them
    back-substituted: every layer's bounds handed to the leaf contain the sampled values of its box, and the
    output's are the full CROWN bounds of the leaf (at least as tight as with the output's interval bound)."""
    from mipnet.deadline import Deadline
    from mipnet.verify.input_split import box_network, branch_and_bound
    from mipnet.verify.vnnlib import some_disjunct_holds

    monkeypatch.setattr(bt, "OUTPUT_BOUNDS", False)
    monkeypatch.setattr("mipnet.verify.input_split.LEAF_UNSTABLE", 10_000)  # every open box is a leaf
    rng = np.random.default_rng(4)
    net = net_of(rng, [3, 12, 12, 2])
    top = float(net.forward(rng.uniform(-1, 1, (4000, 3)))[:, 0].max())
    decl = "".join(f"(declare-const X_{i} Real)\n" for i in range(3)) + "(declare-const Y_0 Real)\n"
    decl += "(declare-const Y_1 Real)\n" + "".join(f"(assert (>= X_{i} -1))\n(assert (<= X_{i} 1))\n" for i in range(3))
    (g,) = parse_vnnlib(decl + f"(assert (>= Y_0 {top + 0.3:.6f}))").box_groups()
    seen: list[tuple[np.ndarray, np.ndarray, list[tuple[np.ndarray, np.ndarray]]]] = []

    def leaf(lo, hi, conjs, bounds, deadline):  # type: ignore[no-untyped-def]
        seen.append((lo.copy(), hi.copy(), bounds))
        return "unknown", None

    sub = box_network(net, g.lower, g.upper)
    out = branch_and_bound(
        sub, g.lower, g.upper, g.rest, lambda x, y: some_disjunct_holds(g.whole, x, y), leaf, 0.0, Deadline(10)
    )
    assert seen and out.status in ("unknown", "infeasible")  # an undecided leaf is split instead
    maps = batch_plan(net)
    assert maps is not None
    gain = 0.0
    for lo, hi, bounds in seen:
        X = rng.uniform(lo, hi, (500, 3))
        for (L, U), v in zip(bounds, net.forward_trace(X)[1:]):
            assert np.all(v >= L - 1e-9) and np.all(v <= U + 1e-9)
        prior = [(L[None], U[None]) for L, U in bounds[:-1]] + [(np.full((1, 2), -np.inf), np.full((1, 2), np.inf))]
        loose, _ = active_layer_bounds(net, lo[None], hi[None], maps, prior, output=False)
        tight, _ = active_layer_bounds(net, lo[None], hi[None], maps, prior, output=True)
        np.testing.assert_allclose(bounds[-1][0], tight[-1][0][0], atol=1e-9)
        np.testing.assert_allclose(bounds[-1][1], tight[-1][1][0], atol=1e-9)
        gain = max(gain, float(np.max(bounds[-1][0] - loose[-1][0][0])), float(np.max(loose[-1][1][0] - bounds[-1][1])))
    assert gain > 1e-6  # the back-substitution did tighten the output's interval bounds
