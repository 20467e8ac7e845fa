"""The domain constraints' rows in the training MILP (the math: :mod:`.constraints`), the values of their binaries
for given weights (the warm start's completion) and the start's projection onto the weight constraints.

One hidden layer: ``params[0]`` holds W (H, d) and b, ``params[1]`` the output weights v (K, H); the linear term's
w0 (K, d) is ``problem.linear_var`` (:mod:`.linear_term`), absent without it. ``problem.constraint_binaries``
collects (binaries, function of the weights giving their values) for :func:`constraint_values`.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pyomo.environ as pyo
from pyomo.common.collections import ComponentMap
from pyomo.contrib.fbbt.fbbt import compute_bounds_on_expr

from ..encode import Terms
from ..encode.terms import constraint_list, new_binaries
from .constraints import PREDICTION_EPS, Resolved, unreachable_order

Weights = list[tuple[np.ndarray, np.ndarray]]


def _lin(problem: Any) -> np.ndarray:
    """The linear term's current w0 (zeros without it)."""
    lw = getattr(problem, "linear_w", None)
    return np.zeros((problem.n_out, problem.d)) if lw is None else lw


def add_constraint_rows(problem: Any) -> None:
    """Every constraint of ``problem.config.constraints`` as rows of the model (:mod:`.constraints`)."""
    for t, r in enumerate(problem.config.constraints):
        {"exclude": _exclude, "sign": _sign, "budget": _budget, "order": _order, "parity": _parity}[r.kind](
            problem, r, f"dc{t}"
        )


def _linear_column(problem: Any, i: int) -> list[Any]:
    w = problem.linear_var
    return [] if w is None else [w[k, i] for k in range(w.shape[0])]


def _exclude(problem: Any, r: Resolved, name: str) -> None:
    """W[j, i] = 0 and w0_ki = 0 for the excluded inputs i."""
    cons = constraint_list(problem.model, name)
    W = problem.params[0].weight
    for i in r.features:
        for e in list(W[:, i]) + _linear_column(problem, i):
            cons.add(e == 0)


def _sign(problem: Any, r: Resolved, name: str) -> None:
    """s v_kj W[j, i] >= 0 by the output weights' signs, s w0_ki >= 0 (:mod:`.constraints`)."""
    m, cfg = problem.model, problem.config
    cons = constraint_list(m, name)
    i, s, Bw = r.features[0], float(r.sign), float(cfg.weight_bound)
    inc, out = problem.params[0], problem.params[1]
    K, H = out.shape
    for e in _linear_column(problem, i):
        cons.add(s * e >= 0)
    if out.kind == "sign":
        assert out.p is not None and out.q is not None
        for k in range(K):
            for j in range(H):
                cons.add(s * inc.weight[j, i] >= -Bw * (1 - out.p[k, j]))
                cons.add(s * inc.weight[j, i] <= Bw * (1 - out.q[k, j]))
        return
    sig = new_binaries(m, f"{name}_sigma", (K, H))
    vmax = out.w_abs_max
    for k in range(K):
        for j in range(H):
            V = float(vmax[k, j])
            cons.add(out.weight[k, j] <= V * sig[k, j])
            cons.add(out.weight[k, j] >= -V * (1 - sig[k, j]))
            cons.add(s * inc.weight[j, i] >= -Bw * (1 - sig[k, j]))
            cons.add(s * inc.weight[j, i] <= Bw * sig[k, j])

    def values(w: Weights) -> np.ndarray:
        Wv, Vv = w[0][0], w[1][0]
        return np.where(Vv > 0, 1.0, np.where(Vv < 0, 0.0, (s * Wv[:, i] >= 0).astype(float)[None, :]))

    problem.constraint_binaries.append((list(sig.ravel()), lambda w: values(w).ravel()))


def _budget(problem: Any, r: Resolved, name: str) -> None:
    """z_i binary, |W[j, i]| <= B_w z_i, |w0_ki| <= B_w z_i, sum_i z_i <= k."""
    m, Bw = problem.model, float(problem.config.weight_bound)
    d = problem.d
    z = new_binaries(m, f"{name}_z", (d,))
    cons = constraint_list(m, name)
    W = problem.params[0].weight
    for i in range(d):
        for e in list(W[:, i]) + _linear_column(problem, i):
            cons.add(e <= Bw * z[i])
            cons.add(-e <= Bw * z[i])
    cons.add(pyo.quicksum(z) <= int(r.k))

    def values(w: Weights) -> np.ndarray:
        return (np.any(w[0][0] != 0, axis=0) | np.any(_lin(problem) != 0, axis=0)).astype(float)

    problem.constraint_binaries.append((list(z), values))


def _point_output(problem: Any, block: pyo.Block, x: np.ndarray) -> tuple[Any, list[Any], Callable[[Weights], Any]]:
    """The output at a constant point x as an expression (its own ReLU binaries), the binaries and their values."""
    enc = problem.encode(block, Terms.constant(x))
    f = enc.outputs.expr.ravel()[0]
    w = problem.linear_var
    if w is not None:
        f = f + pyo.quicksum(float(x[i]) * w[0, i] for i in np.flatnonzero(x))
    bins = [b for i, l in enumerate(problem.template.layers) if l.gated for b in enc.binaries[i].ravel()]
    keep = [j for j, b in enumerate(bins) if b is not None]

    def values(weights: Weights) -> np.ndarray:
        z = weights[0][0] @ x + weights[0][1]
        return (z[keep] > 0).astype(float)

    return f, [bins[j] for j in keep], values


def _order(problem: Any, r: Resolved, name: str) -> None:
    """f(x_a) - f(x_b) >= delta with both points encoded as extra rows (their own ReLU binaries)."""
    m = problem.model
    blk = pyo.Block(range(2))
    m.add_component(f"{name}_points", blk)
    fa, ba, va = _point_output(problem, blk[0], np.asarray(r.x_a, dtype=np.float64))
    fb, bb, vb = _point_output(problem, blk[1], np.asarray(r.x_b, dtype=np.float64))
    _, most = compute_bounds_on_expr(fa - fb)  # interval arithmetic over the variables' boxes: a sound upper bound
    unreachable_order(most, float(r.delta), "every network of this class (its weight boxes)")
    m.add_component(name, pyo.Constraint(expr=fa - fb >= float(r.delta)))
    if ba:
        problem.constraint_binaries.append((ba, va))
    if bb:
        problem.constraint_binaries.append((bb, vb))


def _parity(problem: Any, r: Resolved, name: str) -> None:
    """pi_n = 1 => f_n >= eps, pi_n = 0 => f_n <= -eps (big-M on the row's output bounds); the rates' difference
    within [-delta, delta] (:mod:`.constraints`)."""
    m = problem.model
    g = np.asarray(r.groups, dtype=int)
    if g.size != problem.N:
        from .constraints import ConstraintError

        raise ConstraintError(f"ParityBound: {g.size} group entries for {problem.N} training rows")
    pi = new_binaries(m, f"{name}_pi", (problem.N,))
    cons = constraint_list(m, name)
    eps = PREDICTION_EPS
    for n in range(problem.N):
        o = problem.outputs[n]
        f, lo, hi = o.expr.ravel()[0], float(o.lower.ravel()[0]), float(o.upper.ravel()[0])
        cons.add(f >= eps - (eps - min(lo, -eps)) * (1 - pi[n]))
        cons.add(f <= -eps + (max(hi, eps) + eps) * pi[n])
    A, B = np.flatnonzero(g == 1), np.flatnonzero(g == 0)
    rate = (pyo.quicksum(pi[n] for n in A) / float(A.size)) - (pyo.quicksum(pi[n] for n in B) / float(B.size))
    cons.add(rate <= float(r.delta))
    cons.add(rate >= -float(r.delta))

    def values(w: Weights) -> np.ndarray:
        _, f = problem.pre_activations(w)
        f = f.reshape(problem.N, -1)[:, 0] + (problem.X @ _lin(problem)[0])
        return (f > 0).astype(float)

    problem.constraint_binaries.append((list(pi), values))


def constraint_values(problem: Any, weights: Weights) -> Any:
    """The constraints' binaries implied by ``weights`` (and the linear term's ``linear_w``): a ComponentMap."""
    out = ComponentMap()
    for bins, fn in problem.constraint_binaries:
        for b, v in zip(bins, np.asarray(fn(weights), dtype=np.float64).ravel()):
            out[b] = float(v)
    return out


def project_start(w: Weights, problem: Any) -> Weights:
    """Zero what the weight constraints forbid in a start (one hidden layer): excluded inputs' columns, entries
    of W whose paths have the wrong sign, and all but the k inputs of the largest path mass sum_j |W[j, i]|
    ||v_j||_1 under a feature budget."""
    W, V = w[0][0], w[1][0]
    for r in problem.config.constraints:
        if r.kind == "exclude":
            W[:, list(r.features)] = 0.0
        elif r.kind == "sign":
            i = r.features[0]
            bad = np.any(r.sign * V * W[:, i][None, :] < 0, axis=0)
            W[bad, i] = 0.0
        elif r.kind == "budget":
            mass = (np.abs(W) * np.abs(V).sum(axis=0)[:, None]).sum(axis=0)
            drop = np.argsort(-mass, kind="stable")[int(r.k) :]
            W[:, drop] = 0.0
    return w


def clean_weights(w: Weights, problem: Any) -> Weights:
    """Returned weights made to meet the weight constraints exactly: entries the solver left within its
    feasibility tolerance (1e-6) of a forbidden value become 0 (excluded inputs, wrong-sign paths and linear
    weights). ``w`` and ``problem.linear_w`` are changed in place."""
    W, V = w[0][0], w[1][0]
    lw = getattr(problem, "linear_w", None)
    for r in problem.config.constraints:
        if r.kind == "exclude":
            W[:, list(r.features)] = 0.0
            if lw is not None:
                lw[:, list(r.features)] = 0.0
        elif r.kind == "sign":
            i = r.features[0]
            bad = np.any(r.sign * V * W[:, i][None, :] < 0, axis=0) & (np.abs(W[:, i]) <= 1e-6)
            W[bad, i] = 0.0
            if lw is not None:
                lw[(r.sign * lw[:, i] < 0) & (np.abs(lw[:, i]) <= 1e-6), i] = 0.0
    return w


__all__ = ["add_constraint_rows", "constraint_values", "project_start", "clean_weights"]
