"""The exact lattice step check of a one-hidden-layer ReLU net, with one binary per unit at most.

Net (leading and trailing elementwise Normalize layers folded in): f(x) = c^T (W2 ReLU(W1 x + b1) + b2).
For an integer feature l and direction s (+1 increasing, -1 decreasing) the lattice check is

    min  s (f(x + e_l) - f(x))   over x in the domain with x_l <= upper_l - 1.

Unit j sees z_j = W1_j x + b1_j and z_j + delta_j with delta_j = W1_jl, so its share of the step is

    kappa_j (ReLU(z_j + delta_j) - ReLU(z_j)) = omega_j e_j,    e_j = clamp((z_j - o_j) / |delta_j|, 0, 1),

with kappa_j = s (c^T W2)_j, omega_j = kappa_j delta_j and o_j = -max(delta_j, 0): a ramp of width
|delta_j| in z_j (delta_j > 0: ReLU(z + delta) - ReLU(z) = delta e; delta_j < 0: = delta e as well).
The model works in the units of z (well scaled whatever |delta_j|): d_j = |delta_j| e_j in
[0, |delta_j|] is the clamp of r_j = z_j - o_j in [R_lo, R_hi] (from the bounds of z_j) to [0, |delta_j|],
and the objective is sum_j omega_j e_j = sum_j kappa_j sign(delta_j) d_j. Only the side of the ramp that
the minimiser pushes on is written:

* omega_j > 0 (the minimiser wants d_j small): d_j >= clamp(r_j), i.e. d_j >= r_j or d_j >= |delta_j|:
  with a binary beta_j, d_j >= r_j - R_hi beta_j, d_j >= |delta_j| beta_j. No binary when R_hi <= |delta_j|.
* omega_j < 0 (the minimiser wants d_j large): d_j <= clamp(r_j), i.e. d_j <= r_j or d_j <= 0:
  with a binary gamma_j, d_j <= r_j - R_lo (1 - gamma_j), d_j <= |delta_j| gamma_j. No binary when R_lo >= 0.

Exact: at the optimum every e_j sits on its ramp, and each one-sided description contains the ramp's
graph. Units with R_hi <= 0 or omega_j = 0 contribute 0, units with R_lo >= |delta_j| contribute omega_j.
Against the general check (two copies of the network, 2 binaries and 2 ReLU outputs per unit) this
model has x, one d_j and at most one binary per unit, and no big-M on the outputs. A solver that drops a
tiny coefficient |delta_j| only relaxes the model (d_j keeps its bounds): a proved bound stays valid, and
every witness is re-checked by the forward pass.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import numpy as np
import pyomo.environ as pyo

from ..domain import Domain
from ..encode import input_terms
from ..encode.terms import Terms, constraint_list, new_binaries, new_vars
from ..layers import Normalize, Weighted
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
    while i < len(layers) and layers[i].scaling:
        norm = cast(Normalize, layers[i])
        shape = tuple(net.input_shape)  # (a per-channel (C, 1) scale of a (C, L) input: broadcast, then flat)
        sc, of = (np.broadcast_to(v, shape).ravel() for v in (norm.scale, norm.offset))
        scale, offset = sc * scale, sc * offset + of
        i += 1
    rest = layers[i:]
    if len(rest) < 3 or not (
        rest[0].unit_name == "neurons" and rest[1].piece_kind == "relu" and rest[2].unit_name == "neurons"
    ):
        return None
    tail = [cast(Normalize, t) for t in rest[3:] if t.scaling]
    if len(tail) != len(rest) - 3:  # not all Normalize
        return None
    first, last = cast(Weighted, rest[0]), cast(Weighted, rest[2])
    W1 = first.weight * scale[None, :]
    b1 = first.bias + first.weight @ offset
    W2, b2 = last.weight.copy(), last.bias.copy()
    for t in tail:
        sc = np.broadcast_to(t.scale, b2.shape)
        W2, b2 = sc[:, None] * W2, sc * b2 + np.broadcast_to(t.offset, b2.shape)
    return ShallowNet(W1, b1, W2, b2, i)


def lattice_step_model(
    shallow: ShallowNet,
    domain: Domain,
    l: int,
    s: int,
    coef: np.ndarray,
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
    r_lo, r_hi = zlo - o, zhi - o  # bounds of r_j = z_j - o_j
    live = (omega != 0.0) & (width > 0) & (r_hi > 0.0)
    constant = float(omega[live & (r_lo >= width)].sum())
    ramp = np.flatnonzero(live & (r_lo < width))
    d = new_vars(m, "d", np.zeros(ramp.size), width[ramp])
    pos = [k for k, j in enumerate(ramp) if omega[j] > 0 and r_hi[j] > width[j]]
    neg = [k for k, j in enumerate(ramp) if omega[j] < 0 and r_lo[j] < 0.0]
    beta = new_binaries(m, "beta", (len(pos),))
    gamma = new_binaries(m, "gamma", (len(neg),))
    binary = {k: beta[q] for q, k in enumerate(pos)} | {k: gamma[q] for q, k in enumerate(neg)}
    cons = constraint_list(m, "ramp")
    xe = x.expr
    for k, j in enumerate(ramp):
        r = sum(float(W1[j, i]) * xe[i] for i in np.flatnonzero(W1[j])) + float(b1[j] - o[j])
        b = binary.get(k)
        if omega[j] > 0:  # d >= clamp(r): d >= r, or (beta = 1) d >= |delta|
            cons.add(d[k] >= r if b is None else d[k] >= r - float(r_hi[j]) * b)
            if b is not None:
                cons.add(d[k] >= float(width[j]) * b)
        else:  # d <= clamp(r): d <= r, or (gamma = 0) d <= 0
            cons.add(d[k] <= r if b is None else d[k] <= r - float(r_lo[j]) * (1 - b))
            if b is not None:
                cons.add(d[k] <= float(width[j]) * b)
    m.obj = pyo.Objective(
        expr=constant + sum(float(kappa[j] * np.sign(delta[j])) * d[k] for k, j in enumerate(ramp)), sense=pyo.minimize
    )
    return m, x, len(pos) + len(neg)
