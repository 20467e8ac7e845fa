"""Shared option types and checks of the ``mipnet`` commands: bad values fail while the command line is
parsed, before any file is read or any solver runs (one line on stderr, exit 2).

    @click.option("--time-limit", type=FINITE_POSITIVE, default=60.0, help=WHOLE_COMMAND_LIMIT)

Numbers: NaN and +-inf are refused everywhere; ``RADIUS`` (an eps) is also capped at 1e12, beyond
which interval arithmetic over the ball overflows (a ball that large is the whole domain anyway).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Sequence

import click

#: help text of a --time-limit that covers the whole command
WHOLE_COMMAND_LIMIT = (
    "Wall-clock seconds for the whole command (bounds, model building, solving, re-checks); "
    "may overshoot by at most 10 % + 5 s."
)
#: help text of train's --time-limit
TRAIN_LIMIT = (
    "Wall-clock seconds for the whole fit: --l1 cv, the gradient warm start, building the MILP and "
    "handing it to the solver, the LP heuristic, the solve (all sign patterns together; every round of "
    "--monotone-*) and the final re-check; may overshoot by at most 10 % + 5 s. A dense model that cannot "
    "be built in time gives the warm start, unproved (status feasible, no bound); a conv model that cannot be "
    "built and translated in time (its warm start is mapped by that model), or a warm start whose mapping "
    "into the class would not fit, gives no network: one error line, exit 3."
)
#: help text of explain's --time-limit
EXPLAIN_LIMIT = (
    "Wall-clock seconds from the command's start after which no more boundary LPs (one per inequality of a "
    "region) are started: the regions left show no boundaries. The configurations and local classifiers are "
    "computed in any case (one pass over the data), also past it."
)
#: help text of the per-row limit of robustness checks
PER_ROW_LIMIT = (
    "Seconds per row (bounds, attack, MILP and re-check of that row); the command takes at most "
    "rows x this, plus loading."
)
#: largest eps accepted: beyond it interval arithmetic over the ball overflows
MAX_RADIUS = 1e12


class FiniteFloat(click.ParamType):
    """A finite float within [min, max] (bounds optional, ``min_open``: strictly above ``min``)."""

    name = "number"

    def __init__(self, min: float | None = None, max: float | None = None, min_open: bool = False) -> None:
        self.min, self.max, self.min_open = min, max, min_open

    def _range(self) -> str:
        if self.min is not None and self.max is not None:
            return f"in {'(' if self.min_open else '['}{self.min:g}, {self.max:g}]"
        if self.min is not None:
            return f"{'>' if self.min_open else '>='} {self.min:g}"
        if self.max is not None:
            return f"<= {self.max:g}"
        return ""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        try:
            x = float(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number", param, ctx)
        want = f"a finite number {self._range()}".rstrip()
        if not math.isfinite(x):
            self.fail(f"must be {want}, got {value}", param, ctx)
        if self.min is not None and (x < self.min or (self.min_open and x == self.min)):
            self.fail(f"must be {want}, got {value}", param, ctx)
        if self.max is not None and x > self.max:
            self.fail(f"must be {want}, got {value}", param, ctx)
        return x

    def __repr__(self) -> str:
        return f"FiniteFloat({self._range()})"


class BoundedInt(click.ParamType):
    """An integer >= ``min`` (and <= ``max`` if given)."""

    name = "integer"

    def __init__(self, min: int | None = None, max: int | None = None) -> None:
        self.min, self.max = min, max

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, bool):
            self.fail(f"{value!r} is not an integer", param, ctx)
        try:
            x = int(value) if not isinstance(value, str) else int(value.strip())
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not an integer", param, ctx)
        if self.min is not None and x < self.min:
            self.fail(f"must be an integer >= {self.min}, got {value}", param, ctx)
        if self.max is not None and x > self.max:
            self.fail(f"must be an integer <= {self.max}, got {value}", param, ctx)
        return x


#: seconds, penalties, radii, ...
FINITE_POSITIVE = FiniteFloat(0.0, min_open=True)
FINITE_NONNEG = FiniteFloat(0.0)
FINITE = FiniteFloat()
RADIUS = FiniteFloat(0.0, MAX_RADIUS)
#: the weight and bias boxes of training (:data:`mipnet.train.config.MAX_BOX`)
BOX = FiniteFloat(0.0, 1e6, min_open=True)
POSITIVE_INT = BoundedInt(1)
NONNEG_INT = BoundedInt(0)
#: seeds of numpy's generators are 0 .. 2**32 - 1
SEED = BoundedInt(0, 2**32 - 1)


class SolverName(click.ParamType):
    """A solver mipnet can run (highs, scip, gurobi or an installed Pyomo solver); checked at parse time."""

    name = "solver"

    def __init__(self, extra: Sequence[str] = ()) -> None:
        self.extra = tuple(extra)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        name = str(value).strip()
        if name.lower() in self.extra:
            return name.lower()
        if name == "highs":  # the embedded default: its module is enough (Pyomo's factory costs seconds of start-up)
            import importlib.util

            if importlib.util.find_spec("highspy") is not None:
                return name
        from ..errors import SolverError
        from ..solve import _contrib

        try:
            _contrib(name)
        except SolverError as exc:
            self.fail(str(exc), param, ctx)
        return name


SOLVER = SolverName()


def output_file(suffixes: Sequence[str], what: str, allow_empty: bool = False) -> Any:
    """A click callback checking an output path before any work: the suffix is one of ``suffixes`` (any if
    empty), the path is not a directory, and its directory is (or can be created) writable. ``what``: the
    kind of file, plural ("model files")."""

    def check(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
        if value is None or (allow_empty and value == ""):
            return value
        check_output_path(str(value), suffixes, what, param_hint=_hint(param))
        mark_output(ctx, param)
        return value

    return check


#: ``ctx.meta`` key: the names of the command's parameters that are files it writes (:func:`refuse_overwrite`)
OUTPUTS_KEY = "mipnet.outputs"


def mark_output(ctx: click.Context, param: click.Parameter) -> None:
    """Record ``param`` as a file the command writes (checked against its inputs once every option is parsed)."""
    if param.name:
        ctx.meta.setdefault(OUTPUTS_KEY, set()).add(param.name)


def output_marked(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    """A click callback for an output path checked elsewhere: marks it (:func:`mark_output`) and refuses only a
    name no file system takes."""
    if value is not None:
        if not str(value).strip() or str(value).rstrip("/") in (".", ".."):  # ("" renamed a temporary file onto ".")
            raise click.BadParameter(f"{str(value)!r} names no file", ctx=ctx, param=param)
        _check_name_lengths(Path(str(value)), ctx, param)
    mark_output(ctx, param)
    return value


def refuse_overwrite(ctx: click.Context) -> None:
    """After parsing: no file the command writes may be one it reads (``predict m.json d.csv -o d.csv`` replaced the
    data with its predictions, ``-o m.json`` the model with CSV text, ``vnncomp run --result-file NET.onnx`` the
    network with "error"): one line, exit 2, before any work. Inputs are the other parameters whose value names
    an existing file."""
    import os

    outs = ctx.meta.get(OUTPUTS_KEY) or set()
    if not outs:
        return
    inputs = []
    for name, v in ctx.params.items():
        if name in outs:
            continue
        for item in v if isinstance(v, (list, tuple)) else (v,):
            if isinstance(item, (str, os.PathLike)) and str(item) and os.path.isfile(item):
                inputs.append((name, item))
    for out in outs:
        target = ctx.params.get(out)
        if not isinstance(target, (str, os.PathLike)) or not str(target) or not os.path.exists(target):
            continue
        for name, src in inputs:
            if os.path.samefile(target, src):
                raise click.BadParameter(
                    f"{target} is also the input {name.upper()}: writing it would destroy that input",
                    ctx,
                    param_hint="/".join(p.opts[0] for p in ctx.command.params if p.name == out) or out,
                )


def output_dir(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    """A click callback: the output directory is not a file and can be created or written."""
    if value is None:
        return value
    if not str(value).strip():  # (an empty name was read as "no output": nothing written, exit 0)
        raise click.BadParameter("an empty directory name (use . for the current directory)", ctx, param)
    p = Path(value)
    _check_name_lengths(p, ctx, param)
    if p.exists() and not p.is_dir():
        raise click.BadParameter(f"{p} exists and is not a directory", ctx, param)
    _check_writable(p if p.exists() else p.parent, ctx, param)
    return value


def check_output_path(path: str, suffixes: Sequence[str], what: str, param_hint: str | None = None) -> None:
    p = Path(path)
    _check_name_lengths(p, None, None, param_hint)
    if p.is_dir():
        raise click.BadParameter(f"{path} is a directory; give a file name", param_hint=param_hint)
    if suffixes and p.suffix.lower() not in suffixes:
        raise click.BadParameter(
            f"cannot write {what} of type {p.suffix or path!r} (supported: {', '.join(suffixes)})",
            param_hint=param_hint,
        )
    _check_writable(p.parent, None, None, param_hint)


#: the longest file name (one path component) and path Linux file systems take (NAME_MAX, PATH_MAX)
NAME_MAX, PATH_MAX = 255, 4096


def _check_name_lengths(
    p: Path, ctx: click.Context | None, param: click.Parameter | None, param_hint: str | None = None
) -> None:
    """A name the file system cannot take is refused by name (testing it raised "[Errno 36] File name too long")."""
    import os

    long = [part for part in p.parts if len(os.fsencode(part)) > NAME_MAX]
    if long:
        shown = long[0] if len(long[0]) <= 60 else long[0][:40] + "..." + long[0][-12:]
        raise click.BadParameter(
            f"the file name {shown!r} is too long ({len(os.fsencode(long[0]))} bytes; file systems take {NAME_MAX})",
            ctx,
            param,
            param_hint,
        )
    if len(os.fsencode(str(p.absolute()))) >= PATH_MAX:
        raise click.BadParameter(
            f"the path is too long (file systems take {PATH_MAX - 1} bytes)", ctx, param, param_hint
        )


def _check_writable(
    d: Path, ctx: click.Context | None, param: click.Parameter | None, param_hint: str | None = None
) -> None:
    import os

    d = d if str(d) else Path(".")
    probe = d
    while not probe.exists():  # the nearest existing ancestor must be a writable directory
        if probe.parent == probe:
            break
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        raise click.BadParameter(f"cannot create {d}: {probe} is a file", ctx, param, param_hint)
    if probe.exists() and not os.access(probe, os.W_OK | os.X_OK):
        raise click.BadParameter(f"cannot write to {probe}: permission denied", ctx, param, param_hint)
    if probe.is_dir():  # os.access says yes for /sys and /proc as root: a file must really be made there
        import tempfile

        try:
            with tempfile.TemporaryFile(dir=probe, prefix=".mipnet-probe-"):
                pass
        except OSError as exc:
            raise click.BadParameter(
                f"cannot write to {probe}: {exc.strerror or exc}", ctx, param, param_hint
            ) from None


def _hint(param: click.Parameter | None) -> str | None:
    if param is None:
        return None
    opts = getattr(param, "opts", None)
    return "/".join(opts) if opts else param.name


MODEL_SUFFIXES = (".json", ".onnx")


# ---------------------------------------------------------------------------- --domain / --domain-json
def domain_options(f: Any) -> Any:
    """``--domain DATA.csv [--domain-margin F]`` or ``--domain-json FILE``: replace the model's input domain
    for this run (see :func:`domain_override`). The decorated command takes ``domain``, ``domain_margin``
    and ``domain_json`` keyword arguments."""
    f = click.option(
        "--domain-json",
        "domain_json",
        default=None,
        metavar="FILE",
        help='Input domain from a JSON file: {"lower": [...], "upper": [...]} (model feature order) '
        'or {"features": {"name": [lo, hi], ...}} (features not named keep their bounds).',
    )(f)
    f = click.option(
        "--domain-margin",
        "domain_margin",
        type=FINITE_NONNEG,
        default=None,
        help="With --domain: widen each feature's range by this fraction on both sides (default 0).",
    )(f)
    f = click.option(
        "--domain",
        "domain",
        default=None,
        metavar="DATA.csv",
        help="Input domain: the box of the model's feature columns of this CSV (replaces the model's "
        "domain for this run; needed for unbounded imported models).",
    )(f)
    return f


def check_domain_options(domain: str | None, margin: float | None, domain_json: str | None) -> None:
    """Option-level checks of :func:`domain_options` (one line, exit 2)."""
    from ..errors import MipnetError

    if domain is not None and domain_json is not None:
        raise MipnetError("give either --domain or --domain-json, not both")
    if margin is not None and domain is None:
        raise MipnetError("--domain-margin needs --domain DATA.csv")


def domain_override(net: Any, domain: str | None, margin: float | None, domain_json: str | None) -> Any:
    """The input :class:`~mipnet.domain.Domain` given by ``--domain`` / ``--domain-json`` for ``net``, with a
    one-line description ("domain: box of DATA.csv (+0.1 margin)"). Integer flags are kept from the model (a
    data column of whole numbers does not make a feature integer: the box is what the line names); one-hot
    groups are kept, their bounds cut to [0, 1]. Every input error (unreadable file, missing columns, NaN or
    inf, lower > upper) is a :class:`~mipnet.errors.MipnetError`."""
    import numpy as np

    from ..domain import Domain
    from ..errors import DataError

    check_domain_options(domain, margin, domain_json)
    old = net.domain
    names = list(old.names)
    if domain is not None:
        from .common import features_for, read_csv

        X = features_for(net, read_csv(domain))
        if not np.all(np.isfinite(X)):
            bad = [names[j] for j in np.flatnonzero(~np.all(np.isfinite(X), axis=0))]
            raise DataError(f"--domain {domain}: the feature columns {bad[:5]} contain NaN or inf values")
        m = margin or 0.0
        new = Domain.from_data(X, names=names, margin=m)
        # the box only: a column holding whole numbers is not made an integer feature (the verdict would speak of
        # its lattice, not of the box the line names); the model's own integer flags are kept
        lower, upper, integer = new.lower, new.upper, old.integer.copy()
        what = f"box of {Path(domain).name}" + (f" (+{m:g} margin)" if m else "")
    else:
        assert domain_json is not None
        lower, upper = _domain_json(Path(domain_json), names, old.lower.copy(), old.upper.copy())
        integer = old.integer.copy()
        what = f"box of {Path(domain_json).name}"
    for g in old.onehot_groups:
        lower[g], upper[g] = np.maximum(lower[g], 0.0), np.minimum(upper[g], 1.0)
    bad_box = np.flatnonzero(lower > upper)
    if bad_box.size:
        j = int(bad_box[0])
        raise DataError(f"domain: lower bound {lower[j]:g} exceeds upper bound {upper[j]:g} for feature {names[j]!r}")
    empty = integer & (np.ceil(lower) > np.floor(upper))
    if empty.any():  # the set is empty on the model's lattice (made continuous, a witness was off the lattice)
        j = int(np.flatnonzero(empty)[0])
        raise DataError(f"domain: integer feature {names[j]!r} has no whole number within [{lower[j]:g}, {upper[j]:g}]")
    return Domain(names, lower, upper, integer, old.onehot_groups), f"domain: {what}"


def _domain_json(path: Path, names: list[str], lower: Any, upper: Any) -> tuple[Any, Any]:
    import json

    import numpy as np

    from ..errors import DataError, MipnetError

    if not path.is_file():
        raise MipnetError(f"--domain-json: file not found: {path}" if not path.exists() else f"{path} is not a file")
    try:
        d = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataError(f"--domain-json {path.name} is not valid JSON: {exc}") from None
    n = len(names)

    def num(v: Any, where: str) -> float:
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise DataError(f"--domain-json {path.name}: {where} must be a number, got {v!r}")
        try:
            f = float(v)  # an int beyond float64 overflows here
        except OverflowError:
            f = math.inf
        if not math.isfinite(f):
            shown = v if isinstance(v, float) else f"an integer of {len(str(abs(v)))} digits"
            raise DataError(f"--domain-json {path.name}: {where} must be finite, got {shown}")
        return f

    if isinstance(d, dict) and "features" in d and isinstance(d["features"], dict):
        unknown = [k for k in d["features"] if k not in names]
        if unknown:
            raise DataError(
                f"--domain-json {path.name}: unknown features {unknown[:5]}; the model's features are "
                f"{names[:8]}" + (" ..." if n > 8 else "")
            )
        for k, v in d["features"].items():
            if not isinstance(v, (list, tuple)) or len(v) != 2:
                raise DataError(f"--domain-json {path.name}: feature {k!r} needs [lower, upper], got {v!r}")
            j = names.index(k)
            lower[j], upper[j] = num(v[0], f"lower bound of {k!r}"), num(v[1], f"upper bound of {k!r}")
        return np.asarray(lower, float), np.asarray(upper, float)
    if isinstance(d, dict) and "lower" in d and "upper" in d:
        out = []
        for key in ("lower", "upper"):
            v = d[key]
            if not isinstance(v, list) or len(v) != n:
                got = len(v) if isinstance(v, list) else type(v).__name__
                raise DataError(
                    f"--domain-json {path.name}: {key!r} must be a list of {n} numbers (one per model "
                    f"feature), got {got}"
                )
            out.append(np.array([num(x, f"{key}[{i}]") for i, x in enumerate(v)]))
        return out[0], out[1]
    raise DataError(
        f'--domain-json {path.name}: expected {{"lower": [...], "upper": [...]}} or '
        '{"features": {"name": [lo, hi], ...}}'
    )


def apply_domain(net: Any, domain: str | None, margin: float | None, domain_json: str | None, echo: Any = None) -> Any:
    """``net`` with the domain of :func:`domain_override` (unchanged without the options); the description
    line goes to ``echo`` (default: stdout)."""
    given = domain is not None or domain_json is not None or margin is not None
    if not given:
        return net
    new, line = domain_override(net, domain, margin, domain_json)
    (echo or click.echo)(line)
    return net.with_domain(new)


def scheduler_address(local: bool = False) -> Any:
    """A click callback checking ``--scheduler`` before any work: a Dask scheduler address (``tcp://HOST:PORT``;
    ``local`` too when ``local``), one line otherwise (:func:`mipnet.distributed.check_address`)."""

    def check(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
        if value is None or (local and value == "local"):
            return value
        from ..distributed import check_address
        from ..errors import MipnetError

        try:
            return check_address(value)
        except MipnetError as exc:
            raise click.BadParameter(str(exc)) from None

    return check
