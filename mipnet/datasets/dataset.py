"""The :class:`Dataset` type: a readable frame, feature types, categorical levels and the verification domain.

**Numeric encoding.** Let the frame hold raw features ``f_1 .. f_p``. :meth:`Dataset.X_numeric` maps a
row to the vector ``x`` that a network reads, feature by feature in frame order:

* a continuous, integer or binary feature ``f_j`` gives one coordinate ``x = f_j``;
* a categorical feature with levels ``c_1 .. c_K`` gives the one-hot block
  ``e_k = [f_j = c_k]`` for ``k = 1..K``, named ``"f_j=c_k"``, with ``sum_k e_k = 1``.

**Recommended domain.** :attr:`Dataset.domain` is the :class:`~mipnet.Domain`

    D = { x : l <= x <= u,
              x_i in Z                           for integer, binary and one-hot coordinates,
              x_g in {0,1}^|g|, sum_{i in g} x_i = 1   for each categorical feature's block g }

where ``[l_i, u_i]`` is the feature's known range (pixels, binary flags) or else its minimum and
maximum over the *whole* vendored file (every split), so a train split, a test split and any
subsample share one domain and every row of the file lies in it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Sequence

import numpy as np
import pandas as pd

from ..domain import Domain
from ..errors import DataError

FEATURE_TYPES = ("continuous", "integer", "binary", "categorical")
TASKS = ("classify", "regress")
ONEHOT_SEP = "="


@dataclass
class Dataset:
    """A loaded data set: the frame, feature types, categorical levels and the verification domain.

    ``feature_types`` lists the features in frame order (the target excluded); a ``"categorical"``
    feature has its ordered levels in ``categories``; every other feature has its range in
    ``bounds``. ``monotone_increasing`` / ``monotone_decreasing`` name features in which the
    target is declared monotone by the literature or by plain domain knowledge (see each loader).
    """

    name: str
    frame: pd.DataFrame
    target: str
    task: str
    feature_types: dict[str, str]
    categories: dict[str, list[str]] = field(default_factory=dict)
    bounds: dict[str, tuple[float, float]] = field(default_factory=dict)
    monotone_increasing: list[str] = field(default_factory=list)
    monotone_decreasing: list[str] = field(default_factory=list)
    description: str = ""
    class_names: list[str] | None = None
    input_shape: tuple[int, ...] | None = None
    value_labels: dict[str, dict[str, str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise DataError(f"dataset task must be one of {TASKS}, not {self.task!r}")
        if self.target not in self.frame.columns:
            raise DataError(f"target column {self.target!r} is not in the frame")
        for f, t in self.feature_types.items():
            if f not in self.frame.columns:
                raise DataError(f"feature {f!r} is not a column of the frame")
            if t not in FEATURE_TYPES:
                raise DataError(f"feature {f!r} has unknown type {t!r}; types are {FEATURE_TYPES}")
            if t == "categorical" and len(self.categories.get(f, ())) < 2:
                raise DataError(f"categorical feature {f!r} needs at least two levels in `categories`")
            if t != "categorical" and f not in self.bounds:
                raise DataError(f"feature {f!r} has no bounds")
        for f in [*self.monotone_increasing, *self.monotone_decreasing]:
            if self.feature_types.get(f) not in ("continuous", "integer", "binary"):
                raise DataError(f"monotone feature {f!r} must be a numeric feature of the data set")
        if self.input_shape is None:
            self.input_shape = (len(self.numeric_names),)
        self.input_shape = tuple(int(s) for s in self.input_shape)
        if int(np.prod(self.input_shape)) != len(self.numeric_names):
            raise DataError(f"input_shape {self.input_shape} does not hold {len(self.numeric_names)} inputs")

    # ------------------------------------------------------------------ views
    @property
    def features(self) -> list[str]:
        return list(self.feature_types)

    @property
    def X(self) -> pd.DataFrame:
        """The raw features (categoricals as pandas categoricals, not encoded)."""
        return self.frame[self.features]

    @property
    def y(self) -> pd.Series:
        return self.frame[self.target]

    @property
    def n_rows(self) -> int:
        return len(self.frame)

    @property
    def categorical(self) -> dict[str, list[str]]:
        """Each categorical feature -> the names of its one-hot columns in :meth:`X_numeric`."""
        return {
            f: [f"{f}{ONEHOT_SEP}{c}" for c in self.categories[f]]
            for f, t in self.feature_types.items()
            if t == "categorical"
        }

    @property
    def numeric_names(self) -> list[str]:
        """Names of the columns of :meth:`X_numeric` (= ``domain.names``)."""
        groups = self.categorical
        names: list[str] = []
        for f in self.features:
            names.extend(groups.get(f, [f]))
        return names

    @property
    def n_inputs(self) -> int:
        return len(self.numeric_names)

    def X_numeric(self) -> tuple[np.ndarray, list[str]]:
        """The numeric matrix (rows x inputs, float64) and its column names, categoricals one-hot."""
        blocks: list[np.ndarray] = []
        run: list[str] = []

        def flush() -> None:
            if run:
                blocks.append(self.frame[run].to_numpy(dtype=np.float64))
                run.clear()

        for f in self.features:
            if self.feature_types[f] != "categorical":
                run.append(f)
                continue
            flush()
            levels = self.categories[f]
            codes = pd.Categorical(self.frame[f], categories=levels).codes
            if np.any(codes < 0):
                bad = self.frame[f][codes < 0].iloc[0]
                raise DataError(f"feature {f!r} has value {bad!r} outside its levels {levels}")
            blocks.append((codes[:, None] == np.arange(len(levels))[None, :]).astype(np.float64))
        flush()
        X = np.hstack(blocks) if blocks else np.zeros((self.n_rows, 0))
        if not np.all(np.isfinite(X)):
            row = int(np.flatnonzero(~np.all(np.isfinite(X), axis=1))[0])
            raise DataError(f"dataset {self.name!r} has NaN or inf in its features (row {row})")
        return X, self.numeric_names

    def numeric_frame(self) -> pd.DataFrame:
        """:meth:`X_numeric` as a frame, with the target as the last column."""
        X, names = self.X_numeric()
        df = pd.DataFrame(X, columns=names)
        integer = self.domain.integer
        if integer.any():
            cols = [names[i] for i in np.flatnonzero(integer)]
            df[cols] = df[cols].astype(np.int64)
        df[self.target] = self.y.to_numpy()
        return df

    @property
    def domain(self) -> Domain:
        """The recommended verification domain over the :meth:`X_numeric` coordinates (see module doc)."""
        lower: list[float] = []
        upper: list[float] = []
        integer: list[bool] = []
        groups: list[list[int]] = []
        for f in self.features:
            t = self.feature_types[f]
            if t == "categorical":
                k = len(self.categories[f])
                groups.append(list(range(len(lower), len(lower) + k)))
                lower += [0.0] * k
                upper += [1.0] * k
                integer += [True] * k
            else:
                lo, hi = self.bounds[f]
                lower.append(float(lo))
                upper.append(float(hi))
                integer.append(t in ("integer", "binary"))
        return Domain(self.numeric_names, np.array(lower), np.array(upper), np.array(integer, dtype=bool), groups)

    # ------------------------------------------------------------------ subsets
    def subset(self, rows: Sequence[int] | np.ndarray) -> Dataset:
        """The rows at positions ``rows`` (same metadata and domain)."""
        return replace(
            self, frame=self.frame.iloc[np.asarray(rows)].reset_index(drop=True), feature_types=dict(self.feature_types)
        )

    def sample(self, n: int, random_state: int | None = 0, stratify: bool = True) -> Dataset:
        """``n`` rows drawn without replacement; stratified by class for classification."""
        if not 0 < n <= self.n_rows:
            raise DataError(f"cannot sample {n} rows from {self.n_rows}")
        rng = np.random.default_rng(random_state)
        if n == self.n_rows:
            return self.subset(rng.permutation(n))
        if stratify and self.task == "classify":
            from sklearn.model_selection import train_test_split

            idx, _ = train_test_split(
                np.arange(self.n_rows),
                train_size=n,
                stratify=self.y.to_numpy(),
                random_state=int(rng.integers(2**31 - 1)),
            )
            return self.subset(np.sort(idx))
        return self.subset(np.sort(rng.choice(self.n_rows, size=n, replace=False)))

    def train_test_split(
        self, test_size: float | int = 0.25, random_state: int | None = 0, stratify: bool = True
    ) -> tuple[Dataset, Dataset]:
        """A random split into two data sets (stratified by class for classification)."""
        from sklearn.model_selection import train_test_split

        strat = self.y.to_numpy() if stratify and self.task == "classify" else None
        try:
            tr, te = train_test_split(
                np.arange(self.n_rows), test_size=test_size, stratify=strat, random_state=random_state
            )
        except ValueError as exc:
            raise DataError(f"cannot split dataset {self.name!r}: {exc}") from None
        return self.subset(np.sort(tr)), self.subset(np.sort(te))

    def __repr__(self) -> str:
        return (
            f"Dataset({self.name!r}, rows={self.n_rows}, features={len(self.feature_types)}, "
            f"inputs={self.n_inputs}, task={self.task!r}, target={self.target!r})"
        )
