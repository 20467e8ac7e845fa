"""The type annotations are checked: mypy (configured in pyproject.toml, ``[tool.mypy]``) reports no error. The run
starts in a process of its own when this test is collected (``conftest.py``), beside the tests before it."""

import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("mypy.api")

ROOT = Path(__file__).resolve().parents[1]


def test_mypy_passes(request, tmp_path):
    from conftest import MYPY_KEY

    proc = request.config.stash.get(MYPY_KEY, None)
    if proc is None:  # (collected some other way): run it here
        proc = subprocess.Popen(
            [sys.executable, "-m", "mypy", "--cache-dir", str(tmp_path / "mypy_cache")],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
    assert isinstance(proc, subprocess.Popen)
    out, _ = proc.communicate(timeout=1800)
    assert proc.returncode == 0, f"mypy found errors:\n{out}"
    assert "Success" in out
