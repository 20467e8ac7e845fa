"""Robustness over a ball cut to a domain with integer features and one-hot groups: the set is finite here, so
every verdict is checked against the enumeration of all its points, and every reported witness against
membership (distance and domain) and the forward pass.

The projection of a candidate into the set (``project_to_ball``) used to round integers and pick the largest
one-hot member *after* the L1 rescaling and the box clip: the point could leave the ball (L1: a rounded step, a
category switch costing 2) or switch a category an L-inf ball with eps < 1 cannot switch, and "violated" was
reported with a witness outside the set."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mipnet.domain import Domain
from mipnet.layers import Dense, ReLU
from mipnet.network import Network
from mipnet.verify.robustness import verify_sample
from mipnet.verify.robustness.region import ball_problems, project_to_ball

# features: A in {0..2}, B in {0..3} (integers), then a one-hot group of three levels
NAMES = ["A", "B", "c0", "c1", "c2"]
LOWER, UPPER = [0, 0, 0, 0, 0], [2, 3, 1, 1, 1]


def _domain() -> Domain:
    return Domain(NAMES, LOWER, UPPER, np.array([True, True, False, False, False]), [[2, 3, 4]])


def _points() -> np.ndarray:
    out = []
    for a, b, k in itertools.product(range(3), range(4), range(3)):
        p = np.zeros(5)
        p[0], p[1], p[2 + k] = a, b, 1.0
        out.append(p)
    return np.array(out)


def _net(seed: int) -> Network:
    rng = np.random.default_rng(seed)
    layers = [Dense(rng.normal(size=(4, 5)), rng.normal(size=4) * 0.5), ReLU(), Dense(rng.normal(size=(1, 4)), [0.0])]
    net = Network(layers, domain=_domain())
    # centre the logit on the domain's points so that both classes occur
    z = net.forward(_points())[:, 0]
    layers[-1] = Dense(layers[-1].weight, [-float(np.median(z))])
    return Network(layers, domain=_domain())


def _distance(x: np.ndarray, p: np.ndarray, norm: str) -> np.ndarray:
    d = np.abs(p - x)
    return d.max(axis=1) if norm == "inf" else d.sum(axis=1)


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    row=st.integers(0, 35),
    norm=st.sampled_from(["inf", "1"]),
    eps=st.sampled_from([0.5, 0.99, 1 - 1e-9, 1.0, 1 + 1e-9, 1.5, 1.99, 2 - 1e-12, 2.0, 2.5, 3.0]),
)
def test_verdict_matches_the_enumerated_set(seed: int, row: int, norm: str, eps: float) -> None:
    net = _net(seed)
    P = _points()
    x = P[row]
    c = int(net.predict_index(net.forward(x[None]))[0])
    inside = P[_distance(x, P, norm) <= eps]  # (whole-number distances: exact in floats)
    flips = net.predict_index(net.forward(inside)) != c
    for attack in (True, False):  # the attack's witness, and the MILP's
        r = verify_sample(net, x, eps, norm, time_limit=30, use_attack=attack)
        if r.verdict == "violated":
            assert r.counterexample is not None
            xp = np.asarray(r.counterexample)
            assert ball_problems(net, x, xp, eps, norm) == []
            assert int(net.predict_index(net.forward(xp[None]))[0]) != c
            assert flips.any()
        elif r.verdict == "unknown":  # only a tie on the set (a margin of 0) may stay undecided
            assert not flips.any() and np.abs(net.forward(inside)[:, 0]).min() <= 1e-6, r.reason
        else:
            assert r.verdict == "holds", r.reason
            assert not flips.any()


def test_l1_switch_of_category_costs_two() -> None:
    """The helper's case: class 1 iff 1 - 2 c2 > 0, the row has c2 = 1; eps = 1 (L1) cannot switch it."""
    dom = Domain(["c0", "c1", "c2", "x"], [0, 0, 0, -1], [1, 1, 1, 1], None, [[0, 1, 2]])
    net = Network([Dense(np.array([[0.0, 0.0, -2.0, 0.0]]), np.array([1.0]))], domain=dom)
    x = np.array([0.0, 0.0, 1.0, 0.0])
    assert verify_sample(net, x, 1.0, "1", time_limit=30).verdict == "holds"
    assert verify_sample(net, x, 0.99, "inf", time_limit=30).verdict == "holds"
    assert verify_sample(net, x, 0.5, "inf", time_limit=30).verdict == "holds"
    assert verify_sample(net, x, 1.0, "inf", time_limit=30).verdict == "violated"  # L-inf: a switch is at 1
    r = verify_sample(net, x, 2.0, "1", time_limit=30)  # a switch fits in 2
    assert r.verdict == "violated" and ball_problems(net, x, np.asarray(r.counterexample), 2.0, "1") == []


def test_l1_integer_rounding_stays_in_the_ball() -> None:
    """Two integer features: (0, 1) -> (1, 2) is at L1 distance 2 > 1.5; nothing in the ball flips."""
    dom = Domain(["A", "B"], [0, 0], [1, 3], np.array([True, True]))
    net = Network([Dense(np.array([[1.1, 1.0]]), np.array([-2.55]))], domain=dom)
    x = np.array([0.0, 1.0])
    assert verify_sample(net, x, 1.5, "1", time_limit=30).verdict == "holds"
    # a point half-way along both features would round to (1, 2): the projection keeps it in the ball
    xp = project_to_ball(net, x, np.array([0.7, 1.8]), 1.5, "1")
    assert xp is not None and ball_problems(net, x, xp, 1.5, "1") == []


@settings(max_examples=60, deadline=None)
@given(
    row=st.integers(0, 35),
    norm=st.sampled_from(["inf", "1"]),
    eps=st.floats(0.0, 4.0),
    cand=st.lists(st.floats(-1.0, 4.0), min_size=5, max_size=5),
)
def test_projection_lands_in_the_set_or_gives_up(row: int, norm: str, eps: float, cand: list[float]) -> None:
    net = _net(0)
    x = _points()[row]
    xp = project_to_ball(net, x, np.array(cand), eps, norm)
    if xp is not None:
        assert ball_problems(net, x, xp, eps, norm) == []
    # the sample itself is always in its own set
    same = project_to_ball(net, x, x.copy(), eps, norm)
    assert same is not None and np.array_equal(same, x)


def test_witness_sets_are_exact_to_float_rounding_not_to_loose_tolerances():
    """ball_problems allowed 1e-9 beyond the ball and 1e-7 off the domain: with weights of 1e8 a witness 1e-9 from
    the sample at eps = 0, 9e-8 outside the box or at the integer 3 + 9e-8 flipped the class and a forged
    'violated' certificate re-checked OK."""
    import numpy as np

    from mipnet.domain import Domain
    from mipnet.layers import Dense
    from mipnet.network import Network
    from mipnet.verify.robustness.region import ball_problems

    net = Network([Dense(np.array([[1.0]]), np.zeros(1))], domain=Domain(["k"], [0], [5], integer=[True]))
    x = np.array([3.0])
    assert ball_problems(net, x, np.array([3.0]), 0.0, "inf") == []
    assert ball_problems(net, x, np.array([3.0 + 1e-9]), 0.0, "inf")  # outside the eps = 0 ball
    assert "outside the domain" in ball_problems(net, x, np.array([3.0 + 9e-8]), 1.0, "inf")  # off the lattice
    assert "outside the domain" in ball_problems(net, np.array([5.0]), np.array([5.0 + 9e-8]), 1.0, "inf")
    assert ball_problems(net, x, np.array([4.0]), 1.0, "inf") == [] and ball_problems(
        net, x, np.array([4.0]), 0.99, "1"
    )


def test_a_large_coordinate_lends_no_slack_to_the_others():
    """Feature f0 = 1e8 (an ulp of 1.5e-8) left alone: a counterexample moving f1 by 5e-8 at eps = 1e-10 passed."""
    import numpy as np

    from mipnet.domain import Domain
    from mipnet.layers import Dense
    from mipnet.network import Network
    from mipnet.verify.robustness.region import ball_problems

    net = Network([Dense(np.array([[0.0, 1e9]]), np.array([1.0]))], domain=Domain(["f0", "f1"], [0, -1], [2e8, 1]))
    x = np.array([1e8, 0.0])
    for norm in ("inf", "1"):
        assert ball_problems(net, x, np.array([1e8, -5e-8]), 1e-10, norm), norm
        assert ball_problems(net, x, np.array([1e8, -1e-10]), 1e-10, norm) == [], norm


def test_witnesses_of_a_model_with_an_unbounded_domain_are_in_its_domain():
    """The ulp slack of an infinite bound is nan: every witness of an imported model without a box was 'outside
    the domain', so a violated row would have turned unknown."""
    import numpy as np

    from mipnet.domain import Domain
    from mipnet.layers import Dense
    from mipnet.network import Network
    from mipnet.verify.robustness import verify_sample
    from mipnet.verify.robustness.region import ball_problems

    net = Network(
        [Dense(np.array([[1.0, -1.0], [0.0, 0.0]]), np.zeros(2))],
        domain=Domain(["a", "b"], [-np.inf, -np.inf], [np.inf, np.inf]),
    )
    assert ball_problems(net, np.array([0.1, 0.0]), np.array([0.0, 0.1]), 0.1, "inf") == []
    r = verify_sample(net, np.array([0.05, 0.0]), 0.1, "inf", time_limit=10)
    assert r.verdict == "violated", r


def test_a_row_off_the_integer_grid_by_5e_8_is_refused():
    """1e-7 of slack took k = 2 + 5e-8: its eps = 0 ball held no point of the domain and "holds" spoke of nothing."""
    import numpy as np
    import pytest

    from mipnet.domain import Domain
    from mipnet.errors import DataError
    from mipnet.layers import Dense
    from mipnet.network import Network
    from mipnet.verify.robustness.region import check_in_domain

    net = Network(
        [Dense(np.array([[1e8, 1.0]]), np.array([-2e8 - 1]))], domain=Domain(["k", "u"], [0, 0], [4, 1], [True, False])
    )
    check_in_domain(net, np.array([2.0, 0.5]))
    with pytest.raises(DataError, match="'k' = 2.00000005 is not an integer"):
        check_in_domain(net, np.array([2.0 + 5e-8, 0.5]), 1)
    with pytest.raises(DataError, match="'u' = 1.00000005 is outside"):
        check_in_domain(net, np.array([2.0, 1.0 + 5e-8]), 1)


def test_the_exact_worst_margin_reported_is_the_witness_s_own() -> None:
    """--exact reported the solver's incumbent, -2.250001 on an integer domain whose worst margin is -2.25 (its
    integrality tolerance): the margin reported is now recomputed by the forward pass at the witness, and the
    bound stays below it."""
    from mipnet.verify.robustness import margins

    rng = np.random.default_rng(4)
    dom = Domain([f"x{i}" for i in range(3)], [-2.0] * 3, [2.0] * 3, np.array([True] * 3))
    for _ in range(6):
        layers = [Dense(rng.normal(size=(5, 3)), rng.normal(size=5)), ReLU()]
        net = Network([*layers, Dense(rng.normal(size=(2, 5)), rng.normal(size=2))], domain=dom)
        x = np.zeros(3)
        r = verify_sample(net, x, 2.0, "inf", time_limit=10, early_stop=False)
        if r.witness is None:
            continue
        assert r.margin == float(margins(net, net.forward(r.witness[None]), np.array([r.cls]))[0])
        assert r.bound is None or r.bound <= r.margin + 1e-9


@pytest.mark.parametrize("norm", ["inf", "1"])
def test_an_eps_a_hair_below_a_whole_step_never_gives_a_false_violation_nor_an_empty_reason(norm):
    """One integer feature, sample 0, class 1 at |k| >= 1: at eps = 1 - 1e-12 the set is {0} ("holds"); the MILP's
    rounding of the integer bounds reached k = +-1 and the L1 retry ended "unknown" with an empty reason."""
    net = Network(
        [
            Dense(np.array([[1.0], [-1.0]]), np.zeros(2)),
            ReLU(),
            Dense(np.array([[0.0, 0.0], [1.0, 1.0]]), np.array([0.5, 0.0])),
        ],
        domain=Domain(["k"], [-3], [3], [True]),
    )
    for eps in (1 - 1e-10, 1 - 1e-12):  # (the ball's integer ends are rounded inward: the MILP sees {0} exactly)
        r = verify_sample(net, np.array([0.0]), eps, norm, time_limit=10)
        assert r.verdict == "holds", (r.verdict, r.reason)
    assert verify_sample(net, np.array([0.0]), 1.0, norm, time_limit=10).verdict == "violated"
