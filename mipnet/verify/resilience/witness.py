"""The forward re-check of a resilience witness pair (a, b): every reported pair passes through here."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ...network import Network
from ...solve import relative_gap
from ..search import logits, perturbation_norm, reached, strong_margin
from .results import TOL, ResilienceResult


def _witness(
    net: Network, a: np.ndarray, b: np.ndarray, m: int, alpha: float, k: int, norm: str, phi: float | None
) -> dict[str, Any]:
    z = logits(net, np.vstack([a, b]))
    tol = TOL * (1.0 + float(np.abs(z).max()))
    margin = float(strong_margin(z[:1], m)[0])
    n_reach = int(reached(z[1:], m, tol)[0])
    nv = perturbation_norm(a, b, norm)
    in_dom = bool(net.domain.contains(np.vstack([a, b]), tol=1e-6).all())
    strong = margin >= math.log(alpha) - tol
    ok = strong and n_reach >= k and in_dom and (phi is None or nv <= phi + 1e-5 * (1 + abs(phi)))
    return {
        "ok": bool(ok),
        "strong_margin": margin,
        "ln_alpha": math.log(alpha),
        "classes_reached": n_reach,
        "norm_value": nv,
        "in_domain": in_dom,
        "logits_a": z[0].tolist(),
        "logits_b": z[1].tolist(),
    }


def _keep_initial_pair(
    net: Network, res: ResilienceResult, a: np.ndarray, b: np.ndarray, mi: int, alpha: float, k: int, norm: str
) -> None:
    """The MILP under the cut ||e|| <= Phi_ini came back infeasible although the initial pair (a, b) passed the
    forward re-check (within its tolerance): "infeasible" would claim that no perturbation at all reaches the
    classes. Report the pair instead, with no proved bound."""
    res.status, res.phi, res.bound, res.gap = "feasible", res.phi_init, None, None
    res.a, res.b = a, b
    res.witness = _witness(net, a, b, mi, alpha, k, norm, None)
    res.notes.append(
        "the MILP under the initial cut was infeasible (the initial pair reaches the classes only "
        "within the re-check tolerance): the initial pair is reported, no bound is claimed"
    )


#: how far (relative, absolute below 1) a witness pair's distance may lie above the proved bound for "optimal"
OPTIMAL_TOL = 1e-4


def _phi_of_witness(res: ResilienceResult) -> None:
    """Phi as the checked witness pair's own distance, measured by numpy: the solver's objective is only what the
    solver reported (a big-M or tolerance slip can put its pair off the objective). The proved bound stays (it
    cannot exceed a value a pair attains), the gap is recomputed, and "optimal" stays only while the pair is within
    :data:`OPTIMAL_TOL` of the bound (relative; absolute below 1: the re-check's "optimal means bound = Phi")."""
    w = res.witness
    if not w or not w.get("ok"):
        return
    nv = float(w["norm_value"])
    if res.phi is not None and abs(nv - res.phi) > 1e-9 * (1.0 + abs(nv)):
        res.notes.append(f"Phi is the witness pair's distance {nv:.6g} (the solver's objective: {res.phi:.6g})")
    res.phi = nv
    if res.bound is not None:
        res.bound = min(res.bound, nv)
        res.gap = relative_gap(nv, res.bound)
        if res.status == "optimal" and nv - res.bound > OPTIMAL_TOL * max(1.0, abs(nv)):
            res.status = "feasible"
