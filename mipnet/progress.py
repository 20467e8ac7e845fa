"""Progress bars for long work (tqdm), on stderr, only for a person watching a terminal.

A bar is shown when all of these hold:

* the stream it would write to (stderr by default) is a terminal (``isatty()``): piped or redirected stderr,
  a log file, a CI job or a notebook capture get nothing;
* no test is running (pytest sets ``PYTEST_CURRENT_TEST``);
* ``MIPNET_PROGRESS`` is not ``0`` (``MIPNET_PROGRESS=1`` forces the bar on a non-terminal stream, for demos).

Nothing is ever written to stdout: the commands print their results (JSON, verdict lines) there.
``tqdm`` is imported only when a bar is actually shown, so importing this module costs nothing at start-up.

Use::

    with progress(total=len(tasks), desc="robustness rows") as bar:
        for t in tasks:
            ...
            bar.update()

or, for an API that reports ``(done, total)`` (:func:`mipnet.distributed.run_many`), :meth:`Progress.callback`.
"""

from __future__ import annotations

import importlib
import os
import sys
from types import TracebackType
from typing import IO, Any, Callable

#: environment variable: "0" never shows a bar, "1" shows it even when the stream is not a terminal
ENV = "MIPNET_PROGRESS"


def enabled(stream: IO[str] | None = None) -> bool:
    """Whether a bar would be shown on ``stream`` (default: the current ``sys.stderr``); module docstring."""
    flag = os.environ.get(ENV, "").strip()
    if flag == "0" or "PYTEST_CURRENT_TEST" in os.environ:
        return False
    if flag == "1":
        return True
    s = sys.stderr if stream is None else stream
    isatty = getattr(s, "isatty", None)
    try:
        return bool(isatty()) if callable(isatty) else False
    except (ValueError, OSError):  # a closed stream
        return False


class Progress:
    """One bar of ``total`` steps (a no-op object when :func:`enabled` is false). A context manager."""

    def __init__(
        self,
        total: int,
        desc: str = "",
        *,
        unit: str = "problem",
        stream: IO[str] | None = None,
        show: bool | None = None,
    ) -> None:
        self.total = int(total)
        self.done = 0
        self.stream = sys.stderr if stream is None else stream
        on = enabled(self.stream) if show is None else bool(show)
        self._bar: Any = None
        if on and self.total > 0:
            tqdm = importlib.import_module("tqdm").tqdm
            self._bar = tqdm(
                total=self.total,
                desc=desc,
                unit=unit,
                file=self.stream,
                leave=False,
                dynamic_ncols=True,
                mininterval=0.5,
            )

    @property
    def shown(self) -> bool:
        """True when a bar is drawn (False: every method does nothing)."""
        return self._bar is not None

    def update(self, n: int = 1) -> None:
        self.done += n
        if self._bar is not None:
            self._bar.update(n)

    def set(self, done: int) -> None:
        """Move the bar to ``done`` steps (for callers that report a count, not increments)."""
        if done > self.done:
            self.update(done - self.done)

    def callback(self) -> Callable[[int, int], None]:
        """A ``(done, total)`` callback (the form :func:`mipnet.distributed.run_many` reports progress in)."""
        return lambda done, total: self.set(done)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def progress(total: int, desc: str = "", *, unit: str = "problem", stream: IO[str] | None = None) -> Progress:
    """A :class:`Progress` bar on stderr (or ``stream``) when :func:`enabled`, else a silent stand-in."""
    return Progress(total, desc, unit=unit, stream=stream)


__all__ = ["ENV", "Progress", "enabled", "progress"]
