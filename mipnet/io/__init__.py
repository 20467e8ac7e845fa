"""Model files in and out. ``load_model``/``save_model`` pick the format from the file name.

| suffix            | read                         | write        |
|-------------------|------------------------------|--------------|
| .json             | native mipnet JSON           | native JSON  |
| .onnx             | ONNX (io.onnx_io)            | ONNX         |
| .pt .pth          | torch nn.Sequential (whole)  | -            |
| .pkl .pickle .joblib | sklearn MLP / Pipeline    | -            |
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import MipnetError, UnsupportedError
from ..network import Network
from .native import load_json, save_json

READERS = {
    ".json": "json",
    ".onnx": "onnx",
    ".pt": "torch",
    ".pth": "torch",
    ".pkl": "sklearn",
    ".pickle": "sklearn",
    ".joblib": "sklearn",
}
WRITERS = {".json": "json", ".onnx": "onnx"}


def load_model(path: str | os.PathLike[str]) -> Network:
    """Load a model of any supported format as a :class:`Network`."""
    p = Path(path)
    if not p.exists():
        raise MipnetError(f"file not found: {p}")
    kind = READERS.get(p.suffix.lower())
    if kind is None:
        raise UnsupportedError(f"unknown model file type {p.suffix!r} (supported: {', '.join(READERS)})")
    if kind == "json":
        return load_json(p)
    if kind == "onnx":
        from .onnx_io import load_onnx

        return load_onnx(p)
    if kind == "torch":
        from .torch_io import load_torch_file

        return load_torch_file(p)
    from .sklearn_io import load_sklearn_file

    return load_sklearn_file(p)


def save_model(net: Network, path: str | os.PathLike[str], dtype: str = "float64") -> None:
    """Save ``net``; the format follows the suffix (.json or .onnx). Written atomically.

    ``dtype`` (ONNX only): ``float64`` (default) stores the weights bit for bit, so the ONNX copy has the
    JSON copy's fingerprint and certificates re-check on either; ``float32`` for consumers that need it."""
    p = Path(path)
    kind = WRITERS.get(p.suffix.lower())
    if kind is None:
        raise UnsupportedError(f"cannot write model files of type {p.suffix!r} (supported: {', '.join(WRITERS)})")
    if kind == "json":
        save_json(net, p)
    else:
        from .onnx_io import save_onnx

        save_onnx(net, p, dtype=dtype)


__all__ = ["load_model", "save_model", "load_json", "save_json"]
