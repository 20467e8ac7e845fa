r"""A lower bound on the sign-class training objective from the convex relaxation of two-layer ReLU nets.

The training MILP (:mod:`.formulation`, ``hypothesis="sign"``, ``loss="hinge"``) minimises, over
networks f(x) = c + sum_{j<=J} v_j (w_j . x + b_j)_+ with v_j in {-1, 0, +1} on the *standardised* inputs
x_n (the trainer's ``(X - mu) / sigma``), labels y_n in {-1, +1},

    P(f) = (1/D) sum_n max(0, m - y_n f(x_n))
           + pw l1 (sum_j ||w_j||_1 + sum_j |v_j|)               l1 over every Dense weight, biases excluded
           + pw (l2 sum W^2 + l0 #{W != 0} + rho #units)         further non-negative terms
    s.t.   |w_ji| <= B_w, |b_j| <= B_b, |c| <= B_b, v_j = 0 => (w_j, b_j) = 0,

D = ``loss_denominator`` (default N), pw = ``penalty_weight`` (default 1). Write lam = pw l1 (the price of
||w_j||_1) and kappa = pw (l1 + l2 + l0 + rho) (what an active unit pays for v_j = +-1 alone: |v| = v^2 =
[v != 0] = 1). Symmetry breaking and the Lipschitz pair cuts of the MILP cut off no network of the class,
so they do not change its optimum P*.

**Weak duality.** Take alpha_n in [0, 1/D] and write a_n = alpha_n y_n, h_j(x) = (w_j . x + b_j)_+ and
S(w, b) = sum_n a_n (w . x_n + b)_+. Since (1/D) max(0, r) >= alpha r for every r,

    P(f) >= sum_n alpha_n (m - y_n f(x_n)) + sum_{j active} (lam ||w_j||_1 + kappa)
          = m sum_n alpha_n - c sum_n a_n + sum_{j active} (lam ||w_j||_1 + kappa - v_j S(w_j, b_j)).   (*)

*Any width* (``width=None``, the relaxation R of the issue: no width limit, no boxes, kappa dropped).
Every term of the last sum is >= ||w_j||_1 (lam - G(alpha)) with

    G(alpha) = sup_{||w||_1 <= 1, b} | S(w, b) |,

by positive homogeneity (a unit with w_j = 0 is the constant (b_j)_+ and contributes (b_j)_+ sum a_n).
Hidden units with w = 0 are output biases of any size, so the relaxation needs sum_n a_n = 0 (and then c
drops out whatever its box). For such alpha and any valid upper bound Gub >= G(alpha), t alpha with
t = min(1, lam / Gub) satisfies the condition, so

    P* >= LB = m t sum_n alpha_n.

b can be restricted to [-R, R], R = max_n ||x_n||_inf: for b >= R every unit is on for all samples (the
value is linear in b with slope sum a_n = 0), for b <= -R every unit is off.

*Width J* (``width=J``, stronger: keeps the width, the boxes and kappa). Bound every active term of (*)
from below by -V(alpha), with

    V(alpha) = max_{s in {-1, +1}, |w_i| <= B_w, |b| <= B_b}  s S(w, b) - lam ||w||_1 - kappa,

and -c sum a_n by -B_c |sum a_n| (B_c = ``output_bias_bound``; None = free c, then sum a_n = 0 is imposed
as above). At most J units are active, so for every alpha (no condition on it)

    P* >= LB(alpha) = m sum_n alpha_n - B_c |sum_n a_n| - J max(0, V(alpha)).

LB is concave in alpha; also LB(t alpha) >= t (m sum alpha - B_c |sum a|) - J max(0, t V(alpha) - (1 - t)
kappa) for t in [0, 1] (since t S - lam||w|| - kappa = t (S - lam||w|| - kappa) - (1 - t)(lam||w|| + kappa)),
so the best t is taken at no cost. With J = inf, no boxes and kappa = 0 this is the any-width bound.

**Choosing alpha.** Column generation (:mod:`.column_generation`): a restricted master LP over the units found
so far, whose dual is "max LB(alpha)" over those units, gives the next alpha; the single-neuron pricing MILP
(:mod:`.pricing`) finds a new unit and, by its *dual* bound (valid at any time limit), the certified Gub / Vub
of that alpha, so every round gives a valid LB and the best is kept. The columns come first from a cheap pattern
local search (:mod:`.local_search`: one LP per step, values recomputed in numpy; it proves nothing), the MILP runs
when the local search finds none: on COMPAS 1000 the master then converges in seconds (0.736 at the incumbent's
units -> 0.727, an upper limit of what this relaxation can prove there) where the MILP alone stalled after two
rounds. Exact duplicate rows (same x, same y) are
merged first (:mod:`.merge`): alpha_k in [0, count_k / D] is the same dual problem (duplicates share f(x)),
with fewer rows and binaries.

**Scaling with N.** The pricing MILP has one binary per distinct row with s a_n > 0; beyond a few hundred
rows its dual bound stays far above lam (COMPAS, d = 13: 855 rows, bound 0.3 after 90 s, lam = 0.01) and the
certified LB is near 0 (results/training/dual_bound_strength.md). Two bounds of the same weak duality that
do scale: :func:`transport_lower_bound` pairs multipliers of opposite labels (sum a_n = 0 by construction)
and bounds each unit's s S(w, b) <= sum_i beta^s_i (w_i)_+ + beta^-s_i (-w_i)_+ by the monotone, 1-Lipschitz
ReLU, with beta+-_i the one-sided transport loads of feature i (sum_p pi_p (+-dx_pi)_+; the two-sided
sum_i |w_i| (beta+_i + beta-_i) is never better): one LP over the k nearest opposite pairs, no MILP;
:func:`hybrid_lower_bound` splits alpha = alpha_T (transport) + alpha_M (at most ``milp_rows`` rows, exact
pricing with the one-sided feature prices lam - beta^s_i on w+_i and lam - beta^-s_i on w-_i). The pricing
MILP carries the same argument as valid pair cuts h_p - h_q <= (w . (x_p - x_q))_+ (:mod:`.pricing`), and can add
the strong single-row ReLU cuts of :mod:`.relu_cuts` (off by default: measured no better than HiGHS' own cuts).
:func:`bound_for_config` maps a TrainConfig to the width-J versions.

**Safety.** The reported bound never relies on the LP's alpha being exactly feasible or on the MILP's
bound being exact:

* alpha is clipped to [0, count_n / D] in numpy; any width (or free c): alpha is rounded down to integer
  multiples of q = 1 / (D 2^30) and the larger class side reduced (integers) until sum_n k_n y_n = 0
  *exactly*; the bound is m t q sum k_n.
* Gub = dual bound + 1e-6 |dual bound| + 1e-6 sum_n |a_n| (U_n + |L_n|) (the LP tolerances of HiGHS are
  1e-7 on rows and reduced costs; one sample's slack of 1e-7 in z_n moves the objective by |a_n| 1e-7),
  never more than the trivial bound sum_{s a_n > 0} s a_n U_n - kappa (+ B_w sum of the negative feature
  prices, hybrid); if the numpy value of the pricing's own solution exceeds it, the solver's bound is not
  trusted and the trivial bound is used (status ``inconsistent``). Rows with the same x are merged inside
  the pricing (net a_n; exact: they share h_n).
* the final figure is lowered by 1e-9 relative + 1e-12 absolute for the float sums.

Modules: :mod:`.result` (:class:`DualBoundResult`, the shared tolerances), :mod:`.merge` (the checked data,
duplicate merging, standardisation, the units of a trained network), :mod:`.safety` (the exact balance of
alpha, the float margin, the re-checkable record), :mod:`.pricing` (the single-neuron MILP), :mod:`.relu_cuts`
(its strong ReLU cuts), :mod:`.local_search` (the pricing's primal heuristic),
:mod:`.column_generation` (the master LP and :func:`any_width_lower_bound`, both modes), :mod:`.pairwise`
(:func:`transport_lower_bound` over opposite pairs), :mod:`.hybrid` (:func:`hybrid_lower_bound`) and
:mod:`.for_config` (:func:`bound_for_config`). Every name of the former single module is importable from here.
"""

from __future__ import annotations

from .column_generation import _Master, any_width_lower_bound
from .for_config import bound_for_config
from .hybrid import hybrid_lower_bound
from .merge import _prepared, _representatives, merge_duplicates, standardise, units_of_network
from .pairwise import one_sided_excess, opposite_pairs, pair_abs_diffs, pair_signed_loads, transport_lower_bound
from .pricing import Pricing, _consistent_solution, _trivial_upper, _unit_from, price
from .result import (
    ABS_SAFETY,
    ALPHA_ZERO,
    AUTO_CG_ROWS,
    ENTER_TOL,
    PAIR_CUTS,
    QUANT_BITS,
    REL_SAFETY,
    DualBoundResult,
)
from .safety import _balanced, _record, _safe

__all__ = [
    "DualBoundResult",
    "any_width_lower_bound",
    "bound_for_config",
    "merge_duplicates",
    "opposite_pairs",
    "hybrid_lower_bound",
    "pair_abs_diffs",
    "pair_signed_loads",
    "one_sided_excess",
    "price",
    "standardise",
    "transport_lower_bound",
    "units_of_network",
]

#: every other name of the former single module, importable from here as before
_REEXPORTED = (
    QUANT_BITS,
    REL_SAFETY,
    ABS_SAFETY,
    ENTER_TOL,
    AUTO_CG_ROWS,
    ALPHA_ZERO,
    PAIR_CUTS,
    Pricing,
    _representatives,
    _record,
    _trivial_upper,
    _unit_from,
    _consistent_solution,
    _Master,
    _balanced,
    _prepared,
    _safe,
)
