"""A probe beyond the benchmark's eps: ``verify_sample`` with and without the ReLU-split tree on the queries that
neither CROWN / alpha-CROWN nor the attack decides.

    python benchmarks/robustness/relu_split_probe.py MODEL EPS [--images 20] [--time-limit 30]

MODEL is digits or mnist (``benchmarks/robustness_mlp.py``'s nets, the first ``--images`` of its test split); one
line per such query: the tree's verdict, prover, seconds (whole call) and the tree's own seconds, then the MILP
path's (``relu_split=False``) verdict, prover and seconds. Verdicts must agree where both decide.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from robustness_mlp import _data, _split, get_model  # noqa: E402

from mipnet.verify.robustness import verify_sample  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model", choices=["digits", "mnist"])
    ap.add_argument("eps", type=float)
    ap.add_argument("--images", type=int, default=20)
    ap.add_argument("--time-limit", type=float, default=30.0)
    a = ap.parse_args(argv)
    net = get_model(a.model)
    X, y = _data(a.model)
    _, te = _split(len(y))
    for i in te[: a.images]:
        new = verify_sample(net, X[i], a.eps, time_limit=a.time_limit, threads=1)
        if new.prover in ("crown", "alpha-crown", "attack", "sample"):
            continue
        old = verify_sample(net, X[i], a.eps, time_limit=a.time_limit, threads=1, relu_split=False)
        agree = "" if {new.verdict, old.verdict} - {"unknown"} != {"holds", "violated"} else "  DISAGREE"
        print(
            f"{a.model} eps {a.eps:g} image {i}: tree {new.verdict} {new.prover} {new.time:.2f} s "
            f"(tree {new.seconds.get('relu-split', 0.0):.2f} s) | MILP path {old.verdict} {old.prover} "
            f"{old.time:.2f} s{agree}",
            flush=True,
        )


if __name__ == "__main__":
    main()
