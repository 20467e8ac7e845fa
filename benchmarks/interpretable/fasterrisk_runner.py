"""FasterRisk on one split, run in FasterRisk's own virtual environment (it pins numpy < 2, pandas 1.5.2 and
scikit-learn 1.2, which mipnet's environment does not have).

    <fasterrisk venv>/bin/python fasterrisk_runner.py SPLIT.npz OUT.json K1,K2,...

SPLIT.npz holds ``Xtr, ytr, Xte, yte`` (labels 0/1). Binarisation as in FasterRisk's examples (its data sets
come binarised): a 0/1 column stays; every other column x becomes the indicators [x <= t] for t its training
deciles (distinct values, the maximum left out), so that each point reads "points if x <= t". For each sparsity
k, the best
of FasterRisk's pool of risk scores (integer points in [-5, 5]) on the training logistic loss is scored on the
test rows: accuracy (probability >= 0.5), AUC, non-zero points. Only numpy, scikit-learn's metrics and
fasterrisk are imported here.
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np
from sklearn.metrics import roc_auc_score


def binarise(Xtr: np.ndarray, Xte: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """[x_i <= t] for each non-binary column i and t in its training deciles; 0/1 columns unchanged."""
    tr, te = [], []
    for i in range(Xtr.shape[1]):
        col = Xtr[:, i]
        if np.all(np.isin(col, (0.0, 1.0))):
            tr.append(col[:, None])
            te.append(Xte[:, i : i + 1])
            continue
        ts = np.unique(np.quantile(col, np.linspace(0.1, 0.9, 9)))
        ts = ts[ts < col.max()]
        tr.append((col[:, None] <= ts[None, :]).astype(np.float64))
        te.append((Xte[:, i : i + 1] <= ts[None, :]).astype(np.float64))
    return np.hstack(tr), np.hstack(te)


def main(split: str, out: str, ks: str) -> None:
    from fasterrisk.fasterrisk import RiskScoreClassifier, RiskScoreOptimizer

    d = np.load(split)
    Xtr, ytr, Xte, yte = (np.asarray(d[k], dtype=np.float64) for k in ("Xtr", "ytr", "Xte", "yte"))
    Xtr, Xte = binarise(Xtr, Xte)
    rows = []
    for k in (int(v) for v in ks.split(",")):
        t0 = time.perf_counter()
        opt = RiskScoreOptimizer(X=Xtr, y=np.where(ytr > 0.5, 1.0, -1.0), k=k, lb=-5, ub=5)
        opt.optimize()
        mults, b0s, betas = opt.get_models()
        best, best_loss = None, np.inf
        for i in range(len(mults)):
            clf = RiskScoreClassifier(multiplier=mults[i], intercept=b0s[i], coefficients=betas[i])
            p = np.clip(clf.predict_prob(Xtr), 1e-12, 1 - 1e-12)
            loss = -float(np.mean(ytr * np.log(p) + (1 - ytr) * np.log(1 - p)))
            if loss < best_loss:
                best, best_loss = clf, loss
        assert best is not None
        p_te = best.predict_prob(Xte)
        rows.append(
            {
                "k": k,
                "acc": float(np.mean((p_te >= 0.5) == (yte > 0.5))),
                "auc": float(roc_auc_score(yte, p_te)),
                "size": int(np.count_nonzero(best.coefficients)),
                "time": time.perf_counter() - t0,
            }
        )
    with open(out, "w") as f:
        json.dump(rows, f)


if __name__ == "__main__":
    main(*sys.argv[1:4])
