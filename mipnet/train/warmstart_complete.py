"""Warm start, part two: a complete consistent assignment of every variable of the training MILP for given
weights, and the LP heuristic that improves it (the weights come from :mod:`.warmstart_map` or a solve).


**Completion**: the discrete variables (sign / grid binaries, switches) follow from the weights, the
ReLU binaries from a numpy forward pass (a = [z > 0]), the 0-1 loss binaries from the margins; all
binaries (and, for a warm start, the weights) are fixed and the remaining LP is solved for the
auxiliary variables (hidden values, products, slacks, absolute values), which yields a point that
satisfies every constraint.

**LP heuristic**: fix the activation patterns and the discrete weights; the rest is an LP in the
continuous weights (with the linear term's w0, :mod:`.linear_term`), whose optimum is no worse than the current
point. Units that end on their
breakpoint (|z| <= eps) are flipped to the other side, the patterns recomputed, and the LP repeated
while the objective improves.
"""

from __future__ import annotations

import functools
import time
from typing import Any

import numpy as np
import pyomo.environ as pyo
from pyomo.common.collections import ComponentMap

from ..deadline import Deadline
from ..errors import MipnetError
from ..highs import new_highs, set_instance
from ..solve import Result, solve, solver_interface
from .certificate import ZERO_ONE_TIE
from .formulation import TrainingProblem
from .linear_term import linear_outputs, linear_var_values
from .warmstart_map import Weights


# ---------------------------------------------------------------------- completion
def discrete_values(problem: TrainingProblem, weights: Weights) -> dict[Any, float]:
    """Values of every binary implied by ``weights`` (grid bits, switches, ReLU and 0-1 binaries)."""
    cfg, vals = problem.config, ComponentMap()
    for lp, (W, _b) in zip(problem.params, weights):
        if lp.kind == "sign":
            assert lp.p is not None and lp.q is not None  # the sign class's binaries
            for idx in np.ndindex(lp.shape):
                vals[lp.p[idx]] = float(W[idx] > 0)
                vals[lp.q[idx]] = float(W[idx] < 0)
        elif lp.kind == "quantized":
            for k, (s, off, bits) in lp.expansion.items():
                m = int(round(W.flat[k] / s - off))
                for c, bv in bits:
                    vals[bv] = float((m // int(c)) % 2)
    for (W, _), inds in zip(weights, problem.nonzero_ind):
        for k, ind in enumerate(inds):
            if _is_var(ind):
                vals[ind] = float(W.flat[k] != 0)
    o = problem.hidden_offset
    skip, cons = problem.skipped_layers(weights), problem.consumers(weights)
    for l, units in enumerate(problem.neuron_ind):
        W, b = weights[o + l]
        n = W.shape[0]
        Wo = weights[cons[o + l]][0]  # the next present layer reads these units
        active = (np.abs(W.reshape(n, -1)).sum(axis=1) + np.abs(b) + np.abs(Wo).sum(axis=0)) > 0
        active &= not skip[l]
        for j, u in enumerate(units):
            if _is_var(u):
                vals[u] = float(active[j])
        if _is_var(problem.layer_switch[l]):
            vals[problem.layer_switch[l]] = float(not skip[l])
    pre, f = problem.pre_activations(weights)  # a skipped layer: z = 0, ReLU binaries 0
    for n in range(problem.N):
        for l, bins in enumerate(problem.relu_binaries(n)):
            if bins is None:
                continue
            for j, a in enumerate(bins.ravel()):
                if a is not None:
                    vals[a] = float(pre[l][n, j] > 0)
    vals.update(problem.selection_values(weights))
    if "err" in getattr(problem, "loss_vars", {}):
        if getattr(problem, "linear_var", None) is not None:  # the linear term's w0 x (:mod:`.linear_term`)
            f = f + linear_outputs(problem, problem.X)
        margin = _margins(problem, f)
        for n, e in enumerate(problem.loss_vars["err"]):
            vals[e] = float(margin[n] < cfg.margin - ZERO_ONE_TIE)
    return vals


def _margins(problem: TrainingProblem, f: np.ndarray) -> np.ndarray:
    if problem.n_out == 1:
        return problem.target.astype(float) * f[:, 0]
    y = problem.target.astype(int)
    fy = f[np.arange(len(y)), y]
    other = f.copy()
    other[np.arange(len(y)), y] = -np.inf
    return fy - other.max(axis=1)


def _is_var(e: Any) -> bool:
    return e is not None and hasattr(e, "is_binary") and hasattr(e, "fix")


def _weight_vars(problem: TrainingProblem, weights: Weights) -> dict[Any, float]:
    vals = ComponentMap()
    for lp, (W, b) in zip(problem.params, weights):
        if lp.w_var is not None:
            for idx in np.ndindex(lp.shape):
                vals[lp.w_var[idx]] = float(W[idx])
        for j in range(b.size):
            vals[lp.b_var[j]] = float(b[j])
    for v, x in linear_var_values(problem):  # the linear term at ``problem.linear_w`` (:mod:`.linear_term`)
        vals[v] = x
    return vals


#: HiGHS's MIP presolve does not watch the time limit: on training models it took 1 s (N = 300), 13 s
#: (N = 1000) and 30 s (N = 3000) of a 0.5 s limit, about 1-4 x the time of building the model. Its initial
#: sweep alone (``presolve_mode`` 1) took about 1 s on each. The full presolve runs only when the budget is
#: at least this many times the model's build time (then it ends well inside the budget).
FULL_PRESOLVE_PER_BUILD = 8.0


#: HiGHS's sub-MIP heuristic effort for the logistic loss (its default, 0.05, for every other loss)
LOGISTIC_HEURISTIC_EFFORT = 0.01


def milp_options(problem: TrainingProblem, solver: str, budget: float | None) -> dict[str, Any] | None:
    """Solver options for a training MILP given ``budget`` seconds: with HiGHS, the full presolve only when the
    budget covers it (``FULL_PRESOLVE_PER_BUILD``), else its initial sweep. Always set explicitly: options
    persist on a shared HiGHS instance."""
    if solver != "highs" or not _highs_knows("presolve_mode"):
        return None
    build = float(getattr(problem, "build_seconds", 0.0))
    full = budget is None or budget >= FULL_PRESOLVE_PER_BUILD * build
    out: dict[str, Any] = {"presolve_mode": 0 if full else 1}
    if _highs_knows("mip_heuristic_effort"):
        # the logistic loss's tangent rows make every sub-MIP heuristic an LP of ~25 rows per sample: they took
        # 27 of 45 s at the root on COMPAS (1000 rows, K = 1 feature) and the bound stayed at a 4.9 % gap; at
        # effort 0.01 the search closed it to the envelope's 0.13 %
        out["mip_heuristic_effort"] = LOGISTIC_HEURISTIC_EFFORT if problem.config.loss == "logistic" else 0.05
    return out


@functools.lru_cache(maxsize=None)
def _highs_knows(option: str) -> bool:
    """Whether the installed HiGHS has the option (asked of a silent instance: highspy's options class does not
    list every option)."""
    try:
        import highspy
        from pyomo.common.tee import capture_output

        with capture_output(capture_fd=True):
            h = new_highs()
            ok = h.getOptionValue(option)[0] == highspy.HighsStatus.kOk
        return bool(ok)
    except Exception:
        return False


def fresh_lp_state(instance: Any | None) -> None:
    """Before an LP on a shared HiGHS instance that has just run a MILP: clear the MILP's solver state and its
    presolve setting. Left in place they made the next LP 4-6 x slower (a completion LP at N = 3000: 5.6 s after
    a MILP, 0.8 s with the state cleared); the model and every value loaded in Pyomo are kept."""
    if instance is None:
        return
    h = getattr(instance, "_solver_model", None)
    if h is None:
        return
    try:
        h.clearSolver()
        if _highs_knows("presolve_mode"):
            h.setOptionValue("presolve_mode", 0)
    except Exception:  # an older highspy without these: the LP is only slower
        pass


def no_solve_result(solver: str, reason: str, status: str = "unknown") -> Result:
    """The Result of a solve that was not run (no time left): no incumbent, no bound."""
    return Result(
        status=status,
        incumbent=None,
        bound=None,
        gap=None,
        wall_time=0.0,
        nodes=0,
        solver=solver,
        solver_version="",
        termination=f"not run: {reason}",
    )


def lp_instance(problem: TrainingProblem) -> Any:
    """A persistent HiGHS interface holding ``problem``'s model, built while no variable is fixed (a variable
    fixed when the model is sent is written into the rows as a constant). :func:`fixed_lp`,
    :func:`lp_heuristic` and :func:`mipnet.solve.solve` take it as ``instance``: the model is translated
    once (at N = 300, 4 hidden units, several seconds per translation) and each solve sends only what it
    fixes and frees."""
    opt = solver_interface("highs")
    set_instance(opt, problem.model)
    return opt


def fixed_lp(
    problem: TrainingProblem,
    weights: Weights,
    *,
    free_weights: bool,
    solver: str = "highs",
    flips: dict[Any, float] | None = None,
    time_limit: float | None = 30.0,
    threads: int | None = None,
    instance: Any | None = None,
) -> float | None:
    """Fix the binaries implied by ``weights`` (and the weights unless ``free_weights``), solve the LP,
    unfix; returns the objective (variable values stay loaded) or None if the LP found nothing.

    ``instance`` (HiGHS, :func:`lp_instance`): solved on it; the fixed binaries are sent as continuous
    columns (HiGHS treats a model with any integer column, fixed or not, as a MIP) and everything is taken
    back after."""
    if solver != "highs":
        instance = None
    disc = discrete_values(problem, weights)
    if flips:
        disc.update(flips)
    wv = _weight_vars(problem, weights)
    fixed = []
    domains = []
    try:
        for v, x in disc.items():
            if instance is not None and v.is_integer():
                domains.append((v, v.domain))
                v.domain = pyo.Reals
            v.fix(round(x))
            fixed.append(v)
        for v, x in wv.items():
            if free_weights:
                v.set_value(
                    float(np.clip(x, v.lb if v.lb is not None else -np.inf, v.ub if v.ub is not None else np.inf)),
                    skip_validation=True,
                )
            else:
                v.fix(float(np.clip(x, v.lb if v.lb is not None else -np.inf, v.ub if v.ub is not None else np.inf)))
                fixed.append(v)
        if instance is not None:
            instance.update_variables(fixed)
        try:
            res = solve(problem.model, solver, time_limit=time_limit, threads=threads, instance=instance)
        except MipnetError:
            return None
        if res.status not in ("optimal", "feasible"):
            return None
        return problem.objective_value()
    finally:
        for v in fixed:
            v.unfix()
        for v, dom in domains:
            v.domain = dom
        if instance is not None:
            instance.update_variables(fixed)


def fixed_weights_mip(
    problem: TrainingProblem,
    weights: Weights,
    *,
    solver: str = "highs",
    time_limit: float | None = 30.0,
    threads: int | None = None,
) -> float | None:
    """Fix only the weights; the solver sets every binary and auxiliary (a MIP whose binaries are
    forced up to ties). Returns the objective, values loaded, or None."""
    wv = _weight_vars(problem, weights)
    fixed = []
    try:
        for v, x in wv.items():
            v.fix(float(np.clip(x, v.lb if v.lb is not None else -np.inf, v.ub if v.ub is not None else np.inf)))
            fixed.append(v)
        try:
            options = {"presolve": "off"} if solver == "highs" else None  # presolve's tolerances differ
            res = solve(problem.model, solver, time_limit=time_limit, threads=threads, options=options)
        except MipnetError:
            return None
        if res.status not in ("optimal", "feasible"):
            return None
        return problem.objective_value()
    finally:
        for v in fixed:
            v.unfix()


def max_violation(model: pyo.Block) -> float:
    """Largest violation of any active constraint at the variables' current values (inf if unset)."""
    worst = 0.0
    for c in model.component_data_objects(pyo.Constraint, active=True):
        body = pyo.value(c.body, exception=False)
        if body is None:
            return float("inf")
        if c.has_lb():
            worst = max(worst, pyo.value(c.lower) - body)
        if c.has_ub():
            worst = max(worst, body - pyo.value(c.upper))
    return worst


def snapshot(problem: TrainingProblem) -> dict[Any, float]:
    """Current values of every variable (a complete MIP start)."""
    out = ComponentMap()
    for v in problem.model.component_data_objects(pyo.Var):
        if v.value is not None:
            out[v] = float(v.value)
    return out


def is_linear(problem: TrainingProblem) -> bool:
    """No quadratic objective term and no bilinear products (the continuous class): HiGHS can take it."""
    return not problem.quadratic and problem.config.hypothesis != "continuous"


def lp_solver_for(problem: TrainingProblem, solver: str) -> str:
    return "highs" if is_linear(problem) else solver


def repair(
    problem: TrainingProblem,
    weights: Weights,
    *,
    solver: str = "highs",
    threads: int | None = None,
    instance: Any | None = None,
    time_limit: float | None = 30.0,
) -> Weights | None:
    """``weights`` if they are feasible for the model; otherwise (extra rows, such as monotone pairs,
    cut them off) the weights of the LP with their activation patterns fixed and the weights free.
    That LP is feasible whenever all-zero weights are (every pre-activation is then 0, consistent
    with either phase; a pair constraint f(x') - f(x) >= 0 holds with equality). None if neither is."""
    lp_solver = lp_solver_for(problem, solver)
    if (
        fixed_lp(
            problem,
            weights,
            free_weights=False,
            solver=lp_solver,
            threads=threads,
            instance=instance,
            time_limit=time_limit,
        )
        is not None
    ):
        return weights
    fresh_lp_state(instance)  # the infeasible LP's state would slow the next one
    if (
        fixed_lp(
            problem,
            weights,
            free_weights=True,
            solver=lp_solver,
            threads=threads,
            instance=instance,
            time_limit=time_limit,
        )
        is None
    ):  # also when its time_limit stopped it
        return None
    return problem.zero_dead_units(problem.weight_values())


def lp_heuristic(
    problem: TrainingProblem,
    weights: Weights,
    *,
    solver: str = "highs",
    max_rounds: int = 10,
    time_budget: float = 30.0,
    eps: float = 1e-6,
    threads: int | None = None,
    instance: Any | None = None,
    deadline: Deadline | None = None,
) -> tuple[Weights, float | None, int]:
    """Improve ``weights`` by repeated pattern-fixed LPs; returns (weights, objective, rounds). ``instance``:
    a HiGHS :func:`lp_instance` of the problem for every LP (the LPs are HiGHS ones whenever the model is
    linear). ``time_budget`` seconds from now (no later than ``deadline``) bound the rounds: a round (an LP in the
    free weights, then the completion LP of its weights) starts only if the budget still holds it and the final
    completion LP that loads the best point (each as long as the first one took); its free LP gets what is left."""
    budget = Deadline(time_budget) if deadline is None else deadline.sub(seconds=time_budget)
    if problem.config.hypothesis == "continuous":
        return weights, None, 0
    lp_solver = lp_solver_for(problem, solver)
    if lp_solver != "highs":
        instance = None

    def lp(w: Weights, free: bool, flips: dict[Any, float] | None = None) -> float | None:
        limit = max(0.1, min(30.0, budget.remaining() - 2.0 * completion)) if free else 30.0
        return fixed_lp(
            problem,
            w,
            free_weights=free,
            solver=lp_solver,
            flips=flips,
            threads=threads,
            instance=instance,
            time_limit=limit,
        )

    best_w = weights
    best_lin = None if problem.linear_w is None else problem.linear_w.copy()  # the linear term goes with best_w
    completion = 0.0
    t0 = time.monotonic()
    best = lp(weights, False)
    completion = time.monotonic() - t0  # a completion LP's time (the later ones are estimated by it)
    if best is None:
        return weights, None, 0
    rounds = 0
    flips: ComponentMap = ComponentMap()
    current = weights
    loaded_best = True  # the variables hold best_w's completed point
    while rounds < max_rounds and budget.allows(3.0 * completion + 0.1):
        rounds += 1
        obj = lp(current, True, flips)
        loaded_best = False
        if obj is None:
            break
        new_w = problem.weight_values()
        new_w = problem.zero_dead_units(new_w)
        # breakpoints: units with z ~ 0 switch side in the next round
        pre, _ = problem.pre_activations(new_w)
        flips = ComponentMap()
        for n in range(problem.N):
            for l, bins in enumerate(problem.relu_binaries(n)):
                if bins is None:
                    continue
                for j, a in enumerate(bins.ravel()):
                    if a is not None and abs(pre[l][n, j]) <= eps:
                        flips[a] = 0.0 if round(a.value or 0.0) == 1 else 1.0
        exact = lp(new_w, False)
        if exact is None or exact >= best - 1e-9:
            if not flips or exact is None:
                break
            current = new_w
            continue
        best, best_w, current = exact, new_w, new_w
        best_lin = None if problem.linear_w is None else problem.linear_w.copy()
        loaded_best = True
    if best_lin is not None:
        problem.linear_w = best_lin
    if not loaded_best:
        lp(best_w, False)
    return best_w, best, rounds


__all__ = [
    "discrete_values",
    "milp_options",
    "fresh_lp_state",
    "no_solve_result",
    "lp_instance",
    "fixed_lp",
    "fixed_weights_mip",
    "max_violation",
    "snapshot",
    "is_linear",
    "lp_solver_for",
    "repair",
    "lp_heuristic",
    "FULL_PRESOLVE_PER_BUILD",
]
