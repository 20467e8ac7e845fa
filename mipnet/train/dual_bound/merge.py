"""The rows a dual bound sees: the checked data with exact duplicate (x, y) rows merged.

Merging is exact: rows with the same x and the same y share f(x), so the multipliers of a group of count_k rows
are one alpha_k in [0, count_k / D] in the same dual problem (fewer rows, fewer pricing binaries).
:func:`standardise` gives the inputs the training MILP sees and :func:`units_of_network` the hidden units of a
trained sign-class network in those coordinates (a warm start of the master).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...errors import DataError
from ..scaling import column_scale


def merge_duplicates(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Unique (x, y) rows: (X_u, y_u, counts, inverse) with X[i] == X_u[inverse[i]], y[i] == y_u[inverse[i]]."""
    Z = np.ascontiguousarray(np.column_stack([X, y]))
    _, first, inverse, counts = np.unique(Z, axis=0, return_index=True, return_inverse=True, return_counts=True)
    inverse = np.asarray(inverse).ravel()
    return X[first], y[first], counts.astype(np.int64), inverse


def _representatives(inverse: np.ndarray, n_groups: int) -> np.ndarray:
    """The first original row of each merged group (``inverse`` as from :func:`merge_duplicates`)."""
    rep = np.full(n_groups, -1, dtype=np.int64)
    rep[inverse[::-1]] = np.arange(inverse.size - 1, -1, -1)
    return rep


def standardise(X: np.ndarray) -> np.ndarray:
    """The inputs the training MILP sees: ``(X - mean) / std`` with a zero std read as 1 (:func:`.trainer.train`)."""
    X = np.asarray(X, dtype=np.float64)
    mu, sd = column_scale(X)
    return (X - mu) / sd


def units_of_network(net: Any) -> np.ndarray:
    """The hidden units (w_j, b_j) of a trained sign-class network, in the MILP's standardised coordinates
    (the first Dense layer after the trainer's Normalize): array (J, d + 1), pruned units left out."""
    dense = [l for l in net.layers if l.parametrised and l.unit_name == "neurons"]  # the Dense layers
    W, b = np.asarray(dense[0].weight, dtype=np.float64), np.asarray(dense[0].bias, dtype=np.float64)
    keep = (np.abs(W).sum(axis=1) + np.abs(b)) > 0
    return np.column_stack([W[keep], b[keep]])


def _prepared(
    X: Any, y: Any, merge: bool = True
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The checked data (X float (N, d), y in {-1, +1}) and its merged rows (Xu, yu, counts, inverse);
    ``merge=False``: every row its own group."""
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64).ravel()
    if X.ndim != 2 or X.shape[0] != y.size or y.size == 0:
        raise DataError(f"X must be (N, d) with N = len(y) > 0, got {X.shape} and {y.size} labels")
    if not np.all(np.isfinite(X)):
        raise DataError("X contains NaN or inf values")
    if not np.all(np.isin(y, (-1.0, 1.0))):
        raise DataError("y must be in {-1, +1}")
    if merge:
        Xu, yu, counts, inverse = merge_duplicates(X, y)
    else:
        Xu, yu, counts, inverse = X, y, np.ones(X.shape[0], dtype=np.int64), np.arange(X.shape[0])
    return X, y, Xu, yu, counts, inverse
