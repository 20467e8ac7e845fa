"""The certificate of the sign class with the linear term (and with domain constraints): the dual bound of
:mod:`mipnet.train.dual_bound.linear_part` against the previous code (no dual bound there), same run, same splits.

Each fit runs in a child process whose ``PYTHONPATH`` is this checkout (``current``) or ``--baseline`` (a checkout
of the previous commit, e.g. ``git worktree add --detach ../base <rev>``), on the interpretable frontier's splits
(:func:`interpretable_frontier.split`), with the frontier's settings (``MIPNetClassifier``, ``threads=1``).
Columns: proved gap, bound, its source, incumbent, test accuracy, wall. Writes ``--out``.json and .md.

    python benchmarks/linear_term_bound.py --baseline ../base --datasets compas,breast_cancer,adult --seeds 0,1 \\
        --time-limit 30 --out results/training/linear_term_bound
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

#: (name, hidden units, linear term, l1, constraint): the frontier's linear-term rows and one constrained fit
CONFIGS: list[tuple[str, int, bool, float, str | None]] = [
    ("linear + 4 hidden", 4, True, 0.03, None),
    ("linear + 1 hidden", 1, True, 0.03, None),
    ("4 hidden, budget 3 features", 4, False, 0.03, "budget3"),
]

CHILD = r"""
import json, sys, time
sys.path.insert(0, {bench!r})
import numpy as np
import mipnet
from interpretable_frontier import split
from mipnet.train.estimators import MIPNetClassifier
from mipnet.train.constraints import FeatureBudget
a = json.loads(sys.argv[1])
Xtr, ytr, Xte, yte, _ = split(a["dataset"], a["n"], a["seed"])
cons = [FeatureBudget(3)] if a["constraint"] == "budget3" else None
t0 = time.perf_counter()
m = MIPNetClassifier((a["hidden"],), l1=a["l1"], linear_term=a["linear"], constraints=cons, time_limit=a["limit"],
                     random_state=a["seed"], threads=1).fit(Xtr, ytr)
c = m.certificate_
gap = None if c.gap is None or not np.isfinite(c.gap) else float(c.gap)
print("RESULT " + json.dumps(dict(gap=gap, bound=c.bound, incumbent=c.incumbent, source=c.bound_source,
      status=c.status, code=mipnet.__file__, acc=float(np.mean(m.predict(Xte) == yte)), wall=time.perf_counter() - t0)))
"""


def run_fit(code: Path, args: dict[str, Any], timeout: float) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(code), "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    src = CHILD.format(bench=str(HERE))
    try:
        p = subprocess.run(
            [sys.executable, "-c", src, json.dumps(args)],
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=tempfile.gettempdir(),  # not this checkout: the child imports mipnet from its PYTHONPATH only
        )
    except subprocess.TimeoutExpired:
        return {"error": f"no result within {timeout:.0f} s"}
    for line in p.stdout.splitlines():
        if line.startswith("RESULT "):
            out: dict[str, Any] = json.loads(line[7:])
            return out
    return {"error": (p.stderr.strip().splitlines() or ["no output"])[-1][:300]}


def fmt(x: Any, pct: bool = False) -> str:
    if x is None:
        return "none"
    return f"{100 * x:.1f} %" if pct else f"{x:.4g}"


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--baseline", required=True, help="a checkout of the previous code (its PYTHONPATH)")
    ap.add_argument("--datasets", default="compas,breast_cancer,adult")
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--seeds", default="0,1")
    ap.add_argument("--time-limit", type=float, default=30.0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--out", default="results/training/linear_term_bound")
    a = ap.parse_args(argv)
    if a.time_limit <= 0 or a.workers < 1:
        ap.error("--time-limit must be > 0 and --workers >= 1")
    base = Path(a.baseline).resolve()
    if not (base / "mipnet" / "__init__.py").is_file():
        ap.error(f"--baseline {base} is not a checkout of mipnet")
    jobs = []
    for ds in [d for d in a.datasets.split(",") if d]:
        for seed in [int(s) for s in a.seeds.split(",") if s.strip()]:
            for name, hidden, linear, l1, cons in CONFIGS:
                for version, code in (("current", ROOT), ("previous", base)):
                    args = dict(dataset=ds, n=a.n, seed=seed, hidden=hidden, linear=linear, l1=l1, constraint=cons)
                    args["limit"] = a.time_limit
                    jobs.append((version, code, name, args))
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())

    def one(job: tuple[str, Path, str, dict[str, Any]]) -> dict[str, Any]:
        version, code, name, args = job
        r = run_fit(code, args, timeout=3 * a.time_limit + 120)
        row = {"version": version, "config": name, **args, **r}
        print(json.dumps(row), flush=True)
        return row

    with ThreadPoolExecutor(a.workers) as ex:
        rows = list(ex.map(one, jobs))
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".json.tmp")
    tmp.write_text(json.dumps({"started": started, "argv": sys.argv[1:], "rows": rows}, indent=1))
    tmp.replace(out.with_suffix(".json"))
    lines = [
        f"Run {started}: `python benchmarks/linear_term_bound.py {' '.join(sys.argv[1:])}`",
        "",
        "| data set | seed | config | gap current / previous | bound current / previous | source (current) "
        "| incumbent current / previous | test acc current / previous | wall current / previous |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    key = lambda r: (r["dataset"], r["seed"], r["config"])  # noqa: E731
    by = {(key(r), r["version"]): r for r in rows}
    for k in sorted({key(r) for r in rows}):
        c, p = by.get((k, "current"), {}), by.get((k, "previous"), {})
        if "error" in c or "error" in p:
            lines.append(f"| {k[0]} | {k[1]} | {k[2]} | error: {c.get('error') or p.get('error')} | | | | | |")
            continue
        lines.append(
            f"| {k[0]} | {k[1]} | {k[2]} | {fmt(c.get('gap'), True)} / {fmt(p.get('gap'), True)} "
            f"| {fmt(c.get('bound'))} / {fmt(p.get('bound'))} | {c.get('source')} "
            f"| {fmt(c.get('incumbent'))} / {fmt(p.get('incumbent'))} | {fmt(c.get('acc'))} / {fmt(p.get('acc'))} "
            f"| {fmt(c.get('wall'))} / {fmt(p.get('wall'))} |"
        )
    tmp = out.with_suffix(".md.tmp")
    tmp.write_text("\n".join(lines) + "\n")
    tmp.replace(out.with_suffix(".md"))


if __name__ == "__main__":
    main()
