"""`mipnet info`, `mipnet predict`, `mipnet convert`: look at, run and convert model files."""

from __future__ import annotations

import click

from .common import echo_json, features_for, load_network, read_csv, write_csv
from .options import MODEL_SUFFIXES, apply_domain, check_domain_options, domain_options, output_file


@click.command()
@click.argument("model")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def info(model: str, as_json: bool) -> None:
    """Show a model's layers, domain, parameter and non-zero counts."""
    net = load_network(model)
    s = net.summary()
    if as_json:
        s["domain"] = net.domain.to_dict()
        echo_json(s)
        return
    click.echo(f"model: {model}")
    click.echo(f"task: {net.task}   input shape: {tuple(net.input_shape)}   outputs: {net.n_outputs}")
    if net.class_names is not None and net.task == "classify":
        click.echo(f"classes: {', '.join(map(str, net.class_names))}")
    click.echo("layers:")
    for i, (layer, shape) in enumerate(zip(net.layers, net.shapes[1:])):
        click.echo(f"  {i:2d}  {layer!r:60s} -> {tuple(shape)}")
    click.echo(f"parameters: {s['n_params']}   non-zero weights (no biases): {s['n_nonzero']}")
    for u in s["units"]:
        click.echo(f"  layer {u['layer']}: {u['active']}/{u['total']} active {u['kind']}")
    d = net.domain
    n = d.n_features
    shown = min(n, 12)
    click.echo(f"domain: {n} features" + (f" (first {shown})" if n > shown else ""))
    for i in range(shown):
        tag = " integer" if d.integer[i] else ""
        click.echo(f"  {d.names[i]:24s} [{d.lower[i]:g}, {d.upper[i]:g}]{tag}")
    for g in d.onehot_groups:
        click.echo(f"  one-hot group: {', '.join(d.names[i] for i in g)}")
    if net.metadata:
        click.echo(f"metadata: {', '.join(sorted(net.metadata))}")


@click.command()
@click.argument("model")
@click.argument("data")
@click.option(
    "-o", "--output", callback=output_file((), "predictions"), help="Write predictions to this CSV instead of stdout."
)
def predict(model: str, data: str, output: str | None) -> None:
    """Run MODEL on the rows of DATA.csv (columns named as the model's features).

    The output has one column per model output and, for a classifier, the predicted class first in a column
    'prediction' ('predicted_class' when an output already has that name). A classifier's outputs are its scores
    (logits): a sigmoid or softmax the source model ended with is not applied (the class is the same: a single
    score's sign, or the largest score), so they are not probabilities."""
    import numpy as np
    import pandas as pd

    from ..errors import DataError

    net = load_network(model)
    df = read_csv(data)
    X = features_for(net, df)
    out = net.forward(X)
    bad = np.flatnonzero(~np.all(np.isfinite(out), axis=1))
    if bad.size:  # (an empty score and class 0, or inf and class 1, with exit 0)
        raise DataError(f"row {int(bad[0])}: the model's outputs overflow (inf or NaN) at these inputs; no prediction")
    res = pd.DataFrame(out, columns=net.output_names)
    if net.task == "classify":  # the class column's name never takes an output's ("prediction" may be one)
        name = next(
            n
            for n in ("prediction", "predicted_class", *(f"prediction_{k}" for k in range(2, 10**6)))
            if n not in res.columns
        )
        res.insert(0, name, net.predict(X))
    if output:
        from pathlib import Path

        from ..io.atomic import descriptor_of

        write_csv(res, output)  # (the note goes to stderr when the table went to stdout: not into the CSV stream)
        click.echo(f"wrote {len(res)} predictions to {output}", err=descriptor_of(Path(output)) == 1)
    else:
        click.echo(res.to_csv(index=False), nl=False)


@click.command()
@click.argument("source")
@click.option(
    "-o",
    "--output",
    required=True,
    callback=output_file(MODEL_SUFFIXES, "model files"),
    help="Destination (.json, .onnx).",
)
@domain_options
def convert(source: str, output: str, domain: str | None, domain_margin: float | None, domain_json: str | None) -> None:
    """Convert a model between formats: ONNX, torch file, sklearn pickle -> JSON, and JSON -> ONNX.
    --domain / --domain-json store an input domain (box) in the converted model."""
    from ..io import load_model, save_model
    from ..network import dropped_output

    check_domain_options(domain, domain_margin, domain_json)
    net = load_model(source)
    net = apply_domain(net, domain, domain_margin, domain_json)
    save_model(net, output)
    click.echo(f"wrote {output}: {net!r}")
    dropped = dropped_output(net)
    if dropped:  # the same classes, other output values: say so (a converted file's outputs silently changed)
        click.echo(f"note: the source ended in {dropped}; the written model outputs the logits before it")
