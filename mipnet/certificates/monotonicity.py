"""Monotonicity certificates, global and individual: the claims and their re-checks.

**Global claim** (kind ``monotonicity``, :func:`monotonicity_certificate` from a
:class:`mipnet.verify.monotonic.GlobalReport`): for each feature x_l asked (increasing, sign s = +1, or
decreasing, s = -1) the output f (``output``, or ``output`` minus ``versus``) is monotone in x_l over the
whole domain: ``holds`` with a proved lower bound on the slope s df/dx_l >= bound >= 0, ``violated`` with a
witness pair (x, x'), or ``unknown``.

**Individual claim** (kind ``monotonicity_individual``, :func:`individual_monotonicity_certificate` from a
:class:`mipnet.verify.monotonic.IndividualReport`): at each certified point x (``question.samples``, bound to
its data row when it is one) no x' with x'_a <= x_a (increasing a), x'_d >= x_d (decreasing d) and the other
features equal has f(x') > f(x): ``holds`` (with the proved max <= f(x)), or a ``counterexample`` x'.

**Re-check**, re-derived without the solver that produced it:

* global (:func:`_recheck_monotonicity`): each feature asked in one direction and answered once, each item's
  direction is the question's direction for x_l; ``violated``: the pair (x, x') lies in the domain, differs
  in x_l only, x'_l > x_l and s (f(x') - f(x)) < 0, with the recorded f values (numpy forward pass);
  ``holds``: the proved bound is >= 0 and random secants along x_l satisfy
  s (f(x + h e_l) - f(x)) / h >= bound >= -tol (a secant slope is an average of slopes), then a fresh solve
  (:func:`mipnet.verify.monotonic.verify_global`) re-proves it; a violating pair it finds refutes it;
* individual (:func:`_recheck_individual`): a counterexample x' at x satisfies x'_a <= x_a, x'_d >= x_d, the
  rest equal, x' in the domain and f(x') > f(x), with the recorded f(x'); a ``holds`` has its proved max
  <= f(x) and is re-proved by a fresh solve (:func:`mipnet.verify.monotonic.verify_individual`); the data
  hash and each point's binding to its data row are checked.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from ..network import Network
from .checks import (
    TOL,
    RecheckReport,
    _array,
    _check_aggregate,
    _check_data_hash,
    _check_row_binding,
    _check_summary,
    _close,
    _Ctx,
    _reprove,
    _samples,
)
from .format import CertificateFile, Kind, _bind_rows, _new, data_record, number, register, solver_record


# ============================================================================ the certificates
def monotonicity_certificate(
    net: Network,
    report: Any,
    *,
    increasing: Sequence[str] = (),
    decreasing: Sequence[str] = (),
    output: int | str | None = None,
    versus: int | str | None = None,
) -> CertificateFile:
    """From a :class:`mipnet.verify.monotonic.GlobalReport` (global monotonicity, per feature)."""
    items, versions = [], []
    for f in report.features:
        s = f.solver or {}
        if s.get("solver_version"):
            versions.append((s.get("solver"), s.get("solver_version")))
        items.append(
            {
                "feature": f.feature,
                "direction": f.direction,
                "verdict": f.status,
                "how": f.how,
                "min_derivative": f.min_derivative,
                "bound": f.bound,
                "witness": f.witness,
                "time": f.solve_time,
                "note": f.note,
            }
        )
    opts = dict(report.options)
    name = str(opts.get("solver", "highs"))
    version = next((v for n, v in versions if n == name), None)
    proved = [f.bound for f in report.features if f.bound is not None]
    answer = {
        "status": report.status,
        "incumbent": None,
        "bound": min(proved) if proved else None,
        "gap": None,
        "time": float(report.build_time + sum(f.solve_time for f in report.features)),
        "items": items,
    }
    question = {
        "property": "global monotonicity",
        "mode": report.mode,
        "increasing": list(increasing),
        "decreasing": list(decreasing),
        "output": output,
        "versus": versus,
        "output_description": report.output,
    }
    return _new("monotonicity", question, net, None, solver_record(name, version, opts), answer, report.to_dict())


def individual_monotonicity_certificate(
    net: Network,
    X: np.ndarray,
    report: Any,
    *,
    increasing: Sequence[str] = (),
    decreasing: Sequence[str] = (),
    output: int | str | None = None,
    versus: int | str | None = None,
    solver: str = "highs",
    options: dict[str, Any] | None = None,
    rows: Sequence[int] | None = None,
) -> CertificateFile:
    """From a :class:`mipnet.verify.monotonic.IndividualReport` at the rows of ``X`` (``rows``: their row
    numbers in the data file; item ``row`` is the position in ``X``)."""
    X = np.atleast_2d(np.asarray(X, dtype=np.float64))
    items = [
        {
            "row": p.row,
            "verdict": "violated" if p.status == "counterexample" else p.status,
            "f_x": p.f_x,
            "f_best": p.f_best,
            "bound": p.bound,
            "x_prime": p.x_prime,
            "time": p.solve_time,
        }
        for p in report.points
    ]
    _bind_rows(items, X[[int(it["row"]) for it in items]] if items else X[:0], rows, [it["row"] for it in items])
    answer = {
        "status": report.status,
        "incumbent": None,
        "bound": None,
        "gap": None,
        "time": float(sum(p.solve_time for p in report.points)),
        "items": items,
        "fraction_counterexamples": report.fraction_counterexamples,
    }
    question = {
        "property": "individual monotonicity",
        "increasing": list(increasing),
        "decreasing": list(decreasing),
        "output": output,
        "versus": versus,
        "output_description": report.output,
        "samples": X,
    }
    data = data_record(X)
    if rows is not None:
        data["rows"] = [int(i) for i in rows]
    return _new(
        "monotonicity_individual", question, net, data, solver_record(solver, None, options), answer, report.to_dict()
    )


# ============================================================================ their re-checks
def _feature_list(cert: CertificateFile) -> tuple[list[str], list[str]]:
    q = cert.question
    return [str(f) for f in q.get("increasing") or []], [str(f) for f in q.get("decreasing") or []]


def _pair_problems(
    net: Network, coef: np.ndarray, l: int, s: int, f: str, x: np.ndarray, xp: np.ndarray
) -> tuple[list[str], float, float]:
    """Why (x, x') does not violate monotonicity in feature l with sign s (empty: it does), f(x), f(x')."""
    dom = net.domain
    fx, fxp = (net.forward(np.stack([x, xp])) @ coef).tolist()
    others = np.delete(np.arange(net.n_inputs), l)
    why = []
    if not np.all(dom.contains(np.stack([x, xp]), tol=0.0)):  # exactly: a pair 9e-8 outside re-checked OK
        why.append("outside the domain")
    if np.any(x[others] != xp[others]):
        why.append(f"the pair differs in features other than {f}")
    if not xp[l] > x[l]:
        why.append(f"{f} does not grow from x to x'")
    from ..verify.monotonic.witness import breaks_monotonicity

    if not breaks_monotonicity(fx, fxp, s):  # (a drop of 1.8e-15 on a constant f, round-off, re-checked OK)
        why.append(f"f does not {'decrease' if s > 0 else 'increase'} beyond round-off ({fx!r} -> {fxp!r})")
    return why, fx, fxp


def _check_output_description(rep: RecheckReport, q: dict[str, Any], desc: str) -> None:
    """The recorded words for the monitored score (the title prints them) are those of the output and versus the
    re-check proves about: swapped output and versus with the old words titled a false claim."""
    recorded = q.get("output_description")
    if recorded is not None and recorded != desc:
        rep.add("monitored score", "integrity", False, f"the certificate names {recorded!r}, its output is {desc!r}")


def _question_score(rep: RecheckReport, net: Network, q: dict[str, Any]) -> tuple[np.ndarray, str] | None:
    """The monitored score's coefficients and words from the question's output and versus; None (a failed integrity
    check) when they name no output of the model: an edited field refutes the certificate (an output index 5 of a
    2-output model ended the re-check as an input error, exit 2), and a JSON true / false is no index."""
    from ..errors import DataError
    from ..verify.monotonic import output_coefficients

    out, versus = q.get("output"), q.get("versus")
    try:
        if isinstance(out, bool) or isinstance(versus, bool):
            raise DataError(f"output {out!r} / versus {versus!r}: true / false name no output")
        return output_coefficients(net, out, versus)
    except DataError as exc:
        rep.add("the question's output is the model's", "integrity", False, str(exc))
        return None


def _recheck_monotonicity(rep: RecheckReport, cert: CertificateFile, net: Network, Xy: Any, ctx: _Ctx) -> None:
    from ..verify.monotonic import verify_global

    q = cert.question
    inc, dec = _feature_list(cert)
    score = _question_score(rep, net, q)
    if score is None:
        return
    coef, desc = score
    _check_output_description(rep, q, desc)
    items = cert.answer.get("items") or []
    _check_aggregate(rep, cert, [str(it.get("verdict")) for it in items])
    bounds = [b for b in (number(it.get("bound")) for it in items) if b is not None]
    _check_summary(rep, cert, items, bound=min(bounds) if bounds else None, incumbent=None, gap=None)
    for it in items:  # the worst derivative found is an incumbent: at or above the bound, below 0 where violated
        md, b = number(it.get("min_derivative")), number(it.get("bound"))
        if md is not None and (
            (b is not None and md < b - TOL * max(1.0, abs(b))) or (it.get("verdict") == "violated" and md >= 0)
        ):
            rep.add(f"{it.get('feature')}: worst derivative", "integrity", False, f"{md} with bound {b}")
    dom = net.domain
    both = sorted(set(inc) & set(dec))
    if both:
        rep.add(
            "each feature asked in one direction",
            "integrity",
            False,
            f"{', '.join(both)} listed as both increasing and decreasing",
        )
    sign = {f: 1 for f in inc} | {f: -1 for f in dec if f not in both}
    levels = {dom.names[i] for g in dom.onehot_groups for i in g}
    foreign = sorted(f for f in sign if f not in dom.names or f in levels)
    if foreign:  # an edit: the verifier asks only the model's own features, never one level of a one-hot group
        rep.add(
            "features asked are the model's (no one-hot level alone)",
            "integrity",
            False,
            f"{', '.join(foreign)}: not a feature of the model, or one level of a one-hot group",
        )
        sign = {f: s for f, s in sign.items() if f not in foreign}
    recorded = [str(it.get("feature")) for it in items]
    if set(recorded) != set(sign) or len(recorded) != len(set(recorded)):
        rep.add(
            "one answer per feature asked", "integrity", False, f"asked {sorted(sign)}, answered {sorted(recorded)}"
        )
    rng = np.random.default_rng(0)
    proved = []
    for it in items:
        f = str(it.get("feature"))
        if f not in sign:
            continue
        s, l = sign[f], dom.index(f)
        asked = "increasing" if s > 0 else "decreasing"
        if it.get("direction") != asked:
            rep.add(
                f"{f}: direction of the answer = direction asked",
                "integrity",
                False,
                f"the question asks {asked}, the item answers for {it.get('direction')!r}",
            )
            continue
        v = it.get("verdict")
        if v == "violated":
            w = it.get("witness")
            if not isinstance(w, dict):
                rep.add(f"{f}: witness pair", "witness", False, "verdict violated without a witness pair")
                continue
            x = _array(w.get("x", []), net.n_inputs, "witness x")
            xp = _array(w.get("x_prime", []), net.n_inputs, "witness x'")
            why, fx, fxp = _pair_problems(net, coef, l, s, f, x, xp)
            for key, val in (("f_x", fx), ("f_x_prime", fxp)):
                rv = number(w.get(key))
                if rv is not None and not _close(rv, val, 1e-6):
                    why.append(f"recorded {key} {rv:.6g} but the forward pass gives {val:.6g}")
            rep.add(
                f"{f}: witness pair violates monotonicity",
                "witness",
                not why,
                "; ".join(why) if why else f"f: {fx:.6g} -> {fxp:.6g} as {f}: {x[l]:.6g} -> {xp[l]:.6g}",
            )
        elif v == "holds":
            # a lattice or a block-wise proof of several blocks records no bound: the verdict is then re-proved alone
            b = number(it.get("bound"))
            ok_b = b is None or b >= -1e-6
            rep.add(
                f"{f}: proved bound on the slope >= 0",
                "witness",
                ok_b,
                f"bound {b}" if b is not None else "no bound recorded (a lattice or block-wise proof)",
            )
            slope = _secant_slopes(net, coef, l, s, ctx.samples, rng)
            if slope is not None:
                lim = b if ok_b and b is not None else 0.0
                mn = float(slope.min())
                rep.add(
                    f"{f}: {slope.size} random secants respect the bound",
                    "witness",
                    mn >= lim - 1e-6 * (1 + abs(lim)),
                    f"lowest secant slope {mn:.6g}, bound {lim:.6g}",
                )
            if ok_b:
                proved.append((f"{f}: {asked}, re-proved by a fresh solve", (f, b)))

    def prove(claim: tuple[str, float | None], solver: str, t: float) -> tuple[bool | None, str]:
        """The verdict by a fresh solve in exact mode (it decides whatever the block-wise test leaves open); a
        claimed bound above round-off by a full minimisation of the slope, a fresh minimiser's secants refuting it."""
        f, b = claim
        s, l = sign[f], dom.index(f)
        beyond = b is not None and b > 1e-6  # a claim stronger than "holds": min slope >= b
        r = verify_global(
            net,
            [f] if s > 0 else (),
            () if s > 0 else [f],
            mode="exact",
            output=q.get("output"),
            versus=q.get("versus"),
            solver=solver,
            time_limit=t,
            bounds_method="interval",
            presample=500,
            early_stop=not beyond,
        )
        fv = r.features[0]
        if fv.status == "holds" and beyond:
            assert b is not None  # beyond
            slack = 1e-6 * (1 + abs(b))
            if fv.bound is not None and fv.bound >= b - slack:
                return True, f"{solver}: holds, bound {fv.bound:.6g} >= the claimed {b:.6g}"
            low = min(
                (
                    v
                    for v in (_secants_at(net, coef, l, s, x) for x in _low_slope_points(net, coef, l, s, fv.argmin))
                    if v is not None
                ),
                default=None,
            )
            if low is not None and low < b - slack:
                return False, f"a secant along {f} has slope {low:.6g} < the claimed bound {b:.6g}"
            return None, f"not re-proved: {solver}: holds, but bound {fv.bound} < the claimed {b:.6g}"
        if fv.status == "holds":
            return True, f"{solver}: holds" + (f", bound {fv.bound:.6g}" if fv.bound is not None else "")
        if fv.status == "violated" and fv.witness is not None:
            why, fx, fxp = _pair_problems(
                net,
                coef,
                l,
                s,
                f,
                np.asarray(fv.witness.x, dtype=np.float64),
                np.asarray(fv.witness.x_prime, dtype=np.float64),
            )
            if not why:
                return False, f"the fresh solve found a violating pair: f {fx:.6g} -> {fxp:.6g} as {f} grows"
            return None, "not re-proved: the fresh solve's pair does not check (" + "; ".join(why) + ")"
        return None, f"not re-proved within {t:.3g} s: {solver}: {fv.status}" + (f" ({fv.note})" if fv.note else "")

    _reprove(rep, ctx, proved, prove)


def _low_slope_points(net: Network, coef: np.ndarray, l: int, s: int, argmin: Any, n: int = 50_000) -> list[Any]:
    """Where to look for a slope below a claimed bound: the fresh solve's minimiser, else (an interval proof has
    none) the 20 lowest-slope points of seeded domain samples (numpy gradients of their regions): ``n`` of them,
    fewer on a large net (about 5e8 multiply-adds in all, so the search stays well inside a re-check's time)."""
    from ..verify.slope_encoding import pattern_gradient

    if argmin is not None:
        return [argmin]
    dom = net.domain
    if not dom.is_finite():
        return []
    weights = sum(int(np.size(getattr(layer, "weight", 0))) for layer in net.layers)
    n = int(min(n, max(1000, 5e8 // max(1, weights))))
    X = dom.sample(n, np.random.default_rng(1))
    g = s * pattern_gradient(net, X, coef)[:, l]
    return list(X[np.argsort(g)[:20]])


def _secants_at(net: Network, coef: np.ndarray, l: int, s: int, x: Any) -> float | None:
    """The lowest s * secant slope along e_l at the point ``x`` (steps of 1e-6 .. 1e-2 of the feature's range, both
    ways; 1 for an integer feature), or None without a point."""
    if x is None:
        return None
    dom = net.domain
    x0 = dom.clip(np.asarray(x, dtype=np.float64)[None])[0]
    lo, hi = dom.lower[l], dom.upper[l]
    steps = [1.0] if dom.integer[l] else [w * (hi - lo) for w in (1e-6, 1e-4, 1e-2)]
    out = []
    for h in steps:
        a, b = x0.copy(), x0.copy()
        a[l], b[l] = max(lo, x0[l] - h), min(hi, x0[l] + h)
        for p, q in ((a, x0), (x0, b)):
            if q[l] > p[l]:
                fp, fq = net.forward(np.stack([p, q])) @ coef
                out.append(s * (fq - fp) / (q[l] - p[l]))
    return float(min(out)) if out else None


def _secant_slopes(
    net: Network, coef: np.ndarray, l: int, s: int, n: int, rng: np.random.Generator
) -> np.ndarray | None:
    """s * (f(x + h e_l) - f(x)) / h on ``n`` random domain points (h = 1 for an integer feature)."""
    dom = net.domain
    if not dom.is_finite() or n <= 0:
        return None
    lo, hi = dom.lower[l], dom.upper[l]
    if hi - lo <= 0:
        return None
    X = dom.sample(n, rng)
    if dom.integer[l]:
        if hi - lo < 1:
            return None
        X[:, l] = rng.integers(math.ceil(lo), math.floor(hi), size=n, endpoint=False)
        h = np.ones(n)
    else:
        a = rng.uniform(lo, hi, size=(n, 2))
        X[:, l], top = a.min(axis=1), a.max(axis=1)
        h = np.maximum(top - X[:, l], 1e-9 * (hi - lo))
    Xp = X.copy()
    Xp[:, l] = np.minimum(X[:, l] + h, hi)
    h = Xp[:, l] - X[:, l]
    keep = h > 0
    f = net.forward(np.vstack([X[keep], Xp[keep]])) @ coef
    m = int(keep.sum())
    return s * (f[m:] - f[:m]) / h[keep]


def _individual_problems(
    net: Network,
    coef: np.ndarray,
    x: np.ndarray,
    fx: float,
    xp: np.ndarray,
    ia: list[int],
    idd: list[int],
    rest: np.ndarray,
) -> tuple[list[str], float]:
    fxp = float(net.forward(xp[None])[0] @ coef)
    why = []
    # exactly (a wrong-way move of 9e-10 on a slope of 10 re-checked OK; the verifier clips its point into the box)
    if not net.domain.contains(xp[None], tol=0.0)[0]:
        why.append("outside the domain")
    if np.any(xp[ia] > x[ia]) or np.any(xp[idd] < x[idd]):
        why.append("a monotone feature moves the wrong way")
    if np.any(xp[rest] != x[rest]):
        why.append("a non-monotone feature changes")
    if not fxp > fx + 1e-9 * (1 + abs(fx)):
        why.append(f"f does not increase ({fx:.6g} -> {fxp:.6g})")
    return why, fxp


def _recheck_individual(rep: RecheckReport, cert: CertificateFile, net: Network, Xy: Any, ctx: _Ctx) -> None:
    from ..errors import DataError
    from ..verify.monotonic import verify_individual

    q = cert.question
    inc, dec = _feature_list(cert)
    score = _question_score(rep, net, q)
    if score is None:
        return
    coef, desc = score
    _check_output_description(rep, q, desc)
    try:
        ia, idd = net.domain.indices(inc), net.domain.indices(dec)
    except DataError as exc:  # an edited feature name refutes the certificate (it was an input error, exit 2)
        rep.add("features asked are the model's", "integrity", False, str(exc))
        return
    X = _samples(cert, net)
    items = cert.answer.get("items") or []
    _check_aggregate(rep, cert, [str(it.get("verdict")) for it in items])
    rows = [it.get("row") for it in items]
    if sorted(r for r in rows if isinstance(r, int)) != list(range(X.shape[0])):
        rep.add("one answer per sample", "integrity", False, f"rows answered {rows}, {X.shape[0]} samples")
    n_viol = sum(it.get("verdict") == "violated" for it in items)
    _check_summary(
        rep, cert, items, fraction_counterexamples=n_viol / len(items) if items else None, incumbent=None, gap=None
    )
    if Xy is not None:
        _check_data_hash(rep, cert, Xy[0], None)
    rest = np.setdiff1d(np.arange(net.n_inputs), ia + idd)
    fX = net.forward(X) @ coef
    proved = []
    good = []
    for it in items:
        r = it.get("row", -1)
        if not isinstance(r, int) or isinstance(r, bool) or not 0 <= r < X.shape[0]:
            rep.add(f"row {r}", "integrity", False, "row index out of range")
            continue
        good.append(it)
        v = it.get("verdict")
        if v == "violated":
            xp = _array(it.get("x_prime") or [], net.n_inputs, "counterexample")
            why, fxp = _individual_problems(net, coef, X[r], float(fX[r]), xp, ia, idd, rest)
            rec = number(it.get("f_best"))
            if rec is not None and not _close(rec, fxp):
                why.append(f"recorded f(x') {rec:.6g} but the forward pass gives {fxp:.6g}")
            rep.add(
                f"row {r}: counterexample",
                "witness",
                not why,
                "; ".join(why) if why else f"f: {fX[r]:.6g} -> {fxp:.6g}",
            )
        elif v == "holds":
            b = number(it.get("bound"))
            if b is not None:  # an upper bound of a maximum over a set holding x: f(x) <= b <= f(x) (to 1e-6)
                slack = 1e-6 * (1 + abs(fX[r]))
                rep.add(
                    f"row {r}: proved max <= f(x)",
                    "witness",
                    fX[r] - slack <= b <= fX[r] + slack,
                    f"bound {b:.6g}, f(x) {fX[r]:.6g}"
                    + ("" if b >= fX[r] - slack else " (below f(x): x itself is in the set)"),
                )
            proved.append((f"row {r}: holds, re-proved by a fresh solve", r))
    _check_row_binding(rep, cert, X, good, [int(it["row"]) for it in good], Xy)

    def prove(r: int, solver: str, t: float) -> tuple[bool | None, str]:
        res = verify_individual(
            net, X[[r]], inc, dec, output=q.get("output"), versus=q.get("versus"), solver=solver, time_limit=t
        )
        p = res.points[0]
        if p.status == "holds":
            return True, f"{solver}: holds"
        if p.status == "counterexample" and p.x_prime is not None:
            why, fxp = _individual_problems(
                net, coef, X[r], float(fX[r]), np.asarray(p.x_prime, dtype=np.float64), ia, idd, rest
            )
            if not why:
                return False, f"the fresh solve found a counterexample: f {fX[r]:.6g} -> {fxp:.6g}"
            return None, "not re-proved: the fresh solve's point does not check (" + "; ".join(why) + ")"
        return None, f"not re-proved within {t:.3g} s: {solver}: {p.status}"

    _reprove(rep, ctx, proved, prove)


# ============================================================================ registration
def _features_text(q: dict[str, Any]) -> str:
    parts = []
    if q.get("increasing"):
        parts.append("increasing in " + ", ".join(q["increasing"]))
    if q.get("decreasing"):
        parts.append("decreasing in " + ", ".join(q["decreasing"]))
    return "; ".join(parts)


def _title_global(q: dict[str, Any]) -> str:
    return f"global monotonicity of the {q.get('output_description', 'output')} ({_features_text(q)})"


def _title_individual(q: dict[str, Any]) -> str:
    return f"individual monotonicity at {len(q.get('samples') or [])} points ({_features_text(q)})"


def _from_global(net: Network, result: Any, **question: Any) -> CertificateFile:
    """:func:`~mipnet.certificates.format.certificate_for` of a GlobalReport."""
    return monotonicity_certificate(net, result, **question)


def _from_individual(net: Network, result: Any, **question: Any) -> CertificateFile:
    """:func:`~mipnet.certificates.format.certificate_for` of an IndividualReport (``X`` in ``question``)."""
    return individual_monotonicity_certificate(net, question.pop("X"), result, **question)


MONOTONICITY = register(
    Kind(
        "monotonicity",
        monotonicity_certificate,
        _recheck_monotonicity,
        _title_global,
        (("GlobalReport", _from_global),),
    )
)
MONOTONICITY_INDIVIDUAL = register(
    Kind(
        "monotonicity_individual",
        individual_monotonicity_certificate,
        _recheck_individual,
        _title_individual,
        (("IndividualReport", _from_individual),),
    )
)

__all__ = ["monotonicity_certificate", "individual_monotonicity_certificate", "MONOTONICITY", "MONOTONICITY_INDIVIDUAL"]
