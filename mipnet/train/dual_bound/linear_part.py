r"""The dual bound of the sign class *with the linear term* (``TrainConfig.linear``, :mod:`..linear_term`).

The class adds w0 . x to every output, w0 in [-B_w, B_w]^d, with its own objective terms lam ||w0||_1 +
pw l0 #{w0 != 0} (+ pw l2 ||w0||^2 >= 0, dropped). In the weak duality (*) of the package docstring the linear
part enters as one more separable term: with a_n = alpha_n y_n and g = sum_n a_n x_n,

    sum_n alpha_n (m - y_n f(x_n)) + [linear part's penalties]  contains  sum_i (lam |w0_i| + l0 [w0_i != 0] - g_i w0_i)
        >= - sum_i max(0, B_w (|g_i| - lam) - l0)  =:  - L(g),

the minimum of each summand over w0_i in [-B_w, B_w] (0 at w0_i = 0, else B_w (lam - |g_i|) + l0 at |w0_i| = B_w,
the summand being linear in |w0_i| on each sign). So for the same multipliers and the same certified V(alpha) of
the hidden units,

    P* >= LB_lin(t alpha) = t base - J max(0, t V - (1 - t) kappa) - L(t g),     base = m sum alpha - B_c |sum a|,

for every t in [0, 1] (the argument of the package docstring for the units; L(t g) is exact at t alpha). LB_lin
is concave and piecewise linear in t, so its maximum over [0, 1] is at 0, 1 or a breakpoint: t = kappa / (V +
kappa) and t = (lam + l0 / B_w) / |g_i|; :func:`best_scale` evaluates all of them. A network without the linear
term is the linear class with w0 = 0, so L only lowers the bound: the multipliers of the plain bound stay valid
and the plain figure is an upper limit of this one (tests: never above the proved optimum of the linear class on
tiny instances, and never above the plain bound).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

from .result import DualBoundResult
from .safety import _safe


def linear_penalty(g: np.ndarray, *, lam: float, l0: float, weight_bound: float) -> float:
    """L(g) = sum_i max(0, B_w (|g_i| - lam) - l0): minus the least the linear part can add to the Lagrangian."""
    g = np.asarray(g, dtype=np.float64)
    return math.fsum(np.maximum(0.0, float(weight_bound) * (np.abs(g) - float(lam)) - float(l0)).tolist())


def scaled_value(
    t: float,
    *,
    base: float,
    V: float,
    kappa: float,
    J: float,
    g: np.ndarray,
    lam: float,
    l0: float,
    weight_bound: float,
) -> float:
    """LB_lin(t alpha) of the module docstring (no float margin)."""
    units = J * max(0.0, t * V - (1.0 - t) * kappa)
    return t * base - units - linear_penalty(t * np.asarray(g), lam=lam, l0=l0, weight_bound=weight_bound)


def best_scale(
    *, base: float, V: float, kappa: float, J: float, g: np.ndarray, lam: float, l0: float, weight_bound: float
) -> tuple[float, float]:
    """(t, LB_lin(t alpha)) at the best t in [0, 1]: the concave piecewise-linear function's maximum is at an end or
    a breakpoint (module docstring), so every candidate is evaluated."""
    g = np.abs(np.asarray(g, dtype=np.float64))
    cands = [0.0, 1.0]
    if V + kappa > 0:
        cands.append(kappa / (V + kappa))
    if weight_bound > 0:  # a zero box: no linear part, no breakpoint of its own
        with np.errstate(over="ignore"):
            cands.extend(((float(lam) + float(l0) / float(weight_bound)) / g[g > 1e-300]).tolist())
    kw: dict[str, Any] = dict(base=base, V=V, kappa=kappa, J=J, g=g, lam=lam, l0=l0, weight_bound=weight_bound)
    best = (0.0, scaled_value(0.0, **kw))
    for t in cands:
        if 0.0 <= t <= 1.0:
            v = scaled_value(float(t), **kw)
            if v > best[1]:
                best = (float(t), v)
    return best


def linear_class_value(
    alpha: np.ndarray,
    y: np.ndarray,
    X: np.ndarray,
    V: float,
    *,
    margin: float,
    output_bias_bound: float | None,
    J: float,
    kappa: float,
    lam: float,
    l0: float,
    weight_bound: float,
) -> tuple[float, float, np.ndarray]:
    """(t, LB_lin(t alpha), g) at the best t for multipliers ``alpha`` (per row of ``X``), labels ``y`` and a certified
    V of the hidden units: base = m sum alpha - B_c |sum a|, g = sum_n a_n x_n, a = alpha y."""
    a = np.asarray(alpha, dtype=np.float64) * np.asarray(y, dtype=np.float64)
    g = np.asarray(X, dtype=np.float64).T @ a
    Bc = 0.0 if output_bias_bound is None else float(output_bias_bound)
    base = float(margin) * math.fsum(np.asarray(alpha, dtype=np.float64).tolist()) - Bc * abs(math.fsum(a.tolist()))
    t, value = best_scale(base=base, V=V, kappa=kappa, J=J, g=g, lam=lam, l0=l0, weight_bound=weight_bound)
    return t, value, g


def with_linear_term(
    result: DualBoundResult,
    X: np.ndarray,
    target: np.ndarray,
    *,
    margin: float,
    width: int,
    unit_cost: float,
    lam: float,
    l0: float,
    weight_bound: float,
    output_bias_bound: float | None,
) -> DualBoundResult:
    """The bound of ``result`` (a width-J bound of the class without the linear term) for the class with it: the same
    multipliers ``result.alpha`` (per row of ``X``, standardised) and certified V = ``result.g_upper``, the linear
    part's L(t g) subtracted and t chosen again (:func:`best_scale`). The record keeps its pairs and rows, gets the
    new t and bound and ``linear`` = True (the certificate re-check then subtracts L(t g) too)."""
    V = float(result.g_upper)
    kw: dict[str, Any] = dict(
        margin=margin, output_bias_bound=output_bias_bound, J=float(width), kappa=float(unit_cost), lam=lam, l0=l0
    )
    g = np.zeros(np.asarray(X).shape[1])
    if not np.isfinite(V):
        t, value = 0.0, 0.0
    else:
        # self-check: the multipliers and V the method returned reproduce its own figure (one consistent triple); a
        # zero box leaves the linear part out (the plain bound)
        _, plain, _ = linear_class_value(result.alpha, target, X, V, **kw, weight_bound=0.0)
        if _safe(plain) < float(result.bound) - 1e-7 * max(1.0, abs(float(result.bound))):
            raise RuntimeError(
                f"the dual bound's multipliers and V give {plain:.9g}, below its figure {result.bound:.9g}: "
                "not extended to the linear term"
            )
        t, value, g = linear_class_value(result.alpha, target, X, V, **kw, weight_bound=weight_bound)
    bound = max(_safe(value), 0.0)
    record = None
    if result.record is not None:
        record = {**result.record, "t": float(t), "bound": float(bound), "linear": True}
    info = {**result.info, "linear_penalty_at_t": linear_penalty(t * g, lam=lam, l0=l0, weight_bound=weight_bound)}
    info["bound_without_linear_term"] = float(result.bound)
    return dataclasses.replace(
        result, bound=float(bound), scale=float(t), record=record, info=info, mode=f"{result.mode} + linear term"
    )
