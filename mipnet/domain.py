"""The input domain of a network: feature names, box bounds, integer features, one-hot groups.

The domain is the set

    D = { x in R^n : lower <= x <= upper,
                     x_i in Z            for i in integer,
                     x_g in {0,1}^|g|, sum_{i in g} x_i = 1   for every one-hot group g }.

Verification quantifies over D (or over D intersected with a norm ball); training uses its box to
bound pre-activations. Bounds may be infinite in the model, but every MILP needs finite bounds:
:meth:`Domain.require_finite` raises a clear error otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

import numpy as np

from .errors import DataError, ModelFormatError


def _float_list(a: np.ndarray) -> list[Any]:
    """JSON-safe list: infinities become the strings 'inf' / '-inf'."""
    return [("inf" if v > 0 else "-inf") if np.isinf(v) else float(v) for v in a]


def _float_array(v: Iterable[Any], name: str) -> np.ndarray:
    try:
        arr = np.array([float(x) for x in v], dtype=np.float64)
    except (TypeError, ValueError):
        raise ModelFormatError(f"domain {name} must be a list of numbers") from None
    if np.any(np.isnan(arr)):
        raise ModelFormatError(f"domain {name} contains NaN")
    return arr


@dataclass
class Domain:
    """Per-feature names and bounds plus integrality and one-hot structure."""

    names: list[str]
    lower: np.ndarray
    upper: np.ndarray
    integer: np.ndarray = field(default=None)  # type: ignore[arg-type]  # None: no integer features (set in __post_init__)
    onehot_groups: list[list[int]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.names = [str(n) for n in self.names]
        n = len(self.names)
        self.lower = _float_array(self.lower, "lower")
        self.upper = _float_array(self.upper, "upper")
        if self.integer is None:
            self.integer = np.zeros(n, dtype=bool)
        self.integer = np.asarray(self.integer, dtype=bool)
        if not (self.lower.shape == self.upper.shape == self.integer.shape == (n,)):
            raise ModelFormatError(
                f"domain has {n} feature names but bounds of lengths {self.lower.size}, {self.upper.size}"
            )
        if len(set(self.names)) != n:
            raise ModelFormatError("domain feature names must be unique")
        if np.any(self.lower > self.upper):
            bad = int(np.argmax(self.lower > self.upper))
            raise ModelFormatError(f"domain lower bound exceeds upper bound for feature {self.names[bad]!r}")
        empty = self.integer & (np.ceil(self.lower) > np.floor(self.upper))
        if np.any(empty):
            bad_name = self.names[int(np.argmax(empty))]
            raise ModelFormatError(f"integer feature {bad_name!r} has no integer value within its bounds")
        self.onehot_groups = [[int(i) for i in g] for g in self.onehot_groups]
        seen: set[int] = set()
        for g in self.onehot_groups:
            if len(g) < 2 or len(set(g)) != len(g) or any(i < 0 or i >= n for i in g) or seen.intersection(g):
                raise ModelFormatError(f"invalid one-hot group {g}: indices must be distinct, in range, >= 2")
            seen.update(g)
            if np.any(self.lower[g] < 0) or np.any(self.upper[g] > 1):
                raise ModelFormatError(f"one-hot group {[self.names[i] for i in g]} must have bounds within [0, 1]")
            if not self.onehot_levels(g):
                raise ModelFormatError(
                    f"one-hot group {[self.names[i] for i in g]} allows no level within its bounds: empty domain"
                )

    # ------------------------------------------------------------------ construction
    @classmethod
    def box(
        cls, n_or_names: int | Sequence[str], lower: float | Sequence[float] = 0.0, upper: float | Sequence[float] = 1.0
    ) -> "Domain":
        names = [f"x{i}" for i in range(n_or_names)] if isinstance(n_or_names, int) else list(n_or_names)
        n = len(names)
        return cls(
            names,
            np.broadcast_to(np.asarray(lower, float), (n,)).copy(),
            np.broadcast_to(np.asarray(upper, float), (n,)).copy(),
        )

    @classmethod
    def from_data(cls, X: np.ndarray, names: Sequence[str] | None = None, margin: float = 0.0) -> "Domain":
        """The bounding box of the data, widened by ``margin`` times each feature's range."""
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[0] == 0:
            raise DataError(f"a domain is fitted to a non-empty matrix of samples, got shape {X.shape}")
        if not np.all(np.isfinite(X)):
            raise DataError("the data contain NaN or inf values")
        lo, hi = X.min(axis=0), X.max(axis=0)
        pad = np.zeros_like(lo)
        if margin > 0:
            with np.errstate(over="ignore", invalid="ignore"):
                pad = margin * (hi - lo)  # the range of data near +-1e308 overflows
            if not (np.all(np.isfinite(lo - pad)) and np.all(np.isfinite(hi + pad))):
                bad = int(np.flatnonzero(~(np.isfinite(lo - pad) & np.isfinite(hi + pad)))[0])
                raise DataError(
                    f"widening the data's range of feature {bad} by the margin {margin:g} overflows float64 "
                    f"([{lo[bad]:g}, {hi[bad]:g}]): give the domain as a box (--domain-json) or no margin"
                )
        names = list(names) if names is not None else [f"x{i}" for i in range(X.shape[1])]
        integer = np.all(np.equal(np.mod(X, 1), 0), axis=0)
        return cls(names, lo - pad, hi + pad, integer & (margin == 0))

    # ------------------------------------------------------------------ queries
    @property
    def n_features(self) -> int:
        return len(self.names)

    def index(self, name: str) -> int:
        try:
            return self.names.index(name)
        except ValueError:
            raise DataError(f"unknown feature {name!r}; the model's features are: {', '.join(self.names)}") from None

    def indices(self, names: Sequence[str]) -> list[int]:
        return [self.index(n) for n in names]

    def is_finite(self) -> bool:
        return bool(np.all(np.isfinite(self.lower)) and np.all(np.isfinite(self.upper)))

    def require_finite(self) -> None:
        if not self.is_finite():
            bad = [self.names[i] for i in np.flatnonzero(~(np.isfinite(self.lower) & np.isfinite(self.upper)))]
            raise DataError(
                f"the input domain is unbounded for features {bad[:5]}; set finite bounds first "
                "(--domain DATA.csv or --domain-json FILE)"
            )

    def contains(self, X: np.ndarray, tol: float = 1e-9) -> np.ndarray:
        """Boolean mask of the rows of X that lie in the domain (to ``tol``)."""
        X = np.atleast_2d(np.asarray(X, dtype=np.float64))
        ok = np.all((X >= self.lower - tol) & (X <= self.upper + tol), axis=1)
        if self.integer.any():
            xi = X[:, self.integer]
            ok &= np.all(np.abs(xi - np.round(xi)) <= tol, axis=1)
        for g in self.onehot_groups:
            xg = X[:, g]
            ok &= np.all((np.abs(xg) <= tol) | (np.abs(xg - 1) <= tol), axis=1)
            ok &= np.abs(xg.sum(axis=1) - 1) <= tol
        return ok

    def onehot_levels(self, group: Sequence[int]) -> list[int]:
        """The features of a one-hot ``group`` that may be its 1: e_k is in the box iff upper_k >= 1 and every other
        level of the group may be 0 (lower_j <= 0)."""
        g = [int(i) for i in group]
        forced = [j for j in g if self.lower[j] > 0]
        return [k for k in g if self.upper[k] >= 1 and all(j == k for j in forced)]

    def clip(self, X: np.ndarray) -> np.ndarray:
        return np.clip(X, self.lower, self.upper)

    def snap(self, X: np.ndarray) -> np.ndarray:
        """The points of X moved onto the domain: clipped to the box, integer features rounded to a whole number
        in their bounds, each one-hot group set to its largest allowed level. A solver's point is in the domain
        only to its tolerances (an integer 3 + 4e-8 flips the class of a net with weights 1e7); its snapped copy
        is what a forward-pass re-check evaluates."""
        X = np.clip(np.atleast_2d(np.asarray(X, dtype=np.float64)), self.lower, self.upper)
        ii = self.integer
        if ii.any():
            X[:, ii] = np.clip(np.round(X[:, ii]), np.ceil(self.lower[ii]), np.floor(self.upper[ii]))
        for g in self.onehot_groups:
            levels = np.asarray(self.onehot_levels(g))
            top = levels[np.argmax(X[:, levels], axis=1)]
            X[:, g] = 0.0
            X[np.arange(X.shape[0]), top] = 1.0
        return X

    def sample(self, n: int, rng: np.random.Generator | int | None = None) -> np.ndarray:
        """Uniform samples of the domain (integers rounded, one-hot groups a random category the bounds allow)."""
        self.require_finite()
        rng = np.random.default_rng(rng)
        X = rng.uniform(self.lower, self.upper, size=(n, self.n_features))
        if self.integer.any():
            X[:, self.integer] = np.clip(
                np.round(X[:, self.integer]), np.ceil(self.lower[self.integer]), np.floor(self.upper[self.integer])
            )
        for g in self.onehot_groups:  # a random level among those the bounds allow (a level may be fixed at 0 or 1)
            levels = np.asarray(self.onehot_levels(g))
            X[:, g] = 0.0
            X[np.arange(n), levels[rng.integers(len(levels), size=n)]] = 1.0
        return X

    # ------------------------------------------------------------------ serialisation
    def to_dict(self) -> dict[str, Any]:
        return {
            "names": list(self.names),
            "lower": _float_list(self.lower),
            "upper": _float_list(self.upper),
            "integer": [int(i) for i in np.flatnonzero(self.integer)],
            "onehot_groups": [list(g) for g in self.onehot_groups],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Domain":
        if not isinstance(d, dict):
            raise ModelFormatError("domain must be an object")
        try:
            names = d["names"]
            n = len(names)
            integer = np.zeros(n, dtype=bool)
            raw = d.get("integer", [])
            if not isinstance(raw, list) or any(isinstance(i, bool) or not isinstance(i, int) for i in raw):
                raise ModelFormatError(f"malformed domain: integer must be a list of feature indices, not {raw!r}")
            idx = [int(i) for i in raw]
            if any(i < 0 or i >= n for i in idx):
                raise ModelFormatError("domain integer indices out of range")
            integer[idx] = True
            return cls(names, d["lower"], d["upper"], integer, d.get("onehot_groups", []))
        except KeyError as exc:
            raise ModelFormatError(f"domain is missing field {exc}") from None
        except (TypeError, ValueError) as exc:
            raise ModelFormatError(f"malformed domain: {exc}") from None
