"""Shared helpers of the resilience and polytope experiments: torch training of small MLPs, conversion to
mipnet networks, atomic result output."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from mipnet.domain import Domain
from mipnet.io.atomic import atomic_write_bytes, atomic_write_text
from mipnet.io.torch_io import from_torch
from mipnet.network import Network

ROOT = Path(__file__).resolve().parents[1] / "results"


def mlp(sizes: list[int], act: type[nn.Module] = nn.ReLU) -> nn.Sequential:
    mods: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        mods.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            mods.append(act())
    return nn.Sequential(*mods)


def train(
    model: nn.Sequential, X: np.ndarray, y: np.ndarray, epochs: int, lr: float = 1e-2, batch: int = 128, seed: int = 0
) -> None:
    torch.manual_seed(seed)
    Xt, yt = torch.tensor(X, dtype=torch.float32), torch.tensor(y, dtype=torch.long)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    gen = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        perm = torch.randperm(len(Xt), generator=gen)
        for s in range(0, len(Xt), batch):
            idx = perm[s : s + batch]
            opt.zero_grad()
            nn.functional.cross_entropy(model(Xt[idx]), yt[idx]).backward()
            opt.step()


def to_network(model: nn.Sequential, names: list[str], lower: float, upper: float, classes: list[str]) -> Network:
    dom = Domain.box(names, lower, upper)
    return from_torch(model, (len(names),), domain=dom, class_names=classes)


def _clean(o: Any) -> Any:
    """NaN/inf floats -> None, recursively (JSON has no NaN)."""
    if isinstance(o, dict):
        return {str(k): _clean(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_clean(v) for v in o]
    if isinstance(o, (float, np.floating)):
        return float(o) if np.isfinite(o) else None
    return o


def write_json(sub: str, name: str, obj: Any) -> None:
    atomic_write_text(ROOT / sub / name, json.dumps(_clean(obj), indent=1, default=_default, allow_nan=False))


def write_csv(sub: str, name: str, df: pd.DataFrame) -> None:
    atomic_write_text(ROOT / sub / name, df.to_csv(index=False))


def write_png(sub: str, name: str, fig: Any) -> None:
    import io

    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    atomic_write_bytes(ROOT / sub / name, buf.getvalue())


def _default(o: Any) -> Any:
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return float(o)
    if isinstance(o, float):
        return None
    return str(o)
