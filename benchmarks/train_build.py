"""Model building at scale: seconds and peak memory to build the training MILP and hand it to HiGHS, Pyomo path
(TrainingProblem + the persistent HiGHS instance, mipnet.train.warmstart.lp_instance) versus the matrix path
(mipnet.train.matrix.MatrixTrainingModel + passModel), in the same run.

Data: COMPAS and Adult, the split of experiments/dual_bound_strength.py (train_test_split(test_size=0.3,
random_state=1000), then sample(N, random_state=0)); standardised, duplicate (x, y) rows merged as the trainer
does (counts as row weights, denominator N). Sign class, 4 hidden units, hinge + l1 0.01, the default TrainConfig
otherwise (tight big-M, symmetry breaking, 20 Lipschitz partners per row). Each (path, data set, N) runs in its own
process (peak RSS = that process's ru_maxrss, minus the same process's RSS after imports and data loading), with a
timeout; no solve.

    python benchmarks/train_build.py --sizes 1000,3000,10000 --timeout 180 --out results/training/train_build.md
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

COMPAS_ROWS = 4320  # the COMPAS training split


def data(dataset: str, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """(X merged, target merged, counts, rows before merging), standardised as the trainer does."""
    from mipnet.datasets import load
    from mipnet.train.formulation import merge_rows
    from mipnet.train.trainer import encode_targets

    tr, _ = load(dataset).train_test_split(test_size=0.3, random_state=1000)
    if n < tr.n_rows:
        tr = tr.sample(n, random_state=0)
    X, _ = tr.X_numeric()
    X = np.asarray(X, dtype=np.float64)
    y = tr.y.to_numpy()
    t, _, _, _, _ = encode_targets(y, "classify", sorted(set(y.tolist())))
    mu, sd = X.mean(axis=0), X.std(axis=0)
    Xs = (X - mu) / np.where(sd > 1e-12, sd, 1.0)
    Xu, tu, counts, _ = merge_rows(Xs, t)
    return Xu, tu, counts, X.shape[0]


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def one(path: str, dataset: str, n: int) -> dict[str, Any]:
    """Build (and translate) one model in this process; seconds and memory."""
    from mipnet.train.formulation import TrainConfig, TrainingProblem
    from mipnet.train.matrix import MatrixTrainingModel
    from mipnet.train.warmstart import lp_instance

    X, t, counts, rows = data(dataset, n)
    cfg = TrainConfig(hidden=(4,), hypothesis="sign", l1=0.01)
    base = rss_mb()
    t0 = time.perf_counter()
    if path == "pyomo":
        prob = TrainingProblem(X, t, "classify", 2, cfg, sample_weight=counts, loss_denominator=rows)
        t1 = time.perf_counter()
        lp_instance(prob)
        size = prob.size()
    else:
        mm = MatrixTrainingModel(X, t, cfg, sample_weight=counts, loss_denominator=rows)
        t1 = time.perf_counter()
        mm.highs()
        size = mm.size()
    t2 = time.perf_counter()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "path": path,
        "dataset": dataset,
        "rows": rows,
        "distinct": int(X.shape[0]),
        "d": int(X.shape[1]),
        "build": t1 - t0,
        "translate": t2 - t1,
        "total": t2 - t0,
        "peak_mb": peak,
        "base_mb": base,
        **size,
    }


def run(path: str, dataset: str, n: int, timeout: float) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--one", f"{path},{dataset},{n}"]
    t0 = time.perf_counter()
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=True)
    except subprocess.TimeoutExpired:
        return {"path": path, "dataset": dataset, "rows": n, "timeout": timeout, "total": time.perf_counter() - t0}
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def table(results: list[dict[str, Any]], args: argparse.Namespace, started: str, wall: float) -> str:
    by = {(r["path"], r["dataset"], r["rows"]): r for r in results}
    lines = [
        "# Model building at scale: Pyomo versus sparse matrices handed to HiGHS",
        "",
        f"Run {started} UTC on {platform.node()} ({os.cpu_count()} cores shared with other jobs: the machine was "
        f"loaded, times are inflated and noisy; the ratios compare both paths in the same run). Wall {wall:.0f} s. "
        "Sign class, 4 hidden units, hinge + l1 0.01, default TrainConfig (tight big-M, symmetry breaking, "
        "20 Lipschitz partners per row); COMPAS and Adult, the split of experiments/dual_bound_strength.py, "
        "sampled to N rows (random_state 0), standardised, duplicate (x, y) rows merged (as the trainer does). "
        "Build = model construction; translate = the model handed to HiGHS (Pyomo: `lp_instance`, the "
        "persistent interface's translation; matrix: `passModel`); no solve. Memory: peak RSS of the process "
        "that built one model, minus its RSS after imports and data loading. One build per cell (short run).",
        "",
        "| data | N | distinct | d | path | build s | translate s | total s | s per 1000 rows | peak MB | "
        "variables | constraints | total ratio (Pyomo / matrix) | memory ratio |",
        "|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        if r["path"] != "pyomo":
            continue
        key = (r["dataset"], r["rows"])
        m = by.get(("matrix", *key))
        for x in (r, m):
            if x is None:
                continue
            if "timeout" in x:
                lines.append(
                    f"| {x['dataset']} | {x['rows']} | | | {x['path']} | | | > {x['timeout']:.0f} (stopped) | "
                    f"> {1000 * x['timeout'] / x['rows']:.1f} | | | | | |"
                )
                continue
            ratio = mem = ""
            if x["path"] == "matrix":
                if "timeout" in r:
                    ratio = f"> {r['timeout'] / x['total']:.0f}"
                else:
                    ratio = f"{r['total'] / x['total']:.1f}"
                    mem = f"{(r['peak_mb'] - r['base_mb']) / max(x['peak_mb'] - x['base_mb'], 1.0):.1f}"
            lines.append(
                f"| {x['dataset']} | {x['rows']} | {x['distinct']} | {x['d']} | {x['path']} | {x['build']:.2f} | "
                f"{x['translate']:.2f} | {x['total']:.2f} | {1000 * x['total'] / x['rows']:.2f} | "
                f"{x['peak_mb'] - x['base_mb']:.0f} | {x['variables']} | {x['constraints']} | {ratio} | {mem} |"
            )
    lines += [
        "",
        "The matrix model has the Pyomo model's columns and rows except the 2 N J rows r >= 0 p of the product rule, "
        "which are column bounds there (mipnet/train/matrix/model.py; tests/test_matrix_model_equivalence.py checks "
        "equal MILP optima and LP relaxations on small instances).",
        "",
        "Regenerate:",
        "",
        "```",
        f"python benchmarks/train_build.py --sizes {args.sizes} --datasets {args.datasets} --timeout {args.timeout:.0f}"
        f" --out {args.out}",
        "```",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="1000,3000,10000")
    ap.add_argument("--datasets", default="compas,adult")
    ap.add_argument("--timeout", type=float, default=180.0, help="seconds per (path, data set, N); slower: stopped")
    ap.add_argument("--out", default=None)
    ap.add_argument("--one", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        path, dataset, n = args.one.split(",")
        print(json.dumps(one(path, dataset, int(n))))
        return
    started = time.strftime("%Y-%m-%d %H:%M", time.gmtime())
    t0 = time.perf_counter()
    results = []
    for dataset in args.datasets.split(","):
        for n in (int(s) for s in args.sizes.split(",")):
            if dataset == "compas" and n > COMPAS_ROWS:
                continue  # the COMPAS training split has 4320 rows
            for path in ("matrix", "pyomo"):
                r = run(path, dataset, n, args.timeout)
                print(json.dumps(r), flush=True)
                results.append(r)
    text = table(results, args, started, time.perf_counter() - t0)
    print(text)
    if args.out:
        Path(args.out).write_text(text)


if __name__ == "__main__":
    main()
