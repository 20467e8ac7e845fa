"""Convex-combination cuts: a cutting-plane loop that tightens a sign pattern's relaxation.

Unit j of a one-hidden-layer network computes h_j(x) = ReLU(w_j x + b_j), a convex function of x. For a
sample n and any convex combination xbar = sum_m lambda_m x_m of other samples (lambda >= 0, sum = 1):

    h_j(x_n) - sum_m lambda_m h_j(x_m) <= h_j(x_n) - h_j(xbar)                    (convexity)
                                        <= ReLU(w_j delta),   delta = x_n - xbar   (ReLU monotone, 1-Lipschitz)
                                        <= 1/2 sum_i (t_ji |delta_i| + w_ji delta_i)

(ReLU(u) = (|u| + u) / 2, |w_j delta| <= sum_i |w_ji| |delta_i| and t >= |W_0|, the l1 variables). Every
network of the class satisfies these with its own h, t, W: they are valid inequalities. They do not involve
the bias, and their right side is cheap only where the direction w_j itself separates x_n from xbar, so the
relaxation can no longer fit each sample with its own coordinate (the "Lipschitz mass" relaxation that the
pair cuts of :meth:`TrainingProblem._lipschitz_cuts` leave).

Which ones bind: with the output sign s_j fixed (a pattern, :mod:`.signs`) the margin losses want
s_j y_n h_j(x_n) large, so n is taken on the side s_j y_n > 0 and lambda over the samples of the other label.
A single sample (lambda = e_m) gives the directional pair cut; the loop is seeded with those of each
(n, j) and its ``partners`` nearest samples of the other label (5: on breast cancer, 20 built 3x the cuts for
a slower loop, 0 or 2 needed more rounds). Units of one sign are interchangeable in a pattern, so a
combination violated by one unit is added for its twins too (otherwise the relaxation moves the same l1
mass to a twin and the bound does not move). The most violated lambda for LP values (h*, t*, w*) solves
the separation LP

    min_{lambda, e}  sum_m lambda_m (h*_mj - w*_j x_m / 2) + sum_i t*_ji e_i / 2
    s.t.  e >= x_n - X_opp^T lambda,  e >= -(x_n - X_opp^T lambda),  sum_m lambda_m = 1,  lambda >= 0,

and the cut is violated iff h*_nj - w*_j x_n / 2 exceeds that optimum. The loop: solve the LP relaxation
(HiGHS, persistent, warm re-solves), separate every (n, j), add the cuts violated by more than ``tol``,
repeat until none is, the LP bound reaches ``cutoff`` or the round / time budget ends. The cuts stay in
the model for the MILP; :meth:`HullCuts.remove` deletes them.

With the directional relaxation of :mod:`.signs` the binaries of the opposite-label samples m are relaxed
(h_mj >= ReLU(z_mj) only); h_mj enters the cut with a negative coefficient, so a larger h_mj only loosens
it: the relaxed model with cuts still contains every true network and keeps the true optimum.

Measured (breast cancer, N = 100, 3 hidden units, hinge + l1 = 0.01; results/training/README.md): the
patterns' LP bounds rise from 0.060 / 0.070 / 0.080 (1 / 2 / 3 units, seed cuts) to 0.074-0.087, most of
them above the best network's objective 0.0834, and the sign-pattern search proves that network optimal
in 163 s (29.5 % gap without the cuts).
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pyomo.environ as pyo
from pyomo.core.base.var import VarData
from pyomo.core.expr import LinearExpression

from ..highs import set_instance
from ..interrupt import native
from ..solve import HIGHS_NO_UPDATES, highs_threads, highs_time_limit, remove_constraints, solver_interface
from .formulation import TrainingProblem


@dataclass
class CutLoopReport:
    """What the root cut loop did: rounds, cuts added, the LP bound after each round, why it stopped."""

    rounds: int = 0
    cuts: int = 0
    lp_bounds: list[float] = field(default_factory=list)
    seconds: float = 0.0
    stopped: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Cut:
    """h_nj - sum_m lam_m h_mj <= 1/2 sum_i (t_ji |delta_i| + w_ji delta_i), delta = x_n - lam X[others]."""

    n: int
    j: int
    others: np.ndarray
    lam: np.ndarray


class HullCuts:
    """The convex-combination cuts of one pattern ``signs`` on ``problem`` (module docstring)."""

    def __init__(
        self, problem: TrainingProblem, signs: np.ndarray, tol: float = 1e-5, instance: Any | None = None
    ) -> None:
        if problem.config.hypothesis != "sign" or 0 not in problem.abs_vars:
            raise ValueError("convex-combination cuts need the sign class with an l1 term (t >= |W_0|)")
        self.problem = problem
        self.signs = np.asarray(signs)
        self.tol = float(tol)
        self.X = problem.X
        self.y = problem.target.astype(float)
        self.H = int(self.signs.size)
        self.h = [[enc.terms[2].expr[j] for j in range(self.H)] for enc in problem.encodings]
        self.t = problem.abs_vars[0]
        self.W = problem.params[0].weight
        name = "hull_cuts"
        k = 0
        while problem.model.component(name) is not None:
            k += 1
            name = f"hull_cuts_{k}"
        self.cons = pyo.ConstraintList()
        problem.model.add_component(name, self.cons)
        self.count = 0
        self._separation: dict[float, SeparationLP] = {}
        #: a persistent HiGHS interface that holds the model, shared with the caller (who keeps it in sync
        #: with the model): the cut loop runs its LPs on it, adds the cuts' rows to it and leaves it in sync
        #: (it can then solve the MILP with the cuts); :meth:`remove` takes the rows out again. None: the
        #: cut loop makes an instance of its own
        self.instance: Any | None = instance

    # ------------------------------------------------------------------ cuts
    def active_units(self) -> np.ndarray:
        return np.flatnonzero(self.signs != 0)

    def useful(self, n: int, j: int) -> bool:
        """Sample n is on the side the loss pushes unit j up (s_j y_n > 0)."""
        return bool(self.signs[j] * self.y[n] > 0)

    def pair_cuts(self, partners: int) -> list[Cut]:
        """The single-sample cuts (lambda = e_m): every (n, j) with n on unit j's side and its ``partners``
        nearest samples (l1 distance) of the other label."""
        out: list[Cut] = []
        for n in range(self.X.shape[0]):
            opp = np.flatnonzero(self.y != self.y[n])
            near = opp[np.argsort(np.abs(self.X[opp] - self.X[n]).sum(axis=1), kind="stable")[:partners]]
            for j in self.active_units():
                if self.useful(n, j):
                    out.extend(Cut(n, int(j), np.array([m]), np.array([1.0])) for m in near)
        return out

    def add(self, cuts: list[Cut]) -> list[Any]:
        """Add ``cuts`` to the model; returns the new constraint data (for a persistent solver)."""
        new = []
        w_max = self.problem.params[0].w_abs_max
        for c in cuts:
            delta = self.X[c.n] - c.lam @ self.X[c.others]
            # a rounding-level delta_i (x_n matched by xbar) is bounded by its largest value |w| <= w_max:
            # a constant of at most 1e-9 instead of coefficients a solver would drop
            tiny = np.abs(delta) < 1e-9
            slack = float(np.sum(np.abs(delta[tiny]) * w_max[c.j][tiny]))
            idx = np.flatnonzero(~tiny)
            # h_n - sum lam h_m - 1/2 sum_i (|delta_i| t_ji + delta_i w_ji) <= slack, as one linear expression
            coefs = (
                [1.0]
                + [-float(v) for v in c.lam]
                + [-0.5 * float(abs(delta[i])) for i in idx]
                + [-0.5 * float(delta[i]) for i in idx]
            )
            terms = (
                [self.h[c.n][c.j]]
                + [self.h[m][c.j] for m in c.others]
                + [self.t[c.j, i] for i in idx]
                + [self.W[c.j, i] for i in idx]
            )
            const = sum(a * float(v) for a, v in zip(coefs, terms) if not isinstance(v, VarData))  # stable units
            keep = [k for k, v in enumerate(terms) if isinstance(v, VarData)]
            body = LinearExpression(
                constant=const, linear_coefs=[coefs[k] for k in keep], linear_vars=[terms[k] for k in keep]
            )
            new.append(self.cons.add(body <= slack))
        self.count += len(cuts)
        return new

    def separate(
        self, hv: np.ndarray, tv: np.ndarray, wv: np.ndarray, deadline: float | None = None
    ) -> tuple[list[Cut], float]:
        """The most violated cut of every (n, j) with violation > ``tol`` at LP values h (N, H), t and W
        (H, d); returns the cuts and the largest violation. Past ``deadline`` (a ``time.perf_counter``
        value) it stops and returns what it has found."""
        out: list[Cut] = []
        worst = 0.0
        for j in self.active_units():
            for n in range(self.X.shape[0]):
                if not self.useful(n, j):
                    continue
                if deadline is not None and time.perf_counter() > deadline:
                    break
                opp = np.flatnonzero(self.y != self.y[n])
                if opp.size == 0:
                    continue
                Xo = self.X[opp]
                sep = self._separation_lp(float(self.y[n]), opp)
                value, lam = sep.solve(hv[opp, j] - 0.5 * (Xo @ wv[j]), 0.5 * tv[j], self.X[n])
                if value is None:
                    continue
                assert lam is not None  # solve returns both or neither
                violation = hv[n, j] - 0.5 * float(wv[j] @ self.X[n]) - value
                worst = max(worst, violation)
                if violation > self.tol:
                    keep = lam > 1e-9
                    out.append(Cut(n, int(j), opp[keep], lam[keep] / lam[keep].sum()))
        # units of one sign are interchangeable in the pattern: a combination that cuts off one unit's
        # values is added for its twins too, or the relaxation moves the same mass to a twin
        seen = {(c.n, c.j) for c in out}
        twins = []
        for c in out:
            for j2 in self.active_units():
                if self.signs[j2] == self.signs[c.j] and (c.n, int(j2)) not in seen:
                    seen.add((c.n, int(j2)))
                    twins.append(Cut(c.n, int(j2), c.others, c.lam))
        return out + twins, worst

    def _separation_lp(self, label: float, opp: np.ndarray) -> SeparationLP:
        """The separation LP of the samples with ``label`` (its constraint matrix depends on the label only)."""
        if label not in self._separation:
            self._separation[label] = SeparationLP(self.X[opp])
        return self._separation[label]

    def remove(self) -> None:
        """Delete the cuts from the model and from the persistent instance."""
        if self.instance is not None and len(self.cons):
            remove_constraints(self.instance, list(self.cons.values()))
        self.problem.model.del_component(self.cons)


class SeparationLP:
    """min_{lambda, e} a^T lambda + g^T e  s.t.  -e <= x - X_opp^T lambda <= e,  sum lambda = 1,  lambda, e >= 0.

    One HiGHS instance per label: only the costs (a, g: per unit) and the right-hand sides (x: per sample)
    change between solves, so each solve is a warm simplex re-solve from the previous basis (the loop over
    the samples of one unit changes the right-hand sides only). Returns (optimum, lambda), or (None, None)."""

    def __init__(self, X_opp: np.ndarray) -> None:
        import highspy

        self._hs = highspy
        m, d = X_opp.shape
        self.m, self.d = m, d
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        h.setOptionValue("threads", 1)
        inf = highspy.kHighsInf
        n_col = m + d
        h.addVars(n_col, np.zeros(n_col), np.full(n_col, inf))
        # rows i < d:  X_opp[:, i]^T lambda + e_i >= x_i ;  rows d + i:  X_opp[:, i]^T lambda - e_i <= x_i
        #  (|x_i - X_opp[:, i]^T lambda| <= e_i); last row: sum lambda = 1
        A = np.vstack(
            [
                np.hstack([X_opp.T, np.eye(d)]),
                np.hstack([X_opp.T, -np.eye(d)]),
                np.concatenate([np.ones(m), np.zeros(d)])[None],
            ]
        )
        for row in A:
            nz = np.flatnonzero(row)
            h.addRow(-inf, inf, nz.size, nz.astype(np.int32), row[nz])
        self.h = h
        self._cols = np.arange(n_col, dtype=np.int32)
        self._rows = np.arange(2 * d + 1, dtype=np.int32)

    def solve(self, a: np.ndarray, g: np.ndarray, x: np.ndarray) -> tuple[float | None, np.ndarray | None]:
        inf = self._hs.kHighsInf
        h = self.h
        h.changeColsCost(self._cols.size, self._cols, np.concatenate([a, g]))
        lower = np.concatenate([x, np.full(self.d, -inf), [1.0]])
        upper = np.concatenate([np.full(self.d, inf), x, [1.0]])
        h.changeRowsBounds(self._rows.size, self._rows, lower, upper)  # type: ignore[attr-defined]  # not in highspy's stubs
        with native(h):  # Ctrl-C asks HiGHS to stop, then raises Interrupted here
            h.run()
        if h.getModelStatus() != self._hs.HighsModelStatus.kOptimal:
            return None, None
        return float(h.getInfo().objective_function_value), np.asarray(h.getSolution().col_value[: self.m])


def root_cut_loop(
    cuts: HullCuts,
    *,
    time_limit: float,
    max_rounds: int = 30,
    cutoff: float | None = None,
    stall: float = 1e-3,
    threads: int | None = None,
    partners: int = 5,
) -> CutLoopReport:
    """Pair cuts, then rounds of LP relaxation + separation (module docstring); the cuts stay in the model.

    Stops when no cut is violated, the LP bound reaches ``cutoff``, ``max_rounds`` rounds are done, the
    bound rose by less than ``stall`` (relative) over the last three rounds, or ``time_limit`` has passed.

    The LP relaxation relaxes every integer variable, fixed ones included (their values stay fixed): HiGHS
    treats a model with any integer column, fixed or not, as a MIP, solves it from scratch each round and
    keeps no basis; as a pure LP each round is a warm dual-simplex re-solve. The variables' domains are
    restored after.
    """
    problem = cuts.problem
    model = problem.model
    report = CutLoopReport()
    t0 = time.perf_counter()
    seeds = cuts.add(cuts.pair_cuts(partners)) if partners > 0 else []
    relaxed = []
    for v in model.component_data_objects(pyo.Var):
        if v.is_integer():
            relaxed.append((v, v.domain, v.lb, v.ub))
            v.domain = pyo.Reals
            v.setlb(0.0 if relaxed[-1][2] is None else relaxed[-1][2])
            v.setub(1.0 if relaxed[-1][3] is None else relaxed[-1][3])
    opt = cuts.instance
    try:
        if opt is None:
            opt = solver_interface("highs")
            set_instance(opt, model)
        else:
            opt.add_constraints(seeds)
            opt.update_variables([v for v, *_ in relaxed])
        H, d = cuts.H, problem.d
        while True:
            left = time_limit - (time.perf_counter() - t0)
            if left <= 0:
                report.stopped = "time limit"
                break
            # a shared instance may carry a MILP's cutoff (objective_bound would stop the dual simplex), and
            # an LP's time_limit counts on the instance's clock, which its earlier runs advanced
            with native(opt._solver_model):  # Ctrl-C asks HiGHS to stop, then raises Interrupted here
                res = opt.solve(
                    model,
                    time_limit=highs_time_limit(opt._solver_model, left),
                    threads=highs_threads(threads),
                    load_solutions=False,
                    raise_exception_on_nonoptimal_result=False,
                    auto_updates=HIGHS_NO_UPDATES,
                    solver_options={"objective_bound": math.inf},
                )
            if str(res.termination_condition).rsplit(".", 1)[-1] != "convergenceCriteriaSatisfied":
                report.stopped = f"LP relaxation: {res.termination_condition}"
                break
            res.solution_loader.load_vars()
            report.lp_bounds.append(float(pyo.value(problem.model.obj)))
            if cutoff is not None and report.lp_bounds[-1] >= cutoff:
                report.stopped = "LP bound reached the cutoff"
                break
            if report.rounds >= max_rounds:
                report.stopped = "round limit"
                break
            b = report.lp_bounds
            if len(b) > 3 and b[-1] - b[-4] <= stall * max(abs(b[-1]), 1e-12):
                report.stopped = "bound stalled"
                break
            hv = np.array([[pyo.value(cuts.h[n][j]) for j in range(H)] for n in range(problem.N)])
            tv = np.array([[pyo.value(cuts.t[j, i]) for i in range(d)] for j in range(H)])
            wv = np.array([[pyo.value(cuts.W[j, i]) for i in range(d)] for j in range(H)])
            new, _ = cuts.separate(hv, tv, wv, deadline=t0 + time_limit)
            if not new:
                report.stopped = "no violated cut"
                break
            opt.add_constraints(cuts.add(new))
            report.rounds += 1
    finally:
        for v, dom, lb, ub in relaxed:
            v.domain = dom
            v.setlb(lb)
            v.setub(ub)
    if cuts.instance is not None:  # a shared instance goes back in sync: integer columns restored, cuts kept
        opt.update_variables([v for v, *_ in relaxed])
    report.cuts = cuts.count
    report.seconds = time.perf_counter() - t0
    return report


__all__ = ["Cut", "CutLoopReport", "HullCuts", "root_cut_loop"]
