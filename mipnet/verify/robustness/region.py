"""The set a robustness verdict speaks of: the ball around a sample intersected with the model's domain.

Class labels to indices, the domain check of a sample, the ball's box, forward-pass margins and the projection
of a solver's point back into the ball and the domain (solver tolerances, integers, one-hot groups).
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from ...domain import Domain
from ...encode.properties import class_margins
from ...errors import DataError, UnsupportedError
from ...network import Network
from .results import _jsonable, normalise_norm


def class_indices(net: Network, labels: Sequence[Any]) -> np.ndarray:
    """Class indices of ``labels`` given as the model's class names (compared also as strings, a whole float as its
    integer). Integer positions are not read as classes when the classes have other names: with names such as
    ["1", "0"], the label 1 would be ambiguous (a wrong class defended, a wrong verdict)."""
    names = list(net.class_names or [])
    lookup: dict[Any, int] = {}
    for i, n in enumerate(names):
        lookup.setdefault(n, i)
        lookup.setdefault(str(n), i)
    out = np.empty(len(labels), dtype=int)
    for j, lab in enumerate(labels):
        lab = _jsonable(lab)
        if lab in lookup:
            out[j] = lookup[lab]
            continue
        if isinstance(lab, float) and lab.is_integer() and int(lab) in lookup:
            out[j] = lookup[int(lab)]
            continue
        if str(lab) in lookup:
            out[j] = lookup[str(lab)]
            continue
        raise DataError(
            f"label {lab!r} of row {j} is not one of the model's classes {names} (labels are class names, not "
            "their positions)"
        )
    return out


def region_text(net: Network, eps: float, norm: str) -> str:
    """The set a robustness verdict speaks of, in words (stored in every result, printed by the CLI)."""
    d = net.domain
    extra = (", integer features" if d.integer.any() else "") + (", one-hot groups" if d.onehot_groups else "")
    return (
        f"{'L-inf' if normalise_norm(norm) == 'inf' else 'L1'} ball of radius {eps:g} around the sample, "
        f"intersected with the model's input domain (its box{extra})"
    )


def check_in_domain(net: Network, x: np.ndarray, index: int = 0) -> None:
    """A sample outside the model's input domain is an input error: the ball cut to the domain would not
    contain it (or be empty), and the verdict would silently speak of another set."""
    d = net.domain
    x = np.asarray(x, dtype=np.float64).ravel()
    # the test every witness passes (the box exactly, integers whole): with 1e-7 of slack a row 5e-8 off the
    # grid was taken, its eps = 0 ball held no point of the domain and "holds" spoke of the empty set
    if _in_domain(net, x):
        return
    if not np.all(np.isfinite(x)):
        raise DataError(f"row {index} has NaN or inf values")
    out = np.flatnonzero((x < d.lower) | (x > d.upper))
    if out.size:
        i = int(out[0])
        why = f"feature {d.names[i]!r} = {x[i]:.10g} is outside [{d.lower[i]:g}, {d.upper[i]:g}]"
    elif d.integer.any() and np.any(x[d.integer] != np.round(x[d.integer])):
        i = int(np.flatnonzero(d.integer & (x != np.round(x)))[0])
        why = f"integer feature {d.names[i]!r} = {x[i]:.10g} is not an integer"
    else:
        why = "a one-hot group is not one-hot"
    raise DataError(
        f"row {index} lies outside the model's input domain ({why}); robustness is verified on the "
        "ball intersected with the domain, so the sample must lie in it"
    )


def _sum_error(a: np.ndarray, b: float, s: np.ndarray) -> np.ndarray:
    """The exact a + b - s of s = fl(a + b) (Knuth's TwoSum: a float; 0 where a sum is not finite)."""
    with np.errstate(invalid="ignore", over="ignore"):
        bb = s - a
        err = (a - (s - bb)) + (b - bb)
    return np.where(np.isfinite(err), err, 0.0)


def ball_box(net: Network, x: np.ndarray, eps: float, norm: str, inward: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """The box [x - eps, x + eps] intersected with the domain's box (it contains the L1 ball too), its ends
    rounded outward: every real point of the ball is in it (the regions proofs speak of); with ``inward`` rounded
    inward: every float of it is in the real ball (where witnesses are put: fl(1000000.5 - (1 - 1e-11)) =
    999999.5 lies outside the ball, and was reported as a counterexample at distance 1.0 > eps)."""
    x = np.asarray(x, dtype=np.float64)
    lo_s, hi_s = x - eps, x + eps
    e_lo, e_hi = _sum_error(x, -eps, lo_s), _sum_error(x, eps, hi_s)
    if inward:  # the exact end above the float lower end: one float up (and symmetrically)
        lo_s = np.where(e_lo > 0, np.nextafter(lo_s, np.inf), lo_s)
        hi_s = np.where(e_hi < 0, np.nextafter(hi_s, -np.inf), hi_s)
    else:
        lo_s = np.where(e_lo < 0, np.nextafter(lo_s, -np.inf), lo_s)
        hi_s = np.where(e_hi > 0, np.nextafter(hi_s, np.inf), hi_s)
    lo, hi = np.maximum(lo_s, net.domain.lower), np.minimum(hi_s, net.domain.upper)
    # whole-number coordinates: the ends rounded to whole numbers, inward, which keeps exactly the box's whole numbers
    # (ceil of an end rounded outward is still below every real point of the ball; 1 - 1e-9 left 2 in the MILP)
    whole = _whole_coordinates(net.domain)
    return np.where(whole, np.ceil(lo), lo), np.where(whole, np.floor(hi), hi)


def _whole_coordinates(d: Domain) -> np.ndarray:
    """The coordinates that take whole numbers only: integer features and the members of one-hot groups."""
    whole = d.integer.copy()
    for g in d.onehot_groups:
        whole[np.asarray(g, dtype=int)] = True
    return whole


def l1_radius(net: Network, eps: float, norm: str) -> float:
    """The L1 budget of the MILP: ``eps``, or floor(eps) when every coordinate is a whole number (integer features,
    one-hot groups): their steps sum to a whole number, so the set is the same, and the solver's feasibility
    tolerance cannot take a step of 2 on a budget of 2 - 1e-12 (a category switch no point of the ball makes)."""
    d = net.domain
    whole = _whole_coordinates(d)
    return float(math.floor(eps)) if norm == "1" and bool(whole.all()) and math.isfinite(eps) else eps


def _sub_domain(net: Network, lo: np.ndarray, hi: np.ndarray) -> Domain:
    d = net.domain
    if np.any(lo > hi + 1e-12):
        raise DataError("the ball around the sample does not meet the model's input domain")
    return Domain(d.names, lo, np.maximum(hi, lo), d.integer, d.onehot_groups)


def margins(net: Network, logits: np.ndarray, cls: np.ndarray) -> np.ndarray:
    """Forward-pass margins z_c - max_{k != c} z_k (one logit: z for class 1, -z for class 0)."""
    logits = np.atleast_2d(logits)
    cls = np.broadcast_to(np.asarray(cls), (logits.shape[0],))
    if logits.shape[1] == 1:
        return np.where(cls == 1, logits[:, 0], -logits[:, 0])
    return class_margins(logits, cls)


def ball_problems(net: Network, x: np.ndarray, xp: np.ndarray, eps: float, norm: str) -> list[str]:
    """Why ``xp`` is not in the set a verdict speaks of (empty: it is): its distance from ``x``, in exact
    arithmetic, exceeds ``eps``, or it leaves the domain (the box exactly, integer features whole and one-hot groups
    exactly 0 / 1, as the verifier's witnesses are rounded). One test for every witness the verifier reports and
    every one a certificate's re-check reads. (It allowed 1e-9 + 1e-9 eps and 1e-7 off the domain: with weights of
    1e8 a witness 1e-9 outside an eps = 0 ball, or an integer 3 + 9e-8, flipped the class and re-checked OK; later
    2 ulps of each moved coordinate: a witness at distance 1.0 from 1000000.5 passed for eps = 1 - 1e-11.)"""
    inf = normalise_norm(norm) == "inf"
    x, xp = np.asarray(x, dtype=np.float64).ravel(), np.asarray(xp, dtype=np.float64).ravel()
    diff = np.abs(xp - x)
    d = float(np.max(diff, initial=0.0)) if inf else float(np.sum(diff))
    inside = _within(x, xp, diff, float(eps), inf)
    why = []
    if not inside:
        why.append(f"distance {d:.6g} > eps {eps:g}" if d > eps else f"distance > eps {eps:g} in exact arithmetic")
    if not _in_domain(net, xp):
        why.append("outside the domain")
    return why


def _within(x: np.ndarray, xp: np.ndarray, diff: np.ndarray, eps: float, inf: bool) -> bool:
    """||xp - x|| <= eps in exact arithmetic: decided in floats where the round-off cannot matter, by exact
    rationals for the few coordinates (L-inf) or the sum (L1) near the edge."""
    from fractions import Fraction

    if not (np.all(np.isfinite(xp)) and np.all(np.isfinite(x))) or not eps >= 0:
        return False
    if eps == np.inf:
        return True
    slack = 4.0 * np.spacing(np.maximum(np.maximum(np.abs(x), np.abs(xp)), eps))  # > the subtraction's error
    if inf:
        if np.any(diff > eps + slack):
            return False
        near = np.flatnonzero(diff >= eps - slack)
        fe = Fraction(eps)
        return all(abs(Fraction(float(xp[i])) - Fraction(float(x[i]))) <= fe for i in near)
    total = float(np.sum(diff))
    err = float(np.sum(slack)) + 2.0 * (x.size + 2) * float(np.spacing(max(total, eps, 1e-300)))
    if total > eps + err:
        return False
    if total < eps - err:
        return True
    moved = np.flatnonzero(xp != x)
    return sum((abs(Fraction(float(xp[i])) - Fraction(float(x[i]))) for i in moved), Fraction(0)) <= Fraction(eps)


def _in_domain(net: Network, xp: np.ndarray) -> bool:
    """xp in the domain exactly: the box, integers whole, one-hot groups exactly one 1 (the rest 0). (Its bounds
    had 4 ulps of slack; every witness the verifier reports is clipped to the box, so none needs it.)"""
    dom = net.domain
    if not bool(np.all((xp >= dom.lower) & (xp <= dom.upper))):
        return False
    ii = dom.integer
    if ii.any() and not bool(np.all(xp[ii] == np.round(xp[ii]))):
        return False
    for g in dom.onehot_groups:
        v = xp[np.asarray(g)]
        if not (bool(np.all((v == 0.0) | (v == 1.0))) and float(v.sum()) == 1.0):
            return False
    return True


def project_to_ball(net: Network, x: np.ndarray, xp: np.ndarray, eps: float, norm: str) -> np.ndarray | None:
    """A solver's or an attack's point moved into the ball around ``x`` and the domain, or None when the moved
    point is not in that set (the candidate is then dropped, never reported).

    Integer features are rounded to the nearest integer of the box; under L1, when the rounded integer part
    alone exceeds the budget, they are rounded towards the sample's own (integer) values instead, which never
    lengthens a step. A one-hot group takes its largest member among the levels the set allows: under L-inf
    the levels whose indicator vector lies in the box (with eps < 1 only the sample's own level); under L1 a
    switch costs 2 and is taken only while the budget allows it. The continuous features are then scaled into
    the L1 budget that is left. The result is checked by :func:`ball_problems`."""
    x = np.asarray(x, dtype=np.float64).ravel()
    lo, hi = ball_box(net, x, eps, norm, inward=True)
    xp = np.clip(np.asarray(xp, dtype=np.float64).ravel(), lo, hi)
    dom = net.domain
    ii = dom.integer.copy()
    if ii.any():
        given = xp[ii]
        xp[ii] = np.clip(np.round(given), np.ceil(lo[ii] - 1e-9), np.floor(hi[ii] + 1e-9))
        if norm == "1" and np.abs(xp[ii] - x[ii]).sum() > eps:
            xp[ii] = x[ii] + np.trunc(given - x[ii])
    grouped = np.zeros(x.size, dtype=bool)
    budget = eps - float(np.abs(xp[ii] - x[ii]).sum()) if norm == "1" else np.inf
    for members in dom.onehot_groups:
        g = np.asarray(members, dtype=int)
        grouped[g] = True
        own = int(np.argmax(x[g]))
        if norm == "inf":
            allowed = [k for k in range(g.size) if lo[g[k]] <= 1 <= hi[g[k]] and np.all(lo[np.delete(g, k)] <= 0)]
        else:
            allowed = [own] + ([k for k in range(g.size) if k != own] if budget >= 2 else [])
        if not allowed:
            return None
        k = max(allowed, key=lambda k: (xp[g[k]], k == own))
        budget -= 2.0 if k != own else 0.0
        xp[g] = 0.0
        xp[g[k]] = 1.0
    if norm == "1":
        cont = ~ii & ~grouped
        d = xp[cont] - x[cont]
        n1 = float(np.abs(d).sum())
        if n1 > max(budget, 0.0):
            xp[cont] = x[cont] + d * (max(budget, 0.0) / n1)
        for _ in range(16):  # the scaled steps may overshoot the budget by their round-off: each moved coordinate
            if _within(x, xp, np.abs(xp - x), float(eps), False):  # one float toward x (a relative shrink of 1e-14
                break  # rounds back to the same float at |x| >= 1e3)
            xp[cont] = np.nextafter(xp[cont], x[cont])
    return None if ball_problems(net, x, xp, eps, norm) else xp


def _prepare(net: Network) -> None:
    if net.task != "classify":
        raise UnsupportedError("robustness is defined for classifiers (task 'classify'), this model is a regressor")
