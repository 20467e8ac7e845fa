"""Benchmark workers in their own processes, driven over JSON lines: auto_LiRPA's (``lirpa_worker.py`` in its own
venv) and the shared protocol (:class:`JsonWorker`) an earlier mipnet's worker uses too."""

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


class JsonWorker:
    """A worker process answering one JSON line per JSON line asked, on a model file at ``self.path`` (removed on
    :meth:`close`); its first line says whether it is ready."""

    def __init__(self, argv: list[str], path: str, env: dict[str, str] | None = None, cwd: str | None = None) -> None:
        self.path = path
        self.proc = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env, cwd=cwd
        )
        self.first = self._read()

    def _read(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            return {"ready": False, "error": f"the worker exited (code {self.proc.poll()}) without an answer"}
        out: dict[str, Any] = json.loads(line)
        return out

    def ask(self, query: dict[str, Any]) -> dict[str, Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(query) + "\n")
        self.proc.stdin.flush()
        return self._read()

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        self.proc.wait(timeout=30)
        os.unlink(self.path)


class Lirpa(JsonWorker):
    """auto_LiRPA's worker process for one network (JSON lines; ``lirpa_worker.py``)."""

    def __init__(self, python: str, net: Network) -> None:
        fd, path = tempfile.mkstemp(suffix=".npz")
        os.close(fd)
        arrays = {}
        for i, (W, b) in enumerate(weights(net)):
            arrays[f"W{i}"], arrays[f"b{i}"] = W, b
        np.savez(path, **arrays)  # type: ignore[arg-type]
        super().__init__([python, str(WORKER), path], path)
        self.ready, self.error = bool(self.first.get("ready")), str(self.first.get("error", ""))
        self.versions = self.first.get("versions", {})

    def query(self, x: np.ndarray, lo: np.ndarray, hi: np.ndarray, c: int) -> dict[str, Any]:
        return self.ask({"x": x.tolist(), "lo": lo.tolist(), "hi": hi.tolist(), "c": c})
