"""`mipnet datasets`: list the vendored data sets, describe one, or export it to CSV."""

from __future__ import annotations

import click

from ..errors import DataError
from .common import write_csv
from .options import output_file


def _parse_option(text: str) -> tuple[str, object]:
    """``KEY=VALUE`` with VALUE read as a bool, int or float where it looks like one, else a string."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise DataError(f"option {text!r} must look like KEY=VALUE (e.g. split=train)")
    v = value.strip()
    low = v.lower()
    if low in ("true", "yes"):
        return key.strip(), True
    if low in ("false", "no"):
        return key.strip(), False
    for conv in (int, float):
        try:
            return key.strip(), conv(v)
        except ValueError:
            pass
    return key.strip(), v


@click.command()
@click.argument("name", required=False)
@click.option("-o", "--output", callback=output_file((), "exports"), help="Export the data set to this CSV file.")
@click.option(
    "--set", "options", multiple=True, metavar="KEY=VALUE", help="A loader option, e.g. --set split=train (repeatable)."
)
@click.option(
    "--raw",
    is_flag=True,
    help="Export the readable frame (categoricals as text) instead of the numeric one-hot matrix.",
)
def datasets(name: str | None, output: str | None, options: tuple[str, ...], raw: bool) -> None:
    """List the bundled data sets, or describe / export data set NAME.

    The default export holds the numeric inputs a network reads (categoricals one-hot, named
    FEATURE=LEVEL, in the order of the recommended domain) followed by the target column.
    """
    from .. import datasets as ds

    if name is None:
        if output or options or raw:
            raise DataError("give a data set NAME to export (run `mipnet datasets` for the list)")
        rows = ds.available()
        w = max(len(r.name) for r in rows)
        click.echo(f"{'name':{w}s}  {'rows':>6s}  {'inputs':>6s}  {'task':8s}  description")
        for r in rows:
            click.echo(f"{r.name:{w}s}  {r.rows:6d}  {r.features:6d}  {r.task:8s}  {r.description}")
        return

    pairs = [_parse_option(o) for o in options]
    keys = [k for k, _ in pairs]
    twice = next((k for k in keys if keys.count(k) > 1), None)
    if twice is not None:  # (the last value was kept silently)
        raise click.UsageError(f"--set {twice}=... is given more than once")
    data = ds.load(name, **dict(pairs))
    if output:
        frame = data.frame if raw else data.numeric_frame()
        write_csv(frame, output)
        click.echo(f"wrote {len(frame)} rows x {frame.shape[1]} columns of {data.name} to {output}")
        return

    click.echo(f"{data.name}: {data.description}")
    click.echo(
        f"rows: {data.n_rows}   features: {len(data.feature_types)}   inputs: {data.n_inputs}   "
        f"input shape: {data.input_shape}"
    )
    click.echo(f"task: {data.task}   target: {data.target}")
    if data.task == "classify":
        counts = data.y.value_counts().sort_index()
        names = data.class_names or [str(k) for k in counts.index]
        parts = [f"{names[int(k)] if int(k) < len(names) else k}={int(v)}" for k, v in counts.items()]
        click.echo(f"classes: {', '.join(parts)}")
    else:
        y = data.y
        click.echo(f"target range: [{y.min():g}, {y.max():g}], mean {y.mean():g}")
    if data.monotone_increasing:
        click.echo(f"monotone increasing in: {', '.join(data.monotone_increasing)}")
    if data.monotone_decreasing:
        click.echo(f"monotone decreasing in: {', '.join(data.monotone_decreasing)}")
    if len(data.feature_types) <= 40:
        click.echo("features:")
        for f, t in data.feature_types.items():
            if t == "categorical":
                detail = f"{len(data.categories[f])} levels: {', '.join(data.categories[f][:6])}" + (
                    " ..." if len(data.categories[f]) > 6 else ""
                )
            else:
                lo, hi = data.bounds[f]
                detail = f"[{lo:g}, {hi:g}]"
            click.echo(f"  {f:24s} {t:11s} {detail}")


COMMANDS = [datasets]
