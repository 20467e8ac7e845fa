"""Property results for the page: each verified property (its results, certificate and re-check) turned into a
:class:`PropertyResult` - verdict, plain-words summary, table rows, witness text and figures - plus the accuracy
and explanation summaries. Called by :func:`mipnet.report.audit.run.run_audit`; read by :mod:`.render`."""

from __future__ import annotations

import html
import math
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ...errors import DataError, UnsupportedError
from ...network import Network
from ..certificates import (
    CertificateFile,
    monotonicity_certificate,
    resilience_certificate,
    robustness_certificate,
)
from ..recheck import RecheckReport, recheck
from .figures import _png, _profile_figure, _region_figure, _robustness_figure
from .words import class_name, eps_meaning, flippable, pair, score_words

if TYPE_CHECKING:
    from ...deadline import Deadline


@dataclass
class PropertyResult:
    """One audited property: its verdict, a plain-language sentence, table rows and its certificate."""

    key: str  # monotonicity | robustness | resilience
    name: str
    verdict: str  # holds | violated | unknown
    sentence: str
    rows: list[dict[str, str]]
    certificate: CertificateFile
    recheck: RecheckReport
    figures: list[tuple[str, bytes]] = field(default_factory=list)
    cert_path: str | None = None
    #: HTML shown under the sentence (robustness: what eps allows per feature, the set the verdicts speak of)
    details: str = ""


def _fmt(v: Any, spec: str = ".4g") -> str:
    if v is None:
        return "-"
    try:
        f = float(v)
    except (TypeError, ValueError):
        return html.escape(str(v))
    if not math.isfinite(f):
        return str(f)
    return format(f, spec)


def _arrow(a: float, b: float) -> str:
    """'a &rarr; b' with enough significant digits that the two printed values differ (:func:`.words.pair`)."""
    sa, sb = pair(a, b)
    return f"{sa} &rarr; {sb}"


def _changes(net: Network, x: np.ndarray, xp: np.ndarray, top: int = 4) -> str:
    """'priors_count 2 -> 3, age 31 -> 30.5' for the largest changes (in feature units, printed at a precision
    that shows each change)."""
    d = np.abs(xp - x)
    idx = [i for i in np.argsort(-d) if d[i] > 1e-9][:top]
    parts = [f"{html.escape(net.feature_names[i])} {_arrow(x[i], xp[i])}" for i in idx]
    more = int(np.sum(d > 1e-9)) - len(idx)
    return ", ".join(parts) + (f" (+{more} smaller)" if more > 0 else "") if parts else "no change"


def _monotonicity_property(
    net: Network,
    reports: list[Any],
    increasing: list[str],
    decreasing: list[str],
    output: Any,
    versus: Any,
    X: np.ndarray,
    recheck_limit: float = 60.0,
    deadline: Deadline | None = None,
) -> PropertyResult:
    """``deadline``: the audit's; a score profile figure (0.15 s each: 40 features took 6 s past a limit of 0.1 s)
    is drawn only while the time one took is left, and the page says how many were left out."""
    from ...verify.monotonic import GlobalReport, output_coefficients

    feats = [f for r in reports for f in r.features]
    r0 = reports[0]
    merged = GlobalReport(
        feats, r0.output, r0.mode, sum(r.build_time for r in reports), r0.n_binaries, r0.n_products, r0.options
    )
    cert = monotonicity_certificate(
        net, merged, increasing=increasing, decreasing=decreasing, output=output, versus=versus
    )
    coef, desc = output_coefficients(net, output, versus)
    rows, figs = [], []
    fig_seconds, left_out = 0.0, 0
    for f in feats:
        w = f.witness
        if w is not None:
            l = net.feature_names.index(f.feature)
            wit = (
                f"{html.escape(f.feature)} {_arrow(w.x[l], w.x_prime[l])} (all else equal) moves the score "
                f"{_arrow(w.f_x, w.f_x_prime)}"
            )
        else:
            wit = html.escape(f.note) if f.status == "unknown" and f.note else "-"
        rows.append(
            {
                "feature": html.escape(f.feature),
                "direction": f.direction,
                "verdict": f.status,
                "bound": _fmt(f.bound),
                "witness": wit,
                "how": html.escape(f.how or ""),
                "time": f"{f.solve_time:.2f}&nbsp;s",
            }
        )
        if deadline is not None and not deadline.allows(fig_seconds):
            left_out += 1
            continue
        t0 = time.perf_counter()
        figs.append((f"The score along {f.feature}", _png(_profile_figure(net, coef, desc, f, X))))
        fig_seconds = max(fig_seconds, time.perf_counter() - t0)
    n_bad = sum(f.status == "violated" for f in feats)
    n_unk = sum(f.status == "unknown" for f in feats)
    if merged.status == "holds":
        verdict_words = (
            f"The score is proved monotone in every one of the {len(feats)} feature(s) on the whole "
            "input domain (every input the model is meant for, not only the data's rows)."
        )
    elif n_bad:
        verdict_words = (
            f"{n_bad} of {len(feats)} feature(s) violate the required direction (a concrete pair of "
            "inputs shows it)" + (f"; {n_unk} undecided within the time limit." if n_unk else ".")
        )
    else:
        verdict_words = f"{n_unk} of {len(feats)} feature(s) undecided within the time limit."
    sentence = f"Monitored score: the {html.escape(score_words(net, desc))}. {verdict_words}"
    if left_out:
        sentence += f" (The score profiles of {left_out} feature(s) are left out: the time limit came first.)"
    return PropertyResult(
        "monotonicity",
        "Monotonicity (global, whole domain)",
        merged.status,
        sentence,
        rows,
        cert,
        recheck(cert, net, second_solver=None, time_limit=recheck_limit),
        figs,
    )


def _no_phi(results: list[Any]) -> str:
    """The resilience sentence's value when no class has one: proved absent ("infeasible" for every class), or
    not found (a limit cut the search)."""
    if results and all(r.status == "infeasible" for r in results):
        return "proved not to exist (no such change for any class)"
    return "not found (the search was cut short)"


def _robustness_property(
    net: Network,
    X: np.ndarray,
    rows_idx: np.ndarray,
    results: list[Any],
    eps: float,
    norm: str,
    solver: str,
    time_limit: float,
    target: str | None,
    n_outside: int = 0,
    recheck_limit: float = 60.0,
) -> PropertyResult:
    from ...verify.robustness import normalise_norm

    norm = normalise_norm(norm)
    Xs = X[rows_idx]
    for j, r in enumerate(results):
        r.index = j  # position in the certificate's sample list (the data row is in the table)
    cert = robustness_certificate(
        net,
        Xs,
        results,
        eps=eps,
        norm=norm,
        solver=solver,
        options={"time_limit": time_limit},
        target=target,
        rows=rows_idx.tolist(),
        selection="spread",
    )
    rows = []
    vals = [_margin_value(r) for r in results]
    scale = max([abs(v) for v in vals if v is not None] + [1e-12])
    for i, r, v in zip(rows_idx, results, vals):
        wit = html.escape(r.reason) if r.verdict == "unknown" and r.reason else "-"
        if r.counterexample is not None:
            wit = (
                f"class {html.escape(class_name(net, r.label))} &rarr; "
                f"{html.escape(class_name(net, r.adversarial_class))}: "
                + _changes(net, X[i], np.asarray(r.counterexample))
            )
        rows.append(
            {
                "row": str(int(i)),
                "class": html.escape(class_name(net, r.label)),
                "verdict": r.verdict,
                "margin": _margin_bar(r.verdict, v, scale),
                "bound": _fmt(r.bound),
                "witness": wit,
                "time": f"{r.time:.2f}&nbsp;s",
            }
        )
    counts = {v: sum(r.verdict == v for r in results) for v in ("holds", "violated", "unknown")}
    dist = "L-inf" if norm == "inf" else "L1"
    how = (
        "every feature may change by up to eps at the same time"
        if norm == "inf"
        else "the changes of all features add up to at most eps"
    )
    ball = (
        f"every input within {dist} distance {eps:g} ({how}, in the features' own units) that lies in the "
        "model's input domain (the ball intersected with the domain)"
    )
    sentence = (
        f"Of {len(results)} data rows, {counts['holds']} keep their class for {ball} (proved), "
        f"{counts['violated']} change class for some such input (shown), {counts['unknown']} undecided."
    )
    region = next((r.region for r in results if getattr(r, "region", "")), "")
    flips = flippable(net, eps, norm)
    details = (
        "<p><b>The set the verdicts speak of.</b> The robustness ball is cut to the model's domain: only "
        "inputs the model is meant for count (each feature within its range, whole numbers stay whole, "
        "exactly one category per group). "
        + (f"In the verifier's words: <i>{html.escape(region)}</i>. " if region else "")
        + "A margin above 0 means the row keeps its class; the bar shows it (green: proved lowest margin "
        "in the ball; red: the margin of an input that changes the class).</p>"
    )
    if flips:
        shown = ", ".join(f"<code>{html.escape(f)}</code>" for f in flips[:8]) + (" ..." if len(flips) > 8 else "")
        details += (
            f'<p class="warn">With eps = {eps:g} the check may flip yes/no features such as {shown}: a '
            "change of class found this way can mean the decision depends on such a feature (for "
            "example a person's sex or race), not that the model is fragile to small changes.</p>"
        )
    details += (
        f"<details open><summary>What eps = {eps:g} ({dist} distance) allows for each feature</summary>"
        f"{_table_rows(eps_meaning(net, eps, norm))}</details>"
    )
    if n_outside:
        sentence += (
            f" ({n_outside} data row(s) lie outside the model's input domain, the range it was built for, "
            "and were not audited.)"
        )
    verdict = cert.status
    fig = _robustness_figure(results, eps)
    return PropertyResult(
        "robustness",
        f"Robustness (eps = {eps:g}, L{norm} norm)",
        verdict,
        sentence,
        rows,
        cert,
        # with the audit's data: the samples' binding to their rows is re-checked, not left open
        recheck(cert, net, (X, None), second_solver=None, time_limit=recheck_limit),
        [("Worst-case margins", _png(fig))],
        details=details,
    )


def _margin_value(r: Any) -> float | None:
    """The margin a row's verdict rests on: the proved lower bound (holds), the witness's margin (violated)."""
    v = r.bound if r.verdict == "holds" else (r.margin_forward if r.margin_forward is not None else r.margin)
    return None if v is None or not math.isfinite(float(v)) else float(v)


def _margin_bar(verdict: str, v: float | None, scale: float) -> str:
    """The margin as a number and a horizontal bar (HTML and CSS only; red for a violated row)."""
    if v is None:
        return "-"
    width = 4 + int(round(76 * min(1.0, abs(v) / scale)))
    cls = "violated" if verdict == "violated" or v <= 0 else "holds"
    return f'<span class="bar {cls}" style="width:{width}px"></span>&nbsp;{_fmt(v)}'


def _table_rows(rows: list[dict[str, str]]) -> str:
    """A plain HTML table of ``rows`` (their keys as the header)."""
    if not rows:
        return ""
    head = "".join(f"<th>{html.escape(c)}</th>" for c in rows[0])
    body = "".join("<tr>" + "".join(f"<td>{r[c]}</td>" for c in rows[0]) + "</tr>" for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _resilience_property(net: Network, results: list[Any], recheck_limit: float = 60.0) -> PropertyResult:
    cert = resilience_certificate(net, results)
    rows = []
    for r in results:
        wit = "-"
        if r.a is not None and r.b is not None:
            wit = _changes(net, np.asarray(r.a), np.asarray(r.b))
        rows.append(
            {
                "class": html.escape(r.class_name),
                "verdict": "holds" if r.status in ("optimal", "infeasible") else "unknown",
                "Phi": _fmt(r.phi),
                "bound": _fmt(r.bound),
                "gap": "-" if r.gap is None else f"{100 * r.gap:.2f} %",
                "witness": wit,
                "time": f"{r.timings.get('total', 0.0):.2f}&nbsp;s",
            }
        )
    r0 = results[0]
    vals = [r.phi for r in results if r.phi is not None]
    sentence = (
        f"The smallest change (L{r0.norm} norm) that takes a confidently classified input (logit margin "
        f">= ln {r0.alpha:g}) to at least {r0.k} other class(es) is "
        f"{_fmt(min(vals)) if vals else _no_phi(results)}; the per-class values below are "
        f"{'all proved optimal' if cert.status == 'holds' else 'not all proved (see the gaps)'}."
    )
    return PropertyResult(
        "resilience",
        f"Maximum resilience (alpha = {r0.alpha:g}, k = {r0.k})",
        cert.status,
        sentence,
        rows,
        cert,
        recheck(cert, net, second_solver=None, time_limit=recheck_limit),
    )


# ============================================================================ quality and explanation
def _quality(net: Network, X: np.ndarray, y: Any) -> dict[str, Any]:
    q: dict[str, Any] = {"n_rows": int(X.shape[0])}
    if net.task == "classify":
        assert net.class_names is not None  # a classifier has class names
        pred = net.predict_index(net.forward(X))
        q["predicted"] = {str(c): int(np.sum(pred == i)) for i, c in enumerate(net.class_names)}
        if y is not None:
            from ...verify.robustness import class_indices

            try:
                yi = class_indices(net, list(y))
            except DataError as exc:
                q["note"] = f"accuracy not computed: {exc}"
                return q
            q["accuracy"] = float(np.mean(pred == yi))
            q["confusion"] = [
                [int(np.sum((yi == a) & (pred == b))) for b in range(len(net.class_names))]
                for a in range(len(net.class_names))
            ]
    elif y is not None:
        yv = np.asarray(y, dtype=np.float64)
        f = net.forward(X)[:, 0]
        q["mae"] = float(np.mean(np.abs(f - yv)))
        ss = float(np.sum((yv - yv.mean()) ** 2))
        q["r2"] = 1.0 - float(np.sum((f - yv) ** 2)) / ss if ss > 0 else None
    return q


#: the explanation is first timed on this many rows; all rows are explained when they fit the time left, else an
#: evenly spread sample of as many rows as do (never fewer than this)
EXPLAIN_PROBE_ROWS = 500


def explained_rows(n: int, seconds_per_row: float, seconds: float | None) -> np.ndarray:
    """Which of ``n`` rows the explanation covers: all of them, or an evenly spread sample whose projected time
    (``seconds_per_row`` each, explanation and exactness) fits ``seconds`` (at least EXPLAIN_PROBE_ROWS rows)."""
    if seconds is None or n <= EXPLAIN_PROBE_ROWS or n * seconds_per_row <= seconds:
        return np.arange(n)
    k = max(EXPLAIN_PROBE_ROWS, int(seconds / max(seconds_per_row, 1e-12)))
    return np.unique(np.linspace(0, n - 1, min(k, n)).round().astype(np.int64))


def _explanation(net: Network, X: np.ndarray, top: int, seconds: float | None = None) -> dict[str, Any] | None:
    """The exact explanation of the network on the rows of X; with ``seconds`` (the audit's time left), on an
    evenly spread sample of the rows when all of them would not fit (50 000 rows took 19 s of a 1 s audit)."""
    from ...explain import interpret

    t0 = time.perf_counter()
    try:
        probe = X[: min(X.shape[0], EXPLAIN_PROBE_ROWS)]
        interp = interpret(net, probe)
        interp.exactness(probe)
    except UnsupportedError as exc:
        return {"note": f"no exact explanation: {exc}"}
    rows = explained_rows(X.shape[0], (time.perf_counter() - t0) / max(1, probe.shape[0]), seconds)
    sample = None if rows.size == X.shape[0] else f"an evenly spread sample of {rows.size} of the {X.shape[0]} rows"
    X = X[rows]
    interp = interpret(net, X) if rows.size > probe.shape[0] or sample is not None else interp
    regions = []
    multi = net.task == "classify" and net.n_outputs > 2
    sd = X.std(axis=0)
    for k in range(min(top, interp.n_regions)):
        w, b = interp.margin(k)
        eff = w * np.where(sd > 0, sd, 1.0)
        order = [i for i in np.argsort(-np.abs(eff)) if abs(w[i]) > 1e-12][:8]
        regions.append(
            {
                "k": k,
                "count": int(interp.counts[k]),
                "share": float(interp.counts[k] / X.shape[0]),
                "bias": b,
                "terms": [(net.feature_names[i], float(w[i]), float(eff[i])) for i in order],
                "n_nonzero": int(np.sum(np.abs(w) > 1e-12)),
                "figure": _png(_region_figure(net, w, eff, k, interp)) if order else None,
                # several classes: the two the region's score compares (interp.margin's top and runner-up)
                **({"classes": [str((net.class_names or [])[c]) for c in interp.margin_classes(k)]} if multi else {}),
            }
        )
    ex = interp.exactness(X)
    names = [str(c) for c in (net.class_names or ["output 0", "output 1"])]
    if net.task != "classify":  # no decision: the prediction itself (of the first output)
        score = (
            "the prediction"
            if net.n_outputs == 1
            else f"the prediction of {net.output_names[0]} (the first of the model's {net.n_outputs} outputs)"
        )
    elif net.n_outputs == 2 and len(names) == 2:
        score = f"the logit of {names[1]} minus the logit of {names[0]}"
    else:
        score = "the logit" if net.n_outputs == 1 else "the margin of the region's top class"
    out = {"n_regions": interp.n_regions, "regions": regions, "exactness": ex, "score": score}
    if sample is not None:
        out["sample"] = f"{sample} (the time limit)"
    return out


#: the scorecard is shown on the page for at most this many lines (start, linear features, units)
SCORECARD_MAX_ROWS = 40


def scorecard_html(net: Network) -> str:
    """The whole model as a scorecard (:mod:`mipnet.explain.scorecard`), for a network with one hidden layer (or
    none) of at most SCORECARD_MAX_ROWS lines; "" for the others (deeper, convolutional, smooth, too large)."""
    from ...errors import MipnetError
    from ...explain.scorecard import scorecard

    try:
        card = scorecard(net)
    except MipnetError:
        return ""
    rows = card.rows()
    if len(rows) > SCORECARD_MAX_ROWS:
        return ""
    body = "".join(
        f"<tr><td>{html.escape(label)}</td><td><code>{html.escape(text)}</code></td></tr>" for label, text in rows
    )
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in card.notes())
    return (
        "<h3>The whole model as a scorecard</h3><p>This model has one hidden layer, so it can be written exactly "
        "as a points table in the features' own units: a case's points are the sum of the lines below. A "
        "feature line adds its points once per unit of the feature (or once, if the feature is a 0/1 feature and "
        "is 1); a hidden unit adds its points once per unit of its expression, and only when that expression is "
        "positive (otherwise nothing). Lines worth nothing are left out.</p>"
        f"<table><tr><th>line</th><th>points</th></tr>{body}</table><ul>{notes}</ul>"
    )
