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
