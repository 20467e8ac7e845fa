"""The sample-group lower bound on the hard certificate instance (breast cancer, N = 100, 3 hidden,
sign class, hinge + L1 0.01): the full problem's bound after T seconds against the sum of the bounds
of G disjoint sample groups, each solved with T seconds (a valid bound: every group problem is a
relaxation of its share of the objective). Output: results/training/group_bound.json.

    python benchmarks/train_group_bound.py [--groups 5] [--time-limit 120]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mipnet.datasets import load_breast_cancer  # noqa: E402
from mipnet.train import TrainConfig, train_dataset  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--groups", type=int, default=5)
    ap.add_argument("--time-limit", type=float, default=120.0)
    args = ap.parse_args()
    cfg = TrainConfig(hidden=(3,), hypothesis="sign", l1=0.01)
    r = train_dataset(
        load_breast_cancer(), n_samples=100, seed=0, config=cfg, time_limit=args.time_limit, group_bound=args.groups
    )
    c = r.certificate
    out = {
        "N": 100,
        "hidden": 3,
        "groups": args.groups,
        "time_limit": args.time_limit,
        "incumbent": c.incumbent,
        "bound_reported": c.bound,
        "gap_reported": c.gap,
        "solver_bound": c.bound if c.group_bound is None else None,
        "group_bound": c.group_bound,
        "status": c.status,
    }
    path = ROOT / "results" / "training" / "group_bound.json"
    path.write_text(json.dumps(out, indent=1, default=str))
    print(json.dumps(out, indent=1, default=str))


if __name__ == "__main__":
    main()
