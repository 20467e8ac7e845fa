"""Monotonicity certificates: exactness against region enumeration, grids, witnesses, CLI, learning."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
from click.testing import CliRunner
from scipy.optimize import linprog

from mipnet.cli import _Group
from mipnet.cli.monotonic import monotonic_cmd
from mipnet.domain import Domain
from mipnet.errors import DataError, UnsupportedError
from mipnet.explain.openbox import affine_maps, piece_layers, polytope
from mipnet.io import save_model
from mipnet.layers import Dense, LeakyReLU, ReLU
from mipnet.network import Network
from mipnet.verify.gradient import pattern_gradient
from mipnet.verify.monotonic import blocks, verify_global, verify_individual

TL = 20.0


def _net(
    rng: np.random.Generator,
    sizes: list[int],
    leaky: bool = False,
    shift: float = 0.0,
    lo: float = -1.0,
    hi: float = 1.0,
    positive: float | None = None,
) -> Network:
    """Random net; ``positive=e``: weights |N(0,1)| - e |N(0,1)| (mostly monotone increasing)."""
    layers = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        W = rng.normal(size=(b, a)) + shift
        if positive is not None:
            W = np.abs(W) - positive * np.abs(rng.normal(size=(b, a)))
        layers.append(Dense(W, rng.normal(size=b) * 0.5))
        layers.append(LeakyReLU(0.1) if leaky else ReLU())
    layers.pop()
    return Network(layers, Domain.box(sizes[0], lo, hi), task="regress")


def _enumerated_min(net: Network, l: int, s: int) -> float:
    """min over all full-dimensional activation regions (every 0/1 code, Chebyshev LP) of s * df/dx_l."""
    pieces = piece_layers(net)
    n = sum(p.n_codes for p in pieces)
    codes = np.array(list(itertools.product([0, 1], repeat=n)), dtype=np.int16)
    maps = affine_maps(net, codes, pieces)
    best = np.inf
    box = list(zip(net.domain.lower, net.domain.upper)) + [(0.0, 1.0)]
    for k in range(len(codes)):
        poly = polytope(pieces, codes[k], [w[k] for w in maps.pre_weight], [b[k] for b in maps.pre_bias])
        norms = np.linalg.norm(poly.G, axis=1)
        c = np.zeros(net.n_inputs + 1)
        c[-1] = -1.0
        res = linprog(c, A_ub=np.hstack([poly.G, norms[:, None]]), b_ub=poly.h, bounds=box, method="highs")
        if res.status == 0 and res.x[-1] > 1e-9:
            best = min(best, s * float(maps.weight[k][0, l]))
    return best


def _check_witness(net: Network, w, l: int, s: int) -> None:
    x, xp = np.asarray(w.x), np.asarray(w.x_prime)
    assert net.domain.contains(np.stack([x, xp])).all()
    assert xp[l] > x[l]
    rest = np.arange(net.n_inputs) != l
    np.testing.assert_allclose(x[rest], xp[rest], atol=0)
    fx, fxp = net.forward(np.stack([x, xp]))[:, 0]
    assert fx == pytest.approx(w.f_x) and fxp == pytest.approx(w.f_x_prime)
    assert s * (fxp - fx) < 0


@pytest.mark.parametrize(
    "sizes,leaky",
    [([2, 6, 1], False), ([2, 4, 4, 1], False), ([2, 3, 3, 2, 1], False), ([2, 5, 1], True), ([2, 3, 4, 1], True)],
)
def test_exact_minimum_equals_region_enumeration(sizes: list[int], leaky: bool) -> None:
    rng = np.random.default_rng(sum(sizes) + 7 * leaky)
    for trial in range(2):
        net = _net(rng, sizes, leaky, shift=0.3 * trial)
        rep = verify_global(net, increasing=["x0"], decreasing=["x1"], time_limit=TL, presample=0, early_stop=False)
        for f, (l, s) in zip(rep.features, [(0, 1), (1, -1)]):
            expected = _enumerated_min(net, l, s)
            assert f.how in ("milp", "region", "lattice", "interval")
            if f.how != "interval":
                assert f.solver["status"] == "optimal"
                assert f.min_derivative == pytest.approx(expected, abs=1e-6)
            assert f.bound <= expected + 1e-6
            assert (f.status == "holds") == (expected >= -1e-6)
            if f.status == "violated":
                _check_witness(net, f.witness, l, s)
        fast = verify_global(net, increasing=["x0"], decreasing=["x1"], time_limit=TL, presample=0)
        assert [f.status for f in fast.features] == [f.status for f in rep.features]


def test_holds_never_where_a_grid_finds_a_decrease() -> None:
    rng = np.random.default_rng(11)
    g = np.linspace(-1, 1, 161)
    G0, G1 = np.meshgrid(g, g, indexing="ij")
    grid = np.column_stack([G0.ravel(), G1.ravel()])
    seen = {"holds": 0, "violated": 0}
    for trial in range(10):
        net = _net(rng, [2, 5, 4, 1], positive=0.15 if trial % 2 else None)
        F = net.forward(grid)[:, 0].reshape(161, 161)
        rep = verify_global(net, increasing=[0, 1], time_limit=TL)
        for l, f in enumerate(rep.features):
            drop = -np.diff(F, axis=l).min()
            if drop > 1e-9:
                assert f.status != "holds"
            if f.status == "violated":
                _check_witness(net, f.witness, l, 1)
            seen[f.status] = seen.get(f.status, 0) + 1
    assert seen["holds"] >= 2 and seen["violated"] >= 2


def test_blockwise_holds_implies_exact_holds() -> None:
    rng = np.random.default_rng(5)
    n_hold = 0
    for trial in range(8):
        net = _net(rng, [3, 5, 4, 4, 1], positive=[0.0, 0.05, 0.1, 0.2, 0.3, 0.5, None, None][trial])
        assert len(blocks(net)) == 2
        ex = verify_global(net, increasing=[0, 1, 2], time_limit=TL)
        bw = verify_global(net, increasing=[0, 1, 2], mode="blockwise", time_limit=TL)
        for fe, fb in zip(ex.features, bw.features):
            assert fb.status in ("holds", "unknown")
            if fb.status == "holds":
                n_hold += 1
                assert fe.status == "holds"
    assert n_hold >= 3


def test_blockwise_equals_exact_on_two_layer_nets() -> None:
    rng = np.random.default_rng(9)
    for _ in range(4):
        net = _net(rng, [3, 8, 1], shift=0.4)
        ex = verify_global(net, increasing=[0, 1], decreasing=[2], time_limit=TL)
        bw = verify_global(net, increasing=[0, 1], decreasing=[2], mode="blockwise", time_limit=TL)
        assert [f.status for f in ex.features] == [f.status for f in bw.features]


def test_individual_counterexamples_reproduce_and_agree_with_a_grid() -> None:
    rng = np.random.default_rng(21)
    g = np.linspace(-1, 1, 121)
    for trial in range(4):
        net = _net(rng, [2, 6, 3, 1], shift=0.3 * (trial % 2))
        X = net.domain.sample(6, trial)
        rep = verify_individual(net, X, increasing=["x0", "x1"], time_limit=TL)
        fX = net.forward(X)[:, 0]
        for p, x in zip(rep.points, X):
            # brute force over the grid points x' <= x
            G0, G1 = np.meshgrid(g[g <= x[0]], g[g <= x[1]], indexing="ij")
            grid = np.column_stack([G0.ravel(), G1.ravel()])
            gmax = net.forward(grid)[:, 0].max() if len(grid) else -np.inf
            if gmax > fX[p.row] + 1e-6:
                assert p.status == "counterexample"
            if p.status == "counterexample":
                xp = np.asarray(p.x_prime)
                assert np.all(xp <= x + 1e-12) and net.domain.contains(xp[None]).all()
                assert net.forward(xp[None])[0, 0] == pytest.approx(p.f_best)
                assert p.f_best > p.f_x
                assert p.f_best >= gmax - 1e-6  # the MILP maximum dominates the grid
            else:
                assert p.status == "holds" and gmax <= fX[p.row] + 1e-6


def test_integer_and_onehot_domain_witnesses() -> None:
    rng = np.random.default_rng(2)
    dom = Domain(
        ["count", "age", "a", "b", "c"],
        np.array([0, 0, 0, 0, 0.0]),
        np.array([10, 5, 1, 1, 1.0]),
        np.array([True, False, False, False, False]),
        [[2, 3, 4]],
    )
    net = Network(
        [Dense(rng.normal(size=(6, 5)), rng.normal(size=6)), ReLU(), Dense(rng.normal(size=(1, 6)), np.zeros(1))],
        dom,
        task="regress",
    )
    rep = verify_global(net, increasing=["count"], decreasing=["age"], time_limit=TL)
    bw = verify_global(net, increasing=["count"], decreasing=["age"], mode="blockwise", time_limit=TL)
    assert [f.status for f in bw.features] == [f.status for f in rep.features]
    for f, l, s in zip(rep.features, (0, 1), (1, -1)):
        assert f.status in ("holds", "violated", "unknown")
        if f.status == "violated":
            _check_witness(net, f.witness, l, s)
            assert float(f.witness.x[0]).is_integer() and float(f.witness.x_prime[0]).is_integer()
    with pytest.raises(UnsupportedError, match="one-hot"):
        verify_global(net, increasing=["a"])
    X = dom.sample(4, 0)
    ind = verify_individual(net, X, increasing=["count"], time_limit=TL)
    for p, x in zip(ind.points, X):
        if p.status == "counterexample":
            xp = np.asarray(p.x_prime)
            assert float(xp[0]).is_integer() and xp[0] <= x[0] and np.allclose(xp[1:], x[1:])


def test_output_selection_multiclass() -> None:
    rng = np.random.default_rng(4)
    net = Network(
        [
            Dense(rng.normal(size=(5, 2)), rng.normal(size=5)),
            ReLU(),
            Dense(rng.normal(size=(3, 5)), rng.normal(size=3)),
        ],
        Domain.box(2, -1, 1),
        class_names=["a", "b", "c"],
    )
    with pytest.raises(DataError, match="3 outputs"):
        verify_global(net, increasing=["x0"])
    rep = verify_global(net, increasing=["x0"], output="c", versus="a", time_limit=TL, presample=0, early_stop=False)
    X = net.domain.sample(20000, 1)
    grad = pattern_gradient(net, X, np.array([-1.0, 0.0, 1.0]))[:, 0]
    f = rep.features[0]
    assert f.min_derivative <= grad.min() + 1e-9
    assert "logit of c minus logit of a" == rep.output
    if f.witness is not None:
        y = net.forward(np.stack([f.witness.x, f.witness.x_prime]))
        assert y[1, 2] - y[1, 0] < y[0, 2] - y[0, 0]


def test_cli_monotonic(tmp_path) -> None:
    rng = np.random.default_rng(8)
    grp = _Group(name="verify")
    grp.add_command(monotonic_cmd)
    runner = CliRunner()
    pos = _net(rng, [2, 4, 1], shift=0.0)
    for L in pos.layers:
        if isinstance(L, Dense):
            L.weight = np.abs(L.weight)
    neg = _net(rng, [2, 4, 1])
    neg.layers[-1].weight = -np.abs(neg.layers[-1].weight)
    neg.layers[0].weight = np.abs(neg.layers[0].weight)
    p_pos, p_neg = tmp_path / "pos.json", tmp_path / "neg.json"
    save_model(pos, p_pos)
    save_model(neg, p_neg)
    r = runner.invoke(grp, ["monotonic", str(p_pos), "--increasing", "x0,x1", "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["status"] == "holds"
    r = runner.invoke(grp, ["monotonic", str(p_neg), "--increasing", "x0", "--mode", "blockwise"])
    assert r.exit_code == 1, r.output
    assert "violated" in r.output
    data = tmp_path / "d.csv"
    data.write_text("x0,x1\n0.5,0.5\n-0.2,0.9\n")
    r = runner.invoke(grp, ["monotonic", str(p_neg), "--increasing", "x0", "--data", str(data), "--json"])
    assert r.exit_code == 1, r.output
    assert json.loads(r.output)["fraction_counterexamples"] == 1.0
    r = runner.invoke(grp, ["monotonic", str(p_pos), "--increasing", "nope"])
    assert r.exit_code == 2 and "unknown feature" in r.output
    r = runner.invoke(grp, ["monotonic", str(p_pos)])
    assert r.exit_code == 2


def test_certified_gradient_training_small() -> None:
    from mipnet.train.monotone import fit_torch, train_monotone_gradient

    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(300, 2))
    y = (X[:, 0] + 0.5 * np.sin(3 * X[:, 1]) + 0.2 * rng.normal(size=300) > 0).astype(int)
    dom = Domain.box(2, -1, 1)
    cm = train_monotone_gradient(
        X,
        y,
        domain=dom,
        increasing=["x0"],
        hidden=(8,),
        epochs=40,
        penalty=1.0,
        margin=0.1,
        reg_batch=256,
        time_limit=TL,
        seed=0,
    )
    assert cm.certified and cm.certificate.features[0].bound >= -1e-6
    assert (cm.network.predict(X) == y).mean() > 0.8
    g = pattern_gradient(cm.network, dom.sample(20000, 3), np.ones(1))[:, 0]
    assert g.min() >= -1e-9
    nn_net, _ = fit_torch(X, y, domain=dom, hidden=(8,), monotone=[(0, 1)], nonnegative=True, epochs=20)
    assert verify_global(nn_net, increasing=["x0"], time_limit=TL).status == "holds"


def test_milp_training_with_counterexample_pairs() -> None:
    from mipnet.train.formulation import TrainConfig
    from mipnet.train.monotone import train_monotone_milp

    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(16, 2))
    y = (np.abs(X[:, 0]) + 0.3 * X[:, 1] > 0.5).astype(int)  # not monotone in x0
    cm = train_monotone_milp(
        X,
        y,
        domain=Domain.box(2, -1, 1),
        increasing=["x0"],
        config=TrainConfig(hidden=(2,)),
        max_rounds=5,
        time_limit=15,  # (5 s failed once on a loaded machine: the first round's net was no longer the violating fit)
        verify_time_limit=5,
    )
    assert cm.history[0]["status"] == "violated" and cm.history[-1]["pairs"] >= 1
    # every round started from a feasible network: the gradient net, then the previous one re-fitted
    assert all(h["warm_start_objective"] is not None for h in cm.history)
    assert cm.certified
    g = pattern_gradient(cm.network, Domain.box(2, -1, 1).sample(20000, 1), np.ones(1))[:, 0]
    assert g.min() >= -1e-9


def test_repair_fits_weights_to_a_pair_constraint() -> None:
    """Weights cut off by a monotone pair become feasible weights that satisfy it (patterns kept)."""
    import pyomo.environ as pyo

    from mipnet.encode import Terms
    from mipnet.train.formulation import TrainConfig, TrainingProblem
    from mipnet.train.warmstart import fixed_lp, forward_pre, repair

    rng = np.random.default_rng(3)
    X = rng.uniform(-1, 1, size=(12, 2))
    t = np.where(np.abs(X[:, 0]) > 0.5, 1.0, -1.0)
    prob = TrainingProblem(X, t, "classify", 2, TrainConfig(hidden=(2,)))
    w = [(np.array([[-1.0, 0.0], [1.0, 0.0]]), np.array([-0.3, -0.3])), (np.array([[1.0, 1.0]]), np.array([-0.5]))]
    xa, xb = np.array([-0.9, 0.0]), np.array([-0.1, 0.0])  # f(xa) = 0.1 > f(xb) = -0.5: violates x0-increasing
    m = prob.model
    m.MP = pyo.Block(range(2))
    outs = [prob.encode(m.MP[k], Terms.constant(x)).outputs.expr.ravel()[0] for k, x in enumerate((xa, xb))]
    m.MP_cons = pyo.ConstraintList()
    m.MP_cons.add(outs[1] - outs[0] >= 0)
    assert fixed_lp(prob, w, free_weights=False) is None
    fixed = repair(prob, w)
    assert fixed is not None
    f = forward_pre(fixed, np.stack([xa, xb]))[-1][:, 0]
    assert f[1] - f[0] >= -1e-7
    assert fixed_lp(prob, fixed, free_weights=False) is not None


def test_integer_feature_decided_on_the_lattice() -> None:
    # f = k - 2 relu(k - 0.2) + 2 relu(k - 0.7) (+ 0 u): slope -1 on (0.2, 0.7), integer steps >= 0
    dom = Domain(["k", "u"], np.array([0, 0.0]), np.array([5, 1.0]), np.array([True, False]))
    W1 = np.array([[1.0, 0], [1, 0], [1, 0]])
    net = Network(
        [Dense(W1, np.array([0.0, -0.2, -0.7])), ReLU(), Dense(np.array([[1.0, -2, 2]]), np.zeros(1))],
        dom,
        task="regress",
    )
    for mode in ("exact", "blockwise"):
        f = verify_global(net, increasing=["k"], mode=mode, time_limit=TL).features[0]
        assert f.status == "holds" and f.how == "lattice" and f.min_derivative == pytest.approx(-1.0)
    bad = Network(
        [Dense(W1, np.array([0.0, -0.2, -0.7])), ReLU(), Dense(np.array([[1.0, -3, 2]]), np.zeros(1))],
        dom,
        task="regress",
    )  # f(1) - f(0) = 1 - 2.4 + 0.6 < 0
    f = verify_global(bad, increasing=["k"], time_limit=TL).features[0]
    assert f.status == "violated"
    _check_witness(bad, f.witness, 0, 1)
    assert float(f.witness.x[0]).is_integer() and float(f.witness.x_prime[0]).is_integer()


@pytest.mark.parametrize("sizes", [[2, 5, 1], [2, 3, 3, 1]])
def test_lattice_check_minimum_equals_a_dense_scan(sizes: list[int]) -> None:
    """The two-copy lattice MILP (with its difference cuts and activation links) finds the exact
    min over u of f(k + 1, u) - f(k, u): compared with a dense scan of the continuous input."""
    from mipnet.bounds import compute_bounds
    from mipnet.verify.monotonic import FeatureVerdict, _lattice_verdict

    for seed in range(20):
        base = _net(np.random.default_rng(seed), sizes)
        dom = Domain(["k", "u"], np.array([0.0, -1.0]), np.array([4.0, 1.0]), np.array([True, False]))
        net = Network(base.layers, dom, task="regress")
        v = FeatureVerdict("k", "increasing", "unknown", "exact", None, None)
        _lattice_verdict(
            net, np.ones(1), 0, 1, compute_bounds(net, method="interval"), v, TL, "highs", None, False, 1e-6
        )
        assert v.solver["status"] == "optimal"
        u = np.linspace(-1, 1, 4001)
        steps = []
        for k in range(4):
            a = net.forward(np.column_stack([np.full_like(u, k), u]))[:, 0]
            b = net.forward(np.column_stack([np.full_like(u, k + 1), u]))[:, 0]
            steps.append((b - a).min())
        scan = min(steps)
        assert v.solver["incumbent"] <= scan + 1e-6
        assert v.solver["incumbent"] >= scan - 2e-3 * (1 + abs(scan))
        assert (v.status == "holds") == (v.solver["incumbent"] >= -1e-6)


@pytest.mark.parametrize("width, expect", [(1e8, {"violated", "unknown"}), (1.0, {"violated"})])
def test_a_small_negative_slope_over_a_wide_range_is_not_monotone(width, expect):
    """f = 1 - 5e-8 relu(u) + relu(v), u in [0, width]: slope -5e-8 is within the per-unit tolerance (1e-7), but over
    u in [0, 1e8] f drops by 5 and the class flips, so "holds" would be false. Over [0, 1] it drops by 5e-8 and held
    as round-off; -5e-8 is the only slope along u, so it is the network's own (the tolerance is also relative to the
    slopes the bounds allow, REL_TOL x 5e-8): violated, with a witness pair."""
    from mipnet.layers import Dense, ReLU
    from mipnet.network import Network
    from mipnet.verify.monotonic import verify_global

    net = Network(
        [Dense(np.eye(2), np.zeros(2)), ReLU(), Dense(np.array([[-5e-8, 1.0]]), np.array([1.0]))],
        domain=Domain(["u", "v"], lower=[0, 0], upper=[width, 1]),
    )
    rep = verify_global(net, increasing=["u"], time_limit=10)
    assert rep.features[0].status in expect, rep.features[0]
