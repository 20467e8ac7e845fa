"""Maximum resilience on a badly scaled net over an integer domain: l = 1e7 (x1 - x2) + 0.4, x1, x2 in {0..3}
(brute force: Phi = 1 for both classes). HiGHS returned an off-lattice pair a = (0, 4e-8) reported as "Phi = 4e-8
(optimal), witness re-checked" (integers were accepted 1e-6 off the lattice) and "infeasible" for the other class,
which random domain points refute."""

import itertools

import numpy as np

import mipnet
from mipnet.verify.resilience import class_resilience
from mipnet.verify.search import logits


def _net():
    dom = mipnet.Domain(["x1", "x2"], [0, 0], [3, 3], integer=[True, True])
    return mipnet.Network(
        [mipnet.Dense(np.array([[1e7, -1e7]]), np.array([0.4]))], domain=dom, class_names=["no", "yes"]
    )


def _brute_phi(net, m):
    P = np.array(list(itertools.product(range(4), range(4))), float)
    z = logits(net, P)
    A, B = P[z[:, m] - z[:, 1 - m] >= 0], P[z[:, 1 - m] >= z[:, m]]
    return np.abs(A[:, None] - B[None]).sum(-1).min()


def test_no_value_below_the_true_resilience_and_no_false_infeasible():
    net = _net()
    for m in (0, 1):
        truth = _brute_phi(net, m)
        assert truth == 1.0
        r = class_resilience(net, m, time_limit=10)
        assert r.status != "infeasible", r.notes
        if r.phi is not None:
            assert r.phi >= truth - 1e-9 and r.witness.get("ok"), (r.phi, r.notes)
            assert net.domain.contains(np.vstack([r.a, r.b]), tol=0).all()
        assert r.bound is None or r.bound <= truth + 1e-9


def test_snap_puts_solver_points_on_the_domain():
    dom = mipnet.Domain(
        ["k", "u", "a", "b"], [0, 0, 0, 0], [3, 1, 1, 0], integer=[True, False, False, False], onehot_groups=[[2, 3]]
    )
    X = dom.snap(np.array([[2 + 4e-8, 1.2, 0.3, 0.9], [-0.4, 0.5, 1e-9, 0.0]]))
    assert dom.contains(X, tol=0).all()
    assert X.tolist() == [[2.0, 1.0, 1.0, 0.0], [0.0, 0.5, 1.0, 0.0]]  # level b is excluded by its bounds


def test_an_exact_infeasible_is_not_overruled_by_a_pair_within_a_tolerance():
    """z0 - z1 = 0.5 + 100 relu(x - 5) >= 0.5 on [0, 10]: class a cannot be flipped (infeasible). Logits of 1e6 made
    the sampled "pair" (b half a unit short of reaching) overrule the MILP's correct answer."""
    net = mipnet.Network(
        [
            mipnet.Dense(np.array([[1.0]]), np.array([-5.0])),
            mipnet.ReLU(),
            mipnet.Dense(np.array([[100.0], [0.0]]), np.array([1e6 + 0.5, 1e6])),
        ],
        domain=mipnet.Domain(["x"], [0.0], [10.0]),
        class_names=["a", "b"],
    )
    r = class_resilience(net, 0, alpha=2.0, k=1, norm="inf", time_limit=20)
    assert r.status == "infeasible" and r.phi is None, (r.status, r.phi, r.notes)
