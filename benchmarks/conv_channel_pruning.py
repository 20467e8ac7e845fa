"""Benchmark: channel pruning of a MILP-trained conv net on the 8x8 digits as the channel penalty grows.

Task: digit 3 against digit 8 (the bundled scikit-learn digits, pixels in [0, 1]), ``--train``
training images, test on the other images of the two digits. Architecture ``conv4x3-maxpool2``
(4 filters 3x3, ReLU, 2x2 max pooling, one output logit); hinge loss, L1 1e-3, quantized output
layer. For each channel penalty c_ch the MILP (one switch per channel, warm-started from a
gradient net) runs ``--time-limit`` seconds; we record the active channels of the returned network
(after :meth:`Network.pruned`), train and test accuracy and the certificate.

Output: results/conv/channel_pruning.csv, channel_pruning.png (test accuracy against active channels,
labelled with the penalty) and channel_pruning.md.

    python benchmarks/conv_channel_pruning.py [--train 40] [--time-limit 60]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mipnet.datasets import load_digits  # noqa: E402
from mipnet.train import TrainConfig  # noqa: E402
from mipnet.train.conv_trainer import train_conv  # noqa: E402

OUT = ROOT / "results" / "conv"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--train", type=int, default=40)
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--penalties", type=float, nargs="+", default=[0.0, 0.01, 0.03, 0.1, 0.3, 1.0])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--architecture", default="conv4x3-maxpool2")
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    d = load_digits(scale=True)
    X, _ = d.X_numeric()
    y = d.y.to_numpy()
    keep = np.isin(y, (3, 8))
    X, y = X[keep], y[keep]
    rng = np.random.default_rng(args.seed)
    tr = np.sort(rng.choice(len(y), args.train, replace=False))
    te = np.setdiff1d(np.arange(len(y)), tr)
    rows = []
    for pen in args.penalties:
        cfg = TrainConfig(
            architecture=args.architecture,
            hypothesis="quantized",
            loss="hinge",
            l1=1e-3,
            channel_penalty=pen,
            levels=3,
            scale=1.0 / 3,
        )
        t0 = time.perf_counter()
        r = train_conv(
            X[tr],
            y[tr],
            config=cfg,
            input_shape=(1, 8, 8),
            time_limit=args.time_limit,
            seed=args.seed,
            lp_heuristic_rounds=5,
        )
        c = r.certificate
        net = r.network
        rows.append(
            {
                "channel_penalty": pen,
                "active_channels": net.n_active_channels(),
                "conv_out_channels": [l.out_channels for l in net.layers if l.kind == "Conv2D"][0],
                "train_acc": float(np.mean(net.predict(X[tr]).astype(int) == y[tr])),
                "test_acc": float(np.mean(net.predict(X[te]).astype(int) == y[te])),
                "status": c.status,
                "objective": c.incumbent,
                "bound": c.bound,
                "gap": c.gap,
                "terms": c.terms,
                "check_ok": r.check["ok"],
                "time_s": time.perf_counter() - t0,
                "binaries": c.formulation.get("binaries"),
            }
        )
        print(rows[-1], flush=True)
        pd.DataFrame(rows).to_csv(OUT / "channel_pruning.csv", index=False)
    df = pd.DataFrame(rows)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.plot(df.active_channels, 100 * df.test_acc, "o-", label="test")
    ax.plot(df.active_channels, 100 * df.train_acc, "s--", alpha=0.6, label="train")
    for _, r in df.iterrows():
        ax.annotate(
            f"{r.channel_penalty:g}",
            (r.active_channels, 100 * r.test_acc),
            textcoords="offset points",
            xytext=(4, -10),
            fontsize=7,
        )
    ax.set_xlabel("active conv channels (after pruning)")
    ax.set_ylabel("accuracy (%)")
    ax.set_title(f"digits 3 vs 8, {args.train} training images; labels: channel penalty")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(OUT / "channel_pruning.png", dpi=120)
    lines = [
        f"# Channel pruning, digits 3 vs 8, {args.train} training images, {args.architecture}, "
        f"{args.time_limit:g} s per fit",
        "",
        "| channel penalty | active channels | train acc | test acc | status | gap | re-check |",
        "|---|---|---|---|---|---|---|",
    ]
    for _, r in df.iterrows():
        gap = "n/a" if r.gap is None or pd.isna(r.gap) else f"{100 * r.gap:.1f} %"
        lines.append(
            f"| {r.channel_penalty:g} | {r.active_channels} | {100 * r.train_acc:.1f} % | "
            f"{100 * r.test_acc:.1f} % | {r.status} | {gap} | {'ok' if r.check_ok else 'FAIL'} |"
        )
    (OUT / "channel_pruning.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
