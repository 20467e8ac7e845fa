"""The exact lattice check of an integer feature l whose slope test failed without a witness:

    min  s (f(x + e_l) - f(x))   over x in the domain with x_l <= upper_l - 1.

One hidden layer: the ramp model of :mod:`mipnet.verify.lattice` (each unit's share of the step is a
clamp of its pre-activation: at most one binary per unit). Deeper nets: two copies of the forward
encoding sharing x, tied by the difference cuts of :func:`mipnet.encode.properties.difference_cuts`
(every layer's value difference lies in the interval propagated from e_l; activation links).
Optimum >= -tol: monotone on the lattice (the feature takes integer values only, so consecutive
steps decide); otherwise the minimiser is a witness pair, re-checked by the forward pass.

(``shallow_form`` and ``lattice_step_model`` are looked up on :mod:`mipnet.verify.monotonic`, so that
patching them there takes effect.)
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyomo.environ as pyo

import mipnet.verify.monotonic as _pkg

from ...bounds import interval_bounds
from ...deadline import Deadline
from ...encode import encode_network, input_terms
from ...encode.properties import difference_cuts, functional_difference
from ...encode.terms import Terms
from ...network import Network
from .common import FeatureVerdict, _solve_cut, stopped_note
from .witness import _check_pair


def _difference_cuts(m: pyo.ConcreteModel, net: Network, ea: Any, eb: Any, l: int) -> None:
    """The cuts tying copy B (input x + e_l) to copy A (input x): :func:`difference_cuts` with the
    input difference exactly e_l (constraint list ``diff_cuts``)."""
    e_l = np.zeros(net.n_inputs)
    e_l[l] = 1.0
    difference_cuts(m, net, ea, eb, e_l, e_l, name="diff_cuts")


def _two_copy_model(
    net: Network, coef: np.ndarray, l: int, s: int, bnds: list[tuple[np.ndarray, np.ndarray]]
) -> tuple[pyo.ConcreteModel, Terms]:
    """min s (f(x + e_l) - f(x)): two copies of the forward encoding sharing x, with difference cuts."""
    dom = net.domain
    m = pyo.ConcreteModel()
    upper = dom.upper.copy()
    upper[l] = math.floor(dom.upper[l] + 1e-9) - 1
    x = input_terms(m, dom, upper=upper, name="x")
    xe = x.expr.copy()
    xe[l] = x.expr[l] + 1.0
    lo, hi = x.lower.copy(), x.upper.copy()
    lo[l] += 1.0
    hi[l] += 1.0
    xp = Terms(xe, lo, hi)
    # x + e_l leaves the domain's one-hot structure when l is a group member: box bounds for copy B
    in_group = any(l in g for g in dom.onehot_groups)
    ea = encode_network(m, net, x, bounds=bnds, prefix="A")
    eb = encode_network(m, net, xp, bounds=interval_bounds(net) if in_group else bnds, prefix="B")
    _difference_cuts(m, net, ea, eb, l)
    ya, yb = ea.outputs.expr.ravel(), eb.outputs.expr.ravel()
    m.obj = pyo.Objective(expr=s * functional_difference(ya, yb, coef))
    return m, x


def _lattice_verdict(
    net: Network,
    coef: np.ndarray,
    l: int,
    s: int,
    bnds: list[tuple[np.ndarray, np.ndarray]],
    verdict: FeatureVerdict,
    time_limit: float | Deadline,
    solver: str,
    threads: int | None,
    early_stop: bool,
    tol: float,
) -> None:
    """Integer feature whose slope test failed without a lattice witness: the exact lattice check

        min  s (f(x + e_l) - f(x))   over x in the domain with x_l <= upper_l - 1,

    one hidden layer: the ramp model of :mod:`mipnet.verify.lattice`; deeper nets: two copies of
    the forward encoding sharing x (:func:`_two_copy_model`). Optimum >= -tol: monotone on the lattice (the
    integer feature only takes integer values, so consecutive steps decide); otherwise the
    minimiser is a witness pair. ``time_limit`` (seconds or a Deadline) covers building the model too."""
    dl = Deadline.of(time_limit)
    dom = net.domain
    shallow = _pkg.shallow_form(net)
    scale = 1.0
    if shallow is not None:  # one hidden layer: the ramp model, one binary per unit at most
        zb = bnds[shallow.hidden] if bnds is not None and bnds[shallow.hidden] is not None else None
        # the objective's coefficients are the output weights: scaled to 1 at the largest (HiGHS's presolve dropped
        # units whose coefficients were 1e-9 and proved a step of -0.025 ">= -1e-7"); the tolerance scales with it
        top = float(np.max(np.abs(np.asarray(coef, dtype=np.float64) @ shallow.W2), initial=0.0))
        scale = top if np.isfinite(top) and top > 0 else 1.0
        m, x, _ = _pkg.lattice_step_model(shallow, dom, l, s, np.asarray(coef, dtype=np.float64) / scale, zb)
    else:
        m, x = _two_copy_model(net, coef, l, s, bnds)
    if dl.expired():
        verdict.note = "negative slope between lattice points; the time limit came before the exact lattice check"
        return
    res = _solve_cut(m, solver, dl.solver_limit(), threads, tol / scale, early_stop)
    if shallow is None and early_stop and res.bound is not None and res.bound >= -tol and not dl.expired():
        # the cut-off search's "infeasible" is its proof; the two-copy model of a nonempty domain is never
        # infeasible, and HiGHS called it so with x fixed at a violating point (badly scaled copies): the proof is
        # taken only when a search without the cut-off proves the same bound
        closed = {"mip_rel_gap": 0.0, "mip_abs_gap": tol / 10.0}  # (an optimum of 0 stopped at a bound of -1e-6)
        res = _solve_cut(m, solver, dl.solver_limit(), threads, tol, early_stop=False, extra=closed)
        if res.status == "infeasible":
            res.bound = None
    proved = res.bound is not None and res.bound >= -tol / scale  # (in the model's units: (1e-7 / 1.3) * 1.3 < -1e-7)
    for f in ("bound", "incumbent"):
        if getattr(res, f) is not None:
            setattr(res, f, getattr(res, f) * scale)
    if proved:
        res.bound = max(res.bound, -tol)
    verdict.how = "lattice"
    verdict.solver = res.to_dict()
    if res.bound is not None and res.bound >= -tol:
        verdict.status = "holds"
        verdict.note = (
            "the slope test fails between lattice points, the exact lattice check f(x + e_l) >= f(x) "
            + ("holds" if res.incumbent is None else f"holds (min step {res.incumbent:.6g})")
            + f", proved step >= {res.bound:.6g}"
        )
        verdict.bound = None
        return
    if res.has_solution and res.incumbent is not None and res.incumbent < -tol:
        xa = dom.snap(x.values()[None])[0]  # integers whole and one-hot levels exact (0.9999999999999993 was kept)
        xa[l] = min(xa[l], math.floor(dom.upper[l] + 1e-9) - 1)
        xb = xa.copy()
        xb[l] += 1.0
        w = _check_pair(net, coef, xa, xb, s, tol, None)
        if w is not None:
            verdict.status, verdict.witness = "violated", w
            return
    if res.status == "infeasible":  # (the model of a nonempty domain: the solver's numerical trouble)
        verdict.note = (
            "negative slope between lattice points; the solver called the lattice check's model of a nonempty "
            "domain infeasible: numerical trouble (badly scaled weights?), not a proof"
        )
        return
    verdict.note = stopped_note(
        res, dl.seconds, f"negative slope between lattice points; lattice check bound {res.bound}"
    )
