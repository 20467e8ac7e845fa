"""The batched input branch-and-bound (:mod:`mipnet.verify.batch_tree`) across worker processes.

The question is the tree's: is there an x in the box B = [lo, hi] with y = f(x) satisfying some disjunct of the
unsafe region? The parent process grows the tree from the root by its own rules (bounds, attack, MILP leaves,
the split input by the smear) until about ``BOXES_PER_PROCESS * processes`` boxes are open; the open boxes
B_1 .. B_k and the boxes the parent closed cover B (the children of a box cover it), so

    B is safe  <=>  every B_j is safe.

Each B_j is a task of a work queue; ``processes`` workers take the next task as they finish one and run the
batched tree on it (:func:`mipnet.verify.batch_tree.batched_tree` from that box: depth, live disjuncts and the
parent's bound carried over). When the queue is empty and a worker is idle, the parent asks the busy workers to
hand over (a shared event): a busy worker whose tree has at least two open boxes stops at its next step and
returns them (its frontier), which the parent deals into ``processes`` new tasks; so a hard box is shared out
instead of keeping one worker busy alone at the end.

One wall-clock deadline covers the whole tree: the workers get its absolute end on the monotonic clock (shared
by the processes of one machine), so a worker's start-up never extends it; a worker still running
``GRACE`` seconds after the end is killed and its box counted open.

Verdicts: "violated" as soon as a worker returns a point that its re-check accepted, and the parent accepts it
again on its own forward pass ``check(x, f(x))``; every other worker is then killed at once. "infeasible"
(holds) only when every task ended closed with no open MILP leaf. "unknown" otherwise, with the open boxes
counted. Any exception, Ctrl-C included, kills every worker before it propagates (the pattern of
:func:`mipnet.interrupt.process_map`); the workers ignore SIGINT themselves, the parent stops them.
``seconds`` sums the stages over all processes (CPU-seconds of the tree, not wall time); ``seconds["parallel"]``
is the parent's wall time from the first task to the last result.

Workers are forked (the network, the specification and the MILP leaf are inherited, not pickled; the results
are pickled back); ``check`` and ``leaf`` must be safe to call in a forked process. Where fork is unavailable
the platform's default start method is used, and then they must be picklable.
"""

from __future__ import annotations

import collections
import concurrent.futures as cf
import contextlib
import multiprocessing as mp
import signal
import time
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import interrupt
from ..deadline import Deadline
from ..network import Network
from . import input_split as split
from .batch_tree import Frontier, SplitTree, batched_tree
from .batched_bounds import batch_plan
from .spec_bounds import affine_maps

if TYPE_CHECKING:
    from multiprocessing.synchronize import Event

    from .vnnlib import Atom

#: open boxes per worker process that the parent grows before handing them out
BOXES_PER_PROCESS = 4
#: seconds a worker runs a task before it may hand its open boxes over to an idle worker
MIN_SLICE = 0.5
#: seconds after the deadline after which workers still running are killed
GRACE = 2.0
#: seconds between two looks at the workers (results, Ctrl-C, the deadline)
POLL = 0.05

_STATE: dict[str, Any] = {}


def _init(
    net: Network,
    conjs: "list[list[Atom]]",
    check: split.Check,
    leaf: split.Leaf,
    delta: float,
    end: float | None,
    depth_cap: int,
    batch: int,
    hungry: "Event",
) -> None:
    """A worker's start: Ctrl-C is left to the parent (which kills the workers), the problem is kept."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with contextlib.suppress(ValueError, OSError):
        signal.set_wakeup_fd(-1)  # the parent's wake-up pipe (fork) is not the worker's
    maps = batch_plan(net, affine_maps(net))
    assert maps is not None
    _STATE.update(net=net, conjs=conjs, check=check, leaf=leaf, delta=delta, end=end, depth_cap=depth_cap, batch=batch)
    _STATE.update(maps=maps, hungry=hungry)


def _work(boxes: Frontier) -> tuple[SplitTree, int]:
    """Run the batched tree from ``boxes`` until it ends, the deadline passes, or the parent asks for a handover;
    the result and the MILP leaves' most binaries (``leaf.n_binaries`` when the leaf keeps that count)."""
    s = _STATE
    t0 = time.monotonic()
    hungry: Event = s["hungry"]

    def pause(open_boxes: int) -> bool:
        return open_boxes >= 2 and hungry.is_set() and time.monotonic() - t0 >= MIN_SLICE

    r = batched_tree(
        s["net"],
        boxes.lo[0],
        boxes.hi[0],
        s["conjs"],
        s["check"],
        s["leaf"],
        s["delta"],
        Deadline(at=s["end"]) if s["end"] is not None else Deadline(None),
        s["depth_cap"],
        s["maps"],
        s["batch"],
        start=boxes,
        pause=pause,
    )
    return r, int(getattr(s["leaf"], "n_binaries", 0))


def _context() -> Any:
    return mp.get_context("fork") if "fork" in mp.get_all_start_methods() else mp.get_context()


def parallel_tree(
    net: Network,
    lo: np.ndarray,
    hi: np.ndarray,
    conjs: "list[list[Atom]]",
    check: split.Check,
    leaf: split.Leaf,
    delta: float,
    deadline: Deadline,
    processes: int,
    max_depth: int | None = None,
    batch: int | None = None,
) -> tuple[split.TreeResult, int]:
    """Input branch-and-bound over the box with ``processes`` workers (module docstring): the tree's result and
    the most binaries of a MILP leaf run in a worker. ``net`` must have the box as its domain (as for
    :func:`mipnet.verify.input_split.branch_and_bound`, which runs instead, in this process, when ``processes``
    is 1 or the network is not made of dense affine and ReLU-type layers)."""
    depth_cap = 4 * lo.size + 8 if max_depth is None else max_depth
    size = split.BATCH if batch is None else int(batch)
    plan = batch_plan(net, affine_maps(net)) if conjs and size > 1 else None
    if processes <= 1 or plan is None:
        return split.branch_and_bound(net, lo, hi, conjs, check, leaf, delta, deadline, max_depth, batch), 0
    head = batched_tree(
        net, lo, hi, conjs, check, leaf, delta, deadline, depth_cap, plan, size, frontier=BOXES_PER_PROCESS * processes
    )
    if head.frontier is None:  # decided (or cut by the deadline) before there was enough to share
        return head, 0
    out = SplitTree("infeasible", nodes=head.nodes, milp_leaves=head.milp_leaves, open_leaves=head.open_leaves)
    out.boundary, out.seconds = head.boundary, dict(head.seconds)
    todo = collections.deque(head.frontier.take(np.array([j])) for j in range(len(head.frontier)))
    ctx = _context()
    hungry = ctx.Event()
    args = (net, conjs, check, leaf, delta, deadline.at, depth_cap, size, hungry)
    ex = cf.ProcessPoolExecutor(max_workers=processes, mp_context=ctx, initializer=_init, initargs=args)
    running: dict[cf.Future[tuple[SplitTree, int]], int] = {}
    binaries = 0
    t_par = time.perf_counter()
    try:
        with interrupt.native():  # Ctrl-C only sets the flag while the parent waits; the loop polls it
            while todo or running:
                if interrupt.requested():
                    raise interrupt.Interrupted()
                if deadline.expired():  # tasks not started are open; workers past the grace are killed below
                    out.open_leaves += sum(len(f) for f in todo)
                    todo.clear()
                    if deadline.at is not None and time.monotonic() > deadline.at + GRACE:
                        out.open_leaves += sum(running.values())
                        break
                while todo and len(running) < processes:
                    task = todo.popleft()
                    running[ex.submit(_work, task)] = len(task)
                if not todo and len(running) < processes:
                    hungry.set()
                else:
                    hungry.clear()
                done, _ = cf.wait(list(running), timeout=POLL, return_when=cf.FIRST_COMPLETED)
                for fut in done:
                    del running[fut]
                    r, nb = fut.result()
                    binaries = max(binaries, nb)
                    out.nodes += r.nodes
                    out.milp_leaves += r.milp_leaves
                    out.open_leaves += r.open_leaves
                    for k, v in r.seconds.items():
                        out.seconds[k] = out.seconds.get(k, 0.0) + v
                    if r.status == "violated" and r.x is not None:
                        x = np.asarray(r.x, dtype=float)
                        if check(x, net.forward(x[None])[0]):  # the parent's own re-check
                            interrupt.kill_workers(ex)
                            out.status, out.x, out.stage = "violated", x, r.stage
                            return out, binaries
                        out.boundary, out.open_leaves = x, out.open_leaves + 1
                    if r.boundary is not None:
                        out.boundary = r.boundary
                    if r.frontier is not None and len(r.frontier):
                        hungry.clear()
                        todo.extend(r.frontier.parts(processes))
        if running:  # workers past the deadline's grace
            interrupt.kill_workers(ex)
        else:
            ex.shutdown(wait=True)
    except BaseException:
        interrupt.kill_workers(ex)
        raise
    finally:
        out.seconds["parallel"] = out.seconds.get("parallel", 0.0) + time.perf_counter() - t_par
    if out.open_leaves:
        out.status = "unknown"
    return out, binaries
