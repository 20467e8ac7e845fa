"""The ReLU-split tree's effect, from one run of ``benchmarks/robustness_competitors.py --before milp``.

    python benchmarks/robustness/relu_split_summary.py DIR     # DIR holds that run's competitors.csv / .json

Per model and eps, on the *hard robust* queries (mipnet and Gurobi ML say holds, neither CROWN nor alpha-CROWN of
auto_LiRPA proves it) and on all queries: the median per-query ratio mipnet / Gurobi ML (target <= 0.5), the same
for the MILP path (the "mipnet_before" column of a ``--before milp`` run: ``verify_sample(..., relu_split=False)``),
the median per-query ratio new / MILP path, and which stage decided mipnet's hard queries. Verdicts of mipnet and
its MILP path must agree wherever both decide (a disagreement is printed loudly). Markdown on stdout.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd


def wide(df: pd.DataFrame) -> pd.DataFrame:
    """One row per query, columns verdict_<tool>, seconds_<tool>, detail_<tool>."""
    key = ["model", "eps", "image"]
    w = df.pivot_table(index=key, columns="tool", values=["verdict", "seconds", "detail"], aggfunc="first")
    w.columns = [f"{a}_{b}" for a, b in w.columns]
    return w.reset_index()


def _med(x: pd.Series) -> str:
    x = x.dropna()
    return "-" if x.empty else f"{float(np.median(x)):.2f} ({float(x.min()):.2f}-{float(x.max()):.2f})"


def summary(w: pd.DataFrame) -> list[str]:
    """The markdown table (module docstring)."""
    has_lirpa = "verdict_alpha_crown" in w
    lines = [
        "| model | eps | hard robust n | mipnet / Gurobi ML, hard robust: median (range) | MILP path / Gurobi ML, "
        "hard robust | new / MILP path, hard robust | new / MILP path, all decided | decided by (hard robust) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for (model, eps), g in w.groupby(["model", "eps"], sort=False):
        robust = (g.verdict_mipnet == "holds") & (g.verdict_gurobi_ml == "holds")
        hard = robust.copy()
        if has_lirpa:
            hard &= (g.verdict_crown != "holds") & (g.verdict_alpha_crown != "holds")
        h = g[hard]
        decided = g[(g.verdict_mipnet != "unknown") & (g.verdict_mipnet_before != "unknown")]
        provers = h.detail_mipnet.value_counts().to_dict() if not h.empty else {}
        lines.append(
            f"| {model} | {eps:g} | {len(h)} | {_med(h.seconds_mipnet / h.seconds_gurobi_ml)} | "
            f"{_med(h.seconds_mipnet_before / h.seconds_gurobi_ml)} | "
            f"{_med(h.seconds_mipnet / h.seconds_mipnet_before)} | "
            f"{_med(decided.seconds_mipnet / decided.seconds_mipnet_before)} | "
            + (", ".join(f"{k} {v}" for k, v in provers.items()) or "-")
            + " |"
        )
    return lines


def disagreements(w: pd.DataFrame) -> pd.DataFrame:
    both = w[w.verdict_mipnet.isin(["holds", "violated"]) & w.verdict_mipnet_before.isin(["holds", "violated"])]
    return both[both.verdict_mipnet != both.verdict_mipnet_before]


def main(argv: list[str]) -> None:
    out = Path(argv[0])
    df = pd.read_csv(out / "competitors.csv")
    meta = json.loads((out / "competitors.json").read_text())
    w = wide(df)
    if "verdict_mipnet_before" not in w:
        raise SystemExit("the run has no 'mipnet_before' column: run it with --before milp")
    print(f"Run: `{meta['command']}` on {meta['date']}; {meta['machine']}; load average {meta['load_start'][0]:.2f}")
    print(f"at the start, {meta['load_end'][0]:.2f} at the end. MILP path: {meta.get('before')}.\n")
    print("\n".join(summary(w)))
    bad = disagreements(w)
    print("\nVerdicts of mipnet and its MILP path: " + ("all agree" if bad.empty else f"**{len(bad)} DISAGREE**"))
    if not bad.empty:
        print(bad.to_string(index=False))


if __name__ == "__main__":
    main(sys.argv[1:])
