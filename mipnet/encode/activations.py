"""Activation and max-pooling layers as MILP constraints over input Terms with sound bounds.

ReLU, h = max(0, z), L <= z <= U:
    L >= 0: h = z (stable on, no binary)        U <= 0: h = 0 (stable off, no binary)
    else  : h >= z, h >= 0, h <= z - L (1 - a), h <= U a,  a in {0, 1}
LeakyReLU, h = max(alpha z, z), 0 <= alpha < 1:
    else  : h >= z, h >= alpha z, h <= z - (1 - alpha) L (1 - a), h <= alpha z + (1 - alpha) U a
MaxPool, y = max_k x_k over a window, L* = max_k L_k; candidates K = {k : U_k > L*}:
    |K| = 1: y = x_k
    else   : y >= x_k (k in K), y <= x_k + (U_K - L_k)(1 - d_k), sum_k d_k = 1, d binary,
             with U_K = max_{k in K} U_k.
Smooth activations (GELU, Tanh, Sigmoid): sound linear envelopes over [L, U] from
:mod:`mipnet.encode.envelopes`; the encoding is then a relaxation (a verdict may be "unknown").

With ``relax=True`` the binaries are continuous in [0, 1]: the LP relaxation used for bound
tightening (it is the convex hull for a single ReLU given its input bounds).
"""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo

from ..errors import UnsupportedError
from ..layers import GELU_ARGMIN, Layer, MaxPool2D
from .envelopes import envelope
from .terms import Terms, constraint_list, is_number, new_binaries, new_vars


def encode_relu(
    block: pyo.Block, name: str, z: Terms, alpha: float = 0.0, relax: bool = False
) -> tuple[Terms, np.ndarray]:
    """ReLU (alpha = 0) or LeakyReLU; returns output Terms and an object array of binaries (None if stable)."""
    L, U = z.lower.ravel(), z.upper.ravel()
    ze = z.expr.ravel()
    n = L.size
    on, off = L >= 0, U <= 0
    unstable = np.flatnonzero(~on & ~off)
    out = np.empty(n, dtype=object)
    lo = np.where(L >= 0, L, alpha * L)
    hi = np.where(U >= 0, U, alpha * U)
    for j in np.flatnonzero(on):
        out[j] = ze[j]
    for j in np.flatnonzero(off & ~on):
        e = ze[j]
        out[j] = 0.0 if alpha == 0.0 else (alpha * float(e) if is_number(e) else alpha * e)
    bins = np.full(n, None, dtype=object)
    if unstable.size:
        h = new_vars(block, f"{name}_h", lo[unstable], hi[unstable])
        a = new_binaries(block, f"{name}_a", (unstable.size,), relax)
        cons = constraint_list(block, f"{name}_relu")
        for t, j in enumerate(unstable):
            zj, Lj, Uj = ze[j], float(L[j]), float(U[j])
            cons.add(h[t] >= zj)
            if alpha == 0.0:
                cons.add(h[t] <= zj - Lj * (1 - a[t]))
                cons.add(h[t] <= Uj * a[t])
            else:
                cons.add(h[t] >= alpha * zj)
                cons.add(h[t] <= zj - (1 - alpha) * Lj * (1 - a[t]))
                cons.add(h[t] <= alpha * zj + (1 - alpha) * Uj * a[t])
            out[j] = h[t]
            bins[j] = a[t]
    shape = z.shape
    return Terms(out.reshape(shape), lo.reshape(shape), hi.reshape(shape)), bins.reshape(shape)


def pool_candidates(idx: np.ndarray, xl: np.ndarray, xu: np.ndarray) -> np.ndarray:
    """The elements of a max-pool window (indices ``idx`` into the bounds ``xl``, ``xu``) that can be its maximum:
    with L* = max_k xl_k reached at k*, every element with xu_k <= L* is never above x_k* (x_k <= xu_k <= L* <=
    x_k*), so the candidates are k* and the elements with xu_k > L*. k* is always one of them: when its bounds
    are a single point (xl = xu = L*, e.g. a constant conv output at the border) it is the maximum whenever the
    others are below L*, which the set {xu_k > L*} alone lost."""
    top = int(idx[int(np.argmax(xl[idx]))])
    above = idx[xu[idx] > xl[top]]
    return above if np.any(above == top) else np.concatenate([[top], above])


def encode_maxpool(
    block: pyo.Block, name: str, layer: MaxPool2D, x: Terms, relax: bool = False
) -> tuple[Terms, np.ndarray]:
    """Max pooling with one selection binary per window element that can still be the maximum."""
    win = layer.window_indices(x.shape)
    C, oh, ow = win.shape[:3]
    win = win.reshape(C * oh * ow, -1)
    xe, xl, xu = x.expr.ravel(), x.lower.ravel(), x.upper.ravel()
    n = win.shape[0]
    out = np.empty(n, dtype=object)
    lo, hi = np.empty(n), np.empty(n)
    bins = np.full(n, None, dtype=object)
    cons = None
    for j in range(n):
        idx = win[j][win[j] >= 0]
        cand = pool_candidates(idx, xl, xu)
        lo[j], hi[j] = xl[idx].max(), xu[cand].max()
        if cand.size == 1:
            out[j] = xe[cand[0]]
            continue
        if cons is None:
            cons = constraint_list(block, f"{name}_max")
        y = new_vars(block, f"{name}_y{j}", np.array([lo[j]]), np.array([hi[j]]))[0]
        d = new_binaries(block, f"{name}_d{j}", (cand.size,), relax)
        Uc = hi[j]
        for t, k in enumerate(cand):
            cons.add(y >= xe[k])
            cons.add(y <= xe[k] + (Uc - xl[k]) * (1 - d[t]))
        cons.add(sum(d) == 1)
        out[j] = y
        bins[j] = d
    shape = (C, oh, ow)
    return Terms(out.reshape(shape), lo.reshape(shape), hi.reshape(shape)), bins.reshape(shape)


def encode_smooth(block: pyo.Block, name: str, layer: Layer, z: Terms) -> Terms:
    """h with a_lo z + b_lo <= h <= a_hi z + b_hi and interval bounds: a sound relaxation of f(z)."""
    L, U = z.lower.ravel(), z.upper.ravel()
    a_lo, b_lo, a_hi, b_hi = envelope(layer.kind, L, U)
    f = layer.forward
    flo, fhi = layer.interval(L, U)
    ze = z.expr.ravel()
    n = L.size
    out = np.empty(n, dtype=object)
    var_idx = [j for j in range(n) if not is_number(ze[j])]
    for j in range(n):
        if is_number(ze[j]):
            out[j] = float(f(np.array([float(ze[j])]))[0])
    if var_idx:
        h = new_vars(block, f"{name}_h", flo[var_idx], fhi[var_idx])
        cons = constraint_list(block, f"{name}_env")
        for t, j in enumerate(var_idx):
            cons.add(h[t] >= float(a_lo[j]) * ze[j] + float(b_lo[j]))
            cons.add(h[t] <= float(a_hi[j]) * ze[j] + float(b_hi[j]))
            out[j] = h[t]
    return Terms(out.reshape(z.shape), flo.reshape(z.shape), fhi.reshape(z.shape))


def _smooth_interval(layer: Layer, L: np.ndarray, U: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The sound output interval of a smooth activation (:meth:`mipnet.layers.Layer.interval`)."""
    return layer.interval(L, U)


def activation_interval(layer: Layer, L: np.ndarray, U: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sound output interval of an elementwise activation on [L, U] (:meth:`mipnet.layers.Layer.interval`)."""
    if not layer.activation:
        raise UnsupportedError(f"no interval rule for activation {layer.kind}")
    return layer.interval(L, U)


__all__ = ["encode_relu", "encode_maxpool", "pool_candidates", "encode_smooth", "activation_interval", "GELU_ARGMIN"]
