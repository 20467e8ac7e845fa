"""The standardisation of the training inputs (and of a regression target): one rule for every place that needs it.

Per column, with m = max |x| (1 for an all-zero column): sd = std(x / m) m, computed on x / m so that values near
1e160 do not overflow in the squares; the column is **constant** when sd <= 1e-12 m, and its sd is then read as 1
(x - mu = 0 on the data). The cut-off is relative: an absolute one (sd <= 1e-12) dropped every feature of data in
small units (the same data x 1e-13 trained a constant classifier, reported optimal), and at 1e160 the squares
overflowed.

The trainer, the dual bound's merged rows, the penalty cross-validation and the training re-check all standardise
with :func:`column_scale`: the re-check's inputs are then bit for bit the trainer's.
"""

from __future__ import annotations

import numpy as np

#: a column whose spread is at most this share of its largest magnitude is constant
CONSTANT_SHARE = 1e-12


def column_scale(X: np.ndarray, axis: int | tuple[int, ...] = 0) -> tuple[np.ndarray, np.ndarray]:
    """(mean, sd) of ``X`` over ``axis`` by the rule of the module docstring (a constant column's sd is 1)."""
    X = np.asarray(X, dtype=np.float64)
    m = np.max(np.abs(X), axis=axis, keepdims=True) if X.size else np.ones(1)
    m = np.where(m > 0, m, 1.0)
    mu = (X / m).mean(axis=axis, keepdims=True) * m
    sd = (X / m).std(axis=axis, keepdims=True) * m
    sd = np.where(sd > CONSTANT_SHARE * m, sd, 1.0)
    return np.squeeze(mu, axis=axis), np.squeeze(sd, axis=axis)


__all__ = ["CONSTANT_SHARE", "column_scale"]
