"""CROWN / alpha-CROWN bounds of a linear specification (mipnet.verify.spec_bounds): sound against dense
sampling and box corners and against the MILP's optimum, alpha-CROWN never worse than CROWN, CROWN never
worse than interval arithmetic on the output bounds, the analytic alpha gradient, deadlines and goals."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pyomo.environ as pyo
from helpers import random_dense_net
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mipnet.bounds import check_bounds, compute_bounds
from mipnet.deadline import Deadline
from mipnet.domain import Domain
from mipnet.encode import encode_network, input_terms
from mipnet.layers import Conv2D, Dense, Flatten, HardTanh, Layer, LeakyReLU, MaxPool2D, ReLU
from mipnet.network import Network
from mipnet.solve import solve
from mipnet.verify.robustness import PROVERS, margins, verify_robustness, verify_sample
from mipnet.verify.spec_bounds import (
    _backward,
    _gradient,
    affine_maps,
    crown_bounds,
    layer_ops,
    margin_rows,
    spec_bounds,
)

SETTINGS = settings(max_examples=8, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
ACTS = {"relu": ReLU, "leaky": lambda: LeakyReLU(0.1), "hardtanh": lambda: HardTanh(-0.5, 0.7)}


def dense(rng: np.random.Generator, sizes: list[int], act: str) -> Network:
    layers: list[Layer] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(Dense(rng.normal(0, 1 / np.sqrt(a), (b, a)), rng.normal(0, 0.2, b)))
        if i < len(sizes) - 2:
            layers.append(ACTS[act]())
    return Network(layers, domain=Domain.box(sizes[0], -1.0, 1.0))


def conv(rng: np.random.Generator) -> Network:
    return Network(
        [
            Conv2D(rng.normal(0, 0.5, (2, 1, 3, 3)), rng.normal(0, 0.1, 2), padding=1),
            LeakyReLU(0.05),
            MaxPool2D(kernel=2),
            Flatten(),
            Dense(rng.normal(0, 0.5, (5, 18)), rng.normal(0, 0.1, 5)),
            ReLU(),
            Dense(rng.normal(0, 0.5, (3, 5)), rng.normal(0, 0.1, 3)),
        ],
        domain=Domain.box(36, 0.0, 1.0),
        input_shape=(1, 6, 6),
    )


def samples(rng: np.random.Generator, lo: np.ndarray, hi: np.ndarray, n: int = 20_000) -> np.ndarray:
    S = rng.uniform(lo, hi, (n, lo.size))
    if lo.size <= 10:
        corners = np.array(list(itertools.product(*zip(lo, hi))))
    else:
        corners = np.where(rng.random((2000, lo.size)) < 0.5, lo, hi)
    return np.vstack([S, corners])


def check(net: Network, lo: np.ndarray, hi: np.ndarray, rng: np.random.Generator) -> None:
    m = net.n_outputs
    C = rng.normal(size=(4, m))
    E = rng.normal(size=(4, net.n_inputs)) * (rng.random((4, 1)) < 0.5)
    d = rng.normal(size=4)
    sb = spec_bounds(net, C, d, lo, hi, E=E, steps=20)
    S = samples(rng, lo, hi)
    s = net.forward(S) @ C.T + S @ E.T + d
    assert np.all(sb.lower <= s.min(axis=0) + 1e-9), (sb.lower, s.min(axis=0))
    assert np.all(sb.crown >= sb.interval)
    if sb.alpha is not None:
        assert np.all(sb.alpha >= sb.crown)
    np.testing.assert_array_equal(sb.lower, sb.crown if sb.alpha is None else sb.alpha)


@SETTINGS
@given(
    st.integers(0, 10_000),
    st.sampled_from(["relu", "leaky", "hardtanh"]),
    st.sampled_from([[3, 8, 8, 4], [5, 12, 3], [2, 6, 6, 6, 2]]),
    st.floats(0.05, 1.0),
)
def test_bounds_below_every_sampled_point(seed: int, act: str, sizes: list[int], width: float) -> None:
    rng = np.random.default_rng(seed)
    net = dense(rng, sizes, act)
    c = rng.uniform(-1, 1, sizes[0])
    check(net, np.clip(c - width, -1, 1), np.clip(c + width, -1, 1), rng)


@SETTINGS
@given(st.integers(0, 10_000), st.floats(0.02, 0.3))
def test_bounds_on_conv_maxpool_nets(seed: int, width: float) -> None:
    rng = np.random.default_rng(seed)
    net = conv(rng)
    c = rng.uniform(0, 1, 36)
    check(net, np.clip(c - width, 0, 1), np.clip(c + width, 0, 1), rng)


def milp_min(net: Network, row: np.ndarray) -> float:
    m = pyo.ConcreteModel()
    x = input_terms(m, net.domain)
    enc = encode_network(m, net, x)
    m.obj = pyo.Objective(expr=sum(float(v) * z for v, z in zip(row, enc.outputs.expr.ravel())))
    r = solve(m, time_limit=30)
    assert r.status == "optimal"
    return float(r.incumbent)


@settings(max_examples=5, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 10_000), st.sampled_from(["relu", "leaky"]))
def test_milp_optimum_is_above_the_bound(seed: int, act: str) -> None:
    rng = np.random.default_rng(seed)
    net = dense(rng, [3, 6, 6, 3], act)
    C = rng.normal(size=(3, 3))
    sb = spec_bounds(net, C)
    for r in range(3):
        opt = milp_min(net, C[r])
        assert sb.lower[r] <= opt + 1e-6
        assert sb.interval[r] <= sb.crown[r] <= sb.lower[r]


def test_alpha_gradient_is_the_derivative_of_the_bound() -> None:
    rng = np.random.default_rng(3)
    net = random_dense_net(rng, [4, 16, 16, 5], "leaky_relu")
    lo, hi = np.full(4, -0.6), np.full(4, 0.4)
    C, _ = margin_rows(5, 2)
    ops = layer_ops(net, lo, hi, compute_bounds(net, lo, hi, "linear"))
    alphas = {
        t: rng.uniform(op.amin, 1, (4, op.free.size))
        for t, op in enumerate(ops)
        if op.kind == "diag" and op.free is not None and op.free.any()
    }
    E, d = np.zeros((4, 4)), np.zeros(4)
    b, _, xs, pos = _backward(ops, C, E, d, lo, hi, alphas)
    grads = _gradient(ops, xs, pos, alphas)
    for t in alphas:
        for j in np.flatnonzero(ops[t].free)[:5]:
            moved = {k: v.copy() for k, v in alphas.items()}
            moved[t][:, j] += 1e-6
            fd = (_backward(ops, C, E, d, lo, hi, moved)[0] - b) / 1e-6
            np.testing.assert_allclose(grads[t][:, j], fd, atol=1e-4)


def test_alpha_crown_tightens_and_goal_stops_early() -> None:
    rng = np.random.default_rng(0)
    net = random_dense_net(rng, [4, 20, 20, 5])
    x = rng.uniform(-0.5, 0.5, 4)
    C, _ = margin_rows(5, int(net.predict_index(net.forward(x[None]))[0]))
    sb = spec_bounds(net, C, lower=x - 0.3, upper=x + 0.3, steps=40)
    assert sb.alpha is not None and np.all(sb.alpha >= sb.crown) and np.any(sb.alpha > sb.crown + 1e-3)
    assert set(sb.seconds) == {"crown", "alpha-crown"} and sb.steps == 40
    quick = spec_bounds(net, C, lower=x - 0.3, upper=x + 0.3, steps=40, goal=lambda b: True)
    assert quick.alpha is None and quick.steps == 0
    late = spec_bounds(net, C, lower=x - 0.3, upper=x + 0.3, steps=40, deadline=Deadline(0.0))
    assert late.alpha is None and np.all(late.lower == late.crown)


def test_margin_rows_and_stage() -> None:
    C, rivals = margin_rows(4, 1)
    np.testing.assert_array_equal(rivals, [0, 2, 3])
    np.testing.assert_array_equal(C @ np.array([1.0, 5.0, 2.0, 3.0]), [4.0, 3.0, 2.0])
    C1, r1 = margin_rows(1, 0)
    assert C1.tolist() == [[-1.0]] and r1.tolist() == [1]
    net = Network([Dense(np.eye(2), np.array([1.0, -1.0]))], domain=Domain.box(2, 0.0, 1.0))
    sb = spec_bounds(net, np.eye(2))
    assert sb.stage(np.array([0])) == "crown" and sb.stage() == ""


# ----------------------------------------------------------------------------- the first prover: robustness


@settings(max_examples=10, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.integers(0, 10_000),
    st.sampled_from([[3, 8, 8, 4], [2, 10, 3], [4, 12, 12, 1], [3, 10, 6]]),
    st.sampled_from(["inf", "1"]),
    st.floats(0.02, 0.4),
)
def test_robustness_prover_never_changes_a_verdict(seed: int, sizes: list[int], norm: str, eps: float) -> None:
    rng = np.random.default_rng(seed)
    net = random_dense_net(rng, sizes, "leaky_relu" if seed % 2 else "relu")
    x = rng.uniform(-0.7, 0.7, sizes[0])
    on = verify_sample(net, x, eps, norm, time_limit=20)
    off = verify_sample(net, x, eps, norm, time_limit=20, spec_bound=False)
    assert on.verdict == off.verdict, (on, off)
    assert on.prover in PROVERS and "bounds" in on.seconds or on.prover in ("sample", "attack")
    if on.prover in ("crown", "alpha-crown"):
        assert on.verdict == "holds" and on.bound is not None and on.bound > 0 and on.n_binaries == 0
        S = rng.uniform(np.maximum(x - eps, -1), np.minimum(x + eps, 1), (5000, x.size))
        assert on.bound <= margins(net, net.forward(S), np.array([on.cls])).min() + 1e-9
        assert on.prover in on.seconds
    if on.verdict == "holds" and on.bound is not None and off.bound is not None and on.prover == "milp":
        assert on.bound <= off.bound + 1e-6 or on.n_rivals < off.n_rivals
    d = json.loads(json.dumps(on.to_dict()))
    assert d["prover"] == on.prover and set(d["seconds"]) == set(on.seconds)


def test_rivals_proved_by_the_bound_leave_the_milp() -> None:
    hits = 0
    for seed in range(40):
        rng = np.random.default_rng(seed)
        net = random_dense_net(rng, [3, 10, 10, 5])
        x = rng.uniform(-0.5, 0.5, 3)
        on = verify_sample(net, x, 0.25, time_limit=20, use_attack=False)
        off = verify_sample(net, x, 0.25, time_limit=20, use_attack=False, spec_bound=False)
        assert on.verdict == off.verdict
        if on.prover == "milp" and on.n_rivals < off.n_rivals:
            hits += 1
            assert "crown" in on.seconds and "milp" in on.seconds
    assert hits > 0
    X = np.random.default_rng(1).uniform(-0.5, 0.5, (4, 3))
    net = random_dense_net(np.random.default_rng(2), [3, 10, 10, 5])
    on = verify_robustness(net, X, 0.05, spec_bound=True)
    off = verify_robustness(net, X, 0.05, spec_bound=False)
    assert [r.verdict for r in on] == [r.verdict for r in off]
    assert all(r.prover for r in on) and all(r.prover != "crown" for r in off)


@SETTINGS
@given(st.integers(0, 10_000), st.sampled_from(["relu", "leaky", "hardtanh", "conv"]), st.floats(0.05, 0.5))
def test_crown_layer_bounds_are_sound_and_not_looser_than_linear(seed: int, act: str, width: float) -> None:
    rng = np.random.default_rng(seed)
    net = conv(rng) if act == "conv" else dense(rng, [4, 10, 10, 10, 3], act)
    c = net.domain.sample(1, rng)[0]
    lo, hi = np.maximum(c - width, net.domain.lower), np.minimum(c + width, net.domain.upper)
    cb = crown_bounds(net, lo, hi, affine_maps(net))
    assert check_bounds(net, cb, samples(rng, lo, hi, 5000))
    for (a, b), (p, q) in zip(compute_bounds(net, lo, hi, "linear"), cb):
        assert np.all(p >= a - 1e-5 * (1 + np.abs(a))) and np.all(q <= b + 1e-5 * (1 + np.abs(b)))


def test_gated_lines_are_the_layers_own_relaxation() -> None:
    from mipnet.layers.relu import slope_relaxation
    from mipnet.verify.spec_bounds import gated_lines

    rng = np.random.default_rng(0)
    L = rng.normal(size=200)
    U = L + np.abs(rng.normal(size=200)) * (rng.random(200) < 0.9)
    for a in (0.0, 0.1):
        Al, bl, Au, bu = slope_relaxation(a, L, U)
        sl, bl2, su, bu2 = gated_lines(a, L, U)
        np.testing.assert_array_equal(Al.diagonal(), sl)
        np.testing.assert_array_equal(Au.diagonal(), su)
        np.testing.assert_array_equal(bl, bl2)
        np.testing.assert_array_equal(bu, bu2)


def test_crown_bounds_past_the_deadline_are_interval_bounds_and_still_sound():
    """Stage 1 of a robustness check ignored the row's time limit (9 s of 0.5 s on a 10 x 800 net): past its
    deadline crown_bounds gives the remaining layers interval bounds, looser and still sound."""
    rng = np.random.default_rng(7)
    net = random_dense_net(rng, [4, 8, 8, 8, 3])
    lo, hi = np.full(4, -0.5), np.full(4, 0.5)
    cut = crown_bounds(net, lo, hi, deadline=Deadline(1e-9))
    full = crown_bounds(net, lo, hi)
    interval = compute_bounds(net, lo, hi, method="interval")
    X = rng.uniform(lo, hi, (3000, 4))
    trace = net.forward_trace(X)
    for (cl, ch), (fl, fh), (il, ih), values in zip(cut, full, interval, trace[1:]):
        v = values.reshape(len(X), -1)
        assert np.all(v >= cl.ravel() - 1e-9) and np.all(v <= ch.ravel() + 1e-9)
        assert np.all(cl <= fl + 1e-9) and np.all(ch >= fh - 1e-9)
        np.testing.assert_allclose(cl, il, atol=1e-9)
        np.testing.assert_allclose(ch, ih, atol=1e-9)
    assert any(np.any(ch > fh + 1e-6) for (_, ch), (_, fh) in zip(cut, full))  # the cut ones are looser
