"""The slides' polytope study: a 49-3-3-10 GELU net on 7x7 downsampled MNIST digits.

Images of the MNIST subset are average-pooled 4x4 to 7x7 (pixels in [0, 1]); the net
Dense(49, 3) GELU Dense(3, 3) GELU Dense(3, 10) is trained with torch on 4000 images. For 20 test
images per digit (reduced from the full test split to keep the run near 10 min) and eps in
{0, 0.01, ..., 0.05} the worst-case robust margin LP over the envelope polytope is solved
(:mod:`mipnet.verify.polytope`); an image counts as classified correctly by the LP when its
margin is positive. The optimistic (best-case) LP is solved at eps = 0.05 for comparison, and a
projected-gradient search (mipnet.verify.search) gives an empirical upper bound on the robust accuracy
(the LP accuracy is a certified lower bound; the gap between the two is the relaxation's looseness).
``--attack-only`` recomputes just that part from the saved net.
Output: results/polytope/ (accuracy per digit and eps, signature heatmaps, envelope bar plots).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _resilience_common import mlp, to_network, train, write_csv, write_json, write_png  # noqa: E402

from mipnet.datasets import load_mnist_subset  # noqa: E402
from mipnet.io import load_model, save_model  # noqa: E402
from mipnet.verify.polytope import accuracy_plot, analyse, envelope_bars, signature_heatmaps  # noqa: E402
from mipnet.verify.search import search_perturbation  # noqa: E402

EPS = [0.0, 0.01, 0.02, 0.03, 0.04, 0.05]
PER_DIGIT = 20
RESULTS = Path(__file__).resolve().parents[1] / "results" / "polytope"


def downsample(X: np.ndarray) -> np.ndarray:
    """28x28 -> 7x7 by 4x4 average pooling."""
    return X.reshape(-1, 7, 4, 7, 4).mean(axis=(2, 4)).reshape(-1, 49)


def attack_accuracy(net, X: np.ndarray, y: np.ndarray) -> dict[str, dict[str, float]]:
    """Per eps and digit: the fraction of images correctly classified that the gradient search cannot flip."""
    out: dict[str, dict[str, float]] = {}
    for eps in EPS:
        ok = []
        for x, c in zip(X, y):
            if int(net.forward(x[None]).argmax()) != c:
                ok.append(False)
                continue
            ok.append(eps == 0.0 or search_perturbation(net, x, int(c), 1, "inf", radius=eps) is None)
        ok_arr = np.array(ok)
        out[str(eps)] = {str(d): float(ok_arr[y == d].mean()) for d in range(10)} | {"all": float(ok_arr.mean())}
    return out


def _data() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    ds = load_mnist_subset(scale=True)
    X28, _ = ds.X_numeric()
    X = downsample(np.asarray(X28, float))
    y = ds.y.to_numpy().astype(int)
    perm = np.random.default_rng(0).permutation(len(y))
    return X, y, perm[:4000], perm[4000:]


def main(attack_only: bool = False) -> None:
    torch.set_num_threads(1)
    if attack_only:
        X, y, _, te = _data()
        net = load_model(RESULTS / "gelu_49_3_3_10.json")
        pick = np.concatenate([te[y[te] == d][:PER_DIGIT] for d in range(10)])
        write_json("polytope", "attack_accuracy.json", attack_accuracy(net, X[pick], y[pick]))
        return
    ds = load_mnist_subset(scale=True)
    X28, _ = ds.X_numeric()
    X = downsample(np.asarray(X28, float))
    y = ds.y.to_numpy().astype(int)
    perm = np.random.default_rng(0).permutation(len(y))
    tr, te = perm[:4000], perm[4000:]
    model = mlp([49, 3, 3, 10], act=nn.GELU)
    train(model, X[tr], y[tr], epochs=80, lr=1e-2)
    names = [f"p{r}_{c}" for r in range(7) for c in range(7)]
    net = to_network(model, names, 0.0, 1.0, [str(d) for d in range(10)])
    save_model(net, RESULTS / "gelu_49_3_3_10.json")
    pred = net.forward(X[te]).argmax(1)
    acc = float((pred == y[te]).mean())
    per_class_acc = {str(d): float((pred[y[te] == d] == d).mean()) for d in range(10)}
    print(f"test accuracy {acc:.3f}", flush=True)
    pick = np.concatenate([te[y[te] == d][:PER_DIGIT] for d in range(10)])
    t0 = time.perf_counter()
    an = analyse(net, X[pick], y[pick], EPS, sense="worst")
    seconds = time.perf_counter() - t0
    best = analyse(net, X[pick], y[pick], [0.05], sense="best")
    write_csv("polytope", "lp_rows.csv", an.rows)
    write_csv("polytope", "lp_accuracy_per_digit.csv", an.accuracy)
    table = an.accuracy.pivot(index="class", columns="eps", values="lp_accuracy")
    summary = {
        "test_accuracy_net": acc,
        "per_digit_accuracy_net": per_class_acc,
        "images": int(pick.size),
        "eps": EPS,
        "lp_accuracy_overall": an.rows.groupby("eps")["correct"].mean().to_dict(),
        "lp_accuracy_per_digit": {str(c): {str(e): float(v) for e, v in row.items()} for c, row in table.iterrows()},
        "best_case_lp_accuracy_eps_0.05": float(best.rows["correct"].mean()),
        "seconds": seconds,
        "seconds_per_lp_analysis": float(an.rows["seconds"].mean()),
        "mean_inputs_at_upper": an.rows.groupby("eps")["n_upper"].mean().to_dict(),
        "mean_inputs_at_lower": an.rows.groupby("eps")["n_lower"].mean().to_dict(),
    }
    write_json("polytope", "summary.json", summary)
    write_png("polytope", "lp_accuracy_vs_eps.png", accuracy_plot(an))
    for eps in (0.02, 0.05):
        write_png("polytope", f"signature_heatmaps_eps{eps:g}.png", signature_heatmaps(an, net, eps))
        write_png("polytope", f"envelope_bars_eps{eps:g}.png", envelope_bars(an, eps))
    write_json("polytope", "attack_accuracy.json", attack_accuracy(net, X[pick], y[pick]))
    print(summary, flush=True)


if __name__ == "__main__":
    main(attack_only="--attack-only" in sys.argv)
