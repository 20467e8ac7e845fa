"""The solver layer: one call, one :class:`Result`, whatever the solver.

``solver="highs"`` (default, embedded, no licence), ``"gurobi"`` (gurobipy; the pip licence is
size-limited), ``"scip"`` (pyscipopt; also solves nonconvex bilinear models globally), or any other
Pyomo solver name. Every path honours ``time_limit``; a run cut by the limit reports status
``feasible`` (an incumbent without proof) or ``unknown`` (nothing), never ``optimal``.

Early stop (used by verification): ``stop_below`` ends a minimisation as soon as an incumbent with
objective < stop_below is found (a counterexample). (A proof by exhaustion is written as a
constraint "objective <= threshold" by the caller: "infeasible" then proves the optimum exceeds it.)
"""

from __future__ import annotations

import functools
import logging
import math
import numbers
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Mapping, TextIO

import pyomo.environ as pyo

from . import interrupt
from .errors import LicenceError, MipnetError, SolverError
from .highs import SMALL_MATRIX_VALUE, highs_is_mip, highs_time_limit, set_instance  # noqa: F401  (their home is .highs)

#: our solver name -> Pyomo contrib solver name
CONTRIB_NAMES = {"highs": "highs", "gurobi": "gurobi_direct", "scip": "scip_direct"}
GUROBI_SIZE_LIMIT = 2000
#: HiGHS builds its thread pool once per process; a later run asking for another count fails at once
#: (status unknown). mipnet therefore pins the count at the first use (default 1: parallelism in
#: mipnet comes from independent problems in separate processes), or 0 ("the pool there is") when
#: the process already has a pool of another size (:func:`highs_threads`).
_HIGHS_THREADS: int | None = None


def highs_threads(requested: int | None = None) -> int:
    """The HiGHS thread count of this process: the first requested value (default 1), then fixed.

    The count is checked once by running an empty model with it: where the process already holds HiGHS's
    global thread pool with another count (the user's own HiGHS run, Pyomo's ``appsi_highs``, ...), HiGHS
    refuses every later run asking for a different count, and each of mipnet's problems would have ended
    "unknown". The count is then 0, which HiGHS reads as "use the pool there is"; the pool is never reset
    (that could disturb a solve of the caller's own)."""
    global _HIGHS_THREADS
    if _HIGHS_THREADS is None:
        wanted = int(requested) if requested else 1
        _HIGHS_THREADS = wanted if _highs_accepts_threads(wanted) else 0
    return _HIGHS_THREADS


def _highs_accepts_threads(threads: int) -> bool:
    """Whether HiGHS runs with ``threads`` in this process (an empty model; it initialises the thread pool with
    that count when there is none yet)."""
    try:
        import highspy

        from .highs import new_highs

        h = new_highs()
        h.setOptionValue("threads", int(threads))
        return h.run() != highspy.HighsStatus.kError
    except Exception:  # no highspy: the solver's own error comes at its first use
        return True


@functools.lru_cache(maxsize=None)
def highs_has_option(name: str) -> bool:
    """Whether the installed HiGHS knows the option ``name`` (options come and go between versions)."""
    try:
        import highspy

        return hasattr(highspy.HighsOptions(), name)
    except Exception:  # no highspy, or a build without the options class
        return False


@dataclass
class Result:
    """Outcome of one solve. ``bound`` is the proved bound on the optimum (dual bound)."""

    status: str  # optimal | feasible | infeasible | unknown
    incumbent: float | None
    bound: float | None
    gap: float | None
    wall_time: float
    nodes: int | None
    solver: str
    solver_version: str
    termination: str
    sense: str = "minimize"
    stopped_early: bool = False
    options: dict[str, Any] = field(default_factory=dict)
    #: (seconds, incumbent, bound) as the solver went (HiGHS: from its MIP callback)
    trace: list[tuple[float, float | None, float | None]] = field(default_factory=list)

    @property
    def has_solution(self) -> bool:
        return self.incumbent is not None

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for k in ("incumbent", "bound", "gap"):
            if d[k] is not None and not math.isfinite(d[k]):
                d[k] = str(d[k])
        return d


def relative_gap(incumbent: float | None, bound: float | None) -> float | None:
    """|incumbent - bound| / max(|incumbent|, 1e-10), as HiGHS and Gurobi report it (1.0 if no bound)."""
    if incumbent is None:
        return None
    if bound is None or not math.isfinite(bound):
        return 1.0
    return abs(incumbent - bound) / max(abs(incumbent), 1e-10)


def available_solvers() -> list[str]:
    out = []
    for name in ("highs", "scip", "gurobi"):
        try:
            _contrib(name)
            out.append(name)
        except SolverError:
            pass
    return out


def solver_interface(name: str) -> Any:
    """The Pyomo (contrib) solver interface for ``name`` (highs, gurobi, scip or an installed Pyomo solver):
    :class:`~mipnet.errors.SolverError` if the name is unknown or the solver is not installed."""
    return _contrib(name)


def _contrib(name: str) -> Any:
    from pyomo.contrib.solver.common.factory import SolverFactory

    cname = CONTRIB_NAMES.get(name, name)
    try:
        opt = SolverFactory(cname)
    except Exception:
        opt = None
    available = opt is not None and opt.available()
    # a Ctrl-C during the check can be swallowed by it (it then reads "not available"): say interrupted instead
    interrupt.check()
    if opt is None:  # the contrib factory returns None for a name it does not know
        raise SolverError(f"unknown solver {name!r} (use highs, gurobi, scip or an installed Pyomo solver)")
    if not available:
        hint = {"gurobi": "pip install gurobipy", "scip": "pip install pyscipopt", "highs": "pip install highspy"}
        raise SolverError(f"solver {name!r} is not installed ({hint.get(name, 'install it first')})")
    return opt


def model_size(model: pyo.Block) -> tuple[int, int]:
    """Number of (active) variables used and of constraints."""
    n_con = sum(1 for _ in model.component_data_objects(pyo.Constraint, active=True))
    n_var = sum(1 for _ in model.component_data_objects(pyo.Var))
    return n_var, n_con


def _objective(model: pyo.Block) -> Any:
    objs = list(model.component_data_objects(pyo.Objective, active=True))
    if len(objs) != 1:
        raise SolverError(f"the model must have exactly one active objective, it has {len(objs)}")
    return objs[0]


class OptionError(MipnetError, ValueError):
    """An option value out of its range (a negative time limit, a NaN gap, ...): one line naming the option."""


#: numpy's generators take seeds 0 .. 2**32 - 1 (the command line's ``--seed`` range)
MAX_SEED = 2**32 - 1
#: progress(seconds, incumbent, bound)
Progress = Callable[[float, float | None, float | None], None]


@dataclass(frozen=True)
class SolveOptions:
    """How a problem is solved (not what it is): the solver and its limits, checked once when built.

    Fields and their ranges (the command line's rules, :mod:`mipnet.cli.options`; one
    :class:`OptionError`, also a ``ValueError``, naming the field for a bad value):

    * ``solver``: ``"highs"``, ``"gurobi"``, ``"scip"`` or an installed Pyomo solver; an unknown or missing
      one is a :class:`~mipnet.errors.SolverError` with the command line's message.
    * ``time_limit``: seconds, ``t`` in [0, inf) (finite, not NaN), or None for no limit.
    * ``threads``: an integer >= 1, or None (the solver's default; HiGHS: :func:`highs_threads`).
    * ``mip_gap``: relative gap ``|incumbent - bound| / max(|incumbent|, 1e-10)`` at which a MIP stops,
      a finite number >= 0, or None (the solver's default).
    * ``seed``: an integer in [0, 2**32 - 1] or None (the callers' random generators).
    * ``progress``: ``progress(seconds, incumbent, bound)`` called as the solver runs, or None.

    >>> SolveOptions(time_limit=10.0).time_limit
    10.0
    """

    solver: str = "highs"
    time_limit: float | None = None
    threads: int | None = None
    mip_gap: float | None = None
    seed: int | None = None
    progress: Progress | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.solver, str) or not self.solver.strip():
            raise OptionError(f"solver must be a solver name (highs, gurobi, scip), got {self.solver!r}")
        solver_interface(self.solver)  # SolverError: unknown or not installed (as --solver)
        object.__setattr__(self, "time_limit", _number("time_limit", self.time_limit, "seconds"))
        object.__setattr__(self, "mip_gap", _number("mip_gap", self.mip_gap, "a relative gap"))
        object.__setattr__(self, "threads", _integer("threads", self.threads, 1, None))
        object.__setattr__(self, "seed", _integer("seed", self.seed, 0, MAX_SEED))
        if self.progress is not None and not callable(self.progress):
            raise OptionError(
                f"progress must be a callable progress(seconds, incumbent, bound) or None, got {self.progress!r}"
            )

    @property
    def gap(self) -> float | None:
        """The relative MIP gap (``mip_gap``)."""
        return self.mip_gap


def _number(name: str, value: Any, what: str) -> float | None:
    """``value`` as a float in [0, inf) (None kept); :class:`OptionError` naming ``name`` otherwise."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise OptionError(f"{name} must be a number ({what}) or None, got {value!r}")
    x = float(value)
    if math.isnan(x):
        raise OptionError(f"{name} must be a finite number >= 0 ({what}), got NaN")
    if math.isinf(x):
        raise OptionError(
            f"{name} must be a finite number >= 0 ({what}), got {x}"
            + ("; use None for no limit" if name == "time_limit" and x > 0 else "")
        )
    if x < 0:
        raise OptionError(f"{name} must be a finite number >= 0 ({what}), got {value!r}")
    return x


def _integer(name: str, value: Any, low: int, high: int | None) -> int | None:
    """``value`` as an int in [low, high] (None kept); :class:`OptionError` naming ``name`` otherwise."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise OptionError(f"{name} must be an integer or None, got {value!r}")
    x = int(value)
    if x < low or (high is not None and x > high):
        span = f">= {low}" if high is None else f"in [{low}, {high}]"
        raise OptionError(f"{name} must be an integer {span}, got {x}")
    return x


def solve(
    model: pyo.Block,
    solver: str = "highs",
    *,
    time_limit: float | None = None,
    threads: int | None = None,
    mip_gap: float | None = None,
    warm_start: Mapping[Any, float] | None = None,
    stop_below: float | None = None,
    tee: bool = False,
    options: Mapping[str, Any] | None = None,
    progress: Callable[[float, float | None, float | None], None] | None = None,
    progress_every: float = 5.0,
    instance: Any | None = None,
    solve_options: SolveOptions | None = None,
) -> Result:
    """Solve ``model`` (one active objective); variable values are loaded when a solution exists.

    ``solve_options``: a checked :class:`SolveOptions` giving ``solver``, ``time_limit``, ``threads``,
    ``mip_gap`` and ``progress`` at once (those arguments must then be left at their defaults;
    ``options`` stays the solver's own option mapping).

    ``progress(seconds, incumbent, bound)`` is called about every ``progress_every`` seconds while
    HiGHS runs (other solvers: use ``tee`` for their log); the points are kept in ``Result.trace``.
    ``instance``: a persistent HiGHS interface that already holds ``model`` as it is now (its owner kept it
    in sync, e.g. the cut loop of :mod:`mipnet.train.hull_cuts`); the model is then not translated again.
    """
    if solve_options is not None:
        given = [
            k
            for k, v in (
                ("solver", solver != "highs"),
                ("time_limit", time_limit is not None),
                ("threads", threads is not None),
                ("mip_gap", mip_gap is not None),
                ("progress", progress is not None),
            )
            if v
        ]
        if given:
            raise TypeError(f"solve(): give {', '.join(given)} either as arguments or in solve_options, not both")
        solver, time_limit, threads = solve_options.solver, solve_options.time_limit, solve_options.threads
        mip_gap, progress = solve_options.mip_gap, solve_options.progress
    obj = _objective(model)
    sense = "minimize" if obj.sense == pyo.minimize else "maximize"
    if instance is not None and solver != "highs":
        raise SolverError(f"a persistent instance is a HiGHS one; cannot solve it with {solver!r}")
    opt = _contrib(solver) if instance is None else instance
    if solver == "gurobi":
        check_licence(solver, *model_size(model))
    solver_options: dict[str, Any] = dict(options or {})
    if solver == "highs":
        threads = highs_threads(threads)
        solver_options.setdefault("mip_feasibility_tolerance", 1e-7)  # (robustness margins: 1e-6, margin_milp)
        solver_options.setdefault("primal_feasibility_tolerance", 1e-8)
        # HiGHS drops matrix entries below small_matrix_value (1e-9 by default) as zeros: a weight of 5e-10 on an
        # input of 1e5 vanished from the encoding (a false "infeasible"); 1e-12 is the least it accepts
        solver_options.setdefault("small_matrix_value", SMALL_MATRIX_VALUE)
        if stop_below is not None:
            solver_options["objective_target"] = stop_below
    elif solver == "gurobi":
        solver_options.setdefault("FeasibilityTol", 1e-8)
        solver_options.setdefault("IntFeasTol", 1e-7)
        if stop_below is not None:
            solver_options["BestObjStop"] = stop_below
    elif solver == "scip":
        solver_options.setdefault("numerics/feastol", 1e-8)
    kwargs: dict[str, Any] = dict(
        time_limit=time_limit,
        threads=threads,
        tee=tee,
        load_solutions=False,
        raise_exception_on_nonoptimal_result=False,
        solver_options=solver_options,
    )
    if mip_gap is not None:
        kwargs["rel_gap"] = mip_gap
    t0 = time.perf_counter()
    trace: list[tuple[float, float | None, float | None]] = []
    interrupt.check()
    try:
        # HiGHS always through the persistent path: its highspy object then takes the interrupt callbacks
        # (Ctrl-C asks HiGHS to stop instead of raising inside C++) before the run
        if solver == "highs":
            res = _solve_highs(
                opt, model, warm_start, kwargs, trace, progress, progress_every, built=instance is not None
            )
        elif warm_start:
            with interrupt.native():
                res = _solve_warm(opt, solver, model, warm_start, kwargs)
        else:
            with interrupt.native():
                res = opt.solve(model, **kwargs)
    except SolverError:
        raise
    except Exception as exc:  # solver-specific failures become one clear line
        raise SolverError(_explain_failure(solver, exc)) from None
    _raise_if_interrupted(res)
    wall = time.perf_counter() - t0
    result = _result(res, solver, opt, sense, wall, solver_options, stop_below)
    result.trace = trace
    if result.incumbent is not None or result.bound is not None:
        trace.append((wall, result.incumbent, result.bound))
    return result


def check_licence(solver: str, n_var: int, n_con: int) -> None:
    """:class:`~mipnet.errors.LicenceError` when ``solver`` runs under a licence too small for a model of that size
    (Gurobi's size-limited pip licence): callers that know the size before their work (the training MILP once
    built) check here first, not after minutes of warm start and bounds."""
    if solver == "gurobi" and (n_var > GUROBI_SIZE_LIMIT or n_con > GUROBI_SIZE_LIMIT) and _gurobi_restricted():
        raise LicenceError(
            f"the model has {n_var} variables and {n_con} constraints; the size-limited Gurobi licence "
            f"allows {GUROBI_SIZE_LIMIT} of each: use the solver highs (--solver highs) or a full Gurobi licence"
        )


def _gurobi_restricted() -> bool:
    try:
        import gurobipy as gp

        env = gp.Env(params={"OutputFlag": 0})
        try:
            m = gp.Model(env=env)
            m.addVars(GUROBI_SIZE_LIMIT + 1)
            m.optimize()
            return False
        except gp.GurobiError:
            return True
        finally:
            env.dispose()
    except Exception:
        return True


def _explain_failure(solver: str, exc: Exception) -> str:
    msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    low = msg.lower()
    if solver == "highs" and ("quadratic" in low or "nonlinear" in low or "degree" in low or "polynomial" in low):
        return (
            "HiGHS solves linear models only; this model has bilinear (nonconvex) terms: use solver='scip' "
            "or solver='gurobi', or the 'quantized' hypothesis class"
        )
    if "size-limited" in low or "too large" in low:
        return f"the model is too large for the size-limited {solver} licence: {msg}"
    return f"{solver} failed: {msg}"


#: the persistent HiGHS interface's change detection, all off: for an instance just built (change
#: detection on models with fixed variables, treated as parameters, could turn a feasible model
#: infeasible) or one the caller updates explicitly (``add_constraints``)
HIGHS_NO_UPDATES = {
    k: False
    for k in (
        "check_for_new_or_removed_constraints",
        "check_for_new_or_removed_vars",
        "check_for_new_or_removed_params",
        "check_for_new_objective",
        "update_constraints",
        "update_vars",
        "update_parameters",
        "update_named_expressions",
        "update_objective",
    )
}


def remove_constraints(opt: Any, cons: list[Any]) -> None:
    """``opt.remove_constraints(cons)`` for a Pyomo persistent interface, with its bookkeeping done once.

    Pyomo (6.10) looks for variables left unreferenced after each constraint it removes, and every look
    rebuilds the HiGHS interface's column maps: removing a sign pattern's 3000 cuts took 8 s at N = 300.
    Here the same bookkeeping runs over all of ``cons`` and the look happens once; where the interface
    lacks the internals this relies on, Pyomo's own method is used."""
    needed = (
        "_remove_constraints",
        "_vars_referenced_by_con",
        "_referenced_variables",
        "_active_constraints",
        "_named_expressions",
        "_check_to_remove_vars",
    )
    if not all(hasattr(opt, a) for a in needed):
        opt.remove_constraints(cons)
        return
    opt._remove_constraints(cons)
    touched: dict[int, Any] = {}
    for con in cons:
        for v in opt._vars_referenced_by_con[con]:
            opt._referenced_variables[id(v)][0].pop(con)
            touched[id(v)] = v
        del opt._active_constraints[con]
        del opt._named_expressions[con]
        getattr(opt, "_external_functions", {}).pop(con, None)
        del opt._vars_referenced_by_con[con]
    opt._check_to_remove_vars(list(touched.values()))


#: a HiGHS model with more non-zeros than this, and more than DENSE_PRESOLVE_ROW_NONZEROS per row on average, runs
#: without the presolve rules DENSE_PRESOLVE_RULES_OFF (:func:`_solve_highs`)
DENSE_PRESOLVE_NONZEROS = 100_000
DENSE_PRESOLVE_ROW_NONZEROS = 50
DENSE_PRESOLVE_RULES_OFF = 1 << 14


def _solve_highs(
    opt: Any,
    model: pyo.Block,
    start: Mapping[Any, float] | None,
    kwargs: dict[str, Any],
    trace: list,
    progress: Callable[..., None] | None,
    every: float,
    built: bool = False,
) -> Any:
    """HiGHS through Pyomo's persistent interface, so that its highspy object can take a MIP start
    (``setSolution``) and a MIP callback (incumbent / bound as it goes) before the run. ``built``: ``opt``
    already holds ``model``."""
    import numpy as np

    if not built:
        set_instance(opt, model)
    h = opt._solver_model  # the highspy object of the persistent interface
    if h.getNumNz() > DENSE_PRESOLVE_NONZEROS and h.getNumNz() > DENSE_PRESOLVE_ROW_NONZEROS * max(1, h.getNumRow()):
        # one presolve rule (bit 14 of presolve_rule_off) polls neither HiGHS's time_limit nor its interrupt
        # callbacks and is slow on dense rows: a robustness MILP of 2622 rows and 310 k non-zeros spent 37 s of a
        # 4.5 s limit in presolve (1 s without that rule); switching a rule off never changes the answer
        opts = dict(kwargs.get("solver_options") or {})
        opts.setdefault("presolve_rule_off", DENSE_PRESOLVE_RULES_OFF)
        kwargs = dict(kwargs, solver_options=opts)
    if built and kwargs.get("time_limit") is not None:  # a fresh instance's clock is at 0: nothing to move
        kwargs = dict(kwargs, time_limit=highs_time_limit(h, kwargs["time_limit"]))
    if start:
        vmap = opt._pyomo_var_to_solver_var_map  # Pyomo var id -> HiGHS column
        idx, vals = [], []
        for var, val in start.items():
            var.set_value(float(val), skip_validation=True)
            col = vmap.get(id(var))
            if col is not None:
                idx.append(int(col))
                vals.append(float(val))
        h.setSolution(len(idx), np.asarray(idx, dtype=np.int32), np.asarray(vals, dtype=np.float64))
    last = [-every]

    def _on_mip(event: Any) -> None:
        out = event.data_out
        t = float(out.running_time)  # a MIP callback: seconds since this run started
        if t - last[0] < every:
            return
        last[0] = t
        inc = float(out.mip_primal_bound)
        bnd = float(out.mip_dual_bound)
        point = (
            t,
            inc if math.isfinite(inc) and abs(inc) < 1e30 else None,
            bnd if math.isfinite(bnd) and abs(bnd) < 1e30 else None,
        )
        if point[1] is None and point[2] is None:
            return
        trace.append(point)
        if progress is not None:
            progress(*point)

    h.cbMipInterrupt.subscribe(_on_mip)
    # the instance was just built: skip the persistent interface's change detection, which on models
    # with fixed variables (treated as parameters) could turn a feasible model infeasible
    try:
        with interrupt.native(h):
            return opt.solve(model, **kwargs, auto_updates=HIGHS_NO_UPDATES)
    finally:
        h.cbMipInterrupt.unsubscribe(_on_mip)


class _DropInterruptStatus(logging.Filter):
    """Pyomo warns about HiGHS's status kInterrupt (it has no mapping for it): after Ctrl-C that is expected."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "kInterrupt" not in record.getMessage()


logging.getLogger("pyomo.contrib.solver.solvers.highs").addFilter(_DropInterruptStatus())


def _raise_if_interrupted(res: Any) -> None:
    """A solve stopped by Ctrl-C is no result: SCIP and Gurobi catch SIGINT themselves and return
    "interrupted" (HiGHS is stopped through :mod:`mipnet.interrupt`, which raises on its own)."""
    from pyomo.contrib.solver.common.results import TerminationCondition as TC

    if getattr(res, "termination_condition", None) == TC.interrupted:
        interrupt.request()
    interrupt.check()


#: a duplicate of the process's stderr taken at import: solver interfaces capture file descriptors 1
#: and 2 while they run, so progress lines written here still reach the terminal.
_CONSOLE: TextIO | None
try:
    import os as _os

    _CONSOLE = _os.fdopen(_os.dup(2), "w", buffering=1)
except OSError:  # pragma: no cover - no stderr (embedded interpreters)
    _CONSOLE = None


def console_progress(prefix: str = "") -> Callable[[float, float | None, float | None], None]:
    """A ``progress`` callback printing "time  incumbent  bound  gap" lines to the real stderr."""

    def _print(t: float, inc: float | None, bound: float | None) -> None:
        gap = relative_gap(inc, bound)
        inc_s = "-" if inc is None else f"{inc:.6g}"
        bound_s = "-" if bound is None else f"{bound:.6g}"
        gap_s = "-" if gap is None else f"{100 * gap:.2f} %"
        line = f"{prefix}{t:7.1f} s  incumbent {inc_s:>12}  bound {bound_s:>12}  gap {gap_s}"
        if _CONSOLE is not None:
            _CONSOLE.write(line + "\n")

    return _print


def _solve_warm(opt: Any, solver: str, model: pyo.Block, start: Mapping[Any, float], kwargs: dict[str, Any]) -> Any:
    """Pass a MIP start to SCIP/Gurobi: variable values plus their ``warmstart_discrete_vars`` option."""
    for var, val in start.items():
        var.set_value(float(val), skip_validation=True)
    if solver in ("scip", "gurobi"):
        kwargs = dict(kwargs, warmstart_discrete_vars=True)
    return opt.solve(model, **kwargs)


def _result(
    res: Any, solver: str, opt: Any, sense: str, wall: float, options: dict[str, Any], stop_below: float | None
) -> Result:
    from pyomo.contrib.solver.common.results import SolutionStatus
    from pyomo.contrib.solver.common.results import TerminationCondition as TC

    tc = res.termination_condition
    has_sol = res.solution_status in (SolutionStatus.optimal, SolutionStatus.feasible)
    if has_sol:
        try:
            res.solution_loader.load_vars()
        except Exception:
            has_sol = False
    inc = res.incumbent_objective if has_sol else None
    bound = res.objective_bound
    if bound is not None and not math.isfinite(bound):
        bound = None
    nodes = getattr(res.extra_info, "mip_node_count", None)
    stopped = False
    if tc == TC.convergenceCriteriaSatisfied:
        status = "optimal" if has_sol else "unknown"
        if has_sol and bound is None:
            bound = inc
    elif tc in (TC.provenInfeasible, TC.locallyInfeasible):
        status = "infeasible"
    elif tc == TC.objectiveLimit:
        stopped = True
        if has_sol and stop_below is not None and inc is not None and inc < stop_below:
            status = "feasible"
        else:
            status = "feasible" if has_sol else "unknown"
    elif tc == TC.infeasibleOrUnbounded:
        status = "unknown"
    else:
        status = "feasible" if has_sol else "unknown"
    if status == "optimal" and inc is not None and bound is not None:
        bound = min(bound, inc) if sense == "minimize" else max(bound, inc)
    gap = relative_gap(inc, bound) if inc is not None else None
    if status == "optimal":
        gap = 0.0 if gap is None or gap < 1e-6 else gap
    version = ".".join(str(v) for v in opt.version()) if opt.version() else "unknown"
    return Result(
        status,
        inc,
        bound,
        gap,
        wall,
        int(nodes) if nodes is not None else None,
        solver,
        version,
        str(tc.name if hasattr(tc, "name") else tc),
        sense,
        stopped,
        dict(options),
    )
