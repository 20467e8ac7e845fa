"""OpenBox on Fashion-MNIST pairs: PLNN and PLNN-NS (784, 8, 2, 2) against logistic regression.

For each pair (ankle boot vs bag, coat vs pullover), 4000 + 4000 training and 3000 + 3000 test
images are drawn (seeded) from the vendored 7000 images per class, pixels scaled to [0, 1]. Two nets are
trained with torch: plainly (PLNN) and with non-negative weights (projected after every step) plus an L1
penalty (PLNN-NS). Reported per net: train/test accuracy against logistic regression, configurations
met on the training and test sets against the 2^10 bound, exactness of the local linear classifiers,
non-redundant boundaries of the largest regions, interpretation speed, and the consistency of
explanations of a test image and its nearest test neighbour: OpenBox decision features, SmoothGrad and
LIME (LIME on a few images only). Figures: decision and boundary features of the largest regions.

    python experiments/openbox_fashion.py        (about 4 min)
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.linear_model import LogisticRegression

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _openbox_common import mlp, train, write_csv, write_json, write_png  # noqa: E402

from mipnet.datasets import load_fashion_pair  # noqa: E402
from mipnet.domain import Domain  # noqa: E402
from mipnet.explain import interpret  # noqa: E402
from mipnet.explain.consistency import consistency  # noqa: E402
from mipnet.explain.figures import image_features, summary_frame, to_png  # noqa: E402
from mipnet.io.torch_io import from_torch  # noqa: E402

PAIRS = {"ankle_boot_vs_bag": "paper PLNN test accuracy 0.999", "coat_vs_pullover": "paper PLNN test accuracy 0.868"}


def split(pair: str, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, list[str]]:
    ds = load_fashion_pair(pair, split="all", scale=True)
    X = ds.frame[ds.features].to_numpy(np.float64)
    y = ds.y.to_numpy()
    rng = np.random.default_rng(seed)
    tr, te = [], []
    for c in (0, 1):
        idx = rng.permutation(np.flatnonzero(y == c))
        tr.append(idx[:4000])
        te.append(idx[4000:7000])
    tr_i, te_i = np.concatenate(tr), np.concatenate(te)
    return X[tr_i], y[tr_i], X[te_i], y[te_i], list(ds.class_names)


def run_net(
    pair: str,
    kind: str,
    Xtr: np.ndarray,
    ytr: np.ndarray,
    Xte: np.ndarray,
    yte: np.ndarray,
    classes: list[str],
    rng: np.random.Generator,
) -> dict:
    model = mlp([784, 8, 2, 2])
    if kind == "PLNN":
        fit = train(model, Xtr, ytr, epochs=20, lr=1e-3, batch=64, seed=0)
    else:
        fit = train(model, Xtr, ytr, epochs=20, lr=1e-3, batch=64, l1=1e-4, nonneg=True, seed=0)
    domain = Domain.box([f"pixel{i}" for i in range(784)], 0.0, 1.0)
    net = from_torch(model.double(), (784,), domain=domain, class_names=classes)
    acc = {
        s: float(np.mean(net.predict_index(net.forward(X)) == y))
        for s, X, y in (("train", Xtr, ytr), ("test", Xte, yte))
    }
    t0 = time.perf_counter()
    itr = interpret(net, Xtr)
    speed = len(Xtr) / (time.perf_counter() - t0)
    ite = interpret(net, Xte)
    exact = {"train": itr.exactness(Xtr), "test": ite.exactness(Xte)}
    both = np.vstack([Xtr, Xte])
    n_all = interpret(net, both).n_regions
    t0 = time.perf_counter()
    rows = itr.summary(ytr, max_boundaries=10)
    t_lp = time.perf_counter() - t0
    tag = f"fashion_{pair}_{kind.replace('-', '_').lower()}"
    write_csv(f"{tag}_summary.csv", summary_frame(rows))
    for k in range(min(2, itr.n_regions)):
        fig = image_features(itr, k, (28, 28), max_boundaries=4, mean_image=Xtr[itr.region == k].mean(axis=0))
        write_png(f"{tag}_region{k}.png", to_png(fig, dpi=80))
    test_rows = rng.choice(len(Xte), 300, replace=False)
    cons = consistency(ite, Xte, rows=test_rows, lime_rows=10, lime_samples=1000)
    for m in cons["methods"].values():
        m.pop("values", None)
    W = [l.weight for l in net.layers if hasattr(l, "weight")]
    return {
        "pair": pair,
        "net": kind,
        "train": fit,
        "accuracy": acc,
        "hidden_units": itr.n_hidden_units,
        "bound": 2**itr.n_hidden_units,
        "configurations_train": itr.n_regions,
        "configurations_test": ite.n_regions,
        "configurations_train_and_test": n_all,
        "instances_per_second": speed,
        "exactness": exact,
        "boundary_lp_seconds_10_regions": t_lp,
        "largest_regions": [
            {k: r[k] for k in ("region", "instances", "accuracy", "n_boundaries", "boundaries")} for r in rows[:5]
        ],
        "first_layer_zero_weights": float(np.mean(W[0] == 0)),
        "units_always_on_train": int(np.all(itr.codes == 1, axis=0).sum()),
        "units_always_off_train": int(np.all(itr.codes == 0, axis=0).sum()),
        "consistency": cons,
    }


def main() -> None:
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    results, table = [], []
    for pair, paper in PAIRS.items():
        Xtr, ytr, Xte, yte, classes = split(pair)
        lr = LogisticRegression(max_iter=2000).fit(Xtr, ytr)
        lr_acc = {"train": float(lr.score(Xtr, ytr)), "test": float(lr.score(Xte, yte))}
        for kind in ("PLNN", "PLNN-NS"):
            r = run_net(pair, kind, Xtr, ytr, Xte, yte, classes, rng)
            r["logistic_regression"] = lr_acc
            r["paper"] = paper
            results.append(r)
            m = r["consistency"]["methods"]
            table.append(
                {
                    "pair": pair,
                    "net": kind,
                    "train_acc": r["accuracy"]["train"],
                    "test_acc": r["accuracy"]["test"],
                    "lr_test_acc": lr_acc["test"],
                    "configs_train": r["configurations_train"],
                    "configs_test": r["configurations_test"],
                    "bound": r["bound"],
                    "exact_train": r["exactness"]["train"]["exact_fraction"],
                    "exact_test": r["exactness"]["test"]["exact_fraction"],
                    "instances_per_s": round(r["instances_per_second"]),
                    "cos_openbox": m["openbox"]["mean"],
                    "cos_smoothgrad": m["smoothgrad"]["mean"],
                    "cos_lime": m.get("lime", {}).get("mean"),
                    "same_region_nn": r["consistency"]["same_region"],
                    "w1_zero_share": r["first_layer_zero_weights"],
                    "units_on_off_always": f"{r['units_always_on_train']}/{r['units_always_off_train']}",
                }
            )
            print(table[-1], flush=True)
    write_json("fashion.json", results)
    df = pd.DataFrame(table)
    write_csv("fashion_table.csv", df)
    print(df.to_string(index=False))


if __name__ == "__main__":
    main()
