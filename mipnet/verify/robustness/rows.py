"""Robustness of every row of a data set: :func:`verify_robustness`, one :func:`~.margin_milp.verify_sample` per
row (input errors of every row before any solving, a progress bar on a terminal's stderr)."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ...errors import DataError, LicenceError, SolverError
from ...network import Network
from .margin_milp import verify_sample
from .region import _prepare, check_in_domain, class_indices
from .results import RobustnessResult, failed


def verify_robustness(
    net: Network,
    X: np.ndarray,
    eps: float,
    norm: str = "inf",
    labels: Sequence[Any] | None = None,
    *,
    solver: str = "highs",
    time_limit: float = 30.0,
    bounds: str = "linear",
    early_stop: bool = True,
    threads: int | None = None,
    use_attack: bool = True,
    spec_bound: bool = True,
) -> list[RobustnessResult]:
    """Verify every row of X: one :class:`RobustnessResult` per sample.

    ``labels`` (class names) fix the class to defend; by default the predicted class.
    ``time_limit`` is per sample (bound computation included), ``bounds`` the bound method
    (interval, lp or mip), ``early_stop=False`` computes the exact worst-case margin. ``spec_bound``
    (default on) runs the CROWN / alpha-CROWN prover after the attack and before the MILP (:func:`verify_sample`).
    """
    _prepare(net)
    if not (np.isfinite(eps) and eps >= 0):
        raise DataError(f"eps must be a finite number >= 0, got {eps}")
    X = net._check_input(X)
    for i in range(X.shape[0]):  # every row first: an input error before any solving
        check_in_domain(net, X[i], i)
    cls = None if labels is None else class_indices(net, list(labels))
    if cls is not None and len(cls) != X.shape[0]:
        raise DataError(f"{len(cls)} labels for {X.shape[0]} samples")
    from ...progress import progress

    results: list[RobustnessResult] = []
    with progress(total=X.shape[0], desc="robustness rows", unit="row") as bar:  # stderr, terminals only
        for i in range(X.shape[0]):
            c = None if cls is None else int(cls[i])
            try:
                r = verify_sample(
                    net,
                    X[i],
                    eps,
                    norm,
                    c,
                    solver=solver,
                    time_limit=time_limit,
                    bounds=bounds,
                    early_stop=early_stop,
                    threads=threads,
                    index=i,
                    use_attack=use_attack,
                    spec_bound=spec_bound,
                )
            except LicenceError:
                raise
            except SolverError as exc:  # one row's solver failure (SCIP: "error in LP solver") is that row's unknown
                r = failed(net, X[i], c, eps, norm, solver, i, f"the solver failed: {exc}")
            results.append(r)
            bar.update()
    return results
