"""Monotonicity certificates: individual (at data points) and global (on the whole domain), one module
per algorithm.

Output functional. Monotonicity is asked of one scalar f = c^T y of the network output y: the
regression output, the logit of a binary classifier, a chosen class's logit (c = e_k) or a logit
difference (c = e_k - e_j), see :func:`output_coefficients`.

**Individual** (Liu et al. 2020) at a point x for increasing features A and decreasing features D:

    max f(x')  s.t.  x'_a <= x_a (a in A),  x'_d >= x_d (d in D),  x'_r = x_r (other r),  x' in domain.

x is feasible, so the optimum is >= f(x); an optimum f(x') > f(x) is a counterexample (the
solution is re-checked with the numpy forward pass); a proved bound <= f(x) certifies x. The MILP is
built on the sub-box, where interval bounds are tight and most units are stable.

**Global**: f is non-decreasing in x_l on the domain iff min_{x in domain} df/dx_l >= 0 (one-sided
slopes at kinks included; f is continuous and piecewise linear). The exact check encodes the
forward activation binaries (:func:`mipnet.encode.encode_network`) and the backward gradient
(:mod:`mipnet.verify.slope_encoding`) and solves

    min_x  s_l * (grad c^T f(x))_l          (s_l = +1 increasing, -1 decreasing)

with integrality relaxed for x_l only (the slope along a continuous segment in x_l) and the
domain's other integer features and one-hot groups kept exact. For an integer feature the slope
test is sufficient only: a negative slope between lattice points is not yet a violation. When it
fails without a lattice witness, the exact lattice check decides: min s_l (f(x + e_l) - f(x)) over
the domain; for one hidden layer the ramp model of :mod:`mipnet.verify.lattice` (each unit's share
of the step is a clamp of its pre-activation: at most one binary per unit), for deeper nets two
copies of the forward encoding sharing x, tied by difference cuts (every layer's value difference
lies in the interval propagated from e_l).
The verdict is ``holds`` only when the proved bound is >= -tol, ``violated`` with a witness pair
(x, x') with x'_l > x_l, x'_rest = x_rest, s_l (f(x') - f(x)) < 0 re-checked by the forward pass,
``unknown`` otherwise (time limit, or a negative slope without a reproducible witness).
The witness comes from the minimiser's activation region {x : G x <= h} (OpenBox affine maps): its
Chebyshev centre is strictly inside the region, where f is affine with the encoded gradient, and
the segment through it along e_l is cut at the region's facets.

Fast path (on by default): a vectorised pre-check of the pattern gradients of uniform domain
samples (a violating sample gives the witness directly, no MILP), LP-tightened bounds, the
interval bound of the gradient (proves ``holds`` without a MILP when it is >= 0), an early
stop at the first incumbent below -tol, and (HiGHS) the objective cut-off -tol: every node whose
bound exceeds -tol is pruned, so proving ``holds`` needs only "no slope below -tol", never the
exact minimum (the reported bound is then -tol). ``bounds_method="interval"``, ``presample=0``,
``early_stop=False`` is the formulation written the plain way.

**Block-wise** (the seed's sufficient test): the layers are cut after every second weight layer;
block k maps its input u (box: the sound bounds of that layer boundary) to its output v. If block 0
is s_l-monotone in x_l in every output, and each later block is non-decreasing in every input that
depends on x_l, the composition is s_l-monotone. Each check is a small gradient MILP on the box
of its own input. ``holds`` from this test implies ``holds``; a failed check on a one-block network
is exact and yields a witness; otherwise it gives ``unknown``.

Modules: :mod:`.common` (output coefficients, features, result types, ``TOL``, the cut-off solve),
:mod:`.individual`, :mod:`.exact` (global, exact; :func:`verify_global` is the front door of both
global modes), :mod:`.blockwise`, :mod:`.lattice_check` (the exact lattice step check: ramp model of
:mod:`mipnet.verify.lattice` or two copies with difference cuts), :mod:`.witness` (witness pairs).
Every name is importable from here; ``shallow_form`` and ``lattice_step_model`` are looked up here by
the lattice check (patching them here takes effect).
"""

from __future__ import annotations

from ..lattice import lattice_step_model, shallow_form
from .blockwise import _structure, _verify_blockwise, _weight_layers, blocks
from .common import (
    BOUNDS_SHARE,
    DECREASING,
    INCREASING,
    MODES,
    TOL,
    FeatureVerdict,
    GlobalReport,
    IndividualReport,
    PointResult,
    Witness,
    _clean,
    _prepare,
    _solve_cut,
    certificate_summary,
    output_coefficients,
    resolve_features,
)
from .exact import _build_exact, _exact_feature, _ExactModel, _trivial, verify_global
from .individual import _individual_point, verify_individual
from .lattice_check import _difference_cuts, _lattice_verdict, _two_copy_model
from .witness import (
    _check_pair,
    _code_from_encoding,
    _fixed_mask,
    _lattice_witness,
    _witness_from_code,
    _witness_from_point,
)

__all__ = [
    "output_coefficients",
    "resolve_features",
    "Witness",
    "FeatureVerdict",
    "GlobalReport",
    "PointResult",
    "IndividualReport",
    "verify_global",
    "verify_individual",
    "MODES",
]

#: every other name of the former single module, importable from here as before
_REEXPORTED = (
    BOUNDS_SHARE,
    TOL,
    INCREASING,
    DECREASING,
    certificate_summary,
    blocks,
    shallow_form,
    lattice_step_model,
    _clean,
    _prepare,
    _solve_cut,
    _individual_point,
    _ExactModel,
    _build_exact,
    _trivial,
    _exact_feature,
    _difference_cuts,
    _two_copy_model,
    _lattice_verdict,
    _code_from_encoding,
    _fixed_mask,
    _check_pair,
    _witness_from_code,
    _lattice_witness,
    _witness_from_point,
    _weight_layers,
    _structure,
    _verify_blockwise,
)
