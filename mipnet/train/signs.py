"""Sign-pattern decomposition of the sign class: one MILP per pattern of output signs.

In the sign class (:mod:`.formulation`) the output weights are v_j = p_j - q_j in {-1, 0, +1} and the
symmetry breaking orders the hidden units positive, negative, pruned. A *pattern* (P, M) fixes

    v = (+1 x P, -1 x M, 0 x (H - P - M)),

so the class is the union of its patterns and

    optimum = min_k optimum_k,   incumbent = min_k incumbent_k,   bound = min_k bound_k

(each pattern's own proved bound; a pattern proved infeasible contributes +inf). Which patterns:
every (P, M) with P + M <= H (and <= ``max_neurons``). When a unit costs nothing by itself (no
neuron penalty, no ``max_neurons`` or ``max_nonzeros`` budget, and no l1, l2 or l0 term, which all count
the output weights |v_j| = 1) only the full patterns P + M = H are needed: a unit with zero in-weights and bias -B_b
is then a pruned unit at no cost (ReLU(-B_b) = 0; biases are not penalised), so every network of a
smaller pattern is a network of a full one with the same objective.

**Directional relaxation** (hinge, logistic and 0-1 loss): with the signs fixed, sample n's loss is a
non-increasing function of y_n f(x_n) = sum_j y_n v_j h_nj + y_n c. Where y_n v_j < 0 the loss can
only grow with h_nj, so the lower envelope h_nj >= max(0, z_nj) is all the model needs: the ReLU
binary of (n, j) is relaxed to [0, 1]. Exact: the true network is feasible with h = ReLU(z), and any
relaxed point has h_nj >= ReLU(z_nj) there, hence y_n f_relaxed <= y_n f_true and a loss (and 0-1
count) at least the true one. The Lipschitz pair cuts stay valid inequalities of the true networks.

Why it helps: with p, q free, the relaxation pays fractions of the output weights' penalty and the
exact products p_j h_nj, q_j h_nj relax to values almost independent of h_nj. With the signs fixed,
a pattern with k units pays its k output weights in full, and the patterns with few units are small
MILPs that HiGHS often solves outright (breast cancer, N = 100, 3 hidden, l1 = 0.01: the joint LP
bound is 0.041; the patterns' LP bounds are 0.049 (1 unit), 0.059 (2), 0.069 (3), and the best
network found, one negative unit, is proved optimal in its pattern in 12 s). The directional
relaxation removes the binaries of about half of the (sample, unit) pairs.

With the signs fixed, each unit's share of f is a convex function of x with a known sign, which the
**convex-combination cuts** of :mod:`.hull_cuts` exploit: each pattern first runs that cut loop on its LP
relaxation (with an l1 term), stopping once the LP bound reaches the best incumbent so far, and the
cut loop's last LP optimum is a bound of the pattern as well; a pattern whose LP bound reaches the incumbent
is pruned there (status "pruned", no MILP). With HiGHS every pattern's cut loop and MILP run on one
persistent instance (the pattern's changes sent to it and taken back): the model is translated once, which
at N = 300 took longer than many a pattern's solve. On the instance above
every 2- and 3-unit pattern then closes at or near its root and the best network is proved optimal
(results/training).

**Time**: ``time_limit`` is for the whole decomposition. Each pattern of the first pass gets the time left
over the patterns left, less the time a pattern takes outside its budget (fixing and freeing its variables on
the shared instance, adding and removing cuts, the solver's reaction to its limit: measured as the patterns go);
a pattern whose share would not cover that is not run (status ``unknown``, no bound: the combined bound is then
None, never a false one). The time that the pruned patterns leave goes, pattern by pattern, to the one with the
weakest bound, solved again under the final cutoff (once; it keeps the larger of its proved bounds).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, replace
from typing import Any, Callable

import numpy as np
import pyomo.environ as pyo

from ..deadline import Deadline, Rate
from ..errors import UnsupportedError
from ..solve import Result, solve
from .formulation import TrainingProblem
from .hull_cuts import CutLoopReport, HullCuts, root_cut_loop
from .warmstart import (
    Weights,
    canonical_order,
    fixed_lp,
    fresh_lp_state,
    lp_instance,
    lp_solver_for,
    milp_options,
    snapshot,
)

#: relative allowance for the LP's tolerances when a cut loop's LP optimum is used as a pattern bound
LP_BOUND_TOL = 1e-6
#: a pattern is run only if its share of the time exceeds its expected time outside the budget by this much
MIN_PATTERN_SECONDS = 0.5
#: prior of a pattern's time outside its budget (seconds), until patterns have been measured
PATTERN_OVERHEAD_PRIOR = 0.5

#: pattern statuses that settle a pattern: solved, no point below the cutoff, or pruned by the cut loop's
#: LP bound (at or above the incumbent: the MILP is not run)
SETTLED = frozenset({"optimal", "infeasible", "pruned"})

#: losses that only grow as y_n f(x_n) falls (the directional relaxation applies)
MARGIN_LOSSES = ("hinge", "zero_one", "logistic")


@dataclass
class PatternOutcome:
    """One pattern's solve: positive and negative unit counts, status, incumbent, bound, time, nodes."""

    positive: int
    negative: int
    status: str
    incumbent: float | None
    bound: float | None
    wall_time: float
    nodes: int | None
    warm_started: bool
    cut_loop: CutLoopReport | None = None
    runs: int = 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "positive": self.positive,
            "negative": self.negative,
            "status": self.status,
            "incumbent": self.incumbent,
            "bound": self.bound if self.bound is None or math.isfinite(self.bound) else str(self.bound),
            "wall_time": self.wall_time,
            "nodes": self.nodes,
            "warm_started": self.warm_started,
            "runs": self.runs,
            "cut_loop": None if self.cut_loop is None else self.cut_loop.to_dict(),
        }


def sign_patterns(problem: TrainingProblem) -> list[tuple[int, int]]:
    """The patterns (P, M) that cover the problem's class (module docstring), fullest first."""
    cfg = problem.config
    if cfg.hypothesis != "sign":
        raise UnsupportedError("the sign-pattern decomposition is for the sign class (one hidden layer, one output)")
    H = cfg.hidden[0]
    cap = H if cfg.max_neurons is None else min(H, int(cfg.max_neurons))
    # a budget on non-zeros counts the output weights: a full pattern spends H of it (no free copy of a unit)
    free = cfg.max_neurons is None and cfg.max_nonzeros is None
    full_only = free and not any(getattr(cfg, k) > 0 for k in ("neuron_penalty", "l1", "l2", "l0"))
    out = [(P, k - P) for k in range(cap, -1, -1) for P in range(k, -1, -1)]
    return [pm for pm in out if not full_only or pm[0] + pm[1] == H]


def pattern_signs(H: int, positive: int, negative: int) -> np.ndarray:
    return np.array([1] * positive + [-1] * negative + [0] * (H - positive - negative))


class FixedPattern:
    """Fix p, q to a pattern and relax the binaries the loss does not need; ``undo`` restores the model."""

    def __init__(self, problem: TrainingProblem, signs: np.ndarray) -> None:
        self.problem = problem
        out = problem.params[1]
        self.fixed: list[Any] = []
        self.relaxed: list[Any] = []
        assert out.p is not None and out.q is not None  # the sign class's output binaries
        for j, s in enumerate(signs):
            for var, val in ((out.p[0, j], float(s > 0)), (out.q[0, j], float(s < 0))):
                var.fix(val)
                self.fixed.append(var)
        if problem.config.loss in MARGIN_LOSSES:
            y = problem.target.astype(float)
            for n in range(problem.N):
                a = problem.relu_binaries(n)[0]
                for u in np.flatnonzero(y[n] * signs < 0):
                    if a[u] is not None:
                        a[u].domain = pyo.UnitInterval
                        self.relaxed.append(a[u])

    def variables(self) -> list[Any]:
        """Every variable this pattern changed (to send to a persistent solver after a change)."""
        return self.fixed + self.relaxed

    def undo(self) -> None:
        for v in self.fixed:
            v.unfix()
        for a in self.relaxed:
            a.domain = pyo.Binary


def weights_in_pattern(weights: Weights, problem: TrainingProblem, signs: np.ndarray) -> Weights | None:
    """``weights`` written in the pattern ``signs`` (units reordered, pruned units made dead units of the
    missing sign: zero in-weights, bias -B_b), or None when the network does not fit the pattern."""
    (W0, b0), (V, c) = weights
    v = np.sign(V[0])
    need_pos, need_neg = int((signs > 0).sum()), int((signs < 0).sum())
    have_pos, have_neg = int((v > 0).sum()), int((v < 0).sum())
    spare = int((v == 0).sum())
    if have_pos > need_pos or have_neg > need_neg or (need_pos - have_pos) + (need_neg - have_neg) > spare:
        return None
    W0, b0, V = W0.copy(), b0.copy(), V.copy()
    fill = [1.0] * (need_pos - have_pos) + [-1.0] * (need_neg - have_neg)
    for j, s in zip(np.flatnonzero(v == 0), fill):
        W0[j] = 0.0
        b0[j] = -problem.config.bias_bound
        V[0, j] = s
    return canonical_order([(W0, b0), (V, c.copy())], problem)


def solve_by_patterns(
    problem: TrainingProblem,
    solver: str,
    *,
    time_limit: float | Deadline,
    threads: int | None = None,
    warm_weights: Weights | None = None,
    mip_gap: float = 1e-6,
    tee: bool = False,
    log: Callable[[str], None] | None = None,
    progress: Callable[[float, float | None, float | None], None] | None = None,
    hull_cuts: bool = True,
    cut_share: float = 0.5,
    warm_incumbent: tuple[float, dict[Any, float]] | None = None,
    instance: Any | None = None,
) -> tuple[Result, list[PatternOutcome]]:
    """Solve every pattern in turn (each gets the remaining time over the patterns left) and combine:
    the best pattern's solution is loaded in the model; the returned Result carries the minimum
    incumbent, the minimum of the patterns' bounds, the summed nodes and the whole wall time.

    ``hull_cuts`` (with an l1 term): each pattern first runs the convex-combination cut loop of
    :mod:`.hull_cuts` on its LP relaxation (at most ``cut_share`` of its time, stopping early once the LP
    bound reaches the best incumbent so far), then its MILP with the cuts.

    ``warm_weights`` is the first incumbent (every pattern is cut off at its objective) and the MIP start of
    the pattern it fits; ``warm_incumbent`` (its objective and every variable's value, as the caller has
    them loaded) saves the LP that completes it here. ``instance``: a HiGHS
    :func:`~.warmstart.lp_instance` of the model to share (else one is built here). ``time_limit`` (seconds or
    a :class:`~mipnet.deadline.Deadline`) covers every pattern's work (module docstring, **Time**)."""
    say = log or (lambda s: None)
    dl = Deadline.of(time_limit)
    patterns = sign_patterns(problem)
    H = problem.config.hidden[0]
    lp_solver = lp_solver_for(problem, solver)
    use_cuts = hull_cuts and 0 in problem.abs_vars
    t0 = time.perf_counter()
    outcomes: list[PatternOutcome] = []
    best_values: dict[Any, float] | None = None
    best_inc = math.inf
    last: Result | None = None
    trace: list[tuple[float, float | None, float | None]] = []
    starts: dict[tuple[int, int], Weights] = {}
    if warm_weights is not None:
        for P, M in patterns:
            w = weights_in_pattern(warm_weights, problem, pattern_signs(H, P, M))
            if w is not None:
                starts[(P, M)] = w
        # the warm start is the first incumbent: every pattern, the first included, is cut off at its
        # objective, and it stays the answer if no pattern finds a better network
        if warm_incumbent is None:
            warm_obj = fixed_lp(problem, warm_weights, free_weights=False, solver=lp_solver, threads=threads)
            warm_incumbent = None if warm_obj is None else (warm_obj, snapshot(problem))
        if warm_incumbent is not None:
            best_inc, best_values = warm_incumbent
            trace.append((time.perf_counter() - t0, best_inc, None))
    # the fewest units first (small MILPs, often solved outright): the best incumbent so far is the next
    # patterns' cutoff
    patterns = sorted(patterns, key=lambda pm: pm[0] + pm[1])
    # HiGHS: one instance for every pattern, built while nothing is fixed (a variable fixed when the model is
    # sent is written into the rows as a constant); each pattern's changes (fixed signs, relaxed binaries,
    # cuts) are sent to it and taken back, so the model is translated once, not once per pattern. Its
    # pattern's warm start is then no MIP start: the warm start's objective is every pattern's cutoff.
    shared = None
    if solver == "highs":
        shared = instance if instance is not None else lp_instance(problem)

    overhead = Rate(PATTERN_OVERHEAD_PRIOR)  # seconds outside the budget, per pattern run

    def run(P: int, M: int, budget: float, warm: bool) -> PatternOutcome:
        nonlocal best_inc, best_values, last
        started = time.perf_counter()
        pdl = dl.sub(seconds=budget)
        inside = 0.0  # seconds of the cut loop and the solver within their limits
        signs = pattern_signs(H, P, M)
        start = None
        if (
            warm
            and shared is None
            and (P, M) in starts
            and fixed_lp(problem, starts[(P, M)], free_weights=False, solver=lp_solver, threads=threads) is not None
        ):
            start = snapshot(problem)
        # HiGHS prunes every node whose bound reaches objective_bound; it may then call a worse point
        # "optimal", so a pattern's proved bound is min(reported bound, cutoff), and no point below
        # the cutoff (status infeasible) proves the cutoff
        cutoff = best_inc * (1 + 1e-9) + 1e-12 if solver == "highs" and math.isfinite(best_inc) else None
        options = None if cutoff is None else {"objective_bound": cutoff}
        fixed = FixedPattern(problem, signs)
        if shared is not None:
            shared.update_variables(fixed.variables())
        cuts = HullCuts(problem, signs, instance=shared) if use_cuts and P + M > 0 else None
        loop = None
        lp = None  # the cut loop's last LP optimum, less a relative 1e-6 for the LP's tolerances: a bound
        res = None
        try:
            if cuts is not None:
                fresh_lp_state(shared)  # the last pattern's MILP state would slow the cut loop's LPs
                loop = root_cut_loop(
                    cuts,
                    time_limit=cut_share * pdl.remaining(),
                    threads=threads,
                    cutoff=best_inc if math.isfinite(best_inc) else None,
                )
                inside += min(loop.seconds, cut_share * budget)
                say(
                    f"sign pattern +{P} -{M}: {loop.cuts} convex-combination cuts in {loop.rounds} rounds, "
                    f"LP bound {loop.lp_bounds[-1] if loop.lp_bounds else None} ({loop.stopped})"
                )
                if loop.lp_bounds:
                    lp = loop.lp_bounds[-1] - LP_BOUND_TOL * max(1.0, abs(loop.lp_bounds[-1]))
            if (lp is None or lp < best_inc) and not pdl.expired():  # else pruned (no network of the pattern
                # beats the incumbent) or out of time
                limit = pdl.solver_limit()
                res = solve(
                    problem.model,
                    solver,
                    time_limit=limit,
                    threads=threads,
                    warm_start=start,
                    tee=tee,
                    mip_gap=mip_gap,
                    progress=progress,
                    options={**(options or {}), **(milp_options(problem, solver, limit) or {})} or None,
                    instance=shared,
                )
                inside += min(res.wall_time, limit or res.wall_time)
                if res.incumbent is not None and res.incumbent < best_inc:  # has_solution
                    best_inc, best_values = res.incumbent, snapshot(problem)
        finally:
            fixed.undo()
            if shared is not None:
                shared.update_variables(fixed.variables())
            if cuts is not None:
                cuts.remove()
            overhead.add(time.perf_counter() - started - inside, 1)
        if res is None and (lp is None or lp < best_inc):  # the time ran out before the MILP: no proof
            say(f"sign pattern +{P} -{M}: time limit before its MILP" + ("" if lp is None else f", LP bound {lp:.6g}"))
            return PatternOutcome(P, M, "unknown", None, lp, time.perf_counter() - started, 0, False, loop)
        if res is None:
            assert loop is not None and lp is not None
            trace.append((time.perf_counter() - t0, best_inc, None))
            say(f"sign pattern +{P} -{M}: pruned, LP bound {lp:.6g} >= incumbent {best_inc:.6g}")
            return PatternOutcome(P, M, "pruned", None, lp, loop.seconds, 0, False, loop)
        bound = math.inf if res.status == "infeasible" else res.bound
        if cutoff is not None:
            bound = cutoff if bound is None and res.status in ("optimal", "infeasible") else bound
            bound = None if bound is None else min(bound, cutoff)
        if lp is not None:
            # the cut loop's LP optimum bounds the pattern too (a relaxation of its MILP). It counts where
            # the MILP ended without a bound of its own or with a lower one (little time left after the loop)
            bound = lp if bound is None else max(bound, lp)
        trace.append((time.perf_counter() - t0, None if best_values is None else best_inc, None))
        say(
            f"sign pattern +{P} -{M}: {res.status}, incumbent {res.incumbent}, bound {res.bound} "
            f"({res.wall_time:.1f} s)"
        )
        last = res
        return PatternOutcome(
            P,
            M,
            res.status,
            res.incumbent,
            bound,
            res.wall_time + (loop.seconds if loop else 0.0),
            res.nodes,
            start is not None,
            loop,
        )

    # the work around each MILP (fixing and freeing the pattern, cuts, the solver's reaction to its limit) runs
    # outside the solver's clock: its measured mean is taken off each budget, so that the whole stays within
    # ``time_limit``; a pattern whose share does not cover it is not run (no bound)
    for k, (P, M) in enumerate(patterns):
        share = dl.remaining() / (len(patterns) - k)
        budget = share - overhead.per_unit
        if budget < MIN_PATTERN_SECONDS:
            say(f"sign pattern +{P} -{M}: not run, the time limit leaves {share:.2f} s for it")
            outcomes.append(PatternOutcome(P, M, "unknown", None, None, 0.0, 0, False, runs=0))
            continue
        outcomes.append(run(P, M, budget, warm=True))
    # time left (patterns pruned early): re-solve the pattern with the weakest bound with all of it, under
    # the final cutoff (once per pattern); both runs' bounds are proved, so the pattern keeps the larger
    while best_values is not None:
        left = dl.remaining() - overhead.per_unit
        weak = [
            k
            for k, o in enumerate(outcomes)
            if o.runs <= 1 and (o.bound is None or best_inc - o.bound > mip_gap * max(abs(best_inc), 1e-10))
        ]
        if left < 5.0 or not weak:
            break
        k = min(weak, key=lambda i: -math.inf if (b := outcomes[i].bound) is None else b)
        old = outcomes[k]
        if old.status in SETTLED:
            break  # solved, cut off or pruned: nothing to gain from a rerun
        again = run(old.positive, old.negative, left, warm=False)
        bounds = [b for b in (old.bound, again.bound) if b is not None]
        outcomes[k] = replace(
            again,
            bound=max(bounds) if bounds else None,
            wall_time=old.wall_time + again.wall_time,
            nodes=(old.nodes or 0) + (again.nodes or 0),
            warm_started=old.warm_started,
            runs=old.runs + 1,
        )
    if best_values is not None:
        for v, x in best_values.items():
            v.set_value(x, skip_validation=True)
    pattern_bounds = [o.bound for o in outcomes]
    # inf: all infeasible
    bound = None if any(b is None for b in pattern_bounds) else min(b for b in pattern_bounds if b is not None)
    statuses = {o.status for o in outcomes}
    if best_values is None:
        status = "infeasible" if statuses == {"infeasible"} else "unknown"
    elif statuses <= SETTLED:
        status = "optimal"
    else:
        status = "feasible"
    incumbent = None if best_values is None else best_inc
    gap = None
    if incumbent is not None and bound is not None:
        gap = max(0.0, incumbent - bound) / max(abs(incumbent), 1e-10)
        if status == "feasible" and gap <= mip_gap:
            # a pattern stopped by its time limit with a proved bound above the best incumbent: the
            # combined bound proves the incumbent optimal all the same
            status = "optimal"
    nodes = sum(o.nodes or 0 for o in outcomes)
    if trace:
        trace[-1] = (trace[-1][0], incumbent, bound)
    else:
        trace.append((time.perf_counter() - t0, incumbent, bound))
    combined = Result(
        status=status,
        incumbent=incumbent,
        bound=bound,
        gap=gap,
        wall_time=time.perf_counter() - t0,
        nodes=nodes,
        solver=last.solver if last is not None else solver,
        solver_version=last.solver_version if last is not None else "",
        termination=f"sign patterns: {', '.join(o.status for o in outcomes)}",
        options=last.options if last is not None else {},
        trace=trace,
    )
    return combined, outcomes


__all__ = [
    "PatternOutcome",
    "sign_patterns",
    "pattern_signs",
    "FixedPattern",
    "weights_in_pattern",
    "solve_by_patterns",
]
