"""Choose the l1 penalty on the training data: repeated stratified K-fold cross-validation of the surrogate.

For each candidate c on the grid and each of the ``folds`` x ``repeats`` splits of the training rows, the
gradient surrogate of the sign class (:func:`.surrogate.fit_sign_path`, the whole grid in one batch) is fitted
with l1 = c on the training part (standardised with that part's own mean and deviation) and scored by its
accuracy on the held-out part. The chosen penalty maximises the mean held-out accuracy; among equal means the
larger penalty (the sparser network) wins. One guard: the surrogate is then fitted on all rows for every
candidate, and a candidate whose full-data fit is the constant network (every unit off: the penalty outweighs
what the features add on this data) is passed over for the next best, unless every candidate ends constant.
Near that threshold the folds (fewer rows, other local optima) can still find a network where the full data do
not, and the MILP, minimising the same objective, would then return the constant network.
The test data never enter: the selection sees only what ``fit`` sees.

Why the surrogate and not the MILP: one MILP fit per (penalty, split) would cost the whole time budget
many times over, and a MILP cut short after a few seconds is a poor stand-in for the fit it is meant to
predict (its incumbent is still the dense warm start). The surrogate minimises the same objective
locally, a grid of 5 in about 0.7 s per split at N = 240, and the MILP then starts from the surrogate's network.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any, Sequence

import numpy as np

from .. import choices
from ..deadline import Deadline
from ..errors import DataError
from ..progress import progress
from .surrogate import fit_sign_path

#: 1-2-3-5 steps (adjacent candidates at most a factor 2 apart): on tabular data the held-out accuracy often
#: peaks just below the penalty at which the fit collapses to the constant network, and a coarser grid
#: (0.001, 0.003, 0.01, 0.03, 0.1) stepped over that peak (German credit at N = 300:
#: results/training/penalty_grid_n300.json)
DEFAULT_L1_GRID = choices.DEFAULT_L1_GRID
#: restarts (output-sign patterns) of the surrogate on all rows, for the full-data check and the warm start
FULL_DATA_RESTARTS = 4


@dataclass
class PenaltySelection:
    """The chosen l1 and the evidence: mean and standard deviation of held-out accuracy per candidate."""

    l1: float
    grid: list[float]
    mean_accuracy: list[float]
    std_accuracy: list[float]
    folds: int
    repeats: int
    splits: int  # splits evaluated: folds x repeats unless the deadline came first
    full_data_nonzero: list[int]  # non-zero weights of the surrogate fitted on all rows, per candidate
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _standardise(train: np.ndarray, other: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mu, sd = train.mean(axis=0), train.std(axis=0)
    sd = np.where(sd > 1e-12, sd, 1.0)
    return (train - mu) / sd, (other - mu) / sd


def select_l1(
    X: np.ndarray,
    y: np.ndarray,
    hidden: int,
    grid: Sequence[float] = DEFAULT_L1_GRID,
    *,
    folds: int = 5,
    repeats: int = 2,
    margin: float = 1.0,
    weight_bound: float = 1.0,
    bias_bound: float = 1.0,
    seed: int | None = 0,
    deadline: Deadline | float | None = None,
) -> PenaltySelection:
    """Cross-validate the sign-class surrogate over ``grid`` (module docstring); y in {-1, +1}.

    ``deadline`` (a :class:`~mipnet.deadline.Deadline`, or a ``time.perf_counter()`` value): no split is started
    after it; the choice then rests on the splits done (at least the first, which is always completed), and
    ``splits`` says how many (the full-data fits that follow always run: the caller's later stages take what is
    left).
    """
    expired = (
        deadline.expired
        if isinstance(deadline, Deadline)
        else (lambda: deadline is not None and time.perf_counter() >= deadline)
    )
    from sklearn.model_selection import RepeatedStratifiedKFold

    t0 = time.perf_counter()
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    grid = [float(c) for c in grid]
    if not grid or any(not np.isfinite(c) or c < 0 for c in grid):
        raise DataError(f"the l1 grid must be a non-empty list of finite values >= 0, got {grid}")
    if folds < 2 or repeats < 1:
        raise DataError(f"cross-validation needs folds >= 2 and repeats >= 1, got {folds} and {repeats}")
    smallest = int(min(np.sum(y > 0), np.sum(y < 0)))
    if smallest < folds:
        raise DataError(f"the smaller class has {smallest} rows, fewer than the {folds} cross-validation folds")
    splitter = RepeatedStratifiedKFold(
        n_splits=folds, n_repeats=repeats, random_state=None if seed is None else int(seed)
    )
    scores: list[list[float]] = []
    with progress(folds * repeats, "cross-validation", unit="split") as bar:  # stderr, on a terminal only
        for tr, va in splitter.split(X, y):
            if scores and expired():
                break
            Xtr, Xva = _standardise(X[tr], X[va])
            nets = fit_sign_path(
                Xtr, y[tr], hidden, grid, margin=margin, weight_bound=weight_bound, bias_bound=bias_bound, seed=seed
            )
            scores.append([float(np.mean(np.where(net.decision(Xva) > 0, 1.0, -1.0) == y[va])) for net in nets])
            bar.update()
    acc = np.asarray(scores).T  # (grid, splits done)
    mean = acc.mean(axis=1)
    order = sorted(range(len(grid)), key=lambda i: (-round(float(mean[i]), 12), -grid[i]))
    Xs, _ = _standardise(X, X[:1])
    full = fit_sign_path(
        Xs,
        y,
        hidden,
        grid,
        restarts=FULL_DATA_RESTARTS,
        margin=margin,
        weight_bound=weight_bound,
        bias_bound=bias_bound,
        seed=seed,
    )
    nonzero = [net.nonzero() for net in full]
    chosen = next((i for i in order if nonzero[i] > 0), order[0])
    return PenaltySelection(
        l1=grid[chosen],
        grid=grid,
        mean_accuracy=mean.tolist(),
        std_accuracy=acc.std(axis=1).tolist(),
        folds=folds,
        repeats=repeats,
        splits=acc.shape[1],
        full_data_nonzero=nonzero,
        seconds=time.perf_counter() - t0,
    )


__all__ = ["DEFAULT_L1_GRID", "PenaltySelection", "select_l1"]
