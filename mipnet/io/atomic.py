"""Atomic file output: write to a temporary file beside the target, then rename.

A failure half-way (an exception, a full disk, Ctrl-C) never leaves a half-written output file. The
file gets the usual permissions of a new file (0o666 minus the umask, e.g. 0644), not the 0600 of
``tempfile.mkstemp``; an existing file keeps its mode.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path
from typing import IO, Iterable, Iterator

from .. import interrupt
from ..errors import DataError


def _umask() -> int:
    try:  # Linux: read it without changing it (os.umask(0) would briefly affect other threads)
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _temp_prefix(name: str) -> str:
    """The temporary file's prefix: the target's name, cut so that the temporary name (prefix, 8 random
    characters, ".part") stays within a file system's 255 bytes whenever the target's own name does."""
    return f".{name[:60]}."


def _mode_for(path: Path) -> int:
    try:
        return stat.S_IMODE(os.stat(path).st_mode)  # replacing a file: keep its mode
    except OSError:
        return 0o666 & ~_umask()


def descriptor_of(path: Path) -> int | None:
    """The descriptor number a path names (``/dev/stdout``, ``/dev/stderr``, ``/dev/fd/N``, ``/proc/self/fd/N``), or
    None. Such a path led, through its links, to the file the shell had opened (``-o /dev/stdout >> log``); the
    temporary file renamed over it replaced the log's earlier lines."""
    text = os.path.normpath(str(path))
    named = {"/dev/stdin": 0, "/dev/stdout": 1, "/dev/stderr": 2}
    if text in named:
        return named[text]
    for prefix in ("/dev/fd/", "/proc/self/fd/"):
        if text.startswith(prefix) and text[len(prefix) :].isdigit():
            return int(text[len(prefix) :])
    return None


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike[str], mode: str = "w", encoding: str | None = "utf-8") -> Iterator[IO]:
    """Context manager yielding a file handle; the file appears at ``path`` only on success. A symbolic link is
    followed (its target is replaced, the link stays); a device or a named pipe at ``path`` (``/dev/null``, a FIFO)
    is written to directly, as any program writes to it (renaming over it replaced /dev/null by a regular file)."""
    path = Path(path)
    fd_number = descriptor_of(path)
    if fd_number is not None:  # /dev/stdout: the descriptor the shell opened (">> log" appends), never truncated
        try:
            with os.fdopen(os.dup(fd_number), mode, encoding=None if "b" in mode else encoding) as stream:
                yield stream
        except OSError as exc:
            raise DataError(f"cannot write {path}: {exc.strerror or exc}") from None
        return
    try:
        is_special = path.exists() and not path.is_file() and not path.is_dir()
    except OSError as exc:  # a name too long for the file system: one line, not "[Errno 36]"
        raise DataError(f"cannot write {path}: {exc.strerror or exc}") from None
    if is_special:
        try:
            with open(path, mode, encoding=None if "b" in mode else encoding) as special:
                yield special
        except OSError as exc:  # /dev/full: "no space left", one line
            raise DataError(f"cannot write {path}: {exc.strerror or exc}") from None
        return
    if path.is_symlink():  # a link to a file (or to a name to be made): replace the target, keep the link
        path = path.resolve()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=_temp_prefix(path.name), suffix=".part", dir=path.parent)
    except OSError as exc:  # a directory that takes no new files (/proc, a read-only mount): say which
        raise DataError(f"cannot write {path}: {exc.strerror or exc} in {path.parent}") from None
    interrupt.register_temp(tmp)
    try:
        with os.fdopen(fd, mode, encoding=None if "b" in mode else encoding) as fh:
            os.fchmod(fh.fileno(), _mode_for(path))
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.replace(tmp, path)
        except IsADirectoryError:  # name the path, not the temporary file (other OSErrors pass as they are)
            raise DataError(f"cannot write {path}: it is a directory") from None
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    finally:
        interrupt.unregister_temp(tmp)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    with atomic_write(path, "wb") as fh:
        fh.write(data)


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    with atomic_write(path, "w") as fh:
        fh.write(text)


def write_directory(
    out_dir: str | os.PathLike[str],
    files: dict[str, bytes],
    owned: tuple[str, ...] = (),
    inputs: Iterable[str | os.PathLike[str] | None] = (),
) -> None:
    """Write ``files`` (name -> content) into ``out_dir`` as one output: every file is first written in full to a
    temporary file beside its target, and only when all are written are they renamed into place, so an error or
    Ctrl-C part-way leaves the directory as it was (renames do not fail for want of space). Files of an earlier run
    that match a glob of ``owned`` (the command's own numbered outputs, e.g. ``region_*.png``) and are not part of
    this output are removed, so the directory never mixes two runs. A file to be replaced or removed that is one of
    the command's ``inputs`` (its model, its data) is a :class:`DataError` before anything is written."""
    d = Path(out_dir)
    if d.exists() and not d.is_dir():
        raise DataError(f"{d} exists and is not a directory")
    if d.is_dir():
        touched = [d / n for n in files] + [f for pattern in owned for f in d.glob(pattern) if f.name not in files]
        for src in (Path(i) for i in inputs if i):
            for f in touched:
                if src.is_file() and f.is_file() and os.path.samefile(src, f):
                    raise DataError(
                        f"{f} is also an input of this command ({src}): the output would replace it; write to "
                        "another directory"
                    )
    for name in files:
        if (d / name).is_dir():
            raise DataError(f"{d / name} is a directory: it cannot be replaced by the output file {name}")
    made = not d.exists()
    d.mkdir(parents=True, exist_ok=True)
    parts: list[tuple[str, Path]] = []
    try:
        for name, data in files.items():
            fd, tmp = tempfile.mkstemp(prefix=_temp_prefix(name), suffix=".part", dir=d)
            interrupt.register_temp(tmp)
            parts.append((tmp, d / name))
            with os.fdopen(fd, "wb") as fh:
                os.fchmod(fh.fileno(), _mode_for(d / name))
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
    except BaseException:
        for tmp, _ in parts:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            interrupt.unregister_temp(tmp)
        if made:
            with contextlib.suppress(OSError):
                d.rmdir()
        raise
    for pattern in owned:
        for old in d.glob(pattern):
            if old.name not in files and old.is_file():
                old.unlink(missing_ok=True)
    for tmp, target in parts:
        os.replace(tmp, target)
        interrupt.unregister_temp(tmp)


@contextlib.contextmanager
def restored_on_failure(directory: str | os.PathLike[str], names: Iterable[str]) -> Iterator[None]:
    """The files ``names`` of a directory, written one by one as one output: when the block stops on an error (or
    Ctrl-C), those it added are removed (and the directory, if the block made it and it is empty) and those it
    overwrote get their earlier contents back, so an audit stopped part-way leaves neither half a set of
    certificates nor a report beside certificates of another run. Other files of the directory are never touched
    (a file another program wrote there during the run was deleted). (Small outputs: their contents are held.)"""
    d = Path(directory)
    existed = d.exists()
    mine = [d / n for n in names]
    before = {f: f.read_bytes() for f in mine if f.is_file()}
    try:
        yield
    except BaseException:
        if d.exists():
            for f in mine:
                if f.is_file() and f not in before:
                    f.unlink(missing_ok=True)
            for f, data in before.items():
                if not f.exists() or f.read_bytes() != data:
                    atomic_write_bytes(f, data)
            if not existed and not any(d.iterdir()):
                d.rmdir()
        raise
