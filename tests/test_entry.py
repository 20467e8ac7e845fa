"""The ``mipnet`` script handles Ctrl-C from its first instant, also while the command line imports."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest


@pytest.mark.parametrize("delay", [0.5, 1.0, 2.5])
def test_ctrl_c_at_start_up_is_one_line_and_exit_130(tmp_path: Path, delay: float):
    data = tmp_path / "d.csv"
    rows = ["a,b,y"] + [f"{i % 7},{(i * 3) % 5},{i % 2}" for i in range(200)]
    data.write_text("\n".join(rows) + "\n")
    out = tmp_path / "m.json"
    # the script's own code path (mipnet.entry:main), with Ctrl-C's default action as in a terminal
    code = (
        "import sys; from mipnet.entry import main; "
        f"sys.argv = ['mipnet', 'train', {str(data)!r}, '--target', 'y', '--time-limit', '60', "
        f"'-o', {str(out)!r}]; "
        "main()"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    time.sleep(delay)
    t0 = time.monotonic()
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert err.strip().splitlines()[-1] == "interrupted"
    assert time.monotonic() - t0 < 5
    assert not out.exists()
