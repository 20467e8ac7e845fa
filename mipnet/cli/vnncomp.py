"""`mipnet vnncomp ...`: the VNN-COMP tool interface (what the competition's ``run_instance.sh`` calls).

``mipnet vnncomp run ONNX VNNLIB --result-file F --timeout S`` decides one instance with
:func:`mipnet.verify.vnnlib.verify_vnnlib` and writes the competition's result file, atomically:

    unsat                      the property holds: no input of the box reaches the unsafe outputs
    sat                        violated, followed by the counterexample
    ((X_0 x_0)                 x: the re-checked witness (the network's inputs, flattened in C order),
     (X_1 x_1)                 y = f(x): the network's outputs at x by the float64 forward pass;
     ...                       every number in full precision (the shortest repr that reads back
     (Y_0 y_0)                 as the same double)
     ...)
    timeout                    the time ran out before a verdict
    unknown                    no verdict for another reason (e.g. a witness failed the re-check)
    error                      the instance could not be read (missing file, malformed VNN-LIB, an
                               unsupported ONNX operator, mismatched sizes, ...); the reason on stderr

The command exits 0 whenever it wrote the result file, error included: the competition's runner reads
a non-zero exit of ``run_instance.sh`` as a failure of the tool, not as a verdict. Time: ``S`` covers
the whole command from the start of the process; ``b`` seconds are left when the work starts. The file
says ``timeout`` from the start until a verdict replaces it; the verification gets
``max(b / 2, (b - 5) / 1.1)`` seconds (the library's promise is ``limit * 1.1 + 5`` s at most); a
watchdog thread ends the process (exit 0) at ``b - STARTUP_ALLOWANCE`` without a verdict, and, should a
solver keep Python's lock past that, the kernel's alarm signal ends it at ``b + HARD_GRACE`` (exit 142,
the file still says ``timeout``).

``mipnet vnncomp table INSTANCES.csv -o results.csv`` runs every row of a competition instances file
(``onnx,vnnlib,timeout``, paths relative to the file, no header) in a fresh process each, as the
competition does (through ``--tool-script run_instance.sh`` when given, after its ``prepare_instance.sh``),
and writes ``instance,onnx,vnnlib,timeout,result,seconds`` (seconds: wall time of the run).
"""

from __future__ import annotations

import csv
import io
import math
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import click
import numpy as np

from ..choices import BOUND_METHODS
from ..deadline import OVERSHOOT_SECONDS, OVERSHOOT_SHARE
from ..errors import DataError, MipnetError
from ..io.atomic import atomic_write_text
from .common import EXIT_INPUT_ERROR, EXIT_OK
from .options import FINITE_POSITIVE, SOLVER, FiniteFloat, check_output_path, output_marked

#: the words a result file may start with
RESULTS = ("sat", "unsat", "timeout", "unknown", "error")
#: the longest timeout taken (116 days): 1e10 overflowed the alarm timer (a traceback after the file was written)
MAX_TIMEOUT = 1e7
TIMEOUT = FiniteFloat(0.0, MAX_TIMEOUT, min_open=True)
#: seconds kept back from the competition's timeout for the interpreter's start and the exit
STARTUP_ALLOWANCE = 0.5
#: seconds past the timeout at which the alarm signal ends a process the watchdog could not end
HARD_GRACE = 1.0
#: the reason :func:`verify_vnnlib` gives when its time limit ended the check
TIME_LIMIT_REASON = "timeout"


def _process_age() -> float:
    """Seconds since this process started (Linux: /proc; elsewhere 0): the interpreter's start counts too."""
    try:
        with open("/proc/self/stat", encoding="ascii") as fh:
            start_ticks = float(fh.read().rsplit(")", 1)[1].split()[19])
        with open("/proc/uptime", encoding="ascii") as fh:
            uptime = float(fh.read().split()[0])
        return max(0.0, uptime - start_ticks / os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError):
        return 0.0


#: when the ``mipnet`` process started, on the monotonic clock (this module is imported with the command tree)
_STARTED = time.monotonic() - _process_age()
_BOUNDS = click.Choice(list(BOUND_METHODS))
_ITEM = re.compile(r"\(\s*([XY]_\d+)\s+([^\s()]+)\s*\)")


# ----------------------------------------------------------------------------- the result file


def counterexample_text(x: np.ndarray, y: np.ndarray) -> str:
    """``((X_0 v)\\n (X_1 v)\\n ... (Y_0 v) ...)`` with every value in full precision."""
    items = [f"(X_{i} {float(v)!r})" for i, v in enumerate(np.ravel(x))]
    items += [f"(Y_{j} {float(v)!r})" for j, v in enumerate(np.ravel(y))]
    return "(" + "\n ".join(items) + ")"


def result_text(verdict: str, reason: str = "", x: np.ndarray | None = None, y: np.ndarray | None = None) -> str:
    """The result file for a :class:`~mipnet.verify.vnnlib.VnnResult`'s verdict (holds / violated / unknown)."""
    if verdict == "holds":
        return "unsat\n"
    if verdict == "violated" and x is not None and y is not None:
        return f"sat\n{counterexample_text(x, y)}\n"
    if verdict == "unknown" and reason.split(" (")[0] == TIME_LIMIT_REASON:  # ("timeout (16 open leaves ...)")
        return "timeout\n"
    return "unknown\n"


def read_result(path: str | os.PathLike[str]) -> tuple[str, dict[str, float]]:
    """A result file's first word and its counterexample as ``{"X_0": v, ..., "Y_0": v, ...}`` (empty
    unless ``sat``). A missing or empty file reads as ``error``."""
    p = Path(path)
    text = p.read_text() if p.is_file() else ""
    lines = text.strip().splitlines()
    word = lines[0].strip() if lines else "error"
    values: dict[str, float] = {}
    if word == "sat":
        values = {name: float(v) for name, v in _ITEM.findall("\n".join(lines[1:]))}
    return word, values


class _Once:
    """Writes the result file once: the verdict or the watchdog's ``timeout``, whichever comes first."""

    def __init__(self, path: str) -> None:
        self.path, self.lock, self.done = path, threading.Lock(), False
        atomic_write_text(path, "timeout\n")  # until a verdict replaces it

    def write(self, text: str) -> bool:
        with self.lock:
            if self.done:
                return False
            atomic_write_text(self.path, text)
            self.done = True
            return True

    def expire(self) -> None:
        """The watchdog: ``timeout`` and an immediate exit 0 (a solver may not stop in time)."""
        if self.write("timeout\n"):
            click.echo("timeout (watchdog)", err=True)
            sys.stderr.flush()
            os._exit(EXIT_OK)


def verification_limit(left: float) -> float:
    """Seconds for ``verify_vnnlib`` when ``left`` remain: its promised wall time stays within ``left``
    where it can (``limit * (1 + OVERSHOOT_SHARE) + OVERSHOOT_SECONDS``), and never below half of it."""
    return max(0.5 * left, (left - OVERSHOOT_SECONDS) / (1.0 + OVERSHOOT_SHARE), 0.01)


def run_instance(
    onnx: str,
    vnnlib: str,
    result_file: str,
    timeout: float,
    *,
    solver: str = "highs",
    bounds: str = "linear",
    started: float | None = None,
) -> str:
    """Decide one instance and write its result file (module docstring); returns the first word written."""
    t0 = time.monotonic() if started is None else started
    out = _Once(result_file)
    left = timeout - (time.monotonic() - t0)
    watchdog = threading.Timer(max(0.05, left - STARTUP_ALLOWANCE), out.expire)
    watchdog.daemon = True
    watchdog.start()
    alarm = threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer")
    if alarm:
        signal.signal(signal.SIGALRM, signal.SIG_DFL)  # the default action ends the process, even inside C code
        signal.setitimer(signal.ITIMER_REAL, max(0.1, left + HARD_GRACE))
    try:
        text = _decide(onnx, vnnlib, left, solver, bounds)
    except KeyboardInterrupt:  # no verdict: the placeholder "timeout" would read as one
        with out.lock:
            if not out.done:
                out.done = True
                Path(result_file).unlink(missing_ok=True)
        raise
    except Exception as exc:  # noqa: BLE001 - any failure is the competition's "error", never a crash
        msg = " ".join(str(exc).split()) or type(exc).__name__
        click.echo(f"error: {msg if isinstance(exc, MipnetError) else f'{type(exc).__name__}: {msg}'}", err=True)
        text = "error\n"
    finally:
        watchdog.cancel()
        if alarm:
            signal.setitimer(signal.ITIMER_REAL, 0.0)
    if not out.write(text):
        return "timeout"
    return text.split("\n", 1)[0]


def _decide(onnx: str, vnnlib: str, left: float, solver: str, bounds: str) -> str:
    t0 = time.monotonic()
    for path in (onnx, vnnlib):  # before the imports (seconds on a loaded machine): a missing file is an "error"
        if not Path(path).is_file():
            raise DataError(f"file not found: {path}")
    from ..verify.vnnlib_format import load_vnnlib

    load_vnnlib(vnnlib)  # a malformed property is an "error" before the solvers' imports (not a "timeout" under load)
    from ..io import load_model
    from ..io.onnx_io import onnx_outputs
    from ..verify.vnnlib import verify_vnnlib

    res = verify_vnnlib(onnx, vnnlib, time_limit=verification_limit(left), solver=solver, bounds=bounds)
    for w in res.warnings:
        click.echo(f"warning: {w}", err=True)
    if res.verdict != "violated" or res.x is None:
        if res.reason:
            click.echo(f"({res.reason})", err=True)
        return result_text(res.verdict, res.reason)
    x = np.asarray(res.x, dtype=np.float64).ravel()
    net = load_model(onnx)
    y = onnx_outputs(net, net.forward(x[None]))[0]  # Y: the graph's outputs at X, by the forward pass
    if res.y is not None and not np.allclose(y, np.ravel(res.y), rtol=1e-9, atol=1e-9):
        click.echo("the witness's outputs differ between two forward passes: not reported", err=True)
        return "unknown\n"
    checked = _runtime_witness(onnx, vnnlib, x, y)
    if checked is None:
        click.echo(
            "the witness is no violation when the model runs in onnxruntime on X cast to the model's input type "
            "(nor with its inputs moved one step of that type into the box), as the competition's checker runs "
            "it: not reported",
            err=True,
        )
        return "unknown\n"
    x, y = checked
    from ..verify.vnnlib_format import load_vnnlib, some_disjunct_holds

    prop = load_vnnlib(vnnlib)
    y_forward = onnx_outputs(net, net.forward(x[None]))[0]  # (the listed X may be one step inside the found one)
    if not all(some_disjunct_holds(prop.disjuncts, x, v) for v in (y, y_forward)):
        # (a final Softmax rounding two outputs to the same value: the verdict holds on the logits, the listing not)
        click.echo("the listed outputs do not satisfy the property (rounded outputs?): not reported", err=True)
        return "unknown\n"
    click.echo(f"counterexample found in {time.monotonic() - t0:.2f} s", err=True)
    return result_text("violated", x=x, y=y)


#: onnxruntime's input types whose witness is re-run as the competition's checker runs it
_RUNTIME_TYPES = {"tensor(float)": np.float32, "tensor(float16)": np.float16, "tensor(double)": np.float64}


def _runtime_witness(
    model_path: str, vnnlib: str, x: np.ndarray, y: np.ndarray
) -> tuple[np.ndarray, np.ndarray] | None:
    """The counterexample to list for a witness ``x`` (outputs ``y`` by the float64 forward pass), as VNN-COMP
    re-checks it: X cast to the ONNX graph's input type (float32, float16 or double) and run in onnxruntime, whose
    outputs must satisfy the property and must match the listed Y. Returns ``(x, onnxruntime's outputs)`` when they
    violate the property; else the cast X with each coordinate that rounded out of the property's box moved one step
    of that type inside (float32(0.8) = 0.800000012 left a box [0.2, 0.8]) when that is a violation; None when
    neither is (an X_0 of 0.100000013 rounds below the box's bound, and Y_0 = -1e-6 became +6.5e-4; a float16 model's
    Y_0 of 1.75e-4 is -9.5e-7 in onnxruntime). ``(x, y)`` unchanged where there is nothing to run it in: the model
    file is not ONNX (mipnet's own JSON), onnxruntime is not installed, or the input type is none of the three.
    The listed Y was the forward pass's before: a float32 model where float64 cancels differently listed 0.3 for
    onnxruntime's 0.3125, and the checker rejects a Y more than 1e-3 away."""
    if Path(model_path).suffix.lower() != ".onnx":
        return x, y
    try:
        import onnxruntime as ort
    except ImportError:
        return x, y
    from ..verify.vnnlib_format import load_vnnlib, some_disjunct_holds

    sess = ort.InferenceSession(Path(model_path).read_bytes(), providers=["CPUExecutionProvider"])
    inp = sess.get_inputs()[0]
    dtype = _RUNTIME_TYPES.get(inp.type)
    if dtype is None:
        return x, y
    shape = [d if isinstance(d, int) else 1 for d in inp.shape]
    prop = load_vnnlib(vnnlib)

    def outputs(xc: np.ndarray) -> np.ndarray:
        return np.asarray(sess.run(None, {inp.name: xc.reshape(shape)})[0], dtype=np.float64).ravel()

    def violates(xs: np.ndarray, ys: np.ndarray) -> bool:
        return some_disjunct_holds(prop.disjuncts, xs, ys)

    xc = np.asarray(x, dtype=dtype)
    if np.all(np.isfinite(xc)):
        yr = outputs(xc)
        if violates(x, yr) and violates(xc.astype(np.float64), yr):
            return x, yr
    for lo, hi, _ in prop.boxes():
        if not (np.all(x >= lo) and np.all(x <= hi)):
            continue
        inner = xc.copy()
        below, above = inner.astype(np.float64) < lo, inner.astype(np.float64) > hi
        inner[below] = np.nextafter(inner[below], dtype(np.inf))
        inner[above] = np.nextafter(inner[above], dtype(-np.inf))
        xs = inner.astype(np.float64)
        if (below.any() or above.any()) and np.all(xs >= lo) and np.all(xs <= hi) and np.all(np.isfinite(xs)):
            yr = outputs(inner)
            if violates(xs, yr):
                return xs, yr
    return None


# ----------------------------------------------------------------------------- instances.csv


@dataclass
class Instance:
    """One row of an instances.csv: paths resolved against the file's folder, the timeout in seconds."""

    onnx: Path
    vnnlib: Path
    timeout: float

    @property
    def name(self) -> str:
        return f"{self.onnx.stem}/{self.vnnlib.stem}"


def read_instances(path: str | os.PathLike[str]) -> list[Instance]:
    """The rows ``onnx,vnnlib,timeout`` of a competition instances file (no header; blank lines skipped)."""
    p = Path(path)
    if not p.is_file():
        raise DataError(f"file not found: {p}")
    rows = []
    try:
        text = p.read_text(encoding="utf-8-sig")  # a spreadsheet's byte-order mark is not part of the first path
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{p} is not a readable text file: {exc}") from None
    for k, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not row or not "".join(row).strip():
            continue
        if len(row) != 3:
            raise DataError(f"{p}, row {k}: expected onnx,vnnlib,timeout, got {len(row)} fields")
        try:
            t = float(row[2])
        except ValueError:
            raise DataError(f"{p}, row {k}: timeout {row[2].strip()!r} is not a number") from None
        if not (math.isfinite(t) and 0 < t <= MAX_TIMEOUT):
            raise DataError(
                f"{p}, row {k}: timeout must be a positive number <= {MAX_TIMEOUT:g} s, not {row[2].strip()}"
            )
        rows.append(Instance(p.parent / row[0].strip(), p.parent / row[1].strip(), t))
    if not rows:
        raise DataError(f"{p} lists no instances")
    return rows


def _run_process(cmd: list[str], limit: float) -> tuple[int | None, str]:
    """Run ``cmd`` in its own process group: its exit code (None if it outlived ``limit`` seconds and was
    ended) and the last line it wrote to stderr (why an instance is ``error``)."""
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    try:
        _, err = proc.communicate(timeout=limit)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # our own child's group only
        proc.communicate()
        return None, ""
    lines = err.decode(errors="replace").strip().splitlines() if err else []
    return proc.returncode, (lines[-1].strip() if lines else "")


def run_table(
    instances: Sequence[Instance],
    *,
    timeout_scale: float = 1.0,
    tool_script: str | None = None,
    category: str = "mipnet",
    solver: str = "highs",
    bounds: str = "linear",
    keep: str | os.PathLike[str] | None = None,
    echo: Any = None,
    rows: list[dict[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """Run each instance in a fresh process (``mipnet vnncomp run``, or ``tool_script`` with the competition's
    arguments ``v1 category onnx vnnlib result timeout`` after its folder's ``prepare_instance.sh``).

    One row per instance: instance, onnx, vnnlib, timeout, result (the result file's first word; ``error``
    for a non-zero exit or no file, ``timeout`` when the process outlived the timeout by 10 % + 5 s and was
    ended), seconds (wall time of the run), reason (for ``error``: the exit code and the last line the run wrote to
    stderr), and ``result_file`` (its text) for each instance. ``keep``: a
    folder where the result files stay (``<index>.txt``). ``rows``: the list the rows are appended to as each
    instance ends (the finished ones are there when Ctrl-C stops the table). A ``prepare_instance.sh`` that fails
    makes its row ``unknown`` without a run, as the competition scores it.
    """
    rows = [] if rows is None else rows
    longest = max((inst.timeout * timeout_scale for inst in instances), default=0.0)
    if not longest <= MAX_TIMEOUT:  # before any work: the alarm timer of a run cannot take it
        raise DataError(f"a timeout of {longest:g} s (row timeout x --timeout-scale) is over {MAX_TIMEOUT:g} s")
    with tempfile.TemporaryDirectory(prefix="mipnet-vnncomp-") as tmp:
        folder = Path(keep) if keep is not None else Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        for k, inst in enumerate(instances):
            t = inst.timeout * timeout_scale
            res = folder / f"{k:04d}.txt"
            res.unlink(missing_ok=True)
            failed = ""
            if tool_script is None:
                cmd = [
                    sys.executable,
                    "-m",
                    "mipnet.cli",
                    "vnncomp",
                    "run",
                    str(inst.onnx),
                    str(inst.vnnlib),
                    "--result-file",
                    str(res),
                    "--timeout",
                    f"{t:g}",
                    "--solver",
                    solver,
                    "--bounds",
                    bounds,
                ]
            else:
                prepare = Path(tool_script).with_name("prepare_instance.sh")
                if prepare.is_file():
                    pcode, plast = _run_process([str(prepare), "v1", category, str(inst.onnx), str(inst.vnnlib)], 60.0)
                    if pcode != 0:
                        failed = f"{prepare.name} " + (f"exit {pcode}: {plast}" if pcode is not None else "over 60 s")
                        click.echo(failed, err=True)
                cmd = [str(tool_script), "v1", category, str(inst.onnx), str(inst.vnnlib), str(res), f"{t:g}"]
            t0 = time.perf_counter()
            code: int | None = 0
            last = ""
            if not failed:  # (a failed prepare is the competition's "prepare_instance_error": unknown, no run)
                code, last = _run_process(cmd, t * (1 + OVERSHOOT_SHARE) + OVERSHOOT_SECONDS)
            seconds = time.perf_counter() - t0
            if failed:
                word, reason = "unknown", failed
            elif code is None:
                word, reason = "timeout", "ended after the timeout x 1.1 + 5 s"
            elif code == 0 or (tool_script is None and code == -signal.SIGALRM):  # the alarm: the file says timeout
                word, reason = read_result(res)[0], ""
            else:
                word, reason = "error", f"exit {code}"
            if word not in RESULTS:
                reason, word = f"the result file says {word[:40]!r}", "error"
            if word == "error" and last:  # the run's own account ("error: ... not found")
                reason = f"{reason}: {last}" if reason else last
            rows.append(
                {
                    "instance": inst.name,
                    "onnx": str(inst.onnx),
                    "vnnlib": str(inst.vnnlib),
                    "timeout": t,
                    "result": word,
                    "seconds": round(seconds, 3),
                    "reason": reason if word in ("error", "unknown") else "",
                    "result_file": res.read_text() if res.is_file() else "",
                }
            )
            if echo is not None:
                why = rows[-1]["reason"]
                echo(f"{inst.name:40s} {word:8s} {seconds:8.2f} s" + (f"  {why}" if why else ""))
    return rows


def table_csv(rows: Sequence[dict[str, Any]]) -> str:
    """The results table: instance, onnx, vnnlib, timeout, result, seconds, reason (why a row is ``error``, or
    ``unknown`` without a run)."""
    buf = io.StringIO()
    cols = ["instance", "onnx", "vnnlib", "timeout", "result", "seconds", "reason"]
    w = csv.DictWriter(buf, fieldnames=cols, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue()


# ----------------------------------------------------------------------------- commands


@click.group()
def vnncomp() -> None:
    """The VNN-COMP tool interface: run an instance, run an instances.csv."""


@vnncomp.command("run")
@click.argument("onnx")
@click.argument("vnnlib")
@click.option(
    "--result-file",
    required=True,
    callback=output_marked,
    help="Where the result goes (sat + counterexample, unsat, ...).",
)
@click.option("--timeout", type=TIMEOUT, required=True, help="Seconds for the whole instance (at most 1e7).")
@click.option("--solver", type=SOLVER, default="highs", show_default=True, help="highs, scip, gurobi, ...")
@click.option("--bounds", type=_BOUNDS, default="linear", show_default=True)
def run(onnx: str, vnnlib: str, result_file: str, timeout: float, solver: str, bounds: str) -> None:
    """Decide one instance and write the competition's result file (exit 0 once it is written).

    The file holds one of sat (then the counterexample ((X_0 v) ... (Y_0 v) ...)), unsat, timeout,
    unknown or error.
    """
    word = run_instance(onnx, vnnlib, result_file, timeout, solver=solver, bounds=bounds, started=_STARTED)
    click.echo(word)


@vnncomp.command("table")
@click.argument("instances")
@click.option(
    "--timeout-scale",
    type=FINITE_POSITIVE,
    default=1.0,
    show_default=True,
    help="Multiply every row's timeout by this.",
)
@click.option("-o", "--output", default="results.csv", show_default=True, help="The results table (CSV).")
@click.option("--tool-script", default=None, help="Run each instance through this run_instance.sh.")
@click.option("--category", default=None, help="Category passed to --tool-script (default: the csv's folder).")
@click.option("--solver", type=SOLVER, default="highs", show_default=True)
@click.option("--bounds", type=_BOUNDS, default="linear", show_default=True)
@click.pass_context
def table(
    ctx: click.Context,
    instances: str,
    timeout_scale: float,
    output: str,
    tool_script: str | None,
    category: str | None,
    solver: str,
    bounds: str,
) -> None:
    """Run every instance of INSTANCES.csv (onnx,vnnlib,timeout) and write a results table."""
    check_output_path(output, (), "results tables", param_hint="-o/--output")
    rows_in = read_instances(instances)
    if tool_script is not None and not os.access(tool_script, os.X_OK):
        raise MipnetError(f"{tool_script} is not an executable file")
    # before any work: the table may overwrite neither the instances file nor a row's network or property, and
    # its folder must take it (-o instances.csv replaced the instances, -o /proc/x.csv failed after every run)
    out = Path(output).resolve()
    if out in {Path(instances).resolve()} | {p.resolve() for r in rows_in for p in (r.onnx, r.vnnlib)}:
        raise DataError(f"-o {output} is one of the table's inputs: choose another results file")
    try:  # a file can be made beside it (os.access says yes for /proc)
        if out.is_dir():
            raise OSError("a directory")
        out.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=out.parent, prefix=".mipnet-probe-"):
            pass
    except OSError as exc:
        raise DataError(f"-o {output}: cannot write the results table there ({exc})") from None
    if tool_script is not None:  # ("./run_instance.sh" became the bare name prepare_instance.sh, looked up on PATH)
        tool_script = str(Path(tool_script).resolve())
    rows: list[dict[str, Any]] = []
    try:
        run_table(
            rows_in,
            timeout_scale=timeout_scale,
            tool_script=tool_script,
            solver=solver,
            bounds=bounds,
            category=category or Path(instances).resolve().parent.name,
            echo=click.echo,
            rows=rows,
        )
    except KeyboardInterrupt:  # the finished rows are kept: a table of them, and the count said
        if rows:
            atomic_write_text(output, table_csv(rows))
            click.echo(f"interrupted: the {len(rows)} finished rows of {len(rows_in)} -> {output}", err=True)
        raise
    atomic_write_text(output, table_csv(rows))
    counts = {w: sum(r["result"] == w for r in rows) for w in RESULTS}
    total = sum(r["seconds"] for r in rows)
    click.echo(", ".join(f"{n} {w}" for w, n in counts.items() if n) + f"; {total:.1f} s in all -> {output}")
    ctx.exit(EXIT_OK if counts["error"] == 0 else EXIT_INPUT_ERROR)


COMMANDS = [vnncomp]
