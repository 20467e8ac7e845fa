"""The matrix training MILP solved in a process of its own (``python -m mipnet.train.matrix.child JOB ANSWER``).

The parent (:func:`mipnet.train.large_data.matrix_milp`) writes the job, waits until its deadline and kills this
process if it has not answered: HiGHS overran its own time limit by minutes on larger models of this MILP. The
answer holds the status, the proved bound, the solver's network and sizes; the parent recomputes every objective.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import sys
import time
from typing import Any

import numpy as np

#: seconds kept between the end of the solve and the parent's deadline, for reading the solution and writing
#: the answer
ANSWER_SECONDS = 0.5


def solve_job(job: tuple[Any, ...]) -> dict[str, Any]:
    """Build the MILP, start it from the network, solve until ``ANSWER_SECONDS`` before the job's end (a
    wall-clock time, ``time.time()``); the answer (module docstring)."""
    from ...errors import MipnetError
    from .model import MatrixTrainingModel

    t0 = time.perf_counter()
    Xm, tm, counts, n_rows, cfg, weights, end_wall, threads, seed, mip_gap = job
    model = MatrixTrainingModel(Xm, tm, cfg, sample_weight=counts, loss_denominator=n_rows)
    with contextlib.suppress(MipnetError, RuntimeError):  # a start outside the class: solve without it
        model.set_start(weights)
    built = time.perf_counter() - t0
    seconds = end_wall - time.time() - ANSWER_SECONDS  # the answer reaches the parent before its deadline
    res = model.solve(max(0.1, seconds), threads=threads, seed=seed, mip_gap=mip_gap)
    w = model.weights() if res.objective is not None else None
    h = model.highs()
    try:
        version = f"{h.versionMajor()}.{h.versionMinor()}.{h.versionPatch()}"
    except AttributeError:
        version = "unknown"
    return {
        "status": res.status,
        "bound": res.bound,
        "seconds": res.seconds,
        "built": built,
        "weights": None if w is None else [(np.asarray(W), np.asarray(b)) for W, b in w],
        "variables": model.size().get("variables"),
        "version": version,
    }


def main(argv: list[str]) -> int:
    job_path, out_path = argv[0], argv[1]
    with open(job_path, "rb") as fh:
        job = pickle.load(fh)  # written by the parent process for this child
    try:
        answer = solve_job(job)
    except Exception as exc:  # noqa: BLE001 - reported to the parent as one line, never a false result
        answer = {"error": f"{type(exc).__name__}: {exc}"}
    tmp = out_path + ".part"
    with open(tmp, "wb") as fh:
        pickle.dump(answer, fh, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(tmp, out_path)  # the parent sees a whole answer or none
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
