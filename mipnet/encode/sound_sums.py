r"""Interval bounds of a fixed affine map, rounded outward exactly: l_j <= sum_i w_ji x_i + b_j <= u_j for every x in
the box, in real arithmetic, with no slack where the float64 sums are exact.

For fixed weights the lower end is L_j = b_j + sum_i w_ji s_ji with s_ji = xl_i where w_ji >= 0, else xu_i (the upper
end the other way). Each product is split exactly, w s = p + e (p = fl(w s); e by Dekker's two-product, no FMA
needed), so L_j = b_j + sum_i (p_ji + e_ji) is a sum of floats: ``math.fsum`` returns it correctly rounded, r_j, and
the sign of the residual fsum(-r_j, terms) says on which side of r_j the exact sum lies; r_j moves one float
outward only when it is on the wrong side. An exact bound (inputs 0 / 1, whole numbers) stays exact: a unit whose
pre-activation is >= 0 on the box stays stably active (a slack of one ulp below 0 made the ReLU at x = 0 a
degenerate region and a monotone net "unknown").

Where Dekker's split is not exact (products above 1e150 or below 1e-250 in magnitude) or a term is not finite, the
output falls back to the float sum widened by :func:`mipnet.layers.base.rounding_slack`.
"""

from __future__ import annotations

import math

import numpy as np

from ..layers.base import rounding_slack

_SPLIT = 134217729.0  # 2^27 + 1


def _two_product_error(a: np.ndarray, b: np.ndarray, p: np.ndarray) -> np.ndarray:
    """e with a b = p + e exactly, p = fl(a b) (Dekker / Veltkamp, valid without over- or underflow)."""
    with np.errstate(over="ignore", invalid="ignore"):
        ca, cb = _SPLIT * a, _SPLIT * b
        ah = ca - (ca - a)
        bh = cb - (cb - b)
        al, bl = a - ah, b - bh
        return ((ah * bh - p) + ah * bl + al * bh) + al * bl


def _safe(a: np.ndarray, b: np.ndarray, p: np.ndarray) -> np.ndarray:
    big, tiny = 1e150, 1e-250
    with np.errstate(invalid="ignore"):
        return (
            np.isfinite(a)
            & np.isfinite(b)
            & (np.abs(a) < big)
            & (np.abs(b) < big)
            & ((a == 0.0) | (b == 0.0) | (np.abs(p) > tiny))
        )


def sound_affine_bounds(
    w: np.ndarray, xl: np.ndarray, xu: np.ndarray, bias: np.ndarray, out_idx: np.ndarray, n_out: int
) -> tuple[np.ndarray, np.ndarray]:
    """Bounds (lower, upper) of z_j = b_j + sum_{k: out_idx[k] = j} w_k x_k over x_k in [xl_k, xu_k] (the module
    docstring): outward-rounded, exact where the float sums are."""
    w, xl, xu = (np.asarray(v, dtype=np.float64) for v in (w, xl, xu))
    bias = np.asarray(bias, dtype=np.float64)
    s_lo, s_hi = np.where(w >= 0, xl, xu), np.where(w >= 0, xu, xl)
    with np.errstate(invalid="ignore", over="ignore"):
        p_lo, p_hi = w * s_lo, w * s_hi
    p_lo, p_hi = np.where(w == 0.0, 0.0, p_lo), np.where(w == 0.0, 0.0, p_hi)  # 0 x inf is no term
    e_lo, e_hi = _two_product_error(w, s_lo, p_lo), _two_product_error(w, s_hi, p_hi)
    ok_lo, ok_hi = _safe(w, s_lo, p_lo) | (w == 0.0), _safe(w, s_hi, p_hi) | (w == 0.0)
    e_lo, e_hi = np.where(w == 0.0, 0.0, e_lo), np.where(w == 0.0, 0.0, e_hi)
    order = np.argsort(out_idx, kind="stable")
    starts = np.searchsorted(out_idx[order], np.arange(n_out + 1))
    lower, upper = np.empty(n_out), np.empty(n_out)
    for j in range(n_out):
        idx = order[starts[j] : starts[j + 1]]
        b = float(bias[j])
        lower[j] = _end(b, p_lo[idx], e_lo[idx], ok_lo[idx], down=True)
        upper[j] = _end(b, p_hi[idx], e_hi[idx], ok_hi[idx], down=False)
    return lower, upper


def _end(b: float, p: np.ndarray, e: np.ndarray, ok: np.ndarray, down: bool) -> float:
    """One end of one output: b + sum (p + e) rounded outward, exactly (``ok``), or infinite, or the float sum
    widened by its round-off (gamma_{n+2} of the sum of |terms|)."""
    sign = -1.0 if down else 1.0
    with np.errstate(invalid="ignore", over="ignore"):
        v = b + float(np.sum(p))
        mag = abs(b) + float(np.sum(np.abs(p)))
    if not math.isfinite(v) or not math.isfinite(mag):  # an infinite input bound (or inf - inf): unbounded
        return sign * math.inf
    if math.isfinite(b) and bool(np.all(ok)):
        return _directed_sum([b, *p.tolist(), *e.tolist()], down=down)
    return v + sign * float(rounding_slack(np.array(mag), p.size))


def _directed_sum(terms: list[float], down: bool) -> float:
    """The exact sum of ``terms``, rounded down (or up) to a float."""
    r = math.fsum(terms)
    resid = math.fsum([-r, *terms])  # its sign is the sign of (exact sum - r)
    if down and resid < 0:
        return float(np.nextafter(r, -np.inf))
    if not down and resid > 0:
        return float(np.nextafter(r, np.inf))
    return r
