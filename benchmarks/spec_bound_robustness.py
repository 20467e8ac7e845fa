"""Benchmark: the CROWN / alpha-CROWN first prover in robustness verification, on against off, in the same run.

For each model (the benchmark MLPs of ``benchmarks/robustness_mlp.py``: digits 64-50-50-10, MNIST 784-50-50-10),
test image and eps, ``verify_sample`` runs twice with the same budget: ``spec_bound=False`` (the former pipeline:
attack, margin check from the layer bounds, one MILP with rivals as binaries) and ``spec_bound=True`` (the spec
bound of every margin z_c - z_k after the attack; the MILP only for rivals it leaves open). The two runs alternate
per query so that machine load hits both alike. Verdicts must agree (a bound can only decide earlier).

    python benchmarks/spec_bound_robustness.py [--images 10] [--eps 0.05 0.1] [--time-limit 60]
      -> results/robustness/spec_bound.md, results/robustness/spec_bound.csv
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from robustness_mlp import _data, _split, get_model  # noqa: E402

from mipnet.verify.robustness import verify_sample  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", nargs="+", default=["digits", "mnist"])
    ap.add_argument("--images", type=int, default=10)
    ap.add_argument("--eps", type=float, nargs="+", default=[0.05, 0.1])
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--out", default=str(ROOT / "results" / "robustness"))
    a = ap.parse_args()
    rows = []
    for name in a.models:
        net = get_model(name)
        X, y = _data(name)
        _, te = _split(len(y))
        for eps in a.eps:
            for i in te[: a.images]:
                x = X[i]
                for spec in (False, True):
                    t0 = time.perf_counter()
                    r = verify_sample(net, x, eps, time_limit=a.time_limit, spec_bound=spec)
                    rows.append(
                        {
                            "model": name,
                            "eps": eps,
                            "image": int(i),
                            "spec_bound": spec,
                            "verdict": r.verdict,
                            "prover": r.prover,
                            "seconds": time.perf_counter() - t0,
                        }
                    )
                last = rows[-2:]
                print(
                    f"{name} eps {eps} image {i}: off {last[0]['verdict']} {last[0]['seconds']:.2f} s, "
                    f"on {last[1]['verdict']} ({last[1]['prover']}) {last[1]['seconds']:.2f} s",
                    flush=True,
                )
    df = pd.DataFrame(rows)
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    df.to_csv(out / "spec_bound.csv", index=False)
    off = df[~df.spec_bound].reset_index(drop=True)
    on = df[df.spec_bound].reset_index(drop=True)
    agree = bool((off.verdict == on.verdict).all())
    lines = [
        "# Robustness: CROWN / alpha-CROWN first prover, on against off (same run)",
        "",
        f"`python benchmarks/spec_bound_robustness.py --images {a.images} --eps {' '.join(map(str, a.eps))} "
        f"--time-limit {a.time_limit:g}`; L-inf, per query the two pipelines alternate. Verdicts agree on every "
        f"query: {'yes' if agree else 'NO'}.",
        "",
        "| model | eps | queries (h/v/u) | median s off | median s on | median per-query ratio on/off | "
        "max s off | max s on | decided by the bound |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for (model, eps), g_off in off.groupby(["model", "eps"], sort=False):
        g_on = on.loc[g_off.index]
        ratio = g_on.seconds.to_numpy() / g_off.seconds.to_numpy()
        counts = "/".join(str(int((g_on.verdict == v).sum())) for v in ("holds", "violated", "unknown"))
        by_bound = int(g_on.prover.isin(["crown", "alpha-crown"]).sum())
        lines.append(
            f"| {model} | {eps:g} | {counts} | {g_off.seconds.median():.2f} | {g_on.seconds.median():.2f} | "
            f"{np.median(ratio):.2f} | {g_off.seconds.max():.2f} | {g_on.seconds.max():.2f} | "
            f"{by_bound} of {len(g_on)} |"
        )
    (out / "spec_bound.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
