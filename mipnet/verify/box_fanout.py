"""The input boxes of one VNN-LIB property decided at the same time on Dask (:func:`decide_boxes_distributed`).

A property whose unsafe region is a union of input boxes B_1 ... B_k (after the attack on every box,
:func:`mipnet.verify.vnnlib.check_property`) holds iff every box is safe and is violated iff some box holds a
counterexample. The boxes are independent problems, so each one is a task of :func:`mipnet.distributed.run_until`
(:func:`mipnet.verify.vnnlib.decide_box` on a worker: bounds, input branch-and-bound, MILP), and the fan-out ends
at the first box that returns a counterexample (the others are moot) or at the property's deadline. Every worker
gets the seconds left when the fan-out starts and stops by them; the parent stops waiting at its own deadline and
counts a box without an answer as undecided (the workers' own deadline is a little earlier, ``RETURN_MARGIN``,
so that their undecided answers arrive with their counts; on a local cluster the fan-out ends
``LOCAL_CLOSE_SECONDS`` early, the time the cluster takes to close). A counterexample from a worker is re-checked here,
through this process' forward pass, against the whole disjunct before it is reported ("holds" needs every box's
answer).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from ..deadline import Deadline
from ..distributed import run_until
from ..network import Network

if TYPE_CHECKING:
    from .vnnlib import BoxOutcome, VnnResult
    from .vnnlib_format import BoxGroup

#: the workers end min(RETURN_MARGIN, RETURN_SHARE x the seconds left) before the caller's deadline, so that an
#: undecided box's answer (its open leaves and stage seconds) reaches the caller before it stops waiting
RETURN_MARGIN = 1.0
RETURN_SHARE = 0.05
#: seconds a local Dask cluster takes to close (measured 3.0-3.4 s for 3 workers on the loaded 2-core machine, its
#: workers already ended): the fan-out on a local cluster stops that much before the caller's deadline
LOCAL_CLOSE_SECONDS = 3.5
#: ``scheduler`` value of :func:`~mipnet.verify.vnnlib.check_property` for a local cluster started for the call
LOCAL = "local"


def _decide_one(args: tuple[Any, ...]) -> tuple[BoxOutcome, dict[str, Any]]:
    """One box on a worker: its outcome and what it adds to the result (stage seconds, tree counts, statuses)."""
    from .vnnlib import VnnResult, decide_box

    net, g, solver, seconds, end, bounds, threads, pipeline, processes = args
    import multiprocessing

    if multiprocessing.current_process().daemon:  # Dask's workers are daemonic: no process pool of their own
        processes = 1  # (--processes 2 with --scheduler local was an AssertionError traceback)
    part = VnnResult("holds", boxes=1)
    # until the caller's wall-clock end (a worker started late gets less), never longer than the seconds it had
    dl = Deadline(max(0.0, min(seconds, end - time.time())))
    out = decide_box(net, g, solver, dl, bounds, threads, part, pipeline, processes)
    return out, {
        "seconds": dict(part.seconds),
        "nodes": part.nodes,
        "open_leaves": part.open_leaves,
        "statuses": list(part.statuses),
        "n_binaries": part.n_binaries,
    }


def _violated(item: tuple[BoxOutcome, dict[str, Any]]) -> bool:
    return item[0].verdict == "violated"


def decide_boxes_distributed(
    net: Network,
    groups: list[BoxGroup],
    solver: str,
    dl: Deadline,
    bounds: str,
    threads: int | None,
    pipeline: str,
    processes: int,
    scheduler: str,
    res: VnnResult,
) -> list[BoxOutcome]:
    """The outcome of every box (module docstring), in box order; a box without an answer by the deadline (or
    cancelled after another box's counterexample) is "unknown". ``scheduler``: ``"local"`` (a local cluster, one
    worker process per box up to the CPU count) or a Dask scheduler address; ``res`` gets the workers' stage
    seconds and counts."""
    from .vnnlib import TIME_LIMIT_REASON, BoxOutcome
    from .vnnlib_format import some_disjunct_holds

    if scheduler == LOCAL and not dl.unlimited:  # the local cluster's close is inside the time limit
        dl = dl.sub(seconds=max(0.0, dl.remaining() - LOCAL_CLOSE_SECONDS))
    seconds = dl.remaining() if not dl.unlimited else float("inf")
    seconds -= min(RETURN_MARGIN, RETURN_SHARE * seconds)  # the workers stop a little early: their answers arrive
    tasks = [(net, g, solver, seconds, time.time() + seconds, bounds, threads, pipeline, processes) for g in groups]
    t0 = time.perf_counter()
    answers = run_until(_decide_one, tasks, _violated, scheduler=None if scheduler == LOCAL else scheduler, deadline=dl)
    res._stage("fan-out", time.perf_counter() - t0)
    outcomes: list[BoxOutcome] = []
    for g, answer in zip(groups, answers):
        if answer is None:
            outcomes.append(BoxOutcome("unknown", reason=TIME_LIMIT_REASON))
            continue
        out, part = answer
        for k, v in part["seconds"].items():
            res._stage(k, v)
        res.nodes += part["nodes"]
        res.open_leaves += part["open_leaves"]
        res.statuses.extend(part["statuses"])
        res.n_binaries = max(res.n_binaries, part["n_binaries"])
        if out.verdict == "violated":
            x = out.x
            # re-checked in this process: a worker's answer is not taken on trust
            if x is None or not some_disjunct_holds(g.whole, x, net.forward(x[None])[0]):
                out = BoxOutcome("unknown", reason="the witness fails the forward-pass re-check")
        outcomes.append(out)
    return outcomes


__all__ = ["LOCAL", "decide_boxes_distributed"]
