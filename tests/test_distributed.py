"""Fan-out on dask.distributed: identical to the serial run, lost workers' tasks re-run exactly once,
an unreachable scheduler fails fast with a clear error."""

from __future__ import annotations

import os
import time

import numpy as np
import pytest

from mipnet.distributed import run_many, run_serial
from mipnet.errors import MipnetError

distributed = pytest.importorskip("distributed", reason="dask.distributed is not installed (pip install mipnet[dask])")


def _verify(args):
    from mipnet.verify.robustness import verify_sample

    net, x, i = args
    r = verify_sample(net, x, 0.1, "inf", solver="highs", time_limit=5, threads=1, index=i)
    return r.verdict, None if r.counterexample is None else r.counterexample.round(9).tolist(), r.bound


def _die_once(args):
    """Task 3 kills its worker process the first time it runs (a crash mid-run), then succeeds."""
    i, flag = args
    time.sleep(0.2)
    if i == 3 and not os.path.exists(flag):
        open(flag, "w").close()
        os._exit(1)
    return i * i


def _fails(i):
    if i == 2:
        raise MipnetError("task two is bad")
    return i


def test_local_cluster_identical_to_serial(dense_net):
    X = np.random.default_rng(1).uniform(-1, 1, (6, 4))
    tasks = [(dense_net, X[i], i) for i in range(6)]
    seen = []
    serial = run_serial(_verify, tasks)
    dist = run_many(_verify, tasks, processes=False, n_workers=2, progress=lambda d, n: seen.append((d, n)))
    assert dist == serial
    assert {v for v, _, _ in serial} == {"holds", "violated"}
    assert seen == [(k, 6) for k in range(1, 7)]  # progress: every task counted once, in order
    assert run_many(_verify, tasks, scheduler="serial", progress=False) == serial
    assert run_many(_verify, [], processes=False) == []


def test_task_error_is_raised_as_in_the_serial_loop():
    with pytest.raises(MipnetError, match="task two is bad"):
        run_many(_fails, list(range(5)), processes=False, n_workers=2, progress=False)


def test_killed_worker_tasks_are_rerun_once(tmp_path):
    flag = tmp_path / "died"
    tasks = [(i, str(flag)) for i in range(8)]
    done = []
    out = run_many(_die_once, tasks, processes=True, n_workers=2, progress=lambda d, n: done.append(d))
    assert flag.exists()  # a worker really died mid-run
    assert out == [i * i for i in range(8)]
    assert done == list(range(1, 9))  # nothing reported twice, nothing lost


def test_unreachable_scheduler_fails_within_timeout():
    t0 = time.perf_counter()
    with pytest.raises(MipnetError, match="cannot reach the Dask scheduler at tcp://127.0.0.1:9"):
        run_many(_fails, [1, 2], scheduler="tcp://127.0.0.1:9", connect_timeout=2)
    assert time.perf_counter() - t0 < 15
