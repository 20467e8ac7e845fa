"""`mipnet audit` (verify, explain, write one HTML report and its certificates) and `mipnet recheck`.

    mipnet audit MODEL DATA.csv [--target COL] [--monotone-increasing F[,F...]] [--monotone-decreasing F]
                 [--eps E [--norm inf|1] [--rows N]] [--alpha A --k K] -o report.html
                 [--scheduler ADDRESS | --workers N] [--time-limit S] [--solver highs]
    mipnet recheck CERT.json MODEL [DATA.csv] [--second-solver auto|none|scip|highs] [--json]

Exit codes. audit: 0 every property holds, 1 some property is violated (or a certificate's own re-check
fails), 3 some verdict is undecided,
2 input error (the report is written in the first three cases). recheck: 0 every check passed and every
proved claim was re-proved by a fresh solve, 1 some check failed (tampered file, another model or data, a
false witness or bound, a claim refuted by the fresh solve), 3 partial: nothing failed but some claims were
not re-proved (time limit of the whole re-check, no data), 2 input error.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import click

from ..choices import comma_items
from ..errors import DataError
from ..io.atomic import restored_on_failure
from .common import echo_json, features_for, load_network, missing_values, read_csv, stray_text
from .options import (
    FINITE_POSITIVE,
    NONNEG_INT,
    POSITIVE_INT,
    RADIUS,
    SOLVER,
    WHOLE_COMMAND_LIMIT,
    SolverName,
    apply_domain,
    check_domain_options,
    domain_options,
    output_dir,
    output_file,
    scheduler_address,
)
from .resilience import ALPHA, check_k

if TYPE_CHECKING:
    from ..certificates.format import CertificateFile
from .verify import EXIT_VIOLATED, exit_code


def _names(values: Sequence[str]) -> list[str]:
    out: list[str] = []
    for v in values:
        out += comma_items(v, "feature list")
    return out


def _target(net, df, target: str | None) -> str | None:
    if target is not None:
        if target not in df.columns:
            raise DataError(f"no target column {target!r} in the data (columns: {list(df.columns)[:8]})")
        return target
    from ..tabular import non_feature_columns

    extra = non_feature_columns(net, df)
    return extra[0] if len(extra) == 1 else None


def _check_certificate_paths(cdir: Path, inputs: list[str]) -> None:
    """Before any work: the certificate directory is a directory (or can be made), and no certificate file it will
    hold is one of the command's inputs or its report (--cert-dir . beside a model named robustness.json overwrote
    the model; a default directory that was a file failed after the verification)."""
    from ..errors import DataError
    from ..report.audit import CERTIFICATE_FILES, an_audits_own

    if cdir.exists() and not cdir.is_dir():
        raise DataError(f"the certificate directory {cdir} exists and is not a directory (give --cert-dir)")
    taken = {Path(p).resolve() for p in inputs}
    if cdir.resolve() in taken:  # (-o o.html --cert-dir o.html failed after every problem was solved)
        raise DataError(f"the certificate directory {cdir} is an input or the report: choose another --cert-dir")
    for name in CERTIFICATE_FILES:
        if (cdir / name).resolve() in taken:
            raise DataError(
                f"the certificate file {cdir / name} would overwrite an input or the report: choose --cert-dir"
            )
        if (cdir / name).exists() and not an_audits_own(cdir / name):  # (--cert-dir . deleted the user's model.json)
            raise DataError(
                f"{cdir / name} is not a file an audit wrote, and this audit would overwrite or remove it: choose "
                "another --cert-dir (an empty directory or an earlier audit's own)"
            )


@click.command()
@click.argument("model", type=click.Path(dir_okay=False))
@click.argument("data", type=click.Path(dir_okay=False))
@click.option(
    "-o",
    "--output",
    required=True,
    callback=output_file((".html",), "reports"),
    help="The HTML report to write (.html).",
)
@click.option("--target", default=None, help="Target column of DATA (default: the one column that is not a feature).")
@click.option("--monotone-increasing", "increasing", multiple=True, help="Features (comma list or repeated).")
@click.option("--monotone-decreasing", "decreasing", multiple=True, help="Features (comma list or repeated).")
@click.option(
    "--output-name",
    "output_name",
    default=None,
    help="Monitored output for monotonicity (class or output name; default: the logit, or logit 1 - 0).",
)
@click.option("--eps", type=RADIUS, default=None, help="Robustness radius around each audited row.")
@click.option("--norm", type=click.Choice(["inf", "1"]), default="inf", show_default=True)
@click.option(
    "--rows", type=POSITIVE_INT, default=20, show_default=True, help="Rows (spread over DATA) checked for robustness."
)
@click.option(
    "--alpha", type=ALPHA, default=None, help="Maximum resilience: strong classification ln(alpha) (alpha >= 1)."
)
@click.option(
    "--k",
    "k",
    type=POSITIVE_INT,
    default=None,
    help="Maximum resilience: number of classes that must be reached (1 .. classes - 1).",
)
@click.option(
    "--time-limit",
    type=FINITE_POSITIVE,
    default=30.0,
    show_default=True,
    help="Seconds per problem (one robustness row, monotone feature or resilience class: its bounds, "
    "model building, solve and re-check).",
)
@click.option("--solver", type=SOLVER, default="highs", show_default=True)
@click.option(
    "--scheduler",
    default=None,
    callback=scheduler_address(),
    help="Address of a running Dask scheduler (tcp://host:8786).",
)
@click.option(
    "--workers",
    type=NONNEG_INT,
    default=None,
    help="Local Dask worker processes (default: the CPU count; 0 = run serially in this process).",
)
@click.option(
    "--cert-dir",
    default=None,
    callback=output_dir,
    help="Where to write the certificates (default: REPORT-certificates/).",
)
@domain_options
@click.pass_context
def audit(
    ctx: click.Context,
    model: str,
    data: str,
    output: str,
    target: str | None,
    increasing: tuple[str, ...],
    decreasing: tuple[str, ...],
    output_name: str | None,
    eps: float | None,
    norm: str,
    rows: int,
    alpha: float | None,
    k: int | None,
    time_limit: float,
    solver: str,
    scheduler: str | None,
    workers: int | None,
    cert_dir: str | None,
    domain: str | None,
    domain_margin: float | None,
    domain_json: str | None,
) -> None:
    """Verify MODEL on DATA.csv and write a self-contained HTML report with certificate files."""
    from ..report.audit import (
        AUDIT_COPY_KEY,
        AUDITED_MODEL,
        CERTIFICATE_FILES,
        check_request,
        default_cert_dir,
        run_audit,
        write_report,
    )

    check_domain_options(domain, domain_margin, domain_json)
    _check_certificate_paths(Path(cert_dir) if cert_dir else default_cert_dir(output), [model, data, output])
    net = load_network(model)
    loaded = net
    net = apply_domain(net, domain, domain_margin, domain_json)
    redomained = net is not loaded  # the certificates are of this model: it is written beside them
    inc, dec = _names(increasing), _names(decreasing)
    if output_name is not None and not (inc or dec):  # (it was ignored without a word)
        raise DataError("--output-name names the output monotonicity monitors: give --monotone-increasing/-decreasing")
    check_request(net, inc, dec, eps, alpha, k)  # bad requests fail before the data are read
    if k is not None:
        check_k(net, k)
    df = read_csv(data)
    X = features_for(net, df)
    tcol = _target(net, df, target)
    if tcol is not None:
        missing_values(df[[tcol]], what="target column")
    y = df[tcol].tolist() if tcol is not None else None
    sched = scheduler if scheduler is not None else ("serial" if workers == 0 else None)

    def log(line: str) -> None:
        click.echo(line, err=True)

    cdir = Path(cert_dir) if cert_dir else default_cert_dir(output)
    with restored_on_failure(cdir, CERTIFICATE_FILES):
        if redomained:
            from ..io import save_model

            cdir.mkdir(parents=True, exist_ok=True)
            net.metadata = {**(net.metadata or {}), AUDIT_COPY_KEY: Path(model).name}  # (not in the fingerprint)
            save_model(net, cdir / AUDITED_MODEL)
        else:
            (cdir / AUDITED_MODEL).unlink(missing_ok=True)  # (an earlier run's copy is not this model)
        a = run_audit(
            net,
            X,
            y,
            increasing=inc,
            decreasing=dec,
            output=output_name,
            eps=eps,
            norm=norm,
            rows=rows,
            alpha=alpha,
            k=k,
            solver=solver,
            time_limit=time_limit,
            scheduler=sched,
            workers=workers,
            cert_dir=cdir,
            model_name=str(cdir / AUDITED_MODEL) if redomained else Path(model).name,
            data_name=Path(data).name,
            target=tcol,
            log=log,
        )
        write_report(a, output)
    refuted = False
    for p in a.properties:
        if p.recheck.status == "failed":  # as the training certificate: a refuted claim counts as violated
            refuted = True
            click.echo(f"{p.name}: claimed {p.verdict}, but the re-check of its certificate FAILED  ({p.cert_path})")
        else:
            click.echo(f"{p.name}: {p.verdict}  (certificate {p.cert_path})")
    if "accuracy" in a.quality:
        click.echo(f"accuracy on {Path(data).name} (labels: column {tcol!r}): {100 * a.quality['accuracy']:.1f} %")
    code = EXIT_VIOLATED if refuted else exit_code(a.verdicts)
    rc = a.training_recheck
    if a.training is not None and rc is not None:
        words = rc.verdict()
        if a.training_rows:
            words = f"with the training rows (the data's hash is the certificate's) {words}"
        elif rc.status == "partial":
            where = cdir / "training.json"
            words = (
                "without the data partial (the loss and the bound need the training rows: "
                f"mipnet recheck {where} {model} DATA)"
            )
        else:
            words = f"without the data {words}"
        click.echo(f"training certificate (claimed {a.training.status}): re-check {words}")
        if rc.status == "failed":  # the model's own claim is refuted or tampered with: as a violated property
            code = EXIT_VIOLATED
    click.echo(f"wrote {output}")
    ctx.exit(code)


@click.command()
@click.argument("certificate", type=click.Path(dir_okay=False))
@click.argument("model", type=click.Path(dir_okay=False))
@click.argument("data", required=False, type=click.Path(dir_okay=False))
@click.option(
    "--second-solver",
    type=SolverName(extra=("auto", "none")),
    default="auto",
    show_default=True,
    help="auto (the other installed solver), none, or a solver name.",
)
@click.option("--time-limit", type=FINITE_POSITIVE, default=30.0, show_default=True, help=WHOLE_COMMAND_LIMIT)
@click.option("--json", "as_json", is_flag=True, help="Print the checks as JSON.")
@click.pass_context
def recheck(
    ctx: click.Context,
    certificate: str,
    model: str,
    data: str | None,
    second_solver: str,
    time_limit: float,
    as_json: bool,
) -> None:
    """Re-check CERTIFICATE against MODEL (and DATA.csv) without trusting the solver that produced it.

    CERTIFICATE is a certificate file, or a trained model file: the training certificate it carries
    (mipnet recheck model.json model.json train.csv).

    Witnesses are re-checked with the network's forward pass; every proved claim (a robustness or
    monotonicity "holds", a resilience value, a training bound) is re-proved by a fresh solve of a model
    built afresh from MODEL: with the other installed solver (--second-solver auto), else with the
    certificate's own solver (--second-solver none). --time-limit covers the whole re-check. Certified
    samples are checked against their rows of DATA.csv (a training certificate of a --samples subsample
    against its recorded rows of the full file).

    Exit codes: 0 OK (every check passed, every claim re-proved); 1 FAILED (tampered or inconsistent file,
    another model or data, a false witness or bound, a claim refuted by the fresh solve); 3 PARTIAL
    (nothing failed, but some claims were not re-proved: time limit, no data; the UNDECIDED lines say
    which); 2 input error.
    """
    from ..certificates.format import CertificateError
    from ..report.certificates import load_certificate
    from ..report.recheck import recheck as run_recheck

    try:
        cert = load_certificate(certificate)
    except CertificateError:  # a trained model file: the training certificate it carries in its metadata
        carried = _carried_certificate(certificate)
        if carried is None:
            raise
        cert = carried
    net = load_network(model)
    df = read_csv(data) if data is not None else None
    if df is not None:  # input errors of the data before any re-check
        cols = [c for c in net.feature_names if c in df.columns]
        stray_text(df, cols)
        missing_values(df, cols)
    second = None if second_solver.lower() == "none" else second_solver.lower()
    rep = run_recheck(cert, net, df, second_solver=second, time_limit=time_limit)
    if as_json:
        echo_json(rep.to_dict())
    else:
        for line in rep.lines():
            click.echo(line)
    ctx.exit(rep.exit_code)


def _carried_certificate(path: str) -> CertificateFile | None:
    """The training certificate a model file carries (``mipnet train -o MODEL``), or None when ``path`` is no model
    file with one."""
    from ..errors import MipnetError
    from ..report.audit.run import _training_of

    try:
        carrier = load_network(path)
    except MipnetError:
        if _model_format(path):  # a model file that does not load: its own error, not "not a certificate"
            raise
        return None
    return _training_of(carrier)


def _model_format(path: str) -> bool:
    """Whether ``path`` holds a JSON object of mipnet's model format ("format": "mipnet")."""
    import json

    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f).get("format") == "mipnet"
    except (OSError, ValueError, AttributeError):
        return False


COMMANDS = [audit, recheck]
