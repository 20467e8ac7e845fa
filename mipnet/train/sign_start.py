"""The start beside the mapped gradient net: in the sign class with the hinge loss, whether the proximal-gradient
surrogate applies and the better of it and the mapped net (both by the numpy objective); with the logistic loss (any
class), the best constant network when the mapped net's loss is no lower (:func:`logistic_start`)."""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from .formulation import TrainConfig, TrainingProblem
from .logistic import logistic_loss
from .warmstart import Weights, forward_pre, map_to_class

#: the surrogate start (sign class) is fitted only if the time left is this many times the gradient fit's
SURROGATE_SHARE_GUARD = 4.0
#: and gets at most this share of the time left (0.3 when the model is not built; the dual bound takes the rest)
SURROGATE_SHARE = 0.25
#: restarts of the surrogate start when they fit in WARM_START_RESTART_SHARE of its share (else the usual 4): on full
#: COMPAS the best of 4 restarts ended between 0.7594 and 0.7727 over six seeds, the best of 4 x 20 at 0.7594 (about
#: 0.5 s a restart there; results/training/train_scale_vertex.md)
WARM_START_RESTARTS = 16
WARM_START_RESTART_SHARE = 0.3
#: ... and only with a share of at least this many seconds (short limits keep the usual plan and its single probe)
WARM_START_RESTARTS_MIN_SECONDS = 30.0


def surrogate_applies(cfg: TrainConfig, task: str, n_classes: int) -> bool:
    """The gradient surrogate (:mod:`.surrogate`) minimises the MILP objective: sign class, binary hinge with a
    positive margin (margin 0 is a legal, degenerate objective the surrogate does not take), l1 only."""
    return not surrogate_obstacles(cfg, task, n_classes)


def surrogate_obstacles(cfg: TrainConfig, task: str, n_classes: int) -> list[str]:
    """What keeps the surrogate from this problem (:func:`surrogate_applies`), in words; empty when it applies."""
    checks = [
        (
            task == "classify" and n_classes == 2,
            "a binary classifier (this is "
            + ("a regression)" if task != "classify" else f"a classifier of {n_classes} classes)"),
        ),
        (cfg.hypothesis == "sign", f"the sign class (not {cfg.hypothesis})"),
        (cfg.loss == "hinge", f"the hinge loss (not {cfg.loss})"),
        (cfg.margin > 0, "a margin > 0"),
        (not cfg.linear, "no linear term"),
        (not cfg.constraints, "no domain constraints"),
        (cfg.l2 == 0 and cfg.l0 == 0 and cfg.neuron_penalty == 0 and cfg.layer_penalty == 0, "no penalty but l1"),
        (cfg.max_nonzeros is None and cfg.max_neurons is None, "no --max-nonzeros / --max-neurons budget"),
        (len(cfg.hidden) == 1, "one hidden layer"),
    ]
    return [need for ok, need in checks if not ok]


def better_start(
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
    restarts = steps = 0
    if WARM_START_RESTARTS_MIN_SECONDS <= seconds < float("inf"):  # more restarts within part of a long share
        budget = WARM_START_RESTART_SHARE * seconds  # (the probe over-estimates)
        restarts, steps = surrogate_steps(
            Xs, target, cfg.hidden[0], cfg.l1, FULL_DATA_RESTARTS, budget, most=WARM_START_RESTARTS, **kw
        )
    if steps == 0 or restarts < FULL_DATA_RESTARTS:  # a short share, or not even the usual restarts: the usual plan
        restarts, steps = surrogate_steps(Xs, target, cfg.hidden[0], cfg.l1, FULL_DATA_RESTARTS, seconds, **kw)
    if steps == 0:
        return mapped, f"gradient net mapped into the {cfg.hypothesis} class (no time for the surrogate)"
    end = time.perf_counter() + seconds if np.isfinite(seconds) else None  # the plan's steps, or the share's end
    sur = fit_sign_network_best(Xs, target, cfg.hidden[0], l1=cfg.l1, restarts=restarts, steps=steps, end=end, **kw)
    candidate = map_to_class(sur.weights(), problem)
    if objective(candidate) < objective(mapped):
        return candidate, "proximal-gradient surrogate (lower objective than the mapped MLP)"
    return mapped, f"gradient net mapped into the {cfg.hypothesis} class (lower objective than the surrogate)"


def logistic_start(mapped: Weights, Xs: np.ndarray, target: np.ndarray, cfg: TrainConfig) -> tuple[Weights, str] | None:
    """The constant network when the mapped gradient net's logistic loss plus its weight penalties (l1, l2, l0: a lower
    bound of its objective) is no lower than the constant's loss: every weight and hidden
    bias 0, the output bias c* = logit(p) clipped to [-B_b, B_b] (p the share of y = +1; the mean loss is convex in c,
    so the clipped value is its minimum on the box). Its penalties are 0 and the mapped net's are >= 0, so the
    constant's objective is then no higher. Rescaling into the class's boxes shrinks the logits that the logistic
    loss prices: on Adult (3000 rows) the mapped net predicted the positive class everywhere (objective 0.742 against
    the constant's 0.55). None when the mapped net is kept, or with domain constraints (a constant may break an
    output order)."""
    if cfg.constraints or mapped[-1][0].shape[0] != 1:
        return None
    p = float(np.mean(target > 0))
    c = float(np.clip(np.log(max(p, 1e-12)) - np.log(max(1.0 - p, 1e-12)), -cfg.bias_bound, cfg.bias_bound))
    const_loss = float(logistic_loss(target * c).mean())
    mapped_loss = float(logistic_loss(target * forward_pre(mapped, Xs)[-1][:, 0]).mean())
    # the mapped net's weight penalties (l1, l2, l0; the unit and layer terms only add to them)
    Ws = [np.asarray(W, dtype=np.float64) for W, _ in mapped]
    penalty = sum(
        cfg.l1 * float(np.abs(W).sum()) + cfg.l2 * float((W**2).sum()) + cfg.l0 * float(np.count_nonzero(W)) for W in Ws
    )
    if mapped_loss + penalty < const_loss:
        return None
    zero = [(np.zeros_like(W), np.zeros_like(b)) for W, b in mapped]
    zero[-1] = (zero[-1][0], np.full_like(mapped[-1][1], c))
    return zero, (
        f"best constant network (objective {const_loss:.6g}, its logistic loss; the mapped gradient net's loss "
        f"{mapped_loss:.6g} plus its weight penalties {penalty:.6g} is no lower)"
    )


__all__ = [
    "logistic_start",
    "SURROGATE_SHARE",
    "SURROGATE_SHARE_GUARD",
    "WARM_START_RESTARTS",
    "WARM_START_RESTARTS_MIN_SECONDS",
    "WARM_START_RESTART_SHARE",
    "better_start",
    "surrogate_applies",
]
