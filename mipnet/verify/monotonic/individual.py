"""Individual monotonicity (Liu et al. 2020) at data points.

At a point x for increasing features A and decreasing features D, with f = c^T y:

    max f(x')  s.t.  x'_a <= x_a (a in A),  x'_d >= x_d (d in D),  x'_r = x_r (other r),  x' in domain.

x is feasible, so the optimum is >= f(x); an optimum f(x') > f(x) + min(TOL (1 + |f(x)|), DROP_TOL) is a
counterexample (the solution is re-checked with the numpy forward pass); a proved bound below that
certifies x. The MILP is built on the sub-box, where interval bounds are tight and most units are
stable; the interval bound of c^T y on the sub-box alone certifies x when it is low enough.
"""

from __future__ import annotations

import time
from typing import Sequence

import numpy as np
import pyomo.environ as pyo

from ...bounds import interval_bounds
from ...deadline import Deadline
from ...encode import encode_network, input_terms
from ...encode.properties import functional_bounds, output_functional
from ...errors import DataError
from ...network import Network
from ...solve import solve
from .common import DROP_TOL, TOL, IndividualReport, PointResult, output_coefficients, resolve_features


def verify_individual(
    net: Network,
    X: np.ndarray,
    increasing: Sequence[str | int] = (),
    decreasing: Sequence[str | int] = (),
    *,
    output: int | str | None = None,
    versus: int | str | None = None,
    time_limit: float = 10.0,
    solver: str = "highs",
    threads: int | None = None,
    tol: float = TOL,
) -> IndividualReport:
    """Individual monotonicity at every row of X (see module docstring); one small MILP per row.

    ``time_limit`` is per row and covers everything done for the row (bounds, model building, the MILP).

    (HiGHS fixes its thread pool at the first solve of a process: keep ``threads`` the same in one
    process, a different value makes later solves fail.)
    """
    feats = resolve_features(net, increasing, decreasing)
    coef, desc = output_coefficients(net, output, versus)
    net.domain.require_finite()
    X = np.atleast_2d(np.asarray(X, dtype=np.float64))
    if X.shape[1] != net.n_inputs:
        raise DataError(f"the model takes {net.n_inputs} features, the data have {X.shape[1]}")
    # exactly inside (no tolerance): the region below / above a row is cut from the domain's box, and a row even
    # 1e-8 outside left it empty (the whole run stopped at that row with "the requested input region is empty")
    inside = net.domain.contains(X, tol=0.0)
    if not inside.all():
        r = int(np.flatnonzero(~inside)[0])
        d = net.domain
        out = np.flatnonzero((X[r] < d.lower) | (X[r] > d.upper))
        where = (
            f": feature {d.names[int(out[0])]!r} = {float(X[r, int(out[0])])!r} is outside "
            f"[{d.lower[int(out[0])]:g}, {d.upper[int(out[0])]:g}]"
            if out.size
            else " (an integer or one-hot feature)"
        )
        raise DataError(f"row {r} lies outside the model's input domain{where}")
    fx = net.forward(X) @ coef
    dom = net.domain
    points = []
    for r, x in enumerate(X):
        lo, hi = x.copy(), x.copy()
        for i, _, s in feats:
            if s > 0:
                lo[i] = dom.lower[i]
            else:
                hi[i] = dom.upper[i]
        points.append(_individual_point(net, r, x, float(fx[r]), lo, hi, coef, time_limit, solver, threads, tol))
    return IndividualReport(points, [n for _, n, s in feats if s > 0], [n for _, n, s in feats if s < 0], desc)


def _individual_point(
    net: Network,
    row: int,
    x: np.ndarray,
    fx: float,
    lo: np.ndarray,
    hi: np.ndarray,
    coef: np.ndarray,
    time_limit: float | Deadline,
    solver: str,
    threads: int | None,
    tol: float,
) -> PointResult:
    dl = Deadline.of(time_limit)
    t0 = time.perf_counter()
    bnds = interval_bounds(net, lo, hi)
    olo, ohi = bnds[-1]
    _, upper = functional_bounds(coef, olo, ohi)
    # a rise the check tolerates: tol relative to f, at most DROP_TOL (f = 1e7 - 0.05 x rose by 0.5 under
    # "holds": the relative tolerance alone grew with |f(x)|, the global check's is capped the same way)
    thr = fx + min(tol * (1.0 + abs(fx)), max(tol, DROP_TOL))
    if upper <= thr:
        return PointResult(row, "holds", fx, fx, upper, None, time.perf_counter() - t0)
    m = pyo.ConcreteModel()
    xt = input_terms(m, net.domain, lo, hi, name="x", centre=x)  # offsets from x far from the origin
    enc = encode_network(m, net, xt, bounds=bnds)
    y = enc.outputs.expr.ravel()
    m.obj = pyo.Objective(expr=-output_functional(y, coef), sense=pyo.minimize)
    if dl.expired():
        return PointResult(row, "unknown", fx, fx, upper, None, time.perf_counter() - t0)
    res = solve(m, solver, time_limit=dl.solver_limit(), threads=threads)
    elapsed = time.perf_counter() - t0
    bound = -res.bound if res.bound is not None else None
    if res.has_solution:
        # integers whole, one-hot levels exact, and inside the point's own box [lo, hi] (x'_i <= x_i for an increasing
        # feature, x' = x off the monotone features): HiGHS's point lay up to its tolerance past a bound, and a steep
        # net turned that 1e-8 into a "counterexample" outside the set the property names
        xp = np.clip(net.domain.snap(xt.values()[None])[0], lo, hi)
        fxp = float(net.forward(xp[None])[0] @ coef)
        if fxp > thr:
            return PointResult(row, "counterexample", fx, fxp, bound, xp.tolist(), elapsed)
    if bound is not None and bound <= thr:
        return PointResult(row, "holds", fx, fx, bound, None, elapsed)
    return PointResult(row, "unknown", fx, fx, bound, None, elapsed)
