"""Primal solutions for the training MILP: a gradient-trained net mapped into the hypothesis class
(:mod:`.warmstart_map`), a complete consistent assignment of every variable and the LP heuristic
(:mod:`.warmstart_complete`). This module re-exports both (every name it had before the split).
"""

from __future__ import annotations

from .warmstart_complete import (  # noqa: F401  (re-exports: the names of the module before the split)
    FULL_PRESOLVE_PER_BUILD,
    _highs_knows,
    _is_var,
    _margins,
    _weight_vars,
    discrete_values,
    fixed_lp,
    fixed_weights_mip,
    fresh_lp_state,
    is_linear,
    lp_heuristic,
    lp_instance,
    lp_solver_for,
    max_violation,
    milp_options,
    no_solve_result,
    repair,
    snapshot,
)
from .warmstart_map import (  # noqa: F401
    Weights,
    _meet_budgets,
    _zero_dead_units,
    canonical_order,
    forward_pre,
    gradient_weights,
    map_to_class,
)
