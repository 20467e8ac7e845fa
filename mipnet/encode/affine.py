"""Affine layers as sparse *connections*, encoded with constant or variable weights.

Every parametrised affine layer (Dense, Conv2D) and AvgPool2D is written as a list of connections
(j, k, i, c): output j receives c * W_k * x_i, plus the bias b_{beta(j)}:

    z_j = b_{beta(j)} + sum_{(j,k,i,c)} c * W_k * x_i

Dense: k = (j, i), c = 1.  Conv2D: k = (o, ch, p, q), i the input pixel under the kernel at output
position j = (o, r, s) (padding pixels dropped), c = 1.  AvgPool2D: no weight, c = 1/divisor.

Each product W_k * x_i is, depending on what is variable,
  * W constant, x variable  -> the linear term (c W_k) x_i            (verification)
  * W variable, x constant  -> the linear term (c x_i) W_k            (training, first layer)
  * both variable           -> ``product(W_k, x_i)`` supplied by the caller: an exact
                               linearisation (quantized weights: binary x bounded continuous) or
                               the bilinear term itself for nonconvex MIQCP solvers.
Bounds are interval products summed per output: with W in [wl, wu] and x in [xl, xu],
W x in [min(wl xl, wl xu, wu xl, wu xu), max(...)], which is sound for every weight in its box.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Protocol

import numpy as np
import pyomo.environ as pyo

from ..errors import UnsupportedError
from ..layers import Connections, Layer
from ..layers.base import rounding_slack
from .sound_sums import sound_affine_bounds
from .terms import Terms, constraint_list, new_vars


def connections(layer: Layer, input_shape: tuple[int, ...]) -> Connections:
    """The connection list of a Dense, Conv2D or AvgPool2D layer (:meth:`mipnet.layers.Layer.connections`)."""
    return layer.connections(tuple(input_shape))


@dataclass
class VariableWeights:
    """A layer's weights and bias as Pyomo terms (object arrays shaped like the layer's) with boxes."""

    weight: np.ndarray
    bias: np.ndarray
    w_lower: np.ndarray
    w_upper: np.ndarray
    b_lower: np.ndarray
    b_upper: np.ndarray


class ProductRule(Protocol):
    def __call__(self, block: pyo.Block, w: Any, w_lo: float, w_hi: float, x: Any, x_lo: float, x_hi: float) -> Any: ...


def bilinear_product(block: pyo.Block, w: Any, w_lo: float, w_hi: float, x: Any, x_lo: float, x_hi: float) -> Any:
    """The exact bilinear term w * x (nonconvex: only MIQCP solvers such as Gurobi or SCIP take it)."""
    return w * x


def _interval_products(wl: np.ndarray, wu: np.ndarray, xl: np.ndarray, xu: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    cands = np.stack([wl * xl, wl * xu, wu * xl, wu * xu])
    return cands.min(axis=0), cands.max(axis=0)


def encode_affine(
    block: pyo.Block,
    name: str,
    layer: Layer,
    inp: Terms,
    weights: VariableWeights | None = None,
    product: Callable[..., Any] | None = None,
    out_bounds: tuple[np.ndarray, np.ndarray] | None = None,
    as_variables: bool = True,
) -> Terms:
    """Encode z = affine(x) for a Dense, Conv2D or AvgPool2D layer; returns the output Terms.

    With ``as_variables`` the outputs are new variables z_j tied by equalities z_j = expr_j (compact
    when z feeds a ReLU's three inequalities); otherwise the expressions themselves.
    """
    conn = connections(layer, inp.shape)
    x = inp.flat()
    xl, xu = x.lower[conn.in_idx], x.upper[conn.in_idx]
    x_const = np.vectorize(lambda e: isinstance(e, (int, float, np.floating)), otypes=[bool])(x.expr)[conn.in_idx]
    n_out = int(np.prod(conn.out_shape))
    has_w = conn.w_idx >= 0
    if weights is None:
        params = layer.parameters()
        wv = np.where(has_w, params["weight"].ravel()[np.maximum(conn.w_idx, 0)] if "weight" in params else 1.0, 1.0)
        wl = wu = wv
        if "bias" in params:
            bl = bu = params["bias"].ravel()[conn.bias_idx]
        else:
            bl = bu = np.zeros(n_out)
        w_var = np.zeros(conn.w_idx.size, dtype=bool)
    else:
        wl = np.where(has_w, weights.w_lower.ravel()[np.maximum(conn.w_idx, 0)], 1.0)
        wu = np.where(has_w, weights.w_upper.ravel()[np.maximum(conn.w_idx, 0)], 1.0)
        bl = np.where(conn.bias_idx >= 0, weights.b_lower.ravel()[np.maximum(conn.bias_idx, 0)], 0.0)
        bu = np.where(conn.bias_idx >= 0, weights.b_upper.ravel()[np.maximum(conn.bias_idx, 0)], 0.0)
        w_var = has_w & (wl != wu)
    if weights is None and np.all(conn.coef == 1.0):  # fixed weights: bounds rounded outward, exact where they are
        lower, upper = sound_affine_bounds(wv, xl, xu, bl, conn.out_idx, n_out)
    else:  # variable weights (training: big-M values over the data's fixed rows) or pooling coefficients
        plo, phi = _interval_products(wl, wu, xl, xu)
        lower = bl + np.bincount(conn.out_idx, weights=conn.coef * plo, minlength=n_out)
        upper = bu + np.bincount(conn.out_idx, weights=conn.coef * phi, minlength=n_out)
        if weights is None:  # pooling: the float sums, widened by their round-off
            with np.errstate(invalid="ignore"):
                mags = np.abs(conn.coef) * np.abs(wv) * np.maximum(np.abs(xl), np.abs(xu))
            mag = np.abs(bl) + np.bincount(conn.out_idx, weights=np.where(np.isnan(mags), 0.0, mags), minlength=n_out)
            slack = rounding_slack(mag, np.bincount(conn.out_idx, minlength=n_out))
            lower, upper = lower - slack, upper + slack
    if out_bounds is not None:
        lower = np.maximum(lower, np.asarray(out_bounds[0], float).ravel())
        upper = np.minimum(upper, np.asarray(out_bounds[1], float).ravel())
        upper = np.maximum(upper, lower)

    order = np.argsort(conn.out_idx, kind="stable")
    starts = np.searchsorted(conn.out_idx[order], np.arange(n_out + 1))
    wexpr = weights.weight.ravel() if weights is not None else None
    bexpr = weights.bias.ravel() if weights is not None else None
    exprs = np.empty(n_out, dtype=object)
    xe = x.expr
    for j in range(n_out):
        idx = order[starts[j] : starts[j + 1]]
        parts: list[Any] = []
        const = 0.0
        if bexpr is None:  # no variable weights (``weights is None``)
            const = float(bl[j])
        elif conn.bias_idx[j] >= 0:
            be = bexpr[conn.bias_idx[j]]
            if isinstance(be, (int, float, np.floating)):
                const = float(be)
            else:
                parts.append(be)
        for k in idx:
            xi = xe[conn.in_idx[k]]
            c = conn.coef[k]
            if not w_var[k]:
                w = float(c * wl[k])
                if w == 0.0:
                    continue
                if x_const[k]:
                    const += w * float(xi)
                else:
                    parts.append(w * xi)
            else:
                assert wexpr is not None  # w_var is all False without variable weights
                wk = wexpr[conn.w_idx[k]]
                if x_const[k]:
                    xv = float(xi)
                    if xv != 0.0:
                        parts.append(float(c * xv) * wk)
                else:
                    if product is None:
                        raise UnsupportedError(
                            "a product of a variable weight and a variable activation needs a hypothesis "
                            "class (quantized for an exact MILP, continuous for a nonconvex solver)"
                        )
                    term = product(block, wk, float(wl[k]), float(wu[k]), xi, float(xl[k]), float(xu[k]))
                    parts.append(float(c) * term)
        exprs[j] = (pyo.quicksum(parts) + const) if parts else const
    const_mask = np.array([isinstance(e, (int, float, np.floating)) for e in exprs], dtype=bool)
    if as_variables and not const_mask.all():
        z = new_vars(block, f"{name}_z", lower, upper)
        cons = constraint_list(block, f"{name}_def")
        for jz in np.flatnonzero(~const_mask):
            cons.add(z[jz] == exprs[jz])
        out = np.where(const_mask, exprs, z)
    else:
        out = exprs
    # constants carry exact bounds
    for jc in np.flatnonzero(const_mask):
        lower[jc] = upper[jc] = float(exprs[jc])
    return Terms(out.reshape(conn.out_shape), lower.reshape(conn.out_shape), upper.reshape(conn.out_shape))


def encode_normalize(scale: np.ndarray, offset: np.ndarray, inp: Terms) -> Terms:
    """z = scale * x + offset, elementwise (no new variables)."""
    s = np.broadcast_to(scale, inp.shape)
    o = np.broadcast_to(offset, inp.shape)
    expr = np.empty(inp.shape, dtype=object)
    for idx in np.ndindex(inp.shape):
        e = inp.expr[idx]
        expr[idx] = float(s[idx]) * (float(e) if isinstance(e, (int, float, np.floating)) else e) + float(o[idx])
    a, b = s * inp.lower + o, s * inp.upper + o
    return Terms(expr, np.minimum(a, b), np.maximum(a, b))
