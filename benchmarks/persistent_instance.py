"""Persistent HiGHS instance vs a fresh model translation per solve, in the same run.

The training MILP's warm start runs many LPs on one model (the pattern-fixed LPs of the LP heuristic,
:func:`mipnet.train.warmstart.lp_heuristic`). Without a persistent instance every LP translates the whole
Pyomo model to HiGHS again; with :func:`mipnet.train.warmstart.lp_instance` the model is translated once and
each LP sends only the variables it fixes and frees. Both ways must reach the same objective.

For each data set and N (sign class, 4 hidden units, hinge + l1 0.01, the gradient warm start mapped into the
class): the LP heuristic with ``rounds`` rounds, both ways, ``repeats`` times alternating; the median wall
time of each and their ratio.

    python benchmarks/persistent_instance.py [--datasets compas,breast_cancer] [--n 100,300] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from pathlib import Path

import numpy as np

from mipnet.datasets import load
from mipnet.train import TrainConfig, TrainingProblem
from mipnet.train.warmstart import gradient_weights, lp_heuristic, lp_instance, map_to_class


def problem_for(name: str, n: int, seed: int = 0) -> tuple[TrainingProblem, list]:
    data = load(name).sample(n, random_state=seed)
    X, _ = data.X_numeric()
    y = data.y.to_numpy()
    t = np.where(y == np.unique(y)[1], 1.0, -1.0)
    sd = X.std(0)
    Xs = (X - X.mean(0)) / np.where(sd > 1e-12, sd, 1.0)
    cfg = TrainConfig(hidden=(4,), hypothesis="sign", l1=0.01, lipschitz_pairs=20)
    prob = TrainingProblem(Xs, t, "classify", 2, cfg)
    return prob, map_to_class(gradient_weights(Xs, t, "classify", 2, cfg.hidden, seed=seed), prob)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--datasets", default="compas,breast_cancer")
    ap.add_argument("--n", default="100,300")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", default="results/training/persistent_instance.json")
    args = ap.parse_args()
    rows = []
    for name in args.datasets.split(","):
        for n in [int(v) for v in args.n.split(",")]:
            prob, w = problem_for(name, n)
            times: dict[str, list[float]] = {"fresh": [], "persistent": []}
            objs: dict[str, float | None] = {}
            for _ in range(args.repeats):
                for way in ("fresh", "persistent"):
                    t0 = time.perf_counter()
                    inst = lp_instance(prob) if way == "persistent" else None
                    _, obj, rounds = lp_heuristic(
                        prob, w, max_rounds=args.rounds, time_budget=1e9, threads=1, instance=inst
                    )
                    times[way].append(time.perf_counter() - t0)
                    objs[way] = obj
            med = {k: statistics.median(v) for k, v in times.items()}
            row = {
                "dataset": name,
                "N": n,
                "variables": prob.size()["variables"],
                "constraints": prob.size()["constraints"],
                "rounds": rounds,
                "repeats": args.repeats,
                "median_fresh_s": med["fresh"],
                "median_persistent_s": med["persistent"],
                "speedup": med["fresh"] / med["persistent"],
                "objective_fresh": objs["fresh"],
                "objective_persistent": objs["persistent"],
                "same_objective": objs["fresh"] is not None
                and objs["persistent"] is not None
                and abs(objs["fresh"] - objs["persistent"]) <= 1e-6 * max(1.0, abs(objs["fresh"])),
            }
            rows.append(row)
            print(json.dumps(row), flush=True)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {"benchmark": "persistent_instance", "machine": platform.platform(), "args": vars(args), "rows": rows},
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
