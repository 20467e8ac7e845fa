"""The linear term alone, trained by cutting planes on its convex loss: a MILP whose size does not grow with N.

**When.** The network is the linear term of :mod:`.linear_term` alone (``linear`` on, ``max_neurons = 0``: every
hidden unit off), binary classification with the hinge or the logistic loss, l1 and l0 terms, and the weight
constraints a linear model can hold (excluded features, weight signs, a feature budget, ``max_nonzeros``, output
orders); see :func:`applies`. Notation: standardised rows x_n in R^d (merged duplicates with counts c_n), labels
y_n in {-1, +1}, D the number of original rows, f(x) = w . x + b, w in [-B_w, B_w]^d, b in [-B_b, B_b].

**Objective** (the training objective of this class, exactly)::

    F(w, b) = L(w, b) + l1 ||w||_1 + l2 ||w||_2^2 + l0 ||w||_0,    L(w, b) = (1/D) sum_n c_n l(y_n (w . x_n + b)),
    l(z) = max(0, m - z) (hinge)  or  log(1 + exp(-z)) (logistic).

L is convex. **Cuts**: for the logistic loss, at any point (w_k, b_k) the tangent
theta >= L(w_k, b_k) + grad L(w_k, b_k) . (w - w_k, b - b_k) lies below L everywhere. For the hinge, for any
alpha_n in [0, 1], max(0, a) >= alpha_n a gives theta >= (1/D) sum_n c_n alpha_n (m - y_n (w . x_n + b)), below L
everywhere (alpha_n = [m - y_n f(x_n) > 0] is the subgradient cut at a point; the duals of a restricted LP are
another choice). **The master MILP** over (w, b, t, z, theta)::

    minimise  theta + l1 sum_i t_i + l2 sum_i s_i + l0 sum_i z_i
    s.t.      the cuts;  theta >= 0 (both losses are >= 0);  t_i >= w_i, t_i >= -w_i
              s_i >= 2 a w_i - a^2 z_i  at a = w_i of every cut point (l2 > 0; z_i = 1 without binaries)
              |w_i| <= B_w z_i, z_i in {0, 1}        (with l0 > 0 or a budget: z_i >= [w_i != 0])
              sum_i z_i <= k                          (feature budget / max_nonzeros)
              w_i = 0 (excluded),  s w_i >= 0 (sign s),  w . (x_a - x_b) >= delta (output order)

The s_i cuts are the perspective of w_i^2: (w_i - a z_i)^2 >= 0 gives w_i^2 >= 2 a w_i z_i - a^2 z_i^2, i.e.
w_i^2 / z_i >= 2 a w_i - a^2 z_i for z_i = 1, and w_i = 0 when z_i = 0; so s_i = w_i^2 meets them, and with a
feature budget they are much tighter than a tangent (a weight the relaxation spreads over a fractional z_i pays
w_i^2 / z_i). l2 > 0 is covered with the logistic loss (its polish stays smooth).
Every feasible (w, b) of the class has a master point of value <= F(w, b) (each cut is below L), so the master's
proved bound is a lower bound on min F, **whatever points the cuts were taken at**. Its size is
3d + 2 columns (4d + 2 with l2) and one row per cut, independent of N; a cut costs one pass over the distinct rows.

**Algorithm** (outer approximation, Kelley's cutting planes with a MILP master). Cuts at the best constant model
and at the optimum over all allowed features; then repeat: solve the master, cut at its solution (w_m, b_m); on
each new support S of a master solution, **polish**: the convex problem restricted to S solved to high accuracy
(:mod:`.linear_polish`; logistic: L-BFGS-B on w = u - v; hinge: an LP in HiGHS, in its dual form with |S| + 2
rows, whose solution gives the hinge cut), which gives an
incumbent and a cut that is tight at the support's optimum (its linearisation has the same optimality
conditions, so the master values that support exactly). Stop when the gap (F_best - bound) / F_best reaches the
MIP gap, when the master's solution lies on its cuts (L(w_m, b_m) <= theta_m: the master's optimum is then F's),
or at the deadline. The incumbent is the best F (numpy) of a point meeting every constraint.

The certificate records the points (``formulation["cuts"]["points"]``) and the re-check recomputes every cut
from the data and solves the master again (:func:`master_bound`): an edited point only changes which valid cuts
are used; it cannot make the bound invalid.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from ..deadline import Deadline
from ..errors import DataError, LimitError
from ..highs import set_time_limit
from . import linear_polish
from .config import TrainConfig
from .constraints import ConstraintError, unreachable_order

#: supported losses (binary classification)
LOSSES = ("hinge", "logistic")
#: constraint kinds a linear model holds as rows of the master
KINDS = ("exclude", "sign", "budget", "order")
#: at most this many points are recorded in the certificate (all cuts, in order, up to the cap)
MAX_RECORDED_POINTS = 4000
#: cut slopes below this are set to zero, their largest effect over the box taken from the cut's constant (HiGHS
#: stores entries below its small_matrix_value as zero and its dual tolerance is 1e-9)
TINY_SLOPE = 1e-9
#: groups of rows of the master's loss variables (theta_g >= cuts of the group's rows), by loss: the hinge's cuts
#: per row are its exact rows (Adult 1000, K = 3, 60 s: one group 7.3 % gap, 32 groups 1.3 %, every row its own
#: group optimal in 36 s); one tangent of the smooth logistic loss for all rows did better than 32 groups
#: at most this many groups (the hinge: every row its own up to 1024 rows; full Adult, 37 666 distinct rows, 60 s:
#: one group per row proved no bound, 1024 groups 9 %)
GROUPS_BY_LOSS = {"hinge": 1024, "logistic": 1}
#: a hinge polish (an LP over every row, entries = rows x support) is skipped above this many entries, by its form
#: (:mod:`.linear_polish`). The primal LP: full Adult's first polish, over all 86 features, took the whole minute;
#: the dual LP (|S| + 2 rows, no output orders) solves those 3.2 M entries in about 7 s
HINGE_POLISH_MAX_ENTRIES = {"primal": 1_000_000, "dual": 10_000_000}
#: one polish may take at most this share of the time left (a hinge LP over every row of full Adult took a minute)
POLISH_SHARE = 0.3
#: with a feature budget K and the logistic loss, polish the K largest weights of the fit over every feature first
#: (:func:`top_k_support`; full Adult, K = 3, 45 s: 2.2 % -> optimal in 3 of 3. With the hinge its LP polish over
#: every row cost the master a quarter of the time: 18 % -> 28 %, so the hinge goes without it)
TOP_K_START = True
#: with a feature budget, after the top-K start: swaps of one feature of the incumbent's support for one of the
#: ``SWAP_CANDIDATES`` features outside it with the steepest loss slope, each polished, the first improvement kept
#: (:func:`swap_search`), within ``SWAP_SHARE`` of the time left. The logistic loss only, as the top-K start: a
#: hinge polish is an LP over every row (on full Adult a quarter of the time went to the top-K start's polishes)
SWAP_SEARCH = True
SWAP_CANDIDATES = 5
SWAP_SHARE = 0.25
#: hinge records list the alphas of the rows this close to the margin (the others follow from the point)
MARGIN_TIE = 1e-7
#: the LP-relaxation phase (with binaries): at most this share of the time and this many rounds; it stops when
#: the bound gained nothing (1e-6 relative) over ``LP_STALL`` rounds
LP_PHASE_SHARE = 0.2
LP_PHASE_ROUNDS = 200
LP_STALL = 5
#: the master MILP's own relative gap is a fifth of the overall gap, at most this (at least mip_gap / 4)
MASTER_GAP_CAP = 0.01


def applies(cfg: TrainConfig, task: str, n_classes: int) -> str | None:
    """None if the cutting-plane fit covers ``cfg`` (the module docstring's "When"), else what it does not cover."""
    if task != "classify" or n_classes != 2:
        return "binary classification only"
    if not cfg.linear or cfg.max_neurons != 0 or len(cfg.hidden) != 1:
        return "the linear term alone (linear on, max_neurons = 0, one hidden layer held off)"
    if cfg.loss not in LOSSES:
        return f"the hinge or logistic loss (not {cfg.loss!r})"
    if cfg.architecture is not None:
        return "dense nets only"
    if float(cfg.layer_penalty) != 0.0:
        return "no layer_penalty"
    if float(cfg.l2) != 0.0 and cfg.loss != "logistic":
        return "l2 with the logistic loss only (the hinge's polish is an LP)"
    kinds = {c.kind for c in cfg.constraints}
    if not kinds <= set(KINDS):
        return f"constraints of the kinds {', '.join(KINDS)} (not {', '.join(sorted(kinds - set(KINDS)))})"
    return None


def _loss(z: np.ndarray, loss: str, margin: float) -> np.ndarray:
    if loss == "logistic":
        return np.logaddexp(0.0, -z)
    return np.maximum(0.0, margin - z)


def _slope(z: np.ndarray, loss: str, margin: float) -> np.ndarray:
    """dl/dz (logistic) or minus the hinge's alpha (hinge: -1 where m - z > 0, else 0)."""
    if loss == "logistic":
        return -0.5 * (1.0 - np.tanh(0.5 * z))  # -1 / (1 + exp(z)), stable
    return -(margin - z > 0).astype(np.float64)


@dataclass
class CutsResult:
    """The fit: w (d,), b, status (optimal | feasible), F of (w, b) by numpy, the proved bound, the points."""

    w: np.ndarray
    b: float
    status: str
    objective: float
    bound: float | None
    points: list[Any]
    iterations: int
    master_solves: int
    polishes: int
    seconds: float
    stop: str
    trace: list[tuple[float, float | None, float | None]] = field(default_factory=list)
    groups: int = 1

    def record(self) -> dict[str, Any]:
        """What the certificate's formulation keeps (``cuts``)."""
        return {
            "method": "outer approximation (cutting planes on the convex loss)",
            "groups": self.groups,
            "points": self.points[:MAX_RECORDED_POINTS],
            "truncated": len(self.points) > MAX_RECORDED_POINTS,
            "iterations": self.iterations,
            "master_solves": self.master_solves,
            "polishes": self.polishes,
            "stop": self.stop,
        }


class LinearCuts:
    """The data, the class and the master MILP of the module docstring (one ``highspy.Highs``)."""

    def __init__(
        self,
        Xm: np.ndarray,
        tm: np.ndarray,
        cfg: TrainConfig,
        counts: np.ndarray | None = None,
        n_rows: int | None = None,
        threads: int | None = None,
        groups: int = 1,
    ) -> None:
        self.X = np.asarray(Xm, dtype=np.float64)
        self.y = np.asarray(tm, dtype=np.float64).ravel()
        if self.X.ndim != 2 or self.y.shape != (self.X.shape[0],) or self.X.shape[0] == 0:
            raise DataError("the cutting-plane fit needs X (N, d) and one label per row, N >= 1")
        if not np.all(np.isfinite(self.X)) or not np.all(np.abs(self.y) == 1.0):
            raise DataError("the cutting-plane fit needs finite X and labels in {-1, +1}")
        self.cfg = cfg
        self.N, self.d = self.X.shape
        self.G = max(1, min(int(groups), self.N))
        import scipy.sparse as sp

        # row n is in group n mod G: the (G, N) indicator sums the rows' cut terms per group
        self.grouping = sp.csr_matrix(
            (np.ones(self.N), (np.arange(self.N) % self.G, np.arange(self.N))), shape=(self.G, self.N)
        )
        c = np.ones(self.N) if counts is None else np.asarray(counts, dtype=np.float64).ravel()
        self.weight = c / float(n_rows if n_rows else c.sum())  # c_n / D
        self.loss, self.margin = str(cfg.loss), float(cfg.margin)
        self.Bw, self.Bb = float(cfg.weight_bound), float(cfg.bias_bound)
        self.l1, self.l0, self.l2 = float(cfg.l1), float(cfg.l0), float(cfg.l2)
        d = self.d
        lo, hi = np.full(d, -self.Bw), np.full(d, self.Bw)
        self.orders: list[tuple[np.ndarray, float]] = []
        budget: int | None = None if cfg.max_nonzeros is None else int(cfg.max_nonzeros)
        for r in cfg.constraints:
            if r.kind == "exclude":
                lo[list(r.features)], hi[list(r.features)] = 0.0, 0.0
            elif r.kind == "sign":
                i = int(r.features[0])
                if r.sign > 0:
                    lo[i] = 0.0
                elif r.sign < 0:  # (a recorded 0 is refused by read_resolved; it restricts nothing anywhere)
                    hi[i] = 0.0
            elif r.kind == "budget":
                budget = int(r.k) if budget is None else min(budget, int(r.k))
            elif r.kind == "order":
                self.orders.append((np.asarray(r.x_a, dtype=np.float64) - np.asarray(r.x_b), float(r.delta)))
        self.w_lo, self.w_hi = lo, hi
        for dx, delta in self.orders:  # w . dx over the weight box at most (bias cancels)
            unreachable_order(float(np.maximum(dx * lo, dx * hi).sum()), delta, "every linear model in its weight box")
        self.budget = budget
        self.binaries = self.l0 > 0 or (budget is not None and budget < int(np.count_nonzero(hi - lo)))
        self.infeasible = False  # the last master solve proved no weights meet the constraint rows
        self._build_master(threads)

    # ------------------------------------------------------------------ the objective
    def margins(self, w: np.ndarray, b: float) -> np.ndarray:
        return self.y * (self.X @ w + b)

    def objective(self, w: np.ndarray, b: float) -> float:
        """F(w, b) with numpy (module docstring)."""
        L = float(self.weight @ _loss(self.margins(w, b), self.loss, self.margin))
        return L + self.l1 * float(np.abs(w).sum()) + self.l2 * float(w @ w) + self.l0 * float(np.count_nonzero(w))

    def cut(
        self, w: np.ndarray, b: float, alpha: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(g_w (G, d), g_b (G,), r (G,)): theta_g >= g_w[g] . w + g_b[g] b + r[g] for each group g of rows,
        below L_g = (1/D) sum_{n in g} c_n l(...) everywhere. Logistic: the tangent at (w, b); hinge: alpha
        (default the subgradient's indicator at (w, b)), clipped to [0, 1]."""
        if self.loss == "hinge" and alpha is not None:
            a = np.clip(np.asarray(alpha, dtype=np.float64), 0.0, 1.0)
            s = -a * self.weight  # d/dz of sum_n weight_n a_n (m - z_n)
            rn = self.margin * (self.weight * a)
        else:
            z = self.margins(w, b)
            s = self.weight * _slope(z, self.loss, self.margin)
            if self.loss == "hinge":
                rn = self.margin * (-s)  # exact: the active rows' m, the others 0
            else:
                rn = self.weight * _loss(z, self.loss, self.margin) - s * z
        sy = s * self.y
        A = self.grouping
        return np.asarray(A @ (self.X * sy[:, None])), A @ sy, A @ rn

    def clean(self, w: np.ndarray, b: float, z: np.ndarray | None = None) -> tuple[np.ndarray, float]:
        """A master point made to meet the class exactly: off switches' weights 0, |w| < 1e-9 to 0, boxes."""
        w = np.clip(np.asarray(w, dtype=np.float64), self.w_lo, self.w_hi)
        if z is not None:
            w[np.round(z) < 0.5] = 0.0
        w[np.abs(w) < 1e-9] = 0.0
        return w, float(np.clip(b, -self.Bb, self.Bb))

    def feasible(self, w: np.ndarray) -> bool:
        """Whether w meets every constraint (orders to 1e-9 of delta)."""
        if np.any(w < self.w_lo) or np.any(w > self.w_hi):
            return False
        if self.budget is not None and np.count_nonzero(w) > self.budget:
            return False
        return all(float(dx @ w) >= delta - 1e-9 for dx, delta in self.orders)

    # ------------------------------------------------------------------ the master
    def _build_master(self, threads: int | None) -> None:
        import highspy

        from .matrix.model import _new_highs

        d, inf = self.d, highspy.kHighsInf
        self.col_w = np.arange(d)
        self.col_b = d
        self.col_t = d + 1 + np.arange(d)
        nz = d if self.binaries else 0
        self.col_z = 2 * d + 1 + np.arange(nz)
        self.col_theta = 2 * d + 1 + nz + np.arange(self.G)  # one theta_g per group of rows
        ns = d if self.l2 > 0 else 0
        self.col_s = 2 * d + 1 + nz + self.G + np.arange(ns)  # s_i >= w_i^2 (l2 > 0)
        n_col = 2 * d + 1 + nz + self.G + ns
        cost = np.zeros(n_col)
        cost[self.col_t] = self.l1
        cost[self.col_theta] = 1.0
        cost[self.col_s] = self.l2
        w_max = np.maximum(np.abs(self.w_lo), np.abs(self.w_hi))
        lo = np.concatenate([self.w_lo, [-self.Bb], np.zeros(d), np.zeros(nz), np.zeros(self.G), np.zeros(ns)])
        hi = np.concatenate(
            [self.w_hi, [self.Bb], np.full(d, self.Bw), np.ones(nz), np.full(self.G, inf), (w_max**2)[:ns]]
        )
        if self.binaries:
            cost[self.col_z] = self.l0
        h = _new_highs(threads)
        h.setOptionValue("primal_feasibility_tolerance", 1e-9)
        h.setOptionValue("dual_feasibility_tolerance", 1e-9)
        h.setOptionValue("mip_feasibility_tolerance", 1e-9)
        for j in range(n_col):
            h.addCol(float(cost[j]), float(lo[j]), float(hi[j]), 0, np.zeros(0, dtype=np.int32), np.zeros(0))
        if self.binaries:
            h.changeColsIntegrality(nz, self.col_z.astype(np.int32), np.ones(nz, dtype=np.uint8))

        def row(lo_: float, hi_: float, cols: Any, vals: Any) -> None:
            h.addRow(lo_, hi_, len(cols), np.asarray(cols, dtype=np.int32), np.asarray(vals, dtype=np.float64))

        for i in range(d):
            row(0.0, inf, [self.col_t[i], self.col_w[i]], [1.0, -1.0])
            row(0.0, inf, [self.col_t[i], self.col_w[i]], [1.0, 1.0])
            if self.binaries:
                row(-inf, 0.0, [self.col_w[i], self.col_z[i]], [1.0, -self.Bw])
                row(-inf, 0.0, [self.col_w[i], self.col_z[i]], [-1.0, -self.Bw])
        if self.binaries and self.budget is not None:
            row(-inf, float(self.budget), self.col_z, np.ones(d))
        for dx, delta in self.orders:
            nzi = np.flatnonzero(dx)
            row(float(delta), inf, self.col_w[nzi], dx[nzi])
        self.h, self.n_col, self.cuts = h, n_col, 0
        self.cut_rows: list[tuple[int, np.ndarray]] = []  # (group, (g_w, g_b, r)) of each cut row
        self._seen: set[tuple[int, bytes]] = set()
        self._squares: set[tuple[int, float]] = set()  # (i, a) of each s_i cut

    def add_point(self, w: np.ndarray, b: float, alpha: np.ndarray | None = None) -> None:
        """The cuts of a point (w, b): the loss's (:meth:`cut`, :meth:`add_cut`) and, with l2, the s_i cuts at a = w_i
        for every w_i != 0 (:meth:`add_square_cuts`)."""
        self.add_cut(*self.cut(w, b, alpha))
        self.add_square_cuts(w)

    def add_square_cuts(self, w: np.ndarray) -> None:
        """s_i - 2 a w_i + a^2 z_i >= 0 (without binaries: s_i - 2 a w_i >= -a^2) at a = w_i, each (i, a) once."""
        if self.l2 <= 0:
            return
        for i in np.flatnonzero(w):
            a = float(w[i])
            if (int(i), a) in self._squares:
                continue
            self._squares.add((int(i), a))
            if self.binaries:
                cols, vals, lo_ = [self.col_s[i], self.col_w[i], self.col_z[i]], [1.0, -2.0 * a, a * a], 0.0
            else:
                cols, vals, lo_ = [self.col_s[i], self.col_w[i]], [1.0, -2.0 * a], -a * a
            self.h.addRow(lo_, np.inf, 2 + int(self.binaries), np.asarray(cols, dtype=np.int32), np.asarray(vals))

    def smooth_estimate(self, x: np.ndarray) -> float:
        """The master's value of L + l2 ||w||^2 at its solution x: sum_g theta_g + l2 sum_i s_i."""
        return float(x[self.col_theta].sum()) + self.l2 * float(x[self.col_s].sum())

    def add_cut(self, g_w: np.ndarray, g_b: np.ndarray, r: np.ndarray) -> None:
        """theta_g - g_w[g] . w - g_b[g] b >= r[g] for every group g (a group's all-zero cut is left out)."""
        import highspy

        # slopes HiGHS would store as zero are dropped and paid for in the constant (g_i w_i >= -|g_i| max|w_i| on
        # the box): a slope of -7.6e-11 lost with its constant kept lifted the cut above the loss (a false optimum)
        g_w, g_b, r = (np.array(a, dtype=np.float64) for a in (g_w, g_b, r))
        tw, tb = np.abs(g_w) < TINY_SLOPE, np.abs(g_b) < TINY_SLOPE
        r = r - (np.abs(g_w) * tw) @ np.maximum(np.abs(self.w_lo), np.abs(self.w_hi)) - np.abs(g_b) * tb * self.Bb
        g_w[tw], g_b[tb] = 0.0, 0.0
        rows = np.hstack([g_w, g_b[:, None], r[:, None]])
        keep = []
        for g in np.flatnonzero(np.any(rows != 0.0, axis=1)):  # an all-zero cut is theta_g >= 0, already there
            key = (int(g), rows[g].tobytes())
            if key in self._seen:
                continue  # the same row again (a one-row group of the hinge has only its active piece)
            self._seen.add(key)
            keep.append(int(g))
        if keep:
            k = np.asarray(keep)
            vals = np.hstack([-g_w[k], -g_b[k][:, None], np.ones((k.size, 1))])  # (w, b, theta_g) per row
            ids = np.tile(np.concatenate([self.col_w, [self.col_b, 0]]), (k.size, 1))
            ids[:, -1] = self.col_theta[k]
            mask = vals != 0.0
            mask[:, -1] = True
            starts = np.concatenate([[0], np.cumsum(mask.sum(axis=1))[:-1]]).astype(np.int32)
            index, value = ids[mask].astype(np.int32), vals[mask]
            upper = np.full(k.size, highspy.kHighsInf)
            self.h.addRows(k.size, r[k].astype(np.float64), upper, index.size, starts, index, value)
            self.cut_rows += [(int(g), rows[g]) for g in k]
        self.cuts += 1

    def start(self, w: np.ndarray, b: float) -> None:
        """Give the master the point of the network (w, b) (each theta_g the largest of its cuts there)."""
        import highspy

        x = np.zeros(self.n_col)
        x[self.col_w], x[self.col_b], x[self.col_t] = w, b, np.abs(w)
        x[self.col_s] = (w**2)[: self.col_s.size]
        if self.binaries:
            x[self.col_z] = (w != 0).astype(np.float64)
        theta = np.zeros(self.G)
        if self.cut_rows:
            grp = np.array([g for g, _ in self.cut_rows])
            C = np.asarray([row for _, row in self.cut_rows])
            val = C[:, : self.d] @ w + C[:, self.d] * b + C[:, self.d + 1]
            np.maximum.at(theta, grp, val)
        x[self.col_theta] = theta
        sol = highspy.HighsSolution()
        sol.col_value = x.tolist()
        sol.value_valid = True
        self.h.setSolution(sol)

    def solve(
        self, deadline: Deadline, mip_gap: float, relaxed: bool = False
    ) -> tuple[float | None, np.ndarray | None]:
        """The master within ``deadline`` (``relaxed``: its LP relaxation, every z_i in [0, 1]): (its proved lower
        bound or None, its solution or None). Either bound is a lower bound on min F."""
        import highspy

        from ..highs import proved_dual_bound, stop_at

        h = self.h
        integer = self.binaries and not relaxed
        if self.binaries:
            nz = self.col_z.size
            h.changeColsIntegrality(nz, self.col_z.astype(np.int32), np.full(nz, int(integer), dtype=np.uint8))
        left = deadline.remaining()
        set_time_limit(h, float(left) if math.isfinite(left) else float("inf"))
        h.setOptionValue("mip_rel_gap", float(mip_gap))
        # (HiGHS also stops at an absolute gap of 1e-6 by default: a master "optimal" 5e-7 below its incumbent ended a
        # fit "feasible" at a relative gap of 1.1e-6 > mip_gap, its point on its cuts)
        h.setOptionValue("mip_abs_gap", 1e-12)
        with stop_at(h, deadline):
            status = h.run()
        info, ms = h.getInfo(), h.getModelStatus()
        # proved: no weights of the box meet the constraint rows (the cuts bound the loss only, never the weights)
        self.infeasible = ms == highspy.HighsModelStatus.kInfeasible
        has = int(info.primal_solution_status) == 2
        x = np.asarray(h.getSolution().col_value, dtype=np.float64) if has else None
        if integer:
            bound = proved_dual_bound(h, status)
        else:
            bound = float(info.objective_function_value) if ms == highspy.HighsModelStatus.kOptimal else None
        return bound, x

    def point(self, x: np.ndarray) -> tuple[np.ndarray, float, float]:
        """(w, b, theta) of a master solution, cleaned to the class (:meth:`clean`); theta is the master's value of
        L + l2 ||w||^2 (:meth:`smooth_estimate`)."""
        z = x[self.col_z] if self.binaries else None
        w, b = self.clean(x[self.col_w], float(x[self.col_b]), z)
        return w, b, self.smooth_estimate(x)

    def hinge_record(self, w: np.ndarray, b: float, alpha: np.ndarray) -> dict[str, Any]:
        """A hinge cut's alphas kept small: the rows within ``MARGIN_TIE`` of the margin with their alphas; every
        other row's alpha is its subgradient indicator at (w, b) (:meth:`alphas`)."""
        z = self.margins(w, b)
        rows = np.flatnonzero(np.abs(self.margin - z) <= MARGIN_TIE)
        return {
            "x": [float(v) for v in w] + [float(b)],
            "rows": [int(r) for r in rows],
            "alpha": [float(a) for a in np.clip(alpha[rows], 0.0, 1.0)],
        }

    def alphas(self, w: np.ndarray, b: float, rec: dict[str, Any]) -> np.ndarray:
        """The alphas of a hinge record: the listed rows' values, elsewhere [m - y_n f(x_n) > 0] at (w, b)."""
        a = (self.margin - self.margins(w, b) > 0).astype(np.float64)
        rows = np.asarray(rec.get("rows", []), dtype=np.int64)
        a[rows] = np.clip(np.asarray(rec.get("alpha", []), dtype=np.float64), 0.0, 1.0)
        return a

    # ------------------------------------------------------------------ polish
    def polish(self, support: np.ndarray, deadline: Deadline) -> tuple[np.ndarray, float, np.ndarray | None] | None:
        """The convex problem restricted to the features ``support`` (w_i = 0 elsewhere): (w, b, hinge alphas or
        None), or None when it cannot run (orders with the logistic loss; no time)."""
        if deadline.remaining() < 0.05:
            return None
        if self.loss == "logistic":
            return None if self.orders else linear_polish.polish_logistic(self, support, deadline)
        return linear_polish.polish_hinge(self, support, deadline)


def fit_by_cuts(
    problem: LinearCuts,
    deadline: Deadline,
    *,
    mip_gap: float,
    say: Callable[[str], None] = lambda s: None,
) -> CutsResult:
    """Outer approximation (module docstring) within ``deadline``."""
    from .. import interrupt

    P, d = problem, problem.d
    t0 = time.perf_counter()
    points: list[Any] = []
    best: tuple[float, np.ndarray, float] | None = None
    trace: list[tuple[float, float | None, float | None]] = []

    def add(w: np.ndarray, b: float, alpha: np.ndarray | None = None) -> None:
        P.add_point(w, b, alpha)
        if alpha is None:
            points.append([float(v) for v in w] + [float(b)])

    def offer(w: np.ndarray, b: float) -> None:
        nonlocal best
        if P.feasible(w):
            f = P.objective(w, b)
            if best is None or f < best[0]:
                best = (f, w.copy(), b)

    # the best constant model, and the optimum over all allowed features
    pos = float(P.weight[P.y > 0].sum()) / float(P.weight.sum())
    b0 = float(np.clip(math.log(max(pos, 1e-9) / max(1.0 - pos, 1e-9)), -P.Bb, P.Bb))
    # (the hinge's constant loss is piecewise linear in b with its kinks at -m and +m: its minimum over the box is at
    # one of them, clipped, or at an end of the box)
    consts = [b0]
    if P.loss == "hinge":
        consts = [-P.Bb, 0.0, P.Bb, float(np.clip(2 * pos - 1, -P.Bb, P.Bb))]
        consts += [c for c in (float(np.clip(v, -P.Bb, P.Bb)) for v in (-P.margin, P.margin)) if c not in consts]
    for b in consts:
        add(np.zeros(d), b)
        offer(np.zeros(d), b)
    polished: set[bytes] = set()
    n_polish = 0
    hinge_form = "primal" if P.orders else linear_polish.HINGE_FORM
    full_fit: dict[str, np.ndarray] = {}

    def polish(S: np.ndarray, within: Deadline = deadline) -> None:
        nonlocal n_polish
        key = np.sort(S).astype(np.int32).tobytes()
        if key in polished or (P.loss == "hinge" and P.N * S.size > HINGE_POLISH_MAX_ENTRIES[hinge_form]):
            return  # (a hinge polish is an LP over every row: on wide supports of many rows it took the time)
        polished.add(key)
        out = P.polish(S, within.sub(fraction=POLISH_SHARE))
        if out is None:
            return
        n_polish += 1
        w, b, alpha = out
        full_fit.setdefault("w", w)  # the first polish: over every allowed feature
        offer(w, b)
        if alpha is not None:
            rec = P.hinge_record(w, b, alpha)
            P.add_point(w, b, P.alphas(w, b, rec))
            points.append(rec)
        add(w, b)

    allowed = np.flatnonzero(P.w_hi - P.w_lo)
    polish(allowed)
    if TOP_K_START and P.loss == "logistic" and P.binaries and P.budget is not None and 0 < P.budget < allowed.size:
        polish(top_k_support(P, allowed, P.budget, full_fit.get("w"), deadline.sub(fraction=POLISH_SHARE)))
    if SWAP_SEARCH and P.loss == "logistic" and P.budget is not None and P.binaries and best is not None:
        swap_search(P, allowed, lambda: best, polish, deadline.sub(fraction=SWAP_SHARE))
    lower: float | None = None
    it = solves = 0
    stop = "time limit"

    def gap() -> float:
        if best is None or lower is None:
            return math.inf
        return (best[0] - lower) / max(abs(best[0]), 1e-10)

    # phase 1 (with binaries): Kelley on the master's LP relaxation, cheap LPs that gather cuts near its optimum
    if P.binaries:
        lp_deadline = deadline.sub(fraction=LP_PHASE_SHARE)
        history: list[float] = []
        for _ in range(LP_PHASE_ROUNDS):
            interrupt.check()
            if lp_deadline.expired():
                break
            bound, x = P.solve(lp_deadline, mip_gap, relaxed=True)
            solves += 1
            if bound is None or x is None:
                break
            lower = bound if lower is None else max(lower, bound)
            history.append(bound)
            w_raw = np.clip(x[P.col_w], P.w_lo, P.w_hi)
            b_raw = float(np.clip(x[P.col_b], -P.Bb, P.Bb))
            w, b = P.point(x)[:2]
            offer(w, b)  # (before the stops: a relaxation's point can be the optimum itself)
            L = P.objective(w_raw, b_raw) - P.l1 * float(np.abs(w_raw).sum()) - P.l0 * float(np.count_nonzero(w_raw))
            if L <= P.smooth_estimate(x) + 1e-9 * max(1.0, abs(L)):
                break  # the relaxation is solved: its point lies on its cuts
            if len(history) > LP_STALL and history[-1] - history[-1 - LP_STALL] <= 1e-6 * max(1.0, abs(bound)):
                break
            add(w_raw, b_raw)
            if gap() <= mip_gap:
                break
    # phase 2: the master MILP, solved to a gap that follows the overall gap (a fifth of it, at least mip_gap / 4)
    tight = False
    while True:
        interrupt.check()
        if deadline.expired():
            break
        if best is not None:
            P.start(best[1], best[2])
        bound, x = P.solve(deadline, mip_gap / 4.0 if tight else max(mip_gap / 4.0, min(MASTER_GAP_CAP, 0.2 * gap())))
        solves += 1
        if bound is not None:
            lower = bound if lower is None else max(lower, bound)
        trace.append((time.perf_counter() - t0, None if best is None else best[0], lower))
        if gap() <= mip_gap:
            stop = "gap closed"
            break
        if x is None:
            if deadline.expired():
                break
            stop = "the master is infeasible" if P.infeasible else "the master has no solution"
            break
        it += 1
        w, b, theta = P.point(x)
        offer(w, b)
        L = P.objective(w, b) - P.l1 * float(np.abs(w).sum()) - P.l0 * float(np.count_nonzero(w))
        if L <= theta + 1e-12 * max(1.0, abs(theta)) and bound is not None:
            if tight:  # solved to mip_gap / 4 and its point adds no cut: nothing more to learn
                stop = "the master's point is on its cuts"
                break
            tight = True  # a master solved to a looser gap: solve it again to the full precision
            continue
        add(w, b)
        S = np.flatnonzero(w)
        polish(S)
    if best is None and stop == "the master is infeasible":
        raise ConstraintError(
            "infeasible: highs proved that no linear model (its weight box) meets the training constraints together "
            "(the output orders with the others); relax one of them"
        )
    if best is None:  # only with output orders (the constant model meets every other constraint)
        raise LimitError(
            "no network meeting the training constraints was found within the time limit (the output orders); "
            "raise the time limit"
        )
    f, w, b = best
    if lower is not None:
        lower = min(lower, f)  # (a valid bound is <= min F <= f; only the solver's tolerances can put it above)
    status = "optimal" if lower is not None and f - lower <= mip_gap * max(abs(f), 1e-10) else "feasible"
    secs = time.perf_counter() - t0
    say(
        f"cutting planes: {it} master solves after {n_polish} polishes, {P.cuts} cuts; objective {f:.6g}, "
        f"bound {'none' if lower is None else format(lower, '.6g')} ({stop}, {secs:.1f} s)"
    )
    return CutsResult(w, b, status, f, lower, points, it, solves, n_polish, secs, stop, trace, P.G)


def top_k_support(
    P: LinearCuts, allowed: np.ndarray, k: int, w: np.ndarray | None, deadline: Deadline | None = None
) -> np.ndarray:
    """The ``k`` allowed features of largest |w_i| (standardised inputs) at ``w`` when it uses more than ``k``,
    else at the l1-logistic fit over every allowed feature (:func:`.linear_polish.polish_logistic`, whatever the
    loss): a budget-feasible support whose polish is the first incumbent that meets the budget (without it the
    incumbent was the constant model until a master solution came; on full Adult with the hinge that took most of
    the minute)."""
    if w is None or np.count_nonzero(w) <= k:
        w = linear_polish.polish_logistic(P, allowed, deadline)[0]
    order = np.argsort(-np.abs(w[allowed]), kind="stable")
    return np.sort(allowed[order[:k]])


def swap_search(
    P: LinearCuts,
    allowed: np.ndarray,
    incumbent: Callable[[], tuple[float, np.ndarray, float] | None],
    polish: Callable[[np.ndarray, Deadline], None],
    deadline: Deadline,
    candidates: int = SWAP_CANDIDATES,
) -> None:
    """Local search over supports of at most K features (the primal side; the bound does not depend on it).

    At the incumbent (w, b) with support S, the candidates are the ``candidates`` allowed features i outside S with
    the largest |dL/dw_i| (the steepest first step off w_i = 0; it lowers F only where |dL/dw_i| > l1). While
    |S| < K each candidate is added alone; then each j in S, smallest |w_j| first, is swapped for each candidate.
    ``polish`` (the caller's) solves the convex problem on the new support, offers it as an incumbent and adds its
    cuts; the search restarts from the first support that lowers F, and stops when no swap does or at
    ``deadline``. Supports already polished are skipped by ``polish``."""
    assert P.budget is not None
    while not deadline.expired():
        inc = incumbent()
        if inc is None:
            return
        f0, w, b = inc
        S = np.flatnonzero(w)
        g_w = P.cut(w, b)[0].sum(axis=0)  # grad L at (w, b), the groups' slopes summed
        outside = np.setdiff1d(allowed, S)
        if outside.size == 0:
            return
        cand = outside[np.argsort(-np.abs(g_w[outside]), kind="stable")[:candidates]]
        trials = [np.append(S, i) for i in cand] if S.size < P.budget else []
        for j in S[np.argsort(np.abs(w[S]), kind="stable")]:
            trials += [np.append(S[S != j], i) for i in cand]
        for T in trials:
            if deadline.expired():
                return
            polish(np.sort(T), deadline)
            now = incumbent()
            if now is not None and now[0] < f0 - 1e-12 * max(1.0, abs(f0)):
                break
        else:
            return


def master_bound(problem: LinearCuts, points: list[Any], deadline: Deadline, mip_gap: float = 1e-9) -> float | None:
    """The master's proved bound with the cuts at ``points`` (each cut recomputed from the data): a list of d + 1
    numbers (w, b) for the tangent or subgradient cut there, or a hinge record ``{"x": [w, b], "rows": [...],
    "alpha": [...]}`` (:meth:`LinearCuts.hinge_record`). Any numbers give valid cuts (DataError if unreadable)."""
    d = problem.d
    for p in points:
        rec = p if isinstance(p, dict) else {"x": p}
        try:
            v = np.asarray(rec["x"], dtype=np.float64)
            rows = np.asarray(rec.get("rows", []), dtype=np.int64)
            vals = np.asarray(rec.get("alpha", []), dtype=np.float64)
        except (KeyError, TypeError, ValueError):
            raise DataError("a cut point must be d + 1 numbers or a hinge record {x, rows, alpha}") from None
        finite = np.all(np.isfinite(v)) and np.all(np.isfinite(vals))
        if v.shape != (d + 1,) or not finite or rows.shape != vals.shape:
            raise DataError(f"a cut point must hold {d + 1} finite numbers (w, b)")
        if rows.size and (rows.min() < 0 or rows.max() >= problem.N):
            raise DataError(f"a hinge record names rows outside 0..{problem.N - 1}")
        w, b = v[:d], float(v[d])
        alpha = problem.alphas(w, b, rec) if isinstance(p, dict) else None
        problem.add_point(w, b, alpha)
    bound, _ = problem.solve(deadline, mip_gap)
    return bound


def fit_linear_by_cuts(
    X: np.ndarray,
    y: np.ndarray,
    Xs: np.ndarray,
    target: np.ndarray,
    Xm: np.ndarray,
    tm: np.ndarray,
    counts: np.ndarray | None,
    task: str,
    n_classes: int,
    cfg: TrainConfig,
    build: Callable[..., Any],
    opts: Any,
    deadline: Deadline,
    common: dict[str, Any],
) -> Any:
    """The trainer's path for the class :func:`applies` covers: :func:`fit_by_cuts` on the merged rows, then the
    network and its certificate (:func:`~.outcome.finish`, every term recomputed with numpy on the original rows;
    the bound is the master's, ``bound_source`` "cuts", the points in ``formulation["cuts"]``)."""
    from dataclasses import replace

    from ..solve import Result
    from .formulation import TrainingProblem
    from .outcome import finish

    say = opts.say()
    groups = min(GROUPS_BY_LOSS[str(cfg.loss)], Xm.shape[0])
    problem = LinearCuts(Xm, tm, cfg, counts, Xs.shape[0], threads=opts.threads, groups=groups)
    say(
        f"formulation: cutting planes on the {cfg.loss} loss of the linear term alone, a master of {problem.n_col} "
        f"columns ({problem.d if problem.binaries else 0} binary) for {Xs.shape[0]} rows ({Xm.shape[0]} distinct)"
    )
    # finish() recomputes every term on the original rows (numpy): a few passes over X
    reserve = min(0.1 * deadline.remaining(), 1e-7 * X.size * 20 + 0.2)
    within = deadline.sub(seconds=max(0.0, deadline.remaining() - reserve))
    out = fit_by_cuts(problem, within, mip_gap=opts.mip_gap, say=say)
    # the two-row model: the network's layout and weight variables (what the network build reads), no samples
    mapper = TrainingProblem(
        Xs[:2], target[:2], task, n_classes,
        replace(cfg, constraints=tuple(c for c in cfg.constraints if c.kind != "parity")), solver=opts.solver,
    )  # fmt: skip
    J, d = int(cfg.hidden[0]), Xs.shape[1]
    mapper.linear_w = out.w[None, :].copy()
    weights = [(np.zeros((J, d)), np.zeros(J)), (np.zeros((1, J)), np.array([out.b]))]
    try:
        h = problem.h
        version = f"{h.versionMajor()}.{h.versionMinor()}.{h.versionPatch()}"
    except AttributeError:
        version = "unknown"
    res = Result(
        status=out.status,
        incumbent=out.objective,
        bound=out.bound,
        gap=None,
        wall_time=out.seconds,
        nodes=None,
        solver="highs",
        solver_version=version,
        termination=f"cutting planes: {out.stop}",
        trace=out.trace,
    )
    return finish(
        mapper, res, None, None, None, X, y, cfg,
        group_info=None, evaluate=False, deadline=deadline, build=lambda w: build(w, mapper), weights=weights,
        cuts=out.record(), **common,
    )  # fmt: skip


__all__ = [
    "KINDS",
    "LOSSES",
    "CutsResult",
    "LinearCuts",
    "applies",
    "fit_by_cuts",
    "fit_linear_by_cuts",
    "master_bound",
    "swap_search",
]
