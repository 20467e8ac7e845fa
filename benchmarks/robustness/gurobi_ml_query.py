"""Gurobi Machine Learning's standard robustness model, one query (the competitor column).

The network becomes a ``torch.nn.Sequential`` (float64, the same weights) and enters a gurobipy model through
``gurobi_ml.add_predictor_constr`` (Gurobi ML's own formulation of Linear and ReLU layers; it computes no bounds
of its own). Following Gurobi ML's adversarial-example example, with x' the input variables and z = f(x'):

    for each rival k != c (in decreasing order of the image's logit z_k(x)):
        max  z_k(x') - z_c(x')   s.t.  lo <= x' <= hi,  z = f(x')
        BestBdStop = 0 (stop once the best bound is <= 0: rival k cannot win),
        BestObjStop = 0 (stop at the first point where it wins)

The query is "violated" at the first rival with a solution of positive objective whose point, re-run through
mipnet's forward pass, is not classified as c; "holds" when every rival's bound is <= 0 (Gurobi ML's convention:
a tie within Gurobi's tolerances counts as robust); "unknown" when the time limit (one budget for the model
build and all rivals) ends first; "error" with Gurobi's message when the size-limited pip licence refuses the
model (at most 2000 variables and 2000 linear constraints).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from mipnet.layers import Dense, ReLU
from mipnet.network import Network


def weights(net: Network) -> list[tuple[np.ndarray, np.ndarray]]:
    """(W, b) of each Dense layer of a Dense-ReLU-...-Dense net; anything else is refused."""
    out: list[tuple[np.ndarray, np.ndarray]] = []
    for i, layer in enumerate(net.layers):
        if i % 2 == 0 and isinstance(layer, Dense):
            out.append((np.asarray(layer.weight, np.float64), np.asarray(layer.bias, np.float64)))
        elif not (i % 2 == 1 and isinstance(layer, ReLU)):
            raise ValueError(f"only Dense-ReLU-...-Dense nets are compared here (layer {i} is {type(layer).__name__})")
    return out


def torch_sequential(net: Network) -> Any:
    """The same network as a float64 ``torch.nn.Sequential`` of Linear and ReLU modules."""
    import torch

    ws = weights(net)
    mods: list[Any] = []
    for i, (W, b) in enumerate(ws):
        lin = torch.nn.Linear(W.shape[1], W.shape[0]).double()
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(W))
            lin.bias.copy_(torch.from_numpy(b))
        mods.append(lin)
        if i < len(ws) - 1:
            mods.append(torch.nn.ReLU())
    return torch.nn.Sequential(*mods).eval()


def verify(
    net: Network, model: Any, x: np.ndarray, lo: np.ndarray, hi: np.ndarray, c: int, time_limit: float, threads: int
) -> dict[str, Any]:
    """One query with Gurobi ML (module docstring); ``model`` is :func:`torch_sequential` of ``net``."""
    import gurobipy as gp
    from gurobi_ml import add_predictor_constr  # type: ignore[import-untyped]

    t0 = time.perf_counter()
    out: dict[str, Any] = {"verdict": "unknown", "reason": "", "counterexample": None, "rivals_closed": 0}
    z0 = net.forward(x[None])[0]
    rivals = [int(k) for k in np.argsort(-z0) if int(k) != c]
    env = gp.Env(params={"OutputFlag": 0})
    m = gp.Model(env=env)
    try:
        xv = m.addMVar((1, lo.size), lb=lo[None], ub=hi[None], name="x")
        zv = m.addMVar((1, net.n_outputs), lb=-gp.GRB.INFINITY, name="z")
        add_predictor_constr(m, model, xv, zv)
        m.Params.Threads = threads
        m.Params.BestBdStop = 0.0
        m.Params.BestObjStop = 0.0
        for k in rivals:
            left = time_limit - (time.perf_counter() - t0)
            if left <= 0:
                out["reason"] = "time limit"
                break
            m.Params.TimeLimit = left
            m.setObjective(zv[0, k] - zv[0, c], gp.GRB.MAXIMIZE)
            m.optimize()
            if m.SolCount > 0 and m.ObjVal > 0:
                xc = np.asarray(xv.X, np.float64).ravel()
                if int(net.predict_index(net.forward(xc[None]))[0]) != c:
                    out.update(verdict="violated", counterexample=xc, reason=f"rival {k}")
                    break
                out["reason"] = f"rival {k}: the solver's point keeps class {c} in the forward pass"
                break
            if m.ObjBound <= 0:
                out["rivals_closed"] += 1
                continue
            out["reason"] = "time limit" if m.Status == gp.GRB.TIME_LIMIT else f"status {m.Status}"
            break
        else:
            out["verdict"] = "holds"
        out["size"] = f"{m.NumVars} vars, {m.NumConstrs} linear, {m.NumGenConstrs} general constraints"
    except gp.GurobiError as e:
        out.update(verdict="error", reason=f"GurobiError {e.errno}: {e}")
    finally:
        m.dispose()
        env.dispose()
    out["seconds"] = time.perf_counter() - t0
    return out
