r"""A fast primal heuristic for the single-neuron pricing: pattern local search with one LP per step.

For multipliers a_n, a sign s and c_n = s a_n the pricing maximises (:mod:`.pricing`)

    f(w, b) = sum_n c_n (w . x_n + b)_+ - lam ||w||_1 - kappa     over the box (or the l1 ball of the any-width mode).

Rows with c_n < 0 are LP-representable exactly (h_n >= z_n, h_n >= 0, h_n minimised by the objective); rows with
c_n > 0 are not. Fix the set P of rows with c_n > 0 that are on at the current unit: (z)_+ >= z and (z)_+ >= 0, so

    f(w, b) >= F_P(w, b) = sum_{n in P} c_n z_n - sum_{c_n < 0} |c_n| h_n - lam ||w||_1 - kappa
               (h_n >= z_n, h_n >= 0, z_n = w . x_n + b),

with equality at the unit that defined P. Maximising the LP F_P (only its costs change with P: the costs of w+-
are +-sum_{n in P} c_n x_n - lam, of b sum_{n in P} c_n) gives a unit with f >= F_P >= f(previous unit); the new
on-set defines the next P, until f stops improving. Every returned value is recomputed in numpy; the heuristic
proves nothing (the certified bound is the pricing MILP's), it only finds columns for the master fast.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from ...highs import new_highs, set_time_limit


def _unit_value(X: np.ndarray, c: np.ndarray, w: np.ndarray, b: float, lam: float, kappa: float) -> float:
    return float(c @ np.maximum(X @ w + b, 0.0)) - lam * float(np.abs(w).sum()) - kappa


def local_search(
    X: np.ndarray,
    a: np.ndarray,
    sign: int,
    starts: list[np.ndarray],
    *,
    lam: float,
    kappa: float,
    ball: bool,
    w_bound: float,
    b_bound: float,
    time_limit: float,
    max_steps: int = 30,
    threads: int = 1,
) -> list[tuple[np.ndarray, float]]:
    """The pattern local search of the module docstring from every start unit (rows (w, b)); returns the distinct
    local maxima found as (unit (w, b), numpy value), best first. ``ball``: ||w||_1 <= 1 and |b| <= ``b_bound``
    instead of the box |w_i| <= ``w_bound``, |b| <= ``b_bound``."""
    import highspy
    from scipy import sparse

    t0 = time.perf_counter()
    c = sign * np.asarray(a, dtype=np.float64)
    N, d = X.shape
    neg = np.flatnonzero(c < 0)
    posm = c > 0
    Q = neg.size
    wmax = 1.0 if ball else float(w_bound)
    # columns: w+ (d), w- (d), b, h (Q); rows: h_n - z_n >= 0 (n in neg) [+ sum w+- <= 1]
    ncol = 2 * d + 1 + Q
    Xn = X[neg]
    A = sparse.hstack(
        [sparse.csr_matrix(-Xn), sparse.csr_matrix(Xn), sparse.csr_matrix(-np.ones((Q, 1))), sparse.identity(Q)],
        format="csr",
    )
    row_lo, row_hi = np.zeros(Q), np.full(Q, np.inf)
    if ball:
        ball_row = sparse.csr_matrix(np.concatenate([np.ones(2 * d), np.zeros(1 + Q)])[None, :])
        A = sparse.vstack([A, ball_row], format="csr")
        row_lo, row_hi = np.append(row_lo, -np.inf), np.append(row_hi, 1.0)
    A = A.tocsc()
    A.sort_indices()
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = ncol, A.shape[0]
    lp.col_cost_ = np.concatenate([np.zeros(2 * d + 1), c[neg]])
    lp.col_lower_ = np.concatenate([np.zeros(2 * d), [-b_bound], np.zeros(Q)])
    lp.col_upper_ = np.concatenate([np.full(2 * d, wmax), [b_bound], np.full(Q, np.inf)])
    lp.row_lower_, lp.row_upper_ = row_lo, row_hi
    lp.sense_ = highspy.ObjSense.kMaximize
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = A.indptr.astype(np.int32)
    lp.a_matrix_.index_ = A.indices.astype(np.int32)
    lp.a_matrix_.value_ = A.data
    h: Any = new_highs()
    h.setOptionValue("output_flag", False)
    from ...solve import highs_threads  # the process pins one HiGHS thread count

    h.setOptionValue("threads", highs_threads(threads))
    h.passModel(lp)
    cols = np.arange(2 * d + 1, dtype=np.int32)
    found: dict[bytes, tuple[np.ndarray, float]] = {}
    for u in starts:
        w, b = np.clip(u[:-1], -wmax, wmax), float(np.clip(u[-1], -b_bound, b_bound))
        if ball and np.abs(w).sum() > 1.0:
            w = w / float(np.abs(w).sum())
        best = _unit_value(X, c, w, b, lam, 0.0)
        for _ in range(max_steps):
            left = time_limit - (time.perf_counter() - t0)
            if left <= 0.01:
                break
            on = posm & (X @ w + b > 0)
            g = c[on] @ X[on]
            h.changeColsCost(cols.size, cols, np.concatenate([g - lam, -g - lam, [c[on].sum()]]))
            set_time_limit(h, float(left))
            h.run()
            if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
                break
            x = np.asarray(h.getSolution().col_value)
            w2 = np.clip(x[:d], 0, wmax) - np.clip(x[d : 2 * d], 0, wmax)
            b2 = float(np.clip(x[2 * d], -b_bound, b_bound))
            if ball and np.abs(w2).sum() > 1.0:
                w2 = w2 / float(np.abs(w2).sum())
            v2 = _unit_value(X, c, w2, b2, lam, 0.0)
            if v2 <= best + 1e-12 * max(1.0, abs(best)):
                break
            w, b, best = w2, b2, v2
        unit = np.append(w, b)
        found.setdefault(np.round(unit, 9).tobytes(), (unit, best - kappa))
        if time.perf_counter() - t0 > time_limit:
            break
    return sorted(found.values(), key=lambda t: -t[1])
