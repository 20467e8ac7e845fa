"""The smallest perturbation radius that changes the class, as one MILP.

:func:`minimal_perturbation` solves the smallest radius as one MILP:

    min e   s.t.   x' in D,  ||x' - x|| <= e,  m(x') <= -tau,

(tau = 1e-6 by default; tau = 0 gives the distance to the decision boundary, whose witness may be a
tie), with the output bounds computed over the box of radius ``eps_max`` (default: the domain).

(``solve`` and ``project_to_ball`` are looked up on :mod:`mipnet.verify.robustness`, so that patching them there
takes effect.)
"""

from __future__ import annotations

import math
import time
from fractions import Fraction
from typing import Any

import numpy as np
import pyomo.environ as pyo

import mipnet.verify.robustness as _pkg

from ...bounds import RELIABLE_MAGNITUDE, compute_bounds
from ...deadline import Deadline
from ...encode import encode_network, input_terms, new_vars
from ...encode.properties import add_norm_ball, encode_margin
from ...errors import DataError
from ...network import Network
from .region import _prepare, _sub_domain, ball_box, margins
from .results import BOUNDS_SHARE, TAU, PerturbationResult, normalise_norm


def minimal_perturbation(
    net: Network,
    x: np.ndarray,
    norm: str = "inf",
    cls: int | None = None,
    *,
    eps_max: float | None = None,
    tau: float = TAU,
    solver: str = "highs",
    time_limit: float | Deadline = 60.0,
    bounds: str = "linear",
    threads: int | None = None,
) -> PerturbationResult:
    """The smallest radius e (L-inf or L1) of a point x' in the domain whose margin is <= -tau.

    One MILP: min e s.t. ||x' - x|| <= e, m(x') <= -tau, bounds over the box of radius ``eps_max``
    (default: the whole domain, which must then be finite). ``time_limit`` covers bounds, building and solving.
    """
    _prepare(net)
    norm = normalise_norm(norm)
    dl = Deadline.of(time_limit)
    t0 = time.perf_counter()
    x = np.asarray(x, dtype=np.float64).ravel()
    logits = net.forward(x[None])
    pred = int(net.predict_index(logits)[0])
    c = pred if cls is None else int(cls)
    names = net.class_names or []
    n_cls = max(len(names), logits.shape[1], 2)
    if not 0 <= c < n_cls:  # (cls=5 of two classes was "optimal, radius 0")
        raise DataError(f"class {c} is not a class of the model (0 .. {n_cls - 1})")
    label = names[c] if c < len(names) else c
    if pred != c and float(margins(net, logits, np.array([c]))[0]) <= -tau:  # (a tie at x is not a change by tau)
        return PerturbationResult(
            c, label, norm, 0.0, 0.0, "optimal", x.copy(), names[pred], True, eps_max, time.perf_counter() - t0
        )
    if eps_max is None:
        net.domain.require_finite()
        lo, hi = net.domain.lower.copy(), net.domain.upper.copy()
        reach = float(np.max(np.maximum(np.abs(hi - x), np.abs(lo - x))))
        emax = reach if norm == "inf" else float(np.sum(np.maximum(np.abs(hi - x), np.abs(lo - x))))
    else:
        lo, hi = ball_box(net, x, float(eps_max), norm)
        emax = float(eps_max)
    sub = _sub_domain(net, lo, hi)
    bnds = compute_bounds(net, lo, hi, method=bounds, deadline=dl.sub(fraction=BOUNDS_SHARE))
    m = pyo.ConcreteModel()
    xin = input_terms(m, sub, name="x", centre=x)  # offsets from x where the box lies far from the origin
    e = new_vars(m, "eps", np.array([0.0]), np.array([emax]))[0]
    add_norm_ball(m, "B", xin, x, e, norm)
    enc = encode_network(m, net, xin, bounds=bnds)
    mg = encode_margin(m, "M", enc.outputs, c)
    if mg.lower > -tau:
        return PerturbationResult(
            c,
            label,
            norm,
            None,
            emax,
            "infeasible",
            eps_max=emax,
            time=time.perf_counter() - t0,
            extra={"reason": "bounds prove robustness"},
        )
    m.margin_cap = pyo.Constraint(expr=mg.expr <= -tau)
    m.obj = pyo.Objective(expr=e, sense=pyo.minimize)
    if dl.expired():
        return PerturbationResult(
            c,
            label,
            norm,
            None,
            None,
            "unknown",
            eps_max=emax,
            time=time.perf_counter() - t0,
            extra={"reason": "the time limit was reached before the MILP could be solved"},
        )
    r = _pkg.solve(m, solver, time_limit=dl.solver_limit(), threads=threads, mip_gap=1e-6)
    out = PerturbationResult(
        c,
        label,
        norm,
        None,
        None if r.bound is None else r.bound * (1.0 - BOUND_SAFETY),
        r.status,
        eps_max=emax,
        extra={"nodes": r.nodes, "n_binaries": enc.n_binaries() + len(mg.binaries)},
    )
    values = max(
        (float(np.max(np.abs(np.concatenate([lo_k.ravel(), hi_k.ravel()])))) for lo_k, hi_k in bnds), default=0
    )
    if r.status == "infeasible" and values > RELIABLE_MAGNITUDE:  # (HiGHS: infeasible with logits of 2e10)
        out.status, out.bound = "unknown", None
        out.extra["reason"] = f"the network's values reach {values:.3g}: the solver's infeasibility is not a proof"
    elif r.status == "infeasible":
        out.bound = emax
    elif r.has_solution:
        xv = xin.values().ravel()
        dist = float(np.max(np.abs(xv - x)) if norm == "inf" else np.sum(np.abs(xv - x)))
        xp = _pkg.project_to_ball(net, x, xv, dist, norm)
        assert r.incumbent is not None  # r.has_solution
        out.eps = float(r.incumbent)
        if xp is not None:  # else no checked witness: the solver's point is not in the domain
            k = int(net.predict_index(net.forward(xp[None]))[0])
            out.counterexample = xp
            out.adversarial_class = names[k] if k < len(names) else k
            out.checked = k != c
            if out.checked:  # the radius reported is one the witness lies within, exactly (the solver's may be less)
                out.eps = max(out.eps, distance_up(xp, x, norm))
    _refute_bound(net, x, c, norm, tau, names, out, dl)
    out.time = time.perf_counter() - t0
    return out


#: the solver's bound on the radius is reported this much (relative) lower: HiGHS's bound at its tolerances lay up to
#: 6.4e-6 above the exact radius (benchmarks/fuzz_minimal_perturbation.py: 2 of 180 cases above 1e-6)
BOUND_SAFETY = 1e-5
#: a refuting point must lie this much (relative) inside the solver's bound: the MILP's own gap is 1e-6
REFUTE_MARGIN = 1e-5


def distance_up(q: np.ndarray, x: np.ndarray, norm: str) -> float:
    """||q - x|| (L-inf or L1) in exact arithmetic, rounded up to a float: q lies in the real ball of that radius."""
    d = [abs(Fraction(float(a)) - Fraction(float(b))) for a, b in zip(np.ravel(q), np.ravel(x))]
    exact = max(d, default=Fraction(0)) if norm == "inf" else sum(d, Fraction(0))
    f = float(exact)
    return f if Fraction(f) >= exact else math.nextafter(f, math.inf)


def _nearest_on_segment(net: Network, x: np.ndarray, xa: np.ndarray, c: int, tau: float) -> np.ndarray:
    """A point of the segment from x to ``xa`` (whose margin is <= -tau) near x whose margin is <= -tau, by
    bisection on the segment (the attack goes to the ball's surface; the class may change much closer). Only
    where the segment's points are inputs of the domain: every coordinate that moves is continuous."""
    moved = set(np.flatnonzero(xa != x).tolist())
    dom = net.domain
    if any(bool(dom.integer[i]) for i in moved) or any(moved.intersection(g) for g in dom.onehot_groups):
        return xa
    lo_pt, hi_pt = np.minimum(x, xa), np.maximum(x, xa)
    low, high, best = 0.0, 1.0, xa
    for _ in range(60):
        mid = (low + high) / 2.0
        p = np.clip(x + mid * (xa - x), lo_pt, hi_pt)
        if float(margins(net, net.forward(p[None]), np.array([c]))[0]) <= -tau:
            high, best = mid, p
        else:
            low = mid
    return best if bool(np.all(dom.contains(best[None], tol=0.0))) else xa


def _refute_bound(
    net: Network, x: np.ndarray, c: int, norm: str, tau: float, names: list[Any], out: PerturbationResult, dl: Deadline
) -> None:
    """The solver's lower bound B on the radius ("optimal", or "infeasible": no class change within eps_max) is
    tested by the gradient attack on the ball of radius B: a point of the domain whose margin is <= -tau, at a
    distance below B (1 - ``REFUTE_MARGIN``), refutes it. The solver's answer is then not a proof: the status
    becomes "feasible", the bound None and the radius that point's distance (HiGHS at a looser MIP feasibility
    tolerance said "optimal, 1.0" for a net whose class changes at 0.00052, a point the attack finds)."""
    if out.bound is None or not out.bound > 0 or out.status not in ("optimal", "infeasible") or dl.expired():
        return
    xa = _pkg.attack(net, x, float(out.bound), norm, c, deadline=dl)
    if xa is None or not bool(np.all(net.domain.contains(xa[None], tol=0.0))):
        return
    if float(margins(net, net.forward(xa[None]), np.array([c]))[0]) > -tau:
        return
    xa = _nearest_on_segment(net, x, xa, c, tau)
    la = net.forward(xa[None])
    dist = distance_up(xa, x, norm)
    if not dist < out.bound * (1.0 - REFUTE_MARGIN):  # a point on the bound's own sphere is consistent with it
        return
    k = int(net.predict_index(la)[0])
    out.extra["refuted"] = f"the solver's {out.status} bound {out.bound!r} is refuted by a point at distance {dist!r}"
    out.status, out.bound, out.eps, out.counterexample, out.checked = "feasible", None, dist, xa, k != c
    out.adversarial_class = names[k] if k < len(names) else k
