"""OpenBox on the synthetic 2-D study: a (2, 4, 16, 2, 2) PLNN on 20000 points in a quadrangle.

The points are uniform in the quadrangle Q with vertices (0, 0), (4, 0.5), (3.5, 3.5), (0.5, 3); the
label is 1 inside a smaller, rotated quadrangle inside Q, 0 elsewhere (four linear boundaries, which
the first hidden layer can represent). The net is trained with torch, converted to a mipnet Network and
interpreted: configurations met by the data and on a dense grid against the 2^N bound (N = 22 hidden
units), exactness of the local linear classifiers, non-redundant boundaries of every region, and the
figure with the regions and each local decision boundary.

    python experiments/openbox_synthetic_2d.py        (about 1 min)
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _openbox_common import mlp, train, write_csv, write_json, write_png  # noqa: E402

from mipnet.domain import Domain  # noqa: E402
from mipnet.explain import interpret  # noqa: E402
from mipnet.explain.consistency import consistency  # noqa: E402
from mipnet.explain.figures import regions_2d, summary_frame, to_png  # noqa: E402
from mipnet.io.torch_io import from_torch  # noqa: E402

OUTER = np.array([[0.0, 0.0], [4.0, 0.5], [3.5, 3.5], [0.5, 3.0]])
INNER = np.array([[1.0, 1.2], [2.6, 0.8], [3.0, 2.4], [1.4, 2.6]])


def inside(P: np.ndarray, poly: np.ndarray) -> np.ndarray:
    """Points inside a convex polygon given counter-clockwise."""
    ok = np.ones(len(P), dtype=bool)
    for a, b in zip(poly, np.roll(poly, -1, axis=0)):
        ok &= (b[0] - a[0]) * (P[:, 1] - a[1]) - (b[1] - a[1]) * (P[:, 0] - a[0]) >= 0
    return ok


def sample(n: int, rng: np.random.Generator) -> np.ndarray:
    lo, hi = OUTER.min(axis=0), OUTER.max(axis=0)
    out = np.empty((0, 2))
    while len(out) < n:
        P = rng.uniform(lo, hi, size=(2 * n, 2))
        out = np.vstack([out, P[inside(P, OUTER)]])
    return out[:n]


def main() -> None:
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    X = sample(20000, rng)
    y = inside(X, INNER).astype(int)
    model = mlp([2, 4, 16, 2, 2])
    fit = train(model, X, y, epochs=60, lr=1e-2, batch=200, seed=0)
    domain = Domain(["x1", "x2"], OUTER.min(axis=0), OUTER.max(axis=0))
    net = from_torch(model.double(), (2,), domain=domain, class_names=["outside", "inside"])
    acc = float(np.mean(net.predict_index(net.forward(X)) == y))

    t0 = time.perf_counter()
    interp = interpret(net, X)
    t_interp = time.perf_counter() - t0
    exact = interp.exactness(X)
    t0 = time.perf_counter()
    rows = interp.summary(y)
    t_lp = time.perf_counter() - t0
    fig, grid = regions_2d(net, domain.lower, domain.upper, X, y, resolution=500)
    write_png("synthetic_2d_regions.png", to_png(fig))
    table = summary_frame(rows)
    write_csv("synthetic_2d_summary.csv", table)
    cons = consistency(interp, X, rows=rng.choice(len(X), 500, replace=False), lime_rows=20)
    for m in cons["methods"].values():
        m.pop("values", None)
    n_units = interp.n_hidden_units
    result = {
        "data": "20000 points uniform in a quadrangle, label = inside a smaller quadrangle",
        "net": "(2, 4, 16, 2, 2) ReLU, torch Adam",
        "train": fit,
        "train_accuracy": acc,
        "hidden_units": n_units,
        "configuration_bound": f"2^{n_units} = {2**n_units}",
        "configurations_data": interp.n_regions,
        "configurations_grid_500x500": grid["grid_configurations"],
        "instances_per_second_interpret": len(X) / t_interp,
        "boundary_lp_seconds": t_lp,
        "exactness": exact,
        "boundaries_per_region_mean": float(np.mean([r["n_boundaries"] for r in rows])),
        "inequalities_per_region": n_units,
        "consistency": cons,
    }
    write_json("synthetic_2d.json", result)
    print({k: v for k, v in result.items() if k != "consistency"})
    print({m: (v.get("mean"), v.get("n")) for m, v in cons["methods"].items()}, "same region:", cons["same_region"])
    print(table.head(10).to_string(index=False))


if __name__ == "__main__":
    main()
