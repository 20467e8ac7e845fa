"""The audit: run the requested checks on a model and write one self-contained HTML report.

:func:`run_audit` (:mod:`.run`) verifies the requested properties (independent problems fanned out with
:func:`mipnet.distributed.run_many`: one global monotonicity problem per feature, one robustness
problem per sample, one resilience problem per class), writes one certificate file per property
(:mod:`mipnet.report.certificates`), re-checks every witness with the forward pass and re-proves
every claim on a fresh model (:func:`mipnet.report.recheck.recheck`), and computes the exact local linear
classifiers of the data's activation regions (:func:`mipnet.explain.interpret`).
:func:`render_html` (:mod:`.render`) turns the result into a page a non-programmer can read: every figure
(:mod:`.figures`) is a matplotlib PNG drawn on its own Agg canvas and embedded as base64, the page needs no
script, network or file besides itself. Importing this package does not change matplotlib's backend.

The page, top to bottom: the verdicts at a glance; the model (layers, a diagram of the surviving
weights and neurons); the training certificate when the model carries one (gap, incumbent and
bound, and their progress over time when the trainer recorded it); accuracy on the data; each
property with its verdict, proved bound and witness; the local linear classifiers in feature names;
the certificate files.

Modules: :mod:`.run` (tasks, :func:`run_audit`), :mod:`.summaries` (property results for the page),
:mod:`.figures` (matplotlib figures),
:mod:`.render` (HTML). Every name of the former single module ``mipnet/report/audit.py`` is importable from
here; :func:`run_demo_audit` lives here and calls :func:`run_audit` and :func:`write_report` through this
module's namespace (so a patched ``mipnet.report.audit.run_audit`` is the one it runs).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Sequence

from ...network import Network
from .figures import (  # noqa: F401  (re-exports: every name of the former module)
    _dense_chain,
    _graph_figure,
    _png,
    _profile_figure,
    _region_figure,
    _robustness_figure,
    new_figure,
    progress_points,
    sparsity_figure,
    training_figure,
)
from .render import (  # noqa: F401
    VERDICT_WORDS,
    _badge,
    _img,
    _section_certificates,
    _section_explanation,
    _section_model,
    _section_properties,
    _section_quality,
    _section_summary,
    _section_training,
    _table,
    default_cert_dir,
    render_html,
    write_report,
)
from .run import (  # noqa: F401
    AUDIT_COPY_KEY,
    AUDITED_MODEL,
    CERTIFICATE_FILES,
    Audit,
    AuditTask,
    MonotonicityTask,
    PropertyResult,
    ResilienceTask,
    RobustnessTask,
    _call,
    _changes,
    _explanation,
    _fmt,
    _monotonicity_property,
    _monotonicity_task,
    _quality,
    _resilience_property,
    _resilience_task,
    _robustness_property,
    _robustness_task,
    an_audits_own,
    check_request,
    monotone_output,
    run_audit,
)


def run_demo_audit(
    net: Network,
    X: Any,
    y: Sequence[Any] | None,
    output: str | Path,
    *,
    increasing: Sequence[str] = (),
    decreasing: Sequence[str] = (),
    eps: float | None = None,
    rows: int = 10,
    time_limit: float = 20.0,
    scheduler: str | None = "serial",
    workers: int | None = None,
    model_name: str = "demo model",
    data_name: str = "held-out data",
    log: Callable[[str], None] | None = print,
    data_note: str | None = None,
) -> Audit:
    """The audit step of ``mipnet demo``: verify, explain and write ``output`` (HTML) with its certificates.

    ``X`` is a matrix or a DataFrame with the model's feature columns; ``data_note`` says which rows they are (for
    the accuracy, e.g. "the 30 % of the data held out from training"). Returns the :class:`Audit`.
    """
    if hasattr(X, "columns"):
        from ...tabular import features_for

        X = features_for(net, X)
    a = run_audit(
        net,
        X,
        y,
        increasing=increasing,
        decreasing=decreasing,
        eps=eps,
        rows=rows,
        time_limit=time_limit,
        scheduler=scheduler,
        workers=workers,
        cert_dir=default_cert_dir(output),
        model_name=model_name,
        data_name=data_name,
        log=log,
        data_note=data_note,
    )
    write_report(a, output)
    if log is not None:
        for p in a.properties:
            log(f"{p.name}: {p.verdict}")
        log(f"wrote {output} (certificates in {default_cert_dir(output)})")
    return a


__all__ = [
    "Audit",
    "PropertyResult",
    "run_audit",
    "render_html",
    "write_report",
    "run_demo_audit",
    "sparsity_figure",
    "training_figure",
    "default_cert_dir",
    "check_request",
    "monotone_output",
    "MonotonicityTask",
    "RobustnessTask",
    "ResilienceTask",
    "AuditTask",
    "progress_points",
    "new_figure",
    "VERDICT_WORDS",
]
