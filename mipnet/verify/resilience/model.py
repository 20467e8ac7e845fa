"""The pieces of the resilience MILPs: argument checks, the copies of the net, reach binaries, the norm,
start values, twin constraints, branching priorities, bounds and the solve.

**Heuristics** (each switchable, :class:`Heuristics`):

* ``dataflow``: interval bounds of every layer over the input box; without it every unstable neuron
  uses one uniform big-M, M = 10^ceil(log10(max interval bound over the domain)) (sound, naive).
* ``mip_bounds``: tighter bounds from small MIPs over the last ``lookback`` layers
  (:func:`mipnet.bounds.compute_bounds`, method "mip", ``processes`` worker processes).
* ``priority``: branch on the binaries of earlier layers first (SCIP and Gurobi; HiGHS has no
  priorities and the result says so).
* ``init``: three steps - (1) a strongly classified input a0 (sampling, else the alpha_max MILP),
  (2) the minimal perturbation Phi_ini of that fixed input (local MILP, a gradient search first),
  (3) the full MILP started from (a0, a0 + e0) with the cut -Phi_ini <= sum_i e_i <= Phi_ini (L1;
  n Phi_ini for L-inf, since |sum_i e_i| <= n ||e||_inf) and ||e|| <= Phi_ini. For the local variant
  step (2) is the gradient search alone.
* ``twin`` (ours, not in the paper): the two copies are tied neuron by neuron. With e in
  [-E, E] (E = the domain width, or Phi_ini after the initialisation) interval arithmetic bounds the
  difference dz = z(b) - z(a) of every pre-activation in [l, u] (no bias: dz^1 = W^1 e,
  dz^{i+1} = W^{i+1} dh^i, dh in [min(0, l), max(0, u)]); since ReLU is monotone and 1-Lipschitz,
  dh = h(b) - h(a) lies between 0 and dz, whose convex hull over [l, u] is
      l (u - dz) / (u - l) <= dh <= u (dz - l) / (u - l)     (l < 0 < u),
      dz <= dh <= 0 (u <= 0),    0 <= dh <= dz (l >= 0).
  Besides, |dh| <= |dz| chains to |dh^l| <= G^l |e| with G^1 = |W^1|, G^{l+1} = |W^{l+1}| D^l G^l
  (D^l zeroes neurons off in both copies), written with the norm's variables t_i >= |e_i|:
      -G^l_j . t <= dh^l_j <= G^l_j . t.
  Without these the LP relaxation sets a = b and its bound on Phi stays 0.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyomo.environ as pyo
from pyomo.common.collections import ComponentMap

from ...bounds import compute_bounds, interval_bounds
from ...deadline import Deadline
from ...encode import NetworkEncoding, Terms, encode_network
from ...encode.properties import logit_terms, norm_epigraph, twin_constraints
from ...encode.terms import constraint_list, new_binaries
from ...errors import DataError, UnsupportedError
from ...network import Network
from ...solve import Result, solve
from ..branching import priority_solver, set_priorities, solver_options
from ..search import logits
from .results import NORMS, Heuristics


def _class_index(net: Network, m: int | str | None, x: np.ndarray | None = None) -> int:
    if net.task != "classify":
        raise UnsupportedError("maximum resilience is defined for classifiers only")
    assert net.class_names is not None  # a classifier has class names
    names = [str(c) for c in net.class_names]
    if m is None:
        if x is None:
            raise UnsupportedError("give the class m")
        return int(np.argmax(logits(net, x[None])[0]))
    if isinstance(m, str) and m in names:
        return names.index(m)
    try:
        idx = int(m)
    except (TypeError, ValueError):
        raise DataError(f"unknown class {m!r}; the classes are {', '.join(names)}") from None
    if not 0 <= idx < len(names):
        raise DataError(f"class index {idx} out of range (the model has {len(names)} classes)")
    return idx


def _check_args(net: Network, alpha: float, k: int, norm: str) -> None:
    assert net.class_names is not None  # _class_index (called first) accepts classifiers only
    n_cls = len(net.class_names)
    if norm not in NORMS:
        raise UnsupportedError(f"norm must be 1 or inf, got {norm!r}")
    if not alpha >= 1.0:
        raise DataError(f"alpha must be >= 1, got {alpha}")
    if not 1 <= k <= n_cls - 1:
        raise DataError(f"k must be between 1 and {n_cls - 1} (the number of other classes), got {k}")
    for layer in net.layers:
        if layer.activation and not layer.piecewise_linear:
            raise UnsupportedError(f"the resilience MILP is exact for piecewise-linear nets only, not {layer.kind}")


def uniform_big_m(net: Network) -> float:
    """A single big-M valid for every pre-activation on the domain: a power of 10 above the interval bounds."""
    b = interval_bounds(net)
    mx = max(float(max(np.abs(lo).max(), np.abs(hi).max())) for lo, hi in b)
    return float(10.0 ** math.ceil(math.log10(max(mx, 1.0))))


def _encode_copy(
    block: pyo.Block, net: Network, inp: Terms, bounds: Any, big_m: float | None, prefix: str
) -> NetworkEncoding:
    """One copy of the net. With ``big_m`` every Dense/Conv2D output gets the uniform box [-M, M]
    (its variables' bounds and its Terms bounds, which the next layer reads)."""
    if big_m is None:
        return encode_network(block, net, inp, bounds=bounds, prefix=prefix)
    M = float(big_m)

    def uniform_box(i: int, y: Terms) -> Terms:
        if not net.layers[i].parametrised:
            return y
        for e in y.expr.ravel():
            if _is_var(e):
                e.setlb(-M)
                e.setub(M)
        return Terms(y.expr, np.full(y.shape, -M), np.full(y.shape, M))

    return encode_network(block, net, inp, prefix=prefix, after=uniform_box)


def _logit_terms(t: Terms) -> tuple[list[Any], np.ndarray, np.ndarray]:
    return logit_terms(t)


def _add_reach(
    block: pyo.Block, name: str, z: list[Any], lo: np.ndarray, hi: np.ndarray, m: int, k: int
) -> tuple[np.ndarray, list[int]]:
    """c_i binaries with z_i >= z_m - M_i (1 - c_i), sum c_i >= k."""
    others = [i for i in range(len(z)) if i != m]
    c = new_binaries(block, f"{name}_c", (len(others),))
    cons = constraint_list(block, f"{name}_reach")
    for t, i in enumerate(others):
        big = max(0.0, float(hi[m] - lo[i]))
        cons.add(z[i] >= z[m] - big * (1 - c[t]))
    cons.add(sum(c) >= k)
    return c, others


def _add_norm(block: pyo.Block, a: np.ndarray, b: np.ndarray, width: np.ndarray, norm: str) -> tuple[Any, Any]:
    """Objective expression ||b - a|| and the auxiliary variables (t or s): :func:`norm_epigraph`."""
    return norm_epigraph(block, a, b, width, norm)


def _is_var(e: Any) -> bool:
    return hasattr(e, "is_variable_type") and e.is_variable_type()


def _offset_variable(e: Any, value: float) -> tuple[Any, float]:
    """(d, value - c) for an input expression c + d of :func:`~mipnet.encode.network.input_terms` (a warm start
    that skipped it lost the input's value); (e, value) for anything else."""
    from pyomo.repn import generate_standard_repn

    repn = generate_standard_repn(e, compute_values=True)
    if len(repn.linear_vars) == 1 and not repn.nonlinear_vars and float(repn.linear_coefs[0]) == 1.0:
        return repn.linear_vars[0], float(value) - float(repn.constant)
    return e, value


def _start_values(enc: NetworkEncoding, net: Network, x: np.ndarray) -> ComponentMap:
    """Values of every variable of ``enc`` at input x: layer values from the forward pass, binaries on iff z > 0."""
    trace = net.forward_trace(x[None, :])
    out: ComponentMap = ComponentMap()
    for k, T in enumerate(enc.terms):
        vals = trace[k][0].reshape(T.shape)
        for e, v in zip(T.expr.ravel(), vals.ravel()):
            if not _is_var(e) and k == 0:  # an input far from the origin is c + d (input_terms' offsets): set d
                e, v = _offset_variable(e, v)
            if _is_var(e):
                out[e] = float(np.clip(v, e.lb if e.lb is not None else -np.inf, e.ub if e.ub is not None else np.inf))
    for k, B in enumerate(enc.binaries):
        # only a gated (ReLU-type) layer has one indicator per unit, on iff z > 0; HardTanh's two per unit and
        # max-pool's per candidate are left to the solver
        if B is None or not net.layers[k].gated or trace[k][0].size != B.size:
            continue
        pre = trace[k][0].reshape(B.shape)
        for e, v in zip(B.ravel(), pre.ravel()):
            if e is not None and not isinstance(e, np.ndarray) and _is_var(e):
                out[e] = 1.0 if v > 0 else 0.0
    return out


def _start_rivals_and_norm(
    warm: ComponentMap,
    net: Network,
    b: np.ndarray,
    c: Any,
    others: list[int],
    mi: int,
    aux: Any,
    diff: np.ndarray,
    norm: str,
) -> None:
    """Complete a warm start at the perturbed point b: rival indicators c[t] on iff rival others[t] reaches the
    target class's logit mi at b; the norm's auxiliary variables at |diff| (L1: one each; L-inf: their max)."""
    zb = logits(net, b[None])[0]
    for t, i in enumerate(others):
        warm[c[t]] = 1.0 if zb[i] >= zb[mi] else 0.0
    e = np.abs(diff)
    if norm == "1":
        for i in range(e.size):
            warm[aux[i]] = float(e[i])
    else:
        warm[aux] = float(e.max())


def _add_twin(
    block: pyo.Block,
    net: Network,
    enc_a: NetworkEncoding,
    enc_b: NetworkEncoding,
    e_bound: np.ndarray,
    e_abs: np.ndarray,
) -> int:
    """Difference (twin) constraints between the copies (:func:`twin_constraints`); returns their number.

    ``e_abs[i]`` is a model term >= |e_i| (t_i for L1, s for L-inf)."""
    return twin_constraints(block, net, enc_a, enc_b, e_bound, e_abs)


def _priorities(encs: list[NetworkEncoding], n_layers: int) -> list[tuple[Any, int]]:
    items = []
    for enc in encs:
        for layer, var in enc.all_binaries():
            items.append((var, n_layers - layer + 1))
    return items


def _solve(
    model: pyo.ConcreteModel,
    solver: str,
    heur: Heuristics,
    encs: list[NetworkEncoding],
    n_layers: int,
    time_limit: float | Deadline,
    threads: int | None,
    warm: dict[Any, float] | None,
    stop_below: float | None,
    notes: list[str],
    abs_gap: float | None = None,
) -> Result:
    """``abs_gap``: HiGHS's absolute MIP gap (its default 1e-6 ended "optimal" 10 % above the optimum of a domain
    1e-5 wide); the callers pass 1e-4 of a millionth of the largest distance in the domain (the relative gap
    governs)."""
    if isinstance(time_limit, Deadline):
        time_limit = time_limit.remaining()
    name, opts = solver, None
    if abs_gap is not None and solver == "highs":
        opts = {"mip_abs_gap": abs_gap}
    if heur.priority:
        pname = priority_solver(solver)
        if pname is None:
            notes.append(f"branching priorities: {solver} has no priority interface; heuristic skipped")
        else:
            set_priorities(model, _priorities(encs, n_layers))
            name, opts = pname, {**solver_options(solver), **(opts or {})}
    return solve(
        model,
        name,
        time_limit=max(0.05, time_limit),
        threads=threads,
        warm_start=warm or None,
        stop_below=stop_below,
        options=opts,
    )


def _prepare_bounds(
    net: Network, lower: np.ndarray, upper: np.ndarray, heur: Heuristics, deadline: Deadline | None = None
) -> tuple[Any, float | None]:
    """MIP-tightened bounds (at most until ``deadline``: sound but looser when cut short), the encoder's interval
    bounds (None) or one uniform big-M."""
    if heur.mip_bounds:
        return compute_bounds(
            net,
            lower,
            upper,
            method="mip",
            lookback=heur.lookback,
            time_limit_per_neuron=heur.bound_time,
            processes=heur.processes,
            deadline=deadline,
        ), None
    if heur.dataflow:
        return None, None  # the encoder's own interval bounds over the input box
    return None, uniform_big_m(net)
