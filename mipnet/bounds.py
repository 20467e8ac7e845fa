"""Sound bounds on every layer's outputs over an input box: interval -> linear -> LP -> MIP.

``bounds[i] = (lower, upper)`` bounds the output of layer i (for Dense/Conv2D: its pre-activations)
for every input x with lower_in <= x <= upper_in that satisfies the domain's one-hot groups (exactly
one member 1, the others 0; the domain's integrality only helps). Inputs outside the domain's one-hot
structure need ``interval_bounds`` (box only).

* **interval** arithmetic, layer by layer: for z = W x + b,
  lower = W^+ l + W^- u + b, upper = W^+ u + W^- l + b; monotone maps (activations, pooling) map
  endpoints (GELU: its minimum when the interval contains its argmin).
* **linear**: back-substitution through linear relaxations (the DeepPoly / CROWN idea). Each layer
  is either affine, out = A in + c, or bounded by two linear functions of its input,
  al * in + bl <= out <= au * in + bu (ReLU: upper chord U (z - L) / (U - L), lower slope 0 or 1,
  whichever is nearer; smooth activations: their envelopes; max pooling: the element with the
  largest lower bound below, the largest upper bound above). The bound of sum_j lam_j out_j is
  pushed back to the input box, taking the upper line where lam_j > 0 and the lower line where
  lam_j < 0; closed form, numpy only, far cheaper than an LP and usually close to it. One-hot
  groups are concretised exactly: a group g adds max_{i in g} lam_i (upper) instead of
  sum_{i in g} max(lam_i l_i, lam_i u_i), the best single member at 1 (only members whose box holds 1,
  when every other member's box holds 0).
* **lp**: for each *unstable* neuron j of a Dense/Conv2D layer i (L_j < 0 < U_j and followed by a
  ReLU-type activation), min and max z_j over the LP relaxation of layers 0..i (binaries in
  [0, 1]; for a single ReLU this is its convex hull given the current bounds).
* **mip**: the same with the binaries of the last ``lookback`` activation layers kept integral
  (layers before them replaced by their bound box), each problem under a time limit; the solver's
  proved dual bound (not its incumbent) is used, so a time-limited problem still gives a sound bound.

A ``deadline`` (:class:`mipnet.deadline.Deadline`, or seconds) bounds the whole tightening: no layer model is
built and no per-neuron problem is started once it has passed, every solve gets at most what is left, and the
bounds computed so far (interval and linear bounds, every neuron tightened before the deadline) are returned:
they are sound at every stage, only looser.

The per-neuron problems are independent; ``processes > 1`` splits them over worker processes.
All optima are widened by a tolerance of 1e-6 (1 + |value|) against solver round-off.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import pyomo.environ as pyo
from scipy import sparse

from .choices import BOUND_METHODS
from .deadline import Deadline
from .encode.network import build_estimate, encode_network
from .encode.terms import Terms, new_vars
from .errors import UnsupportedError
from .highs import proved_dual_bound, set_instance
from .interrupt import native, process_map
from .layers import Layer, Relaxation
from .network import Network
from .solve import highs_threads

Bounds = list[tuple[np.ndarray, np.ndarray]]

#: the largest term of a MILP (:func:`encoding_magnitude`, inputs centred) whose "infeasible" is taken as a proof.
#: HiGHS called infeasible a VNN-LIB MILP of a max-pool net with terms of 4.5e9 where SCIP and Gurobi find a point
#: 21 772 deep in the unsafe region (relative 1e-5; the same net at a tenth of the scale was decided right), and a
#: smallest-perturbation MILP with logits of 2e10 where the class changes by 1.3e10 inside the domain.
RELIABLE_MAGNITUDE = 1e9
METHODS = BOUND_METHODS
SAFETY = 1e-6


def _affine_interval(layer: Layer, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The layer's own sound interval rule (:meth:`mipnet.layers.Layer.interval`)."""
    return layer.interval(lo, hi)


def interval_bounds(net: Network, lower: np.ndarray | None = None, upper: np.ndarray | None = None) -> Bounds:
    """Interval bounds of every layer's output over the box [lower, upper] (default: the domain)."""
    lo = np.asarray(net.domain.lower if lower is None else lower, dtype=np.float64)
    hi = np.asarray(net.domain.upper if upper is None else upper, dtype=np.float64)
    if not (np.all(np.isfinite(lo)) and np.all(np.isfinite(hi))):
        net.domain.require_finite()
    lo, hi = lo.reshape((1,) + net.input_shape), hi.reshape((1,) + net.input_shape)
    out: Bounds = []
    for layer in net.layers:
        lo, hi = layer.interval(lo, hi)
        out.append((lo[0].copy(), hi[0].copy()))
    return out


def _tightenable(net: Network) -> list[int]:
    """Parametrised (Dense/Conv2D) layers followed by a ReLU-type (gated) activation."""
    idx = []
    for i, layer in enumerate(net.layers[:-1]):
        nxt = net.layers[i + 1]
        if layer.parametrised and nxt.gated:
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
    deadline: Deadline | float | None = None,
) -> Bounds:
    """Bounds of every layer output over the input box, by ``method`` in {interval, lp, mip}.

    ``deadline`` (a :class:`~mipnet.deadline.Deadline` or seconds from now): LP/MIP tightening stops when it
    passes, keeping the sound bounds computed so far (module docstring)."""
    if method not in METHODS:
        raise UnsupportedError(f"unknown bound method {method!r} (use one of {', '.join(METHODS)})")
    lo_in = np.asarray(net.domain.lower if lower is None else np.maximum(lower, net.domain.lower), float)
    hi_in = np.asarray(net.domain.upper if upper is None else np.minimum(upper, net.domain.upper), float)
    bounds = interval_bounds(net, lo_in, hi_in)
    if method == "interval":
        return bounds
    bounds = linear_bounds(net, lo_in, hi_in, bounds)
    if method == "linear":
        return bounds
    dl = Deadline.of(deadline)
    for i in _tightenable(net):
        if i == 0 and net.layers[0].parametrised:
            continue  # the first affine layer's interval bounds are exact over a box
        if dl.expired():
            break  # what is computed is sound: the later layers keep their linear bounds
        lo, hi = bounds[i]
        todo = np.flatnonzero(((lo < 0) & (hi > 0)).ravel())
        if todo.size == 0:
            continue
        chunks = [c for c in np.array_split(todo, max(1, processes)) if c.size]
        args = [(net, lo_in, hi_in, bounds, i, c, method, lookback, time_limit_per_neuron, dl) for c in chunks]
        if processes > 1 and len(chunks) > 1:
            results = process_map(_tighten_chunk, args, processes)  # Ctrl-C: workers killed, no orphans
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


def tighten_neurons(
    net: Network,
    lower: np.ndarray,
    upper: np.ndarray,
    bounds: Bounds,
    layer: int,
    neurons: np.ndarray,
    method: str = "lp",
    deadline: Deadline | float | None = None,
    lookback: int = 1,
    time_limit_per_neuron: float = 1.0,
) -> Bounds:
    """``bounds`` with the chosen ``neurons`` of layer ``layer`` tightened by ``method`` (lp or mip), then the
    later layers' interval bounds re-propagated and intersected (a copy; ``bounds`` is not changed).

    Each chosen neuron j gets min / max z_j over the LP relaxation (``lp``) or the MILP window (``mip``) of
    layers 0..layer built with the current ``bounds`` over the input box [lower, upper] (the domain's box
    intersected), exactly as :func:`compute_bounds` does for every unstable neuron; the new bounds are
    intersected with the old ones, so the result is sound whenever ``bounds`` is sound over that box. Neurons not
    reached before the ``deadline`` keep their bounds."""
    if method not in ("lp", "mip"):
        raise UnsupportedError(f"neurons are tightened by 'lp' or 'mip', not {method!r}")
    lo_in = np.maximum(np.asarray(lower, float), net.domain.lower)
    hi_in = np.minimum(np.asarray(upper, float), net.domain.upper)
    out: Bounds = [(lo.copy(), hi.copy()) for lo, hi in bounds]
    todo = np.asarray(neurons, dtype=np.int64).ravel()
    if todo.size == 0:
        return out
    dl = Deadline.of(deadline)
    args = (net, lo_in, hi_in, out, layer, todo, method, lookback, time_limit_per_neuron, dl)
    l_new, u_new = _tighten_chunk(args)
    lo, hi = out[layer]
    new_lo, new_hi = lo.ravel().copy(), hi.ravel().copy()
    new_lo[todo] = np.maximum(new_lo[todo], l_new)
    new_hi[todo] = np.minimum(new_hi[todo], u_new)
    new_hi = np.maximum(new_hi, new_lo)
    out[layer] = (new_lo.reshape(lo.shape), new_hi.reshape(hi.shape))
    return _propagate(net, out, layer + 1) if layer + 1 < len(net.layers) else out


def tightenable_layers(net: Network) -> list[int]:
    """The layers whose neurons LP / MIP tightening works on: Dense / Conv2D followed by a ReLU-type activation."""
    return _tightenable(net)


def unstable_neurons(bounds: Bounds, layer: int) -> np.ndarray:
    """Flat indices of the neurons of layer ``layer`` with L < 0 < U, most unstable first (by -L * U)."""
    lo, hi = bounds[layer][0].ravel(), bounds[layer][1].ravel()
    idx = np.flatnonzero((lo < 0) & (hi > 0))
    return idx[np.argsort(lo[idx] * hi[idx], kind="stable")]


def _propagate(net: Network, bounds: Bounds, start: int) -> Bounds:
    """Recompute interval bounds from layer ``start`` on, intersected with the known ones."""
    lo, hi = bounds[start - 1]
    lo, hi = lo[None], hi[None]
    for i in range(start, len(net.layers)):
        layer = net.layers[i]
        lo, hi = layer.interval(lo, hi)
        lo = np.maximum(lo, bounds[i][0][None])
        hi = np.maximum(np.minimum(hi, bounds[i][1][None]), lo)
        bounds[i] = (lo[0].copy(), hi[0].copy())
    return bounds


def _window_start(net: Network, i: int, lookback: int) -> int:
    """First layer of the MIP window: ``lookback`` activation layers before layer i are kept exact."""
    acts = [k for k in range(i) if net.layers[k].piece_kind is not None]
    if len(acts) <= lookback:
        return 0
    first_act = acts[-lookback]
    s = first_act
    while s > 0 and not net.layers[s - 1].activation and net.layers[s - 1].piece_kind is None:
        s -= 1
    return s


def _tighten_chunk(args: tuple) -> tuple[np.ndarray, np.ndarray]:
    net, lo_in, hi_in, bounds, i, neurons, method, lookback, tl = args[:9]
    dl: Deadline = args[9] if len(args) > 9 else Deadline(None)
    from pyomo.contrib.solver.common.factory import SolverFactory

    lo_old, hi_old = bounds[i][0].ravel()[neurons], bounds[i][1].ravel()[neurons]
    s0 = _window_start(net, i, lookback) if method == "mip" else 0
    if dl.expired() or not dl.allows(build_estimate(net, start=s0, stop=i + 1)):
        return lo_old.copy(), hi_old.copy()  # (the model's build cannot be interrupted: not started past the deadline)

    m = pyo.ConcreteModel()
    s = s0
    if s == 0:
        inp = Terms(new_vars(m, "x", lo_in, hi_in), lo_in, hi_in)
    else:
        blo, bhi = bounds[s - 1]
        inp = Terms(new_vars(m, "x", blo.ravel(), bhi.ravel()), blo.ravel(), bhi.ravel())
    enc = encode_network(m, net, inp, bounds=bounds, relax=(method == "lp"), start=s, stop=i + 1)
    z = enc.outputs.expr.ravel()
    m.obj = pyo.Objective(expr=0.0)
    opt = SolverFactory("highs")
    set_instance(opt, m)
    h = opt._solver_model  # the highspy object of the persistent interface
    h.setOptionValue("output_flag", False)
    per_solve = float(tl) if method == "mip" else 1e4
    from .highs import highs_is_mip, set_time_limit

    mip = highs_is_mip(h)
    h.setOptionValue("threads", highs_threads())
    if method == "lp":  # re-solve from the previous basis: only the cost vector changes
        h.setOptionValue("presolve", "off")
        h.setOptionValue("simplex_strategy", 1)  # dual simplex from the previous basis: fewest iterations here
    vmap = opt._pyomo_var_to_solver_var_map
    n_col = h.getNumCol()
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
            left = dl.remaining()
            if left <= 0.0:
                break  # past the deadline: the neurons not reached keep their (sound) bounds
            cost = zero.copy()
            cost[col] = sign
            h.changeColsCost(n_col, np.arange(n_col, dtype=np.int32), cost)
            # each solve gets its own allowance (an LP's time_limit counts on the instance's clock, which
            # runs on across runs: without this, the first LPs of a chunk would use up every later one's)
            set_time_limit(h, min(per_solve, left), mip)
            with native(h):  # Ctrl-C asks HiGHS to stop, then raises Interrupted here
                run_status = h.run()
            st = h.getModelStatus()
            info = h.getInfo()
            if method == "mip":
                # only a run that happened bounds anything (a refused run leaves "Not Set" and 0.0)
                found = proved_dual_bound(h, run_status)
                if found is None:
                    continue
                val = found
            elif run_status != highspy.HighsStatus.kError and st == highspy.HighsModelStatus.kOptimal:
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


def _layer_matrix(layer: Layer, in_shape: tuple[int, ...]) -> tuple[sparse.csr_matrix, np.ndarray]:
    """(A, c) with layer(x) = A x + c on flat vectors (:meth:`mipnet.layers.Layer.linear_map`)."""
    return layer.linear_map(in_shape)


def _relaxation(layer: Layer, L: np.ndarray, U: np.ndarray, in_shape: tuple[int, ...]) -> Relaxation:
    """Lower and upper linear relaxations (Al, bl, Au, bu) of a non-affine layer on [L, U] (flat)
    (:meth:`mipnet.layers.Layer.relaxation`)."""
    return layer.relaxation(L, U, in_shape)


def linear_bounds(net: Network, lower: np.ndarray, upper: np.ndarray, known: Bounds | None = None) -> Bounds:
    """Bounds by back-substitution through linear relaxations, intersected with ``known``."""
    known = known if known is not None else interval_bounds(net, lower, upper)
    lo_in, hi_in = np.asarray(lower, float).ravel(), np.asarray(upper, float).ravel()
    ops: list[tuple] = []  # per layer: ("affine", A, c) or ("relax", Al, bl, Au, bu)
    out: Bounds = []
    for i, layer in enumerate(net.layers):
        in_shape = net.shapes[i]
        if layer.affine:
            A, c = layer.linear_map(in_shape)
            ops.append(("affine", A, c))
            if layer.passthrough:
                L, U = out[-1] if out else (lo_in, hi_in)
                lo_new, hi_new = np.ravel(L), np.ravel(U)
            else:
                lo_new, hi_new = _backsubstitute(ops, lo_in, hi_in, net.domain.onehot_groups)
        else:
            L, U = out[-1] if out else (lo_in, hi_in)
            ops.append(("relax",) + layer.relaxation(np.ravel(L), np.ravel(U), in_shape))
            lo_new, hi_new = (
                layer.interval(np.ravel(L), np.ravel(U))
                if layer.activation
                else (known[i][0].ravel(), known[i][1].ravel())
            )
        klo, khi = known[i][0].ravel(), known[i][1].ravel()
        lo_new, hi_new = np.maximum(lo_new, klo), np.minimum(hi_new, khi)
        hi_new = np.maximum(hi_new, lo_new)
        out.append((lo_new.reshape(net.shapes[i + 1]), hi_new.reshape(net.shapes[i + 1])))
    return out


def _backsubstitute(
    ops: list[tuple], lo_in: np.ndarray, hi_in: np.ndarray, groups: Sequence[Sequence[int]] = ()
) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper bounds of the last op's output over the input box (one-hot groups exact)."""
    _, A, c = ops[-1]
    Lam_u, Lam_l = A.tocsr(), A.tocsr()
    cu, cl = c.copy(), c.copy()
    for op in reversed(ops[:-1]):
        if op[0] == "affine":
            _, A, c = op
            cu = cu + Lam_u @ c
            cl = cl + Lam_l @ c
            Lam_u, Lam_l = Lam_u @ A, Lam_l @ A
        else:
            _, Al, bl, Au, bu = op
            pu, nu = Lam_u.maximum(0), Lam_u.minimum(0)
            pl, nl = Lam_l.maximum(0), Lam_l.minimum(0)
            cu = cu + pu @ bu + nu @ bl
            cl = cl + pl @ bl + nl @ bu
            Lam_u = pu @ Au + nu @ Al
            Lam_l = pl @ Al + nl @ Au
    pu, nu = Lam_u.maximum(0), Lam_u.minimum(0)
    pl, nl = Lam_l.maximum(0), Lam_l.minimum(0)
    upper = np.asarray(cu + pu @ hi_in + nu @ lo_in).ravel()
    lower = np.asarray(cl + pl @ lo_in + nl @ hi_in).ravel()
    for g in groups:
        hot = _hot_candidates(np.asarray(g), lo_in, hi_in)
        if hot is None:
            continue
        gi = np.asarray(g)
        Lu, Ll = Lam_u[:, gi].toarray(), Lam_l[:, gi].toarray()
        box_u = np.maximum(Lu * hi_in[gi], Lu * lo_in[gi]).sum(axis=1)
        box_l = np.minimum(Ll * hi_in[gi], Ll * lo_in[gi]).sum(axis=1)
        upper = upper - box_u + Lu[:, hot].max(axis=1)
        lower = lower - box_l + Ll[:, hot].min(axis=1)
    slack = SAFETY * (1.0 + np.abs(upper) + np.abs(lower))
    return np.asarray(lower).ravel() - slack, np.asarray(upper).ravel() + slack


def _hot_candidates(g: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray | None:
    """Positions (within group g) that can be the one member at 1 inside the box; None when the box
    does not restrict the group to 0/1 values (then the plain box bound is kept)."""
    can1 = (lo[g] <= 1.0) & (hi[g] >= 1.0)
    can0 = (lo[g] <= 0.0) & (hi[g] >= 0.0)
    if np.any(lo[g] < 0.0) or np.any(hi[g] > 1.0):
        return None
    feasible = [k for k in range(g.size) if can1[k] and np.all(np.delete(can0, k))]
    return np.asarray(feasible) if feasible else None


def check_bounds(
    net: Network, bounds: Sequence[tuple[np.ndarray, np.ndarray]], X: np.ndarray, tol: float = 1e-7
) -> bool:
    """True if every layer value of every row of X lies within ``bounds`` (to ``tol``)."""
    trace = net.forward_trace(X)
    for (lo, hi), v in zip(bounds, trace[1:]):
        if np.any(v < lo[None] - tol) or np.any(v > hi[None] + tol):
            return False
    return True


def encoding_magnitude(net: Network, lo: np.ndarray, hi: np.ndarray, bnds: Bounds) -> float:
    """The largest term a layer of the encoding sums over the box: each layer's interval over the symmetric box
    [-m, m] of its input's magnitude m (for an affine layer max |.| = |W| m + |b|, the terms before they cancel)."""
    m = np.maximum(np.abs(lo), np.abs(hi)).ravel()
    out = float(m.max()) if m.size else 0.0
    for i, layer in enumerate(net.layers):
        shape = (1,) + tuple(net.shapes[i])
        a, b = layer.interval(-m.reshape(shape), m.reshape(shape))
        out = max(out, float(np.max(np.maximum(np.abs(a), np.abs(b)))))
        m = np.maximum(np.abs(bnds[i][0]), np.abs(bnds[i][1])).ravel()
    return out
