"""The sign-class training MILP built as sparse matrices and handed straight to HiGHS (no Pyomo).

The same model as :class:`~mipnet.train.formulation.TrainingProblem` builds for the core configuration, written
as one CSR matrix with vectorised numpy (no Python loop over the rows) and passed to ``highspy.Highs.passModel``:
building and translating the Pyomo model took minutes at a few thousand rows; this takes seconds.

**Covered configuration** (anything else is refused with :class:`~mipnet.errors.UnsupportedError`): sign class,
one hidden layer of J units, one output, binary hinge loss with margin m, l1 >= 0 on all Dense weights, boxes
B_w / B_b, per-row tight big-M (``tight_bounds``), symmetry breaking on or off, Lipschitz pair cuts (k partners,
0 = off); no l2, l0, unit or layer penalties, budgets, linear term or domain constraints.

Data: standardised rows x_n in R^d, labels y_n in {-1, +1}, row weights c_n > 0 (counts of merged duplicate
rows, default 1), loss denominator D (default sum_n c_n), penalty weight pw (default 1).

Variables: W in [-B_w, B_w]^{J x d}, b in [-B_b, B_b]^J, p, q in {0, 1}^J (output weight v_j = p_j - q_j),
c in [-B_b, B_b] (output bias), t in [0, B_w]^{J x d} (l1 > 0 only); per row n and unit j: z_nj in [-U_n, U_n],
h_nj in [0, U_n], a_nj in {0, 1}, r_nj = p_j h_nj and s_nj = q_j h_nj in [0, U_n]; per row: the output
o_n in [-(J U_n + B_b), J U_n + B_b] and the hinge xi_n >= 0, with the per-row big-M

    U_n = B_w ||x_n||_1 + B_b          (|W_j x_n + b_j| <= U_n for every weight in the box).

    minimise  (1/D) sum_n c_n xi_n + pw l1 (sum_{j,i} t_ji + sum_j (p_j + q_j))
    s.t.      p_j + q_j <= 1                                                     (sign of v_j)
              t_ji >= W_ji,  t_ji >= -W_ji                                       (l1 > 0)
              |W_ji| <= B_w (p_j + q_j),  |b_j| <= B_b (p_j + q_j)               (v_j = 0 prunes unit j)
              z_nj = W_j x_n + b_j                                               (first layer, x_n data)
              h_nj >= z_nj,  h_nj <= z_nj + U_n (1 - a_nj),  h_nj <= U_n a_nj     (ReLU big-M)
              r_nj <= U_n p_j,  r_nj <= h_nj,  r_nj >= h_nj - U_n (1 - p_j)     (r = p h exactly; s = q h alike)
              o_n = sum_j (r_nj - s_nj) + c                                      (sign class output)
              xi_n >= m - y_n o_n                                                (hinge)
    symmetry (j = 1..J-1):  p_{j+1} <= p_j,  p_{j+1} + q_{j+1} <= p_j + q_j,
              b_j >= b_{j+1} - 2 B_b (1 - p_{j+1}),  b_j >= b_{j+1} - 2 B_b (2 - q_j - q_{j+1})
    Lipschitz pair cuts (l1 > 0), pairs (n, m) with y_n = +1, y_m = -1:
              o_n - o_m <= sum_i |x_ni - x_mi| sum_j t_ji

The pairs: for each n with y_n = +1, the k rows m with y_m = -1 and x_m != x_n nearest to x_n in l1 (the largest
(y_n - y_m) / ||x_n - x_m||_1, as the Pyomo model chooses them).

**Differences from the Pyomo model, and why the optimum is the same.** (1) The Pyomo product rule also writes
r_nj >= 0 * p_j as a row; here it is the column bound r_nj >= 0 (the same set, LP relaxation included).
(2) Where several partners are exactly as near, the Pyomo model keeps those of ``np.argsort`` (not stable) and
this one those of ``np.argpartition``: both are valid inequalities for every network (f is 1-Lipschitz in each
unit and |v_j| <= 1), so the MILP optimum is the same; without ties the pair sets are equal. Everything else is
the same rows, bounds and objective, so the MILP optima and the LP relaxations agree (tests/test_matrix_model_*).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ...deadline import Deadline
from ...errors import DataError
from ...highs import new_highs, proved_dual_bound, set_time_limit, stop_at
from ..config import TrainConfig
from .rows import Rows, Weights, check_supported, lipschitz_pairs


def _new_highs(threads: int | None = None) -> Any:
    """A quiet ``highspy.Highs`` with the process's pinned thread count (:func:`mipnet.solve.highs_threads`:
    HiGHS builds its thread pool once per process, and a run asking for another count fails)."""

    from ...solve import highs_threads

    h = new_highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", highs_threads(threads))
    return h


@dataclass
class SolveOutcome:
    """One solve: status (optimal | feasible | infeasible | unknown), the solver's objective and proved bound."""

    status: str
    objective: float | None
    bound: float | None
    seconds: float


class MatrixTrainingModel:
    """The sign-class training MILP (module docstring) as CSR rows, passed to one ``highspy.Highs`` instance.

    ``Xm`` (N, d) standardised rows (merged or not), ``tm`` labels in {-1, +1}, ``cfg`` the training config,
    ``sample_weight`` c_n (the counts of :func:`~mipnet.train.formulation.merge_rows`), ``loss_denominator`` D.
    """

    def __init__(
        self,
        Xm: np.ndarray,
        tm: np.ndarray,
        cfg: TrainConfig,
        sample_weight: np.ndarray | None = None,
        loss_denominator: float | None = None,
        penalty_weight: float = 1.0,
    ) -> None:
        self.config = check_supported(cfg)
        self.X = np.asarray(Xm, dtype=np.float64)
        self.y = np.asarray(tm, dtype=np.float64).ravel()
        if self.X.ndim != 2 or self.y.shape != (self.X.shape[0],) or self.X.shape[0] == 0:
            raise DataError("the matrix training model needs X (N, d) and one label per row, N >= 1")
        if not np.all(np.isfinite(self.X)) or not np.all(np.abs(self.y) == 1.0):
            raise DataError("the matrix training model needs finite X and labels in {-1, +1}")
        self.N, self.d = self.X.shape
        self.J = int(self.config.hidden[0])
        c = np.ones(self.N) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64).ravel()
        if c.shape != (self.N,) or not np.all(np.isfinite(c)) or np.any(c <= 0):
            raise DataError(f"sample_weight must be {self.N} finite positive numbers (one per row)")
        self.sample_weight = c
        self.loss_denominator = float(loss_denominator) if loss_denominator else float(c.sum())
        self.penalty_weight = float(penalty_weight)
        self._highs: Any = None
        self._layout()
        self._assemble()

    # ------------------------------------------------------------------ columns
    def _layout(self) -> None:
        N, d, J = self.N, self.d, self.J
        sizes = [("W", J * d), ("b", J), ("p", J), ("q", J), ("c", 1)]
        if self.config.l1 > 0:
            sizes.append(("t", J * d))
        sizes += [("xi", N), ("z", N * J), ("h", N * J), ("a", N * J), ("r", N * J), ("s", N * J), ("o", N)]
        self.cols: dict[str, np.ndarray] = {}
        k = 0
        for name, n in sizes:
            self.cols[name] = np.arange(k, k + n)
            k += n
        self.n_col = k
        for name in ("W", "t"):
            if name in self.cols:
                self.cols[name] = self.cols[name].reshape(J, d)
        for name in ("z", "h", "a", "r", "s"):
            self.cols[name] = self.cols[name].reshape(N, J)

    # ------------------------------------------------------------------ rows
    def _assemble(self) -> None:
        cfg, C = self.config, self.cols
        N, d, J = self.N, self.d, self.J
        Bw, Bb, l1 = float(cfg.weight_bound), float(cfg.bias_bound), float(cfg.l1)
        X, y = self.X, self.y
        U = Bw * np.abs(X).sum(axis=1) + Bb  # per-row big-M
        self.U = U
        UJ = np.repeat(U, J)  # (N*J,) in the (n, j) order of the per-unit columns
        W, b, p, q = C["W"], C["b"], C["p"], C["q"]
        R = Rows()
        inf = np.inf
        R.add("pq", [(p, 1.0), (q, 1.0)], -inf, 1.0)
        R.add("hinge", [(C["xi"], -1.0), (C["o"], -y)], -inf, -float(cfg.margin))
        pj, qj = np.repeat(p, d), np.repeat(q, d)  # unit j of each W[j, i] in row-major order
        if l1 > 0:
            t = C["t"].ravel()
            R.add("abs", [(W.ravel(), 1.0), (t, -1.0)], -inf, 0.0)
            R.add("abs_neg", [(W.ravel(), -1.0), (t, -1.0)], -inf, 0.0)
        for sgn in (1.0, -1.0):
            R.add(f"force_w{sgn:+.0f}", [(W.ravel(), sgn), (pj, -Bw), (qj, -Bw)], -inf, 0.0)
        for sgn in (1.0, -1.0):
            R.add(f"force_b{sgn:+.0f}", [(b, sgn), (p, -Bb), (q, -Bb)], -inf, 0.0)
        if cfg.symmetry_breaking and J > 1:
            j0, j1 = np.arange(J - 1), np.arange(1, J)
            R.add("sym_p", [(p[j1], 1.0), (p[j0], -1.0)], -inf, 0.0)
            R.add("sym_pq", [(p[j1], 1.0), (q[j1], 1.0), (p[j0], -1.0), (q[j0], -1.0)], -inf, 0.0)
            R.add("sym_bp", [(b[j0], -1.0), (b[j1], 1.0), (p[j1], 2 * Bb)], -inf, 2 * Bb)
            R.add("sym_bq", [(b[j0], -1.0), (b[j1], 1.0), (q[j0], 2 * Bb), (q[j1], 2 * Bb)], -inf, 4 * Bb)
        self.cut_pairs = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))
        if l1 > 0 and cfg.lipschitz_pairs > 0:
            self._lipschitz(R, int(cfg.lipschitz_pairs))
        # z_nj - sum_i x_ni W_ji - b_j = 0: the nonzeros of x_n, per unit
        z, h, a, r, s = (C[k].ravel() for k in ("z", "h", "a", "r", "s"))
        nz_n, nz_i = np.nonzero(X)
        k_nz = nz_n.size
        rows_w = (nz_n[None, :] * J + np.arange(J)[:, None]).ravel()  # (J, nnz) -> row n*J + j
        cols_w = W[np.arange(J)[:, None], nz_i[None, :]].ravel()
        vals_w = np.broadcast_to(-X[nz_n, nz_i], (J, k_nz)).ravel()
        rows_all = np.arange(N * J)
        unit = np.tile(np.arange(J), N)
        R.add_coo(
            "zdef",
            N * J,
            np.concatenate([rows_all, rows_all, rows_w]),
            np.concatenate([z, b[unit], cols_w]),
            np.concatenate([np.ones(N * J), -np.ones(N * J), vals_w]),
            0.0,
            0.0,
        )
        R.add("relu_ge", [(z, 1.0), (h, -1.0)], -inf, 0.0)
        R.add("relu_off", [(z, -1.0), (h, 1.0), (a, UJ)], -inf, UJ)
        R.add("relu_on", [(h, 1.0), (a, -UJ)], -inf, 0.0)
        for name, prod, sw in (("r", r, p[unit]), ("s", s, q[unit])):
            R.add(f"{name}_le_u", [(prod, 1.0), (sw, -UJ)], -inf, 0.0)
            R.add(f"{name}_le_h", [(prod, 1.0), (h, -1.0)], -inf, 0.0)
            R.add(f"{name}_ge", [(prod, -1.0), (h, 1.0), (sw, UJ)], -inf, UJ)
        o = C["o"]
        R.add(
            "out",
            [(o, 1.0), (np.full(N, C["c"][0]), -1.0)]
            + [(C["r"][:, j], -1.0) for j in range(J)]
            + [(C["s"][:, j], 1.0) for j in range(J)],
            0.0,
            0.0,
        )
        self.A, self.row_lower, self.row_upper = R.csr(self.n_col)
        self.row_blocks = R.blocks
        # columns: bounds, costs, integrality
        lo, hi = np.zeros(self.n_col), np.zeros(self.n_col)
        cost, integ = np.zeros(self.n_col), np.zeros(self.n_col, dtype=np.int32)

        def box(name: str, lower: Any, upper: Any) -> None:
            lo[C[name].ravel()], hi[C[name].ravel()] = lower, upper

        box("W", -Bw, Bw)
        box("b", -Bb, Bb)
        box("c", -Bb, Bb)
        for name in ("p", "q", "a"):
            box(name, 0.0, 1.0)
            integ[C[name].ravel()] = 1
        if "t" in C:
            box("t", 0.0, Bw)
        box("xi", 0.0, inf)
        box("z", -UJ, UJ)
        for name in ("h", "r", "s"):
            box(name, 0.0, UJ)
        box("o", -(J * U + Bb), J * U + Bb)
        cost[C["xi"]] = self.sample_weight / self.loss_denominator
        pen = self.penalty_weight * l1
        if pen > 0:
            cost[C["t"].ravel()] = pen
            cost[p], cost[q] = pen, pen
        self.col_lower, self.col_upper, self.cost, self.integrality = lo, hi, cost, integ

    def _lipschitz(self, R: Rows, k: int) -> None:
        """o_n - o_m - sum_{i, j} |x_ni - x_mi| t_ji <= 0 for the pairs of :func:`lipschitz_pairs`."""
        n, m = lipschitz_pairs(self.X, self.y, k)
        self.cut_pairs = (n, m)
        if n.size == 0:
            return
        P, J = n.size, self.J
        dx = np.abs(self.X[n] - self.X[m])  # (P, d)
        pr, pi = np.nonzero(dx)
        t = self.cols["t"]
        rows = np.concatenate([np.arange(P), np.arange(P), np.repeat(pr, J)])
        cols = np.concatenate([self.cols["o"][n], self.cols["o"][m], t[:, pi].T.ravel()])
        vals = np.concatenate([np.ones(P), -np.ones(P), -np.repeat(dx[pr, pi], J)])
        R.add_coo("lipschitz", P, rows, cols, vals, -np.inf, 0.0)

    # ------------------------------------------------------------------ solver
    def highs(self) -> Any:
        """The ``highspy.Highs`` instance holding the model (created and passed on the first call)."""
        if self._highs is None:
            import highspy

            h = _new_highs()
            status = self._pass(h, integer=True)
            if status != highspy.HighsStatus.kOk:
                raise RuntimeError(f"HiGHS did not accept the matrix training model: {status}")
            self._highs = h
        return self._highs

    def _pass(self, h: Any, integer: bool) -> Any:
        """passModel of the CSR rows into ``h`` (with the binaries' integrality, or none: the LP relaxation)."""
        import highspy

        A = self.A
        args = [
            int(self.n_col),
            int(A.shape[0]),
            int(A.nnz),
            int(highspy.MatrixFormat.kRowwise),
            int(highspy.ObjSense.kMinimize),
            0.0,
            self.cost,
            self.col_lower,
            self.col_upper,
            self.row_lower,
            self.row_upper,
            A.indptr.astype(np.int32),
            A.indices.astype(np.int32),
            A.data.astype(np.float64),
        ]
        return h.passModel(*args, self.integrality if integer else np.zeros_like(self.integrality))

    def relaxation(self, time_limit: float | None = None) -> float | None:
        """The optimum of the LP relaxation (every binary in [0, 1]) on a fresh HiGHS instance; None if HiGHS
        did not prove one (time limit)."""
        import highspy

        h = _new_highs()
        if time_limit is not None:
            set_time_limit(h, float(time_limit))
        self._pass(h, integer=False)
        h.run()
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return None
        return float(h.getInfo().objective_function_value)

    def size(self) -> dict[str, int]:
        """Variables, binaries, constraints and nonzeros of the model."""
        return {
            "variables": int(self.n_col),
            "binaries": int(self.integrality.sum()),
            "constraints": int(self.A.shape[0]),
            "nonzeros": int(self.A.nnz),
        }

    def point(self, weights: Weights) -> np.ndarray:
        """The full model point of a network of the class (every auxiliary column set consistently): units
        ordered (positive, negative, pruned; biases non-increasing within a sign) as symmetry breaking asks,
        pruned units zeroed. Raises DataError for weights outside the class."""
        W, b, v, c = self._canonical(weights)
        C, x = self.cols, np.zeros(self.n_col)
        x[C["W"].ravel()], x[C["b"]], x[C["c"]] = W.ravel(), b, c
        p, q = (v > 0).astype(float), (v < 0).astype(float)
        x[C["p"]], x[C["q"]] = p, q
        if "t" in C:
            x[C["t"].ravel()] = np.abs(W).ravel()
        z = self.X @ W.T + b
        h = np.maximum(z, 0.0)
        x[C["z"].ravel()], x[C["h"].ravel()] = z.ravel(), h.ravel()
        x[C["a"].ravel()] = (z > 0).astype(float).ravel()
        x[C["r"].ravel()], x[C["s"].ravel()] = (h * p).ravel(), (h * q).ravel()
        o = (h * p).sum(axis=1) - (h * q).sum(axis=1) + c
        x[C["o"]] = o
        x[C["xi"]] = np.maximum(0.0, float(self.config.margin) - self.y * o)
        return x

    def _canonical(self, weights: Weights) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
        cfg, J, d = self.config, self.J, self.d
        if len(weights) != 2:
            raise DataError("a sign-class network has two Dense layers: [(W (J, d), b (J,)), (v (1, J), c (1,))]")
        W, b = (np.array(a, dtype=np.float64) for a in weights[0])
        v = np.asarray(weights[1][0], dtype=np.float64).reshape(-1)
        c = float(np.asarray(weights[1][1], dtype=np.float64).reshape(-1)[0])
        if W.shape != (J, d) or b.shape != (J,) or v.shape != (J,):
            raise DataError(f"weights of the wrong shapes for {J} hidden units and {d} inputs")
        if not np.all(np.isin(v, (-1.0, 0.0, 1.0))):
            raise DataError("sign-class output weights must be -1, 0 or +1")
        W[v == 0], b[v == 0] = 0.0, 0.0  # a pruned unit computes nothing: its weights are zero in the model
        tol = 1e-9
        if (
            np.any(np.abs(W) > cfg.weight_bound + tol)
            or np.any(np.abs(b) > cfg.bias_bound + tol)
            or abs(c) > cfg.bias_bound + tol
        ):
            raise DataError("the weights are outside the boxes B_w / B_b of the config")
        W = np.clip(W, -cfg.weight_bound, cfg.weight_bound)
        b = np.clip(b, -cfg.bias_bound, cfg.bias_bound)
        c = float(np.clip(c, -cfg.bias_bound, cfg.bias_bound))
        if cfg.symmetry_breaking:
            group = np.where(v > 0, 0, np.where(v < 0, 1, 2))
            order = np.lexsort((-b, group))
            W, b, v = W[order], b[order], v[order]
        return W, b, v, c

    def violation(self, x: np.ndarray) -> float:
        """The largest violation of a row, a column bound or integrality at the model point ``x``."""
        Ax = self.A @ x
        viol = [
            np.maximum(self.row_lower - Ax, 0.0),
            np.maximum(Ax - self.row_upper, 0.0),
            np.maximum(self.col_lower - x, 0.0),
            np.maximum(x - self.col_upper, 0.0),
        ]
        ints = self.integrality.astype(bool)
        out = max(float(np.max(v[np.isfinite(v)], initial=0.0)) for v in viol)
        return max(out, float(np.max(np.abs(x[ints] - np.round(x[ints])), initial=0.0)))

    def objective_at(self, x: np.ndarray) -> float:
        return float(self.cost @ x)

    def set_start(self, weights: Weights) -> float:
        """Give HiGHS the network ``weights`` (in the class) as a start; returns its objective (numpy). Raises
        DataError if the completed point violates the model by more than 1e-7 (it never should)."""
        import highspy

        x = self.point(weights)
        viol = self.violation(x)
        if viol > 1e-7:
            raise DataError(f"the start violates the matrix training model by {viol:.3g}")
        sol = highspy.HighsSolution()
        sol.col_value = x.tolist()
        sol.value_valid = True
        status = self.highs().setSolution(sol)
        if status == highspy.HighsStatus.kError:
            raise RuntimeError("HiGHS refused the start")
        return self.objective_at(x)

    def solve(
        self,
        limit: Deadline | float | None = None,
        *,
        threads: int | None = None,
        seed: int | None = None,
        mip_gap: float | None = None,
    ) -> SolveOutcome:
        """Solve within ``limit`` (a :class:`~mipnet.deadline.Deadline` or seconds; None: no limit). Status
        ``optimal`` only when HiGHS proved it (within ``mip_gap``, HiGHS's default 1e-4 if None); ``bound`` only a
        finite proved bound; ``objective`` the solver's (:meth:`objective_of` recomputes it with numpy)."""
        import highspy

        from ...solve import highs_threads

        h = self.highs()
        left = Deadline.of(limit).remaining()
        set_time_limit(h, float(left) if math.isfinite(left) else float("inf"))
        h.setOptionValue("threads", highs_threads(threads))
        if seed is not None:
            h.setOptionValue("random_seed", int(seed))
        if mip_gap is not None:
            h.setOptionValue("mip_rel_gap", float(mip_gap))
        run_t = h.getRunTime()
        with stop_at(h, Deadline.of(limit)):  # HiGHS's own time limit overshot by minutes at 28 000 rows
            run_status = h.run()
        seconds = h.getRunTime() - run_t
        ms, info = h.getModelStatus(), h.getInfo()
        has_sol = int(info.primal_solution_status) == 2  # kSolutionStatusFeasible
        obj = float(info.objective_function_value) if has_sol else None
        bound = proved_dual_bound(h, run_status)  # None after a refused run (its 0.0 bounds nothing)
        if ms == highspy.HighsModelStatus.kOptimal and has_sol:
            status = "optimal"
            assert obj is not None
            bound = obj if bound is None else min(bound, obj)
        elif ms == highspy.HighsModelStatus.kInfeasible:
            status = "infeasible"
        else:
            status = "feasible" if has_sol else "unknown"
        return SolveOutcome(status, obj, bound, float(seconds))

    def solution(self) -> np.ndarray:
        return np.asarray(self.highs().getSolution().col_value, dtype=np.float64)

    def weights(self) -> Weights:
        """The network of the current solution: [(W (J, d), b (J,)), (v (1, J), c (1,))], binaries rounded,
        |value| < 1e-9 set to 0 (as :meth:`~mipnet.train.readback.Readback.weight_values`)."""
        x, C = self.solution(), self.cols
        W, b = x[C["W"]].copy(), x[C["b"]].copy()
        v = np.round(x[C["p"]]) - np.round(x[C["q"]])
        c = x[C["c"]].copy()
        for arr in (W, b, c):
            arr[np.abs(arr) < 1e-9] = 0.0
        return [(W, b), (v[None, :].astype(np.float64), c)]

    def objective_of(self, weights: Weights) -> float:
        """F of a network recomputed with numpy on the model's rows: (1/D) sum_n c_n max(0, m - y_n f(x_n))
        + pw l1 (||W||_1 + ||v||_1), f(x) = v ReLU(W x + b) + c."""
        W, b = (np.asarray(a, dtype=np.float64) for a in weights[0])
        v = np.asarray(weights[1][0], dtype=np.float64).reshape(-1)
        c = float(np.asarray(weights[1][1]).reshape(-1)[0])
        f = np.maximum(self.X @ W.T + b, 0.0) @ v + c
        loss = float(self.sample_weight @ np.maximum(0.0, float(self.config.margin) - self.y * f))
        pen = self.penalty_weight * float(self.config.l1) * float(np.abs(W).sum() + np.abs(v).sum())
        return loss / self.loss_denominator + pen


__all__ = ["MatrixTrainingModel", "SolveOutcome"]
