"""Benchmark: VNN-COMP's MNIST property layout, this checkout against a baseline checkout, in the same run.

The competition's local-robustness files bound each of the 784 inputs by two asserts and put the unsafe region in a
disjunction over the 9 rival classes, ``(or (and (>= Y_j Y_c)) ...)``; in disjunctive normal form every one of the 9
disjuncts carries all 1568 box atoms. Net: a seeded 784-64-64-10 ReLU MLP (weights N(0, 1/fan_in), inputs in
[0, 1]); points: seeded uniform images; c: the class the net predicts there; eps in {0, 0.001, 0.005, 0.01}.
Each instance runs ``mipnet verify vnnlib NET.onnx PROP.vnnlib --time-limit T`` as a fresh process, once with this
checkout and once with ``--baseline DIR`` (another checkout, e.g. a git worktree of the parent commit), the order
alternating. Columns: verdict and wall seconds of each; verdicts must agree where both decide. Output:
results/verification/vnnlib_mnist_layout.md.

    python benchmarks/vnnlib_mnist_layout.py --baseline /path/to/parent/checkout [--points 3] [--time-limit 30]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = ROOT / "results" / "verification"
EPS = (0.0, 0.001, 0.005, 0.01)


def mnist_net(seed: int = 0):  # -> Network
    from mipnet.domain import Domain
    from mipnet.layers import Dense, ReLU
    from mipnet.network import Network

    rng = np.random.default_rng(seed)
    sizes = [784, 64, 64, 10]
    layers: list = []
    for k, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(Dense(rng.normal(size=(b, a)) / np.sqrt(a), rng.normal(size=b) * 0.1))
        if k < len(sizes) - 2:
            layers.append(ReLU())
    return Network(layers, domain=Domain.box(784, 0.0, 1.0))


def robustness_vnnlib(x: np.ndarray, c: int, eps: float, n_out: int = 10) -> str:
    """The competition's layout: declarations, two asserts per input, one disjunction over the rivals."""
    lines = [f"(declare-const X_{i} Real)" for i in range(x.size)]
    lines += [f"(declare-const Y_{j} Real)" for j in range(n_out)]
    for i, v in enumerate(x):
        lines.append(f"(assert (>= X_{i} {float(max(0.0, v - eps))!r}))")
        lines.append(f"(assert (<= X_{i} {float(min(1.0, v + eps))!r}))")
    rivals = " ".join(f"(and (>= Y_{j} Y_{c}))" for j in range(n_out) if j != c)
    lines.append(f"(assert (or {rivals}))")
    return "\n".join(lines) + "\n"


def run(checkout: Path, onnx: Path, prop: Path, limit: float) -> tuple[str, float]:
    env = dict(os.environ, PYTHONPATH=str(checkout), OPENBLAS_NUM_THREADS="1")
    entry = "import sys; from mipnet.entry import main; sys.argv[0] = 'mipnet'; main()"
    cmd = [sys.executable, "-c", entry, "verify", "vnnlib", str(onnx), str(prop), "--time-limit", str(limit)]
    t0 = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=str(checkout))
    wall = time.perf_counter() - t0
    word = (r.stdout.split() or ["error"])[0]
    return word, wall


def main() -> None:
    from mipnet.io import save_model

    ap = argparse.ArgumentParser()
    ap.add_argument("--baseline", required=True, help="another checkout of mipnet (the parent commit)")
    ap.add_argument("--points", type=int, default=3)
    ap.add_argument("--time-limit", type=float, default=30.0)
    ap.add_argument("--out", default=str(OUT / "vnnlib_mnist_layout.md"))
    a = ap.parse_args()
    net = mnist_net()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        onnx = Path(tmp) / "mnist_mlp.onnx"
        save_model(net, onnx)
        X = np.random.default_rng(1).uniform(0, 1, (a.points, 784))
        k = 0
        for n, x in enumerate(X):
            c = int(np.argmax(net.forward(x[None])[0]))
            for eps in EPS:
                prop = Path(tmp) / f"p{n}_{eps}.vnnlib"
                prop.write_text(robustness_vnnlib(x, c, eps))
                order = [("current", ROOT), ("baseline", Path(a.baseline))]
                if k % 2:
                    order.reverse()
                k += 1
                got = {name: run(path, onnx, prop, a.time_limit) for name, path in order}
                rows.append((n, eps, *got["current"], *got["baseline"]))
                print(n, eps, got, flush=True)
    agree = all(cv == bv for _, _, cv, _, bv, _ in rows if "unknown" not in (cv, bv) and "timeout" not in (cv, bv))
    cur = np.array([r[3] for r in rows])
    base = np.array([r[5] for r in rows])
    lines = [
        "# VNN-COMP's MNIST layout (784 inputs, 1568 box asserts, 9 rival disjuncts)",
        "",
        f"`python benchmarks/vnnlib_mnist_layout.py --baseline <parent checkout> --points {a.points} "
        f"--time-limit {a.time_limit:g}`; net: seeded 784-64-64-10 ReLU MLP; each instance a fresh process, this "
        "checkout and the baseline alternating.",
        "",
        "| point | eps | current | wall (s) | baseline | wall (s) |",
        "|---|---|---|---|---|---|",
    ]
    lines += [f"| {n} | {eps:g} | {cv} | {cw:.1f} | {bv} | {bw:.1f} |" for n, eps, cv, cw, bv, bw in rows]
    decided = lambda v: v in ("holds", "violated")  # noqa: E731
    lines += [
        "",
        f"Decided: current {sum(decided(r[2]) for r in rows)} of {len(rows)}, baseline "
        f"{sum(decided(r[4]) for r in rows)} of {len(rows)}; verdicts agree where both decide: {agree}. "
        f"Median wall: current {np.median(cur):.1f} s, baseline {np.median(base):.1f} s "
        f"(ratio {np.median(cur) / np.median(base):.2f}).",
    ]
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
