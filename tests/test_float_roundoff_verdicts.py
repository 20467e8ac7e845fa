"""Verdicts at the edges of float64: weights of 5e5-1e6 on inputs of 1e5 make affine sums of 1e10-1e11 whose
round-off (1e-5) exceeds the margins that decide the property. Each case below was a false "holds": the property is
violated at a point of the set, in the float64 forward pass and in exact rational arithmetic."""

from fractions import Fraction

import numpy as np

import mipnet
from mipnet.layers.base import rounding_slack
from mipnet.verify.robustness import verify_sample
from mipnet.verify.vnnlib import check_property
from mipnet.verify.vnnlib_format import parse_vnnlib


def _exact_affine(w, b, x) -> Fraction:
    return sum((Fraction(float(a)) * Fraction(float(c)) for a, c in zip(w, x)), Fraction(float(b)))


def test_interval_bounds_contain_the_exact_affine_value_at_a_corner():
    w, b = np.array([-499356.59028558625, 769903.4687136118]), -6125649058.477613
    x, eps = np.array([71285.808, 54192.926]), 0.5
    layer = mipnet.Dense(w[None], np.array([b]))
    lo, hi = layer.interval((x - eps)[None], (x + eps)[None])
    corner = np.where(w > 0, x - eps, x + eps)
    exact = _exact_affine(w, b, corner)
    assert Fraction(float(lo[0, 0])) <= exact <= Fraction(float(hi[0, 0]))
    assert 0 < rounding_slack(np.array(1e11), 2) < 1e-3  # round-off sized, not a relative 1e-6 of the terms


def test_robustness_is_not_proved_where_a_corner_of_the_ball_changes_class():
    w, b0 = np.array([-499356.59028558625, 769903.4687136118]), -6125649058.477613
    x, eps = np.array([71285.808, 54192.926]), 0.5
    net = mipnet.Network(
        [mipnet.Dense(np.vstack([w, [0.0, 0.0]]), np.array([b0, 0.0]))],
        domain=mipnet.Domain(["x0", "x1"], [0, 0], [2e5, 2e5]),
        class_names=["A", "B"],
    )
    corner = np.where(w > 0, x - eps, x + eps)
    assert _exact_affine(w, b0, corner) < 0 < _exact_affine(w, b0, x)  # the corner is class B, the sample A
    assert verify_sample(net, x, eps, "inf", time_limit=20).status != "holds"


def _one_hidden_layer(W1, b1, W2, b2, x):
    """The 3-input regression net W2 ReLU(W1 x + b1) + b2 and its exact output at x (rational arithmetic)."""
    net = mipnet.Network(
        [mipnet.Dense(W1, b1), mipnet.ReLU(), mipnet.Dense(W2, b2)],
        domain=mipnet.Domain(["x0", "x1", "x2"], [-1e9] * 3, [1e9] * 3),
        task="regress",
    )
    hidden = [max(Fraction(0), _exact_affine(W1[j], b1[j], x)) for j in range(len(b1))]
    return net, sum((Fraction(float(v)) * h for v, h in zip(W2[0], hidden)), Fraction(float(b2[0])))


def _vnnlib(lo, hi, outputs: str, n_out: int) -> str:
    lines = [f"(declare-const X_{i} Real)" for i in range(len(lo))]
    lines += [f"(declare-const Y_{j} Real)" for j in range(n_out)]
    for i in range(len(lo)):
        lines += [f"(assert (>= X_{i} {float(lo[i])!r}))", f"(assert (<= X_{i} {float(hi[i])!r}))"]
    return "\n".join(lines + [outputs]) + "\n"


def test_vnnlib_is_not_proved_on_a_badly_scaled_net_that_violates_it():
    w = np.array([122041.60974402688, 706113.898437645, -927179.7576704402])
    x, b0 = np.array([83017.769, 62277.613, 88425.85]), 27880825575.496895
    net = mipnet.Network(
        [mipnet.Dense(np.vstack([w, np.zeros(3)]), np.array([b0, 0.0]))],
        domain=mipnet.Domain(["x0", "x1", "x2"], [0] * 3, [2e5] * 3),
    )
    lo, hi = x - 0.5, x + 0.5
    corner = np.where(w > 0, lo, hi)
    assert _exact_affine(w, b0, corner) <= 0  # Y_0 <= Y_1 at a corner of the box: the property is violated
    res = check_property(net, parse_vnnlib(_vnnlib(lo, hi, "(assert (<= Y_0 Y_1))", 2)), time_limit=30)
    assert res.verdict != "holds", res


def test_vnnlib_milp_finds_the_violation_of_a_net_summing_terms_of_1e11():
    """3-8-1 ReLU net, first-layer weights ~1e6 and biases ~1e11 over a box of width 1 at 1e5: HiGHS declared the
    unsafe region (7.8 deep at xb) infeasible; the MILP's region is now widened by the terms' round-off."""
    d = {
        "W1": np.array(
            [
                [-1699862.2478181883, -751971.3300439933, -305662.3798208327],
                [1024252.7572523465, -734236.9232843859, 732929.280624955],
                [531839.5801017376, -412586.3101447849, -407113.3632924777],
                [-1001301.8620592378, -48464.89218635075, 20451.108903585246],
                [297952.7672699301, -130196.08121253729, 1580688.9367029737],
                [220510.15792903575, -1715337.9031712953, -1393318.8826833342],
                [-515233.9964710946, 1782462.3942752413, -307141.0429389691],
                [-412672.4194129787, 1839175.589644677, 303060.6833535316],
            ]
        ),
        "b1": np.array(
            [
                275749614515.76355,
                -102295140820.22487,
                28785961816.02863,
                102931781676.18024,
                -174845383161.11002,
                288813141324.136,
                -96009276994.65575,
                -172955731472.79517,
            ]
        ),
        "W2": np.array(
            [
                [
                    0.33366968669398295,
                    -1.412976871194627,
                    -1.9694473233032144,
                    0.46299233416577257,
                    -1.1067370245045816,
                    1.2461381202798465,
                    -0.3541163049819755,
                    -1.9158057966415993,
                ]
            ]
        ),
        "b2": np.array([-0.7493224333120015]),
        "lo": np.array([99999.5, 99999.5, 99999.5]),
        "hi": np.array([100000.5, 100000.5, 100000.5]),
        "thr": 781358.246549566,
        "xb": np.array([99999.50046861035, 99999.50309668088, 99999.7423569396]),
    }
    W1, b1, W2, b2, lo, hi, thr, xb = (d[k] for k in ("W1", "b1", "W2", "b2", "lo", "hi", "thr", "xb"))
    net, exact = _one_hidden_layer(W1, b1, W2, b2, xb)
    assert exact - Fraction(float(thr)) > 7  # Y_0 >= thr at xb, a point of the box
    res = check_property(net, parse_vnnlib(_vnnlib(lo, hi, f"(assert (>= Y_0 {float(thr)!r}))", 1)), time_limit=30)
    assert res.verdict == "violated", res


def test_vnnlib_milp_over_a_box_far_from_the_origin_is_solved_centred():
    """Weights of 3e-10 - 2e-8 on inputs of 1e5 (box of width 100): HiGHS (and SCIP) called the MILP infeasible
    although x = xb is feasible in it; the box is now centred into the first layer (terms of its width)."""
    W1 = np.array(
        [[-3.2152914589034156e-09, -7.855152948495817e-09, -4.5684424816087164e-09],
         [6.7964563691651635e-09, -4.4123645799010295e-09, 1.0247196427826197e-09],
         [-2.9915605028202993e-09, 2.8988612009689536e-09, -7.985492491855689e-10],
         [-2.4213401213094552e-08, -3.398675561405052e-09, -1.5577093436907096e-08],
         [-3.23263539792501e-10, 2.8029962221555273e-09, -1.0287480256687982e-08],
         [-9.374408033359772e-09, 5.428086434459689e-09, -8.581139965091404e-09]]
    )  # fmt: skip
    b1 = np.array([0.0015630164591862795, -0.0003396672246090324, 9.309095761203942e-05, 0.004319557955064125,
                   0.000780622287914063, 0.0012529177688850274])  # fmt: skip
    W2 = np.array([[0.08710622715431166, -0.19144124772235066, 0.4723349834442538, -1.1329135504902592,
                    -0.30573873644809213, -0.4862782227909434]])  # fmt: skip
    b2, thr = np.array([-0.48939026685325]), -0.4893885523878036
    xb = np.array([100000.08647850866, 100049.02760707492, 100049.6433539295])
    net, exact = _one_hidden_layer(W1, b1, W2, b2, xb)
    assert exact >= Fraction(thr)  # Y_0 >= thr at xb: violated
    lo, hi = np.full(3, 99950.0), np.full(3, 100050.0)
    res = check_property(net, parse_vnnlib(_vnnlib(lo, hi, f"(assert (>= Y_0 {thr!r}))", 1)), time_limit=30)
    assert res.verdict == "violated", res
