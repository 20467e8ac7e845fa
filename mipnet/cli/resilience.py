"""`mipnet verify resilience` (maximum resilience Phi_m) and `mipnet explain polytope` (polytope LP analysis).

    mipnet verify resilience MODEL [--class m] --alpha A --k K [--norm 1|inf] [--heuristics ...]
                                   [--input "v1,v2,..." [--delta D]] [--time-limit S] [--json]
    mipnet explain polytope MODEL DATA.csv --eps E[,E2,...] -o DIR [--target COL] [--sense worst|best]

Exit codes of `resilience`: 0 every value proved (optimal, or infeasible: no strongly classified input);
3 some value unproved at the time limit; with --delta (decision): 0 not below delta (proved),
1 below delta (a checked witness), 3 unknown; 2 input errors.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
import numpy as np

from ..choices import comma_items
from ..deadline import Deadline
from ..errors import DataError
from ..io.atomic import write_directory
from .common import (
    EXIT_OK,
    EXIT_UNKNOWN,
    EXIT_VIOLATED,
    echo_json,
    features_for,
    label_indices,
    load_network,
    missing_values,
    read_csv,
)
from .options import (
    FINITE_NONNEG,
    FINITE_POSITIVE,
    MAX_RADIUS,
    POSITIVE_INT,
    SOLVER,
    FiniteFloat,
    apply_domain,
    check_domain_options,
    domain_options,
    output_dir,
)

#: alpha of maximum resilience: a strongly classified input has logit_m >= ln(alpha) + every other logit
ALPHA = FiniteFloat(1.0)


def _parse_input(spec: str, n: int) -> np.ndarray:
    try:
        vals = np.array([float(p) for p in comma_items(spec, "--input")])
    except ValueError:
        raise DataError("--input must be comma-separated numbers") from None
    if vals.size != n:
        raise DataError(f"--input has {vals.size} values, the model takes {n}")
    if not np.all(np.isfinite(vals)):
        raise DataError("--input contains NaN or inf")
    return vals


def check_k(net: Any, k: int) -> None:
    """k counts other classes: 1 <= k <= (number of classes) - 1."""
    if net.task != "classify":
        raise DataError("maximum resilience is defined for classifiers; this model is a regressor")
    n_cls = len(net.class_names or []) or max(2, int(net.n_outputs))
    if k > n_cls - 1:
        raise DataError(
            f"--k {k} is more than the model's {n_cls - 1} other class{'es' if n_cls > 2 else ''} "
            f"(it has {n_cls} classes)"
        )


def _line(r: Any) -> str:
    phi = "-" if r.phi is None else f"{r.phi:.6g}"
    bound = "-" if r.bound is None else f"{r.bound:.6g}"
    gap = "-" if r.gap is None else f"{100 * r.gap:.2f}%"
    ok = r.witness.get("ok")
    wit = "" if ok is None else f"  witness {'re-checked' if ok else 'FAILED the forward-pass check'}"
    return (
        f"class {r.class_name}: Phi = {phi}  (bound {bound}, gap {gap}, {r.status}, "
        f"{r.timings.get('total', 0.0):.2f} s){wit}"
    )


@click.command("resilience")
@click.argument("model", type=click.Path(dir_okay=False))
@click.option("--class", "cls", default=None, help="class name or index (default: every class, Xi = min Phi_m)")
@click.option(
    "--alpha",
    type=ALPHA,
    default=1.0,
    show_default=True,
    help="a is strongly classified: logit_m >= ln(alpha) + every other logit (alpha >= 1)",
)
@click.option(
    "--k",
    "k",
    type=POSITIVE_INT,
    default=1,
    show_default=True,
    help="classes that must reach m after perturbation (1 .. classes - 1)",
)
@click.option("--norm", type=click.Choice(["1", "inf"]), default="1", show_default=True)
@click.option(
    "--heuristics",
    default="all",
    show_default=True,
    help="all, none, or a comma list of dataflow,mip_bounds,priority,init,twin",
)
@click.option("--input", "inp", default=None, help="local variant: the fixed input 'v1,v2,...'")
@click.option(
    "--delta", type=FINITE_NONNEG, default=None, help="with --input: decide whether Phi of the input is <= delta"
)
@click.option("--solver", type=SOLVER, default="highs", show_default=True)
@click.option(
    "--time-limit",
    type=FINITE_POSITIVE,
    default=60.0,
    show_default=True,
    help="seconds for the whole command (every class shares them: bounds, heuristics, MILP and witness checks)",
)
@click.option("--threads", type=POSITIVE_INT, default=None, help="solver threads")
@click.option("--json", "as_json", is_flag=True, help="print the results as JSON")
@domain_options
def resilience_cmd(
    model: str,
    cls: str | None,
    alpha: float,
    k: int,
    norm: str,
    heuristics: str,
    inp: str | None,
    delta: float | None,
    solver: str,
    time_limit: float,
    threads: int | None,
    as_json: bool,
    domain: str | None,
    domain_margin: float | None,
    domain_json: str | None,
) -> None:
    """Maximum resilience Phi_m: the smallest input perturbation that takes a strongly classified input of
    class m to at least k other classes (two copies of the network in one MILP), with its witness pair."""
    from ..verify.resilience import Heuristics, class_resilience, local_resilience

    heur = Heuristics.parse(heuristics)
    if delta is not None and inp is None:
        raise DataError("--delta needs --input (the decision is about one fixed input)")
    check_domain_options(domain, domain_margin, domain_json)
    net = load_network(model)
    net = apply_domain(net, domain, domain_margin, domain_json, echo=lambda s: click.echo(s, err=as_json))
    check_k(net, k)
    ctx = click.get_current_context()
    if inp is not None:
        x = _parse_input(inp, net.n_inputs)
        r = local_resilience(
            net,
            x,
            cls,
            alpha=alpha,
            k=k,
            norm=norm,
            delta=delta,
            decide=delta is not None,
            heuristics=heur,
            solver=solver,
            time_limit=time_limit,
            threads=threads,
        )
        if as_json:
            echo_json(r.to_dict())
        else:
            click.echo(
                _line(r)
                if delta is None
                else f"class {r.class_name}: perturbation bound below {delta:g}? {r.verdict} "
                f"({r.timings.get('total', 0.0):.2f} s)"
            )
            for note in r.notes:
                click.echo(f"  note: {note}")
        if delta is not None:
            ctx.exit({"below": EXIT_VIOLATED, "not_below": EXIT_OK}.get(r.verdict or "", EXIT_UNKNOWN))
        ctx.exit(EXIT_OK if r.status in ("optimal", "infeasible") else EXIT_UNKNOWN)
    classes: list[int | str] = [cls] if cls is not None else list(range(len(net.class_names or [])))
    total = Deadline(time_limit)  # the limit covers every class: each gets its share of what is left
    results = [
        class_resilience(
            net,
            c,
            alpha=alpha,
            k=k,
            norm=norm,
            heuristics=heur,
            solver=solver,
            time_limit=total.share(len(classes) - i),
            threads=threads,
        )
        for i, c in enumerate(classes)
    ]
    vals = [r.phi for r in results if r.phi is not None]
    decided = all(r.status in ("optimal", "infeasible") for r in results)
    # Xi = min_m Phi_m is a value only when every Phi_m is proved; else the smallest Phi found is an upper bound and
    # the smallest proved lower bound (none where a class has none) is the lower one
    xi = min(vals) if vals and decided else None
    lows = [float(r.bound) for r in results if r.bound is not None]
    xi_low = min(lows) if lows and len(lows) == len(results) else None
    xi_up = min(vals) if vals else None
    if as_json:
        echo_json(
            {
                "xi": xi if cls is None else None,
                "xi_upper": xi_up if cls is None else None,
                "xi_lower": xi_low if cls is None else None,
                "results": [r.to_dict() for r in results],
            }
        )
    else:
        for r in results:
            click.echo(_line(r))
            for note in r.notes:
                click.echo(f"  note: {note}")
        if cls is None and decided:
            click.echo(f"Xi = min_m Phi_m = {'-' if xi is None else f'{xi:.6g}'}")
        elif cls is None:
            up = "-" if xi_up is None else f"{xi_up:.6g}"
            low = "none" if xi_low is None else f"{xi_low:.6g}"
            click.echo(f"Xi = min_m Phi_m: not proved; at most {up} (the smallest Phi found), proved >= {low}")
    ctx.exit(EXIT_OK if decided else EXIT_UNKNOWN)


def _parse_eps(spec: str) -> list[float]:
    try:
        vals = [float(p) for p in comma_items(spec, "--eps")]
    except ValueError:
        raise DataError("--eps must be a number or a comma list of numbers") from None
    if not vals or any(not (0 <= v <= MAX_RADIUS) for v in vals):
        raise DataError(f"--eps values must be finite numbers in [0, {MAX_RADIUS:g}], got {spec!r}")
    return vals


@click.command("polytope")
@click.argument("model", type=click.Path(dir_okay=False))
@click.argument("data", type=click.Path(dir_okay=False))
@click.option("--eps", "eps_spec", required=True, help="L-inf radius, or a comma list of radii")
@click.option(
    "-o",
    "--output",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False),
    callback=output_dir,
    help="output directory",
)
@click.option("--target", default=None, help="label column of DATA (default: the one column that is not a feature)")
@click.option("--sense", type=click.Choice(["worst", "best"]), default="worst", show_default=True)
@click.option("--limit", type=POSITIVE_INT, default=None, help="analyse only the first N rows")
def polytope_cmd(
    model: str, data: str, eps_spec: str, out_dir: str, target: str | None, sense: str, limit: int | None
) -> None:
    """Polytope LP analysis: the robust margin LP of every row over its eps-box (sound envelopes for smooth
    activations), LP accuracy per class, and the constraint signatures as heatmaps and bar plots."""
    from ..verify.polytope import accuracy_plot, analyse, envelope_bars, signature_heatmaps, to_png

    eps = _parse_eps(eps_spec)
    net = load_network(model)
    if net.task != "classify":
        raise DataError("explain polytope compares classes (robust margin LPs): this model is a regression")
    df = read_csv(data)
    if limit is not None:
        df = df.head(limit)
    X = features_for(net, df)
    if target is None:
        from ..tabular import non_feature_columns

        rest = non_feature_columns(net, df)
        if len(rest) != 1:
            raise DataError(f"give --target: DATA has {len(rest)} non-feature columns {rest[:5]}")
        target = rest[0]
    if target not in df.columns:
        raise DataError(f"DATA has no column {target!r}")
    missing_values(df[[target]], what="target column")
    y = label_indices(net, df[target])
    an = analyse(net, X, y, eps, sense=sense)
    files: dict[str, bytes] = {
        "rows.csv": an.rows.to_csv(index=False).encode(),
        "accuracy.csv": an.accuracy.to_csv(index=False).encode(),
    }
    summary: dict[str, Any] = {
        "sense": sense,
        "eps": eps,
        "rows": int(len(X)),
        "lp_accuracy": {str(e): float(v) for e, v in an.rows.groupby("eps")["correct"].mean().items()},
        "smooth_layers": an.smooth_layers,
    }
    files["summary.json"] = json.dumps(summary, indent=1).encode()
    files["lp_accuracy.png"] = to_png(accuracy_plot(an))
    names = [f"{e:g}" for e in eps]
    if len(set(names)) < len(names):  # (0.1 and 0.1000001 print alike: one figure replaced the other)
        names = [repr(float(e)) for e in eps]
    for e, name in zip(eps, names):
        files[f"signature_eps{name}.png"] = to_png(signature_heatmaps(an, net, e))
        if an.smooth_layers:
            files[f"envelopes_eps{name}.png"] = to_png(envelope_bars(an, e))
    out = Path(out_dir)
    write_directory(out, files, owned=("signature_eps*.png", "envelopes_eps*.png"), inputs=(model, data))
    for e, v in summary["lp_accuracy"].items():
        click.echo(f"eps={e}: LP accuracy {v:.3f}")
    click.echo(f"wrote {len(files)} files to {out}")


SUBCOMMANDS = {"verify": [resilience_cmd], "explain": [polytope_cmd]}
COMMANDS: list[click.Command] = []
