"""Training at sizes the Pyomo model does not reach: pattern search and the matrix MILP around the warm start.

When the scale plan (:mod:`.scale_policy`) says the Pyomo training MILP would not be built and translated in
time (or in memory), the trainer keeps the warm start (the gradient net or the surrogate mapped into the class)
and, for the sign class with the binary hinge and l1 (what both tools below cover):

1. **Pattern search** (:mod:`.pattern_search`), at most ``PATTERN_SHARE`` of the time left: a local search
   over activation patterns, each pattern an LP in the weights; the network it returns has an objective,
   recomputed with numpy, never above the start's.
2. **The dual bound** (:mod:`.dual_bound`; run by the trainer), seeded by the incumbent's units.
3. **The matrix MILP** (:mod:`.matrix`): the same MILP as the Pyomo model, built as sparse matrices and handed
   to HiGHS (about 100x faster to build and translate), started from the incumbent and given the time left.
   Its proved bound is the certificate's MILP bound; its network replaces the incumbent only if its objective,
   recomputed with numpy on the merged rows, is lower.

Every figure that reaches the certificate is recomputed there (:func:`.outcome.finish`): the objective by numpy
on the original rows, the bound as the larger of the MILP's and the dual bound.
"""

from __future__ import annotations

import os
import time
from dataclasses import replace
from typing import Any, Callable

import numpy as np

from ..deadline import Deadline
from ..errors import LimitError, MipnetError, SolverError
from ..network import Network
from ..solve import Result
from .config import TrainConfig
from .dual_record import DUAL_SHARE_UNSOLVED, dual_applies, dual_bound_record
from .formulation import TrainingProblem
from .options import TrainOptions
from .outcome import TrainResult, _seconds, finish
from .scale_policy import ScalePolicy, load_slowdown, proved_words
from .scale_policy import estimate as scale_estimate
from .sign_start import SURROGATE_SHARE_GUARD, better_start, logistic_start, surrogate_applies
from .warmstart import map_to_class, no_solve_result

Weights = list[tuple[np.ndarray, np.ndarray]]

#: share of the time left (after the warm start) that the pattern search may take
PATTERN_SHARE = 0.3
#: from this many distinct rows on, the sign class (hinge, l1) skips the Pyomo model for this path: its build and
#: translation take 16-30 s per 1000 rows (results/training/train_build.md) and its MILP returned the warm start
#: unchanged at every size from 300 rows up (results/training)
LARGE_ROWS = 500
#: the matrix MILP is not started above this many (estimated) nonzeros: at full Adult (28 265 distinct rows,
#: about 11 M) HiGHS ran past the fit's 1800 s limit by minutes inside its solve and found nothing, and at Adult
#: 3000 (2 939 distinct rows, 1.15 M) it overran the 13-20 s it was given in 3 of 3 runs (the answer lost, the
#: child killed; results/training/train_scale_sweep.md); COMPAS full (0.29 M) and COMPAS 1000 (85 k) answer
MATRIX_MAX_NNZ = 1_000_000
#: the end of a matrix MILP's termination text when its network replaced the start
IMPROVED = "; a better network"
#: below this many seconds left neither the search nor the matrix MILP is started
MIN_SECONDS = 2.0
#: the matrix build takes about this many seconds per nonzero on this machine (train_build.md:
#: 6.5 s for Adult 10000's 5.0 M nonzeros, loaded); the MILP is started only if building it takes at most
#: the scale policy's share of the time left (half by default)
BUILD_SECONDS_PER_NNZ = 1.5e-6


def fit_without_model(
    X: np.ndarray,
    y: np.ndarray,
    Xs: np.ndarray,
    target: np.ndarray,
    task: str,
    n_classes: int,
    cfg: TrainConfig,
    gw: Weights | None,
    problem: TrainingProblem | None,
    build: Callable[[Weights, TrainingProblem], Network],
    reason: str,
    opts: TrainOptions,
    *,
    deadline: Deadline | None = None,
    gradient_seconds: float = 0.0,
    merged: tuple[np.ndarray, np.ndarray, np.ndarray | None] | None = None,
    **common: Any,
) -> TrainResult:
    """No MILP (the scale plan said no, or the time limit left no room to build or translate it): the warm start
    mapped into the class, its objective by numpy, status ``feasible``; the dual bound if one applies, and the note
    says what was proved ("no certificate: no bound was proved" without one).

    Without the full model, the mapping uses the model of two samples: the weight variables, their boxes and the
    switches (what the mapping reads) do not depend on the samples. ``common``: what :func:`~.outcome.finish`
    records (the solve settings of ``opts.record()`` among them).

    ``merged`` (the merged rows, labels and counts; sign class, binary hinge, l1, HiGHS): the pattern search, the
    dual bound and the matrix MILP of the module docstring run around the warm start."""
    solver, time_limit, seed = opts.solver, opts.limit_seconds, opts.seed
    if gw is None:
        raise LimitError(
            f"{solver} found no network within the time the fit had ({_seconds(time_limit)}): {reason}; "
            "raise the time limit"
        )
    if problem is None and deadline is not None:  # the two-row model's build cannot be interrupted
        need = scale_estimate(2, Xs.shape[1], cfg.hidden, base_mb=0.0, slowdown=load_slowdown()).build_seconds
        if not deadline.allows(need):
            raise LimitError(
                f"{solver} found no network within the time the fit had ({_seconds(time_limit)}): {reason}, and the "
                f"model that maps the warm start into the class ({sum(cfg.hidden)} hidden units) takes about "
                f"{_seconds(need)} to build, more than the {_seconds(max(0.0, deadline.remaining()))} left; "
                "raise the time limit"
            )
    # (the two-row model without the parity bound: its groups are the data's rows)
    mapper = (
        problem
        if problem is not None
        else TrainingProblem(
            Xs[:2],
            target[:2],
            task,
            n_classes,
            replace(cfg, constraints=tuple(c for c in cfg.constraints if c.kind != "parity")),
            solver=solver,
        )
    )
    if [W.shape for W, _ in gw] != [lp.shape for lp in mapper.params]:
        raise SolverError(
            f"{solver} found no network within the time the fit had ({_seconds(time_limit)}): {reason} "
            "(and the gradient net does not fit the architecture); raise the time limit"
        )
    weights = map_to_class(gw, mapper)
    origin = "gradient net"
    if cfg.loss == "logistic":  # the best constant network when the mapped net's loss is no lower (:mod:`.sign_start`)
        weights, origin = logistic_start(weights, Xs, target, cfg) or (weights, origin)
    if (
        surrogate_applies(cfg, task, n_classes)
        and deadline is not None
        and deadline.allows(SURROGATE_SHARE_GUARD * gradient_seconds)
    ):
        weights, origin = better_start(weights, mapper, Xs, target, cfg, seed, 0.3 * deadline.remaining())
    reason = f"{reason}; the network is the warm start ({origin.split(' (')[0]})"
    say = opts.say()
    large = merged is not None and deadline is not None and opts.solver == "highs" and applies(cfg)
    pattern_info = None
    if large:
        assert merged is not None and deadline is not None
        weights, pattern_info = search_patterns(weights, *merged, Xs.shape[0], cfg, deadline, seed=seed, say=say)
        if pattern_info is not None and pattern_info["objective"] < pattern_info["start_objective"]:
            reason = (
                f"{reason}, improved by the pattern search (objective {pattern_info['start_objective']:.6g} -> "
                f"{pattern_info['objective']:.6g})"
            )
            origin = f"{origin}, improved by the pattern search"
    dual = None
    if dual_applies(cfg, task, n_classes) and deadline is not None:
        dual = dual_bound_record(
            Xs,
            target,
            cfg,
            weights,
            deadline.sub(seconds=DUAL_SHARE_UNSOLVED * max(0.0, deadline.remaining() - 1.0)),
            opts.solve,
            opts.say(),
        )
    res = no_solve_result(solver, reason, status="feasible")
    chosen = None
    if large:
        assert merged is not None and deadline is not None
        policy = opts.scale_policy if opts.scale_policy is not None else ScalePolicy.from_env()
        chosen, mres = matrix_milp(
            weights,
            *merged,
            Xs.shape[0],
            cfg,
            deadline,
            threads=opts.threads,
            seed=seed,
            mip_gap=opts.mip_gap,
            say=say,
            time_share=policy.time_share,
        )
        if mres is not None:
            res = mres
            better = mres.termination.endswith(IMPROVED)
            status = mres.termination.split(": ")[1].split(";")[0]
            reason = f"{reason}; the matrix MILP ran ({status}, {mres.wall_time:.1f} s)" + (
                " and found a better network" if better else ", the network above kept"
            )
            if better:
                origin = f"the matrix MILP's solution (better than the warm start, the {origin})"
        else:
            chosen = None
    if pattern_info is not None:
        common = {**common, "pattern_search": pattern_info}
    words = proved_words(dual, None if res.bound is None else float(res.bound))
    opts.say()(f"{words}; the network: {origin}")
    out = finish(
        mapper,
        res,
        weights,
        None,
        None,
        X,
        y,
        cfg,
        group_info=None,
        evaluate=False,
        note=f"not solved: {reason}; {words}",
        dual=dual,
        build=lambda w: build(w, mapper),
        weights=chosen,
        **common,
    )
    if words != proved_words(None) and out.certificate.bound is None:
        # finish() discarded the dual bound (above the incumbent): the note must not claim it
        out.certificate.formulation["time_limit_note"] = f"not solved: {reason}; {proved_words(None)}"
        for net in (out.network, out.network_full):
            net.metadata = {**(net.metadata or {}), "certificate": out.certificate.to_dict()}
    return out


def applies(cfg: TrainConfig) -> bool:
    """Whether the matrix MILP covers ``cfg`` (and the pattern search with it): sign class, binary hinge, l1."""
    from .matrix.rows import check_supported

    try:
        check_supported(cfg)
    except MipnetError:
        return False
    return True


def search_patterns(
    weights: Weights,
    Xm: np.ndarray,
    tm: np.ndarray,
    counts: np.ndarray | None,
    n_rows: int,
    cfg: TrainConfig,
    deadline: Deadline,
    *,
    seed: int | None,
    say: Callable[[str], None],
) -> tuple[Weights, dict[str, Any] | None]:
    """The pattern search from ``weights`` with at most ``PATTERN_SHARE`` of the time left; returns the better
    network (never worse: the search keeps only moves that lower the numpy objective) and its record."""
    from .pattern_search import improve_by_patterns

    left = deadline.remaining()
    if not applies(cfg) or left < MIN_SECONDS:
        return weights, None
    t0 = time.perf_counter()
    res = improve_by_patterns(
        Xm,
        tm,
        weights,
        l1=cfg.l1,
        margin=cfg.margin,
        weight_bound=cfg.weight_bound,
        bias_bound=cfg.bias_bound,
        sample_weight=counts,
        loss_denominator=n_rows,
        deadline=deadline.sub(seconds=PATTERN_SHARE * left),
        seed=int(seed or 0),
    )
    info: dict[str, Any] = {
        "start_objective": res.start_objective,
        "objective": res.objective,
        "seconds": time.perf_counter() - t0,
        **{k: res.info[k] for k in ("rounds", "lp_solves", "stop") if k in res.info},
    }
    say(
        f"pattern search: objective {res.start_objective:.6g} -> {res.objective:.6g} "
        f"({info.get('rounds', '?')} rounds, {info['seconds']:.1f} s)"
    )
    return (zero_dead_units(res.weights) if res.improved else weights), info


def matrix_milp(
    weights: Weights,
    Xm: np.ndarray,
    tm: np.ndarray,
    counts: np.ndarray | None,
    n_rows: int,
    cfg: TrainConfig,
    deadline: Deadline,
    *,
    threads: int | None,
    seed: int | None,
    mip_gap: float | None,
    say: Callable[[str], None],
    time_share: float = 0.5,
) -> tuple[Weights, Result | None]:
    """The matrix MILP (module docstring, step 3) from ``weights`` with the time left: the better of the two
    networks by the numpy objective on the merged rows, and the solve's :class:`~mipnet.solve.Result` (its bound
    valid for every network of the class; ``incumbent`` the chosen network's objective), or None if not run: it is
    built only if its estimated build time is at most ``time_share`` of the time left (the scale policy's share)."""

    left = deadline.remaining()
    nnz = Xm.shape[0] * int(cfg.hidden[0]) * (Xm.shape[1] + 12)
    if not applies(cfg):
        return weights, None
    if nnz > MATRIX_MAX_NNZ:
        say(f"matrix MILP: not run ({Xm.shape[0]} distinct rows, about {nnz / 1e6:.1f} M nonzeros: above the cap)")
        return weights, None
    if left < MIN_SECONDS or BUILD_SECONDS_PER_NNZ * nnz > time_share * left:
        say(f"matrix MILP: not run ({left:.1f} s left)")
        return weights, None
    t0 = time.perf_counter()
    # in a child process, ended at the deadline: HiGHS overran its own time limit (and the interrupt callbacks it
    # polls) by minutes on larger models of this MILP (Adult: 2500 rows, 15 s asked, 70 s taken)
    # the child's solve ends at this wall-clock time (not after ``left`` seconds of its own: its interpreter
    # start and imports would push its answer past the deadline, and the parent would discard a finished solve)
    job = (Xm, tm, counts, n_rows, cfg, weights, time.time() + left, threads, seed, mip_gap)
    out = _in_child(job, deadline)
    if out is None:
        say(f"matrix MILP: stopped at the time limit without a result ({time.perf_counter() - t0:.1f} s)")
        return weights, None
    if "error" in out:
        say(f"matrix MILP: not run ({out['error']})")
        return weights, None
    model_obj = _objective(Xm, tm, counts, n_rows, cfg)
    start_obj = model_obj(weights)
    chosen, obj = weights, start_obj
    if out["weights"] is not None:
        cand = [(np.asarray(W), np.asarray(b)) for W, b in out["weights"]]
        cand_obj = model_obj(cand)  # recomputed here with numpy, not taken from the child
        if cand_obj < start_obj:
            chosen, obj = cand, cand_obj
    status = out["status"] if out["status"] in ("optimal", "feasible") else "feasible"
    bound = out["bound"]
    if status == "optimal" and obj > (bound if bound is not None else obj) + 1e-6 * max(1.0, abs(obj)):
        status = "feasible"  # the solver's optimum was not the network kept (cannot be, but never claim it)
    say(
        f"matrix MILP: {out['variables']} variables, built in {out['built']:.1f} s; {out['status']}, "
        f"objective {obj:.6g}, bound {bound if bound is not None else float('nan'):.6g}, {out['seconds']:.1f} s"
    )
    res = Result(
        status=status,
        incumbent=obj,
        bound=bound,
        gap=None,
        wall_time=float(out["seconds"]),
        nodes=None,
        solver="highs",
        solver_version=str(out["version"]),
        termination=f"matrix MILP: {out['status']}" + (IMPROVED if chosen is not weights else ""),
    )
    return zero_dead_units(chosen), res


#: seconds the parent waits past the deadline for the child's answer before it ends the child
CHILD_GRACE = 2.0


def _in_child(job: tuple[Any, ...], deadline: Deadline) -> dict[str, Any] | None:
    """Run :func:`~.matrix.child.solve_job` on ``job`` in a fresh interpreter (``python -m
    mipnet.train.matrix.child``, the job and the answer as files in a temporary folder); its answer, or None when
    the deadline (plus ``CHILD_GRACE``) came first or the child died: the child is then killed. Ctrl-C kills it
    too. A fresh interpreter, not multiprocessing: the caller's script is never imported again."""
    import pickle
    import subprocess
    import sys
    import tempfile

    from .. import interrupt

    with tempfile.TemporaryDirectory(prefix="mipnet-milp-") as tmp:
        job_path, out_path = os.path.join(tmp, "job.pkl"), os.path.join(tmp, "answer.pkl")
        with open(job_path, "wb") as fh:
            pickle.dump(job, fh, protocol=pickle.HIGHEST_PROTOCOL)
        proc = subprocess.Popen(
            [sys.executable, "-m", "mipnet.train.matrix.child", job_path, out_path],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        stop = time.perf_counter() + deadline.remaining() + CHILD_GRACE  # (remaining() is never below 0)
        try:
            with interrupt.native():
                while proc.poll() is None:
                    interrupt.check()
                    if time.perf_counter() > stop:
                        break
                    time.sleep(0.1)
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait(timeout=10.0)
        if proc.returncode != 0 or not os.path.exists(out_path):
            return None
        with open(out_path, "rb") as fh:
            out: dict[str, Any] = pickle.load(fh)  # written by our own child from our own job
        return out


def _objective(
    Xm: np.ndarray, tm: np.ndarray, counts: np.ndarray | None, n_rows: int, cfg: TrainConfig
) -> Callable[[Weights], float]:
    """F of a sign-class network on the merged rows with numpy: (1/N) sum_n k_n max(0, m - y_n f(x_n))
    + l1 (||W||_1 + ||v||_1)."""
    k = np.ones(Xm.shape[0]) if counts is None else np.asarray(counts, dtype=np.float64)

    def F(w: Weights) -> float:
        W, b = (np.asarray(a, dtype=np.float64) for a in w[0])
        v = np.asarray(w[1][0], dtype=np.float64).reshape(-1)
        c = float(np.asarray(w[1][1]).reshape(-1)[0])
        f = np.maximum(Xm @ W.T + b, 0.0) @ v + c
        loss = float(k @ np.maximum(0.0, float(cfg.margin) - tm * f)) / float(n_rows)
        return loss + float(cfg.l1) * float(np.abs(W).sum() + np.abs(v).sum())

    return F


def zero_dead_units(weights: Weights) -> Weights:
    """Units whose output weight v_j is 0 get W_j = 0, b_j = 0 (the function is unchanged; the l1 term of the
    certificate, which counts every Dense weight, is not charged for weights no output reads)."""
    (W, b), (v, c) = weights
    W, b, v = np.array(W, dtype=np.float64), np.array(b, dtype=np.float64), np.asarray(v, dtype=np.float64)
    dead = np.asarray(v).reshape(-1) == 0
    W[dead] = 0.0
    b[dead] = 0.0
    return [(W, b), (v, np.asarray(c, dtype=np.float64))]


__all__ = [
    "LARGE_ROWS",
    "PATTERN_SHARE",
    "applies",
    "fit_without_model",
    "matrix_milp",
    "search_patterns",
    "zero_dead_units",
]
