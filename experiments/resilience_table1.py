"""The seed paper's Table 1 question: how long does it take to decide "is the perturbation bound of
this input below delta" (local variant, L-inf, k = 1), with no heuristics, dataflow bounds only, and all
heuristics, in the same run?

Nets: 2x50 and 4x50 ReLU MLPs on the 8x8 digits (64 inputs in [0, 1]) and on the MNIST subset (784
inputs in [0, 1]), trained with torch. For one correctly classified test image per net, the gradient
search gives a perturbation radius r; the deltas are r x {0.3, 0.6, 0.9, 1.2} (below r the answer may
be either, which is where the proof is needed). Limits (reduced to keep the run near 10 min): 60 s per
instance with all heuristics (the target: every instance decided), 15 s without.
Output: results/resilience/table1.csv, table1_summary.json, table1_times.png.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _resilience_common import mlp, to_network, train, write_csv, write_json, write_png  # noqa: E402

from mipnet.datasets import load_digits, load_mnist_subset  # noqa: E402
from mipnet.verify.resilience import Heuristics, local_resilience  # noqa: E402
from mipnet.verify.search import search_perturbation  # noqa: E402

LIMITS = {"none": 15.0, "dataflow": 15.0, "all": 60.0}
FACTORS = [0.3, 0.6, 0.9, 1.2]


def _data(name: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
    ds = load_digits(scale=True) if name == "digits" else load_mnist_subset(scale=True)
    X, _ = ds.X_numeric()
    return np.asarray(X, float), ds.y.to_numpy().astype(int), ds.features


def main(report_only: bool = False) -> None:
    """Train, decide every instance, write the table; with ``report_only`` rebuild summary and figure from it."""
    if report_only:
        report(pd.read_csv(Path(__file__).resolve().parents[1] / "results" / "resilience" / "table1.csv"))
        return
    torch.set_num_threads(1)
    rows = []
    configs = {"none": Heuristics.none(), "dataflow": Heuristics.parse("dataflow"), "all": Heuristics(bound_time=0.2)}
    for dname in ("digits", "mnist"):
        X, y, names = _data(dname)
        rng = np.random.default_rng(0)
        perm = rng.permutation(len(y))
        tr, te = perm[: int(0.8 * len(y))], perm[int(0.8 * len(y)) :]
        for depth in (2, 4):
            model = mlp([X.shape[1]] + [50] * depth + [10])
            train(model, X[tr], y[tr], epochs=30 if dname == "digits" else 15, lr=2e-3)
            net = to_network(model, names, 0.0, 1.0, [str(c) for c in range(10)])
            acc = float((net.forward(X[te]).argmax(1) == y[te]).mean())
            x = next(X[i] for i in te if net.forward(X[i : i + 1]).argmax() == y[i])
            m = int(net.forward(x[None]).argmax())
            b = search_perturbation(net, x, m, 1, "inf")
            r = float(np.abs(b - x).max())
            print(f"{dname} {depth}x50: accuracy {acc:.3f}, search radius {r:.4f}", flush=True)
            for f in FACTORS:
                delta = round(f * r, 5)
                for label, heur in configs.items():
                    t0 = time.perf_counter()
                    res = local_resilience(
                        net, x, m, k=1, norm="inf", delta=delta, decide=True, heuristics=heur, time_limit=LIMITS[label]
                    )
                    rows.append(
                        {
                            "data": dname,
                            "net": f"{depth}x50",
                            "accuracy": acc,
                            "search_radius": r,
                            "delta": delta,
                            "heuristics": label,
                            "verdict": res.verdict,
                            "status": res.status,
                            "seconds": time.perf_counter() - t0,
                            "bounds_s": res.timings.get("bounds", 0.0),
                            "milp_s": res.timings.get("milp", 0.0),
                            "nodes": res.solver.get("nodes"),
                            "witness_ok": res.witness.get("ok"),
                            "limit": LIMITS[label],
                        }
                    )
                    print(rows[-1], flush=True)
    df = pd.DataFrame(rows)
    write_csv("resilience", "table1.csv", df)
    report(df)


def report(df: pd.DataFrame) -> None:
    decided = df[df.verdict != "unknown"]
    summary = {
        "decided": decided.groupby("heuristics").size().to_dict(),
        "instances": df.groupby("heuristics").size().to_dict(),
        "max_seconds_all": float(df[df.heuristics == "all"]["seconds"].max()),
        "all_decided_within_60s": bool((df[df.heuristics == "all"]["verdict"] != "unknown").all()),
        "mean_seconds": {
            f"{d} {n} {h}": float(v)
            for (d, n, h), v in df.groupby(["data", "net", "heuristics"])["seconds"].mean().items()
        },
        "limits": LIMITS,
        "norm": "inf",
        "k": 1,
        "solver": "highs",
        "verdict_conflicts": int(
            sum(len(set(g[g.verdict != "unknown"]["verdict"])) > 1 for _, g in df.groupby(["data", "net", "delta"]))
        ),
    }
    write_json("resilience", "table1_summary.json", summary)
    fig, ax = plt.subplots(figsize=(9, 4))
    keys = [f"{d} {n}\nd={dl:g}" for d, n, dl in df[["data", "net", "delta"]].drop_duplicates().itertuples(index=False)]
    width = 0.27
    for t, label in enumerate(LIMITS):
        g = df[df.heuristics == label]
        ax.bar(
            np.arange(len(g)) + (t - 1) * width,
            g["seconds"],
            width,
            label=label,
            hatch=["//" if v == "unknown" else "" for v in g["verdict"]],
        )
    ax.set_xticks(np.arange(len(keys)))
    ax.set_xticklabels(keys, fontsize=5, rotation=90)
    ax.set_yscale("log")
    ax.set_ylabel("seconds to decide (hatched: undecided at the limit)")
    ax.legend()
    fig.tight_layout()
    write_png("resilience", "table1_times.png", fig)


if __name__ == "__main__":
    main(report_only="--report-only" in sys.argv)
