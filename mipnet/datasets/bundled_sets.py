"""scikit-learn's bundled copies: Wisconsin breast cancer (tabular) and the 8x8 digits (images)."""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd

from .dataset import Dataset
from .helpers import _bounds_of


# ====================================================================== scikit-learn bundled sets
@functools.lru_cache(maxsize=None)
def _sklearn_raw(which: str) -> tuple[pd.DataFrame, np.ndarray, tuple[str, ...]]:
    from sklearn import datasets as skd

    bunch = {"breast_cancer": skd.load_breast_cancer, "digits": skd.load_digits}[which]()
    names = [str(n).replace(" ", "_") for n in bunch.feature_names]
    df = pd.DataFrame(np.asarray(bunch.data, dtype=np.float64), columns=names)
    y = np.asarray(bunch.target, dtype=np.int64)
    y.setflags(write=False)
    return df, y, tuple(str(t) for t in bunch.target_names)


def load_breast_cancer() -> Dataset:
    """Wisconsin diagnostic breast cancer (scikit-learn's bundled copy): 569 rows, 30 continuous inputs.

    Target ``diagnosis`` as in scikit-learn: 0 = malignant, 1 = benign.
    """
    X, y, classes = _sklearn_raw("breast_cancer")
    df = X.copy()
    df["diagnosis"] = y
    types = dict.fromkeys(X.columns, "continuous")
    return Dataset(
        name="breast_cancer",
        frame=df,
        target="diagnosis",
        task="classify",
        feature_types=types,
        bounds=_bounds_of(df, types),
        description="Wisconsin diagnostic breast cancer (scikit-learn)",
        class_names=list(classes),
    )


def load_digits(scale: bool = False) -> Dataset:
    """8x8 hand-written digits (scikit-learn's bundled copy): 1797 rows, 64 pixel inputs, 10 classes.

    Pixels are integers in [0, 16], or continuous in [0, 1] with ``scale=True``; ``input_shape``
    is (1, 8, 8).
    """
    X, y, classes = _sklearn_raw("digits")
    df = X / 16.0 if scale else X.copy()
    df["digit"] = y
    t = "continuous" if scale else "integer"
    types = {c: t for c in X.columns}
    hi = 1.0 if scale else 16.0
    return Dataset(
        name="digits",
        frame=df,
        target="digit",
        task="classify",
        feature_types=types,
        bounds={c: (0.0, hi) for c in X.columns},
        description="8x8 hand-written digits (scikit-learn)",
        class_names=list(classes),
        input_shape=(1, 8, 8),
    )
