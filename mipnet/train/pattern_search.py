"""Local search in the space of activation patterns: a primal heuristic for the sign class at thousands of rows.

The sign class (:mod:`.hypothesis`) on standardised rows x_n with labels y_n in {-1, +1}, row weights k_n (the
counts of merged duplicates, :func:`.formulation.merge_rows`) and loss denominator D (the original row count):

    f(x) = c + sum_j v_j ReLU(w_j . x + b_j),   v_j in {-1, 0, +1},  |W| <= B_w,  |b_j|, |c| <= B_b,
    F = (1/D) sum_n k_n max(0, m - y_n f(x_n)) + l1 (sum |W| + sum |v|) + c_n #{j : v_j != 0}.

**The LP of one pattern.** Fix v and an activation pattern a_nj in {0, 1}. Then f(x_n) = c + sum_j v_j a_nj
z_nj with z_nj = w_j . x_n + b_j is linear in (W, b, c), and the best network with this pattern solves

    minimise    (1/D) sum_n k_n xi_n + l1 sum_ji t_ji  (+ the constant l1 sum |v_j| + c_n #{v_j != 0})
    subject to  zp_nj - zn_nj - w_j . x_n - b_j = 0            (z_nj = zp_nj - zn_nj)
                xi_n + y_n c + sum_j y_n v_j zp_nj >= m,  xi_n >= 0
                t_ji - W_ji >= 0,  t_ji + W_ji >= 0
                zp_nj >= 0, zn_nj = 0 where a_nj = 1;   zp_nj = 0, zn_nj >= 0 where a_nj = 0
                |W| <= B_w, |b|, |c| <= B_b;   W_j, b_j, zp_j, zn_j = 0 where v_j = 0.

A feasible point has z_nj >= 0 where a_nj = 1 and z_nj <= 0 where a_nj = 0, so ReLU(z_nj) = a_nj z_nj = zp_nj
and the LP's value at an optimum (where xi_n = max(0, m - y_n f(x_n)) and t = |W|) is F of the network read
from (W, b, c, v). The pattern lives only in column bounds (zp, zn) and a unit's sign in the n coefficients
y_n v_j of its zp column, so one HiGHS instance (matrix API, no Pyomo) is built once and re-solved warm from
its last basis after every move.

**Moves.** (1) *Descent*: at an LP optimum, a row with z_nj = 0 (up to 1e-7) satisfies both sides of its
pattern, so flipping it keeps the current point feasible and the new LP value is <= the current one; the rows
flipped are those whose fixed column (zn_nj when active, zp_nj when inactive) has a negative reduced cost (the
LP would gain by releasing it). (2) *High-loss flips*: for the rows with the largest weighted hinge loss
k_n xi_n, flip one unit that would raise y_n f(x_n) (an inactive unit with y_n v_j > 0 or an active one with
y_n v_j < 0), the one nearest its hyperplane (least |z_nj| / ||w_j||); a batch of s rows at once, s halved after
a rejected batch and doubled after an accepted one. (3) *Near-hyperplane flips*: the helpful flips of rows in
the margin (xi_n > 0) with the least distance |z_nj| / ||w_j||, batched the same way. (4) *Unit moves*:
drop a unit (v_j -> 0), change its sign (v_j -> -v_j with the complementary pattern, which the point
(-w_j, -b_j) satisfies), revive a dropped unit (v_j = +-1 with w_j = 0, b_j = 0: every row is tight, so
descent then decides which rows it serves). Moves (2)-(4) may make the LP worse or infeasible: a move is kept
only if the numpy objective of the LP's network is lower than the current one, else its bounds and basis are
restored. *Block mode* (large n H d, or ``block=True``): in round r only unit r mod H moves, the others' w_j, b_j
held at their values by bounds (a coordinate descent over units; every LP is still exact for its networks).
Every candidate network is scored by numpy on the data (the weights clipped to their boxes), never
by the LP's value, so the returned objective is exact and never above the start's.

It is a local method: no bound is proved here (the returned network is an incumbent for the MILP).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import highspy
import numpy as np
from scipy import sparse

from ..deadline import Deadline
from ..errors import DataError
from ..highs import new_highs, set_time_limit
from .formulation import merge_rows

Weights = list[tuple[np.ndarray, np.ndarray]]

#: a row with |z_nj| at most this is on unit j's hyperplane (HiGHS' primal feasibility tolerance is 1e-7)
TIGHT = 1e-7
#: a reduced cost below -DUAL_SHARE min_n k_n / D marks a tight row whose flip the LP gains by (smaller ones are
#: the noise of degenerate vertices: flips that gain nothing but an LP solve)
DUAL_SHARE = 1e-3
#: a move is kept only if the numpy objective drops by more than this (relative)
IMPROVE = 1e-12
#: above this many nonzeros in the z rows (n H (d + 3)) one unit moves at a time (block mode): the joint LP's first
#: solve took 56 s at Adult 3000 x 4 units x 86 inputs (loaded machine), one unit's 3 s
BLOCK_NNZ = 250_000
#: weights of magnitude below this in an LP solution are read as 0
ZERO = 1e-12


@dataclass
class PatternSearchResult:
    """The best network found (``weights`` in the trainer's format: [(W, b), (v[None, :], [c])]), its objective
    recomputed with numpy on the data (``objective``), the start's (``start_objective``) and ``info``: rounds,
    lp_solves, seconds, build_seconds, moves tried/kept per kind, stop reason, history [(seconds, objective)]."""

    weights: Weights
    objective: float
    start_objective: float
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def improved(self) -> bool:
        return self.objective < self.start_objective


def sign_class_objective(
    W: np.ndarray,
    b: np.ndarray,
    v: np.ndarray,
    c: float,
    X: np.ndarray,
    y: np.ndarray,
    k: np.ndarray,
    D: float,
    *,
    l1: float,
    margin: float,
    neuron_penalty: float = 0.0,
) -> float:
    """F of the module docstring with numpy: (1/D) sum_n k_n hinge_n + l1 (|W| + |v|) + c_n #{v_j != 0}."""
    f = np.maximum(X @ W.T + b, 0.0) @ v + c
    loss = float(np.dot(k, np.maximum(0.0, margin - y * f))) / D
    return loss + l1 * float(np.abs(W).sum() + np.abs(v).sum()) + neuron_penalty * int(np.count_nonzero(v))


class PatternLP:
    """The LP of one (v, pattern) on one HiGHS instance (module docstring); moves change bounds and coefficients.

    ``X`` (n, d) merged rows, ``y`` in {-1, +1}, ``k`` row weights, ``D`` the loss denominator, ``v`` (H,) signs,
    ``A`` (n, H) bool pattern."""

    def __init__(
        self,
        X: np.ndarray,
        y: np.ndarray,
        k: np.ndarray,
        D: float,
        v: np.ndarray,
        A: np.ndarray,
        *,
        l1: float,
        margin: float,
        weight_bound: float,
        bias_bound: float,
        threads: int = 1,
        seed: int = 0,
    ) -> None:
        n, d = X.shape
        H = v.shape[0]
        self.n, self.d, self.H = n, d, H
        self.y = y
        self.v = v.astype(np.float64).copy()
        self.A = A.astype(bool).copy()
        self.Bw, self.Bb = float(weight_bound), float(bias_bound)
        self.free = np.ones(H, dtype=bool)
        self.fixed_W, self.fixed_b = np.zeros((H, d)), np.zeros(H)
        self.dual_tol = DUAL_SHARE * float(k.min(initial=1.0)) / D
        Hd = H * d
        self.iW, self.iT, self.ib, self.ic = 0, Hd, 2 * Hd, 2 * Hd + H
        self.ixi = self.ic + 1
        self.izp = self.ixi + n
        self.izn = self.izp + n * H
        ncol = self.izn + n * H
        self.ncol = ncol
        cost = np.zeros(ncol)
        cost[self.iT : self.iT + Hd] = l1
        cost[self.ixi : self.ixi + n] = k / D
        lo = np.zeros(ncol)
        hi = np.full(ncol, np.inf)
        lo[: self.iT], hi[: self.iT] = -self.Bw, self.Bw
        hi[self.iT : self.ib] = self.Bw
        lo[self.ib : self.ixi], hi[self.ib : self.ixi] = -self.Bb, self.Bb
        # rows: |W| rows (2 Hd), z rows (n H, row n H + j), hinge rows (n)
        jd = np.arange(Hd)
        abs_cols = np.stack([self.iT + jd, self.iW + jd, self.iT + jd, self.iW + jd], axis=1).reshape(2 * Hd, 2)
        abs_vals = np.tile(np.array([[1.0, -1.0], [1.0, 1.0]]), (Hd, 1))
        nj = np.arange(n * H)
        jj = np.tile(np.arange(H), n)
        z_cols = np.empty((n * H, d + 3), dtype=np.int64)
        z_cols[:, 0] = self.izp + nj
        z_cols[:, 1] = self.izn + nj
        z_cols[:, 2 : 2 + d] = self.iW + jj[:, None] * d + np.arange(d)[None, :]
        z_cols[:, d + 2] = self.ib + jj
        z_vals = np.empty((n * H, d + 3))
        z_vals[:, 0], z_vals[:, 1], z_vals[:, d + 2] = 1.0, -1.0, -1.0
        z_vals[:, 2 : 2 + d] = -np.repeat(X, H, axis=0)
        h_cols = np.column_stack(
            [self.ixi + np.arange(n), np.full(n, self.ic), self.izp + np.arange(n * H).reshape(n, H)]
        )
        h_vals = np.column_stack([np.ones(n), y, y[:, None] * self._coef_signs()[None, :]])
        blocks = [(abs_cols, abs_vals), (z_cols, z_vals), (h_cols, h_vals)]
        nrow = 2 * Hd + n * H + n
        indptr = np.concatenate([[0], np.cumsum(np.concatenate([np.full(c.shape[0], c.shape[1]) for c, _ in blocks]))])
        indices = np.concatenate([c.ravel() for c, _ in blocks])
        values = np.concatenate([v_.ravel() for _, v_ in blocks])
        keep = values != 0.0
        if not keep.all():  # drop zero features' entries (row lengths recounted)
            counts = np.add.reduceat(keep.astype(np.int64), indptr[:-1]) if indices.size else np.zeros(nrow, int)
            indptr = np.concatenate([[0], np.cumsum(counts)])
            indices, values = indices[keep], values[keep]
        M = sparse.csr_matrix((values, indices, indptr), shape=(nrow, ncol)).tocsc()
        M.sort_indices()
        row_lo = np.concatenate([np.zeros(2 * Hd), np.zeros(n * H), np.full(n, float(margin))])
        row_hi = np.concatenate([np.full(2 * Hd, np.inf), np.zeros(n * H), np.full(n, np.inf)])
        self.h = new_highs()
        h = self.h
        h.setOptionValue("output_flag", False)
        h.setOptionValue("threads", int(threads))
        h.setOptionValue("random_seed", int(seed))
        h.setOptionValue("presolve", "off")
        h.setOptionValue("solver", "simplex")
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = ncol, nrow
        lp.col_cost_, lp.col_lower_, lp.col_upper_ = cost, lo, hi
        lp.row_lower_, lp.row_upper_ = row_lo, row_hi
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = M.indptr.astype(np.int32)
        lp.a_matrix_.index_ = M.indices.astype(np.int32)
        lp.a_matrix_.value_ = M.data
        h.passModel(lp)
        self._hinge_row0 = 2 * Hd + n * H
        self._coef = self._coef_signs()
        self.set_bounds(np.arange(n), None)
        for j in range(H):
            self._unit_bounds(j)
        self.solves = 0

    def _coef_signs(self) -> np.ndarray:
        """The coefficient sign of each unit's zp columns in the hinge rows (a dropped unit keeps +1 there)."""
        return np.where(self.v != 0, self.v, 1.0)

    # ------------------------------------------------------------------ bounds
    def _change(self, cols: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> None:
        if cols.size:
            self.h.changeColsBounds(int(cols.size), cols.astype(np.int32), lo, hi)

    def set_bounds(self, rows: np.ndarray, units: np.ndarray | None) -> None:
        """Write the pattern's column bounds for the cells (rows[i], units[i]) (units None: every unit of rows)."""
        if units is None:
            rows, units = np.repeat(rows, self.H), np.tile(np.arange(self.H), rows.size)
        on = self.v[units] != 0
        a = self.A[rows, units] & on
        cell = rows * self.H + units
        zero, inf = np.zeros(cell.size), np.full(cell.size, np.inf)
        self._change(self.izp + cell, zero, np.where(a, inf, 0.0))
        self._change(self.izn + cell, zero, np.where(~self.A[rows, units] & on, inf, 0.0))

    def _unit_bounds(self, j: int) -> None:
        on = self.v[j] != 0
        d = self.d
        cols = np.arange(j * d, (j + 1) * d)
        bw, bb = (self.Bw, self.Bb) if on else (0.0, 0.0)
        if on and not self.free[j]:  # block mode: the unit's weights held at their values
            self._change(self.iW + cols, self.fixed_W[j], self.fixed_W[j])
            self._change(np.array([self.ib + j]), self.fixed_b[j : j + 1], self.fixed_b[j : j + 1])
        else:
            self._change(self.iW + cols, np.full(d, -bw), np.full(d, bw))
            self._change(np.array([self.ib + j]), np.array([-bb]), np.array([bb]))
        self._change(self.iT + cols, np.zeros(d), np.full(d, bw))

    def set_free(self, free: np.ndarray, W: np.ndarray, b: np.ndarray) -> None:
        """Block mode: only the units ``free`` move; the others keep the in-weights and biases (W, b)."""
        self.free = free.astype(bool).copy()
        self.fixed_W, self.fixed_b = W.copy(), b.copy()
        for j in range(self.H):
            self._unit_bounds(j)

    def flip(self, rows: np.ndarray, units: np.ndarray) -> None:
        """Flip the pattern at the cells (rows[i], units[i])."""
        self.A[rows, units] = ~self.A[rows, units]
        self.set_bounds(rows, units)

    def set_unit(self, j: int, sign: float, pattern: np.ndarray | None = None) -> None:
        """Give unit j the output sign ``sign`` in {-1, 0, +1} (and, if given, the pattern column ``pattern``)."""
        old = self._coef[j]
        self.v[j] = float(sign)
        if pattern is not None:
            self.A[:, j] = pattern
        new = self._coef_signs()[j]
        if new != old:
            col = self.izp + np.arange(self.n) * self.H + j
            for r, cidx, yv in zip(range(self._hinge_row0, self._hinge_row0 + self.n), col, self.y * new):
                self.h.changeCoeff(int(r), int(cidx), float(yv))
            self._coef[j] = new
        self._unit_bounds(j)
        self.set_bounds(np.arange(self.n), np.full(self.n, j))

    def set_start(self, W: np.ndarray, b: np.ndarray, c: float, X: np.ndarray, margin: float) -> None:
        """Hand HiGHS the point of the network (W, b, c) as a primal start (a feasible point if the pattern is
        that network's): HiGHS builds its first basis from it, which cuts the first solve's iterations."""
        H, d, n = self.H, self.d, self.n
        Z = X @ W.T + b
        x = np.zeros(self.ncol)
        x[self.iW : self.iW + H * d] = W.ravel()
        x[self.iT : self.iT + H * d] = np.abs(W).ravel()
        x[self.ib : self.ib + H], x[self.ic] = b, c
        f = np.maximum(Z, 0.0) @ self.v + c
        x[self.ixi : self.ixi + n] = np.maximum(0.0, margin - self.y * f)
        x[self.izp : self.izp + n * H] = np.where(self.A, np.maximum(Z, 0.0), 0.0).ravel()
        x[self.izn : self.izn + n * H] = np.where(self.A, 0.0, np.maximum(-Z, 0.0)).ravel()
        sol = highspy.HighsSolution()
        sol.col_value = x
        sol.value_valid = True
        self.h.setSolution(sol)

    # ------------------------------------------------------------------ solve and read
    def solve(self, deadline: Deadline) -> bool:
        """Re-solve from the current basis within the deadline; True if an optimal solution was found."""
        limit = deadline.solver_limit()
        set_time_limit(self.h, math.inf if limit is None else float(limit))
        self.h.run()
        self.solves += 1
        return self.h.getModelStatus() == highspy.HighsModelStatus.kOptimal

    def value(self) -> float:
        """The LP objective (without the constant terms of v)."""
        return float(self.h.getInfo().objective_function_value)

    def network(self) -> tuple[np.ndarray, np.ndarray, float]:
        """(W, b, c) of the current LP solution, clipped to the boxes, |entries| < 1e-12 read as 0."""
        x = np.asarray(self.h.getSolution().col_value)
        H, d = self.H, self.d
        W = np.clip(x[self.iW : self.iW + H * d].reshape(H, d), -self.Bw, self.Bw)
        b = np.clip(x[self.ib : self.ib + H], -self.Bb, self.Bb)
        W[np.abs(W) < ZERO] = 0.0
        b[np.abs(b) < ZERO] = 0.0
        off = self.v == 0
        W[off], b[off] = 0.0, 0.0
        return W, b, float(np.clip(x[self.ic], -self.Bb, self.Bb))

    def descent_cells(self, Z: np.ndarray, dual: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The tight cells (|z_nj| <= TIGHT, unit on) whose fixed column has a negative reduced cost in the
        column duals ``dual`` of the LP solution with pre-activations ``Z``."""
        n, H = self.n, self.H
        dzp = dual[self.izp : self.izp + n * H].reshape(n, H)
        dzn = dual[self.izn : self.izn + n * H].reshape(n, H)
        fixed_dual = np.where(self.A, dzn, dzp)
        mask = (np.abs(Z) <= TIGHT) & (fixed_dual < -self.dual_tol) & ((self.v != 0) & self.free)[None, :]
        rows, units = np.nonzero(mask)
        return rows, units

    def save(self) -> tuple[Any, np.ndarray, np.ndarray]:
        return self.h.getBasis(), self.A.copy(), self.v.copy()

    def restore(self, state: tuple[Any, np.ndarray, np.ndarray]) -> None:
        """Undo moves since ``save``: pattern, signs and basis."""
        basis, A, v = state
        changed_units = np.nonzero(v != self.v)[0]
        for j in changed_units:
            self.set_unit(int(j), float(v[j]), A[:, j])
        rows, units = np.nonzero(A != self.A)
        if rows.size:
            self.A[rows, units] = A[rows, units]
            self.set_bounds(rows, units)
        self.h.setBasis(basis)


@dataclass
class _Point:
    """The current network of the search, its rows' pre-activations Z (n, H), the LP duals and F (numpy)."""

    W: np.ndarray
    b: np.ndarray
    v: np.ndarray
    c: float
    Z: np.ndarray
    dual: np.ndarray
    F: float


def _start_network(weights: Weights, d: int, weight_bound: float, bias_bound: float) -> tuple[Any, ...]:
    """(W, b, v, c) of a sign-class network in the trainer's format, checked against the class."""
    if len(weights) != 2:
        raise DataError(f"pattern search takes one hidden layer (two Dense layers), got {len(weights)}")
    W = np.array(weights[0][0], dtype=np.float64)
    b = np.array(weights[0][1], dtype=np.float64).ravel()
    V = np.asarray(weights[1][0], dtype=np.float64)
    cb = np.asarray(weights[1][1], dtype=np.float64).ravel()
    H = W.shape[0]
    if W.shape != (H, d) or b.shape != (H,) or V.shape != (1, H) or cb.shape != (1,):
        raise DataError(f"weights must be [(W ({H}, {d}), b ({H},)), (v (1, {H}), c (1,))]")
    v = V[0].copy()
    if not np.all(np.isin(v, (-1.0, 0.0, 1.0))):
        raise DataError("the sign class takes output weights in {-1, 0, +1}")
    tol = 1e-9
    if (
        np.abs(W).max(initial=0.0) > weight_bound + tol
        or max(np.abs(b).max(initial=0.0), abs(cb[0])) > bias_bound + tol
    ):
        raise DataError("the start network is outside the weight / bias boxes")
    return (
        np.clip(W, -weight_bound, weight_bound),
        np.clip(b, -bias_bound, bias_bound),
        v,
        float(np.clip(cb[0], -bias_bound, bias_bound)),
    )


def canonical_weights(W: np.ndarray, b: np.ndarray, v: np.ndarray, c: float) -> Weights:
    """The network in the trainer's format with the training MILP's unit order (positive units, then negative,
    then pruned ones; within a sign group biases non-increasing) and pruned units all zero. f is unchanged."""
    W, b, v = W.copy(), b.copy(), v.copy()
    W[v == 0], b[v == 0] = 0.0, 0.0
    group = np.where(v > 0, 0, np.where(v < 0, 1, 2))
    order = np.lexsort((-b, group))
    return [(W[order], b[order]), (v[order][None, :].astype(np.float64), np.array([float(c)]))]


def _pick(scores: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    """Indices of ``count`` entries drawn from the 2 * count best (highest) scores (all if fewer)."""
    pool = np.argsort(-scores, kind="stable")[: 2 * count]
    if pool.size <= count:
        return pool
    return np.sort(rng.choice(pool, size=count, replace=False))


def improve_by_patterns(
    Xs: np.ndarray,
    target: np.ndarray,
    weights: Weights,
    *,
    l1: float,
    margin: float,
    weight_bound: float,
    bias_bound: float,
    sample_weight: np.ndarray | None = None,
    loss_denominator: float | None = None,
    deadline: Deadline | float | None,
    seed: int = 0,
    neuron_penalty: float = 0.0,
    max_rounds: int | None = None,
    block: bool | None = None,
    depth: int = 3,
    patience: int = 10,
    threads: int = 1,
) -> PatternSearchResult:
    """Local search over activation patterns from the sign-class network ``weights`` (module docstring).

    ``Xs`` (N, d) standardised rows, ``target`` in {-1, +1}; ``sample_weight`` (N,) row weights, loss denominator
    ``loss_denominator`` (default their sum, N without weights). Duplicate rows are merged here. Stops when the
    ``deadline`` (a Deadline or seconds) expires, after ``max_rounds`` rounds, or when ``patience`` rounds in a
    row kept no move at the smallest batch size (``patience`` H in block mode: ``block`` None decides by the LP's
    size). Each move is followed by up to ``depth`` descent re-solves
    before it is judged. The result is never worse than the start (the start itself if nothing improved)."""
    t_start = time.perf_counter()
    dl = Deadline.of(deadline)
    Xs = np.asarray(Xs, dtype=np.float64)
    target = np.asarray(target, dtype=np.float64).ravel()
    N, d = Xs.shape
    if target.shape != (N,) or not np.all(np.isin(target, (-1.0, 1.0))):
        raise DataError("pattern search takes labels in {-1, +1}, one per row")
    sw = np.ones(N) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64).ravel()
    if sw.shape != (N,) or np.any(sw <= 0) or not np.all(np.isfinite(sw)):
        raise DataError(f"sample_weight must be {N} finite positive numbers")
    D = float(loss_denominator) if loss_denominator else float(sw.sum())
    W0, b0, v0, c0 = _start_network(weights, d, weight_bound, bias_bound)
    H = v0.shape[0]
    pen = {"l1": float(l1), "margin": float(margin), "neuron_penalty": float(neuron_penalty)}
    start_F = sign_class_objective(W0, b0, v0, c0, Xs, target, sw, D, **pen)
    X, y, _, inverse = merge_rows(Xs, target)
    k = np.bincount(inverse, weights=sw, minlength=X.shape[0])
    n = X.shape[0]

    def objective(W: np.ndarray, b: np.ndarray, v: np.ndarray, c: float) -> float:
        return sign_class_objective(W, b, v, c, X, y, k, D, **pen)

    info: dict[str, Any] = {"rows": N, "merged_rows": n, "rounds": 0, "lp_solves": 0, "kept": {}, "tried": {}}
    history: list[tuple[float, float]] = [(0.0, start_F)]
    W0[v0 == 0], b0[v0 == 0] = 0.0, 0.0
    best = (W0, b0, v0, c0, objective(W0, b0, v0, c0))

    def finish(reason: str, lp: PatternLP | None) -> PatternSearchResult:
        W, b, v, c, _ = best
        F = sign_class_objective(W, b, v, c, Xs, target, sw, D, **pen)
        info.update(stop=reason, seconds=time.perf_counter() - t_start, history=history)
        info["lp_solves"] = 0 if lp is None else lp.solves
        if not F < start_F:
            return PatternSearchResult([(np.array(a), np.array(z)) for a, z in weights], start_F, start_F, info)
        return PatternSearchResult(canonical_weights(W, b, v, c), F, start_F, info)

    if dl.expired() or n == 0:
        return finish("deadline", None)
    if block is None:
        block = n * H * (d + 3) > BLOCK_NNZ
    info["block"] = bool(block)
    t_build = time.perf_counter()
    Z0 = X @ W0.T + b0
    lp = PatternLP(
        X,
        y,
        k,
        D,
        v0,
        Z0 > 0,
        l1=l1,
        margin=margin,
        weight_bound=weight_bound,
        bias_bound=bias_bound,
        threads=threads,
        seed=seed,
    )
    if block:
        lp.set_free(np.arange(H) == 0, W0, b0)
    lp.set_start(W0, b0, c0, X, margin)
    info["build_seconds"] = time.perf_counter() - t_build
    if not lp.solve(dl):
        return finish("deadline" if dl.expired() else "first LP not solved", lp)
    rng = np.random.default_rng(seed)

    def read() -> _Point:
        W, b, c = lp.network()
        v = lp.v.copy()
        dual = np.asarray(lp.h.getSolution().col_dual)
        return _Point(W, b, v, c, X @ W.T + b, dual, objective(W, b, v, c))

    cur = read()

    def keep(p: _Point) -> None:
        nonlocal cur, best
        cur = p
        if p.F < best[4]:
            best = (p.W, p.b, p.v, p.c, p.F)
            history.append((time.perf_counter() - t_start, p.F))

    keep(cur)

    def descend(p: _Point, steps: int) -> _Point | None:
        """Up to ``steps`` descent re-solves from the LP's current solution ``p``; the last point solved."""
        for _ in range(steps):
            rows, units = lp.descent_cells(p.Z, p.dual)
            if rows.size == 0 or dl.expired():
                break
            lp.flip(rows, units)
            if not lp.solve(dl):
                return None
            p = read()
        return p

    def attempt(kind: str, move: Callable[..., None], *args: Any) -> bool:
        """Apply ``move(*args)``, re-solve, descend ``depth`` steps; keep if F dropped, else restore."""
        info["tried"][kind] = info["tried"].get(kind, 0) + 1
        state = lp.save()
        move(*args)
        p = read() if lp.solve(dl) else None
        if p is not None:
            p = descend(p, depth)
        if p is not None and p.F < cur.F - IMPROVE * max(1.0, abs(cur.F)):
            keep(p)
            info["kept"][kind] = info["kept"].get(kind, 0) + 1
            return True
        lp.restore(state)
        return False

    def helpful() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Cells whose flip would raise y_n f(x_n), their distance to the hyperplane, and the hinge losses."""
        f = np.maximum(cur.Z, 0.0) @ cur.v + cur.c
        xi = np.maximum(0.0, margin - y * f)
        yv = y[:, None] * cur.v[None, :]
        good = ((~lp.A & (yv > 0)) | (lp.A & (yv < 0))) & ((cur.v != 0) & lp.free)[None, :]
        dist = np.abs(cur.Z) / (np.linalg.norm(cur.W, axis=1)[None, :] + 1e-12)
        return good, dist, xi

    batch = {"loss": max(1, n // 20), "near": max(1, n // 20)}
    step = {"step": 0.1, "shift": 0.1}

    def realisable(kind: str, W: np.ndarray, b: np.ndarray) -> bool:
        """Move to the pattern of the network (W, b, cur.v, cur.c), a feasible point of that pattern's LP."""
        A = (X @ W.T + b > 0) | ((cur.v == 0)[None, :] & lp.A)
        rows, units = np.nonzero(A != lp.A)
        if rows.size == 0:
            step[kind] = min(1.0, 2.0 * step[kind])
            return False
        ok = attempt(kind, lp.flip, rows, units)
        step[kind] = min(1.0, 2.0 * step[kind]) if ok else max(1e-4, 0.5 * step[kind])
        return ok

    def step_move() -> bool:
        """A subgradient step of F on (W, b) of length step * B_w (largest entry), then that network's pattern."""
        f = np.maximum(cur.Z, 0.0) @ cur.v + cur.c
        g_f = np.where(margin - y * f > 0, -y * k / D, 0.0)
        g_z = g_f[:, None] * cur.v[None, :] * (cur.Z > 0)
        gW = g_z.T @ X + l1 * np.sign(cur.W)
        gb = g_z.sum(axis=0) * lp.free
        gW *= lp.free[:, None]
        scale = max(float(np.abs(gW).max(initial=0.0)), float(np.abs(gb).max(initial=0.0)), 1e-300)
        s = step["step"] * weight_bound / scale
        W = np.clip(cur.W - s * gW, -weight_bound, weight_bound)
        return realisable("step", W, np.clip(cur.b - s * gb, -bias_bound, bias_bound))

    def shift_move() -> bool:
        """Shift one unit's hyperplane (its bias) by step * B_b in a random direction."""
        on = np.nonzero((cur.v != 0) & lp.free)[0]
        if on.size == 0:
            return False
        j = int(rng.choice(on))
        b = cur.b.copy()
        b[j] = np.clip(b[j] + rng.choice([-1.0, 1.0]) * step["shift"] * bias_bound, -bias_bound, bias_bound)
        return realisable("shift", cur.W, b)

    def flip_move(kind: str) -> bool:
        good, dist, xi = helpful()
        if kind == "loss":
            rows = np.nonzero((xi > 0) & good.any(axis=1))[0]
            if rows.size == 0:
                return False
            chosen = rows[_pick(k[rows] * xi[rows], batch[kind], rng)]
            units = np.argmin(np.where(good[chosen], dist[chosen], np.inf), axis=1)
        else:
            cand = good & (xi > 0)[:, None] & (np.abs(cur.Z) > TIGHT)
            r_all, u_all = np.nonzero(cand)
            if r_all.size == 0:
                return False
            sel = _pick(-dist[r_all, u_all], batch[kind], rng)
            chosen, units = r_all[sel], u_all[sel]
        ok = attempt(kind, lp.flip, chosen, units)
        batch[kind] = min(n, 2 * batch[kind]) if ok else max(1, batch[kind] // 2)
        return ok

    def unit_moves() -> bool:
        for j in rng.permutation(np.nonzero(lp.free)[0]):
            j = int(j)
            s = float(cur.v[j])
            if s != 0:
                moves = [("drop", 0.0, None), ("sign", -s, ~lp.A[:, j])]
            else:
                moves = [("revive", 1.0, np.zeros(n, bool)), ("revive", -1.0, np.zeros(n, bool))]
            for kind, sign, pattern in moves:
                if dl.expired():
                    return False
                if attempt(kind, lp.set_unit, j, sign, pattern):
                    return True
        return False

    stall = 0
    while True:
        if dl.expired():
            return finish("deadline", lp)
        if max_rounds is not None and info["rounds"] >= max_rounds:
            return finish("round limit", lp)
        info["rounds"] += 1
        if block:  # one unit moves per round, in turn
            lp.set_free(np.arange(H) == (info["rounds"] - 1) % H, cur.W, cur.b)
        rows, units = lp.descent_cells(cur.Z, cur.dual)
        if rows.size and attempt("descent", lp.flip, rows, units):
            stall = 0
            continue
        if step_move() or shift_move() or unit_moves() or flip_move("loss") or flip_move("near"):
            stall = 0
            continue
        if batch["loss"] == 1 and batch["near"] == 1 and step["step"] < 1e-3:
            stall += 1
            if stall >= patience * (H if block else 1):
                return finish("local optimum", lp)


__all__ = [
    "PatternLP",
    "PatternSearchResult",
    "canonical_weights",
    "improve_by_patterns",
    "sign_class_objective",
]
