"""The single-neuron pricing MILP of the dual bounds (HiGHS, matrix API) and its certified upper bound.

For multipliers a_n = alpha_n y_n and both signs s, :func:`price` solves

    max  s sum_n a_n h_n - sum_i (lam_i w+_i + lam-_i w-_i) - kappa
    s.t. z_n = (w+ - w-) . x_n + b;  rows with s a_n > 0 (binary d_n): h_n <= z_n + M_n (1 - d_n),
         h_n <= U_n d_n;  rows with s a_n < 0 (LP): h_n >= z_n, h_n >= 0;  rows with a_n = 0 drop out;
         any width: sum_i (w+_i + w-_i) <= 1, |b| <= R, lam = 0;   width J: w+-, b in their boxes,

with U_n = -L_n = ||x_n||_inf + R (any width) or B_w ||x_n||_1 + B_b (width J), the bounds of z_n (M_n = -L_n).
Rows with s a_n > 0 need h_n = (z_n)_+ from above (binary), the others only from below (the objective pushes
h_n down). w+ and w- may have their own prices (the hybrid's one-sided lam - beta+-, ``lam_neg``); a feature with
a negative price (box only) gets a sign binary so that one of w+_i, w-_i is 0.

**Pair cuts** (valid, they tighten the LP relaxation only): for a binary row p and each of its k nearest rows q
with s a_q < 0 (l1 distance), ReLU is monotone and 1-Lipschitz, so with dx = x_p - x_q

    h_p - h_q <= (z_p - z_q)_+ = (w . dx)_+ <= sum_i (dx_i)_+ w+_i + (-dx_i)_+ w-_i

(the bias cancels; h_q >= (z_q)_+ in the model only loosens it). In the LP relaxation a binary row can no longer
take (z_p - L_p) U_p / (U_p - L_p) ~ U_p / 2 at w = 0 while its close opposite rows are off: at COMPAS 1000's
column-generation multipliers the pricing's dual bound after 20 s falls from 0.23-0.26 to 0.12-0.14
(results/training/dual_bound_pricing.md).

The MILP's primal solution is a new column (recomputed in numpy); its *dual* bound (HiGHS ``mip_dual_bound``,
valid at any time limit) gives Gub / Vub, so even an unfinished pricing gives a valid bound. The safety margin
of the package docstring is added, the trivial bound caps it, and a found unit above the "upper bound" makes
the solver's bound untrusted (``consistent=False``). Rows with the same x are merged (net a_n; exact: they
share h_n).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ...errors import DataError
from ...highs import new_highs, proved_dual_bound, set_time_limit
from .relu_cuts import cut_loop, row_coefficients
from .result import ABS_SAFETY, PAIR_CUTS, REL_SAFETY, RELU_CUT_ROUNDS


@dataclass
class Pricing:
    """One single-neuron pricing MILP: best unit found (numpy value) and the certified upper bound."""

    value: float  # numpy value s S(w, b) - lam ||w||_1 - kappa of the returned unit (-inf: none)
    upper: float  # certified upper bound of the pricing optimum
    w: np.ndarray | None
    b: float
    optimal: bool
    seconds: float
    extra: list[tuple[np.ndarray, float]]  # (w with b appended, value) of the solutions found on the way
    consistent: bool = True  # False: a found unit beat the solver's dual bound (the trivial bound is used)
    cuts: dict[str, Any] = field(default_factory=dict)  # the root loop of strong ReLU cuts (:func:`.cut_loop`)
    search: dict[str, Any] = field(default_factory=dict)  # the spatial branch and bound's figures (:mod:`.spatial`)


def _trivial_upper(a_s: np.ndarray, U: np.ndarray, kappa: float) -> float:
    pos = a_s > 0
    return float(np.dot(a_s[pos], U[pos])) - kappa


def price(
    X: np.ndarray,
    a: np.ndarray,
    sign: int,
    *,
    lam: float | np.ndarray,
    kappa: float,
    ball: bool,
    w_bound: float,
    b_bound: float,
    time_limit: float,
    threads: int = 1,
    seed: int = 0,
    start: tuple[np.ndarray, float] | None = None,
    mip_gap: float = 1e-4,
    pair_cuts: int | None = None,
    lam_neg: float | np.ndarray | None = None,
    relu_cuts: int | None = None,
    cut_share: float = 0.3,
    box: tuple[np.ndarray, np.ndarray] | None = None,
) -> Pricing:
    """max_{w,b} sign * sum_n a_n (w . x_n + b)_+ - sum_i lam_i |w_i| - kappa over the l1 ball (``ball``:
    ||w||_1 <= 1, |b| <= b_bound) or the box (|w_i| <= w_bound, |b| <= b_bound), by a HiGHS MILP built with the
    matrix API. ``lam``: one price or one per feature (of w+_i; ``lam_neg``: of w-_i, default the same: the
    objective then has - sum_i lam_i (w_i)_+ + lam_neg_i (-w_i)_+); a feature with a negative price (box only,
    rewarded) gets a sign binary so that one of w+_i, w-_i is 0. ``pair_cuts``: k nearest opposite-sign rows per
    binary row for the pair cuts of the module docstring (None: ``PAIR_CUTS``; 0: none). ``relu_cuts``: rounds of
    the root loop of strong ReLU cuts (:mod:`.relu_cuts`; None: ``RELU_CUT_ROUNDS``; 0: none), on at most
    ``cut_share`` of the time limit. ``box``: (lo, hi) of (w, b) (d + 1 each, inside the box; not with the ball): the
    maximum over that sub-box only, with its interval bounds [L_n, U_n] of z_n as big-M values (rows with U_n <= 0
    leave, rows with L_n >= 0 get d_n = 1: :mod:`.spatial`)."""
    import highspy
    from scipy import sparse

    t0 = time.perf_counter()
    a_s = sign * np.asarray(a, dtype=np.float64)
    keep = np.abs(a_s) > 0
    ak: np.ndarray
    Xk, ak = X[keep], a_s[keep]
    if Xk.shape[0] > 1:  # rows with the same x (and opposite labels) share h_n: one row with the net weight
        Xk, inv = np.unique(Xk, axis=0, return_inverse=True)
        ak = np.bincount(np.asarray(inv).ravel(), weights=ak, minlength=Xk.shape[0])
        nz = ak != 0
        Xk, ak = Xk[nz], ak[nz]
    N, d = Xk.shape
    if ball:
        if box is not None:
            raise DataError("a sub-box needs the box mode")
        U = np.abs(Xk).max(axis=1) + b_bound if d else np.full(N, b_bound)
        L = -U
    elif box is None:
        U = w_bound * np.abs(Xk).sum(axis=1) + b_bound
        L = -U
    else:
        v_lo, v_hi = (np.asarray(e, dtype=np.float64) for e in box)
        if np.any(v_lo > v_hi) or np.any(v_lo < -_top(d, w_bound, b_bound)) or np.any(v_hi > _top(d, w_bound, b_bound)):
            raise DataError("the sub-box must lie in the box")
        L = np.maximum(Xk, 0) @ v_lo[:d] - np.maximum(-Xk, 0) @ v_hi[:d] + v_lo[d]
        U = np.maximum(Xk, 0) @ v_hi[:d] - np.maximum(-Xk, 0) @ v_lo[:d] + v_hi[d]
        live = U > 0  # rows with U_n <= 0 are off on the whole sub-box: h_n = 0 whatever their sign
        Xk, ak, L, U = Xk[live], ak[live], L[live], U[live]
        N = Xk.shape[0]
    lam_v = np.broadcast_to(np.asarray(lam, dtype=np.float64), (d,)).copy()
    lam_n = lam_v.copy() if lam_neg is None else np.broadcast_to(np.asarray(lam_neg, dtype=np.float64), (d,)).copy()
    if ball and (np.any(lam_v < 0) or np.any(lam_n < 0)):
        raise DataError("negative feature prices need the box")
    neg_lam = np.flatnonzero(np.minimum(lam_v, lam_n) < 0)
    reward = np.clip(-np.minimum(lam_v, lam_n), 0.0, None)  # one of w+_i, w-_i is 0: at most B_w max(-prices)_+
    trivial = _trivial_upper(ak, U, kappa) + (w_bound * float(reward.sum()) if neg_lam.size else 0.0)
    pos = np.flatnonzero(ak > 0)
    neg = np.flatnonzero(ak < 0)
    P, Q = pos.size, neg.size
    if P == 0 and not neg_lam.size:  # every h_n has a non-positive coefficient: w = 0, b = -b_bound (all off)
        return Pricing(-kappa, max(-kappa, trivial), np.zeros(X.shape[1]), -b_bound, True, time.perf_counter() - t0, [])
    # columns: w+ (d), w- (d), b, h_pos (P), d_pos (P), h_neg (Q), sign binaries of the rewarded features (G)
    nw = 2 * d + 1
    c_hp, c_d, c_hn = nw, nw + P, nw + 2 * P
    G = neg_lam.size
    c_sg = nw + 2 * P + Q
    ncol = nw + 2 * P + Q + G
    cost = np.zeros(ncol)
    cost[:d] = -lam_v
    cost[d : 2 * d] = -lam_n
    cost[c_hp : c_hp + P] = ak[pos]
    cost[c_hn : c_hn + Q] = ak[neg]
    wmax = 1.0 if ball else w_bound
    lower = np.zeros(ncol)
    upper = np.empty(ncol)
    upper[: 2 * d] = wmax
    lower[2 * d], upper[2 * d] = -b_bound, b_bound
    if box is not None:  # w+ in [(lo)_+, (hi)_+], w- in [(-hi)_+, (-lo)_+], b in [lo_b, hi_b]
        lower[:d], upper[:d] = np.maximum(v_lo[:d], 0), np.maximum(v_hi[:d], 0)
        lower[d : 2 * d], upper[d : 2 * d] = np.maximum(-v_hi[:d], 0), np.maximum(-v_lo[:d], 0)
        lower[2 * d], upper[2 * d] = v_lo[d], v_hi[d]
        lower[c_d : c_d + P] = (L[pos] >= 0).astype(float)  # always on there
    upper[c_hp : c_hp + P] = U[pos]
    upper[c_d : c_d + P] = 1.0
    upper[c_hn : c_hn + Q] = np.maximum(U[neg], 0.0)
    upper[c_sg : c_sg + G] = 1.0
    # rows: (1) h_n - z_n - L_n d_n <= -L_n  (h <= z - L (1 - d)), (2) h_n - U_n d_n <= 0 for n in pos;
    # (3) h_n - z_n >= 0 for n in neg; (4) sum w+ + w- <= 1 (ball)
    rows, cols, vals = [], [], []

    def z_entries(r0: int, idx: np.ndarray, sgn: float) -> None:
        # -sgn * z_n = -sgn (x_n . w+ - x_n . w- + b) on rows r0 + k
        sub = Xk[idx]
        rr, cc = np.nonzero(sub)
        v = sub[rr, cc]
        rows.extend([r0 + rr, r0 + rr, r0 + np.arange(idx.size)])
        cols.extend([cc, d + cc, np.full(idx.size, 2 * d)])
        vals.extend([-sgn * v, sgn * v, np.full(idx.size, -sgn)])

    r1, r2, r3 = 0, P, 2 * P
    z_entries(r1, pos, 1.0)
    rows += [r1 + np.arange(P), r1 + np.arange(P), r2 + np.arange(P), r2 + np.arange(P)]
    cols += [c_hp + np.arange(P), c_d + np.arange(P), c_hp + np.arange(P), c_d + np.arange(P)]
    vals += [np.ones(P), -L[pos], np.ones(P), -U[pos]]
    z_entries(r3, neg, 1.0)
    rows.append(r3 + np.arange(Q))
    cols.append(c_hn + np.arange(Q))
    vals.append(np.ones(Q))
    nrow = 2 * P + Q
    row_lo = np.concatenate([np.full(2 * P, -np.inf), np.zeros(Q)])
    row_hi = np.concatenate([-L[pos], np.zeros(P), np.full(Q, np.inf)])
    if ball:
        rows.append(np.full(2 * d, nrow))
        cols.append(np.arange(2 * d))
        vals.append(np.ones(2 * d))
        row_lo = np.append(row_lo, -np.inf)
        row_hi = np.append(row_hi, 1.0)
        nrow += 1
    for g, i in enumerate(neg_lam):  # |w_i| rewarded: one of w+_i, w-_i is 0 (sign binary sigma_g)
        rows.append(np.array([nrow, nrow, nrow + 1, nrow + 1]))
        cols.append(np.array([i, c_sg + g, d + i, c_sg + g]))
        vals.append(np.array([1.0, -w_bound, 1.0, w_bound]))
        row_lo = np.append(row_lo, [-np.inf, -np.inf])
        row_hi = np.append(row_hi, [0.0, w_bound])
        nrow += 2
    k_cuts = PAIR_CUTS if pair_cuts is None else int(pair_cuts)
    if k_cuts > 0 and P and Q:
        pp, qq, dxa = _near_pairs(Xk[pos], Xk[neg], k_cuts)
        K = pp.size
        rk = nrow + np.arange(K)
        rp, cp = np.nonzero(dxa > 0)  # (w . dx)_+ <= sum_i (dx_i)_+ w+_i + (-dx_i)_+ w-_i
        rn, cn = np.nonzero(dxa < 0)
        rows += [rk, rk, nrow + rp, nrow + rn]
        cols += [c_hp + pp, c_hn + qq, cp, d + cn]
        vals += [np.ones(K), -np.ones(K), -dxa[rp, cp], dxa[rn, cn]]
        row_lo = np.append(row_lo, np.full(K, -np.inf))
        row_hi = np.append(row_hi, np.zeros(K))
        nrow += K
    A = sparse.csc_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(nrow, ncol))
    A.sum_duplicates()
    A.sort_indices()
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = ncol, nrow
    lp.col_cost_, lp.col_lower_, lp.col_upper_ = cost, lower, upper
    lp.offset_ = -kappa
    lp.row_lower_, lp.row_upper_ = row_lo, row_hi
    lp.sense_ = highspy.ObjSense.kMaximize
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = A.indptr.astype(np.int32)
    lp.a_matrix_.index_ = A.indices.astype(np.int32)
    lp.a_matrix_.value_ = A.data

    def solver(limit: float) -> Any:
        h = new_highs()
        h.setOptionValue("output_flag", False)
        set_time_limit(h, max(float(limit), 0.05))
        from ...solve import highs_threads  # the process pins one HiGHS thread count

        h.setOptionValue("threads", highs_threads(threads))
        h.setOptionValue("random_seed", int(seed))
        return h

    rounds = RELU_CUT_ROUNDS if relu_cuts is None else int(relu_cuts)
    cut_info: dict[str, Any] = {}
    cuts = None
    if rounds > 0 and P:  # the root loop on the LP relaxation (a separate instance: every column continuous)
        C, m_lo, M_hi = row_coefficients(Xk[pos], lower[:nw], upper[:nw])
        h_lp = solver(cut_share * float(time_limit))
        h_lp.passModel(lp)
        cuts, cut_info = cut_loop(
            h_lp,
            C,
            m_lo,
            M_hi,
            col_v=np.arange(nw),
            col_h=c_hp + np.arange(P),
            col_d=c_d + np.arange(P),
            time_limit=cut_share * float(time_limit),
            rounds=rounds,
        )
    h = solver(float(time_limit) - (time.perf_counter() - t0))
    h.setOptionValue("mip_rel_gap", float(mip_gap))
    h.setOptionValue("mip_improving_solution_save", True)
    integ = [highspy.HighsVarType.kContinuous] * ncol
    for k in list(range(c_d, c_d + P)) + list(range(c_sg, c_sg + G)):
        integ[k] = highspy.HighsVarType.kInteger
    lp.integrality_ = integ
    h.passModel(lp)
    if cuts is not None and cuts.count:
        cuts.add_to(h)
    if start is not None:
        sol = _consistent_solution(Xk, pos, neg, start[0], start[1], d, ncol, c_hp, c_d, c_hn)
        sol[c_sg : c_sg + G] = (np.asarray(start[0])[neg_lam] >= 0).astype(float)
        hs = highspy.HighsSolution()
        hs.col_value = list(sol)
        hs.value_valid = True
        h.setSolution(hs)
    run_status = h.run()
    info = h.getInfo()
    status = h.getModelStatus()
    optimal = status == highspy.HighsModelStatus.kOptimal
    # the dual bound only of a solve that ran (an option error, e.g. a thread count other than the process' HiGHS
    # scheduler's, leaves status "Not Set" and mip_dual_bound 0.0: a finite number that bounds nothing)
    proved = proved_dual_bound(h, run_status)
    db = math.inf if proved is None else proved
    safety = REL_SAFETY * abs(db) + ABS_SAFETY * (
        float(np.abs(ak) @ (U - L)) + wmax * float(np.abs(lam_v).sum() + np.abs(lam_n).sum())
    )
    ub = min(db + safety, trivial) if math.isfinite(db) else trivial
    best_w, best_b, best_v, extra = None, 0.0, -math.inf, []
    cands = []
    if info.primal_solution_status == 2:
        cands.append(np.asarray(h.getSolution().col_value))
    try:
        for s in h.getSavedMipSolutions():
            cands.append(np.asarray(s.col_value))
    except Exception:  # pragma: no cover - older highspy
        pass
    for col in cands:
        w, b = _unit_from(col, d, ball, wmax, b_bound)
        v = sign * float(a @ np.maximum(X @ w + b, 0.0)) - _price_of(w, lam_v, lam_n) - kappa
        extra.append((np.append(w, b), v))
        if v > best_v:
            best_w, best_b, best_v = w, b, v
    if start is not None:
        w, b = _unit_from(
            np.concatenate([np.maximum(start[0], 0), np.maximum(-start[0], 0), [start[1]]]), d, ball, wmax, b_bound
        )
        v = sign * float(a @ np.maximum(X @ w + b, 0.0)) - _price_of(w, lam_v, lam_n) - kappa
        if v > best_v:
            best_w, best_b, best_v = w, b, v
    extra.sort(key=lambda t: -t[1])
    consistent = best_v <= ub + 1e-9 * max(1.0, abs(best_v))
    if not consistent:  # a unit better than the "upper bound": distrust the solver's bound, keep the trivial one
        ub = max(trivial, best_v)
    return Pricing(
        best_v, ub, best_w, best_b, optimal and consistent, time.perf_counter() - t0, extra[:8], consistent, cut_info
    )


def _price_of(w: np.ndarray, lam_pos: np.ndarray, lam_neg: np.ndarray) -> float:
    """sum_i lam_pos_i (w_i)_+ + lam_neg_i (-w_i)_+: the feature prices of a unit (w+ = (w)_+, w- = (-w)_+)."""
    return float(lam_pos @ np.maximum(w, 0.0) + lam_neg @ np.maximum(-w, 0.0))


def _near_pairs(Xp: np.ndarray, Xq: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ``k`` nearest rows of ``Xq`` (l1 distance) of every row of ``Xp``: (p index, q index, x_p - x_q)."""
    k = min(k, Xq.shape[0])
    chunk = max(1, int(5e6 // max(1, Xq.shape[0] * Xq.shape[1])))  # about 40 MB of differences at a time
    ps, qs = [], []
    for s0 in range(0, Xp.shape[0], chunk):
        D = np.abs(Xp[s0 : s0 + chunk, None, :] - Xq[None, :, :]).sum(axis=2)
        near = np.argpartition(D, k - 1, axis=1)[:, :k] if k < Xq.shape[0] else np.tile(np.arange(k), (D.shape[0], 1))
        ps.append(np.repeat(np.arange(s0, s0 + D.shape[0]), k))
        qs.append(near.ravel())
    p, q = np.concatenate(ps), np.concatenate(qs)
    return p, q, Xp[p] - Xq[q]


def _unit_from(col: np.ndarray, d: int, ball: bool, wmax: float, b_bound: float) -> tuple[np.ndarray, float]:
    """(w, b) from a pricing solution, projected into the feasible set (ball or box) so that it is a unit of
    the class whatever the solver's tolerances."""
    w = np.clip(col[:d], 0, wmax) - np.clip(col[d : 2 * d], 0, wmax)
    b = float(np.clip(col[2 * d], -b_bound, b_bound))
    if ball:
        n1 = float(np.abs(w).sum())
        if n1 > 1.0:
            w = w / n1
    return w, b


def _consistent_solution(
    Xk: np.ndarray,
    pos: np.ndarray,
    neg: np.ndarray,
    w: np.ndarray,
    b: float,
    d: int,
    ncol: int,
    c_hp: int,
    c_d: int,
    c_hn: int,
) -> np.ndarray:
    sol = np.zeros(ncol)
    sol[:d], sol[d : 2 * d], sol[2 * d] = np.maximum(w, 0), np.maximum(-w, 0), b
    z = Xk @ w + b
    sol[c_hp : c_hp + pos.size] = np.maximum(z[pos], 0)
    sol[c_d : c_d + pos.size] = (z[pos] > 0).astype(float)
    sol[c_hn : c_hn + neg.size] = np.maximum(z[neg], 0)
    return sol


def _top(d: int, w_bound: float, b_bound: float) -> np.ndarray:
    """The upper corner (w_bound, ..., w_bound, b_bound) of the box of (w, b), with a relative 1e-12 allowance."""
    return np.append(np.full(d, float(w_bound)), float(b_bound)) * (1 + 1e-12)
