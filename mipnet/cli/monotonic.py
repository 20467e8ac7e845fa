"""`mipnet verify monotonic`: global or individual monotonicity certificates.

    mipnet verify monotonic MODEL --increasing a,b [--decreasing c] [--mode exact|blockwise]
    mipnet verify monotonic MODEL --increasing a,b --data DATA.csv        (individual, per row)

Without ``--data`` the property is global (the whole input domain, one verdict per feature); with
it, individual monotonicity at every row (a counterexample x' <= x on the increasing features,
>= x on the decreasing ones, with a larger output). Exit 0 holds, 1 violated, 3 unknown, 2 input
error. The command joins the ``verify`` group through ``SUBCOMMANDS`` (see :mod:`mipnet.cli`).
"""

from __future__ import annotations

import click

from ..choices import BOUND_METHODS as METHODS
from ..choices import comma_items
from ..errors import DataError
from .common import EXIT_OK, EXIT_UNKNOWN, EXIT_VIOLATED, echo_json, features_for, load_network, read_csv
from .options import FINITE_POSITIVE, SOLVER, apply_domain, check_domain_options, domain_options


def _names(spec: str | None) -> list[str]:
    if not spec:
        return []
    return comma_items(spec, "feature list")


def _code(status: str) -> int:
    return {"holds": EXIT_OK, "violated": EXIT_VIOLATED}.get(status, EXIT_UNKNOWN)


@click.command("monotonic")
@click.argument("model")
@click.option("--increasing", help="Features in which the output must not decrease (comma separated).")
@click.option("--decreasing", help="Features in which the output must not increase (comma separated).")
@click.option("--data", help="CSV of points: check individual monotonicity at every row instead.")
@click.option(
    "--mode",
    type=click.Choice(["exact", "blockwise"]),
    default="exact",
    show_default=True,
    help="Global check: exact (any depth) or the faster sufficient block-wise test.",
)
@click.option("--output", "output", help="Output to monitor: a class or output name or index (multi-output).")
@click.option("--versus", help="Monitor the logit difference output - versus (multiclass).")
@click.option(
    "--time-limit",
    type=FINITE_POSITIVE,
    default=60.0,
    show_default=True,
    help="Seconds per feature (global: bounds, model building and solve of that feature) or per row (individual).",
)
@click.option(
    "--solver", type=SOLVER, default="highs", show_default=True, help="highs, scip, gurobi or a Pyomo solver name."
)
@click.option(
    "--bounds",
    type=click.Choice(list(METHODS)),
    default="lp",
    show_default=True,
    help="How the big-M bounds are computed (global check).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@domain_options
@click.pass_context
def monotonic_cmd(
    ctx: click.Context,
    model: str,
    increasing: str | None,
    decreasing: str | None,
    data: str | None,
    mode: str,
    output: str | None,
    versus: str | None,
    time_limit: float,
    solver: str,
    bounds: str,
    as_json: bool,
    domain: str | None,
    domain_margin: float | None,
    domain_json: str | None,
) -> None:
    """Is MODEL monotone in the given features (on its whole domain, or at every row of DATA)?"""
    from ..verify.monotonic import TOL, verify_global, verify_individual
    from ..verify.monotonic.common import DROP_TOL

    inc, dec = _names(increasing), _names(decreasing)
    if not inc and not dec:
        raise DataError("give --increasing and/or --decreasing features")
    check_domain_options(domain, domain_margin, domain_json)
    net = load_network(model)
    net = apply_domain(net, domain, domain_margin, domain_json, echo=lambda s: click.echo(s, err=as_json))
    if data is not None:
        X = features_for(net, read_csv(data))
        rep = verify_individual(net, X, inc, dec, output=output, versus=versus, time_limit=time_limit, solver=solver)
        if as_json:
            echo_json({"model": model, **rep.to_dict()})
        else:
            click.echo(f"{'row':>5}  {'verdict':14}  {'f(x)':>10}  {'max f(x_)':>10}  {'time':>7}")
            for p in rep.points:
                best = "" if p.f_best is None else f"{p.f_best:.6g}"
                click.echo(f"{p.row:>5}  {p.status:14}  {p.f_x:10.6g}  {best:>10}  {p.solve_time:6.2f}s")
            w = rep.worst
            click.echo(
                f"{rep.output}: {100 * rep.fraction_counterexamples:.1f} % of {len(rep.points)} rows have a "
                "counterexample" + (f"; worst at row {w.row} (gain {w.gain:.6g})" if w else "")
            )
            click.echo(
                f"(no counterexample = a proved max f(x') <= f(x) + min({TOL:g} (1 + |f(x)|), {DROP_TOL:g}): the "
                "solvers' feasibility tolerance, at most the global check's drop)"
            )
        ctx.exit(_code(rep.status))
        return
    rep_g = verify_global(
        net,
        inc,
        dec,
        mode=mode,
        output=output,
        versus=versus,
        time_limit=time_limit,
        solver=solver,
        bounds_method=bounds,
    )
    if as_json:
        echo_json({"model": model, **rep_g.to_dict()})
    else:
        click.echo(
            f"global monotonicity of the {rep_g.output} ({rep_g.mode}; {rep_g.n_binaries} binaries, "
            f"{rep_g.n_products} products, built in {rep_g.build_time:.2f} s)"
        )
        for f in rep_g.features:
            val = "" if f.min_derivative is None else f"min slope {f.min_derivative:.6g}"
            if f.how == "lattice" and val:  # the slope between whole numbers: not what the lattice verdict is about
                val += " (between whole numbers)"
            bnd = "" if f.bound is None else f"bound {f.bound:.6g}"
            click.echo(f"  {f.feature} ({f.direction}): {f.status:8} {val}  {bnd}  [{f.how}, {f.solve_time:.2f} s]")
            if f.witness is not None:
                wit = f.witness
                click.echo(
                    f"    witness: f(x) = {wit.f_x:.6g} -> f(x') = {wit.f_x_prime:.6g} with x'_{f.feature} = "
                    f"{wit.x_prime[net.domain.index(f.feature)]:.6g} > x_{f.feature} = "
                    f"{wit.x[net.domain.index(f.feature)]:.6g}"
                )
            if f.note:
                click.echo(f"    note: {f.note}")
        click.echo(rep_g.status)
        if any(f.status == "holds" and f.how != "lattice" for f in rep_g.features):
            click.echo(
                f"(holds = a proved minimum slope >= -{TOL:g} per unit of the feature: the solvers' "
                "feasibility tolerance, below which a MILP cannot tell a decrease from round-off)"
            )
        if any(f.status == "holds" and f.how == "lattice" for f in rep_g.features):
            click.echo(
                "(holds on an integer feature by the lattice check = a proved f(x + 1) >= f(x) for every step "
                "between its whole numbers, the other features anywhere in the domain)"
            )
    ctx.exit(_code(rep_g.status))


SUBCOMMANDS = {"verify": [monotonic_cmd]}
COMMANDS: list[click.Command] = []
