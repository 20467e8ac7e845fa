"""scikit-learn MLPs as :class:`~mipnet.network.Network` objects.

A fitted ``MLPClassifier`` / ``MLPRegressor`` with L hidden layers computes

    h_0 = x,   h_l = act(W_l^T h_{l-1} + b_l)  (l = 1..L),   z = W_{L+1}^T h_L + b_{L+1}

with ``W_l = coefs_[l-1]`` (shape in x out) and ``b_l = intercepts_[l-1]``; ``act`` is relu, identity,
tanh or logistic (-> Sigmoid layer). The network returned outputs the *logits* z:

* binary classifier: one logit, ``predict_proba = [1 - sigmoid(z), sigmoid(z)]``;
* K-class classifier: K logits, ``predict_proba = softmax(z)``;
* regressor: z itself (task ``"regress"``).

The output activation is never encoded: sigmoid and softmax are monotone, so the predicted class is
the sign of the single logit, or the argmax of the K logits.

A ``Pipeline`` of ``StandardScaler`` / ``MinMaxScaler`` steps followed by the MLP becomes a
:class:`~mipnet.layers.Normalize` layer in front, ``x_scaled = scale * x + offset``, so the network
reads raw features and every statement about it is in the user's own units:

    StandardScaler:  scale = 1 / s,  offset = -mean / s
    MinMaxScaler:    scale = scale_, offset = min_      (clip=True is not affine: rejected)
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..domain import Domain
from ..errors import MipnetError, ModelFormatError, UnsupportedError
from ..layers import Dense, Identity, Layer, Normalize, ReLU, Sigmoid, Tanh
from ..network import Network

_ACTIVATIONS = {"relu": ReLU, "identity": Identity, "tanh": Tanh, "logistic": Sigmoid}
_SUPPORTED = "a fitted MLPClassifier/MLPRegressor or a Pipeline of StandardScaler/MinMaxScaler steps ending in one"


def _scaler_layer(step: Any, n: int) -> Normalize:
    """The affine map of a fitted scaler as a Normalize layer on ``n`` features."""
    from sklearn.preprocessing import MinMaxScaler, StandardScaler

    _require_fitted(step)
    if isinstance(step, StandardScaler):
        # (with_mean=False keeps mean_ but does not subtract it; with_std=False keeps var_ but does not divide)
        mean = np.asarray(step.mean_, float) if step.with_mean and step.mean_ is not None else np.zeros(n)
        s = np.asarray(step.scale_, float) if step.with_std and step.scale_ is not None else np.ones(n)
        return Normalize(1.0 / s, -mean / s)
    if isinstance(step, MinMaxScaler):
        if step.clip:
            raise UnsupportedError("MinMaxScaler(clip=True) is not an affine map; refit it with clip=False")
        return Normalize(np.array(step.scale_, float), np.array(step.min_, float))
    name = type(step).__name__
    raise UnsupportedError(f"unsupported pipeline step {name!r} (supported: StandardScaler, MinMaxScaler)")


def _require_fitted(est: Any) -> None:
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    try:
        check_is_fitted(est)
    except NotFittedError:
        raise ModelFormatError(f"the {type(est).__name__} is not fitted; call fit() before importing it") from None


def _split(estimator: Any) -> tuple[list[Any], Any]:
    """(preprocessing steps, final MLP) of an estimator or pipeline; anything else is rejected."""
    from sklearn.neural_network import MLPClassifier, MLPRegressor
    from sklearn.pipeline import Pipeline

    steps: list[Any] = []
    if isinstance(estimator, Pipeline):
        steps = [s for _, s in estimator.steps[:-1] if s is not None and s != "passthrough"]
        estimator = estimator.steps[-1][1]
    if not isinstance(estimator, (MLPClassifier, MLPRegressor)):
        raise UnsupportedError(f"cannot import a {type(estimator).__name__}: expected {_SUPPORTED}")
    return steps, estimator


def from_sklearn(estimator: Any, feature_names: Sequence[str] | None = None, domain: Domain | None = None) -> Network:
    """Convert a fitted sklearn MLP (or scaler + MLP pipeline) to a Network outputting logits.

    Feature names come from ``feature_names``, else the estimator's ``feature_names_in_``, else
    ``x0, x1, ...``; the domain defaults to the unbounded box over those names.
    """
    from sklearn.neural_network import MLPClassifier

    steps, mlp = _split(estimator)
    _require_fitted(mlp)
    n_in = int(mlp.coefs_[0].shape[0])
    layers: list[Layer] = [_scaler_layer(s, n_in) for s in steps]
    act = _ACTIVATIONS.get(mlp.activation)
    if act is None:
        raise UnsupportedError(f"unsupported MLP activation {mlp.activation!r} (supported: {', '.join(_ACTIVATIONS)})")
    n_layers = len(mlp.coefs_)
    for i, (w, b) in enumerate(zip(mlp.coefs_, mlp.intercepts_)):
        layers.append(Dense(np.asarray(w, float).T, np.asarray(b, float)))
        if i < n_layers - 1:
            layers.append(act())

    kwargs: dict[str, Any] = {"task": "regress"}
    if not isinstance(mlp, MLPClassifier) and mlp.out_activation_ != "identity":
        # loss="poisson" predicts exp(z): the network without it would answer log(prediction)
        raise UnsupportedError(
            f"an MLPRegressor whose output is {mlp.out_activation_!r} (loss={getattr(mlp, 'loss', '?')!r}) is not "
            "supported: mipnet reads piecewise-linear or smooth hidden layers with an identity output"
        )
    if isinstance(mlp, MLPClassifier):
        if mlp.out_activation_ not in ("logistic", "softmax") or (
            mlp.out_activation_ == "logistic" and mlp.n_outputs_ != 1
        ):
            raise UnsupportedError("multi-label MLPClassifier models are not supported (one label per sample only)")
        kwargs = {"task": "classify", "class_names": np.asarray(mlp.classes_).tolist()}

    if feature_names is None:
        names_in = getattr(estimator, "feature_names_in_", None)
        feature_names = list(names_in) if names_in is not None else None
    if domain is None:
        domain = Domain.box(list(feature_names) if feature_names is not None else n_in, -np.inf, np.inf)
    elif domain.n_features != n_in:
        raise ModelFormatError(f"the domain has {domain.n_features} features, the {type(mlp).__name__} takes {n_in}")
    meta = {
        "source": "sklearn",
        "estimator": type(estimator).__name__,
        "output_activation": mlp.out_activation_,
    }
    return Network(layers, domain=domain, metadata=meta, **kwargs)


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else ""


def load_sklearn_file(path: str | os.PathLike[str]) -> Network:
    """Load a pickled/joblib-saved sklearn MLP or pipeline (only open files you trust: unpickling runs code)."""
    import joblib

    p = Path(path)
    if not p.is_file():
        raise MipnetError(f"file not found: {p}")
    try:
        obj = joblib.load(p)  # reads plain pickles as well as joblib dumps
    except Exception as exc:  # noqa: BLE001 - any unpickling failure is a bad file for the user
        why = f"{type(exc).__name__}: {_first_line(exc)}"
        raise ModelFormatError(f"{p} is not a readable pickle/joblib file: {why}") from None
    try:
        return from_sklearn(obj)
    except MipnetError as exc:
        raise type(exc)(f"{p}: {exc}") from None


__all__ = ["from_sklearn", "load_sklearn_file"]
