"""The code is kept in one style: ruff's lint rules and ruff's formatter (configured in pyproject.toml)."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PATHS = ["."]  # the whole repository (ruff skips .venv and build directories by default)


def _ruff(*args: str) -> subprocess.CompletedProcess:
    exe = shutil.which("ruff") or (Path(sys.executable).parent / "ruff")
    if not Path(exe).exists():
        pytest.skip("ruff is not installed (pip install -e '.[test]')")
    return subprocess.run([str(exe), *args, *PATHS], cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_ruff_lint_passes():
    r = _ruff("check")
    assert r.returncode == 0, r.stdout + r.stderr


def test_ruff_format_check_passes():
    r = _ruff("format", "--check")
    assert r.returncode == 0, "files not in ruff format (run `ruff format`):\n" + r.stdout + r.stderr
