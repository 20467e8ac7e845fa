"""auto_LiRPA bounds of the classification margins, run in auto_LiRPA's own virtual environment.

    <lirpa venv>/bin/python lirpa_worker.py WEIGHTS.npz

WEIGHTS.npz holds ``W0, b0, W1, b1, ...`` of a Dense-ReLU-...-Dense network (``W`` of shape (out, in)). The worker
answers one JSON line per query on stdin: ``{"x": [...], "lo": [...], "hi": [...], "c": int}`` (the image, and the
input box lo <= x' <= hi: the L-inf ball intersected with the domain). For the specification matrix C with rows
e_c - e_k (k != c, in increasing k) it computes lower bounds

    L_k <= min_{lo <= x' <= hi} z_c(x') - z_k(x')

with ``method="CROWN"`` (backward linear relaxation, adaptive lower slopes) and ``method="alpha-CROWN"``
(``CROWN-Optimized``: lower slopes optimised by projected gradient) and prints
``{"CROWN": {"lower": [...], "seconds": s}, "alpha-CROWN": {...}}`` (``{"error": "..."}`` in place of a method's
result when auto_LiRPA raises); ``seconds`` times ``compute_bounds`` alone (a
fresh ``BoundedModule`` per query and method, built before the clock starts, so no optimised slopes carry over from
one query to the next). The first line printed is ``{"ready": true, "versions": {...}}`` or
``{"ready": false, "error": "..."}``. One torch thread, float64.

auto_LiRPA's PyPI release (0.3, 2022) pins torch < 1.13 and was written against torch's TorchScript ONNX helpers
of that time; with torch 2.13 it needs numpy < 2 and three renamed helpers, which :func:`_torch_compat` maps back
(``_optimize_graph`` and the opset setter now live in ``torch.onnx._internal.torchscript_exporter``; ``Node[k]``
was torch's own ``Node.__getitem__``). Nothing of auto_LiRPA's bound computation is changed. Only numpy, torch and
auto_LiRPA are imported here.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

import numpy as np


def _torch_compat() -> None:
    """Put back the torch < 1.13 TorchScript-ONNX names that auto_LiRPA 0.3 imports (same functions, new home)."""
    import torch
    import torch.onnx.symbolic_helper as sh
    import torch.onnx.utils as tu
    from torch.onnx._internal.torchscript_exporter import utils as ts_utils
    from torch.onnx._internal.torchscript_exporter._globals import GLOBALS

    def _set_opset_version(v: int) -> None:
        GLOBALS.export_onnx_opset_version = v

    if not hasattr(tu, "_optimize_graph"):
        tu._optimize_graph = ts_utils._optimize_graph
    if not hasattr(sh, "_set_opset_version"):
        sh._set_opset_version = _set_opset_version
    if not hasattr(torch._C.Node, "__getitem__"):
        torch._C.Node.__getitem__ = lambda self, k: getattr(self, self.kindOf(k))(k)


def _sequential(weights: Any) -> Any:
    import torch

    n = len([k for k in weights.files if k.startswith("W")])
    mods: list[Any] = []
    for i in range(n):
        W, b = np.asarray(weights[f"W{i}"], np.float64), np.asarray(weights[f"b{i}"], np.float64)
        lin = torch.nn.Linear(W.shape[1], W.shape[0]).double()
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(W))
            lin.bias.copy_(torch.from_numpy(b))
        mods.append(lin)
        if i < n - 1:
            mods.append(torch.nn.ReLU())
    return torch.nn.Sequential(*mods).eval()


def _bounds(model: Any, q: dict, method: str) -> dict:
    import torch
    from auto_LiRPA import BoundedModule, BoundedTensor, PerturbationLpNorm  # type: ignore[import-not-found]

    x = torch.tensor([q["x"]], dtype=torch.float64)
    lo = torch.tensor([q["lo"]], dtype=torch.float64)
    hi = torch.tensor([q["hi"]], dtype=torch.float64)
    c, n_out = int(q["c"]), int(model[-1].out_features)
    rivals = [k for k in range(n_out) if k != c]
    C = torch.zeros((1, len(rivals), n_out), dtype=torch.float64)
    for r, k in enumerate(rivals):
        C[0, r, c], C[0, r, k] = 1.0, -1.0
    bm = BoundedModule(model, torch.zeros_like(x), device="cpu")
    bx = BoundedTensor(x, PerturbationLpNorm(norm=float("inf"), x_L=lo, x_U=hi))
    t0 = time.perf_counter()
    lb, _ = bm.compute_bounds(x=(bx,), method="CROWN-Optimized" if method == "alpha-CROWN" else "CROWN", C=C)
    seconds = time.perf_counter() - t0
    return {"lower": [float(v) for v in lb.detach().double().numpy().ravel()], "seconds": seconds}


def main(path: str) -> None:
    try:
        import torch

        torch.set_num_threads(1)
        torch.set_default_dtype(torch.float64)  # auto_LiRPA 0.3 creates some buffers in the default dtype
        _torch_compat()
        import auto_LiRPA

        model = _sequential(np.load(path))
        versions = {"auto_LiRPA": getattr(auto_LiRPA, "__version__", "?"), "torch": torch.__version__}
    except Exception as e:  # the column is skipped with this reason
        print(json.dumps({"ready": False, "error": f"{type(e).__name__}: {e}"}), flush=True)
        return
    print(json.dumps({"ready": True, "versions": versions}), flush=True)
    for line in sys.stdin:
        if not line.strip():
            continue
        q = json.loads(line)
        out: dict[str, Any] = {}
        for m in ("CROWN", "alpha-CROWN"):
            try:
                out[m] = _bounds(model, q, m)
            except Exception as e:  # reported as this method's error on this query
                out[m] = {"error": f"{type(e).__name__}: {e}"}
        print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
