"""What a training run returns and how it is finished: :class:`TrainResult`, the target encoding and
:func:`finish` (the returned weights, a consistent model point, the certificate and its re-check; with domain
constraints their numpy checks in the certificate's formulation, with the linear term its units in the networks'
metadata). Shared by the
dense (:mod:`.trainer`) and the conv (:mod:`.conv_trainer`) trainers, which both import it."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np
import pyomo.environ as pyo

from ..deadline import Deadline
from ..errors import DataError, LimitError, SolverError
from ..gaps import gap_closed
from ..network import Network
from ..solve import Result, solve
from .formulation import TrainConfig, TrainingProblem
from .linear_term import META_KEY as LINEAR_KEY
from .linear_term import shifted_units
from .objective_check import NOT_TIGHT, Certificate, check_certificate, data_hash, recompute_terms
from .scaling import column_scale
from .warmstart import (
    Weights,
    fixed_lp,
    fixed_weights_mip,
    fresh_lp_state,
    lp_solver_for,
    max_violation,
    milp_options,
    no_solve_result,
)

#: seconds of translating the model to HiGHS per second of building it (measured 0.7-1.0 at N = 300-3000):
#: the translation is not started when the time left would not cover it
TRANSLATE_PER_BUILD = 1.0
#: a solve (or an LP heuristic) is not started with less time than this left
MIN_SOLVE_SECONDS = 0.5


@dataclass
class TrainResult:
    network: Network  # pruned, raw features in
    network_full: Network  # as solved (every unit kept)
    certificate: Certificate
    result: Result
    check: dict[str, Any]


def encode_targets(
    y: np.ndarray, task: str, classes: Sequence[Any] | None = None
) -> tuple[np.ndarray, list[Any] | None, int, float, float]:
    """(target for the MILP, classes, n_classes, mean, scale). Binary: -1/+1 with the second class +1."""
    y = np.asarray(y)
    if y.ndim != 1:
        raise DataError(f"the target must be one column, got shape {y.shape}")
    if task == "regress":
        t = y.astype(np.float64)
        if not np.all(np.isfinite(t)):
            raise DataError("the regression target contains NaN or inf")
        mu_, sd_ = column_scale(t.ravel())
        mu, sd = float(mu_), float(sd_)
        return (t - mu) / sd, None, 0, mu, sd
    cls = list(classes) if classes is not None else sorted(set(y.tolist()), key=lambda v: (str(type(v)), v))
    if len(cls) < 2:
        raise DataError(f"classification needs at least two classes, the target has {len(cls)}")
    lookup = {v: i for i, v in enumerate(cls)}
    idx = np.array([lookup[v] for v in y.tolist()])
    if len(cls) == 2:
        return np.where(idx == 1, 1.0, -1.0), cls, 2, 0.0, 1.0
    return idx, cls, len(cls), 0.0, 1.0


def solve_milp(
    problem: TrainingProblem,
    solver: str,
    remaining: float,
    *,
    threads: int | None,
    start: Any,
    opts: Any,
    instance: Any = None,
    say: Callable[[str], None] = lambda line: None,
) -> Result:
    """Solve the training MILP with the ``remaining`` seconds (from the warm start ``start``), or, with less than
    :data:`MIN_SOLVE_SECONDS` left, return a result that says the time limit came first; log one line either way.
    ``opts``: the run's :class:`~mipnet.train.options.TrainOptions` (tee, mip_gap, progress)."""
    if remaining < MIN_SOLVE_SECONDS:
        res = no_solve_result(
            solver, "the time limit was reached before the solve", status="feasible" if start is not None else "unknown"
        )
    else:
        res = solve(
            problem.model,
            solver,
            time_limit=remaining,
            threads=threads,
            warm_start=start,
            tee=opts.tee,
            mip_gap=opts.mip_gap,
            progress=opts.progress,
            instance=instance,
            options=milp_options(problem, solver, remaining),
        )
    say(solve_line(res))
    return res


def solve_line(res: Result) -> str:
    """The log line of a training solve: status, incumbent, bound, gap, seconds."""
    gap = "n/a" if res.gap is None else f"{100 * res.gap:.2f} %"
    return f"solver: {res.status}, incumbent {res.incumbent}, bound {res.bound}, gap {gap}, {res.wall_time:.1f} s"


def _infeasible(solver: str, constraints: Any) -> Exception:
    """The solver proved the training MILP infeasible: no network of the class meets the constraints (no longer
    time helps)."""
    from .constraints import PREDICTION_EPS, ConstraintError

    band = (
        f"; a parity constraint also keeps every training output outside (-{PREDICTION_EPS:g}, {PREDICTION_EPS:g}) "
        "(its 0-1 predictions must be decided), which small weight or bias boxes may not allow"
        if any(c.kind == "parity" for c in constraints)
        else ""
    )
    return ConstraintError(
        f"infeasible: {solver} proved that no network of this class (its weight boxes and width) meets the training "
        f"constraints together (kinds: {', '.join(c.kind for c in constraints)}){band}; relax one of them"
    )


def finish(
    problem: TrainingProblem,
    res: Result,
    warm_w: Weights | None,
    warm_obj: float | None,
    heur_obj: float | None,
    X: np.ndarray,
    y: np.ndarray,
    cfg: TrainConfig,
    *,
    solver: str,
    time_limit: float | None,
    threads: int | None,
    mip_gap: float,
    t_start: float,
    group_info: dict[str, Any] | None,
    classes: list[Any] | None,
    target_scale: float,
    build: Callable[[Weights], Network],
    sign_patterns: list[dict[str, Any]] | None = None,
    penalty_selection: Any = None,
    instance: Any | None = None,
    deadline: Deadline | None = None,
    data_reduction: dict[str, int] | None = None,
    evaluate: bool = True,
    note: str | None = None,
    dual: dict[str, Any] | None = None,
    weights: Weights | None = None,
    pattern_search: dict[str, Any] | None = None,
    cuts: dict[str, Any] | None = None,
) -> TrainResult:
    """After the solve: the returned weights, a consistent model point, the certificate and its re-check.

    ``weights``: the network the caller chose, when the solve ran outside ``problem``'s model (the matrix MILP of
    :mod:`.large_data`); ``res`` then carries that solve's status and bound.

    ``cuts``: the cutting-plane fit's record (:mod:`.linear_cuts`): its bound is the master's (``bound_source``
    "cuts"), its points go to the formulation for the re-check.

    ``evaluate=False`` (the model was not built or translated in time): no model point, ``model_terms`` empty;
    the certificate rests on numpy's terms alone. Past ``deadline`` a network the model cannot re-evaluate at
    once is certified the same way instead of failing (``note`` says why)."""
    task, cls, y_sd = problem.task, classes, target_scale
    dl = deadline if deadline is not None else Deadline(None)
    if weights is not None:
        pass
    elif res.has_solution:
        weights = problem.zero_dead_units(problem.weight_values())
    elif res.status == "infeasible" and cfg.constraints:
        raise _infeasible(solver, cfg.constraints)
    elif warm_w is not None:
        weights = warm_w
    else:
        raise LimitError(
            f"{solver} found no network within the time the fit had ({_seconds(time_limit)}); raise the time limit"
        )
    if cfg.constraints:  # the weight constraints met exactly, not to the solver's tolerance (:mod:`.constraint_rows`)
        from .constraint_rows import clean_weights

        weights = clean_weights(weights, problem)
    model_terms: dict[str, float] = {}
    point_note: str | None = None
    size = problem.size() if evaluate else {}
    if evaluate:
        lp_solver = lp_solver_for(problem, solver)
        # a consistent point at exactly these weights: every binary and auxiliary recomputed
        loaded = [(v, v.value) for v in problem.model.component_data_objects(pyo.Var)]
        fresh_lp_state(instance)
        obj = fixed_lp(problem, weights, free_weights=False, solver=lp_solver, threads=threads, instance=instance)
        tight = obj is not None  # the LP at fixed weights minimises every auxiliary onto its term
        if obj is None and dl.allows(TRANSLATE_PER_BUILD * getattr(problem, "build_seconds", 0.0) + MIN_SOLVE_SECONDS):
            # near-ties (a pre-activation or a pooling window within the solver's tolerance of a switch)
            # can make the numpy-derived binaries inconsistent with the model's big-M rows: keep the
            # weights fixed and let the solver choose the binaries (a fresh translation of the model)
            obj = fixed_weights_mip(
                problem, weights, solver=solver, threads=threads, time_limit=dl.solver_limit(cap=30.0)
            )
        if obj is None and res.has_solution:
            # the solver's own point, if it satisfies every row to 1e-6 (the numpy re-check below decides)
            for v, x in loaded:
                v.set_value(x, skip_validation=True)
            if max_violation(problem.model) <= 1e-6:
                obj = problem.objective_value()
        if obj is not None:
            model_terms = problem.term_values()
            if not tight:  # a MIP's or the solver's point: model >= true is what it shows (objective_check)
                point_note = NOT_TIGHT
        elif dl.expired():
            note = "the time limit came before the network could be re-evaluated in the model"
        else:
            raise SolverError("the solver's network could not be re-evaluated in the model (numerical trouble)")
    bound = res.bound
    bound_source = None if bound is None else ("cuts" if cuts is not None else "milp")
    if group_info is not None and group_info["bound"] is not None:
        if bound is None or group_info["bound"] > bound:
            bound, bound_source = group_info["bound"], "groups"
    coefficients = {
        "l1": cfg.l1,
        "l2": cfg.l2,
        "l0": cfg.l0,
        "neuron_penalty": cfg.neuron_penalty,
        "layer_penalty": cfg.layer_penalty,
    }
    if cfg.channel_penalty > 0:
        coefficients["channel_penalty"] = cfg.channel_penalty
    full = build(weights)
    checks = None
    if cfg.constraints:  # each constraint measured with numpy on the returned network (:mod:`.constraints`)
        from .constraints import check_constraints

        checks = check_constraints(full, cfg.constraints, X)
        broken = [c["constraint"] for c in checks if not c["holds"]]
        if broken and res.status == "infeasible":
            raise _infeasible(solver, cfg.constraints)
        if broken:  # never a network that breaks what the user required (the warm start, when no solve ran)
            raise LimitError(
                f"no network meeting the training constraints was found within the time limit "
                f"({_seconds(time_limit)}): {', '.join(map(str, broken))} do(es) not hold on the best network "
                "found; raise the time limit"
            )
    oa = [k for k in problem.oa_terms]
    cert = Certificate(
        status=res.status,
        incumbent=None,
        bound=bound,
        gap=None,
        terms={},
        model_terms=model_terms,
        solver_incumbent=res.incumbent,
        wall_time=0.0,
        solve_time=res.wall_time,
        nodes=res.nodes,
        solver=res.solver,
        solver_version=res.solver_version,
        n_samples=len(y),
        data_sha256=data_hash(X, y),
        hypothesis=cfg.hypothesis,
        loss=cfg.loss,
        margin=cfg.margin,
        coefficients=coefficients,
        task=task,
        classes=cls,
        target_scale=y_sd,
        outer_approximated=oa,
        formulation={
            **size,
            **(data_reduction or {}),
            "config": cfg.to_dict(),
            **({"sign_patterns": sign_patterns} if sign_patterns is not None else {}),
            **({"penalty_selection": penalty_selection.to_dict()} if penalty_selection is not None else {}),
            **({"domain_constraints": checks} if checks is not None else {}),
            **({"time_limit_note": note} if note else {}),
            **({"model_point": point_note} if point_note else {}),
            **({"pattern_search": pattern_search} if pattern_search is not None else {}),
            **({"cuts": cuts} if cuts is not None else {}),
        },
        warm_start_objective=warm_obj,
        heuristic_objective=heur_obj,
        group_bound=group_info,
        trace=[list(p) for p in res.trace],
        bound_source=bound_source,
    )
    cert.terms = recompute_terms(full, X, y, cert)
    cert.incumbent = float(sum(cert.terms.values()))
    if dual is not None:
        db = float(dual["bound"])
        if db > cert.incumbent + 1e-9 * max(1.0, abs(cert.incumbent)):  # cannot be: the objectives would differ
            dual = {**dual, "discarded": f"dual bound {db:.9g} above the incumbent {cert.incumbent:.9g}"}
        elif db > 0 and (cert.bound is None or db > cert.bound):
            cert.bound, cert.bound_source = db, str(dual["source"])
        cert.dual_bound = dual
    if cert.bound is not None:
        if cert.status == "optimal" and not oa:
            cert.bound = min(cert.bound, cert.incumbent)
        cert.gap = max(0.0, cert.incumbent - cert.bound) / max(abs(cert.incumbent), 1e-10)
    if cert.status == "optimal" and (
        cert.bound is None or not gap_closed(cert.incumbent, cert.bound, max(10 * mip_gap, 1e-6))
    ):
        cert.status = "feasible"
    if (
        cert.status != "optimal"
        and str(cert.bound_source).startswith("dual")
        and cert.bound is not None
        and gap_closed(cert.incumbent, cert.bound, min(max(10 * mip_gap, 1e-6), 1e-4))
    ):  # the dual bound closed the gap
        cert.status = "optimal"
    cert.wall_time = time.perf_counter() - t_start
    check = check_certificate(full, X, y, cert)
    meta = {"trained_by": "mipnet.train", "hypothesis": cfg.hypothesis, "certificate": cert.to_dict()}
    units = (full.metadata or {}).get(LINEAR_KEY)  # the linear term's units (:mod:`.linear_term`)
    full.metadata = dict(meta, **({LINEAR_KEY: units} if units else {}))
    pruned = saved_network(full, X, y, cert)
    pruned.metadata = dict(meta, **({LINEAR_KEY: shifted_units(units, full, pruned)} if units else {}))
    return TrainResult(pruned, full, cert, res, check)


def _seconds(limit: float | None) -> str:
    """A time budget for a message: 3 digits, whole seconds from 100 s up (not 3.6e+03)."""
    if limit is None:
        return "no limit"
    return f"{limit:.0f} s" if limit >= 100 else f"{limit:.3g} s"


def saved_network(full: Network, X: np.ndarray, y: np.ndarray, cert: Certificate) -> Network:
    """The network a training run saves: ``full`` without its dead units (constant units kept: :meth:`Network.
    pruned`: no bias moves, so the boxes hold as before), provided its objective terms, recomputed with numpy,
    are the certificate's (to 1e-9 relative); ``full`` itself otherwise. The saved network is the one ``mipnet recheck``
    measures, so it must be the certified one term for term (a unit with zero outgoing but non-zero incoming
    weights would take its l1 share with it)."""
    pruned = full.pruned(fold_constants=False)
    terms = recompute_terms(pruned, X, y, cert)
    same = set(terms) == set(cert.terms) and all(
        abs(terms[k] - cert.terms[k]) <= 1e-9 * max(1.0, abs(cert.terms[k])) for k in terms
    )
    return pruned if same else full.copy()
