"""Train a conv net by MILP: images -> (downsample) -> standardise -> formulation -> warm start -> solve -> certificate.

The returned network reads *raw* images (flat rows, C-order, ``input_shape`` (C, H, W)):
``AvgPool2D(f)`` when the images were downsampled by f (28x28 -> 14x14 with f = 2, -> 7x7 with
f = 4), then ``Normalize`` with one scale and offset per channel, ``(x - mu_c) / sigma_c`` over all
pixels of channel c (a per-pixel standardisation would blow up the near-constant border pixels),
then the conv/pool/dense layers the solver found (:mod:`.conv`), and for regression the map back to
the target's units. The certificate is the dense trainer's (:func:`.trainer.finish`).
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any, Callable, Sequence

import numpy as np

from ..deadline import Deadline, OutOfTime, limit_seconds
from ..domain import Domain
from ..errors import DataError, LimitError
from ..layers import Layer, Normalize
from ..network import Network
from ..solve import check_licence
from .architecture import downsample_layer, image_shape
from .conv import ConvTrainingProblem, Weights
from .convstart import gradient_conv_weights, map_conv_to_class
from .formulation import TrainConfig, resolve_config
from .options import TrainOptions
from .outcome import TRANSLATE_PER_BUILD, TrainResult, _seconds, encode_targets, finish, solve_milp
from .scaling import column_scale
from .warmstart import (
    fixed_lp,
    is_linear,
    lp_heuristic,
    lp_instance,
    lp_solver_for,
    snapshot,
)


def prepare_images(
    X: np.ndarray, input_shape: Sequence[int] | None, downsample: int
) -> tuple[np.ndarray, tuple[int, int, int], list[Layer], np.ndarray, tuple[int, int, int]]:
    """(raw flat rows, raw shape, front layers [AvgPool2D?, Normalize], standardised flat rows, their shape)."""
    Xf, shape = image_shape(X, input_shape)
    if Xf.shape[0] < 1:
        raise DataError("no training images")
    if not np.all(np.isfinite(Xf)):
        raise DataError("the images contain NaN or inf values")
    front: list[Layer] = []
    imgs = Xf.reshape((Xf.shape[0],) + shape)
    pool = downsample_layer(shape, downsample)
    if pool is not None:
        front.append(pool)
        imgs = pool.forward(imgs)
    mu, sd = column_scale(imgs, axis=(0, 2, 3))
    norm = Normalize((1.0 / sd)[:, None, None], (-mu / sd)[:, None, None])
    front.append(norm)
    Xs = norm.forward(imgs)
    small = tuple(int(s) for s in Xs.shape[1:])
    return Xf, shape, front, Xs.reshape(Xs.shape[0], -1), small  # type: ignore[return-value]


def build_conv_network(
    problem: ConvTrainingProblem,
    weights: Weights,
    front: list[Layer],
    input_shape: Sequence[int],
    domain: Domain,
    task: str,
    classes: list[Any] | None,
    y_mu: float,
    y_sd: float,
) -> Network:
    """Front layers + the template filled with ``weights`` (+ the target's units for regression)."""
    body = problem.network_with(weights).layers
    layers = [*front, *body]
    if task == "regress":
        layers.append(Normalize(np.array([y_sd]), np.array([y_mu])))
    return Network(layers, domain=domain, input_shape=tuple(input_shape), class_names=classes, task=task)


def train_conv(
    X: np.ndarray,
    y: np.ndarray,
    *,
    task: str = "classify",
    config: TrainConfig | None = None,
    input_shape: Sequence[int] | None = None,
    downsample: int = 1,
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
    mip_gap: float = 1e-6,
    gradient_epochs: int = 300,
    initial_weights: Weights | None = None,
    progress: Callable[[float, float | None, float | None], None] | None = None,
    options: TrainOptions | None = None,
) -> TrainResult:
    """Train and certify a conv architecture (``config.architecture``); ``initial_weights`` (one (W, b) per
    Conv2D/Dense layer of the architecture, e.g. from a torch net) replace the gradient warm start.

    ``time_limit`` (seconds or a Deadline) is for the whole fit, as in :func:`.trainer.train`; a model that cannot
    be built and translated in time raises a :class:`~mipnet.errors.SolverError` (no conv warm start without it).

    ``options``: the run's :class:`~.options.TrainOptions` built by the caller (:func:`.trainer.train`); the
    keyword arguments other than ``task``, ``config``, ``domain`` and ``classes`` then stay at their defaults
    (``config`` overrides ``options.config`` when given)."""
    if options is None:
        options = TrainOptions.build(
            config=config,
            input_shape=input_shape,
            downsample=downsample,
            solver=solver,
            time_limit=time_limit,
            threads=threads,
            warm_start=warm_start,
            lp_heuristic_rounds=lp_heuristic_rounds,
            seed=seed,
            tee=tee,
            log=log,
            mip_gap=mip_gap,
            gradient_epochs=gradient_epochs,
            initial_weights=initial_weights,
            progress=progress,
        )
    elif config is not None and config is not options.config:
        options = replace(options, config=config)
    return _train_conv(X, y, options, task=task, domain=domain, classes=classes)


def _train_conv(
    X: np.ndarray, y: np.ndarray, opts: TrainOptions, *, task: str, domain: Domain | None, classes: Sequence[Any] | None
) -> TrainResult:
    """:func:`train_conv` with its options built."""
    dl = opts.deadline
    t_start = time.perf_counter()
    say = opts.say()
    config = opts.config
    if config is None or config.architecture is None:
        raise DataError("train_conv needs config.architecture")
    solver, threads, seed, time_limit = opts.solver, opts.threads, opts.seed, opts.time_limit
    input_shape, downsample, initial_weights = opts.input_shape, opts.downsample, opts.initial_weights
    Xf, shape, front, Xs, small = prepare_images(X, input_shape, downsample)
    if len(y) != Xf.shape[0]:
        raise DataError(f"X has {Xf.shape[0]} images but y has {len(y)}")
    target, cls, n_classes, y_mu, y_sd = encode_targets(np.asarray(y), task, classes)
    cfg = resolve_config(config, task, n_classes)
    if domain is None:
        domain = Domain.from_data(Xf)
    t0 = time.perf_counter()
    shared = solver == "highs" and cfg.hypothesis != "continuous"
    try:
        problem = ConvTrainingProblem(
            Xs,
            target,
            task,
            n_classes,
            cfg,
            small,
            solver=solver,
            deadline=dl,
            after_build=TRANSLATE_PER_BUILD if shared else 0.0,
        )
    except OutOfTime as exc:
        raise LimitError(
            f"no conv network within the time the fit had ({_seconds(limit_seconds(time_limit))}): {exc}; "
            "raise the time limit or train on fewer images"
        ) from None
    size = problem.size()
    say(
        f"formulation: {size['variables']} variables ({size['binaries']} binary), {size['constraints']} constraints, "
        f"built in {time.perf_counter() - t0:.1f} s"
    )
    check_licence(solver, size["variables"], size["constraints"])  # before the warm start
    start = None
    warm_obj = heur_obj = None
    warm_w: Weights | None = None
    reserve = 0.0  # the final re-evaluation (finish) costs about one completion LP: kept out of the solver's time
    # HiGHS: one persistent instance for every LP and the MILP (a conv model's translation costs minutes)
    if shared and is_linear(problem) and not dl.allows(TRANSLATE_PER_BUILD * problem.build_seconds):
        raise LimitError(
            f"no conv network within the time the fit had ({_seconds(limit_seconds(time_limit))}): translating the "
            f"model to HiGHS takes about {TRANSLATE_PER_BUILD * problem.build_seconds:.0f} s, "
            f"{dl.remaining():.0f} s are left; raise the time limit or train on fewer images"
        )
    instance = lp_instance(problem) if solver == "highs" and is_linear(problem) else None
    if opts.warm_start or initial_weights is not None:
        t0 = time.perf_counter()
        gw = (
            initial_weights
            if initial_weights is not None
            else gradient_conv_weights(problem, seed=seed, epochs=opts.gradient_epochs, deadline=dl.sub(fraction=0.2))
        )
        shapes = [tuple(lp.weight.shape) for lp in problem.params]
        if [tuple(np.shape(W)) for W, _ in gw] != shapes:
            raise DataError(f"initial weights have shapes {[np.shape(W) for W, _ in gw]}, the architecture {shapes}")
        warm_w = map_conv_to_class(gw, problem)
        t_fix = time.perf_counter()
        warm_obj = fixed_lp(
            problem,
            warm_w,
            free_weights=False,
            solver=lp_solver_for(problem, solver),
            threads=threads,
            instance=instance,
        )
        reserve = time.perf_counter() - t_fix
        if warm_obj is not None and opts.lp_heuristic_rounds > 0:
            warm_w, heur_obj, rounds = lp_heuristic(
                problem,
                warm_w,
                solver=solver,
                max_rounds=opts.lp_heuristic_rounds,
                time_budget=0.2 * max(0.0, dl.remaining() - reserve),
                threads=threads,
                instance=instance,
                deadline=dl,
            )
            say(
                f"warm start: gradient conv net mapped into the {cfg.hypothesis} class, objective {warm_obj:.6g}; "
                f"LP heuristic {rounds} rounds -> {heur_obj if heur_obj is not None else float('nan'):.6g} "
                f"({time.perf_counter() - t0:.1f} s)"
            )
        elif warm_obj is None:
            say("warm start: the mapped network is not feasible for this problem (skipped)")
        if warm_obj is not None:
            start = snapshot(problem)
        else:
            warm_w = None
    remaining = dl.remaining() - reserve
    res = solve_milp(problem, solver, remaining, threads=threads, start=start, opts=opts, instance=instance, say=say)
    return finish(
        problem,
        res,
        warm_w,
        warm_obj,
        heur_obj,
        Xf,
        np.asarray(y),
        cfg,
        **opts.record(),
        t_start=t_start,
        group_info=None,
        classes=cls,
        target_scale=y_sd,
        instance=instance,
        deadline=dl,
        build=lambda w: build_conv_network(problem, w, front, shape, domain, task, cls, y_mu, y_sd),
    )
