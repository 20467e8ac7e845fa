"""Maximum resilience of a class (Cheng, Nuehrenberg and Ruess 2017) as a MILP over two copies of the net.

Logits z (a single binary logit l is read as (0, l)); class m, alpha >= 1, k >= 1, domain D.

**Class bound Phi_m** (a is a variable: a property of the class, not of one input):

    Phi_m = min ||e||                       (||.||_1 or ||.||_inf)
            a in D, a + e in D,
            z_m(a) >= ln(alpha) + z_i(a)                   for all i != m   (a strongly classified),
            z_i(a + e) >= z_m(a + e) - M_i (1 - c_i)       for all i != m,  c_i in {0, 1},
            sum_{i != m} c_i >= k                          (at least k classes reach m),

M_i = max(0, U_m - L_i) from sound bounds of the perturbed copy's logits. Both copies are the one
encoder (:func:`mipnet.encode.encode_network`) over shared weights. ||e||_1 = sum t_i with
t_i >= +-(b_i - a_i); ||e||_inf = s with s >= +-(b_i - a_i). The network bound is Xi = min_m Phi_m.

**alpha_max** of class m: max t s.t. a in D, z_m(a) >= t + z_i(a) for all i != m; alpha_max = exp(t*)
(the largest alpha for which Phi_m is defined).

**Local variant**: a fixed (strongly classified) input; the same problem with a constant. The decision
"is the bound of a below delta" adds ||e|| <= delta and stops at the first feasible point:
a feasible point (checked by the forward pass) answers *below*, infeasibility proves *not below*.

Every witness is re-checked by the numpy forward pass; ``witness["ok"]`` reports the outcome.

Modules: :mod:`.results` (norms, tolerances, time shares, :class:`Heuristics`, :class:`ResilienceResult` and
how a solve fills it), :mod:`.model` (the MILP pieces: argument checks, one copy of the net, the reach
binaries, the norm, start values, twin constraints, branching priorities, bounds, the solve; the heuristics),
:mod:`.witness` (the forward re-check of a pair), :mod:`.strong` (:func:`alpha_max`), :mod:`.local`
(:func:`local_resilience`, with the decision by the robustness MILP) and :mod:`.class_bound`
(:func:`class_resilience`, :func:`network_resilience`). Every name of the former single module is importable
from here; ``_solve`` is looked up here by the three queries (patching it here takes effect).
"""

from __future__ import annotations

from ...solve import Result, solve
from .class_bound import class_resilience, network_resilience
from .local import _decide_by_robustness, local_resilience
from .model import (
    _add_norm,
    _add_reach,
    _add_twin,
    _check_args,
    _class_index,
    _encode_copy,
    _is_var,
    _logit_terms,
    _prepare_bounds,
    _priorities,
    _solve,
    _start_values,
    uniform_big_m,
)
from .results import (
    BOUNDS_SHARE,
    INIT_LOCAL_SHARE,
    INIT_STRONG_SHARE,
    NORMS,
    TOL,
    Heuristics,
    ResilienceResult,
    _base,
    _fill,
    _out_of_time,
)
from .strong import alpha_max
from .witness import _keep_initial_pair, _witness

#: the names of the former single module, importable from here as before (it had no ``__all__``)
_REEXPORTED = (
    NORMS,
    TOL,
    BOUNDS_SHARE,
    INIT_STRONG_SHARE,
    INIT_LOCAL_SHARE,
    Heuristics,
    ResilienceResult,
    uniform_big_m,
    alpha_max,
    local_resilience,
    class_resilience,
    network_resilience,
    Result,
    solve,
    _class_index,
    _check_args,
    _encode_copy,
    _logit_terms,
    _add_reach,
    _add_norm,
    _is_var,
    _start_values,
    _add_twin,
    _priorities,
    _solve,
    _witness,
    _prepare_bounds,
    _base,
    _out_of_time,
    _fill,
    _decide_by_robustness,
    _keep_initial_pair,
)
