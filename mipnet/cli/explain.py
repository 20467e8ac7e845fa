"""`mipnet explain`: exact interpretation of a piecewise-linear model (OpenBox).

    mipnet explain MODEL DATA.csv [-o DIR]          local linear classifiers of every configuration met
    mipnet explain MODEL --instance ROW [-o DIR]    one instance: its region, classifier and boundaries
    mipnet explain scorecard MODEL [--digits N]     the whole model as an exact scorecard (one hidden layer)
    mipnet explain <subcommand> ...                 further analyses registered on the same group

``explain`` is a click group whose first argument selects a subcommand when it names one and
otherwise runs the OpenBox explanation (the hidden default subcommand ``openbox``).
Everything is computed in memory first; DIR is written only when all artefacts are ready, each file
atomically, so bad input exits 2 without leaving partial output.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import click
import numpy as np

from ..choices import comma_items
from ..errors import DataError
from ..io.atomic import write_directory

if TYPE_CHECKING:
    from ..network import Network
from .common import features_for, label_indices, load_network, missing_values, read_csv
from .options import EXPLAIN_LIMIT, FINITE_POSITIVE, NONNEG_INT, output_dir

DEFAULT_COMMAND = "openbox"


class ExplainGroup(click.Group):
    """A group that runs its default subcommand when the first argument is not a subcommand name."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("-h", "--help"):
            args = [DEFAULT_COMMAND, *args]
        return super().parse_args(ctx, args)

    def format_usage(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        formatter.write_usage(ctx.command_path, "MODEL [DATA] [--instance ROW] [-o DIR] | COMMAND ARGS...")


@click.group(cls=ExplainGroup, invoke_without_command=False, no_args_is_help=True)
def explain() -> None:
    """Exact interpretation of a piecewise-linear network as local linear classifiers (OpenBox).

    mipnet explain MODEL DATA.csv -o DIR groups the rows by activation configuration, writes each
    configuration's local linear classifier, its non-redundant polytope boundaries, a summary table and
    figures. mipnet explain MODEL --instance ROW explains one row (an index into DATA, or the feature
    values as "v1,v2,..." or "name=value,...").

    mipnet explain scorecard MODEL prints the whole model as points per feature and per hidden unit
    (one hidden layer; deeper networks: their layer-by-layer sparse form).
    """


def _parse_instance(net: Network, spec: str, X: np.ndarray | None) -> np.ndarray:
    s = spec.strip()
    if X is not None and s.lstrip("-").isascii() and s.lstrip("-").isdigit():  # ("²" is a digit int() refuses)
        i = int(s)
        if not -X.shape[0] <= i < X.shape[0]:
            raise DataError(f"--instance {i} is out of range: DATA has {X.shape[0]} rows")
        i %= X.shape[0]  # (-1: the last row; X[-1:0] was empty)
        return X[i : i + 1]
    parts = comma_items(s, "--instance")
    if parts and all("=" in p for p in parts):
        x = np.full(net.n_inputs, np.nan)
        # the value is after the last "=": one-hot columns are named "race=African-American"
        names = [p.rsplit("=", 1)[0].strip() for p in parts]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise DataError(f"--instance names {', '.join(twice)} more than once")
        for p in parts:
            name, val = p.rsplit("=", 1)
            try:
                v = float(val)
            except ValueError:
                raise DataError(f"--instance: {val!r} is not a number") from None
            if not np.isfinite(v):
                raise DataError(f"--instance: {name.strip()} = {val.strip()} is not a finite number")
            x[net.domain.index(name.strip())] = v
        if np.isnan(x).any():
            missing = [net.feature_names[i] for i in np.flatnonzero(np.isnan(x))]
            raise DataError(f"--instance lacks features {missing[:5]}")
        return x[None, :]
    try:
        vals = np.array([float(p) for p in parts])
    except ValueError:
        raise DataError("--instance must be a row index of DATA, 'v1,v2,...' or 'name=value,...'") from None
    if vals.size != net.n_inputs:
        raise DataError(f"--instance has {vals.size} values, the model takes {net.n_inputs}")
    if not np.all(np.isfinite(vals)):
        raise DataError("--instance contains NaN or inf")
    return vals[None, :]


def _terms(net: Network, w: np.ndarray, b: float, x: np.ndarray | None, top: int) -> str:
    """Readable local classifier: the ``top`` largest non-zero terms (by |w_j x_j| at x, ties - a feature at 0 -
    by |w_j|; without x by |w_j|)."""
    size = np.abs(w * x) if x is not None else np.abs(w)
    order = np.lexsort((-np.abs(w), -size, w == 0))[:top]  # the last key first: non-zero weights before zeros
    text = " ".join(f"{w[j]:+.4g}*{net.feature_names[j]}" for j in order if w[j] != 0)
    rest = int(np.count_nonzero(w)) - sum(1 for j in order if w[j] != 0)
    return f"{text} {b + 0.0:+.4g}" + (f"  (+{rest} more terms)" if rest > 0 else "")  # (+ 0.0: no "-0")


def _image_shape(net: Network) -> tuple[int, ...] | None:
    if len(net.input_shape) == 3:
        return net.input_shape
    side = int(round(np.sqrt(net.n_inputs)))
    return (side, side) if side * side == net.n_inputs and net.n_inputs >= 64 else None


def _figures(interp: Any, net: Network, X: np.ndarray, y: np.ndarray | None, regions: list[int]) -> dict[str, bytes]:
    from ..explain.figures import image_features, regions_2d, tabular_features, to_png
    from ..explain.openbox import view_box

    files: dict[str, bytes] = {}
    # (the decision boundaries of a classifier: a regression's outputs have no such boundary to draw)
    if net.n_inputs == 2 and net.n_outputs <= 2 and net.task == "classify":
        v_lo, v_hi = view_box(interp.lower, interp.upper, X)
        fig, _ = regions_2d(net, v_lo.tolist(), v_hi.tolist(), X, y, resolution=300)
        files["regions_2d.png"] = to_png(fig)
    shape = _image_shape(net)
    for k in regions:
        if shape is not None:
            mean = X[interp.region == k].mean(axis=0) if np.any(interp.region == k) else None
            fig = image_features(interp, k, shape, mean_image=mean)
        else:
            fig = tabular_features(interp, k, scale=X.std(axis=0) if X.shape[0] > 1 else None)
        files[f"region_{k}.png"] = to_png(fig)
    return files


#: every file an explain run can write (an earlier run's that this one does not write are removed: one run per DIR)
OUTPUT_FILES = (
    "region_[0-9]*.png",  # (numbered: a region_map.png of the user's is not one)
    "regions_2d.png",
    "summary.csv",
    "local_classifiers.csv",
    "interpretation.json",
    "instance.json",
    "instance_classifier.csv",
)


def _write_all(out_dir: str, files: dict[str, bytes], inputs: tuple[str | None, ...]) -> None:
    write_directory(out_dir, files, owned=OUTPUT_FILES, inputs=inputs)


def _json(obj: Any) -> bytes:
    from .common import _json_default

    return json.dumps(obj, indent=1, default=_json_default, allow_nan=False).encode()


@explain.command(name=DEFAULT_COMMAND)
@click.argument("model")
@click.argument("data", required=False)
@click.option(
    "-o", "--output", "out_dir", callback=output_dir, help="Directory for figures, CSV and JSON (created if needed)."
)
@click.option(
    "--instance",
    "instance",
    help="Explain one row: an index into DATA (negative counts from the end: -1 is the last row), 'v1,v2,...' or "
    "'name=value,...'.",
)
@click.option("--label", help="Column of DATA with the true class (per-region accuracy).")
@click.option(
    "--max-boundaries",
    type=NONNEG_INT,
    default=30,
    show_default=True,
    help="Compute the non-redundant boundaries (one LP per inequality) of this many largest regions.",
)
@click.option(
    "--figures",
    "n_figures",
    type=NONNEG_INT,
    default=4,
    show_default=True,
    help="Feature figures for this many regions.",
)
@click.option("--top", type=NONNEG_INT, default=20, show_default=True, help="Regions listed in the printed summary.")
@click.option("--time-limit", type=FINITE_POSITIVE, default=300.0, show_default=True, help=EXPLAIN_LIMIT)
def openbox(
    model: str,
    data: str | None,
    out_dir: str | None,
    instance: str | None,
    label: str | None,
    max_boundaries: int,
    n_figures: int,
    top: int,
    time_limit: float,
) -> None:
    """Local linear classifiers of MODEL on DATA.csv (or on one --instance)."""
    import pandas as pd

    from ..deadline import Deadline

    deadline = Deadline(time_limit)

    from ..explain.figures import summary_frame
    from ..explain.openbox import interpret, piece_layers

    net = load_network(model)
    piece_layers(net)  # unsupported layers fail before any data work
    X = y = None
    if data is not None:
        df = read_csv(data)
        X = features_for(net, df)
        if label is not None:
            if label not in df.columns:
                raise DataError(f"--label column {label!r} is not in {data}")
            missing_values(df[[label]], what="label column")
            if net.task != "classify":
                raise DataError("--label gives the true class for per-region accuracy: this model is a regression")
            y = label_indices(net, df[label])
    elif label is not None:
        raise DataError("--label needs DATA")
    if X is None and instance is None:
        raise DataError("give DATA.csv, --instance ROW, or both")
    if max_boundaries < 0 or n_figures < 0 or top < 0:
        raise DataError("--max-boundaries, --figures and --top must be >= 0")

    if instance is not None:
        from click.core import ParameterSource

        ctx = click.get_current_context()
        opts = {"label": "--label", "max_boundaries": "--max-boundaries", "n_figures": "--figures", "top": "--top"}
        given = [o for n, o in opts.items() if ctx.get_parameter_source(n) == ParameterSource.COMMANDLINE]
        if given:  # (they were ignored: a figure still written, no true label shown)
            verb = "applies" if len(given) == 1 else "apply"
            raise DataError(f"{', '.join(given)} {verb} to the regions of DATA, not to one --instance")
        x = _parse_instance(net, instance, X)
        _explain_one(net, x, X, out_dir, deadline, (model, data))
        return

    assert X is not None  # DATA is required without --instance (checked above)
    interp = interpret(net, X)
    interp.deadline = deadline
    exact = interp.exactness(X)
    rows = interp.summary(y, max_boundaries)
    cut = [r["region"] for r in rows if r.get("boundaries_cut")]
    table = summary_frame(rows)
    click.echo(
        f"{X.shape[0]} instances, {interp.n_regions} configurations "
        f"(bound 2^{interp.log2_bound():g}); exactness: {100 * exact['exact_fraction']:.2f} % of instances "
        f"within 1e-9 relative (max relative error {exact['max_rel_error']:.2e})"
    )
    if top > 0:
        with pd.option_context("display.width", 160, "display.max_colwidth", 60):
            click.echo(table.head(top).to_string(index=False))
    if interp.n_regions > top:
        click.echo(f"... {interp.n_regions - top} more regions")
    if cut:
        click.echo(
            f"boundaries of {len(cut)} region(s) from region {cut[0]} on not computed: the time limit "
            f"({time_limit:g} s) came first (raise --time-limit or lower --max-boundaries)"
        )
    if not out_dir:
        return
    doc = interp.to_dict(max_boundaries=max_boundaries, y=y)
    doc["exactness"] = exact
    doc["model"] = model
    files = {
        "summary.csv": table.to_csv(index=False).encode(),
        "local_classifiers.csv": pd.DataFrame(interp.classifier_table()).to_csv(index=False).encode(),
        "interpretation.json": _json(doc),
    }
    drawn = [k for k in range(min(n_figures, interp.n_regions, max_boundaries)) if rows[k]["boundaries"] is not None]
    files.update(_figures(interp, net, X, y, drawn))
    _write_all(out_dir, files, (model, data))
    click.echo(f"wrote {len(files)} files to {out_dir}: {', '.join(sorted(files))}")


def _explain_one(
    net: Network,
    x: np.ndarray,
    X: np.ndarray | None,
    out_dir: str | None,
    deadline: Any,
    inputs: tuple[str | None, ...],
) -> None:
    import pandas as pd

    from ..deadline import OutOfTime
    from ..explain.openbox import input_box, interpret

    context = x if X is None else np.vstack([x, X])
    lo, hi = input_box(net, context)
    interp = interpret(net, x, box=(lo, hi))
    interp.deadline = deadline
    k = 0
    w, b = interp.margin(k)
    out = interp.outputs[0]
    exact = interp.exactness(x)
    pred = net.predict(x)[0] if net.task == "classify" else f"{out[0]:.6g}"
    click.echo(
        f"prediction: {pred}   outputs: {', '.join(f'{v:.6g}' for v in out)}   "
        f"(local classifier reproduces them to {exact['max_rel_error']:.1e} relative)"
    )
    code = interp.codes[0]
    active = int(sum(code[p.offset : p.offset + p.n_codes].sum() for p in interp.pieces if p.kind != "maxpool"))
    click.echo(f"configuration: {active} of {interp.n_hidden_units} ReLU units on")
    if net.task != "classify" and net.n_outputs > 1:  # each output's own local model
        for j, name in enumerate(net.output_names):
            W, c = interp.weight[k][j], float(interp.bias[k][j])
            click.echo(f"local model of {name}: {_terms(net, W, c, x[0], 12)}")
    else:
        click.echo(f"local {interp.margin_label(k)}: {_terms(net, w, b, x[0], 12)}")
    idx: np.ndarray | None = None
    try:
        P, idx = interp.facets(k)
    except OutOfTime:
        click.echo(
            f"region: {interp.polytope(k).G.shape[0]} inequalities; which are non-redundant was not computed: the "
            "time limit came first (raise --time-limit)"
        )
    if idx is not None:
        click.echo(f"region: {P.G.shape[0]} inequalities, {idx.size} non-redundant in the box:")
        slack = P.h - P.G @ x[0]
        for i in idx:
            terms = _terms(net, P.G[i], -P.h[i], x[0], 6)
            click.echo(f"  {P.labels[i]:>16s}  slack {slack[i] + 0.0:.4g}:  {terms} <= 0")
    if out_dir:
        doc = interp.to_dict(y=None)
        doc["instance"] = dict(zip(net.feature_names, x[0].tolist()))
        files = {
            "instance.json": _json(doc),
            "instance_classifier.csv": pd.DataFrame(interp.classifier_table()).to_csv(index=False).encode(),
        }
        files.update(_figures(interp, net, x, None, [0] if idx is not None else []))
        _write_all(out_dir, files, inputs)
        click.echo(f"wrote {len(files)} files to {out_dir}: {', '.join(sorted(files))}")


@explain.command(name="scorecard")
@click.argument("model")
@click.option(
    "--digits",
    type=NONNEG_INT,
    default=6,
    show_default=True,
    help="Significant digits of the printed numbers; 0 prints every number exactly (shortest round-trip form).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the scorecard's numbers as JSON instead of the text.")
def scorecard_command(model: str, digits: int, as_json: bool) -> None:
    """The whole MODEL as a scorecard: points per feature and per hidden unit, exact, in the features' own units.

    For a network with one hidden layer (Dense / Normalize / ReLU or LeakyReLU, the linear term included):
    start points, points per unit of each feature of the linear part ("if FEATURE" for 0/1 features) and,
    per hidden unit, "+v points per unit of (w . x + b) when that is positive", then the decision rule.
    Integer-grid output weights (the sign and quantized classes) print as integer points. A deeper network
    prints its exact layer-by-layer sparse form instead. Every form is checked against the network's own
    forward pass on random inputs before it is printed.
    """
    from ..explain.scorecard import readable

    form = readable(load_network(model))
    if as_json:
        click.echo(_json(form.to_dict()).decode())
    else:
        click.echo(form.render(digits))


COMMANDS = [explain]
