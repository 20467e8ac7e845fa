"""Re-export shim: the solver-independent re-check lives in :mod:`mipnet.certificates` (the generic driver
:func:`~mipnet.certificates.checks.recheck` and its shared checks in :mod:`mipnet.certificates.checks`,
each kind's re-check in its module: :mod:`~mipnet.certificates.training`,
:mod:`~mipnet.certificates.robustness`, :mod:`~mipnet.certificates.monotonicity`,
:mod:`~mipnet.certificates.resilience`). Every name this module had, private ones included, is importable
from here as before; the callers (``mipnet recheck``, the audit report) look :func:`recheck` up here."""

from ..certificates.checks import (
    BOUND_TOL,
    CATEGORIES,
    EXIT_CODES,
    MIN_SOLVE_SECONDS,
    OUTCOMES,
    TOL,
    Check,
    RecheckReport,
    _array,
    _Budget,
    _check_aggregate,
    _check_data_hash,
    _check_row_binding,
    _claimed,
    _close,
    _Ctx,
    _data_arrays,
    _reprove,
    _samples,
    other_solver,
    recheck,
    reproving_solver,
)
from ..certificates.monotonicity import (
    _feature_list,
    _individual_problems,
    _pair_problems,
    _recheck_individual,
    _recheck_monotonicity,
    _secant_slopes,
)
from ..certificates.resilience import _recheck_resilience, _resilience_pair_problems
from ..certificates.robustness import _ball_problems, _recheck_robustness
from ..certificates.training import (
    _dual_claim,
    _optimal_gap_tolerance,
    _recheck_training,
    _reprove_training,
    _training_consistency,
    _training_rows,
)

__all__ = ["Check", "RecheckReport", "recheck", "other_solver", "reproving_solver", "EXIT_CODES",
           # not in the public list before, importable as before
           "TOL", "BOUND_TOL", "MIN_SOLVE_SECONDS", "OUTCOMES", "CATEGORIES", "_Budget", "_Ctx", "_close", "_reprove",
           "_array", "_samples", "_claimed", "_data_arrays", "_check_data_hash", "_check_row_binding",
           "_check_aggregate", "_optimal_gap_tolerance", "_training_consistency", "_training_rows",
           "_recheck_training", "_dual_claim", "_reprove_training", "_ball_problems", "_recheck_robustness",
           "_feature_list", "_pair_problems", "_recheck_monotonicity", "_secant_slopes", "_individual_problems",
           "_recheck_individual", "_resilience_pair_problems", "_recheck_resilience"]
