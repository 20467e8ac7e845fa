"""Running an audit: the check tasks and :func:`run_audit` (the property results it assembles: :mod:`.summaries`).

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

import dataclasses
import datetime as _dt
import json
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Sequence, Union

import numpy as np

from ...certificates.checks import data_matches
from ...certificates.robustness import spread_rows
from ...deadline import Deadline
from ...errors import DataError, LimitError, MipnetError, SolverError, UnsupportedError
from ...network import Network
from ...progress import progress
from ..certificates import (
    CertificateFile,
    save_certificate,
    training_certificate,
)
from ..recheck import RecheckReport, recheck
from .summaries import (  # noqa: F401  (re-exported: the names this module had)
    PropertyResult,
    _arrow,
    _changes,
    _explanation,
    _fmt,
    _margin_bar,
    _margin_value,
    _monotonicity_property,
    _quality,
    _resilience_property,
    _robustness_property,
    _table_rows,
)

if TYPE_CHECKING:
    from ...verify.monotonic import GlobalReport
    from ...verify.resilience import ResilienceResult
    from ...verify.robustness import RobustnessResult


# ============================================================================ result types
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
    #: the data's column the labels were read from (None: no labels)
    target: str | None = None
    #: the training certificate was re-checked with the audit's data (they are its training rows, by their hash)
    training_rows: bool = False

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
    #: the whole audit's deadline, serial runs only (a clock of this machine): a problem starts with at most what
    #: is left of it, none once it has passed (40 monotone features of 0.22 s each at a limit of 0.1 s broke the
    #: whole command's promise)
    audit_deadline: Deadline | None = None


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
    audit_deadline: Deadline | None = None  # (as MonotonicityTask.audit_deadline)


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
    audit_deadline: Deadline | None = None  # (as MonotonicityTask.audit_deadline)


AuditTask = Union[MonotonicityTask, RobustnessTask, ResilienceTask]


# A problem whose verification raises (a solver failure, numerical trouble) is reported as undecided with
# the error as its reason, so that one bad problem does not sink the whole audit.
def _robustness_task(task: RobustnessTask) -> RobustnessResult:
    from ...verify.robustness import verify_sample
    from ...verify.robustness.results import failed

    net, x, eps, norm, cls = task.net, task.x, task.eps, task.norm, task.cls
    solver, time_limit, index = task.solver, task.time_limit, task.index
    try:
        time_limit = _task_limit(task)
        return verify_sample(net, x, eps, norm, cls, solver=solver, time_limit=time_limit, threads=1, index=index)
    except MipnetError as exc:
        return failed(net, x, cls, eps, norm, solver, index, _failed(exc))


def _task_limit(task: AuditTask) -> float:
    """The problem's own time limit, capped by what is left of the audit's (:attr:`MonotonicityTask.audit_deadline`);
    LimitError when nothing is left."""
    dl = task.audit_deadline
    if dl is None:
        return task.time_limit
    if dl.expired():
        raise LimitError("the audit's time limit was used up before this problem started")
    return min(task.time_limit, dl.remaining())


def _failed(exc: Exception) -> str:
    return f"not run: {exc}" if isinstance(exc, LimitError) else f"verification failed: {exc}"


def _monotonicity_task(task: MonotonicityTask) -> GlobalReport:
    from ...verify.monotonic import FeatureVerdict, GlobalReport, output_coefficients, verify_global

    net, feature, sign, output, versus = task.net, task.feature, task.sign, task.output, task.versus
    solver, time_limit = task.solver, task.time_limit
    kw: dict[str, Any] = {"increasing": [feature]} if sign > 0 else {"decreasing": [feature]}
    try:
        time_limit = _task_limit(task)
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
            note=_failed(exc),
        )
        return GlobalReport([fv], desc, "exact", 0.0, 0, 0, {"solver": solver, "time_limit": time_limit})


def _resilience_task(task: ResilienceTask) -> ResilienceResult:
    from ...verify.resilience import ResilienceResult, class_resilience

    net, m, alpha, k, norm = task.net, task.m, task.alpha, task.k, task.norm
    solver, time_limit = task.solver, task.time_limit
    try:
        time_limit = _task_limit(task)
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
            notes=[_failed(exc)],
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
    """(output, versus) of the monitored score: the logit; with two logits, logit 1 minus logit 0. A named output
    is resolved here, before any work (an unknown name failed only after the robustness problems had run)."""
    if output is not None:
        from ...verify.monotonic import output_coefficients

        output_coefficients(net, output, None)  # raises on an output the model does not have
        return output, None
    if net.n_outputs == 1:
        return None, None
    if net.n_outputs == 2 and net.task == "classify":
        return 1, 0
    raise DataError(f"the model has {net.n_outputs} outputs: choose the monitored output (--output-name)")


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
    from ...verify.monotonic.common import _prepare as _prepare_monotonic

    names = set(net.feature_names)
    missing = [f for f in [*increasing, *decreasing] if f not in names]
    if missing:
        shown = ", ".join(net.feature_names[:12]) + (" ..." if len(names) > 12 else "")
        raise DataError(f"the model has no feature(s) {', '.join(map(repr, missing))} (its features: {shown})")
    if increasing or decreasing:
        resolve_features(net, increasing, decreasing)
        _prepare_monotonic(net)  # a bounded domain, layers with gradients: as `verify monotonic`, before any work
    if alpha is not None:  # (a Tanh net failed after every robustness problem had been solved)
        for layer in net.layers:
            if layer.activation and not layer.piecewise_linear:
                raise UnsupportedError(f"the resilience MILP is exact for piecewise-linear nets only, not {layer.kind}")
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


#: the certificate files an audit writes into its directory (``{key}.json`` of each property, and the training one)
CERTIFICATE_FILES = ("monotonicity.json", "robustness.json", "resilience.json", "training.json", "model.json")
#: the model as audited, written beside the certificates when its domain was replaced (--domain / --domain-json):
#: the certificates name it, not the model file (they re-checked as "certificate for another model")
AUDITED_MODEL = "model.json"
#: metadata key of the model copy an audit writes to its certificate directory (metadata is not in the fingerprint)
AUDIT_COPY_KEY = "audit_copy_of"


def an_audits_own(path: Path) -> bool:
    """``path`` holds what an audit writes under its name: a mipnet certificate, or (model.json) the model copy an
    audit marked with :data:`AUDIT_COPY_KEY`. Anything else is the user's, never to be overwritten or removed
    (--cert-dir . deleted the user's own model.json and notes named training.json)."""
    from ...certificates.format import FORMAT

    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return False
    if not isinstance(doc, dict):
        return False
    if path.name == AUDITED_MODEL:
        meta = doc.get("metadata")
        return (isinstance(meta, dict) and AUDIT_COPY_KEY in meta) or _named_by_a_certificate_beside(path)
    return doc.get("format") == FORMAT


def _named_by_a_certificate_beside(path: Path) -> bool:
    """An audit's model copy written before the copies were marked: a certificate beside it is of that model."""
    from ...certificates.format import FORMAT
    from ...io import load_model

    try:
        sha = load_model(path).fingerprint()
    except (MipnetError, OSError, ValueError):
        return False
    for name in CERTIFICATE_FILES:
        if name == AUDITED_MODEL or not (path.parent / name).is_file():
            continue
        try:
            cert = json.loads((path.parent / name).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError):
            continue
        if isinstance(cert, dict) and cert.get("format") == FORMAT and (cert.get("model") or {}).get("sha256") == sha:
            return True
    return False


def _training_of(net: Network) -> CertificateFile | None:
    """The training certificate the model file carries (``metadata.certificate``), its figures read as numbers; a
    DataError naming the field when they are not (a gap of "abc" failed after every verification had run, and a
    row count of '<script>' went into the report's HTML)."""
    meta = net.metadata.get("certificate") if isinstance(net.metadata, dict) else None
    if not (isinstance(meta, dict) and "data_sha256" in meta):
        return None
    try:
        target = net.metadata.get("target") if isinstance(net.metadata, dict) else None
        cert = training_certificate(net, meta, target=target if isinstance(target, str) else None)
        for key in ("incumbent", "bound", "gap", "time"):
            v = cert.answer.get(key)
            if v is not None and (isinstance(v, bool) or not math.isfinite(float(v))):
                raise ValueError(f"{key} is {v!r}")
        n = cert.question.get("n_samples")
        if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 0):
            raise ValueError(f"n_samples is {n!r}")
    except (TypeError, ValueError, OverflowError) as exc:
        raise DataError(f"the model's training certificate (metadata.certificate) is malformed: {exc}") from None
    return cert


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
    from ...distributed import LOCAL_CLUSTER_MIN_BUDGET, LOCAL_CLUSTER_SECONDS, connect_seconds, run_many

    say = log or (lambda s: None)
    t0 = time.perf_counter()
    increasing, decreasing = [str(f) for f in increasing], [str(f) for f in decreasing]
    check_request(net, increasing, decreasing, eps, alpha, k)
    X = net._check_input(X)
    training = _training_of(net)  # before any work: a malformed certificate in the model file is an input error
    out_arg, versus = monotone_output(net, output) if (increasing or decreasing) else (None, None)

    # 1. every independent problem, fanned out together
    tasks: list[AuditTask] = []
    sign = [(f, 1) for f in increasing] + [(f, -1) for f in decreasing]
    for f, s in sign:
        tasks.append(MonotonicityTask(net, f, s, out_arg, versus, solver, time_limit))
    rob_rows = np.zeros(0, dtype=int)
    n_outside = 0
    if eps is not None:  # rows spread over the data, among those inside the model's input domain
        rob_rows = spread_rows(net, X, rows)
        n_outside = X.shape[0] - int(np.count_nonzero(net.domain.contains(X, tol=0.0)))
        if rob_rows.size == 0:
            raise DataError("no row of the data lies inside the model's input domain: robustness cannot be checked")
        for i in rob_rows:
            tasks.append(RobustnessTask(net, X[i], float(eps), norm, None, solver, time_limit, int(i)))
    n_cls = len(net.class_names or [])
    if alpha is not None:
        assert k is not None  # check_request: alpha and k come together
        for m in range(n_cls):
            tasks.append(ResilienceTask(net, m, float(alpha), int(k), resilience_norm, solver, time_limit))
    total = Deadline(float(time_limit) * max(1, len(tasks)))  # the whole audit's budget
    if scheduler is None and (len(tasks) <= 1 or workers == 1 or total.remaining() < LOCAL_CLUSTER_MIN_BUDGET):
        # a local cluster's start and close (LOCAL_CLUSTER_SECONDS) would not fit in the time limit's promise
        say(
            f"(the problems run in this process: a local Dask cluster takes about {LOCAL_CLUSTER_SECONDS:g} s to "
            f"start and close, and the audit's time limit is {total.remaining():.3g} s)"
        )
        scheduler = "serial"
    if scheduler == "serial":  # one process, one clock: every problem within what is left of the whole budget
        tasks = [dataclasses.replace(t, audit_deadline=total) for t in tasks]
    say(f"{len(tasks)} verification problems on {scheduler or 'a local Dask cluster'}")
    with progress(len(tasks), "audit") as bar:  # a bar on a terminal's stderr, else the log's lines

        def report(done: int, n: int) -> None:
            bar.set(done)
            if not bar.shown:
                say(f"  {done}/{n} problems done")

        results = run_many(
            _call,
            tasks,
            scheduler=scheduler,
            n_workers=workers,
            progress=report,
            connect_timeout=connect_seconds(total),
        )
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
                deadline=total,
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
    rc = None
    with_rows = training is not None and data_matches(training, X, y)  # the training rows: the bound is re-proved
    if training is not None:
        data = (X, np.asarray(y, dtype=object)) if with_rows else None
        rc = recheck(training, net, data, second_solver=None, time_limit=total.remaining())
        if cdir is not None:
            save_certificate(training, cdir / "training.json")
    if cdir is not None:  # a bundle never mixes runs: certificates of an earlier audit that this one did not write go
        written = {f"{p.key}.json" for p in props} | ({"training.json"} if training is not None else set())
        for name in CERTIFICATE_FILES:
            stale = cdir / name
            if name not in written and name != AUDITED_MODEL and stale.exists() and an_audits_own(stale):
                stale.unlink(missing_ok=True)  # (the command writes or removes the model copy)
    # 3. quality on the data, exact explanation
    quality = _quality(net, X, y)
    explanation = _explanation(net, X, explain_regions, total.remaining())
    now = _dt.datetime.now().astimezone().replace(microsecond=0).isoformat(sep=" ")
    if data_note is None and with_rows:
        data_note = (
            f"all {X.shape[0]} rows of {data_name}: the model's training rows (their hash is the one its training "
            "certificate records), so the accuracy overstates how well it does on new cases."
        )
    elif data_note is None:
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
        target,
        with_rows,
    )


# ============================================================================ properties

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
