"""Threshold features: numeric columns turned into the yes/no questions a scorecard asks ("age > 45.5").

The thresholds are those of boosted decision trees (for depth 1, the construction GOSDT's documentation gives for
its ``ThresholdGuessBinarizer``): gradient boosting with ``n_stumps`` trees of depth ``depth`` on the training
rows. Depth 1: every split (feature f, threshold t) of the stumps becomes one binary column

    b_{f,t}(x) = 1 if x_f > t else 0,

deduplicated and ordered by (f, t). Depth 2 adds the trees' **pair questions**: a tree splitting on (f, t) at its
root and on (g, s) in its left (right) child has the leaves 1[x_f <= t] 1[x_g > s] and so on; with the single
questions and the intercept, the one column

    p(x) = 1[x_f <= t and x_g > s]      (left child)     or      1[x_f > t and x_g > s]      (right child)

spans them, so a linear model on the singles and these pairs represents every sum of the trees (a two-way
additive model, as GA2M / EBM fit with shape functions). Each child's split is also a single question.

A linear model on these columns, w . b(x) + c, is a risk score: "w points if x_f > t", one point value per
question. With mipnet's linear term alone and the logistic loss
(``MIPNetClassifier((1,), max_neurons=0, linear_term=True, loss="logistic", constraints=[FeatureBudget(K)])``) it
is trained to a certified optimum by cutting planes (:mod:`mipnet.train.linear_cuts`), and its size is the
number of questions it uses.

A scikit-learn transformer (``fit`` / ``transform`` / ``get_feature_names_out``), so it composes with a
``Pipeline``. Only the labels' order matters to the trees (any two classes).
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from .errors import DataError

__all__ = ["ThresholdFeatures"]


class ThresholdFeatures:
    """Binary columns 1[x_f > t] at the split thresholds of ``n_stumps`` boosted trees of depth ``depth`` (1 or 2),
    and with depth 2 the trees' pair questions (module docstring).

    After ``fit``: ``thresholds_`` (the single questions: list of (feature index, threshold)), ``pairs_`` (list of
    ((f, t, above), (g, s)): 1[x_f > t] if above else 1[x_f <= t], times 1[x_g > s]; empty for depth 1),
    ``n_features_in_``. Columns: the singles in ``thresholds_`` order, then the pairs in ``pairs_`` order."""

    def __init__(self, n_stumps: int = 40, random_state: int | None = 0, depth: int = 1) -> None:
        self.n_stumps = n_stumps
        self.random_state = random_state
        self.depth = depth

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        return {"n_stumps": self.n_stumps, "random_state": self.random_state, "depth": self.depth}

    def set_params(self, **params: Any) -> "ThresholdFeatures":
        for k, v in params.items():
            if k not in ("n_stumps", "random_state", "depth"):
                raise ValueError(f"unknown parameter {k!r}")
            setattr(self, k, v)
        return self

    def fit(self, X: Any, y: Any) -> "ThresholdFeatures":
        from sklearn.ensemble import GradientBoostingClassifier

        if not isinstance(self.n_stumps, (int, np.integer)) or isinstance(self.n_stumps, bool) or self.n_stumps < 1:
            raise DataError(f"n_stumps must be a positive integer, got {self.n_stumps!r}")
        if isinstance(self.depth, bool) or self.depth not in (1, 2):
            raise DataError(f"depth must be 1 (single questions) or 2 (and pair questions), got {self.depth!r}")
        names = _column_names(X)
        A = _matrix(X)
        labels = np.asarray(y).ravel()
        if labels.shape[0] != A.shape[0]:
            raise DataError(f"X has {A.shape[0]} rows but y has {labels.shape[0]} labels")
        if np.unique(labels).size != 2:
            raise DataError(f"threshold features need two classes, y has {np.unique(labels).size}")
        gb = GradientBoostingClassifier(
            n_estimators=int(self.n_stumps), max_depth=int(self.depth), random_state=self.random_state
        ).fit(A, labels)
        singles: set[tuple[int, float]] = set()
        pairs: set[tuple[tuple[int, float, bool], tuple[int, float]]] = set()

        def snap(node: int) -> tuple[int, float]:
            f = int(tree.feature[node])
            return f, _snap(A[:, f], float(tree.threshold[node]))

        for est in gb.estimators_[:, 0]:
            tree = est.tree_
            if tree.feature[0] < 0:  # a tree that found no split has no question
                continue
            root = snap(0)
            singles.add(root)
            for child, above in ((tree.children_left[0], False), (tree.children_right[0], True)):
                if tree.feature[child] >= 0:  # an inner node (depth 2): its split, and the path to it
                    split = snap(child)
                    singles.add(split)
                    pairs.add(((root[0], root[1], above), split))
        self.thresholds_: list[tuple[int, float]] = sorted(singles)
        self.pairs_: list[tuple[tuple[int, float, bool], tuple[int, float]]] = sorted(pairs)
        self.n_features_in_ = int(A.shape[1])
        if names is not None:
            self.feature_names_in_ = np.array(names, dtype=object)
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        return self

    def transform(self, X: Any) -> np.ndarray:
        if not hasattr(self, "thresholds_"):
            raise DataError("ThresholdFeatures: call fit first")
        names = _column_names(X)
        fitted = getattr(self, "feature_names_in_", None)
        if names is not None and fitted is not None and names != list(fitted):
            if sorted(names) != sorted(fitted) or len(set(names)) != len(names):
                raise DataError(f"X has the columns {names[:6]}, the thresholds were fitted on {list(fitted)[:6]}")
            # the same columns in another order: by name, as they were fitted (by position: the names are the
            # labels as text, and a label 0 is not the text "0")
            X = X.iloc[:, [names.index(str(f)) for f in fitted]]
        A = _matrix(X)
        if A.shape[1] != self.n_features_in_:
            raise DataError(f"X has {A.shape[1]} columns, the thresholds were fitted on {self.n_features_in_}")
        f = np.array([p[0] for p in self.thresholds_], dtype=np.int64)
        t = np.array([p[1] for p in self.thresholds_], dtype=np.float64)
        singles = A[:, f] > t
        if not self.pairs_:
            return singles.astype(np.float64)
        rf = np.array([r[0] for r, _ in self.pairs_], dtype=np.int64)
        rt = np.array([r[1] for r, _ in self.pairs_], dtype=np.float64)
        above = np.array([r[2] for r, _ in self.pairs_], dtype=bool)
        g = np.array([c[0] for _, c in self.pairs_], dtype=np.int64)
        s = np.array([c[1] for _, c in self.pairs_], dtype=np.float64)
        pair = ((A[:, rf] > rt) == above) & (A[:, g] > s)
        return np.hstack([singles, pair]).astype(np.float64)

    def fit_transform(self, X: Any, y: Any) -> np.ndarray:
        return self.fit(X, y).transform(X)

    def get_feature_names_out(self, input_features: Sequence[str] | None = None) -> np.ndarray:
        """ "name > threshold" per column (``x<i>`` names without ``input_features``)."""
        if not hasattr(self, "thresholds_"):
            raise DataError("ThresholdFeatures: call fit first")
        fitted = getattr(self, "feature_names_in_", None)
        default = list(fitted) if fitted is not None else [f"x{i}" for i in range(self.n_features_in_)]
        names = list(input_features) if input_features is not None else default
        if len(names) != self.n_features_in_:
            raise DataError(f"{len(names)} feature names for {self.n_features_in_} columns")
        out = [f"{names[f]} > {_text(t)}" for f, t in self.thresholds_]
        out += [
            f"{names[f]} {'>' if above else '<='} {_text(t)} and {names[g]} > {_text(s)}"
            for (f, t, above), (g, s) in self.pairs_
        ]
        return np.array(out, dtype=object)


def _column_names(X: Any) -> list[str] | None:
    """A DataFrame's column names (as text), else None."""
    cols = getattr(X, "columns", None)
    return None if cols is None else [str(c) for c in cols]


def _snap(column: np.ndarray, t: float) -> float:
    """The tree's threshold t moved to the shortest decimal strictly between the training values on its two sides.

    The trees compare float32(x) <= t, at a float32 midpoint (0.48999999463558197 between 0.48 and 0.49): the
    question "x > 0.49" it would print is false for x = 0.49 while its column says true. With lo the largest
    training value that goes left and hi the smallest that goes right (lo < hi: float32 rounding is monotone), any d
    in (lo, hi) splits the training rows as the tree does; the shortest such decimal prints exactly
    (:func:`_text`), so a column is 1 exactly when its printed question is true."""
    x32 = column.astype(np.float32).astype(np.float64)  # (compared in float64, as the trees compare)
    left, right = column[x32 <= np.float64(t)], column[x32 > np.float64(t)]
    if left.size == 0 or right.size == 0:
        return float(t)
    lo, hi = float(left.max()), float(right.min())
    mid = 0.5 * (lo + hi)
    for k in range(1, 18):
        d = float(f"{mid:.{k}g}")
        if lo < d < hi:
            return d
    return mid


def _text(t: float) -> str:
    """The shortest text that reads back as exactly t."""
    return repr(float(t))


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
