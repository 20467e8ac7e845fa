"""Benchmark: the input boxes of one VNN-LIB property one after the other vs at the same time on Dask.

``check_property(net, prop)`` decides the boxes of a property with several one after the other, each with all the
time left; ``check_property(..., scheduler="local")`` (:mod:`mipnet.verify.box_fanout`) gives each box a task of a
local Dask cluster (one worker process per box up to the CPU count) and ends at the first counterexample. Nets:
the controller nets of ``benchmarks/controller_boxes.py`` (5 inputs, 6 x 50 ReLU). Properties: its ``two-boxes``
(Y_3 >= t_3 on either of two quarter-space boxes) and ``four-boxes`` (Y_3 >= t on any of the four boxes that halve
X_0 and X_1, t 0.25 of the sampled range above the sampled maximum over the whole cube). Each (net, property) runs
both ways in the same run, the order alternating, with the same time limit; the free cores are measured just
before each pair (two CPU-bound probes for a second: 2.0 = both cores idle). Verdicts must agree. Output:
results/verification/box_fanout.md (and .csv).

    python benchmarks/vnnlib_box_fanout.py [--nets 2] [--time-limit 120]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from mipnet.network import Network  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
OUT = HERE.parent / "results" / "verification"


def four_boxes(net: Network, seed: int) -> str:
    from controller_boxes import N_IN, _box_and, _decl

    rng = np.random.default_rng(seed + 200)
    S = rng.uniform(0, 1, (20000, N_IN))
    y = net.forward(S)[:, 3]
    t = y.max() + 0.25 * (y.max() - y.min())
    boxes = []
    for a in (0, 1):
        for b in (0, 1):
            lo, hi = np.zeros(N_IN), np.ones(N_IN)
            lo[0], hi[0] = 0.5 * a, 0.5 * (a + 1)
            lo[1], hi[1] = 0.5 * b, 0.5 * (b + 1)
            boxes.append(_box_and(lo, hi))
    return _decl() + f"(assert (or {' '.join(boxes)}))\n(assert (>= Y_3 {t:.6f}))"


def main() -> None:
    from controller_boxes import _markdown, controller_net, free_cores, properties

    from mipnet.verify.vnnlib import check_property, parse_vnnlib

    ap = argparse.ArgumentParser()
    ap.add_argument("--nets", type=int, default=2)
    ap.add_argument("--time-limit", type=float, default=120.0)
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    rows = []
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    for seed in range(args.nets):
        net = controller_net(seed)
        props = {"two-boxes": properties(net, seed)["two-boxes"], "four-boxes": four_boxes(net, seed)}
        for k, (name, text) in enumerate(props.items()):
            prop = parse_vnnlib(text)
            free = free_cores(2)
            row: dict[str, object] = {"net": seed, "property": name, "boxes": len(prop.box_groups()), "free": free}
            order = ["serial", "dask"] if (seed + k) % 2 == 0 else ["dask", "serial"]
            for mode in order:
                t0 = time.perf_counter()
                r = check_property(net, prop, time_limit=args.time_limit, scheduler="local" if mode == "dask" else None)
                row[f"{mode}_verdict"], row[f"{mode}_time"] = r.verdict, round(time.perf_counter() - t0, 2)
                row[f"{mode}_nodes"] = r.nodes
            print(row, flush=True)
            rows.append(row)
    df = pd.DataFrame(rows)
    args.out.mkdir(parents=True, exist_ok=True)
    df.to_csv(args.out / "box_fanout.csv", index=False)
    both = df[(df.serial_verdict != "unknown") & (df.dask_verdict != "unknown")]
    agree = bool((both.serial_verdict == both.dask_verdict).all())
    ratio = (both.dask_time / both.serial_time).median() if len(both) else float("nan")
    lines = [
        "# The input boxes of a property at the same time on Dask vs one after the other",
        "",
        f"`python benchmarks/vnnlib_box_fanout.py --nets {args.nets} --time-limit {args.time_limit:g}` "
        f"(started {started}; 2 cores shared with other jobs: `free` is the cores two CPU-bound probes got just "
        "before each pair, 2.0 = both idle).",
        "",
        f"- verdicts agree where both decide: **{'yes' if agree else 'NO'}**",
        f"- wall time Dask / serial where both decide: median {ratio:.2f} (n = {len(both)})",
        f"- decided serial {int((df.serial_verdict != 'unknown').sum())} / Dask "
        f"{int((df.dask_verdict != 'unknown').sum())} of {len(df)}",
        "",
        _markdown(df),
        "",
    ]
    (args.out / "box_fanout.md").write_text("\n".join(lines))


if __name__ == "__main__":
    main()
