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
from ..errors import DataError, SolverError, UnsupportedError
from ..layers import Dense, Layer, Normalize, ReLU
from ..network import Network
from ..solve import SolveOptions
from .constraints import as_constraints, resolve
from .formulation import TrainConfig, TrainingProblem, merge_rows, resolve_config
from .linear_term import META_KEY as LINEAR_KEY
from .linear_term import expand_linear
from .options import TrainOptions
from .outcome import (
    MIN_SOLVE_SECONDS,
    TRANSLATE_PER_BUILD,
    TrainResult,
    _seconds,
    encode_targets,
    finish,
    solve_line,
    solve_milp,
)
from .scale_policy import ScalePolicy, proved_words
from .scale_policy import plan as scale_plan
from .warmstart import (
    Weights,
    fixed_lp,
    gradient_weights,
    lp_heuristic,
    lp_instance,
    lp_solver_for,
    map_to_class,
    no_solve_result,
    snapshot,
)

#: at most this share of the time limit goes to choosing l1 by cross-validation (no split starts after it)
CV_SHARE = 0.25
#: share of the time left that the LP heuristic may take: the joint MILP leans on its incumbent; sign patterns
#: search each pattern themselves (and found better networks than 50 s of LP rounds did: results/training)
LP_HEURISTIC_SHARE = {"joint": 0.2, "sign patterns": 0.05}
#: share of the time left that the sample-group bound may take
GROUP_SHARE = 0.3
#: the surrogate start (sign class) is fitted only if the time left is this many times the gradient fit's
SURROGATE_SHARE_GUARD = 4.0
#: and gets at most this share of the time left (0.3 when the model is not built; the dual bound takes the rest)
SURROGATE_SHARE = 0.25
#: share of the time left before the solve that the dual bound (:mod:`.dual_bound`; sign class, binary hinge)
#: may take; it stops early when its column generation converges
DUAL_SHARE = 0.3
#: share of the time left that the dual bound may take when the model was not built (then the only bound)
DUAL_SHARE_UNSOLVED = 0.85
#: the dual bound is not started with less time than this left
MIN_DUAL_SECONDS = 1.0
#: its method (:func:`.dual_bound.bound_for_config`): "auto" = column generation up to AUTO_CG_ROWS distinct rows,
#: the hybrid above; "transport", "hybrid", "cg" force one
DUAL_METHOD = "auto"


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
    mu, sd = X.mean(axis=0), X.std(axis=0)
    sd = np.where(sd > 1e-12, sd, 1.0)
    if domain is None:
        domain = Domain.from_data(X)
    if opts.linear or opts.constraints:  # checked before any work (:mod:`.constraints`, :mod:`.linear_term`)
        resolved = resolve(opts.constraints, domain.names, X, mu, sd, y_scale=y_sd, task=task, n_classes=n_classes)
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
        if not _surrogate_applies(cfg, task, n_classes):
            raise UnsupportedError(
                "choosing l1 by cross-validation is not yet supported here: it needs the sign class "
                "with the hinge loss and no other penalty or budget (this problem: "
                f"{cfg.hypothesis} class, {cfg.loss} loss); use scikit-learn's GridSearchCV "
                "over MIPNetClassifier(l1=...)"
            )
        from .penalty_cv import select_l1

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
        )
        cfg = replace(cfg, l1=selection.l1)
        say(
            f"l1 by {opts.cv_folds}-fold cross-validation (x{selection.repeats}, {selection.splits} splits): "
            f"{selection.l1:g} (held-out accuracy {max(selection.mean_accuracy):.3f}, {selection.seconds:.1f} s)"
        )
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
    # the gradient net first: when the model cannot be built (or translated) in time, it is the answer
    t0 = time.perf_counter()
    gw = gradient_weights(Xs, target, task, n_classes, cfg.hidden, seed=seed) if opts.warm_start else None
    t_gradient = time.perf_counter() - t0
    # the training MILP only if building and translating it fits the time left and the memory (:mod:`.scale_policy`)
    sp = scale_plan(Xm.shape[0], Xm.shape[1], cfg.hidden, dl.remaining(), opts.scale_policy)
    if not sp.build:
        say(f"formulation: not built ({sp.reason}): the warm start (gradient net {t_gradient:.1f} s) is returned")
        return _unsolved(
            X,
            y,
            Xs,
            target,
            task,
            n_classes,
            cfg,
            gw,
            None,
            build,
            f"no MILP was built: {sp.reason}",
            opts,
            deadline=dl,
            gradient_seconds=t_gradient,
            **common,
        )
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
        say(f"formulation: not built ({exc}): the warm start is returned, without a solve (no bound)")
        return _unsolved(
            X,
            y,
            Xs,
            target,
            task,
            n_classes,
            cfg,
            gw,
            None,
            build,
            str(exc),
            opts,
            deadline=dl,
            gradient_seconds=t_gradient,
            **common,
        )
    t_size = time.perf_counter()
    size = problem.size()
    t_size = time.perf_counter() - t_size  # finish() counts the model once more and lists its variables
    say(
        f"formulation: {size['variables']} variables ({size['binaries']} binary), {size['constraints']} constraints, "
        f"built in {time.perf_counter() - t0:.1f} s; {reduction['rows']} rows, {reduction['distinct_rows']} distinct"
        + (" (duplicates merged into weighted rows)" if reduction["distinct_rows"] < reduction["rows"] else "")
    )
    instance = None
    if shared:
        need = TRANSLATE_PER_BUILD * problem.build_seconds
        if not dl.allows(need + MIN_SOLVE_SECONDS):
            reason = (
                f"the time limit leaves {dl.remaining():.1f} s, translating the model to HiGHS takes about {need:.1f} s"
            )
            say(f"solver: not run ({reason}): the warm start is returned (no bound)")
            return _unsolved(
                X,
                y,
                Xs,
                target,
                task,
                n_classes,
                cfg,
                gw,
                problem,
                build,
                reason,
                opts,
                deadline=dl,
                gradient_seconds=t_gradient,
                **common,
            )
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
            if _surrogate_applies(cfg, task, n_classes) and dl.allows(SURROGATE_SHARE_GUARD * t_gradient):
                warm_w, origin = _better_start(warm_w, problem, Xs, target, cfg, seed, SURROGATE_SHARE * dl.remaining())
            t_fix = time.perf_counter()
            warm_obj = fixed_lp(
                problem, warm_w, free_weights=False, solver=lp_solver, threads=threads, instance=instance
            )
            reserve += 2.0 * (time.perf_counter() - t_fix)
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
    if _dual_applies(cfg, task, n_classes):
        dual = _dual_bound(
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


def _surrogate_applies(cfg: TrainConfig, task: str, n_classes: int) -> bool:
    """The gradient surrogate (:mod:`.surrogate`) minimises the MILP objective: sign class, binary hinge, l1 only."""
    return (
        task == "classify"
        and n_classes == 2
        and cfg.hypothesis == "sign"
        and cfg.loss == "hinge"
        and not cfg.linear
        and not cfg.constraints
        and cfg.l2 == 0
        and cfg.l0 == 0
        and cfg.neuron_penalty == 0
        and cfg.layer_penalty == 0
        and cfg.max_nonzeros is None
        and cfg.max_neurons is None
        and len(cfg.hidden) == 1
    )


def _dual_applies(cfg: TrainConfig, task: str, n_classes: int) -> bool:
    """The dual bound (:mod:`.dual_bound`) covers the certificate's objective exactly or from below: sign class
    (one hidden layer, v_j in {-1, 0, +1}), binary hinge, boxes B_w, B_b (output bias too), width
    min(hidden, max_neurons); l2, l0 and the neuron penalty give each active unit kappa (v_j^2 = [v_j != 0] = 1,
    their terms on W_0 are >= 0 and dropped); max_nonzeros, symmetry breaking and the Lipschitz cuts only
    shrink the feasible set or cut off no network. The layer penalty is left out (not in the bound). Not used with
    the linear term (a larger class) or domain constraints (:mod:`.constraints`)."""
    return (
        task == "classify"
        and n_classes == 2
        and cfg.hypothesis == "sign"
        and cfg.loss == "hinge"
        and not cfg.linear
        and not cfg.constraints
        and cfg.layer_penalty == 0
        and cfg.architecture is None
        and len(cfg.hidden) == 1
    )


def _dual_bound(
    Xs: np.ndarray,
    target: np.ndarray,
    cfg: TrainConfig,
    weights: Weights | None,
    deadline: Deadline,
    solve_options: SolveOptions,
    say: Callable[[str], None],
) -> dict[str, Any] | None:
    """The dual lower bound of :mod:`.dual_bound` on the certificate's objective ((1/N) sum hinge + penalties
    on the standardised inputs), started from the incumbent's units: column generation up to
    ``AUTO_CG_ROWS`` distinct rows, the hybrid (transport + exact rows) bound above. Returns the certificate's
    record (``bound``, ``source``, the multipliers that re-check it) or None. ``solve_options``: its threads and
    seed are the column generation's."""
    from ..errors import MipnetError
    from .dual_bound import AUTO_CG_ROWS, bound_for_config, merge_duplicates

    if not deadline.allows(MIN_DUAL_SECONDS):
        say("dual bound: skipped (the time limit is near)")
        return None
    t0 = time.perf_counter()
    init_units = row_scores = None
    if weights is not None and len(weights) == 2:
        W, b = np.asarray(weights[0][0], dtype=np.float64), np.asarray(weights[0][1], dtype=np.float64)
        v, c = np.asarray(weights[1][0], dtype=np.float64).ravel(), float(np.asarray(weights[1][1]).ravel()[0])
        keep = (np.abs(W).sum(axis=1) + np.abs(b)) > 0
        init_units = np.column_stack([W[keep], b[keep]]) if keep.any() else None
        f = np.maximum(Xs @ W.T + b, 0.0) @ v + c
        row_scores = np.maximum(0.0, cfg.margin - target * f)
    n_rows = merge_duplicates(Xs, target)[0].shape[0]
    method = DUAL_METHOD if DUAL_METHOD != "auto" else ("cg" if n_rows <= AUTO_CG_ROWS else "hybrid")
    extra: dict[str, Any] = {"row_scores": row_scores} if method == "hybrid" else {}
    if method != "transport":
        extra.update(threads=int(solve_options.threads or 1), seed=int(solve_options.seed or 0))
    try:
        r = bound_for_config(Xs, target, cfg, time_limit=deadline, init_units=init_units, method=method, **extra)
    except (MipnetError, RuntimeError) as exc:
        say(f"dual bound: not computed ({exc})")
        return None
    rec = r.record
    if rec is None:
        return None
    kind = "transport" if not rec["rows"] else ("hybrid" if rec["pairs"] else "column generation")
    out = {
        **rec,
        "source": f"dual: {kind}",
        "method": method,
        "mode": r.mode,
        "status": r.status,
        "iterations": r.iterations,
        "n_rows": r.n_rows,
        "n_merged": r.n_merged,
        "master_value": r.master_value,
        "seconds": time.perf_counter() - t0,
        "objective": {
            "margin": cfg.margin,
            "penalty_weight": 1.0,
            "loss_denominator": "N",
            "lam": r.info.get("lam"),
            "kappa": r.info.get("kappa"),
        },
    }
    say(f"dual bound ({out['source']}, {method}): {r.bound:.6g}, {r.status}, {out['seconds']:.1f} s")
    return out


def _better_start(
    mapped: Weights,
    problem: TrainingProblem,
    Xs: np.ndarray,
    target: np.ndarray,
    cfg: TrainConfig,
    seed: int | None,
    seconds: float = float("inf"),
) -> tuple[Weights, str]:
    """The gradient net mapped into the sign class or the surrogate's net, whichever has the lower objective; the
    surrogate gets the steps that fit in ``seconds`` (:func:`.penalty_cv.surrogate_steps`; none: the mapped net)."""
    from .penalty_cv import FULL_DATA_RESTARTS, surrogate_steps
    from .surrogate import fit_sign_network_best, sign_objective

    def objective(w: Weights) -> float:
        return sign_objective(w[0][0], w[0][1], w[1][0][0], float(w[1][1][0]), Xs, target, cfg.l1, cfg.margin)

    kw: dict[str, Any] = dict(margin=cfg.margin, weight_bound=cfg.weight_bound, bias_bound=cfg.bias_bound, seed=seed)
    restarts, steps = surrogate_steps(Xs, target, cfg.hidden[0], cfg.l1, FULL_DATA_RESTARTS, seconds, **kw)
    if steps == 0:
        return mapped, f"gradient net mapped into the {cfg.hypothesis} class (no time for the surrogate)"
    sur = fit_sign_network_best(Xs, target, cfg.hidden[0], l1=cfg.l1, restarts=restarts, steps=steps, **kw)
    candidate = map_to_class(sur.weights(), problem)
    if objective(candidate) < objective(mapped):
        return candidate, "proximal-gradient surrogate (lower objective than the mapped MLP)"
    return mapped, f"gradient net mapped into the {cfg.hypothesis} class (lower objective than the surrogate)"


def _unsolved(
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
    **common: Any,
) -> TrainResult:
    """No MILP (the scale plan said no, or the time limit left no room to build or translate it): the warm start
    mapped into the class, its objective by numpy, status ``feasible``; the dual bound if one applies, and the note
    says what was proved ("no certificate: no bound was proved" without one).

    Without the full model, the mapping uses the model of two samples: the weight variables, their boxes and the
    switches (what the mapping reads) do not depend on the samples. ``common``: what :func:`~.outcome.finish`
    records (the solve settings of ``opts.record()`` among them)."""
    solver, time_limit, seed = opts.solver, opts.limit_seconds, opts.seed
    if gw is None:
        raise SolverError(
            f"{solver} found no network within the time limit ({_seconds(time_limit)}): {reason}; raise --time-limit"
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
            f"{solver} found no network within the time limit ({_seconds(time_limit)}): {reason} "
            "(and the gradient net does not fit the architecture); raise --time-limit"
        )
    weights = map_to_class(gw, mapper)
    origin = "gradient net"
    if (
        _surrogate_applies(cfg, task, n_classes)
        and deadline is not None
        and deadline.allows(SURROGATE_SHARE_GUARD * gradient_seconds)
    ):
        weights, origin = _better_start(weights, mapper, Xs, target, cfg, seed, 0.3 * deadline.remaining())
    reason = f"{reason}; the network is the warm start ({origin.split(' (')[0]})"
    dual = None
    if _dual_applies(cfg, task, n_classes) and deadline is not None:
        dual = _dual_bound(
            Xs,
            target,
            cfg,
            weights,
            deadline.sub(seconds=DUAL_SHARE_UNSOLVED * max(0.0, deadline.remaining() - 1.0)),
            opts.solve,
            opts.say(),
        )
    res = no_solve_result(solver, reason, status="feasible")
    words = proved_words(dual)
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
        **common,
    )
    if words != proved_words(None) and not str(out.certificate.bound_source).startswith("dual"):
        # finish() discarded the dual bound (above the incumbent): the note must not claim it
        out.certificate.formulation["time_limit_note"] = f"not solved: {reason}; {proved_words(None)}"
        for net in (out.network, out.network_full):
            net.metadata = {**(net.metadata or {}), "certificate": out.certificate.to_dict()}
    return out


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
