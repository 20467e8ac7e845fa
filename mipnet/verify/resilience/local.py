"""Local resilience: the minimal perturbation of a fixed, strongly classified input (or the decision
"is it below delta"), as a MILP over one copy of the net, after a gradient search and (k = 1) the robustness MILP.

**Local variant**: a fixed (strongly classified) input; the same problem with a constant. The decision
"is the bound of a below delta" adds ||e|| <= delta and stops at the first feasible point:
a feasible point (checked by the forward pass) answers *below*, infeasibility proves *not below*.

(``_solve`` is looked up on :mod:`mipnet.verify.resilience`, so that patching it there takes effect.)
"""

from __future__ import annotations

import math
import time

import numpy as np
import pyomo.environ as pyo

import mipnet.verify.resilience as _pkg

from ...deadline import Deadline
from ...encode import input_terms
from ...errors import DataError
from ...network import Network
from ..search import logits, perturbation_norm, reached, search_perturbation, strong_margin
from .model import (
    _add_norm,
    _add_reach,
    _check_args,
    _class_index,
    _encode_copy,
    _logit_terms,
    _prepare_bounds,
    _start_rivals_and_norm,
    _start_values,
)
from .results import BOUNDS_SHARE, Heuristics, ResilienceResult, _base, _fill, _out_of_time
from .witness import (
    DISTANCE_FLOOR,
    OPTIMAL_TOL,
    _keep_initial_pair,
    _phi_of_witness,
    _witness,
    distance_scale,
    exact_pair,
)


def local_resilience(
    net: Network,
    x: np.ndarray,
    m: int | str | None = None,
    *,
    alpha: float = 1.0,
    k: int = 1,
    norm: str = "1",
    delta: float | None = None,
    decide: bool = False,
    heuristics: Heuristics | None = None,
    solver: str = "highs",
    time_limit: float | Deadline = 60.0,
    threads: int | None = None,
) -> ResilienceResult:
    """Minimal perturbation of a fixed input x (``decide``: only whether it is <= ``delta``).

    ``time_limit`` (seconds or a Deadline) covers everything: the gradient search, the robustness decision,
    bound tightening, model building and the MILP; cut short, the result has no bound (status feasible with
    the search's pair, or unknown)."""
    heur = heuristics or Heuristics()
    dl = Deadline.of(time_limit)
    x = np.asarray(x, dtype=np.float64).ravel()
    if x.size != net.n_inputs:
        raise DataError(f"the input has {x.size} values, the model takes {net.n_inputs}")
    if not net.domain.contains(x[None], tol=1e-9)[0]:
        raise DataError("the input lies outside the model's domain")
    mi = _class_index(net, m, x)
    _check_args(net, alpha, k, norm)
    if decide and delta is None:
        raise DataError("the decision 'below delta' needs delta")
    res = _base("local", net, mi, alpha, k, norm, heur)
    res.delta = delta
    za = logits(net, x[None])
    margin = float(strong_margin(za, mi)[0])
    if margin < math.log(alpha):
        assert net.class_names is not None  # _class_index accepts classifiers only
        raise DataError(
            f"the input is not strongly classified to class {net.class_names[mi]} at alpha={alpha} "
            f"(logit margin {margin:.4g} < ln(alpha) = {math.log(alpha):.4g})"
        )
    t0 = time.perf_counter()
    dom = net.domain
    lo_b, hi_b = dom.lower.copy(), dom.upper.copy()
    if delta is not None and (heur.dataflow or heur.mip_bounds):
        lo_b, hi_b = np.maximum(lo_b, x - delta), np.minimum(hi_b, x + delta)
    b0 = None
    if heur.init:
        b0 = search_perturbation(net, x, mi, k, norm, radius=delta)
        res.timings["init_search"] = time.perf_counter() - t0
        if b0 is not None:
            res.phi_init = phi_init = perturbation_norm(x, b0, norm)
            if decide and delta is not None and _exactly_below(net, x, b0, mi, k, norm, float(delta)):
                res.status, res.phi, res.verdict, res.a, res.b = "feasible", res.phi_init, "below", x, b0
                res.witness = _witness(net, x, b0, mi, alpha, k, norm, res.phi)
                res.notes.append("decided by the gradient search (no MILP needed)")
                res.timings["total"] = time.perf_counter() - t0
                return res
            if delta is not None and phi_init > delta:
                b0 = None
    if decide and k == 1 and heur.robust:
        assert delta is not None  # decide needs delta (checked above)
        decided = _decide_by_robustness(net, x, mi, alpha, norm, float(delta), res, solver, dl, threads)
        res.timings["robustness_milp"] = time.perf_counter() - t0 - res.timings.get("init_search", 0.0)
        if decided:
            res.timings["total"] = time.perf_counter() - t0
            return res
    t1 = time.perf_counter()
    bounds, big_m = _prepare_bounds(net, lo_b, hi_b, heur, dl.sub(fraction=BOUNDS_SHARE))
    res.timings["bounds"] = time.perf_counter() - t1
    t2 = time.perf_counter()
    model = pyo.ConcreteModel()
    model.B = pyo.Block()
    xb = input_terms(model.B, dom, lo_b, hi_b, name="b", centre=x)  # offsets from x far from the origin
    enc = _encode_copy(model.B, net, xb, bounds, big_m, "B")
    z, lo, hi = _logit_terms(enc.outputs)
    c, others = _add_reach(model, "p", z, lo, hi, mi, k)
    width = np.maximum(np.abs(xb.upper - x), np.abs(x - xb.lower))
    obj, aux = _add_norm(model, x, xb.expr.ravel(), width, norm)
    model.obj = pyo.Objective(expr=obj)
    if delta is not None:
        model.ball = pyo.Constraint(expr=obj <= float(delta))
    warm = None
    if b0 is not None:
        assert res.phi_init is not None  # b0's norm, measured when it was found
        model.cut = pyo.Constraint(expr=obj <= res.phi_init * (1 + 1e-7) + 1e-9)
        warm = _start_values(enc, net, b0)
        _start_rivals_and_norm(warm, net, b0, c, others, mi, aux, b0 - x, norm)
    res.n_binaries = enc.n_binaries() + len(others)
    res.timings["build"] = time.perf_counter() - t2
    t3 = time.perf_counter()
    if dl.expired():
        if b0 is not None:
            res.phi, res.a, res.b = res.phi_init, x, b0
            res.witness = _witness(net, x, b0, mi, alpha, k, norm, None)
        _out_of_time(res)
        if decide:
            res.verdict = "unknown"
        res.timings["total"] = time.perf_counter() - t0
        return res
    stop = float(delta) * (1 + 1e-9) + 1e-12 if decide and delta is not None else None  # decide needs delta
    scale = distance_scale(net, norm)
    r = _pkg._solve(
        model,
        solver,
        heur,
        [enc],
        len(net.layers),
        dl,
        threads,
        warm,
        stop,
        res.notes,
        OPTIMAL_TOL * DISTANCE_FLOOR * scale,
    )
    res.timings["milp"] = time.perf_counter() - t3
    _fill(res, r)
    if r.status == "infeasible" and b0 is not None:
        _keep_initial_pair(net, res, x, b0, mi, alpha, k, norm)
    if r.has_solution:
        res.a, res.b = x, net.domain.snap(xb.values().ravel())[0]  # on the domain before its re-check
        res.b = exact_pair(net, x, res.b, mi, alpha, k, fixed_a=True)[1]  # off the solver's tolerances
        res.witness = _witness(net, x, res.b, mi, alpha, k, norm, None)
        _phi_of_witness(res, scale)
    if decide:
        assert delta is not None  # decide needs delta (checked above)
        if r.status == "infeasible":
            res.verdict = "not_below"
        elif (
            r.has_solution
            and res.b is not None
            and res.witness.get("ok")
            and _exactly_below(net, x, res.b, mi, k, norm, float(delta))
        ):
            res.verdict = "below"
        else:
            res.verdict = "unknown"
    res.timings["total"] = time.perf_counter() - t0
    return res


def _exactly_below(net: Network, x: np.ndarray, b: np.ndarray, mi: int, k: int, norm: str, delta: float) -> bool:
    """Whether b answers "below delta" with no tolerance: ||b - x|| <= delta, b in the domain, and at least k
    classes i != m with z_i(b) >= z_m(b) by the forward pass. (With the solver's tolerances a pair at distance
    0.4166667 > delta = 0.41666666, or with z_i - z_m = -2.8e-17, answered "below".)"""
    z = logits(net, b[None])
    return bool(
        perturbation_norm(x, b, norm) <= delta
        and net.domain.contains(b[None], tol=0.0).all()
        and int(reached(z, mi, 0.0)[0]) >= k
    )


def _decide_by_robustness(
    net: Network,
    x: np.ndarray,
    mi: int,
    alpha: float,
    norm: str,
    delta: float,
    res: ResilienceResult,
    solver: str,
    time_limit: float | Deadline,
    threads: int | None,
) -> bool:
    """k = 1, fixed input: some e with ||e|| <= delta lets a rival reach m  <=>  min over the ball of
    z_m - max_{i != m} z_i is <= 0, which the robustness MILP decides (with the tie counted as reaching).
    Returns True when decided (res filled), False to fall back to the resilience MILP."""
    from ..robustness import verify_sample

    dl = Deadline.of(time_limit)
    r = verify_sample(
        net,
        x,
        delta,
        "inf" if norm == "inf" else "1",
        mi,
        solver=solver,
        time_limit=dl.sub(fraction=0.5),
        threads=threads,
    )
    if r.verdict == "holds":
        res.status, res.verdict = "infeasible", "not_below"
        res.notes.append("decided by the robustness MILP: no point of the ball lets a rival reach the class")
        return True
    if r.verdict == "violated" and r.counterexample is not None:
        b = np.asarray(r.counterexample, dtype=np.float64).ravel()
        w = _witness(net, x, b, mi, alpha, 1, norm, None)
        if w.get("ok") and _exactly_below(net, x, b, mi, 1, norm, delta):
            res.status, res.verdict, res.a, res.b, res.witness = "feasible", "below", x, b, w
            res.phi = w["norm_value"]
            res.notes.append("decided by the robustness MILP (counterexample re-checked)")
            return True
    return False
