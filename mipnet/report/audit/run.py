"""Running an audit: the check tasks, :func:`run_audit`, and the property results it assembles.

:func:`run_audit` verifies the requested properties (independent problems fanned out with
:func:`mipnet.distributed.run_many`: one global monotonicity problem per feature, one robustness
problem per sample, one resilience problem per class), writes one certificate file per property
(:mod:`mipnet.report.certificates`), re-checks every witness with the forward pass and re-proves
every claim on a fresh model (:func:`mipnet.report.recheck.recheck`), and computes the exact local linear
classifiers of the data's activation regions (:func:`mipnet.explain.interpret`).

Each problem is a small frozen dataclass (:class:`MonotonicityTask`, :class:`RobustnessTask`,
:class:`ResilienceTask`; module level, so picklable for Dask workers) run by :func:`_call`.
"""

from __future__ import annotations

import datetime as _dt
import html
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Sequence, Union

import numpy as np

from ...deadline import Deadline
from ...errors import DataError, MipnetError, SolverError, UnsupportedError
from ...network import Network
from ...progress import progress
from ..certificates import (
    CertificateFile,
    monotonicity_certificate,
    resilience_certificate,
    robustness_certificate,
    save_certificate,
    training_certificate,
)
from ..recheck import RecheckReport, recheck
from .figures import _png, _profile_figure, _region_figure, _robustness_figure
from .words import class_name, eps_meaning, flippable, pair, score_words

if TYPE_CHECKING:
    from ...verify.monotonic import GlobalReport
    from ...verify.resilience import ResilienceResult
    from ...verify.robustness import RobustnessResult


# ============================================================================ result types
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


@dataclass
class Audit:
    net: Network
    model_name: str
    data_name: str
    X: np.ndarray
    y: Any
    properties: list[PropertyResult]
    training: CertificateFile | None
    training_recheck: RecheckReport | None
    quality: dict[str, Any]
    explanation: dict[str, Any] | None
    time: float
    created: str
    scheduler: str
    #: which rows the accuracy is measured on, in words (held out from training, or not known)
    data_note: str = ""

    @property
    def verdicts(self) -> list[str]:
        return [p.verdict for p in self.properties]


# ============================================================================ tasks (module level: picklable)
@dataclass(frozen=True, eq=False)
class MonotonicityTask:
    """One global monotonicity problem: the monitored score (``output``, minus ``versus`` when given) is
    non-decreasing (``sign`` = +1) or non-increasing (``sign`` = -1) in ``feature`` on the whole domain."""

    net: Network
    feature: str
    sign: int
    output: int | str | None
    versus: int | str | None
    solver: str
    time_limit: float


@dataclass(frozen=True, eq=False)
class RobustnessTask:
    """One robustness problem: data row ``index`` (``x``) keeps its class (``cls``; None: the predicted one)
    for every input within distance ``eps`` (``norm``) that lies in the model's domain."""

    net: Network
    x: np.ndarray
    eps: float
    norm: str
    cls: int | None
    solver: str
    time_limit: float
    index: int


@dataclass(frozen=True, eq=False)
class ResilienceTask:
    """One maximum-resilience problem: the smallest change (``norm``) taking an input of class ``m`` with
    logit margin >= ln ``alpha`` to at least ``k`` other classes."""

    net: Network
    m: int
    alpha: float
    k: int
    norm: str
    solver: str
    time_limit: float


AuditTask = Union[MonotonicityTask, RobustnessTask, ResilienceTask]


# A problem whose verification raises (a solver failure, numerical trouble) is reported as undecided with
# the error as its reason, so that one bad problem does not sink the whole audit.
def _robustness_task(task: RobustnessTask) -> RobustnessResult:
    from ...verify.robustness import RobustnessResult, normalise_norm, verify_sample

    net, x, eps, norm, cls = task.net, task.x, task.eps, task.norm, task.cls
    solver, time_limit, index = task.solver, task.time_limit, task.index
    try:
        return verify_sample(net, x, eps, norm, cls, solver=solver, time_limit=time_limit, threads=1, index=index)
    except MipnetError as exc:
        c = int(net.predict_index(net.forward(x[None]))[0]) if cls is None else int(cls)
        return RobustnessResult(
            index,
            c,
            (net.class_names or [c])[c],
            "unknown",
            float(eps),
            normalise_norm(norm),
            solver=solver,
            status="error",
            reason=f"verification failed: {exc}",
        )


def _monotonicity_task(task: MonotonicityTask) -> GlobalReport:
    from ...verify.monotonic import FeatureVerdict, GlobalReport, output_coefficients, verify_global

    net, feature, sign, output, versus = task.net, task.feature, task.sign, task.output, task.versus
    solver, time_limit = task.solver, task.time_limit
    kw: dict[str, Any] = {"increasing": [feature]} if sign > 0 else {"decreasing": [feature]}
    try:
        return verify_global(net, **kw, output=output, versus=versus, solver=solver, time_limit=time_limit, threads=1)
    except (SolverError, DataError) as exc:
        _, desc = output_coefficients(net, output, versus)
        fv = FeatureVerdict(
            feature,
            "increasing" if sign > 0 else "decreasing",
            "unknown",
            "exact",
            None,
            None,
            note=f"verification failed: {exc}",
        )
        return GlobalReport([fv], desc, "exact", 0.0, 0, 0, {"solver": solver, "time_limit": time_limit})


def _resilience_task(task: ResilienceTask) -> ResilienceResult:
    from ...verify.resilience import ResilienceResult, class_resilience

    net, m, alpha, k, norm = task.net, task.m, task.alpha, task.k, task.norm
    solver, time_limit = task.solver, task.time_limit
    try:
        return class_resilience(net, m, alpha=alpha, k=k, norm=norm, solver=solver, time_limit=time_limit, threads=1)
    except (SolverError, DataError) as exc:
        assert net.class_names is not None  # a resilience task is made for each class of a classifier
        return ResilienceResult(
            "class",
            m,
            str(net.class_names[m]),
            float(alpha),
            int(k),
            norm,
            "unknown",
            None,
            None,
            None,
            notes=[f"verification failed: {exc}"],
        )


def _call(task: AuditTask) -> Any:
    """Run one task (the function :func:`~mipnet.distributed.run_many` maps over the tasks)."""
    if isinstance(task, MonotonicityTask):
        return _monotonicity_task(task)
    if isinstance(task, RobustnessTask):
        return _robustness_task(task)
    return _resilience_task(task)


# ============================================================================ running the checks
def monotone_output(net: Network, output: int | str | None = None) -> tuple[Any, Any]:
    """(output, versus) of the monitored score: the logit; with two logits, logit 1 minus logit 0."""
    if output is not None:
        return output, None
    if net.n_outputs == 1:
        return None, None
    if net.n_outputs == 2 and net.task == "classify":
        return 1, 0
    raise DataError(f"the model has {net.n_outputs} outputs: choose the monitored output (--output)")


def check_request(
    net: Network,
    increasing: Sequence[str],
    decreasing: Sequence[str],
    eps: float | None,
    alpha: float | None,
    k: int | None,
) -> None:
    """Fail fast (before any solve) on a property the model cannot have."""
    from ...verify.monotonic import resolve_features

    names = set(net.feature_names)
    missing = [f for f in [*increasing, *decreasing] if f not in names]
    if missing:
        shown = ", ".join(net.feature_names[:12]) + (" ..." if len(names) > 12 else "")
        raise DataError(f"the model has no feature(s) {', '.join(map(repr, missing))} (its features: {shown})")
    if increasing or decreasing:
        resolve_features(net, increasing, decreasing)
    if (alpha is None) != (k is None):
        raise DataError("maximum resilience needs both --alpha and --k")
    if (eps is not None or alpha is not None) and net.task != "classify":
        raise UnsupportedError("robustness and resilience are defined for classifiers; this model is a regressor")
    if eps is not None and not (math.isfinite(eps) and eps >= 0):
        raise DataError(f"eps must be a finite number >= 0, got {eps}")
    if not (increasing or decreasing or eps is not None or alpha is not None):
        raise DataError(
            "ask for at least one property: --monotone-increasing/--monotone-decreasing, --eps, or --alpha with --k"
        )


def run_audit(
    net: Network,
    X: np.ndarray,
    y: Sequence[Any] | None = None,
    *,
    increasing: Sequence[str] = (),
    decreasing: Sequence[str] = (),
    output: int | str | None = None,
    eps: float | None = None,
    norm: str = "inf",
    rows: int = 20,
    alpha: float | None = None,
    k: int | None = None,
    resilience_norm: str = "1",
    solver: str = "highs",
    time_limit: float = 30.0,
    scheduler: str | None = "serial",
    workers: int | None = None,
    cert_dir: str | Path | None = None,
    model_name: str = "model",
    data_name: str = "data",
    target: str | None = None,
    explain_regions: int = 3,
    log: Callable[[str], None] | None = None,
    data_note: str | None = None,
) -> Audit:
    """Run the requested checks (see the module docstring). ``time_limit`` is per problem.

    ``scheduler``: "serial" (this process), None (a local Dask cluster of ``workers`` processes) or the
    address of a running Dask scheduler. ``cert_dir``: where the certificate files go (None: not written).
    ``data_note``: which rows ``X`` are, in words, for the accuracy (e.g. "held out from training"); default: all
    rows of ``data_name``, with the warning that the audit cannot tell whether the model was trained on them.

    Time: each problem (one robustness row, monotone feature or resilience class) has ``time_limit`` for all it
    does (bounds, model building, solve, re-check); the whole audit has ``time_limit`` x the number of problems.
    The re-proofs of the certificates' claims (:func:`~mipnet.report.recheck.recheck`, a fresh model) share what
    the problems left of that budget (claims left without time are reported as not re-proved).
    """
    from ...distributed import run_many

    say = log or (lambda s: None)
    t0 = time.perf_counter()
    increasing, decreasing = [str(f) for f in increasing], [str(f) for f in decreasing]
    check_request(net, increasing, decreasing, eps, alpha, k)
    X = net._check_input(X)
    out_arg, versus = monotone_output(net, output) if (increasing or decreasing) else (None, None)

    # 1. every independent problem, fanned out together
    tasks: list[AuditTask] = []
    sign = [(f, 1) for f in increasing] + [(f, -1) for f in decreasing]
    for f, s in sign:
        tasks.append(MonotonicityTask(net, f, s, out_arg, versus, solver, time_limit))
    rob_rows = np.zeros(0, dtype=int)
    n_outside = 0
    if eps is not None:  # rows spread over the data, among those inside the model's input domain
        inside = np.flatnonzero(net.domain.contains(X, tol=1e-7))
        n_outside = X.shape[0] - inside.size
        if inside.size == 0:
            raise DataError("no row of the data lies inside the model's input domain: robustness cannot be checked")
        rob_rows = inside[np.unique(np.linspace(0, inside.size - 1, min(rows, inside.size)).round().astype(int))]
        for i in rob_rows:
            tasks.append(RobustnessTask(net, X[i], float(eps), norm, None, solver, time_limit, int(i)))
    n_cls = len(net.class_names or [])
    if alpha is not None:
        assert k is not None  # check_request: alpha and k come together
        for m in range(n_cls):
            tasks.append(ResilienceTask(net, m, float(alpha), int(k), resilience_norm, solver, time_limit))
    total = Deadline(float(time_limit) * max(1, len(tasks)))  # the whole audit's budget
    say(f"{len(tasks)} verification problems on {scheduler or 'a local Dask cluster'}")
    with progress(len(tasks), "audit") as bar:  # a bar on a terminal's stderr, else the log's lines

        def report(done: int, n: int) -> None:
            bar.set(done)
            if not bar.shown:
                say(f"  {done}/{n} problems done")

        results = run_many(_call, tasks, scheduler=scheduler, n_workers=workers, progress=report)
    by_kind: dict[type, list[Any]] = {MonotonicityTask: [], RobustnessTask: [], ResilienceTask: []}
    for task, r in zip(tasks, results):
        by_kind[type(task)].append(r)

    cdir = Path(cert_dir) if cert_dir is not None else None
    props: list[PropertyResult] = []
    n_props = int(bool(sign)) + int(eps is not None) + int(alpha is not None)

    def recheck_limit() -> float:  # the re-proofs share what the problems left of the audit's budget
        return total.remaining() / max(1, n_props - len(props))

    if sign:
        props.append(
            _monotonicity_property(
                net,
                by_kind[MonotonicityTask],
                increasing,
                decreasing,
                out_arg,
                versus,
                X,
                recheck_limit=recheck_limit(),
            )
        )
    if eps is not None:
        props.append(
            _robustness_property(
                net,
                X,
                rob_rows,
                by_kind[RobustnessTask],
                float(eps),
                norm,
                solver,
                time_limit,
                target,
                n_outside,
                recheck_limit=recheck_limit(),
            )
        )
    if alpha is not None:
        props.append(_resilience_property(net, by_kind[ResilienceTask], recheck_limit=recheck_limit()))
    for p in props:
        if cdir is not None:
            path = cdir / f"{p.key}.json"
            save_certificate(p.certificate, path)
            p.cert_path = str(path)
    # 2. training certificate in the model's metadata
    training = rc = None
    meta = net.metadata.get("certificate") if isinstance(net.metadata, dict) else None
    if isinstance(meta, dict) and "data_sha256" in meta:
        training = training_certificate(net, meta)
        rc = recheck(training, net, None, second_solver=None, time_limit=total.remaining())
        if cdir is not None:
            save_certificate(training, cdir / "training.json")
    # 3. quality on the data, exact explanation
    quality = _quality(net, X, y)
    explanation = _explanation(net, X, explain_regions)
    now = _dt.datetime.now().astimezone().replace(microsecond=0).isoformat(sep=" ")
    if data_note is None:
        data_note = (
            f"all {X.shape[0]} rows of {data_name}. The audit cannot tell whether the model was trained on "
            "these rows; if it was, the accuracy overstates how well it does on new cases."
        )
    return Audit(
        net,
        model_name,
        data_name,
        X,
        y,
        props,
        training,
        rc,
        quality,
        explanation,
        time.perf_counter() - t0,
        now,
        scheduler or "local Dask cluster",
        data_note,
    )


# ============================================================================ properties
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
) -> PropertyResult:
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
        figs.append((f"The score along {f.feature}", _png(_profile_figure(net, coef, desc, f, X))))
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
        f"Robustness (eps = {eps:g})",
        verdict,
        sentence,
        rows,
        cert,
        recheck(cert, net, second_solver=None, time_limit=recheck_limit),
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
        f"{_fmt(min(vals)) if vals else 'not found'}; the per-class values below are "
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


def _explanation(net: Network, X: np.ndarray, top: int) -> dict[str, Any] | None:
    from ...explain import interpret

    try:
        interp = interpret(net, X)
    except UnsupportedError as exc:
        return {"note": f"no exact explanation: {exc}"}
    regions = []
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
            }
        )
    ex = interp.exactness(X)
    names = [str(c) for c in (net.class_names or ["output 0", "output 1"])]
    score = (
        f"the logit of {names[1]} minus the logit of {names[0]}"
        if net.n_outputs == 2 and len(names) == 2
        else "the logit"
        if net.n_outputs == 1
        else "the margin of the region's top class"
    )
    return {"n_regions": interp.n_regions, "regions": regions, "exactness": ex, "score": score}


__all__ = [
    "Audit",
    "PropertyResult",
    "MonotonicityTask",
    "RobustnessTask",
    "ResilienceTask",
    "AuditTask",
    "run_audit",
    "check_request",
    "monotone_output",
]
