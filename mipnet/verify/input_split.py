"""Deciding a VNN-LIB input box before and around the MILP: sampling, bound refutation, input branch-and-bound.

The question (:mod:`mipnet.verify.vnnlib`): on a box B = [lo, hi], is there an x in B with y = f(x) satisfying
some disjunct p, i.e. every atom e_a(x, y) = a.x + b.y + c <= 0 (a <= -delta on the retry)? The stages:

* **attack** (:func:`find_witness`): the box's corners (all 2^n when n <= ``CORNER_INPUTS``, random ones
  otherwise), its centre and uniform samples, seeded, through the numpy forward pass; a point is a
  counterexample only when the caller's re-check (the whole disjunct, strict bounds strictly) accepts it.
* **bound refutation** (:func:`refute`): every atom is a specification row (C = b, E = a, d = c) and
  :func:`mipnet.verify.spec_bounds.spec_bounds` bounds it below over the box; an atom with lower bound
  > -delta (> 0 when delta = 0) is false on the whole box, and so is its disjunct. No live disjunct: the box is
  safe ("crown" or "alpha-crown", the cheapest stage that sufficed).
* **input branch-and-bound** (:func:`branch_and_bound`, for nets with at most ``SPLIT_INPUTS`` inputs): a box
  the bound leaves open is split in two at the middle of the input i maximising

      w_i * sum_r |Lam_ri|        (w the widths, Lam the back-substituted input coefficients of the live rows),

  the input whose width costs the bound most. Every node is bounded (per-layer bounds by
  :func:`mipnet.verify.spec_bounds.crown_bounds`, then the refutation above) and sampled; a node is
  handed to the MILP (the caller's ``leaf``) when it is small (at most ``LEAF_UNSTABLE`` unstable ReLU-type
  units under its bounds) or at depth ``max_depth``. One deadline covers the whole tree. The box is safe
  ("holds") only when every leaf is closed (refuted, or its MILP infeasible); a re-checked point of any node is a
  counterexample; a tree the deadline cuts is "unknown" with the count of open leaves. The children of a node
  cover it (lo <= x <= mid, mid <= x <= hi), so a closed tree covers the box.

  For networks of dense affine and ReLU-type layers the tree bounds ``BATCH`` nodes per step
  (:mod:`mipnet.verify.batch_tree`, bounds by :mod:`mipnet.verify.batched_bounds`): the same bounds, best first,
  each node's per-layer bounds intersected with its parent's, the split input chosen by the smear (width times
  the interval bound of the input gradient; the rule above is ``batch_tree.BRANCHING = "crown"``), boxes far from
  closing cut twice at once, the MILP only when a leaf is cheaper than the estimated subtree;
  ``branch_and_bound(..., batch=1)`` keeps the one-node-per-step tree above.
"""

from __future__ import annotations

import copy
import itertools
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Sequence

import numpy as np

from ..bounds import Bounds
from ..deadline import Deadline
from ..domain import Domain
from ..network import Network
from .batched_bounds import batch_plan
from .spec_bounds import ALPHA_STEPS, Maps, affine_maps, crown_bounds, spec_bounds

if TYPE_CHECKING:
    from .vnnlib import Atom

#: inputs up to which every corner of a box is tried, and up to which the input box is split
CORNER_INPUTS = 10
SPLIT_INPUTS = 10
#: uniform samples of the whole box (the attack) and of every node of the tree
BOX_SAMPLES = 5000
NODE_SAMPLES = 64
#: a node with at most this many unstable ReLU-type units goes to the MILP
LEAF_UNSTABLE = 24
#: alpha-CROWN iterations per node of the tree (the whole box gets the default)
NODE_STEPS = 8
#: nodes bounded at once by the batched tree (:mod:`mipnet.verify.batch_tree`); 1: one node per step
BATCH = 64

Check = Callable[[np.ndarray, np.ndarray], bool]
#: leaf(lo, hi, live disjuncts, bounds, deadline) -> ("infeasible" | status, witness or None)
Leaf = Callable[[np.ndarray, np.ndarray, "list[list[Atom]]", Bounds, Deadline], "tuple[str, np.ndarray | None]"]


def box_network(net: Network, lo: np.ndarray, hi: np.ndarray) -> Network:
    """``net`` with its domain replaced by the plain real box [lo, hi] (layers shared)."""
    box = copy.copy(net)
    box.domain = Domain(net.domain.names, lo, hi)
    return box


def box_points(lo: np.ndarray, hi: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """The centre, the corners (all when there are at most ``CORNER_INPUTS`` inputs, else n // 4 random ones)
    and n uniform points of the box."""
    k = lo.size
    if k <= CORNER_INPUTS:
        corners = np.array(list(itertools.product(*zip(lo, hi))), dtype=np.float64).reshape(-1, k)
    else:
        corners = np.where(rng.random((max(1, n // 4), k)) < 0.5, lo, hi)
    return np.vstack([(lo + hi)[None] / 2.0, corners, rng.uniform(lo, hi, (n, k))])


def find_witness(
    net: Network,
    lo: np.ndarray,
    hi: np.ndarray,
    check: Check,
    n: int = BOX_SAMPLES,
    seed: int = 0,
    deadline: Deadline | None = None,
) -> np.ndarray | None:
    """A point of the box that ``check(x, f(x))`` accepts, by sampling (:func:`box_points`); None if none."""
    X = box_points(lo, hi, n, np.random.default_rng(seed))
    screen = getattr(check, "screen", None)  # a vectorised superset of the rows the check accepts (optional)
    for s in range(0, X.shape[0], 2048):
        if deadline is not None and deadline.expired():
            return None
        part = X[s : s + 2048]
        Y = net.forward(part)
        rows = np.flatnonzero(screen(part, Y)) if screen is not None else np.arange(part.shape[0])
        for k, i in enumerate(rows):
            # (a check is Python over every atom: 9 disjuncts of 784 input bounds took 35 s for 2048 points)
            if k % 32 == 31 and deadline is not None and deadline.expired():
                return None
            # the batch's row and the point's own forward pass (the evaluation every re-check uses) can round
            # apart: both must accept (a batch row 4.7e-6 above a threshold was 'violated' below it, alone)
            if check(part[i], Y[i]) and check(part[i], net.forward(part[i][None])[0]):
                return part[i].copy()
    return None


def spec_rows(
    conjs: "Sequence[Sequence[Atom]]", n_in: int, n_out: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[list[int]]]:
    """(C, E, d, rows of each disjunct): one row per atom, a.x + b.y + c = C y + E x + d."""
    rows: list[tuple[dict[int, float], dict[int, float], float]] = []
    owner: list[list[int]] = []
    for conj in conjs:
        owner.append([])
        for at in conj:
            owner[-1].append(len(rows))
            rows.append((at.a, at.b, at.c))
    C, E, d = np.zeros((len(rows), n_out)), np.zeros((len(rows), n_in)), np.zeros(len(rows))
    for r, (a, b, c) in enumerate(rows):
        for i, v in a.items():
            E[r, i] = v
        for j, v in b.items():
            C[r, j] = v
        d[r] = c
    return C, E, d, owner


@dataclass
class Refutation:
    """Which disjuncts the bound leaves possible on a box (``live``), the stage that refuted the others
    ("crown" / "alpha-crown"; "" when none was refuted), the input coefficients of the live rows' bounds
    (``coef``) and the time of each stage."""

    live: list[int]
    stage: str
    coef: np.ndarray
    seconds: dict[str, float] = field(default_factory=dict)


def refute(
    net: Network,
    lo: np.ndarray,
    hi: np.ndarray,
    conjs: "Sequence[Sequence[Atom]]",
    bounds: Bounds,
    delta: float,
    deadline: Deadline,
    steps: int = ALPHA_STEPS,
    maps: Maps | None = None,
) -> Refutation:
    """Drop the disjuncts with an atom whose proved lower bound over the box is > -delta (> 0 for delta = 0)."""
    if not conjs:
        return Refutation([], "crown", np.zeros((0, lo.size)))
    C, E, d, owner = spec_rows(conjs, net.n_inputs, net.n_outputs)
    thr = -delta if delta > 0 else 0.0

    def closed(b: np.ndarray) -> np.ndarray:
        return np.array([bool(np.any(b[rows] > thr)) for rows in owner])

    sb = spec_bounds(
        net,
        C,
        d,
        lo,
        hi,
        E=E,
        bounds=bounds,
        deadline=deadline,
        steps=steps,
        goal=lambda b: bool(np.all(closed(b))),
        maps=maps,
    )
    by_crown, by_best = closed(sb.crown), closed(sb.lower)
    live = [p for p in range(len(conjs)) if not by_best[p]]
    stage = "" if not by_best.any() else ("crown" if np.array_equal(by_crown, by_best) else "alpha-crown")
    rows = [r for p in live for r in owner[p] if sb.lower[r] <= thr]
    return Refutation(live, stage, sb.coef[rows], dict(sb.seconds))


def split_dimension(coef: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> int:
    """argmax_i (hi_i - lo_i) * sum_r |coef_ri| (the widest input when every coefficient is 0)."""
    width = hi - lo
    score = width * np.abs(coef).sum(axis=0) if coef.size else width
    if not np.any(score > 0):
        score = width
    return int(np.argmax(score))


def _unstable(net: Network, bounds: Bounds) -> int:
    """Unstable ReLU-type units (L < 0 < U at the input of a gated layer)."""
    n = 0
    for i, layer in enumerate(net.layers):
        if layer.gated and i > 0:
            L, U = bounds[i - 1]
            n += int(np.count_nonzero((L < 0) & (U > 0)))
    return n


@dataclass
class TreeResult:
    """The tree's verdict on the box: ``status`` "infeasible" (every leaf closed), "violated" (``x``, re-checked)
    or "unknown" (``open_leaves`` left when the deadline or a leaf's solver stopped), with counts and times."""

    status: str
    x: np.ndarray | None = None
    nodes: int = 0
    milp_leaves: int = 0
    open_leaves: int = 0
    stage: str = "split"
    #: a leaf's MILP witness that failed the re-check (a boundary point: the caller retries with delta > 0)
    boundary: np.ndarray | None = None
    seconds: dict[str, float] = field(default_factory=dict)


def branch_and_bound(
    net: Network,
    lo: np.ndarray,
    hi: np.ndarray,
    conjs: "list[list[Atom]]",
    check: Check,
    leaf: Leaf,
    delta: float,
    deadline: Deadline,
    max_depth: int | None = None,
    batch: int | None = None,
) -> TreeResult:
    """Input branch-and-bound over the box (module docstring). ``net`` must have the box as its domain;
    ``leaf`` decides a node by the MILP. ``batch`` nodes are bounded at once (default ``BATCH``) when the
    network is made of dense affine and ReLU-type layers (:mod:`mipnet.verify.batched_bounds`); ``batch=1``,
    or any other network, bounds one node per step."""
    depth_cap = 4 * lo.size + 8 if max_depth is None else max_depth
    size = BATCH if batch is None else int(batch)
    if size > 1 and conjs:
        plan = batch_plan(net, affine_maps(net))
        if plan is not None:
            from .batch_tree import batched_tree  # (batch_tree imports this module: imported where used)

            return batched_tree(net, lo, hi, conjs, check, leaf, delta, deadline, depth_cap, plan, size)
    return _serial_tree(net, lo, hi, conjs, check, leaf, delta, deadline, depth_cap)


def _serial_tree(
    net: Network,
    lo: np.ndarray,
    hi: np.ndarray,
    conjs: "list[list[Atom]]",
    check: Check,
    leaf: Leaf,
    delta: float,
    deadline: Deadline,
    depth_cap: int,
) -> TreeResult:
    """One node per step: CROWN per-layer bounds, the refutation, sampling, the MILP leaf or a split."""
    out = TreeResult("infeasible")
    secs = out.seconds
    rng = np.random.default_rng(1)
    maps = affine_maps(net)
    stack: list[tuple[np.ndarray, np.ndarray, int, list[int]]] = [(lo, hi, 0, list(range(len(conjs))))]
    while stack:
        if deadline.expired():
            out.status, out.open_leaves = "unknown", out.open_leaves + len(stack)
            break
        nlo, nhi, depth, alive = stack.pop()
        out.nodes += 1
        t = time.perf_counter()
        bnds = crown_bounds(net, nlo, nhi, maps)
        secs["bounds"] = secs.get("bounds", 0.0) + time.perf_counter() - t
        sub = [conjs[p] for p in alive]
        ref = refute(net, nlo, nhi, sub, bnds, delta, deadline, NODE_STEPS if depth else ALPHA_STEPS, maps)
        for k, v in ref.seconds.items():
            secs[k] = secs.get(k, 0.0) + v
        live = [alive[p] for p in ref.live]
        if not live:
            continue
        t = time.perf_counter()
        x = find_witness(net, nlo, nhi, check, n=NODE_SAMPLES, seed=int(rng.integers(2**31)), deadline=deadline)
        secs["attack"] = secs.get("attack", 0.0) + time.perf_counter() - t
        if x is not None:
            out.status, out.x, out.stage = "violated", x, "split"
            return out
        if depth >= depth_cap or _unstable(net, bnds) <= LEAF_UNSTABLE or np.all(nhi - nlo <= 0):
            t = time.perf_counter()
            status, w = leaf(nlo, nhi, [conjs[p] for p in live], bnds, deadline)
            secs["milp"] = secs.get("milp", 0.0) + time.perf_counter() - t
            out.milp_leaves += 1
            if status == "infeasible":
                continue
            if w is not None and check(w, net.forward(w[None])[0]):
                out.status, out.x, out.stage = "violated", w, "milp"
                return out
            if w is not None:
                out.boundary = w
            out.status, out.open_leaves = "unknown", out.open_leaves + 1
            continue
        i = split_dimension(ref.coef, nlo, nhi)
        mid = 0.5 * (nlo[i] + nhi[i])
        left_hi, right_lo = nhi.copy(), nlo.copy()
        left_hi[i], right_lo[i] = mid, mid
        stack.append((right_lo, nhi.copy(), depth + 1, live))
        stack.append((nlo.copy(), left_hi, depth + 1, live))
    return out
