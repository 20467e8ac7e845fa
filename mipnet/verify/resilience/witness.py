"""The forward re-check of a resilience witness pair (a, b): every reported pair passes through here."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ...network import Network
from ...solve import relative_gap
from ..search import logits, perturbation_norm, reached, strong_margin
from .results import ResilienceResult

#: round-off allowed in a witness pair's logit comparisons, relative to 1 + max |z| of the point compared (a's
#: logits for a, b's for b): float64's, not a solver's (a relative 1e-6 took logits of 1e4 a hundredth apart as
#: "reached"; a's logit of 5e6 lent its allowance to b's logits of 4e-6); a solver's pair on its tolerances is moved
#: onto the exact side first (:func:`exact_pair`)
ROUND_OFF = 1e-12


def pair_tolerances(z: np.ndarray) -> tuple[float, float]:
    """The round-off allowances of a's and b's comparisons, each from its own logits (rows 0 and 1 of z)."""
    return ROUND_OFF * (1.0 + float(np.abs(z[0]).max())), ROUND_OFF * (1.0 + float(np.abs(z[1]).max()))


def _pair_holds(net: Network, a: np.ndarray, b: np.ndarray, m: int, alpha: float, k: int) -> bool:
    return bool(_witness(net, a, b, m, alpha, k, "1", None)["ok"])  # the one test of a pair


def exact_pair(
    net: Network, a: np.ndarray, b: np.ndarray, m: int, alpha: float, k: int, *, fixed_a: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """The pair (a, b) itself when it passes the forward pass exactly (to :data:`ROUND_OFF`), else the first that
    does of b' = b + t (b - a) alone, a' = a - t (b - a) alone (not with ``fixed_a``) and both, t = 1e-12, 1e-11,
    ..., 1 (put on the domain): a solver's pair lies on the boundary of both sets, within its tolerances, and a
    step away from the other point moves each inside (a's limiting rival need not be b's: moving a then can fail
    where moving b alone works). The distance grows by the factor 1 + t or 1 + 2t; ``_phi_of_witness`` measures
    it. The pair unchanged when no step works: its re-check then says it is not a pair."""
    if _pair_holds(net, a, b, m, alpha, k):
        return a, b
    d = b - a
    if not np.any(d):
        return a, b
    dom = net.domain
    for t in 10.0 ** np.arange(-12, 1):
        moves = [(a, dom.snap(b + t * d)[0])]
        if not fixed_a:
            moves += [(dom.snap(a - t * d)[0], b), (dom.snap(a - t * d)[0], dom.snap(b + t * d)[0])]
        for a2, b2 in moves:
            if _pair_holds(net, a2, b2, m, alpha, k):
                return a2, b2
    return _gradient_repair(net, a, b, m, alpha, k, fixed_a)


def _logit_jacobian(net: Network, x: np.ndarray) -> np.ndarray:
    """d z / d x with the logits of :func:`logits` (a single output l read as (0, l))."""
    from ...gradients import jacobian

    J = jacobian(net, x)[1]
    return np.vstack([np.zeros_like(J), J]) if J.shape[0] == 1 else J


def _gradient_repair(
    net: Network, a: np.ndarray, b: np.ndarray, m: int, alpha: float, k: int, fixed_a: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Each point that fails moved along the exact gradient of what it lacks (a: z_m - z_i for its rivals within
    1e-6 of the limit; b: z_i - z_m for the k rivals closest to reaching m), by its deficit over the gradient's
    squared norm times 1, 2, 10, ..., 1e4: a solver's pair short by 1e-9 where a tied rival limits a (moving a
    away from b lowered its margin) is repaired this way. The pair unchanged when no step works."""
    dom, ln_a = net.domain, math.log(alpha)

    def direction(x: np.ndarray, for_a: bool) -> tuple[np.ndarray, float]:
        z = logits(net, x[None])[0]
        J = _logit_jacobian(net, x)
        others = np.array([i for i in range(z.size) if i != m])
        if for_a:
            gaps = z[m] - z[others] - ln_a  # each must be >= 0
            near = others[gaps <= gaps.min() + 1e-6 * (1.0 + np.abs(z).max())]
            g = sum(J[m] - J[i] for i in near)
            need = max(0.0, -float(gaps.min()))
        else:
            gaps = z[others] - z[m]  # the k largest must be >= 0
            top = others[np.argsort(-gaps)[:k]]
            g = sum(J[i] - J[m] for i in top)
            need = max(0.0, -float(np.sort(gaps)[::-1][k - 1]))
        return np.asarray(g, dtype=np.float64), need

    ua, need_a = direction(a, True)
    ub, need_b = direction(b, False)
    for f in (1.0, 2.0, 10.0, 100.0, 1e3, 1e4):
        a2 = a
        if not fixed_a and need_a > 0 and np.any(ua):
            a2 = dom.snap(a + f * need_a * ua / float(ua @ ua))[0]
        b2 = b
        if need_b > 0 and np.any(ub):
            b2 = dom.snap(b + f * need_b * ub / float(ub @ ub))[0]
        if _pair_holds(net, a2, b2, m, alpha, k):
            return a2, b2
    return a, b


def _witness(
    net: Network, a: np.ndarray, b: np.ndarray, m: int, alpha: float, k: int, norm: str, phi: float | None
) -> dict[str, Any]:
    z = logits(net, np.vstack([a, b]))
    tol_a, tol_b = pair_tolerances(z)
    margin = float(strong_margin(z[:1], m)[0])
    n_reach = int(reached(z[1:], m, tol_b)[0])
    nv = perturbation_norm(a, b, norm)
    in_dom = bool(net.domain.contains(np.vstack([a, b]), tol=0.0).all())  # (solver points are snapped first)
    strong = margin >= math.log(alpha) - tol_a
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


#: how far (relative) a witness pair's distance may lie above the proved bound for "optimal", and the floor of the
#: scale it is relative to: DISTANCE_FLOOR times the domain's narrowest feature width (a floor of 1 let a domain 1e-5
#: wide be "optimal" 10 % off, and an edited certificate claim Phi 1e-4 where it is 0; a floor from the widest
#: feature let a net with one feature of width 1e5 beside two of 1e-3 be "optimal" 3.7 % off)
OPTIMAL_TOL = 1e-4
DISTANCE_FLOOR = 1e-6


def distance_scale(net: Network, norm: str) -> float:
    """The scale the distances' tolerances are floored at: the narrowest width of a feature that varies (1 when
    none varies or the domain is unbounded). ``norm`` is kept for the callers' symmetry (a width is one
    coordinate's distance in every norm)."""
    dom = net.domain
    if not dom.is_finite():
        return 1.0
    widths = (dom.upper - dom.lower)[dom.upper > dom.lower]
    return float(widths.min()) if widths.size else 1.0


def optimal_within(phi: float, bound: float, scale: float, tol: float = OPTIMAL_TOL) -> bool:
    """``phi`` and ``bound`` equal for "optimal": within ``tol`` of max(|phi|, |bound|, DISTANCE_FLOOR scale)."""
    return abs(phi - bound) <= tol * max(abs(phi), abs(bound), DISTANCE_FLOOR * scale)


def _phi_of_witness(res: ResilienceResult, scale: float = 1.0) -> None:
    """Phi as the checked witness pair's own distance, measured by numpy: the solver's objective is only what the
    solver reported (a big-M or tolerance slip can put its pair off the objective). A proved bound above a checked
    pair's distance (beyond :func:`optimal_within`) is false: it is dropped (numerical trouble; status feasible).
    The gap is recomputed, and "optimal" stays only while the pair is within :func:`optimal_within` of the bound
    (the re-check's "optimal means bound = Phi")."""
    w = res.witness
    if w and not w.get("ok"):  # the solver's pair, put on the domain, is not a pair: no value, only the bound
        res.notes.append(
            f"the solver's pair (Phi {res.phi if res.phi is not None else float('nan'):.6g}) fails the forward-pass "
            "re-check on the domain (numerical trouble: badly scaled weights?): no value is claimed"
        )
        res.phi, res.gap = None, None
        if res.status in ("optimal", "feasible"):
            res.status = "unknown"
        return
    if not w:
        return
    nv = float(w["norm_value"])
    if res.phi is not None and abs(nv - res.phi) > 1e-9 * (1.0 + abs(nv)):
        res.notes.append(f"Phi is the witness pair's distance {nv:.6g} (the solver's objective: {res.phi:.6g})")
    res.phi = nv
    if res.bound is not None:
        if res.bound > nv and not optimal_within(nv, res.bound, scale):
            refute_bound(res, nv, "the solver's own pair")
            return
        res.bound = min(res.bound, nv)
        res.gap = relative_gap(nv, res.bound)
        if res.status == "optimal" and not optimal_within(nv, res.bound, scale):
            res.status = "feasible"


def refute_bound(res: ResilienceResult, distance: float, what: str) -> None:
    """A checked pair at ``distance`` below the solver's proved bound: the bound is false (numerical trouble)."""
    res.notes.append(
        f"the solver's bound {res.bound:.6g} lies above {what} at distance {distance:.6g} (checked by the forward "
        "pass): numerical trouble (logits or inputs on the scale of the solver's tolerances?); no bound is claimed"
    )
    res.bound, res.gap = None, None
    if res.status in ("optimal", "infeasible"):
        res.status = "feasible"


def closest_sampled_pair(
    net: Network, mi: int, alpha: float, k: int, norm: str, n: int = 2000
) -> tuple[np.ndarray, np.ndarray, dict[str, Any]] | None:
    """The closest pair (a strongly classified, b reaching k other classes) among ``n`` random domain points (at most
    200 of each kind), b then moved towards a by bisection on the segment while it still reaches k classes; the
    pair and its forward-pass witness, or None. Exactly (no tolerance): only a pair that is one in the forward pass
    overrules the MILP (a tolerance of 1e-6 |z| took logits of 1e6 half a unit apart as "reached")."""
    X = net.domain.sample(n, 0)
    z = logits(net, X)
    A = X[strong_margin(z, mi) >= math.log(alpha)]
    B = X[reached(z, mi, 0.0) >= k]
    if not (len(A) and len(B)):
        return None
    A, B = A[:200], B[:200]
    best = (np.inf, 0, 0)
    for i, a in enumerate(A):  # one row of distances at a time (200 x 200 x 784 floats would be 250 MB)
        diff = np.abs(B - a)
        dist = diff.sum(axis=1) if norm == "1" else diff.max(axis=1)
        j = int(np.argmin(dist))
        if dist[j] < best[0]:
            best = (float(dist[j]), i, j)
    _, i, j = best
    a, b = A[i], B[j]
    lo, hi = 0.0, 1.0  # a + hi (b - a) reaches k classes (checked), a + lo (b - a) does not (a is strong)
    for _ in range(30):
        mid = 0.5 * (lo + hi)
        if reached(logits(net, (a + mid * (b - a))[None, :]), mi, 0.0)[0] >= k:
            hi = mid
        else:
            lo = mid
    for cand in (net.domain.snap(a + hi * (b - a))[0], b):
        w = _witness(net, a, cand, mi, alpha, k, norm, None)
        if w["ok"]:
            return a, cand, w
    return None


def check_bound_by_samples(net: Network, res: ResilienceResult, mi: int, alpha: float, k: int, norm: str) -> None:
    """The solver's proved bound against the closest sampled pair (:func:`closest_sampled_pair`): a checked pair
    below it refutes it (tiny logits let HiGHS prove "optimal" at 3x the true Phi)."""
    if res.bound is None or not net.domain.is_finite():
        return
    found = closest_sampled_pair(net, mi, alpha, k, norm)
    if found is None:
        return
    a, b, w = found
    nv = float(w["norm_value"])
    if nv < res.bound and not optimal_within(nv, res.bound, distance_scale(net, norm)):
        refute_bound(res, nv, "a sampled pair")
        if res.phi is None or nv < res.phi:
            res.a, res.b, res.witness, res.phi = a, b, w, nv


#: the solvers' feasibility tolerance on one variable (HiGHS's mip_feasibility_tolerance as mipnet sets it)
SOLVER_TOLERANCE = 1e-7
#: a "no pair" / "nothing strongly classified" answer is taken as a proof only where the tolerance moves the logits
#: by at most this (:func:`tolerance_reach`)
TRUSTED_REACH = 1e-3


def tolerance_reach(net: Network) -> float:
    """How far a solver's feasibility tolerance on one variable can move the logits: ``SOLVER_TOLERANCE`` times the
    largest L-inf Lipschitz bound from any layer's input to the output (the product of the affine maps' largest
    absolute row sums; a piecewise-linear activation counts its largest slope). Weights of 2e7 give a reach of
    about 8: HiGHS then called a class "never reached" whose rival region was 1e-7 wide."""
    from ..spec_bounds import network_maps

    maps = network_maps(net)
    lip, reach = 1.0, 0.0
    for i in range(len(net.layers) - 1, -1, -1):
        layer = net.layers[i]
        if i in maps:
            A = maps[i][0]
            rows = np.abs(A).sum(axis=1)
            lip *= float(np.max(rows)) if np.size(rows) else 0.0
        else:
            lip *= max(1.0, abs(float(getattr(layer, "alpha", 1.0) or 1.0)))
        reach = max(reach, lip)
    return SOLVER_TOLERANCE * reach


def distrust_infeasible(net: Network, res: ResilienceResult, what: str) -> None:
    """A solver's "infeasible" on a net whose :func:`tolerance_reach` exceeds ``TRUSTED_REACH`` is not taken as a
    proof: the status becomes "unknown", with a note (``what``: the claim not made)."""
    if res.status != "infeasible":
        return
    reach = tolerance_reach(net)
    if reach > TRUSTED_REACH:
        res.status, res.bound, res.gap = "unknown", None, None
        res.notes.append(
            f"the solver reported {what}, but its feasibility tolerance ({SOLVER_TOLERANCE:g} on a variable) can move "
            f"this net's logits by up to {reach:.3g} (large weights): not taken as a proof (try --solver scip)"
        )


def _refute_infeasible_by_samples(
    net: Network, res: ResilienceResult, mi: int, alpha: float, k: int, norm: str, n: int = 2000
) -> None:
    """The MILP said "no pair at all", but any strongly classified point a and any point b reaching k other classes
    form one: if random domain points contain both, the solver's claim is false (numerical trouble) and the closest
    such sampled pair is reported, with no bound."""
    found = closest_sampled_pair(net, mi, alpha, k, norm, n)
    if found is None:
        return
    a, b, w = found
    res.status, res.bound, res.gap = "feasible", None, None
    res.a, res.b, res.witness = a, b, w
    res.phi = float(w["norm_value"])
    res.notes.append(
        "the solver reported no pair, but random domain points form one (numerical trouble: badly scaled "
        "weights?): the closest sampled pair is reported, no bound is claimed"
    )
