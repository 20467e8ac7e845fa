"""The input gradient of a piecewise-linear network as exact MILP constraints (backward propagation).

(Formerly :mod:`mipnet.verify.gradient`, which remains as a deprecated re-export.)

For a network f = A_L o sigma o A_{L-1} o ... o sigma o A_1 (A_k affine with linear part W_k,
sigma = ReLU or LeakyReLU) and an output functional c (one logit, a logit difference, a regression
output), the gradient of c^T f at x is, backwards,

    g^L = c^T W_L,        g^{k} = (g^{k+1} * s_k) W_k,        s_k = alpha + (1 - alpha) a_k,

where a_k in {0, 1}^n is the activation pattern of the k-th activation layer, read from the forward
encoding's ReLU binaries (:func:`mipnet.encode.encode_network`): a stable-on unit has s = 1, a
stable-off unit s = alpha, an unstable unit the binary a_j of the forward encoding (h = z if a_j = 1,
h = alpha z if a_j = 0). At a kink (z_j = 0) both values are admitted: the encoding ranges over the
one-sided gradients of the adjacent regions, so a lower bound on the encoded gradient is a lower
bound on every directional slope.

The product q_j = g_j a_j of a bounded continuous g_j in [G_lo, G_hi] and a binary a_j is written
exactly with big-M from the interval bounds of g (the McCormick envelope is exact for a binary):

    G_lo a_j <= q_j <= G_hi a_j,        g_j - G_hi (1 - a_j) <= q_j <= g_j - G_lo (1 - a_j),

and the LeakyReLU factor is g_j s_j = alpha g_j + (1 - alpha) q_j. A constant g_j (e.g. the last
layer's, always constant) needs no product: g_j a_j is linear in a_j. Affine layers map
g -> W^T g with interval bounds lo' = W^{T+} lo + W^{T-} hi, hi' = W^{T+} hi + W^{T-} lo; every
non-constant result becomes a bounded variable tied by an equality, so the next product has its
big-M. Any affine layer type works (the linear part is the layer's own ``linear_map``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyomo.environ as pyo

from ..encode import NetworkEncoding, Terms, constraint_list, new_vars
from ..encode.terms import is_number
from ..errors import UnsupportedError
from ..gradients import batch_gradients
from ..layers import Layer
from ..network import Network

__all__ = ["GradientEncoding", "encode_gradient", "linear_matrix", "pattern_gradient", "check_gradient_support"]


@dataclass
class GradientEncoding:
    """The gradient Terms of the output functional w.r.t. the input of layer ``start`` (flat)."""

    gradient: Terms
    n_products: int  #: number of binary x continuous products linearised
    n_variables: int  #: number of auxiliary gradient variables


def linear_matrix(layer: Layer, input_shape: tuple[int, ...]) -> np.ndarray:
    """The Jacobian (n_out, n_in) of an affine layer, dense: A of its (A, c) with layer(x) = A x + c
    (:meth:`mipnet.layers.Layer.linear_matrix`, derived from the layer's one sparse ``linear_map``)."""
    return layer.linear_matrix(tuple(input_shape))


def check_gradient_support(net: Network, start: int = 0, stop: int | None = None) -> None:
    """Raise UnsupportedError unless layers start:stop are affine, ReLU, LeakyReLU, Identity or Flatten."""
    stop = len(net.layers) if stop is None else stop
    for i in range(start, stop):
        layer = net.layers[i]
        if not (layer.affine or layer.gated or layer.passthrough):
            raise UnsupportedError(
                f"layer {i} ({layer.kind}) has no exact gradient encoding: monotonicity certificates need "
                "affine, ReLU and LeakyReLU layers"
            )


def _affine_back(block: pyo.Block, name: str, J: np.ndarray, g: Terms) -> Terms:
    """g' = J^T g with interval bounds; non-constant entries become bounded variables."""
    ge, glo, ghi = g.expr.ravel(), g.lower.ravel(), g.upper.ravel()
    Jp, Jn = np.maximum(J, 0.0), np.minimum(J, 0.0)
    lo = Jp.T @ glo + Jn.T @ ghi
    hi = Jp.T @ ghi + Jn.T @ glo
    const = np.array([is_number(e) for e in ge])
    cval = np.where(const, np.array([float(e) if c else 0.0 for e, c in zip(ge, const)]), 0.0)
    base = J.T @ cval  # contribution of the constant entries
    var_rows = np.flatnonzero(~const)
    n_in = J.shape[1]
    out = np.empty(n_in, dtype=object)
    if var_rows.size == 0:
        out[:] = [float(v) for v in base]
        return Terms(out, base.copy(), base.copy())
    Jv = J[var_rows]  # (n_var_rows, n_in)
    dep = np.flatnonzero(np.any(Jv != 0.0, axis=0))
    for k in np.flatnonzero(~np.isin(np.arange(n_in), dep)):
        out[k] = float(base[k])
        lo[k] = hi[k] = base[k]
    if dep.size:
        v = new_vars(block, f"{name}_g", lo[dep], hi[dep])
        cons = constraint_list(block, f"{name}_gdef")
        for t, k in enumerate(dep):
            nz = np.flatnonzero(Jv[:, k])
            expr = pyo.quicksum((float(Jv[r, k]) * ge[var_rows[r]] for r in nz))
            cons.add(v[t] == expr + float(base[k]))
            out[k] = v[t]
    return Terms(out, lo, hi)


def _activation_back(
    block: pyo.Block, name: str, g: Terms, z: Terms, binaries: np.ndarray | None, alpha: float
) -> tuple[Terms, int]:
    """g' = g * (alpha + (1 - alpha) a) elementwise, exact; returns the Terms and the number of products."""
    ge, glo, ghi = g.expr.ravel(), g.lower.ravel(), g.upper.ravel()
    L = z.lower.ravel()
    bins = np.full(ge.size, None, dtype=object) if binaries is None else binaries.ravel()
    n = ge.size
    out = np.empty(n, dtype=object)
    lo, hi = np.empty(n), np.empty(n)
    prod_idx = []
    for j in range(n):
        a = bins[j]
        if a is None:  # stable, as decided by the forward encoder: on iff L >= 0
            s = 1.0 if L[j] >= 0 else alpha
            out[j] = s * float(ge[j]) if is_number(ge[j]) else (ge[j] if s == 1.0 else (0.0 if s == 0.0 else s * ge[j]))
            lo[j], hi[j] = (s * glo[j], s * ghi[j])
        elif is_number(ge[j]):
            c = float(ge[j])
            out[j] = (alpha * c + (1 - alpha) * c * a) if c != 0.0 else 0.0
            lo[j], hi[j] = min(c, alpha * c), max(c, alpha * c)
        else:
            prod_idx.append(j)
            corners = (glo[j], alpha * glo[j], ghi[j], alpha * ghi[j])  # s g over s in [alpha, 1]
            lo[j], hi[j] = min(corners), max(corners)
    if prod_idx:
        idx = np.asarray(prod_idx)
        qlo, qhi = np.minimum(glo[idx], 0.0), np.maximum(ghi[idx], 0.0)
        q = new_vars(block, f"{name}_q", qlo, qhi)
        cons = constraint_list(block, f"{name}_prod")
        for t, j in enumerate(idx):
            a, gj, Gl, Gh = bins[j], ge[j], float(glo[j]), float(ghi[j])
            cons.add(q[t] <= Gh * a)
            cons.add(q[t] >= Gl * a)
            cons.add(q[t] <= gj - Gl * (1 - a))
            cons.add(q[t] >= gj - Gh * (1 - a))
            out[j] = q[t] if alpha == 0.0 else alpha * gj + (1 - alpha) * q[t]
    shape = g.shape
    return Terms(out.reshape(shape), lo.reshape(shape), hi.reshape(shape)), len(prod_idx)


def encode_gradient(
    block: pyo.Block,
    net: Network,
    enc: NetworkEncoding,
    coef: np.ndarray,
    *,
    start: int = 0,
    stop: int | None = None,
    prefix: str = "G",
) -> GradientEncoding:
    """Encode the gradient of ``coef^T (layers start:stop)(u)`` w.r.t. the input u of layer ``start``.

    ``enc`` is the forward encoding of (at least) layers ``start:`` up to the last activation layer
    before ``stop`` (``encode_network(..., start=start)``); its binaries and its pre-activation bounds
    decide each unit's slope. Layers after the last encoded one must be affine (their gradient is
    constant). Returns the flat gradient Terms with sound bounds.
    """
    stop = len(net.layers) if stop is None else stop
    check_gradient_support(net, start, stop)
    coef = np.asarray(coef, dtype=np.float64).ravel()
    if coef.size != int(np.prod(net.shapes[stop])):
        raise UnsupportedError(
            f"the output coefficients have {coef.size} entries, layer {stop - 1} has "
            f"{int(np.prod(net.shapes[stop]))} outputs"
        )
    n_encoded = len(enc.terms) - 1
    g = Terms.constant(coef)
    n_products = 0
    n_vars_before = sum(1 for _ in block.component_data_objects(pyo.Var, descend_into=False))
    for i in range(stop - 1, start - 1, -1):
        layer = net.layers[i]
        k = i - start  # position in the encoding
        if layer.gated:
            if k >= n_encoded:
                raise UnsupportedError(f"layer {i} ({layer.kind}) is not in the forward encoding")
            alpha = layer.negative_slope
            g = g.reshape(enc.terms[k].shape)
            g, p = _activation_back(block, f"{prefix}{i}", g, enc.terms[k], enc.binaries[k], alpha)
            n_products += p
        elif layer.passthrough:
            g = g.reshape(net.shapes[i])
        else:  # affine
            J = linear_matrix(layer, net.shapes[i])
            g = _affine_back(block, f"{prefix}{i}", J, g.flat())
    n_vars = sum(1 for _ in block.component_data_objects(pyo.Var, descend_into=False)) - n_vars_before
    return GradientEncoding(g.flat(), n_products, n_vars)


def pattern_gradient(net: Network, X: np.ndarray, coef: np.ndarray) -> np.ndarray:
    """Numpy gradient of ``coef^T f`` at each row of X using the activation pattern z > 0 (N, n_in).

    The gradient of the region containing x (on a kink: the side with z > 0 counted off), the same
    quantity the MILP encodes for that pattern (:func:`mipnet.gradients.batch_gradients`).
    """
    check_gradient_support(net)
    return batch_gradients(net, X, coef)
