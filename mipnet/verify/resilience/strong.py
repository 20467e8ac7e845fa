"""alpha_max of a class: the largest alpha for which some input is strongly classified to it.

    max t   s.t.   a in D,   z_m(a) >= t + z_i(a)  for all i != m;     alpha_max = exp(t*).

(``_solve`` is looked up on :mod:`mipnet.verify.resilience`, so that patching it there takes effect.)
"""

from __future__ import annotations

import time

import numpy as np
import pyomo.environ as pyo

import mipnet.verify.resilience as _pkg

from ...deadline import Deadline
from ...encode import build_estimate, input_terms
from ...encode.network import domain_centre
from ...encode.properties import add_margin_floor
from ...network import Network
from ..search import logits, strong_margin
from .model import _check_args, _class_index, _encode_copy, _logit_terms, _prepare_bounds, _start_values
from .results import BOUNDS_SHARE, Heuristics, ResilienceResult, _base, _fill, _out_of_time


def alpha_max(
    net: Network,
    m: int | str,
    *,
    solver: str = "highs",
    time_limit: float | Deadline = 60.0,
    threads: int | None = None,
    heuristics: Heuristics | None = None,
) -> ResilienceResult:
    """The largest alpha for which some input is strongly classified to m: max t, alpha_max = exp(t).
    ``time_limit`` (seconds or a Deadline) covers bounds, model building and the MILP."""
    heur = heuristics or Heuristics()
    mi = _class_index(net, m)
    _check_args(net, 1.0, 1, "1")
    res = _base("alpha_max", net, mi, 1.0, 1, "1", heur)
    dl = Deadline.of(time_limit)
    t0 = time.perf_counter()
    bounds, big_m = _prepare_bounds(net, net.domain.lower, net.domain.upper, heur, dl.sub(fraction=BOUNDS_SHARE))
    res.timings["bounds"] = time.perf_counter() - t0
    need = build_estimate(net)
    if not dl.allows(need):  # the build cannot be interrupted: it would end past the deadline
        res.notes.append(f"the time limit would pass while the MILP is built (about {need:.2g} s)")
        _out_of_time(res)
        res.timings["total"] = time.perf_counter() - t0
        return res
    model = pyo.ConcreteModel()
    model.A = pyo.Block()
    mid = domain_centre(net.domain)  # offsets from the box's centre far from the origin
    xa = input_terms(model.A, net.domain, name="a", centre=mid)
    enc = _encode_copy(model.A, net, xa, bounds, big_m, "A")
    z, lo, hi = _logit_terms(enc.outputs)
    others = [i for i in range(len(z)) if i != mi]
    span = float(hi[mi] - lo[others].min())
    model.t = pyo.Var(bounds=(float(lo[mi] - hi[others].max()), span))
    model.margin = pyo.ConstraintList()
    add_margin_floor(model.margin, z, mi, model.t)
    model.obj = pyo.Objective(expr=model.t, sense=pyo.maximize)
    res.n_binaries = enc.n_binaries()
    warm = None
    if heur.init:
        X = net.domain.sample(2000, 0)
        best = X[int(np.argmax(strong_margin(logits(net, X), mi)))]
        warm = _start_values(enc, net, best)
        warm[model.t] = float(strong_margin(logits(net, best[None]), mi)[0])
    t1 = time.perf_counter()
    if dl.expired():
        _out_of_time(res)
        res.timings["total"] = time.perf_counter() - t0
        return res
    r = _pkg._solve(model, solver, heur, [enc], len(net.layers), dl, threads, warm, None, res.notes)
    res.timings["milp"] = time.perf_counter() - t1
    _fill(res, r)
    if r.has_solution:
        assert r.incumbent is not None  # r.has_solution
        a = net.domain.snap(xa.values().ravel())[0]  # on the domain (integers whole) before its re-check
        res.a = a
        res.witness = {
            "strong_margin": float(strong_margin(logits(net, a[None]), mi)[0]),
            "ok": bool(
                abs(float(strong_margin(logits(net, a[None]), mi)[0]) - r.incumbent) <= 1e-5 * (1 + abs(r.incumbent))
            ),
        }
    res.timings["total"] = time.perf_counter() - t0
    return res
