"""VNN-LIB boxes before and around the MILP (mipnet.verify.input_split): the sampling attack, the CROWN
refutation of disjuncts, input branch-and-bound with a planted violation just inside a box corner (found) and just
outside it (holds), one deadline for the whole tree (open leaves counted), and the stages in the result."""

from __future__ import annotations

import json

import numpy as np
import pytest
from helpers import random_dense_net

import mipnet.verify.input_split as split
from mipnet import Dense, Domain, Network, ReLU
from mipnet.deadline import Deadline
from mipnet.verify.input_split import box_network, branch_and_bound, find_witness, refute, split_dimension
from mipnet.verify.vnnlib import CHECK_TOL, check_property, parse_vnnlib, some_disjunct_holds

N = 5


def bump_net(peak: float, pairs: int = 15, seed: int = 0) -> Network:
    """y = a triangle bump of s = sum x over [peak - 0.08, peak + 0.08], height 0.8 at s = peak, plus ``pairs``
    pairs of identical hidden ReLUs with output weights +1 and -1: they cancel exactly in the forward pass, but
    their relaxations do not, so the bounds over a large box are loose (as in a trained net) and tighten when
    the box is split."""
    k = 10.0
    rng = np.random.default_rng(seed)
    We, be = rng.normal(0, 1, (pairs, N)), rng.normal(0, 0.5, pairs)
    W = np.vstack([np.ones((3, N)), We, We])
    b = np.concatenate([-np.array([peak - 0.08, peak, peak + 0.08]), be, be])
    out = np.concatenate([[k, -2 * k, k], np.ones(pairs), -np.ones(pairs)])
    return Network([Dense(W, b), ReLU(), Dense(out[None], np.zeros(1))], domain=Domain.box(N, 0.0, 1.0))


def prop(threshold: float) -> str:
    decl = "".join(f"(declare-const X_{i} Real)" for i in range(N)) + "(declare-const Y_0 Real)"
    box = "".join(f"(assert (>= X_{i} 0))(assert (<= X_{i} 1))" for i in range(N))
    return decl + box + f"(assert (>= Y_0 {threshold}))"


THRESHOLD = 0.6  # 0.75 of the peak height 0.8: violated where |s - peak| <= 0.02


def test_planted_violation_just_inside_a_corner_is_found() -> None:
    net = bump_net(N - 0.03)  # violated for s in [N - 0.05, N - 0.01]; the corner s = N has y = 0.5
    assert net.forward(np.ones((1, N)))[0, 0] < THRESHOLD
    r = check_property(net, parse_vnnlib(prop(THRESHOLD)), time_limit=60)
    assert r.verdict == "violated", r
    assert np.all((r.x >= 0) & (r.x <= 1)) and r.y[0] >= THRESHOLD - CHECK_TOL
    np.testing.assert_allclose(r.y, net.forward(r.x[None])[0])
    assert r.prover in ("split", "milp") and r.nodes >= 1


def test_planted_violation_just_outside_a_corner_holds() -> None:
    net = bump_net(N + 0.03)  # violated only for s in [N + 0.01, N + 0.05], outside the box; y <= 0.5 inside
    r = check_property(net, parse_vnnlib(prop(THRESHOLD)), time_limit=60)
    assert r.verdict == "holds", r
    S = np.random.default_rng(0).uniform(0, 1, (20000, N))
    assert net.forward(S).max() < THRESHOLD
    d = json.loads(json.dumps(r.to_dict()))
    assert d["prover"] in ("crown", "alpha-crown", "split", "milp") and d["open_leaves"] == 0


def test_splitting_alone_closes_the_outside_case(monkeypatch) -> None:
    monkeypatch.setattr(split, "LEAF_UNSTABLE", -1)  # never hand a node to the MILP before the depth cap
    net = bump_net(N + 0.03, pairs=2)
    lo, hi = np.zeros(N), np.ones(N)
    p = parse_vnnlib(prop(THRESHOLD))
    (g,) = p.box_groups()
    calls: list[int] = []

    def leaf(*args):
        calls.append(1)
        return "unknown", None

    def tree_of(n):
        check = lambda x, y: some_disjunct_holds(g.whole, x, y)  # noqa: E731
        return branch_and_bound(box_network(n, lo, hi), lo, hi, g.rest, check, leaf, 0.0, Deadline(60))

    tree = tree_of(net)
    assert tree.status == "infeasible" and not calls and tree.nodes > 1 and tree.open_leaves == 0
    inside = bump_net(N - 0.03, pairs=2)
    tree = tree_of(inside)
    assert tree.status in ("violated", "unknown")
    if tree.status == "violated":
        assert inside.forward(tree.x[None])[0, 0] >= THRESHOLD - CHECK_TOL


def test_the_deadline_cuts_the_tree_with_open_leaves(monkeypatch) -> None:
    monkeypatch.setattr(split, "LEAF_UNSTABLE", -1)
    net = bump_net(N + 0.03, pairs=40)  # y <= 0.5 in the box, 0.5 at the corner: only tiny leaves there close
    lo, hi = np.zeros(N), np.ones(N)
    (g,) = parse_vnnlib(prop(0.5 + 1e-4)).box_groups()
    tree = branch_and_bound(
        box_network(net, lo, hi),
        lo,
        hi,
        g.rest,
        lambda x, y: some_disjunct_holds(g.whole, x, y),
        lambda *a: ("unknown", None),
        0.0,
        Deadline(0.5),
    )
    assert tree.status == "unknown" and tree.open_leaves >= 1


def test_attack_and_refutation_on_the_toy_cases() -> None:
    net = random_dense_net(np.random.default_rng(1), [3, 8, 8, 3])
    decl = "".join(f"(declare-const X_{i} Real)" for i in range(3)) + "".join(
        f"(declare-const Y_{j} Real)" for j in range(3)
    )
    box = "".join(f"(assert (<= X_{i} 1))(assert (>= X_{i} -1))" for i in range(3))
    y0 = net.forward(np.zeros((1, 3)))[0]
    c, k = int(np.argmax(y0)), int(np.argmin(y0))
    r = check_property(net, parse_vnnlib(decl + box + f"(assert (>= Y_{k} Y_{c}))"))
    assert r.verdict == "violated" and r.prover == "attack" and "attack" in r.seconds
    far = "(assert (<= Y_0 -1000))"
    r = check_property(net, parse_vnnlib(decl + box + far))
    assert r.verdict == "holds" and r.prover in ("bounds", "crown") and "milp" not in r.seconds
    # a disjunct refuted by the bound leaves the other one
    p = parse_vnnlib(decl + box + f"(assert (or (<= Y_0 -1000) (>= Y_{k} Y_{c})))")
    (g,) = p.box_groups()
    bnet = box_network(net, g.lower, g.upper)
    from mipnet.bounds import compute_bounds

    ref = refute(bnet, g.lower, g.upper, g.rest, compute_bounds(bnet, g.lower, g.upper, "linear"), 0.0, Deadline(None))
    assert ref.live == [1] and ref.stage in ("crown", "alpha-crown") and ref.coef.shape == (1, 3)
    x = find_witness(net, g.lower, g.upper, lambda x, y: some_disjunct_holds(g.whole, x, y))
    assert x is not None and some_disjunct_holds(g.whole, x, net.forward(x[None])[0])


@pytest.mark.parametrize("coef, expect", [(np.array([[0.0, 5.0, 1.0]]), 1), (np.zeros((0, 3)), 2)])
def test_split_dimension(coef: np.ndarray, expect: int) -> None:
    assert split_dimension(coef, np.zeros(3), np.array([1.0, 1.0, 3.0])) == expect


def test_vnnlib_verdicts_unchanged_on_random_nets() -> None:
    for seed in range(6):
        rng = np.random.default_rng(seed)
        net = random_dense_net(rng, [3, 10, 10, 2])
        c = rng.uniform(-0.5, 0.5, 3)
        w = float(rng.uniform(0.05, 0.5))
        decl = (
            "".join(f"(declare-const X_{i} Real)" for i in range(3)) + "(declare-const Y_0 Real)"
            "(declare-const Y_1 Real)"
        )
        box = "".join(f"(assert (<= X_{i} {c[i] + w}))(assert (>= X_{i} {c[i] - w}))" for i in range(3))
        r = check_property(net, parse_vnnlib(decl + box + "(assert (>= Y_0 Y_1))"), time_limit=30)
        S = rng.uniform(c - w, c + w, (20000, 3))
        Y = net.forward(S)
        if np.any(Y[:, 0] >= Y[:, 1]):
            assert r.verdict == "violated"
        assert r.verdict in ("holds", "violated")
        if r.verdict == "violated":
            assert r.y[0] >= r.y[1] - CHECK_TOL and np.all(np.abs(r.x - c) <= w + 1e-9)


def test_a_witness_is_accepted_only_if_its_own_forward_pass_agrees_with_the_batch():
    """The batch evaluation of the sampled points and a point's own forward pass can round apart (weights 1e6,
    inputs 1e5): a batch row 4.7e-6 above the threshold was reported 'violated' while the point alone is below."""
    import numpy as np

    from mipnet.domain import Domain
    from mipnet.layers import Dense
    from mipnet.network import Network
    from mipnet.verify.input_split import find_witness

    class Rounded(Network):  # batches (more than one row) round up by 1e-3; a single row is exact
        def forward(self, X):
            Y = super().forward(X)
            return Y + 1e-3 if np.atleast_2d(X).shape[0] > 1 else Y

    net = Rounded([Dense(np.array([[1.0]]), np.zeros(1))], domain=Domain(["x"], [0], [1]), task="regress")

    def check(x, y):  # unsafe: y >= 1.0005 (no point of [0, 1] reaches it; the batch's rounding does)
        return bool(y[0] >= 1.0005)

    assert find_witness(net, np.zeros(1), np.ones(1), check) is None
