"""Ctrl-C and a closed output pipe: a clean stop.

Ctrl-C (SIGINT) at any moment of a command - model building, the warm start's LPs, the MILP, a
verification - stops it within a few seconds with exit 130, "interrupted" as the last line on stderr,
no traceback and no output file (before: a segfault during the warm-start LPs, exit 1 "Aborted!", or
the interrupt swallowed by the solver and the model written with exit 0). ``mipnet info | head``
ends quietly (exit 141, nothing on stderr; before: "error: [Errno 32] Broken pipe", exit 2).

The commands run as subprocesses; the signal is sent when the command's own output (or the solver
library being loaded) shows it has reached the stage.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from helpers import random_dense_net

from mipnet.domain import Domain
from mipnet.io import save_model
from mipnet.network import Network

MAIN = "from mipnet.cli import main; main()"
#: seconds from the signal to the end of the process
STOP_WITHIN = 3.0


def _default_sigint() -> None:  # a test runner started in the background may ignore SIGINT: children must not
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class Command:
    """A ``mipnet`` subprocess whose stdout and stderr lines are collected as they come."""

    def __init__(self, argv: list[str], cwd: Path) -> None:
        self.p = subprocess.Popen(
            [sys.executable, "-c", MAIN, *argv],
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            preexec_fn=_default_sigint,
        )
        self.out: list[str] = []
        self.err: list[str] = []
        self._threads = [
            threading.Thread(target=self._read, args=(s, b), daemon=True)
            for s, b in ((self.p.stdout, self.out), (self.p.stderr, self.err))
        ]
        for t in self._threads:
            t.start()

    @staticmethod
    def _read(stream, buf: list[str]) -> None:
        for line in stream:
            buf.append(line.rstrip("\n"))

    def wait_for(self, ready, timeout: float = 240.0) -> None:
        t0 = time.monotonic()
        while not ready(self):
            if self.p.poll() is not None:
                pytest.fail(f"the command ended (exit {self.p.returncode}) before the stage: {self.out} {self.err}")
            if time.monotonic() - t0 > timeout:
                self.p.kill()
                pytest.fail(f"the stage was not reached within {timeout} s: {self.out}")
            time.sleep(0.02)

    def interrupt(self) -> float:
        """Send SIGINT; seconds until the process has ended."""
        t0 = time.monotonic()
        self.p.send_signal(signal.SIGINT)
        try:
            self.p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
            pytest.fail("the command did not stop within 30 s of Ctrl-C")
        elapsed = time.monotonic() - t0
        for t in self._threads:
            t.join(timeout=5)
        return elapsed

    def loaded(self, library: str) -> bool:
        """Whether the process has mapped a shared library whose path contains ``library``."""
        try:
            return library in Path(f"/proc/{self.p.pid}/maps").read_text()
        except OSError:
            return False


def assert_clean_stop(cmd: Command, elapsed: float, workdir: Path, output: Path | None) -> None:
    text = "\n".join(cmd.out + cmd.err)
    assert cmd.p.returncode == 130, (cmd.p.returncode, text)
    assert cmd.err and cmd.err[-1] == "interrupted", cmd.err
    assert cmd.err.count("interrupted") == 1, cmd.err
    assert "Traceback" not in text and "Aborted" not in text, text
    assert not any(line.startswith("error") for line in cmd.err), cmd.err
    if output is not None:
        assert not output.exists(), "the interrupted command wrote its output"
    assert not list(workdir.glob("**/*.part")), "a temporary file was left behind"
    assert elapsed < STOP_WITHIN, f"stopped {elapsed:.2f} s after Ctrl-C"


@pytest.fixture(scope="module")
def train_csv(tmp_path_factory) -> Path:
    from mipnet.datasets import load

    path = tmp_path_factory.mktemp("interrupt") / "bc.csv"
    load("breast_cancer").numeric_frame().to_csv(path, index=False)
    return path


TRAIN = ["--samples", "100", "--time-limit", "120"]


@pytest.mark.parametrize(
    "stage, marker, delay",
    [
        ("model building", "training on", 0.1),
        ("warm start (gradient surrogate and LP heuristic)", "formulation:", 0.8),
        ("MILP", "warm start:", 1.0),
    ],
)
def test_ctrl_c_during_train(stage, marker, delay, train_csv, tmp_path):
    target = "diagnosis"
    out = tmp_path / "m.json"
    cmd = Command(["train", str(train_csv), "--target", target, *TRAIN, "-o", str(out)], tmp_path)
    cmd.wait_for(lambda c: any(line.startswith(marker) for line in c.out))
    time.sleep(delay)
    assert cmd.p.poll() is None, f"the command ended before Ctrl-C: {cmd.out}"
    elapsed = cmd.interrupt()
    assert_clean_stop(cmd, elapsed, tmp_path, out)


def test_ctrl_c_during_verification(tmp_path):
    """An audit (robustness and global monotonicity problems, serial) stopped while it solves: no report."""
    rng = np.random.default_rng(7)
    net = random_dense_net(rng, [8, 40, 40, 2])
    names = [f"f{i}" for i in range(8)]
    net = Network(net.layers, domain=Domain.box(names, -1.0, 1.0))
    save_model(net, tmp_path / "net.json")
    import pandas as pd

    pd.DataFrame(rng.uniform(-1, 1, (300, 8)), columns=names).to_csv(tmp_path / "rows.csv", index=False)
    report = tmp_path / "r.html"
    cmd = Command(
        [
            "audit",
            "net.json",
            "rows.csv",
            "--monotone-increasing",
            "f0,f1,f2",
            "--eps",
            "0.2",
            "--rows",
            "20",
            "--workers",
            "0",
            "--time-limit",
            "60",
            "-o",
            str(report),
        ],
        tmp_path,
    )
    cmd.wait_for(lambda c: any("problems done" in line for line in c.err))
    time.sleep(0.3)
    assert cmd.p.poll() is None
    elapsed = cmd.interrupt()
    assert_clean_stop(cmd, elapsed, tmp_path, report)
    assert not any(line.startswith(("Robustness", "Monotonicity")) for line in cmd.out), cmd.out


def test_ctrl_c_inside_a_highs_solve_is_no_result():
    """SIGINT arriving while HiGHS runs (here: from its own simplex callback, as a real Ctrl-C would land)
    stops the solve and raises KeyboardInterrupt (mipnet.interrupt.Interrupted) from solve(): no crash, no
    "error"/"unknown" status that a caller could take for a result. Library use: no handler installed."""
    script = textwrap.dedent("""
        import os, signal
        import highspy, numpy as np, pyomo.environ as pyo
        from mipnet.solve import solve

        rng = np.random.default_rng(0)
        n, m = 150, 120
        A, b, c = rng.normal(size=(m, n)), rng.uniform(1, 2, size=m), rng.normal(size=n)
        M = pyo.ConcreteModel()
        M.x = pyo.Var(range(n), bounds=(0, 10))
        M.c = pyo.Constraint(range(m), rule=lambda M, i: sum(A[i, j] * M.x[j] for j in range(n)) <= b[i])
        M.o = pyo.Objective(expr=sum(c[j] * M.x[j] for j in range(n)))
        run = highspy.Highs.run

        def run_with_ctrl_c(self):
            calls = [0]
            def cb(e):
                calls[0] += 1
                if calls[0] == 3:
                    os.kill(os.getpid(), signal.SIGINT)
            self.cbSimplexInterrupt.subscribe(cb)
            try:
                return run(self)
            finally:
                self.cbSimplexInterrupt.unsubscribe(cb)

        highspy.Highs.run = run_with_ctrl_c
        try:
            r = solve(M, "highs", options={"presolve": "off"})
            print("RESULT", r.status, r.termination)
        except KeyboardInterrupt as exc:
            print("INTERRUPTED", type(exc).__name__)
        highspy.Highs.run = run
        r = solve(M, "highs", options={"presolve": "off"})  # the next solve is not affected
        print("AFTER", r.status)
    """)
    p = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, preexec_fn=_default_sigint
    )
    assert p.returncode == 0, (p.returncode, p.stdout, p.stderr[-2000:])
    assert "INTERRUPTED Interrupted" in p.stdout, p.stdout
    assert "AFTER optimal" in p.stdout, p.stdout


def test_closed_output_pipe_ends_quietly(tmp_path):
    net = random_dense_net(np.random.default_rng(3), [4, 5, 1])
    save_model(net, tmp_path / "m.json")
    p = subprocess.Popen(
        [sys.executable, "-c", MAIN, "info", "m.json"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=_default_sigint,
    )
    p.stdout.close()  # the reader is gone before the first line (as `| head` after its lines)
    _, err = p.communicate(timeout=120)
    assert p.returncode == 141, (p.returncode, err)
    assert err.decode() == "", err.decode()


@pytest.mark.parametrize("sigint_ignored", [False, True])
def test_ctrl_c_where_python_cannot_raise_prints_no_traceback(sigint_ignored: bool) -> None:
    """Ctrl-C landing in a weakref callback (as inside an import's module lock): the Interrupted raised there cannot
    propagate, and Python would print "Exception ignored in ..." with a traceback. The flag stays set, so the next
    safe point raises it. Also in a process started with SIGINT ignored (a background job of a script)."""
    code = textwrap.dedent(
        """
        import weakref
        from mipnet import interrupt
        interrupt.install()

        class Thing:
            pass

        def callback(ref):
            interrupt._flag.set()
            raise interrupt.Interrupted()

        thing = Thing()
        ref = weakref.ref(thing, callback)
        del thing  # the callback runs here; its exception is unraisable
        print("went on")
        try:
            interrupt.check()
        except interrupt.Interrupted:
            print("raised at the safe point")

        def other(ref):
            raise ValueError("a real bug")

        thing = Thing()
        ref2 = weakref.ref(thing, other)
        del thing
        """
    )
    ignore = (lambda: signal.signal(signal.SIGINT, signal.SIG_IGN)) if sigint_ignored else None
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, preexec_fn=ignore)
    assert p.stdout.split() == ["went", "on", "raised", "at", "the", "safe", "point"], p.stdout
    assert "Interrupted" not in p.stderr, p.stderr
    assert "ValueError: a real bug" in p.stderr  # other unraisable exceptions are still reported


def test_ctrl_c_wrapped_by_a_class_definition_is_still_an_interrupt():
    """Ctrl-C landing in a class body of a module being imported arrives as RuntimeError("Error calling
    __set_name__ ...") from KeyboardInterrupt: the command exits 130 with the one line, not a traceback."""
    import click
    from click.testing import CliRunner

    from mipnet.cli import _Group

    class Hit:
        def __set_name__(self, owner, name):
            raise KeyboardInterrupt

    @click.group(cls=_Group)
    def group() -> None:
        pass

    @group.command("define")
    def define() -> None:
        class Lazy:  # noqa: F841
            cat = Hit()

    res = CliRunner().invoke(group, ["define"])
    assert res.exit_code == 130, (res.exit_code, res.output, res.exception)


def test_a_finished_command_ignores_ctrl_c_during_the_interpreter_teardown(tmp_path):
    """A Ctrl-C between the last line and the exit (0.5-1.7 s of teardown) killed the process by the signal and lost
    the verdict's exit code: once the command is done, SIGINT is ignored (an ignored signal stays so through the
    teardown)."""
    net = random_dense_net(np.random.default_rng(0), [2, 3, 2])
    save_model(net, tmp_path / "net.json")
    code = textwrap.dedent(
        f"""
        import signal, sys
        from mipnet.cli import main
        sys.argv = ["mipnet", "info", {str(tmp_path / "net.json")!r}]
        try:
            main()  # as the script calls it
        except SystemExit as exc:
            print("IGNORED" if signal.getsignal(signal.SIGINT) is signal.SIG_IGN else "HANDLED", exc.code)
        try:
            main(["--version"])  # a host's own call: its Ctrl-C handling is left alone
        except SystemExit:
            pass
        signal.signal(signal.SIGINT, signal.default_int_handler)
        try:
            main(["--version"])
        except SystemExit:
            print("KEPT" if signal.getsignal(signal.SIGINT) is signal.default_int_handler else "CHANGED")
        """
    )
    p = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, preexec_fn=_default_sigint
    )
    lines = p.stdout.strip().splitlines()
    assert "IGNORED 0" in lines and lines[-1] == "KEPT", (p.stdout, p.stderr)


def test_the_command_s_interrupt_silences_pyomo_s_error_log(monkeypatch, caplog) -> None:
    """Ctrl-C while Pyomo built a variable printed its own "ERROR (E2001): Binary is not a valid domain" (the
    exception it was handling was the interrupt) before "interrupted". The command's handler now mutes Pyomo's
    logger as it raises; a library caller's handler (not installed) leaves it alone."""
    import logging
    import signal

    import mipnet.interrupt as it

    log = logging.getLogger("pyomo")
    level = log.level
    monkeypatch.setattr(it, "_installed", False)
    monkeypatch.setattr(it, "_main_depth", 0)
    try:
        with pytest.raises(KeyboardInterrupt):
            it._handler(signal.SIGINT, None)
        assert logging.getLogger("pyomo.core").isEnabledFor(logging.ERROR)
        monkeypatch.setattr(it, "_installed", True)
        with pytest.raises(KeyboardInterrupt):
            it._handler(signal.SIGINT, None)
        with caplog.at_level(logging.ERROR, logger="root"):
            logging.getLogger("pyomo.core").error("Binary is not a valid domain")
        assert "valid domain" not in caplog.text
    finally:
        log.setLevel(level)  # (setLevel also clears the loggers' cached levels)
        it.clear()
