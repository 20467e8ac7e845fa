"""Soundness: no false ``holds``, ever.

Planted counterexamples just outside a set that a domain, a clip or a tolerance could shrink the
question to, and a property-based suite (hypothesis) on random small ReLU nets where dense sampling is
the oracle: a sampled violation proves ``holds`` false, and every ``violated`` witness is re-run
through the forward pass and must lie in the set the property speaks of.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from mipnet import Dense, Domain, Network, ReLU
from mipnet.cli import cli
from mipnet.errors import DataError
from mipnet.verify import robustness as rob
from mipnet.verify.monotonic import TOL, verify_global, verify_individual
from mipnet.verify.resilience import class_resilience
from mipnet.verify.search import logits, reached, strong_margin
from mipnet.verify.vnnlib import CHECK_TOL, check_property, parse_vnnlib

SETTINGS = dict(deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])


# ============================================================================ helpers
def relu_net(
    seed: int, n_in: int, hidden: list[int], n_out: int, domain: Domain | None = None, task: str = "classify"
) -> Network:
    rng = np.random.default_rng(seed)
    sizes = [n_in, *hidden, n_out]
    layers: list = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(Dense(rng.normal(0, 1 / math.sqrt(a), (b, a)), rng.normal(0, 0.2, b)))
        if i < len(sizes) - 2:
            layers.append(ReLU())
    return Network(layers, domain=domain or Domain.box(n_in, -1.0, 1.0), task=task)


@st.composite
def nets(draw, min_out: int = 1, max_out: int = 3, task: str = "classify") -> Network:
    n_in = draw(st.integers(2, 4))
    hidden = draw(st.lists(st.integers(2, 6), min_size=1, max_size=2))
    n_out = draw(st.integers(min_out, max_out))
    return relu_net(draw(st.integers(0, 2**31)), n_in, hidden, n_out, task=task)


def header(n_in: int, n_out: int) -> str:
    return "".join(f"(declare-const X_{i} Real)" for i in range(n_in)) + "".join(
        f"(declare-const Y_{j} Real)" for j in range(n_out)
    )


def box_text(lo: np.ndarray, hi: np.ndarray) -> str:
    return "".join(f"(assert (>= X_{i} {float(lo[i])!r}))(assert (<= X_{i} {float(hi[i])!r}))" for i in range(lo.size))


def dense_box(lo: np.ndarray, hi: np.ndarray, n: int, seed: int = 0) -> np.ndarray:
    """Uniform points of the box plus all its corners."""
    X = np.random.default_rng(seed).uniform(lo, hi, (n, lo.size))
    corners = np.array(np.meshgrid(*zip(lo, hi))).reshape(lo.size, -1).T
    return np.vstack([X, corners])


# ============================================================================ robustness: planted
def two_class_net(domain: Domain) -> Network:
    """Logits (0, x_0 - 1.8): class 0 on x_0 < 1.8 (all of the domain [-1, 1]^2), class 1 beyond."""
    return Network(
        [
            Dense(np.array([[1.0, 0.0], [-1.0, 0.0]]), np.zeros(2)),
            ReLU(),
            Dense(np.array([[0.0, 0.0], [1.0, -1.0]]), np.array([0.0, -1.8])),
        ],
        domain=domain,
    )


def test_robustness_sample_outside_the_domain_is_an_input_error(tmp_path) -> None:
    import pandas as pd

    from mipnet.io import save_model

    net = two_class_net(Domain(["a", "b"], [-1.0, -1.0], [1.0, 1.0]))
    x = np.array([1.5, 0.0])  # outside the domain; the ball of radius 0.6 reaches x_0 = 2.1 (class 1)
    assert net.predict_index(net.forward(np.array([[2.05, 0.0]])))[0] == 1
    # cut to the domain, the ball [0.9, 1] x [-0.6, 0.6] does not even contain x: it would "hold"
    with pytest.raises(DataError, match="outside the model's input domain"):
        rob.verify_robustness(net, x[None], 0.6, "inf")
    with pytest.raises(DataError, match="row 0"):
        rob.verify_sample(net, x, 0.6, "1")
    int_net = two_class_net(Domain(["a", "b"], [-1.0, -1.0], [1.0, 1.0], integer=[False, True]))
    with pytest.raises(DataError, match="not an integer"):
        rob.verify_robustness(int_net, np.array([[0.0, 0.5]]), 0.1)
    save_model(net, tmp_path / "net.json")
    pd.DataFrame([[0.0, 0.0], [1.5, 0.0]], columns=["a", "b"]).to_csv(tmp_path / "d.csv", index=False)
    r = CliRunner().invoke(
        cli, ["verify", "robustness", str(tmp_path / "net.json"), str(tmp_path / "d.csv"), "--eps", "0.6"]
    )
    assert r.exit_code == 2 and "row 1" in r.stderr and "outside" in r.stderr


def test_robustness_result_states_the_verified_set(tmp_path) -> None:
    import pandas as pd

    from mipnet.io import save_model

    net = two_class_net(Domain(["a", "b"], [-1.0, -1.0], [1.0, 1.0]))
    (r,) = rob.verify_robustness(net, np.array([[0.9, 0.0]]), 0.5, "1")
    assert r.verdict == "holds"  # x_0 <= 1 on the domain: class 0 everywhere in ball and domain
    d = r.to_dict()
    assert "L1 ball of radius 0.5" in d["region"] and "intersected with the model's input domain" in d["region"]
    save_model(net, tmp_path / "net.json")
    pd.DataFrame([[0.9, 0.0]], columns=["a", "b"]).to_csv(tmp_path / "d.csv", index=False)
    out = CliRunner().invoke(
        cli, ["verify", "robustness", str(tmp_path / "net.json"), str(tmp_path / "d.csv"), "--eps", "0.5"]
    )
    assert out.exit_code == 0
    assert "L-inf ball of radius 0.5 around the sample, intersected with the model's input domain" in out.stdout


def test_robustness_retry_never_turns_a_tiny_violation_into_holds(monkeypatch) -> None:
    """The first MILP finds margin <= 0, its point fails the forward re-check (solver round-off, here
    simulated), the retry asks for margin <= -tau and is infeasible: a real margin in (-tau, 0) is
    still possible, so the verdict must not be ``holds``."""
    # logits (0, x_0 - 0.9999995): class 1 on x_0 in (0.9999995, 1]: margin of class 0 down to -5e-7
    net = Network(
        [
            Dense(np.array([[1.0, 0.0], [-1.0, 0.0]]), np.zeros(2)),
            ReLU(),
            Dense(np.array([[0.0, 0.0], [1.0, -1.0]]), np.array([0.0, -0.9999995])),
        ],
        domain=Domain.box(2, -1.0, 1.0),
    )
    x = np.array([0.5, 0.0])
    assert net.predict_index(net.forward(np.array([[1.0, 0.0]])))[0] == 1  # the real counterexample
    monkeypatch.setattr(rob, "project_to_ball", lambda net_, x_, xp, eps, norm: np.asarray(x_, float).copy())
    r = rob.verify_sample(net, x, 0.5, "inf", use_attack=False)
    assert r.verdict != "holds", r


# ============================================================================ monotonicity: planted
def ramp_net(eta: float, corner: float = 1.98, task: str = "regress") -> Network:
    """f = relu(x_0) - (1 + eta) relu(x_0 + x_1 - corner) on [0, 1]^2: slope in x_0 is -eta on the
    corner x_0 + x_1 > corner (area 2e-4: the pre-sampling misses it, the MILP decides), 1 elsewhere."""
    return Network(
        [
            Dense(np.array([[1.0, 0.0], [1.0, 1.0]]), np.array([0.0, -corner])),
            ReLU(),
            Dense(np.array([[1.0, -(1.0 + eta)]]), np.array([0.0])),
        ],
        domain=Domain.box(2, 0.0, 1.0),
        task=task,
    )


@pytest.mark.parametrize("mode", ["exact", "blockwise"])
def test_global_monotonicity_tiny_real_decrease_is_not_holds(mode: str) -> None:
    eta = 5 * TOL  # a real decrease just beyond the tolerance (the old tolerance 1e-6 called it holds)
    net = ramp_net(eta)
    f0, f1 = net.forward(np.array([[0.999, 1.0], [1.0, 1.0]]))[:, 0]
    assert f1 < f0  # the decrease is real
    f = verify_global(net, [0], mode=mode, time_limit=20).features[0]
    assert f.status == "violated" and f.how == "region", f
    w = f.witness
    fx, fxp = net.forward(np.array([w.x, w.x_prime]))[:, 0]
    assert w.x_prime[0] > w.x[0] and fxp < fx
    # just inside the tolerance the other way: an increase is monotone
    assert verify_global(ramp_net(-5 * TOL), [0], mode=mode, time_limit=20).features[0].status == "holds"


def test_individual_monotonicity_tiny_real_increase_is_a_counterexample() -> None:
    # f = x_1 - 5 TOL x_0 on [0, 1]^2, increasing in x_0 asked at x = (1, 0.5): f(0, 0.5) > f(1, 0.5)
    net = Network(
        [Dense(np.eye(2), np.zeros(2)), ReLU(), Dense(np.array([[-5 * TOL, 1.0]]), [0.0])],
        domain=Domain.box(2, 0.0, 1.0),
        task="regress",
    )
    rep = verify_individual(net, np.array([[1.0, 0.5]]), [0])
    assert rep.status == "violated"
    p = rep.points[0]
    assert net.forward(np.array([p.x_prime]))[0, 0] > p.f_x


def test_lattice_tiny_real_step_decrease_is_not_holds() -> None:
    # integer k in [0, 5]: f = relu(k) - 2 (1 + eta) relu(k - 2.5) + 2 (1 + eta) relu(k - 3) (+ u):
    # the slope test fails (slope -1 - 2 eta on (2.5, 3)), the steps from k = 2 on are -eta < 0
    dom = Domain(["k", "u"], [0.0, 0.0], [5.0, 1.0], integer=[True, False])
    for eta, expect in ((5 * TOL, "violated"), (-1e-3, "holds")):
        c = 2 * (1 + eta)
        net = Network(
            [
                Dense(np.array([[1.0, 0], [1, 0], [1, 0], [0, 1]]), np.array([0, -2.5, -3, 0])),
                ReLU(),
                Dense(np.array([[1.0, -c, c, 1]]), [0.0]),
            ],
            domain=dom,
            task="regress",
        )
        for mode in ("exact", "blockwise"):
            f = verify_global(net, ["k"], mode=mode, time_limit=20).features[0]
            assert f.status == expect, (eta, mode, f)
            if expect == "violated":
                fx, fxp = net.forward(np.array([f.witness.x, f.witness.x_prime]))[:, 0]
                assert fxp < fx and float(f.witness.x_prime[0]).is_integer()


# ============================================================================ resilience: brute force
def grid_phi(net: Network, m: int, alpha: float, norm: str, n: int = 201) -> float:
    """An achievable ||b - a|| (so an upper bound on Phi_m): a and b on a dense grid of the domain."""
    from scipy.spatial import cKDTree

    lo, hi = net.domain.lower, net.domain.upper
    g = np.stack(np.meshgrid(*[np.linspace(a, b, n) for a, b in zip(lo, hi)]), -1).reshape(-1, lo.size)
    z = logits(net, g)
    A, B = g[strong_margin(z, m) >= math.log(alpha)], g[reached(z, m) >= 1]
    if len(A) == 0 or len(B) == 0:
        return math.inf
    return float(cKDTree(A).query(B, p=1 if norm == "1" else np.inf)[0].min())


@pytest.mark.parametrize("seed,m", [(0, 1), (5, 0), (6, 2), (9, 0), (10, 2), (11, 1)])
@pytest.mark.parametrize("norm", ["1", "inf"])
def test_resilience_phi_never_above_brute_force(seed: int, m: int, norm: str) -> None:
    net = relu_net(seed, 2, [4], 3)
    gp = grid_phi(net, m, 1.2, norm)
    assert math.isfinite(gp)
    r = class_resilience(net, m, alpha=1.2, k=1, norm=norm, time_limit=20)
    assert r.status != "infeasible"
    assert r.bound is None or r.bound <= gp + 1e-7  # a larger bound claims that no pair this close exists
    assert r.phi is not None and r.phi <= gp + 1e-7 and r.witness["ok"]


def test_resilience_infeasible_under_the_initial_cut_is_not_reported_infeasible(monkeypatch) -> None:
    """If the cut ||e|| <= Phi_ini (from a pair accepted within the re-check tolerance) leaves the MILP
    infeasible, "infeasible" would claim that no perturbation at all reaches the classes."""
    from mipnet.solve import Result
    from mipnet.verify import resilience as res_mod

    real = res_mod._solve

    def fake(model, *args, **kwargs):
        if hasattr(model, "cut_obj"):
            return Result("infeasible", None, None, None, 0.0, 0, "highs", "", "provenInfeasible")
        return real(model, *args, **kwargs)

    monkeypatch.setattr(res_mod, "_solve", fake)
    r = class_resilience(relu_net(5, 2, [4], 3), 0, alpha=1.2, k=1, norm="1", time_limit=20)
    assert r.phi_init is not None
    assert r.status != "infeasible" and r.bound is None and r.phi == pytest.approx(r.phi_init)
    assert r.witness["ok"]


# ============================================================================ property-based: VNN-LIB
@pytest.mark.parametrize("kind", ["just_violated", "just_holds", "versus"])
@settings(max_examples=25, **SETTINGS)
@given(net=nets(), data=st.data())
def test_vnnlib_no_false_holds(kind: str, net: Network, data) -> None:
    n_in, n_out = net.n_inputs, net.n_outputs
    centre = np.array(data.draw(st.lists(st.floats(-2.0, 2.0), min_size=n_in, max_size=n_in)))
    half = np.array(data.draw(st.lists(st.floats(0.01, 1.0), min_size=n_in, max_size=n_in)))
    lo, hi = centre - half, centre + half  # partly or wholly outside the domain [-1, 1]^n
    X = dense_box(lo, hi, 3000)
    Y = net.forward(X)
    j = data.draw(st.integers(0, n_out - 1))
    if kind == "versus" and n_out > 1:
        k = (j + 1) % n_out
        unsafe = f"(assert (>= Y_{k} Y_{j}))"
        sampled_bad = bool(np.any(Y[:, k] >= Y[:, j]))
    elif kind == "just_holds":
        t = float(Y[:, j].min()) - 0.05 * (1 + float(np.ptp(Y[:, j])))
        unsafe = f"(assert (<= Y_{j} {t!r}))"
        sampled_bad = bool(np.any(Y[:, j] <= t))
    else:
        t = float(Y[:, j].min()) + 1e-4 * (1 + abs(float(Y[:, j].min())))
        unsafe = f"(assert (<= Y_{j} {t!r}))"
        sampled_bad = True
    prop = parse_vnnlib(header(n_in, n_out) + box_text(lo, hi) + unsafe)
    r = check_property(net, prop, timeout=30)
    event(f"{kind}: {r.verdict}")
    if sampled_bad:
        assert r.verdict != "holds", (kind, r)
    if r.verdict == "violated":
        assert np.all(r.x >= lo) and np.all(r.x <= hi)
        y = net.forward(r.x[None])[0]
        np.testing.assert_allclose(r.y, y, rtol=0, atol=1e-12)
        if kind == "versus" and n_out > 1:
            assert y[(j + 1) % n_out] >= y[j] - CHECK_TOL
        else:
            assert y[j] <= t + CHECK_TOL
    if np.any(lo < -1) or np.any(hi > 1):
        assert r.warnings


# ============================================================================ property-based: robustness
@pytest.mark.parametrize("inside", [True, False])
@settings(max_examples=30, **SETTINGS)
@given(net=nets(min_out=1, max_out=3), norm=st.sampled_from(["inf", "1"]), data=st.data())
def test_robustness_planted_counterexample(inside: bool, net: Network, norm: str, data) -> None:
    n = net.n_inputs
    x = np.array(data.draw(st.lists(st.floats(-0.9, 0.9), min_size=n, max_size=n)))
    c = int(net.predict_index(net.forward(x[None]))[0])
    # dense sampling of a large ball in the domain: the closest class change is planted on the boundary
    rng = np.random.default_rng(0)
    if norm == "inf":
        P = x + rng.uniform(-1, 1, (6000, n)) * rng.uniform(0, 1.0, (6000, 1))
    else:
        D = rng.laplace(size=(6000, n))
        P = x + D / np.abs(D).sum(axis=1, keepdims=True) * rng.uniform(0, 2.0, (6000, 1))
    P = np.clip(P, -1, 1)
    other = net.predict_index(net.forward(P)) != c
    if not other.any():
        event("no class change sampled")
        return
    dist = np.abs(P[other] - x).max(axis=1) if norm == "inf" else np.abs(P[other] - x).sum(axis=1)
    d = float(dist.min())
    eps = d * (1 + 1e-9) + 1e-12 if inside else d * 0.98
    r = rob.verify_sample(net, x, eps, norm, use_attack=False, time_limit=20)
    event(f"{'inside' if inside else 'outside'}: {r.verdict}")
    if inside:
        assert r.verdict != "holds", (d, r)
    if r.verdict == "holds":  # no sampled point of this smaller ball may change class
        assert not np.any(dist <= eps)
    if r.verdict == "violated":
        xp = r.counterexample
        assert np.all(xp >= -1 - 1e-9) and np.all(xp <= 1 + 1e-9)
        nv = np.abs(xp - x).max() if norm == "inf" else np.abs(xp - x).sum()
        assert nv <= eps * (1 + 1e-9) + 1e-12
        assert net.predict_index(net.forward(xp[None]))[0] != c


# ============================================================================ property-based: monotonicity
def planted_monotone_net(
    seed: int, n_in: int, hidden: list[int], l: int, eta: float, c: float, domain: Domain
) -> Network:
    """f = g(x without x_l) + relu(x_l - lo_l) - (1 + eta) relu(x_l - c): slope in x_l is 1 below c and
    -eta above (a real decrease iff eta > 0). g is a random ReLU net blind to x_l; two planted units
    pass through the hidden layers unchanged (relu of a non-negative value)."""
    base = relu_net(seed, n_in, hidden, 1, domain=domain, task="regress")
    dens = [layer for layer in base.layers if isinstance(layer, Dense)]
    layers: list = []
    for i, layer in enumerate(dens):
        W, b = layer.weight.copy(), layer.bias.copy()
        if i == 0:
            W[:, l] = 0.0
            P = np.zeros((2, n_in))
            P[:, l] = 1.0
            W, b = np.vstack([W, P]), np.concatenate([b, [-domain.lower[l], -c]])
        elif i < len(dens) - 1:
            W = np.block([[W, np.zeros((W.shape[0], 2))], [np.zeros((2, W.shape[1])), np.eye(2)]])
            b = np.concatenate([b, [0.0, 0.0]])
        else:
            W = np.hstack([W, [[1.0, -(1.0 + eta)]]])
        layers.append(Dense(W, b))
        if i < len(dens) - 1:
            layers.append(ReLU())
    return Network(layers, domain=domain, task="regress")


@pytest.mark.parametrize("violated", [True, False])
@pytest.mark.parametrize("integer", [False, True])
@settings(max_examples=12, **SETTINGS)
@given(
    seed=st.integers(0, 2**31),
    n_in=st.integers(2, 4),
    hidden=st.lists(st.integers(2, 6), min_size=1, max_size=2),
    log_eta=st.floats(math.log10(3 * TOL), -2),
    c=st.floats(-0.8, 0.999),
    data=st.data(),
)
def test_monotonicity_planted_violation(violated, integer, seed, n_in, hidden, log_eta, c, data) -> None:
    l = data.draw(st.integers(0, n_in - 1))
    eta = 10**log_eta * (1 if violated else -1)
    lo, hi = np.full(n_in, -1.0), np.full(n_in, 1.0)
    is_int = np.zeros(n_in, bool)
    if integer:  # the monotone feature is an integer in [0, 5], the step over c + 0.5 decreases by eta
        lo[l], hi[l], is_int[l] = 0.0, 5.0, True
        c = float(np.floor(2.5 + 2 * c)) + 0.5
    dom = Domain([f"x{i}" for i in range(n_in)], lo, hi, integer=is_int)
    if integer:  # relu(k) - 2(1 + eta) relu(k - c) + 2(1 + eta) relu(k - c - 0.5): steps 1, then -eta, then 1
        unit = np.zeros((1, n_in))
        unit[0, l] = 1.0
        net = planted_monotone_net(seed, n_in, hidden, l, 0.0, c, dom)
        net = Network(
            _add_unit(net.layers, unit, np.array([-(c + 0.5)]), 2 * (1 + eta), -2 * (1 + eta)),
            domain=dom,
            task="regress",
        )
    else:
        net = planted_monotone_net(seed, n_in, hidden, l, eta, c, dom)
    # oracle: secant slopes (continuous) or lattice steps (integer) along x_l at random base points
    rng = np.random.default_rng(1)
    B = dom.sample(300, rng)
    ts = np.arange(0.0, 6.0) if integer else np.linspace(-1, 1, 81)
    X = np.repeat(B, ts.size, axis=0)
    X[:, l] = np.tile(ts, len(B))
    f = net.forward(X)[:, 0].reshape(len(B), ts.size)
    dec = np.diff(f, axis=1) / (1.0 if integer else np.diff(ts)[0])
    sampled_bad = bool(np.any(dec < -TOL))
    presample = data.draw(st.sampled_from([2000, 0]))  # 0: the MILP (or lattice check) has to decide
    g = verify_global(net, [l], time_limit=20, presample=presample).features[0]
    event(f"global {'planted' if violated else 'monotone'}{' integer' if integer else ''}: {g.status} ({g.how})")
    if sampled_bad or violated:  # planted: slope -eta (or lattice step -eta) with eta >= 3 TOL
        assert g.status != "holds", g
    if not violated:
        assert g.status == "holds", g  # exactly monotone (completeness of the planted case)
    if g.status == "violated":
        w = g.witness
        fx, fxp = net.forward(np.array([w.x, w.x_prime]))[:, 0]
        assert w.x_prime[l] > w.x[l] and fxp < fx
        assert dom.contains(np.array([w.x, w.x_prime]), tol=1e-9).all()
    # individual at a point where x_l is at its top: the best x' lowers x_l
    x = dom.sample(1, 2)[0]
    x[l] = hi[l]
    rep = verify_individual(net, x[None], [l], time_limit=20)
    event(f"individual: {rep.status}")
    tx = ts[ts <= x[l]] if integer else np.append(ts, c)  # (continuous: the planted maximum sits at c)
    xs = np.repeat(x[None], tx.size, axis=0)
    xs[:, l] = tx
    fx = float(net.forward(x[None])[0, 0])
    gain = float(net.forward(xs)[:, 0].max()) - fx
    if gain > TOL * (1 + abs(fx)):
        assert rep.status == "violated", (gain, rep.points[0])
    if rep.status == "violated":
        p = rep.points[0]
        assert net.forward(np.array([p.x_prime]))[0, 0] > fx and p.x_prime[l] <= x[l]
        assert np.allclose(np.delete(p.x_prime, l), np.delete(x, l))


def _add_unit(layers: list, w_in: np.ndarray, b_in: np.ndarray, out_weight: float, adjust: float) -> list:
    """Add one first-layer unit relu(w_in x + b_in) passed through to the output with ``out_weight``, and
    set the weight of the planted relu(x_l - c) unit (second of the two planted ones) to ``adjust``."""
    dens = [layer for layer in layers if isinstance(layer, Dense)]
    out: list = []
    for i, layer in enumerate(dens):
        W, b = layer.weight.copy(), layer.bias.copy()
        if i == 0:
            W, b = np.vstack([W, w_in]), np.concatenate([b, b_in])
        elif i < len(dens) - 1:
            W = np.block([[W, np.zeros((W.shape[0], 1))], [np.zeros((1, W.shape[1])), np.ones((1, 1))]])
            b = np.concatenate([b, [0.0]])
        else:
            W = np.hstack([W, [[out_weight]]])
            W[0, -2] = adjust
        out.append(Dense(W, b))
        if i < len(dens) - 1:
            out.append(ReLU())
    return out
