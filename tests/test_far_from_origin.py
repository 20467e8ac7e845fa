"""Verification MILPs on inputs far from the origin (found by an extreme-scale fuzz against exact rationals).

1. One integer input in [9998, 10002], weights 2e5 and biases 2e9: only x = 10002 is class 1 (z = +8224.65). The
   robustness MILP of x = 10000 (eps 2) said "holds": the affine interval lay 1.2e-10 inside the value at 10002 (no
   round-off slack) and HiGHS, on rows of 2e9 cancelling to 1e4, cut the corner off. alpha_max said t* = -0.001
   (optimal) and the local decision "not below 2.5". The MILPs now encode offsets from a centre (x = c + d).
2. eps = 1 - 1e-11 around 1000000.5: fl(x - eps) = 999999.5 is outside the real ball, and the class change there
   was reported as a counterexample at distance 1.0 > eps (witnesses were allowed 2 ulps per coordinate).
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

import mipnet
from mipnet.verify.resilience import alpha_max, local_resilience
from mipnet.verify.robustness import ball_box, verify_sample
from mipnet.verify.robustness.region import ball_problems


def _integer_net() -> mipnet.Network:
    W1 = np.array([[218811.5385532642], [-303097.78383411805]])
    b1 = np.array([-2188376312.0362773, 3030127694.305506])
    W2, b2 = np.array([[0.04654677476744032, -0.47664460942365255]]), np.array([-1e-3])
    dom = mipnet.Domain(["x0"], [9998.0], [10002.0], np.array([True]))
    return mipnet.Network([mipnet.Dense(W1, b1), mipnet.ReLU(), mipnet.Dense(W2, b2)], domain=dom, class_names=[0, 1])


def test_the_only_counterexample_at_an_integer_corner_far_from_the_origin_is_found():
    net = _integer_net()
    z = net.forward(np.arange(9998.0, 10003.0)[:, None])[:, 0]
    assert (z > 0).tolist() == [False, False, False, False, True]  # class 1 at 10002 only
    for kw in [{}, {"early_stop": False}, {"use_attack": False, "spec_bound": False}]:
        r = verify_sample(net, np.array([10000.0]), 2.0, "inf", time_limit=20, **kw)
        assert r.verdict == "violated", (kw, r.verdict, r.reason)
        assert r.counterexample is not None and float(r.counterexample[0]) == 10002.0


def test_resilience_far_from_the_origin():
    net = _integer_net()
    top = float(net.forward(np.array([[10002.0]]))[0, 0])
    r = alpha_max(net, 1, time_limit=20)
    assert r.bound is None or r.bound <= top + 1e-6 * top  # (was "optimal", t = -0.001)
    assert r.phi is not None and r.phi >= top - 1e-6 * top
    d = local_resilience(net, np.array([10000.0]), 0, norm="1", delta=2.5, decide=True, time_limit=20)
    assert d.verdict == "below", (d.verdict, d.notes)  # the pair 10000 -> 10002 (was "not_below")


def _step_net() -> mipnet.Network:
    dom = mipnet.Domain(["x"], [999999.0], [1000001.0])
    layers = [mipnet.Dense(np.array([[1.0]]), np.array([-999999.5])), mipnet.ReLU()]
    return mipnet.Network([*layers, mipnet.Dense(np.array([[-1e9]]), np.array([1e-3]))], domain=dom, class_names=[0, 1])


def test_no_witness_outside_the_real_ball():
    net, x0, eps = _step_net(), np.array([1000000.5]), 1 - 1e-11
    for kw in [{}, {"early_stop": False}, {"use_attack": False}]:
        r = verify_sample(net, x0, eps, "inf", time_limit=10, **kw)
        assert r.verdict != "holds"  # the real ball holds points we cannot decide in floats: unknown is honest
        if r.verdict == "violated":
            assert abs(Fraction(float(r.counterexample[0])) - Fraction(1000000.5)) <= Fraction(eps), kw


@pytest.mark.parametrize("norm", ["inf", "1"])
def test_ball_membership_is_exact(norm):
    net = _step_net()
    x0, eps = np.array([1000000.5]), 1 - 1e-11
    assert ball_problems(net, x0, np.array([999999.5]), eps, norm)  # distance 1.0 > eps: outside
    inside = np.nextafter(999999.5, 2e6)
    assert not ball_problems(net, x0, np.array([inside]), eps, norm)
    lo, hi = ball_box(net, x0, eps, norm, inward=True)
    assert not ball_problems(net, x0, lo, eps, norm) and not ball_problems(net, x0, hi, eps, norm)
    lo_out, _ = ball_box(net, x0, eps, norm)
    assert Fraction(float(lo_out[0])) <= Fraction(1000000.5) - Fraction(eps)  # the proofs' box holds the real ball


def test_random_ball_ends_round_the_right_way():
    rng = np.random.default_rng(3)
    net = mipnet.Network([mipnet.Dense(np.eye(3), np.zeros(3))], domain=mipnet.Domain.box(3, -1e9, 1e9))
    for _ in range(200):
        x = rng.uniform(-1e6, 1e6, 3) * 10.0 ** rng.integers(-6, 3, 3)
        eps = float(rng.uniform(0, 1) * 10.0 ** rng.integers(-9, 2))
        lo_in, hi_in = ball_box(net, x, eps, "inf", inward=True)
        lo_out, hi_out = ball_box(net, x, eps, "inf")
        for i in range(3):
            a, e = Fraction(float(x[i])), Fraction(eps)
            assert a - e <= Fraction(float(lo_in[i])) and Fraction(float(hi_in[i])) <= a + e
            assert Fraction(float(lo_out[i])) <= a - e and a + e <= Fraction(float(hi_out[i]))
