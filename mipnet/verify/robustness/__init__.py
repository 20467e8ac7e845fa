"""Local robustness of a classifier in an L-inf or L1 ball: one MILP per sample, early stop.

For a sample x with class c the worst-case margin m* = min_{x' in B} z_c(x') - max_{k != c} z_k(x') over the
ball B intersected with the domain decides the verdict (:mod:`.margin_milp` has the MILP, the early stop and
the re-check of every witness).

Balls. L-inf: the box [x - eps, x + eps] intersected with the domain's box. L1: x' = x + d,
|d_i| <= t_i, sum_i t_i <= eps (t_i >= 0), inside the same box (which contains the L1 ball; the
bounds of every layer are computed over that box, by :func:`mipnet.bounds.compute_bounds`).
The verified set is stated in every result (``region``). The sample itself must lie in the domain
(:func:`check_in_domain`, a :class:`~mipnet.errors.DataError` otherwise): cut to the domain, the ball
around an outside sample would not contain it, or be empty, and the verdict would speak of another set.

Modules: :mod:`.results` (norms, verdicts, the tolerance ``TAU``, the result types, :func:`summarize`),
:mod:`.region` (class labels, the ball and its domain check, forward margins, the projection of a solver's
point into the ball), :mod:`.gradient_attack` (the cheap gradient attack: witnesses only), :mod:`.margin_milp`
(:func:`verify_sample`; a CROWN pass over the margins from :mod:`mipnet.verify.spec_bounds` is its first prover,
before the attack, the MILP's layer bounds, alpha-CROWN, the ReLU-split tree of :mod:`.split_stage` and the MILP),
:mod:`.hard_milp` (what a query that
reaches the MILP gets: LP tightening of the most unstable neurons, solver options), :mod:`.rows`
(:func:`verify_robustness`, every row of a data set), :mod:`.threads` (``threads`` caps numpy's BLAS threads
during a query too) and :mod:`.perturbation` (:func:`minimal_perturbation`).
Every name of the former single module is importable from here; ``solve`` and ``project_to_ball`` are looked
up here by the modules that call them (patching them here takes effect).
"""

from __future__ import annotations

from ...encode.properties import Margin, add_norm_ball, class_margins, encode_margin
from ...solve import Result, solve
from .gradient_attack import _jacobian, _l1_vertex, attack
from .margin_milp import _solve_margin, verify_sample
from .perturbation import minimal_perturbation
from .region import (
    _prepare,
    _sub_domain,
    ball_box,
    check_in_domain,
    class_indices,
    margins,
    project_to_ball,
    region_text,
)
from .results import (
    BOUNDS_SHARE,
    NORMS,
    PROVERS,
    SPEC_SHARE,
    TAU,
    VERDICTS,
    PerturbationResult,
    RobustnessResult,
    _jsonable,
    normalise_norm,
    summarize,
)
from .rows import verify_robustness

#: the names of the former single module, importable from here as before (it had no ``__all__``)
_REEXPORTED = (
    NORMS,
    VERDICTS,
    TAU,
    BOUNDS_SHARE,
    normalise_norm,
    RobustnessResult,
    PerturbationResult,
    class_indices,
    region_text,
    check_in_domain,
    ball_box,
    margins,
    project_to_ball,
    attack,
    verify_sample,
    verify_robustness,
    summarize,
    minimal_perturbation,
    Margin,
    encode_margin,
    add_norm_ball,
    class_margins,
    Result,
    solve,
    _jsonable,
    _sub_domain,
    _jacobian,
    _l1_vertex,
    _prepare,
    _solve_margin,
)
#: added with the CROWN / alpha-CROWN prover (:mod:`mipnet.verify.spec_bounds`)
_NEW = (PROVERS, SPEC_SHARE)
