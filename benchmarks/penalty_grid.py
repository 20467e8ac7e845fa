"""Resolution of the l1 grid for cross-validation: the former 5-point grid against the default 1-2-3-5 grid.

Same data sets, training subsets, seeds and test split as ``train_quality.py``. For each grid,
``mipnet.train.penalty_cv.select_l1`` chooses l1 on the training subset (repeated stratified 5-fold, x2),
then the sign-class surrogate is fitted on all training rows at the chosen l1 and scored on the test split.
That network is the warm start the MILP starts from, not the MILP's answer: the LP heuristic and the MILP
then lower the objective, which moves the test accuracy either way (train_quality.py measures the MILP).
Both grids in the same run, so the seconds are comparable. Figures:
results/training/penalty_grid_n100.json and penalty_grid_n300.json (one --n per run).

    python benchmarks/penalty_grid.py --n 300 --out results/training/penalty_grid_n300.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from mipnet.train.penalty_cv import DEFAULT_L1_GRID, FULL_DATA_RESTARTS, select_l1
from mipnet.train.surrogate import fit_sign_network_best

sys.path.insert(0, str(Path(__file__).resolve().parent))
from train_quality import split  # noqa: E402

GRIDS = {"coarse": (0.001, 0.003, 0.01, 0.03, 0.1), "default": DEFAULT_L1_GRID}


def run_one(name: str, n: int, seed: int, hidden: int = 4) -> list[dict]:
    Xtr, ytr, Xte, yte = split(name, n, seed)
    classes = np.unique(ytr)
    ys, yts = np.where(ytr == classes[1], 1.0, -1.0), np.where(yte == classes[1], 1.0, -1.0)
    mu, sd = Xtr.mean(axis=0), Xtr.std(axis=0)
    sd = np.where(sd > 1e-12, sd, 1.0)
    rows = []
    for grid_name, grid in GRIDS.items():
        sel = select_l1(Xtr, ys, hidden, grid, seed=seed)
        net = fit_sign_network_best((Xtr - mu) / sd, ys, hidden, l1=sel.l1, restarts=FULL_DATA_RESTARTS, seed=seed)
        acc = float(np.mean(np.where(net.decision((Xte - mu) / sd) > 0, 1.0, -1.0) == yts))
        rows.append(
            {
                "dataset": name,
                "N": n,
                "seed": seed,
                "grid": grid_name,
                "l1": sel.l1,
                "test_acc": acc,
                "nonzero": net.nonzero(),
                "cv_seconds": sel.seconds,
                "cv_best_mean": max(sel.mean_accuracy),
            }
        )
    return rows


def summarise(rows: list[dict]) -> list[str]:
    out = [
        "| data set | N | coarse grid: acc | nnz | l1 chosen | default grid: acc | nnz | l1 chosen | CV time x |",
        "|" + "---|" * 9,
    ]
    keys = sorted({(r["dataset"], r["N"]) for r in rows}, key=lambda k: (k[1], k[0]))
    for name, n in keys:
        cells = []
        by = {g: [r for r in rows if (r["dataset"], r["N"], r["grid"]) == (name, n, g)] for g in GRIDS}
        for g in GRIDS:
            rs = by[g]
            cells += [
                f"{np.mean([r['test_acc'] for r in rs]):.3f}",
                f"{np.mean([r['nonzero'] for r in rs]):.1f}",
                ", ".join(f"{r['l1']:g}" for r in rs),
            ]
        ratio = np.median([d["cv_seconds"] / c["cv_seconds"] for c, d in zip(by["coarse"], by["default"])])
        out.append(f"| {name} | {n} | " + " | ".join(cells) + f" | {ratio:.2f} |")
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--datasets", default="breast_cancer,compas,german,heart,adult")
    ap.add_argument("--n", default="100,300")
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--out", default="results/training/penalty_grid.json")
    args = ap.parse_args()
    rows = []
    for name in args.datasets.split(","):
        for n in [int(v) for v in args.n.split(",")]:
            for seed in [int(v) for v in args.seeds.split(",")]:
                rows += run_one(name, n, seed)
                print(json.dumps(rows[-2:]), flush=True)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"benchmark": "penalty_grid", "args": vars(args), "rows": rows}, indent=1))
    print("\n".join(summarise(rows)))


if __name__ == "__main__":
    main()
