"""Fan-out of independent problems on Dask (``dask.distributed``).

:func:`run_many` evaluates ``fn(task)`` for every task and returns the results in task order, exactly
as the serial loop ``[fn(t) for t in tasks]`` would (each task is a pure function of its arguments,
so where it runs does not matter). Independent problems in mipnet: one verification per sample,
feature or class; per-neuron bound tightening; the sample-group lower bounds of training.

* ``scheduler=None``: a :class:`distributed.LocalCluster` is started for the call (worker processes,
  one thread each; ``processes=False`` runs the workers as threads of this process) and closed after.
* ``scheduler="tcp://host:8786"``: a running cluster. An unreachable address raises a
  :class:`~mipnet.errors.MipnetError` after ``connect_timeout`` seconds.
* ``scheduler="serial"``: the plain loop in this process (no Dask needed).

Fault tolerance. Every task is one Dask future with a unique key. When a worker dies (crash, OOM,
killed machine) the scheduler re-runs the tasks it held on another worker; a task that keeps killing
workers ends as ``KilledWorker`` and is resubmitted under a fresh key up to ``retries`` more times.
Results are gathered by task index, each exactly once: a re-run replaces a lost result, it is never
added to it. An exception raised by ``fn`` itself is not retried (it would fail again): it is raised
to the caller (a :class:`~mipnet.errors.MipnetError` keeps its type and message).

Early stop. :func:`run_until` runs the same fan-out but ends it at the first result that ``stop(result)`` accepts
(e.g. a first counterexample: every other task's answer is then moot) or at a deadline: the tasks still running are
cancelled and their places in the result list are ``None``. The serial loop stops the same way (a task that
ran is never dropped; one the loop never started is ``None``).

Progress: ``progress`` (default: a line on stderr every ``progress_every`` seconds and at the end)
receives ``(done, total)``.

Task shape. ``run_many(fn, tasks)`` takes any picklable items and one function; a fan-out of *different*
problems names each as a :class:`Task` (function, its argument, a kind label) and runs them with
:func:`run_tasks` (``run_many(run_task, tasks)``): the typed form of a list of ``(fn, args)`` tuples. Each
submission of task i is one :class:`Submission` (index, attempt, Dask key ``mipnet-<run>-<i>-<attempt>``).
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import sys
import tempfile
import threading
import time
import uuid
import weakref
from dataclasses import dataclass
from typing import Any, Callable, Generic, Iterable, Iterator, Sequence, TypeVar

from .deadline import Deadline
from .errors import MipnetError, UnsupportedError

T = TypeVar("T")
R = TypeVar("R")

#: seconds a local cluster of two workers takes to start and to close on the loaded 2-core machine (an audit of 2
#: problems of 0.5 s: 8.6-12.6 s with a cluster, 2.7-4.2 s in its own process)
LOCAL_CLUSTER_SECONDS = 7.5
#: a caller runs its problems on a local cluster only with at least this much time in all (below, the cluster's
#: start and close would break the time limit's promise, limit x 1.1 + 5 s, for what two workers save)
LOCAL_CLUSTER_MIN_BUDGET = 2 * LOCAL_CLUSTER_SECONDS
#: seconds to wait for a scheduler before giving up
CONNECT_TIMEOUT = 10.0


@dataclass(frozen=True)
class Task(Generic[R]):
    """One independent problem: ``fn(args)``. ``fn`` must be a module-level function (picklable) when the
    workers are processes; ``kind`` labels the problem for the caller (e.g. "mono", "rob", "res")."""

    fn: Callable[[Any], R]
    args: Any
    kind: str = ""

    def __call__(self) -> R:
        return self.fn(self.args)


def run_task(task: Task[R]) -> R:
    """``task.fn(task.args)``: the one function :func:`run_tasks` fans out."""
    return task()


@dataclass(frozen=True)
class Submission:
    """Attempt ``attempt`` (0 = first run) of task ``index`` within run ``run``: one Dask future of key
    :attr:`key` (unique, so a re-run after a lost worker is a new future, never the old one again)."""

    run: str
    index: int
    attempt: int = 0

    @property
    def key(self) -> str:
        return f"mipnet-{self.run}-{self.index}-{self.attempt}"

    def retry(self) -> "Submission":
        return Submission(self.run, self.index, self.attempt + 1)


def _dask() -> Any:
    try:
        import distributed
    except ImportError:
        raise UnsupportedError("fan-out needs dask.distributed: pip install 'mipnet[dask]'") from None
    return distributed


def stderr_progress(every: float = 2.0) -> Callable[[int, int], None]:
    """A progress callback printing 'k/n tasks done' to stderr at most every ``every`` seconds (and at the end)."""
    last = [0.0]

    def show(done: int, total: int) -> None:
        now = time.monotonic()
        if done == total or now - last[0] >= every:
            last[0] = now
            print(f"  {done}/{total} tasks done", file=sys.stderr, flush=True)

    return show


def run_serial(fn: Callable[[T], R], tasks: Iterable[T], progress: Callable[[int, int], None] | None = None) -> list[R]:
    """``[fn(t) for t in tasks]`` with progress (the reference the distributed run must equal)."""
    items = list(tasks)
    out = []
    for i, t in enumerate(items):
        out.append(fn(t))
        if progress is not None:
            progress(i + 1, len(items))
    return out


def _serial_until(
    fn: Callable[[T], R], items: list[T], stop: Callable[[R], bool], deadline: Deadline | None
) -> list[R | None]:
    out: list[R | None] = [None] * len(items)
    for i, t in enumerate(items):
        if deadline is not None and deadline.expired():
            break
        out[i] = value = fn(t)
        if stop(value):
            break
    return out


def check_address(scheduler: str) -> str:
    """``scheduler`` if it is a Dask scheduler address (``[tcp://]host:port``: other protocols need set-ups the
    command does not make), else one MipnetError: checked before a client is made (a half-made client of a
    malformed address blocked its clean-up for 20 s and printed a traceback)."""
    from distributed.comm.addressing import parse_address, parse_host_port

    try:
        protocol, location = parse_address(str(scheduler))
        if protocol != "tcp":  # tls:// wants an ssl context, ucx:// a library, inproc:// this process: tracebacks
            raise ValueError(f"protocol {protocol}:// is not supported, only tcp://")
        _, port = parse_host_port(location)
        if not isinstance(port, int) or not 0 < port < 65536:
            raise ValueError(f"port {port!r} out of range")
    except (ValueError, TypeError) as exc:
        raise MipnetError(
            f"invalid Dask scheduler address {scheduler!r} ({exc}); give tcp://HOST:PORT (e.g. tcp://127.0.0.1:8786)"
        ) from None
    return str(scheduler)


def connect_seconds(deadline: Deadline | None, timeout: float = CONNECT_TIMEOUT) -> float:
    """How long to wait for a scheduler: ``timeout``, but not past ``deadline`` (at least one second)."""
    if deadline is None or deadline.unlimited:
        return timeout
    return max(1.0, min(timeout, deadline.remaining()))


def _refused(scheduler: str) -> None:
    """A MipnetError at once when nothing listens at a tcp:// scheduler's host and port (the connection is refused):
    the client's handshake waited its whole timeout (10 s) for a port that had answered "refused" at once."""
    import socket
    from urllib.parse import urlsplit

    parts = urlsplit(scheduler if "://" in scheduler else f"tcp://{scheduler}")
    try:
        host, port = parts.hostname, parts.port
    except ValueError:
        return  # (a malformed port: the client's own error says so)
    if parts.scheme != "tcp" or not host or port is None:
        return
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return
    except ConnectionRefusedError:
        raise MipnetError(
            f"cannot reach the Dask scheduler at {scheduler}: the connection was refused; is it running? "
            "(dask scheduler)"
        ) from None
    except OSError:
        return  # (no answer within a second, or no route: the client's timeout decides)


def connect(scheduler: str, timeout: float = CONNECT_TIMEOUT) -> Any:
    """A client of the running scheduler at ``scheduler`` (clear MipnetError when malformed or unreachable)."""
    distributed = _dask()
    check_address(scheduler)
    _refused(scheduler)
    import threading

    box: dict[str, Any] = {}

    def make() -> None:
        try:
            box["client"] = distributed.Client(scheduler, timeout=f"{timeout}s", set_as_default=False)
        except Exception as exc:  # noqa: BLE001 - reported below, whatever the client raised
            box["error"] = exc

    # Dask's own timeout does not bound the handshake: an HTTP server on the port (the dashboard's) held the
    # command forever. The client is made in a daemon thread that the command stops waiting for.
    maker = threading.Thread(target=make, name="mipnet-dask-connect", daemon=True)
    maker.start()
    maker.join(timeout + 2.0)
    if "client" in box:
        return box["client"]
    exc = box.get("error")
    if isinstance(exc, ValueError):
        raise MipnetError(f"invalid Dask scheduler address {scheduler!r}: {exc}")
    why = "no answer" if exc is None else type(exc).__name__
    raise MipnetError(
        f"cannot reach the Dask scheduler at {scheduler} within {timeout:.3g} s ({why}); "
        "is it running? (dask scheduler)"
    )


MALLOC_TRIM = "MALLOC_TRIM_THRESHOLD_"  # the glibc variable Dask's nanny sets for its workers (not for ours)


#: the ``-W`` option given to multiprocessing's resource tracker (:func:`_quiet_resource_tracker`)
TRACKER_WARNING = "ignore:resource_tracker:UserWarning"


def _quiet_resource_tracker() -> None:
    """Every worker of a local cluster imports Pyomo, which makes a multiprocessing lock; the nanny ends the worker
    without its exit handlers, so the resource tracker (shared with this process) removes the lock itself at
    shutdown and said so: "There appear to be 2 leaked semaphore objects to clean up at shutdown" after every
    ``--scheduler local`` run. The removal is what it is for; its message is silenced by a warning filter the
    tracker is started with (it takes this interpreter's ``-W`` options), when it is not running yet."""
    import sys
    from multiprocessing import resource_tracker

    tracker = getattr(resource_tracker, "_resource_tracker", None)
    if getattr(tracker, "_fd", 0) is None and TRACKER_WARNING not in sys.warnoptions:
        sys.warnoptions.append(TRACKER_WARNING)


def local_client(n_workers: int | None = None, processes: bool = True) -> tuple[Any, Any]:
    """(client, cluster) of a fresh LocalCluster: ``n_workers`` single-threaded workers, no dashboard.

    The workers do not get Dask's default ``MALLOC_TRIM_THRESHOLD_=65536`` (set by its nanny before spawning): with
    it glibc serves every allocation above the threshold by mmap and returns it at once, and numpy code that makes
    many medium temporaries (the bound propagation of the input branch-and-bound) ran 1.7x slower in a worker than
    in this process. A variable the caller's environment sets is inherited as usual."""
    distributed = _dask()
    import os

    import dask

    n = max(1, n_workers or os.cpu_count() or 1)
    _quiet_resource_tracker()
    # the workers' scratch space in a directory of its own, removed with the cluster (or at exit): Dask's default
    # left $TMPDIR/dask-scratch-space behind after every run
    scratch = tempfile.mkdtemp(prefix="mipnet-dask-")
    settings = {f"distributed.nanny.pre-spawn-environ.{MALLOC_TRIM}": None, "temporary-directory": scratch}
    with dask.config.set(settings), _sigint_blocked():
        cluster = distributed.LocalCluster(
            n_workers=n,
            threads_per_worker=1,
            processes=processes,
            dashboard_address=None,
            silence_logs=50,
            local_directory=scratch,
        )
    weakref.finalize(cluster, shutil.rmtree, scratch, True)
    return distributed.Client(cluster, set_as_default=False), cluster


@contextlib.contextmanager
def _sigint_blocked() -> Iterator[None]:
    """SIGINT blocked (not ignored: one that arrives stays pending, and is delivered at the end) while the cluster
    starts: its threads and the worker processes they spawn inherit the mask, so a Ctrl-C at the terminal (sent to
    the whole process group) reaches this process alone, whose interrupt handler stops the workers. Without it the
    workers printed KeyboardInterrupt tracebacks from their imports after the one line "interrupted"."""
    main = threading.current_thread() is threading.main_thread() and hasattr(signal, "pthread_sigmask")
    if not main:
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def run_many(
    fn: Callable[[T], R],
    tasks: Sequence[T],
    scheduler: str | None = None,
    processes: bool = True,
    *,
    n_workers: int | None = None,
    retries: int = 2,
    connect_timeout: float = CONNECT_TIMEOUT,
    progress: Callable[[int, int], None] | None | bool = True,
    client: Any = None,
) -> list[R]:
    """``[fn(t) for t in tasks]`` on Dask (see the module docstring); results in task order.

    ``fn`` must be picklable (a module-level function) when the workers are processes.
    ``client`` reuses an existing ``distributed.Client`` (then ``scheduler`` is ignored).
    """
    items = list(tasks)
    show = stderr_progress() if progress is True else (progress or None)
    if not items:
        return []
    if scheduler == "serial":
        return run_serial(fn, items, show)
    with _client(client, scheduler, processes, n_workers or min(len(items), _cpus()), connect_timeout) as (c, _):
        return _gather(c, fn, items, retries, show)


@contextlib.contextmanager
def _client(client: Any, scheduler: str | None, processes: bool, n_workers: int, connect_timeout: float) -> Any:
    """(client, cluster) of a fan-out: ``client`` itself, or one of a fresh LocalCluster (``scheduler`` None; then
    the cluster, else None) or of the scheduler at that address, closed at the end (with its cluster)."""
    own: Any = None
    if client is None:
        if scheduler is None:
            client, own = local_client(n_workers, processes)
        else:
            client = connect(scheduler, connect_timeout)
            own = "client"
    try:
        yield client, (own if own not in (None, "client") else None)
    except KeyboardInterrupt:
        from . import interrupt

        if own is not None and own != "client" and interrupt.installed():
            # Ctrl-C in the CLI: the process ends right away and kills the local workers
            # (interrupt.exit_now); a graceful close of the cluster takes seconds
            own = None
        raise
    finally:
        if own is not None:
            client.close()
            if own != "client":
                own.close()


def run_tasks(tasks: Sequence[Task[R]], scheduler: str | None = None, processes: bool = True, **kwargs: Any) -> list[R]:
    """``[t.fn(t.args) for t in tasks]`` through :func:`run_many` (same options); results in task order."""
    return run_many(run_task, list(tasks), scheduler, processes, **kwargs)


def run_until(
    fn: Callable[[T], R],
    tasks: Sequence[T],
    stop: Callable[[R], bool],
    scheduler: str | None = None,
    processes: bool = True,
    *,
    deadline: Deadline | None = None,
    n_workers: int | None = None,
    retries: int = 2,
    connect_timeout: float = CONNECT_TIMEOUT,
    client: Any = None,
) -> list[R | None]:
    """:func:`run_many` that ends at the first result ``stop`` accepts, or when ``deadline`` expires (module
    docstring, early stop): the results in task order, ``None`` where a task was cancelled or never started.
    Same options as :func:`run_many` (no progress lines)."""
    items = list(tasks)
    if not items:
        return []
    if scheduler == "serial":
        return _serial_until(fn, items, stop, deadline)
    wait = min(connect_timeout, connect_seconds(deadline))
    with _client(client, scheduler, processes, n_workers or min(len(items), _cpus()), wait) as (c, own):
        try:
            return _gather_until(c, fn, items, retries, stop, deadline, own)
        finally:
            if own is not None:  # its workers are done or moot: ended now, not by the cluster's graceful close
                _kill_worker_processes(own)


#: seconds between two looks at the running tasks (and the deadline) in :func:`run_until`
POLL_SECONDS = 0.05


def _gather_until(
    client: Any,
    fn: Callable[[T], R],
    items: list[T],
    retries: int,
    stop: Callable[[R], bool],
    deadline: Deadline | None,
    cluster: Any = None,
) -> list[R | None]:
    """The loop of :func:`run_until`. Tasks still running at the end are cancelled; on ``cluster`` (a LocalCluster
    of this call, process workers) their worker processes are killed too, since Dask's cancel does not stop a task
    that runs and closing the cluster would wait for it."""
    from distributed import KilledWorker

    run = uuid.uuid4().hex[:8]
    results: list[R | None] = [None] * len(items)
    index: dict[str, Submission] = {}
    live: dict[str, Any] = {}

    def submit(sub: Submission) -> None:
        f = client.submit(fn, items[sub.index], key=sub.key, pure=False)
        index[f.key], live[f.key] = sub, f

    for i in range(len(items)):
        submit(Submission(run, i))
    try:
        while live:
            if deadline is not None and deadline.expired():
                break
            finished = [f for f in live.values() if f.done()]
            if not finished:
                time.sleep(POLL_SECONDS if deadline is None else max(0.0, min(POLL_SECONDS, deadline.remaining())))
                continue
            for fut in finished:
                sub = index.pop(fut.key)
                live.pop(fut.key, None)
                try:
                    value = fut.result()
                except KilledWorker:
                    if sub.attempt >= retries:
                        raise MipnetError(
                            f"task {sub.index} killed its workers {sub.attempt + 1} times; giving up"
                        ) from None
                    submit(sub.retry())
                    continue
                results[sub.index] = value
                fut.release()
                if stop(value):
                    return results
        return results
    finally:
        if live:
            if cluster is not None:
                _kill_worker_processes(cluster)
            client.cancel(list(live.values()), force=True)


def _kill_worker_processes(cluster: Any) -> None:
    import os
    import signal

    for nanny in list(getattr(cluster, "workers", {}).values()):
        pid = getattr(getattr(nanny, "process", None), "pid", None)
        if pid:
            with contextlib.suppress(OSError):
                os.kill(pid, getattr(signal, "SIGKILL", signal.SIGTERM))


def _cpus() -> int:
    import os

    return os.cpu_count() or 1


def _gather(
    client: Any, fn: Callable[[T], R], items: list[T], retries: int, show: Callable[[int, int], None] | None
) -> list[R]:
    distributed = _dask()
    from distributed import KilledWorker

    run = uuid.uuid4().hex[:8]
    n = len(items)
    results: list[Any] = [None] * n
    done = [False] * n

    def submit(sub: Submission) -> Any:
        return client.submit(fn, items[sub.index], key=sub.key, pure=False)

    index: dict[str, Submission] = {}
    live: dict[str, Any] = {}
    for i in range(n):
        sub = Submission(run, i)
        f = submit(sub)
        index[f.key], live[f.key] = sub, f
    pending = distributed.as_completed(list(live.values()), with_results=False, loop=client.loop)
    n_done = 0
    for fut in pending:
        sub = index.pop(fut.key)
        i = sub.index
        live.pop(fut.key, None)
        if done[i]:  # a stale duplicate can never be counted twice
            continue
        try:
            value = fut.result()
        except KilledWorker:
            if sub.attempt >= retries:
                raise MipnetError(f"task {i} killed its workers {sub.attempt + 1} times; giving up") from None
            again = sub.retry()
            g = submit(again)
            index[g.key], live[g.key] = again, g
            pending.add(g)
            continue
        except Exception:  # fn's own error: raised as the serial loop would raise it
            client.cancel(list(live.values()))
            raise
        results[i], done[i] = value, True
        n_done += 1
        fut.release()
        if show is not None:
            show(n_done, n)
    if not all(done):  # cannot happen: every index is resubmitted or raised
        raise MipnetError(f"{done.count(False)} task(s) produced no result")
    return results


__all__ = [
    "run_many",
    "run_serial",
    "run_tasks",
    "run_until",
    "run_task",
    "Task",
    "Submission",
    "connect",
    "local_client",
    "stderr_progress",
    "CONNECT_TIMEOUT",
]
