"""What the loaders share: the vendored files (``mipnet/data``, looked up in the package ``mipnet``), feature
ranges, categorical levels and the split check."""

from __future__ import annotations

from importlib import resources
from typing import Any, Iterable

import numpy as np
import pandas as pd

from ..errors import DataError


def _data_file(name: str) -> Any:
    """A readable handle (path-like) of a vendored file."""
    return resources.files("mipnet").joinpath("data").joinpath(name)


def _bounds_of(
    df: pd.DataFrame, feature_types: dict[str, str], known: dict[str, tuple[float, float]] | None = None
) -> dict[str, tuple[float, float]]:
    """Known ranges where given, [0, 1] for binary flags, else the data's min and max."""
    known = known or {}
    out: dict[str, tuple[float, float]] = {}
    for f, t in feature_types.items():
        if t == "categorical":
            continue
        if f in known:
            out[f] = (float(known[f][0]), float(known[f][1]))
        elif t == "binary":
            out[f] = (0.0, 1.0)
        else:
            col = df[f].to_numpy(dtype=np.float64)
            out[f] = (float(np.nanmin(col)), float(np.nanmax(col)))
    return out


def _levels(df: pd.DataFrame, cols: Iterable[str]) -> dict[str, list[str]]:
    """The sorted distinct values of each column (missing values ignored)."""
    return {c: sorted(df[c].dropna().astype(str).unique()) for c in cols}


def _as_categorical(df: pd.DataFrame, levels: dict[str, list[str]]) -> dict[str, list[str]]:
    """Turn the columns named in ``levels`` into pandas categoricals with those levels (in place)."""
    for c, lv in levels.items():
        df[c] = pd.Categorical(df[c].astype(str), categories=list(lv))
    return {c: list(lv) for c, lv in levels.items()}


def _check_split(split: str) -> str:
    if split not in ("train", "test", "all"):
        raise DataError(f"split must be 'train', 'test' or 'all', not {split!r}")
    return split
