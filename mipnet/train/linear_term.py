"""The linear (skip) term of the hypothesis classes: f(x) = w0 x + b + sum_j v_j ReLU(W_j x + c_j).

**In the MILP** (``TrainConfig.linear``, one hidden layer): w0 in [-B_w, B_w]^{K x d} (K outputs) are continuous
weights added to the output pre-activation of every sample,

    f_k(x_n) = [the network's output k] + sum_i w0_ki x_ni,

linear in w0 because x_n is data: no binaries, and the output's interval bounds widen by B_w ||x_n||_1. The linear
part carries the objective's own weight terms, counted once per weight, in the same terms as the network's
weights: l1 sum |w0| (t >= +-w0), l2 sum w0^2 (quadratic or the tangent outer approximation), l0 sum s with
|w0| <= B_w s, s binary (also counted by ``max_nonzeros``). It has no unit: the neuron penalty does not see it.
With the Lipschitz pair cuts of the sign class, |w0 (x_n - x_m)| <= sum_i |x_ni - x_mi| t_i adds the linear
part's l1 variables to the cuts' right-hand side (the cuts stay valid).

**In the returned network** the linear part is exact ReLU units (the network model stays Dense / ReLU):

    w0_k x = ReLU(w0_k x) - ReLU(-w0_k x),

two extra hidden units per output k with w0_k != 0 (in-weights w0_k and -w0_k, bias 0, out-weights +e_k and
-e_k), appended after the hidden units. ``network.metadata["linear_units"]`` lists them as [pos, neg, k]; the
numpy objective (:func:`mipnet.train.objective_check.penalty_terms`) counts their weights once (|w0_k|, not the
copy -w0_k nor the +-1 out-weights) and not as units, exactly as the MILP did, after checking that the listed
units have that exact form (otherwise they are ordinary units). Pruning never removes them (their in- and
out-weights are nonzero), so they stay the last hidden units.

**Warm start**: the linear part starts at 0; the LP heuristic's first round frees it (an LP in all continuous
weights with the activation patterns fixed), which fits it to the start's hidden units. The trainer also tries
:func:`linear_start`, the best network with every hidden unit off (the sparse linear model of the same objective,
one LP), and starts from whichever has the lower objective: a mapped gradient net can be far worse than it
(Adult 1000, l1 = 0.03, 4 hidden: 1.284 against about 0.45).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyomo.environ as pyo

from ..encode import Terms
from ..encode.terms import constraint_list, new_binaries, new_vars
from ..layers import Weighted
from ..network import Network
from .objective import tangent_points

#: the metadata key of the linear units of a network
META_KEY = "linear_units"


# ---------------------------------------------------------------------- the MILP
def add_linear_part(problem: Any) -> None:
    """w0 (K, d) in [-B_w, B_w] added to every sample's outputs (module docstring); sets ``problem.linear_var``
    and ``problem.linear_w`` (zeros)."""
    cfg, m = problem.config, problem.model
    K, d, B = problem.n_out, problem.d, float(cfg.weight_bound)
    w = new_vars(m, "lin_w", np.full((K, d), -B), np.full((K, d), B))
    problem.linear_var = w
    problem.linear_w = np.zeros((K, d))
    for n, out in enumerate(problem.outputs):
        x = problem.X[n]
        nz = np.flatnonzero(x)
        expr = np.empty(K, dtype=object)
        for k in range(K):
            lin = pyo.quicksum(float(x[i]) * w[k, i] for i in nz) if nz.size else 0.0
            expr[k] = out.expr.ravel()[k] + lin
        r = B * float(np.abs(x).sum())
        problem.outputs[n] = Terms(expr, out.lower.ravel() - r, out.upper.ravel() + r)


def linear_abs_terms(problem: Any) -> list[Any]:
    """|w0| for every linear weight (t >= +-w0); empty without a linear part."""
    w = getattr(problem, "linear_var", None)
    if w is None:
        return []
    B = float(problem.config.weight_bound)
    t = new_vars(problem.model, "lin_abs", np.zeros(w.shape), np.full(w.shape, B))
    cons = constraint_list(problem.model, "lin_abs_def")
    for idx in np.ndindex(w.shape):
        cons.add(t[idx] >= w[idx])
        cons.add(t[idx] >= -w[idx])
    problem.linear_abs = t
    return list(t.ravel())


def linear_square_terms(problem: Any) -> list[Any]:
    """w0^2 for every linear weight: quadratic, or the tangent outer approximation (HiGHS, recorded with the l2
    term's others in ``oa_terms["l2"]``)."""
    w = getattr(problem, "linear_var", None)
    if w is None:
        return []
    B = float(problem.config.weight_bound)
    t = new_vars(problem.model, "lin_sq", np.zeros(w.shape), np.full(w.shape, B * B))
    cons = constraint_list(problem.model, "lin_sq_def")
    oa = []
    for idx in np.ndindex(w.shape):
        if problem.quadratic:
            cons.add(t[idx] >= w[idx] * w[idx])
        else:
            pts = tangent_points(-B, B, problem.config.oa_points)
            for a in pts:
                cons.add(t[idx] >= 2.0 * float(a) * w[idx] - float(a) ** 2)
            oa.append((t[idx], pts))
    if oa:
        problem.oa_terms.setdefault("l2", []).extend(oa)
    return list(t.ravel())


def linear_nonzero_indicators(problem: Any) -> list[Any]:
    """s in {0, 1} with |w0| <= B_w s per linear weight; empty without a linear part."""
    w = getattr(problem, "linear_var", None)
    if w is None:
        return []
    B = float(problem.config.weight_bound)
    s = new_binaries(problem.model, "lin_nz", w.shape)
    cons = constraint_list(problem.model, "lin_nz_def")
    for idx in np.ndindex(w.shape):
        cons.add(w[idx] <= B * s[idx])
        cons.add(-w[idx] <= B * s[idx])
        problem.switch_groups.append((s[idx], [w[idx]]))
    problem.linear_nz = s
    return list(s.ravel())


def read_linear(problem: Any) -> None:
    """``problem.linear_w`` from the model's current values (|w| < 1e-9 is 0)."""
    w = getattr(problem, "linear_var", None)
    if w is None:
        return
    vals = np.array([pyo.value(v, exception=False) or 0.0 for v in w.ravel()], dtype=np.float64).reshape(w.shape)
    vals[np.abs(vals) < 1e-9] = 0.0
    problem.linear_w = vals


def linear_var_values(problem: Any) -> list[tuple[Any, float]]:
    """(variable, value) of every linear weight at ``problem.linear_w`` (to fix them with the weights)."""
    w = getattr(problem, "linear_var", None)
    if w is None or problem.linear_w is None:
        return []
    return [(w[idx], float(problem.linear_w[idx])) for idx in np.ndindex(w.shape)]


def linear_outputs(problem: Any, X: np.ndarray) -> np.ndarray:
    """w0 x for the rows of standardised X, (N, K) (zeros without a linear part)."""
    lw = getattr(problem, "linear_w", None)
    if lw is None:
        return np.zeros((X.shape[0], problem.n_out))
    return np.asarray(X, dtype=np.float64).reshape(X.shape[0], -1) @ lw.T


# ---------------------------------------------------------------------- the network
def expand_linear(
    weights: list[tuple[np.ndarray, np.ndarray]], w0: np.ndarray | None
) -> tuple[list[tuple[np.ndarray, np.ndarray]], list[list[int]]]:
    """One-hidden-layer weights with w0 x written as ReLU(w0_k x) - ReLU(-w0_k x) (module docstring): the
    expanded (W, b) list and the linear units [pos, neg, k] (only outputs k with w0_k != 0)."""
    if w0 is None or not np.any(w0):
        return weights, []
    (W, b), (V, c) = weights
    H = W.shape[0]
    rows, cols, units = [W], [V], []
    for k in np.flatnonzero(np.any(w0 != 0, axis=1)):
        e = np.zeros((V.shape[0], 1))
        e[k, 0] = 1.0
        rows.append(np.vstack([w0[k], -w0[k]]))
        cols.append(np.hstack([e, -e]))
        units.append([H, H + 1, int(k)])
        H += 2
    Wx = np.vstack(rows)
    bx = np.concatenate([b, np.zeros(Wx.shape[0] - b.size)])
    return [(Wx, bx), (np.hstack(cols), c.copy())], units


def linear_units_of(net: Network) -> list[tuple[int, int, int]]:
    """The linear units ``net.metadata["linear_units"]`` names, if they have the exact form of the module
    docstring in the network's first hidden layer (in-weights w and -w, biases 0, out-weights +e_k, -e_k);
    otherwise none (the units then count as ordinary units)."""
    rec = (net.metadata or {}).get(META_KEY)
    if not rec:
        return []
    dense = [l for l in net.layers if isinstance(l, Weighted) and l.unit_name == "neurons"]
    if len(dense) != 2:
        return []
    first, out = dense
    W, b, V = (
        np.asarray(first.weight, dtype=np.float64),
        np.asarray(first.bias, dtype=np.float64),
        np.asarray(out.weight, dtype=np.float64),
    )
    units: list[tuple[int, int, int]] = []
    seen: set[int] = set()
    try:
        for p, q, k in rec:
            p, q, k = int(p), int(q), int(k)
            in_range = 0 <= p < W.shape[0] and 0 <= q < W.shape[0] and 0 <= k < V.shape[0]
            # one pair per output: several pairs of one output would add up to a linear weight beyond the box
            if not in_range or {p, q} & seen or p == q or k in {u[2] for u in units}:
                return []
            e = np.zeros(V.shape[0])
            e[k] = 1.0
            if (
                not np.array_equal(W[q], -W[p])
                or b[p] != 0
                or b[q] != 0
                or not np.array_equal(V[:, p], e)
                or not np.array_equal(V[:, q], -e)
            ):
                return []
            seen.update((p, q))
            units.append((p, q, k))
    except (TypeError, ValueError):
        return []
    return units


def shifted_units(units: list[list[int]], full: Network, pruned: Network) -> list[list[int]]:
    """The linear units of ``full`` in its pruned copy: they are the last hidden units and pruning keeps them, so
    they move by the number of units removed."""
    if not units:
        return []

    def width(net: Network) -> int:
        dense = [l for l in net.layers if isinstance(l, Weighted) and l.unit_name == "neurons"]
        return int(np.asarray(dense[0].weight).shape[0])

    off = width(pruned) - width(full)
    return [[p + off, q + off, k] for p, q, k in units]


def linear_corrections(net: Network) -> dict[str, Any]:
    """What :func:`~mipnet.train.objective_check.penalty_terms` subtracts for the linear units (module
    docstring): ``abs`` (the copies' |w| and the out-weights' 1s), ``sq``, ``nz`` and the ``units`` mask of the
    first hidden layer."""
    units = linear_units_of(net)
    if not units:
        return {}
    dense = [l for l in net.layers if isinstance(l, Weighted) and l.unit_name == "neurons"]
    W = np.asarray(dense[0].weight, dtype=np.float64)
    mask = np.zeros(W.shape[0], dtype=bool)
    q = np.array([u[1] for u in units])
    mask[[u[0] for u in units]] = True
    mask[q] = True
    n = len(units)
    return {
        "abs": float(np.abs(W[q]).sum()) + 2.0 * n,
        "sq": float((W[q] ** 2).sum()) + 2.0 * n,
        "nz": float(np.count_nonzero(W[q])) + 2.0 * n,
        "units": mask,
    }


__all__ = [
    "META_KEY",
    "add_linear_part",
    "linear_abs_terms",
    "linear_square_terms",
    "linear_nonzero_indicators",
    "read_linear",
    "linear_var_values",
    "linear_outputs",
    "expand_linear",
    "linear_units_of",
    "shifted_units",
    "linear_corrections",
]


def linear_start(
    problem: Any,
    like: list[tuple[np.ndarray, np.ndarray]],
    *,
    solver: str,
    threads: int | None,
    instance: Any,
    time_limit: float | None = 30.0,
    completion_limit: float | None = 30.0,
) -> tuple[list[tuple[np.ndarray, np.ndarray]], float] | None:
    """The best network of ``problem`` with every hidden unit off: the binaries of all-zero weights (shapes of
    ``like``) fixed, the continuous weights free (the linear part and the output bias), one LP; then the completion
    LP of exactly the weights read back. Returns (weights, objective), the variables holding that point and
    ``problem.linear_w`` its linear part, or None (``problem.linear_w`` restored; also when ``time_limit`` stopped
    the LP in the free weights or ``completion_limit`` the completion LP)."""
    from .warmstart_complete import fixed_lp

    saved = None if problem.linear_w is None else problem.linear_w.copy()
    if problem.linear_w is not None:
        problem.linear_w[...] = 0.0
    zero = [(np.zeros_like(W), np.zeros_like(b)) for W, b in like]
    kw: dict[str, Any] = dict(solver=solver, threads=threads, instance=instance)
    if fixed_lp(problem, zero, free_weights=True, time_limit=time_limit, **kw) is None:
        problem.linear_w = saved
        return None
    weights = problem.zero_dead_units(problem.weight_values())  # reads the linear part into problem.linear_w
    obj = fixed_lp(problem, weights, free_weights=False, time_limit=completion_limit, **kw)
    if obj is None:
        problem.linear_w = saved
        return None
    return weights, float(obj)
