"""The MILP stage of hard robustness queries (:mod:`mipnet.verify.robustness.hard_milp`): solver options, LP
tightening of unstable neurons, one MILP per rival. Verdicts equal the plain MILP's; tightened bounds are sound."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mipnet.bounds import check_bounds, compute_bounds, tighten_neurons, unstable_neurons
from mipnet.deadline import Deadline
from mipnet.domain import Domain
from mipnet.errors import UnsupportedError
from mipnet.layers import Dense, ReLU
from mipnet.network import Network
from mipnet.verify.robustness import ball_box, verify_sample
from mipnet.verify.robustness.hard_milp import milp_options, rival_order, tighten_for_milp
from tests.helpers import random_dense_net

SETTINGS = settings(max_examples=6, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
NEW = [
    {},  # the default options
    {"tighten": "all"},
    {"tighten": "last:2", "split": True},
    {"split": True},
]


def _sampled(net: Network, lo: np.ndarray, hi: np.ndarray, seed: int, n: int = 3000) -> np.ndarray:
    rng = np.random.default_rng(seed)
    S = rng.uniform(lo, hi, (n, lo.size))
    corners = np.where(rng.random((n // 3, lo.size)) < 0.5, lo, hi)
    return np.vstack([S, corners])


@SETTINGS
@given(seed=st.integers(0, 10_000), eps=st.sampled_from([0.05, 0.2, 0.5]))
def test_new_stage_verdicts_equal_the_plain_milp(seed: int, eps: float) -> None:
    net = random_dense_net(np.random.default_rng(seed), [3, 8, 8, 4])
    x = np.random.default_rng(seed + 1).uniform(-0.5, 0.5, 3)
    plain = verify_sample(net, x, eps, time_limit=30, use_attack=False, spec_bound=False, milp_options={})
    for kw in NEW:
        r = verify_sample(net, x, eps, time_limit=30, use_attack=False, **kw)  # type: ignore[arg-type]
        assert r.verdict == plain.verdict, (kw, r.reason, plain.reason)
        if r.verdict == "violated":
            assert r.counterexample is not None
            lo, hi = ball_box(net, x, eps, "inf")
            assert np.all(r.counterexample >= lo - 1e-9) and np.all(r.counterexample <= hi + 1e-9)
            assert int(net.predict_index(net.forward(r.counterexample[None]))[0]) != r.cls
        if r.verdict == "holds" and r.bound is not None:
            lo, hi = ball_box(net, x, eps, "inf")
            S = _sampled(net, lo, hi, seed)
            z = net.forward(S)
            m = z[:, r.cls] - np.delete(z, r.cls, axis=1).max(axis=1)
            assert np.all(m >= r.bound - 1e-6)


def _planted(t: float) -> Network:
    """Class 0 at x = 0; class 1 wins exactly where x0 > t: z0 = t + relu(-x0), z1 = relu(x0), z2 < -4."""
    W1 = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0], [0.5, 0.5]])
    b1 = np.zeros(4)
    W2 = np.array([[0.0, 1.0, 0.0, 0.0], [1.0, 0.0, 0.0, 0.0], [0.0, 0.0, -1.0, -1.0]])
    b2 = np.array([t, 0.0, -5.0])
    return Network([Dense(W1, b1), ReLU(), Dense(W2, b2)], domain=Domain.box(2, -1.0, 1.0))


@pytest.mark.parametrize("kw", NEW)
@pytest.mark.parametrize("delta", [1e-3, -1e-3])
def test_planted_counterexample_just_inside_or_outside_the_ball(kw: dict, delta: float) -> None:
    t = 0.3
    net = _planted(t)
    x = np.zeros(2)
    eps = t + delta  # delta > 0: the point x0 = eps (class 1) is in the ball; delta < 0: no point is
    r = verify_sample(net, x, eps, time_limit=30, use_attack=False, **kw)
    if delta > 0:
        assert r.verdict == "violated" and r.counterexample is not None
        assert int(net.predict_index(net.forward(r.counterexample[None]))[0]) == 1
        assert np.max(np.abs(r.counterexample - x)) <= eps + 1e-9
    else:
        assert r.verdict == "holds"
        S = _sampled(net, x - eps, x + eps, 0)
        assert np.all(net.predict_index(net.forward(S)) == 0)


@SETTINGS
@given(seed=st.integers(0, 10_000), width=st.floats(0.05, 1.0))
def test_tightened_bounds_contain_sampled_preactivations(seed: int, width: float) -> None:
    net = random_dense_net(np.random.default_rng(seed), [4, 10, 10, 10, 3])
    x = np.random.default_rng(seed + 7).uniform(-0.5, 0.5, 4)
    lo, hi = np.maximum(x - width, -1.0), np.minimum(x + width, 1.0)
    base = compute_bounds(net, lo, hi, method="linear")
    tight = tighten_for_milp(net, lo, hi, base, "all", Deadline(None))
    S = _sampled(net, lo, hi, seed)
    assert check_bounds(net, tight, S, tol=1e-7)
    for (l0, u0), (l1, u1) in zip(base, tight):  # never looser than what they started from
        assert np.all(l1 >= l0 - 1e-12) and np.all(u1 <= u0 + 1e-12)
    # a single layer's chosen neurons (the 3 most unstable of the middle layer)
    some = tighten_neurons(net, lo, hi, base, 2, unstable_neurons(base, 2)[:3])
    assert check_bounds(net, some, S, tol=1e-7)


def test_lp_tightening_stabilises_neurons_and_drops_binaries() -> None:
    net = random_dense_net(np.random.default_rng(5), [4, 16, 16, 16, 3])
    x = np.random.default_rng(6).uniform(-0.3, 0.3, 4)
    lo, hi = ball_box(net, x, 0.4, "inf")
    base = compute_bounds(net, lo, hi, method="linear")
    tight = tighten_for_milp(net, lo, hi, base, "all", Deadline(None))
    n0 = sum(unstable_neurons(base, i).size for i in (2, 4))
    n1 = sum(unstable_neurons(tight, i).size for i in (2, 4))
    assert n1 <= n0
    w0 = sum(float((u - l).sum()) for l, u in base[2:5])
    w1 = sum(float((u - l).sum()) for l, u in tight[2:5])
    assert w1 < w0  # the LP is strictly tighter than interval/linear bounds on this net


def test_options_rival_order_and_bad_modes() -> None:
    assert milp_options("highs", True) == {"mip_heuristic_run_rins": False, "mip_heuristic_run_rens": False}
    assert milp_options("highs", False) == {} and milp_options("gurobi", True) == {}
    assert milp_options("highs", True, {"presolve": "off"}) == {"presolve": "off"}
    rivals = np.array([0, 2, 3])
    assert rival_order(np.array([3, 0]), rivals, np.array([0.5, 9.0, -1.0])).tolist() == [3, 0]
    net = random_dense_net(np.random.default_rng(0), [2, 4, 3])
    for bad in ("some", "last:0", "all:x"):
        with pytest.raises(UnsupportedError):
            verify_sample(net, np.zeros(2), 0.1, tighten=bad)
