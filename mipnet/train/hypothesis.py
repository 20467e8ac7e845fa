"""Hypothesis classes of the training MILP: the weight variables of each parametrised layer and the product rule.

**Hypothesis classes** (the product rule and the weight variables):

* ``sign`` (one hidden layer, one output): W_0 in [-B_w, B_w], output weights v_j = p_j - q_j with
  binaries p_j + q_j <= 1 (positive homogeneity: v_j ReLU(w_j x + b_j) = sign(v_j) ReLU(|v_j| w_j x
  + |v_j| b_j)). v_j = 0 prunes neuron j and forces its weights and bias to 0:
  |W_0[j, i]| <= B_w (p_j + q_j), |b_0[j]| <= B_b (p_j + q_j).
* ``quantized`` (any depth and outputs): W_0 continuous; W_l (l >= 1) = s_l k with k in {-Q..Q}
  written k = -Q + sum_t 2^t beta_t, beta binary, sum_t 2^t beta_t <= 2Q.
* ``continuous``: every W_l in [-B_w, B_w]; the products stay bilinear (Gurobi / SCIP only).

Exact product of a binary beta and a bounded continuous h in [L, U] (sign and quantized classes):

    y = beta h:  L beta <= y <= U beta,   h - U (1 - beta) <= y <= h - L (1 - beta).

The same rule writes the layer switches' g = r a + (1 - r) h (:func:`_switched_value`, used by
:meth:`~.formulation.TrainingProblem._switch_hook`): y1 = r a and y2 = (1 - r) h, each exact.

Here: :class:`LayerParams` (a layer's weight and bias terms with their bounds and binary expansion),
:func:`layer_params` (the variables of every parametrised layer of a template), :class:`ExpansionProduct` (the
product rule for :func:`~mipnet.encode.encode_network`), :func:`add_product_rows` (the four rows of y = beta x).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyomo.environ as pyo

from ..encode import Terms, VariableWeights
from ..encode.terms import constraint_list, is_number, new_binaries, new_vars
from ..errors import UnsupportedError
from ..layers import Weighted
from ..network import Network
from .config import TrainConfig

#: the former name of :func:`mipnet.encode.terms.is_number` (kept: mipnet.train.formulation re-exports it)
_is_num = is_number


@dataclass
class LayerParams:
    """The parameters of one Dense layer as Pyomo terms, with their representation.

    ``kind``: ``continuous`` (Var), ``sign`` (p - q) or ``quantized`` (s (-Q + sum 2^t beta_t)).
    ``expansion[k] = (scale, offset, [(coef, binary), ...])`` for discrete weight k (flat index).
    """

    kind: str
    weight: np.ndarray  # object (out, in)
    bias: np.ndarray  # object (out,)
    w_lower: np.ndarray
    w_upper: np.ndarray
    b_lower: np.ndarray
    b_upper: np.ndarray
    w_var: Any = None
    b_var: Any = None
    expansion: dict[int, tuple[float, float, list[tuple[float, Any]]]] = field(default_factory=dict)
    p: np.ndarray | None = None  # sign class binaries
    q: np.ndarray | None = None

    @property
    def shape(self) -> tuple[int, int]:
        return self.weight.shape

    def variable_weights(self) -> VariableWeights:
        return VariableWeights(self.weight, self.bias, self.w_lower, self.w_upper, self.b_lower, self.b_upper)

    @property
    def w_abs_max(self) -> np.ndarray:
        return np.maximum(np.abs(self.w_lower), np.abs(self.w_upper))


class ExpansionProduct:
    """The exact product rule of the sign and quantized classes, for :func:`encode_network`.

    w h = s (offset h + sum_t c_t (beta_t h)),  each beta_t h linearised exactly (module doc).
    """

    def __init__(self) -> None:
        self.expansion: dict[int, tuple[float, float, list[tuple[float, Any]]]] = {}
        self._count: dict[int, int] = {}

    def register(self, w: Any, scale: float, offset: float, bits: list[tuple[float, Any]]) -> None:
        self.expansion[id(w)] = (scale, offset, bits)

    def __call__(self, block: pyo.Block, w: Any, w_lo: float, w_hi: float, x: Any, x_lo: float, x_hi: float) -> Any:
        entry = self.expansion.get(id(w))
        if entry is None:
            raise UnsupportedError("a product of two continuous variables needs the continuous class (SCIP/Gurobi)")
        scale, offset, bits = entry
        k = self._count.get(id(block), 0)
        self._count[id(block)] = k + 1
        n = len(bits)
        y = new_vars(block, f"prod{k}", np.full(n, min(0.0, x_lo)), np.full(n, max(0.0, x_hi)))
        cons = constraint_list(block, f"prod{k}_def")
        parts = []
        for t, (c, beta) in enumerate(bits):
            add_product_rows(cons, y[t], beta, x, x_lo, x_hi)
            parts.append(c * y[t])
        expr = pyo.quicksum(parts)
        if offset != 0.0:
            expr = expr + offset * x
        return scale * expr if scale != 1.0 else expr


def add_product_rows(cons: pyo.ConstraintList, y: Any, beta: Any, x: Any, lo: float, hi: float) -> None:
    """y = beta x exactly for beta in {0, 1} and x in [lo, hi] (module docstring's product rule):
    lo beta <= y <= hi beta,  x - hi (1 - beta) <= y <= x - lo (1 - beta)."""
    cons.add(y <= hi * beta)
    cons.add(y >= lo * beta)
    cons.add(y <= x - lo * (1 - beta))
    cons.add(y >= x - hi * (1 - beta))


def _bits_for(levels: int) -> list[float]:
    """Binary-expansion coefficients 2^t with sum >= 2Q (k + Q in {0..2Q})."""
    n = int(np.ceil(np.log2(2 * levels + 1)))
    return [float(2**t) for t in range(n)]


def layer_params(
    model: pyo.ConcreteModel, template: Network, dense_idx: list[int], cfg: TrainConfig, product: Any
) -> list[LayerParams]:
    """The weight and bias terms of template layers ``dense_idx`` (in order) on ``model``: biases in
    [-B_b, B_b]; weights by the hypothesis class (module docstring), the first layer always continuous.
    Discrete weights are registered with ``product`` when it is an :class:`ExpansionProduct`."""
    params: list[LayerParams] = []
    m = model
    for l, i in enumerate(dense_idx):
        layer = template.layers[i]
        assert isinstance(layer, Weighted)  # dense_idx: the parametrised layers
        wshape = tuple(layer.weight.shape)
        n_out = wshape[0]
        blo, bhi = np.full(n_out, -cfg.bias_bound), np.full(n_out, cfg.bias_bound)
        b_var = new_vars(m, f"b{l}", blo, bhi)
        kind = "continuous"
        if l >= 1 and cfg.hypothesis == "sign":
            kind = "sign"
        elif l >= 1 and cfg.hypothesis == "quantized":
            kind = "quantized"
        if kind == "continuous":
            wlo, whi = np.full(wshape, -cfg.weight_bound), np.full(wshape, cfg.weight_bound)
            w_var = new_vars(m, f"W{l}", wlo, whi)
            params.append(LayerParams(kind, w_var, b_var, wlo, whi, blo, bhi, w_var, b_var))
            continue
        weight = np.empty(wshape, dtype=object)
        lp = LayerParams(kind, weight, b_var, np.zeros(wshape), np.zeros(wshape), blo, bhi, None, b_var)
        if kind == "sign":
            p = new_binaries(m, f"p{l}", wshape)
            q = new_binaries(m, f"q{l}", wshape)
            cons = constraint_list(m, f"pq{l}")
            for idx in np.ndindex(wshape):
                cons.add(p[idx] + q[idx] <= 1)
                weight[idx] = p[idx] - q[idx]
                product.register(weight[idx], 1.0, 0.0, [(1.0, p[idx]), (-1.0, q[idx])])
                lp.expansion[int(np.ravel_multi_index(idx, wshape))] = (1.0, 0.0, [(1.0, p[idx]), (-1.0, q[idx])])
            lp.p, lp.q = p, q
            lp.w_lower[:], lp.w_upper[:] = -1.0, 1.0
        else:
            Q, s = cfg.levels, cfg.scale
            coefs = _bits_for(Q)
            beta = new_binaries(m, f"beta{l}", wshape + (len(coefs),))
            cons = constraint_list(m, f"beta{l}_range")
            for idx in np.ndindex(wshape):
                bits = [(c, beta[idx + (t,)]) for t, c in enumerate(coefs)]
                if sum(coefs) > 2 * Q:
                    cons.add(sum(c * b for c, b in bits) <= 2 * Q)
                weight[idx] = s * (sum(c * b for c, b in bits) - Q)
                if not isinstance(product, ExpansionProduct):
                    continue
                product.register(weight[idx], s, -float(Q), bits)
                lp.expansion[int(np.ravel_multi_index(idx, wshape))] = (s, -float(Q), bits)
            lp.w_lower[:], lp.w_upper[:] = -s * Q, s * Q
        params.append(lp)
    return params


def _binary_times(block: pyo.Block, name: str, beta: Any, x: Terms) -> np.ndarray:
    """y = beta x elementwise, beta in {0, 1} (a binary or 1 - binary), x in [L, U]: the exact product
    rule L beta <= y <= U beta, x - U (1 - beta) <= y <= x - L (1 - beta); constants give c beta."""
    xe, L, U = x.expr.ravel(), x.lower.ravel(), x.upper.ravel()
    out = np.empty(xe.size, dtype=object)
    var_idx = [j for j in range(xe.size) if not is_number(xe[j])]
    for j in range(xe.size):
        if is_number(xe[j]):
            c = float(xe[j])
            out[j] = c * beta if c != 0.0 else 0.0
    if var_idx:
        y = new_vars(block, name, np.minimum(0.0, L[var_idx]), np.maximum(0.0, U[var_idx]))
        cons = constraint_list(block, f"{name}_def")
        for t, j in enumerate(var_idx):
            add_product_rows(cons, y[t], beta, xe[j], float(L[j]), float(U[j]))
            out[j] = y[t]
    return out.reshape(x.shape)


def _switched_value(block: pyo.Block, name: str, r: Any, a: Terms, h: Terms) -> Terms:
    """g = r a + (1 - r) h (module docstring), bounds [min(L_a, L_h), max(U_a, U_h)]."""
    on = _binary_times(block, f"{name}_on", r, a).ravel()
    off = _binary_times(block, f"{name}_off", 1 - r, h).ravel()
    g = np.empty(on.size, dtype=object)
    for j in range(on.size):
        if is_number(on[j]) and float(on[j]) == 0.0:
            g[j] = off[j]
        elif is_number(off[j]) and float(off[j]) == 0.0:
            g[j] = on[j]
        else:
            g[j] = on[j] + off[j]
    return Terms(g.reshape(a.shape), np.minimum(a.lower, h.lower), np.maximum(a.upper, h.upper))


__all__ = ["LayerParams", "ExpansionProduct", "add_product_rows", "layer_params"]
