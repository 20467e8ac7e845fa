"""Benchmark: L-inf robustness verification of a small digits CNN (conv, max pool, dense), end to end.

A torch ``Conv2d(1, 4, 3) -> ReLU -> MaxPool2d(2) -> Flatten -> Linear(36, 10)`` is trained on the
8x8 digits (pixels in [0, 1], seed 0, Adam, 200 full-batch steps on 1000 images), imported with
:func:`mipnet.io.torch_io.from_torch` (domain [0, 1]^64) and verified on 20 held-out images for each
eps with :func:`mipnet.verify.robustness.verify_sample` (LP-tightened bounds, early stop, gradient
attack first). Every ``violated`` verdict's counterexample is re-run through torch itself and must
change torch's prediction while staying in the ball.

Output: results/conv/robustness.csv (one row per image and eps) and robustness.md (median and max
time per image, verdict counts).

    python benchmarks/conv_robustness.py [--images 20] [--eps 0.02 0.05] [--time-limit 60]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mipnet.datasets import load_digits  # noqa: E402
from mipnet.domain import Domain  # noqa: E402
from mipnet.io.torch_io import from_torch  # noqa: E402
from mipnet.verify.robustness import verify_sample  # noqa: E402

OUT = ROOT / "results" / "conv"


def train_cnn(X: np.ndarray, y: np.ndarray, seed: int = 0):
    import torch

    torch.manual_seed(seed)
    model = torch.nn.Sequential(
        torch.nn.Conv2d(1, 4, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2), torch.nn.Flatten(), torch.nn.Linear(36, 10)
    )
    Xt = torch.tensor(X.reshape(-1, 1, 8, 8), dtype=torch.float32)
    yt = torch.tensor(y, dtype=torch.long)
    opt = torch.optim.Adam(model.parameters(), lr=0.02)
    for _ in range(200):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(Xt), yt).backward()
        opt.step()
    return model.eval()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--images", type=int, default=20)
    ap.add_argument("--eps", type=float, nargs="+", default=[0.02, 0.05])
    ap.add_argument("--time-limit", type=float, default=60.0)
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    import torch

    d = load_digits(scale=True)
    X, _ = d.X_numeric()
    y = d.y.to_numpy().astype(int)
    model = train_cnn(X[:1000], y[:1000])
    net = from_torch(model, (1, 8, 8), domain=Domain.box(64, 0.0, 1.0), class_names=list(range(10)))
    test = np.arange(1000, 1000 + args.images)
    acc = float(np.mean(net.predict(X[1000:]).astype(int) == y[1000:]))
    print(f"CNN test accuracy {100 * acc:.1f} % on {len(y) - 1000} held-out digits", flush=True)
    rows = []
    for eps in args.eps:
        for i in test:
            r = verify_sample(net, X[i], eps, "inf", cls=int(y[i]), time_limit=args.time_limit, bounds="lp")
            torch_ok = None
            if r.verdict == "violated" and r.counterexample is not None:
                xc = r.counterexample
                with torch.no_grad():
                    k = int(model(torch.tensor(xc.reshape(1, 1, 8, 8), dtype=torch.float32)).argmax())
                in_ball = bool(np.max(np.abs(xc - X[i])) <= eps + 1e-9 and xc.min() >= 0 and xc.max() <= 1)
                torch_ok = bool(k != int(y[i]) and in_ball)
            rows.append(
                {
                    "eps": eps,
                    "image": int(i),
                    "label": int(y[i]),
                    "verdict": r.verdict,
                    "status": r.status,
                    "time_s": r.time,
                    "bounds_time_s": r.bounds_time,
                    "solve_time_s": r.solve_time,
                    "binaries": r.n_binaries,
                    "rivals": r.n_rivals,
                    "counterexample_rechecked_torch": torch_ok,
                }
            )
            print(rows[-1], flush=True)
            pd.DataFrame(rows).to_csv(OUT / "robustness.csv", index=False)
    df = pd.DataFrame(rows)
    lines = [
        f"# Robustness of a digits CNN (Conv2d 1->4 3x3, ReLU, MaxPool 2, Linear 36->10; test acc "
        f"{100 * acc:.1f} %), {args.images} test images, L-inf, HiGHS, {args.time_limit:g} s per image",
        "",
        "| eps | holds | violated | unknown | median time (s) | max time (s) | counterexamples confirmed by torch |",
        "|---|---|---|---|---|---|---|",
    ]
    for eps, g in df.groupby("eps"):
        v = g[g.verdict == "violated"]
        lines.append(
            f"| {eps:g} | {(g.verdict == 'holds').sum()} | {len(v)} | {(g.verdict == 'unknown').sum()} | "
            f"{g.time_s.median():.2f} | {g.time_s.max():.2f} | "
            f"{int(v.counterexample_rechecked_torch.fillna(False).sum())}/{len(v)} |"
        )
    (OUT / "robustness.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
