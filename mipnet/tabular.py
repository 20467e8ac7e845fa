"""A model's feature columns of a data frame: numeric matrices with clear errors for text, empty or NaN cells."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import DataError

if TYPE_CHECKING:  # the callers hand in data frames, so pandas is imported by then (imported lazily below)
    import pandas as pd

    from .network import Network

__all__ = ["features_for", "missing_values", "numeric_matrix", "stray_text"]


#: cells shown in an error message
_SHOWN = 5


def _rows(index: np.ndarray) -> str:
    """Data rows counted from 1 below the header (as a spreadsheet shows them, minus the header line)."""
    shown = ", ".join(str(int(i) + 1) for i in index[:_SHOWN])
    return shown + (", ..." if len(index) > _SHOWN else "")


def _cells(col: pd.Series, index: np.ndarray) -> str:
    shown = ", ".join(f"row {int(i) + 1} {str(col.iloc[i])!r}" for i in index[:_SHOWN])
    return shown + (", ..." if len(index) > _SHOWN else "")


def stray_text(df: pd.DataFrame, columns: list[Any] | None = None) -> None:
    """A column of numbers with a few cells that are not numbers is a typo, not a categorical feature:
    raise a :class:`DataError` naming the column and the cells (most numeric, at least one not)."""
    import pandas as pd

    for c in df.columns if columns is None else columns:
        col = df[c]
        if pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col):
            continue
        present = col.notna().to_numpy()
        num = pd.to_numeric(col, errors="coerce").notna().to_numpy()
        bad = np.flatnonzero(present & ~num)
        if bad.size and num.sum() >= bad.size:
            raise DataError(
                f"column {str(c)!r} holds numbers but {bad.size} cell{'s are' if bad.size > 1 else ' is'} not a "
                f"number: {_cells(col, bad)} (rows counted from 1 below the header); fix or remove "
                f"{'them' if bad.size > 1 else 'it'}"
            )


def missing_values(df: pd.DataFrame, columns: list[Any] | None = None, what: str = "column") -> None:
    """Empty, NaN or infinite cells: a :class:`DataError` naming the column, how many rows and what to do."""
    import pandas as pd

    for c in df.columns if columns is None else columns:
        col = df[c]
        if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
            vals = col.to_numpy(dtype=np.float64)
            bad = np.flatnonzero(~np.isfinite(vals))
            kind = "empty, NaN or infinite"
        else:
            bad = np.flatnonzero(col.isna().to_numpy())
            kind = "empty or NaN"
        if bad.size:
            n = bad.size
            raise DataError(
                f"{what} {str(c)!r} has {n} {kind} cell{'s' if n > 1 else ''} (row{'s' if n > 1 else ''} "
                f"{_rows(bad)}, counted from 1 below the header): "
                f"{'fill them in or drop those rows' if n > 1 else 'fill it in or drop that row'}"
            )


def numeric_matrix(df: pd.DataFrame, columns: list[Any]) -> np.ndarray:
    """``df[columns]`` as floats, with one clear error for text, empty, NaN or infinite cells."""
    import pandas as pd

    stray_text(df, columns)
    text = [c for c in columns if not (pd.api.types.is_numeric_dtype(df[c]) or pd.api.types.is_bool_dtype(df[c]))]
    if text:
        c = text[0]
        raise DataError(
            f"column {str(c)!r} must hold numbers, it holds text such as {str(df[c].dropna().iloc[0])!r}"
            if df[c].notna().any()
            else f"column {str(c)!r} is empty"
        )
    missing_values(df, columns)
    return df[columns].to_numpy(dtype=np.float64)


def _one_hot_text(df: pd.DataFrame, wanted: list[str]) -> pd.DataFrame:
    """``df`` with the one-hot columns "col=level" among ``wanted`` built from its text column "col", as the
    estimators encode a text column in ``fit`` (so the CSV a model was trained on reads back for predict, explain
    and verify). A text value that is none of the model's levels of its column is one error."""
    sources = [c for c in df.columns if isinstance(c, str)]
    levels: dict[str, dict[str, str]] = {}
    for name in wanted:
        cands = [c for c in sources if name.startswith(c + "=")]
        if len(cands) > 1:  # text column "a" with a level "b=x" beside a column "a=b": the one holding the level
            cands = [c for c in cands if name[len(c) + 1 :] in {str(v) for v in df[c].tolist()}] or cands
        if len(cands) > 1:
            raise DataError(
                f"the model's column {name!r} could be built from the CSV's columns {cands[:3]}: rename a column"
            )
        if cands:
            levels.setdefault(cands[0], {})[name[len(cands[0]) + 1 :]] = name
    if not levels:
        return df
    out = df.copy()
    for col, by_level in levels.items():
        values = _level_of(df[col], list(by_level))
        unseen = sorted({str(v) for v, lv in zip(df[col].tolist(), values) if lv is None})
        if unseen:
            raise DataError(f"column {col!r} has the value(s) {unseen[:3]} that the model was not trained on")
        for level, name in by_level.items():
            out[name] = np.array([lv == level for lv in values], dtype=np.float64)
    return out


#: text that pandas reads as a missing value (a level "None" comes back as NaN)
_NA_TEXT = {"", "None", "none", "NA", "N/A", "n/a", "NaN", "nan", "null", "NULL", "<NA>", "#N/A"}


def _level_of(column: pd.Series, levels: list[str]) -> list[str | None]:
    """The model's level of each value of a column read back from CSV (None: no level): its text, else its number
    equal to a numeric level (a category 1, 2, 3 reads back as 1.0 beside a missing value), else, for a missing
    value, the one level that is a missing-value text ("None" reads back as NaN)."""
    import pandas as pd

    text = set(levels)
    numeric: dict[float, str] = {}
    same: dict[float, list[str]] = {}
    for lv in levels:
        try:
            numeric.setdefault(float(lv), lv)
            same.setdefault(float(lv), []).append(lv)
        except ValueError:
            pass
    na_levels = [lv for lv in levels if lv in _NA_TEXT]
    out: list[str | None] = []
    for v in column.tolist():
        s = str(v)
        number = isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))
        if number and len(same.get(float(v), ())) > 1:  # "01" and "1" both read back as 1: one level was taken,
            raise DataError(  # silently (half the rows of a model fitted on such text got other classes)
                f"column {column.name!r}: the value {s} read as a number is the model's levels "
                f"{same[float(v)][:3]} alike; the levels cannot be told apart once read as numbers"
            )
        if s in text and not (isinstance(v, float) and np.isnan(v)):
            out.append(s)
        elif v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA:
            out.append(na_levels[0] if len(na_levels) == 1 else None)
        elif isinstance(v, (bool, np.bool_)):
            out.append(s if s in text else None)
        elif isinstance(v, (int, float, np.integer, np.floating)):
            out.append(numeric.get(float(v)))
        else:
            out.append(None)
    return out


def non_feature_columns(net: Network, df: pd.DataFrame) -> list[str]:
    """The columns of ``df`` that are neither the model's features nor a text column the model reads one-hot
    (its features "col=level"): the candidates for the target column."""
    names = set(net.feature_names)
    sources = {n.split("=", 1)[0] for n in names if "=" in n}
    return [c for c in df.columns if c not in names and c not in sources]


def features_for(net: Network, df: pd.DataFrame) -> np.ndarray:
    """The model's feature columns of ``df`` in the model's order, as floats (clear errors otherwise)."""
    names = net.feature_names
    missing = [n for n in names if n not in df.columns]
    if missing:
        df = _one_hot_text(df, missing)
        missing = [n for n in names if n not in df.columns]
    if missing:
        raise DataError(
            f"the CSV lacks the model's feature columns {missing[:5]}"
            + (" ..." if len(missing) > 5 else "")
            + f" (it has {list(df.columns)[:8]})"
        )
    X = numeric_matrix(df, list(names))
    for g in net.domain.onehot_groups:  # rows the model can read: one 1 per one-hot group (a misread text column
        block = X[:, np.asarray(g, dtype=int)]  # gave all-zero groups, and wrong predictions, silently)
        bad = np.flatnonzero(~(np.all((block == 0) | (block == 1), axis=1) & (block.sum(axis=1) == 1)))
        if bad.size:
            cols = [names[i] for i in g]
            raise DataError(
                f"row {int(bad[0])}: the one-hot columns {cols[:4]}{' ...' if len(cols) > 4 else ''} do not hold "
                "exactly one 1 (the rest 0)"
            )
    return X
