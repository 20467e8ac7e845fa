"""Progress bars (mipnet.progress): only on a terminal's stderr, never under tests, never on stdout."""

from __future__ import annotations

import io
import os
import subprocess
import sys

from mipnet.progress import Progress, enabled, progress


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_no_bar_when_stderr_is_not_a_terminal(monkeypatch, capsys):
    monkeypatch.delenv("PYTEST_CURRENT_TEST", raising=False)
    monkeypatch.delenv("MIPNET_PROGRESS", raising=False)
    stream = io.StringIO()  # isatty() is False
    assert not enabled(stream)
    with progress(5, "work", stream=stream) as bar:
        for _ in range(5):
            bar.update()
        assert not bar.shown
    assert stream.getvalue() == ""
    out = capsys.readouterr()
    assert out.out == "" and out.err == ""


def test_a_bar_is_drawn_on_a_terminal_and_only_there(monkeypatch, capsys):
    monkeypatch.delenv("PYTEST_CURRENT_TEST", raising=False)
    monkeypatch.delenv("MIPNET_PROGRESS", raising=False)
    tty = _Tty()
    with Progress(3, "cross-validation", unit="split", stream=tty) as bar:
        assert bar.shown
        cb = bar.callback()
        cb(2, 3)
        cb(3, 3)
        assert bar.done == 3
    assert "cross-validation" in tty.getvalue() and "/3" in tty.getvalue()  # drawn (then cleared: leave=False)
    assert capsys.readouterr().out == ""  # never on stdout
    monkeypatch.setenv("MIPNET_PROGRESS", "0")
    assert not enabled(tty)


def test_tests_never_see_a_bar():
    assert "PYTEST_CURRENT_TEST" in os.environ
    assert not enabled(_Tty())


_CHILD = """
import numpy as np
from mipnet.train.penalty_cv import select_l1
from mipnet.report.audit import run_audit
from helpers import random_dense_net
rng = np.random.default_rng(0)
X = rng.normal(size=(40, 3)); y = np.where(X[:, 0] + 0.3 * rng.normal(size=40) > 0, 1.0, -1.0)
select_l1(X, y, 2, grid=(0.01, 0.1), folds=2, repeats=1)
net = random_dense_net(np.random.default_rng(3), [4, 5, 3, 1])
run_audit(net, np.random.default_rng(1).uniform(-1, 1, (6, 4)), eps=0.05, rows=2, time_limit=5)
print("done")
"""


def test_cross_validation_and_audit_print_nothing_on_a_piped_stderr():
    env = {k: v for k, v in os.environ.items() if k not in ("PYTEST_CURRENT_TEST", "MIPNET_PROGRESS")}
    env["PYTHONPATH"] = os.pathsep.join([os.path.dirname(__file__), env.get("PYTHONPATH", "")])
    env["MPLBACKEND"] = "Agg"
    r = subprocess.run([sys.executable, "-c", _CHILD], capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.strip() == "done"
    assert "|" not in r.stderr and "it/s" not in r.stderr and "split" not in r.stderr, r.stderr[-2000:]
