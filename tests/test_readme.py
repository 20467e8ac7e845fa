"""Every example in README.md is run here, so README cannot drift from what mipnet does.

The shell session (the ``bash`` block that starts with ``mipnet``) runs line by line in a fresh
directory; a line's trailing comment "N hold, M violated" is checked against the command's output.
The Python blocks run in order in one namespace, also in a fresh directory. The two install commands
at the top are what CI runs (``.ci/run`` calls the test command verbatim), so they are not run here.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"


def _blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", README.read_text(), flags=re.S)


def _session_lines() -> list[str]:
    sessions = [b for b in _blocks("bash") if b.lstrip().startswith("mipnet ")]
    assert sessions, "README.md has no mipnet shell session"
    return [ln for b in sessions for ln in b.splitlines() if ln.strip()]


def _mipnet() -> list[str]:
    exe = shutil.which("mipnet")
    return [exe] if exe else [sys.executable, "-m", "mipnet.cli"]


def test_readme_documents_a_session_and_python_examples():
    assert len(_session_lines()) >= 5
    assert len(_blocks("python")) >= 2


def test_readme_shell_session_runs(tmp_path: Path):
    env = dict(os.environ, MPLBACKEND="Agg")
    for line in _session_lines():
        command, _, comment = line.partition("#")
        argv = shlex.split(command)
        assert argv[0] == "mipnet", line
        proc = subprocess.run(_mipnet() + argv[1:], cwd=tmp_path, capture_output=True, text=True, env=env, timeout=600)
        checks = argv[1] in ("verify", "audit")
        # verify and audit exit 1 when some row is violated, as README documents; every other step must succeed
        assert proc.returncode in ((0, 1) if checks else (0,)), (line, proc.stdout[-2000:], proc.stderr[-2000:])
        claim = re.search(r"(\d+) hold, (\d+) violated", comment)
        if claim:
            assert claim.group(0) in proc.stdout, (line, proc.stdout[-500:])
        for out in re.findall(r"-o (\S+)", command):
            assert (tmp_path / out).exists(), f"{line}: {out} not written"


def test_readme_python_examples_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "readme"}
    for block in _blocks("python"):
        exec(compile(block, str(README), "exec"), namespace)  # noqa: S102 - README's own examples
    clf = namespace["clf"]
    # README's comment: the fit is proved optimal ("no better net of this class exists")
    assert clf.certificate_.status == "optimal" and clf.certificate_.gap < 1e-6
    assert (tmp_path / "toy.json").exists() and (tmp_path / "toy.onnx").exists()
