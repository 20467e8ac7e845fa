"""`mipnet verify ...`: prove or refute properties of a model.

Exit codes of every verify subcommand: 0 the property holds (for every sample), 1 some sample or
the property is violated, 3 some verdict is unknown (time limit), 2 input error. Other modules add
subcommands to the ``verify`` group (``from mipnet.cli.verify import verify``).
"""

from __future__ import annotations

from typing import Sequence

import click

from ..choices import BOUND_METHODS as METHODS
from ..errors import MipnetError
from .common import (
    EXIT_INPUT_ERROR,
    EXIT_OK,
    EXIT_UNKNOWN,
    EXIT_VIOLATED,
    echo_json,
    features_for,
    load_network,
    missing_values,
    read_csv,
)
from .options import (
    FINITE_POSITIVE,
    PER_ROW_LIMIT,
    POSITIVE_INT,
    RADIUS,
    SOLVER,
    WHOLE_COMMAND_LIMIT,
    apply_domain,
    check_domain_options,
    domain_options,
    scheduler_address,
)


def exit_code(verdicts: Sequence[str]) -> int:
    """0 if everything holds, 1 if anything is violated, else 3 if anything is unknown."""
    if any(v == "violated" for v in verdicts):
        return EXIT_VIOLATED
    if any(v == "unknown" for v in verdicts):
        return EXIT_UNKNOWN
    return EXIT_OK


@click.group()
def verify() -> None:
    """Prove or refute properties of a model (robustness, VNN-LIB properties, ...)."""


@verify.command("robustness")
@click.argument("model")
@click.argument("data")
@click.option("--eps", type=RADIUS, required=True, help="Radius of the ball around each sample, in [0, 1e12].")
@click.option("--norm", type=click.Choice(["inf", "1"]), default="inf", show_default=True, help="L-inf or L1 ball.")
@click.option("--label", "label_col", help="Column of DATA with the class to defend (default: the prediction).")
@click.option("--time-limit", type=FINITE_POSITIVE, default=30.0, show_default=True, help=PER_ROW_LIMIT)
@click.option(
    "--solver", type=SOLVER, default="highs", show_default=True, help="highs, scip, gurobi or a Pyomo solver name."
)
@click.option(
    "--bounds",
    type=click.Choice(list(METHODS)),
    default="linear",
    show_default=True,
    help="How the big-M bounds are computed.",
)
@click.option("--exact", is_flag=True, help="Compute the exact worst-case margin (no early stop).")
@click.option(
    "--threads",
    type=POSITIVE_INT,
    default=None,
    help="Threads for the solver and for numpy's BLAS during each row (default: the solver's and BLAS's own).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
@domain_options
@click.pass_context
def robustness(
    ctx: click.Context,
    model: str,
    data: str,
    eps: float,
    norm: str,
    label_col: str | None,
    time_limit: float,
    solver: str,
    bounds: str,
    exact: bool,
    threads: int | None,
    as_json: bool,
    domain: str | None,
    domain_margin: float | None,
    domain_json: str | None,
) -> None:
    """Is every row of DATA.csv classified the same in the eps-ball around it?"""
    from ..verify.robustness import summarize, verify_robustness

    check_domain_options(domain, domain_margin, domain_json)
    net = load_network(model)
    net = apply_domain(net, domain, domain_margin, domain_json, echo=lambda s: click.echo(s, err=as_json))
    df = read_csv(data)
    X = features_for(net, df)
    labels = None
    if label_col is not None:
        if label_col not in df.columns:
            raise MipnetError(f"no column {label_col!r} in {data}")
        missing_values(df[[label_col]], what="label column")
        labels = df[label_col].tolist()
    results = verify_robustness(
        net,
        X,
        eps,
        norm,
        labels,
        solver=solver,
        time_limit=time_limit,
        bounds=bounds,
        early_stop=not exact,
        threads=threads,
    )
    verdicts = [r.verdict for r in results]
    if as_json:
        echo_json(
            {
                "model": model,
                "eps": eps,
                "norm": norm,
                "summary": summarize(results),
                "results": [r.to_dict() for r in results],
            }
        )
    else:
        click.echo(f"{'row':>5}  {'class':>10}  {'verdict':8}  {'margin':>10}  {'adv. class':>10}  {'time':>7}")
        for r in results:
            mg = "" if r.margin is None else f"{r.margin:.4g}"
            adv = "" if r.adversarial_class is None else str(r.adversarial_class)
            click.echo(f"{r.index:>5}  {str(r.label):>10}  {r.verdict:8}  {mg:>10}  {adv:>10}  {r.time:6.2f}s")
        s = summarize(results)
        click.echo(f"eps={eps:g} (L{norm}): {s['holds']} hold, {s['violated']} violated, {s['unknown']} unknown")
        if results:
            click.echo(f"verified set per row: {results[0].region}")
    ctx.exit(exit_code(verdicts))


@verify.command("vnnlib")
@click.argument("network")
@click.argument("prop")
@click.option(
    "--time-limit", "time_limit", type=FINITE_POSITIVE, default=60.0, show_default=True, help=WHOLE_COMMAND_LIMIT
)
@click.option(
    "--timeout", "timeout", type=FINITE_POSITIVE, default=None, hidden=True, help="Deprecated alias of --time-limit."
)
@click.option(
    "--solver", type=SOLVER, default="highs", show_default=True, help="highs, scip, gurobi or a Pyomo solver name."
)
@click.option("--bounds", type=click.Choice(list(METHODS)), default="linear", show_default=True)
@click.option(
    "--processes",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Worker processes for the input branch-and-bound (the same time limit for the whole).",
)
@click.option(
    "--scheduler",
    default=None,
    metavar="local|ADDRESS",
    callback=scheduler_address(local=True),
    help="Decide the input boxes of a property with several at the same time on Dask, stopping at the first "
    "counterexample: 'local' (a local cluster) or a running scheduler's address (tcp://host:8786).",
)
@click.pass_context
def vnnlib(
    ctx: click.Context,
    network: str,
    prop: str,
    time_limit: float,
    timeout: float | None,
    solver: str,
    bounds: str,
    processes: int,
    scheduler: str | None,
) -> None:
    """Check a VNN-LIB property (the unsafe region) on NETWORK (ONNX or any model file).

    Prints one of holds, violated (followed by the counterexample), unknown or error.
    """
    time_limit = _time_limit_alias(ctx, time_limit, timeout)
    from ..verify.vnnlib import verify_vnnlib

    if scheduler is not None and not scheduler.strip():
        raise click.BadParameter("needs 'local' or a Dask scheduler address", param_hint="'--scheduler'")
    try:
        res = verify_vnnlib(
            network,
            prop,
            time_limit=time_limit,
            solver=solver,
            bounds=bounds,
            processes=processes,
            scheduler=scheduler,
        )
    except MipnetError as exc:
        click.echo("error")
        click.echo(f"error: {exc}", err=True)
        ctx.exit(EXIT_INPUT_ERROR)
        return
    for w in res.warnings:
        click.echo(f"warning: {w}", err=True)
    click.echo(res.verdict)
    if res.verdict == "violated":
        click.echo(res.counterexample_text())
    elif res.reason:
        click.echo(f"({res.reason})", err=True)
    ctx.exit(exit_code([res.verdict]))


def _time_limit_alias(ctx: click.Context, time_limit: float, timeout: float | None) -> float:
    """--timeout is the deprecated (hidden) name of --time-limit: it still works, not both at once."""
    if timeout is None:
        return time_limit
    if ctx.get_parameter_source("time_limit") == click.core.ParameterSource.COMMANDLINE:
        raise click.UsageError("give --time-limit only (--timeout is its deprecated name)", ctx)
    return timeout


COMMANDS = [verify]
