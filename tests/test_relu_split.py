"""The ReLU-split branch and bound (mipnet.verify.relu_split): domain bounds sound against dense sampling of the
points that satisfy the split constraints (any alpha in [a, 1], any beta >= 0, and after optimisation), verdicts
equal to the MILP's, counterexamples planted just inside and just outside the ball, the deadline, and the stage in
the robustness pipeline (same verdicts with and without it, the prover and its seconds in the JSON result)."""

from __future__ import annotations

import json
import time

import numpy as np
from helpers import random_dense_net
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mipnet.deadline import Deadline, promised
from mipnet.domain import Domain
from mipnet.layers import Dense, Layer, LeakyReLU, ReLU
from mipnet.network import Network
from mipnet.verify.relu_split import _empty, relu_split
from mipnet.verify.relu_split_bounds import Pool, backward, domain_bounds, domain_ops, optimise, supported
from mipnet.verify.robustness import PROVERS, ball_box, margins, verify_sample
from mipnet.verify.spec_bounds import margin_rows

SETTINGS = settings(max_examples=10, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])


def _net(seed: int, n_in: int, h1: int, h2: int, leaky: bool, n_out: int = 3) -> Network:
    rng = np.random.default_rng(seed)
    act = (lambda: LeakyReLU(0.1)) if leaky else ReLU
    layers: list[Layer] = []
    sizes = [n_in, h1, h2, n_out]
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(Dense(rng.normal(0, 1 / np.sqrt(a), (b, a)), rng.normal(0, 0.2, b)))
        if i < 2:
            layers.append(act())
    return Network(layers, domain=Domain.box(n_in, -1.0, 1.0))


def _checker(net: Network, lo: np.ndarray, hi: np.ndarray, c: int):  # type: ignore[no-untyped-def]
    def check(P: np.ndarray) -> np.ndarray | None:
        Q = np.clip(P, lo, hi)
        k = net.predict_index(net.forward(Q))
        bad = np.flatnonzero(k != c)
        return Q[bad[0]] if bad.size else None

    return check


@SETTINGS
@given(
    seed=st.integers(0, 10_000),
    n_in=st.integers(2, 4),
    h1=st.integers(4, 8),
    h2=st.integers(4, 8),
    leaky=st.booleans(),
    width=st.floats(0.2, 1.0),
)
def test_domain_bounds_sound(seed: int, n_in: int, h1: int, h2: int, leaky: bool, width: float) -> None:
    """Per-layer and spec-row bounds of split domains hold at every sampled point that satisfies the splits (the
    points of the domain): for random alpha in [a, 1], random beta >= 0 and after alpha / beta optimisation;
    a domain proved empty has no such point."""
    net = _net(seed, n_in, h1, h2, leaky)
    rng = np.random.default_rng(seed + 1)
    centre = rng.uniform(-1 + width / 2, 1 - width / 2, n_in)
    lo, hi = centre - width / 2, centre + width / 2
    maps = supported(net)
    assert maps is not None
    C = rng.normal(size=(3, 3))
    d = rng.normal(size=3)
    n = [int(np.prod(s)) for s in net.shapes[1:]]
    prior = [(np.full((1, k), -np.inf), np.full((1, k), np.inf)) for k in n]
    gated = [t for t, layer in enumerate(net.layers) if layer.gated]
    root, _ = domain_bounds(net, maps, lo[None], hi[None], prior, {t: np.zeros((1, n[t - 1]), np.int8) for t in gated})
    B = 6  # domains: random splits of units unstable at the root
    split = {}
    for t in gated:
        L, U = root[t - 1]
        amb = np.flatnonzero((L[0] < 0) & (U[0] > 0))
        s = np.zeros((B, n[t - 1]), np.int8)
        for b in range(B):
            pick = rng.choice(amb, size=min(amb.size, 2), replace=False) if amb.size else np.zeros(0, int)
            s[b, pick] = rng.choice([-1, 1], size=pick.size)
        split[t] = s
    rep = [(np.repeat(L, B, 0), np.repeat(U, B, 0)) for L, U in root]
    loB, hiB = np.repeat(lo[None], B, 0), np.repeat(hi[None], B, 0)
    bnd, empty = domain_bounds(net, maps, loB, hiB, rep, split)
    X = rng.uniform(lo, hi, (20_000, n_in))
    X = np.vstack([X, lo + (hi - lo) * np.array(np.meshgrid(*[[0, 1]] * n_in)).reshape(n_in, -1).T])
    trace = net.forward_trace(X)  # trace[i + 1]: the output of layer i
    ops = domain_ops(net, maps, loB, hiB, bnd, len(net.layers))
    m = C.shape[0]
    alpha = {t: rng.uniform(ops[t].amin, 1.0, (B, m, n[t - 1])) for t in gated}
    beta = {t: rng.exponential(1.0, (B, m, n[t - 1])) * (split[t][:, None, :] != 0) for t in gated}
    b_rand = backward(ops, C, d, loB, hiB, alpha, beta, split)[0]
    pool = Pool(bnd, split, dict(alpha), dict(beta), np.full((B, m), -np.inf), np.zeros(B, int))
    b_opt, _, _ = optimise(ops, C, d, loB, hiB, pool, 15, Deadline.none())
    assert np.all(b_opt >= b_rand - 1e-9)  # the optimisation starts at the random point and keeps the best
    spec = trace[-1] @ C.T + d
    for b in range(B):
        inside = np.ones(X.shape[0], bool)
        for t in gated:
            z = trace[t]
            inside &= np.all((split[t][b] == 0) | (split[t][b] * z >= -1e-12), axis=1)
        if empty[b]:
            assert not inside.any()
            continue
        if not inside.any():
            continue
        for i, (L, U) in enumerate(bnd):
            v = trace[i + 1][inside]
            assert np.all(v >= L[b] - 1e-9) and np.all(v <= U[b] + 1e-9)
        low = spec[inside].min(axis=0)
        assert np.all(b_rand[b] <= low + 1e-9)
        assert np.all(b_opt[b] <= low + 1e-9)


@SETTINGS
@given(seed=st.integers(0, 10_000), n_in=st.integers(2, 4), leaky=st.booleans(), eps=st.floats(0.05, 0.6))
def test_verdict_matches_milp(seed: int, n_in: int, leaky: bool, eps: float) -> None:
    """The tree's verdict equals the MILP's (the MILP path alone: no bounds stage, no attack, no tree); every
    counterexample lies in the box and changes the class."""
    net = _net(seed, n_in, 6, 6, leaky)
    x = np.random.default_rng(seed).uniform(-1, 1, n_in)
    c = int(net.predict_index(net.forward(x[None]))[0])
    lo, hi = ball_box(net, x, eps, "inf")
    C, _ = margin_rows(net.n_outputs, c)
    r = relu_split(net, C, lo, hi, _checker(net, lo, hi, c), deadline=20)
    ref = verify_sample(net, x, eps, spec_bound=False, use_attack=False, relu_split=False, time_limit=30)
    assert r.status in ("holds", "violated")
    assert ref.verdict == r.status
    if r.status == "violated":
        assert r.counterexample is not None
        xc = r.counterexample
        assert np.all(xc >= lo) and np.all(xc <= hi)
        assert int(net.predict_index(net.forward(xc[None]))[0]) != c
    else:
        assert r.bound is not None and 0 < r.bound <= float(margins(net, net.forward(x[None]), np.array([c]))[0])


def planted(extra: int, t: float = 0.1) -> Network:
    """Two inputs in [-1, 1]; margin z_1 - z_0 = x_0 - t exactly: relu(x_0 - t) - relu(t - x_0), plus ``extra``
    units relu(w.x + b) written twice (two copies with the same weights) that enter z_1 as +v and -v: they cancel
    exactly, but every relaxation bounds the two copies apart, so CROWN cannot prove the margin and the tree
    must split them."""
    rng = np.random.default_rng(extra)
    W, b = rng.normal(size=(extra, 2)), rng.normal(0, 0.3, extra)
    W1 = np.vstack([[[1.0, 0.0], [-1.0, 0.0]], W, W])
    b1 = np.concatenate([[-t, t], b, b])
    k = W1.shape[0]
    v = rng.normal(size=extra)
    out = np.zeros((2, k))
    out[1, :2] = [1.0, -1.0]
    out[1, 2 : 2 + extra], out[1, 2 + extra :] = v, -v
    # a second layer of identities: relu(relu(.)) = relu(.)
    layers: list[Layer] = [Dense(W1, b1), ReLU(), Dense(np.eye(k), np.zeros(k)), ReLU(), Dense(out, np.zeros(2))]
    return Network(layers, domain=Domain.box(2, -1.0, 1.0))


def test_planted_counterexamples() -> None:
    """x_0 = t + r has margin r and the class changes exactly at x_0 < t: robust for eps < r, not for eps > r.
    Just inside (eps = r (1 - 1e-3)) the tree proves it; just outside (eps = r (1 + 1e-3)) it returns a point that
    the forward pass confirms."""
    for extra, r in ((4, 0.3), (8, 0.2)):
        net = planted(extra)
        x = np.array([0.1 + r, 0.2])
        c = int(net.predict_index(net.forward(x[None]))[0])
        assert c == 1
        for eps, want in ((r * (1 - 1e-3), "holds"), (r * (1 + 1e-3), "violated")):
            lo, hi = ball_box(net, x, eps, "inf")
            C, _ = margin_rows(2, c)
            out = relu_split(net, C, lo, hi, _checker(net, lo, hi, c), deadline=20)
            assert out.status == want, (extra, eps, out)
            if want == "violated":
                assert out.counterexample is not None and out.counterexample[0] < 0.1
                assert np.all(np.abs(out.counterexample - x) <= eps + 1e-12)
            else:
                assert out.bound is not None and 0 < out.bound <= r * 1e-3 + 1e-9
            res = verify_sample(net, x, eps, time_limit=30)
            assert res.verdict == want


def test_deadline() -> None:
    """An expired deadline gives "unknown" at once; a short one stops the tree (never "holds" from an open tree)."""
    net = random_dense_net(np.random.default_rng(3), [10, 40, 40, 5])
    x = np.zeros(10)
    c = int(net.predict_index(net.forward(x[None]))[0])
    lo, hi = ball_box(net, x, 1.0, "inf")
    C, _ = margin_rows(5, c)
    never = lambda P: None  # noqa: E731  (no counterexample is ever accepted: the tree must prove or time out)
    out = relu_split(net, C, lo, hi, never, deadline=0.0)
    assert out.status == "unknown" and out.open >= 1
    t0 = time.perf_counter()
    out = relu_split(net, C, lo, hi, never, deadline=0.3)
    assert time.perf_counter() - t0 <= promised(0.3)
    assert out.status == "unknown" and "deadline" in out.reason and out.open >= 1
    assert out.bound is not None and out.bound <= 0
    P = np.random.default_rng(0).uniform(lo, hi, (5000, 10))
    assert out.bound <= float((net.forward(P) @ C.T).min()) + 1e-9  # a proved bound over the box, also when open
    capped = relu_split(net, C, lo, hi, never, deadline=30, max_domains=3)
    assert capped.status == "unknown" and "more than 3 open domains" in capped.reason


def test_pipeline_stage() -> None:
    """verify_sample with and without the tree: the same verdicts; where the tree decides, the prover is
    "relu-split" with its seconds in the JSON result; unsupported layers or L1 balls skip the stage."""
    assert "relu-split" in PROVERS
    seen = 0
    cases = [(planted(k), np.array([0.1 + r, 0.2]), (r * 0.99, r * 1.01)) for k, r in ((4, 0.3), (8, 0.2))]
    for seed in range(8):
        x = np.random.default_rng(seed + 100).uniform(-1, 1, 3)
        cases.append((random_dense_net(np.random.default_rng(seed), [3, 8, 8, 3]), x, (0.1, 0.3)))
    for net, x, radii in cases:
        for eps in radii:
            on = verify_sample(net, x, eps, time_limit=30)
            off = verify_sample(net, x, eps, time_limit=30, relu_split=False)
            assert on.verdict == off.verdict != "unknown"
            assert "relu-split" not in off.seconds
            if on.prover == "relu-split":
                seen += 1
                d = json.loads(json.dumps(on.to_dict()))
                assert d["prover"] == "relu-split" and d["seconds"]["relu-split"] >= 0 and d["nodes"] >= 1
                if on.verdict == "holds":
                    m0 = float(margins(net, net.forward(x[None]), np.array([on.cls]))[0])
                    assert on.bound is not None and 0 < on.bound <= m0
    assert seen >= 1
    l1 = verify_sample(random_dense_net(np.random.default_rng(0), [3, 8, 8, 3]), np.zeros(3), 0.3, "1")
    assert "relu-split" not in l1.seconds


def test_exact_leaves_and_empty_patterns() -> None:
    """Domains with every unit fixed are decided by LP (here the counterexample comes from one, re-checked); an
    infeasible pattern region closes a domain only when it is empty with a margin."""
    rng = np.random.default_rng(0)
    net = random_dense_net(rng, [3, 8, 8, 3])
    x = rng.uniform(-1, 1, 3)
    c = int(net.predict_index(net.forward(x[None]))[0])
    lo, hi = ball_box(net, x, 0.5, "inf")
    C, _ = margin_rows(3, c)
    out = relu_split(net, C, lo, hi, _checker(net, lo, hi, c), deadline=30)
    assert out.lps > 0 and out.status == "violated"
    assert out.counterexample is not None and int(net.predict_index(net.forward(out.counterexample[None]))[0]) != c
    box = (np.zeros(2), np.ones(2))
    Q = np.array([[1.0, 0.0], [-1.0, 0.0]])
    assert _empty(Q, np.array([-0.5, 0.4]), *box)  # x0 >= 0.5 and x0 <= 0.4
    assert not _empty(Q[:1], np.array([-0.5]), *box)  # x0 >= 0.5
    assert not _empty(Q[:1], np.array([-(1 + 1e-9)]), *box)  # x0 >= 1 + 1e-9: empty, but not by a margin


def test_an_exact_leaf_counts_the_rows_closed_before_its_lp():
    """A domain with every unit fixed is closed by one LP per live row; its value was the least LP optimum of the
    live rows only, leaving out rows already closed there with a smaller positive bound: a 'proved' bound of the
    worst margin 0.1785 where the grid reaches 0.0113 (a robustness certificate carried one and re-checked OK)."""
    import numpy as np

    from mipnet import Domain, Network
    from mipnet.layers import Dense, LeakyReLU, ReLU
    from mipnet.verify.relu_split import relu_split

    rng = np.random.default_rng(106)
    nin, h = int(rng.integers(1, 3)), int(rng.integers(2, 6))
    layers = [
        Dense(rng.normal(0, 1, (h, nin)), rng.normal(0, 0.3, h)),
        ReLU() if rng.random() < 0.7 else LeakyReLU(0.2),
    ]
    if rng.random() < 0.5:
        h2 = int(rng.integers(2, 5))
        layers += [Dense(rng.normal(0, 1, (h2, h)), rng.normal(0, 0.3, h2)), ReLU()]
        h = h2
    layers.append(Dense(rng.normal(0, 1, (3, h)), rng.normal(0, 1, 3)))
    net = Network(layers, domain=Domain.box(nin, -1.0, 1.0))
    g = np.linspace(-1, 1, 801 if nin == 2 else 200001)
    X = np.stack(np.meshgrid(*([g] * nin)), -1).reshape(-1, nin)
    C = rng.normal(0, 1, (int(rng.integers(2, 4)), 3))
    S = net.forward(X) @ C.T
    d = -S.min(0) + rng.uniform(0.001, 0.5, C.shape[0])
    r = relu_split(net, C, net.domain.lower, net.domain.upper, lambda P: None, d=d, deadline=10)
    assert r.status == "holds" and r.bound <= float((S + d).min(1).min()) + 1e-9, r.bound


def test_the_split_stage_never_claims_a_counterexample_the_single_row_forward_pass_does_not_confirm():
    """Biases of 1e11: the batched forward pass of the tree's check moved a point across the boundary that the
    single-row pass keeps on the sample's side, and verify_sample said "violated" with a margin of +6.3e-5."""
    W1 = [[-109965.5255625594, 4.232457072659548e-08], [265.1118207495564, 1.5073134064442988e-07],
          [0.0021997597921003718, 0.0048622349944874264], [-7.508866598713388e-09, -5.742844530178742e-05],
          [14.270221090987944, 0.1020740623178303], [-2433.739407254058, -5.591079139257536e-07]]  # fmt: skip
    b1 = [109964781526.77751, -265079589.1478614, -2247.8077053515613, 0.5817983687548922, -14268759.124295434,
          2435421448.527693]  # fmt: skip
    W2 = [[0.006917848418373889, 135.35524664478572, 8.396274357734047, -1.030716701201962, -476.9628142393539,
           8.135129159397021], [0.20499200113333263, -4.093144692081713, 4.0817191836301685, 0.15282712577345592,
           1.2303755751916747, -409.9592572347028]]  # fmt: skip
    net = Network(
        [Dense(np.array(W1), np.array(b1)), ReLU(), Dense(np.array(W2), np.array([0.0, 619914688.9809688]))],
        domain=Domain(["x0", "x1"], lower=[999000.0, 9999.0], upper=[1001000.0, 10001.0]),
    )
    x0 = np.array([1000000.0, 10000.0])
    c = int(net.predict_index(net.forward(x0[None]))[0])
    r = verify_sample(net, x0, 87.75149303550063, "inf", time_limit=10)
    if r.verdict == "violated":
        ce = np.asarray(r.counterexample, dtype=float)
        assert int(net.predict_index(net.forward(ce[None]))[0]) != c and np.abs(ce - x0).max() <= 87.75149303550063
