"""Re-check of a training bound proved by the cutting planes of the linear term alone (:mod:`mipnet.train.linear_cuts`).

The certificate's formulation records the points the cuts were taken at; each cut is recomputed here from the data
(a tangent of the logistic loss, or a hinge cut whose alphas are clipped to [0, 1]), so any recorded numbers give
cuts below the loss: an edited point can only weaken the master, never make its bound invalid. The master MILP
(the recorded class: boxes, budget, signs, exclusions, orders) is solved again; its proved bound must reach the
claimed one. The rows' grouping (row n of the merged rows in group n mod G, G recorded) only changes how the loss
is split among the master's variables; any G gives valid cuts.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from ..errors import DataError, MipnetError
from ..train.scaling import column_scale
from .checks import REPROVE_TOL


def cuts_claim(
    cfg: Any, record: Any, X: np.ndarray, y: np.ndarray, tc: Any, claimed: float, seconds: float | None
) -> tuple[bool | None, str]:
    """A bound from the cutting-plane fit (:mod:`mipnet.train.linear_cuts`): every cut recomputed from the data
    at the recorded points (any points give cuts below the loss, so an edited point cannot make a cut invalid)
    and the master MILP solved again; its proved bound must reach the claimed one. A master solved to optimality
    below the claim refutes it (the recorded cuts do not prove it)."""
    from ..deadline import Deadline
    from ..train.config import resolve_config
    from ..train.formulation import merge_rows
    from ..train.linear_cuts import MAX_RECORDED_POINTS, LinearCuts, applies, master_bound
    from ..train.objective_check import _targets

    if seconds is None:
        return None, "not re-proved: no time left for the master MILP"
    n_classes = len(tc.classes or [])
    try:
        cfg = resolve_config(cfg, tc.task, n_classes)
    except MipnetError as exc:
        return False, f"the recorded formulation is not a training problem ({exc})"
    reason = applies(cfg, tc.task, n_classes)
    if reason is not None:
        return False, f"a bound from cuts on a class the cutting planes do not cover ({reason})"
    record = record if isinstance(record, dict) else {}
    points = record.get("points")
    groups = record.get("groups", 1)
    if not isinstance(groups, int) or isinstance(groups, bool) or groups < 1:
        return False, f"the recorded number of row groups is not a positive integer ({groups!r})"
    if not isinstance(points, list) or not points:
        return False, "the certificate names cuts as the bound's source but records no cut points"
    target = _targets(y, tc.task, tc.classes, 1)
    mu, sd = column_scale(X)
    Xm, tm, counts, _ = merge_rows((X - mu) / sd, target)
    t0 = time.perf_counter()
    try:
        problem = LinearCuts(Xm, tm, cfg, counts, X.shape[0], groups=groups)
        got = master_bound(problem, points, Deadline(seconds))
    except DataError as exc:
        return False, f"the recorded cut points are not readable: {exc}"
    secs = time.perf_counter() - t0
    tol = REPROVE_TOL * max(1.0, abs(claimed))
    if got is not None and got >= claimed - tol:
        return True, f"{len(points)} cuts, {secs:.1f} s: bound {got:.9g} >= claimed {claimed:.9g}"
    import highspy

    solved = problem.h.getModelStatus() == highspy.HighsModelStatus.kOptimal
    truncated = record.get("truncated") is True
    if truncated and len(points) < MAX_RECORDED_POINTS:  # the fit truncates only a record that reached the cap
        return False, f"the record says truncated but holds {len(points)} < {MAX_RECORDED_POINTS} cut points"
    if solved and got is not None and not truncated:
        return False, f"the recorded cuts prove {got:.9g} only (master solved), below the claimed bound {claimed:.9g}"
    # the fit recorded its first points only, or the master ran out of time: the cutting planes go on from the
    # recorded cuts for the time left; a model below the claimed bound (numpy objective) refutes it
    from ..train.linear_cuts import fit_by_cuts

    left = seconds - (time.perf_counter() - t0)
    more = fit_by_cuts(problem, Deadline(max(0.0, left)), mip_gap=1e-9) if left > 0.5 else None
    if more is not None and more.objective < claimed - tol:
        return False, (
            f"the cutting planes found a model of the class with objective {more.objective:.9g} (numpy) below the "
            f"claimed bound {claimed:.9g}"
        )
    if more is not None and more.bound is not None and more.bound >= claimed - tol:
        return True, f"{len(points)} recorded cuts and {len(more.points)} new: bound {more.bound:.9g} >= claimed"
    first = f"the record keeps the fit's first {len(points)} cut points only; " if truncated else ""
    reached = got if more is None or more.bound is None else max(got or -np.inf, more.bound)
    return None, f"not re-proved within {seconds:.3g} s: {first}the master reached {reached} < claimed {claimed:.9g}"


__all__ = ["cuts_claim"]
