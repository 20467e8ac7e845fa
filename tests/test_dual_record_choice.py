"""Which dual bound the certificate gets by size: column generation on few rows, the vertex-pair bound above on few
features, else the hybrid in the middle, the transport LP alone on many rows or many entries (rows x features); each
bound stays below the incumbent."""

from __future__ import annotations

import numpy as np
import pytest

from mipnet.deadline import Deadline
from mipnet.solve import SolveOptions
from mipnet.train import TrainConfig
from mipnet.train import dual_record as dr

CFG = TrainConfig(hidden=(2,), hypothesis="sign", l1=0.01)


def _data(n: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(4)
    X = rng.normal(size=(n, 3))
    t = np.where(X[:, 0] + 0.5 * rng.normal(size=n) > 0, 1.0, -1.0)
    return X, t


@pytest.mark.parametrize(
    "vertex_max, entries_cap, expected", [(14, None, "vertex"), (2, None, "hybrid"), (2, 500, "transport")]
)
def test_entries_cap_sends_wide_data_to_the_transport_bound(
    monkeypatch: pytest.MonkeyPatch, vertex_max: int, entries_cap: int | None, expected: str
) -> None:
    from mipnet.train.dual_bound import pair_vertices

    monkeypatch.setattr(pair_vertices, "VERTEX_MAX_FEATURES", vertex_max)  # 3 features: vertex pairs up to 3
    if entries_cap is not None:
        monkeypatch.setattr(dr, "HYBRID_MAX_ENTRIES", entries_cap)
    X, t = _data(330)  # above the column generation's 300 rows; 330 x 3 = 990 entries
    rec = dr.dual_bound_record(X, t, CFG, None, Deadline(20.0), SolveOptions(threads=1, seed=0), lambda s: None)
    assert rec is not None and rec["method"] == expected
    assert rec["bound"] >= 0
    # every network's objective is at least the bound: the constant network's (mean hinge of the best c) too
    best_constant = min(float(np.maximum(0.0, 1.0 - t * c).mean()) for c in (-1.0, 0.0, 1.0))
    assert rec["bound"] <= best_constant + 1e-9
