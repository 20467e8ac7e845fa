"""One way to open a HiGHS instance through highspy's matrix API: quiet, and without its start-up banner on stdout.

HiGHS prints "Running HiGHS ..." on the process's stdout (C level, file descriptor 1) when the first ``Highs``
object of a process is made, before any option can switch its log off. The commands print their results (JSON,
verdict lines) on stdout, so the first instance is made with descriptor 1 pointed at the null device for that one
call; later instances print nothing anyway. Every instance gets ``output_flag = False``.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from typing import Any, Iterator

_LOCK = threading.Lock()
#: HiGHS treats matrix entries below this as zero (its default 1e-9 dropped real weights; 1e-12 is its minimum)
SMALL_MATRIX_VALUE = 1e-12
_FIRST_DONE = False


def new_highs() -> Any:
    """A ``highspy.Highs`` with ``output_flag`` off (module docstring)."""
    global _FIRST_DONE
    import highspy

    with _LOCK:
        if _FIRST_DONE:
            h = highspy.Highs()
        else:
            try:
                sys.stdout.flush()
            except (ValueError, OSError):  # a closed stdout: nothing to protect
                pass
            try:
                saved = os.dup(1)
            except OSError:  # no descriptor 1 (an embedded interpreter): nothing to protect
                saved = -1
            try:
                if saved >= 0:
                    null = os.open(os.devnull, os.O_WRONLY)
                    os.dup2(null, 1)
                    os.close(null)
                h = highspy.Highs()
            finally:
                if saved >= 0:
                    os.dup2(saved, 1)
                    os.close(saved)
            _FIRST_DONE = True
    h.setOptionValue("output_flag", False)
    h.setOptionValue("small_matrix_value", SMALL_MATRIX_VALUE)  # entries below it are dropped (default 1e-9)
    return h


class _QuietHighspy:
    """highspy as Pyomo's HiGHS interface sees it inside :func:`set_instance`: ``Highs()`` is :func:`new_highs`."""

    def __init__(self, real: Any) -> None:
        self._real = real

    def Highs(self) -> Any:  # noqa: N802 - highspy's name
        return new_highs()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


def set_instance(opt: Any, model: Any) -> None:
    """``opt.set_instance(model)`` for Pyomo's persistent HiGHS interface, with the rows loaded into a
    :func:`new_highs` instance. Pyomo makes its own ``highspy.Highs()`` and adds the rows at once, with HiGHS's default
    ``small_matrix_value`` of 1e-9: a coefficient of 5e-10 (on an input of range 1e9: a term of 0.5) was dropped
    before any option reached the solver, and the bound tightening proved [-0.5, -0.5] where 0.5 is reached."""
    owner = next((c for c in type(opt).__mro__ if "set_instance" in vars(c)), None)
    holder: Any = sys.modules.get(owner.__module__) if owner is not None else None
    if holder is None or not hasattr(holder, "highspy"):  # another interface: as it is
        opt.set_instance(model)
        return
    real = holder.highspy
    with _LOCK_PATCH:
        holder.highspy = _QuietHighspy(real)
        try:
            opt.set_instance(model)
        finally:
            holder.highspy = real


_LOCK_PATCH = threading.Lock()


@contextlib.contextmanager
def stop_at(h: Any, deadline: Any) -> Iterator[None]:
    """Within the block, HiGHS ``h`` is asked to stop once ``deadline`` (a :class:`~mipnet.deadline.Deadline`) has
    passed, through the callbacks it polls while it solves, and on Ctrl-C (:func:`mipnet.interrupt.native`). A best
    effort only: on large models of the training MILP HiGHS overran both its own ``time_limit`` and these
    callbacks by minutes (it polls none of them in some phases), so a hard limit needs a process of its own
    (:func:`mipnet.train.large_data.matrix_milp`). What HiGHS found before it stopped is kept.

    The callback *sets* the request each time (stop = the deadline passed or Ctrl-C was pressed), never only
    raises it: HiGHS 1.16 keeps an interrupt request on the instance after the run it stopped, so every later run
    of that instance was stopped at its first poll (the cutting planes' master, stopped once by the LP phase's
    deadline, then proved no bound for the rest of a 45 s fit; ``tests/test_highs_interrupt.py``)."""
    from . import interrupt

    def poll(event: Any) -> None:
        if event.data_in is not None:
            event.data_in.user_interrupt = bool(deadline.expired() or interrupt.requested())

    undo = interrupt.watch_highs(h, poll)
    try:
        with interrupt.native():  # Ctrl-C sets the flag that ``poll`` reads (no second callback to overrule it)
            yield
    finally:
        undo()


def proved_dual_bound(h: Any, run_status: Any) -> float | None:
    """HiGHS ``h``'s MIP dual bound after ``run_status = h.run()``, or None when it bounds nothing: the run was
    refused (an option error, e.g. a thread count other than the process' HiGHS scheduler's, leaves the model
    status "Not Set" and ``mip_dual_bound`` 0.0, a finite number) or ended in a status after which HiGHS has no
    bound (load, model, presolve, solve or postsolve errors), or the value is not finite. A solve cut by a
    time, iteration, solution limit or an interrupt keeps its (valid) bound. A model without integer columns is
    an LP: its optimum is the bound (HiGHS leaves ``mip_dual_bound`` at 0.0 there), and a cut LP gives None."""
    import math

    import highspy

    S = highspy.HighsModelStatus
    ran = {S.kOptimal, S.kTimeLimit, S.kIterationLimit, S.kSolutionLimit, S.kInterrupt}
    if run_status == highspy.HighsStatus.kError or h.getModelStatus() not in ran:
        return None
    if not highs_is_mip(h):
        # no integer column: HiGHS ran its LP solver and left mip_dual_bound at 0.0; the LP's optimum is exact,
        # and a cut LP bounds nothing
        if h.getModelStatus() != S.kOptimal:
            return None
        val = float(h.getInfo().objective_function_value)
        return val if math.isfinite(val) and abs(val) < 1e30 else None
    val = float(h.getInfo().mip_dual_bound)
    return val if math.isfinite(val) and abs(val) < 1e30 else None


def highs_is_mip(h: Any) -> bool:
    """Whether the highspy instance ``h`` holds an integer column (fixed or not): HiGHS then runs its MIP solver."""
    import highspy

    return any(v != highspy.HighsVarType.kContinuous for v in h.getLp().integrality_)


def highs_time_limit(h: Any, seconds: float, mip: bool | None = None) -> float:
    """The ``time_limit`` option that gives the next run of the highspy instance ``h`` ``seconds``.

    HiGHS (1.16) keeps one clock per instance that runs on across runs. An LP run is stopped once that clock
    passes time_limit, a MIP run once time_limit has passed since its own start: on an instance that has run
    before, an LP's limit must be moved by the time already on the clock, a MIP's must not (measured with
    highspy; the tests check both). ``mip``: :func:`highs_is_mip` of ``h``, if known."""
    if mip is None:
        mip = highs_is_mip(h)
    return float(seconds) if mip else float(seconds) + float(h.getRunTime())


def set_time_limit(h: Any, seconds: float, mip: bool | None = None) -> None:
    """Give the next run of ``h`` ``seconds`` (inf: no limit), whether it has run before or not
    (:func:`highs_time_limit`: an LP instance's clock runs on across runs; a reused master of the cutting planes
    reached 6 s on its clock after 15 758 solves and every later solve stopped at once)."""
    h.setOptionValue("time_limit", highs_time_limit(h, float(seconds), mip))


__all__ = ["highs_is_mip", "highs_time_limit", "new_highs", "proved_dual_bound", "set_time_limit", "stop_at"]
