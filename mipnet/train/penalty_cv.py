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

Under a deadline (the trainer gives this stage ``CV_SHARE`` of the fit's limit) every piece of work is projected
before it starts: the surrogate's cost is about linear in rows x problems x steps, so a probe (``PROBE_STEPS`` steps
on at most ``PROBE_ROWS`` rows, 1/20 of a fit) gives the seconds per row-problem-step s. A split is started only
if the mean time of the splits done (the first: s x rows x problems x steps) fits in what is left; when even the
first would not, the
cross-validation runs on a stratified sample of the rows that fits (at least ``MIN_CV_ROWS``; ``cv_rows`` records
it). The full-data check fits every candidate at once when that fits, else the candidates in the order of their
scores one at a time, each only while it fits, until one is not constant (``full_data_nonzero`` is -1 for a
candidate not fitted); with no time for any, the best-scoring candidate is taken unchecked.

Why the surrogate and not the MILP: one MILP fit per (penalty, split) would cost the whole time budget
many times over, and a MILP cut short after a few seconds is a poor stand-in for the fit it is meant to
predict (its incumbent is still the dense warm start). The surrogate minimises the same objective
locally, a grid of 5 in about 0.7 s per split at N = 240, and the MILP then starts from the surrogate's network.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any, Callable, Sequence

import numpy as np

from .. import choices
from ..deadline import Deadline
from ..errors import DataError, LimitError
from ..progress import progress
from .scaling import column_scale
from .surrogate import fit_sign_path

#: 1-2-3-5 steps (adjacent candidates at most a factor 2 apart): on tabular data the held-out accuracy often
#: peaks just below the penalty at which the fit collapses to the constant network, and a coarser grid
#: (0.001, 0.003, 0.01, 0.03, 0.1) stepped over that peak (German credit at N = 300:
#: results/training/penalty_grid_n300.json)
DEFAULT_L1_GRID = choices.DEFAULT_L1_GRID
#: restarts (output-sign patterns) of the surrogate on all rows, for the full-data check and the warm start
FULL_DATA_RESTARTS = 4
#: restarts per candidate in each split; steps of every surrogate fit (:func:`.surrogate.fit_sign_path`'s default)
SPLIT_RESTARTS = 2
STEPS = 600
#: the cost probe under a deadline: a fit of this many steps on at most this many rows (a probe on a few hundred
#: rows underestimated a fit on 9511 rows x 86 features about 3 times, so it takes the rows)
PROBE_STEPS = 30
PROBE_ROWS = 20000
#: the probe stops at this share of the time left (it prices the rest), looking at the clock every PROBE_CHECK steps
#: (every 30 on 20 000 rows of Adult took over a second past a budget of 0.01 s)
PROBE_SHARE = 0.1
PROBE_CHECK = 5
#: cross-validation never runs on fewer rows than this (or all of them, if fewer)
MIN_CV_ROWS = 200
#: a surrogate fit cut to fewer steps than this (the time left) is not started (:func:`surrogate_steps`)
MIN_STEPS = 60


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
    full_data_nonzero: list[int]  # non-zero weights of the surrogate fitted on all rows, per candidate (-1: not fitted)
    seconds: float
    cv_rows: int | None = None  # rows the splits were drawn from when a sample was needed to fit the deadline

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _standardise(train: np.ndarray, other: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mu, sd = column_scale(train)
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
    first_split_max: float | None = None,
) -> PenaltySelection:
    """Cross-validate the sign-class surrogate over ``grid`` (module docstring); y in {-1, +1}.

    ``deadline`` (a :class:`~mipnet.deadline.Deadline`, or a ``time.perf_counter()`` value): no split is started
    after it; the choice then rests on the splits done (at least the first, which is always completed), and
    ``splits`` says how many (the full-data fits that follow always run: the caller's later stages take what is
    left).
    ``first_split_max``: seconds the first split may take at most (the caller's share of its whole time limit,
    beyond this stage's): a first split projected (after sampling the rows) above it is not started, a SolverError
    says so (the caller's time limit is a promise).
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
    left = _left(deadline)
    kw: dict[str, Any] = dict(margin=margin, weight_bound=weight_bound, bias_bound=bias_bound, seed=seed)
    # seconds per row x problem x step, and the fixed seconds of one fit
    rate, fixed = _probe(X, y, hidden, grid, kw, budget=PROBE_SHARE * left()) if np.isfinite(left()) else (0.0, 0.0)
    per_row = rate * len(grid) * SPLIT_RESTARTS * STEPS * (folds - 1) / folds  # one split's seconds per row
    Xcv, ycv, cv_rows = X, y, None
    if fixed + per_row * X.shape[0] > left() and X.shape[0] > MIN_CV_ROWS:
        keep = _stratified_sample(y, max(MIN_CV_ROWS, int(0.8 * max(0.0, left() - fixed) / per_row)), seed)
        if keep.size < X.shape[0] and min(np.sum(y[keep] > 0), np.sum(y[keep] < 0)) >= folds:
            Xcv, ycv, cv_rows = X[keep], y[keep], int(keep.size)
    first = fixed + per_row * Xcv.shape[0]
    if first_split_max is not None and first > first_split_max and cv_rows is not None:
        # priced again on the sample itself: the rate of 20 000 rows overstated 200 rows' 13x (caches)
        rate_s, fixed_s = _probe(Xcv, ycv, hidden, grid, kw, budget=PROBE_SHARE * max(0.0, first_split_max))
        first = fixed_s + rate_s * len(grid) * SPLIT_RESTARTS * STEPS * (folds - 1) / folds * Xcv.shape[0]
    if first_split_max is not None and first > first_split_max:
        raise LimitError(
            f"no time for the cross-validation of l1: one split of {Xcv.shape[0]} rows takes about {first:.2g} s, "
            f"more than the {max(0.0, first_split_max):.2g} s the time limit allows it; raise the time limit or give "
            "--l1 VALUE"
        )
    scores: list[list[float]] = []
    t_splits = time.perf_counter()
    with progress(folds * repeats, "cross-validation", unit="split") as bar:  # stderr, on a terminal only
        for tr, va in splitter.split(Xcv, ycv):
            mean_split = (time.perf_counter() - t_splits) / len(scores) if scores else fixed + per_row * Xcv.shape[0]
            if scores and (expired() or mean_split > left()):
                break
            Xtr, Xva = _standardise(Xcv[tr], Xcv[va])
            nets = fit_sign_path(Xtr, ycv[tr], hidden, grid, restarts=SPLIT_RESTARTS, **kw)
            scores.append([float(np.mean(np.where(net.decision(Xva) > 0, 1.0, -1.0) == ycv[va])) for net in nets])
            bar.update()
    acc = np.asarray(scores).T  # (grid, splits done)
    mean = acc.mean(axis=1)
    order = score_order(grid, mean.tolist())
    Xs, _ = _standardise(X, X[:1])
    one = fixed + rate * X.shape[0] * FULL_DATA_RESTARTS * STEPS  # seconds of one candidate's full-data fit
    nonzero = [-1] * len(grid)
    if one * len(grid) <= left():
        nonzero = [net.nonzero() for net in fit_sign_path(Xs, y, hidden, grid, restarts=FULL_DATA_RESTARTS, **kw)]
    else:  # one candidate at a time, best score first, while the deadline allows
        for i in order:
            if one > left():
                break
            nonzero[i] = fit_sign_path(Xs, y, hidden, [grid[i]], restarts=FULL_DATA_RESTARTS, **kw)[0].nonzero()
            if nonzero[i] > 0:
                break
    chosen = chosen_index(grid, mean.tolist(), nonzero)
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
        cv_rows=cv_rows,
    )


def score_order(grid: Sequence[float], mean: Sequence[float]) -> list[int]:
    """Candidates best first: higher mean held-out accuracy (to 1e-12), then the larger penalty."""
    return sorted(range(len(grid)), key=lambda i: (-round(float(mean[i]), 12), -float(grid[i])))


def chosen_index(grid: Sequence[float], mean: Sequence[float], nonzero: Sequence[int]) -> int:
    """The rule of the module docstring: the best-scoring candidate whose full-data fit is not constant (non-zero
    weights), else the best-scoring one not fitted (-1), else the best-scoring one. A certificate's record of the
    selection is re-checked against it (:mod:`mipnet.certificates.training_class`)."""
    order = score_order(grid, mean)
    return next((i for i in order if nonzero[i] > 0), next((i for i in order if nonzero[i] < 0), order[0]))


def selection_method(sel: dict[str, Any]) -> str:
    """How a selection (a :class:`PenaltySelection` dict) was made: the folds and repeats, the splits done when
    fewer than planned, the rows drawn from when a sample was needed."""
    planned = int(sel["folds"]) * int(sel["repeats"])
    done = int(sel.get("splits") or planned)
    how = f"{sel['folds']}-fold cross-validation x {sel['repeats']}"
    if done < planned:
        how += f" ({done} of {planned} splits in the time limit)"
    if sel.get("cv_rows"):
        how += f" on a sample of {sel['cv_rows']} rows"
    return how


def selection_score(sel: dict[str, Any]) -> str:
    """The chosen penalty's own held-out accuracy, and the better score the constant-network guard passed over."""
    grid, mean = list(sel["grid"]), list(sel["mean_accuracy"])
    i = grid.index(sel["l1"]) if sel["l1"] in grid else int(np.argmax(mean))
    words = f"held-out accuracy {mean[i]:.3f}"
    best = score_order(grid, mean)[0]
    if best != i:
        words += f" (best {mean[best]:.3f} at l1 {grid[best]:g}, passed over: its fit on all rows is constant)"
    return words


def surrogate_steps(
    X: np.ndarray,
    y: np.ndarray,
    hidden: int,
    l1: float,
    restarts: int,
    seconds: float,
    *,
    most: int | None = None,
    **kw: Any,
) -> tuple[int, int]:
    """(restarts, steps) of a surrogate fit on all of (X, y) (standardised) that fits in ``seconds``: (``restarts``,
    :data:`STEPS`) without a limit or when that fits by the probe's rate (``most``: then as many restarts as fit,
    up to ``most``), else one restart with as many steps as fit (at most :data:`STEPS`; 0 steps when fewer than
    :data:`MIN_STEPS`: no time for the fit). ``kw``: the fit's margin, boxes and seed."""
    if not np.isfinite(seconds):
        return restarts, STEPS
    rate, fixed = _probe(X, y, hidden, [float(l1)], kw, standardised=True, restarts=1, budget=PROBE_SHARE * seconds)
    per_step = max(rate * X.shape[0], 1e-12)  # one problem's step on all rows
    if fixed + per_step * max(1, restarts) * STEPS <= seconds:
        if most is not None and most > restarts:
            return max(restarts, min(most, int((seconds - fixed) / (per_step * STEPS)))), STEPS
        return restarts, STEPS
    steps = int(max(0.0, seconds - fixed) / per_step)
    return 1, (min(STEPS, steps) if steps >= MIN_STEPS else 0)


def _left(deadline: Deadline | float | None) -> Callable[[], float]:
    """Seconds left before ``deadline`` (inf without one)."""
    if isinstance(deadline, Deadline):
        return deadline.remaining
    if deadline is None:
        return lambda: float("inf")
    end = float(deadline)
    return lambda: end - time.perf_counter()


def _probe(
    X: np.ndarray,
    y: np.ndarray,
    hidden: int,
    grid: list[float],
    kw: dict[str, Any],
    standardised: bool = False,
    restarts: int = SPLIT_RESTARTS,
    budget: float | None = None,
) -> tuple[float, float]:
    """(seconds per row x problem x step, fixed seconds: 0) of the surrogate: one fit of ``PROBE_STEPS`` steps on
    at most ``PROBE_ROWS`` rows (a stratified sample) with the grid's problems. Its mean per step includes the
    first steps' start-up cost, so it over-estimates a full fit (about 2x measured): the deadline is kept at the
    price of fewer steps; a difference of two short fits under-estimated by 4x on the loaded machine."""
    keep = _stratified_sample(y, PROBE_ROWS, kw.get("seed"))
    Xp = X[keep] if standardised else _standardise(X[keep], X[:1])[0]
    t0 = time.perf_counter()
    end = None if budget is None or not np.isfinite(budget) else t0 + max(0.0, budget)
    ran: list[int] = []
    fit_sign_path(
        Xp, y[keep], hidden, grid, restarts=restarts, steps=PROBE_STEPS, check_every=PROBE_CHECK, end=end, ran=ran,
        **kw,
    )  # fmt: skip
    took = time.perf_counter() - t0
    # stopped by its budget (full Adult, l1 cv, 5 s: the 30 steps took over 20 s), it prices the steps it ran
    steps = max(1, ran[-1]) if ran else PROBE_STEPS
    return took / (keep.size * len(grid) * max(1, restarts) * steps), 0.0


def _stratified_sample(y: np.ndarray, n: int, seed: int | None) -> np.ndarray:
    """Indices of at most ``n`` rows, each class in its proportion (sorted; all rows if n >= len(y))."""
    if n >= y.size:
        return np.arange(y.size)
    rng = np.random.default_rng(None if seed is None else int(seed))
    parts = []
    for cls in np.unique(y):
        idx = np.flatnonzero(y == cls)
        parts.append(rng.choice(idx, size=max(1, int(round(n * idx.size / y.size))), replace=False))
    return np.sort(np.concatenate(parts))


__all__ = ["DEFAULT_L1_GRID", "PenaltySelection", "select_l1", "surrogate_steps"]
