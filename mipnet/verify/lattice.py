"""The exact lattice step check of a one-hidden-layer ReLU net, with one binary per unit at most.

Net (leading and trailing elementwise Normalize layers folded in): f(x) = c^T (W2 ReLU(W1 x + b1) + b2).
For an integer feature l and direction s (+1 increasing, -1 decreasing) the lattice check is

    min  s (f(x + e_l) - f(x))   over x in the domain with x_l <= upper_l - 1.

Unit j sees z_j = W1_j x + b1_j and z_j + delta_j with delta_j = W1_jl, so its share of the step is

    kappa_j (ReLU(z_j + delta_j) - ReLU(z_j)) = omega_j e_j,    e_j = clamp((z_j - o_j) / |delta_j|, 0, 1),

with kappa_j = s (c^T W2)_j, omega_j = kappa_j delta_j and o_j = -max(delta_j, 0): a ramp of width
|delta_j| in z_j (delta_j > 0: ReLU(z + delta) - ReLU(z) = delta e; delta_j < 0: = delta e as well).
Write t_j = (z_j - o_j) / |delta_j| in [T_lo, T_hi] (from the bounds of z_j). The objective is
sum_j omega_j e_j with e_j in [0, 1] and only the side of the ramp that the minimiser pushes on:

* omega_j > 0 (the minimiser wants e_j small): e_j >= clamp(t_j) = max(0, min(1, t_j)), i.e.
  e_j >= 0 and (e_j >= 1 or e_j >= t_j): with a binary beta_j, e_j >= beta_j, e_j >= t_j - T_hi beta_j.
  No binary when T_hi <= 1 (e_j >= max(0, t_j) is convex).
* omega_j < 0 (the minimiser wants e_j large): e_j <= min(1, max(0, t_j)), i.e. e_j <= 1 and
  (e_j <= 0 or e_j <= t_j): with a binary gamma_j, e_j <= gamma_j, e_j <= t_j - T_lo (1 - gamma_j).
  No binary when T_lo >= 0 (e_j <= min(1, t_j) is concave).

Exact: at the optimum every e_j sits on its ramp, and each one-sided description contains the ramp's
graph. Units with T_hi <= 0 or omega_j = 0 contribute 0, units with T_lo >= 1 contribute omega_j.
Against the general check (two copies of the network, 2 binaries and 2 ReLU outputs per unit) this
model has x, one e_j and at most one binary per unit, and no big-M on the outputs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyomo.environ as pyo

from ..domain import Domain
from ..encode import input_terms
from ..encode.terms import Terms, constraint_list, new_binaries, new_vars
from ..layers import Dense, Normalize, ReLU
from ..network import Network

__all__ = ["ShallowNet", "shallow_form", "lattice_step_model"]


@dataclass
class ShallowNet:
    """f(x) = W2 ReLU(W1 x + b1) + b2 with every elementwise scaling folded in; ``hidden`` is the
    index of the first Dense layer in the original network (its bounds are the bounds of z)."""

    W1: np.ndarray
    b1: np.ndarray
    W2: np.ndarray
    b2: np.ndarray
    hidden: int


def shallow_form(net: Network) -> ShallowNet | None:
    """The network as one hidden ReLU layer (Normalize* Dense ReLU Dense Normalize*), else None."""
    layers = list(net.layers)
    i = 0
    scale = np.ones(net.n_inputs)
    offset = np.zeros(net.n_inputs)
    while i < len(layers) and isinstance(layers[i], Normalize):
        sc, of = np.broadcast_to(layers[i].scale, scale.shape), np.broadcast_to(layers[i].offset, scale.shape)
        scale, offset = sc * scale, sc * offset + of
        i += 1
    rest = layers[i:]
    if len(rest) < 3 or not (isinstance(rest[0], Dense) and type(rest[1]) is ReLU and isinstance(rest[2], Dense)):
        return None
    tail = rest[3:]
    if not all(isinstance(t, Normalize) for t in tail):
        return None
    W1 = rest[0].weight * scale[None, :]
    b1 = rest[0].bias + rest[0].weight @ offset
    W2, b2 = rest[2].weight.copy(), rest[2].bias.copy()
    for t in tail:
        sc = np.broadcast_to(t.scale, b2.shape)
        W2, b2 = sc[:, None] * W2, sc * b2 + np.broadcast_to(t.offset, b2.shape)
    return ShallowNet(W1, b1, W2, b2, i)


def lattice_step_model(shallow: ShallowNet, domain: Domain, l: int, s: int, coef: np.ndarray,
                       z_bounds: tuple[np.ndarray, np.ndarray] | None = None,
                       ) -> tuple[pyo.ConcreteModel, Terms, int]:
    """The model of the module docstring: (model with objective ``obj``, input Terms, number of binaries).

    ``z_bounds``: valid bounds of W1 x + b1 on the whole domain (e.g. LP-tightened); they are
    intersected with the interval bounds on the check's box (x_l <= upper_l - 1)."""
    m = pyo.ConcreteModel()
    upper = domain.upper.copy()
    upper[l] = np.floor(domain.upper[l] + 1e-9) - 1
    x = input_terms(m, domain, upper=upper, name="x")
    W1, b1 = shallow.W1, shallow.b1
    Wp, Wn = np.maximum(W1, 0.0), np.minimum(W1, 0.0)
    zlo = Wp @ x.lower + Wn @ x.upper + b1
    zhi = Wp @ x.upper + Wn @ x.lower + b1
    if z_bounds is not None:
        zlo, zhi = np.maximum(zlo, z_bounds[0]), np.minimum(zhi, z_bounds[1])
    delta = W1[:, l]
    kappa = s * (coef @ shallow.W2)
    omega = kappa * delta
    width = np.abs(delta)
    o = -np.maximum(delta, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        t_lo = np.where(width > 0, (zlo - o) / width, 0.0)
        t_hi = np.where(width > 0, (zhi - o) / width, 0.0)
    live = (omega != 0.0) & (width > 0) & (t_hi > 0.0)
    constant = float(omega[live & (t_lo >= 1.0)].sum())
    ramp = np.flatnonzero(live & (t_lo < 1.0))
    e = new_vars(m, "e", np.zeros(ramp.size), np.ones(ramp.size))
    pos = [k for k, j in enumerate(ramp) if omega[j] > 0 and t_hi[j] > 1.0]
    neg = [k for k, j in enumerate(ramp) if omega[j] < 0 and t_lo[j] < 0.0]
    beta = new_binaries(m, "beta", (len(pos),))
    gamma = new_binaries(m, "gamma", (len(neg),))
    binary = {k: beta[q] for q, k in enumerate(pos)} | {k: gamma[q] for q, k in enumerate(neg)}
    cons = constraint_list(m, "ramp")
    xe = x.expr
    for k, j in enumerate(ramp):
        z = sum(float(W1[j, i]) * xe[i] for i in np.flatnonzero(W1[j])) + float(b1[j])
        t = (z - float(o[j])) / float(width[j])
        b = binary.get(k)
        if omega[j] > 0:  # e >= clamp(t): e >= t, or (beta = 1) e >= 1
            cons.add(e[k] >= t if b is None else e[k] >= t - float(t_hi[j]) * b)
            if b is not None:
                cons.add(e[k] >= b)
        else:  # e <= clamp(t): e <= t, or (gamma = 0) e <= 0
            cons.add(e[k] <= t if b is None else e[k] <= t - float(t_lo[j]) * (1 - b))
            if b is not None:
                cons.add(e[k] <= b)
    m.obj = pyo.Objective(expr=constant + sum(float(omega[j]) * e[k] for k, j in enumerate(ramp)),
                          sense=pyo.minimize)
    return m, x, len(pos) + len(neg)
