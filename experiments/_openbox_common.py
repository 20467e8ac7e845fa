"""Shared helpers of the OpenBox experiments: plain torch training of small PLNNs and atomic result output."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from mipnet.io.atomic import atomic_write_bytes, atomic_write_text

RESULTS = Path(__file__).resolve().parents[1] / "results" / "openbox"


def mlp(sizes: list[int], seed: int = 0) -> nn.Sequential:
    """Linear-ReLU stack with the given layer widths (no activation after the last Linear), seeded init."""
    torch.manual_seed(seed)
    mods: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        mods.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            mods.append(nn.ReLU())
    return nn.Sequential(*mods)


def train(
    model: nn.Sequential,
    X: np.ndarray,
    y: np.ndarray,
    epochs: int,
    lr: float = 1e-2,
    batch: int = 128,
    l1: float = 0.0,
    nonneg: bool = False,
    seed: int = 0,
) -> dict[str, float]:
    """Adam on cross-entropy (+ l1 * sum |W|); ``nonneg`` projects every weight matrix onto W >= 0 after
    each step (the non-negative and sparse 'NS' constraints). Returns the training time and final loss."""
    torch.manual_seed(seed)
    Xt = torch.tensor(X, dtype=torch.float32)
    yt = torch.tensor(y, dtype=torch.long)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    weights = [m.weight for m in model if isinstance(m, nn.Linear)]
    if nonneg:
        with torch.no_grad():
            for w in weights:
                w.abs_()
    gen = torch.Generator().manual_seed(seed)
    t0 = time.perf_counter()
    loss = torch.tensor(0.0)
    for _ in range(epochs):
        perm = torch.randperm(len(Xt), generator=gen)
        for s in range(0, len(Xt), batch):
            idx = perm[s : s + batch]
            opt.zero_grad()
            loss = nn.functional.cross_entropy(model(Xt[idx]), yt[idx])
            if l1:
                loss = loss + l1 * sum(w.abs().sum() for w in weights)
            loss.backward()
            opt.step()
            if nonneg:
                with torch.no_grad():
                    for w in weights:
                        w.clamp_(min=0.0)
    return {"train_seconds": time.perf_counter() - t0, "final_loss": float(loss.detach())}


def write_json(name: str, obj: Any) -> None:
    atomic_write_text(RESULTS / name, json.dumps(obj, indent=1, default=_default, allow_nan=False))


def write_csv(name: str, df: pd.DataFrame) -> None:
    atomic_write_text(RESULTS / name, df.to_csv(index=False))


def write_png(name: str, data: bytes) -> None:
    atomic_write_bytes(RESULTS / name, data)


def _default(o: Any) -> Any:
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return float(o)
    return str(o)
