"""Estimator parameters: every constructor parameter has scikit-learn constraints, checked at fit (a bad value
fails with InvalidParameterError naming the parameter, before any training); warm_start is renamed init
(the old name warns and behaves identically)."""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.utils._param_validation import InvalidParameterError

from mipnet import MIPNetClassifier, MIPNetRegressor
from mipnet.deadline import Deadline
from mipnet.errors import DataError
from mipnet.train.estimators import ParameterError

FAST: dict[str, Any] = dict(hidden_layer_sizes=(1,), time_limit=20.0, lp_heuristic_rounds=1, threads=1)


def _data(n: int = 10, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))
    return X, (X[:, 0] - 0.5 * X[:, 1] > 0).astype(int)


BAD: list[tuple[str, Any]] = [
    ("time_limit", -1.0),
    ("time_limit", math.nan),
    ("time_limit", "60"),
    ("solver", "no-such-solver"),
    ("solver", ""),
    ("l1", -0.1),
    ("l1", "auto"),
    ("l1", math.nan),
    ("l2", -1.0),
    ("l0", math.inf),
    ("margin", -1.0),
    ("neuron_penalty", -0.5),
    ("layer_penalty", math.nan),
    ("channel_penalty", -1.0),
    ("threads", 0),
    ("threads", 1.5),
    ("hidden_layer_sizes", 0),
    ("hidden_layer_sizes", "3"),
    ("hidden_layer_sizes", (2.5,)),  # scikit-learn checks the container only: 2 units were trained
    ("hidden_layer_sizes", (3, 0)),
    ("hidden_layer_sizes", ()),  # no layer: it passed the check and failed at fit as a DataError
    ("max_samples", True),  # a bool is an Integral: it trained on one row and said "optimal"
    ("levels", 0),
    ("weight_bound", 0.0),
    ("bias_bound", -1.0),
    ("scale", math.inf),
    ("max_nonzeros", -1),
    ("max_neurons", 2.5),
    ("max_channels", -2),
    ("max_samples", 0),
    ("random_state", -1),
    ("random_state", 2**32),
    ("hypothesis", "binary"),
    ("loss", "squared"),
    ("init", "cold"),
    ("warm_start", "yes"),
    ("lp_heuristic_rounds", -1),
    ("downsample", 0),
    ("cv_folds", 1),
    ("sign_patterns", "no"),
]


@pytest.mark.parametrize("param, value", BAD, ids=[f"{p}={v!r}" for p, v in BAD])
def test_bad_values_fail_at_fit_naming_the_parameter(param: str, value: Any):
    X, y = _data()
    est = MIPNetClassifier(**{**FAST, param: value})  # the constructor only stores
    assert est.get_params()[param] is value
    with pytest.raises(InvalidParameterError, match=f"The '{param}' parameter of MIPNetClassifier must be") as info:
        est.fit(X, y)
    assert isinstance(info.value, ParameterError) and isinstance(info.value, DataError)
    assert isinstance(info.value, ValueError) and "\n" not in str(info.value)
    assert not hasattr(est, "network_")


def test_regressor_losses_and_bad_values():
    X, _ = _data()
    with pytest.raises(InvalidParameterError, match="The 'loss' parameter of MIPNetRegressor must be"):
        MIPNetRegressor(**{**FAST, "loss": "hinge"}).fit(X, X[:, 0])
    with pytest.raises(InvalidParameterError, match="The 'time_limit' parameter of MIPNetRegressor"):
        MIPNetRegressor(**{**FAST, "time_limit": -5}).fit(X, X[:, 0])


def test_good_values_pass_the_checks():
    for value in (0.0, 5, 60.0, math.inf, Deadline(30.0)):  # inf: no limit; a Deadline: the caller's clock
        MIPNetClassifier(time_limit=value)._validate_params()
    for kw in (
        dict(l1="cv"),
        dict(l1=0),
        dict(hidden_layer_sizes=4),
        dict(hidden_layer_sizes=[2, 2]),
        dict(solver="highs"),
        dict(threads=None),
        dict(random_state=None),
        dict(architecture="conv2x3"),
        dict(architecture=[("conv", 2, 3)]),
        dict(input_shape=(1, 8, 8)),
        dict(max_nonzeros=0),
        dict(init="none"),
        dict(warm_start=True),
        dict(verbose=1),
        dict(loss="zero_one"),
    ):
        MIPNetClassifier(**kw)._validate_params()
    MIPNetRegressor(loss="squared")._validate_params()


def test_every_parameter_has_a_constraint():
    for cls in (MIPNetClassifier, MIPNetRegressor):
        assert set(cls._parameter_constraints) == set(cls().get_params())


def test_sklearn_param_validation_check():
    from sklearn.utils.estimator_checks import check_param_validation

    for est in (MIPNetClassifier(**FAST), MIPNetRegressor(**FAST)):
        check_param_validation(type(est).__name__, est)


def _strip(d: Any) -> Any:
    if isinstance(d, dict):
        return {k: _strip(v) for k, v in d.items() if k not in ("wall_time", "solve_time", "seconds", "trace")}
    if isinstance(d, list):
        return [_strip(v) for v in d]
    return d


@pytest.mark.parametrize("old, new", [(False, "none"), (True, "gradient")])
def test_warm_start_is_renamed_init_and_behaves_identically(old: bool, new: str):
    X, y = _data(12, seed=2)
    kw = dict(FAST, l1=0.01)
    with pytest.warns(FutureWarning, match=f"init={new!r} instead of warm_start={old!r}"):
        a = MIPNetClassifier(**kw, warm_start=old).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)  # the new name does not warn
        b = MIPNetClassifier(**kw, init=new).fit(X, y)
    assert _strip(a.certificate_.to_dict()) == _strip(b.certificate_.to_dict())
    np.testing.assert_array_equal(a.decision_function(X), b.decision_function(X))
    assert (a.certificate_.warm_start_objective is None) == (new == "none")


def test_init_defaults_and_contradiction():
    est = MIPNetClassifier()
    assert est.get_params()["init"] == "gradient" and est.get_params()["warm_start"] == "deprecated"
    assert clone(MIPNetClassifier(init="none")).init == "none"
    X, y = _data()
    with pytest.raises(InvalidParameterError, match="contradicts init"):
        MIPNetClassifier(**FAST, init="none", warm_start=True).fit(X, y)


def test_regressor_rejects_complex_targets_before_any_work():
    """A complex target is one clear error (float64 would silently drop the imaginary part), as for complex X."""
    import warnings

    from mipnet.train.estimators import InputError

    X = np.arange(12, dtype=float).reshape(6, 2)
    y = np.arange(6) + 1j * np.ones(6)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no ComplexWarning either
        with pytest.raises(InputError, match="Complex data not supported"):
            MIPNetRegressor((1,), time_limit=5).fit(X, y)


def test_predict_proba_follows_the_loss_the_model_was_fitted_with():
    """set_params(loss="logistic") after a hinge fit made predict_proba available, giving "probabilities" of a model
    never fitted for them; and the other way round."""
    X, y = _data(12)
    est = MIPNetClassifier(**{**FAST, "loss": "hinge", "time_limit": 5.0}).fit(X, y)
    assert not hasattr(est, "predict_proba")
    est.set_params(loss="logistic")
    assert not hasattr(est, "predict_proba")  # no refit: still the hinge model
    est.fit(X, y)
    assert est.certificate_.loss == "logistic" and hasattr(est, "predict_proba")
    np.testing.assert_allclose(est.predict_proba(X).sum(axis=1), 1.0)
    est.set_params(loss="hinge")
    assert hasattr(est, "predict_proba")  # the fitted model's loss decides
