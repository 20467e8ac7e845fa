"""The shared property encodings (mipnet.encode.properties) checked directly on tiny models: norm balls
(points planted just inside / just outside), the norm epigraph, output functionals and margins, the twin
(two-copy) difference encodings against numpy; and the seams of the verifiers that use them."""

from __future__ import annotations

import warnings

import numpy as np
import pyomo.environ as pyo
import pytest

import mipnet.verify.monotonic as mono
from mipnet.bounds import compute_bounds
from mipnet.domain import Domain
from mipnet.encode import Terms, encode_network, input_terms, new_vars
from mipnet.encode.properties import (
    activation_difference,
    add_margin_floor,
    add_norm_ball,
    class_margins,
    difference_cuts,
    encode_margin,
    functional_bounds,
    functional_difference,
    interval_image,
    logit_terms,
    norm_epigraph,
    output_functional,
    twin_constraints,
)
from mipnet.errors import UnsupportedError
from mipnet.layers import Dense, LeakyReLU, ReLU
from mipnet.network import Network
from mipnet.solve import solve
from mipnet.verify.monotonic import FeatureVerdict, _lattice_verdict
from mipnet.verify.resilience import _encode_copy, uniform_big_m
from mipnet.verify.robustness import margins
from mipnet.verify.vnnlib import check_property, parse_vnnlib

NORM_ORD = {"inf": np.inf, "1": 1, "2": 2}
REL = 1e-3  # how far inside / outside the sphere the planted points lie (relative to the radius)


def _net(seed: int, sizes: list[int], leaky: bool = False, lo: float = -1.0, hi: float = 1.0) -> Network:
    rng = np.random.default_rng(seed)
    layers: list = []
    for k in range(len(sizes) - 1):
        layers.append(Dense(rng.normal(size=(sizes[k + 1], sizes[k])), rng.normal(size=sizes[k + 1]) * 0.3))
        if k < len(sizes) - 2:
            layers.append(LeakyReLU(0.1) if leaky else ReLU())
    return Network(layers, Domain.box(sizes[0], lo, hi), task="regress")


def _ball_model(
    center: np.ndarray, radius: float, norm: str, variable_radius: bool
) -> tuple[pyo.ConcreteModel, Terms, object]:
    """Inputs in the box [c - 2r, c + 2r] (wide enough to hold the planted points) and the ball constraint."""
    m = pyo.ConcreteModel()
    dom = Domain.box(center.size, -10.0, 10.0)
    x = input_terms(m, dom, center - 2 * radius, center + 2 * radius, name="x")
    r: object = float(radius)
    if variable_radius:
        r = new_vars(m, "e", np.array([0.0]), np.array([10.0]))[0]
        r.fix(radius)  # type: ignore[attr-defined]
    add_norm_ball(m, "B", x, center, r, norm)
    m.obj = pyo.Objective(expr=0.0)
    return m, x, r


def _feasible_at(m: pyo.ConcreteModel, x: Terms, point: np.ndarray) -> bool:
    for v, p in zip(x.expr.ravel(), point):
        v.fix(float(p))
    res = solve(m, "highs")
    assert res.status in ("optimal", "infeasible"), res
    return res.status == "optimal"


def _planted(center: np.ndarray, radius: float, norm: str, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Two points on one ray from the centre: norm radius (1 - REL) and radius (1 + REL)."""
    d = np.random.default_rng(seed).normal(size=center.size)
    d /= np.linalg.norm(d, ord=NORM_ORD[norm])
    return center + radius * (1 - REL) * d, center + radius * (1 + REL) * d


# ============================================================================ norm balls
@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("norm", ["inf", "1"])
def test_norm_ball_membership_of_planted_points(norm: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    center, radius = rng.uniform(-1, 1, 4), float(rng.uniform(0.2, 1.0))
    inside, outside = _planted(center, radius, norm, seed)
    assert np.linalg.norm(inside - center, NORM_ORD[norm]) < radius < np.linalg.norm(outside - center, NORM_ORD[norm])
    m, x, _ = _ball_model(center, radius, norm, variable_radius=True)
    assert _feasible_at(m, x, inside)
    assert not _feasible_at(m, x, outside)
    if norm == "1":  # the fixed radius works the same way
        m, x, _ = _ball_model(center, radius, norm, variable_radius=False)
        assert _feasible_at(m, x, inside)
        assert not _feasible_at(m, x, outside)


def test_fixed_linf_ball_is_the_box_and_adds_nothing() -> None:
    center = np.array([0.2, -0.3])
    m, x, _ = _ball_model(center, 0.5, "inf", variable_radius=False)
    assert len(m.B_ball) == 0
    # the L-inf ball of a fixed radius is the box of the inputs (robustness builds x on ball_box)
    m = pyo.ConcreteModel()
    x = input_terms(m, Domain.box(2, -10.0, 10.0), center - 0.5, center + 0.5, name="x")
    assert np.allclose(x.lower, center - 0.5) and np.allclose(x.upper, center + 0.5)


@pytest.mark.parametrize("seed", range(3))
def test_l2_has_no_linear_ball_and_is_refused(seed: int) -> None:
    """An L2 ball is not a MILP constraint: the shared encodings refuse it instead of writing another norm
    (the planted points are on either side of the L2 sphere, where L1 and L-inf would both misjudge one)."""
    rng = np.random.default_rng(seed)
    center, radius = rng.uniform(-1, 1, 3), 0.5
    inside, outside = _planted(center, radius, "2", seed)
    assert np.linalg.norm(inside - center) < radius < np.linalg.norm(outside - center)
    m = pyo.ConcreteModel()
    x = input_terms(m, Domain.box(3, -10.0, 10.0), name="x")
    with pytest.raises(UnsupportedError):
        add_norm_ball(m, "B", x, center, radius, "2")
    with pytest.raises(UnsupportedError):
        norm_epigraph(m, center, x.expr.ravel(), np.full(3, 20.0), "2")


@pytest.mark.parametrize("norm", ["inf", "1"])
def test_norm_epigraph_minimum_is_the_norm(norm: str) -> None:
    rng = np.random.default_rng(7)
    a, b = rng.uniform(-1, 1, 5), rng.uniform(-1, 1, 5)
    m = pyo.ConcreteModel()
    xb = input_terms(m, Domain.box(5, -1.0, 1.0), name="b")
    obj, aux = norm_epigraph(m, a, xb.expr.ravel(), np.full(5, 2.0), norm)
    m.obj = pyo.Objective(expr=obj)
    for v, p in zip(xb.expr.ravel(), b):
        v.fix(float(p))
    res = solve(m, "highs")
    assert res.status == "optimal"
    assert res.incumbent == pytest.approx(np.linalg.norm(b - a, NORM_ORD[norm]), abs=1e-7)
    if norm == "1":
        assert np.allclose([pyo.value(t) for t in aux], np.abs(b - a), atol=1e-7)


# ============================================================================ functionals, margins
def test_output_functional_and_its_bounds() -> None:
    net = _net(1, [3, 5, 3])
    coef = np.array([1.0, 0.0, -2.0])
    m = pyo.ConcreteModel()
    x = input_terms(m, net.domain, name="x")
    enc = encode_network(m, net, x)
    y = enc.outputs.expr.ravel()
    lo, hi = functional_bounds(coef, enc.outputs.lower.ravel(), enc.outputs.upper.ravel())
    X = net.domain.sample(300, 0)
    F = net.forward(X) @ coef
    assert lo <= F.min() + 1e-9 and F.max() <= hi + 1e-9
    for sense, want in ((pyo.minimize, lo), (pyo.maximize, hi)):
        m.obj = pyo.Objective(expr=output_functional(y, coef), sense=sense)
        res = solve(m, "highs")
        assert (res.incumbent - want) * (1 if sense == pyo.minimize else -1) >= -1e-7  # within the bounds
        xv = x.values()
        assert res.incumbent == pytest.approx(float(net.forward(xv[None])[0] @ coef), abs=1e-6)
        m.del_component("obj")


def test_margins_and_logits() -> None:
    z = np.array([[1.0, 3.0, 2.0], [0.5, -1.0, 0.0]])
    assert np.allclose(class_margins(z, 1), [1.0, -1.5])
    assert np.allclose(class_margins(z, np.array([0, 0])), [-2.0, 0.5])
    single = np.array([[0.7], [-0.2]])
    assert np.allclose(margins(None, single, np.array([1, 0])), [0.7, 0.2])  # type: ignore[arg-type]
    t = Terms.constant(np.array([0.7]))
    zl, lo, hi = logit_terms(t)
    assert zl == [0.0, 0.7] and np.allclose(lo, [0.0, 0.7]) and np.allclose(hi, [0.0, 0.7])


def test_margin_floor_and_encoded_margin_against_numpy() -> None:
    net = _net(2, [2, 6, 3])
    m = pyo.ConcreteModel()
    x = input_terms(m, net.domain, name="x")
    enc = encode_network(m, net, x)
    mg = encode_margin(m, "M", enc.outputs, 0, prune=False)
    m.floor = pyo.ConstraintList()
    z, _, _ = logit_terms(enc.outputs)
    m.t = pyo.Var(bounds=(-100, 100))
    add_margin_floor(m.floor, z, 0, m.t)
    m.obj = pyo.Objective(expr=m.t, sense=pyo.maximize)  # max over x of the margin of class 0
    res = solve(m, "highs")
    X = net.domain.sample(3000, 1)
    best = class_margins(net.forward(X), 0).max()
    assert res.incumbent >= best - 1e-7
    xv = x.values()
    assert res.incumbent == pytest.approx(float(class_margins(net.forward(xv[None]), 0)[0]), abs=1e-6)
    assert mg.lower <= class_margins(net.forward(X), 0).min() + 1e-9


# ============================================================================ two copies
@pytest.mark.parametrize("leaky", [False, True])
def test_difference_intervals_contain_the_numpy_differences(leaky: bool) -> None:
    net = _net(3, [3, 6, 5, 2], leaky=leaky)
    rng = np.random.default_rng(0)
    A = net.domain.sample(500, 0)
    D = rng.uniform(-0.2, 0.2, A.shape)
    ta, tb = net.forward_trace(A), net.forward_trace(np.clip(A + D, -1, 1))
    dlo, dhi = np.full(3, -0.2), np.full(3, 0.2)
    for i, layer in enumerate(net.layers):
        if isinstance(layer, Dense):
            dlo, dhi = interval_image(layer.weight, dlo, dhi)
        else:
            dlo, dhi = activation_difference(dlo, dhi, layer.alpha if isinstance(layer, LeakyReLU) else 0.0)
        d = tb[i + 1] - ta[i + 1]
        assert np.all(d >= dlo - 1e-9) and np.all(d <= dhi + 1e-9), i


def _two_copies(net: Network, d_box: float) -> tuple[pyo.ConcreteModel, Terms, Terms, object, object]:
    m = pyo.ConcreteModel()
    xa = input_terms(m, net.domain, name="a")
    xb = input_terms(m, net.domain, name="b")
    bnds = compute_bounds(net, method="interval")
    ea = encode_network(m, net, xa, bounds=bnds, prefix="A")
    eb = encode_network(m, net, xb, bounds=bnds, prefix="B")
    return m, xa, xb, ea, eb


@pytest.mark.parametrize("seed", range(3))
def test_twin_constraints_keep_every_true_pair_and_its_values(seed: int) -> None:
    """Twin constraints are valid: every real pair (a, b) with |b - a| <= E stays feasible, and the
    copies' values (hence c^T (y^B - y^A)) are the numpy forward pass's."""
    net = _net(10 + seed, [3, 5, 4, 2])
    rng = np.random.default_rng(seed)
    E = 0.3
    m, xa, xb, ea, eb = _two_copies(net, E)
    t = new_vars(m, "t", np.zeros(3), np.full(3, 2.0))
    m.abs = pyo.ConstraintList()
    for i in range(3):
        m.abs.add(t[i] >= xb.expr[i] - xa.expr[i])
        m.abs.add(t[i] >= xa.expr[i] - xb.expr[i])
        m.abs.add(xb.expr[i] - xa.expr[i] <= E)
        m.abs.add(xa.expr[i] - xb.expr[i] <= E)
    n = twin_constraints(m, net, ea, eb, np.full(3, E), t)
    assert n > 0
    coef = np.array([1.0, -0.5])
    m.obj = pyo.Objective(expr=functional_difference(ea.outputs.expr.ravel(), eb.outputs.expr.ravel(), coef))
    for _ in range(4):
        a = rng.uniform(-1, 1, 3)
        b = np.clip(a + rng.uniform(-E, E, 3), -1, 1)
        for v, p in zip(xa.expr.ravel(), a):
            v.fix(float(p))
        for v, p in zip(xb.expr.ravel(), b):
            v.fix(float(p))
        res = solve(m, "highs")
        assert res.status == "optimal", res
        want = net.forward(np.stack([a, b]))
        assert np.allclose(eb.outputs.values().ravel() - ea.outputs.values().ravel(), want[1] - want[0], atol=1e-6)
        assert res.incumbent == pytest.approx(float(coef @ (want[1] - want[0])), abs=1e-6)


@pytest.mark.parametrize("leaky", [False, True])
def test_difference_cuts_keep_every_true_step_and_its_values(leaky: bool) -> None:
    """The lattice check's cuts (b = a + e_l) cut off no real pair; the step value is numpy's."""
    net = _net(20, [3, 6, 4, 1], leaky=leaky, lo=-2.0, hi=2.0)
    rng = np.random.default_rng(1)
    m = pyo.ConcreteModel()
    upper = net.domain.upper.copy()
    upper[0] -= 1.0
    xa = input_terms(m, net.domain, upper=upper, name="x")
    xe = xa.expr.copy()
    xe[0] = xa.expr[0] + 1.0
    lo, hi = xa.lower.copy(), xa.upper.copy()
    lo[0] += 1.0
    hi[0] += 1.0
    bnds = compute_bounds(net, method="interval")
    ea = encode_network(m, net, xa, bounds=bnds, prefix="A")
    eb = encode_network(m, net, Terms(xe, lo, hi), bounds=bnds, prefix="B")
    e0 = np.array([1.0, 0.0, 0.0])
    difference_cuts(m, net, ea, eb, e0, e0)
    assert len(m.diff_cuts) > 0
    m.obj = pyo.Objective(expr=functional_difference(ea.outputs.expr.ravel(), eb.outputs.expr.ravel(), np.ones(1)))
    for _ in range(4):
        a = rng.uniform(net.domain.lower, upper)
        for v, p in zip(xa.expr.ravel(), a):
            v.fix(float(p))
        res = solve(m, "highs")
        assert res.status == "optimal", res
        f = net.forward(np.stack([a, a + e0]))[:, 0]
        assert res.incumbent == pytest.approx(float(f[1] - f[0]), abs=1e-6)


# ============================================================================ the verifiers' seams
def test_resilience_copy_with_uniform_big_m_uses_the_one_encoder() -> None:
    net = _net(30, [2, 4, 3])
    M = uniform_big_m(net)
    m = pyo.ConcreteModel()
    x = input_terms(m, net.domain, name="a")
    enc = _encode_copy(m, net, x, None, M, "A")
    assert len(enc.terms) == len(net.layers) + 1 and len(enc.binaries) == len(net.layers)
    for i, layer in enumerate(net.layers):
        if isinstance(layer, Dense):
            out = enc.terms[i + 1]
            assert np.all(out.lower == -M) and np.all(out.upper == M)
            assert all(v.lb == -M and v.ub == M for v in out.expr.ravel())
    a = np.array([0.3, -0.6])
    for v, p in zip(x.expr.ravel(), a):
        v.fix(float(p))
    m.obj = pyo.Objective(expr=0.0)
    assert solve(m, "highs").status == "optimal"
    assert np.allclose(enc.outputs.values().ravel(), net.forward(a[None])[0], atol=1e-6)


def test_monotonic_package_lookups_can_be_patched(monkeypatch) -> None:
    """The lattice check looks shallow_form / lattice_step_model up on mipnet.verify.monotonic."""
    dom = Domain(["k", "u"], np.array([0.0, -1.0]), np.array([4.0, 1.0]), np.array([True, False]))
    net = Network(
        [Dense(np.array([[1.0, 0.5], [-1.0, 1.0]]), np.zeros(2)), ReLU(), Dense(np.array([[1.0, -2.0]]), np.zeros(1))],
        dom,
        task="regress",
    )
    bnds = compute_bounds(net, method="interval")
    calls: list[str] = []
    real = mono.lattice_step_model

    def ramp(*args, **kwargs):
        calls.append("ramp")
        return real(*args, **kwargs)

    def no_shallow(n: Network) -> None:
        calls.append("shallow")
        return None

    monkeypatch.setattr(mono, "lattice_step_model", ramp)
    v_ramp = FeatureVerdict("k", "increasing", "unknown", "exact", None, None)
    _lattice_verdict(net, np.ones(1), 0, 1, bnds, v_ramp, 20.0, "highs", None, False, 1e-7)
    assert calls == ["ramp"]
    monkeypatch.setattr(mono, "shallow_form", no_shallow)  # the two-copy model instead
    v_two = FeatureVerdict("k", "increasing", "unknown", "exact", None, None)
    _lattice_verdict(net, np.ones(1), 0, 1, bnds, v_two, 20.0, "highs", None, False, 1e-7)
    assert calls == ["ramp", "shallow"]
    assert v_ramp.status == v_two.status and v_ramp.status in ("holds", "violated")


def test_vnnlib_time_limit_and_its_deprecated_alias() -> None:
    net = _net(40, [2, 3, 1])
    prop = parse_vnnlib(
        "(declare-const X_0 Real)(declare-const X_1 Real)(declare-const Y_0 Real)"
        "(assert (>= X_0 -0.5))(assert (<= X_0 0.5))(assert (>= X_1 -0.5))(assert (<= X_1 0.5))"
        "(assert (>= Y_0 1000))"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert check_property(net, prop, time_limit=20).verdict == "holds"
    with pytest.warns(DeprecationWarning):
        assert check_property(net, prop, timeout=20).verdict == "holds"
    with pytest.raises(TypeError):
        check_property(net, prop, time_limit=20, timeout=20)
