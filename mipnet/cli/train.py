"""`mipnet train`: train a certified sparse network from a CSV file (`mipnet demo` lives in :mod:`.demo`)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import click
import numpy as np

from ..choices import DEFAULT_L1_GRID, comma_items
from ..errors import DataError
from .common import missing_values, read_csv, stray_text
from .options import (
    BOX,
    FINITE_NONNEG,
    FINITE_POSITIVE,
    MODEL_SUFFIXES,
    NONNEG_INT,
    POSITIVE_INT,
    SEED,
    SOLVER,
    TRAIN_LIMIT,
    output_file,
)


def _hidden(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(v) for v in comma_items(text, "--hidden"))
    except ValueError:
        raise DataError(f"--hidden must list integers like 4 or 4,3, got {text!r}") from None
    if not sizes or any(s < 1 for s in sizes):
        raise DataError(f"--hidden must list positive integers, got {text!r}")
    return sizes


def _l1(text: str) -> float | str:
    """--l1: a coefficient >= 0, or 'cv' (chosen by cross-validation on the training data)."""
    if text.strip().lower() == "cv":
        return "cv"
    try:
        value = float(text)
    except ValueError:
        raise DataError(f"--l1 must be a number >= 0 or 'cv', got {text!r}") from None
    if not np.isfinite(value) or value < 0:
        raise DataError(f"--l1 must be a number >= 0 or 'cv', got {text!r}")
    return value


def _grid(text: str) -> tuple[float, ...]:
    try:
        values = tuple(float(v) for v in comma_items(text, "--l1-grid"))
    except ValueError:
        raise DataError(f"--l1-grid must list numbers like 0.003,0.01,0.03, got {text!r}") from None
    if not values or any(not np.isfinite(v) or v < 0 for v in values):
        raise DataError(f"--l1-grid must list finite numbers >= 0, got {text!r}")
    return values


def _input_shape(text: str | None) -> tuple[int, ...] | None:
    if text is None:
        return None
    try:
        shape = tuple(int(v) for v in comma_items(text.replace("x", ","), "--input-shape"))
    except ValueError:
        raise DataError(f"--input-shape must be C,H,W like 1,28,28, got {text!r}") from None
    if len(shape) not in (2, 3) or any(s < 1 for s in shape):
        raise DataError(f"--input-shape must be C,H,W (or H,W) with positive sizes, got {text!r}")
    return shape


#: the largest magnitude of a training feature (its square must stay a finite float64 in the standardisation)
MAX_MAGNITUDE = 1e150


def _time_left(time_limit: float, started: float) -> float:
    """What reading and checking the data left of the command's time limit (at least 1 % of it: the fit still
    starts, and the overshoot stays within 1 % of the limit)."""
    return max(0.01 * float(time_limit), float(time_limit) - (time.perf_counter() - started))


def _fit_and_report(
    X,
    y,
    *,
    task: str,
    hidden: tuple[int, ...],
    loss: str,
    l1: float | str,
    l2: float,
    l0: float,
    neuron_penalty: float,
    max_nonzeros: int | None,
    time_limit: float,
    solver: str,
    samples: int | None,
    seed: int,
    hypothesis: str,
    layer_penalty: float = 0.0,
    sign_patterns: bool = False,
    l1_grid: tuple[float, ...] | None = None,
    weight_bound: float = 1.0,
    bias_bound: float = 1.0,
    **conv,
):
    import warnings

    from ..errors import BoundWarning
    from ..train.estimators import MIPNetClassifier, MIPNetRegressor

    cls = MIPNetClassifier if task == "classify" else MIPNetRegressor
    grid: dict[str, Any] = {"l1_grid": l1_grid} if l1_grid is not None else {}
    est = cls(
        hidden,
        hypothesis=hypothesis,
        loss=loss,
        l1=l1,
        l2=l2,
        l0=l0,
        neuron_penalty=neuron_penalty,
        layer_penalty=layer_penalty,
        max_nonzeros=max_nonzeros,
        weight_bound=weight_bound,
        bias_bound=bias_bound,
        time_limit=time_limit,
        solver=solver,
        max_samples=samples,
        random_state=seed,
        verbose=True,
        sign_patterns=sign_patterns,
        **grid,
        **conv,
    )
    # progress: the trainer's stage lines, then a line every 5 s with incumbent, bound and gap
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", BoundWarning)  # (the summary says it in its own line)
        est.fit(X, y)
    return est


def _summary(est, X, y) -> None:
    cert = est.certificate_
    click.echo("certificate:")
    for line in cert.lines():
        click.echo("  " + line)
    net = est.network_
    counted = ""
    if (net.metadata or {}).get("linear_units"):  # (the pairs' weights twice and their +-1 outputs: not a budget)
        from ..train.objective_check import sparsity_counts

        counted = (
            f"; {int(sparsity_counts(net)['nonzeros'])} as training counts them, the linear term's unit pairs once"
        )
    click.echo(
        f"network: {net!r}, {net.n_nonzero()} of {net.n_weights()} weights non-zero "
        f"(biases and input scaling not counted{counted}), {net.n_active_neurons()} active hidden units"
        + (f", {net.n_active_channels()} active conv channels" if net.n_active_channels() else "")
    )
    click.echo(f"re-check with numpy: {'ok' if est.certificate_check_['ok'] else 'MISMATCH'}")
    at = est.output_bias_at_bound_  # (fit's BoundWarning, silenced here: this line says it)
    if at is not None:
        click.echo(
            f"note: the output bias is at its bound ({at:+g}, --bias-bound {float(est.bias_bound):g}): the "
            "certificate is for this box; a larger --bias-bound may fit better"
        )
    click.echo(
        f"training score ({'accuracy' if net.task == 'classify' else 'R^2'}, all {len(y)} rows): {est.score(X, y):.4f}"
    )


@click.command()
@click.argument("data", type=click.Path(dir_okay=False))
@click.option("--target", required=True, help="Target column.")
@click.option("--task", type=click.Choice(["classify", "regress"]), default="classify", show_default=True)
@click.option("--hidden", default="3", show_default=True, help="Hidden layer sizes, e.g. 4 or 4,3.")
@click.option(
    "--hypothesis",
    type=click.Choice(["auto", "sign", "quantized", "continuous"]),
    default="auto",
    show_default=True,
    help="auto: sign for one hidden layer and one output, else quantized.",
)
@click.option(
    "--loss",
    default="auto",
    show_default=True,
    type=click.Choice(["auto", "hinge", "multiclass_hinge", "zero_one", "logistic", "l1", "squared"]),
    help="hinge, multiclass_hinge, zero_one, logistic (classify; logistic: two classes); l1, squared (regress).",
)
@click.option(
    "--l1",
    "l1_text",
    default="0.01",
    show_default=True,
    help="L1 penalty on the weights, or 'cv': chosen from --l1-grid by 5-fold cross-validation (x2) "
    "on the training rows (binary target, sign class, hinge loss).",
)
@click.option(
    "--l1-grid",
    default=None,
    help=f"Candidates for --l1 cv, e.g. 0.003,0.01,0.03 (default {','.join(f'{c:g}' for c in DEFAULT_L1_GRID)}).",
)
@click.option("--l2", type=FINITE_NONNEG, default=0.0, show_default=True, help="L2 penalty on the weights.")
@click.option("--l0", type=FINITE_NONNEG, default=0.0, show_default=True, help="Penalty per non-zero weight.")
@click.option("--neuron-penalty", type=FINITE_NONNEG, default=0.0, show_default=True, help="Penalty per active neuron.")
@click.option(
    "--layer-penalty",
    type=FINITE_NONNEG,
    default=0.0,
    show_default=True,
    help="Penalty per hidden layer; a hidden layer as wide as the one before it can be switched off "
    "and becomes the identity (removed from the saved network).",
)
@click.option("--max-nonzeros", type=NONNEG_INT, default=None, help="At most K non-zero weights.")
@click.option(
    "--max-neurons",
    type=NONNEG_INT,
    default=None,
    help="At most K active hidden units; with --linear, --max-neurons 0 is the sparse linear model alone "
    "(trained by cutting planes on its convex loss, hinge or logistic).",
)
@click.option(
    "--weight-bound",
    type=BOX,
    default=1.0,
    show_default=True,
    help="Box |w| <= B_w on the weights (standardised inputs).",
)
@click.option(
    "--bias-bound",
    type=BOX,
    default=1.0,
    show_default=True,
    help="Box |b| <= B_b on the biases; raise it when the output bias sits at the box (unbalanced classes).",
)
@click.option("--time-limit", type=FINITE_POSITIVE, default=60.0, show_default=True, help=TRAIN_LIMIT)
@click.option("--solver", type=SOLVER, default="highs", show_default=True, help="highs, gurobi or scip.")
@click.option("--samples", type=POSITIVE_INT, default=None, help="Train on a random subsample of N rows.")
@click.option("--seed", type=SEED, default=0, show_default=True)
@click.option(
    "--architecture",
    default=None,
    help="Conv net instead of --hidden, e.g. conv4x3-maxpool2-dense8 (convCxK[sS][pP], maxpoolK, avgpoolK, "
    "flatten, denseN); the columns are pixels, C-order.",
)
@click.option("--input-shape", default=None, help="Image shape of the pixel columns, C,H,W (e.g. 1,28,28).")
@click.option(
    "--downsample",
    type=POSITIVE_INT,
    default=1,
    show_default=True,
    help="Average-pool the images by this factor first (kept in the saved model).",
)
@click.option(
    "--channel-penalty", type=FINITE_NONNEG, default=0.0, show_default=True, help="Penalty per active channel."
)
@click.option("--max-channels", type=NONNEG_INT, default=None, help="At most K active conv channels.")
@click.option(
    "--monotone-increasing",
    default=None,
    help="Certified monotonic learning: features (comma list) the output must not decrease in (a network not "
    "proved monotone within the time limit is not written: exit 1 violated, 3 unknown).",
)
@click.option("--monotone-decreasing", default=None, help="Features the output must not increase in.")
@click.option(
    "--monotone-method",
    type=click.Choice(["milp", "gradient"]),
    default="milp",
    show_default=True,
    help="milp: the training MILP plus counterexample pairs, re-solved until the global certificate "
    "holds; gradient: the monotonicity regulariser, x10 until certified.",
)
@click.option(
    "--sign-patterns",
    is_flag=True,
    default=False,
    help="Sign class: solve one MILP per pattern of output signs (a tighter bound, time shared; "
    "with --l1 each pattern's LP is first tightened by convex-combination cuts).",
)
@click.option(
    "--linear",
    is_flag=True,
    default=False,
    help="Add a linear (skip) term w0.x to the output, with the same l1/l2/l0 penalties (one hidden layer); "
    "saved as two exact ReLU units per output.",
)
@click.option(
    "--constraint",
    "constraint_file",
    default=None,
    type=click.Path(dir_okay=False),
    help="Domain constraints in training from a JSON list, e.g. "
    '[{"kind": "exclude", "features": ["race"]}, {"kind": "sign", "feature": "priors", "sign": 1}, '
    '{"kind": "budget", "k": 3}, {"kind": "order", "x_a": {...}, "x_b": {...}, "delta": 0.5}, '
    '{"kind": "parity", "group": "sex", "delta": 0.1}]; features by column name (one-hot columns: '
    "column=level); each is checked on the network and recorded in the certificate.",
)
@click.option(
    "-o",
    "--output",
    required=True,
    callback=output_file(MODEL_SUFFIXES, "model files"),
    help="Where to write the model (.json with the certificate in its metadata, or .onnx).",
)
def train(
    data: str,
    target: str,
    task: str,
    hidden: str,
    hypothesis: str,
    loss: str,
    l1_text: str,
    l1_grid: str | None,
    l2: float,
    l0: float,
    neuron_penalty: float,
    layer_penalty: float,
    max_nonzeros: int | None,
    max_neurons: int | None,
    weight_bound: float,
    bias_bound: float,
    time_limit: float,
    solver: str,
    samples: int | None,
    seed: int,
    architecture: str | None,
    input_shape: str | None,
    downsample: int,
    channel_penalty: float,
    max_channels: int | None,
    monotone_increasing: str | None,
    monotone_decreasing: str | None,
    monotone_method: str,
    sign_patterns: bool,
    linear: bool,
    constraint_file: str | None,
    output: str,
) -> None:
    """Train a sparse ReLU network on DATA.csv by MILP and save it with its optimality certificate.

    With --architecture the pixel columns are images of --input-shape and the network is a conv net
    (channel switches with --channel-penalty / --max-channels). --linear adds a linear term to the output;
    --constraint FILE.json adds domain constraints (format: mipnet.train.constraints)."""
    from ..io import save_model

    started = time.perf_counter()  # the time limit covers the whole command, reading the data too

    # every option is checked before the data are read, the data before any work
    extra: dict[str, Any] = {}
    if linear:
        extra["linear_term"] = True
    if constraint_file is not None:
        extra["constraints"] = _read_constraints(constraint_file)
    if (weight_bound, bias_bound) != (1.0, 1.0) and (monotone_increasing or monotone_decreasing):
        raise DataError("--weight-bound and --bias-bound are not yet supported by certified monotonic learning")
    _check_monotone_options(monotone_increasing, monotone_decreasing, monotone_method)
    if max_neurons is not None:
        if architecture is not None or monotone_increasing or monotone_decreasing:
            raise DataError("--max-neurons takes dense networks without --architecture or --monotone-*")
        if max_neurons == 0 and not linear:  # no hidden unit and no linear term: the constant model
            raise DataError("--max-neurons 0 leaves only a constant model: add --linear for the sparse linear model")
        extra["max_neurons"] = max_neurons
    if set(extra) - {"max_neurons"} and (
        architecture is not None
        or monotone_increasing
        or monotone_decreasing
        or sign_patterns
        or l1_text.strip().lower() == "cv"
    ):
        raise DataError(
            "--linear and --constraint take dense networks without --architecture, --monotone-*, "
            "--sign-patterns or --l1 cv"
        )
    l1 = _l1(l1_text)
    grid = _grid(l1_grid) if l1_grid is not None else None
    if grid is not None and l1 != "cv":
        raise DataError("--l1-grid lists the candidates of --l1 cv; pass --l1 cv with it")
    _check_loss(loss, task)
    conv = {}
    if architecture is not None:
        from ..train.architecture import parse_architecture

        parse_architecture(architecture)
        shape = _input_shape(input_shape)
        if shape is None:
            raise DataError("--architecture needs --input-shape C,H,W for the pixel columns")
        if downsample > 1 and (shape[-2] % downsample or shape[-1] % downsample):
            raise DataError(  # (the average pooling dropped the last rows and columns of pixels unannounced)
                f"--downsample {downsample} does not divide the {shape[-2]}x{shape[-1]} images: pick a factor of both "
                "sides (the pooling would drop the pixels left over)"
            )
        conv = {
            "architecture": architecture,
            "input_shape": shape,
            "downsample": downsample,
            "channel_penalty": channel_penalty,
            "max_channels": max_channels,
        }
    elif input_shape is not None or channel_penalty or max_channels is not None or downsample != 1:
        raise DataError("--input-shape, --downsample, --channel-penalty and --max-channels need --architecture")
    elif set(extra) - {"max_neurons"} and len(_hidden(hidden)) != 1:  # (it came after the data were read)
        raise DataError("--linear and --constraint take one hidden layer (--hidden N)")
    else:
        _hidden(hidden)
    df = read_csv(data)
    if target not in df.columns:
        raise DataError(f"target column {target!r} is not in {data} (columns: {list(df.columns)[:8]})")
    _check_training_frame(df, target, task)
    X, y = df.drop(columns=[target]), df[target].to_numpy()
    click.echo(
        f"training on {len(df)} rows x {X.shape[1]} features"
        + (f" (subsample of {samples})" if samples and samples < len(df) else "")
    )
    if monotone_increasing or monotone_decreasing:
        if architecture is not None:
            raise DataError("certified monotonic learning takes dense networks (--hidden), not --architecture")
        if sign_patterns:
            raise DataError("--sign-patterns is not used by certified monotonic learning")
        if isinstance(l1, str):  # "cv", the one text _l1 returns
            raise DataError("--l1 cv is not yet supported by certified monotonic learning; pass a number")
        code = _train_monotone(
            X,
            y,
            target=target,
            task=task,
            hidden=_hidden(hidden),
            hypothesis=hypothesis,
            loss=loss,
            l1=l1,
            l2=l2,
            l0=l0,
            neuron_penalty=neuron_penalty,
            max_nonzeros=max_nonzeros,
            time_limit=_time_left(time_limit, started),
            solver=solver,
            samples=samples,
            seed=seed,
            increasing=_names(monotone_increasing),
            decreasing=_names(monotone_decreasing),
            method=monotone_method,
            output=output,
        )
        raise SystemExit(code)
    est = _fit_and_report(
        X,
        y,
        task=task,
        hidden=_hidden(hidden),
        loss=loss,
        l1=l1,
        l2=l2,
        l0=l0,
        neuron_penalty=neuron_penalty,
        max_nonzeros=max_nonzeros,
        time_limit=_time_left(time_limit, started),
        solver=solver,
        samples=samples,
        seed=seed,
        hypothesis=hypothesis,
        layer_penalty=layer_penalty,
        sign_patterns=sign_patterns,
        l1_grid=grid,
        weight_bound=weight_bound,
        bias_bound=bias_bound,
        **conv,
        **extra,
    )
    _summary(est, X, y)  # the certificate's lines show each domain constraint's check
    est.network_.metadata["target"] = str(target)  # (a re-check of its certificate finds the column by it)
    save_model(est.network_, output)
    click.echo(f"wrote {output}")


def _read_constraints(path: str) -> list[Any]:
    """--constraint FILE.json: the JSON list of mipnet.train.constraints, checked before the data are read."""
    import json

    from ..train.constraints import parse_constraints

    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise DataError(f"--constraint: cannot read {path} ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise DataError(f"--constraint: {path} is not UTF-8 text") from None
    try:
        items = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(f"--constraint: {path} is not JSON ({exc.msg}, line {exc.lineno})") from None
    except RecursionError:  # 3000 levels of [ were a traceback
        raise DataError(f"--constraint: {path} is nested too deeply to be a constraint list") from None
    return list(parse_constraints(items))


def _names(text: str | None) -> list[str]:
    return comma_items(text, "feature list") if text else []


def _check_loss(loss: str, task: str) -> None:
    from ..train.formulation import CLASSIFY_LOSSES, REGRESS_LOSSES

    ok = CLASSIFY_LOSSES if task == "classify" else REGRESS_LOSSES
    if loss not in ok:
        raise DataError(f"--loss {loss} does not fit --task {task} (use {', '.join(ok)})")


def _check_training_frame(df, target: str, task: str) -> None:
    """Input errors of the training data, before any work: a numeric column with stray text cells (it
    would be one-hot encoded silently), empty/NaN/inf cells, a regression target that is not numeric."""
    import pandas as pd

    if df.shape[1] < 2:
        raise DataError(f"the data have no feature columns besides the target {target!r}")
    stray_text(df)
    missing_values(df.drop(columns=[target]))
    missing_values(df[[target]], what="target column")
    feats = df.drop(columns=[target]).select_dtypes("number")
    if feats.shape[1]:
        big = np.abs(feats.to_numpy(dtype=np.float64)).max(axis=0)
        if float(big.max()) > MAX_MAGNITUDE:
            c = feats.columns[int(np.argmax(big))]
            raise DataError(
                f"column {str(c)!r} has values up to {float(big.max()):.3g}: above {MAX_MAGNITUDE:g} the "
                "standardisation's squares overflow; rescale the column"
            )
    if task == "classify" and df[target].nunique() < 2:
        raise DataError(
            f"the target {target!r} has only one class ({df[target].iloc[0]}); a classifier needs 2 classes"
        )
    t = df[target]
    frac = pd.api.types.is_float_dtype(t) and not bool(np.all(np.mod(t.to_numpy(dtype=np.float64), 1) == 0))
    if task == "classify" and frac:
        odd = float(t[np.mod(t.to_numpy(dtype=np.float64), 1) != 0].iloc[0])
        raise DataError(  # (sklearn's "Unknown label type: continuous" came after "training on N rows")
            f"the target {target!r} holds {t.nunique()} distinct numbers, some not whole (such as {odd:g}): "
            "a classifier needs class labels (whole numbers or text); for a numeric target pass --task regress"
        )
    if task == "regress" and not pd.api.types.is_numeric_dtype(df[target]):
        raise DataError(
            f"--task regress needs a numeric target; column {target!r} holds text such as {str(df[target].iloc[0])!r}"
        )
    if task == "regress" and float(np.abs(t.to_numpy(dtype=np.float64)).max()) > MAX_MAGNITUDE:
        raise DataError(  # (as the features: the standardisation's squares overflow, the score printed nan)
            f"the target {target!r} has values up to {float(np.abs(t.to_numpy(dtype=np.float64)).max()):.3g}: above "
            f"{MAX_MAGNITUDE:g} the standardisation's squares overflow; rescale the column"
        )


#: options certified monotonic learning does not read: per method (the gradient method trains its own loss)
_MONOTONE_UNUSED = {
    "milp": ("layer_penalty",),
    "gradient": ("hypothesis", "loss", "l1_text", "l2", "l0", "neuron_penalty", "max_nonzeros", "layer_penalty"),
}


def _check_monotone_options(increasing: str | None, decreasing: str | None, method: str) -> None:
    """Before any work: a --monotone-* list that names no feature, and the options the chosen method would ignore
    (the gradient method wrote a 15-weight network for --max-nonzeros 1), are one error line each."""
    from click.core import ParameterSource

    ctx = click.get_current_context()
    for name, value in (("monotone_increasing", increasing), ("monotone_decreasing", decreasing)):
        if value is not None and not _names(value):
            raise DataError(f"--{name.replace('_', '-')} names no feature (it trained a plain network)")
    if not (increasing or decreasing):
        return
    given = [n for n in _MONOTONE_UNUSED[method] if ctx.get_parameter_source(n) not in (None, ParameterSource.DEFAULT)]
    if given:
        flags = ", ".join("--" + n.replace("_text", "").replace("_", "-") for n in given)
        raise DataError(f"{flags}: not used by certified monotonic learning with --monotone-method {method}")


def _train_monotone(
    X,
    y,
    *,
    task: str,
    hidden: tuple[int, ...],
    hypothesis: str,
    loss: str,
    l1: float,
    l2: float,
    l0: float,
    neuron_penalty: float,
    max_nonzeros: int | None,
    time_limit: float,
    solver: str,
    samples: int | None,
    seed: int,
    increasing: list[str],
    decreasing: list[str],
    method: str,
    output: str,
    target: str | None = None,
) -> int:
    """Certified monotonic learning (mipnet.train.monotone); exit 0 certified, 1 violated, 3 unknown."""
    from ..domain import Domain
    from ..io import save_model
    from ..train.formulation import TrainConfig
    from ..train.monotone import train_monotone_gradient, train_monotone_milp
    from ..verify.monotonic.common import score_words
    from .common import EXIT_OK, EXIT_UNKNOWN, EXIT_VIOLATED

    bad = [c for c in X.columns if not np.issubdtype(X[c].dtype, np.number)]
    if bad:
        raise DataError(f"certified monotonic learning needs numeric features; non-numeric columns: {bad[:5]}")
    missing = [f for f in increasing + decreasing if f not in X.columns]
    if missing:
        raise DataError(f"monotone features {missing} are not columns of the data")
    Xn = X.to_numpy(dtype=np.float64)
    if not np.all(np.isfinite(Xn)):
        raise DataError("the data contain NaN or inf values")
    domain = Domain.from_data(Xn, names=[str(c) for c in X.columns])  # the whole file's box, not the subsample's
    if samples and samples < len(Xn):
        idx = np.sort(np.random.default_rng(seed).choice(len(Xn), size=samples, replace=False))
        Xn, y = Xn[idx], y[idx]
    if method == "milp":
        cfg = TrainConfig(
            hidden=hidden,
            hypothesis=hypothesis,
            loss=loss,
            l1=l1,
            l2=l2,
            l0=l0,
            neuron_penalty=neuron_penalty,
            max_nonzeros=max_nonzeros,
        )
        res = train_monotone_milp(
            Xn,
            y,
            task=task,
            domain=domain,
            increasing=increasing,
            decreasing=decreasing,
            config=cfg,
            time_limit=time_limit,
            solver=solver,
            log=click.echo,
        )
    else:
        res = train_monotone_gradient(
            Xn,
            y,
            task=task,
            domain=domain,
            increasing=increasing,
            decreasing=decreasing,
            hidden=hidden,
            time_limit=time_limit,
            solver=solver,
            seed=seed,
            log=click.echo,
        )
    status = res.certificate.status if res.certificate is not None else "unknown"
    for f in res.certificate.features if res.certificate is not None else []:
        click.echo(f"  {f.feature:24s} {f.direction:10s} {f.status}")
    # which score the proof is about: for a one-logit classifier, what a higher logit means in class names
    about = f" of the {score_words(res.network, res.certificate.output)}" if res.certificate is not None else ""
    click.echo(f"global monotonicity certificate{about}: {status} after {len(res.history)} round(s) ({method})")
    if status != "holds":  # never a network that breaks what the user required (as with --constraint)
        why = "is not monotone (a counterexample pair was found)" if status == "violated" else "is not proved monotone"
        click.echo(
            f"not written: the last network {why} after {len(res.history)} round(s); raise --time-limit"
            + (" or try --monotone-method milp" if method == "gradient" else ""),
            err=True,
        )
        return EXIT_VIOLATED if status == "violated" else EXIT_UNKNOWN
    if target is not None:  # (the target column's name: a re-check finds the column by it)
        res.network.metadata["target"] = str(target)
    save_model(res.network, output)
    click.echo(f"wrote {output}")
    return EXIT_OK


COMMANDS = [train]

# the demo has its own module (mipnet.cli.demo); these names stay importable from here
from .demo import DemoTraining, demo, demo_model_path, demo_summary  # noqa: E402, F401
