"""Threshold features: each numeric column turned into the yes/no questions a scorecard asks ("age > 45.5").

The thresholds are those of boosted decision stumps (the construction GOSDT's documentation gives for its
``ThresholdGuessBinarizer``): gradient boosting with ``n_stumps`` trees of depth 1 on the training rows; every
split (feature f, threshold t) of those trees becomes one binary column

    b_{f,t}(x) = 1 if x_f > t else 0,

deduplicated and ordered by (f, t). A linear model on these columns, w . b(x) + c, is a risk score: "w points if
x_f > t", one point value per question. With mipnet's linear term alone and the logistic loss
(``MIPNetClassifier((1,), max_neurons=0, linear_term=True, loss="logistic", constraints=[FeatureBudget(K)])``) it
is trained to a certified optimum by cutting planes (:mod:`mipnet.train.linear_cuts`), and its size is the
number of questions it uses.

A scikit-learn transformer (``fit`` / ``transform`` / ``get_feature_names_out``), so it composes with a
``Pipeline``. Only the labels' order matters to the stumps (any two classes).
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from .errors import DataError

__all__ = ["ThresholdFeatures"]


class ThresholdFeatures:
    """Binary columns 1[x_f > t] at the split thresholds of ``n_stumps`` boosted depth-1 trees (module docstring).

    After ``fit``: ``thresholds_`` (list of (feature index, threshold)), ``n_features_in_``."""

    def __init__(self, n_stumps: int = 40, random_state: int | None = 0) -> None:
        self.n_stumps = n_stumps
        self.random_state = random_state

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        return {"n_stumps": self.n_stumps, "random_state": self.random_state}

    def set_params(self, **params: Any) -> "ThresholdFeatures":
        for k, v in params.items():
            if k not in ("n_stumps", "random_state"):
                raise ValueError(f"unknown parameter {k!r}")
            setattr(self, k, v)
        return self

    def fit(self, X: Any, y: Any) -> "ThresholdFeatures":
        from sklearn.ensemble import GradientBoostingClassifier

        if not isinstance(self.n_stumps, (int, np.integer)) or isinstance(self.n_stumps, bool) or self.n_stumps < 1:
            raise DataError(f"n_stumps must be a positive integer, got {self.n_stumps!r}")
        A = _matrix(X)
        labels = np.asarray(y).ravel()
        if labels.shape[0] != A.shape[0]:
            raise DataError(f"X has {A.shape[0]} rows but y has {labels.shape[0]} labels")
        if np.unique(labels).size != 2:
            raise DataError(f"threshold features need two classes, y has {np.unique(labels).size}")
        gb = GradientBoostingClassifier(
            n_estimators=int(self.n_stumps), max_depth=1, random_state=self.random_state
        ).fit(A, labels)
        pairs = {
            (int(t.tree_.feature[0]), float(t.tree_.threshold[0]))
            for t in gb.estimators_[:, 0]
            if t.tree_.feature[0] >= 0  # a stump that found no split has no question
        }
        self.thresholds_: list[tuple[int, float]] = sorted(pairs)
        self.n_features_in_ = int(A.shape[1])
        return self

    def transform(self, X: Any) -> np.ndarray:
        if not hasattr(self, "thresholds_"):
            raise DataError("ThresholdFeatures: call fit first")
        A = _matrix(X)
        if A.shape[1] != self.n_features_in_:
            raise DataError(f"X has {A.shape[1]} columns, the thresholds were fitted on {self.n_features_in_}")
        if not self.thresholds_:
            return np.zeros((A.shape[0], 0))
        f = np.array([p[0] for p in self.thresholds_], dtype=np.int64)
        t = np.array([p[1] for p in self.thresholds_], dtype=np.float64)
        return (A[:, f] > t).astype(np.float64)

    def fit_transform(self, X: Any, y: Any) -> np.ndarray:
        return self.fit(X, y).transform(X)

    def get_feature_names_out(self, input_features: Sequence[str] | None = None) -> np.ndarray:
        """ "name > threshold" per column (``x<i>`` names without ``input_features``)."""
        if not hasattr(self, "thresholds_"):
            raise DataError("ThresholdFeatures: call fit first")
        names = list(input_features) if input_features is not None else [f"x{i}" for i in range(self.n_features_in_)]
        if len(names) != self.n_features_in_:
            raise DataError(f"{len(names)} feature names for {self.n_features_in_} columns")
        return np.array([f"{names[f]} > {t:.6g}" for f, t in self.thresholds_], dtype=object)


def _matrix(X: Any) -> np.ndarray:
    try:
        A = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise DataError(f"threshold features need a numeric matrix: {exc}") from None
    if A.ndim != 2:
        raise DataError(f"threshold features need a 2-d matrix, got shape {A.shape}")
    if not np.all(np.isfinite(A)):
        raise DataError("threshold features need finite values (NaN or inf in X)")
    return A
