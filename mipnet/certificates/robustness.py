"""Robustness certificates: the claim that samples keep their class in an eps-ball, and its re-check.

**Claim.** For each certified sample x (``question.samples``, each bound to its data row when it is one:
``data_row`` and ``data_row_sha256``) and the defended class c (its label, or the predicted class), in the
ball ||x' - x|| <= eps (L-inf or L1) intersected with the domain: ``holds`` (every x' keeps class c, with a
proved lower bound b of the worst margin), ``violated`` (a counterexample x' is recorded) or ``unknown``.
The aggregate status is ``violated`` if any sample is, else ``unknown`` if any is, else ``holds``
(built by :func:`robustness_certificate` from :class:`mipnet.verify.robustness.RobustnessResult` objects).

**Re-check** (:func:`_recheck_robustness`), re-derived without the solver that produced it:

* integrity: eps is a finite number >= 0, one answer per sample, the aggregate verdict is that of the items;
  the data hash (with the data) and each sample's binding to its data row;
* ``violated``, through the numpy forward pass: the counterexample x' lies in the ball ||x' - x|| <= eps
  and in the domain, and its predicted class differs from the defended class c;
* ``holds``: no witness changing the class is recorded, the model classifies x as c, and the proved lower
  bound b of the worst margin is <= m(x), the margin at x itself; then the claim is re-proved by a fresh
  solve (:func:`mipnet.verify.robustness.verify_sample` with interval bounds, so that the proof owes nothing
  to the first solver's LP bounds); a counterexample it finds (checked by the forward pass) refutes it.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from ..errors import CertificateFieldError, MipnetError, UnsupportedError
from ..network import Network
from .checks import (
    TOL,
    RecheckReport,
    _array,
    _check_aggregate,
    _check_data_hash,
    _check_row_binding,
    _check_summary,
    _Ctx,
    _reprove,
    _samples,
)
from .format import CertificateFile, Kind, _aggregate, _bind_rows, _new, data_record, number, register, solver_record


# ============================================================================ the certificate
def robustness_certificate(
    net: Network,
    X: np.ndarray,
    results: Sequence[Any],
    *,
    eps: float,
    norm: str = "inf",
    labels: Sequence[Any] | None = None,
    solver: str = "highs",
    options: dict[str, Any] | None = None,
    target: str | None = None,
    source: str | None = None,
    rows: Sequence[int] | None = None,
    selection: str | None = None,
) -> CertificateFile:
    """From the :class:`mipnet.verify.robustness.RobustnessResult` list of the rows of ``X``
    (``rows``: their row numbers in the data file, so that the file's hash can be re-checked; ``selection``
    "spread": the rows are :func:`spread_rows` of the data file, which a re-check with the data recomputes)."""
    X = np.atleast_2d(np.asarray(X, dtype=np.float64))
    if len(results) != X.shape[0]:
        raise MipnetError(f"{len(results)} robustness results for {X.shape[0]} samples")
    items = []
    for r in results:
        items.append(
            {
                "index": int(r.index),
                "class": int(r.cls),
                "label": r.label,
                "verdict": r.verdict,
                "margin": r.margin,
                "bound": r.bound,
                "status": r.status,
                "counterexample": r.counterexample,
                "adversarial_class": r.adversarial_class,
                "margin_forward": r.margin_forward,
                "time": r.time,
                "reason": r.reason,
            }
        )
    _bind_rows(items, X, rows)
    bounds = [r.bound for r in results if r.bound is not None]
    answer = {
        "status": _aggregate([r.verdict for r in results]),
        "incumbent": None,
        "bound": min(bounds) if bounds else None,
        "gap": None,
        "time": float(sum(r.time for r in results)),
        "items": items,
        "counts": {v: sum(r.verdict == v for r in results) for v in ("holds", "violated", "unknown")},
    }
    question = {
        "property": "local robustness",
        "eps": float(eps),
        "norm": str(norm),
        "classes_defended": "labels" if labels is not None else "predicted",
        "samples": X,
        "sample_classes": [int(r.cls) for r in results],
    }
    if selection is not None:
        question["selection"] = {"rule": str(selection), "rows": len(results)}
    data = data_record(X, labels, target=target, source=source)
    if rows is not None:
        data["rows"] = [int(i) for i in rows]
    return _new(
        "robustness", question, net, data, solver_record(solver, None, options), answer, [r.to_dict() for r in results]
    )


def spread_rows(net: Network, X: np.ndarray, n: int) -> np.ndarray:
    """An audit's robustness rows: ``n`` rows spread evenly (first and last included) over the rows of X that lie
    in the model's input domain; their row numbers."""
    inside = np.flatnonzero(net.domain.contains(X, tol=0.0))
    if inside.size == 0 or n < 1:
        return inside[:0]
    return inside[np.unique(np.linspace(0, inside.size - 1, min(n, inside.size)).round().astype(int))]


def _check_selection(rep: RecheckReport, q: dict[str, Any], items: list[Any], net: Network, Xy: Any) -> None:
    """The rows a recorded selection rule picks from the data are the certificate's rows (the violated rows of an
    audit were dropped and the rest re-sealed: every claim left was true, the audit's verdict was not)."""
    sel = q.get("selection")
    if sel is None and Xy is not None:  # (an audit's record deleted: the claim is about the rows listed, say which)
        rows = [it.get("data_row") for it in items]
        shown = f"{rows[:8]}" + (" ..." if len(rows) > 8 else "")
        detail = f"no row selection recorded: the claim covers only the {len(rows)} listed samples (data rows {shown})"
        rep.add("the rows the claim covers", "integrity", True, detail)
    if sel is None or Xy is None:
        return
    n = sel.get("rows") if isinstance(sel, dict) else None
    if not isinstance(sel, dict) or sel.get("rule") != "spread" or not isinstance(n, int) or isinstance(n, bool):
        rep.add("the recorded row selection", "integrity", False, f"unknown selection {sel!r}")
        return
    want = spread_rows(net, np.asarray(Xy[0], dtype=np.float64), n).tolist()
    got = [it.get("data_row") for it in items]
    ok = got == want and n == len(items)
    detail = f"{n} rows spread over the data: rows {want[:8]}" + (" ..." if len(want) > 8 else "")
    rep.add("the rows of the recorded selection", "integrity", ok, detail if ok else f"{detail}, the items' {got[:8]}")


# ============================================================================ its re-check
def _row_label(Xy: Any, item: dict[str, Any]) -> Any:
    """The data's label of the item's row (None without data, labels or a row)."""
    r = item.get("data_row")
    if Xy is None or Xy[1] is None or not isinstance(r, int) or isinstance(r, bool) or not 0 <= r < len(Xy[1]):
        return None
    return Xy[1][r]


def _defended_class_problem(
    net: Network, q: dict[str, Any], item: dict[str, Any], c: int, predicted: int, data_label: Any = None
) -> str:
    """Why class ``c`` is not the one the certificate defends at this sample ('' when it is): the model's prediction
    (``classes_defended: predicted``) or the row's label (``labels``: a class of the model, and the data's label of
    the row when the data are given - an item's label rewritten with its seal re-checked OK)."""
    names = [str(k) for k in (net.class_names or [])]
    if not 0 <= c < max(len(names), net.n_outputs, 2):
        return f"class {c} is not a class of the model"
    if q.get("classes_defended") == "labels":
        label = item.get("label")
        if names and str(label) not in names:
            return f"the item's label {label!r} is not a class of the model"
        if names and names.index(str(label)) != c:
            return f"the certificate defends class {c}, the row's label is {label!r}"
        if data_label is not None and not _same_class(net, data_label, c):
            return f"the item's label {label!r} is not its row's label in the data ({data_label!r})"
        return ""
    if c != predicted:
        return f"the certificate defends class {c}, the model predicts class {predicted} at the sample"
    return ""


def _same_class(net: Network, label: Any, c: int) -> bool:
    """Whether the data's ``label`` is class ``c``, read as the verifier reads labels (a name, its string, a whole
    float as its integer: labels 0.0 / 1.0 of a CSV are the classes 0 / 1, an honest certificate was refuted)."""
    from ..verify.robustness.region import class_indices

    try:
        return int(class_indices(net, [label])[0]) == c
    except MipnetError:
        return False


def _ball_problems(net: Network, x: np.ndarray, xp: np.ndarray, eps: float, norm: str, c: int) -> tuple[list[str], str]:
    """Why x' is not a counterexample in the eps-ball around x (empty: it is one), and a description."""
    from ..verify.robustness.region import ball_problems

    d = float(np.max(np.abs(xp - x))) if norm == "inf" else float(np.sum(np.abs(xp - x)))
    k = int(net.predict_index(net.forward(xp[None]))[0])
    why = ball_problems(net, x, xp, eps, norm)
    if k == c:
        why.append(f"the forward pass keeps class {c}")
    return why, f"distance {d:.4g} <= {eps:g}, class {c} -> {k}"


def _recheck_robustness(rep: RecheckReport, cert: CertificateFile, net: Network, Xy: Any, ctx: _Ctx) -> None:
    from ..deadline import Deadline
    from ..verify.robustness import margins, normalise_norm, verify_sample
    from ..verify.robustness.region import ball_problems

    q = cert.question
    X = _samples(cert, net)
    eps = number(q.get("eps"))
    if eps is None or not math.isfinite(eps) or eps < 0:
        rep.add("eps", "integrity", False, f"eps {eps!r} is not a finite number >= 0")
        return
    try:
        norm = normalise_norm(q.get("norm", "inf"))
    except UnsupportedError as exc:
        raise CertificateFieldError(f"the certificate's norm: {exc}") from None
    items = cert.answer.get("items") or []
    if len(items) != X.shape[0]:
        rep.add("one answer per sample", "integrity", False, f"{len(items)} answers for {X.shape[0]} samples")
        return
    _check_aggregate(rep, cert, [str(it.get("verdict")) for it in items])
    bounds = [number(it.get("bound")) for it in items]
    proved = [b for b in bounds if b is not None]
    counts = {v: sum(it.get("verdict") == v for it in items) for v in ("holds", "violated", "unknown")}
    _check_summary(rep, cert, items, bound=min(proved) if proved else None, counts=counts, incumbent=None, gap=None)
    if q.get("sample_classes") is not None and list(q["sample_classes"]) != [it.get("class") for it in items]:
        rep.add("sample classes", "integrity", False, "the question's classes are not the items'")
    if Xy is not None:
        _check_data_hash(rep, cert, Xy[0], Xy[1])
    _check_row_binding(rep, cert, X, items, list(range(len(items))), Xy)
    _check_selection(rep, q, items, net, Xy)
    logits = net.forward(X)
    pred = net.predict_index(logits)
    to_solve: list[tuple[str, tuple[int, int, float | None, str]]] = []

    def bound_below(name: str, b: float, at: np.ndarray, c: int, where: str) -> bool:
        """The claimed bound of the worst margin is at most the margin at a point of the ball (recorded as a check)."""
        m = float(margins(net, net.forward(at[None]), np.array([c]))[0])
        below = b <= m + TOL * max(1.0, abs(m))
        rep.add(
            f"{name}: bound <= margin at the {where}", "witness", below, f"bound {b:.6g}, margin at the {where} {m:.6g}"
        )
        return below

    for i, it in enumerate(items):
        c = int(it.get("class", pred[i]))
        v = it.get("verdict")
        name = f"sample {i}"
        if v == "violated":
            wrong = _defended_class_problem(net, q, it, c, int(pred[i]), _row_label(Xy, it))
            if wrong:  # a counterexample for a class the sample does not have says nothing about the sample
                rep.add(f"{name}: the defended class is the sample's", "witness", False, wrong)
                continue
            ce = it.get("counterexample")
            if ce is None:
                rep.add(f"{name}: counterexample", "witness", False, "verdict violated without a counterexample")
                continue
            xp = _array(ce, net.n_inputs, "counterexample")
            why, desc = _ball_problems(net, X[i], xp, eps, norm, c)
            rep.add(f"{name}: counterexample changes the class", "witness", not why, "; ".join(why) or desc)
            b = number(it.get("bound"))
            # a bound is a claim on every point of the ball, the witness's too
            if b is not None and not why and bound_below(name, b, xp, c, "counterexample"):
                to_solve.append((f"{name}: its bound, re-proved by a fresh solve", (i, c, b, "bound")))
        elif v != "holds":  # unknown: no verdict, but a recorded bound is still a claim
            b = number(it.get("bound"))
            if b is not None and bound_below(name, b, X[i], c, "sample"):
                to_solve.append((f"{name}: its bound, re-proved by a fresh solve", (i, c, b, "bound")))
        else:
            wrong = _defended_class_problem(net, q, it, c, int(pred[i]), _row_label(Xy, it))
            if wrong:  # "holds" for a class the certificate does not defend there (labels swapped for predictions)
                rep.add(f"{name}: the defended class is the sample's", "witness", False, wrong)
                continue
            if it.get("counterexample") is not None:
                xp = _array(it["counterexample"], net.n_inputs, "counterexample")
                k = int(net.predict_index(net.forward(xp[None]))[0])
                rep.add(
                    f"{name}: holds without a counterexample",
                    "witness",
                    k == c,
                    "a recorded counterexample changes the class" if k != c else "recorded point keeps the class",
                )
            if pred[i] != c:
                rep.add(
                    f"{name}: sample is classified as defended",
                    "witness",
                    False,
                    f"the model predicts class {int(pred[i])}, the certificate defends {c}",
                )
                continue
            b = number(it.get("bound"))
            if b is not None:
                bound_below(name, b, X[i], c, "sample")
            to_solve.append((f"{name}: holds, re-proved by a fresh solve", (i, c, b, "holds")))

    def prove_bound(i: int, c: int, b: float, solver: str, dl: Deadline) -> tuple[bool | None, str]:
        """A violated or unknown item's bound: the exact worst margin (no early stop) at least the claim, or a point
        of the ball below it."""
        slack = TOL * max(1.0, abs(b))
        w = verify_sample(net, X[i], eps, norm, c, solver=solver, time_limit=dl, bounds="interval", early_stop=False)
        if w.bound is not None and w.bound >= b - slack:
            return True, f"worst margin >= {w.bound!r} >= the claimed {b!r} - {TOL:g} x {max(1.0, abs(b)):.3g}"
        for point in (w.witness, w.counterexample):
            if point is not None:
                xw = np.asarray(point, dtype=np.float64)
                mw = float(margins(net, net.forward(xw[None]), np.array([c]))[0])
                if not ball_problems(net, X[i], xw, eps, norm) and mw < b - slack:
                    return False, f"a point of the ball has margin {mw:.6g} < the claimed bound {b:.6g}"
        return None, f"not re-proved: the claimed bound {b:.6g} was not reached ({w.bound}; {w.reason or w.status})"

    def prove(icb: tuple[int, int, float | None, str], solver: str, t: float) -> tuple[bool | None, str]:
        """The verdict by a fresh solve; the claimed lower bound of the worst margin too: by the fresh proof's
        bound, else by the exact worst margin (no early stop), a point of the ball below the claim refuting it."""
        i, c, b, what = icb
        dl = Deadline(t)
        if what == "bound":
            assert b is not None  # (only items with a bound are queued for it)
            return prove_bound(i, c, b, solver, dl)
        # interval bounds (numpy only): the proof owes nothing to the first solver's LP bounds
        r = verify_sample(net, X[i], eps, norm, c, solver=solver, time_limit=dl, bounds="interval")
        if r.verdict == "holds":
            how = (
                f"bound propagation alone proves it ({r.prover or 'interval'})"
                if r.status == "bounds"
                else f"{solver}: {r.status}"
            )
            slack = TOL * max(1.0, abs(b)) if b is not None else 0.0
            if b is None or (r.bound is not None and r.bound >= b - slack):
                return True, how
            w = verify_sample(
                net, X[i], eps, norm, c, solver=solver, time_limit=dl, bounds="interval", early_stop=False
            )
            if w.bound is not None and w.bound >= b - slack:
                rel = "" if w.bound >= b else f" - {TOL:g} x {max(1.0, abs(b)):.3g} (the re-check's tolerance)"
                return True, f"{how}; worst margin >= {w.bound!r} >= the claimed {b!r}{rel}"
            if w.witness is not None:
                xw = np.asarray(w.witness, dtype=np.float64)
                mw = float(margins(net, net.forward(xw[None]), np.array([c]))[0])
                if not ball_problems(net, X[i], xw, eps, norm) and mw < b - slack:
                    return False, f"a point of the ball has margin {mw:.6g} < the claimed bound {b:.6g}"
            return None, f"not re-proved: {how}, but the claimed bound {b:.6g} was not reached ({w.bound})"
        if r.verdict == "violated" and r.counterexample is not None:
            why, desc = _ball_problems(net, X[i], np.asarray(r.counterexample, dtype=np.float64), eps, norm, c)
            if not why:
                return False, f"the fresh solve found a counterexample: {desc}"
            return None, "not re-proved: the fresh solve's point does not check (" + "; ".join(why) + ")"
        return None, f"not re-proved within {t:.3g} s: {r.reason or r.status}"

    _reprove(rep, ctx, to_solve, prove)


# ============================================================================ registration
def _title(q: dict[str, Any]) -> str:
    from ..verify.robustness import normalise_norm

    try:  # the norm the re-check checks ("Linf" is the L-inf ball): never a title naming another
        norm = "L-inf" if normalise_norm(q.get("norm", "inf")) == "inf" else "L1"
    except UnsupportedError:
        norm = f"unknown norm {q.get('norm')!r}"
    return f"robustness, {norm} eps = {q.get('eps')}, {len(q.get('samples') or [])} samples"


def _from_results(net: Network, result: Any, **question: Any) -> CertificateFile:
    """:func:`~mipnet.certificates.format.certificate_for` of a list of RobustnessResult (``X`` in ``question``)."""
    return robustness_certificate(net, question.pop("X"), result, **question)


ROBUSTNESS = register(
    Kind("robustness", robustness_certificate, _recheck_robustness, _title, (("RobustnessResult", _from_results),))
)

__all__ = ["robustness_certificate", "ROBUSTNESS"]
