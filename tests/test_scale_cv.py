"""Cross-validation of l1 under a deadline (mipnet.train.penalty_cv): projected before each piece of work."""

from __future__ import annotations

import numpy as np

from mipnet.deadline import Deadline
from mipnet.train import penalty_cv as cv
from mipnet.train.penalty_cv import select_l1


def _data(n: int, d: int = 6, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = np.where(X[:, 0] + 0.5 * rng.normal(size=n) > 0, 1.0, -1.0)
    return X, y


def test_a_spent_deadline_samples_the_rows_and_skips_the_full_data_fits() -> None:
    X, y = _data(3000)
    grid = [0.001, 0.01, 0.1]
    sel = select_l1(X, y, 2, grid, folds=3, repeats=2, deadline=Deadline(1e-6))
    assert sel.splits == 1  # the first split always runs, no later one is started past the deadline
    assert sel.cv_rows is not None and cv.MIN_CV_ROWS <= sel.cv_rows < X.shape[0]
    assert sel.full_data_nonzero == [-1, -1, -1]  # no time for the full-data check: nothing claimed
    best = max(range(3), key=lambda i: (round(sel.mean_accuracy[i], 12), grid[i]))
    assert sel.l1 == grid[best]


def test_without_a_deadline_nothing_changes() -> None:
    X, y = _data(120)
    sel = select_l1(X, y, 2, [0.001, 0.05], folds=3, repeats=1)
    assert sel.cv_rows is None and sel.splits == 3 and all(n >= 0 for n in sel.full_data_nonzero)
