"""Benchmark: variants of mipnet's MILP stage on the hard robust queries of the competitors benchmark.

The queries: those of ``results/robustness/competitors.csv`` (``benchmarks/robustness_competitors.py``) that both
complete tools (mipnet, Gurobi ML) prove robust and neither CROWN nor alpha-CROWN (auto_LiRPA) proves, i.e. the
rule of ``competitors_summary.hard_easy`` (the "hard robust" column). Each variant is ``verify_sample`` with the
default pipeline up to the MILP and one change at the MILP stage; per query the variants take turns in an order
rotating from query to query, ``--repeat`` times. Written: results/robustness/hard_milp.{csv,md}.

    python benchmarks/robustness/hard_milp.py [--variants base opts ...] [--repeat 1] [--time-limit 60]
"""

from __future__ import annotations

import argparse
import datetime as _dt
import os
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from robustness_mlp import _data, get_model  # noqa: E402

from mipnet.verify.robustness import verify_sample  # noqa: E402
from robustness.competitors_summary import _is, hard_easy, wide  # noqa: E402

OUT = ROOT / "results" / "robustness"
#: variant -> keyword arguments of verify_sample ("base": the MILP stage as it was, plain HiGHS options)
VARIANTS: dict[str, dict[str, Any]] = {
    "base": {"milp_options": {}, "tighten": "none"},
    "lp_bounds": {"milp_options": {}, "tighten": "none", "bounds": "lp"},
    "opts": {"tighten": "none"},
    "opts_last": {"tighten": "last"},
    "opts_all": {"tighten": "all"},
    "opts_last20": {"tighten": "last:20"},
    "opts_split": {"tighten": "none", "split": True},
    "opts_last_split": {"tighten": "last", "split": True},
    "opts_all_split": {"tighten": "all", "split": True},
}


def hard_queries(csv: Path) -> pd.DataFrame:
    """(model, eps, image) of the hard robust queries of a competitors run, with its Gurobi ML seconds."""
    df = pd.read_csv(csv)
    out = []
    for _, g in df.groupby(["model", "eps"], sort=False):
        w = wide(g)
        hard = _is(w, "mipnet", "holds") & _is(w, "gurobi_ml", "holds") & ~hard_easy(w)
        out.append(w[hard][["model", "eps", "image", "seconds_gurobi_ml", "seconds_mipnet"]])
    return pd.concat(out, ignore_index=True)


def main(argv: list[str] | None = None) -> pd.DataFrame:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--csv", default=str(OUT / "competitors.csv"))
    ap.add_argument("--variants", nargs="+", default=list(VARIANTS))
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--out", default=str(OUT / "hard_milp"))
    a = ap.parse_args(argv)
    q = hard_queries(Path(a.csv))
    load0 = os.getloadavg()
    rows: list[dict[str, Any]] = []
    nets: dict[str, Any] = {}
    t_start = time.perf_counter()
    turn = 0
    for rep in range(a.repeat):
        for _, r in q.iterrows():
            if r.model not in nets:
                nets[r.model] = (get_model(r.model), _data(r.model)[0])
            net, X = nets[r.model]
            order = a.variants[turn % len(a.variants) :] + a.variants[: turn % len(a.variants)]
            turn += 1
            for v in order:
                res = verify_sample(
                    net, X[int(r.image)], float(r.eps), "inf", time_limit=a.time_limit, threads=1, **VARIANTS[v]
                )
                rows.append(
                    {
                        "model": r.model,
                        "eps": r.eps,
                        "image": int(r.image),
                        "repeat": rep,
                        "variant": v,
                        "verdict": res.verdict,
                        "seconds": res.time,
                        "milp_s": res.seconds.get("milp", np.nan),
                        "tighten_s": res.seconds.get("tighten", 0.0),
                        "binaries": res.n_binaries,
                        "rivals": res.n_rivals,
                        "nodes": res.nodes,
                        "prover": res.prover,
                        "gurobi_ml_s": r.seconds_gurobi_ml,
                    }
                )
                print(f"{r.model} {r.eps} {int(r.image)} {v}: {res.verdict} {res.time:.2f}s", flush=True)
    df = pd.DataFrame(rows)
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(out.with_suffix(".csv"), index=False)
    text = report(df, a, load0, os.getloadavg(), time.perf_counter() - t_start, " ".join(argv or sys.argv[1:]))
    out.with_suffix(".md").write_text(text)
    print(text)
    return df


def report(df: pd.DataFrame, a: argparse.Namespace, load0: Any, load1: Any, wall: float, args: str) -> str:
    """Per model / eps and variant: verdicts, median seconds, median per-query ratio to base and to Gurobi ML."""
    when = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    m = df.groupby(["model", "eps", "image", "variant"], sort=False).seconds.median().unstack("variant")
    g = df.groupby(["model", "eps", "image"], sort=False).gurobi_ml_s.first()
    lines = [
        "# mipnet's MILP stage on the hard robust queries: variants, same run",
        "",
        f"`python benchmarks/robustness/hard_milp.py {args}` on {when}; {os.cpu_count()} cores shared with other"
        f" work (load average {load0[0]:.2f} at the start, {load1[0]:.2f} at the end), {wall:.0f} s wall;"
        f" {a.repeat} repeat(s), variants in an order rotating per query, one thread, time limit {a.time_limit:g} s.",
        "Queries: the hard robust ones of results/robustness/competitors.csv (both complete tools say robust,"
        " neither CROWN nor alpha-CROWN proves it). Gurobi ML seconds are that run's (another run: indicative).",
        "",
        "| model | eps | variant | verdicts | median s | median ratio to base | median ratio to Gurobi ML (its run) |",
        "|---|---|---|---|---|---|---|",
    ]
    for (model, eps), mm in m.groupby(level=[0, 1], sort=False):
        gg = g.loc[mm.index]
        for v in [c for c in a.variants if c in mm]:
            verd = df[(df.model == model) & (df.eps == eps) & (df.variant == v)].verdict.value_counts().to_dict()
            rb = np.median(mm[v] / mm["base"]) if "base" in mm else np.nan
            rg = np.median(mm[v].to_numpy() / gg.to_numpy())
            lines.append(f"| {model} | {eps:g} | {v} | {verd} | {mm[v].median():.2f} | {rb:.2f} | {rg:.2f} |")
    lines += ["", "Variants: " + "; ".join(f"{k}: {VARIANTS[k]}" for k in a.variants), ""]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
