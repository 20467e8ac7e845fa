"""Helpers shared by the CLI commands: exit codes, model and CSV loading, atomic CSV output."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
import numpy as np
import pandas as pd

from ..errors import DataError, MipnetError
from ..io.atomic import atomic_write_text
from ..network import Network

EXIT_OK = 0
EXIT_VIOLATED = 1
EXIT_INPUT_ERROR = 2
EXIT_UNKNOWN = 3


def load_network(path: str) -> Network:
    from ..io import load_model

    return load_model(path)


def read_csv(path: str) -> pd.DataFrame:
    p = Path(path)
    if not p.is_file():
        raise MipnetError(f"file not found: {p}")
    try:
        df = pd.read_csv(p)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise DataError(f"{p} is not a readable CSV file: {str(exc).splitlines()[0]}") from None
    if df.empty:
        raise DataError(f"{p} has no data rows")
    return df


def features_for(net: Network, df: pd.DataFrame) -> np.ndarray:
    """The model's feature columns of ``df`` in the model's order, as floats (clear errors otherwise)."""
    names = net.feature_names
    missing = [n for n in names if n not in df.columns]
    if missing:
        raise DataError(
            f"the CSV lacks the model's feature columns {missing[:5]}"
            + (" ..." if len(missing) > 5 else "")
            + f" (it has {list(df.columns)[:8]})"
        )
    X = df[names]
    try:
        arr = X.to_numpy(dtype=np.float64)
    except (ValueError, TypeError):
        bad = [c for c in X.columns if not pd.api.types.is_numeric_dtype(X[c])]
        raise DataError(f"non-numeric values in feature columns {bad[:5]}") from None
    if not np.all(np.isfinite(arr)):
        rows = np.flatnonzero(~np.all(np.isfinite(arr), axis=1))
        raise DataError(f"NaN or inf in the data (first bad row: {int(rows[0])})")
    return arr


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
