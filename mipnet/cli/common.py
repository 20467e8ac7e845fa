"""Helpers shared by the CLI commands: exit codes, model and CSV loading, atomic CSV output."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import numpy as np

from ..errors import DataError, MipnetError
from ..io.atomic import atomic_write_text
from ..tabular import (  # noqa: F401  (re-exported: the CLI commands import these from here)
    features_for,
    missing_values,
    numeric_matrix,
    stray_text,
)

if TYPE_CHECKING:  # pandas and the network model are imported where they are used: --help needs neither
    import pandas as pd

    from ..network import Network

EXIT_OK = 0
EXIT_VIOLATED = 1
EXIT_INPUT_ERROR = 2
EXIT_UNKNOWN = 3


def load_network(path: str) -> Network:
    from ..io import load_model

    return load_model(path)


def read_csv(path: str) -> pd.DataFrame:
    import pandas as pd

    p = Path(path)
    if not p.is_file():
        raise MipnetError(f"file not found: {p}" if not p.exists() else f"{p} is not a file")
    try:
        df = pd.read_csv(p)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise DataError(f"{p} is not a readable CSV file: {str(exc).splitlines()[0]}") from None
    if df.empty:
        raise DataError(f"{p} has no data rows")
    if not df.index.equals(
        pd.RangeIndex(len(df))
    ):  # pandas made the first field the index: rows longer than the header
        raise DataError(
            f"{p}: the data rows have more fields than the header (a missing column name or a trailing comma)"
        )
    import csv

    with open(p, newline="", encoding="utf-8-sig", errors="replace") as fh:  # (a BOM hid a repeated first name)
        header = next(csv.reader(fh), [])
    dup = sorted({h for h in header if header.count(h) > 1})
    if dup:
        raise DataError(f"{p}: the header names {dup[0]!r} more than once")
    return df


def write_csv(df: pd.DataFrame, path: str) -> None:
    atomic_write_text(path, df.to_csv(index=False))


def echo_json(obj: Any) -> None:
    click.echo(json.dumps(obj, indent=1, default=_json_default))


def _json_default(o: Any) -> Any:
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return float(o)
    if isinstance(o, (np.bool_,)):
        return bool(o)
    return str(o)


def label_indices(net: Network, col: pd.Series) -> np.ndarray:
    """Class indices of a DATA column of true classes: each label is a class name as text, or a number equal to
    a numeric class name ("1.0" is the class 1, "1" the class 1.0)."""
    import pandas as pd

    names = [str(c) for c in (net.class_names or [])]
    vals = col.astype(str).to_numpy()
    lookup = {n: i for i, n in enumerate(names)}
    idx = np.array([lookup.get(v, -1) for v in vals])
    if np.any(idx < 0):
        try:
            as_num = pd.to_numeric(col).to_numpy()
            num = {float(n): i for i, n in enumerate(names) if _is_number(n)}
            idx = np.array([num.get(float(v), -1) for v in as_num])
        except (ValueError, TypeError):
            pass
    if np.any(idx < 0):
        bad = sorted(set(vals[idx < 0]))[:5]
        raise DataError(f"labels {bad} are not classes of the model ({', '.join(names[:10])})")
    return idx


def _is_number(s: str) -> bool:
    try:
        float(s)
        return True
    except ValueError:
        return False
