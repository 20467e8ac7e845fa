"""Soundness of the smallest-perturbation MILP (``minimal_perturbation``) at the edges of float64, on the cases of
``fuzz_robustness_scales.py`` (tiny one-hidden-layer ReLU classifiers on domains far from the origin, integer
features, one-hot pairs, weights 1e-9 .. 1e6; every case's class changes within the domain). Each case is asked
once, with tau = 0 (the distance to the decision boundary), L-inf or L1 as the case says, 10 s. Its exact minimal
radius r* (the first float radius whose ball holds a point of negative margin, in rational arithmetic) is known.

Counted as FALSE:

* "infeasible" (no class change anywhere within the domain): the case has one, at radius r*;
* a proved lower bound on the radius above r* (relative 1e-6: the MILP's own gap tolerance);
* a counterexample the result calls checked that lies outside the ball of the radius it claims or outside the
  domain, or keeps the class by the forward pass (an unchecked one, e.g. a tie at tau = 0, is only reported).

    python benchmarks/fuzz_minimal_perturbation.py --seed 1 --n 60 [--checkout WORKTREE] --out results/X.json

With --checkout the cases run on another checkout's mipnet (a baseline), in a subprocess with PYTHONPATH set.
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

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fuzz_robustness_scales import domain_problem, draw_case, in_ball, worker, worker_rows  # noqa: E402

TIME_LIMIT = 10.0
BOUND_SLACK = 1e-6  # relative: the MILP's gap tolerance


def run_case(seed: int, t: int) -> dict[str, Any]:
    from mipnet.verify.robustness import minimal_perturbation

    drawn, _ = draw_case(seed, t)
    if drawn is None:
        return {"case": t, "skipped": "no case with a class change in 50 draws"}
    case, c, (below, beyond) = drawn
    net = case.network()
    row: dict[str, Any] = {"case": t, "seed": seed, "kind": case.kind, "norm": case.norm, "r_star": beyond}
    t0 = time.perf_counter()
    try:
        r = minimal_perturbation(net, case.x0, norm=case.norm, tau=0.0, time_limit=TIME_LIMIT)
    except Exception as exc:  # an error is a result of its own
        row.update(status="error", seconds=time.perf_counter() - t0, reason=f"{type(exc).__name__}: {exc}"[:300])
        row.update(false=False, problems=[])
        return row
    row.update(status=r.status, seconds=time.perf_counter() - t0, eps=r.eps, bound=r.bound, checked=r.checked)
    problems = []
    if r.status == "infeasible":
        problems.append(f"infeasible, but the class changes at radius {beyond!r}")
    if r.bound is not None and r.status != "infeasible" and r.bound > beyond * (1 + BOUND_SLACK):
        problems.append(f"bound {r.bound!r} above the exact radius {beyond!r}")
    if r.counterexample is not None:
        q = np.asarray(r.counterexample, dtype=np.float64).ravel()
        if r.checked and r.eps is not None and not in_ball(case, q, float(r.eps)):
            problems.append("counterexample outside the claimed radius's ball")
        if r.checked and domain_problem(case, q):
            problems.append(domain_problem(case, q))
        if r.checked and int(net.predict_index(net.forward(q[None]))[0]) == c:
            problems.append("a checked counterexample keeps the class")
    row.update(false=bool(problems), problems=problems)
    return row


def summarize(rows: list[dict[str, Any]]) -> dict[str, Any]:
    done = [r for r in rows if "status" in r]
    statuses: dict[str, int] = {}
    for r in done:
        statuses[r["status"]] = statuses.get(r["status"], 0) + 1
    secs = [r["seconds"] for r in done]
    return {
        "cases": len(done),
        "statuses": statuses,
        "false": sum(r["false"] for r in done),
        "false_cases": [r["case"] for r in done if r["false"]],
        "median_seconds": statistics.median(secs) if secs else None,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--n", type=int, default=60)
    ap.add_argument("--checkout", default=None, help="another checkout's mipnet (e.g. a worktree of a baseline)")
    ap.add_argument("--out", default=None, help="the JSON file (default: results/trust/minimal_perturbation.json)")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(args.seed, list(range(args.n)), run_case)
        return
    t0 = time.perf_counter()
    stream = worker_rows(__file__, ["--seed", str(args.seed), "--n", str(args.n)], args.checkout)
    head = next(stream)
    rows = []
    for row in stream:
        rows.append(row)
        if row.get("false"):
            print(f"case {row['case']}: {row['kind']} L{row['norm']} {row['status']}: {row['problems']}", flush=True)
    s = summarize(rows)
    who = args.checkout or "this checkout"
    out = Path(args.out or "results/trust/minimal_perturbation.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    meta = {"seed": args.seed, "n": args.n, "checkout": who, "mipnet": head["mipnet"], "time_limit": TIME_LIMIT}
    meta["wall_seconds"] = time.perf_counter() - t0
    out.write_text(json.dumps({"meta": meta, "summary": s, "rows": rows}, indent=1) + "\n")
    print(f"{who} seed {args.seed}: {s['cases']} cases, {s['statuses']}, FALSE {s['false']}, ", end="")
    print(f"median {s['median_seconds']:.3f} s")


if __name__ == "__main__":
    main()
