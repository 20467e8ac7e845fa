"""One-hot levels fixed by the domain's bounds (a level at [0, 0] excluded, one at [1, 1] forced): samples, the
verifiers' start points and witnesses stay in the domain. Domain.sample drew any level: global monotonicity said
"violated" with a witness on an excluded level, re-checks refuted true certificates with such points, and
`verify resilience` stopped with "the input lies outside the model's domain"."""

import numpy as np
import pytest

import mipnet
from mipnet.certificates.format import certificate_from_dict
from mipnet.certificates.resilience import resilience_certificate
from mipnet.errors import ModelFormatError
from mipnet.report.recheck import recheck
from mipnet.verify.monotonic import verify_global
from mipnet.verify.resilience import class_resilience


def test_samples_take_only_the_levels_the_bounds_allow():
    dom = mipnet.Domain(["x", "a", "b", "c"], [0, 0, 0, 0], [1, 0, 1, 1], onehot_groups=[[1, 2, 3]])
    assert dom.onehot_levels([1, 2, 3]) == [2, 3]
    X = dom.sample(400, rng=0)
    assert dom.contains(X).all() and set(np.flatnonzero(X[:, 1:].sum(axis=0))) == {1, 2}
    forced = mipnet.Domain(["x", "a", "b"], [0, 0, 1], [1, 1, 1], onehot_groups=[[1, 2]])
    assert forced.onehot_levels([1, 2]) == [2] and (forced.sample(50, rng=1)[:, 2] == 1).all()


@pytest.mark.parametrize("lower, upper", [([0, 0, 0], [1, 0, 0]), ([0, 1, 1], [1, 1, 1])])
def test_a_group_with_no_allowed_level_is_an_empty_domain(lower, upper):
    with pytest.raises(ModelFormatError, match="allows no level"):
        mipnet.Domain(["x", "a", "b"], lower, upper, onehot_groups=[[1, 2]])


def _excluded_level_net():
    """f = 0.1 n on the domain (c_a excluded): increasing; a unit fires only where c_a = 1 (off the domain)."""
    dom = mipnet.Domain(
        ["n", "c_a", "c_b", "c_c"],
        [0, 0, 0, 0],
        [3, 0, 1, 1],
        integer=[True, False, False, False],
        onehot_groups=[[1, 2, 3]],
    )
    first = mipnet.Dense(np.array([[0, 0, 1.0, -1.0], [0, 0, -1.0, 1.0], [1.0, 0, 0, 0]]), np.zeros(3))
    second = mipnet.Dense(np.array([[-10.0, -10.0, 1.0], [0, 0, 1.0]]), np.zeros(2))
    layers = [first, mipnet.ReLU(), second, mipnet.ReLU(), mipnet.Dense(np.array([[-1.0, 0.1]]), np.zeros(1))]
    net = mipnet.Network(layers, domain=dom, task="regress", output_names=["y"])
    points = np.array([[n, 0, b, 1 - b] for n in range(4) for b in (0, 1)], float)  # the whole domain
    assert np.all(np.diff(net.forward(points).reshape(4, 2), axis=0) > 0)  # brute force: increasing
    return net


def test_monotonicity_on_a_domain_excluding_a_level_holds():
    rep = verify_global(_excluded_level_net(), ["n"], [], time_limit=20)
    assert rep.status == "holds", rep.features


def test_a_true_resilience_certificate_with_a_forced_level_rechecks():
    dom = mipnet.Domain(["x0", "c_a", "c_b"], [0, 0, 1], [1, 1, 1], onehot_groups=[[1, 2]])
    net = mipnet.Network(
        [mipnet.Dense(np.array([[0.1, 10.0, 0.0]]), np.array([-5.0]))], domain=dom, class_names=["no", "yes"]
    )
    results = [class_resilience(net, m, time_limit=10) for m in (0, 1)]  # with the heuristics' start points
    assert results[1].status == "infeasible"  # 'yes' needs c_a = 1, which the domain excludes
    cert = certificate_from_dict(resilience_certificate(net, results).to_dict())
    rep = recheck(cert, net, second_solver=None, reprove=False)
    assert rep.status != "failed" and any("random points" in c.detail for c in rep.checks), rep.lines()


def test_an_integer_feature_with_one_whole_number_is_constant_and_monotone():
    dom = mipnet.Domain(["a", "b"], [0.5, 0], [1.5, 1], integer=[True, False])  # a = 1 on the domain
    net = mipnet.Network([mipnet.Dense(np.array([[-1.0, 1.0]]), np.zeros(1))], domain=dom, task="regress")
    assert verify_global(net, ["a"], [], time_limit=10).status == "holds"  # was unknown


def test_blockwise_mode_on_one_affine_block_gives_the_witness():
    """f = ReLU(x + 1) - 2 ReLU(x + 1) = -(x + 1) on [0, 1]: the constant slope -1 was 'unknown' in block-wise mode."""
    layers = [
        mipnet.Dense(np.array([[1.0], [1.0]]), np.array([1.0, 1.0])),
        mipnet.ReLU(),
        mipnet.Dense(np.array([[1.0, -2.0]]), np.array([0.0])),
    ]
    net = mipnet.Network(layers, domain=mipnet.Domain(["x"], [0], [1]), task="regress")
    rep = verify_global(net, ["x"], [], mode="blockwise", time_limit=10)
    (v,) = rep.features
    assert rep.status == "violated" and v.witness is not None
    fx, fxp = net.forward(np.array([v.witness.x, v.witness.x_prime])).ravel()
    assert v.witness.x_prime[0] > v.witness.x[0] and fxp < fx


def test_a_one_hot_group_with_a_repeated_index_is_refused() -> None:
    """[[0, 0]] was accepted: no point of the domain had exactly one 1 in it (Domain.contains refused every point),
    and a monotonicity check over the empty domain said "holds"."""
    with pytest.raises(ModelFormatError, match="distinct"):
        mipnet.Domain(["a", "b"], [0.0, 0.0], [1.0, 1.0], [True, True], [[0, 0]])
