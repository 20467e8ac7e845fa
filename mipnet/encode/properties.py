"""Property encodings shared by the verifiers: norm balls, output functionals and margins, and the
difference of two copies of a network. Every function adds constraints (and auxiliary variables)
to a Pyomo block holding network encodings built by :func:`mipnet.encode.encode_network`.

**Norm of a difference** ||b - a|| (a, b arrays of model terms or floats), as an epigraph:

    L1:    t_i >= b_i - a_i,  t_i >= a_i - b_i,  0 <= t_i <= w_i,    ||b - a||_1   <= sum_i t_i,
    L-inf: s   >= b_i - a_i,  s   >= a_i - b_i,  0 <= s   <= max w,  ||b - a||_inf <= s,

(w: a sound bound on |b_i - a_i|). Minimising sum t (or s) gives the norm exactly
(:func:`norm_epigraph`, the resilience objective).

**Norm ball** around a centre c intersected with the domain (:func:`add_norm_ball`): the input
variables x' already lie in the box [c - eps, c + eps] intersected with the domain's box, which is
the L-inf ball of a fixed radius (nothing is added); with a variable radius e,
-e <= x'_i - c_i <= e. L1: t_i >= +-(x'_i - c_i), 0 <= t_i <= max(|hi_i - c_i|, |lo_i - c_i|),
sum_i t_i <= radius. Other norms (L2: a quadratic constraint) are refused with
:class:`~mipnet.errors.UnsupportedError`: callers normalise the norm first
(:func:`mipnet.verify.robustness.normalise_norm`, the resilience argument check).

**Output functionals.** f = c^T y of the outputs y (:func:`output_functional`, bounds
sum_k max(c_k U_k, c_k L_k) by :func:`functional_bounds`); for two copies A and B,
c^T (y^B - y^A) (:func:`functional_difference`). Logits of a classifier: a single logit l is read as
the two logits (0, l) (:func:`logit_terms`). Class margins: z_m >= rhs + z_i for every i != m
(:func:`add_margin_floor`: strongly classified, rhs = ln alpha, or the margin variable t); the
margin of a class against its rivals m = z_c - max_{k in R} z_k (:func:`encode_margin`, see there)
and its numeric value on a batch of logits (:func:`class_margins`).

**Two copies (twin networks).** Copy A on input a, copy B on input b = a + d over shared weights;
the difference of layer values dz = z(b) - z(a) has no bias term and lies in an interval propagated
from the input difference box [d_lo, d_hi]:

    affine layer J:        dz in [J+ d_lo + J- d_hi,  J+ d_hi + J- d_lo]   (:func:`interval_image`),
    ReLU / LeakyReLU (alpha): dh = t dz for some t in [alpha, 1] (monotone, 1-Lipschitz), so
                           dh in hull{alpha d_lo, d_lo, alpha d_hi, d_hi}  (:func:`activation_difference`).

Two cut families use these intervals:

* :func:`difference_cuts` (monotonicity lattice check, b = a + e_l): every layer value difference
  is in its interval, d_lo <= z^B - z^A <= d_hi; and activation links: a unit whose
  pre-activation difference is >= 0 on the whole domain is active in B whenever it is in A
  (delta^B >= delta^A), <= 0 gives delta^B <= delta^A (at z = 0 both phases have the same value,
  so no network value is cut off).
* :func:`twin_constraints` (resilience, e = b - a in [-E, E]): Dense differences intersected with
  the copies' bounds ([L^B - U^A, U^B - L^A]); for a ReLU with dz in [l, u] the convex hull of
  {(dz, dh) : dh between 0 and dz}:

      l (u - dz) / (u - l) <= dh <= u (dz - l) / (u - l)     (l < 0 < u),
      dz <= dh <= 0 (u <= 0),    0 <= dh <= dz (l >= 0),

  and the Lipschitz chain |dh^l| <= G^l |e| with G^1 = |W^1|, G^{l+1} = |W^{l+1}| D^l G^l (D^l zeroes
  the units off in both copies), written -G^l_j . t <= dh^l_j <= G^l_j . t with model terms t_i >= |e_i|.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence, cast

import numpy as np
import pyomo.environ as pyo

from ..errors import UnsupportedError
from ..layers import Weighted
from ..network import Network
from .network import NetworkEncoding
from .terms import Terms, constraint_list, is_number, new_binaries, new_vars

__all__ = [
    "NORM_BALLS",
    "norm_epigraph",
    "add_norm_ball",
    "output_functional",
    "functional_bounds",
    "functional_difference",
    "logit_terms",
    "add_margin_floor",
    "Margin",
    "encode_margin",
    "class_margins",
    "interval_image",
    "activation_difference",
    "difference_cuts",
    "twin_constraints",
]

#: the norms the encodings write linearly ("inf" and "1")
NORM_BALLS = ("inf", "1")


def _check_norm(norm: str) -> None:
    """Only "inf" and "1" have linear encodings (an L2 ball is not a MILP constraint)."""
    if norm not in NORM_BALLS:
        raise UnsupportedError(f"no linear encoding of the norm {norm!r} (use 'inf' or '1')")


# ============================================================================ norms
def _abs_rows(cons: pyo.ConstraintList, bound: Any, a: Any, b: Any) -> None:
    """bound >= b - a and bound >= a - b, i.e. bound >= |b - a|."""
    cons.add(bound >= b - a)
    cons.add(bound >= a - b)


def norm_epigraph(
    block: pyo.Block,
    a: np.ndarray,
    b: np.ndarray,
    width: np.ndarray,
    norm: str,
    *,
    name: str = "norm",
    l1_name: str = "t",
    inf_name: str = "s",
) -> tuple[Any, Any]:
    """The expression ||b - a|| (sum_i t_i for "1", s for "inf", module docstring) and its auxiliary
    variables (the object array t, or the variable s); ``width`` bounds |b_i - a_i|."""
    _check_norm(norm)
    n = b.size
    cons = constraint_list(block, name)
    if norm == "1":
        t = new_vars(block, l1_name, np.zeros(n), width)
        for i in range(n):
            _abs_rows(cons, t[i], a[i], b[i])
        return pyo.quicksum(t), t
    s = new_vars(block, inf_name, np.zeros(1), np.array([float(width.max())]))[0]
    for i in range(n):
        _abs_rows(cons, s, a[i], b[i])
    return s, s


def add_norm_ball(block: pyo.Block, name: str, x_terms: Terms, center: np.ndarray, radius: Any, norm: str) -> None:
    """Constrain ||x' - center|| <= radius (a float or a Pyomo variable) for the given norm.

    L-inf with a variable radius: -e <= x'_i - c_i <= e. L1: t_i >= +-(x'_i - c_i), sum t_i <= e.
    (An L-inf ball of fixed radius is already the variables' box and adds nothing.)
    """
    _check_norm(norm)
    xs = x_terms.expr.ravel()
    lo, hi = x_terms.lower.ravel(), x_terms.upper.ravel()
    cons = constraint_list(block, f"{name}_ball")
    if norm == "inf":
        if isinstance(radius, (int, float)):
            return
        for i, xi in enumerate(xs):
            if is_number(xi):
                continue
            _abs_rows(cons, radius, float(center[i]), xi)
        return
    tmax = np.maximum(np.abs(hi - center), np.abs(lo - center))
    t = new_vars(block, f"{name}_t", np.zeros_like(tmax), tmax)
    for i, xi in enumerate(xs):
        _abs_rows(cons, t[i], float(center[i]), xi)
    cons.add(pyo.quicksum(t.tolist()) <= radius)


# ============================================================================ output functionals, margins
def output_functional(y: np.ndarray, coef: np.ndarray) -> Any:
    """c^T y over the (flat) output terms y, skipping zero coefficients."""
    return sum(float(c) * y[k] for k, c in enumerate(coef) if c != 0.0)


def functional_bounds(coef: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> tuple[float, float]:
    """Interval [min, max] of c^T y for y in the box [lower, upper]."""
    lo = float(np.where(coef > 0, coef * lower, coef * upper).sum())
    hi = float(np.where(coef > 0, coef * upper, coef * lower).sum())
    return lo, hi


def functional_difference(ya: np.ndarray, yb: np.ndarray, coef: np.ndarray) -> Any:
    """c^T (y^B - y^A) of two copies' (flat) output terms, skipping zero coefficients."""
    return sum(float(c) * (yb[k] - ya[k]) for k, c in enumerate(coef) if c != 0.0)


def logit_terms(t: Terms) -> tuple[list[Any], np.ndarray, np.ndarray]:
    """The logits as a list with their bounds; a single logit l is read as the two logits (0, l)."""
    e, lo, hi = t.expr.ravel(), t.lower.ravel(), t.upper.ravel()
    if e.size == 1:
        return [0.0, e[0]], np.array([0.0, lo[0]]), np.array([0.0, hi[0]])
    return list(e), lo, hi


def add_margin_floor(cons: pyo.ConstraintList, z: Sequence[Any], m: int, rhs: Any) -> None:
    """z_m >= rhs + z_i for every i != m (rhs a float or a model term). Logits that are constants on the box
    (every unit stable) make a row a plain truth value: a true one is left out, a false one is an explicitly
    infeasible row (Pyomo refuses a bare boolean)."""
    for i in range(len(z)):
        if i != m:
            row = z[m] >= rhs + z[i]
            if isinstance(row, (bool, np.bool_)):
                if not row:
                    cons.add(pyo.Constraint.Infeasible)
                continue
            cons.add(row)


@dataclass
class Margin:
    """The margin term m = z_c - max_{k in R} z_k inside a model, with its bounds."""

    expr: Any
    lower: float
    upper: float
    rivals: list[int]
    binaries: list[Any]


def encode_margin(block: pyo.Block, name: str, outputs: Terms, cls: int, prune: bool = True) -> Margin:
    """Encode the margin m = z_c - max_{k in R} z_k of class ``cls`` over the logits ``outputs``.

    R are the rivals k != c with U_k >= L_c (``prune``; all k != c otherwise). The maximum is one
    variable r and one binary d_k per rival, big-M from the output bounds:

        r <= z_k + (U_R - L_k)(1 - d_k)  (k in R),    sum_k d_k = 1,    U_R = max_{k in R} U_k.

    (r >= z_k is not needed when m is minimised.) One rival needs no binary; no rival gives the
    constant-free z_c with the bounds that prove the margin positive. One logit z (class 1 iff
    z > 0): m = z for c = 1, -z for c = 0.

    ``prune`` keeps every margin <= 0 exact (and the verdict) but may over-state a positive worst
    margin: pass ``prune=False`` for the exact value.
    """
    z, L, U = outputs.expr.ravel(), outputs.lower.ravel(), outputs.upper.ravel()
    if z.size == 1:
        sign = 1.0 if cls == 1 else -1.0
        lo, hi = (L[0], U[0]) if cls == 1 else (-U[0], -L[0])
        return Margin(sign * z[0], float(lo), float(hi), [1 - cls], [])
    rivals = [k for k in range(z.size) if k != cls and (U[k] >= L[cls] or not prune)]
    others = np.arange(z.size) != cls
    if not rivals:  # the bounds alone prove the margin positive; the expression is never solved
        return Margin(z[cls], float(L[cls] - U[others].max()), float(U[cls] - L[others].max()), [], [])
    if len(rivals) == 1:
        k = rivals[0]
        return Margin(z[cls] - z[k], float(L[cls] - U[k]), float(U[cls] - L[k]), rivals, [])
    UR = float(U[rivals].max())
    LR = float(L[rivals].max())
    r = new_vars(block, f"{name}_r", np.array([LR]), np.array([UR]))[0]
    d = new_binaries(block, f"{name}_d", (len(rivals),))
    cons = constraint_list(block, f"{name}_max")
    for t, k in enumerate(rivals):
        cons.add(r <= z[k] + (UR - float(L[k])) * (1 - d[t]))
    cons.add(pyo.quicksum(d.tolist()) == 1)
    return Margin(z[cls] - r, float(L[cls] - UR), float(U[cls] - LR), rivals, d.tolist())


def class_margins(z: np.ndarray, cls: int | np.ndarray) -> np.ndarray:
    """Per row of logits z (N, C >= 2): z_c - max_{k != c} z_k (``cls`` one class or one per row)."""
    n = z.shape[0]
    c = np.broadcast_to(np.asarray(cls), (n,))
    zc = z[np.arange(n), c]
    other = z.copy()
    other[np.arange(n), c] = -np.inf
    return zc - other.max(axis=1)


# ============================================================================ two copies
def interval_image(J: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """[J+ lo + J- hi, J+ hi + J- lo]: the interval of J d for d in [lo, hi]."""
    Jp, Jn = np.maximum(J, 0.0), np.minimum(J, 0.0)
    return Jp @ lo + Jn @ hi, Jp @ hi + Jn @ lo


def activation_difference(lo: np.ndarray, hi: np.ndarray, alpha: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Interval of ReLU/LeakyReLU(z + dz) - ReLU/LeakyReLU(z) = t dz, t in [alpha, 1], dz in [lo, hi]."""
    corners = np.stack([lo, alpha * lo, hi, alpha * hi])
    return corners.min(axis=0), corners.max(axis=0)


def difference_cuts(
    block: pyo.Block,
    net: Network,
    ea: NetworkEncoding,
    eb: NetworkEncoding,
    d_lo: np.ndarray,
    d_hi: np.ndarray,
    name: str = "diff_cuts",
) -> None:
    """Valid cuts tying copy B (input a + d, d in [d_lo, d_hi]) to copy A (input a), module docstring:
    every layer value difference in its propagated interval, and the activation links of the units
    whose pre-activation difference has one sign. (Lattice check: d = e_l exactly; in a 2-layer net
    every first-layer difference is then the constant W_jl.)"""
    dlo, dhi = np.asarray(d_lo, dtype=np.float64).copy(), np.asarray(d_hi, dtype=np.float64).copy()
    cons = pyo.ConstraintList()
    block.add_component(name, cons)
    for i, layer in enumerate(net.layers):
        if layer.gated:
            ba, bb = ea.binaries[i], eb.binaries[i]
            if ba is not None and bb is not None:
                for j, (a, b) in enumerate(zip(ba.ravel(), bb.ravel())):
                    if a is None or b is None:
                        continue
                    if dlo.flat[j] >= 0.0:
                        cons.add(b >= a)
                    if dhi.flat[j] <= 0.0:
                        cons.add(b <= a)
            dlo, dhi = activation_difference(dlo, dhi, layer.negative_slope)
        elif layer.affine:
            dlo, dhi = interval_image(layer.linear_matrix(net.shapes[i]), dlo, dhi)
        else:
            continue  # Identity / Flatten keep the differences
        a_, b_ = ea.terms[i + 1].expr.ravel(), eb.terms[i + 1].expr.ravel()
        for j in range(a_.size):
            if is_number(a_[j]) and is_number(b_[j]):
                continue
            cons.add(pyo.inequality(float(dlo[j]), b_[j] - a_[j], float(dhi[j])))


def twin_constraints(
    block: pyo.Block,
    net: Network,
    enc_a: NetworkEncoding,
    enc_b: NetworkEncoding,
    e_bound: np.ndarray,
    e_abs: np.ndarray,
    name: str = "twin",
) -> int:
    """The twin constraints of the module docstring between copies A (input a) and B (input b), with
    b - a in [-e_bound, e_bound] and model terms ``e_abs[i]`` >= |b_i - a_i|; returns their number.
    Ties Dense and ReLU layers (Flatten and Identity pass through) and stops at any other layer (the
    constraints added so far remain valid)."""
    cons = constraint_list(block, name)
    dl, du = -np.asarray(e_bound, float).ravel(), np.asarray(e_bound, float).ravel()
    G = np.eye(dl.size)  # |dx| <= G @ e_abs, elementwise, for the current layer's values
    count = 0
    for i, layer in enumerate(net.layers):
        za, zb = enc_a.terms[i].flat(), enc_b.terms[i].flat()
        if layer.unit_name == "neurons":  # Dense
            layer = cast(Weighted, layer)
            dl, du = interval_image(layer.weight, dl, du)
            oa, ob = enc_a.terms[i + 1].flat(), enc_b.terms[i + 1].flat()
            dl = np.maximum(dl, ob.lower - oa.upper)
            du = np.minimum(du, ob.upper - oa.lower)
            G = np.abs(layer.weight) @ G
        elif layer.piece_kind == "relu":
            ha, hb = enc_a.terms[i + 1].flat(), enc_b.terms[i + 1].flat()
            off = (za.upper <= 0) & (zb.upper <= 0)
            for j in range(dl.size):
                l, u = float(dl[j]), float(du[j])
                both_on = za.lower[j] >= 0 and zb.lower[j] >= 0
                if both_on or off[j]:
                    continue  # both copies linear here: dh is dz or 0 already
                dz = zb.expr[j] - za.expr[j]
                dh = hb.expr[j] - ha.expr[j]
                if u <= 0:
                    cons.add(dh >= dz)
                    cons.add(dh <= 0)
                elif l >= 0:
                    cons.add(dh >= 0)
                    cons.add(dh <= dz)
                else:
                    cons.add((u - l) * dh <= u * (dz - l))
                    cons.add((u - l) * dh >= l * (u - dz))
                lip = [(float(g), e) for g, e in zip(G[j], e_abs) if g > 0]
                if lip:
                    bound = pyo.quicksum(g * e for g, e in lip)
                    cons.add(dh <= bound)
                    cons.add(dh >= -bound)
                count += 4
            dl, du = np.minimum(0.0, dl), np.maximum(0.0, du)  # the ReLU hull of {0, dz}
            G = G * (~off)[:, None]
        elif layer.passthrough:
            continue
        else:
            break  # other layer types: stop tying (the constraints added so far remain valid)
    return count
