"""Soundness at the edges of float64: random one-hidden-layer ReLU nets with extreme scales (weights 1e-8 .. 1e6,
boxes of width 1e-9 .. 100 centred at 0, 1e-6 or +-1e5) and a VNN-LIB property "Y_0 >= t" with t planted just below
the largest Y_0 found by dense sampling (relative 1e-12 .. 1e-5). A "holds" is counted false when the sampled point
reaches t in exact rational arithmetic; every "violated" witness must lie in the box with Y_0 >= t by its own
forward pass.

    python benchmarks/fuzz_vnnlib_scales.py --seed 3 --n 150 [--checkout WORKTREE] --out results/STEM

prints one line per case that is not a re-checked "violated" and writes results/STEM.md with the counts. With
--checkout the nets are checked by another checkout's mipnet (a baseline), in a subprocess.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CASE = r"""
import json, sys, time
from fractions import Fraction
import numpy as np
import mipnet
from mipnet.verify.vnnlib import check_property, parse_vnnlib

seed, n_cases = int(sys.argv[1]), int(sys.argv[2])
rng = np.random.default_rng(seed)
out = []
for t in range(n_cases):
    n, h = int(rng.integers(1, 4)), int(rng.integers(2, 9))
    S = float(rng.choice([1.0, 1e3, 1e6, 1e-8]))
    cen = float(rng.choice([0.0, 1e5, -1e5, 1e-6]))
    width = float(rng.choice([1e-9, 1e-3, 1.0, 100.0]))
    W1 = rng.normal(size=(h, n)) * S
    b1 = -W1 @ np.full(n, cen) + rng.normal(size=h) * S * width
    W2, b2 = rng.normal(size=(1, h)), rng.normal(size=1)
    dom = mipnet.Domain([f"x{i}" for i in range(n)], [-1e9] * n, [1e9] * n)
    net = mipnet.Network([mipnet.Dense(W1, b1), mipnet.ReLU(), mipnet.Dense(W2, b2)], domain=dom, task="regress")
    lo, hi = np.full(n, cen - width / 2), np.full(n, cen + width / 2)
    X = rng.uniform(lo, hi, size=(200000, n))
    Y = net.forward(X)[:, 0]
    k = int(np.argmax(Y))
    xb, yb = X[k], float(Y[k])
    rel = float(rng.choice([1e-12, 1e-9, 1e-7, 1e-5]))
    thr = yb - rel * max(1.0, abs(yb))
    if not thr < yb:
        continue
    lines = [f"(declare-const X_{i} Real)" for i in range(n)] + ["(declare-const Y_0 Real)"]
    for i in range(n):
        lines += [f"(assert (>= X_{i} {float(lo[i])!r}))", f"(assert (<= X_{i} {float(hi[i])!r}))"]
    lines += [f"(assert (>= Y_0 {float(thr)!r}))"]
    # the planted point's Y_0 in exact rational arithmetic: the property is violated iff it reaches thr
    F = Fraction
    hid = [max(F(0), sum((F(float(w)) * F(float(v)) for w, v in zip(W1[j], xb)), F(float(b1[j])))) for j in range(h)]
    exact = sum((F(float(W2[0, j])) * hid[j] for j in range(h)), F(float(b2[0])))
    t0 = time.perf_counter()
    r = check_property(net, parse_vnnlib("\n".join(lines)), time_limit=10)
    ok = None
    if r.verdict == "violated":
        ok = bool(np.all((r.x >= lo) & (r.x <= hi)) and net.forward(r.x[None])[0, 0] >= thr)
    out.append({"case": t, "scale": S, "centre": cen, "width": width, "depth": rel, "verdict": r.verdict,
                "witness_ok": ok, "violated_exactly": bool(exact >= F(float(thr))),
                "seconds": time.perf_counter() - t0, "reason": r.reason})
print(json.dumps(out))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--n", type=int, default=150)
    ap.add_argument("--checkout", default=None, help="another checkout's mipnet (e.g. a worktree of a baseline)")
    ap.add_argument("--out", default="results/fuzz_vnnlib_scales")
    args = ap.parse_args()
    env = dict(os.environ, PYTHONPATH=str(Path(args.checkout).resolve())) if args.checkout else None
    t0 = time.perf_counter()
    run = subprocess.run(  # (from a neutral directory: the current one would come first on the path)
        [sys.executable, "-c", CASE, str(args.seed), str(args.n)],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        cwd=tempfile.gettempdir(),
    )
    rows = json.loads(run.stdout.strip().splitlines()[-1])
    false_holds = [r for r in rows if r["verdict"] == "holds" and r["violated_exactly"]]
    bad_witness = [r for r in rows if r["verdict"] == "violated" and not r["witness_ok"]]
    unknown = [r for r in rows if r["verdict"] == "unknown"]
    for r in false_holds + bad_witness + unknown:
        print(r)
    n_ok = len(rows) - len(false_holds) - len(bad_witness) - len(unknown)
    who = args.checkout or "this checkout"
    lines = [
        f"# VNN-LIB verdicts at extreme scales ({who}, seed {args.seed}, {len(rows)} violated properties)",
        "",
        f"Command: `python benchmarks/fuzz_vnnlib_scales.py --seed {args.seed} --n {args.n}"
        + (f" --checkout {args.checkout}" if args.checkout else "")
        + f" --out {args.out}` ({time.perf_counter() - t0:.0f} s)",
        "",
        "| false holds | violated, witness fails its re-check | unknown | violated, re-checked |",
        "|---|---|---|---|",
        f"| {len(false_holds)} | {len(bad_witness)} | {len(unknown)} | {n_ok} |",
    ]
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out + ".md").write_text("\n".join(lines) + "\n")
    Path(args.out + ".json").write_text(json.dumps(rows, indent=1))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
