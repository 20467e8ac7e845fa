"""Sound bounds on every layer's outputs over an input box: interval -> LP -> MIP tightening.

``bounds[i] = (lower, upper)`` bounds the output of layer i (for Dense/Conv2D: its pre-activations)
for every input x with lower_in <= x <= upper_in (and the domain's integrality, which only helps).

* **interval** arithmetic, layer by layer: for z = W x + b,
  lower = W^+ l + W^- u + b, upper = W^+ u + W^- l + b; monotone maps (activations, pooling) map
  endpoints (GELU: its minimum when the interval contains its argmin).
* **lp**: for each *unstable* neuron j of a Dense/Conv2D layer i (L_j < 0 < U_j and followed by a
  ReLU-type activation), min and max z_j over the LP relaxation of layers 0..i (binaries in
  [0, 1]; for a single ReLU this is its convex hull given the current bounds).
* **mip**: the same with the binaries of the last ``lookback`` activation layers kept integral
  (layers before them replaced by their bound box), each problem under a time limit; the solver's
  proved dual bound (not its incumbent) is used, so a time-limited problem still gives a sound bound.

The per-neuron problems are independent; ``processes > 1`` splits them over worker processes.
All optima are widened by a tolerance of 1e-6 (1 + |value|) against solver round-off.
"""

from __future__ import annotations

import math
from concurrent.futures import ProcessPoolExecutor
from typing import Sequence

import numpy as np
import pyomo.environ as pyo

from .encode.activations import activation_interval
from .encode.network import encode_network
from .encode.terms import Terms, new_vars
from .errors import UnsupportedError
from .layers import AvgPool2D, Conv2D, Dense, Flatten, Layer, MaxPool2D, Normalize
from .network import Network

Bounds = list[tuple[np.ndarray, np.ndarray]]
METHODS = ("interval", "lp", "mip")
SAFETY = 1e-6


def _affine_interval(layer: Layer, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(layer, Dense):
        Wp, Wn = np.maximum(layer.weight, 0), np.minimum(layer.weight, 0)
        return lo @ Wp.T + hi @ Wn.T + layer.bias, hi @ Wp.T + lo @ Wn.T + layer.bias
    if isinstance(layer, Conv2D):
        pos = Conv2D(np.maximum(layer.weight, 0), layer.bias, layer.stride, layer.padding)
        neg = Conv2D(np.minimum(layer.weight, 0), np.zeros_like(layer.bias), layer.stride, layer.padding)
        return pos.forward(lo) + neg.forward(hi), pos.forward(hi) + neg.forward(lo)
    if isinstance(layer, Normalize):
        a, b = layer.forward(lo), layer.forward(hi)
        return np.minimum(a, b), np.maximum(a, b)
    if isinstance(layer, (AvgPool2D, MaxPool2D, Flatten)):
        return layer.forward(lo), layer.forward(hi)  # monotone non-decreasing maps
    raise UnsupportedError(f"no interval rule for layer type {layer.kind}")


def interval_bounds(net: Network, lower: np.ndarray | None = None, upper: np.ndarray | None = None) -> Bounds:
    """Interval bounds of every layer's output over the box [lower, upper] (default: the domain)."""
    lo = np.asarray(net.domain.lower if lower is None else lower, dtype=np.float64)
    hi = np.asarray(net.domain.upper if upper is None else upper, dtype=np.float64)
    if not (np.all(np.isfinite(lo)) and np.all(np.isfinite(hi))):
        net.domain.require_finite()
    lo, hi = lo.reshape((1,) + net.input_shape), hi.reshape((1,) + net.input_shape)
    out: Bounds = []
    for layer in net.layers:
        if layer.activation:
            lo, hi = activation_interval(layer, lo, hi)
        else:
            lo, hi = _affine_interval(layer, lo, hi)
        out.append((lo[0].copy(), hi[0].copy()))
    return out


def _tightenable(net: Network) -> list[int]:
    """Dense/Conv2D layers followed by a piecewise-linear non-identity activation."""
    idx = []
    for i, layer in enumerate(net.layers[:-1]):
        nxt = net.layers[i + 1]
        if isinstance(layer, (Dense, Conv2D)) and nxt.activation and nxt.kind in ("ReLU", "LeakyReLU"):
            idx.append(i)
    return idx


def compute_bounds(
    net: Network,
    lower: np.ndarray | None = None,
    upper: np.ndarray | None = None,
    method: str = "lp",
    lookback: int = 1,
    time_limit_per_neuron: float = 1.0,
    processes: int = 1,
) -> Bounds:
    """Bounds of every layer output over the input box, by ``method`` in {interval, lp, mip}."""
    if method not in METHODS:
        raise UnsupportedError(f"unknown bound method {method!r} (use one of {', '.join(METHODS)})")
    lo_in = np.asarray(net.domain.lower if lower is None else np.maximum(lower, net.domain.lower), float)
    hi_in = np.asarray(net.domain.upper if upper is None else np.minimum(upper, net.domain.upper), float)
    bounds = interval_bounds(net, lo_in, hi_in)
    if method == "interval":
        return bounds
    for i in _tightenable(net):
        if i == 0 and isinstance(net.layers[0], (Dense, Conv2D)):
            continue  # the first affine layer's interval bounds are exact over a box
        lo, hi = bounds[i]
        todo = np.flatnonzero(((lo < 0) & (hi > 0)).ravel())
        if todo.size == 0:
            continue
        chunks = [c for c in np.array_split(todo, max(1, processes)) if c.size]
        args = [(net, lo_in, hi_in, bounds, i, c, method, lookback, time_limit_per_neuron) for c in chunks]
        if processes > 1 and len(chunks) > 1:
            with ProcessPoolExecutor(max_workers=processes) as ex:
                results = list(ex.map(_tighten_chunk, args))
        else:
            results = [_tighten_chunk(a) for a in args]
        new_lo, new_hi = lo.ravel().copy(), hi.ravel().copy()
        for c, (l, u) in zip(chunks, results):
            new_lo[c] = np.maximum(new_lo[c], l)
            new_hi[c] = np.minimum(new_hi[c], u)
        new_hi = np.maximum(new_hi, new_lo)
        bounds[i] = (new_lo.reshape(lo.shape), new_hi.reshape(hi.shape))
        bounds = _propagate(net, bounds, i + 1)
    return bounds


def _propagate(net: Network, bounds: Bounds, start: int) -> Bounds:
    """Recompute interval bounds from layer ``start`` on, intersected with the known ones."""
    lo, hi = bounds[start - 1]
    lo, hi = lo[None], hi[None]
    for i in range(start, len(net.layers)):
        layer = net.layers[i]
        lo, hi = activation_interval(layer, lo, hi) if layer.activation else _affine_interval(layer, lo, hi)
        lo = np.maximum(lo, bounds[i][0][None])
        hi = np.maximum(np.minimum(hi, bounds[i][1][None]), lo)
        bounds[i] = (lo[0].copy(), hi[0].copy())
    return bounds


def _window_start(net: Network, i: int, lookback: int) -> int:
    """First layer of the MIP window: ``lookback`` activation layers before layer i are kept exact."""
    acts = [k for k in range(i) if net.layers[k].kind in ("ReLU", "LeakyReLU", "MaxPool2D")]
    if len(acts) <= lookback:
        return 0
    first_act = acts[-lookback]
    s = first_act
    while s > 0 and not net.layers[s - 1].activation and net.layers[s - 1].kind != "MaxPool2D":
        s -= 1
    return s


def _tighten_chunk(args: tuple) -> tuple[np.ndarray, np.ndarray]:
    net, lo_in, hi_in, bounds, i, neurons, method, lookback, tl = args
    from pyomo.contrib.solver.common.factory import SolverFactory

    m = pyo.ConcreteModel()
    if method == "mip":
        s = _window_start(net, i, lookback)
    else:
        s = 0
    if s == 0:
        inp = Terms(new_vars(m, "x", lo_in, hi_in), lo_in, hi_in)
    else:
        blo, bhi = bounds[s - 1]
        inp = Terms(new_vars(m, "x", blo.ravel(), bhi.ravel()), blo.ravel(), bhi.ravel())
    enc = encode_network(m, net, inp, bounds=bounds, relax=(method == "lp"), start=s, stop=i + 1)
    z = enc.outputs.expr.ravel()
    m.obj = pyo.Objective(expr=0.0)
    opt = SolverFactory("highs")
    opt.set_instance(m)
    h = opt._solver_model  # the highspy object of the persistent interface
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", float(tl) if method == "mip" else 1e4)
    h.setOptionValue("threads", 1)
    vmap = opt._pyomo_var_to_solver_var_map
    n_col = h.getNumCol()
    lo_old, hi_old = bounds[i][0].ravel()[neurons], bounds[i][1].ravel()[neurons]
    new_lo, new_hi = lo_old.copy(), hi_old.copy()
    zero = np.zeros(n_col)
    import highspy

    for t, j in enumerate(neurons):
        zj = z[j]
        if isinstance(zj, (int, float)):
            new_lo[t] = new_hi[t] = float(zj)
            continue
        col = vmap[id(zj)]
        for sign in (1.0, -1.0):
            cost = zero.copy()
            cost[col] = sign
            h.changeColsCost(n_col, np.arange(n_col, dtype=np.int32), cost)
            h.run()
            st = h.getModelStatus()
            info = h.getInfo()
            if method == "mip" and info.mip_node_count >= 0:
                val = info.mip_dual_bound
            elif st == highspy.HighsModelStatus.kOptimal:
                val = info.objective_function_value
            else:
                continue
            if not math.isfinite(val):
                continue
            val -= SAFETY * (1 + abs(val))
            if sign > 0:
                new_lo[t] = max(new_lo[t], val)
            else:
                new_hi[t] = min(new_hi[t], -val)
    return new_lo, np.maximum(new_hi, new_lo)


def check_bounds(net: Network, bounds: Sequence[tuple[np.ndarray, np.ndarray]], X: np.ndarray,
                 tol: float = 1e-7) -> bool:
    """True if every layer value of every row of X lies within ``bounds`` (to ``tol``)."""
    trace = net.forward_trace(X)
    for (lo, hi), v in zip(bounds, trace[1:]):
        if np.any(v < lo[None] - tol) or np.any(v > hi[None] + tol):
            return False
    return True
