"""The standardisation rule (mipnet.train.scaling): relative, overflow-free, one home for trainer and re-check."""

from __future__ import annotations

import numpy as np
import pytest

from mipnet import MIPNetClassifier
from mipnet.train.scaling import column_scale


@pytest.mark.parametrize("unit", [1e-13, 1.0, 1e160])
def test_scale_is_the_same_in_any_unit(unit):
    X = np.random.default_rng(0).normal(size=(50, 3))
    mu1, sd1 = column_scale(X)
    mu, sd = column_scale(X * unit)
    np.testing.assert_allclose(sd / unit, sd1, rtol=1e-12)
    np.testing.assert_allclose(mu / unit, mu1, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(sd1, X.std(axis=0), rtol=1e-12)


def test_constant_and_zero_columns_read_as_one():
    X = np.c_[np.zeros(6), np.full(6, 3.0), 1000 + 1e-14 * np.arange(6)]
    mu, sd = column_scale(X)
    assert sd.tolist() == [1.0, 1.0, 1.0] and mu[1] == 3.0


@pytest.mark.parametrize("unit", [1e-13, 1e160])
def test_a_fit_in_small_or_large_units_is_the_fit_in_plain_units(unit):
    """The same data x 1e-13 trained a constant classifier (every sd under the absolute cut-off 1e-12), reported
    optimal; x 1e160 overflowed the squares. The fit must not depend on the unit."""
    rng = np.random.default_rng(1)
    X = rng.normal(size=(60, 2))
    y = (X[:, 0] - X[:, 1] > 0).astype(int)
    kw = dict(max_neurons=0, linear_term=True, loss="logistic", l1=0.01, time_limit=20, threads=1)
    plain = MIPNetClassifier((1,), **kw).fit(X, y)
    scaled = MIPNetClassifier((1,), **kw).fit(X * unit, y)
    assert scaled.score(X * unit, y) == plain.score(X, y) > 0.9
    assert scaled.certificate_.incumbent == pytest.approx(plain.certificate_.incumbent, rel=1e-6)
