"""Interpretable frontier: test accuracy (and AUC) against model size, mipnet and the interpretable baselines on
the same splits, in the same run; and what each training constraint costs.

Splits: per data set a fixed test split (2000 rows where the file has at least 4000, else 30 %; seed 1000), a
stratified training subset of N rows per seed (``full``: every training row). Features as ``X_numeric`` (one-hot
categoricals); the baselines that need it get them standardised on the training rows.

Methods (``--methods``, each a row per setting; a method that cannot run gives a row "skipped: <reason>"):

* ``l1lr``: L1 logistic regression, C chosen by 5-fold CV (liblinear); ``l1lr_path``: the same at fixed Cs, the
  linear frontier. Size: non-zero coefficients.
* ``mlp``: scikit-learn MLPClassifier with mipnet's hidden width. Size: non-zero weights.
* ``mipnet`` / ``mipnet_linear``: MIPNetClassifier (sign class, hinge, one hidden layer) without / with the linear
  term f(x) = w0 x + b + sum_j v_j ReLU(W_j x + c_j), per l1 of ``--l1``. Size: non-zero weights, a linear weight
  counted once (not its two exact ReLU units). Each row records the certificate's status and gap.
* ``mipnet_small``: the small end of mipnet's frontier, each configuration a row (its setting names it):
  the linear term alone (0 hidden units) per l1 of ``--small-l1``; the linear term alone with a feature budget
  of K = ``--small-k`` inputs (:class:`~mipnet.train.constraints.FeatureBudget`) at the small l1 of
  ``--small-k-l1``; the linear term with 1-2 hidden units (``--small-hidden``) at ``--small-hidden-l1``.
  "0 hidden units" is one unit with ``max_neurons=0``: its switch s = 0 forces W_1 = 0, v_1 = 0, so the class is
  f(x) = w0 . x + b and the MILP is the L1-regularised hinge (an L1-SVM on the standardised inputs),

      min_{w0, b}  (1/N) sum_n max(0, 1 - y_n (w0 . x_n + b)) + l1 ||w0||_1,
      s.t. |w0_i| <= B_w z_i, sum_i z_i <= K, z binary   (the budget's feature switches, when K is given),

  solved to a certified gap like every mipnet fit. Size counted as for ``mipnet_linear``.
* ``mipnet_logistic``: the same linear models (the linear term alone, per budget K of ``--small-k`` at
  ``--small-k-l1``, and per l1 of ``--logistic-l1`` without a budget) with the **logistic loss**
  log(1 + exp(-y f(x))): the MILP holds its tangent envelope (within 2e-3, :mod:`mipnet.train.logistic`), the
  certificate reports the true loss and the envelope's proved bound.
* ``mipnet_thresholds``: the settings of ``mipnet_logistic`` on threshold features instead of the raw columns:
  each numeric column asked "x_f > t" at the splits of ``--threshold-stumps`` boosted depth-1 trees fitted on the
  training rows (:class:`mipnet.thresholds.ThresholdFeatures`, the construction of GOSDT's binariser below), so
  the model is a risk score "w points if x_f > t" with real-valued points, trained to a certified optimum by
  cutting planes. Size: the questions it uses. ``--threshold-depth 2``: the trees have depth 2 and their pair
  questions "x_f > t and x_g > s" (each root side with its child's split) are columns too, so the score is a
  two-way additive model like EBM's, each pair one question.
  ``--logistic-boxes B_w,B_b`` (both methods): the class's weight and bias bounds (default 1,1; the intercept of a
  logistic model on an unbalanced set is beyond 1, so larger boxes fit better; named in the setting).
* ``fasterrisk``: FasterRisk risk scores (integer points in [-5, 5], binarised features), per sparsity k, in its own
  virtual environment (``--fasterrisk-python``; it pins numpy < 2, pandas 1.5.2, scikit-learn 1.2) as a subprocess
  on the same split (an .npz in, JSON out). Size: non-zero points.
* ``gosdt``: GOSDT with the binarisation of its documentation (ThresholdGuessBinarizer from 40 depth-1 boosted
  stumps, reference labels from the same boosted model), depth budget 4, per regularisation; predicted through
  its tree (its ``predict`` breaks on scikit-learn 1.9); its optimality is relative to the guessed thresholds.
  Size: leaves. AUC from each leaf's training frequency.
* ``ebm``: interpret's ExplainableBoostingClassifier, one job, 4 outer bags and at most 5 pair terms (its defaults,
  14 bags and 3x pairs, ran over 100 s on 100 rows of 30 features on the loaded machine). Size: terms.

``--constraints-table`` (COMPAS): mipnet with each training constraint of :mod:`mipnet.train.constraints` (exclude
the race columns, a sign on priors_count, a budget of K features, an output order at two points, parity between
African-American and other defendants) against the unconstrained fit, same split and l1; each constraint's check
on the returned network is read from the certificate.

Outputs in ``--out``: ``rows.json`` (every row), ``table.md`` (means and standard errors over seeds, the target
check, the frontier by size: ``interpretable/summary.py``), ``frontier_<data>_<N>.png``,
``frontier_difference_<N>.png`` (the paired frontier difference by size), ``constraints_<N>.md``.
The run of results/interpretable/ (its README): one process per (data set, seed), each to its own folder, the
rows then merged and rendered with ``--from-rows``:

    python benchmarks/interpretable_frontier.py --datasets compas --n 1000 --seeds 1 --l1 0.03 \\
        --time-limit 30 --out /tmp/fr_run_s1/compas     # each data set, seeds 0, 1, 2
    python benchmarks/interpretable_frontier.py --from-rows /tmp/fr_run_s1/compas/rows.json,... \\
        --out results/interpretable

Full run (the issue's grid): ``--datasets compas,adult,german,heart,breast_cancer --n 1000,full --seeds 0,1,2``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any, Callable

import numpy as np

from mipnet.datasets import load

#: boosted stumps of ``mipnet_thresholds`` (GOSDT's binariser uses 40); another number is named in the setting
DEFAULT_STUMPS = 40
METHODS = (
    "l1lr", "l1lr_path", "mlp", "mipnet", "mipnet_linear", "mipnet_small", "mipnet_logistic", "mipnet_thresholds",
    "fasterrisk", "gosdt", "ebm",
)  # fmt: skip
HERE = Path(__file__).resolve().parent
DEFAULT_FR_PYTHON = HERE.parent / ".fasterriskvenv" / "bin" / "python"
Row = dict[str, Any]


# ---------------------------------------------------------------------- data
def split(name: str, n: int | None, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """(X_train, y_train, X_test, y_test, feature names): the fixed test split and a stratified training subset
    of n rows (None: all training rows); labels 0/1."""
    data = load(name)
    test_size: float | int = 2000 if data.n_rows >= 4000 else 0.3
    train, test = data.train_test_split(test_size=test_size, random_state=1000)
    if n is not None and n < train.n_rows:
        train = train.sample(n, random_state=seed)
    Xtr, names = train.X_numeric()
    Xte, _ = test.X_numeric()
    classes = np.unique(np.concatenate([train.y.to_numpy(), test.y.to_numpy()]))
    if classes.size != 2:
        raise ValueError(f"{name}: the frontier benchmark is for binary targets, found {classes.size} classes")
    ytr = (train.y.to_numpy() == classes[1]).astype(np.int64)
    yte = (test.y.to_numpy() == classes[1]).astype(np.int64)
    return Xtr.astype(np.float64), ytr, Xte.astype(np.float64), yte, list(names)


def _auc(y: np.ndarray, score: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y, score))


def _standardise(Xtr: np.ndarray, Xte: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mu, sd = Xtr.mean(axis=0), Xtr.std(axis=0)
    sd = np.where(sd > 0, sd, 1.0)
    return (Xtr - mu) / sd, (Xte - mu) / sd


# ---------------------------------------------------------------------- mipnet
def mipnet_size(net: Any) -> int:
    """Non-zero weights of a one-hidden-layer net (Dense layers, biases excluded); the linear term's two exact
    ReLU units per output (``metadata["linear_units"]`` = [pos, neg, k]) count as its non-zero w0 only."""
    dense = [layer for layer in net.layers if getattr(layer, "weight", None) is not None and layer.weight.ndim == 2]
    lin = net.metadata.get("linear_units") or []
    if len(dense) != 2:
        return int(sum(np.count_nonzero(layer.weight) for layer in dense))
    W1, W2 = np.asarray(dense[0].weight), np.asarray(dense[1].weight)
    skip = {int(u) for pos, neg, _ in lin for u in (pos, neg)}
    units = np.array([j for j in range(W1.shape[0]) if j not in skip], dtype=np.int64)
    n = int(np.count_nonzero(W1[units])) + int(np.count_nonzero(W2[:, units])) if units.size else 0
    return n + int(sum(np.count_nonzero(W1[int(pos)]) for pos, _, _ in lin))


def fit_mipnet(
    Xtr: np.ndarray,
    ytr: np.ndarray,
    Xte: np.ndarray,
    yte: np.ndarray,
    *,
    hidden: int,
    l1: float | str,
    linear: bool,
    time_limit: float,
    seed: int,
    constraints: list[Any] | None = None,
    max_rows: int | None = None,
    loss: str = "auto",
    boxes: tuple[float, float] = (1.0, 1.0),
) -> Row:
    """One MIPNetClassifier fit: test accuracy / AUC, size, certificate status and gap (None: no bound).
    ``hidden`` = 0 (with ``linear``): the linear term alone, one unit held off by ``max_neurons=0``. ``boxes``:
    (weight bound B_w, bias bound B_b) of the class."""
    from mipnet.train.estimators import MIPNetClassifier

    if hidden == 0 and not linear:
        raise ValueError("0 hidden units needs the linear term")
    t0 = time.perf_counter()
    m = MIPNetClassifier(
        (max(hidden, 1),),
        max_neurons=0 if hidden == 0 else None,
        l1=l1,
        linear_term=linear,
        constraints=constraints,
        time_limit=time_limit,
        random_state=seed,
        threads=1,
        max_samples=max_rows,
        loss=loss,
        weight_bound=boxes[0],
        bias_bound=boxes[1],
    ).fit(Xtr, ytr)
    cert = m.certificate_
    pred = m.predict(Xte)
    row: Row = {
        "acc": float(np.mean(pred == yte)),
        "auc": _auc(yte, m.decision_function(Xte)),
        "train_acc": float(np.mean(m.predict(Xtr) == ytr)),
        "size": mipnet_size(m.network_),
        "features_used": int(np.count_nonzero(np.abs(_first_weight(m.network_)).sum(axis=0))),
        "gap": None if cert.gap is None or not np.isfinite(cert.gap) else float(cert.gap),
        "status": cert.status,
        "l1": float(m.l1_),
        "time": time.perf_counter() - t0,
        "domain_constraints": (cert.formulation or {}).get("domain_constraints"),
        "network": m.network_,
    }
    why = (cert.formulation or {}).get("time_limit_note")  # a fit without a solve says why (e.g. the scale plan)
    if why:
        row["no_solve"] = str(why)[:300]
    return row


def _first_weight(net: Any) -> np.ndarray:
    return np.asarray(next(layer.weight for layer in net.layers if getattr(layer, "weight", None) is not None))


def small_configs(args: argparse.Namespace) -> list[tuple[str, int, float, int | None]]:
    """(setting, hidden units, l1, feature budget K or None) of each ``mipnet_small`` row, all with the linear
    term: the linear term alone per ``--small-l1``, with a budget K per ``--small-k``, then 1-2 hidden units."""
    out: list[tuple[str, int, float, int | None]] = []
    for l1 in _floats(args.small_l1):
        out.append((f"linear only, l1={l1:g}", 0, l1, None))
    for k in [int(v) for v in args.small_k.split(",") if v.strip()]:
        out.append((f"linear only, K={k} features, l1={float(args.small_k_l1):g}", 0, float(args.small_k_l1), k))
    for h in [int(v) for v in args.small_hidden.split(",") if v.strip()]:
        hl1 = float(args.small_hidden_l1)
        out.append((f"linear + {h} hidden, l1={hl1:g}", h, hl1, None))
    return out


def logistic_configs(args: argparse.Namespace) -> list[tuple[str, float, int | None]]:
    """(setting, l1, feature budget K or None) of each ``mipnet_logistic`` row (the linear term alone)."""
    out: list[tuple[str, float, int | None]] = []
    for k in [int(v) for v in args.small_k.split(",") if v.strip()]:
        out.append((f"logistic, linear only, K={k} features, l1={float(args.small_k_l1):g}", float(args.small_k_l1), k))
    for l1 in _floats(args.logistic_l1):
        out.append((f"logistic, linear only, l1={l1:g}", l1, None))
    return out


def _boxes(text: str) -> tuple[float, float]:
    w, b = _floats(text)
    return (w, b)


def _floats(text: str) -> list[float]:
    return [float(v) for v in text.split(",") if v.strip()]


# ---------------------------------------------------------------------- baselines
def run_l1lr(Xtr: np.ndarray, ytr: np.ndarray, Xte: np.ndarray, yte: np.ndarray, seed: int) -> list[Row]:
    """L1 logistic regression, C by 5-fold CV on the log loss (liblinear)."""
    from sklearn.linear_model import LogisticRegressionCV

    A, B = _standardise(Xtr, Xte)
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lr = LogisticRegressionCV(
            Cs=12, l1_ratios=(1.0,), solver="liblinear", cv=5, scoring="neg_log_loss", random_state=seed
        ).fit(A, ytr)
    C = float(np.ravel(lr.C_)[0])
    return [
        {
            "setting": f"C={C:.3g} (cv)",
            "acc": float(np.mean(lr.predict(B) == yte)),  # not lr.score: that is the CV scoring (log loss)
            "auc": _auc(yte, lr.decision_function(B)),
            "size": int(np.count_nonzero(lr.coef_)),
            "time": time.perf_counter() - t0,
        }
    ]


def run_l1lr_path(Xtr: np.ndarray, ytr: np.ndarray, Xte: np.ndarray, yte: np.ndarray, seed: int) -> list[Row]:
    """L1 logistic regression at fixed C (the sparse linear frontier)."""
    from sklearn.linear_model import LogisticRegression

    A, B = _standardise(Xtr, Xte)
    rows = []
    for C in (0.003, 0.01, 0.03, 0.1, 1.0):
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            lr = LogisticRegression(C=C, l1_ratio=1.0, solver="liblinear", random_state=seed).fit(A, ytr)
        score = lr.decision_function(B)
        rows.append(
            {
                "setting": f"C={C:g}",
                "acc": float(np.mean(lr.predict(B) == yte)),
                "auc": _auc(yte, score) if np.ptp(score) > 0 else 0.5,
                "size": int(np.count_nonzero(lr.coef_)),
                "time": time.perf_counter() - t0,
            }
        )
    return rows


def run_mlp(Xtr: np.ndarray, ytr: np.ndarray, Xte: np.ndarray, yte: np.ndarray, seed: int, hidden: int) -> list[Row]:
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    A, B = _standardise(Xtr, Xte)
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        mlp = MLPClassifier((hidden,), max_iter=2000, random_state=seed).fit(A, ytr)
    return [
        {
            "setting": f"{hidden} hidden",
            "acc": float(mlp.score(B, yte)),
            "auc": _auc(yte, mlp.predict_proba(B)[:, 1]),
            "size": int(sum(np.count_nonzero(W) for W in mlp.coefs_)),
            "time": time.perf_counter() - t0,
        }
    ]


def run_fasterrisk(
    Xtr: np.ndarray, ytr: np.ndarray, Xte: np.ndarray, yte: np.ndarray, python: Path, ks: list[int], timeout: float
) -> list[Row]:
    """FasterRisk in its own environment (benchmarks/interpretable/fasterrisk_runner.py) on this split."""
    if not python.exists():
        raise RuntimeError(f"no FasterRisk environment at {python} (README: how to make it)")
    runner = HERE / "interpretable" / "fasterrisk_runner.py"
    with tempfile.TemporaryDirectory() as tmp:
        npz, out = Path(tmp) / "split.npz", Path(tmp) / "out.json"
        np.savez(npz, Xtr=Xtr, ytr=ytr, Xte=Xte, yte=yte)
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        r = subprocess.run(
            [str(python), str(runner), str(npz), str(out), ",".join(map(str, ks))],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
        )
        if r.returncode != 0:
            tail = (r.stderr.strip().splitlines() or ["no message"])[-1]
            raise RuntimeError(f"FasterRisk failed: {tail}")
        res = json.loads(out.read_text())
    return [{"setting": f"k={d['k']}", **{k: d[k] for k in ("acc", "auc", "size", "time")}} for d in res]


def _gosdt_leaf_scores(root: Any, Xb: np.ndarray, Xtr_b: np.ndarray, ytr: np.ndarray) -> tuple[np.ndarray, int]:
    """Each row's leaf (routing through GOSDT's tree: ``true`` branch where the binary feature is 1), scored by
    the leaf's training frequency of class 1 (its predicted class breaks ties); the number of leaves."""
    score = np.zeros(Xb.shape[0])
    leaves = 0

    def walk(node: Any, mask: np.ndarray, mask_tr: np.ndarray) -> None:
        nonlocal leaves
        if hasattr(node, "prediction"):
            leaves += 1
            freq = float(ytr[mask_tr].mean()) if mask_tr.any() else float(node.prediction)
            score[mask] = freq
            return
        f = int(node.feature)
        walk(node.left_child, mask & Xb[:, f], mask_tr & Xtr_b[:, f])
        walk(node.right_child, mask & ~Xb[:, f], mask_tr & ~Xtr_b[:, f])

    walk(root, np.ones(Xb.shape[0], dtype=bool), np.ones(Xtr_b.shape[0], dtype=bool))
    return score, leaves


def run_gosdt(
    Xtr: np.ndarray, ytr: np.ndarray, Xte: np.ndarray, yte: np.ndarray, seed: int, time_limit: float
) -> list[Row]:
    from gosdt import GOSDTClassifier, ThresholdGuessBinarizer
    from sklearn.ensemble import GradientBoostingClassifier

    rows = []
    t0 = time.perf_counter()
    enc = ThresholdGuessBinarizer(n_estimators=40, max_depth=1, random_state=seed)
    Xtr_b = np.asarray(enc.fit_transform(Xtr, ytr), dtype=bool)
    Xte_b = np.asarray(enc.transform(Xte), dtype=bool)
    ref = GradientBoostingClassifier(n_estimators=40, max_depth=1, random_state=seed).fit(Xtr_b, ytr)
    y_ref = ref.predict(Xtr_b)
    t_enc = time.perf_counter() - t0
    for reg in (0.02, 0.01, 0.005):
        t1 = time.perf_counter()
        clf = GOSDTClassifier(regularization=reg, depth_budget=4, time_limit=int(time_limit), worker_limit=1)
        clf.fit(Xtr_b, ytr, y_ref=y_ref)
        tree = clf.trees_[0]
        pred = np.asarray(tree.predict(Xte_b))
        score, leaves = _gosdt_leaf_scores(tree.tree, Xte_b, Xtr_b, ytr)
        rows.append(
            {
                "setting": f"reg={reg:g}, depth<=4",
                "acc": float(np.mean(pred == yte)),
                "auc": _auc(yte, score) if np.ptp(score) > 0 else 0.5,
                "size": leaves,
                "time": t_enc + time.perf_counter() - t1,
                "status": str(getattr(clf.result_, "status", "")),
            }
        )
    return rows


def run_ebm(Xtr: np.ndarray, ytr: np.ndarray, Xte: np.ndarray, yte: np.ndarray, seed: int) -> list[Row]:
    from interpret.glassbox import ExplainableBoostingClassifier

    t0 = time.perf_counter()
    ebm = ExplainableBoostingClassifier(n_jobs=1, outer_bags=4, interactions=5, random_state=seed).fit(Xtr, ytr)
    return [
        {
            "setting": "4 bags, <= 5 pairs",
            "acc": float(np.mean(ebm.predict(Xte) == yte)),
            "auc": _auc(yte, ebm.predict_proba(Xte)[:, 1]),
            "size": int(len(ebm.term_features_)),
            "time": time.perf_counter() - t0,
        }
    ]


# ---------------------------------------------------------------------- one (data set, N, seed)
def run_one(name: str, n: int | None, seed: int, args: argparse.Namespace) -> list[Row]:
    Xtr, ytr, Xte, yte, _ = split(name, n, seed)
    base = {
        "dataset": name,
        "N": "full" if n is None else n,
        "n_train": int(Xtr.shape[0]),
        "n_test": int(Xte.shape[0]),
        "seed": seed,
    }
    rows: list[Row] = []
    l1s: list[float | str] = ["cv" if v == "cv" else float(v) for v in args.l1.split(",")]
    max_rows = args.mipnet_max_rows if args.mipnet_max_rows else None
    jobs: list[tuple[str, Callable[[], list[Row]]]] = []
    for meth in args.methods.split(","):
        if meth == "l1lr":
            jobs.append((meth, lambda: run_l1lr(Xtr, ytr, Xte, yte, seed)))
        elif meth == "l1lr_path":
            jobs.append((meth, lambda: run_l1lr_path(Xtr, ytr, Xte, yte, seed)))
        elif meth == "mlp":
            jobs.append((meth, lambda: run_mlp(Xtr, ytr, Xte, yte, seed, args.hidden)))
        elif meth in ("mipnet", "mipnet_linear"):
            for l1 in l1s:

                def job(l1: float | str = l1, linear: bool = meth == "mipnet_linear") -> list[Row]:
                    r = fit_mipnet(
                        Xtr,
                        ytr,
                        Xte,
                        yte,
                        hidden=args.hidden,
                        l1=l1,
                        linear=linear,
                        time_limit=args.time_limit,
                        seed=seed,
                        max_rows=max_rows,
                    )
                    r.pop("network")
                    r.pop("domain_constraints")
                    r["setting"] = f"{args.hidden} hidden, l1={l1}" + (" (chose %g)" % r["l1"] if l1 == "cv" else "")
                    if max_rows and Xtr.shape[0] > max_rows:
                        r["note"] = f"trained on {max_rows} of the {Xtr.shape[0]} rows"
                    return [r]

                jobs.append((meth, job))
        elif meth in ("mipnet_small", "mipnet_logistic", "mipnet_thresholds"):
            from mipnet.train.constraints import FeatureBudget

            settings = (
                [(st, h, l1v, k, "auto") for st, h, l1v, k in small_configs(args)]
                if meth == "mipnet_small"
                else [(st, 0, l1v, k, "logistic") for st, l1v, k in logistic_configs(args)]
            )
            A_tr, A_te, questions = Xtr, Xte, None
            boxes = (1.0, 1.0) if meth == "mipnet_small" else _boxes(args.logistic_boxes)
            if boxes != (1.0, 1.0):
                settings = [(f"{st}, boxes {boxes[0]:g}/{boxes[1]:g}", h, l1v, k, ls) for st, h, l1v, k, ls in settings]
            if meth == "mipnet_thresholds":
                from mipnet.thresholds import ThresholdFeatures

                depth = args.threshold_depth
                tf = ThresholdFeatures(n_stumps=args.threshold_stumps, random_state=seed, depth=depth).fit(Xtr, ytr)
                A_tr, A_te = tf.transform(Xtr), tf.transform(Xte)
                questions = len(tf.thresholds_) + len(tf.pairs_)
                if depth == 1:
                    named = "logistic on thresholds" + (
                        f" ({args.threshold_stumps} stumps)" if args.threshold_stumps != DEFAULT_STUMPS else ""
                    )
                else:  # the pair questions of depth-2 trees: always named, with the trees' number
                    named = f"logistic on thresholds and pairs ({args.threshold_stumps} depth-2 trees)"
                settings = [(st.replace("logistic", named, 1), h, l1v, k, ls) for st, h, l1v, k, ls in settings]
            for setting, hidden, l1v, k, loss in settings:

                def small_job(
                    setting: str = setting, hidden: int = hidden, l1v: float = l1v, k: int | None = k, loss: str = loss,
                    A_tr: np.ndarray = A_tr, A_te: np.ndarray = A_te, questions: int | None = questions,
                    boxes: tuple[float, float] = boxes,
                ) -> list[Row]:  # fmt: skip
                    r = fit_mipnet(
                        A_tr,
                        ytr,
                        A_te,
                        yte,
                        hidden=hidden,
                        l1=l1v,
                        linear=True,
                        time_limit=args.time_limit,
                        seed=seed,
                        constraints=None if k is None else [FeatureBudget(k)],
                        max_rows=max_rows,
                        loss=loss,
                        boxes=boxes,
                    )
                    r.pop("network")
                    r.pop("domain_constraints")
                    r["setting"] = setting
                    if questions is not None:
                        r["questions"] = questions  # threshold columns offered (the size counts those used)
                    if max_rows and Xtr.shape[0] > max_rows:
                        r["note"] = f"trained on {max_rows} of the {Xtr.shape[0]} rows"
                    return [r]

                jobs.append((meth, small_job))
        elif meth == "fasterrisk":
            ks = [int(k) for k in args.fasterrisk_k.split(",")]
            jobs.append(
                (
                    meth,
                    lambda ks=ks: run_fasterrisk(Xtr, ytr, Xte, yte, args.fasterrisk_python, ks, args.baseline_timeout),
                )
            )
        elif meth == "gosdt":
            jobs.append((meth, lambda: run_gosdt(Xtr, ytr, Xte, yte, seed, args.time_limit)))
        elif meth == "ebm":
            jobs.append((meth, lambda: run_ebm(Xtr, ytr, Xte, yte, seed)))
        else:
            raise SystemExit(f"unknown method {meth!r}; methods: {', '.join(METHODS)}")
    for meth, fn in jobs:
        try:
            out = fn()
        except ImportError as exc:
            out = [{"setting": "", "status": f"skipped: not installed ({exc.name or exc})"}]
        except Exception as exc:  # a baseline that does not run: its reason, never a number
            out = [{"setting": "", "status": f"skipped: {type(exc).__name__}: {str(exc).splitlines()[0][:160]}"}]
        for r in out:
            rows.append({**base, "method": meth, **r})
            print(json.dumps(rows[-1]), flush=True)
    return rows


# ---------------------------------------------------------------------- constraints table
def constraints_table(args: argparse.Namespace) -> list[Row]:
    """COMPAS: each training constraint kind against the unconstrained fit, same split, l1 and time limit."""
    from mipnet.train.constraints import ExcludeFeatures, FeatureBudget, OutputOrder, ParityBound, WeightSign

    n = None if args.constraints_n == "full" else int(args.constraints_n)
    Xtr, ytr, Xte, yte, names = split("compas", n, 0)
    idx = {f: i for i, f in enumerate(names)}
    race = [i for i, f in enumerate(names) if f.startswith("race=")]
    black = idx["race=African-American"]
    x_b = np.median(Xtr, axis=0)
    x_b[race] = 0.0
    x_b[black] = 1.0
    x_a = x_b.copy()
    x_a[idx["priors_count"]] = x_b[idx["priors_count"]] + 5
    cases: list[tuple[str, list[Any] | None]] = [
        ("none", None),
        ("exclude: the 6 race columns", [ExcludeFeatures(tuple(race))]),
        ("sign: priors_count +1 (monotone increasing)", [WeightSign(idx["priors_count"], 1)]),
        (f"budget: at most {args.budget} features", [FeatureBudget(args.budget)]),
        ("order: f(median + 5 priors) >= f(median) + 0.5", [OutputOrder(tuple(x_a), tuple(x_b), 0.5)]),
        (
            f"parity: |rate(African-American) - rate(others)| <= {args.parity_delta:g} (training rows)",
            [ParityBound(black, args.parity_delta)],
        ),
    ]
    kinds = set(args.constraints_kinds.split(","))
    cases = [c for c in cases if c[0] == "none" or c[0].split(":")[0] in kinds]
    l1: float | str = "cv" if args.constraints_l1 == "cv" else float(args.constraints_l1)
    rows = []
    for text, cons in cases:
        row: Row = {"constraint": text, "n_train": int(Xtr.shape[0]), "n_test": int(Xte.shape[0])}
        try:
            r = fit_mipnet(
                Xtr,
                ytr,
                Xte,
                yte,
                hidden=args.hidden,
                l1=l1,
                linear=False,
                time_limit=args.time_limit,
                seed=0,
                constraints=cons,
            )
            net = r.pop("network")
            checks = r.pop("domain_constraints") or []
            pos = (net.forward(Xte)[:, 0] > 0).astype(np.int64)
            grp = Xte[:, black] != 0
            row.update(r)
            row["test_parity_gap"] = float(abs(pos[grp].mean() - pos[~grp].mean()))
            row["checks"] = [{k: c.get(k) for k in ("holds", "measured", "required")} for c in checks]
        except Exception as exc:
            row["status"] = f"no network: {type(exc).__name__}: {str(exc).splitlines()[0][:160]}"
        rows.append(row)
        print(json.dumps(row), flush=True)
    return rows


# ---------------------------------------------------------------------- main
def _sizes(text: str) -> list[int | None]:
    return [None if v.strip() == "full" else int(v) for v in text.split(",")]


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--datasets", default="compas,adult,german,heart,breast_cancer")
    ap.add_argument("--n", default="1000,full", help="training sizes; 'full' = every training row")
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--methods", default=",".join(METHODS))
    ap.add_argument("--hidden", type=int, default=4, help="mipnet's and the MLP's hidden width")
    ap.add_argument("--l1", default="0.003,0.01,0.03", help="mipnet's l1 values (one point each), or cv")
    ap.add_argument("--small-l1", default="0.01,0.03,0.1", help="mipnet_small: l1 of the linear term alone")
    ap.add_argument("--small-k", default="1,2,3,4,5", help="mipnet_small: feature budgets K of the linear term")
    ap.add_argument("--small-k-l1", default="0.001", help="mipnet_small: l1 of the budget fits")
    ap.add_argument("--small-hidden", default="1,2", help="mipnet_small: hidden units beside the linear term")
    ap.add_argument("--small-hidden-l1", default="0.03", help="mipnet_small: l1 of those fits")
    ap.add_argument("--logistic-l1", default="0.01", help="mipnet_logistic: l1 of the fits without a budget")
    ap.add_argument(
        "--threshold-stumps", type=int, default=DEFAULT_STUMPS, help="mipnet_thresholds: boosted stumps (40: GOSDT's)"
    )
    ap.add_argument(
        "--threshold-depth", type=int, default=1, choices=(1, 2), help="mipnet_thresholds: 2 adds the pair questions"
    )
    ap.add_argument(
        "--logistic-boxes",
        default="1,1",
        help="mipnet_logistic / mipnet_thresholds: weight and bias bounds B_w,B_b (others are named in the setting)",
    )
    ap.add_argument("--time-limit", type=float, default=60.0, help="mipnet's (and GOSDT's) limit per fit, s")
    ap.add_argument("--mipnet-max-rows", type=int, default=0, help="train mipnet on at most this many rows (0: all)")
    ap.add_argument("--fasterrisk-python", type=Path, default=DEFAULT_FR_PYTHON)
    ap.add_argument("--fasterrisk-k", default="3,5,7,10")
    ap.add_argument("--baseline-timeout", type=float, default=900.0)
    ap.add_argument("--constraints-table", action="store_true", help="also the COMPAS constraints table")
    ap.add_argument("--constraints-n", default="1000")
    ap.add_argument("--constraints-l1", default="0.01")
    ap.add_argument("--constraints-kinds", default="exclude,sign,budget,order,parity", help="besides 'none'")
    ap.add_argument("--budget", type=int, default=3)
    ap.add_argument("--parity-delta", type=float, default=0.1)
    ap.add_argument("--no-plots", action="store_true")
    ap.add_argument(
        "--from-rows",
        type=lambda v: [Path(p) for p in v.split(",")],
        help="redo table.md and the plots from this rows.json (several, comma-separated: rows merged), run nothing",
    )
    ap.add_argument("--out", type=Path, default=Path("results/interpretable"))
    args = ap.parse_args(argv)
    sys.path.insert(0, str(HERE))
    from interpretable import summary

    args.out.mkdir(parents=True, exist_ok=True)
    rows: list[Row] = []
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    if args.from_rows is not None:
        saved = [json.loads(p.read_text()) for p in args.from_rows]
        rows = [r for sv in saved for r in sv["rows"]]
        started = min(sv["started"] for sv in saved)
        argv = (
            saved[0]["argv"]
            if len(saved) == 1
            else ["merged from:", *(" ".join(map(str, sv["argv"])) + ";" for sv in saved)]
        )
        args.datasets = ""
    for name in filter(None, args.datasets.split(",")):
        for n in _sizes(args.n):
            for seed in [int(s) for s in args.seeds.split(",")]:
                rows.extend(run_one(name, n, seed, args))
    if args.from_rows is None:
        argv = sys.argv[1:] if argv is None else argv
    meta = {"benchmark": "interpretable_frontier", "started": started, "argv": argv}
    (args.out / "rows.json").write_text(json.dumps({**meta, "rows": rows}, indent=1, default=str))
    agg = summary.aggregate(rows)
    md = [f"Run {started}: `{' '.join(meta['argv'])}`", "", *summary.table(agg), "", "Target:", *summary.verdict(agg)]
    fr = summary.frontier(rows)
    md += ["", "Frontier by size (paired over seeds; summary.py's doc):", "", *summary.frontier_md(fr)]
    (args.out / "table.md").write_text("\n".join(md) + "\n")
    if not args.no_plots:
        summary.plot(agg, args.out)
        summary.plot_difference(fr, args.out)
    if args.from_rows is not None:  # each constraints*.json of the output folder rendered again
        for path in sorted(args.out.glob("constraints*.json")):
            crow = json.loads(path.read_text())["rows"]
            path.with_suffix(".md").write_text("\n".join(summary.constraints_md(crow)) + "\n")
    elif args.constraints_table:
        crow = constraints_table(args)
        name = f"constraints_{args.constraints_n}"
        (args.out / f"{name}.json").write_text(json.dumps({**meta, "rows": crow}, indent=1, default=str))
        (args.out / f"{name}.md").write_text("\n".join(summary.constraints_md(crow)) + "\n")
    print("\n".join(md))


if __name__ == "__main__":
    main()
