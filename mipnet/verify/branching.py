"""Branching priorities for MILP solvers that support them.

A model states its priorities with Pyomo's standard ``priority`` suffix,

    model.priority = Suffix(direction=Suffix.EXPORT);  model.priority[var] = p   (larger = branch first),

and is solved with :func:`mipnet.solve.solve` under the solver name returned by
:func:`priority_solver`: ``"scip"`` -> ``"scip_priority"`` (SCIP ``chgVarBranchPriority``),
``"gurobi"`` -> ``"gurobi_priority"`` (Gurobi ``BranchPriority``). Both are thin subclasses of
Pyomo's direct interfaces that copy the suffix to the solver after the model is built, and start
from the variables' current values when any is set (a MIP start).

HiGHS has no branching priorities (its API offers none): :func:`priority_solver` returns None
for it and the caller reports the heuristic as unsupported.
"""

from __future__ import annotations

import logging
from typing import Any, Iterable

import pyomo.environ as pyo

PRIORITY_SOLVERS = {"scip": "scip_priority", "gurobi": "gurobi_priority"}
_registered = False


def set_priorities(model: pyo.Block, items: Iterable[tuple[Any, int]]) -> None:
    """Attach (var, priority) pairs to ``model.priority`` (created if missing)."""
    if model.component("priority") is None:
        model.priority = pyo.Suffix(direction=pyo.Suffix.EXPORT)
    for var, p in items:
        model.priority[var] = int(p)


def _suffix_items(model: Any) -> list[tuple[Any, int]]:
    suf = model.component("priority")
    if suf is None:
        return []
    return [(v, int(p)) for v, p in suf.items() if p]


def _has_start(model: Any) -> bool:
    return any(
        v.value is not None and not v.is_continuous() for v in model.component_data_objects(pyo.Var, active=True)
    )


def _register() -> None:
    global _registered
    if _registered:
        return
    from pyomo.contrib.solver.common.factory import SolverFactory

    try:
        from pyomo.contrib.solver.solvers.scip.scip_direct import ScipDirect

        class ScipPriority(ScipDirect):
            """SCIP with the model's ``priority`` suffix as branching priorities."""

            def _create_solver_model(self, model: Any, config: Any) -> Any:
                out = super()._create_solver_model(model, config)
                for var, p in _suffix_items(model):
                    sv = self._pyomo_var_to_solver_var_map.get(var)
                    if sv is not None:
                        self._solver_model.chgVarBranchPriority(sv, p)
                return out

            def solve(self, model: Any, **kwds: Any) -> Any:
                if _has_start(model):
                    kwds.setdefault("warmstart_discrete_vars", True)
                return super().solve(model, **kwds)

        SolverFactory.register("scip_priority", doc="SCIP with branching priorities")(ScipPriority)
    except ImportError:  # pragma: no cover - pyscipopt missing
        pass
    try:
        from pyomo.contrib.solver.solvers.gurobi.gurobi_direct import GurobiDirect

        class GurobiPriority(GurobiDirect):
            """Gurobi with the model's ``priority`` suffix as ``BranchPriority``."""

            def _create_solver_model(self, model: Any, config: Any) -> Any:
                out = super()._create_solver_model(model, config)
                prio = {id(v): p for v, p in _suffix_items(model)}
                for pv, gv in self._pyomo_gurobi_var_iter():
                    p = prio.get(id(pv))
                    if p:
                        gv.BranchPriority = p
                return out

            def solve(self, model: Any, **kwds: Any) -> Any:
                if _has_start(model):
                    kwds.setdefault("warmstart_discrete_vars", True)
                return super().solve(model, **kwds)

        SolverFactory.register("gurobi_priority", doc="Gurobi with branching priorities")(GurobiPriority)
    except ImportError:  # pragma: no cover - gurobipy missing
        pass
    _registered = True


class _DropSuffixSkip(logging.Filter):
    """Pyomo's standard-form writer warns that it skips the ``priority`` export suffix: GurobiPriority applies the
    priorities itself (``BranchPriority``), so the warning on stderr said the opposite of what happens."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "EXPORT Suffix 'priority'" not in record.getMessage()


logging.getLogger("pyomo.repn.plugins.standard_form").addFilter(_DropSuffixSkip())


def priority_solver(solver: str) -> str | None:
    """The solver name that honours ``model.priority`` for ``solver``, or None (HiGHS: no priorities)."""
    name = PRIORITY_SOLVERS.get(solver)
    if name is None:
        return None
    _register()
    return name


def solver_options(solver: str) -> dict[str, Any]:
    """The tolerances :func:`mipnet.solve.solve` sets for ``solver``, for use under the priority name."""
    if solver == "scip":
        return {"numerics/feastol": 1e-8}
    if solver == "gurobi":
        return {"FeasibilityTol": 1e-8, "IntFeasTol": 1e-7}
    return {}
