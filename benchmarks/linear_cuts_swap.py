"""The cutting planes' swap search (:func:`mipnet.train.linear_cuts.swap_search`) on and off, in the same run.

The linear term alone with the logistic loss, a feature budget K, l1 = 0.01 and the boxes the interpretable frontier
uses on unbalanced sets (|w| <= 4, |b| <= 8), where the master's bound stalls and the incumbent is what the search
can improve. German (700 training rows, every seed the same rows) and Adult N = 1000 (seeds: stratified subsets of
the fixed training split). Columns: incumbent F (numpy), proved bound, gap, test accuracy, wall seconds; the
ratio of the incumbents (on / off) per fit.

    python benchmarks/linear_cuts_swap.py --out results/training/linear_cuts_swap

writes the rows (.json) and the table (.md).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent


def fit(Xtr, ytr, Xte, yte, k: int, swap: bool, time_limit: float, l1: float) -> dict[str, Any]:
    import mipnet.train.linear_cuts as linear_cuts
    from mipnet.train import TrainConfig, train
    from mipnet.train.constraints import FeatureBudget

    linear_cuts.SWAP_SEARCH = swap
    try:
        cfg = TrainConfig(hidden=(1,), loss="logistic", l1=l1, max_neurons=0, weight_bound=4.0, bias_bound=8.0)
        t0 = time.perf_counter()
        res = train(Xtr, ytr, config=cfg, linear=True, constraints=[FeatureBudget(k)], time_limit=time_limit,
                    threads=1)  # fmt: skip
        wall = time.perf_counter() - t0
    finally:
        linear_cuts.SWAP_SEARCH = True
    c = res.certificate
    acc = float(np.mean((res.network.forward(Xte)[:, 0] > 0) == yte))
    return {"incumbent": c.incumbent, "bound": c.bound, "gap": c.gap, "status": c.status, "test_acc": acc, "wall": wall}


def table(rows: list[dict[str, Any]]) -> str:
    out = [
        "| data | seed | K | swap search | status | incumbent | bound | gap | test acc | wall s | incumbent on / off |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        ratio = r.get("ratio")
        out.append(
            f"| {r['data']} | {r['seed']} | {r['k']} | {'on' if r['swap'] else 'off'} | {r['status']} | "
            f"{r['incumbent']:.6f} | {r['bound']:.6f} | {100 * r['gap']:.2f} % | {r['test_acc']:.4f} | "
            f"{r['wall']:.1f} | {'' if ratio is None else f'{ratio:.4f}'} |"
        )
    ratios = [r["ratio"] for r in rows if r.get("ratio") is not None]
    if ratios:
        out.append("")
        out.append(
            f"Incumbent on / off: median {statistics.median(ratios):.4f}, min {min(ratios):.4f}, max "
            f"{max(ratios):.4f} over {len(ratios)} fits (below 1: the search found a better support)."
        )
    return "\n".join(out)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--datasets", default="german,adult")
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--seeds", default="0,1")
    ap.add_argument("--budgets", default="3,5")
    ap.add_argument("--l1", type=float, default=0.01)
    ap.add_argument("--time-limit", type=float, default=45.0)
    ap.add_argument("--out", type=Path, default=HERE.parent / "results" / "training" / "linear_cuts_swap")
    args = ap.parse_args(argv)
    sys.path.insert(0, str(HERE))
    from interpretable_frontier import split

    rows: list[dict[str, Any]] = []
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    for name in args.datasets.split(","):
        for seed in (int(s) for s in args.seeds.split(",")):
            Xtr, ytr, Xte, yte, _ = split(name, args.n, seed)
            for k in (int(v) for v in args.budgets.split(",")):
                pair = {}
                for swap in (False, True):
                    r = fit(Xtr, ytr, Xte, yte, k, swap, args.time_limit, args.l1)
                    r.update(data=name, seed=seed, k=k, swap=swap)
                    pair[swap] = r
                    print(json.dumps(r), flush=True)
                pair[True]["ratio"] = pair[True]["incumbent"] / pair[False]["incumbent"]
                rows += [pair[False], pair[True]]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    record = {"started": started, "args": vars(args) | {"out": str(args.out)}, "rows": rows}
    args.out.with_suffix(".json").write_text(json.dumps(record, indent=1))
    cmd = "python benchmarks/linear_cuts_swap.py " + " ".join(argv if argv is not None else sys.argv[1:])
    args.out.with_suffix(".md").write_text(
        f"Run {started}: `{cmd.strip()}` (logistic, l1 = {args.l1}, boxes 4/8, {args.time_limit:g} s per fit, "
        "one thread; both settings of each fit one after the other in the same process)\n\n" + table(rows) + "\n"
    )


if __name__ == "__main__":
    main()
