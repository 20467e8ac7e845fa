r"""A lower bound on the sign-class training objective from the convex relaxation of two-layer ReLU nets.

The training MILP (:mod:`.formulation`, ``hypothesis="sign"``, ``loss="hinge"``) minimises, over
networks f(x) = c + sum_{j<=J} v_j (w_j . x + b_j)_+ with v_j in {-1, 0, +1} on the *standardised* inputs
x_n (the trainer's ``(X - mu) / sigma``), labels y_n in {-1, +1},

    P(f) = (1/D) sum_n max(0, m - y_n f(x_n))
           + pw l1 (sum_j ||w_j||_1 + sum_j |v_j|)               l1 over every Dense weight, biases excluded
           + pw (l2 sum W^2 + l0 #{W != 0} + rho #units)         further non-negative terms
    s.t.   |w_ji| <= B_w, |b_j| <= B_b, |c| <= B_b, v_j = 0 => (w_j, b_j) = 0,

D = ``loss_denominator`` (default N), pw = ``penalty_weight`` (default 1). Write lam = pw l1 (the price of
||w_j||_1) and kappa = pw (l1 + l2 + l0 + rho) (what an active unit pays for v_j = +-1 alone: |v| = v^2 =
[v != 0] = 1). Symmetry breaking and the Lipschitz pair cuts of the MILP cut off no network of the class,
so they do not change its optimum P*.

**Weak duality.** Take alpha_n in [0, 1/D] and write a_n = alpha_n y_n, h_j(x) = (w_j . x + b_j)_+ and
S(w, b) = sum_n a_n (w . x_n + b)_+. Since (1/D) max(0, r) >= alpha r for every r,

    P(f) >= sum_n alpha_n (m - y_n f(x_n)) + sum_{j active} (lam ||w_j||_1 + kappa)
          = m sum_n alpha_n - c sum_n a_n + sum_{j active} (lam ||w_j||_1 + kappa - v_j S(w_j, b_j)).   (*)

*Any width* (``width=None``, the relaxation R of the issue: no width limit, no boxes, kappa dropped).
Every term of the last sum is >= ||w_j||_1 (lam - G(alpha)) with

    G(alpha) = sup_{||w||_1 <= 1, b} | S(w, b) |,

by positive homogeneity (a unit with w_j = 0 is the constant (b_j)_+ and contributes (b_j)_+ sum a_n).
Hidden units with w = 0 are output biases of any size, so the relaxation needs sum_n a_n = 0 (and then c
drops out whatever its box). For such alpha and any valid upper bound Gub >= G(alpha), t alpha with
t = min(1, lam / Gub) satisfies the condition, so

    P* >= LB = m t sum_n alpha_n.

b can be restricted to [-R, R], R = max_n ||x_n||_inf: for b >= R every unit is on for all samples (the
value is linear in b with slope sum a_n = 0), for b <= -R every unit is off.

*Width J* (``width=J``, stronger: keeps the width, the boxes and kappa). Bound every active term of (*)
from below by -V(alpha), with

    V(alpha) = max_{s in {-1, +1}, |w_i| <= B_w, |b| <= B_b}  s S(w, b) - lam ||w||_1 - kappa,

and -c sum a_n by -B_c |sum a_n| (B_c = ``output_bias_bound``; None = free c, then sum a_n = 0 is imposed
as above). At most J units are active, so for every alpha (no condition on it)

    P* >= LB(alpha) = m sum_n alpha_n - B_c |sum_n a_n| - J max(0, V(alpha)).

LB is concave in alpha; also LB(t alpha) >= t (m sum alpha - B_c |sum a|) - J max(0, t V(alpha) - (1 - t)
kappa) for t in [0, 1] (since t S - lam||w|| - kappa = t (S - lam||w|| - kappa) - (1 - t)(lam||w|| + kappa)),
so the best t is taken at no cost. With J = inf, no boxes and kappa = 0 this is the any-width bound.

**Choosing alpha: column generation.** The restricted master LP over units phi_k(x) = (w_k . x + b_k)_+,

    min  sum_n omega_n xi_n + sum_k cost_k (u+_k + u-_k)
    s.t. xi_n + y_n c + y_n sum_k (u+_k - u-_k) phi_k(x_n) >= m      (dual alpha_n)
         sum_k (u+_k + u-_k) <= J                                     (width mode only)
         xi, u >= 0,  c free or |c| <= B_c,

cost_k = lam ||w_k||_1 (+ kappa in width mode), omega_n = count_n / D, has as dual exactly the problem
"max LB(alpha)" restricted to the known units; its duals are the alpha of the next pricing round. Pricing
solves the single-neuron MILP (both signs s)

    max  s sum_n a_n h_n - lam sum_i (w+_i + w-_i)
    s.t. z_n = (w+ - w-) . x_n + b;  rows with s a_n > 0 (binary d_n): h_n <= z_n + M_n (1 - d_n),
         h_n <= U_n d_n;  rows with s a_n < 0 (LP): h_n >= z_n, h_n >= 0;  rows with a_n = 0 drop out;
         any width: sum_i (w+_i + w-_i) <= 1, |b| <= R, lam = 0;   width J: w+-, b in their boxes,

with U_n = -L_n = ||x_n||_inf + R (any width) or B_w ||x_n||_1 + B_b (width J), the bounds of z_n. Its
primal solution is a new column (recomputed in numpy); its *dual* bound (HiGHS ``mip_dual_bound``, valid
at any time limit) gives Gub / Vub, so even an unfinished pricing gives a valid LB. The best LB over
the iterations is kept. Exact duplicate rows (same x, same y) are merged first: alpha_k in [0, count_k / D]
is the same dual problem (duplicates share f(x)), with fewer rows and binaries.

**Scaling with N.** The pricing MILP has one binary per distinct row with s a_n > 0; beyond a few hundred
rows its dual bound stays far above lam (COMPAS, d = 13: 855 rows, bound 0.3 after 90 s, lam = 0.01) and the
certified LB is near 0 (results/training/dual_bound_strength.md). Two bounds of the same weak duality that
do scale: :func:`transport_lower_bound` pairs multipliers of opposite labels (sum a_n = 0 by construction)
and bounds each unit's S(w, b) <= sum_i |w_i| beta_i by the 1-Lipschitz ReLU, with beta_i the transport
load of feature i: one LP over the k nearest opposite pairs, no MILP; :func:`hybrid_lower_bound` splits
alpha = alpha_T (transport) + alpha_M (at most ``milp_rows`` rows, exact pricing with the feature prices
lam - beta_i). :func:`bound_for_config` maps a TrainConfig to the width-J versions.

**Safety.** The reported bound never relies on the LP's alpha being exactly feasible or on the MILP's
bound being exact:

* alpha is clipped to [0, count_n / D] in numpy; any width (or free c): alpha is rounded down to integer
  multiples of q = 1 / (D 2^30) and the larger class side reduced (integers) until sum_n k_n y_n = 0
  *exactly*; the bound is m t q sum k_n.
* Gub = dual bound + 1e-6 |dual bound| + 1e-6 sum_n |a_n| (U_n + |L_n|) (the LP tolerances of HiGHS are
  1e-7 on rows and reduced costs; one sample's slack of 1e-7 in z_n moves the objective by |a_n| 1e-7),
  never more than the trivial bound sum_{s a_n > 0} s a_n U_n - kappa (+ B_w sum of the negative feature
  prices, hybrid); if the numpy value of the pricing's own solution exceeds it, the solver's bound is not
  trusted and the trivial bound is used (status ``inconsistent``). Rows with the same x are merged inside
  the pricing (net a_n; exact: they share h_n).
* the final figure is lowered by 1e-9 relative + 1e-12 absolute for the float sums.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
from numpy.typing import ArrayLike

from ..deadline import Deadline
from ..errors import DataError, UnsupportedError

#: alpha is quantised to multiples of 1 / (D 2^QUANT_BITS) to make sum alpha y = 0 exact (any width, free c)
QUANT_BITS = 30
#: Gub = dual bound + REL_SAFETY |dual bound| + ABS_SAFETY sum |a_n| (U_n + |L_n|)
REL_SAFETY = 1e-6
ABS_SAFETY = 1e-6
#: a pricing column enters the master if its reduced cost is below -ENTER_TOL (relative to lam + kappa)
ENTER_TOL = 1e-7
#: bound_for_config(method="auto"): column generation up to this many distinct rows, the hybrid above
AUTO_CG_ROWS = 300
#: rows with alpha_n below this (absolute) leave the pricing problem (they contribute exactly 0 as alpha_n := 0)
ALPHA_ZERO = 1e-12


@dataclass
class DualBoundResult:
    """Outcome of :func:`any_width_lower_bound`.

    ``bound``: the lower bound on the training objective (valid whatever ``status`` is); ``alpha``: the
    multipliers (per original row, in [0, 1/D]) that gave it; ``g_upper``: the certified upper bound of the
    pricing problem at that alpha (any width: Gub >= G(alpha); width J: Vub >= V(alpha)); ``scale``: the t of
    the bound; ``trace``: (seconds, best bound so far) per pricing round; ``units``: the master's columns
    (K, d + 1) as (w, b); ``master_value``: the last restricted master LP value (an upper bound on what the
    relaxation can give with the units found so far: the bound cannot exceed the relaxation's optimum)."""

    bound: float
    alpha: np.ndarray
    g_upper: float
    scale: float
    iterations: int
    trace: list[tuple[float, float]]
    units: np.ndarray
    status: str
    mode: str
    n_rows: int
    n_merged: int
    master_value: float | None
    seconds: float
    pricing_optimal: bool
    info: dict[str, Any] = field(default_factory=dict)
    #: what re-checks the bound without trusting the solver (width J only; :func:`recheck_record`): the
    #: multipliers as sparse lists over *original* row indices (a representative row of each merged group)
    record: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"bound": self.bound, "g_upper": self.g_upper, "scale": self.scale, "iterations": self.iterations,
                "trace": [list(t) for t in self.trace], "n_units": int(self.units.shape[0]), "status": self.status,
                "mode": self.mode, "n_rows": self.n_rows, "n_merged": self.n_merged,
                "master_value": self.master_value, "seconds": self.seconds, "pricing_optimal": self.pricing_optimal,
                "info": self.info}


# ---------------------------------------------------------------------------------------------------- data
def merge_duplicates(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Unique (x, y) rows: (X_u, y_u, counts, inverse) with X[i] == X_u[inverse[i]], y[i] == y_u[inverse[i]]."""
    Z = np.ascontiguousarray(np.column_stack([X, y]))
    _, first, inverse, counts = np.unique(Z, axis=0, return_index=True, return_inverse=True, return_counts=True)
    inverse = np.asarray(inverse).ravel()
    return X[first], y[first], counts.astype(np.int64), inverse


def _representatives(inverse: np.ndarray, n_groups: int) -> np.ndarray:
    """The first original row of each merged group (``inverse`` as from :func:`merge_duplicates`)."""
    rep = np.full(n_groups, -1, dtype=np.int64)
    rep[inverse[::-1]] = np.arange(inverse.size - 1, -1, -1)
    return rep


def _record(rep: np.ndarray, pairs: np.ndarray | None, pi: np.ndarray | None, S: np.ndarray | None,
            am: np.ndarray | None, t: float, bound: float, pricing: dict[str, Any] | None) -> dict[str, Any]:
    """The re-checkable certificate of a width-J bound: plan pi on pairs (i, j) with y_i = +1, y_j = -1, extra
    multipliers alpha_M on rows, scale t and (alpha_M != 0) the pricing's certified upper bound."""
    out: dict[str, Any] = {"bound": float(bound), "t": float(t), "pairs": [], "rows": [], "pricing": pricing}
    if pairs is not None and pi is not None:
        nz = np.flatnonzero(pi > 0)
        out["pairs"] = [[int(rep[pairs[k, 0]]), int(rep[pairs[k, 1]]), float(pi[k])] for k in nz]
    if S is not None and am is not None:
        nz = np.flatnonzero(am > 0)
        out["rows"] = [[int(rep[S[k]]), float(am[k])] for k in nz]
    if not out["rows"]:
        out["pricing"] = None
    return out


def standardise(X: np.ndarray) -> np.ndarray:
    """The inputs the training MILP sees: ``(X - mean) / std`` with a zero std read as 1 (:func:`.trainer.train`)."""
    X = np.asarray(X, dtype=np.float64)
    mu, sd = X.mean(axis=0), X.std(axis=0)
    sd = np.where(sd > 1e-12, sd, 1.0)
    return (X - mu) / sd


def units_of_network(net: Any) -> np.ndarray:
    """The hidden units (w_j, b_j) of a trained sign-class network, in the MILP's standardised coordinates
    (the first Dense layer after the trainer's Normalize): array (J, d + 1), pruned units left out."""
    dense = [l for l in net.layers if l.parametrised and l.unit_name == "neurons"]  # the Dense layers
    W, b = np.asarray(dense[0].weight, dtype=np.float64), np.asarray(dense[0].bias, dtype=np.float64)
    keep = (np.abs(W).sum(axis=1) + np.abs(b)) > 0
    return np.column_stack([W[keep], b[keep]])


# ---------------------------------------------------------------------------------------------------- pricing
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


def _trivial_upper(a_s: np.ndarray, U: np.ndarray, kappa: float) -> float:
    pos = a_s > 0
    return float(np.dot(a_s[pos], U[pos])) - kappa


def price(X: np.ndarray, a: np.ndarray, sign: int, *, lam: float | np.ndarray, kappa: float, ball: bool, w_bound: float,
          b_bound: float, time_limit: float, threads: int = 1, seed: int = 0,
          start: tuple[np.ndarray, float] | None = None, mip_gap: float = 1e-4) -> Pricing:
    """max_{w,b} sign * sum_n a_n (w . x_n + b)_+ - sum_i lam_i |w_i| - kappa over the l1 ball (``ball``:
    ||w||_1 <= 1, |b| <= b_bound) or the box (|w_i| <= w_bound, |b| <= b_bound), by a HiGHS MILP built with the
    matrix API. ``lam``: one price or one per feature; a negative lam_i (box only, |w_i| rewarded) gets a sign
    binary so that one of w+_i, w-_i is 0 and w+_i + w-_i = |w_i| exactly."""
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
        U = np.abs(Xk).max(axis=1) + b_bound if d else np.full(N, b_bound)
    else:
        U = w_bound * np.abs(Xk).sum(axis=1) + b_bound
    L = -U
    lam_v = np.broadcast_to(np.asarray(lam, dtype=np.float64), (d,)).copy()
    if ball and np.any(lam_v < 0):
        raise DataError("negative feature prices need the box")
    neg_lam = np.flatnonzero(lam_v < 0)
    trivial = _trivial_upper(ak, U, kappa) + (w_bound * float(-lam_v[neg_lam].sum()) if neg_lam.size else 0.0)
    pos = np.flatnonzero(ak > 0)
    neg = np.flatnonzero(ak < 0)
    P, Q = pos.size, neg.size
    if P == 0 and not neg_lam.size:  # every h_n has a non-positive coefficient: w = 0, b = -b_bound (all off)
        return Pricing(-kappa, max(-kappa, trivial), np.zeros(X.shape[1]), -b_bound, True,
                       time.perf_counter() - t0, [])
    # columns: w+ (d), w- (d), b, h_pos (P), d_pos (P), h_neg (Q), sign binaries of the rewarded features (G)
    nw = 2 * d + 1
    c_hp, c_d, c_hn = nw, nw + P, nw + 2 * P
    G = neg_lam.size
    c_sg = nw + 2 * P + Q
    ncol = nw + 2 * P + Q + G
    cost = np.zeros(ncol)
    cost[:d] = -lam_v
    cost[d:2 * d] = -lam_v
    cost[c_hp:c_hp + P] = ak[pos]
    cost[c_hn:c_hn + Q] = ak[neg]
    wmax = 1.0 if ball else w_bound
    lower = np.zeros(ncol)
    upper = np.empty(ncol)
    upper[:2 * d] = wmax
    lower[2 * d], upper[2 * d] = -b_bound, b_bound
    upper[c_hp:c_hp + P] = U[pos]
    upper[c_d:c_d + P] = 1.0
    upper[c_hn:c_hn + Q] = np.maximum(U[neg], 0.0)
    upper[c_sg:c_sg + G] = 1.0
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
    A = sparse.csc_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(nrow, ncol))
    A.sum_duplicates()
    A.sort_indices()
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", max(float(time_limit), 0.05))
    h.setOptionValue("threads", int(threads))
    h.setOptionValue("random_seed", int(seed))
    h.setOptionValue("mip_rel_gap", float(mip_gap))
    h.setOptionValue("mip_improving_solution_save", True)
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
    integ = [highspy.HighsVarType.kContinuous] * ncol
    for k in list(range(c_d, c_d + P)) + list(range(c_sg, c_sg + G)):
        integ[k] = highspy.HighsVarType.kInteger
    lp.integrality_ = integ
    h.passModel(lp)
    if start is not None:
        sol = _consistent_solution(Xk, pos, neg, start[0], start[1], d, ncol, c_hp, c_d, c_hn)
        sol[c_sg:c_sg + G] = (np.asarray(start[0])[neg_lam] >= 0).astype(float)
        hs = highspy.HighsSolution()
        hs.col_value = list(sol)
        hs.value_valid = True
        h.setSolution(hs)
    h.run()
    info = h.getInfo()
    status = h.getModelStatus()
    optimal = status == highspy.HighsModelStatus.kOptimal
    db = float(info.mip_dual_bound)
    safety = REL_SAFETY * abs(db) + ABS_SAFETY * (float(np.abs(ak) @ (U - L)) + wmax * float(np.abs(lam_v).sum()))
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
        v = sign * float(a @ np.maximum(X @ w + b, 0.0)) - float(lam_v @ np.abs(w)) - kappa
        extra.append((np.append(w, b), v))
        if v > best_v:
            best_w, best_b, best_v = w, b, v
    if start is not None:
        w, b = _unit_from(np.concatenate([np.maximum(start[0], 0), np.maximum(-start[0], 0), [start[1]]]), d, ball,
                          wmax, b_bound)
        v = sign * float(a @ np.maximum(X @ w + b, 0.0)) - float(lam_v @ np.abs(w)) - kappa
        if v > best_v:
            best_w, best_b, best_v = w, b, v
    extra.sort(key=lambda t: -t[1])
    consistent = best_v <= ub + 1e-9 * max(1.0, abs(best_v))
    if not consistent:  # a unit better than the "upper bound": distrust the solver's bound, keep the trivial one
        ub = max(trivial, best_v)
    return Pricing(best_v, ub, best_w, best_b, optimal and consistent, time.perf_counter() - t0, extra[:8],
                   consistent)


def _unit_from(col: np.ndarray, d: int, ball: bool, wmax: float, b_bound: float) -> tuple[np.ndarray, float]:
    """(w, b) from a pricing solution, projected into the feasible set (ball or box) so that it is a unit of
    the class whatever the solver's tolerances."""
    w = np.clip(col[:d], 0, wmax) - np.clip(col[d:2 * d], 0, wmax)
    b = float(np.clip(col[2 * d], -b_bound, b_bound))
    if ball:
        n1 = float(np.abs(w).sum())
        if n1 > 1.0:
            w = w / n1
    return w, b


def _consistent_solution(Xk: np.ndarray, pos: np.ndarray, neg: np.ndarray, w: np.ndarray, b: float, d: int,
                         ncol: int, c_hp: int, c_d: int, c_hn: int) -> np.ndarray:
    sol = np.zeros(ncol)
    sol[:d], sol[d:2 * d], sol[2 * d] = np.maximum(w, 0), np.maximum(-w, 0), b
    z = Xk @ w + b
    sol[c_hp:c_hp + pos.size] = np.maximum(z[pos], 0)
    sol[c_d:c_d + pos.size] = (z[pos] > 0).astype(float)
    sol[c_hn:c_hn + neg.size] = np.maximum(z[neg], 0)
    return sol


# ---------------------------------------------------------------------------------------------------- master
class _Master:
    """The restricted master LP (module docstring), HiGHS matrix API, columns added as units are found."""

    def __init__(self, y: np.ndarray, omega: np.ndarray, margin: float, c_bound: float | None,
                 width: float | None, threads: int) -> None:
        import highspy

        self.hs = highspy
        self.N = N = y.size
        self.y = y
        self.width = width
        h = self.h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        h.setOptionValue("threads", int(threads))
        # columns: xi (N), c; rows: hinge (N) [+ width]
        ncol = N + 1
        nrow = N + (1 if width is not None else 0)
        starts = np.concatenate([np.arange(N + 1), [2 * N]]).astype(np.int32)
        index = np.concatenate([np.arange(N), np.arange(N)]).astype(np.int32)
        value = np.concatenate([np.ones(N), y.astype(np.float64)])
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = ncol, nrow
        lp.col_cost_ = np.concatenate([omega, [0.0]])
        cb = math.inf if c_bound is None else float(c_bound)
        lp.col_lower_ = np.concatenate([np.zeros(N), [-cb]])
        lp.col_upper_ = np.concatenate([np.full(N, np.inf), [cb]])
        lp.row_lower_ = np.concatenate([np.full(N, float(margin)), [-np.inf] if width is not None else []])
        lp.row_upper_ = np.concatenate([np.full(N, np.inf), [float(width)] if width is not None else []])
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = starts, index, value
        h.passModel(lp)
        self.units: list[np.ndarray] = []

    def add(self, X: np.ndarray, unit: np.ndarray, cost: float) -> None:
        phi = np.maximum(X @ unit[:-1] + unit[-1], 0.0)
        nz = np.flatnonzero(phi > 0)
        idx = nz.astype(np.int32)
        vals = self.y[nz] * phi[nz]
        if self.width is not None:
            idx = np.append(idx, self.N).astype(np.int32)
        for sgn in (1.0, -1.0):
            v = sgn * vals
            if self.width is not None:
                v = np.append(v, 1.0)
            self.h.addCols(1, np.array([cost]), np.array([0.0]), np.array([np.inf]), idx.size,
                           np.array([0], dtype=np.int32), idx, v)
        self.units.append(np.asarray(unit, dtype=np.float64))

    def solve(self, time_limit: float) -> tuple[float, np.ndarray, float]:
        """(value, alpha (raw duals of the hinge rows), theta (dual of the width row, >= 0))."""
        self.h.setOptionValue("time_limit", max(float(time_limit), 0.05))
        self.h.run()
        st = self.h.getModelStatus()
        if st != self.hs.HighsModelStatus.kOptimal:
            raise RuntimeError(f"master LP: {self.h.modelStatusToString(st)}")
        sol = self.h.getSolution()
        duals = np.asarray(sol.row_dual)
        theta = -float(duals[self.N]) if self.width is not None else 0.0
        return float(self.h.getInfo().objective_function_value), duals[:self.N], max(theta, 0.0)


# ---------------------------------------------------------------------------------------------------- bound
def _balanced(alpha: np.ndarray, y: np.ndarray, counts: np.ndarray, D: float) -> tuple[np.ndarray, np.ndarray]:
    """alpha rounded down to integer multiples k of q = 1 / (D 2^QUANT_BITS), the larger side reduced until
    sum k_n y_n = 0 exactly; returns (k as int64, alpha = k q)."""
    scale = float(2 ** QUANT_BITS)
    cap = counts.astype(np.int64) * (2 ** QUANT_BITS)
    k = np.floor(np.clip(alpha, 0.0, None) * D * scale).astype(np.int64)
    k = np.minimum(np.maximum(k, 0), cap)
    pos, neg = y > 0, y < 0
    sp, sn = int(k[pos].sum()), int(k[neg].sum())
    side = pos if sp > sn else neg
    excess = abs(sp - sn)
    if excess:
        idx = np.flatnonzero(side)
        tot = int(k[idx].sum())
        cut = (k[idx].astype(object) * excess) // tot  # exact integer arithmetic
        cut = np.array([int(c) for c in cut], dtype=np.int64)
        k[idx] -= cut
        left = excess - int(cut.sum())
        order = idx[np.argsort(-k[idx], kind="stable")]
        i = 0
        while left > 0:
            take = min(left, int(k[order[i]]))
            k[order[i]] -= take
            left -= take
            i += 1
    assert int((k * y.astype(np.int64)).sum()) == 0
    return k, k.astype(np.float64) / (D * scale)


def _prepared(X: Any, y: Any, merge: bool = True
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The checked data (X float (N, d), y in {-1, +1}) and its merged rows (Xu, yu, counts, inverse);
    ``merge=False``: every row its own group."""
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64).ravel()
    if X.ndim != 2 or X.shape[0] != y.size or y.size == 0:
        raise DataError(f"X must be (N, d) with N = len(y) > 0, got {X.shape} and {y.size} labels")
    if not np.all(np.isfinite(X)):
        raise DataError("X contains NaN or inf values")
    if not np.all(np.isin(y, (-1.0, 1.0))):
        raise DataError("y must be in {-1, +1}")
    if merge:
        Xu, yu, counts, inverse = merge_duplicates(X, y)
    else:
        Xu, yu, counts, inverse = X, y, np.ones(X.shape[0], dtype=np.int64), np.arange(X.shape[0])
    return X, y, Xu, yu, counts, inverse


def _safe(x: float) -> float:
    return x - 1e-9 * abs(x) - 1e-12


def any_width_lower_bound(
    X: np.ndarray,
    y: np.ndarray,
    *,
    l1: float,
    margin: float = 1.0,
    output_bias_bound: float | None = None,
    time_limit: float | Deadline,
    init_units: np.ndarray | None = None,
    width: int | None = None,
    weight_bound: float = 1.0,
    bias_bound: float = 1.0,
    unit_cost: float = 0.0,
    penalty_weight: float = 1.0,
    loss_denominator: float | None = None,
    merge: bool = True,
    random_units: int = 8,
    pricing_time: float | None = None,
    final_share: float = 0.25,
    max_iterations: int = 1000,
    threads: int = 1,
    seed: int = 0,
    log: Callable[[str], None] | None = None,
) -> DualBoundResult:
    """A lower bound on the sign-class hinge training objective (module docstring) by column generation.

    ``X``: the inputs the MILP sees (standardised: :func:`standardise`); ``y`` in {-1, +1}. ``width=None``:
    the any-width relaxation (no boxes, no per-unit cost, free output bias; ``output_bias_bound`` must then be
    None). ``width=J``: the width-J bound with the boxes ``weight_bound``/``bias_bound``, the output bias box
    ``output_bias_bound`` (None = free) and ``unit_cost`` = kappa (pw (l1 + l2 + l0 + neuron_penalty) in the
    sign class; 0 is always valid). ``penalty_weight`` and ``loss_denominator`` as in
    :class:`~.formulation.TrainingProblem`. ``init_units``: (K, d + 1) rows (w, b) to start the master from
    (e.g. :func:`units_of_network` of the incumbent). ``time_limit`` is for the whole call; ``final_share`` of
    it is kept for a last, longer pricing at the best multipliers (a tighter certified pricing bound)."""
    dl = Deadline.of(time_limit)
    t_start = time.perf_counter()
    say = log or (lambda s: None)
    X, y, Xu, yu, counts, inverse = _prepared(X, y, merge)
    if l1 < 0 or margin <= 0 or penalty_weight < 0 or unit_cost < 0:
        raise DataError("l1, unit_cost and penalty_weight must be >= 0 and the margin > 0")
    any_width = width is None
    if any_width and output_bias_bound is not None:
        raise UnsupportedError("the any-width relaxation has no bias boxes: hidden units with w = 0 are output "
                               "biases of any size, so the output bias is free there; pass width= to use its box")
    N0, d = X.shape
    D = float(loss_denominator or N0)
    lam = float(penalty_weight) * float(l1)
    kappa = 0.0 if any_width else float(unit_cost)
    mode = "any width" if any_width else f"width {width}"
    N = Xu.shape[0]
    omega = counts / D
    R = float(np.abs(Xu).max()) if Xu.size else 0.0
    ball = any_width
    b_box = R if ball else float(bias_bound)
    w_box = 1.0 if ball else float(weight_bound)
    c_bound = None if any_width else output_bias_bound
    rng = np.random.default_rng(seed)

    def unit_cost_of(u: np.ndarray) -> float:
        return lam * float(np.abs(u[:-1]).sum()) + kappa

    def normalise(u: np.ndarray) -> np.ndarray | None:
        w, b = u[:-1].astype(np.float64), float(u[-1])
        if ball:
            n1 = float(np.abs(w).sum())
            if n1 <= 1e-12:
                return None  # a constant unit: nothing in the any-width relaxation
            return np.append(w / n1, np.clip(b / n1, -R, R))
        return np.append(np.clip(w, -w_box, w_box), np.clip(b, -b_box, b_box))

    master = _Master(yu, omega, margin, c_bound, None if width is None else float(width), threads)  # any_width
    rep = _representatives(inverse, N)
    records: list[dict[str, Any] | None] = [None]
    best_record: dict[str, Any] | None = None
    start_units: list[np.ndarray] = []
    if init_units is not None:
        start_units.extend(np.atleast_2d(np.asarray(init_units, dtype=np.float64)))
    for _ in range(random_units):  # random directions through a random sample
        w = rng.normal(size=d)
        if ball:
            w = w / max(np.abs(w).sum(), 1e-12)
        else:
            w = w_box * np.sign(w) * (rng.random(d) < min(1.0, 3.0 / max(d, 1)))
        r = rng.integers(N)
        start_units.append(np.append(w, -float(Xu[r] @ w)))
    seen: set[bytes] = set()

    def add(u: np.ndarray) -> bool:
        v = normalise(u)
        if v is None:
            return False
        key = np.round(v, 10).tobytes()
        if key in seen:
            return False
        seen.add(key)
        master.add(Xu, v, unit_cost_of(v))
        return True

    for u in start_units:
        add(u)

    best = 0.0
    best_alpha = np.zeros(N)
    best_g = math.inf
    best_t = 0.0
    trace: list[tuple[float, float]] = []
    it = 0
    status = "iteration_limit"
    master_value: float | None = None
    pricing_optimal = False
    inconsistent = False
    if pricing_time is None:
        pricing_time = max(2.0, 0.05 * (dl.remaining() if not dl.unlimited else 600.0))

    def evaluate(alpha_raw: np.ndarray, tl: float, starts: dict[int, tuple[np.ndarray, float]] | None
                 ) -> tuple[float, float, float, np.ndarray, list[Pricing], bool]:
        """Certified bound at alpha (after the safety projection); returns (bound, g_upper, t, alpha, pricings,
        both optimal)."""
        nonlocal inconsistent
        alpha = np.clip(alpha_raw, 0.0, omega)
        alpha[alpha < ALPHA_ZERO] = 0.0
        if c_bound is None:
            k, alpha = _balanced(alpha, yu, counts, D)
            mass = float(k.sum()) / (D * 2.0 ** QUANT_BITS)
            imbalance = 0.0
        else:
            mass = math.fsum(alpha)
            imbalance = abs(math.fsum(alpha * yu))
        a = alpha * yu
        prs = []
        for sgn in (1, -1):
            st = None if starts is None else starts.get(sgn)
            prs.append(price(Xu, a, sgn, lam=0.0 if ball else lam, kappa=kappa, ball=ball, w_bound=w_box,
                             b_bound=b_box, time_limit=tl / 2, threads=threads, seed=seed + it, start=st))
        if not all(p.consistent for p in prs):
            inconsistent = True
        g = max(p.upper for p in prs)
        both = all(p.optimal for p in prs)
        if ball:
            base = margin * mass
            t = 1.0 if g <= lam else (lam / g if g > 0 else 1.0)
            bound = t * base
        else:
            base = margin * mass - (0.0 if c_bound is None else float(c_bound)) * imbalance
            assert width is not None  # not ball: a fixed width
            J = float(width)
            cands = [0.0, 1.0]
            if g + kappa > 0:
                cands.append(min(1.0, max(0.0, kappa / (g + kappa))))
            vals = [t * base - J * max(0.0, t * g - (1.0 - t) * kappa) for t in cands]
            i = int(np.argmax(vals))
            bound, t = vals[i], cands[i]
        bound = max(_safe(bound), 0.0)
        if not ball:
            records[0] = _record(rep, None, None, np.arange(N), alpha, t, bound,
                                 {"upper": float(g), "optimal": bool(both), "rows": int(N), "prices": "lam",
                                  "solver": "highs (single-neuron MILP, mip_dual_bound)"})
        return bound, g, t, alpha, prs, both

    final_reserve = final_share * dl.remaining() if not dl.unlimited else 0.0
    while it < max_iterations:
        if dl.remaining() - final_reserve < 0.5:
            status = "time_limit"
            break
        master_value, alpha_raw, theta = master.solve(dl.remaining())
        it += 1
        tl = min(pricing_time, max(0.2, (dl.remaining() - final_reserve)))
        # start each pricing from the master's best column of that sign
        starts = {}
        for sgn in (1, -1):
            best_u, best_v = None, -math.inf
            for u in master.units:
                v = sgn * float((alpha_raw * yu) @ np.maximum(Xu @ u[:-1] + u[-1], 0.0))
                if v > best_v:
                    best_u, best_v = u, v
            if best_u is not None:
                starts[sgn] = (best_u[:-1], float(best_u[-1]))
        bound, g, t, alpha, prs, both = evaluate(alpha_raw, tl, starts)
        if bound > best:
            best, best_alpha, best_g, best_t = bound, alpha, g, t
            pricing_optimal = both
            best_record = records[0]
        trace.append((time.perf_counter() - t_start, best))
        say(f"iteration {it}: master {master_value:.6g}, pricing upper {g:.4g} (lam {lam:.4g}), "
            f"bound {bound:.6g}, best {best:.6g}, {len(master.units)} units, {time.perf_counter() - t_start:.1f} s")
        # columns with a negative reduced cost at the master's duals
        a_m = np.clip(alpha_raw, 0, None) * yu
        added = 0
        for p in prs:
            cols = ([(np.append(p.w, p.b), p.value)] if p.w is not None else []) + p.extra
            for u, _ in cols:
                unit = normalise(u)
                if unit is None:
                    continue
                s_val = abs(float(a_m @ np.maximum(Xu @ unit[:-1] + unit[-1], 0.0)))
                red = unit_cost_of(unit) + theta - s_val
                if red < -ENTER_TOL * max(lam + kappa, 1e-12) and add(unit):
                    added += 1
        if added == 0:
            status = "converged" if both else "stalled"
            break
    # final: a longer pricing at the best multipliers (or at the last master's if none gave a bound yet)
    if dl.remaining() > 1.0 and final_share > 0 and status != "converged":
        target = best_alpha if best > 0 else (alpha_raw if it else np.zeros(N))
        bound, g, t, alpha, prs, both = evaluate(target, max(0.5, dl.remaining() - 0.5), None)
        if bound > best:
            best, best_alpha, best_g, best_t = bound, alpha, g, t
            pricing_optimal = both
            best_record = records[0]
        trace.append((time.perf_counter() - t_start, best))
        say(f"final pricing: upper {g:.4g}, bound {bound:.6g}, best {best:.6g}")
    if inconsistent:
        status = "inconsistent"
    alpha_rows = best_alpha[inverse] / counts[inverse]
    units = np.array(master.units) if master.units else np.zeros((0, d + 1))
    return DualBoundResult(bound=float(best), alpha=alpha_rows, g_upper=float(best_g), scale=float(best_t),
                           iterations=it, trace=trace, units=units, status=status, mode=mode, n_rows=N0, n_merged=N,
                           master_value=master_value, seconds=time.perf_counter() - t_start,
                           pricing_optimal=pricing_optimal,
                           info={"lam": lam, "kappa": kappa, "R": R, "D": D},
                           record=None if ball else (best_record or _record(rep, None, None, None, None, 1.0, 0.0,
                                                                            None)))


# ---------------------------------------------------------------------------------------------------- transport
def opposite_pairs(X: np.ndarray, y: np.ndarray, k: int, chunk: int = 1024) -> np.ndarray:
    """(P, 2) index pairs (i with y_i = +1, j with y_j = -1): for every row its k nearest rows of the other label
    (Euclidean distance, by matrix products in chunks), without repeats. Which pairs are offered only affects
    the strength of :func:`transport_lower_bound`, never its validity."""
    pos, neg = np.flatnonzero(y > 0), np.flatnonzero(y < 0)
    sq = (X * X).sum(axis=1)
    out = []
    for src, dst, flip in ((pos, neg, False), (neg, pos, True)):
        if src.size == 0 or dst.size == 0:
            continue
        kk = min(k, dst.size)
        Xd, sd = X[dst], sq[dst]
        for s0 in range(0, src.size, chunk):
            idx = src[s0:s0 + chunk]
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
        p = pairs[s0:s0 + chunk]
        blocks.append(sparse.csr_matrix(np.abs(X[p[:, 0]] - X[p[:, 1]])))
    if not blocks:
        return sparse.csr_matrix((0, X.shape[1]))
    return sparse.vstack(blocks, format="csr")


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
    loads beta_k = sum_p pi_p |x_ik - x_jk| (ReLU is 1-Lipschitz). In (*) every active unit pays at least
    sum_k |w_k| (lam - beta_k) + kappa >= kappa - B_w sum_k (beta_k - lam)_+, so

        width J:    P* >= 2 m sum_p pi_p - J max(0, B_w sum_k (beta_k - lam)_+ - kappa),
        any width:  P* >= 2 m t sum_p pi_p,  t = min(1, min_k lam / beta_k).

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
        pairs = opposite_pairs(Xu, yu, neighbours)
    P = pairs.shape[0]
    dx = pair_abs_diffs(Xu, pairs)  # (P, d) sparse
    say(f"transport: {N} rows, {P} pairs, {time.perf_counter() - t_start:.1f} s")
    # LP (maximise): columns pi (P), mu (d) [width], nu [width]; rows: caps (N), loads (d), nu >= B_w sum mu - kappa
    J = None if width is None else float(width)
    ncol = P + (d + 1 if J is not None else 0)
    cost = np.concatenate([np.full(P, 2.0 * margin), np.zeros(d) if J is not None else [],
                           [-J] if J is not None else []])
    r_cap = np.concatenate([np.arange(P), np.arange(P)])
    c_cap = np.concatenate([pairs[:, 0], pairs[:, 1]])
    dxc = dx.tocoo()
    rows: list[ArrayLike] = [c_cap, N + dxc.col]
    cols: list[ArrayLike] = [r_cap, dxc.row]
    vals: list[ArrayLike] = [np.ones(2 * P), dxc.data]
    row_lo: list[ArrayLike] = [np.full(N, -np.inf), np.full(d, -np.inf)]
    row_hi: list[ArrayLike] = [omega, np.full(d, lam)]
    if J is not None:
        rows += [N + np.arange(d), np.full(d, N + d), [N + d]]
        cols += [P + np.arange(d), P + np.arange(d), [P + d]]
        vals += [-np.ones(d), -float(weight_bound) * np.ones(d), [1.0]]
        row_lo += [[-kappa]]
        row_hi += [[np.inf]]
    nrow = N + d + (1 if J is not None else 0)
    A = sparse.csc_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(nrow, ncol))
    A.sum_duplicates()
    A.sort_indices()
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", int(threads))
    h.setOptionValue("time_limit", max(dl.remaining() - 0.5, 0.1) if not dl.unlimited else math.inf)
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
    beta = np.asarray(dx.T @ pi).ravel()
    mass = 2.0 * math.fsum(pi)
    if J is None:
        over = beta.max() if d else 0.0
        t = 1.0 if over <= lam else (lam / over if over > 0 else 1.0)
        bound, g = t * margin * mass, float(over)
    else:
        g = float(weight_bound) * float(np.clip(beta - lam, 0.0, None).sum()) - kappa
        t = 1.0
        bound = margin * mass - J * max(0.0, g)
    bound = max(_safe(bound), 0.0)
    record = None if J is None else _record(_representatives(inverse, N), pairs, pi, None, None, 1.0, bound, None)
    sec = time.perf_counter() - t_start
    say(f"transport: LP {status}, bound {bound:.6g}, {sec:.1f} s")
    return DualBoundResult(bound=float(bound), alpha=(alpha / counts)[inverse], g_upper=g, scale=t, iterations=1,
                           trace=[(sec, float(bound))], units=np.zeros((0, d + 1)), status=status,
                           mode=("any width" if J is None else f"width {width}") + " transport", n_rows=N0, n_merged=N,
                           master_value=float(h.getInfo().objective_function_value), seconds=sec,
                           pricing_optimal=False, info={"pairs": int(P), "lam": lam, "kappa": kappa,
                                                        "beta_max": float(beta.max()) if d else 0.0},
                           record=record)


# ---------------------------------------------------------------------------------------------------- hybrid
def hybrid_lower_bound(
    X: np.ndarray,
    y: np.ndarray,
    *,
    l1: float,
    width: int,
    margin: float = 1.0,
    time_limit: float | Deadline,
    weight_bound: float = 1.0,
    bias_bound: float = 1.0,
    output_bias_bound: float | None = None,
    unit_cost: float = 0.0,
    penalty_weight: float = 1.0,
    loss_denominator: float | None = None,
    init_units: np.ndarray | None = None,
    neighbours: int = 20,
    milp_rows: int = 150,
    row_scores: np.ndarray | None = None,
    pricing_time: float | None = None,
    final_share: float = 0.25,
    max_iterations: int = 1000,
    threads: int = 1,
    seed: int = 0,
    log: Callable[[str], None] | None = None,
) -> DualBoundResult:
    r"""Width-J bound with the multipliers split: alpha = alpha_T + alpha_M, the transport part on pairs (cheap,
    any N) and the MILP part on at most ``milp_rows`` rows S (the pricing MILP stays small).

    With a plan pi on opposite pairs (alpha_T its marginals), beta_i = sum_p pi_p |dx_pi| and alpha_M >= 0 on S,
    alpha_T + alpha_M <= count / D: in (*) every active unit pays at least
    sum_i (lam - beta_i) |w_i| + kappa - s S_M(w, b) (the transport part by the Lipschitz argument of
    :func:`transport_lower_bound`, S_M = sum_{n in S} alpha_M,n y_n (w.x_n + b)_+), so

        P* >= 2 m sum pi + m sum alpha_M - B_c |sum alpha_M y| - J max(0, V),
        V = max_{s, box} s S_M(w, b) - sum_i (lam - beta_i) |w_i| - kappa,

    V bounded by the pricing MILP on S with the feature prices lam - beta_i (:func:`price`), and the same
    t-scaling as the width-J bound. (pi, alpha_M) come from a cutting-plane LP (one cut per unit found:
    theta >= s S_M(unit) + sum_i |w_i| beta_i - lam ||w||_1 - kappa); every iterate is certified in numpy
    (caps, exact balance of alpha_M if the output bias is free, beta recomputed) and by the pricing's dual
    bound. alpha_M = 0 is :func:`transport_lower_bound`'s width-J figure, also certified at every iterate.
    S: the rows the transport plan leaves capacity on, highest ``row_scores`` (e.g. the incumbent's hinge
    losses, per original row) first."""
    import highspy
    from scipy import sparse

    dl = Deadline.of(time_limit)
    t_start = time.perf_counter()
    say = log or (lambda s: None)
    X, y, Xu, yu, counts, inverse = _prepared(X, y)
    N0, d = X.shape
    D = float(loss_denominator or N0)
    lam = float(penalty_weight) * float(l1)
    kappa = float(unit_cost)
    J = float(width)
    Bw, Bb = float(weight_bound), float(bias_bound)
    N = Xu.shape[0]
    omega = counts / D
    rng = np.random.default_rng(seed)
    pairs = opposite_pairs(Xu, yu, neighbours)
    P = pairs.shape[0]
    dx = pair_abs_diffs(Xu, pairs)
    rep = _representatives(inverse, N)
    records: list[dict[str, Any] | None] = [None, None]  # of the last certify(): (with alpha_M, transport only)
    # master LP (maximise): columns pi (P), aM (K), theta, beta (d, free), [e >= |sum y aM|]
    cb = output_bias_bound

    def build(S: np.ndarray) -> tuple[Any, int]:
        K = S.size
        c_am, c_th, c_be = P, P + K, P + K + 1
        ncol = P + K + 1 + d + (1 if cb is not None else 0)
        c_e = P + K + 1 + d
        cost = np.zeros(ncol)
        cost[:P] = 2.0 * margin
        cost[c_am:c_am + K] = margin
        cost[c_th] = -J
        lo = np.zeros(ncol)
        hi = np.full(ncol, np.inf)
        hi[c_am:c_am + K] = omega[S]
        lo[c_be:c_be + d] = -np.inf
        if cb is not None:
            cost[c_e] = -float(cb)
        rows: list[ArrayLike] = []
        cols: list[ArrayLike] = []
        vals: list[ArrayLike] = []
        # caps (N rows)
        rows += [pairs[:, 0], pairs[:, 1], S]
        cols += [np.arange(P), np.arange(P), c_am + np.arange(K)]
        vals += [np.ones(P), np.ones(P), np.ones(K)]
        # beta definitions (d rows): beta_i - sum_p dx_pi pi_p = 0
        dxc = dx.tocoo()
        rows += [N + dxc.col, N + np.arange(d)]
        cols += [dxc.row, c_be + np.arange(d)]
        vals += [-dxc.data, np.ones(d)]
        row_lo: list[ArrayLike] = [np.full(N, -np.inf), np.zeros(d)]
        row_hi: list[ArrayLike] = [omega, np.zeros(d)]
        nrow = N + d
        ys = yu[S]
        if cb is None:  # sum y aM = 0
            rows.append(np.full(K, nrow))
            cols.append(c_am + np.arange(K))
            vals.append(ys)
            row_lo.append([0.0])
            row_hi.append([0.0])
            nrow += 1
        else:  # e >= +- sum y aM
            for sg in (1.0, -1.0):
                rows += [np.full(K, nrow), [nrow]]
                cols += [c_am + np.arange(K), [c_e]]
                vals += [-sg * ys, [1.0]]
                row_lo.append([0.0])
                row_hi.append([np.inf])
                nrow += 1
        A = sparse.csc_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                              shape=(nrow, ncol))
        A.sum_duplicates()
        A.sort_indices()
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        h.setOptionValue("threads", int(threads))
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = ncol, nrow
        lp.col_cost_, lp.col_lower_, lp.col_upper_ = cost, lo, hi
        lp.row_lower_, lp.row_upper_ = np.concatenate(row_lo), np.concatenate(row_hi)
        lp.sense_ = highspy.ObjSense.kMaximize
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = A.indptr.astype(np.int32)
        lp.a_matrix_.index_ = A.indices.astype(np.int32)
        lp.a_matrix_.value_ = A.data
        h.passModel(lp)
        return h, ncol

    def add_cut(h: Any, S: np.ndarray, u: np.ndarray, sgn: int) -> None:
        K = S.size
        w, b = u[:-1], float(u[-1])
        phi = np.maximum(Xu[S] @ w + b, 0.0)
        nz = np.flatnonzero(phi > 0)
        aw = np.abs(w)
        fz = np.flatnonzero(aw > 0)
        idx = np.concatenate([P + nz, [P + K], P + K + 1 + fz]).astype(np.int32)
        val = np.concatenate([-sgn * yu[S][nz] * phi[nz], [1.0], -aw[fz]])
        h.addRow(-lam * float(aw.sum()) - kappa, np.inf, idx.size, idx, val)

    def certify(col: np.ndarray, S: np.ndarray, tl: float, starts: dict[int, tuple[np.ndarray, float]] | None
                ) -> tuple[float, float, float, list[Pricing], bool, float, np.ndarray]:
        """Certified (bound, V upper, t, pricings, optimal, transport-only bound, alpha per merged row)."""
        K = S.size
        pi = np.clip(col[:P], 0.0, None)
        am = np.clip(col[P:P + K], 0.0, omega[S])
        alpha = np.bincount(pairs[:, 0], pi, N) + np.bincount(pairs[:, 1], pi, N)
        alpha[S] += am
        ratio = np.where(alpha > omega, omega / np.maximum(alpha, 1e-300), 1.0) * (1.0 - 1e-12)
        ratio = np.minimum(ratio, 1.0)
        pi = pi * np.minimum(ratio[pairs[:, 0]], ratio[pairs[:, 1]])
        am = am * ratio[S]
        if cb is None:
            _, am = _balanced(am, yu[S], counts[S], D)
        alpha = np.bincount(pairs[:, 0], pi, N) + np.bincount(pairs[:, 1], pi, N)
        alpha[S] += am
        assert np.all(alpha <= omega)
        beta = np.asarray(dx.T @ pi).ravel()
        tmass = 2.0 * margin * math.fsum(pi)
        # transport-only certificate (alpha_M = 0)
        tv = Bw * float(np.clip(beta - lam, 0.0, None).sum()) - kappa
        t_only = tmass - J * max(0.0, tv)
        a = am * yu[S]
        imbalance = 0.0 if cb is None else abs(math.fsum(a))
        base = tmass + margin * math.fsum(am) - (0.0 if cb is None else float(cb)) * imbalance
        prs = []
        for sgn in (1, -1):
            st = None if starts is None else starts.get(sgn)
            prs.append(price(Xu[S], a, sgn, lam=lam - beta, kappa=kappa, ball=False, w_bound=Bw, b_bound=Bb,
                             time_limit=tl / 2, threads=threads, seed=seed, start=st))
        g = max(p.upper for p in prs)
        cands = [0.0, 1.0] + ([min(1.0, max(0.0, kappa / (g + kappa)))] if g + kappa > 0 else [])
        vals = [t * base - J * max(0.0, t * g - (1.0 - t) * kappa) for t in cands]
        i = int(np.argmax(vals))
        both = all(p.optimal for p in prs)
        b_m, b_t = max(_safe(vals[i]), 0.0), max(_safe(t_only), 0.0)
        records[0] = _record(rep, pairs, pi, S, am, cands[i], b_m,
                             {"upper": float(g), "optimal": bool(both), "rows": int(S.size),
                              "prices": "lam - beta", "solver": "highs (single-neuron MILP, mip_dual_bound)"})
        records[1] = _record(rep, pairs, pi, None, None, 1.0, b_t, None)
        return (b_m, g, cands[i], prs, both, b_t, alpha)

    # 1. the transport plan alone: its bound and the capacity it leaves (rows of S)
    tr = transport_lower_bound(X, y, l1=l1, margin=margin, time_limit=dl.sub(fraction=0.2), width=width,
                               weight_bound=Bw, unit_cost=kappa, penalty_weight=penalty_weight, loss_denominator=D,
                               neighbours=neighbours, threads=threads, pairs=pairs)
    alpha_t = np.bincount(inverse, tr.alpha, N)  # per merged row
    leftover = omega - np.minimum(alpha_t, omega)
    score = leftover + 1e-9 * omega  # rows the plan uses fully come last
    if row_scores is not None:
        rs = np.asarray(row_scores, dtype=np.float64)
        score = score * (np.bincount(inverse, rs, N) / counts + 1e-9)
    order = np.argsort(-score, kind="stable")
    S = np.sort(order[:min(milp_rows, N)])
    say(f"hybrid: {N} rows, {P} pairs, transport bound {tr.bound:.6g}, MILP rows {S.size}, "
        f"{time.perf_counter() - t_start:.1f} s")
    h, ncol = build(S)
    best, best_t, best_g, best_alpha = tr.bound, 1.0, tr.g_upper, alpha_t.copy()
    best_record = tr.record
    trace = [(time.perf_counter() - t_start, best)]
    # initial cuts: coordinate units, the incumbent's units, random units
    start_units = []
    for i in range(d):
        for bb in (-Bb, 0.0, Bb):
            e = np.zeros(d + 1)
            e[i], e[-1] = Bw, bb
            start_units.append(e)
    if init_units is not None:
        for u in np.atleast_2d(np.asarray(init_units, dtype=np.float64)):
            start_units.append(np.append(np.clip(u[:-1], -Bw, Bw), np.clip(u[-1], -Bb, Bb)))
    for _ in range(8):
        w = Bw * np.sign(rng.normal(size=d)) * (rng.random(d) < min(1.0, 3.0 / max(d, 1)))
        start_units.append(np.append(w, -float(Xu[rng.integers(N)] @ w)))
    units: list[np.ndarray] = []
    for u in start_units:
        for sgn in (1, -1):
            add_cut(h, S, u, sgn)
        units.append(u)
    if pricing_time is None:
        pricing_time = max(2.0, 0.05 * (dl.remaining() if not dl.unlimited else 600.0))
    final_reserve = final_share * dl.remaining() if not dl.unlimited else 0.0
    it, status, master_value, pricing_optimal = 0, "iteration_limit", None, False
    col = np.zeros(ncol)
    best_col = None
    while it < max_iterations:
        if dl.remaining() - final_reserve < 0.5:
            status = "time_limit"
            break
        h.setOptionValue("time_limit", max(dl.remaining(), 0.1) if not dl.unlimited else math.inf)
        h.run()
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            status = "master " + h.modelStatusToString(h.getModelStatus())
            break
        master_value = float(h.getInfo().objective_function_value)
        col = np.asarray(h.getSolution().col_value)
        it += 1
        tl = min(pricing_time, max(0.2, dl.remaining() - final_reserve))
        bound, g, t, prs, both, t_only, alpha = certify(col, S, tl, None)
        for cand, gg, tt, ok, rec in ((bound, g, t, both, records[0]), (t_only, None, 1.0, False, records[1])):
            if cand > best:
                best, best_t, best_alpha, best_col = cand, tt, alpha, col.copy()
                best_g = gg if gg is not None else best_g
                pricing_optimal = ok
                best_record = rec
        trace.append((time.perf_counter() - t_start, best))
        say(f"hybrid iteration {it}: master {master_value:.6g}, V upper {g:.4g}, bound {bound:.6g}, "
            f"transport-only {t_only:.6g}, best {best:.6g}, {len(units)} units, {time.perf_counter() - t_start:.1f} s")
        # cuts violated at the master's point
        am = col[P:P + S.size]
        beta = col[P + S.size + 1:P + S.size + 1 + d]
        theta = col[P + S.size]
        added = 0
        for sgn, p in zip((1, -1), prs):
            cands = ([(np.append(p.w, p.b), p.value)] if p.w is not None else []) + p.extra
            for u, _ in cands:
                w, b = u[:-1], float(u[-1])
                val = sgn * float((am * yu[S]) @ np.maximum(Xu[S] @ w + b, 0.0)) + float(np.abs(w) @ beta) \
                    - lam * float(np.abs(w).sum()) - kappa
                if val > theta + ENTER_TOL * max(lam + kappa, 1e-12):
                    add_cut(h, S, u, sgn)
                    units.append(u)
                    added += 1
        if added == 0:
            status = "converged" if both else "stalled"
            break
    if best_col is None and it:
        best_col = col
    if dl.remaining() > 1.0 and final_share > 0 and status != "converged" and best_col is not None:
        bound, g, t, prs, both, t_only, alpha = certify(best_col, S, max(0.5, dl.remaining() - 0.5), None)
        if bound > best:
            best, best_t, best_g, best_alpha, pricing_optimal = bound, t, g, alpha, both
            best_record = records[0]
        trace.append((time.perf_counter() - t_start, best))
        say(f"hybrid final pricing: V upper {g:.4g}, bound {bound:.6g}, best {best:.6g}")
    return DualBoundResult(bound=float(best), alpha=(best_alpha / counts)[inverse], g_upper=float(best_g),
                           scale=float(best_t), iterations=it, trace=trace,
                           units=np.array(units) if units else np.zeros((0, d + 1)), status=status,
                           mode=f"width {width} hybrid", n_rows=N0, n_merged=N, master_value=master_value,
                           seconds=time.perf_counter() - t_start, pricing_optimal=pricing_optimal,
                           info={"lam": lam, "kappa": kappa, "pairs": int(P), "milp_rows": int(S.size),
                                 "transport_bound": tr.bound}, record=best_record)


def bound_for_config(X: np.ndarray, target: np.ndarray, config: Any, *, time_limit: float | Deadline,
                     penalty_weight: float = 1.0, loss_denominator: float | None = None,
                     init_units: np.ndarray | None = None, method: str = "cg", **kwargs: Any) -> DualBoundResult:
    """The width-J bound of this module for a :class:`~.formulation.TrainingProblem`'s data (``X`` the
    standardised inputs, ``target`` in {-1, +1}) and config: sign class, hinge loss, one hidden layer of J units
    (J = min(hidden, max_neurons)); boxes B_w, B_b; output bias in [-B_b, B_b]; unit cost
    kappa = pw (l1 + l2 + l0 + neuron_penalty) (|v_j| = v_j^2 = [v_j != 0] = 1 for an active unit).

    ``method``: ``"cg"`` column generation with the exact pricing MILP over all rows (strong, for a few hundred
    rows), ``"transport"`` (:func:`transport_lower_bound`, any N, seconds), ``"hybrid"``
    (:func:`hybrid_lower_bound`), ``"any width"`` (the any-width column generation), ``"auto"`` (cg up to
    ``AUTO_CG_ROWS`` distinct rows, hybrid above)."""
    from .formulation import resolve_config

    cfg = resolve_config(config, "classify", 2)
    if cfg.hypothesis != "sign" or cfg.loss != "hinge":
        raise UnsupportedError(f"the dual bound is for the sign class with the hinge loss, not {cfg.hypothesis}/"
                               f"{cfg.loss}")
    if cfg.layer_penalty > 0:
        raise UnsupportedError("the layer penalty is not in the sign class's dual bound")
    J = int(cfg.hidden[0]) if cfg.max_neurons is None else min(int(cfg.hidden[0]), int(cfg.max_neurons))
    kappa = float(penalty_weight) * (cfg.l1 + cfg.l2 + cfg.l0 + cfg.neuron_penalty)
    if method == "auto":
        n_rows = merge_duplicates(np.asarray(X, dtype=np.float64), np.asarray(target, dtype=np.float64))[0].shape[0]
        method = "cg" if n_rows <= AUTO_CG_ROWS else "hybrid"
    common: dict[str, Any] = dict(l1=cfg.l1, margin=cfg.margin, time_limit=time_limit, penalty_weight=penalty_weight,
                  loss_denominator=loss_denominator)
    if method == "any width":
        return any_width_lower_bound(X, target, init_units=init_units, **common, **kwargs)
    if method == "transport":
        return transport_lower_bound(X, target, width=J, weight_bound=cfg.weight_bound, unit_cost=kappa, **common,
                                     **kwargs)
    box: dict[str, Any] = dict(width=J, weight_bound=cfg.weight_bound, bias_bound=cfg.bias_bound,
                               output_bias_bound=cfg.bias_bound,
               unit_cost=kappa, init_units=init_units)
    if method == "hybrid":
        return hybrid_lower_bound(X, target, **box, **common, **kwargs)
    if method != "cg":
        raise DataError(f"method must be cg, transport, hybrid, any width or auto, not {method!r}")
    return any_width_lower_bound(X, target, **box, **common, **kwargs)


__all__ = ["DualBoundResult", "any_width_lower_bound", "bound_for_config", "merge_duplicates", "opposite_pairs",
           "hybrid_lower_bound", "pair_abs_diffs", "price", "standardise", "transport_lower_bound",
           "units_of_network"]
