"""OpenBox on tabular data: the local linear classifiers of a small sparse net on breast cancer.

A (30, 6, 2) ReLU net is trained with torch on standardised features with an L1 penalty (a sparse
net; the MIP-trained one replaces it when the trainer lands); the standardisation is folded into a
Normalize layer, so every local classifier reads in the features' own units, as an auditor would read
it. Written: the per-region summary, all local classifiers (CSV), the largest regions' margins in
feature names (JSON and printed), bar charts, and the consistency of OpenBox, SmoothGrad and LIME.

    python experiments/openbox_tabular.py        (under 1 min)
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _openbox_common import mlp, train, write_csv, write_json, write_png  # noqa: E402

from mipnet.datasets import load_breast_cancer  # noqa: E402
from mipnet.domain import Domain  # noqa: E402
from mipnet.explain import interpret  # noqa: E402
from mipnet.explain.consistency import consistency  # noqa: E402
from mipnet.explain.figures import summary_frame, tabular_features, to_png  # noqa: E402
from mipnet.io.torch_io import from_torch  # noqa: E402
from mipnet.layers import Normalize  # noqa: E402
from mipnet.network import Network  # noqa: E402


def readable(names: list[str], w: np.ndarray, b: float, std: np.ndarray, top: int = 8) -> str:
    order = np.argsort(-np.abs(w * std))[:top]
    return " ".join(f"{w[j]:+.4g}*{names[j]}" for j in order if w[j] != 0) + f" {b:+.4g}"


def main() -> None:
    torch.set_num_threads(1)
    ds = load_breast_cancer()
    X = ds.frame[ds.features].to_numpy(np.float64)
    y = ds.y.to_numpy()
    rng = np.random.default_rng(0)
    perm = rng.permutation(len(X))
    tr, te = perm[:400], perm[400:]
    mu, sd = X[tr].mean(axis=0), X[tr].std(axis=0)
    model = mlp([30, 6, 2])
    fit = train(model, (X[tr] - mu) / sd, y[tr], epochs=200, lr=1e-2, batch=64, l1=2e-3, seed=0)
    with torch.no_grad():
        for m in model:
            if isinstance(m, torch.nn.Linear):
                m.weight[m.weight.abs() < 1e-3] = 0.0  # L1 drives weights to ~0; make the zeros exact
    core = from_torch(model.double(), (30,))
    lo = np.array([ds.bounds[f][0] for f in ds.features])
    hi = np.array([ds.bounds[f][1] for f in ds.features])
    net = Network(
        [Normalize(1 / sd, -mu / sd), *core.layers], domain=Domain(ds.features, lo, hi), class_names=ds.class_names
    )
    acc = {s: float(np.mean(net.predict_index(net.forward(X[i])) == y[i])) for s, i in (("train", tr), ("test", te))}

    interp = interpret(net, X)
    exact = interp.exactness(X)
    rows = interp.summary(y)
    write_csv("tabular_breast_cancer_summary.csv", summary_frame(rows))
    write_csv("tabular_breast_cancer_local_classifiers.csv", pd.DataFrame(interp.classifier_table()))
    names = net.feature_names
    regions = []
    for k in range(min(4, interp.n_regions)):
        w, b = interp.margin(k)
        G, labels = interp.boundary_features(k)
        regions.append(
            {
                "region": k,
                "instances": int(interp.counts[k]),
                "accuracy": rows[k].get("accuracy"),
                "margin": f"{ds.class_names[1]} - {ds.class_names[0]} = " + readable(names, w, b, sd),
                "nonzero_features": int(np.count_nonzero(w)),
                "boundaries": [
                    f"{lab}: " + readable(names, g, -float(interp.polytope(k).h[i]), sd, 5) + " <= 0"
                    for lab, g, i in zip(labels, G, interp.facets(k)[1])
                ],
            }
        )
        write_png(f"tabular_breast_cancer_region{k}.png", to_png(tabular_features(interp, k, top=12, scale=sd)))
    cons = consistency(interp, X, rows=te, lime_rows=20)
    for m in cons["methods"].values():
        m.pop("values", None)
    W1 = core.layers[0].weight
    result = {
        "data": "breast cancer (569 rows, 30 features); 400 train / 169 test",
        "net": "(30, 6, 2) ReLU, torch Adam + L1, standardisation folded into a Normalize layer",
        "train": fit,
        "accuracy": acc,
        "first_layer_nonzero": int(np.count_nonzero(W1)),
        "first_layer_size": W1.size,
        "active_hidden_units": net.n_active_neurons(),
        "configurations": interp.n_regions,
        "bound": 2**interp.n_hidden_units,
        "exactness": exact,
        "largest_regions": regions,
        "consistency": cons,
    }
    write_json("tabular_breast_cancer.json", result)
    print({k: v for k, v in result.items() if k not in ("largest_regions", "consistency")})
    for r in regions:
        print(f"\nregion {r['region']} ({r['instances']} instances, accuracy {r['accuracy']:.3f}):\n  {r['margin']}")
        for bnd in r["boundaries"]:
            print("   ", bnd)
    print({m: (v.get("mean"), v.get("n")) for m, v in cons["methods"].items()}, "same region:", cons["same_region"])


if __name__ == "__main__":
    main()
