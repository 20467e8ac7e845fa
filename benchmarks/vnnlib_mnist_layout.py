"""Benchmark: VNN-COMP's MNIST property layout, this checkout against a baseline checkout, in the same run.

The competition's local-robustness files bound each of the 784 inputs by two asserts and put the unsafe region in a
disjunction over the 9 rival classes, ``(or (and (>= Y_j Y_c)) ...)``; in disjunctive normal form every one of the 9
disjuncts carries all 1568 box atoms. Net: a seeded 784-64-64-10 ReLU MLP (weights N(0, 1/fan_in), inputs in
[0, 1]); points: seeded uniform images; c: the class the net predicts there; eps in {0, 0.001, 0.005, 0.01}.
Each instance runs ``mipnet verify vnnlib NET.onnx PROP.vnnlib --time-limit T`` as a fresh process, once with this
checkout and once with ``--baseline DIR`` (another checkout, e.g. a git worktree of the parent commit), the order
alternating. Columns: verdict and wall seconds of each; verdicts must agree where both decide.

Competing tools on the same properties (``--competitors``): Gurobi ML (Gurobi's MILP on its own formulation of the
net, a complete method, the size-limited pip licence: the query of ``benchmarks/robustness/gurobi_ml_query.py``,
one budget of ``--time-limit`` for the build and the 9 rivals, one thread; wall measured around the whole query in
this process) and auto_LiRPA's alpha-CROWN (an incomplete bound: "holds" when every margin's lower bound
min Y_c - Y_j over the box is > 0, else "unknown"; its own venv through ``benchmarks/robustness/lirpa_worker.py``;
seconds of ``compute_bounds`` alone). Gurobi ML counts a tie Y_j = Y_c as robust where the VNN-LIB property counts
it unsafe; ties have probability 0 on these seeded nets. Output: results/verification/vnnlib_mnist_layout.md.

    python benchmarks/vnnlib_mnist_layout.py [--baseline /path/to/parent/checkout] [--competitors] \
        [--lirpa-python /work/bench-venvs/lirpa/bin/python] [--points 3] [--time-limit 30]
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


class Competitors:
    """Gurobi ML and auto_LiRPA's alpha-CROWN on the property's box (module docstring); a tool that cannot run is
    a column of "skipped" with its reason."""

    def __init__(self, net, lirpa_python: str | None) -> None:  # net: Network
        sys.path.insert(0, str(HERE))
        from robustness.competitors_summary import lirpa_python as find_lirpa
        from robustness.lirpa_client import Lirpa

        self.net, self.why = net, {}
        try:
            from robustness.gurobi_ml_query import torch_sequential

            self.torch_net = torch_sequential(net)
        except ImportError as e:
            self.torch_net, self.why["Gurobi ML"] = None, f"not installed ({e})"
        py, why = find_lirpa(lirpa_python)
        self.lirpa = Lirpa(py, net) if py else None
        if self.lirpa is not None and not self.lirpa.ready:
            why, self.lirpa = self.lirpa.error, None
        if self.lirpa is None:
            self.why["alpha-CROWN"] = why

    def query(self, x: np.ndarray, lo: np.ndarray, hi: np.ndarray, c: int, limit: float) -> dict[str, tuple]:
        from robustness.gurobi_ml_query import verify

        out: dict[str, tuple] = {}
        if self.torch_net is not None:
            t0 = time.perf_counter()
            r = verify(self.net, self.torch_net, x, lo, hi, c, limit, threads=1)
            out["Gurobi ML"] = (r["verdict"], time.perf_counter() - t0)
        if self.lirpa is not None:
            r = self.lirpa.query(x, lo, hi, c)["alpha-CROWN"]
            if "error" in r:
                out["alpha-CROWN"] = ("error", float("nan"))
            else:
                out["alpha-CROWN"] = ("holds" if min(r["lower"]) > 0 else "unknown", float(r["seconds"]))
        for tool in self.why:
            out[tool] = ("skipped", float("nan"))
        return out

    def close(self) -> None:
        if self.lirpa is not None:
            self.lirpa.close()


def decided(v: str) -> bool:
    return v in ("holds", "violated")


def main() -> None:
    from mipnet.io import save_model

    ap = argparse.ArgumentParser()
    ap.add_argument("--baseline", help="another checkout of mipnet (the parent commit)")
    ap.add_argument("--competitors", action="store_true", help="add Gurobi ML and auto_LiRPA's alpha-CROWN")
    ap.add_argument("--lirpa-python", default="/work/bench-venvs/lirpa/bin/python")
    ap.add_argument("--points", type=int, default=3)
    ap.add_argument("--time-limit", type=float, default=30.0)
    ap.add_argument("--out", default=str(OUT / "vnnlib_mnist_layout.md"))
    a = ap.parse_args()
    net = mnist_net()
    tools = ["current"] + (["baseline"] if a.baseline else [])
    comp = Competitors(net, a.lirpa_python) if a.competitors else None
    if comp is not None:
        tools += ["Gurobi ML", "alpha-CROWN"]
    rows: list[tuple[int, float, dict[str, tuple]]] = []
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
                order = [("current", ROOT)] + ([("baseline", Path(a.baseline))] if a.baseline else [])
                if k % 2:
                    order.reverse()
                k += 1
                got = {name: run(path, onnx, prop, a.time_limit) for name, path in order}
                if comp is not None:
                    got.update(comp.query(x, np.maximum(0.0, x - eps), np.minimum(1.0, x + eps), c, a.time_limit))
                rows.append((n, eps, got))
                print(n, eps, got, flush=True)
    if comp is not None:
        comp.close()
    complete = [t for t in tools if t != "alpha-CROWN"]
    agree = all(
        len({r[2][t][0] for t in complete if decided(r[2][t][0])}) <= 1
        and not (r[2].get("alpha-CROWN", ("",))[0] == "holds" and r[2]["current"][0] == "violated")
        for r in rows
    )
    baseline_cmd = " --baseline <parent checkout>" if a.baseline else ""
    comp_cmd = " --competitors" if comp is not None else ""
    lines = [
        "# VNN-COMP's MNIST layout (784 inputs, 1568 box asserts, 9 rival disjuncts)",
        "",
        f"`python benchmarks/vnnlib_mnist_layout.py{baseline_cmd}{comp_cmd} --points {a.points} "
        f"--time-limit {a.time_limit:g}`; net: seeded 784-64-64-10 ReLU MLP; each mipnet instance a fresh process"
        + (", this checkout and the baseline alternating" if a.baseline else "")
        + (
            "; Gurobi ML: the whole query (build and 9 rivals) in this process, one thread, the same limit;"
            " alpha-CROWN: auto_LiRPA 0.3's `compute_bounds` seconds (incomplete: holds or unknown)"
            if comp is not None
            else ""
        )
        + ".",
        "",
        "| point | eps | " + " | ".join(f"{t} | wall (s)" for t in tools) + " |",
        "|---|---|" + "---|---|" * len(tools),
    ]
    for n, eps, got in rows:
        lines.append(f"| {n} | {eps:g} | " + " | ".join(f"{got[t][0]} | {got[t][1]:.1f}" for t in tools) + " |")
    med = {t: float(np.nanmedian([r[2][t][1] for r in rows])) for t in tools}
    lines += [
        "",
        "Decided: " + ", ".join(f"{t} {sum(decided(r[2][t][0]) for r in rows)} of {len(rows)}" for t in tools),
    ]
    lines[-1] += (
        f"; verdicts agree where tools decide: {agree}. Median wall: "
        + ", ".join(
            f"{t} {med[t]:.1f} s" + ("" if t == "current" else f" (current / {t}: {med['current'] / med[t]:.2f})")
            for t in tools
        )
        + "."
    )
    if comp is not None:
        lines += [f"Skipped: {t}: {why}." for t, why in comp.why.items()]
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
