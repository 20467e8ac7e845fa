"""Consistency of explanations: do near-identical instances get near-identical explanations?

For an instance x with nearest neighbour x' (Euclidean, in input space, x' != x) and an explanation
method E that returns a feature-weight vector for a class c,

    consistency(x) = cos(E(x, c), E(x', c)) = <E(x,c), E(x',c)> / (||E(x,c)|| ||E(x',c)||),

with c the class the network predicts for x. Two zero vectors count as identical (cosine 1): a region
where every hidden unit is off has a constant classifier and zero decision features. Methods compared:

* ``openbox``: the decision features of the local linear classifier, i.e. row c of W^ (for a
  one-logit net, the logit row; with two logits the margin row W^_c - W^_{1-c}). For a piecewise-linear
  net this *is* the plain input gradient, so plain gradients are not a separate baseline.
* ``smoothgrad``: the mean input gradient over Gaussian copies x + N(0, (sigma range)^2), which
  averages the local classifiers of the neighbouring regions (Smilkov et al. 2017).
* ``lime``: LIME's tabular explainer (optional dependency ``lime``): the weights of its local
  sparse linear surrogate of the class probability, for every feature.

Both randomised methods use the same random seed for x and x', so their differences come from the
method and not from the random stream.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ..errors import UnsupportedError
from ..network import Network
from .openbox import Interpretation, affine_maps, configurations, piece_layers


def nearest_neighbours(X: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """Index in X of the nearest other row for each query index (ties: the lowest index)."""
    from sklearn.neighbors import NearestNeighbors

    nn = NearestNeighbors(n_neighbors=2).fit(X)
    _, idx = nn.kneighbors(X[queries])
    # the first neighbour is the query itself unless a duplicate row precedes it
    return np.where(idx[:, 0] == queries, idx[:, 1], idx[:, 0])


def cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise cosine similarity; 1 when both rows are zero (identical explanations), 0 when one is."""
    na = np.linalg.norm(a, axis=1)
    nb = np.linalg.norm(b, axis=1)
    den = na * nb
    cos = np.where(den > 0, np.sum(a * b, axis=1) / np.where(den > 0, den, 1.0), 0.0)
    return np.where((na == 0) & (nb == 0), 1.0, cos)


def _class_row(W: np.ndarray, cls: np.ndarray) -> np.ndarray:
    """Per row n, the feature weights for class cls[n] from local maps W (n, n_out, n_in)."""
    if W.shape[1] == 1:
        sign = np.where(cls == 1, 1.0, -1.0)
        return W[:, 0] * sign[:, None]
    if W.shape[1] == 2:
        d = W[:, 1] - W[:, 0]
        return d * np.where(cls == 1, 1.0, -1.0)[:, None]
    return W[np.arange(W.shape[0]), cls]


def gradients(net: Network, X: np.ndarray) -> np.ndarray:
    """Exact input Jacobians (n, n_out, n_in) of a piecewise-linear net: the local classifier of each row."""
    pieces = piece_layers(net)
    codes, _ = configurations(net, X, pieces)
    if codes.shape[1] == 0:
        maps = affine_maps(net, codes[:1], pieces)
        return np.broadcast_to(maps.weight, (X.shape[0],) + maps.weight.shape[1:]).copy()
    uniq, inverse = np.unique(codes, axis=0, return_inverse=True)
    maps = affine_maps(net, uniq, pieces)
    return maps.weight[inverse.ravel()]


def openbox_features(interp: Interpretation, rows: np.ndarray, cls: np.ndarray) -> np.ndarray:
    """Decision features for class cls[i] of the interpreted instances ``rows``."""
    return _class_row(interp.weight[interp.region[rows]], cls)


def smoothgrad_features(
    net: Network,
    X: np.ndarray,
    cls: np.ndarray,
    sigma: float = 0.1,
    n_samples: int = 50,
    scale: np.ndarray | None = None,
    seed: int = 0,
) -> np.ndarray:
    """SmoothGrad: mean exact gradient over ``n_samples`` Gaussian copies, noise sigma * feature range."""
    rng = np.random.default_rng(seed)
    scale = np.ones(X.shape[1]) if scale is None else np.asarray(scale, float)
    out = np.empty_like(X)
    for i in range(X.shape[0]):
        noisy = X[i] + rng.normal(size=(n_samples, X.shape[1])) * sigma * scale
        out[i] = _class_row(gradients(net, noisy), np.full(n_samples, cls[i])).mean(axis=0)
    return out


def lime_features(
    net: Network, X_train: np.ndarray, X: np.ndarray, cls: np.ndarray, num_samples: int = 2000, seed: int = 0
) -> np.ndarray:
    """LIME tabular weights of all features for class cls[i] (needs the optional package ``lime``)."""
    try:
        from lime.lime_tabular import LimeTabularExplainer
    except ImportError:
        raise UnsupportedError("LIME is not installed: pip install lime (or mipnet[lime])") from None

    predict_proba = _probabilities(net)
    explainer = LimeTabularExplainer(
        X_train, mode="classification", discretize_continuous=False, feature_names=net.feature_names, random_state=seed
    )
    out = np.zeros_like(X)
    for i in range(X.shape[0]):
        label = int(cls[i])
        exp = explainer.explain_instance(
            X[i], predict_proba, labels=(label,), num_features=X.shape[1], num_samples=num_samples
        )
        for j, w in exp.as_map()[label]:
            out[i, j] = w
    return out


def _probabilities(net: Network) -> Callable[[np.ndarray], np.ndarray]:
    def proba(Z: np.ndarray) -> np.ndarray:
        logits = net.forward(Z)
        if logits.shape[1] == 1:
            p = 1.0 / (1.0 + np.exp(-np.clip(logits[:, 0], -500, 500)))
            return np.column_stack([1 - p, p])
        e = np.exp(logits - logits.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    return proba


def consistency(
    interp: Interpretation,
    X: np.ndarray,
    rows: np.ndarray | None = None,
    methods: tuple[str, ...] = ("openbox", "smoothgrad", "lime"),
    lime_rows: int = 20,
    lime_samples: int = 2000,
    seed: int = 0,
) -> dict[str, Any]:
    """Cosine similarity of each method's explanation of x and of its nearest neighbour.

    ``rows`` are the instances tested (default: all); LIME runs on the first ``lime_rows`` of them only
    (it costs a few hundred ms per explanation). Returns per method the mean, median and per-row values,
    and the share of pairs whose two instances share a configuration.
    """
    X = np.asarray(X, dtype=np.float64)
    rows = np.arange(X.shape[0]) if rows is None else np.asarray(rows)
    nbr = nearest_neighbours(X, rows)
    cls = interp.net.predict_index(interp.outputs[rows])
    scale = X.max(axis=0) - X.min(axis=0)
    result: dict[str, Any] = {
        "n_pairs": int(rows.size),
        "same_region": float(np.mean(interp.region[rows] == interp.region[nbr])),
        "methods": {},
    }
    for m in methods:
        sel = np.arange(rows.size) if m != "lime" else np.arange(min(lime_rows, rows.size))
        a_rows, b_rows, c = rows[sel], nbr[sel], cls[sel]
        if m == "openbox":
            fa, fb = openbox_features(interp, a_rows, c), openbox_features(interp, b_rows, c)
        elif m == "smoothgrad":
            fa = smoothgrad_features(interp.net, X[a_rows], c, scale=scale, seed=seed)
            fb = smoothgrad_features(interp.net, X[b_rows], c, scale=scale, seed=seed)
        elif m == "lime":
            try:
                fa = lime_features(interp.net, X, X[a_rows], c, lime_samples, seed)
                fb = lime_features(interp.net, X, X[b_rows], c, lime_samples, seed)
            except UnsupportedError as exc:
                result["methods"][m] = {"skipped": str(exc)}
                continue
        else:
            raise UnsupportedError(f"unknown explanation method {m!r} (openbox, smoothgrad, lime)")
        cs = cosine(fa, fb)
        result["methods"][m] = {
            "n": int(cs.size),
            "mean": float(cs.mean()),
            "median": float(np.median(cs)),
            "min": float(cs.min()),
            "zero_explanations": float(np.mean(~fa.any(axis=1))),
            "values": cs.tolist(),
        }
    return result
