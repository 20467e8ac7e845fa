"""auto_LiRPA's worker process for one network, driven over JSON lines (``lirpa_worker.py`` in its own venv)."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from mipnet.network import Network

from .gurobi_ml_query import weights

WORKER = Path(__file__).resolve().parent / "lirpa_worker.py"


class Lirpa:
    """auto_LiRPA's worker process for one network (JSON lines; ``lirpa_worker.py``)."""

    def __init__(self, python: str, net: Network) -> None:
        fd, self.path = tempfile.mkstemp(suffix=".npz")
        os.close(fd)
        arrays = {}
        for i, (W, b) in enumerate(weights(net)):
            arrays[f"W{i}"], arrays[f"b{i}"] = W, b
        np.savez(self.path, **arrays)  # type: ignore[arg-type]
        self.proc = subprocess.Popen(
            [python, str(WORKER), self.path],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        first = self._read()
        self.ready, self.error = bool(first.get("ready")), str(first.get("error", ""))
        self.versions = first.get("versions", {})

    def _read(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            return {"ready": False, "error": f"the worker exited (code {self.proc.poll()}) without an answer"}
        out: dict[str, Any] = json.loads(line)
        return out

    def query(self, x: np.ndarray, lo: np.ndarray, hi: np.ndarray, c: int) -> dict[str, Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps({"x": x.tolist(), "lo": lo.tolist(), "hi": hi.tolist(), "c": c}) + "\n")
        self.proc.stdin.flush()
        return self._read()

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        self.proc.wait(timeout=30)
        os.unlink(self.path)
