"""A complete prover by branching on unstable ReLUs (beta-CROWN style): a ReLU-split branch and bound.

The question. For a network f (affine layers and ReLU-type layers h = max(a z, z), 0 <= a < 1, only), an input
box X = [lo, hi] and specification rows s_r(x) = C_r f(x) + d_r (r = 1..m), decide

    s_r(x) > 0 for every r and every x in X          ("holds")

or find a point of X where some row is <= 0 that the caller's exact re-check accepts ("violated"); a deadline
that comes first gives "unknown". A robustness margin uses C_r = e_c - e_k for every live rival k.

**Domains.** A domain is X together with split constraints on unstable units j of gated layer t (their input
z_tj is the output of the affine layer t - 1):

    active:    z_tj >= 0   (sign s_tj = +1; the unit is the identity)
    inactive:  z_tj <= 0   (sign s_tj = -1; the unit is z -> a z)

The two children of a domain split one unit both ways, so they cover their parent: the leaves of the tree cover
X, and "holds" is proved when every leaf is closed.

Bounding a domain (per-layer bounds that respect the splits, CROWN with alpha and beta multipliers) and the
branching choice are in :mod:`mipnet.verify.relu_split_bounds`.

**The tree.** Open domains are kept in a pool; each step takes the ``batch`` domains with the lowest bound
(best first: where a counterexample is likeliest), splits each in two and bounds all children together (numpy,
leading batch axis). Then each open child is attacked: the corners x*_r of its rows' back-substitutions (points of
X) are run through the numpy forward pass and handed to the caller's ``check``, which accepts only a true
counterexample (inside the set the property speaks of, the property violated). A domain with no unstable unit left
is exact: the network is affine on it, and the LP (scipy / HiGHS)

    min_r min { C_r f(x) + d_r : x in X, every unit's input on its side }

decides it: an optimum > tol closes it, a point with value <= 0 goes to ``check``. An LP reported infeasible
closes it only when the region is empty with a margin (max { s : Q_i x + q_i >= s ||Q_i|| on the box } < -tol for
the pattern's constraints Q x + q >= 0). A point the check refuses, or an infeasibility without that margin, leaves
the tree "unknown" (the caller's MILP then decides). One deadline for the
whole tree; ``max_domains`` caps the pool, and so does ``POOL_BYTES`` for its arrays (reached: "unknown").
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ..bounds import Bounds
from ..deadline import Deadline
from ..network import Network
from .batched_bounds import BatchOp
from .relu_split_bounds import (
    BoundsB,
    Pool,
    choose,
    domain_bounds,
    domain_ops,
    gated_layers,
    optimise,
    supported,
    take_op,
)
from .spec_bounds import Maps

#: domains bounded together per step, alpha/beta iterations at the root and per step
BATCH = 32
ROOT_STEPS = 30
STEPS = 12
#: the most open domains kept (beyond: "unknown"), and the most memory their arrays may take
MAX_DOMAINS = 20_000
POOL_BYTES = 200_000_000
#: an exact leaf's LP optimum must exceed this (times 1 + |value|) to close it
LP_TOL = 1e-6

Check = Callable[[np.ndarray], "np.ndarray | None"]


@dataclass
class SplitResult:
    """The tree's outcome: ``status`` "holds" / "violated" / "unknown"; ``bound`` a proved lower bound of min_r
    s_r over X (the least bound of the leaves and open domains; None when not computed); ``counterexample`` the
    point the check accepted; ``domains`` the number of domains bounded, ``depth`` the deepest one, ``open`` the
    open domains left; ``lps`` exact leaves solved as LPs."""

    status: str
    bound: float | None = None
    counterexample: np.ndarray | None = None
    domains: int = 0
    depth: int = 0
    open: int = 0
    lps: int = 0
    steps: int = 0
    reason: str = ""
    seconds: dict[str, float] = field(default_factory=dict)


def _affine_pattern(
    net: Network, maps: Maps, bounds: BoundsB, lo: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """For one exact domain (every gated unit stable): the output as G x + g and the pattern's constraints
    Q x + q >= 0 (each unit's input on its side)."""
    n_in = int(np.prod(net.shapes[0]))
    G, g = np.eye(n_in), np.zeros(n_in)
    Qs, qs = [], []
    for i, layer in enumerate(net.layers):
        if layer.affine:
            A, c = maps[i]
            G, g = np.asarray(A) @ G, np.asarray(A) @ g + c
            continue
        L = bounds[i - 1][0][0] if i else lo
        on = L >= 0
        sign = np.where(on, 1.0, -1.0)
        Qs.append(sign[:, None] * G)
        qs.append(sign * g)
        s = np.where(on, 1.0, float(layer.negative_slope))
        G, g = s[:, None] * G, s * g
    Q = np.vstack(Qs) if Qs else np.zeros((0, n_in))
    q = np.concatenate(qs) if qs else np.zeros(0)
    return G, g, Q, q


def _exact(
    net: Network,
    maps: Maps,
    lo: np.ndarray,
    hi: np.ndarray,
    bounds: BoundsB,
    C: np.ndarray,
    d: np.ndarray,
    rows: np.ndarray,
    check: Check,
) -> tuple[str, float | np.ndarray | None]:
    """An exact domain decided by one LP per live row (module docstring): ("closed", least optimum),
    ("violated", point) or ("open", None)."""
    from scipy.optimize import linprog

    G, g, Q, q = _affine_pattern(net, maps, bounds, lo)
    least = np.inf
    for r in np.flatnonzero(rows):
        cost = C[r] @ G
        const = float(C[r] @ g + d[r])
        lp = linprog(cost, A_ub=-Q, b_ub=q, bounds=list(zip(lo, hi)), method="highs")
        if lp.status == 2 and _empty(Q, q, lo, hi):  # no point of the box has this pattern
            return "closed", None
        if lp.status != 0:  # failed, or infeasible without the margin of _empty: left to the caller's MILP
            return "open", None
        val = float(lp.fun) + const
        if val > LP_TOL * (1.0 + abs(val) + float(np.abs(cost).sum())):
            least = min(least, val)
            continue
        hit = check(np.clip(np.asarray(lp.x, float), lo, hi)[None])
        return ("violated", hit) if hit is not None else ("open", None)
    return "closed", float(least)


def _empty(Q: np.ndarray, q: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> bool:
    """Whether { x in [lo, hi] : Q x + q >= 0 } is empty with a margin: the LP max { s : Q_i x + q_i >= s ||Q_i||,
    x in the box, s <= 1 } has optimum s* < -``LP_TOL``, so every point of the box violates some constraint by at
    least |s*| ||Q_i|| (far beyond the LP's tolerances)."""
    from scipy.optimize import linprog

    norm = np.maximum(np.linalg.norm(Q, axis=1), 1e-12)
    n = Q.shape[1]
    A = np.hstack([-Q / norm[:, None], np.ones((Q.shape[0], 1))])
    cost = np.zeros(n + 1)
    cost[-1] = -1.0
    lp = linprog(cost, A_ub=A, b_ub=q / norm, bounds=list(zip(lo, hi)) + [(None, 1.0)], method="highs")
    return bool(lp.status == 0 and -float(lp.fun) < -LP_TOL)


def relu_split(
    net: Network,
    C: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    check: Check,
    *,
    d: np.ndarray | None = None,
    deadline: Deadline | float | None = None,
    bounds: Bounds | None = None,
    batch: int = BATCH,
    steps: int = STEPS,
    root_steps: int = ROOT_STEPS,
    max_domains: int = MAX_DOMAINS,
) -> SplitResult:
    """Decide s_r(x) = C_r f(x) + d_r > 0 for all r on the box [lo, hi] by ReLU splitting (module docstring).

    ``check(points)`` gets candidate points (P, n_in) and returns one that it verified as a counterexample (or
    None); ``bounds``: per-layer bounds valid on the box (intersected with the tree's own); ``deadline`` covers
    the whole call."""
    t0 = time.perf_counter()
    dl = Deadline.of(deadline)
    res = SplitResult("unknown")
    maps = supported(net)
    if maps is None:
        res.reason = "the network has layers other than affine and ReLU-type"
        return res
    C = np.atleast_2d(np.asarray(C, dtype=np.float64))
    m = C.shape[0]
    d = np.zeros(m) if d is None else np.asarray(d, dtype=np.float64).ravel()
    lo1 = np.maximum(np.asarray(lo, float).ravel(), net.domain.lower)
    hi1 = np.minimum(np.asarray(hi, float).ravel(), net.domain.upper)
    gated = gated_layers(net)
    sizes = [int(np.prod(s)) for s in net.shapes[1:]]
    if bounds is None:
        prior: BoundsB = [(np.full((1, n), -np.inf), np.full((1, n), np.inf)) for n in sizes]
    else:
        prior = [(np.asarray(L, float).reshape(1, -1), np.asarray(U, float).reshape(1, -1)) for L, U in bounds]
    split0 = {t: np.zeros((1, sizes[t - 1] if t else int(np.prod(net.shapes[0]))), np.int8) for t in gated}
    bnd, empty = domain_bounds(net, maps, lo1[None], hi1[None], prior, split0)
    if empty[0]:
        res.reason = "the given bounds contradict each other on the box"
        return res
    ops = domain_ops(net, maps, lo1[None], hi1[None], bnd, len(net.layers))
    alpha0 = {}
    for t in gated:
        sl = ops[t].sl
        assert sl is not None
        alpha0[t] = np.broadcast_to(sl[:, None, :], (1, m, sl.shape[1])).copy()
    root = Pool(
        bnd,
        split0,
        alpha0,
        {t: np.zeros_like(a) for t, a in alpha0.items()},
        np.full((1, m), -np.inf),
        np.zeros(1, int),
    )
    _, xs, lam = optimise(ops, C, d, lo1[None], hi1[None], root, root_steps, dl)
    per = sum(a.nbytes for a in (*root.alpha.values(), *root.beta.values(), *root.split.values()))
    max_domains = min(max_domains, max(1, POOL_BYTES // (per + sum(L.nbytes + U.nbytes for L, U in bnd))))
    res.domains = 1
    res.seconds["root"] = time.perf_counter() - t0
    leaves: list[float] = []  # the least row bound of every closed leaf (empty ones: none)
    queue, branch = _settle(net, maps, lo1, hi1, C, d, check, root, ops, xs, lam, leaves, res, dl)
    while res.status == "unknown" and not res.reason and len(queue):
        if dl.expired():
            res.reason = "the deadline came first"
            break
        if len(queue) > max_domains:
            res.reason = f"more than {max_domains} open domains"
            break
        order = np.argsort(queue.lower.min(axis=1), kind="stable")
        sel, rest = order[:batch], order[batch:]
        parents, bt, bj = queue.take(sel), branch[0][sel], branch[1][sel]
        queue, branch = queue.take(rest), (branch[0][rest], branch[1][rest])
        kids = _children(parents, bt, bj)
        B2 = len(kids)
        lo2, hi2 = np.broadcast_to(lo1, (B2, lo1.size)), np.broadcast_to(hi1, (B2, hi1.size))
        kb, empty = domain_bounds(net, maps, lo2, hi2, kids.bounds, kids.split, start=int(bt.min()) - 1)
        kids.bounds = kb
        res.domains += B2
        res.steps += 1
        res.depth = max(res.depth, int(kids.depth.max()))
        kids = kids.take(np.flatnonzero(~empty))
        if not len(kids):
            continue
        lo2, hi2 = lo2[: len(kids)], hi2[: len(kids)]
        ops = domain_ops(net, maps, lo2, hi2, kids.bounds, len(net.layers))
        _, xs, lam = optimise(ops, C, d, lo2, hi2, kids, steps, dl)
        more, mb = _settle(net, maps, lo1, hi1, C, d, check, kids, ops, xs, lam, leaves, res, dl)
        queue = Pool.concat(queue, more)
        branch = (np.concatenate([branch[0], mb[0]]), np.concatenate([branch[1], mb[1]]))
    res.open = len(queue)
    if res.status == "unknown" and not len(queue) and not res.reason:
        res.status = "holds"
        res.reason = f"every one of the {res.domains} domains is closed or split"
    if res.status != "violated":
        lows = leaves + (queue.lower.min(axis=1).tolist() if len(queue) else [])
        res.bound = float(min(lows)) if lows else None
    res.seconds["tree"] = time.perf_counter() - t0
    return res


def _children(parents: Pool, bt: np.ndarray, bj: np.ndarray) -> Pool:
    """Each parent twice: the unit (bt, bj) split active (first half) and inactive (second half); the bounds,
    multipliers and row bounds of the parent are valid on both (a child lies inside its parent)."""
    B = len(parents)
    idx = np.concatenate([np.arange(B), np.arange(B)])
    kids = parents.take(idx)
    kids.split = {t: s.copy() for t, s in kids.split.items()}
    sign = np.concatenate([np.ones(B, np.int8), -np.ones(B, np.int8)])
    tt, jj = np.concatenate([bt, bt]), np.concatenate([bj, bj])
    for t in np.unique(tt):
        rows = np.flatnonzero(tt == t)
        kids.split[int(t)][rows, jj[rows]] = sign[rows]
    kids.depth = kids.depth + 1
    return kids


def _settle(
    net: Network,
    maps: Maps,
    lo: np.ndarray,
    hi: np.ndarray,
    C: np.ndarray,
    d: np.ndarray,
    check: Check,
    pool: Pool,
    ops: list[BatchOp],
    xs: np.ndarray,
    lam: dict[int, np.ndarray],
    leaves: list[float],
    res: SplitResult,
    dl: Deadline,
) -> tuple[Pool, tuple[np.ndarray, np.ndarray]]:
    """The freshly bounded domains of ``pool``: closed ones recorded in ``leaves``, the open ones attacked
    (a counterexample ends the tree: ``res`` filled), exact ones decided by their LP; returns the open ones
    with their branching choice (an exact one stays open when its LP does not decide it or the deadline comes
    first; ``res.reason`` then stops the tree, and the open domains still count in its bound)."""
    none = (pool.take(np.zeros(0, int)), (np.zeros(0, int), np.zeros(0, int)))
    lowest = pool.lower.min(axis=1)
    closed = lowest > 0
    leaves.extend(lowest[closed].tolist())
    keep = np.flatnonzero(~closed)
    if not keep.size:
        return none
    hit = check(xs[keep].reshape(-1, xs.shape[-1]))
    if hit is not None:
        res.status, res.counterexample = "violated", np.asarray(hit, float)
        res.reason = "a corner of a domain's relaxation, re-checked, is a counterexample"
        return none
    pool = pool.take(keep)
    sub = [op if op.kind == "affine" else take_op(op, keep) for op in ops]
    bt, bj = choose(sub, {t: v[keep] for t, v in lam.items()}, pool.lower)
    exact = np.flatnonzero(bt < 0)
    still = np.ones(len(pool), bool)
    for e in exact:
        if dl.expired():
            res.reason = "the deadline came first"
            break
        res.lps += 1
        one = [(L[e : e + 1], U[e : e + 1]) for L, U in pool.bounds]
        out, val = _exact(net, maps, lo, hi, one, C, d, pool.lower[e] <= 0, check)
        if out == "violated":
            res.status, res.counterexample = "violated", np.asarray(val, float)
            res.reason = "the LP of a domain with every unit fixed gives a counterexample, re-checked"
            return none
        if out == "open":  # stays open (and counts in the bound); the tree stops
            res.reason = "an exact domain's LP is infeasible or its point failed the re-check (a tie)"
            break
        if isinstance(val, float):  # the least margin of the domain: its LP rows' and the rows closed before
            closed_rows = pool.lower[e][pool.lower[e] > 0]
            leaves.append(min([val, *closed_rows.tolist()]))
        still[e] = False
    live = np.flatnonzero(still)
    return pool.take(live), (bt[live], bj[live])
