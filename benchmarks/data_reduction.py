"""Exact data reduction: the training MILP with identical (standardised x, label) rows merged into weighted rows.

COMPAS (mipnet.datasets.load_compas), the train/test split of benchmarks/train_quality.py (test_size=0.3,
random_state=1000), a sample of the training split and the whole split; sign class, 4 hidden units, hinge + l1.
For each: rows, distinct (x, y) rows, distinct x, and per model (unmerged / merged) the seconds to build it
(TrainingProblem construction, no solve) and its size. The merged objective equals the unmerged one for every
network (mipnet.train.formulation, "Exact data reduction"); checked here at the gradient net's completion.

    python benchmarks/data_reduction.py --samples 1000,full --out results/training/data_reduction.md
"""

from __future__ import annotations

import argparse
import gc
import time
from pathlib import Path

import numpy as np

from mipnet.datasets import load_compas
from mipnet.train import TrainConfig, TrainingProblem
from mipnet.train.formulation import merge_rows
from mipnet.train.trainer import encode_targets


def data(samples: str, seed: int) -> tuple[np.ndarray, np.ndarray]:
    train, _ = load_compas().train_test_split(test_size=0.3, random_state=1000)
    if samples != "full":
        train = train.sample(min(int(samples), train.n_rows), random_state=seed)
    X, _ = train.X_numeric()
    target, _, _, _, _ = encode_targets(train.y.to_numpy(), "classify")
    mu, sd = X.mean(axis=0), X.std(axis=0)
    return (X - mu) / np.where(sd > 1e-12, sd, 1.0), target


def build(Xs: np.ndarray, t: np.ndarray, cfg: TrainConfig, merged: bool, repeat: int) -> dict:
    """The model (merged: :func:`merge_rows` first, counted in the time) and the fastest of ``repeat`` builds, each
    with no other model alive (a large live Pyomo model slows the next build through the garbage collector)."""
    best = np.inf
    prob = None
    for _ in range(repeat):
        prob = None
        gc.collect()
        t0 = time.perf_counter()
        kw = {}
        X, y = Xs, t
        if merged:
            X, y, counts, _ = merge_rows(Xs, t)
            kw = dict(sample_weight=counts, loss_denominator=int(counts.sum()))
        prob = TrainingProblem(X, y, "classify", 2, cfg, **kw)
        best = min(best, time.perf_counter() - t0)
    return {"problem": prob, "seconds": best, **prob.size()}


def check_objective(a: TrainingProblem, b: TrainingProblem, seed: int) -> tuple[float | None, float | None]:
    """The completion LP of the same network (the gradient net mapped into the class) on both models."""
    from mipnet.train.warmstart import fixed_lp, gradient_weights, map_to_class

    gw = gradient_weights(a.X, a.target, "classify", 2, a.config.hidden, seed=seed, max_iter=100)
    w = map_to_class(gw, a)
    return fixed_lp(a, w, free_weights=False), fixed_lp(b, w, free_weights=False)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--samples", default="1000,full", help="comma-separated: a row count or 'full'")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--hidden", type=int, default=4)
    ap.add_argument("--l1", type=float, default=0.01)
    ap.add_argument("--repeat", type=int, default=2, help="builds per model; the fastest is reported")
    ap.add_argument("--check", action="store_true", help="also compare both models' objective at one network")
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    cfg = TrainConfig(hidden=(args.hidden,), l1=args.l1)
    rows = []
    for s in args.samples.split(","):
        Xs, t = data(s.strip(), args.seed)
        n_xy = merge_rows(Xs, t)[0].shape[0]
        n_x = np.unique(Xs, axis=0).shape[0]
        before = build(Xs, t, cfg, merged=False, repeat=args.repeat)
        before.pop("problem")
        after = build(Xs, t, cfg, merged=True, repeat=args.repeat)
        after.pop("problem")
        obj = (None, None)
        if args.check:  # both models again (untimed)
            Xu, tu, counts, _ = merge_rows(Xs, t)
            obj = check_objective(
                TrainingProblem(Xs, t, "classify", 2, cfg),
                TrainingProblem(Xu, tu, "classify", 2, cfg, sample_weight=counts, loss_denominator=len(t)),
                args.seed,
            )
        row = {
            "samples": s,
            "rows": len(t),
            "distinct_xy": n_xy,
            "distinct_x": n_x,
            "before": before,
            "after": after,
            "objective": obj,
        }
        rows.append(row)
        print(
            f"{s}: {len(t)} rows, {n_xy} distinct (x, y), {n_x} distinct x; build {before['seconds']:.1f} s -> "
            f"{after['seconds']:.1f} s, binaries {before['binaries']} -> {after['binaries']}, variables "
            f"{before['variables']} -> {after['variables']}, constraints {before['constraints']} -> "
            f"{after['constraints']}" + (f"; objective {obj[0]!r} vs {obj[1]!r}" if args.check else ""),
            flush=True,
        )
    if args.out:
        write(rows, args, Path(args.out))


def write(rows: list[dict], args: argparse.Namespace, path: Path) -> None:
    cmd = (
        f"python benchmarks/data_reduction.py --samples {args.samples} --seed {args.seed} --hidden {args.hidden} "
        f"--l1 {args.l1:g} --repeat {args.repeat}" + (" --check" if args.check else "") + f" --out {path}"
    )
    lines = [
        "# Exact data reduction: duplicate rows merged into weighted rows",
        "",
        "COMPAS (`mipnet.datasets.load_compas()`), training split of `benchmarks/train_quality.py` (test_size 0.3, "
        f"random_state 1000), a sample of it (random_state {args.seed}) and the whole split; sign class, "
        f"{args.hidden} hidden units, hinge + l1 {args.l1:g}, HiGHS model (tight big-M, Lipschitz pair cuts). "
        f"Build = `TrainingProblem` construction (seconds, merging included, the fastest of {args.repeat}; no "
        "translation to the solver, no solve; 2 shared cores); one block and one "
        "set of ReLU binaries per row. Merged: one row per distinct (standardised x, label), its loss times its count, "
        "divided by the original row count, so the objective is the unmerged one for every network "
        "(`mipnet/train/formulation.py`, *Exact data reduction*). The trainer merges by default "
        "(`train(..., merge_duplicates=True)`); the certificate is computed on the original rows and records "
        "`rows` and `distinct_rows` in its `formulation`.",
        "",
        "| rows | distinct (x, y) | distinct x | build s (before -> after) | binaries | variables | constraints |",
        "|---:|---:|---:|---|---|---|---|",
    ]
    for r in rows:
        b, a = r["before"], r["after"]
        label = f"{r['rows']}" + (" (full split)" if r["samples"] == "full" else f" (sample {r['samples']})")
        lines.append(
            f"| {label} | {r['distinct_xy']} | {r['distinct_x']} | {b['seconds']:.1f} -> {a['seconds']:.1f} "
            f"| {b['binaries']} -> {a['binaries']} | {b['variables']} -> {a['variables']} "
            f"| {b['constraints']} -> {a['constraints']} |"
        )
    if args.check:
        lines += [
            "",
            "Objective of one network (the gradient net mapped into the class, completion LP) on both models:",
            "",
        ]
        for r in rows:
            o = r["objective"]
            lines.append(f"* {r['rows']} rows: unmerged {o[0]!r}, merged {o[1]!r}")
    lines += ["", "Regenerate:", "", "```", cmd, "```", ""]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines))


if __name__ == "__main__":
    main()
