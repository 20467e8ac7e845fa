"""OpenBox on a MIP-trained sparse net: breast cancer, as an auditor would read it.

A one-hidden-layer ReLU net (sign class, 3 hidden units, hinge + L1 0.01) is trained by MILP on 40
rows with HiGHS (certificate in the model), then explained exactly on all 569 rows with
``mipnet explain``: every activation configuration's local linear classifier in feature names (in the
features' own units: the standardisation is folded into the model), its non-redundant boundaries,
and the summary table. Output: results/openbox/mip_breast_cancer/.

    python experiments/openbox_mip_tabular.py        (about 1 min)
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from mipnet import MIPNetClassifier
from mipnet.cli import cli
from mipnet.datasets import load_breast_cancer
from mipnet.io import save_model

OUT = Path(__file__).resolve().parents[1] / "results" / "openbox" / "mip_breast_cancer"


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    data = load_breast_cancer()
    X, names = data.X_numeric()
    Xdf = pd.DataFrame(X, columns=names)
    clf = MIPNetClassifier((3,), l1=0.01, time_limit=60, max_samples=40, random_state=0).fit(Xdf, data.y)
    cert = clf.certificate_
    net = clf.network_.with_domain(data.domain)
    save_model(net, OUT / "model.json")
    frame = Xdf.copy()
    frame[data.target] = data.y.to_numpy()
    frame.to_csv(OUT / "data.csv", index=False)
    cli.main(
        args=[
            "explain",
            str(OUT / "model.json"),
            str(OUT / "data.csv"),
            "--label",
            data.target,
            "-o",
            str(OUT / "explained"),
        ],
        prog_name="mipnet",
        standalone_mode=False,
    )
    summary = {
        "training": {
            "status": cert.status,
            "objective": cert.objective,
            "bound": cert.bound,
            "gap": cert.gap,
            "samples": cert.n_samples,
            "solve_time": cert.solve_time,
        },
        "accuracy_all_rows": float(clf.score(Xdf, data.y)),
        "nonzero_dense_weights": int(sum((layer.weight != 0).sum() for layer in net.layers if layer.kind == "Dense")),
        "active_hidden_units": net.n_active_neurons(),
    }
    (OUT / "summary.json").write_text(json.dumps(summary, indent=1))
    (OUT / "data.csv").unlink()  # the data are bundled; keep the results folder small
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
