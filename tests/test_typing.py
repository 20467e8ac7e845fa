"""The type annotations are checked: mypy (configured in pyproject.toml, ``[tool.mypy]``) reports no error."""

from pathlib import Path

import pytest

mypy_api = pytest.importorskip("mypy.api")

ROOT = Path(__file__).resolve().parents[1]


def test_mypy_passes(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)  # mypy reads pyproject.toml and the `files` it lists from the working directory
    stdout, stderr, status = mypy_api.run(["--cache-dir", str(tmp_path / "mypy_cache")])
    assert status == 0, f"mypy found errors:\n{stdout}{stderr}"
    assert "Success" in stdout
