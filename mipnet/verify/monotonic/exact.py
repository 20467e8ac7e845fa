"""Global monotonicity, exact: f = c^T y is non-decreasing in x_l on the domain iff
min_{x in domain} df/dx_l >= 0 (one-sided slopes at kinks included; f is continuous and piecewise linear).

The check encodes the forward activation binaries (:func:`mipnet.encode.encode_network`) and the
backward gradient (:mod:`mipnet.verify.slope_encoding`) and solves

    min_x  s_l * (grad c^T f(x))_l          (s_l = +1 increasing, -1 decreasing)

with integrality relaxed for x_l only (the slope along a continuous segment in x_l) and the domain's
other integer features and one-hot groups kept exact. For an integer feature the slope test is
sufficient only: when it fails without a lattice witness, the exact lattice check decides
(:mod:`.lattice_check`). ``holds`` only when the proved bound is >= -tol, ``violated`` with a
re-checked witness pair (:mod:`.witness`), ``unknown`` otherwise.

Fast path (on by default): a vectorised pre-check of the pattern gradients of uniform domain samples
(a violating sample gives the witness directly), LP-tightened bounds, the interval bound of the
gradient (proves ``holds`` without a MILP when it is >= 0), an early stop at the first incumbent below
-tol and the objective cut-off -tol (:func:`.common._solve_cut`).

:func:`verify_global` is the front door of both global modes (``blockwise``: :mod:`.blockwise`).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import pyomo.environ as pyo

from ...bounds import compute_bounds
from ...deadline import Deadline, limit_seconds
from ...encode import build_estimate, encode_network, input_terms
from ...encode.network import domain_centre, input_variable
from ...encode.terms import Terms
from ...errors import UnsupportedError
from ...network import Network
from ..slope_encoding import encode_gradient, pattern_gradient
from .blockwise import _verify_blockwise
from .common import (
    BOUNDS_SHARE,
    DECREASING,
    INCREASING,
    MODES,
    TOL,
    FeatureVerdict,
    GlobalReport,
    _prepare,
    _solve_cut,
    output_coefficients,
    resolve_features,
    slope_tolerance,
    stopped_note,
)
from .lattice_check import _lattice_verdict
from .witness import _code_from_encoding, _witness_from_code, _witness_from_point


@dataclass
class _ExactModel:
    model: pyo.ConcreteModel
    x: Terms
    grad: Terms
    enc: Any
    n_products: int
    build_time: float
    bounds: list[tuple[np.ndarray, np.ndarray]]


def _build_exact(
    net: Network, coef: np.ndarray, bounds_method: str, full_forward: bool, deadline: Deadline | None = None
) -> _ExactModel:
    t0 = time.perf_counter()
    bnds = compute_bounds(net, method=bounds_method, deadline=deadline)
    m = pyo.ConcreteModel()
    x = input_terms(m, net.domain, name="x", centre=domain_centre(net.domain))  # (far: offsets)
    last_act = max([i for i, layer in enumerate(net.layers) if layer.gated], default=-1)
    stop = len(net.layers) if full_forward else last_act + 1
    enc = encode_network(m, net, x, bounds=bnds, stop=stop)
    ge = encode_gradient(m, net, enc, coef)
    m.obj = pyo.Objective(expr=0.0, sense=pyo.minimize)
    return _ExactModel(m, x, ge.gradient, enc, ge.n_products, time.perf_counter() - t0, bnds)


def verify_global(
    net: Network,
    increasing: Sequence[str | int] = (),
    decreasing: Sequence[str | int] = (),
    *,
    mode: str = "exact",
    output: int | str | None = None,
    versus: int | str | None = None,
    time_limit: float | Deadline = 60.0,
    solver: str = "highs",
    threads: int | None = None,
    bounds_method: str = "lp",
    early_stop: bool = True,
    presample: int = 2000,
    seed: int = 0,
    tol: float = TOL,
) -> GlobalReport:
    """Global monotonicity of f = c^T y in each named feature over the whole domain.

    ``time_limit``: seconds per feature, covering everything (bound tightening, at most ``BOUNDS_SHARE`` of the
    whole, model building, every MILP): the whole check ends within ``time_limit`` x the number of features, and
    each feature gets the time left over the features left. A :class:`~mipnet.deadline.Deadline` is the budget
    of the whole check instead. What the limit cuts short ends ``unknown``.
    """
    if mode not in MODES:
        raise UnsupportedError(f"unknown mode {mode!r} (use exact or blockwise)")
    _prepare(net)
    feats = resolve_features(net, increasing, decreasing)
    coef, desc = output_coefficients(net, output, versus)
    total = time_limit if isinstance(time_limit, Deadline) else Deadline(float(time_limit) * max(1, len(feats)))
    opts = dict(
        time_limit=limit_seconds(time_limit)
        if not isinstance(time_limit, Deadline)
        else (None if total.seconds is None else total.seconds / max(1, len(feats))),
        solver=solver,
        bounds_method=bounds_method,
        early_stop=early_stop,
        presample=presample,
        tol=tol,
    )
    if mode == "blockwise":
        return _verify_blockwise(net, feats, coef, desc, opts, threads, total)
    need = build_estimate(net, copies=2)  # the forward encoding and its gradient
    if not total.allows(need):  # the build cannot be interrupted: it would end past the deadline
        note = (
            f"the time limit would pass while the model is built (about {need:.2g} s, {total.remaining():.2g} s left)"
        )
        verdicts = [
            FeatureVerdict(name, INCREASING if s > 0 else DECREASING, "unknown", "exact", None, None, note=note)
            for l, name, s in feats
        ]
        return GlobalReport(verdicts, desc, "exact", 0.0, 0, 0, opts)
    ex = _build_exact(
        net,
        coef,
        bounds_method,
        full_forward=not early_stop and presample == 0,
        deadline=total.sub(fraction=BOUNDS_SHARE),
    )
    samples = net.domain.sample(presample, seed) if presample > 0 else None
    verdicts = []
    for k, (l, name, s) in enumerate(feats):
        verdicts.append(
            _exact_feature(
                net, ex, coef, l, name, s, samples, total.share(len(feats) - k), solver, threads, early_stop, tol
            )
        )
    return GlobalReport(verdicts, desc, "exact", ex.build_time, ex.enc.n_binaries(), ex.n_products, opts)


def _trivial(net: Network, l: int) -> bool:
    """Feature l takes one value on the domain (a point interval, or an integer feature with one whole number in
    its bounds): no pair x' > x exists, so monotonicity holds vacuously."""
    dom = net.domain
    lo, hi = float(dom.lower[l]), float(dom.upper[l])
    if dom.integer[l]:
        lo, hi = math.ceil(lo), math.floor(hi)
    return bool(hi - lo <= 0)


def _exact_feature(
    net: Network,
    ex: _ExactModel,
    coef: np.ndarray,
    l: int,
    name: str,
    s: int,
    samples: np.ndarray | None,
    time_limit: float | Deadline,
    solver: str,
    threads: int | None,
    early_stop: bool,
    tol: float,
) -> FeatureVerdict:
    direction = INCREASING if s > 0 else DECREASING
    dl = Deadline.of(time_limit)
    t0 = time.perf_counter()
    # the tolerance along this feature (:func:`slope_tolerance`): at most DROP_TOL over its whole range, so that a
    # wide feature is neither certified with a real drop nor left unprovable by a cut-off at -tol
    scale = max(abs(float(ex.grad.lower[l])), abs(float(ex.grad.upper[l])))  # the largest |slope| the bounds allow
    tol = slope_tolerance(tol, float(net.domain.upper[l] - net.domain.lower[l]), scale)

    def accepted(bound: float) -> bool:
        """A proved min slope that lets "holds" stand: >= -tol (the feature's :func:`slope_tolerance`)."""
        return bound >= -tol

    verdict = FeatureVerdict(name, direction, "unknown", "exact", None, None)
    if _trivial(net, l):
        verdict.status, verdict.bound, verdict.how = "holds", 0.0, "interval"
        verdict.note = "the feature is constant on the domain"
        return verdict
    lo_g = s * ex.grad.lower[l] if s > 0 else -ex.grad.upper[l]
    if accepted(float(lo_g)):
        verdict.status, verdict.bound, verdict.how = "holds", float(lo_g), "interval"
        verdict.solve_time = time.perf_counter() - t0
        return verdict
    if samples is not None:
        xs = samples.copy()
        xs[:, l] = np.random.default_rng(l).uniform(net.domain.lower[l], net.domain.upper[l], len(xs))
        g = s * pattern_gradient(net, xs, coef)[:, l]
        k = int(np.argmin(g))
        if g[k] < -tol:
            w = _witness_from_point(net, coef, xs[k], l, s, tol)
            if w is not None:
                verdict.status, verdict.how, verdict.witness = "violated", "sample", w
                verdict.argmin = xs[k].tolist()
                verdict.min_derivative = float(g[k]) if w.slope is None else s * w.slope
                verdict.solve_time = time.perf_counter() - t0
                return verdict
    gl = ex.grad.expr[l]
    if isinstance(gl, (int, float)):  # f is affine in x_l on the whole domain
        val = s * float(gl)
        verdict.bound = verdict.min_derivative = val
        verdict.how = "interval"
        if accepted(val):
            verdict.status = "holds"
        else:
            w = _witness_from_point(net, coef, net.domain.sample(1, 0)[0], l, s, tol)
            verdict.status, verdict.witness = ("violated", w) if w is not None else ("unknown", None)
        verdict.solve_time = time.perf_counter() - t0
        return verdict
    if dl.expired():
        verdict.note = "the time limit was reached before the MILP could be solved"
        verdict.solve_time = time.perf_counter() - t0
        return verdict
    xl = input_variable(ex.x, l)
    was_integer = xl.domain is pyo.Integers
    xl.domain = pyo.Reals
    try:
        ex.model.obj.set_value(s * gl)
        res = _solve_cut(ex.model, solver, dl.solver_limit(), threads, tol, early_stop)
    finally:
        if was_integer:
            xl.domain = pyo.Integers
    verdict.solver = res.to_dict()
    verdict.bound = res.bound
    verdict.min_derivative = res.incumbent
    verdict.how = "milp"
    if res.has_solution:  # where the lowest slope was found (a re-check's secants start there)
        verdict.argmin = ex.x.values().tolist()
    if res.bound is not None and accepted(float(res.bound)):
        verdict.status = "holds"
    elif res.has_solution and res.incumbent is not None and res.incumbent < -tol:
        x_star = ex.x.values()
        verdict.argmin = x_star.tolist()
        code = _code_from_encoding(net, ex.enc)
        w = _witness_from_code(net, coef, code, x_star, l, s, tol)
        if w is None:
            w = _witness_from_point(net, coef, x_star, l, s, tol)
        if w is not None:
            verdict.status, verdict.witness = "violated", w
            verdict.how = "region" if w.slope is not None else "lattice"
        elif net.domain.integer[l]:
            _lattice_verdict(net, coef, l, s, ex.bounds, verdict, dl, solver, threads, early_stop, tol)
        else:
            verdict.note = "negative slope found, but no witness pair reproduces (a degenerate activation region)"
    elif res.status in ("feasible", "unknown"):
        verdict.note = stopped_note(res, dl.seconds, f"best bound {res.bound}")
    verdict.solve_time = time.perf_counter() - t0
    return verdict
