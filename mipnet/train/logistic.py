"""The logistic loss and its tangent outer approximation (the ``logistic`` loss of :mod:`.objective`).

The loss of sample n with label y_n in {-1, +1} and logit f(x_n) is

    l(z) = log(1 + exp(-z)),    z = y_n f(x_n)   (the margin),

convex and decreasing, with slope l'(z) = -1 / (1 + exp(z)) in (-1, 0). A MILP cannot hold it exactly, so the
training model holds its tangent envelope at points t_1 < ... < t_K:

    xi_n >= l(t_k) + l'(t_k) (z_n - t_k)   (k = 1..K),    xi_n >= 0.

Every tangent of a convex function lies below it and l > 0, so max(0, tangents) <= l everywhere: the model's
optimum is a **lower** bound on the true one, and the solver's proved bound stays valid for the true objective.
The certificate reports the true loss of the returned network (numpy, :func:`logistic_loss`) and the bound of the
envelope; their difference is the gap.

**Tangent points** (:func:`logistic_tangent_points`). Between neighbouring tangents at a < b the envelope's largest
error is at their intersection z*, ``l(z*) - (l(a) + l'(a)(z* - a))``, and it grows with b - a. The points are
placed greedily from the lower end so that this error is at most ``tol`` on each interval (bisection on b), until
the upper end. On a sub-interval [a', b'] of [a, b] the tangents at a', b' lie above those at a, b there (slopes of
a convex function grow), so restricting the grid to a sample's margin range and adding the range's ends keeps the
error at most ``tol`` on that range: one grid serves every sample. The grid stops at the first point t with
l(t) <= tol: above it xi >= 0 alone is within tol (l decreases), and further tangents would only add slopes near 0
(1e-9 at z = 20). With tol = 2e-3 on [-20, 20] the grid has 25 points (the last at z = 6.5); the envelope is then
within 2e-3 of the mean loss, which bounds the gap the approximation alone leaves.

**In the model** the margin is one variable per sample, z_n = y_n f(x_n) (one row with f's terms), so that each
tangent row has two non-zeros: with f's terms repeated in all 25 rows, translating the model of Adult (1000 rows,
86 inputs) to HiGHS took 30 s of a 45 s fit.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit

#: largest error of the tangent envelope, absolute, per sample (so on the mean loss too)
LOGISTIC_TOLERANCE = 2e-3


def logistic_loss(z: np.ndarray | float) -> np.ndarray:
    """l(z) = log(1 + exp(-z)), computed without overflow."""
    return np.logaddexp(0.0, -np.asarray(z, dtype=np.float64))


def logistic_slope(z: np.ndarray | float) -> np.ndarray:
    """l'(z) = -1 / (1 + exp(z))."""
    return -expit(-np.asarray(z, dtype=np.float64))


def envelope_error(a: float, b: float) -> float:
    """Largest gap between l and the larger of its tangents at a < b (at their intersection)."""
    sa, sb = float(logistic_slope(a)), float(logistic_slope(b))
    la, lb = float(logistic_loss(a)), float(logistic_loss(b))
    if sb - sa <= 1e-300:
        return 0.0
    z = (lb - sb * b - la + sa * a) / (sa - sb)
    return max(0.0, float(logistic_loss(z)) - (la + sa * (z - a)))


def logistic_tangent_points(lo: float, hi: float, tol: float = LOGISTIC_TOLERANCE) -> np.ndarray:
    """Tangent points on [lo, hi] whose envelope is within ``tol`` of l there (module docstring)."""
    lo, hi = float(lo), float(hi)
    if not (np.isfinite(lo) and np.isfinite(hi)) or tol <= 0:
        raise ValueError(f"tangent points need a finite range and tol > 0, got [{lo}, {hi}], tol {tol}")
    if hi <= lo:
        return np.array([lo])
    pts = [lo]
    while envelope_error(pts[-1], hi) > tol and float(logistic_loss(pts[-1])) > tol:
        a, step_ok, step_bad = pts[-1], 0.0, hi - pts[-1]
        for _ in range(60):
            mid = 0.5 * (step_ok + step_bad)
            if envelope_error(a, a + mid) <= tol:
                step_ok = mid
            else:
                step_bad = mid
        pts.append(a + step_ok)
    return _flat_tail(np.asarray(pts + [hi]), tol)


def _flat_tail(pts: np.ndarray, tol: float) -> np.ndarray:
    """The points up to the first t with l(t) <= tol: beyond it xi >= 0 alone is within tol (l decreases), and the
    tangents there only add slopes near 0 (down to 1e-9 at z = 20) that the solver's tolerances cannot tell apart."""
    flat = np.flatnonzero(logistic_loss(pts) <= tol)
    return pts if flat.size == 0 else pts[: int(flat[0]) + 1]


def restrict(grid: np.ndarray, lo: float, hi: float, tol: float) -> np.ndarray:
    """The grid's points inside [lo, hi] with lo and hi themselves (the envelope keeps its error bound there), up to
    the first with l <= tol (``tol`` the grid's own)."""
    inside = grid[(grid > lo) & (grid < hi)]
    return _flat_tail(np.unique(np.concatenate([[lo], inside, [hi]])), tol)


__all__ = [
    "LOGISTIC_TOLERANCE",
    "envelope_error",
    "logistic_loss",
    "logistic_slope",
    "logistic_tangent_points",
    "restrict",
]
