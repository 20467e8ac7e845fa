"""Sample-group lower bound: disjoint groups of samples solved separately (in parallel processes).

With the objective F(w) = (1/N) sum_n loss_n(w) + P(w) and a partition of the samples into groups
G_1..G_g, write F(w) = sum_k F_k(w) with F_k(w) = (1/N) sum_{n in G_k} loss_n(w) + P(w) / g. Then

    min_w F(w) >= sum_k min_w F_k(w) >= sum_k bound_k,

because each F_k is minimised over its own copy of the weights (a relaxation), and every bound_k the
solver proves is below min F_k. Budgets and symmetry breaking hold in every group (they constrain
the weights only), so the groups keep them. Each group is a much smaller MILP.

Weighted rows (``sample_weight``, the counts of merged duplicates: :func:`.formulation.merge_rows`): loss_n is
then c_n loss_n and N the original row count D; each group keeps its rows' weights, so the split is the same
identity.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import numpy as np

from ..deadline import Deadline, OutOfTime
from ..interrupt import process_map
from ..solve import solve
from .formulation import TrainConfig, TrainingProblem


def _solve_group(args: tuple[Any, ...]) -> dict[str, Any]:
    X, t, task, n_classes, cfg_d, n_groups, time_limit, solver, N, threads, weight = args
    cfg_d = dict(cfg_d)
    cfg_d["hidden"] = tuple(cfg_d["hidden"])
    cfg = TrainConfig(**cfg_d)
    dl = Deadline.of(time_limit)
    skipped = {"n": int(X.shape[0]), "status": "unknown", "bound": 0.0, "incumbent": None, "time": 0.0}
    try:  # out of time: the group's bound is 0 (every objective term is >= 0), still valid
        prob = TrainingProblem(
            X,
            t,
            task,
            n_classes,
            cfg,
            solver=solver,
            penalty_weight=1.0 / n_groups,
            loss_denominator=N,
            deadline=dl,
            after_build=1.0,
            sample_weight=weight,
        )
    except OutOfTime:
        return skipped
    if dl.expired():
        return skipped
    res = solve(prob.model, solver, time_limit=dl.solver_limit(), threads=threads)
    bound = res.bound if res.bound is not None else 0.0  # every objective term is >= 0
    if res.status == "infeasible":
        bound = float("inf")
    return {
        "n": int(X.shape[0]),
        "status": res.status,
        "bound": float(max(bound, 0.0)),
        "incumbent": res.incumbent,
        "time": res.wall_time,
    }


def sample_group_bound(
    X: np.ndarray,
    target: np.ndarray,
    task: str,
    n_classes: int,
    config: TrainConfig,
    *,
    groups: int,
    solver: str = "highs",
    time_limit: float | Deadline = 60.0,
    processes: int = 1,
    seed: int = 0,
    threads: int | None = None,
    sample_weight: np.ndarray | None = None,
    loss_denominator: float | None = None,
) -> dict[str, Any]:
    """The sum of the groups' proved bounds (a valid lower bound of the full training problem).

    ``time_limit``: seconds per group (a float), or a :class:`~mipnet.deadline.Deadline` for all of them (each
    group then gets its share of what is left: one wave of ``processes`` groups after another; a group left
    without time contributes the bound 0).

    HiGHS fixes its thread count at the first solve of a process: in-process groups use ``threads``
    (the caller's setting), worker processes one thread each.

    ``sample_weight`` (one per row) and ``loss_denominator`` (default: their sum, else the row count) as in
    :class:`~.formulation.TrainingProblem`: the bound of the weighted problem.
    """
    N = X.shape[0]
    w = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64).ravel()
    D = loss_denominator or (N if w is None else float(w.sum()))
    groups = max(1, min(int(groups), N))
    order = np.random.default_rng(seed).permutation(N)
    parts = np.array_split(order, groups)
    cfg_d = asdict(config)
    total = time_limit if isinstance(time_limit, Deadline) else None
    jobs = [
        (
            X[p],
            target[p],
            task,
            n_classes,
            cfg_d,
            groups,
            time_limit,
            solver,
            D,
            1 if processes > 1 else threads,
            None if w is None else w[p],
        )
        for p in parts
    ]
    if processes > 1:
        if total is not None:  # wave w of the groups ends at (w + 1) / waves of the time left
            waves = -(-groups // processes)
            left = total.remaining()
            jobs = [
                j[:6] + (total.sub(seconds=left * (k // processes + 1) / waves),) + j[7:] for k, j in enumerate(jobs)
            ]
        out = process_map(_solve_group, jobs, processes)  # Ctrl-C: workers killed, no orphans
    else:
        out = [
            _solve_group(j if total is None else j[:6] + (total.share(groups - k),) + j[7:]) for k, j in enumerate(jobs)
        ]
    return {"bound": float(sum(o["bound"] for o in out)), "groups": out}
