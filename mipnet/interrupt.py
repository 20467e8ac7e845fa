"""Ctrl-C (SIGINT): a clean stop at the next safe point.

Python's default SIGINT handler raises ``KeyboardInterrupt`` wherever the main thread happens to be,
also inside a HiGHS callback called from C++: that crashed the process (a segfault in the simplex) or
ended the solve with an "error" status that callers then took for a result. mipnet instead:

* :func:`install` (the CLI calls it first) replaces the handler by one that sets a process-wide flag;
* outside native solver code the handler raises :class:`Interrupted` at once (unwinding Python code
  is safe; atomic writes leave no partial file);
* inside native solver code (a :func:`native` section) it only sets the flag: the section's HiGHS
  interrupt callbacks (simplex, IPM, MIP) see it and ask HiGHS to stop (``data_in.user_interrupt``);
  SCIP and Gurobi catch SIGINT themselves and return "interrupted"; on leaving the section
  :class:`Interrupted` is raised, so an interrupted solve is never taken for a result;
* some native code never calls back (HiGHS presolve took 8 s on a training MILP): a watcher thread
  learns of the signal at once (``signal.set_wakeup_fd``) and, if the main thread is still inside
  native code after :data:`GRACE` seconds (or the process still runs :data:`DEADLINE` seconds after the
  signal), ends the process itself: worker processes killed, temporary files of unfinished atomic
  writes removed, "interrupted" on stderr, exit 130. A second Ctrl-C during native code does the same
  at once.

Library use without :func:`install`: a :func:`native` section of the main thread swaps Python's default
handler for the flag handler while it runs, so Ctrl-C never raises inside C++ either.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import threading
import time
from typing import Any, Callable, Iterator, Sequence, TypeVar

T = TypeVar("T")
R = TypeVar("R")

#: exit status of a command stopped by Ctrl-C (128 + SIGINT, as shells report it)
EXIT_INTERRUPTED = 130
#: seconds native code gets to return after Ctrl-C before the process ends itself
GRACE = 1.0
#: seconds after Ctrl-C after which the process ends itself whatever it is doing
DEADLINE = 2.5


class Interrupted(KeyboardInterrupt):
    """Raised at a safe point after Ctrl-C; the CLI prints "interrupted" and exits 130."""


_flag = threading.Event()
_hook_installed = False  # the quiet unraisable hook (:func:`_quiet_unraisable`) is in place
_installed = False
_hits = 0  # SIGINTs seen by the handler
_main_depth = 0  # native sections open in the main thread (where Python runs signal handlers)
_console_fd: int | None = None
_executors: set[Any] = set()  # process pools of :func:`process_map` still running
_temp_files: set[str] = set()  # temporary files of atomic writes in progress
_announced = threading.Event()


def requested() -> bool:
    """Whether Ctrl-C has been pressed (and not yet taken back by :func:`clear`)."""
    return _flag.is_set()


def request() -> None:
    """Ask every running and later solve of this process to stop (as Ctrl-C does)."""
    _flag.set()


def clear() -> None:
    _flag.clear()


def check() -> None:
    """Raise :class:`Interrupted` if Ctrl-C was pressed: call it at safe points between stages."""
    if _flag.is_set():
        if not _installed:  # library use: the caller may catch it and go on
            _flag.clear()
        raise Interrupted()


def register_temp(path: str) -> None:
    """An atomic write started its temporary file ``path`` (removed if the process has to end itself)."""
    _temp_files.add(path)


def unregister_temp(path: str) -> None:
    _temp_files.discard(path)


def announce(echo: Callable[[str], None] | None = None) -> None:
    """Print "interrupted" once (through ``echo`` if given, else to the real stderr)."""
    if _installed and _announced.is_set():
        return
    _announced.set()
    if echo is not None:
        echo("interrupted")
        return
    fd = _console_fd if _console_fd is not None else 2
    with contextlib.suppress(OSError):
        os.write(fd, b"interrupted\n")


def _hard_exit() -> None:
    """End the process now: workers killed, unfinished temporary files removed, one line, exit 130."""
    announce()
    exit_now(EXIT_INTERRUPTED)


def exit_now(code: int = EXIT_INTERRUPTED) -> None:
    """``os._exit(code)`` after killing every worker process of this one (children and theirs: process pools,
    Dask workers), removing the temporary files of unfinished atomic writes and flushing stdout/stderr: an
    interrupted command neither waits for the interpreter to tear down (garbage-collecting a large Pyomo
    model took 2 s) nor leaves orphans that keep solving."""
    import sys

    kill_descendants()
    for path in list(_temp_files):
        with contextlib.suppress(OSError):
            os.unlink(path)
    # multiprocessing's exit handler (semaphores of the pools and Dask released, so that its resource
    # tracker does not warn about leaks on stderr) and the flush of stdout/stderr, given a second at most
    # (a thread of their own: a lock held by the stuck main thread must not keep the process alive)
    t = threading.Thread(target=_last_words, args=(sys.stdout, sys.stderr), daemon=True)
    t.start()
    t.join(timeout=1.0)
    os._exit(code)


def _last_words(*streams: Any) -> None:
    with contextlib.suppress(Exception):
        import multiprocessing.util

        multiprocessing.util._exit_function()  # type: ignore[attr-defined]  # private, absent from typeshed
    for stream in streams:
        with contextlib.suppress(Exception):
            stream.flush()


def _descendants(pid: int) -> list[int]:
    """Process ids of the children of ``pid`` and theirs (Linux /proc), deepest last."""
    parent: dict[int, int] = {}
    with contextlib.suppress(OSError):
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat", "rb") as fh:
                    stat = fh.read()
            except OSError:
                continue
            fields = stat[stat.rfind(b")") + 2 :].split()  # after "pid (comm) ": state, ppid, ...
            with contextlib.suppress(IndexError, ValueError):
                parent[int(entry)] = int(fields[1])
    out: list[int] = []
    frontier = [pid]
    while frontier:
        kids = [c for c, pp in parent.items() if pp in frontier and c not in out]
        out += kids
        frontier = kids
    return out


def kill_descendants() -> None:
    """SIGKILL every process started by this one, directly or not, except multiprocessing's resource
    tracker (it releases the semaphores of the killed workers once this process has ended)."""
    import multiprocessing

    keep = set()
    with contextlib.suppress(Exception):
        from multiprocessing import resource_tracker

        tracker = getattr(resource_tracker, "_resource_tracker", None)
        if tracker is not None and getattr(tracker, "_pid", None):
            keep.add(int(tracker._pid))
    procs = [p for ex in list(_executors) for p in (getattr(ex, "_processes", None) or {}).values()]
    with contextlib.suppress(Exception):
        procs += multiprocessing.active_children()
    pids = {p.pid for p in procs if getattr(p, "pid", None)} | set(_descendants(os.getpid()))
    for pid in pids - keep:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)


def _handler(signum: int, frame: Any) -> None:
    global _hits
    _hits += 1
    _flag.set()
    if _main_depth > 0:
        if _hits > 1:  # pressed again: the solver did not stop
            _hard_exit()
        return  # native code runs below this frame: no exception here, the solver is asked to stop
    if _installed:  # the command ends: Pyomo's own error log of the exception it is building a variable in ("Binary is
        logging.getLogger("pyomo").setLevel(logging.CRITICAL + 1)  # not a valid domain") is no message of the interrupt
    raise Interrupted()


def install() -> None:
    """Install the flag handler for SIGINT (idempotent; a SIGINT that is ignored stays ignored)."""
    global _installed, _console_fd, _hook_installed
    if _installed or threading.current_thread() is not threading.main_thread():
        return
    if not _hook_installed:  # also where SIGINT is ignored: the flag can still be set (a parent's stop, a test)
        sys.unraisablehook = _quiet_unraisable(sys.unraisablehook)
        _hook_installed = True
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:  # e.g. a background job of a script: keep it so
        return
    if _console_fd is None:
        # solver interfaces capture file descriptors 1 and 2 while they run: keep the real stderr
        with contextlib.suppress(OSError):
            _console_fd = os.dup(2)
    # the watcher first, while the caller's handler (mipnet.entry's: one line, exit 130) still answers a Ctrl-C: one
    # landing in the thread's start after our handler was in place raised there, outside every guard (a traceback)
    _start_watcher()
    signal.signal(signal.SIGINT, _handler)
    _installed = True


def _quiet_unraisable(previous: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``sys.unraisablehook`` that drops an :class:`Interrupted` raised where Python cannot propagate it (Ctrl-C
    landing in a weakref callback or ``__del__``, e.g. inside an import's module lock): Python would print
    "Exception ignored in ..." with a traceback. Nothing is lost: the flag stays set, so the next :func:`check`
    raises it again, and the watcher ends the process after :data:`DEADLINE` seconds whatever it is doing. Every
    other unraisable exception goes to the previous hook."""

    def hook(unraisable: Any) -> None:
        if isinstance(unraisable.exc_value, Interrupted):
            return
        previous(unraisable)

    return hook


def _start_watcher() -> None:
    """Learn of SIGINT at once, also while the main thread runs native code (``signal.set_wakeup_fd``:
    the C-level handler writes the signal number to a pipe, read here in a thread of its own)."""
    try:
        r, w = os.pipe()
        os.set_blocking(w, False)
        signal.set_wakeup_fd(w, warn_on_full_buffer=False)
    except (OSError, ValueError):
        return
    threading.Thread(target=_watch, args=(r,), name="mipnet-interrupt", daemon=True).start()


def _watch(fd: int) -> None:
    while True:
        try:
            data = os.read(fd, 64)
        except OSError:
            return
        if not data:
            return
        if signal.SIGINT in data:
            _flag.set()
            _escalate()


def _escalate() -> None:
    """After Ctrl-C: give native code :data:`GRACE` seconds to return, the process :data:`DEADLINE`."""
    t0 = time.monotonic()
    while True:
        time.sleep(0.05)
        waited = time.monotonic() - t0
        if (_main_depth > 0 and waited >= GRACE) or waited >= DEADLINE:
            _hard_exit()


def installed() -> bool:
    return _installed


def _interrupt_callback(event: Any) -> None:
    """Stop HiGHS iff Ctrl-C was pressed: set either way, as HiGHS 1.16 keeps a request on the instance after the run
    it stopped (:func:`mipnet.highs.stop_at`)."""
    if event.data_in is not None:
        event.data_in.user_interrupt = _flag.is_set()


#: the HiGHS callbacks called regularly while it solves, whose input can ask it to stop
_HIGHS_INTERRUPTS = ("cbSimplexInterrupt", "cbIpmInterrupt", "cbMipInterrupt")


def watch_highs(h: Any, callback: Callable[[Any], None] | None = None) -> Callable[[], None]:
    """Subscribe ``callback`` (default: stop on Ctrl-C) to the interrupt callbacks HiGHS polls while it solves, on
    the highspy instance ``h``; returns the undo function."""
    fn = _interrupt_callback if callback is None else callback
    done = []
    for name in _HIGHS_INTERRUPTS:
        cb = getattr(h, name, None)
        if cb is None:
            continue
        with contextlib.suppress(Exception):
            cb.subscribe(fn)
            done.append(cb)

    def undo() -> None:
        for cb in done:
            with contextlib.suppress(Exception):
                cb.unsubscribe(fn)

    return undo


@contextlib.contextmanager
def native(highs: Any = None) -> Iterator[None]:
    """A section of native solver code: Ctrl-C only sets the flag (no exception inside C++); the HiGHS
    instance ``highs`` (if given) is asked to stop through its interrupt callbacks; :class:`Interrupted`
    is raised when the section ends after a Ctrl-C (also one pressed before it started)."""
    global _main_depth
    check()
    undo = watch_highs(highs) if highs is not None else None
    main = threading.current_thread() is threading.main_thread()
    swapped = None
    if main and not _installed and signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        swapped = signal.signal(signal.SIGINT, _handler)
    if main:
        _main_depth += 1
    try:
        yield
    finally:
        if main:
            _main_depth -= 1
        if swapped is not None:
            signal.signal(signal.SIGINT, swapped)
        if undo is not None:
            undo()
    check()


def process_map(fn: Callable[[T], R], items: Sequence[T], processes: int) -> list[R]:
    """``[fn(x) for x in items]`` in ``processes`` worker processes, in order. On any exception (Ctrl-C
    included) the workers are killed at once: no orphan keeps solving after the command has ended."""
    from concurrent.futures import ProcessPoolExecutor

    ex = ProcessPoolExecutor(max_workers=processes)
    _executors.add(ex)
    try:
        with native():  # waiting on the workers: Ctrl-C sets the flag, the wait below polls it
            futures = [ex.submit(fn, x) for x in items]
            out = []
            for f in futures:
                while True:
                    try:
                        out.append(f.result(timeout=0.2))
                        break
                    except TimeoutError:
                        if _flag.is_set():
                            raise Interrupted() from None
        ex.shutdown(wait=True)
        return out
    except BaseException:
        kill_workers(ex)
        raise
    finally:
        _executors.discard(ex)


def kill_workers(ex: Any) -> None:
    """End every worker process of the executor ``ex`` now (SIGTERM, then SIGKILL after 2 s) and drop its queue."""
    procs = list((getattr(ex, "_processes", None) or {}).values())
    for p in procs:
        with contextlib.suppress(Exception):
            p.terminate()
    with contextlib.suppress(Exception):
        ex.shutdown(wait=False, cancel_futures=True)
    for p in procs:
        with contextlib.suppress(Exception):
            p.join(timeout=2)
            if p.is_alive():
                p.kill()
