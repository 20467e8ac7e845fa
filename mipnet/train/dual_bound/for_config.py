"""The width-J dual bound of a training configuration: :func:`bound_for_config` picks the method."""

from __future__ import annotations

from typing import Any

import numpy as np

from ...deadline import Deadline
from ...errors import DataError, UnsupportedError
from .column_generation import any_width_lower_bound
from .hybrid import hybrid_lower_bound
from .linear_part import with_linear_term
from .merge import merge_duplicates
from .pair_vertices import vertex_lower_bound
from .pairwise import transport_lower_bound
from .result import AUTO_CG_ROWS, DualBoundResult


def bound_for_config(
    X: np.ndarray,
    target: np.ndarray,
    config: Any,
    *,
    time_limit: float | Deadline,
    penalty_weight: float = 1.0,
    loss_denominator: float | None = None,
    init_units: np.ndarray | None = None,
    method: str = "cg",
    **kwargs: Any,
) -> DualBoundResult:
    """The width-J bound of this module for a :class:`~.formulation.TrainingProblem`'s data (``X`` the
    standardised inputs, ``target`` in {-1, +1}) and config: sign class, hinge loss, one hidden layer of J units
    (J = min(hidden, max_neurons)); boxes B_w, B_b; output bias in [-B_b, B_b]; unit cost
    kappa = pw (l1 + l2 + l0 + neuron_penalty) (|v_j| = v_j^2 = [v_j != 0] = 1 for an active unit).

    ``method``: ``"cg"`` column generation with the exact pricing MILP over all rows (strong, for a few hundred
    rows), ``"transport"`` (:func:`transport_lower_bound`, any N, seconds), ``"vertex"`` (the transport bound with
    its pair relaxation maximised exactly over the box's vertices, :func:`.pair_vertices.vertex_lower_bound`; up
    to ``VERTEX_MAX_FEATURES`` inputs), ``"hybrid"``
    (:func:`hybrid_lower_bound`), ``"any width"`` (the any-width column generation), ``"auto"`` (cg up to
    ``AUTO_CG_ROWS`` distinct rows, hybrid above).

    With the linear term (``config.linear``) every width-J method's multipliers and certified V give the bound of
    the larger class by subtracting the linear part's L(t g) (:mod:`.linear_part`; the any-width bound has no box
    and is not defined there). Domain constraints (``config.constraints``) only remove networks from the class, so
    a bound of the class without them holds for it too (weaker, never wrong)."""
    from ..formulation import resolve_config

    cfg = resolve_config(config, "classify", 2)
    if cfg.hypothesis != "sign" or cfg.loss != "hinge":
        raise UnsupportedError(
            f"the dual bound is for the sign class with the hinge loss, not {cfg.hypothesis}/{cfg.loss}"
        )
    if cfg.layer_penalty > 0:
        raise UnsupportedError("the layer penalty is not in the sign class's dual bound")
    J = int(cfg.hidden[0]) if cfg.max_neurons is None else min(int(cfg.hidden[0]), int(cfg.max_neurons))
    kappa = float(penalty_weight) * (cfg.l1 + cfg.l2 + cfg.l0 + cfg.neuron_penalty)
    if method == "auto":
        n_rows = merge_duplicates(np.asarray(X, dtype=np.float64), np.asarray(target, dtype=np.float64))[0].shape[0]
        method = "cg" if n_rows <= AUTO_CG_ROWS else "hybrid"
    common: dict[str, Any] = dict(
        l1=cfg.l1,
        margin=cfg.margin,
        time_limit=time_limit,
        penalty_weight=penalty_weight,
        loss_denominator=loss_denominator,
    )
    if method == "any width":
        if cfg.linear:
            raise UnsupportedError("the any-width dual bound has no weight box: not defined with the linear term")
        return any_width_lower_bound(X, target, init_units=init_units, **common, **kwargs)
    result = _width_j_bound(X, target, cfg, J, kappa, init_units, method, common, kwargs)
    if not cfg.linear:
        return result
    return with_linear_term(
        result,
        X,
        target,
        margin=cfg.margin,
        width=J,
        unit_cost=kappa,
        lam=float(penalty_weight) * cfg.l1,
        l0=float(penalty_weight) * cfg.l0,
        weight_bound=cfg.weight_bound,
        output_bias_bound=cfg.bias_bound,
    )


def _width_j_bound(
    X: np.ndarray,
    target: np.ndarray,
    cfg: Any,
    J: int,
    kappa: float,
    init_units: np.ndarray | None,
    method: str,
    common: dict[str, Any],
    kwargs: dict[str, Any],
) -> DualBoundResult:
    """The width-J bound of ``method`` for the class without the linear term."""
    if method == "transport":
        return transport_lower_bound(
            X, target, width=J, weight_bound=cfg.weight_bound, unit_cost=kappa, **common, **kwargs
        )
    if method == "vertex":
        return vertex_lower_bound(
            X, target, width=J, weight_bound=cfg.weight_bound, unit_cost=kappa, **common, **kwargs
        )
    box: dict[str, Any] = dict(
        width=J,
        weight_bound=cfg.weight_bound,
        bias_bound=cfg.bias_bound,
        output_bias_bound=cfg.bias_bound,
        unit_cost=kappa,
        init_units=init_units,
    )
    if method == "hybrid":
        if cfg.linear:  # its LP pays the linear part's share too (multipliers that suit the larger class)
            kwargs = {**kwargs, "linear": (cfg.weight_bound, float(common["penalty_weight"]) * cfg.l0)}
        return hybrid_lower_bound(X, target, **box, **common, **kwargs)
    if method != "cg":
        raise DataError(f"method must be cg, transport, vertex, hybrid, any width or auto, not {method!r}")
    if cfg.linear:  # the master prices the linear part too (its multipliers then suit the larger class)
        box["linear_bound"] = cfg.weight_bound
    return any_width_lower_bound(X, target, **box, **common, **kwargs)
