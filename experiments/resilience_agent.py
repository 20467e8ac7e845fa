"""Maximum resilience on an agent-style classifier (the seed paper's Table 2 trend).

A 27-15-4 ReLU net is trained on the synthetic sensor task (experiments/sensor_task.py). For every
action m and alpha in {1.1, 1.2, 1.5, 1.7} (k = 1, L1 and L-inf), the MILP gives Phi_m with all
heuristics (HiGHS, 30 s per value); the claim is that Phi_m grows with alpha. To measure the heuristics
(reduced to stay within ~10 min), the L1 values at alpha 1.1 and 1.7 are solved again with the paper's
heuristics only (no twin constraints), dataflow bounds only, and none, at 10 s per value.
Output: results/resilience/agent_*.
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
from sensor_task import ACTIONS, FEATURES, generate  # noqa: E402

from mipnet.io import load_model, save_model  # noqa: E402
from mipnet.verify.resilience import Heuristics, alpha_max, class_resilience  # noqa: E402

ALPHAS = [1.1, 1.2, 1.5, 1.7]
TIME_LIMIT = 30.0
COMPARE_LIMIT = 10.0


def main(report_only: bool = False) -> None:
    """Train, solve every value, write the table; with ``report_only`` rebuild summary and figures from it."""
    torch.set_num_threads(1)
    X, y = generate(6000, seed=0)
    Xte, yte = generate(2000, seed=1)
    model = mlp([27, 15, 4])
    train(model, X, y, epochs=60, lr=5e-3)
    net = to_network(model, FEATURES, 0.0, 1.0, ACTIONS)
    model_path = Path(__file__).resolve().parents[1] / "results" / "resilience" / "agent_27_15_4.json"
    if report_only:
        net = load_model(model_path)
    else:
        save_model(net, model_path)
    acc = float((net.forward(Xte).argmax(1) == yte).mean())
    print(f"agent net test accuracy {acc:.3f}")
    amax = {ACTIONS[m]: alpha_max(net, m, time_limit=30).to_dict() for m in range(4)}
    rows = []
    configs = {
        "all": Heuristics(),
        "paper": Heuristics.parse("dataflow,mip_bounds,priority,init"),
        "dataflow": Heuristics.parse("dataflow"),
        "none": Heuristics.none(),
    }
    runs = [(norm, m, alpha, "all") for norm in ("1", "inf") for m in range(4) for alpha in ALPHAS]
    runs += [
        ("1", m, alpha, label) for m in range(4) for alpha in (1.1, 1.7) for label in ("paper", "dataflow", "none")
    ]
    for norm, m, alpha, label in [] if report_only else runs:
        heur = configs[label]
        t0 = time.perf_counter()
        r = class_resilience(
            net,
            m,
            alpha=alpha,
            k=1,
            norm=norm,
            heuristics=heur,
            time_limit=TIME_LIMIT if label == "all" else COMPARE_LIMIT,
            samples=X,
        )
        rows.append(
            {
                "norm": norm,
                "class": ACTIONS[m],
                "alpha": alpha,
                "heuristics": label,
                "status": r.status,
                "phi": r.phi,
                "bound": r.bound,
                "gap": r.gap,
                "phi_init": r.phi_init,
                "witness_ok": r.witness.get("ok"),
                "seconds": time.perf_counter() - t0,
                "milp_seconds": r.timings.get("milp"),
                "n_binaries": r.n_binaries,
                "nodes": r.solver.get("nodes"),
            }
        )
        print(rows[-1], flush=True)
    if report_only:
        df = pd.read_csv(
            Path(__file__).resolve().parents[1] / "results" / "resilience" / "agent_phi.csv", dtype={"norm": str}
        )
    else:
        df = pd.DataFrame(rows)
        write_csv("resilience", "agent_phi.csv", df)
    allh = df[df.heuristics == "all"]
    trend = {}
    for (norm, cls), g in allh.groupby(["norm", "class"]):
        vals = g.sort_values("alpha")["phi"].to_numpy(dtype=float)
        ok = g["status"].eq("optimal").all()
        trend[f"{cls}/L{norm}"] = {
            "phi": vals.tolist(),
            "non_decreasing": bool(np.all(np.diff(vals) >= -1e-6)),
            "all_optimal": bool(ok),
        }
    summary = {
        "test_accuracy": acc,
        "alpha_max": amax,
        "trend": trend,
        "seconds_per_value": df.groupby("heuristics")["seconds"].describe().to_dict(),
        "proved_optimal": df[df.status == "optimal"].groupby("heuristics").size().to_dict(),
        "runs": df.groupby("heuristics").size().to_dict(),
        "time_limit": TIME_LIMIT,
        "solver": "highs",
        "k": 1,
    }
    write_json("resilience", "agent_summary.json", summary)
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    for ax, norm in zip(axes, ("1", "inf")):
        for cls, g in allh[allh.norm == norm].groupby("class"):
            g = g.sort_values("alpha")
            ax.plot(g["alpha"], g["phi"], marker="o", label=cls)
        ax.set_xlabel("alpha")
        ax.set_ylabel(f"Phi_m (L{norm})")
        ax.set_title(f"maximum resilience, L{norm}, k=1")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    write_png("resilience", "agent_phi_vs_alpha.png", fig)
    fig, ax = plt.subplots(figsize=(6, 3.8))
    cmp_rows = df[(df.norm == "1") & df.alpha.isin([1.1, 1.7])]
    for label in configs:
        g = cmp_rows[cmp_rows.heuristics == label]
        ax.plot(np.sort(g["seconds"].to_numpy()), np.arange(1, len(g) + 1), label=label)
    ax.set_xscale("log")
    ax.set_xlabel("seconds per Phi_m value")
    ax.set_ylabel("values finished (L1, alpha 1.1/1.7)")
    ax.set_title(f"time per value (limit {COMPARE_LIMIT:g} s except 'all')", fontsize=9)
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    write_png("resilience", "agent_time_by_heuristics.png", fig)


if __name__ == "__main__":
    main(report_only="--report-only" in sys.argv)
