"""Proved lower bounds of a linear specification of a network's outputs: CROWN and alpha-CROWN.

The question. For a network y = f(x) and a specification of m rows

    s_r(x) = C_r . f(x) + E_r . x + d_r        (r = 1..m),

find b_r <= min { s_r(x) : lo <= x <= hi } for every row (the box intersected with the model's domain box;
one-hot groups and integer features are not used, so the bound holds on a superset: it is sound). A row whose
bound is > 0 proves "s_r > 0 everywhere on the box": a robustness margin z_c - z_k (C_r = e_c - e_k), or an
atom of a VNN-LIB property that can never hold.

Per-neuron bounds. ``bounds[i] = (L_i, U_i)`` bound the output of layer i over the box
(:func:`mipnet.bounds.compute_bounds` with ``"linear"`` by default; tighter LP / MIP bounds may be passed).
Every layer is either affine, out = A in + c, or relaxed on its input bounds [L, U] by two linear functions
(:meth:`mipnet.layers.Layer.relaxation`):

    Al in + bl  <=  out  <=  Au in + bu.

**CROWN** (back-substitution of the specification rows, not of the individual outputs). Start with
Lam = C, k = d at the output and walk the layers backwards:

    affine:    k += Lam c,                          Lam <- Lam A
    relaxed:   k += Lam+ bl + Lam- bu,               Lam <- Lam+ Al + Lam- Au

(Lam+ = max(Lam, 0), Lam- = min(Lam, 0): a positive coefficient takes the lower line, a negative one the
upper line, so every step keeps Lam . out + k <= s). At the input, with Lam <- Lam + E,

    b_r = k_r + sum_i min(Lam_ri lo_i, Lam_ri hi_i)       (the corner x*_r: lo_i where Lam_ri >= 0, else hi_i).

The reported CROWN bound is the larger of b and the interval bound C+ L_out + C- U_out + E+ lo + E- hi + d
(both are sound), so it is never worse than interval arithmetic on the output bounds.

**alpha-CROWN.** For a ReLU-type unit h = max(a z, z) (ReLU a = 0, LeakyReLU 0 <= a < 1) that is unstable,
L < 0 < U, every line alpha z with a <= alpha <= 1 is a valid lower line (through the origin, below both
pieces on [L, U]). The slopes alpha are free per row and per unit; each choice gives a sound bound b(alpha),
so any iterate is a proved bound and the best seen is kept. b_r is piecewise linear in alpha; where the
signs of the back-substituted coefficients are fixed, b_r = C_r . v_out(x*_r) + E_r . x*_r + d_r with v the
forward pass of x*_r through the chosen lines (lower line where the coefficient at that layer's output is
> 0, upper line elsewhere), so

    d b_r / d alpha_rj = Lam+_rj * v_rj        (Lam at the unit's output, v at its input),

the analytic gradient. Projected gradient ascent (Adam steps of size ``lr``, then alpha <- clip(alpha, a, 1)),
``steps`` iterations from CROWN's own slopes (slope 1 where U > -L, else a), keeping the best bound of each
row; it stops early when ``goal(best)`` says the bounds suffice, or when the deadline passes.

Per-layer bounds by the same back-substitution (:func:`crown_bounds`, the input branch-and-bound's per-node
bounds): the output of every affine layer is bounded by back-substituting the rows +I and -I through the layers
before it, each relaxed on the bounds already found, and intersected with interval arithmetic on the previous
layer's bounds; a non-affine layer's output gets its interval rule. Affine maps are computed once per network
(:func:`affine_maps`, dense when small) and shared by every box; :func:`network_maps` keeps them with the network
(a weak cache, re-validated on every use against the layers' identity, shapes and parameters, so a changed
weight is never served from the cache) for the callers that do not pass their own ``maps``.

Round-off: every bound is lowered by 1e-6 (1 + |b| + sum_i |Lam_ri x*_ri|) (:data:`mipnet.bounds.SAFETY`).
Numpy only (torch is not needed).
"""

from __future__ import annotations

import time
import weakref
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
from scipy import sparse

from ..bounds import SAFETY, Bounds, compute_bounds
from ..deadline import Deadline
from ..layers import Layer
from ..layers.base import rounding_slack
from ..network import Network

#: default number of alpha-CROWN iterations and its Adam step size
ALPHA_STEPS = 30
ALPHA_LR = 0.25
#: affine maps with at most this many entries are kept dense
DENSE_ENTRIES = 4_000_000

Goal = Callable[[np.ndarray], bool]


@dataclass
class _Op:
    """One layer's rule: ``affine`` (A, c), ``diag`` (elementwise lines sl, bl, su, bu; ``free`` units take
    any lower slope in [amin, 1]) or ``relax`` (sparse Al, bl, Au, bu)."""

    kind: str
    A: sparse.csr_matrix | np.ndarray | None = None
    c: np.ndarray | None = None
    Al: sparse.csr_matrix | None = None
    Au: sparse.csr_matrix | None = None
    sl: np.ndarray | None = None
    su: np.ndarray | None = None
    bl: np.ndarray | None = None
    bu: np.ndarray | None = None
    free: np.ndarray | None = None
    amin: float = 0.0


@dataclass
class SpecBound:
    """Proved lower bounds of the specification rows over the box (module docstring).

    ``lower`` is the best bound of each row; ``interval``, ``crown`` and ``alpha`` the bounds of each stage
    (``alpha`` None when alpha-CROWN did not run); ``coef`` the input coefficients Lam of the back-substitution
    that gave each row's best bound (their size says how much each input's width costs the bound);
    ``seconds`` the time of each stage."""

    lower: np.ndarray
    interval: np.ndarray
    crown: np.ndarray
    alpha: np.ndarray | None
    coef: np.ndarray
    steps: int = 0
    seconds: dict[str, float] = field(default_factory=dict)

    def stage(self, rows: np.ndarray | None = None, above: float = 0.0) -> str:
        """The cheapest stage whose bounds exceed ``above`` on every row in ``rows`` (all by default):
        "crown" or "alpha-crown"; "" when even the best bounds do not."""
        sel = np.arange(self.lower.size) if rows is None else np.asarray(rows, dtype=int)
        if np.all(self.crown[sel] > above):
            return "crown"
        if self.alpha is not None and np.all(self.alpha[sel] > above):
            return "alpha-crown"
        return ""


def _rmul(Lam: np.ndarray, A: sparse.csr_matrix | np.ndarray) -> np.ndarray:
    """Lam @ A for a dense Lam (m, p) and a sparse or dense A (p, q)."""
    if isinstance(A, np.ndarray):
        return Lam @ A
    return np.asarray((A.T @ Lam.T).T)


def _apply(A: sparse.csr_matrix | np.ndarray, V: np.ndarray) -> np.ndarray:
    """The rows of V mapped by A: (A @ V.T).T."""
    if isinstance(A, np.ndarray):
        return V @ A.T
    return np.asarray((A @ V.T).T)


Maps = dict[int, tuple["sparse.csr_matrix | np.ndarray", np.ndarray]]


def affine_maps(net: Network) -> Maps:
    """(A, c) of every affine layer (by index), A dense when it has at most ``DENSE_ENTRIES`` entries."""
    maps: Maps = {}
    for i, layer in enumerate(net.layers):
        if layer.affine:
            A, c = layer.linear_map(net.shapes[i])
            A = sparse.csr_matrix(A)
            dense = A.shape[0] * A.shape[1] <= DENSE_ENTRIES
            maps[i] = (A.toarray() if dense else A, np.asarray(c, float).ravel())
    return maps


#: per network: (layers, input shapes, parameter copies, maps) of the last :func:`network_maps` call
_MAPS: "weakref.WeakKeyDictionary[Network, tuple[list[Layer], list[Any], list[dict[str, np.ndarray]], Maps]]" = (
    weakref.WeakKeyDictionary()
)


def network_maps(net: Network) -> Maps:
    """:func:`affine_maps` of ``net``, cached with the network. The cache is used only while every layer is the
    same object with the same input shape and equal parameters (compared in full, so an in-place change of a
    weight recomputes the maps); otherwise the maps are recomputed and stored."""
    layers = list(net.layers)
    hit = _MAPS.get(net)
    if hit is not None:
        old_layers, old_shapes, old_params, maps = hit
        if (
            len(old_layers) == len(layers)
            and all(a is b for a, b in zip(old_layers, layers))
            and old_shapes == list(net.shapes)
            and all(_same_params(p, layer.parameters()) for p, layer in zip(old_params, layers))
        ):
            return maps
    maps = affine_maps(net)
    params = [{k: np.array(v, copy=True) for k, v in layer.parameters().items()} for layer in layers]
    _MAPS[net] = (layers, list(net.shapes), params, maps)
    return maps


def _same_params(old: dict[str, np.ndarray], new: dict[str, np.ndarray]) -> bool:
    return old.keys() == new.keys() and all(
        old[k].shape == np.shape(new[k]) and np.array_equal(old[k], new[k]) for k in old
    )


def _is_diagonal(M: sparse.csr_matrix) -> bool:
    coo = M.tocoo()
    return M.shape[0] == M.shape[1] and bool(np.all(coo.row == coo.col))


def layer_ops(net: Network, lo: np.ndarray, hi: np.ndarray, bounds: Bounds, maps: Maps | None = None) -> list[_Op]:
    """Every layer's affine map or relaxation on its input bounds (``bounds[i - 1]``, the box for layer 0)."""
    maps = network_maps(net) if maps is None else maps
    ops: list[_Op] = []
    for i, layer in enumerate(net.layers):
        if layer.affine:
            A, c = maps[i]
            ops.append(_Op("affine", A=A, c=c))
            continue
        L, U = (bounds[i - 1][0].ravel(), bounds[i - 1][1].ravel()) if i else (lo, hi)
        ops.append(_relax_op(layer, L, U, net.shapes[i]))
    return ops


def gated_lines(a: float, L: np.ndarray, U: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(sl, bl, su, bu): the ReLU-type relaxation of :func:`mipnet.layers.relu.slope_relaxation` as plain vectors
    (on: slope 1; off: slope a; unstable: the chord above, the nearer of the lines a z and z below)."""
    on, off = L >= 0, U <= 0
    amb = ~on & ~off
    su = np.where(on, 1.0, np.where(off, a, (U - a * L) / np.where(amb, U - L, 1.0)))
    bu = np.where(amb, (a - su) * L, 0.0)
    sl = np.where(on, 1.0, np.where(off, a, np.where(U > -L, 1.0, a)))
    return sl, np.zeros(L.size), su, bu


def _relax_op(layer: Layer, L: np.ndarray, U: np.ndarray, in_shape: tuple[int, ...]) -> _Op:
    """The relaxation of a non-affine layer on its input bounds [L, U] (diagonal when elementwise; ReLU-type
    layers by :func:`gated_lines`, without building sparse matrices)."""
    if layer.gated:
        a = float(layer.negative_slope)
        sl, bl, su, bu = gated_lines(a, L, U)
        return _Op("diag", sl=sl, su=su, bl=bl, bu=bu, free=(L < 0) & (U > 0), amin=a)
    Al, bl, Au, bu = layer.relaxation(L, U, in_shape)
    Al, Au = sparse.csr_matrix(Al), sparse.csr_matrix(Au)
    bl, bu = np.asarray(bl, float).ravel(), np.asarray(bu, float).ravel()
    if _is_diagonal(Al) and _is_diagonal(Au):
        free = (L < 0) & (U > 0) if layer.gated else np.zeros(L.size, bool)
        return _Op(
            "diag",
            sl=Al.diagonal(),
            su=Au.diagonal(),
            bl=bl,
            bu=bu,
            free=free,
            amin=float(layer.negative_slope) if layer.gated else 0.0,
        )
    return _Op("relax", Al=Al, bl=bl, Au=Au, bu=bu)


def crown_bounds(
    net: Network, lower: np.ndarray, upper: np.ndarray, maps: Maps | None = None, deadline: Deadline | None = None
) -> Bounds:
    """Bounds of every layer's output over the box [lower, upper] by CROWN (module docstring). Past ``deadline``
    the layers left get interval bounds only (valid, looser): one back-substitution per layer of a 10 x 800 net took
    9 s of a 0.5 s robustness limit."""
    maps = network_maps(net) if maps is None else maps
    lo, hi = np.asarray(lower, float).ravel(), np.asarray(upper, float).ravel()
    L, U = lo, hi
    ops: list[_Op] = []
    out: Bounds = []
    for i, layer in enumerate(net.layers):
        in_shape, out_shape = net.shapes[i], net.shapes[i + 1]
        ilo, ihi = layer.interval(L.reshape((1,) + in_shape), U.reshape((1,) + in_shape))
        nlo, nhi = np.ravel(ilo), np.ravel(ihi)
        if layer.affine:
            A, c = maps[i]
            ops.append(_Op("affine", A=A, c=c))
            if layer.passthrough:
                nlo, nhi = L, U
            elif any(op.kind != "affine" for op in ops) and not (deadline is not None and deadline.expired()):
                n = nlo.size
                eye = np.eye(n)
                b = _backward(ops, np.vstack([eye, -eye]), np.zeros((2 * n, lo.size)), np.zeros(2 * n), lo, hi, {})[0]
                nlo, nhi = np.maximum(nlo, b[:n]), np.minimum(nhi, -b[n:])
        else:
            ops.append(_relax_op(layer, L, U, in_shape))
        nhi = np.maximum(nhi, nlo)
        out.append((nlo.reshape(out_shape), nhi.reshape(out_shape)))
        L, U = nlo, nhi
    return out


def _slopes(op: _Op, alpha: np.ndarray | None) -> np.ndarray:
    assert op.sl is not None and op.free is not None
    return op.sl if alpha is None else np.where(op.free, alpha, op.sl)


def _backward(
    ops: list[_Op],
    C: np.ndarray,
    E: np.ndarray,
    d: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    alphas: dict[int, np.ndarray],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[int, np.ndarray]]:
    """(bounds, input coefficients Lam, corners x*, Lam+ at every relaxed layer's output)."""
    Lam, k = C.astype(float).copy(), d.astype(float).copy()
    pos: dict[int, np.ndarray] = {}
    for t in range(len(ops) - 1, -1, -1):
        op = ops[t]
        if op.kind == "affine":
            assert op.A is not None and op.c is not None
            k = k + Lam @ op.c
            Lam = _rmul(Lam, op.A)
            continue
        P, N = np.maximum(Lam, 0.0), np.minimum(Lam, 0.0)
        pos[t] = P
        assert op.bl is not None and op.bu is not None
        k = k + P @ op.bl + N @ op.bu
        if op.kind == "diag":
            assert op.su is not None
            Lam = P * _slopes(op, alphas.get(t)) + N * op.su
        else:
            assert op.Al is not None and op.Au is not None
            Lam = _rmul(P, op.Al) + _rmul(N, op.Au)
    Lam = Lam + E
    xs = np.where(Lam >= 0, lo, hi)
    terms = Lam * xs
    b = k + terms.sum(axis=1)
    b = b - SAFETY * (1.0 + np.abs(b) + np.abs(terms).sum(axis=1))
    return b, Lam, xs, pos


def _gradient(
    ops: list[_Op], xs: np.ndarray, pos: dict[int, np.ndarray], alphas: dict[int, np.ndarray]
) -> dict[int, np.ndarray]:
    """d b / d alpha for every optimised layer: the forward pass of the corners x* through the chosen lines."""
    V = xs
    grads: dict[int, np.ndarray] = {}
    for t, op in enumerate(ops):
        if op.kind == "affine":
            assert op.A is not None
            V = _apply(op.A, V) + op.c
            continue
        sel = pos[t] > 0
        if op.kind == "diag":
            if t in alphas:
                assert op.free is not None
                grads[t] = np.where(op.free, pos[t] * V, 0.0)
            assert op.su is not None and op.bl is not None and op.bu is not None
            V = np.where(sel, _slopes(op, alphas.get(t)) * V + op.bl, op.su * V + op.bu)
        else:
            assert op.Al is not None and op.Au is not None
            V = np.where(sel, _apply(op.Al, V) + op.bl, _apply(op.Au, V) + op.bu)
    return grads


def spec_bounds(
    net: Network,
    C: np.ndarray,
    d: np.ndarray | None = None,
    lower: np.ndarray | None = None,
    upper: np.ndarray | None = None,
    *,
    E: np.ndarray | None = None,
    bounds: Bounds | None = None,
    steps: int = ALPHA_STEPS,
    lr: float = ALPHA_LR,
    deadline: Deadline | float | None = None,
    goal: Goal | None = None,
    maps: Maps | None = None,
) -> SpecBound:
    """Lower bounds of C f(x) + E x + d over the box [lower, upper] (module docstring): interval, CROWN, then
    ``steps`` alpha-CROWN iterations (0: none) unless ``goal(bounds)`` is already met or the deadline passed.

    ``bounds``: per-layer bounds valid over the box (computed by linear back-substitution when None);
    ``maps``: the network's :func:`affine_maps` when already computed."""
    t0 = time.perf_counter()
    dl = Deadline.of(deadline)
    lo = np.asarray(net.domain.lower if lower is None else np.maximum(lower, net.domain.lower), float).ravel()
    hi = np.asarray(net.domain.upper if upper is None else np.minimum(upper, net.domain.upper), float).ravel()
    C = np.atleast_2d(np.asarray(C, dtype=np.float64))
    m = C.shape[0]
    d = np.zeros(m) if d is None else np.asarray(d, dtype=np.float64).ravel()
    E = np.zeros((m, lo.size)) if E is None else np.atleast_2d(np.asarray(E, dtype=np.float64))
    if bounds is None:
        bounds = compute_bounds(net, lo, hi, method="linear")
    seconds: dict[str, float] = {}
    ylo, yhi = bounds[-1][0].ravel(), bounds[-1][1].ravel()
    Cp, Cn, Ep, En = np.maximum(C, 0), np.minimum(C, 0), np.maximum(E, 0), np.minimum(E, 0)
    interval = Cp @ ylo + Cn @ yhi + Ep @ lo + En @ hi + d
    # round-off: relative to the result and to the terms that cancel in it (outputs of 1e11 for a margin of 1e-6)
    mag = np.abs(C) @ np.maximum(np.abs(ylo), np.abs(yhi)) + np.abs(E) @ np.maximum(np.abs(lo), np.abs(hi)) + np.abs(d)
    interval = interval - SAFETY * (1.0 + np.abs(interval)) - rounding_slack(mag, C.shape[1] + E.shape[1])
    ops = layer_ops(net, lo, hi, bounds, maps)
    b, Lam, xs, pos = _backward(ops, C, E, d, lo, hi, {})
    crown = np.maximum(b, interval)
    coef = Lam.copy()
    seconds["crown"] = time.perf_counter() - t0
    out = SpecBound(crown.copy(), interval, crown, None, coef, 0, seconds)
    free = {t: op for t, op in enumerate(ops) if op.kind == "diag" and op.free is not None and op.free.any()}
    if steps <= 0 or not free or (goal is not None and goal(out.lower)) or dl.expired():
        return out
    t1 = time.perf_counter()
    alphas = {
        t: np.broadcast_to(_slopes(op, None), (m, op.free.size)).copy()  # type: ignore[union-attr]
        for t, op in free.items()
    }
    mom = {t: np.zeros_like(a) for t, a in alphas.items()}
    var = {t: np.zeros_like(a) for t, a in alphas.items()}
    best = b.copy()
    for it in range(1, steps + 1):
        grads = _gradient(ops, xs, pos, alphas)
        for t, g in grads.items():  # Adam ascent step, projected on [amin, 1]
            mom[t] = 0.9 * mom[t] + 0.1 * g
            var[t] = 0.999 * var[t] + 0.001 * g * g
            step = (mom[t] / (1 - 0.9**it)) / (np.sqrt(var[t] / (1 - 0.999**it)) + 1e-12)
            alphas[t] = np.clip(alphas[t] + lr * step, free[t].amin, 1.0)
        b, Lam, xs, pos = _backward(ops, C, E, d, lo, hi, alphas)
        better = b > best
        best = np.where(better, b, best)
        coef[better] = Lam[better]
        out.steps = it
        if (goal is not None and goal(np.maximum(best, crown))) or dl.expired():
            break
    out.alpha = np.maximum(best, crown)
    out.lower = out.alpha.copy()
    seconds["alpha-crown"] = time.perf_counter() - t1
    return out


def margin_rows(n_outputs: int, cls: int) -> tuple[np.ndarray, np.ndarray]:
    """(C, rivals): the rows e_c - e_k of the margins z_c - z_k for every rival k != c; one logit z (class 1
    iff z > 0): the single row +1 (c = 1) or -1 (c = 0), rival 1 - c."""
    if n_outputs == 1:
        return np.array([[1.0 if cls == 1 else -1.0]]), np.array([1 - cls])
    rivals = np.array([k for k in range(n_outputs) if k != cls])
    C = np.zeros((rivals.size, n_outputs))
    C[:, cls] = 1.0
    C[np.arange(rivals.size), rivals] = -1.0
    return C, rivals
