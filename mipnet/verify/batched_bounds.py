"""CROWN and alpha-CROWN over a batch of B input boxes at once (the input branch-and-bound's node bounds).

The same bounds as :func:`mipnet.verify.spec_bounds.crown_bounds` and :func:`mipnet.verify.spec_bounds.spec_bounds`
(see that module for the derivation), computed for B boxes [lo_b, hi_b] in one pass of numpy array operations
with a leading batch axis: per-layer bounds (B, n), back-substituted coefficients (B, rows, n). For networks
made of affine layers (dense maps) and ReLU-type layers only (:func:`batch_plan` returns None otherwise, and the
caller bounds one box at a time).

Per-layer bounds. For every affine layer i after a ReLU-type layer, the rows +I and -I are back-substituted
through the layers before it, each ReLU-type unit relaxed on its own box's bounds [L_bj, U_bj]

    lower line  sl_bj z    (sl = 1 if U > -L else a; 1 / a on stable units)
    upper line  su_bj z + bu_bj    (the chord (U - aL)/(U - L) (z - L) + aL of an unstable unit),

and at the input each row r gives b_br = k_br + sum_i min(Lam_bri lo_bi, Lam_bri hi_bi), lowered by the round-off
margin 1e-6 (1 + |b| + sum_i |Lam_bri x*_bri|). The layer's bounds are [max(interval, b_+), min(interval, -b_-)].

Specification rows s_r(x) = C_r f(x) + E_r x + d_r (the same rows for every box): CROWN's b_br as above, never
below the interval bound C+ L_out + C- U_out + E+ lo + E- hi + d. alpha-CROWN: each unstable unit's lower slope
alpha_brj in [a, 1] is free per box, row and unit; d b_br / d alpha_brj = Lam+_brj v_brj (v the forward pass of
the corner x*_br through the chosen lines), projected Adam ascent, the best bound of each row kept (every iterate
is a proved bound). Everything here is a sound lower bound over the whole box; nothing is clipped or shrunk.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from ..bounds import SAFETY
from ..network import Network
from .spec_bounds import ALPHA_LR, DENSE_ENTRIES, Maps, affine_maps, gated_lines

BoundsB = list[tuple[np.ndarray, np.ndarray]]


@dataclass
class BatchOp:
    """One layer of a batch: ``affine`` (dense A (q, p), c (q,)) or ``gated`` lines per box: sl, su, bu (B, n),
    ``free`` (B, n) the unstable units (lower slope free in [amin, 1])."""

    kind: str
    A: np.ndarray | None = None
    c: np.ndarray | None = None
    sl: np.ndarray | None = None
    su: np.ndarray | None = None
    bu: np.ndarray | None = None
    free: np.ndarray | None = None
    amin: float = 0.0


def batch_plan(net: Network, maps: Maps | None = None) -> Maps | None:
    """The dense affine maps of ``net`` when every layer is affine (dense when at most ``DENSE_ENTRIES``
    entries) or ReLU-type; None otherwise (the batched bounds do not apply)."""
    maps = affine_maps(net) if maps is None else maps
    dense: Maps = {}
    for i, layer in enumerate(net.layers):
        if layer.affine:
            A, c = maps[i]
            if not isinstance(A, np.ndarray):
                if A.shape[0] * A.shape[1] > DENSE_ENTRIES:
                    return None
                A = A.toarray()
            dense[i] = (A, c)
        elif not layer.gated:
            return None
    return dense


def _gated_op(a: float, L: np.ndarray, U: np.ndarray) -> BatchOp:
    sl, _, su, bu = gated_lines(a, L, U)
    return BatchOp("gated", sl=sl, su=su, bu=bu, free=(L < 0) & (U > 0), amin=a)


def backward(
    ops: list[BatchOp],
    C: np.ndarray,
    E: np.ndarray,
    d: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    alphas: dict[int, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[int, np.ndarray]]:
    """Back-substitution of the rows (C, E, d) (the same for every box, or (B, m, n) per box) through ``ops``
    over the boxes [lo_b, hi_b] (B, n_in): (bounds (B, m), input coefficients Lam (B, m, n_in), corners x*
    (B, m, n_in), Lam+ at every ReLU-type layer's output when ``alphas`` is given (empty otherwise))."""
    B = lo.shape[0]
    alphas = {} if alphas is None else alphas
    Lam: np.ndarray = np.asarray(C, dtype=np.float64)
    k = np.broadcast_to(np.asarray(d, dtype=np.float64), (B, Lam.shape[-2])).copy()
    pos: dict[int, np.ndarray] = {}
    for t in range(len(ops) - 1, -1, -1):
        op = ops[t]
        if op.kind == "affine":
            assert op.A is not None and op.c is not None
            k = k + Lam @ op.c
            Lam = (Lam.reshape(-1, Lam.shape[-1]) @ op.A).reshape(Lam.shape[:-1] + (op.A.shape[1],))
            continue
        assert op.sl is not None and op.su is not None and op.bu is not None and op.free is not None
        if Lam.ndim == 2:
            Lam = np.broadcast_to(Lam, (B,) + Lam.shape)
        N = np.minimum(Lam, 0.0)
        if alphas:  # Lam+ for the alpha gradient
            pos[t] = Lam - N
        k = k + np.matmul(N, op.bu[:, :, None])[:, :, 0]
        # Lam+ sl + Lam- su = Lam sl + Lam- (su - sl), in place (fresh temporaries of this size cost more than
        # the arithmetic)
        slope = op.sl[:, None, :] if t not in alphas else np.where(op.free[:, None, :], alphas[t], op.sl[:, None, :])
        out = Lam * slope
        N *= op.su[:, None, :] - slope
        out += N
        Lam = out
    if Lam.ndim == 2:
        Lam = np.broadcast_to(Lam, (B,) + Lam.shape)
    Lam = Lam + E
    xs = np.where(Lam >= 0, lo[:, None, :], hi[:, None, :])
    terms = Lam * xs
    b = k + terms.sum(axis=2)
    b = b - SAFETY * (1.0 + np.abs(b) + np.abs(terms).sum(axis=2))
    return b, Lam, xs, pos


def interval_step(
    layer: Any, in_shape: tuple[int, ...], L: np.ndarray, U: np.ndarray, prior: tuple[np.ndarray, np.ndarray] | None
) -> tuple[np.ndarray, np.ndarray]:
    """The interval bound (B, n) of ``layer``'s output over the boxes [L, U] (B, prod(in_shape)) of its input,
    intersected with ``prior`` (bounds known to hold on each box) when given."""
    B = L.shape[0]
    ilo, ihi = layer.interval(L.reshape((B,) + in_shape), U.reshape((B,) + in_shape))
    nlo, nhi = np.asarray(ilo, float).reshape(B, -1), np.asarray(ihi, float).reshape(B, -1)
    if prior is not None:
        nlo, nhi = np.maximum(nlo, prior[0]), np.minimum(nhi, prior[1])
    return nlo, nhi


def layer_bounds(
    net: Network, lo: np.ndarray, hi: np.ndarray, maps: Maps, rows: str = "all", prior: BoundsB | None = None
) -> tuple[BoundsB, list[BatchOp]]:
    """Every layer's output bounds over each box (B, n_i) and the layers' relaxations (for :func:`spec_crown`).
    ``maps`` from :func:`batch_plan`. ``rows="all"``: every unit of an affine layer is back-substituted, equal to
    :func:`crown_bounds` box by box; ``rows="unstable"``: only the units that the interval bound leaves
    unstable (L < 0 < U) before a ReLU-type layer (the others keep the interval bound: sound, and the relaxation
    of a stable unit does not depend on its bounds), and all units of the last layer. ``prior``: bounds known to
    hold on each box (e.g. the parent box's bounds in a branch-and-bound tree: the box lies inside its parent),
    intersected with the interval bounds before the unstable units are chosen, and with the result."""
    L, U = lo, hi
    ops: list[BatchOp] = []
    out: BoundsB = []
    for i, layer in enumerate(net.layers):
        nlo, nhi = interval_step(layer, net.shapes[i], L, U, None if prior is None else prior[i])
        if layer.affine:
            A, c = maps[i]
            ops.append(BatchOp("affine", A=np.asarray(A), c=c))
            if layer.passthrough:
                nlo, nhi = L, U
            elif any(op.kind != "affine" for op in ops):
                last = i + 1 == len(net.layers)
                if rows == "all" or last:
                    n = nlo.shape[1]
                    eye = np.eye(n)
                    E0 = np.zeros((2 * n, lo.shape[1]))
                    b = backward(ops, np.vstack([eye, -eye]), E0, np.zeros(2 * n), lo, hi)[0]
                    nlo, nhi = np.maximum(nlo, b[:, :n]), np.minimum(nhi, -b[:, n:])
                else:
                    nlo, nhi = _refine_unstable(ops, nlo, nhi, lo, hi)
        else:
            ops.append(_gated_op(float(layer.negative_slope), L, U))
        nhi = np.maximum(nhi, nlo)
        out.append((nlo, nhi))
        L, U = nlo, nhi
    return out, ops


def _refine_unstable(
    ops: list[BatchOp], nlo: np.ndarray, nhi: np.ndarray, lo: np.ndarray, hi: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Back-substitute the rows +e_j, -e_j of the units j with nlo_bj < 0 < nhi_bj only (per box; padded with
    zero rows to the largest count) and intersect their interval bounds with the result."""
    B, n = nlo.shape
    amb = (nlo < 0) & (nhi > 0)
    r = int(amb.sum(axis=1).max()) if B else 0
    if r == 0:
        return nlo, nhi
    order = np.argsort(~amb, axis=1, kind="stable")[:, :r]  # the unstable units first
    valid = np.take_along_axis(amb, order, axis=1)
    rows = np.zeros((B, r, n))
    bi, ri = np.nonzero(valid)
    rows[bi, ri, order[bi, ri]] = 1.0
    b = backward(ops, np.concatenate([rows, -rows], axis=1), np.zeros((2 * r, lo.shape[1])), np.zeros(2 * r), lo, hi)[0]
    nlo, nhi = nlo.copy(), nhi.copy()
    cols = order[bi, ri]
    nlo[bi, cols] = np.maximum(nlo[bi, cols], b[bi, ri])
    nhi[bi, cols] = np.minimum(nhi[bi, cols], -b[bi, r + ri])
    return nlo, nhi


def unstable_counts(net: Network, bounds: BoundsB) -> np.ndarray:
    """Unstable ReLU-type units (L < 0 < U at a gated layer's input) of every box: (B,)."""
    n = np.zeros(bounds[0][0].shape[0], dtype=int)
    for i, layer in enumerate(net.layers):
        if layer.gated and i > 0:
            L, U = bounds[i - 1]
            n += np.count_nonzero((L < 0) & (U > 0), axis=1)
    return n


def spec_crown(
    ops: list[BatchOp],
    bounds: BoundsB,
    C: np.ndarray,
    E: np.ndarray,
    d: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """(lower bounds (B, m), input coefficients (B, m, n_in)) of the rows by CROWN, never below the interval
    bound on the output bounds."""
    ylo, yhi = bounds[-1]
    Cp, Cn, Ep, En = np.maximum(C, 0), np.minimum(C, 0), np.maximum(E, 0), np.minimum(E, 0)
    interval = ylo @ Cp.T + yhi @ Cn.T + lo @ Ep.T + hi @ En.T + d
    interval = interval - SAFETY * (1.0 + np.abs(interval))
    b, Lam, _, _ = backward(ops, C, E, d, lo, hi)
    return np.maximum(b, interval), Lam


def take(ops: list[BatchOp], idx: np.ndarray) -> list[BatchOp]:
    """The relaxations of the boxes ``idx`` only."""
    out = []
    for op in ops:
        if op.kind == "affine":
            out.append(op)
        else:
            assert op.sl is not None and op.su is not None and op.bu is not None and op.free is not None
            out.append(BatchOp("gated", sl=op.sl[idx], su=op.su[idx], bu=op.bu[idx], free=op.free[idx], amin=op.amin))
    return out


def _gradient(
    ops: list[BatchOp],
    xs: np.ndarray,
    pos: dict[int, np.ndarray],
    alphas: dict[int, np.ndarray],
    out: dict[int, np.ndarray] | None = None,
) -> dict[int, np.ndarray]:
    """d b / d alpha: the corners x* (B, m, n_in) forward through the chosen lines (module docstring); written
    into the arrays ``out`` (by layer) when given."""
    V = xs
    grads: dict[int, np.ndarray] = {}
    for t, op in enumerate(ops):
        if op.kind == "affine":
            assert op.A is not None and op.c is not None
            # one product for all boxes (a stacked V @ A.T would be one small product per box)
            V = (V.reshape(-1, V.shape[-1]) @ op.A.T).reshape(V.shape[:-1] + (op.A.shape[0],)) + op.c
            continue
        assert op.sl is not None and op.su is not None and op.bu is not None and op.free is not None
        free = op.free[:, None, :]
        if out is None:
            grads[t] = np.where(free, pos[t] * V, 0.0)
        else:
            grads[t] = np.multiply(pos[t], V, out=out[t])
            grads[t] *= free
        slope = np.where(free, alphas[t], op.sl[:, None, :])
        V = np.where(pos[t] > 0, slope * V, op.su[:, None, :] * V + op.bu[:, None, :])
    return grads


def spec_alpha(
    ops: list[BatchOp],
    C: np.ndarray,
    E: np.ndarray,
    d: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    start: np.ndarray,
    coef: np.ndarray,
    steps: int,
    done: Callable[[np.ndarray], np.ndarray] | None = None,
    lr: float = ALPHA_LR,
) -> tuple[np.ndarray, np.ndarray]:
    """alpha-CROWN from CROWN's slopes, ``steps`` projected Adam steps for all boxes at once: (best bounds
    (B, m), never below ``start``, and the input coefficients of each row's best bound). ``done(best)`` (B,)
    marks the boxes whose bounds already suffice; the iteration stops when all do."""
    B, m = start.shape
    best, coef = start.copy(), coef.copy()
    gated = [t for t, op in enumerate(ops) if op.kind == "gated" and op.sl is not None]
    if not gated or steps <= 0:
        return best, coef
    # every layer's slopes are views into one array (B, m, sum n_t), so that each Adam step is a few operations
    sizes = [ops[t].sl.shape[1] for t in gated]  # type: ignore[union-attr]
    ends = np.cumsum(sizes)
    flat = np.concatenate([np.broadcast_to(ops[t].sl[:, None, :], (B, m, n)) for t, n in zip(gated, sizes)], axis=2)  # type: ignore[index]
    amin = np.concatenate([np.full(n, ops[t].amin) for t, n in zip(gated, sizes)])
    grad = np.zeros_like(flat)
    alphas = {t: flat[:, :, e - n : e] for t, n, e in zip(gated, sizes, ends)}
    gviews = {t: grad[:, :, e - n : e] for t, n, e in zip(gated, sizes, ends)}
    mom, var = np.zeros_like(flat), np.zeros_like(flat)
    _, _, xs, pos = backward(ops, C, E, d, lo, hi, alphas)
    for it in range(1, steps + 1):
        _gradient(ops, xs, pos, alphas, gviews)
        mom *= 0.9
        mom += 0.1 * grad
        var *= 0.999
        var += 0.001 * grad * grad
        step = (mom / (1 - 0.9**it)) / (np.sqrt(var / (1 - 0.999**it)) + 1e-12)
        step *= lr
        step += flat
        np.clip(step, amin, 1.0, out=flat)
        b, Lam, xs, pos = backward(ops, C, E, d, lo, hi, alphas)
        better = b > best
        best = np.where(better, b, best)
        coef[better] = Lam[better]
        if done is not None and bool(np.all(done(best))):
            break
    return best, coef


__all__ = [
    "BatchOp",
    "affine_maps",
    "backward",
    "batch_plan",
    "layer_bounds",
    "spec_alpha",
    "spec_crown",
    "take",
    "unstable_counts",
]
