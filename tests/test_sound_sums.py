"""The fixed-weight affine bounds of the encoder are the exact interval ends rounded outward (checked with
rationals), and exact where the float sums are (a ReLU on [0, 1] stays stably active)."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from mipnet.encode.sound_sums import sound_affine_bounds


def _exact(w, s, b):
    return Fraction(float(b)) + sum((Fraction(float(a)) * Fraction(float(c)) for a, c in zip(w, s)), Fraction(0))


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 6), st.integers(-9, 9), st.integers(-6, 6))
def test_bounds_contain_the_exact_interval(seed, n, wexp, xexp):
    rng = np.random.default_rng(seed)
    w = rng.normal(size=n) * 10.0 ** rng.integers(wexp - 3, wexp + 1, n)
    centre = rng.normal(size=n) * 10.0**xexp
    half = np.abs(rng.normal(size=n)) * 10.0 ** rng.integers(-9, 1, n)
    xl, xu = centre - half, centre + half
    b = -float(np.sum(w * centre)) * (1 + rng.normal() * 1e-12)  # a bias that cancels the terms
    lo, hi = sound_affine_bounds(w, xl, xu, np.array([b]), np.zeros(n, dtype=int), 1)
    exact_lo = _exact(w, np.where(w >= 0, xl, xu), b)
    exact_hi = _exact(w, np.where(w >= 0, xu, xl), b)
    assert Fraction(float(lo[0])) <= exact_lo and exact_hi <= Fraction(float(hi[0]))
    # at most one float outward of the correctly rounded end
    assert float(lo[0]) >= np.nextafter(float(exact_lo), -np.inf) and float(hi[0]) <= np.nextafter(
        float(exact_hi), np.inf
    )


def test_exact_sums_stay_exact_and_infinite_boxes_stay_infinite():
    lo, hi = sound_affine_bounds(
        np.array([1.0, 0.0, -2.0]),
        np.array([0.0, -np.inf, 0.0]),
        np.array([1.0, np.inf, 3.0]),
        np.array([0.5, -1.0]),
        np.array([0, 0, 1]),
        2,
    )
    assert lo.tolist() == [0.5, -7.0] and hi.tolist() == [1.5, -1.0]
    lo, hi = sound_affine_bounds(
        np.array([1.0]), np.array([-np.inf]), np.array([2.0]), np.array([0.0]), np.array([0]), 1
    )
    assert lo[0] == -np.inf and hi[0] == 2.0
