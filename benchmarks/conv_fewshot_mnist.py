"""Benchmark: few-shot MNIST with a MILP-trained conv net against the same net trained by gradient descent.

From the bundled 5000-image MNIST subset (500 per digit), for each seed: 10 training images per
class (100 images), test on the other 4900. Both models use the same architecture on images
average-pooled to ``28 / downsample`` pixels a side:

  (a) gradient: the architecture trained by Adam (full batch, cross-entropy) from the seed, as
      :func:`mipnet.train.convstart.gradient_conv_weights` does for the warm start;
  (b) mipnet: the MILP (quantized later layers, multiclass hinge, L1) warm-started from (a) mapped into
      the class, LP heuristic, then HiGHS for the rest of the time limit.

Output: results/conv/fewshot_mnist.csv (one row per seed and model), fewshot_mnist.md and
fewshot_mnist.png. Published MIP-trained figures (binarized-network ensembles): 61.7 % with 10
images per class, 76.4 % with 40.

    python benchmarks/conv_fewshot_mnist.py [--seeds 0 1 2] [--per-class 10] [--time-limit 300]
        [--downsample 4] [--architecture conv4x3-maxpool2]
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

from mipnet.datasets import load_mnist_subset  # noqa: E402
from mipnet.network import Network  # noqa: E402
from mipnet.train import TrainConfig  # noqa: E402
from mipnet.train.architecture import template_conv_network  # noqa: E402
from mipnet.train.conv_trainer import prepare_images, train_conv  # noqa: E402
from mipnet.train.convstart import gradient_train  # noqa: E402
from mipnet.train.formulation import resolve_config  # noqa: E402
from mipnet.train.trainer import encode_targets  # noqa: E402

OUT = ROOT / "results" / "conv"


def split(X: np.ndarray, y: np.ndarray, per_class: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    tr = np.concatenate([rng.choice(np.flatnonzero(y == c), per_class, replace=False) for c in np.unique(y)])
    te = np.setdiff1d(np.arange(len(y)), tr)
    return np.sort(tr), te


def gradient_baseline(
    Xtr: np.ndarray, ytr: np.ndarray, cfg: TrainConfig, downsample: int, seed: int, epochs: int
) -> tuple[object, float]:
    """The same architecture trained by gradient descent from the seed (no MILP): the raw-image network."""
    t0 = time.perf_counter()
    Xf, shape, front, Xs, small = prepare_images(Xtr, (1, 28, 28), downsample)
    target, cls, n_classes, _, _ = encode_targets(ytr, "classify")
    rc = resolve_config(cfg, "classify", n_classes)
    template = template_conv_network(rc.architecture, small, n_classes)
    w = gradient_train(template, Xs.reshape((-1,) + small), target, "classify", n_classes, seed=seed, epochs=epochs)
    net = Network([*front, *template.layers], input_shape=shape, class_names=cls)
    for layer, (W, b) in zip([l for l in net.layers if hasattr(l, "weight")], w):
        layer.weight, layer.bias = W, b
    return net, time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--per-class", type=int, default=10)
    ap.add_argument("--time-limit", type=float, default=300.0)
    ap.add_argument("--downsample", type=int, default=4)
    ap.add_argument("--architecture", default="conv4x3-maxpool2")
    ap.add_argument("--l1", type=float, default=1e-3)
    ap.add_argument("--epochs", type=int, default=300)
    ap.add_argument("--levels", type=int, default=3, help="Q: later-layer weights in {-Q..Q} x scale")
    ap.add_argument("--tag", default="fewshot_mnist")
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    data = load_mnist_subset(scale=True)
    X, _ = data.X_numeric()
    y = data.y.to_numpy()
    cfg = TrainConfig(
        architecture=args.architecture,
        hypothesis="quantized",
        loss="multiclass_hinge",
        l1=args.l1,
        levels=args.levels,
        scale=1.0 / args.levels,
    )
    rows = []
    for seed in args.seeds:
        tr, te = split(X, y, args.per_class, seed)
        net_g, t_g = gradient_baseline(X[tr], y[tr], cfg, args.downsample, seed, args.epochs)
        acc_g = float(np.mean(net_g.predict(X[te]).astype(int) == y[te]))
        rows.append(
            {
                "seed": seed,
                "model": "gradient",
                "train_acc": float(np.mean(net_g.predict(X[tr]).astype(int) == y[tr])),
                "test_acc": acc_g,
                "time_s": t_g,
                "status": "",
                "objective": None,
                "bound": None,
                "gap": None,
            }
        )
        print(rows[-1], flush=True)
        t0 = time.perf_counter()
        r = train_conv(
            X[tr],
            y[tr],
            config=cfg,
            input_shape=(1, 28, 28),
            downsample=args.downsample,
            time_limit=args.time_limit,
            seed=seed,
            lp_heuristic_rounds=5,
            gradient_epochs=args.epochs,
            log=lambda s: print("  " + s, flush=True),
        )
        c = r.certificate
        acc = float(np.mean(r.network.predict(X[te]).astype(int) == y[te]))
        rows.append(
            {
                "seed": seed,
                "model": "mipnet",
                "train_acc": float(np.mean(r.network.predict(X[tr]).astype(int) == y[tr])),
                "test_acc": acc,
                "time_s": time.perf_counter() - t0,
                "status": c.status,
                "objective": c.incumbent,
                "bound": c.bound,
                "gap": c.gap,
                "warm_objective": c.warm_start_objective,
                "heuristic_objective": c.heuristic_objective,
                "check_ok": r.check["ok"],
                "binaries": c.formulation.get("binaries"),
                "constraints": c.formulation.get("constraints"),
            }
        )
        print(rows[-1], flush=True)
        pd.DataFrame(rows).to_csv(OUT / f"{args.tag}.csv", index=False)
    df = pd.DataFrame(rows)
    summ = df.groupby("model")["test_acc"].agg(["mean", "std", "min", "max"])
    lines = [
        f"# Few-shot MNIST, {args.per_class} images per class, "
        f"architecture {args.architecture} (Q = {args.levels}), "
        f"images downsampled by {args.downsample}, MILP time limit {args.time_limit:g} s, seeds {args.seeds}",
        "",
        "| model | mean test acc | std | min | max |",
        "|---|---|---|---|---|",
    ]
    for m, s in summ.iterrows():
        lines.append(
            f"| {m} | {100 * s['mean']:.1f} % | {100 * s['std']:.1f} | {100 * s['min']:.1f} | {100 * s['max']:.1f} |"
        )
    lines += ["", "Published MIP-trained reference: 61.7 % (10 per class), 76.4 % (40 per class).", ""]
    (OUT / f"{args.tag}.md").write_text("\n".join(lines))
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.5))
    for i, m in enumerate(["gradient", "mipnet"]):
        d = df[df.model == m]
        ax.scatter(np.full(len(d), i) + 0.05 * np.arange(len(d)), 100 * d.test_acc, label=m)
    ax.axhline(61.7, ls="--", c="gray", label="published MIP, 10/class")
    ax.set_xticks([0, 1], ["gradient", "mipnet"])
    ax.set_ylabel("test accuracy (%)")
    ax.set_title(f"few-shot MNIST, {args.per_class}/class")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(OUT / f"{args.tag}.png", dpi=120)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
