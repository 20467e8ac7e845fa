"""The polish of the cutting planes (:mod:`.linear_cuts`): the convex problem restricted to a support S.

With w_i = 0 outside S, minimise F(w, b) = (1/D) sum_n c_n l(y_n (x_nS . w_S + b)) + l1 ||w_S||_1 (+ l2 ||w_S||^2
for the logistic loss) over the class
(lo_i <= w_i <= hi_i, |b| <= B_b, the output orders w . dx >= delta). The polish gives the cutting planes an
incumbent and a cut that is tight at the support's optimum; its answer is never trusted: the caller recomputes F
with numpy and every hinge alpha is clipped to [0, 1], where any alpha gives a valid cut.

**Logistic** (with its l2 ||w_S||^2 term): L-BFGS-B on w = u - v, u, v >= 0 (smooth in (u, v, b)).

**Hinge, without output orders: the dual LP** (a_n the row weights of the hinge's cut, g = sum_n c_n a_n y_n x_nS
/ D the cut's slope in w)::

    maximise   (m / D) sum_n c_n a_n - sum_{i in S} (hi_i p_i + |lo_i| q_i) - B_b r
    s.t.       -l1 <= (1/D) sum_n c_n a_n y_n x_ni - p_i + q_i <= l1      (i in S)
               -r <= (1/D) sum_n c_n a_n y_n <= r
               0 <= a_n <= 1,  p, q, r >= 0.

It is the Lagrangian dual of the primal LP below (min over xi >= 0 needs a_n <= 1; min over w_i in [lo_i, hi_i]
of l1 |w_i| - g_i w_i is -hi_i (g_i - l1)_+ - |lo_i| (-g_i - l1)_+; min over |b| <= B_b of -h b is -B_b |h|), so
strong duality gives the same value, and (w_S, b) are the duals of its |S| + 2 rows (b the sum of the last two).
Its basis has |S| + 2 rows instead of N: on full Adult (43 222 rows, 86 features) the simplex solves it in about
7 s, where the primal by interior point took over 120 s. The recovered (w, b) is checked: F by numpy must equal the
LP's value (else the primal LP is solved instead), and a_n are the cut's alphas.

**Hinge, with output orders: the primal LP** min (1/D) sum c_n xi_n + l1 sum t s.t. xi_n + y_n (x_nS w_S + b) >=
m, xi >= 0, t >= |w_S|, the boxes, signs and orders, by interior point and crossover; its row duals / (c_n / D)
are the alphas.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..deadline import Deadline
from ..highs import set_time_limit

if TYPE_CHECKING:
    from .linear_cuts import LinearCuts

#: L-BFGS-B settings of the logistic polish
POLISH_ITERATIONS = 2000
#: the hinge polish's form without output orders: "dual" (the LP with |S| + 2 rows) or "primal" (N + 2|S| rows)
HINGE_FORM = "dual"
#: the dual's (w, b) is used when F by numpy matches the LP's value to this relative tolerance
DUAL_MATCH = 1e-6

Polished = tuple[np.ndarray, float, "np.ndarray | None"]


class _OutOfTime(Exception):
    """Raised inside the objective when the polish's deadline passed (L-BFGS-B has no time limit of its own)."""


def polish_logistic(P: "LinearCuts", S: np.ndarray, deadline: Deadline | None = None) -> tuple[np.ndarray, float, None]:
    """min F over the support S for the logistic loss (module docstring): (w, b, None). At ``deadline`` the best
    point evaluated so far is returned (the caller recomputes F, and a tangent anywhere is a valid cut): on full
    Adult's 500 threshold questions the 2000 iterations took the whole minute, and the master got no solve."""
    from scipy.optimize import minimize

    from .linear_cuts import _slope

    XS, k = P.X[:, S], S.size
    yw = P.y * P.weight
    best: list[Any] = [np.inf, np.zeros(2 * k + 1)]

    def fg(v: np.ndarray) -> tuple[float, np.ndarray]:
        if deadline is not None and deadline.expired() and np.isfinite(best[0]):
            raise _OutOfTime
        w = v[:k] - v[k : 2 * k]
        z = P.y * (XS @ w + v[-1])
        f = float(P.weight @ np.logaddexp(0.0, -z)) + P.l1 * float(v[: 2 * k].sum()) + P.l2 * float(w @ w)
        if f < best[0]:
            best[0], best[1] = f, v.copy()
        s = yw * _slope(z, "logistic", 0.0)
        gw = XS.T @ s + 2.0 * P.l2 * w
        return f, np.concatenate([gw + P.l1, -gw + P.l1, [s.sum()]])

    bounds = [(0.0, max(0.0, float(P.w_hi[i]))) for i in S] + [(0.0, max(0.0, -float(P.w_lo[i]))) for i in S]
    bounds.append((-P.Bb, P.Bb))
    try:
        x = minimize(
            fg,
            np.zeros(2 * k + 1),
            jac=True,
            method="L-BFGS-B",
            bounds=bounds,
            options={"maxiter": POLISH_ITERATIONS, "ftol": 1e-15, "gtol": 1e-10},
        ).x
    except _OutOfTime:
        x = best[1]
    w, b = _on_support(P, S, x[:k] - x[k : 2 * k], float(x[-1]))
    return w, b, None


def _on_support(P: "LinearCuts", S: np.ndarray, w_S: np.ndarray, b: float) -> tuple[np.ndarray, float]:
    """(w, b) with w_S on the support and 0 elsewhere, cleaned to the class (:meth:`LinearCuts.clean`)."""
    w = np.zeros(P.d)
    w[S] = w_S
    return P.clean(w, b)


def polish_hinge(P: "LinearCuts", S: np.ndarray, deadline: Deadline) -> Polished | None:
    """min F over the support S for the hinge: (w, b, alphas), or None when the LP was not solved in time."""
    if not P.orders and HINGE_FORM == "dual":
        out = _hinge_dual(P, S, deadline)
        if out is not None:
            return out
    return _hinge_primal(P, S, deadline)


def _run(n_col: int, A: Any, sense: Any, cost: np.ndarray, lo: np.ndarray, hi: np.ndarray, rlo: np.ndarray,
         rhi: np.ndarray, deadline: Deadline, solver: str) -> Any:  # fmt: skip
    """One LP (A a scipy CSR matrix) in a fresh HiGHS within ``deadline``: the Highs object when optimal."""
    import highspy
    import scipy.sparse as sp

    from ..highs import stop_at
    from .matrix.model import _new_highs

    M = sp.csr_matrix(A)
    M.sort_indices()
    h = _new_highs()
    set_time_limit(h, float(max(0.05, deadline.remaining())))
    h.setOptionValue("solver", solver)
    h.passModel(
        int(n_col), int(M.shape[0]), int(M.nnz), int(highspy.MatrixFormat.kRowwise), int(sense), 0.0,
        cost, lo, hi, rlo, rhi, M.indptr.astype(np.int32), M.indices.astype(np.int32), M.data.astype(np.float64),
        np.zeros(n_col, dtype=np.int32),
    )  # fmt: skip
    with stop_at(h, deadline):
        h.run()
    return h if h.getModelStatus() == highspy.HighsModelStatus.kOptimal else None


def _hinge_dual(P: "LinearCuts", S: np.ndarray, deadline: Deadline) -> Polished | None:
    """The dual LP of the module docstring; None when unsolved in time or when its (w, b) does not match."""
    import highspy
    import scipy.sparse as sp

    N, k = P.N, S.size
    cy = P.weight * P.y  # c_n y_n / D
    # columns: a (N), p (k), q (k), r
    n_col = N + 2 * k + 1
    cost = np.concatenate([P.margin * P.weight, -P.w_hi[S], P.w_lo[S], [-P.Bb]])
    lo = np.zeros(n_col)
    hi = np.concatenate([np.ones(N), np.full(2 * k + 1, np.inf)])
    eye = sp.identity(k, format="csr")
    slope = sp.hstack([sp.csr_matrix((P.X[:, S] * cy[:, None]).T), -eye, eye, sp.csr_matrix((k, 1))])
    row_b = sp.csr_matrix(np.concatenate([cy, np.zeros(2 * k)])[None, :])
    bias = sp.vstack([sp.hstack([row_b, sp.csr_matrix([[-1.0]])]), sp.hstack([row_b, sp.csr_matrix([[1.0]])])])
    A = sp.vstack([slope, bias], format="csr")
    rlo = np.concatenate([np.full(k, -P.l1), [-np.inf, 0.0]])
    rhi = np.concatenate([np.full(k, P.l1), [0.0, np.inf]])
    h = _run(n_col, A, highspy.ObjSense.kMaximize, cost, lo, hi, rlo, rhi, deadline, "simplex")
    if h is None:
        return None
    sol = h.getSolution()
    duals = np.asarray(sol.row_dual, dtype=np.float64)
    w, b = _on_support(P, S, duals[:k], float(duals[k] + duals[k + 1]))
    value = float(h.getInfo().objective_function_value)
    if abs(P.objective(w, b) - value) > DUAL_MATCH * max(1.0, abs(value)):
        return None  # (a solver's sign convention or tolerance: the primal LP decides)
    return w, b, np.clip(np.asarray(sol.col_value, dtype=np.float64)[:N], 0.0, 1.0)


def _hinge_primal(P: "LinearCuts", S: np.ndarray, deadline: Deadline) -> Polished | None:
    """The primal LP of the module docstring, by interior point and crossover: on many rows and a narrow support
    the simplex methods stall on its degeneracy (full Adult, 3 features: dual simplex 80 s, primal 33 s, IPM 5.8 s)."""
    import highspy
    import scipy.sparse as sp

    N, k = P.N, S.size
    XS = P.X[:, S]
    # columns: w_S (k), b, t (k), xi (N)
    n_col = 2 * k + 1 + N
    cost = np.concatenate([np.zeros(k), [0.0], np.full(k, P.l1), P.weight])
    lo = np.concatenate([P.w_lo[S], [-P.Bb], np.zeros(k), np.zeros(N)])
    hi = np.concatenate([P.w_hi[S], [P.Bb], np.full(k, P.Bw), np.full(N, np.inf)])
    Yx = sp.csr_matrix(P.y[:, None] * XS)
    hinge = sp.hstack([Yx, sp.csr_matrix(P.y[:, None]), sp.csr_matrix((N, k)), sp.identity(N, format="csr")])
    eye = sp.identity(k, format="csr")
    zk1 = sp.csr_matrix((k, 1))
    zkN = sp.csr_matrix((k, N))
    blocks = [hinge, sp.hstack([-eye, zk1, eye, zkN]), sp.hstack([eye, zk1, eye, zkN])]
    rlo = [np.full(N, P.margin), np.zeros(k), np.zeros(k)]
    for dx, delta in P.orders:
        blocks.append(sp.hstack([sp.csr_matrix(dx[S][None, :]), sp.csr_matrix((1, 1 + k + N))]))
        rlo.append(np.array([delta]))
    A = sp.vstack(blocks, format="csr")
    row_lo = np.concatenate(rlo)
    h = _run(n_col, A, highspy.ObjSense.kMinimize, cost, lo, hi, row_lo, np.full(row_lo.size, np.inf), deadline, "ipm")
    if h is None:
        return None
    sol = h.getSolution()
    x = np.asarray(sol.col_value, dtype=np.float64)
    w, b = _on_support(P, S, x[:k], float(x[k]))
    return w, b, np.abs(np.asarray(sol.row_dual, dtype=np.float64)[:N]) / P.weight
