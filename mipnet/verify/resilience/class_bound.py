"""The class bound Phi_m (two copies of the net, a variable input) and the network bound Xi = min_m Phi_m.

**Class bound Phi_m** (a is a variable: a property of the class, not of one input):

    Phi_m = min ||e||                       (||.||_1 or ||.||_inf)
            a in D, a + e in D,
            z_m(a) >= ln(alpha) + z_i(a)                   for all i != m   (a strongly classified),
            z_i(a + e) >= z_m(a + e) - M_i (1 - c_i)       for all i != m,  c_i in {0, 1},
            sum_{i != m} c_i >= k                          (at least k classes reach m),

M_i = max(0, U_m - L_i) from sound bounds of the perturbed copy's logits. Both copies are the one
encoder (:func:`mipnet.encode.encode_network`) over shared weights. ||e||_1 = sum t_i with
t_i >= +-(b_i - a_i); ||e||_inf = s with s >= +-(b_i - a_i). The network bound is Xi = min_m Phi_m.

(``_solve`` is looked up on :mod:`mipnet.verify.resilience`, so that patching it there takes effect.)
"""

from __future__ import annotations

import math
import time
from typing import cast

import numpy as np
import pyomo.environ as pyo

import mipnet.verify.resilience as _pkg

from ...deadline import Deadline
from ...domain import Domain
from ...encode import build_estimate, input_terms
from ...encode.network import domain_centre
from ...encode.properties import add_margin_floor
from ...errors import UnsupportedError
from ...layers import Dense
from ...network import Network
from ..search import logits, perturbation_norm, strong_margin
from .local import local_resilience
from .model import (
    _add_norm,
    _add_reach,
    _add_twin,
    _check_args,
    _class_index,
    _encode_copy,
    _logit_terms,
    _prepare_bounds,
    _start_rivals_and_norm,
    _start_values,
)
from .results import (
    BOUNDS_SHARE,
    INIT_LOCAL_SHARE,
    INIT_STRONG_SHARE,
    Heuristics,
    ResilienceResult,
    _base,
    _fill,
    _out_of_time,
)
from .strong import alpha_max
from .witness import (
    DISTANCE_FLOOR,
    OPTIMAL_TOL,
    _keep_initial_pair,
    _phi_of_witness,
    _refute_infeasible_by_samples,
    _witness,
    check_bound_by_samples,
    distance_scale,
    distrust_infeasible,
    exact_pair,
    optimal_within,
    refute_bound,
)


def class_resilience(
    net: Network,
    m: int | str,
    *,
    alpha: float = 1.0,
    k: int = 1,
    norm: str = "1",
    heuristics: Heuristics | None = None,
    solver: str = "highs",
    time_limit: float | Deadline = 60.0,
    threads: int | None = None,
    samples: np.ndarray | None = None,
) -> ResilienceResult:
    """Phi_m of class m: the smallest perturbation taking a strongly classified input to >= k rival classes.

    ``time_limit`` (seconds or a Deadline) covers everything: MIP bound tightening (at most ``BOUNDS_SHARE``),
    the initial strongly classified input and its minimal perturbation, building the two-copy model and the
    MILP. Cut short, the result has no bound (status feasible with the initial pair, or unknown)."""
    heur = heuristics or Heuristics()
    dl = Deadline.of(time_limit)
    mi = _class_index(net, m)
    _check_args(net, alpha, k, norm)
    dom = net.domain
    dom.require_finite()
    unit = _in_unit_scale(net)
    if unit is not None:
        return _from_unit_scale(net, unit, mi, alpha, k, norm, heur, solver, dl, threads, samples)
    res = _base("class", net, mi, alpha, k, norm, heur)
    ln_a = math.log(alpha)
    t0 = time.perf_counter()
    bounds, big_m = _prepare_bounds(net, dom.lower, dom.upper, heur, dl.sub(fraction=BOUNDS_SHARE))
    res.timings["bounds"] = time.perf_counter() - t0

    a0 = b0 = None
    if heur.init:
        t1 = time.perf_counter()
        X = dom.sample(2000, 0)
        if samples is not None:
            X = np.vstack([np.asarray(samples, float).reshape(-1, net.n_inputs), X])
        margins = strong_margin(logits(net, X), mi)
        ok = np.flatnonzero(margins >= ln_a)
        if ok.size:  # the strongly classified sample closest to the alpha threshold: likely near a boundary
            a0 = X[ok[int(np.argmin(margins[ok]))]]
        else:
            am = alpha_max(
                net,
                mi,
                solver=solver,
                time_limit=dl.sub(fraction=INIT_STRONG_SHARE),
                threads=threads,
                heuristics=Heuristics(heur.dataflow, False, False, True),
            )
            if am.status == "infeasible" or (am.bound is not None and am.bound < ln_a - 1e-9):
                res.status = "infeasible"
                res.notes.append(
                    f"no input is strongly classified at alpha={alpha} (alpha_max <= "
                    f"{math.exp(am.bound) if am.bound is not None else float('nan'):.4g})"
                )
                distrust_infeasible(net, res, "that no input is strongly classified")
                res.timings["init_strong"] = time.perf_counter() - t1
                res.timings["total"] = time.perf_counter() - t0
                return res
            if am.a is not None and am.witness.get("strong_margin", -np.inf) >= ln_a:
                a0 = am.a
        res.timings["init_strong"] = time.perf_counter() - t1
        if a0 is not None and not dl.expired():
            t2 = time.perf_counter()
            loc = local_resilience(
                net,
                a0,
                mi,
                alpha=alpha,
                k=k,
                norm=norm,
                solver=solver,
                threads=threads,
                heuristics=Heuristics(heur.dataflow, False, False, True),
                time_limit=dl.sub(fraction=INIT_LOCAL_SHARE),
            )
            if loc.b is not None and loc.witness.get("ok"):
                b0 = loc.b
                res.phi_init = perturbation_norm(a0, b0, norm)
            res.timings["init_local"] = time.perf_counter() - t2

    t3 = time.perf_counter()
    need = build_estimate(net, copies=2)
    if not dl.allows(need):  # the two-copy build cannot be interrupted: it would end past the deadline
        if b0 is not None:
            assert a0 is not None  # b0 is found near a0, its norm measured (phi_init)
            res.phi, res.a, res.b = res.phi_init, a0, b0
            res.witness = _witness(net, a0, b0, mi, alpha, k, norm, None)
        res.notes.append(f"the time limit would pass while the MILP is built (about {need:.2g} s)")
        _out_of_time(res)
        res.timings["total"] = time.perf_counter() - t0
        return res
    model = pyo.ConcreteModel()
    model.A, model.B = pyo.Block(), pyo.Block()
    mid = domain_centre(dom)  # offsets from the box's centre where it lies far from the origin
    xa = input_terms(model.A, dom, name="a", centre=mid)
    xb = input_terms(model.B, dom, name="b", centre=mid)
    enc_a = _encode_copy(model.A, net, xa, bounds, big_m, "A")
    enc_b = _encode_copy(model.B, net, xb, bounds, big_m, "B")
    za, _, _ = _logit_terms(enc_a.outputs)
    zb, lob, hib = _logit_terms(enc_b.outputs)
    model.strong = pyo.ConstraintList()
    add_margin_floor(model.strong, za, mi, ln_a)
    c, others = _add_reach(model, "p", zb, lob, hib, mi, k)
    a_e, b_e = xa.expr.ravel(), xb.expr.ravel()
    obj, aux = _add_norm(model, a_e, b_e, dom.upper - dom.lower, norm)
    model.obj = pyo.Objective(expr=obj)
    if heur.twin:
        e_bound = dom.upper - dom.lower
        if res.phi_init is not None:
            e_bound = np.minimum(e_bound, res.phi_init * (1 + 1e-6) + 1e-9)
        e_abs = np.asarray(aux, dtype=object).ravel() if norm == "1" else np.full(dom.n_features, aux, dtype=object)
        res.notes.append(f"twin constraints: {_add_twin(model, net, enc_a, enc_b, e_bound, e_abs)}")
    warm = None
    if b0 is not None:
        assert a0 is not None and res.phi_init is not None  # b0 is found near a0, its norm measured (phi_init)
        phi0 = res.phi_init
        # |sum_i e_i| <= ||e||_1 <= Phi_ini (the paper's cut); for L-inf |sum_i e_i| <= n ||e||_inf
        cap = (phi0 if norm == "1" else b_e.size * phi0) * (1 + 1e-7) + 1e-9
        model.cut_sum = pyo.Constraint(expr=pyo.inequality(-cap, sum(b_e[i] - a_e[i] for i in range(b_e.size)), cap))
        model.cut_obj = pyo.Constraint(expr=obj <= phi0 * (1 + 1e-7) + 1e-9)
        warm = _start_values(enc_a, net, a0)
        for var, val in _start_values(enc_b, net, b0).items():
            warm[var] = val
        _start_rivals_and_norm(warm, net, b0, c, others, mi, aux, b0 - a0, norm)
    res.n_binaries = enc_a.n_binaries() + enc_b.n_binaries() + len(others)
    res.timings["build"] = time.perf_counter() - t3
    t4 = time.perf_counter()
    if dl.expired():
        if b0 is not None:
            assert a0 is not None  # b0 is found near a0, its norm measured (phi_init)
            res.phi, res.a, res.b = res.phi_init, a0, b0
            res.witness = _witness(net, a0, b0, mi, alpha, k, norm, None)
        _out_of_time(res)
        res.timings["total"] = time.perf_counter() - t0
        return res
    scale = distance_scale(net, norm)
    r = _pkg._solve(
        model,
        solver,
        heur,
        [enc_a, enc_b],
        len(net.layers),
        dl,
        threads,
        warm,
        None,
        res.notes,
        OPTIMAL_TOL * DISTANCE_FLOOR * scale,
    )
    res.timings["milp"] = time.perf_counter() - t4
    _fill(res, r)
    if r.status == "infeasible" and b0 is not None:
        assert a0 is not None  # b0 is found near a0, its norm measured (phi_init)
        _keep_initial_pair(net, res, a0, b0, mi, alpha, k, norm)
    elif r.status == "infeasible":
        _refute_infeasible_by_samples(net, res, mi, alpha, k, norm)
        distrust_infeasible(net, res, "no pair at all")
    if r.has_solution:
        # the solver's pair on the domain (integers whole, one-hot exact) before its forward-pass re-check
        res.a, res.b = dom.snap(xa.values().ravel())[0], dom.snap(xb.values().ravel())[0]
        res.a, res.b = exact_pair(net, res.a, res.b, mi, alpha, k)  # off the solver's tolerances
        res.witness = _witness(net, res.a, res.b, mi, alpha, k, norm, None)
        _phi_of_witness(res, scale)
    p0 = res.phi_init
    if res.bound is not None and b0 is not None and p0 is not None and p0 < res.bound:
        if not optimal_within(p0, res.bound, scale):  # the initial pair is checked: a bound above it is false
            assert a0 is not None  # b0 is found near a0
            refute_bound(res, p0, "the initial pair")
            if res.phi is None or p0 < res.phi:
                res.phi, res.a, res.b = p0, a0, b0
                res.witness = _witness(net, a0, b0, mi, alpha, k, norm, None)
    check_bound_by_samples(net, res, mi, alpha, k, norm)
    res.timings["total"] = time.perf_counter() - t0
    return res


#: a continuous domain whose widest feature is narrower than this is solved in units of that width (below)
SMALL_WIDTH = 1e-2


def _in_unit_scale(net: Network) -> tuple[Network, float] | None:
    """The net on its domain in units of the widest feature's width s, when s < SMALL_WIDTH: x = l + s u,
    u in [0, (U - l) / s], the first Dense layer W x + c becomes (s W) u + (c + W l). HiGHS proved "optimal"
    Phi 1.7 % above the optimum on a domain [0, 1e-5]^2 (tolerances of 1e-7 against distances of 1e-6); in units
    of the width the same classifier has Phi / s. Only continuous domains (an integer stays no integer) and a
    first Dense layer on flat inputs; None otherwise."""
    dom = net.domain
    width = float(np.max(dom.upper - dom.lower)) if dom.n_features else 0.0
    first = net.layers[0]
    if not 0.0 < width < SMALL_WIDTH or dom.integer.any() or dom.onehot_groups or first.kind != "Dense":
        return None
    if len(net.input_shape) != 1:
        return None
    dense = cast(Dense, first)  # (its kind)
    W, c = np.asarray(dense.weight, dtype=np.float64), np.asarray(dense.bias, dtype=np.float64)
    scaled = Dense(W * width, c + W @ dom.lower)
    domain = Domain(dom.names, lower=np.zeros(dom.n_features), upper=(dom.upper - dom.lower) / width)
    return Network([scaled, *net.layers[1:]], domain=domain, class_names=net.class_names), width


def _from_unit_scale(
    net: Network,
    unit: tuple[Network, float],
    mi: int,
    alpha: float,
    k: int,
    norm: str,
    heur: Heuristics,
    solver: str,
    dl: Deadline,
    threads: int | None,
    samples: np.ndarray | None,
) -> ResilienceResult:
    """Phi_m solved in units of the domain's width (:func:`_in_unit_scale`) and mapped back: the pair to
    x = l + s u and re-checked on ``net`` itself (moved off the boundary by :func:`exact_pair`), Phi its distance,
    the bound times s lowered by a relative 1e-12 (the rounding of the map)."""
    scaled, s = unit
    lo = net.domain.lower
    inner = None if samples is None else (np.asarray(samples, float).reshape(-1, net.n_inputs) - lo) / s
    r = class_resilience(
        scaled, mi, alpha=alpha, k=k, norm=norm, heuristics=heur, solver=solver, time_limit=dl, threads=threads,
        samples=inner,
    )  # fmt: skip
    res = _base("class", net, mi, alpha, k, norm, heur)
    res.status, res.notes, res.timings, res.solver = r.status, r.notes, r.timings, r.solver
    res.n_binaries = r.n_binaries
    res.notes.append(f"solved in units of the domain's width {s:.3g} (x = lower + {s:.3g} u)")
    res.bound = None if r.bound is None else r.bound * s * (1.0 - 1e-12)
    res.phi_init = None if r.phi_init is None else r.phi_init * s
    if r.a is not None and r.b is not None:
        a, b = net.domain.snap(lo + s * np.asarray(r.a))[0], net.domain.snap(lo + s * np.asarray(r.b))[0]
        res.a, res.b = exact_pair(net, a, b, mi, alpha, k)
        res.witness = _witness(net, res.a, res.b, mi, alpha, k, norm, None)
        res.phi = float(r.phi) * s if r.phi is not None else None
        _phi_of_witness(res, distance_scale(net, norm))
    elif res.status in ("optimal", "feasible"):
        res.status = "unknown"
    return res


def network_resilience(
    net: Network,
    *,
    alpha: float = 1.0,
    k: int = 1,
    norm: str = "1",
    heuristics: Heuristics | None = None,
    solver: str = "highs",
    time_limit: float | Deadline = 60.0,
    threads: int | None = None,
) -> tuple[float | None, list[ResilienceResult]]:
    """Xi = min_m Phi_m over the classes (None if some class is undecided and no class gives a value),
    with the per-class results. ``time_limit`` is for the whole: each class gets the time left over the classes
    left (``time_limit`` / number of classes when every class uses its share)."""
    if net.class_names is None:
        raise UnsupportedError("maximum resilience is defined for classifiers only")
    n = len(net.class_names)
    total = Deadline.of(time_limit)
    results = [
        class_resilience(
            net,
            m,
            alpha=alpha,
            k=k,
            norm=norm,
            heuristics=heuristics,
            solver=solver,
            time_limit=total.share(n - m),
            threads=threads,
        )
        for m in range(n)
    ]
    vals = [r.phi for r in results if r.phi is not None]
    return (min(vals) if vals else None), results
