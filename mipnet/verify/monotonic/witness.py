"""Witnesses of a monotonicity violation: a pair (x, x') with x'_l > x_l, x'_rest = x_rest and
s_l (f(x') - f(x)) < 0, re-checked by the numpy forward pass.

From a minimiser's activation region {x : G x <= h} (OpenBox affine maps, :func:`_witness_from_code`):
its Chebyshev centre

    max r  s.t.  G x + r ||G_free|| <= h,  lo <= x <= hi,  0 <= r <= 1

is strictly inside the region, where f is affine with the encoded gradient, and the segment through
it along e_l is cut at the region's facets (rounded to the lattice for an integer feature). From a
point (:func:`_witness_from_point`): the regions of the point and of small perturbations of it. On
the lattice (:func:`_lattice_witness`): a scan of the integer values of feature l.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyomo.environ as pyo
from scipy.optimize import linprog

from ...explain.openbox import affine_maps, configurations, piece_layers, polytope
from ...network import Network
from ..slope_encoding import pattern_gradient
from .common import Witness


def _code_from_encoding(net: Network, enc: Any) -> np.ndarray:
    """The activation pattern of the solved forward encoding, as an OpenBox configuration code."""
    bits = []
    for p in piece_layers(net):
        z = enc.terms[p.layer]
        b = enc.binaries[p.layer]
        L = z.lower.ravel()
        bb = b.ravel() if b is not None else np.full(L.size, None, dtype=object)
        for j in range(L.size):
            if bb[j] is None:
                bits.append(1 if L[j] >= 0 else 0)
            else:
                bits.append(int(round(pyo.value(bb[j]))))
    return np.asarray(bits, dtype=np.int16)


def _fixed_mask(net: Network, l: int) -> np.ndarray:
    """Coordinates held at the anchor's values: integer features and one-hot levels (never l itself)."""
    fixed = net.domain.integer.copy()
    for g in net.domain.onehot_groups:
        fixed[g] = True
    fixed[l] = False
    return fixed


#: a change of f smaller than this share of 1 + |f(x)| is round-off, not a violation (the verifier and the re-check)
ROUND_OFF_SHARE = 1e-9


def breaks_monotonicity(fx: float, fxp: float, s: int) -> bool:
    """Whether f(x) -> f(x') (x' above x in the feature) goes against sign ``s`` beyond round-off: s (f(x') - f(x)) <
    -ROUND_OFF_SHARE (1 + |f(x)|)."""
    return s * (fxp - fx) < -ROUND_OFF_SHARE * (1 + abs(fx))


def _check_pair(
    net: Network, coef: np.ndarray, x: np.ndarray, xp: np.ndarray, s: int, tol: float, slope: float | None
) -> Witness | None:
    dom = net.domain
    # inside the domain exactly (the re-check allows no tolerance: a forged pair 1e-7 outside passed it)
    x, xp = np.clip(x, dom.lower, dom.upper), np.clip(xp, dom.lower, dom.upper)
    if not np.all(dom.contains(np.stack([x, xp]), tol=0.0)):
        return None
    fx, fxp = (net.forward(np.stack([x, xp])) @ coef).tolist()
    if breaks_monotonicity(fx, fxp, s):
        return Witness(x.tolist(), xp.tolist(), fx, fxp, slope)
    return None


def _witness_from_code(
    net: Network, coef: np.ndarray, code: np.ndarray, anchor: np.ndarray, l: int, s: int, tol: float
) -> Witness | None:
    """A pair along e_l inside the region of ``code``: its Chebyshev centre, cut at the region's facets."""
    pieces = piece_layers(net)
    maps = affine_maps(net, code[None], pieces)
    poly = polytope(pieces, code, [w[0] for w in maps.pre_weight], [b[0] for b in maps.pre_bias])
    slope = float(coef @ maps.weight[0][:, l])
    if s * slope >= -tol:
        return None
    dom = net.domain
    fixed = _fixed_mask(net, l)
    n = dom.n_features
    lo = np.where(fixed, anchor, dom.lower)
    hi = np.where(fixed, anchor, dom.upper)
    G, h = poly.G, poly.h
    free = ~fixed
    norms = np.linalg.norm(G[:, free], axis=1) if G.size else np.zeros(0)
    # max r  s.t.  G x + r ||G_free|| <= h,  lo <= x <= hi,  0 <= r <= 1
    c = np.zeros(n + 1)
    c[-1] = -1.0
    A = np.hstack([G, norms[:, None]]) if G.size else None
    res = linprog(c, A_ub=A, b_ub=h if G.size else None, bounds=list(zip(lo, hi)) + [(0.0, 1.0)], method="highs")
    if res.status != 0 or res.x[-1] <= 1e-10:
        return None
    centre = res.x[:n]
    centre[fixed] = anchor[fixed]
    # the segment centre + t e_l inside G x <= h and the box
    gl = G[:, l] if G.size else np.zeros(0)
    slack = h - G @ centre if G.size else np.zeros(0)
    t_hi = min([dom.upper[l] - centre[l]] + [sl / a for sl, a in zip(slack, gl) if a > 1e-14])
    t_lo = max([dom.lower[l] - centre[l]] + [sl / a for sl, a in zip(slack, gl) if a < -1e-14])
    if dom.integer[l]:
        k1, k2 = math.ceil(centre[l] + t_lo - 1e-12), math.floor(centre[l] + t_hi + 1e-12)
        if k2 <= k1:
            return _lattice_witness(net, coef, centre, l, s)
        a, b = float(k1), float(k2)
    else:
        a, b = centre[l] + t_lo, centre[l] + t_hi
        if b - a <= 1e-12:
            return None
    x, xp = centre.copy(), centre.copy()
    x[l], xp[l] = a, b
    return _check_pair(net, coef, x, xp, s, tol, slope) or (
        _lattice_witness(net, coef, centre, l, s) if dom.integer[l] else None
    )


def _lattice_witness(
    net: Network, coef: np.ndarray, base: np.ndarray, l: int, s: int, max_points: int = 20001
) -> Witness | None:
    """Scan the integer values of feature l at ``base`` for a consecutive decreasing pair."""
    lo, hi = math.ceil(net.domain.lower[l]), math.floor(net.domain.upper[l])
    if hi <= lo:
        return None
    ks = np.arange(lo, hi + 1, dtype=np.float64)
    base = np.clip(base, net.domain.lower, net.domain.upper)  # (the pair inside the domain exactly)
    if ks.size > max_points:
        ks = np.unique(np.round(np.linspace(lo, hi, max_points)))
    X = np.repeat(base[None], ks.size, axis=0)
    X[:, l] = ks
    f = net.forward(X) @ coef
    d = s * np.diff(f)
    k = int(np.argmin(d))
    if d[k] < -1e-9 * (1 + abs(f[k])) and np.all(net.domain.contains(X[k : k + 2], tol=0.0)):
        return Witness(X[k].tolist(), X[k + 1].tolist(), float(f[k]), float(f[k + 1]), None)
    return None  # (a base outside the domain, e.g. a one-hot level its bounds exclude, is no witness)


def _witness_from_point(
    net: Network, coef: np.ndarray, x0: np.ndarray, l: int, s: int, tol: float, n_probe: int = 64
) -> Witness | None:
    """Witness from the region of x0 (forward pattern), then of small perturbations of x0."""
    dom = net.domain
    fixed = _fixed_mask(net, l)
    rng = np.random.default_rng(0)
    width = dom.upper - dom.lower
    probes = [x0]
    for scale in (1e-6, 1e-4, 1e-2):
        P = x0 + rng.uniform(-1, 1, size=(n_probe // 3, x0.size)) * width * scale
        P[:, fixed] = x0[fixed]
        probes.extend(dom.clip(P))
    P = np.asarray(probes)
    g = s * pattern_gradient(net, P, coef)[:, l]
    pieces = piece_layers(net)
    for k in np.argsort(g)[:8]:
        if g[k] >= -tol:
            break
        code = configurations(net, P[k : k + 1], pieces)[0][0]
        w = _witness_from_code(net, coef, code, P[k], l, s, tol)
        if w is not None:
            return w
    return _lattice_witness(net, coef, x0, l, s) if dom.integer[l] else None
