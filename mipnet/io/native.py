"""The native model file: versioned JSON (``"format": "mipnet", "version": 1``).

Floats are written with Python's shortest round-trip repr, so a saved model loads back
bit-for-bit. Infinite domain bounds are written as the strings "inf" / "-inf".
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import MipnetError, ModelFormatError
from ..network import Network
from .atomic import atomic_write_text


def _json_default(o: Any) -> Any:
    """numpy scalars and arrays (e.g. in metadata or class names) as plain JSON values."""
    if isinstance(o, (np.ndarray, np.generic)):
        return o.tolist()
    raise TypeError(f"object of type {type(o).__name__} is not JSON serialisable")


def save_json(net: Network, path: str | os.PathLike[str]) -> None:
    """Write ``net`` to ``path`` atomically (nothing is written if the model cannot be serialised)."""
    try:
        text = json.dumps(net.to_dict(), allow_nan=False, indent=1, default=_json_default)
    except (TypeError, ValueError) as exc:
        raise ModelFormatError(f"cannot save the model as JSON: {exc}") from None
    atomic_write_text(path, text)


def load_json(path: str | os.PathLike[str]) -> Network:
    """Read a native model file; every defect raises :class:`ModelFormatError` with one line."""
    path = Path(path)
    if not path.is_file():
        raise MipnetError(f"file not found: {path}")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ModelFormatError(f"{path} is not a UTF-8 JSON file") from None

    def _reject_constant(name: str) -> float:
        raise ModelFormatError(f"{path}: {name} is not allowed in a model file")

    try:
        data = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise ModelFormatError(f"{path} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    except RecursionError:
        raise ModelFormatError(f"{path} is nested too deeply to be a model file") from None
    try:
        return Network.from_dict(data)
    except ModelFormatError as exc:
        raise ModelFormatError(f"{path}: {exc}") from None
