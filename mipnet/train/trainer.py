"""Train a dense ReLU network by MILP: data -> standardise -> formulation -> warm start -> solve -> certificate.

Before the formulation, ``l1_grid`` may choose the l1 coefficient by cross-validation on the training rows
(:mod:`.penalty_cv`, at most ``CV_SHARE`` of the time limit). The warm start is the gradient-trained MLP
mapped into the hypothesis class (:mod:`.warmstart`); in the sign class with the hinge loss and an l1 term
only, the network of the objective's own proximal-gradient surrogate (:mod:`.surrogate`) is the second
candidate and the one with the lower objective (numpy) is completed and improved by the LP heuristic.

The returned network reads *raw* features: ``Normalize(1/sigma, -mu/sigma)`` (the standardisation
the MILP saw) comes first, then the Dense/ReLU layers found by the solver, and for regression a final
``Normalize(sigma_y, mu_y)`` that maps the standardised output back to the target's units. A hidden
layer the solver switched off (layer switches: all-zero weights, the identity) is left out entirely.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any, Callable, Sequence

import numpy as np

from ..deadline import Deadline, OutOfTime
from ..domain import Domain
from ..errors import DataError, UnsupportedError
from ..layers import Dense, Layer, Normalize, ReLU
from ..network import Network
from ..solve import check_licence
from .constraints import as_constraints, resolve
from .dual_record import DUAL_SHARE, dual_applies, dual_bound_record
from .formulation import TrainConfig, TrainingProblem, merge_rows, resolve_config
from .large_data import LARGE_ROWS, fit_without_model
from .large_data import applies as large_data_applies
from .linear_cuts import applies as cuts_applies
from .linear_cuts import fit_linear_by_cuts
from .linear_term import META_KEY as LINEAR_KEY
from .linear_term import expand_linear
from .options import TrainOptions
from .outcome import (
    MIN_SOLVE_SECONDS,
    TRANSLATE_PER_BUILD,
    TrainResult,
    encode_targets,
    finish,
    solve_line,
    solve_milp,
)
from .scale_policy import ScalePolicy
from .scale_policy import plan as scale_plan
from .scaling import column_scale
from .sign_start import SURROGATE_SHARE, SURROGATE_SHARE_GUARD, better_start, logistic_start, surrogate_applies
from .warmstart import (
    Weights,
    fixed_lp,
    gradient_weights,
    lp_heuristic,
    lp_instance,
    lp_solver_for,
    map_to_class,
    snapshot,
)

_better_start = better_start  # the name tests and older callers import

#: at most this share of the time limit goes to choosing l1 by cross-validation (no split starts after it)
CV_SHARE = 0.25
#: the first split of the cross-validation runs even past CV_SHARE (the later stages take less), but not when it
#: is projected above this share of the whole fit's time left: then one error (Adult, --time-limit 0.5: 8 s)
CV_FIRST_SPLIT_MAX = 0.5
#: share of the time left that the LP heuristic may take: the joint MILP leans on its incumbent; sign patterns
#: search each pattern themselves (and found better networks than 50 s of LP rounds did: results/training)
LP_HEURISTIC_SHARE = {"joint": 0.2, "sign patterns": 0.05}
#: share of the time left that the sample-group bound may take
GROUP_SHARE = 0.3
#: share of the time left that the gradient warm start may take (it is then stopped with the weights it has)
GRADIENT_SHARE = 0.25
#: longest an LP of the warm start may take (the free-weights LP is capped further by the deadline, :func:`_lp_limit`)
WARM_LP_CAP = 30.0


def build_network(
    weights: Weights,
    mu: np.ndarray,
    sd: np.ndarray,
    domain: Domain,
    task: str,
    classes: list[Any] | None,
    y_mu: float,
    y_sd: float,
    metadata: dict[str, Any],
    skip: Sequence[bool] | np.ndarray | None = None,
    linear: np.ndarray | None = None,
) -> Network:
    """Normalize -> Dense -> ReLU -> ... -> Dense (-> Normalize for regression) from one (W, b) per Dense
    layer; ``skip[l]`` True leaves out hidden layer l's Dense + ReLU pair (a skipped layer, the identity:
    :meth:`~.formulation.TrainingProblem.skipped_layers`). ``linear``: the linear term's w0 (K, d), written as
    extra hidden units named in ``metadata["linear_units"]`` (:func:`.linear_term.expand_linear`)."""
    units: list[list[int]] = []
    if linear is not None:  # w0 x as two exact ReLU units per output (:mod:`.linear_term`)
        weights, units = expand_linear(weights, linear)
        metadata = {**metadata, LINEAR_KEY: units} if units else metadata
    layers: list[Layer] = [Normalize(1.0 / sd, -mu / sd)]
    for l, (W, b) in enumerate(weights):
        if skip is not None and l < len(skip) and skip[l]:
            continue
        layers.append(Dense(W.copy(), b.copy()))
        if l < len(weights) - 1:
            layers.append(ReLU())
    if task == "regress":
        layers.append(Normalize(np.array([y_sd]), np.array([y_mu])))
    return Network(layers, domain=domain, class_names=classes, task=task, metadata=metadata)


def train(
    X: np.ndarray,
    y: np.ndarray,
    *,
    task: str = "classify",
    config: TrainConfig | None = None,
    domain: Domain | None = None,
    classes: Sequence[Any] | None = None,
    solver: str = "highs",
    time_limit: float | Deadline = 60.0,
    threads: int | None = None,
    warm_start: bool = True,
    lp_heuristic_rounds: int = 10,
    seed: int | None = 0,
    tee: bool = False,
    log: Callable[[str], None] | None = None,
    group_bound: int | None = None,
    group_processes: int = 1,
    mip_gap: float = 1e-6,
    input_shape: Sequence[int] | None = None,
    downsample: int = 1,
    progress: Callable[[float, float | None, float | None], None] | None = None,
    sign_patterns: bool = False,
    hull_cuts: bool = True,
    l1_grid: Sequence[float] | None = None,
    cv_folds: int = 5,
    merge_duplicates: bool = True,
    linear: bool = False,
    constraints: Sequence[Any] | None = None,
    scale_policy: ScalePolicy | None = None,
    cutting_planes: bool = True,
) -> TrainResult:
    """Train and certify; see the module docstrings of :mod:`.formulation` and :mod:`.certificate`.

    ``sign_patterns`` (sign class): solve one MILP per pattern of output signs and combine them
    (:mod:`mipnet.train.signs`); a tighter relaxation, the time shared among the patterns. With an l1
    term each pattern first tightens its LP by ``hull_cuts`` (:mod:`mipnet.train.hull_cuts`).

    ``l1_grid``: choose the l1 coefficient from these values by cross-validation on (X, y) before the
    solve (:mod:`mipnet.train.penalty_cv`; sign class, hinge loss); the choice is recorded in the
    certificate's formulation (``penalty_selection``) and its time counts against ``time_limit``.

    A ``config.architecture`` (conv net) trains images: ``X`` (N, C, H, W) or flat rows with
    ``input_shape``, optionally average-pooled by ``downsample`` (:func:`mipnet.train.conv_trainer.train_conv`).

    ``merge_duplicates``: rows with the same standardised x and label are one weighted block of the MILP (the loss
    of the merged row times its count: the same objective for every network, one set of ReLU binaries per distinct
    row; :func:`~.formulation.merge_rows`); the certificate is computed on the original rows and records
    ``rows`` and ``distinct_rows`` in its formulation.

    ``time_limit`` (seconds, or a :class:`~mipnet.deadline.Deadline` started by the caller) is for the whole
    fit: cross-validation, the gradient warm start, building the model and translating it to the solver, the LP
    heuristic, the solve (every sign pattern) and the final re-evaluation. A model that cannot be built or
    translated in time is not: the warm start is returned, certified by numpy, status ``feasible``, no bound.
    ``scale_policy`` (:class:`~.scale_policy.ScalePolicy`; None: its defaults and the environment) decides before
    any build whether the MILP is built at all: not when building and translating it would take more than half the
    time left or its memory is above the cap; the warm start then gets the dual bound (sign class, binary hinge) or
    the certificate says "no certificate".

    ``linear``: add the linear (skip) term, f(x) = w0 x + b + sum_j v_j ReLU(W_j x + c_j) (:mod:`.linear_term`;
    one hidden layer), written into the returned network as exact ReLU units. ``constraints``: domain
    constraints (:mod:`.constraints`: :class:`~.constraints.ExcludeFeatures`, :class:`~.constraints.WeightSign`,
    :class:`~.constraints.FeatureBudget`, :class:`~.constraints.OutputOrder`, :class:`~.constraints.ParityBound`
    or their JSON dicts) as rows of the MILP, each checked on the returned network and recorded in the
    certificate's formulation (``domain_constraints``). With either, the dual bound, the surrogate start, sign patterns,
    the sample-group bound and ``l1_grid`` are not used (they bound or search the plain class).

    ``cutting_planes``: the linear term alone (``max_neurons=0``) with the hinge or logistic loss is trained by
    cutting planes on its convex loss, a MILP of 3d + 2 columns whatever N (:mod:`.linear_cuts`; HiGHS); False: by
    the training MILP like every other class.
    """
    return train_with_options(
        X,
        y,
        TrainOptions.build(
            config=config,
            solver=solver,
            time_limit=time_limit,
            threads=threads,
            warm_start=warm_start,
            lp_heuristic_rounds=lp_heuristic_rounds,
            seed=seed,
            tee=tee,
            log=log,
            group_bound=group_bound,
            group_processes=group_processes,
            mip_gap=mip_gap,
            input_shape=input_shape,
            downsample=downsample,
            progress=progress,
            sign_patterns=sign_patterns,
            hull_cuts=hull_cuts,
            l1_grid=l1_grid,
            cv_folds=cv_folds,
            merge_duplicates=merge_duplicates,
            linear=bool(linear),
            constraints=tuple(as_constraints(constraints)),
            scale_policy=scale_policy,
            cutting_planes=bool(cutting_planes),
        ),
        task=task,
        domain=domain,
        classes=classes,
    )


def train_with_options(
    X: np.ndarray,
    y: np.ndarray,
    options: TrainOptions,
    *,
    task: str = "classify",
    domain: Domain | None = None,
    classes: Sequence[Any] | None = None,
) -> TrainResult:
    """:func:`train` with its options built (:class:`~.options.TrainOptions`): the pipeline itself.

    ``X`` (N, d) raw features, ``y`` labels (``task="classify"``) or targets (``"regress"``); the data are
    standardised, ``x_s = (x - mu) / sigma`` per column, before the formulation sees them."""
    opts = options
    if opts.config is not None and opts.config.architecture is not None:
        from .conv_trainer import train_conv

        if opts.linear or opts.constraints:
            raise UnsupportedError("the linear term and domain constraints are supported for dense nets (--hidden)")
        if opts.sign_patterns:
            raise UnsupportedError("sign patterns decompose the sign class; conv architectures are quantized")
        if opts.l1_grid is not None:
            raise UnsupportedError(
                "choosing l1 by cross-validation is not yet supported for conv architectures; "
                "use scikit-learn's GridSearchCV over MIPNetClassifier(l1=...)"
            )
        return train_conv(X, y, task=task, config=opts.config, domain=domain, classes=classes, options=opts)
    dl = opts.deadline
    t_start = time.perf_counter()
    say = opts.say()
    solver, threads, seed = opts.solver, opts.threads, opts.seed
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] < 1:
        raise DataError(f"X must be a non-empty matrix, got shape {X.shape}")
    if not np.all(np.isfinite(X)):
        raise DataError("X contains NaN or inf values")
    if len(y) != X.shape[0]:
        raise DataError(f"X has {X.shape[0]} rows but y has {len(y)}")
    target, cls, n_classes, y_mu, y_sd = encode_targets(np.asarray(y), task, classes)
    cfg = resolve_config(opts.config or TrainConfig(), task, n_classes)
    mu, sd = column_scale(X)
    with np.errstate(divide="ignore", over="ignore"):
        tiny = np.flatnonzero(~np.isfinite(1.0 / sd) | ~np.isfinite(mu / sd))
    if tiny.size:  # 1 / sd overflowed after the solve ("Normalize scale contains NaN or inf")
        raise DataError(
            f"feature {int(tiny[0])} varies by {float(sd[tiny[0]]):.3g} only: too little to standardise (rescale it)"
        )
    if domain is None:
        domain = Domain.from_data(X)
    if opts.linear or opts.constraints:  # checked before any work (:mod:`.constraints`, :mod:`.linear_term`)
        resolved = resolve(
            opts.constraints, domain.names, X, mu, sd, y_scale=y_sd, task=task, n_classes=n_classes, domain=domain
        )
        cfg = resolve_config(
            replace(cfg, linear=cfg.linear or opts.linear, constraints=cfg.constraints + resolved), task, n_classes
        )
    if cfg.linear or cfg.constraints:
        used = [
            n
            for n, on in (
                ("sign patterns", opts.sign_patterns),
                ("the sample-group bound", opts.group_bound),
                ("l1 by cross-validation", opts.l1_grid is not None),
            )
            if on
        ]
        if used:
            raise UnsupportedError(f"{used[0]} is not yet supported with the linear term or domain constraints")
    if opts.sign_patterns and cfg.hypothesis != "sign":
        raise UnsupportedError(
            "sign patterns decompose the sign class (one hidden layer, one output); "
            f"this problem is in the {cfg.hypothesis} class"
        )
    selection = None
    if opts.l1_grid is not None:
        if not surrogate_applies(cfg, task, n_classes):
            from .sign_start import surrogate_obstacles

            raise UnsupportedError(
                "choosing l1 by cross-validation is not yet supported here: it needs the sign class "
                "with the hinge loss and no other penalty or budget (this problem lacks: "
                f"{'; '.join(surrogate_obstacles(cfg, task, n_classes))}); give l1 a number, or use "
                f"scikit-learn's GridSearchCV over {'MIPNetRegressor' if task == 'regress' else 'MIPNetClassifier'}"
                "(l1=...)"
            )
        from .penalty_cv import select_l1, selection_method, selection_score

        selection = select_l1(
            X,
            target,
            cfg.hidden[0],
            opts.l1_grid,
            folds=opts.cv_folds,
            margin=cfg.margin,
            weight_bound=cfg.weight_bound,
            bias_bound=cfg.bias_bound,
            seed=seed,
            deadline=dl.sub(fraction=CV_SHARE),
            first_split_max=CV_FIRST_SPLIT_MAX * dl.remaining() if not dl.unlimited else None,
        )
        cfg = replace(cfg, l1=selection.l1)
        sel = selection.to_dict()
        say(f"l1 by {selection_method(sel)}: {selection.l1:g}, {selection_score(sel)} ({selection.seconds:.1f} s)")
    Xs = (X - mu) / sd
    dom = domain

    def build(w: Weights, prob: TrainingProblem) -> Network:
        return build_network(
            w, mu, sd, dom, task, cls, y_mu, y_sd, {}, skip=prob.skipped_layers(w), linear=prob.linear_w
        )

    # exact data reduction: one weighted row per distinct (x, label); the loss keeps the original row count
    # (not with a parity bound: its groups are per row)
    if opts.merge_duplicates and not any(c.kind == "parity" for c in cfg.constraints):
        Xm, tm, counts, _ = merge_rows(Xs, target)
    else:
        Xm, tm, counts = Xs, target, None
    reduction = {"rows": int(Xs.shape[0]), "distinct_rows": int(Xm.shape[0])}
    # what finish() records besides the run's outcome
    common: dict[str, Any] = dict(
        **opts.record(),
        t_start=t_start,
        classes=cls,
        target_scale=y_sd,
        penalty_selection=selection,
        data_reduction=reduction,
    )
    # the linear term alone with a convex loss: cutting planes, a MILP whose size does not grow with N
    if opts.cutting_planes and solver == "highs" and cuts_applies(cfg, task, n_classes) is None:
        return fit_linear_by_cuts(X, y, Xs, target, Xm, tm, counts, task, n_classes, cfg, build, opts, dl, common)
    # the gradient net first: when the model cannot be built (or translated) in time, it is the answer
    t0 = time.perf_counter()
    gw = (
        gradient_weights(Xs, target, task, n_classes, cfg.hidden, seed=seed, deadline=dl.sub(fraction=GRADIENT_SHARE))
        if opts.warm_start
        else None
    )
    t_gradient = time.perf_counter() - t0

    def no_model(problem: TrainingProblem | None, reason: str, merged: Any = None) -> TrainResult:
        """The fit without the Pyomo model's solve (:func:`.large_data.fit_without_model`)."""
        return fit_without_model(
            X, y, Xs, target, task, n_classes, cfg, gw, problem, build, reason, opts,
            deadline=dl, gradient_seconds=t_gradient, merged=merged, **common,
        )  # fmt: skip

    # the training MILP only if building and translating it fits the time left and the memory (:mod:`.scale_policy`)
    sp = scale_plan(Xm.shape[0], Xm.shape[1], cfg.hidden, dl.remaining(), opts.scale_policy)
    large = (  # the sign class at thousands of rows: pattern search, dual bound, matrix MILP (:mod:`.large_data`)
        sp.enabled and solver == "highs" and Xm.shape[0] >= LARGE_ROWS and large_data_applies(cfg)
    ) and not (opts.sign_patterns or opts.group_bound)
    if not sp.build or large:
        why = sp.reason if not sp.build else f"{Xm.shape[0]} distinct rows: the matrix MILP replaces it"
        after = "no warm start either" if gw is None else f"the warm start (gradient net {t_gradient:.1f} s) goes on"
        say(f"formulation: not built ({why}); {after}")
        return no_model(None, f"no Pyomo MILP was built: {why}", merged=(Xm, tm, counts))
    # HiGHS: one persistent instance for every LP and MILP below (the model is translated once)
    shared = solver == "highs" and cfg.hypothesis != "continuous"
    t0 = time.perf_counter()
    try:
        problem = TrainingProblem(
            Xm,
            tm,
            task,
            n_classes,
            cfg,
            solver=solver,
            deadline=dl,
            after_build=TRANSLATE_PER_BUILD if shared else 0.0,
            sample_weight=counts,
            loss_denominator=Xs.shape[0],
        )
    except OutOfTime as exc:
        say(f"formulation: not built ({exc}): the warm start is returned, if it can be mapped in time (no bound)")
        return no_model(None, str(exc))
    t_size = time.perf_counter()
    size = problem.size()
    t_size = time.perf_counter() - t_size  # finish() counts the model once more and lists its variables
    say(
        f"formulation: {size['variables']} variables ({size['binaries']} binary), {size['constraints']} constraints, "
        f"built in {time.perf_counter() - t0:.1f} s; {reduction['rows']} rows, {reduction['distinct_rows']} distinct"
        + (" (duplicates merged into weighted rows)" if reduction["distinct_rows"] < reduction["rows"] else "")
    )
    check_licence(solver, size["variables"], size["constraints"])  # before the warm start and the bounds
    instance = None
    if shared:
        need = TRANSLATE_PER_BUILD * problem.build_seconds
        if not dl.allows(need + MIN_SOLVE_SECONDS):
            reason = (
                f"the time limit leaves {dl.remaining():.1f} s, translating the model to HiGHS takes about {need:.1f} s"
            )
            say(f"solver: not run ({reason}): the warm start is returned (no bound)")
            return no_model(problem, reason)
        instance = lp_instance(problem)
    start: dict[Any, float] | None = None
    warm_obj = heur_obj = None
    warm_w: Weights | None = None
    # kept out of the solver's time: the final re-evaluation (finish: one completion LP and two passes over the
    # model) and the solve's own work outside its clock (the warm start handed over, the solution loaded back:
    # about one more completion LP)
    reserve = 2.0 * t_size
    lp_solver = lp_solver_for(problem, solver)
    if opts.warm_start and gw is not None:
        t0 = time.perf_counter() - t_gradient
        if [W.shape for W, _ in gw] == [lp.shape for lp in problem.params]:
            warm_w = map_to_class(gw, problem)
            origin = f"gradient net mapped into the {cfg.hypothesis} class"
            if surrogate_applies(cfg, task, n_classes) and dl.allows(SURROGATE_SHARE_GUARD * t_gradient):
                warm_w, origin = better_start(warm_w, problem, Xs, target, cfg, seed, SURROGATE_SHARE * dl.remaining())
            elif cfg.loss == "logistic":
                warm_w, origin = logistic_start(warm_w, Xs, target, cfg) or (warm_w, origin)
            t_fix = time.perf_counter()
            warm_obj = fixed_lp(  # every weight and binary fixed: one cheap pass, the incumbent (its own cap)
                problem, warm_w, free_weights=False, solver=lp_solver, threads=threads, instance=instance,
                time_limit=WARM_LP_CAP,
            )  # fmt: skip
            reserve += 2.0 * (time.perf_counter() - t_fix)
            if cfg.linear and dl.allows(reserve + 2.0 * MIN_SOLVE_SECONDS):  # the sparse linear model, if lower
                warm_w, warm_obj, origin = _lower_of_linear_start(
                    problem, warm_w, warm_obj, origin, lp_solver, threads, instance, dl, reserve
                )
        # else: a class absent from the sample gave the gradient net fewer outputs: no warm start
        if warm_obj is not None and opts.lp_heuristic_rounds > 0:
            left = dl.remaining() - reserve
            share = LP_HEURISTIC_SHARE["sign patterns" if opts.sign_patterns else "joint"]
            if share * left >= MIN_SOLVE_SECONDS:
                assert warm_w is not None  # warm_obj is the objective of these weights
                warm_w, heur_obj, rounds = lp_heuristic(
                    problem,
                    warm_w,
                    solver=solver,
                    max_rounds=opts.lp_heuristic_rounds,
                    time_budget=share * left,
                    threads=threads,
                    instance=instance,
                    deadline=dl,
                )
                say(
                    f"warm start: {origin}, objective {warm_obj:.6g}; "
                    f"LP heuristic {rounds} rounds -> {heur_obj if heur_obj is not None else float('nan'):.6g} "
                    f"({time.perf_counter() - t0:.1f} s)"
                )
            else:
                say(
                    f"warm start: {origin}, objective {warm_obj:.6g}; LP heuristic skipped (the time limit is near) "
                    f"({time.perf_counter() - t0:.1f} s)"
                )
        elif warm_obj is not None:
            say(f"warm start: objective {warm_obj:.6g}")
        else:
            say("warm start: the mapped network is not feasible for this problem (skipped)")
        if warm_obj is not None:
            start = snapshot(problem)
        else:
            warm_w = None
    dual = None
    if dual_applies(cfg, task, n_classes):
        dual = dual_bound_record(
            Xs, target, cfg, warm_w, dl.sub(seconds=DUAL_SHARE * max(0.0, dl.remaining() - reserve)), opts.solve, say
        )
    group_info = None
    if opts.group_bound:
        from .groups import sample_group_bound

        group_info = sample_group_bound(
            Xm,
            tm,
            task,
            n_classes,
            cfg,
            groups=int(opts.group_bound),
            solver=solver,
            sample_weight=counts,
            loss_denominator=Xs.shape[0],
            time_limit=dl.sub(fraction=GROUP_SHARE),
            processes=opts.group_processes,
            threads=threads,
        )
        say(f"sample-group bound: {group_info['bound']:.6g} from {opts.group_bound} groups")
    remaining = dl.remaining() - reserve
    pattern_info = None
    if opts.sign_patterns:
        from .signs import solve_by_patterns

        res, outcomes = solve_by_patterns(
            problem,
            solver,
            time_limit=dl.sub(seconds=max(0.0, remaining)),
            threads=threads,
            warm_weights=warm_w,
            warm_incumbent=None if start is None else (problem.objective_value(), start),
            mip_gap=opts.mip_gap,
            tee=opts.tee,
            log=say,
            progress=opts.progress,
            hull_cuts=opts.hull_cuts,
            instance=instance,
        )
        pattern_info = [o.to_dict() for o in outcomes]
        say(solve_line(res))
    else:
        res = solve_milp(
            problem, solver, remaining, threads=threads, start=start, opts=opts, instance=instance, say=say
        )
    return finish(
        problem,
        res,
        warm_w,
        warm_obj,
        heur_obj,
        X,
        y,
        cfg,
        group_info=group_info,
        sign_patterns=pattern_info,
        instance=instance,
        deadline=dl,
        dual=dual,
        build=lambda w: build(w, problem),
        **common,
    )


def _lower_of_linear_start(
    problem: TrainingProblem,
    warm_w: Any,
    warm_obj: float | None,
    origin: str,
    lp_solver: str,
    threads: int | None,
    instance: Any,
    dl: Deadline,
    reserve: float,
) -> tuple[Any, float | None, str]:
    """The mapped start or the sparse linear model (:func:`.linear_term.linear_start`), whichever has the lower
    objective; the variables are left holding the chosen point. The linear model's LP in the free weights gets the
    time left less ``reserve`` and a solve's minimum (it is the slow one: 130 000 rows of the logistic envelope at
    3000 rows ran past 30 s); stopped, it gives no linear start. The completion LPs (every weight and binary fixed,
    one cheap pass that gives the incumbent) keep their own cap: capped by the deadline too, a 6 s fit of 300 rows
    under load lost its only network."""
    from .linear_term import linear_start

    saved = None if problem.linear_w is None else problem.linear_w.copy()
    lin = linear_start(
        problem, warm_w, solver=lp_solver, threads=threads, instance=instance,
        time_limit=_lp_limit(dl, reserve + MIN_SOLVE_SECONDS), completion_limit=WARM_LP_CAP,
    )  # fmt: skip
    if lin is not None and (warm_obj is None or lin[1] < warm_obj - 1e-9):
        return lin[0], lin[1], f"the sparse linear model, no hidden unit (lower objective than the {origin})"
    if lin is not None and warm_obj is not None:  # reload the mapped start's point (and its linear part)
        problem.linear_w = saved
        warm_obj = fixed_lp(
            problem, warm_w, free_weights=False, solver=lp_solver, threads=threads, instance=instance,
            time_limit=WARM_LP_CAP,
        )  # fmt: skip
    return warm_w, warm_obj, origin


def _lp_limit(dl: Deadline, keep: float) -> float | None:
    """An LP's time limit before the training MILP: at most :data:`WARM_LP_CAP` s, and what ``dl`` leaves after
    ``keep`` seconds (at least 0.1 s; an LP stopped there returns None and the caller goes on without its point)."""
    if dl.unlimited:
        return WARM_LP_CAP
    return max(0.1, min(WARM_LP_CAP, dl.remaining() - keep))


def train_dataset(data: Any, *, n_samples: int | None = None, seed: int | None = 0, **kwargs: Any) -> TrainResult:
    """Train on a :class:`mipnet.datasets.Dataset` (numeric one-hot inputs, its recommended domain)."""
    if n_samples is not None and n_samples < data.n_rows:
        data = data.sample(n_samples, random_state=seed)
    X, _ = data.X_numeric()
    kwargs.setdefault("classes", data.class_names and sorted(set(data.y.tolist())))
    return train(X, data.y.to_numpy(), task=data.task, domain=data.domain, seed=seed, **kwargs)


__all__ = [
    "TrainConfig",
    "TrainOptions",
    "TrainResult",
    "train",
    "train_with_options",
    "train_dataset",
    "encode_targets",
    "build_network",
]
