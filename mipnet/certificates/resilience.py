"""Resilience certificates: the claim of a maximum-resilience value Phi per class, and its re-check.

**Claim** (:func:`resilience_certificate` from :class:`mipnet.verify.resilience.ResilienceResult` objects,
one per class m, same alpha, k and norm): Phi_m is the least distance ||b - a|| between an input a strongly
classified as m (z_m(a) - max_{i != m} z_i(a) >= ln(alpha)) and an input b at which at least k classes
i != m reach z_i(b) >= z_m(b), both in the domain. Each item records Phi with its witness pair (a, b), the
proved lower bound and the gap; its verdict is ``holds`` when Phi is proved (status ``optimal``, or
``infeasible``: no such pair, as no input is strongly classified or none reaches k other classes), ``unknown``
otherwise.

**Re-check** (:func:`_recheck_resilience`), re-derived without the solver that produced it:

* integrity: alpha >= 1, the class exists, bound <= Phi, ``optimal`` means bound = Phi, the aggregate
  verdict is that of the items;
* the witness pair (a, b), through the numpy forward pass: a in the domain with
  z_m(a) - max_{i != m} z_i(a) >= ln(alpha), b in the domain with at least k classes i != m reaching
  z_i(b) >= z_m(b), and ||b - a|| = Phi; a value of Phi without its pair fails;
* ``infeasible`` (no pair: no input is strongly classified, or none reaches k other classes): not both kinds
  of point among 2000 random domain points, then a fresh solve;
* a positive bound, by a fresh solve (:func:`mipnet.verify.resilience.class_resilience`): the fresh lower
  bound must reach the claimed one; a fresh bound above the claimed Phi, or a checked witness pair below the
  claimed bound, refutes it.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from ..errors import CertificateFieldError, MipnetError
from ..network import Network
from .checks import BOUND_TOL, TOL, RecheckReport, _array, _check_aggregate, _check_summary, _Ctx, _reprove
from .format import CertificateFile, Kind, _aggregate, _new, data_record, number, register, solver_record


# ============================================================================ the certificate
def resilience_certificate(
    net: Network, results: Sequence[Any], *, samples: np.ndarray | None = None
) -> CertificateFile:
    """From :class:`mipnet.verify.resilience.ResilienceResult` objects (one per class, same alpha, k, norm)."""
    if not results:
        raise MipnetError("no resilience results to certify")
    r0 = results[0]
    items = []
    for r in results:
        items.append(
            {
                "class": int(r.cls),
                "class_name": r.class_name,
                "kind": r.kind,
                "status": r.status,
                "verdict": _resilience_verdict(r),
                "phi": r.phi,
                "bound": r.bound,
                "gap": r.gap,
                "a": r.a,
                "b": r.b,
                "witness_check": r.witness,
                "delta": r.delta,
                "local_verdict": r.verdict,
                "time": r.timings.get("total"),
                "notes": r.notes,
            }
        )
    phis = [r.phi for r in results if r.phi is not None]
    bounds = [r.bound for r in results]
    s0 = r0.solver or {}
    name = str(s0.get("solver") or "highs")
    answer: dict[str, Any] = {
        "status": _aggregate([it["verdict"] for it in items]),
        "incumbent": min(phis) if phis else None,
        "bound": min(bounds) if bounds and all(b is not None for b in bounds) else None,
        "gap": None,
        "time": float(sum(r.timings.get("total", 0.0) for r in results)),
        "items": items,
    }
    if answer["incumbent"] is not None and answer["bound"] is not None:
        inc, bnd = answer["incumbent"], answer["bound"]
        answer["gap"] = max(0.0, inc - bnd) / max(abs(inc), 1e-10)
    question = {
        "property": "maximum resilience",
        "kind": r0.kind,
        "alpha": r0.alpha,
        "k": r0.k,
        "norm": r0.norm,
        "classes": [int(r.cls) for r in results],
        "heuristics": r0.heuristics,
    }
    data = None
    if samples is not None:
        question["samples"] = np.atleast_2d(np.asarray(samples, dtype=np.float64))
        data = data_record(question["samples"])
    return _new(
        "resilience",
        question,
        net,
        data,
        solver_record(name, s0.get("solver_version"), s0.get("options")),
        answer,
        [r.to_dict() for r in results],
    )


def _resilience_verdict(r: Any) -> str:
    """'holds' when Phi is proved (optimal, or no strongly classified input), 'unknown' otherwise."""
    if r.status in ("optimal", "infeasible"):
        return "holds"
    return "unknown"


# ============================================================================ its re-check
def _resilience_pair_problems(
    net: Network, a: np.ndarray, b: np.ndarray, m: int, ln_a: float, k: int, norm: str, phi: float | None
) -> tuple[list[str], float, int]:
    from ..verify.resilience.witness import pair_tolerances
    from ..verify.search import logits, perturbation_norm, reached, strong_margin

    z = logits(net, np.vstack([a, b]))
    tol_a, tol_b = pair_tolerances(z)  # the verifier's own test, each point by its own logits (forgeable before)
    why = []
    if not np.all(net.domain.contains(np.vstack([a, b]), tol=0.0)):  # witnesses are put on the domain exactly
        why.append("outside the domain")
    sm = float(strong_margin(z[:1], m)[0])
    if sm < ln_a - tol_a:
        why.append(f"a is not strongly classified (margin {sm:.4g} < ln alpha {ln_a:.4g})")
    nr = int(reached(z[1:], m, tol_b)[0])
    if nr < k:
        why.append(f"b reaches {nr} classes, fewer than k = {k}")
    nv = perturbation_norm(a, b, norm)
    if phi is not None and abs(nv - phi) > 1e-9 * max(abs(nv), abs(phi)):  # (relative: Phi may be 1e-6)
        why.append(f"||b - a|| = {nv:.6g} but Phi = {phi:.6g}")
    return why, nv, nr


def _question_args(q: dict[str, Any], net: Network) -> tuple[float, int, str]:
    """alpha, k and the norm of the question, read as the verifier reads them (alpha >= 1 finite, k a whole number
    from 1 to the number of other classes, norm "1" or "inf"): anything else is an edited field."""
    from ..verify.resilience.results import NORMS

    alpha, k, norm = number(q.get("alpha", 1.0)), q.get("k", 1), q.get("norm", "1")
    n_other = len(net.class_names or []) - 1
    if alpha is None or not (math.isfinite(alpha) and alpha >= 1.0):
        raise CertificateFieldError(f"the certificate's alpha {q.get('alpha')!r} is not a number >= 1")
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= n_other:
        raise CertificateFieldError(f"the certificate's k {k!r} is not a whole number from 1 to {n_other}")
    if norm not in NORMS:
        raise CertificateFieldError(f"the certificate's norm {norm!r} is not one of {', '.join(NORMS)}")
    return float(alpha), int(k), str(norm)


def _recheck_resilience(rep: RecheckReport, cert: CertificateFile, net: Network, Xy: Any, ctx: _Ctx) -> None:
    from ..verify.resilience import Heuristics, class_resilience
    from ..verify.resilience.witness import DISTANCE_FLOOR, distance_scale, optimal_within
    from ..verify.search import logits, reached, strong_margin

    q = cert.question
    alpha, k, norm = _question_args(q, net)
    items = cert.answer.get("items") or []
    _check_aggregate(rep, cert, [str(it.get("verdict")) for it in items])
    phis = [p for p in (number(it.get("phi")) for it in items) if p is not None]
    bnds = [number(it.get("bound")) for it in items]
    inc = min(phis) if phis else None
    bnd = min(b for b in bnds if b is not None) if bnds and all(b is not None for b in bnds) else None
    gap = None if inc is None or bnd is None else max(0.0, inc - bnd) / max(abs(inc), 1e-10)
    _check_summary(rep, cert, items, incumbent=inc, bound=bnd, gap=gap)
    classes = [it.get("class") for it in items]
    if q.get("classes") is not None and (list(q["classes"]) != classes or len(set(map(str, classes))) != len(classes)):
        rep.add("one answer per class asked", "integrity", False, f"asked {q.get('classes')}, answered {classes}")
    dom = net.domain
    ln_a = math.log(alpha)
    scale = distance_scale(net, norm)  # tolerances relative to Phi, floored at the narrowest feature's scale
    claims: list[tuple[str, tuple[int, float | None, float | None, Any]]] = []
    n_classes = logits(net, np.zeros((1, net.n_inputs))).shape[1]
    for it in items:
        m = int(it.get("class", -1))
        if not 0 <= m < n_classes:
            rep.add(f"class {m}", "integrity", False, "no such class")
            continue
        name = f"class {it.get('class_name', m)}"
        names = list(net.class_names or [])
        if "class_name" in it and m < len(names) and str(it["class_name"]) != str(names[m]):
            # (swapped names showed one class's Phi under the other's name, re-checked OK)
            rep.add(name, "integrity", False, f"class {m} is {names[m]!r} in the model, not {it['class_name']!r}")
            continue
        phi, bound = number(it.get("phi")), number(it.get("bound"))
        status = it.get("status")
        proved = status in ("optimal", "infeasible")  # the verdict of a status (:func:`_resilience_verdict`)
        if it.get("verdict") != ("holds" if proved else "unknown"):
            rep.add(
                f"{name}: verdict of its status",
                "integrity",
                False,
                f"verdict {it.get('verdict')!r} for status {status!r} (holds only when optimal or infeasible)",
            )
        if phi is not None and bound is not None:
            rep.add(
                f"{name}: bound <= Phi",
                "integrity",
                bound <= phi + TOL * max(1.0, abs(phi)),
                f"bound {bound:.6g}, Phi {phi:.6g}",
            )
        if status == "optimal" and (phi is None or bound is None or not optimal_within(phi, bound, scale)):
            rep.add(f"{name}: optimal means bound = Phi", "integrity", False, f"bound {bound}, Phi {phi}")
        if it.get("a") is not None and it.get("b") is not None:
            a = _array(it["a"], net.n_inputs, "witness a")
            b = _array(it["b"], net.n_inputs, "witness b")
            why, nv, nr = _resilience_pair_problems(net, a, b, m, ln_a, k, norm, phi)
            rep.add(
                f"{name}: witness pair (a, b)",
                "witness",
                not why,
                "; ".join(why) if why else f"||b - a|| = {nv:.6g}, {nr} class(es) reached",
            )
        elif phi is not None:
            rep.add(f"{name}: witness pair (a, b)", "witness", False, "a value of Phi without its witness pair")
        if it.get("kind", q.get("kind")) != q.get("kind"):
            rep.add(f"{name}: kind", "integrity", False, f"item kind {it.get('kind')!r}, question {q.get('kind')!r}")
            continue
        if q.get("kind") != "class":  # (local resilience and alpha_max: no fresh solve here yet)
            if (bound is not None and bound > 0) or status == "infeasible":
                what = "no such pair" if status == "infeasible" else f"Phi >= {bound:.6g}"
                rep.add(
                    f"{name}: {what}",
                    "solver",
                    None,
                    f"not re-proved: the re-check re-solves class resilience only, not {q.get('kind')!r} yet "
                    "(the witness pair above is checked)",
                )
            continue
        if status == "infeasible":
            # no pair exists: no input is strongly classified, or none reaches k other classes (Phi = +inf); a
            # random point of each kind together refute it
            if dom.is_finite():
                S = dom.sample(2000, 0)
                z = logits(net, S)
                hit_a = np.flatnonzero(strong_margin(z, m) >= ln_a)
                hit_b = np.flatnonzero(reached(z, m, 0.0) >= k)
                both = hit_a.size > 0 and hit_b.size > 0
                rep.add(
                    f"{name}: no pair (a strongly classified, b reaching {k} other classes)",
                    "witness",
                    not both,
                    f"the random points {np.round(S[hit_a[0]], 4).tolist()} (strongly classified) and "
                    f"{np.round(S[hit_b[0]], 4).tolist()} (reaching {k} classes) form one"
                    if both
                    else "none among 2000 random points",
                )
                if both:
                    continue
            claims.append((f"{name}: no such pair, re-proved by a fresh solve", (m, None, None, status)))
        elif bound is not None and (bound > 0 or (status == "optimal" and phi is not None and phi > 0)):
            claims.append((f"{name}: Phi >= {bound:.6g}, re-proved by a fresh solve", (m, phi, bound, status)))
    # the certificate's switches only (true or false); its numbers (processes, lookback, bound seconds) are the
    # re-check's own: an edited "processes": 100000 would have started that many solver processes
    heur_d = q.get("heuristics")
    heur_d = heur_d if isinstance(heur_d, dict) else {}
    heur = Heuristics(**{k2: v for k2, v in heur_d.items() if k2 in Heuristics.NAMES and isinstance(v, bool)})

    def prove(claim: tuple[int, float | None, float | None, str], solver: str, t: float) -> tuple[bool | None, str]:
        m, phi, bound, status = claim
        r = class_resilience(net, m, alpha=alpha, k=k, norm=norm, heuristics=heur, solver=solver, time_limit=t)
        found = None
        if r.phi is not None and r.a is not None and r.b is not None:
            why, nv, _ = _resilience_pair_problems(
                net, np.asarray(r.a, float), np.asarray(r.b, float), m, ln_a, k, norm, None
            )
            found = None if why else nv
        if status == "infeasible":
            if r.status == "infeasible":
                return True, f"{solver}: infeasible"
            if found is not None:
                return False, f"{solver} found a strongly classified input and a pair at distance {found:.6g}"
            return None, f"not re-proved within {t:.3g} s: {solver}: {r.status}"
        assert bound is not None
        tol = BOUND_TOL * max(abs(bound), DISTANCE_FLOOR * scale)
        if (
            r.bound is not None
            and phi is not None
            and phi < r.bound - BOUND_TOL * max(abs(r.bound), DISTANCE_FLOOR * scale)
        ):
            return False, f"{solver} proves Phi >= {r.bound:.6g}, the certificate claims Phi = {phi:.6g}"
        if r.bound is not None and r.bound >= bound - tol:
            return True, f"{solver} ({r.status}): bound {r.bound:.6g} >= claimed {bound:.6g}"
        if found is not None and found < bound - tol:
            return False, f"{solver} found a witness pair at distance {found:.6g} < claimed bound {bound:.6g}"
        if r.status == "infeasible" and phi is not None:
            return None, f"not re-proved: {solver} says infeasible, yet the certificate's witness pair checks"
        got = "no bound" if r.bound is None else f"bound {r.bound:.6g}"
        return None, f"not re-proved within {t:.3g} s: {solver} ({r.status}) reached {got} < claimed {bound:.6g}"

    _reprove(rep, ctx, claims, prove)


# ============================================================================ registration
def _title(q: dict[str, Any]) -> str:
    """What was asked, with the classes it covers (a certificate of some classes is not the network's Xi)."""
    return (
        f"maximum resilience of classes {q.get('classes')}, alpha = {q.get('alpha')}, k = {q.get('k')}, "
        f"L{q.get('norm')} norm"
    )


def _from_results(net: Network, result: Any, **question: Any) -> CertificateFile:
    """:func:`~mipnet.certificates.format.certificate_for` of a list of ResilienceResult."""
    return resilience_certificate(net, result, **question)


RESILIENCE = register(
    Kind("resilience", resilience_certificate, _recheck_resilience, _title, (("ResilienceResult", _from_results),))
)

__all__ = ["resilience_certificate", "RESILIENCE"]
