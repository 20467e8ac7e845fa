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


def _large_logit_net(seed: int, scale: float = 1e4):
    from helpers import random_dense_net

    net = random_dense_net(np.random.default_rng(seed), [3, 6, 3])
    net.domain = mipnet.Domain.box(3, -1.0, 1.0)
    net.layers[-1].weight *= scale
    net.layers[-1].bias *= scale
    return net


def _exact(net, a, b, m, alpha, k=1):
    """The pair by the forward pass with float64's round-off only (1e-12 of the logits)."""
    z = logits(net, np.vstack([a, b]))
    tol = 1e-12 * (1 + np.abs(z).max())
    others = [i for i in range(z.shape[1]) if i != m]
    strong = z[0, m] - z[0, others].max() >= np.log(alpha) - tol
    return bool(strong and (z[1, others] >= z[1, m] - tol).sum() >= k)


def test_witness_pairs_are_pairs_by_the_forward_pass_at_large_logits():
    """A relative 1e-6 of logits of 1e4 accepted a b a hundredth of a logit short of reaching its rival: every
    reported pair now passes the forward pass to float64's round-off (a solver's pair is moved off its tolerances)."""
    seen = 0
    for seed, scale in [(0, 1e4), (1, 1e4), (6, 1e7), (9, 1e7), (11, 1e7)]:
        net = _large_logit_net(seed, scale)
        r = class_resilience(net, 0, alpha=1.5, k=1, time_limit=10)
        if r.phi is not None:
            seen += 1
            assert r.witness["ok"] and _exact(net, r.a, r.b, 0, 1.5), (seed, r.witness)
            assert r.bound is None or r.bound <= r.phi + 1e-9
    assert seen >= 3


def test_a_certificate_pair_short_of_its_rival_by_a_relative_1e_7_is_refuted():
    from helpers import forged

    from mipnet.report.certificates import resilience_certificate
    from mipnet.report.recheck import recheck

    net = _large_logit_net(0)
    r = class_resilience(net, 0, alpha=1.5, k=1, time_limit=10)
    assert r.status == "optimal" and r.phi is not None
    z = logits(net, r.b[None])[0]
    # b moved back toward a until its rival is short of class 0 by about 1e-7 of the logits' size
    gap_per_step = None
    for s in 10.0 ** -np.arange(3, 12, 0.25):
        b2 = r.b - s * (r.b - r.a)
        z2 = logits(net, b2[None])[0]
        short = z2[0] - max(z2[1], z2[2])
        if 0 < short < 1e-7 * (1 + np.abs(z).max()) and short > 1e-11 * (1 + np.abs(z).max()):
            gap_per_step = b2
            break
    assert gap_per_step is not None
    b2 = gap_per_step
    phi2 = float(np.abs(b2 - r.a).sum())

    def edit(d):
        it = d["answer"]["items"][0]
        it.update(b=b2.tolist(), phi=phi2, bound=min(it["bound"], phi2))

    rep = recheck(forged(resilience_certificate(net, [r]), edit), net, second_solver=None, time_limit=10)
    assert any("witness pair" in c.name and c.outcome == "fail" for c in rep.checks), rep.lines()
    assert rep.exit_code == 1


def test_a_rival_region_thinner_than_the_solver_s_tolerance_is_not_called_unreachable():
    """Weights of 2e7: the margin of class "pos" dips below 0 only on a region 1e-7 wide (x = 0.5 is strongly "pos",
    x = 0.5000001 is "neg"). HiGHS called the MILP infeasible ("no pair at all", exit 0): a false proof. The
    solver's tolerance moves these logits by about 8, so its "infeasible" is no proof here: "unknown"."""
    from mipnet.verify.resilience.witness import TRUSTED_REACH, tolerance_reach

    eps, a = 1e-7, 0.5
    k = 2.0 / eps
    net = mipnet.Network(
        [
            mipnet.Dense(np.ones((4, 1)), np.array([-a, -a - eps, -a - 2 * eps, 0.0])),
            mipnet.ReLU(),
            mipnet.Dense(np.array([[-k, 2 * k, -k, -0.3]]), np.array([1.0])),
        ],
        domain=mipnet.Domain(["x"], [0], [1]),
        class_names=["neg", "pos"],
    )
    assert net.forward(np.array([[0.5]]))[0, 0] >= np.log(2) and net.forward(np.array([[0.5 + 1e-7]]))[0, 0] < 0
    r = class_resilience(net, 1, alpha=2.0, time_limit=20)
    assert r.status != "infeasible", r.notes
    assert r.phi is None or r.phi <= 1e-7 + 1e-12
    plain = mipnet.Network(  # weights of 100 (the exact "infeasible" above): its answer stays a proof
        [
            mipnet.Dense(np.array([[1.0]]), np.array([-5.0])),
            mipnet.ReLU(),
            mipnet.Dense(np.array([[100.0], [0.0]]), np.zeros(2)),
        ],
        domain=mipnet.Domain(["x"], [0.0], [10.0]),
    )
    assert tolerance_reach(net) > TRUSTED_REACH > tolerance_reach(plain)
