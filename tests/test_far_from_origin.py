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


def test_l1_projection_keeps_points_of_the_sphere_far_from_the_origin():
    """A relative shrink of 1e-14 rounds back to the same float at |x| >= 1e3: points of the L1 sphere around
    x ~ 1e6 were dropped (robustness then said "unknown" for clearly violated samples)."""
    from mipnet.verify.robustness import project_to_ball

    rng = np.random.default_rng(0)
    for _ in range(50):
        x = rng.uniform(1e6, 2e6, 2)
        net = mipnet.Network([mipnet.Dense(np.eye(2), np.zeros(2))], domain=mipnet.Domain(["a", "b"], x - 1, x + 1))
        t = rng.uniform(0.1, 0.9)
        q = project_to_ball(net, x, x + np.array([-t * 0.01, -(1 - t) * 0.01]), 0.01, "1")
        assert q is not None and not ball_problems(net, x, q, 0.01, "1")


def test_a_solver_pair_is_repaired_by_moving_b_alone():
    """b 1e-9 short of its rival, and a's limiting rival another class: moving a away from b lowers a's margin, so
    the pair was dropped (Phi None, "unknown"); moving b alone by 1e-7 (b - a) gives an exact pair."""
    from mipnet.verify.resilience import class_resilience

    W1 = np.array([[348.76409, 222.26386], [14.880439, 180.50021], [346.74105, 95.466171], [-276.69746, -19.065171]])
    b1 = np.array([2648847.3611664055, -1845986.008144451, 4071182.12498123, -3903049.347167343])
    W2 = np.array([[-1.0453821, 0.4143215, -0.8002148, 0.8030279], [0.8850750, 0.3822621, -1.1992641, -2.0412528]])
    W2 = np.vstack([W2, [2.1418615, -0.0534546, 2.0492663, -0.2376024]])
    b2 = np.array([-0.1680648291602384, 0.0005442588070984216, -0.17579346930918652])
    lo, hi = np.array([-14895.11884658967, 11455.006938874743]), np.array([-14895.115118717356, 11455.010666747057])
    net = mipnet.Network(
        [mipnet.Dense(W1, b1), mipnet.ReLU(), mipnet.Dense(W2, b2)], domain=mipnet.Domain(["f0", "f1"], lo, hi)
    )
    r = class_resilience(net, 1, alpha=1.0903836891657857, k=1, norm="inf", time_limit=15)
    assert r.phi is not None and r.witness["ok"], (r.status, r.notes)  # (was "unknown", Phi None)
    assert r.bound is not None and r.bound <= r.phi <= r.bound * (1 + 1e-4)


def test_a_pair_short_of_its_rival_by_4e_6_is_refuted_whatever_a_s_logits():
    """a's logit of 5e6 lent a tolerance of 5e-6 to b's comparison of logits 4e-6 and 0 (no pair exists)."""
    from mipnet.verify.resilience.witness import _witness

    net = mipnet.Network(
        [
            mipnet.Dense(np.array([[-1e7]]), np.array([5e6])),
            mipnet.ReLU(),
            mipnet.Dense(np.array([[1.0], [0.0]]), np.array([4e-6, 0.0])),
        ],
        domain=mipnet.Domain(["x"], [0.0], [1.0]),
        class_names=["m", "r"],
    )
    w = _witness(net, np.array([0.0]), np.array([1.0]), 0, 1.0, 1, "1", None)
    assert not w["ok"] and w["classes_reached"] == 0


def test_the_exact_worst_margin_finds_an_integer_corner_at_1e5():
    """One integer input in [99998, 100002], weights 5e4, biases 5e9 (a robustness fuzz case): only 99999 in the
    ball of 100000 changes the class. HiGHS at a MIP feasibility tolerance of 1e-7 cut it off and the exact worst
    margin came back +4071.7 (a false "holds"); at its default 1e-6 it is found."""
    W1 = np.array([[1.6983122e-4], [-1.0294357e-5], [0.16722409], [-8.8050726e-3], [-2.5895554e-4]])
    W1 = np.vstack([W1, [[28818.363837286903], [-51126.678077639124], [5760.991938587761]]])
    b1 = np.array([-16.982996, 1.0294117, -16722.608, 880.52862, 25.895698])
    b1 = np.r_[b1, -2881923333.3960314, 5112621894.803425, -576083920.7890098]
    W2 = np.array(
        [
            [12.222988, -114.80387, -2.4073643e-3, 5.0548663e-3, 908.80681, 15.738141, 1.3116056e-3, -0.031148214],
            [-0.054490485, 3.4230321, -35.048859, -5.3960979e-3, 8.9596618e-3, -0.013919239, -4.5198051, -1.2743782],
            [0.057476689, -5.3279917e-3, -0.11466244, -258.18978, 5.8528526e-3, -0.49625273, -201.26223, 0.033848512],
        ]
    )
    b2 = np.array([0.0, 30790.090438402458, -795.6633546927865])
    dom = mipnet.Domain(["x0"], [99998.0], [100002.0], [True])
    net = mipnet.Network([mipnet.Dense(W1, b1), mipnet.ReLU(), mipnet.Dense(W2, b2)], domain=dom, class_names=[0, 1, 2])
    pts = np.arange(99999.0, 100002.0)[:, None]
    k = net.predict_index(net.forward(pts))
    assert k[1] != k[0]  # 99999 changes the class of 100000
    for norm in ("inf", "1"):
        r = verify_sample(net, np.array([100000.0]), 1.0, norm, time_limit=20, early_stop=False)
        assert r.verdict == "violated", (norm, r.verdict, r.reason, r.margin)


def test_global_monotonicity_far_from_the_origin_is_decided():
    """One integer input in [439384, 439388], weights 4.8e5, biases -2e11 (a monotonicity fuzz case): monotone on
    the lattice (steps +7456 .. +88072) with a thin negative ramp between two lattice points. Uncentred, HiGHS
    ended in a solve error after 0.01 s, reported as "time limit reached"; as offsets from the domain's centre both
    global modes prove it."""
    from mipnet.verify.monotonic import verify_global

    W1 = np.array([[0.22788928523195276], [24996.575104738866], [0.14327619722610638]])
    W1 = np.vstack([W1, [[476280.1728186411], [476280.1728186411]]])
    b1 = np.array([-100130.22203450064, -10983118036.073, -62953.44450569012, -209270061074.3206])
    b1 = np.r_[b1, -209270248193.41617]
    W2 = np.array([[0.002035517845071893, 3.523352422268983, 2.8437812201342243e-07, -1.36332688e-09, 1.36332688e-09]])
    net = mipnet.Network(
        [mipnet.Dense(W1, b1), mipnet.ReLU(), mipnet.Dense(W2, np.array([877.8791525520742]))],
        domain=mipnet.Domain(["x0"], [439384.0], [439388.0], integer=[True]),
        task="regress",
    )
    assert np.all(np.diff(net.forward(np.arange(439384.0, 439389.0)[:, None])[:, 0]) > 0)
    for mode in ("exact", "blockwise"):
        f = verify_global(net, increasing=["x0"], mode=mode, time_limit=15).features[0]
        assert f.status == "holds", (mode, f.status, f.note)


def test_a_warm_start_far_from_the_origin_keeps_the_input_values():
    """Inputs far from the origin are encoded as c + d: the resilience MILPs' warm start skipped them (only plain
    variables were set), so the solver got a start without its inputs. Every variable of the encoding now has a
    start value, and the start satisfies every constraint of the encoding."""
    import pyomo.environ as pyo

    from mipnet.encode.network import input_terms
    from mipnet.verify.resilience.model import _encode_copy, _prepare_bounds, _start_values
    from mipnet.verify.resilience.results import Heuristics

    net = _integer_net()
    x, b0 = np.array([10000.0]), np.array([10002.0])
    bounds, big_m = _prepare_bounds(net, net.domain.lower, net.domain.upper, Heuristics())
    model = pyo.ConcreteModel()
    model.B = pyo.Block()
    xb = input_terms(model.B, net.domain, name="b", centre=x)
    assert not isinstance(xb.expr.ravel()[0], pyo.Var)  # the offset form is what this test is about
    enc = _encode_copy(model.B, net, xb, bounds, big_m, "B")
    warm = _start_values(enc, net, b0)
    variables = list(model.B.component_data_objects(pyo.Var, active=True))
    assert variables and all(v in warm for v in variables)
    for v in variables:
        v.set_value(warm[v], skip_validation=True)
    assert pyo.value(xb.expr.ravel()[0]) == 10002.0
    for con in model.B.component_data_objects(pyo.Constraint, active=True):
        body = pyo.value(con.body)
        assert con.lower is None or body >= pyo.value(con.lower) - 1e-6 * max(1.0, abs(body)), con.name
        assert con.upper is None or body <= pyo.value(con.upper) + 1e-6 * max(1.0, abs(body)), con.name


def test_the_minimal_perturbation_far_from_the_origin_finds_the_integer_corner():
    """The smallest radius MILP was not centred: on the integer net it said "infeasible" (no class change anywhere
    in the domain) where x = 10002 changes it at radius 2."""
    from mipnet.verify.robustness import minimal_perturbation

    net = _integer_net()
    for norm in ("inf", "1"):
        r = minimal_perturbation(net, np.array([10000.0]), norm=norm, time_limit=20)
        assert r.status == "optimal" and r.eps == 2.0 and r.checked, (norm, r.status, r.eps)
        assert r.counterexample is not None and float(r.counterexample[0]) == 10002.0


def _onehot_far_net() -> mipnet.Network:
    """A fuzzed net (fuzz_minimal_perturbation.py seed 2, case 19): x0 in 1e6 +- 1e-3 and a one-hot pair; from
    x = (1e6, 0, 1) the class changes at L-inf radius 0.000519 (x0 alone)."""
    W1 = [
        [67155.08547210683, -0.006918243546436268, -1.4762139766855353e-08],
        [-0.0008795867334158277, -813.8109545029245, 2.5616315069924336],
        [-0.0005165471418613377, 187332.3169195282, 0.005851530658035991],
        [2146.202802711744, 0.00011054613033742408, 1.8001582857950294e-09],
    ]
    b1 = [-67155085558.92993, 1020.3971125488501, -37262.14556513375, -2146202802.8397179]
    W2 = [
        [127.25658192616515, -51.39557568094045, 0.15677332241891254, 622.439870472914],
        [-1.007173894622939, 0.004069637128977675, 0.007843852621953593, -0.016567573151885846],
        [0.0016317601311417183, 8.346846779812111, -88.7494599078873, -10.837910127773977],
    ]
    b2 = [0.0, -6755.899782984638, -8593.598828391589]
    dom = mipnet.Domain(["x0", "a", "b"], [999999.999, 0.0, 0.0], [1000000.001, 1.0, 1.0], np.zeros(3, bool), [[1, 2]])
    layers = [mipnet.Dense(np.array(W1), np.array(b1)), mipnet.ReLU(), mipnet.Dense(np.array(W2), np.array(b2))]
    return mipnet.Network(layers, domain=dom)


def test_a_minimal_perturbation_bound_the_attack_refutes_is_not_reported(monkeypatch):
    """With HiGHS's MIP feasibility tolerance at 1e-6 the smallest-radius MILP said "optimal, radius 1.0" (the
    one-hot flipped) where x0 alone changes the class at 0.000519. The default tolerance solves it; a bound that
    the gradient attack refutes is no longer reported as proved, whatever the solver said."""
    import mipnet.verify.robustness as rob
    from mipnet.verify.robustness import minimal_perturbation

    net, x = _onehot_far_net(), np.array([1e6, 0.0, 1.0])
    r = minimal_perturbation(net, x, norm="inf", tau=0.0, time_limit=20)
    assert r.status == "optimal" and r.bound is not None and abs(r.bound - 0.000518766) < 1e-8, (r.status, r.bound)
    solve = rob.solve
    monkeypatch.setattr(rob, "solve", lambda m, s, **kw: solve(m, s, **kw, options={"mip_feasibility_tolerance": 1e-6}))
    r = minimal_perturbation(net, x, norm="inf", tau=0.0, time_limit=20)
    assert r.status != "optimal" or r.bound < 1e-3, (r.status, r.bound)
    if r.status == "feasible":
        assert r.bound is None and r.checked and r.counterexample is not None and "refuted" in r.extra
        assert float(np.max(np.abs(r.counterexample - x))) <= r.eps < 1.0
        assert int(net.predict_index(net.forward(r.counterexample[None]))[0]) != 1


def test_the_minimal_perturbation_of_logits_of_1e10_is_not_proved_by_an_infeasible_milp():
    """A fuzzed net (fuzz_minimal_perturbation.py seed 3, case 39): logits of 2e10 cancelling in the last layer;
    HiGHS called the smallest-radius MILP infeasible (no class change within the domain) where the corner
    (-99000, -99999.999) changes the class by 1.3e10. The answer is now unknown, never "infeasible"."""
    from mipnet.verify.robustness import minimal_perturbation

    W1 = [[8.005333252474406e-06, 17645.443814959228], [1.2274319274095246e-07, 0.014326547563903363],
          [-0.06841850592610624, -0.03340695750902326], [172183.25446519427, -8.293947294160488e-08],
          [0.00020181754949313054, -24513.777731379058], [-17817.376312138887, 64285.76589153435]]  # fmt: skip
    b1 = [1764544378.9187455, 1432.6669688613852, -10162.443602834428, 17146137777.299116, -2451377765.7625093,
          4639499623.722213]  # fmt: skip
    W2 = [[-0.02866929887085511, 679.3754934372548, -2.8659846480709446, -229.40935426260262, 5.067227581621247,
           -168.60174425672164],
          [0.7209144827196956, -0.0016311565128391428, 3.034995635930998, 0.17543090450490065, 0.004912458689330744,
           0.7934185324896424],
          [0.010307828785728106, 0.2990063558350033, -0.6045292185617387, 0.17653739784573266, -408.44370897280186,
           4.5669010333496365]]  # fmt: skip
    b2 = [0.0, -10470740100.224035, -9563901147.120169]
    dom = mipnet.Domain(["x0", "x1"], [-101000.0, -100000.001], [-99000.0, -99999.999])
    layers = [mipnet.Dense(np.array(W1), np.array(b1)), mipnet.ReLU(), mipnet.Dense(np.array(W2), np.array(b2))]
    net, x = mipnet.Network(layers, domain=dom), np.array([-1e5, -1e5])
    assert int(net.predict_index(net.forward(np.array([[-99000.0, -99999.999]])))[0]) != 0
    r = minimal_perturbation(net, x, norm="inf", tau=0.0, time_limit=20)
    assert r.status != "infeasible", r.extra
    if r.checked:
        assert r.counterexample is not None and int(net.predict_index(net.forward(r.counterexample[None]))[0]) != 0


def test_a_refuting_point_is_moved_to_the_nearest_class_change_on_its_segment():
    """A fuzzed net (fuzz_minimal_perturbation.py seed 1, case 38; L1, x = 1e6 in [999999, 1000001]): HiGHS said
    "optimal, radius 1.0" where the class changes at 0.1898. The attack's point lay at distance 1.0 (the ball's
    surface), consistent with the bound; bisected along its segment it lies at 0.1898 and refutes it."""
    from mipnet.verify.robustness import minimal_perturbation

    W1 = [[-255170.5189521761], [9.516396636644082e-05], [13119.982197223528], [88441.88839995618],
          [-2353.095408915111], [-14.59377592555872], [-6.575398678529258e-08], [0.0003794286260650677]]  # fmt: skip
    b1 = [255170835179.0705, -95.16403150873158, -13119978810.17686, -88441871170.16753, 2353095787.595606,
          14593758.050248476, 0.06575401627638837, -379.42813921387005]  # fmt: skip
    W2 = [[-0.1531225293861717, -0.2338323907643647, 0.008198638905220944, -329.4871417976415, -0.12825853327799414,
           -0.30160959844760815, -0.11747431484158835, 134.27930091643879],
          [-0.9201281713072168, 59.594818533298586, -0.7948240163030047, -173.57930696786238, 107.8008717469993,
           -1.4030803037528017, 0.003771606297329277, 50.44624353330124]]  # fmt: skip
    b2 = [0.0, -5093378.750485289]
    layers = [mipnet.Dense(np.array(W1), np.array(b1)), mipnet.ReLU(), mipnet.Dense(np.array(W2), np.array(b2))]
    net = mipnet.Network(layers, domain=mipnet.Domain(["x0"], [999999.0], [1000001.0]))
    x = np.array([1e6])
    assert int(net.predict_index(net.forward(np.array([[1000000.1917]])))[0]) != 0
    r = minimal_perturbation(net, x, norm="1", tau=0.0, time_limit=20)
    assert r.bound is None or r.bound <= 0.1918, (r.status, r.bound, r.extra)
    assert r.eps is not None and r.eps <= 0.1918 and r.checked and r.counterexample is not None
    assert abs(float(r.counterexample[0]) - 1e6) <= r.eps
    assert int(net.predict_index(net.forward(r.counterexample[None]))[0]) != 0


def _lattice_truth(net: mipnet.Network, lo: float, hi: float) -> float:
    import itertools

    X = np.array(list(itertools.product(np.arange(lo, hi), np.arange(lo, hi + 1))), dtype=float)
    return float((net.forward(X + [1.0, 0.0]) - net.forward(X)).min())


@pytest.mark.parametrize("depth", [1, 2])
def test_the_lattice_check_never_proves_a_step_the_lattice_breaks(depth):
    """Integer x, y; first-layer weights K with cancelling biases; a step of -0.025 (one hidden layer: output
    weights of 2.5e-8, which HiGHS's presolve dropped from the ramp model's objective) or -0.5 (two hidden layers at
    1e5: HiGHS called the two-copy model infeasible under the cut-off) was proved ">= -1e-7"."""
    from mipnet.verify.monotonic import verify_global

    a, M = (0.05, 5.0) if depth == 1 else (1.0, 5.0)
    K, C = (1e6, 0.0) if depth == 1 else (12345.678901, 1e5)
    lo = C - 2
    W1 = np.array([[K, 0], [K, 0], [K, K], [K, -10 * K], [K, -10 * K]])
    b1 = np.array(
        [-K * (C + 0.5), -K * C, -K * (2 * C + 2.5), -K * (C + 1.5) + 10 * K * lo, -K * (C + 1) + 10 * K * lo]
    )
    W2 = np.array([[2 / K, -1 / K, -a / K, 2 * M / K, -M / K]])
    layers = [mipnet.Dense(W1, b1), mipnet.ReLU()]
    if depth == 1:
        layers.append(mipnet.Dense(W2, np.array([0.0])))
    else:
        layers += [
            mipnet.Dense(W2, np.array([10.0])),
            mipnet.ReLU(),
            mipnet.Dense(np.array([[1.0]]), np.array([-10.0])),
        ]
    dom = mipnet.Domain(["x", "y"], [C - 2, C - 2], [C + 2, C + 2], integer=[True, True])
    net = mipnet.Network(layers, domain=dom, task="regress")
    assert _lattice_truth(net, C - 2, C + 2) < -0.02
    f = verify_global(net, ["x"], time_limit=20).features[0]
    assert f.status != "holds", f.note
    if f.status == "violated":
        assert f.witness is not None and f.witness.f_x_prime < f.witness.f_x


def test_individual_monotonicity_tolerates_no_rise_that_grows_with_f():
    """f = 1e7 - 0.05 x, increasing asked at x = 10: x' = 0 raises f by 0.5, accepted under "holds" as within the
    tolerance 1e-7 (1 + |f|) = 1.0. The tolerance is now at most the global check's drop (1e-5)."""
    from mipnet.verify.monotonic import verify_individual

    net = mipnet.Network(
        [mipnet.Dense(np.array([[-0.05]]), np.array([1e7]))],
        domain=mipnet.Domain(["x"], [0.0], [20.0]),
        task="regress",
    )
    rep = verify_individual(net, np.array([[10.0]]), increasing=["x"], time_limit=10)
    assert rep.points[0].status == "counterexample", rep.points[0]
