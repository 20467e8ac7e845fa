"""Outputs at special paths: renaming a temporary file over them replaced /dev/null, a FIFO and a symbolic link by a
regular file (``mipnet datasets heart -o /dev/null`` broke the machine's /dev/null). Tested on a FIFO, not on
/dev/null itself: a regression would break the test machine."""

from __future__ import annotations

import os
import stat
import threading

from mipnet.io.atomic import atomic_write_text


def test_a_fifo_is_written_through(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[str] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_text()))
    reader.start()
    atomic_write_text(fifo, "hello\n")
    reader.join(10)
    assert got == ["hello\n"] and stat.S_ISFIFO(os.stat(fifo).st_mode)


def test_a_symlink_keeps_pointing_at_its_replaced_target(tmp_path):
    (tmp_path / "real.csv").write_text("old\n")
    (tmp_path / "link.csv").symlink_to("real.csv")
    atomic_write_text(tmp_path / "link.csv", "new\n")
    assert (tmp_path / "link.csv").is_symlink() and (tmp_path / "real.csv").read_text() == "new\n"


def test_a_name_too_long_for_the_file_system_is_one_line_before_any_work(tmp_path):
    """``-o`` with a 300-byte file name was "[Errno 36] File name too long" from deep inside; a 250-byte name (legal)
    failed because the temporary file beside it added 14 bytes."""
    import pytest
    from click.testing import CliRunner

    from mipnet.cli import cli as main
    from mipnet.errors import DataError

    runner = CliRunner()
    for args in (
        ["datasets", "heart", "-o", str(tmp_path / ("a" * 300 + ".csv"))],
        ["vnncomp", "table", str(tmp_path / "none.csv"), "-o", str(tmp_path / ("a" * 300 + ".csv"))],
        ["vnncomp", "run", "x.onnx", "y.vnnlib", "--timeout", "5", "--result-file", "b" * 300],
    ):
        res = runner.invoke(main, args)
        assert res.exit_code == 2 and "bytes; file systems take 255)" in res.output, args
        assert "Errno" not in res.output and list(tmp_path.iterdir()) == []
    legal = tmp_path / ("c" * 250 + ".csv")
    atomic_write_text(legal, "ok\n")
    assert legal.read_text() == "ok\n" and [p.name for p in tmp_path.iterdir()] == [legal.name]
    with pytest.raises(DataError, match="File name too long"):
        atomic_write_text(tmp_path / ("d" * 300), "x")


def test_a_directory_that_takes_no_files_is_refused_before_any_work() -> None:
    """-o /sys/x passed the option check as root (os.access says yes), ran the whole job, then failed with
    "[Errno 1] Operation not permitted"."""
    from click.testing import CliRunner

    from mipnet.cli import cli

    res = CliRunner().invoke(cli, ["datasets", "heart", "-o", "/sys/mipnet_out.csv"])
    assert res.exit_code == 2 and "cannot write to /sys" in res.output and "wrote" not in res.output, res.output


def test_dev_stdout_appended_to_a_log_keeps_the_log(tmp_path):
    """``mipnet predict ... -o /dev/stdout >> log``: /dev/stdout led through its links to the log itself, and the
    temporary file renamed over it removed the log's earlier lines. The descriptor is written to as it is."""
    import subprocess
    import sys

    log = tmp_path / "log.txt"
    log.write_text("earlier line\n")
    code = "import sys; from mipnet.io.atomic import atomic_write_text; atomic_write_text(sys.argv[1], 'new\\n')"
    with open(log, "a") as fh:
        subprocess.run([sys.executable, "-c", code, "/dev/stdout"], stdout=fh, check=True, timeout=120)
    assert log.read_text() == "earlier line\nnew\n"
