"""Benchmark: L-inf robustness of MLPs (784-50-50-10 on the MNIST subset, 64-50-50-10 on 8x8 digits).

For each model, test image and eps, in the same run:
  (a) mipnet: ``verify_sample`` (one MILP per image: max over rivals by binaries, rivals pruned by
      the output bounds, early stop) with each bound method given by ``--methods``;
  (b) the plain baseline: interval big-M bounds, one MILP per rival class k (min z_c - z_k), every
      MILP solved to optimality (no early stop); the image is robust iff every minimum is > 0.
Both get the same per-image time budget. Output: results/robustness/runs.csv (one row per image and
method), results/robustness/summary.csv (median/max time and verdict counts) and summary.md.

Models are trained once with a fixed seed (torch, Adam, 8 epochs) and saved to benchmarks/models/;
later runs load them.

    python benchmarks/robustness_mlp.py [--images 20] [--eps 0.02 0.05 0.1] [--methods interval lp mip]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyomo.environ as pyo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mipnet.bounds import interval_bounds  # noqa: E402
from mipnet.datasets import load_digits, load_mnist_subset  # noqa: E402
from mipnet.domain import Domain  # noqa: E402
from mipnet.encode import encode_network, input_terms  # noqa: E402
from mipnet.io import load_model, save_model  # noqa: E402
from mipnet.layers import Dense, ReLU  # noqa: E402
from mipnet.network import Network  # noqa: E402
from mipnet.solve import solve  # noqa: E402
from mipnet.verify.robustness import ball_box, verify_sample  # noqa: E402

MODELS = ROOT / "benchmarks" / "models"
OUT = ROOT / "results" / "robustness"
SEED = 0


def _data(name: str) -> tuple[np.ndarray, np.ndarray]:
    ds = load_mnist_subset(scale=True) if name == "mnist" else load_digits(scale=True)
    X, _ = ds.X_numeric()
    y = ds.y.to_numpy().astype(int)
    return X.astype(np.float64), y


def _split(n: int) -> tuple[np.ndarray, np.ndarray]:
    perm = np.random.default_rng(SEED).permutation(n)
    n_test = n // 5
    return perm[n_test:], perm[:n_test]


def train(name: str) -> Network:
    """A 3-layer ReLU MLP (n_in-50-50-10), torch with a fixed seed; saved as native JSON."""
    import torch

    X, y = _data(name)
    tr, te = _split(len(y))
    torch.manual_seed(SEED)
    n_in = X.shape[1]
    model = torch.nn.Sequential(
        torch.nn.Linear(n_in, 50), torch.nn.ReLU(), torch.nn.Linear(50, 50), torch.nn.ReLU(), torch.nn.Linear(50, 10)
    )
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    Xt, yt = torch.tensor(X[tr], dtype=torch.float32), torch.tensor(y[tr])
    g = torch.Generator().manual_seed(SEED)
    for _ in range(30 if name == "digits" else 15):
        for idx in torch.randperm(len(yt), generator=g).split(64):
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(Xt[idx]), yt[idx]).backward()
            opt.step()
    lin = [m for m in model if isinstance(m, torch.nn.Linear)]
    layers = []
    for i, m in enumerate(lin):
        layers.append(Dense(m.weight.detach().double().numpy(), m.bias.detach().double().numpy()))
        if i < len(lin) - 1:
            layers.append(ReLU())
    shape = (1, 28, 28) if name == "mnist" else (1, 8, 8)
    net = Network(
        layers,
        domain=Domain.box(n_in, 0.0, 1.0),
        input_shape=(n_in,),
        class_names=[str(d) for d in range(10)],
        metadata={"trained_by": "benchmarks/robustness_mlp.py", "seed": SEED, "image_shape": list(shape)},
    )
    acc = float(np.mean(net.predict_index(net.forward(X[te])) == y[te]))
    net.metadata["test_accuracy"] = acc
    return net


def get_model(name: str) -> Network:
    path = MODELS / f"{name}_mlp_50_50.json"
    if path.exists():
        return load_model(path)
    MODELS.mkdir(parents=True, exist_ok=True)
    net = train(name)
    save_model(net, path)
    return net


def baseline(net: Network, x: np.ndarray, eps: float, c: int, time_limit: float) -> dict:
    """Interval big-M, one MILP per rival class k: min z_c - z_k over the ball, each to optimality."""
    t0 = time.perf_counter()
    lo, hi = ball_box(net, x, eps, "inf")
    bnds = interval_bounds(net, lo, hi)
    dom = Domain(net.domain.names, lo, hi)
    worst, verdict, nodes = np.inf, "holds", 0
    for k in range(net.n_outputs):
        if k == c:
            continue
        left = time_limit - (time.perf_counter() - t0)
        if left <= 0:
            verdict = "unknown"
            break
        m = pyo.ConcreteModel()
        xin = input_terms(m, dom)
        enc = encode_network(m, net, xin, bounds=bnds)
        z = enc.outputs.expr
        m.obj = pyo.Objective(expr=z[c] - z[k], sense=pyo.minimize)
        r = solve(m, "highs", time_limit=left, threads=1)
        nodes += r.nodes or 0
        if r.status == "optimal":
            worst = min(worst, float(r.incumbent))
        elif r.status != "infeasible":
            verdict = "unknown"
            if r.has_solution and r.incumbent <= 0:
                worst = min(worst, float(r.incumbent))
            break
    if verdict != "unknown" or worst <= 0:
        verdict = "holds" if worst > 0 else "violated"
    return {"verdict": verdict, "time": time.perf_counter() - t0, "margin": worst, "nodes": nodes}


def run(args: argparse.Namespace, sink: Path | None = None) -> pd.DataFrame:
    rows: list[dict] = []
    for name in args.datasets:
        net = get_model(name)
        X, y = _data(name)
        _, te = _split(len(y))
        idx = te[: args.images]
        print(f"{name}: {net!r} test accuracy {net.metadata.get('test_accuracy', float('nan')):.3f}", flush=True)
        for eps in args.eps:
            for j, i in enumerate(idx):
                x = X[i]
                c = int(net.predict_index(net.forward(x[None]))[0])
                for meth in args.methods:
                    r = verify_sample(
                        net,
                        x,
                        eps,
                        "inf",
                        solver="highs",
                        time_limit=args.time_limit,
                        bounds=meth,
                        threads=1,
                        index=int(i),
                    )
                    rows.append(
                        {
                            "model": name,
                            "eps": eps,
                            "image": int(i),
                            "method": f"mipnet[{meth}]",
                            "verdict": r.verdict,
                            "time": r.time,
                            "bounds_time": r.bounds_time,
                            "n_binaries": r.n_binaries,
                            "n_rivals": r.n_rivals,
                            "nodes": r.nodes,
                        }
                    )
                if not args.no_baseline and j < args.baseline_images and eps in args.baseline_eps:
                    b = baseline(net, x, eps, c, args.baseline_limit)
                    rows.append(
                        {
                            "model": name,
                            "eps": eps,
                            "image": int(i),
                            "method": "baseline",
                            "verdict": b["verdict"],
                            "time": b["time"],
                            "bounds_time": 0.0,
                            "n_binaries": None,
                            "n_rivals": net.n_outputs - 1,
                            "nodes": b["nodes"],
                        }
                    )
                if sink is not None:  # keep partial results of a long run
                    pd.DataFrame(rows).to_csv(sink, index=False)
                last = [r for r in rows if r["image"] == int(i) and r["eps"] == eps and r["model"] == name]
                print(
                    f"  eps={eps} img={i}: "
                    + ", ".join(f"{r['method']}={r['verdict']} {r['time']:.2f}s" for r in last),
                    flush=True,
                )
    return pd.DataFrame(rows)


def summarise(df: pd.DataFrame) -> pd.DataFrame:
    g = df.groupby(["model", "eps", "method"])
    s = (
        g["time"]
        .agg(["count", "median", "max"])
        .rename(columns={"count": "images", "median": "median_s", "max": "max_s"})
    )
    for v in ("holds", "violated", "unknown"):
        s[v] = g["verdict"].apply(lambda col, v=v: int((col == v).sum()))
    return s.reset_index()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", nargs="+", default=["digits", "mnist"])
    ap.add_argument("--images", type=int, default=20)
    ap.add_argument("--baseline-images", type=int, default=20)
    ap.add_argument("--eps", type=float, nargs="+", default=[0.02, 0.05, 0.1])
    ap.add_argument("--methods", nargs="+", default=["lp"])
    ap.add_argument("--time-limit", type=float, default=30.0)
    ap.add_argument("--baseline-limit", type=float, default=120.0)
    ap.add_argument("--no-baseline", action="store_true")
    ap.add_argument("--baseline-eps", type=float, nargs="+", default=[0.02, 0.05, 0.1])
    ap.add_argument("--tag", default="")
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    tag = f"_{args.tag}" if args.tag else ""
    df = run(args, OUT / f"runs{tag}.csv")
    df.to_csv(OUT / f"runs{tag}.csv", index=False)
    s = summarise(df)
    s.to_csv(OUT / f"summary{tag}.csv", index=False)
    print(s.to_string(index=False))


if __name__ == "__main__":
    main()
