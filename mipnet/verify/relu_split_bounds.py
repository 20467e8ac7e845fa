"""Bounding the domains of the ReLU-split tree (:mod:`mipnet.verify.relu_split`) and choosing their splits.

A domain is the input box X = [lo, hi] with split constraints on unstable units j of gated layer t (input z_tj,
the output of affine layer t - 1): active z_tj >= 0 (sign s_tj = +1), inactive z_tj <= 0 (s_tj = -1). B domains
are bounded together, with a leading batch axis on every array.

**Per-layer bounds of a domain** (valid on its feasible set F = { x in X : every split holds }): interval
arithmetic on the previous layer's bounds, intersected with the parent's bounds (F lies inside the parent's), then
the split: active sets L_tj <- max(L_tj, 0), inactive U_tj <- min(U_tj, 0); the units that are still unstable
(L < 0 < U) are bounded again by back-substituting +e_j and -e_j through the layers before (CROWN, each gated unit
relaxed on the domain's bounds; a split unit is then exact: slope 1 or a). Layers before the first split layer
keep the parent's bounds. Any L_tj > U_tj proves F empty: the domain is closed.

**Spec bound of a domain** (CROWN with alpha and beta): the back-substitution of the rows (mipnet.verify.
spec_bounds, per domain and row) with, at every gated layer t, the Lagrangian terms of the split constraints
(s_tj z_tj >= 0 on F, so for every beta >= 0)

    min_F s_r(x)  >=  min_{x in X, relaxation}  s_r(x) - sum_{t,j} beta_rtj s_tj z_tj(x),

i.e. after the relaxation step of layer t the coefficient of z_t becomes Lam_rt - beta_rt * s_t. Every choice of
the lower slopes alpha in [a, 1] of unstable units and of beta >= 0 gives a sound bound (the paper
"Beta-CROWN: Efficient Bound Propagation with Per-neuron Split Constraints for Neural Network Robustness
Verification"); both are improved by projected Adam (super)gradient steps, with the analytic gradients (the
corner x*_r of the input box forward through the chosen lines, v_t its value at layer t's input)

    d b_r / d alpha_rtj = Lam+_rtj v_rtj,          d b_r / d beta_rtj = -s_tj v_rtj,

projected on alpha in [a, 1], beta >= 0; children start from their parent's alpha and beta (warm start; the new
split's beta is 0) and the best bound of each row is kept. Bounds are lowered by the round-off margin of
:data:`mipnet.bounds.SAFETY` as everywhere. A domain is **closed** when every row's bound is > 0.

**Branching** (the BaBSR score of "Branch and Bound for Piecewise Linear Neural Network
Verification"): for an unstable unit j of layer t with upper line su z + bu (bu = -su L > 0) and the coefficient
Lam_rtj of its output in row r's back-substitution, splitting removes the intercept Lam-_rtj bu_j from the bound
and changes the unit's slope; the score is

    sum_{r live} ( -Lam-_rtj bu_j  +  |Lam_rtj| * min(-L_j, U_j) * 1e-3 )

(the second term ranks units that no negative coefficient touches; live rows: bound <= 0). The unit of largest
score is split.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..bounds import SAFETY
from ..deadline import Deadline
from ..network import Network
from .batched_bounds import BatchOp, batch_plan
from .spec_bounds import Maps, gated_lines

#: Adam step sizes of alpha and beta
LR_ALPHA = 0.1
LR_BETA = 0.05

BoundsB = list[tuple[np.ndarray, np.ndarray]]


@dataclass
class Pool:
    """B domains: per-layer bounds (B, n_i), split signs per gated layer (B, n) in {-1, 0, 1}, alpha and beta
    per gated layer (B, m, n), the rows' best bounds (B, m), the depth (B,)."""

    bounds: BoundsB
    split: dict[int, np.ndarray]
    alpha: dict[int, np.ndarray]
    beta: dict[int, np.ndarray]
    lower: np.ndarray
    depth: np.ndarray

    def __len__(self) -> int:
        return int(self.lower.shape[0])

    def take(self, idx: np.ndarray) -> "Pool":
        return Pool(
            [(L[idx], U[idx]) for L, U in self.bounds],
            {t: s[idx] for t, s in self.split.items()},
            {t: a[idx] for t, a in self.alpha.items()},
            {t: b[idx] for t, b in self.beta.items()},
            self.lower[idx],
            self.depth[idx],
        )

    @staticmethod
    def concat(a: "Pool", b: "Pool") -> "Pool":
        if len(a) == 0:
            return b
        if len(b) == 0:
            return a
        cat = np.concatenate
        return Pool(
            [(cat([La, Lb]), cat([Ua, Ub])) for (La, Ua), (Lb, Ub) in zip(a.bounds, b.bounds)],
            {t: cat([a.split[t], b.split[t]]) for t in a.split},
            {t: cat([a.alpha[t], b.alpha[t]]) for t in a.alpha},
            {t: cat([a.beta[t], b.beta[t]]) for t in a.beta},
            cat([a.lower, b.lower]),
            cat([a.depth, b.depth]),
        )


def supported(net: Network) -> Maps | None:
    """The dense affine maps when ``net`` is made of affine and ReLU-type layers only and does not start with a
    ReLU-type layer (whose units, on the inputs, the tree does not split); else None: no tree."""
    if not net.layers or net.layers[0].gated:
        return None
    return batch_plan(net)


def gated_layers(net: Network) -> list[int]:
    return [t for t, layer in enumerate(net.layers) if layer.gated]


def domain_ops(net: Network, maps: Maps, lo: np.ndarray, hi: np.ndarray, bounds: BoundsB, upto: int) -> list[BatchOp]:
    """The layers 0..upto-1 of every domain: affine maps, gated units relaxed on their input bounds."""
    ops: list[BatchOp] = []
    for i in range(upto):
        layer = net.layers[i]
        if layer.affine:
            A, c = maps[i]
            ops.append(BatchOp("affine", A=np.asarray(A), c=c))
        else:
            L, U = bounds[i - 1] if i else (lo, hi)
            sl, _, su, bu = gated_lines(float(layer.negative_slope), L, U)
            ops.append(BatchOp("gated", sl=sl, su=su, bu=bu, free=(L < 0) & (U > 0), amin=float(layer.negative_slope)))
    return ops


def backward(
    ops: list[BatchOp],
    C: np.ndarray,
    d: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    alpha: dict[int, np.ndarray] | None = None,
    beta: dict[int, np.ndarray] | None = None,
    split: dict[int, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray, dict[int, np.ndarray], dict[int, np.ndarray]]:
    """Back-substitution of the rows C (m, n_out) or (B, m, n_out) with the beta terms (module docstring):
    (bounds (B, m), corners x* (B, m, n_in), Lam+ at every gated layer's output, Lam at every gated layer's
    output). ``lo``, ``hi``: (B, n_in)."""
    B = lo.shape[0]
    Lam = np.broadcast_to(np.asarray(C, dtype=np.float64), (B,) + np.shape(C)[-2:]).copy()
    k = np.broadcast_to(np.asarray(d, dtype=np.float64), Lam.shape[:2]).copy()
    lam_out: dict[int, np.ndarray] = {}
    alpha, beta, split = alpha or {}, beta or {}, split or {}
    for t in range(len(ops) - 1, -1, -1):
        op = ops[t]
        if op.kind == "affine":
            assert op.A is not None and op.c is not None
            k += Lam @ op.c
            Lam = Lam @ op.A
            continue
        assert op.sl is not None and op.su is not None and op.bu is not None and op.free is not None
        lam_out[t] = Lam
        N = np.minimum(Lam, 0.0)
        k += np.einsum("bmn,bn->bm", N, op.bu)
        slope = op.sl[:, None, :] if t not in alpha else np.where(op.free[:, None, :], alpha[t], op.sl[:, None, :])
        Lam = Lam * slope + N * (op.su[:, None, :] - slope)
        if t in beta:
            Lam = Lam - beta[t] * split[t][:, None, :]
    xs = np.where(Lam >= 0, lo[:, None, :], hi[:, None, :])
    terms = Lam * xs
    b = k + terms.sum(axis=2)
    b = b - SAFETY * (1.0 + np.abs(b) + np.abs(terms).sum(axis=2))
    return b, xs, {t: np.maximum(v, 0.0) for t, v in lam_out.items()}, lam_out


def gradients(
    ops: list[BatchOp],
    xs: np.ndarray,
    pos: dict[int, np.ndarray],
    alpha: dict[int, np.ndarray],
    split: dict[int, np.ndarray],
) -> tuple[dict[int, np.ndarray], dict[int, np.ndarray]]:
    """(d b / d alpha, d b / d beta) of every gated layer: x* forward through the chosen lines."""
    V = xs
    ga: dict[int, np.ndarray] = {}
    gb: dict[int, np.ndarray] = {}
    for t, op in enumerate(ops):
        if op.kind == "affine":
            assert op.A is not None and op.c is not None
            V = V @ op.A.T + op.c
            continue
        assert op.sl is not None and op.su is not None and op.bu is not None and op.free is not None
        free = op.free[:, None, :]
        if t in alpha:
            ga[t] = np.where(free, pos[t] * V, 0.0)
            gb[t] = -split[t][:, None, :] * V
        slope = op.sl[:, None, :] if t not in alpha else np.where(free, alpha[t], op.sl[:, None, :])
        V = np.where(pos[t] > 0, slope * V, op.su[:, None, :] * V + op.bu[:, None, :])
    return ga, gb


def _refine(
    ops: list[BatchOp], L: np.ndarray, U: np.ndarray, lo: np.ndarray, hi: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """L, U of an affine layer's output with the unstable units (per domain) bounded by back-substituting
    +e_j and -e_j through ``ops`` (padded with zero rows to the largest count), intersected."""
    B, n = L.shape
    amb = (L < 0) & (U > 0)
    r = int(amb.sum(axis=1).max()) if B else 0
    if r == 0:
        return L, U
    order = np.argsort(~amb, axis=1, kind="stable")[:, :r]
    valid = np.take_along_axis(amb, order, axis=1)
    rows = np.zeros((B, r, n))
    bi, ri = np.nonzero(valid)
    rows[bi, ri, order[bi, ri]] = 1.0
    b = backward(ops, np.concatenate([rows, -rows], axis=1), np.zeros(2 * r), lo, hi)[0]
    L, U = L.copy(), U.copy()
    cols = order[bi, ri]
    L[bi, cols] = np.maximum(L[bi, cols], b[bi, ri])
    U[bi, cols] = np.minimum(U[bi, cols], -b[bi, r + ri])
    return L, U


def domain_bounds(
    net: Network,
    maps: Maps,
    lo: np.ndarray,
    hi: np.ndarray,
    prior: BoundsB,
    split: dict[int, np.ndarray],
    start: int = 0,
) -> tuple[BoundsB, np.ndarray]:
    """Per-layer bounds of B domains (module docstring) and a mask (B,) of domains proved empty. ``prior``:
    bounds valid on each domain (its parent's, or the box's); layers before ``start`` keep them. ``lo``, ``hi``:
    (B, n_in)."""
    B = lo.shape[0]
    out: BoundsB = [(p[0].copy(), p[1].copy()) for p in prior[:start]]
    empty = np.zeros(B, bool)
    for i in range(start, len(net.layers)):
        layer = net.layers[i]
        Lp, Up = out[i - 1] if i else (lo, hi)
        ilo, ihi = layer.interval(Lp.reshape((B,) + net.shapes[i]), Up.reshape((B,) + net.shapes[i]))
        L = np.maximum(np.asarray(ilo, float).reshape(B, -1), prior[i][0])
        U = np.minimum(np.asarray(ihi, float).reshape(B, -1), prior[i][1])
        s = split.get(i + 1)
        if s is not None:
            L, U = np.where(s > 0, np.maximum(L, 0.0), L), np.where(s < 0, np.minimum(U, 0.0), U)
        if layer.affine and i > 0 and any(not net.layers[q].affine for q in range(i)):
            L, U = _refine(domain_ops(net, maps, lo, hi, out, i + 1), L, U, lo, hi)
        empty |= np.any(L > U, axis=1)
        out.append((L, np.maximum(U, L)))
    return out, empty


def optimise(
    ops: list[BatchOp],
    C: np.ndarray,
    d: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    pool: Pool,
    steps: int,
    dl: Deadline,
) -> tuple[np.ndarray, np.ndarray, dict[int, np.ndarray]]:
    """CROWN with the pool's alpha / beta, then ``steps`` projected Adam steps on both: (best bounds (B, m), the
    corners x* of the last iterate (B, m, n_in), Lam at every gated layer's output of the last iterate). The
    pool's alpha, beta and lower are updated in place (lower: never below its current value)."""
    gated = [t for t, op in enumerate(ops) if op.kind == "gated"]
    alpha = {t: pool.alpha[t] for t in gated}
    beta = {t: pool.beta[t] for t in gated}
    split = {t: pool.split[t] for t in gated}
    b, xs, pos, lam = backward(ops, C, d, lo, hi, alpha, beta, split)
    best = np.maximum(pool.lower, b)
    mom = {("a", t): np.zeros_like(alpha[t]) for t in gated} | {("b", t): np.zeros_like(beta[t]) for t in gated}
    var = {key: np.zeros_like(v) for key, v in mom.items()}
    best_a = {t: alpha[t].copy() for t in gated}
    best_b = {t: beta[t].copy() for t in gated}
    for it in range(1, steps + 1):
        if bool(np.all(best.min(axis=1) > 0)) or dl.expired():
            break
        ga, gb = gradients(ops, xs, pos, alpha, split)
        for t in gated:
            for key, g, lr in ((("a", t), ga[t], LR_ALPHA), (("b", t), gb[t], LR_BETA)):
                mom[key] = 0.9 * mom[key] + 0.1 * g
                var[key] = 0.999 * var[key] + 0.001 * g * g
                step = lr * (mom[key] / (1 - 0.9**it)) / (np.sqrt(var[key] / (1 - 0.999**it)) + 1e-12)
                if key[0] == "a":
                    alpha[t] = np.clip(alpha[t] + step, ops[t].amin, 1.0)
                else:
                    beta[t] = np.maximum(beta[t] + step, 0.0) * (split[t][:, None, :] != 0)
        b, xs, pos, lam = backward(ops, C, d, lo, hi, alpha, beta, split)
        better = b > best
        best = np.where(better, b, best)
        for t in gated:  # keep each row's best multipliers for the children's warm start
            best_a[t] = np.where(better[:, :, None], alpha[t], best_a[t])
            best_b[t] = np.where(better[:, :, None], beta[t], best_b[t])
    pool.alpha.update(best_a)
    pool.beta.update(best_b)
    pool.lower = best
    return best, xs, lam


def _scores(ops: list[BatchOp], lam: dict[int, np.ndarray], lower: np.ndarray) -> tuple[np.ndarray, list[int]]:
    """Branching scores (B, total units of splittable gated layers) and the layer of each column block's
    start (module docstring); units that are not unstable score -1."""
    live = (lower <= 0)[:, :, None]
    cols, layers = [], []
    for t, op in enumerate(ops):
        if op.kind != "gated" or t == 0:
            continue
        assert op.bu is not None and op.su is not None and op.free is not None
        Lt = lam[t]
        width = np.where(op.free, op.bu / np.maximum(op.su, 1e-12), 0.0)  # -L on unstable units
        inter = (-np.minimum(Lt, 0.0) * op.bu[:, None, :] * live).sum(axis=1)
        up = np.where(op.free, (op.bu / np.maximum(1.0 - op.su, 1e-12)), 0.0)  # U on unstable units (a = 0)
        tie = (np.abs(Lt) * live).sum(axis=1) * np.minimum(width, np.abs(up)) * 1e-3
        cols.append(np.where(op.free, inter + tie, -1.0))
        layers.append(t)
    return (np.concatenate(cols, axis=1) if cols else np.zeros((lower.shape[0], 0))), layers


def choose(ops: list[BatchOp], lam: dict[int, np.ndarray], lower: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(layer t, unit j) of the split of every domain; t = -1 where no unit is unstable (an exact domain)."""
    sc, layers = _scores(ops, lam, lower)
    B = lower.shape[0]
    if sc.shape[1] == 0:
        return np.full(B, -1), np.zeros(B, int)
    sizes = [lam[t].shape[2] for t in layers]
    starts = np.concatenate([[0], np.cumsum(sizes)])
    col = np.argmax(sc, axis=1)
    blk = np.searchsorted(starts, col, side="right") - 1
    t = np.asarray(layers)[blk]
    j = col - starts[blk]
    t = np.where(sc[np.arange(B), col] < 0, -1, t)
    return t, j


def take_op(op: BatchOp, idx: np.ndarray) -> BatchOp:
    assert op.sl is not None and op.su is not None and op.bu is not None and op.free is not None
    return BatchOp("gated", sl=op.sl[idx], su=op.su[idx], bu=op.bu[idx], free=op.free[idx], amin=op.amin)
