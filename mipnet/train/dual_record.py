"""The dual lower bound (:mod:`.dual_bound`) as the training certificate's record: when it applies, and the run
that makes the record (multipliers that re-check it, source, time) within a share of the time left."""

from __future__ import annotations

import os
import time
from typing import Any, Callable

import numpy as np

from ..deadline import Deadline
from ..solve import SolveOptions
from .formulation import TrainConfig
from .warmstart import Weights

#: share of the time left before the solve that the dual bound (:mod:`.dual_bound`; sign class, binary hinge)
#: may take; it stops early when its column generation converges
DUAL_SHARE = 0.3
#: share of the time left that the dual bound may take when the model was not built (then the only bound)
DUAL_SHARE_UNSOLVED = 0.85
#: the dual bound is not started with less time than this left
MIN_DUAL_SECONDS = 1.0
#: its method (:func:`.dual_bound.bound_for_config`): "auto" = column generation up to AUTO_CG_ROWS distinct rows,
#: above that the vertex-pair bound up to VERTEX_MAX_FEATURES inputs (COMPAS 1000: 0.648 against the transport
#: LP's 0.598; full COMPAS 0.72 against the hybrid's 0.706: results/training/pair_vertices.md), else the hybrid,
#: the transport bound above HYBRID_MAX_ROWS (or HYBRID_MAX_ENTRIES); "transport", "vertex", "hybrid", "cg" force one.
#: ``MIPNET_DUAL_VERTEX=off`` in the environment restores the choice before the vertex-pair bound (benchmarks)
DUAL_METHOD = "auto"
#: above this many distinct rows "auto" is the transport bound alone: the hybrid's exact rows added nothing at
#: Adult 10 000 (0.2539 both, 4x the time; dual_bound_strength.md), and at full Adult (28 265 distinct rows) the
#: transport part it runs first, on a fifth of the time, ended far from its optimum (bound 0.024 against the
#: transport LP's 0.2877 in 100 s; train_scale.md)
HYBRID_MAX_ROWS = 10_000
#: ... and above this many entries (distinct rows x features): at Adult 3000 (2 939 rows x 86 features) the
#: hybrid's transport phase, on a fifth of the time, ended at 0.0096 in one run of three (0.29 in another) on the
#: loaded machine, where the transport LP alone gets all of the dual's time (train_scale_sweep.md); COMPAS 3000
#: and full (about 2 200-2 900 rows x 13) stay with the hybrid, which proves more there (8-9.6 % vs 10-10.7 %)
HYBRID_MAX_ENTRIES = 150_000


def dual_applies(cfg: TrainConfig, task: str, n_classes: int) -> bool:
    """The dual bound (:mod:`.dual_bound`) covers the certificate's objective exactly or from below: sign class
    (one hidden layer, v_j in {-1, 0, +1}), binary hinge, boxes B_w, B_b (output bias too), width
    min(hidden, max_neurons); l2, l0 and the neuron penalty give each active unit kappa (v_j^2 = [v_j != 0] = 1,
    their terms on W_0 are >= 0 and dropped); max_nonzeros, symmetry breaking and the Lipschitz cuts only
    shrink the feasible set or cut off no network. The layer penalty is left out (not in the bound). With the
    linear term the bound subtracts the linear part's share (:mod:`.dual_bound.linear_part`); domain constraints
    (:mod:`.constraints`) only remove networks, so the bound of the class without them holds (weaker)."""
    return (
        task == "classify"
        and n_classes == 2
        and cfg.hypothesis == "sign"
        and cfg.loss == "hinge"
        and cfg.layer_penalty == 0
        and cfg.architecture is None
        and len(cfg.hidden) == 1
    )


def dual_bound_record(
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
    from .dual_bound.pair_vertices import VERTEX_MAX_FEATURES
    from .dual_bound.result import HYBRID_NEIGHBOURS, HYBRID_NEIGHBOURS_ROWS

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
    small = n_rows <= HYBRID_MAX_ROWS and n_rows * Xs.shape[1] <= HYBRID_MAX_ENTRIES
    auto = "cg" if n_rows <= AUTO_CG_ROWS else ("hybrid" if small else "transport")
    if auto != "cg" and Xs.shape[1] <= VERTEX_MAX_FEATURES:
        auto = "vertex"
    if os.environ.get("MIPNET_DUAL_VERTEX", "on").strip().lower() in ("off", "0", "false", "no") and auto == "vertex":
        auto = "hybrid" if small else "transport"  # the choice before the vertex-pair bound (benchmarks compare)
    method = DUAL_METHOD if DUAL_METHOD != "auto" else auto
    extra: dict[str, Any] = {"row_scores": row_scores} if method == "hybrid" else {}
    if method == "vertex":
        extra.update(threads=int(solve_options.threads or 1))
    elif method != "transport":
        extra.update(threads=int(solve_options.threads or 1), seed=int(solve_options.seed or 0))
    elif n_rows <= HYBRID_NEIGHBOURS_ROWS:  # as many pairs as the hybrid's transport part offers (a higher bound)
        extra["neighbours"] = HYBRID_NEIGHBOURS
    try:
        r = bound_for_config(Xs, target, cfg, time_limit=deadline, init_units=init_units, method=method, **extra)
    except (MipnetError, RuntimeError) as exc:
        say(f"dual bound: not computed ({exc})")
        return None
    rec = r.record
    if rec is None:
        return None
    kind = "transport" if not rec["rows"] else ("hybrid" if rec["pairs"] else "column generation")
    if not rec["rows"] and not rec["pairs"]:  # every multiplier 0 (the bound 0), whichever method ran
        kind = "no multipliers"
    if rec.get("pricing_kind") == "vertices":
        kind = "vertex pairs"
    if rec.get("linear"):
        kind = f"{kind} + linear term"
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


__all__ = ["DUAL_METHOD", "DUAL_SHARE", "DUAL_SHARE_UNSOLVED", "MIN_DUAL_SECONDS", "dual_applies", "dual_bound_record"]
