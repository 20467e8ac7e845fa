"""The data sets by name: the registry, its aliases and :func:`load` with each loader's options."""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any, Callable, NamedTuple

from ..errors import DataError
from .bundled_sets import load_breast_cancer, load_digits
from .dataset import Dataset
from .image_sets import load_fashion_pair, load_mnist_subset
from .tabular_sets import load_adult, load_autompg, load_compas, load_german, load_heart


# ====================================================================== registry
class DatasetInfo(NamedTuple):
    """One row of :func:`available`: ``features`` counts numeric inputs (categoricals one-hot)."""

    name: str
    description: str
    rows: int
    features: int
    task: str


@dataclass(frozen=True)
class _Entry:
    loader: Callable[..., Dataset]
    fixed: dict[str, Any]
    info: DatasetInfo


def _entry(
    name: str, loader: Callable[..., Dataset], description: str, rows: int, features: int, task: str, **fixed: Any
) -> tuple[str, _Entry]:
    return name, _Entry(loader, fixed, DatasetInfo(name, description, rows, features, task))


_REGISTRY: dict[str, _Entry] = dict(
    [
        _entry("compas", load_compas, "ProPublica COMPAS two-year recidivism", 6172, 13, "classify"),
        _entry("adult", load_adult, "UCI Adult census income > 50K (train + test)", 45222, 86, "classify"),
        _entry("german", load_german, "UCI Statlog German credit risk", 1000, 59, "classify"),
        _entry("heart", load_heart, "UCI Cleveland heart disease", 297, 22, "classify"),
        _entry("autompg", load_autompg, "UCI Auto-MPG fuel consumption", 392, 9, "regress"),
        _entry("breast_cancer", load_breast_cancer, "Wisconsin diagnostic breast cancer", 569, 30, "classify"),
        _entry("digits", load_digits, "8x8 hand-written digits", 1797, 64, "classify"),
        _entry("mnist_subset", load_mnist_subset, "MNIST, 500 images per digit", 5000, 784, "classify"),
        _entry(
            "fashion_ankle_boot_vs_bag",
            load_fashion_pair,
            "Fashion-MNIST ankle boot vs bag",
            14000,
            784,
            "classify",
            pair="ankle_boot_vs_bag",
        ),
        _entry(
            "fashion_coat_vs_pullover",
            load_fashion_pair,
            "Fashion-MNIST coat vs pullover",
            14000,
            784,
            "classify",
            pair="coat_vs_pullover",
        ),
    ]
)
_ALIASES = {
    "mnist": "mnist_subset",
    "auto_mpg": "autompg",
    "german_credit": "german",
    "heart_disease": "heart",
    "cleveland": "heart",
    "ankle_boot_vs_bag": "fashion_ankle_boot_vs_bag",
    "coat_vs_pullover": "fashion_coat_vs_pullover",
}


def available() -> list[DatasetInfo]:
    """``(name, description, rows, features, task)`` of every data set with its default options."""
    return [e.info for e in _REGISTRY.values()]


def canonical_name(name: str) -> str:
    """The registry name of ``name`` (case, dashes and the aliases forgiven); DataError if unknown."""
    key = str(name).strip().lower().replace("-", "_")
    key = _ALIASES.get(key, key)
    if key not in _REGISTRY:
        raise DataError(f"unknown dataset {name!r}; available: {', '.join(_REGISTRY)}")
    return key


def load(name: str, **options: Any) -> Dataset:
    """Load a data set by name (see :func:`available`) with its loader's keyword options."""
    entry = _REGISTRY[canonical_name(name)]
    params = inspect.signature(entry.loader).parameters
    allowed = [p for p in params if p not in entry.fixed]
    bad = [k for k in options if k not in allowed]
    if bad:
        opts = ", ".join(allowed) if allowed else "none"
        raise DataError(f"dataset {entry.info.name!r} has no option {bad[0]!r} (options: {opts})")
    for k, v in options.items():  # a yes/no option takes a yes/no value ("dropna=maybe" is not True)
        default = params[k].default
        if isinstance(default, bool) and not isinstance(v, bool):
            raise DataError(f"dataset {entry.info.name!r}: option {k!r} is true or false, got {v!r}")
    return entry.loader(**entry.fixed, **options)
