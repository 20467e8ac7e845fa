"""sklearn MLP import: logits reproduce predict_proba / predict; scalers fold into Normalize."""

from __future__ import annotations

import pickle
import warnings

import joblib
import numpy as np
import pandas as pd
import pytest
from scipy.special import expit, softmax
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from mipnet.domain import Domain
from mipnet.errors import ModelFormatError, UnsupportedError
from mipnet.io.native import load_json, save_json
from mipnet.io.sklearn_io import from_sklearn, load_sklearn_file
from mipnet.layers import Dense, Identity, Normalize, ReLU, Sigmoid, Tanh

RNG = np.random.default_rng(0)
# features on very different scales, so a missing or wrong scaler shows up in the outputs
X = RNG.normal(size=(120, 4)) * [1.0, 10.0, 100.0, 0.1] + [0.0, 5.0, -50.0, 1.0]
COLS = ["age", "income", "debt", "ratio"]
Y_BIN = np.where(X[:, 0] + (X[:, 1] - 5) / 10 > 0.3, "yes", "no")
Y_MULTI = np.digitize(X[:, 0] + (X[:, 2] + 50) / 100, [-0.5, 0.5]) * 10  # classes 0, 10, 20


def _fit(est, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y)


def _proba(logits: np.ndarray) -> np.ndarray:
    if logits.shape[1] == 1:
        p = expit(logits[:, 0])
        return np.c_[1 - p, p]
    return softmax(logits, axis=1)


@pytest.mark.parametrize("activation", ["relu", "identity", "tanh", "logistic"])
@pytest.mark.parametrize("target", ["binary", "multiclass"])
@pytest.mark.parametrize("scaler", [None, StandardScaler, MinMaxScaler])
def test_classifier_matches_predict_proba(activation, target, scaler):
    y = Y_BIN if target == "binary" else Y_MULTI
    mlp = MLPClassifier(hidden_layer_sizes=(6, 4), activation=activation, max_iter=300, random_state=1)
    est = _fit(mlp if scaler is None else make_pipeline(scaler(), mlp), X, y)
    net = from_sklearn(est)
    logits = net.forward(X)
    assert logits.shape[1] == (1 if target == "binary" else 3)
    np.testing.assert_allclose(_proba(logits), est.predict_proba(X), atol=1e-6, rtol=0)
    assert np.array_equal(net.predict(X), est.predict(X))
    assert net.class_names == list(est.classes_)
    assert net.task == "classify"
    hidden = {"relu": ReLU, "identity": Identity, "tanh": Tanh, "logistic": Sigmoid}[activation]
    assert [type(l) for l in net.layers[-5:]] == [Dense, hidden, Dense, hidden, Dense]
    assert isinstance(net.layers[0], Normalize) == (scaler is not None)


def test_regressor_matches_predict_single_and_multi_output():
    y1 = X[:, 0] * 3 - X[:, 1] / 10
    est = _fit(
        make_pipeline(StandardScaler(), MLPRegressor(hidden_layer_sizes=(8,), max_iter=400, random_state=0)), X, y1
    )
    net = from_sklearn(est)
    assert net.task == "regress" and net.n_outputs == 1
    np.testing.assert_allclose(net.predict(X), est.predict(X), atol=1e-9)
    y2 = np.c_[y1, X[:, 3]]
    est2 = _fit(MLPRegressor(hidden_layer_sizes=(5,), activation="tanh", max_iter=200, random_state=0), X, y2)
    np.testing.assert_allclose(from_sklearn(est2).predict(X), est2.predict(X), atol=1e-9)


def test_feature_names_from_dataframe_or_argument_and_domain():
    df = pd.DataFrame(X, columns=COLS)
    est = _fit(
        make_pipeline(StandardScaler(), MLPClassifier(hidden_layer_sizes=(3,), max_iter=50, random_state=0)), df, Y_BIN
    )
    net = from_sklearn(est)
    assert net.feature_names == COLS
    np.testing.assert_allclose(_proba(net.forward(X)), est.predict_proba(df), atol=1e-6)
    assert from_sklearn(est, feature_names=list("abcd")).feature_names == list("abcd")
    dom = Domain.box(COLS, X.min(axis=0), X.max(axis=0))
    assert from_sklearn(est, domain=dom).domain.lower.tolist() == X.min(axis=0).tolist()
    with pytest.raises(ModelFormatError, match="3 features"):
        from_sklearn(est, domain=Domain.box(3))


def test_json_round_trip_keeps_classes_and_outputs(tmp_path):
    est = _fit(MLPClassifier(hidden_layer_sizes=(4,), max_iter=100, random_state=0), X, Y_MULTI)
    net = from_sklearn(est)
    save_json(net, tmp_path / "m.json")
    back = load_json(tmp_path / "m.json")
    assert back.class_names == [0, 10, 20]
    np.testing.assert_array_equal(back.forward(X), net.forward(X))


@pytest.mark.parametrize("dump", ["pickle", "joblib"])
def test_load_file(tmp_path, dump):
    est = _fit(
        make_pipeline(MinMaxScaler(), MLPClassifier(hidden_layer_sizes=(4,), max_iter=100, random_state=0)), X, Y_BIN
    )
    path = tmp_path / "model.pkl"
    if dump == "pickle":
        path.write_bytes(pickle.dumps(est))
    else:
        joblib.dump(est, path)
    net = load_sklearn_file(path)
    np.testing.assert_allclose(_proba(net.forward(X)), est.predict_proba(X), atol=1e-6)
    assert net.metadata["source"] == "sklearn"


def test_errors(tmp_path):
    with pytest.raises(ModelFormatError, match="MLPClassifier is not fitted"):
        from_sklearn(MLPClassifier())
    with pytest.raises(ModelFormatError, match="MLPRegressor is not fitted"):
        from_sklearn(make_pipeline(StandardScaler(), MLPRegressor()))
    lr = _fit(LogisticRegression(), X, Y_BIN)
    with pytest.raises(UnsupportedError, match="LogisticRegression"):
        from_sklearn(lr)
    with pytest.raises(UnsupportedError, match="'PCA'"):
        from_sklearn(_fit(make_pipeline(PCA(2), MLPClassifier(max_iter=5)), X, Y_BIN))
    with pytest.raises(UnsupportedError, match="clip=True"):
        from_sklearn(_fit(make_pipeline(MinMaxScaler(clip=True), MLPClassifier(max_iter=5)), X, Y_BIN))
    multilabel = _fit(MLPClassifier(max_iter=5), X, (X[:, :2] > 0).astype(int))
    with pytest.raises(UnsupportedError, match="multi-label"):
        from_sklearn(multilabel)

    (tmp_path / "lr.pkl").write_bytes(pickle.dumps(lr))
    with pytest.raises(UnsupportedError, match="lr.pkl: cannot import a LogisticRegression"):
        load_sklearn_file(tmp_path / "lr.pkl")
    (tmp_path / "d.pkl").write_bytes(pickle.dumps({"a": 1}))
    with pytest.raises(UnsupportedError, match="cannot import a dict"):
        load_sklearn_file(tmp_path / "d.pkl")
    (tmp_path / "bad.pkl").write_bytes(b"not a pickle at all")
    with pytest.raises(ModelFormatError, match="not a readable pickle"):
        load_sklearn_file(tmp_path / "bad.pkl")


@pytest.mark.parametrize("with_mean, with_std", [(False, True), (True, False), (False, False)])
def test_standard_scaler_without_centring_or_scaling(with_mean, with_std):
    """StandardScaler(with_mean=False) keeps mean_ but does not subtract it (with_std=False: keeps var_, does not
    divide): the imported network must do the same (before, mean_ was subtracted and 45 of 200 predictions
    differed)."""
    scaler = StandardScaler(with_mean=with_mean, with_std=with_std)
    mlp = MLPClassifier(hidden_layer_sizes=(6,), max_iter=300, random_state=1)
    est = _fit(make_pipeline(scaler, mlp), X, Y_BIN)
    net = from_sklearn(est)
    np.testing.assert_allclose(_proba(net.forward(X)), est.predict_proba(X), atol=1e-6, rtol=0)


def test_a_poisson_regressor_is_refused():
    """loss="poisson" predicts exp(z): read without the exp, predictions were log(prediction) (a false "holds")."""
    from mipnet.errors import UnsupportedError
    from mipnet.io.sklearn_io import from_sklearn

    rng = np.random.default_rng(0)
    X = rng.uniform(0, 1, size=(40, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reg = MLPRegressor(hidden_layer_sizes=(3,), loss="poisson", max_iter=50, random_state=0).fit(
            X, np.exp(X.sum(axis=1))
        )
    with pytest.raises(UnsupportedError, match="'exp'"):
        from_sklearn(reg)
