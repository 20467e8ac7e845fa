"""Pattern search (mipnet.train.pattern_search) against the gradient surrogate it starts from, at 1000-4320 rows.

Instances (the split of experiments/dual_bound_strength.py: ``train_test_split(test_size=0.3,
random_state=1000)``, training rows sampled with random_state=0): COMPAS 1000, COMPAS full (4320), Adult 3000.
Sign class, 4 hidden units, l1 0.01, hinge margin 1, weight and bias bound 1, inputs standardised by the
training rows' mean and std (as the trainer). Baseline: ``fit_sign_network_best`` (2 restarts, seed 0);
then ``improve_by_patterns`` from its network with a budget of ``--budget`` seconds (one thread). Reported:
both objectives (numpy, on the training rows), their ratio, and both test accuracies (the whole test split)
with their ratio.

    python benchmarks/pattern_search.py --budget 60
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path
from typing import Any

import numpy as np

from mipnet.datasets import load
from mipnet.train.pattern_search import improve_by_patterns
from mipnet.train.surrogate import fit_sign_network_best, sign_objective

OUT = Path(__file__).resolve().parent.parent / "results" / "training" / "pattern_search.md"
INSTANCES = {"compas1000": ("compas", 1000), "compas_full": ("compas", None), "adult3000": ("adult", 3000)}
L1, MARGIN, HIDDEN = 0.01, 1.0, 4


def split(name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(X_train, t_train, X_test, t_test), standardised by the training rows, targets in {-1, +1}."""
    dataset, n = INSTANCES[name]
    data = load(dataset)
    tr, te = data.train_test_split(test_size=0.3, random_state=1000)
    if n is not None and n < tr.n_rows:
        tr = tr.sample(n, random_state=0)
    Xtr, Xte = tr.X_numeric()[0], te.X_numeric()[0]
    classes = sorted(set(tr.y.tolist()))
    mu, sd = Xtr.mean(axis=0), Xtr.std(axis=0)
    sd = np.where(sd > 1e-12, sd, 1.0)

    def t(y: Any) -> np.ndarray:
        return np.where(np.asarray(y) == classes[1], 1.0, -1.0)

    return (Xtr - mu) / sd, t(tr.y.to_numpy()), (Xte - mu) / sd, t(te.y.to_numpy())


def accuracy(w: list[tuple[np.ndarray, np.ndarray]], X: np.ndarray, t: np.ndarray) -> float:
    f = np.maximum(X @ w[0][0].T + w[0][1], 0.0) @ w[1][0][0] + w[1][1][0]
    return float(np.mean(np.where(f >= 0, 1.0, -1.0) == t))


def run(name: str, budget: float) -> dict[str, Any]:
    Xtr, ttr, Xte, tte = split(name)
    t0 = time.perf_counter()
    sur = fit_sign_network_best(Xtr, ttr, HIDDEN, l1=L1, margin=MARGIN)
    t_sur = time.perf_counter() - t0
    w0 = sur.weights()
    r = improve_by_patterns(
        Xtr, ttr, w0, l1=L1, margin=MARGIN, weight_bound=1.0, bias_bound=1.0, deadline=budget, seed=0
    )
    F0 = sign_objective(w0[0][0], w0[0][1], w0[1][0][0], float(w0[1][1][0]), Xtr, ttr, L1, MARGIN)
    w = r.weights
    F1 = sign_objective(w[0][0], w[0][1], w[1][0][0], float(w[1][1][0]), Xtr, ttr, L1, MARGIN)
    row = {
        "instance": name,
        "rows": Xtr.shape[0],
        "merged": r.info["merged_rows"],
        "d": Xtr.shape[1],
        "F_sur": F0,
        "F_ps": F1,
        "acc_sur": accuracy(w0, Xte, tte),
        "acc_ps": accuracy(w, Xte, tte),
        "t_sur": t_sur,
        "t_ps": r.info["seconds"],
        "build": r.info.get("build_seconds", float("nan")),
        "solves": r.info["lp_solves"],
        "rounds": r.info["rounds"],
        "stop": r.info["stop"],
        "kept": r.info["kept"],
        "units": f"{int(np.count_nonzero(w0[1][0]))} -> {int(np.count_nonzero(w[1][0]))}",
    }
    print(row, flush=True)
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--budget", type=float, default=60.0)
    ap.add_argument("--instances", default=",".join(INSTANCES))
    a = ap.parse_args()
    load_before = os.getloadavg()
    rows = [run(n, a.budget) for n in a.instances.split(",")]
    lines = [
        "# Pattern search vs the gradient surrogate (sign class, 4 hidden, l1 0.01, margin 1)",
        "",
        f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}: `python benchmarks/pattern_search.py "
        f"--budget {a.budget:g}`, one seed (0), one thread, {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} cores **shared with other jobs** (load average {load_before[0]:.1f} before, "
        f"{os.getloadavg()[0]:.1f} after): seconds are inflated and vary between runs.",
        "",
        "F = (1/N) sum hinge + l1 (sum|W| + sum|v|) recomputed with numpy on the training rows; accuracy on the",
        "whole test split (30 % of the data set). Ratios: pattern search / surrogate (F: lower is better).",
        "",
        "| instance | rows (merged) | d | F surrogate | F pattern search | F ratio | test acc surrogate |"
        " test acc search | acc ratio | units | surrogate s | search s (LP build s) | LP solves | rounds | stop |"
        " moves kept |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        kept = ", ".join(f"{k} {v}" for k, v in r["kept"].items()) or "none"
        lines.append(
            f"| {r['instance']} | {r['rows']} ({r['merged']}) | {r['d']} | {r['F_sur']:.6f} | {r['F_ps']:.6f} | "
            f"{r['F_ps'] / r['F_sur']:.4f} | {r['acc_sur']:.4f} | {r['acc_ps']:.4f} | "
            f"{r['acc_ps'] / r['acc_sur']:.4f} | {r['units']} | {r['t_sur']:.1f} | "
            f"{r['t_ps']:.1f} ({r['build']:.2f}) | {r['solves']} | {r['rounds']} | {r['stop']} | {kept} |"
        )
    OUT.parent.mkdir(parents=True, exist_ok=True)
    text = "\n".join(lines) + "\n"
    if OUT.exists() and "\n## Notes" in OUT.read_text():  # keep the hand-written notes below the table
        text += "\n## Notes" + OUT.read_text().split("\n## Notes", 1)[1]
    OUT.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
