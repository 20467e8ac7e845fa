"""The transport (pairwise) bound: multipliers paired across the labels, no MILP; scales with N.

:func:`opposite_pairs` offers the k nearest rows of the other label for every row, :func:`pair_abs_diffs`
the feature loads |x_i - x_j| of each pair, and :func:`transport_lower_bound` the bound (its docstring has the
math: a plan pi on the pairs makes sum_n a_n = 0 by construction, and the 1-Lipschitz ReLU bounds every unit's
S(w, b) by sum_k |w_k| beta_k).
"""

from __future__ import annotations

import math
import time
from typing import Any, Callable

import numpy as np
from numpy.typing import ArrayLike

from ...deadline import Deadline
from ...errors import MipnetError
from ...highs import new_highs, set_time_limit
from .merge import _prepared, _representatives
from .result import DualBoundResult
from .safety import _record, _safe


def opposite_pairs(
    X: np.ndarray, y: np.ndarray, k: int, chunk: int = 1024, deadline: Deadline | None = None
) -> np.ndarray:
    """(P, 2) index pairs (i with y_i = +1, j with y_j = -1): for every row its k nearest rows of the other label
    (Euclidean distance, by matrix products in chunks), without repeats. Which pairs are offered only affects
    the strength of :func:`transport_lower_bound`, never its validity. ``deadline``: looked at between chunks (full
    Adult's 39 240 rows took 16 s, past a fit's time limit); a MipnetError when it expires."""
    pos, neg = np.flatnonzero(y > 0), np.flatnonzero(y < 0)
    sq = (X * X).sum(axis=1)
    out = []
    for src, dst, flip in ((pos, neg, False), (neg, pos, True)):
        if src.size == 0 or dst.size == 0:
            continue
        kk = min(k, dst.size)
        Xd, sd = X[dst], sq[dst]
        for s0 in range(0, src.size, chunk):
            if deadline is not None and deadline.expired():
                raise MipnetError(
                    f"the nearest opposite rows of {X.shape[0]} rows were not found within the time limit"
                )
            idx = src[s0 : s0 + chunk]
            dist = sq[idx][:, None] + sd[None, :] - 2.0 * (X[idx] @ Xd.T)
            if kk < dst.size:
                near = np.argpartition(dist, kk - 1, axis=1)[:, :kk]
            else:
                near = np.tile(np.arange(dst.size), (idx.size, 1))
            a = np.repeat(idx, kk)
            b = dst[near.ravel()]
            out.append(np.column_stack([b, a]) if flip else np.column_stack([a, b]))
    if not out:
        return np.zeros((0, 2), dtype=np.int64)
    return np.unique(np.vstack(out), axis=0)


def pair_abs_diffs(X: np.ndarray, pairs: np.ndarray, chunk: int = 20000) -> Any:
    """|x_i - x_j| for every pair (i, j), as a sparse (P, d) CSR matrix (exact zeros left out)."""
    from scipy import sparse

    blocks = []
    for s0 in range(0, pairs.shape[0], chunk):
        p = pairs[s0 : s0 + chunk]
        blocks.append(sparse.csr_matrix(np.abs(X[p[:, 0]] - X[p[:, 1]])))
    if not blocks:
        return sparse.csr_matrix((0, X.shape[1]))
    return sparse.vstack(blocks, format="csr")


def pair_signed_loads(X: np.ndarray, pairs: np.ndarray) -> Any:
    """The one-sided feature loads of every pair (i, j): [(x_i - x_j)_+, (x_j - x_i)_+] as a sparse (P, 2d) CSR
    matrix (columns 0..d-1 the positive parts, d..2d-1 the negative parts)."""
    from scipy import sparse

    D = pair_abs_diffs(X, pairs)  # |dx| with the sparsity of dx
    coo = D.tocoo()
    sgn = np.sign(X[pairs[coo.row, 0], coo.col] - X[pairs[coo.row, 1], coo.col])
    d = X.shape[1]
    cols = np.where(sgn > 0, coo.col, coo.col + d)
    return sparse.csr_matrix((coo.data, (coo.row, cols)), shape=(pairs.shape[0], 2 * d))


def one_sided_excess(beta2: np.ndarray, lam: float | np.ndarray, d: int) -> float:
    """sum_k (beta+_k - lam)_+ + (beta-_k - lam)_+ for the one-sided loads beta2 = (beta+, beta-) (length 2d)."""
    lam2 = np.concatenate([np.broadcast_to(lam, (d,)), np.broadcast_to(lam, (d,))])
    return float(np.clip(beta2 - lam2, 0.0, None).sum())


def transport_lower_bound(
    X: np.ndarray,
    y: np.ndarray,
    *,
    l1: float,
    margin: float = 1.0,
    time_limit: float | Deadline,
    width: int | None = None,
    weight_bound: float = 1.0,
    unit_cost: float = 0.0,
    penalty_weight: float = 1.0,
    loss_denominator: float | None = None,
    neighbours: int = 20,
    merge: bool = True,
    threads: int = 1,
    pairs: np.ndarray | None = None,
    log: Callable[[str], None] | None = None,
) -> DualBoundResult:
    r"""The same weak duality with the pricing replaced by a Lipschitz (transport) certificate; scales with N.

    Pair every multiplier of a positive row with multipliers of negative rows: a transport plan pi_p >= 0 on
    pairs p = (i, j), y_i = +1, y_j = -1, alpha_n = sum_{p at n} pi_p <= count_n / D. Then sum_n a_n = 0 and
    for every unit S(w, b) = sum_p pi_p ((w.x_i + b)_+ - (w.x_j + b)_+) <= sum_k |w_k| beta_k with the feature
    loads beta_k = sum_p pi_p |x_ik - x_jk| (ReLU is 1-Lipschitz). One-sided (tighter): ReLU is also monotone,
    so (w.x_i + b)_+ - (w.x_j + b)_+ <= (w.dx_p)_+ <= sum_k (dx_pk)_+ w+_k + (-dx_pk)_+ w-_k (dx_p = x_i - x_j,
    w = w+ - w-, w+- >= 0), hence S(w, b) <= sum_k beta+_k w+_k + beta-_k w-_k and -S(w, b) <= sum_k beta-_k w+_k +
    beta+_k w-_k with beta+-_k = sum_p pi_p (+-dx_pk)_+ (beta+ + beta- = beta). In (*) every active unit (either
    sign v_j, one of w+_k, w-_k zero) pays at least kappa - B_w sum_k [(beta+_k - lam)_+ + (beta-_k - lam)_+]
    (<= the two-sided kappa - B_w sum_k (beta_k - lam)_+), so

        width J:    P* >= 2 m sum_p pi_p - J max(0, B_w sum_k [(beta+_k - lam)_+ + (beta-_k - lam)_+] - kappa),
        any width:  P* >= 2 m t sum_p pi_p,  t = min(1, min_k lam / max(beta+_k, beta-_k)).

    pi maximises the width-J (or any-width, t = 1) figure over the pairs of :func:`opposite_pairs` by one LP
    (HiGHS); any plan on any pairs is feasible, so restricting the pairs only weakens the bound. alpha, beta
    and the bound are recomputed from pi in numpy (pi clipped at 0, each pair scaled down to respect the caps).
    Exact duplicates with opposite labels cost nothing (beta 0): their hinge losses sum to >= 2 m."""
    import highspy
    from scipy import sparse

    dl = Deadline.of(time_limit)
    t_start = time.perf_counter()
    say = log or (lambda s: None)
    X, y, Xu, yu, counts, inverse = _prepared(X, y, merge)
    N0, d = X.shape
    D = float(loss_denominator or N0)
    lam = float(penalty_weight) * float(l1)
    kappa = float(unit_cost) if width is not None else 0.0
    N = Xu.shape[0]
    omega = counts / D
    if pairs is None:  # (pairs given: indices into the merged rows)
        pairs = opposite_pairs(Xu, yu, neighbours, deadline=dl)
    P = pairs.shape[0]
    dx = pair_signed_loads(Xu, pairs)  # (P, 2d) sparse: one-sided loads
    d2 = 2 * d
    say(f"transport: {N} rows, {P} pairs, {time.perf_counter() - t_start:.1f} s")
    # LP (maximise): columns pi (P), mu (2d) [width], nu [width]; rows: caps (N), one-sided loads (2d),
    # nu >= B_w sum mu - kappa
    J = None if width is None else float(width)
    ncol = P + (d2 + 1 if J is not None else 0)
    cost = np.concatenate(
        [np.full(P, 2.0 * margin), np.zeros(d2) if J is not None else [], [-J] if J is not None else []]
    )
    r_cap = np.concatenate([np.arange(P), np.arange(P)])
    c_cap = np.concatenate([pairs[:, 0], pairs[:, 1]])
    dxc = dx.tocoo()
    rows: list[ArrayLike] = [c_cap, N + dxc.col]
    cols: list[ArrayLike] = [r_cap, dxc.row]
    vals: list[ArrayLike] = [np.ones(2 * P), dxc.data]
    row_lo: list[ArrayLike] = [np.full(N, -np.inf), np.full(d2, -np.inf)]
    row_hi: list[ArrayLike] = [omega, np.full(d2, lam)]
    if J is not None:
        rows += [N + np.arange(d2), np.full(d2, N + d2), [N + d2]]
        cols += [P + np.arange(d2), P + np.arange(d2), [P + d2]]
        vals += [-np.ones(d2), -float(weight_bound) * np.ones(d2), [1.0]]
        row_lo += [[-kappa]]
        row_hi += [[np.inf]]
    nrow = N + d2 + (1 if J is not None else 0)
    A = sparse.csc_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(nrow, ncol))
    A.sum_duplicates()
    A.sort_indices()
    h = new_highs()
    h.setOptionValue("output_flag", False)
    from ...solve import highs_threads  # the process pins one HiGHS thread count

    h.setOptionValue("threads", highs_threads(threads))
    set_time_limit(h, max(dl.remaining() - 0.5, 0.1) if not dl.unlimited else math.inf)
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = ncol, nrow
    lp.col_cost_ = cost
    lp.col_lower_ = np.zeros(ncol)
    lp.col_upper_ = np.full(ncol, np.inf)
    lp.row_lower_, lp.row_upper_ = np.concatenate(row_lo), np.concatenate(row_hi)
    lp.sense_ = highspy.ObjSense.kMaximize
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = A.indptr.astype(np.int32)
    lp.a_matrix_.index_ = A.indices.astype(np.int32)
    lp.a_matrix_.value_ = A.data
    h.passModel(lp)
    h.run()
    status = h.modelStatusToString(h.getModelStatus())
    col = np.asarray(h.getSolution().col_value) if h.getInfo().primal_solution_status >= 1 else np.zeros(ncol)
    pi = np.clip(col[:P], 0.0, None)
    # numpy re-check: scale pairs down until every cap holds
    alpha = np.bincount(pairs[:, 0], pi, N) + np.bincount(pairs[:, 1], pi, N)
    ratio = np.where(alpha > omega, omega / np.maximum(alpha, 1e-300), 1.0)
    pi = pi * np.minimum(ratio[pairs[:, 0]], ratio[pairs[:, 1]]) * (1.0 - 1e-12)
    alpha = np.bincount(pairs[:, 0], pi, N) + np.bincount(pairs[:, 1], pi, N)
    assert np.all(alpha <= omega)
    beta = np.asarray(dx.T @ pi).ravel()  # (beta+, beta-)
    mass = 2.0 * math.fsum(pi)
    if J is None:
        over = beta.max() if d else 0.0
        t = 1.0 if over <= lam else (lam / over if over > 0 else 1.0)
        bound, g = t * margin * mass, float(over)
    else:
        g = float(weight_bound) * one_sided_excess(beta, lam, d) - kappa
        t = 1.0
        bound = margin * mass - J * max(0.0, g)
    bound = max(_safe(bound), 0.0)
    record = None if J is None else _record(_representatives(inverse, N), pairs, pi, None, None, 1.0, bound, None)
    sec = time.perf_counter() - t_start
    say(f"transport: LP {status}, bound {bound:.6g}, {sec:.1f} s")
    return DualBoundResult(
        bound=float(bound),
        alpha=(alpha / counts)[inverse],
        g_upper=g,
        scale=t,
        iterations=1,
        trace=[(sec, float(bound))],
        units=np.zeros((0, d + 1)),
        status=status,
        mode=("any width" if J is None else f"width {width}") + " transport",
        n_rows=N0,
        n_merged=N,
        master_value=float(h.getInfo().objective_function_value),
        seconds=sec,
        pricing_optimal=False,
        info={"pairs": int(P), "lam": lam, "kappa": kappa, "beta_max": float(beta.max()) if d else 0.0},
        record=record,
    )
