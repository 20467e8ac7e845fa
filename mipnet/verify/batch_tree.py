"""Input branch-and-bound that bounds a batch of nodes per step (:func:`mipnet.verify.input_split.branch_and_bound`).

The tree of :mod:`mipnet.verify.input_split`, with every step taking the ``batch`` open boxes whose parent had
the lowest live row bound (best first: where a counterexample is likeliest) and deciding them together:

1. **bounds** (:mod:`mipnet.verify.batched_bounds`): per-layer CROWN bounds of all the boxes, each intersected
   with its parent's per-layer bounds (valid on the box, which lies inside the parent; kept in a pool until both
   children were bounded), only the units that this leaves unstable back-substituted, in each box's active
   coordinates (its unstable and active units only, :mod:`mipnet.verify.tree_bounds`: the same numbers with
   about 0.4x the arithmetic, where the net alternates dense and ReLU-type layers); then CROWN on the
   specification rows s_r(x) = a_r.x + b_r.y + c_r (one per atom). Disjunct p is closed on box b when some row r
   of p has lower bound > thr (thr = -delta, or 0 when delta = 0): then no x of the box satisfies p. A closed
   disjunct stays closed in the box's children (they lie inside it).
2. **alpha-CROWN** only on the boxes CROWN leaves open: ``NODE_STEPS`` projected gradient steps on the slopes of
   the specification's back-substitution, for all of them at once, stopping when every box is closed.
3. **attack** on the open boxes: the centre, the corners when there are at most ``ATTACK_CORNERS``, the
   corner x*_br that minimises each live row's linear lower bound (lo_i where Lam_bri >= 0, else hi_i) and
   ``ATTACK_SAMPLES`` uniform points, all in one forward pass; points whose atom values satisfy some disjunct up
   to 1e-5 go to the caller's exact re-check ``check(x, f(x))``, and a point it accepts is the counterexample.
4. **leaves and splits**: an open box with at most ``LEAF_UNSTABLE`` unstable ReLU-type units goes to the MILP
   (``leaf``) when ``LEAF_COST`` times a MILP leaf's cost (mean seconds so far; the first one is tried) is less
   than splitting is expected to cost: the box's lowest live bound ``low`` rose by g = (low - root's) / depth per
   split on average and must rise by thr - low more, so about 2^((thr - low) / g) nodes at the measured seconds
   per node. A box at depth
   ``depth_cap`` or a point is a leaf too (with all the time left; other MILP leaves get ``LEAF_SECONDS``, and a
   box whose MILP stops undecided is split instead); any other box is split in two at the middle of the input i
   maximising the smear (``BRANCHING = "smear"``, the default)

       w_bi * sum_{r live} max(|G-_bri|, |G+_bri|),     [G-, G+] ⊇ { d s_r / d x_i (x) : x in box b }

   (interval bounds of the input gradient, :func:`gradient_box`, on the box's per-layer bounds), or
   (``"crown"``) w_bi * sum_{r live} |Lam_bri| with the CROWN coefficients; the children lo <= x_i <= mid and
   mid <= x_i <= hi cover it. The smear counts how much the rows can vary along input i anywhere in the box,
   including the variation that the relaxation of the unstable units hides from Lam (measured on the controller
   nets of ``benchmarks/controller_boxes.py``: 5-8x fewer nodes to close the same box than ``"crown"``).
   A box far from closing, whose lowest live bound must still rise by more than ``MULTI_GAP`` times what its
   last split gained (low - parent's low), is split twice at once: at its two inputs of largest score, into 4
   boxes that cover it, the halves in between never bounded (they would almost never close; their children take
   the box's own per-layer bounds as prior).

"holds" (status "infeasible") only when the stack empties with every leaf closed; the deadline leaves the tree
"unknown" with its open boxes counted.

**Resuming and handing over** (:mod:`mipnet.verify.parallel_tree`): the tree may start from a :class:`Frontier`
(open boxes with their depths, live disjuncts and parents' bounds, e.g. another tree's) instead of the root, and
may stop early and return its open boxes as ``SplitTree.frontier`` (status "paused"): when the open boxes number
at least ``frontier``, or when ``pause(open boxes)`` says so. The open boxes together with the closed ones cover
the start, so a paused tree's box is safe exactly when every box of its frontier is; MILP leaves it left open
are counted in ``open_leaves`` as always.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

import numpy as np

from ..deadline import Deadline
from ..network import Network
from . import input_split as split
from .batched_bounds import BoundsB, layer_bounds, spec_alpha, spec_crown, take, unstable_counts
from .spec_bounds import ALPHA_STEPS, Maps
from .tree_bounds import active_layer_bounds, plan_ok

if TYPE_CHECKING:
    from .vnnlib import Atom

#: how the per-layer bounds of a node are computed: "active" (:func:`mipnet.verify.tree_bounds.active_layer_bounds`
#: where the network alternates affine and ReLU-type layers, else as "unstable") or a ``rows`` value of
#: :func:`mipnet.verify.batched_bounds.layer_bounds` ("unstable": the same numbers with more arithmetic)
ROWS = "active"
#: back-substitute the output's bounds of every node (False: only of the MILP leaves, which use them)
OUTPUT_BOUNDS = False
#: a MILP leaf is chosen when LEAF_COST times its mean cost is below the estimated subtree's (the estimate is
#: pessimistic: relaxation errors shrink faster than the box)
LEAF_COST = 4.0
#: seconds a MILP leaf may take before its box is split instead (leaves at the depth cap get all that is left)
LEAF_SECONDS = 2.0
#: intersect a box's per-layer bounds with its parent's (valid: the box lies inside its parent)
PARENT_BOUNDS = True
#: uniform points per open box, and the most corners of a box that are tried (all 2^n when 2^n is at most this)
ATTACK_SAMPLES = 16
ATTACK_CORNERS = 32
#: the split input: "crown" (width times the CROWN coefficients) or "smear" (width times the gradient's bounds)
BRANCHING = "smear"
#: a box whose bound must still rise by more than MULTI_GAP times what its last split gained is split twice at
#: once (4 boxes; inf: never), by more than 4 MULTI_GAP times three times at once, up to MULTI_SPLITS cuts
MULTI_GAP = 1.0
MULTI_SPLITS = 2
#: atom values up to this are handed to the exact re-check
CANDIDATE_TOL = 1e-5


@dataclass
class Frontier:
    """Open boxes of a tree, one row each: bounds ``lo``/``hi`` (B, n), ``depth`` (B,), the disjuncts still
    ``alive`` on each (B, P), ``key`` the lowest live bound of each box's parent (-inf: none), and the root's
    lowest live bound ``root_low`` (the subtree estimate's reference)."""

    lo: np.ndarray
    hi: np.ndarray
    depth: np.ndarray
    alive: np.ndarray
    key: np.ndarray
    root_low: float = -np.inf

    def __len__(self) -> int:
        return int(self.lo.shape[0])

    def take(self, rows: np.ndarray) -> "Frontier":
        """The boxes ``rows``."""
        return Frontier(self.lo[rows], self.hi[rows], self.depth[rows], self.alive[rows], self.key[rows], self.root_low)

    def parts(self, k: int) -> "list[Frontier]":
        """At most ``k`` non-empty parts that together hold every box, dealt in order of the key (each part gets
        some of the boxes likeliest to hold a counterexample and some of the easiest)."""
        order = np.argsort(self.key, kind="stable")
        return [self.take(order[j::k]) for j in range(min(k, len(self)))]


@dataclass
class SplitTree(split.TreeResult):
    """A tree's result; ``frontier`` holds the open boxes of a tree that stopped early (status "paused")."""

    frontier: Frontier | None = None


def _closed(lb: np.ndarray, own: np.ndarray, thr: float) -> np.ndarray:
    """(B, P): disjunct p has a row whose lower bound exceeds thr on box b."""
    return ((lb > thr)[:, None, :] & own[None]).any(axis=2)


class _Pool:
    """Per-layer bounds of split boxes, one row per box, shared by its two children (freed when both were
    taken): the children's prior bounds."""

    def __init__(self, sizes: list[int]) -> None:
        self.L = [np.empty((0, n)) for n in sizes]
        self.U = [np.empty((0, n)) for n in sizes]
        self.refs = np.zeros(0, dtype=int)
        self.size = 0
        self.free: list[int] = []

    def put(self, bounds: BoundsB, uses: np.ndarray | int = 2) -> np.ndarray:
        """Store the bounds of k boxes, each kept until it was taken ``uses`` times (its children)."""
        k = bounds[0][0].shape[0]
        reuse = [self.free.pop() for _ in range(min(k, len(self.free)))]
        new = np.arange(self.size, self.size + k - len(reuse))
        self.size += new.size
        if self.size > self.refs.size:  # grow the capacity by doubling
            extra = max(self.size, 2 * self.refs.size) - self.refs.size
            self.refs = np.concatenate([self.refs, np.zeros(extra, dtype=int)])
            self.L = [np.vstack([A, np.empty((extra, A.shape[1]))]) for A in self.L]
            self.U = [np.vstack([A, np.empty((extra, A.shape[1]))]) for A in self.U]
        rows = np.concatenate([np.array(reuse, dtype=int), new])
        for t, (lo, hi) in enumerate(bounds):
            self.L[t][rows], self.U[t][rows] = lo, hi
        self.refs[rows] = uses
        return rows

    def get(self, rows: np.ndarray) -> BoundsB:
        """The bounds of ``rows`` (-1: none, as -inf / inf), and one use of each row is released."""
        has = rows >= 0
        r = np.where(has, rows, 0)
        out = []
        for L, U in zip(self.L, self.U):
            if not self.size:
                out.append((np.full((rows.size, L.shape[1]), -np.inf), np.full((rows.size, L.shape[1]), np.inf)))
                continue
            out.append((np.where(has[:, None], L[r], -np.inf), np.where(has[:, None], U[r], np.inf)))
        np.subtract.at(self.refs, rows[has], 1)
        self.free.extend(int(i) for i in np.unique(rows[has]) if self.refs[i] == 0)
        return out


def gradient_box(
    net: Network, maps: Maps, bounds: BoundsB, C: np.ndarray, E: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Interval bounds [G-, G+] (B, m, n_in) of the input gradient of every row s_r = C_r f(x) + E_r x + d_r
    over each box, by interval arithmetic backwards: an affine layer maps [g-, g+] to
    [g- A+ + g+ A-, g+ A+ + g- A-]; a ReLU-type unit with input bounds [L, U] has derivative in [a, a] (U <= 0),
    [1, 1] (L >= 0) or [a, 1], and [g-, g+] * [dl, du] = [min(g- dl, g- du), max(g+ dl, g+ du)] (dl >= 0)."""
    B = bounds[0][0].shape[0]
    gl = np.broadcast_to(np.asarray(C, float), (B,) + C.shape).copy()
    gu = gl.copy()
    for i in range(len(net.layers) - 1, -1, -1):
        layer = net.layers[i]
        if layer.affine:
            A = np.asarray(maps[i][0])
            Ap, An = np.maximum(A, 0.0), np.minimum(A, 0.0)
            gl, gu = gl @ Ap + gu @ An, gu @ Ap + gl @ An
            continue
        a = float(layer.negative_slope)
        L, U = bounds[i - 1] if i else (None, None)
        assert L is not None and U is not None
        dl = np.where(L >= 0, 1.0, a)[:, None, :]
        du = np.where(U <= 0, a, 1.0)[:, None, :]
        gl, gu = np.minimum(gl * dl, gl * du), np.maximum(gu * dl, gu * du)
    return gl + E, gu + E


def split_scores(
    width: np.ndarray,
    coef: np.ndarray,
    live_rows: np.ndarray,
    grad: tuple[np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    """(B, n_in) how much each input's width costs the live rows: w_bi * sum_{r live} |Lam_bri| (the CROWN
    coefficients), or with ``grad`` the smear w_bi * sum_{r live} max(|G-_bri|, |G+_bri|) (:func:`gradient_box`);
    the widths when every score of a box is 0."""
    sens = np.abs(coef) if grad is None else np.maximum(np.abs(grad[0]), np.abs(grad[1]))
    score = width * (sens * live_rows[:, :, None]).sum(axis=1)
    return np.where((score > 0).any(axis=1, keepdims=True), score, width)


def split_dims(
    width: np.ndarray,
    coef: np.ndarray,
    live_rows: np.ndarray,
    grad: tuple[np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    """The input each box is split at: the argmax of :func:`split_scores`."""
    return np.argmax(split_scores(width, coef, live_rows, grad), axis=1)


def halve(lo: np.ndarray, hi: np.ndarray, dim: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The two halves of every box at the middle of input ``dim[b]``: (lo, hi) of 2B boxes, box b's halves at
    rows b (upper: mid <= x_i <= hi) and B + b (lower: lo <= x_i <= mid); together they cover the box."""
    g = np.arange(lo.shape[0])
    mid = 0.5 * (lo[g, dim] + hi[g, dim])
    left_hi, right_lo = hi.copy(), lo.copy()
    left_hi[g, dim], right_lo[g, dim] = mid, mid
    return np.vstack([right_lo, lo]), np.vstack([hi, left_hi])


def _subtree(low: np.ndarray, root: float, depth: np.ndarray, thr: float) -> np.ndarray:
    """Estimated nodes below a box if splitting goes on as it went from the root: the bound rose by
    g = (low - root) / depth per split on average, it must rise by thr - low more, about (thr - low) / g halvings
    more, 2^that nodes."""
    gain = np.maximum((low - root) / depth, 1e-12)
    with np.errstate(over="ignore", invalid="ignore"):
        return np.exp2(np.clip((thr - low) / gain, 0.0, 60.0))


def _attack(
    net: Network,
    lo: np.ndarray,
    hi: np.ndarray,
    coef: np.ndarray,
    live_rows: np.ndarray,
    rows: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    check: split.Check,
    rng: np.random.Generator,
) -> np.ndarray | None:
    """A re-checked counterexample among the attack points of the boxes (module docstring, step 3), or None."""
    B, n = lo.shape
    C, E, d, own = rows
    pts = [(lo + hi) / 2.0]
    if 2**n <= ATTACK_CORNERS:
        for corner in itertools.product((0, 1), repeat=n):
            pts.append(np.where(np.array(corner, bool), hi, lo))
    xs = np.where(coef >= 0, lo[:, None, :], hi[:, None, :])  # (B, m, n): the rows' minimising corners
    pts.extend(xs[:, r] for r in range(xs.shape[1]) if live_rows[:, r].any())
    pts.extend(np.moveaxis(rng.uniform(lo[:, None, :], hi[:, None, :], (B, ATTACK_SAMPLES, n)), 1, 0))
    X = np.stack(pts, axis=1).reshape(-1, n)
    Y = net.forward(X).reshape(X.shape[0], -1)
    S = Y @ C.T + X @ E.T + d  # the atom values
    ok = ((S <= CANDIDATE_TOL)[:, None, :] | ~own[None]).all(axis=2).any(axis=1)
    for j in np.flatnonzero(ok):  # the batch row and the point's own forward pass must both accept (rounding)
        if check(X[j], Y[j]) and check(X[j], net.forward(X[j][None]).reshape(-1)):
            return X[j].copy()
    return None


def batched_tree(
    net: Network,
    lo: np.ndarray,
    hi: np.ndarray,
    conjs: "list[list[Atom]]",
    check: split.Check,
    leaf: split.Leaf,
    delta: float,
    deadline: Deadline,
    depth_cap: int,
    maps: Maps,
    batch: int,
    *,
    start: Frontier | None = None,
    frontier: int | None = None,
    pause: Callable[[int], bool] | None = None,
) -> SplitTree:
    """The batched input branch-and-bound (module docstring); ``maps`` from
    :func:`mipnet.verify.batched_bounds.batch_plan`. From ``start`` instead of the box [lo, hi] when given;
    stopped with its open boxes (status "paused") once they number ``frontier`` or ``pause(count)`` is true."""
    out = SplitTree("infeasible")
    secs = out.seconds
    rng = np.random.default_rng(1)
    C, E, d, owner = split.spec_rows(conjs, net.n_inputs, net.n_outputs)
    own = np.zeros((len(conjs), C.shape[0]), dtype=bool)
    for p, rs in enumerate(owner):
        own[p, rs] = True
    rows = (C, E, d, own)
    thr = -delta if delta > 0 else 0.0
    if start is None:
        S_lo, S_hi = lo[None].astype(float), hi[None].astype(float)
        S_dep, S_alive = np.zeros(1, dtype=int), np.ones((1, len(conjs)), dtype=bool)
        S_key = np.full(1, -np.inf)  # the parent's lowest live row bound
    else:
        S_lo, S_hi, S_dep = start.lo.astype(float), start.hi.astype(float), start.depth.astype(int)
        S_alive, S_key = start.alive.astype(bool), start.key.astype(float)
    S_ref = np.full(S_lo.shape[0], -1)  # the row of the parent's per-layer bounds in the pool (-1: none)
    pool = _Pool([int(np.prod(s)) for s in net.shapes[1:]])
    active = ROWS == "active" and plan_ok(net)

    t_start = time.perf_counter()
    root_low = -np.inf if start is None else start.root_low  # the root's lowest live bound

    def tick(key: str, t: float) -> None:
        secs[key] = secs.get(key, 0.0) + time.perf_counter() - t

    while S_lo.shape[0]:
        if deadline.expired():
            out.status, out.open_leaves = "unknown", out.open_leaves + S_lo.shape[0]
            break
        if (frontier is not None and S_lo.shape[0] >= frontier) or (pause is not None and pause(S_lo.shape[0])):
            out.status = "paused"
            out.frontier = Frontier(S_lo, S_hi, S_dep, S_alive, S_key, root_low)
            return out
        b = min(batch, S_lo.shape[0])
        if b < S_lo.shape[0]:  # best first: the boxes whose bound is lowest
            pick = np.zeros(S_lo.shape[0], dtype=bool)
            pick[np.argpartition(S_key, b - 1)[:b]] = True
        else:
            pick = np.ones(S_lo.shape[0], dtype=bool)
        nlo, nhi, dep, alive, key, ref = S_lo[pick], S_hi[pick], S_dep[pick], S_alive[pick], S_key[pick], S_ref[pick]
        S_lo, S_hi, S_dep, S_alive, S_key = S_lo[~pick], S_hi[~pick], S_dep[~pick], S_alive[~pick], S_key[~pick]
        S_ref = S_ref[~pick]
        prior = pool.get(ref) if PARENT_BOUNDS else None
        first = start is None and out.nodes == 0
        out.nodes += b
        t = time.perf_counter()
        if active:
            bounds, ops = active_layer_bounds(net, nlo, nhi, maps, prior, OUTPUT_BOUNDS)
        else:
            bounds, ops = layer_bounds(net, nlo, nhi, maps, "unstable" if ROWS == "active" else ROWS, prior)
        tick("bounds", t)
        t = time.perf_counter()
        lb, coef = spec_crown(ops, bounds, C, E, d, nlo, nhi)
        alive = alive & ~_closed(lb, own, thr)
        tick("crown", t)
        idx = np.flatnonzero(alive.any(axis=1))
        steps = ALPHA_STEPS if first else split.NODE_STEPS
        if idx.size and steps > 0:
            t = time.perf_counter()
            sub_alive = alive[idx]

            def done(best: np.ndarray, sub_alive: np.ndarray = sub_alive) -> np.ndarray:
                return ~(sub_alive & ~_closed(best, own, thr)).any(axis=1)

            best, c2 = spec_alpha(take(ops, idx), C, E, d, nlo[idx], nhi[idx], lb[idx], coef[idx], steps, done)
            lb[idx], coef[idx] = best, c2
            alive = alive & ~_closed(lb, own, thr)
            idx = np.flatnonzero(alive.any(axis=1))
            tick("alpha-crown", t)
        if not idx.size:
            continue
        nlo, nhi, dep, alive, lb, coef, key = nlo[idx], nhi[idx], dep[idx], alive[idx], lb[idx], coef[idx], key[idx]
        bounds = [(L[idx], U[idx]) for L, U in bounds]
        live_rows = (lb <= thr) & (alive.astype(float) @ own.astype(float) > 0)
        t = time.perf_counter()
        x = _attack(net, nlo, nhi, coef, live_rows, rows, check, rng)
        tick("attack", t)
        if x is not None:
            out.status, out.x, out.stage = "violated", x, "split"
            return out
        width = nhi - nlo
        low = np.where(live_rows, lb, np.inf).min(axis=1)
        if first:
            root_low = float(low.min())
        est = _subtree(low, root_low, np.maximum(dep, 1), thr)
        few = unstable_counts(net, bounds) <= split.LEAF_UNSTABLE
        forced = (dep >= depth_cap) | np.all(width <= 0, axis=1)
        is_leaf = forced.copy()
        node_rate = (time.perf_counter() - t_start - secs.get("milp", 0.0)) / out.nodes
        for j in np.flatnonzero(few | is_leaf):
            if not is_leaf[j]:  # few unstable units: the MILP when it is cheaper than the subtree's estimate
                if out.milp_leaves and LEAF_COST * secs["milp"] / out.milp_leaves > est[j] * node_rate:
                    continue
                is_leaf[j] = True
            if deadline.expired():
                out.status, out.open_leaves = "unknown", out.open_leaves + 1
                continue
            t = time.perf_counter()
            jb = [(L[j : j + 1], U[j : j + 1]) for L, U in bounds]
            if active and not OUTPUT_BOUNDS:  # the output's bounds by back-substitution, for this leaf only
                jb = active_layer_bounds(net, nlo[j : j + 1], nhi[j : j + 1], maps, jb)[0]
            nb = [(L[0].reshape(s), U[0].reshape(s)) for (L, U), s in zip(jb, net.shapes[1:])]
            cap = deadline if forced[j] else deadline.sub(LEAF_SECONDS)
            status, w = leaf(nlo[j], nhi[j], [conjs[p] for p in np.flatnonzero(alive[j])], nb, cap)
            tick("milp", t)
            out.milp_leaves += 1
            if status == "infeasible":
                continue
            if w is not None and check(w, net.forward(w[None])[0]):
                out.status, out.x, out.stage = "violated", w, "milp"
                return out
            if w is not None:
                out.boundary = w
            if not forced[j] and not deadline.expired():  # the MILP ran out of its share: split the box instead
                is_leaf[j] = False
                continue
            out.status, out.open_leaves = "unknown", out.open_leaves + 1
        go = np.flatnonzero(~is_leaf)
        if not go.size:
            continue
        grad = gradient_box(net, maps, [(L[go], U[go]) for L, U in bounds], C, E) if BRANCHING == "smear" else None
        score = split_scores(width[go], coef[go], live_rows[go], grad)
        order = np.argsort(-score, axis=1, kind="stable")
        # far from closing (the bound must still rise by more than MULTI_GAP times what the last split gained, or
        # 4x that for a third cut): cut at the inputs of largest score one after the other, without bounding the
        # boxes in between (they would almost never close)
        g = np.arange(go.size)
        cuts = np.ones(go.size, dtype=int)
        if np.isfinite(MULTI_GAP):
            prev = np.isfinite(key[go])
            rise = np.maximum(np.where(prev, low[go] - key[go], 0.0), 0.0)
            for extra in range(1, min(MULTI_SPLITS, lo.size)):
                more = prev & (cuts == extra) & (thr - low[go] > MULTI_GAP * 4.0 ** (extra - 1) * rise)
                cuts += more & (score[g, order[:, extra]] > 0) & (dep[go] + extra + 1 <= depth_cap)
        c_lo, c_hi, parent = nlo[go], nhi[go], g
        for level in range(int(cuts.max())):
            cut = cuts[parent] > level
            h_lo, h_hi = halve(c_lo[cut], c_hi[cut], order[parent[cut], level])
            c_lo, c_hi = np.vstack([c_lo[~cut], h_lo]), np.vstack([c_hi[~cut], h_hi])
            parent = np.concatenate([parent[~cut], np.tile(parent[cut], 2)])
        splits = cuts[parent]
        S_lo, S_hi = np.vstack([S_lo, c_lo]), np.vstack([S_hi, c_hi])
        S_dep = np.concatenate([S_dep, dep[go][parent] + splits])
        S_alive = np.vstack([S_alive, alive[go][parent]])
        S_key = np.concatenate([S_key, low[go][parent]])
        uses = np.bincount(parent, minlength=go.size)
        rows_go = pool.put([(L[go], U[go]) for L, U in bounds], uses) if PARENT_BOUNDS else np.full(go.size, -1)
        S_ref = np.concatenate([S_ref, rows_go[parent]])
    if out.status == "infeasible" and out.open_leaves:
        out.status = "unknown"
    return out
