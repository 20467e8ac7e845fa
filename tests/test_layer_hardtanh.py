"""HardTanh (clip), added as one layer home: forward, bounds, relaxation, MILP, derivative, JSON, ONNX, torch."""

import numpy as np
import pyomo.environ as pyo
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mipnet import Dense, Network, add_network
from mipnet.bounds import compute_bounds
from mipnet.errors import ModelFormatError, UnsupportedError
from mipnet.layers import HardTanh, layer_from_dict

#: HiGHS's feasibility tolerance (1e-7 .. 1e-6) times the big-M constants of these small nets
SOLVER_TOL = 1e-5


def _net(seed: int, a: float = -1.0, b: float = 1.0) -> Network:
    rng = np.random.default_rng(seed)
    return Network(
        [
            Dense(rng.normal(size=(5, 3)), rng.normal(size=5)),
            HardTanh(a, b),
            Dense(rng.normal(size=(4, 5)), rng.normal(size=4)),
            HardTanh(a, b),
            Dense(rng.normal(size=(2, 4)), rng.normal(size=2)),
        ]
    )


def test_forward_derivative_and_validation():
    h = HardTanh(-0.5, 2.0)
    z = np.array([-3.0, -0.5, 0.0, 1.0, 2.0, 5.0])
    np.testing.assert_array_equal(h.forward(z), [-0.5, -0.5, 0.0, 1.0, 2.0, 2.0])
    np.testing.assert_array_equal(h.derivative(z), [0, 0, 1, 1, 0, 0])
    for bad in [(1.0, 1.0), (2.0, -1.0), (float("nan"), 1.0), (-float("inf"), 1.0)]:
        with pytest.raises(ModelFormatError):
            HardTanh(*bad)


@settings(max_examples=60, deadline=None)
@given(a=st.floats(-3, 1), width=st.floats(0.01, 4), L=st.floats(-6, 6), span=st.floats(0, 8))
def test_relaxation_is_sound_and_exact_inside_one_piece(a, width, L, span):
    """Al z + bl <= f(z) <= Au z + bu on dense samples of [L, U], kinks and ends included."""
    h = HardTanh(a, a + width)
    Lv, Uv = np.array([L]), np.array([L + span])
    Al, bl, Au, bu = h.relaxation(Lv, Uv, (1,))
    z = np.concatenate([np.linspace(L, L + span, 401), np.clip([a, a + width], L, L + span)])
    f = h.forward(z)
    assert np.all(Al.toarray()[0, 0] * z + bl[0] <= f + 1e-9)
    assert np.all(f <= Au.toarray()[0, 0] * z + bu[0] + 1e-9)
    lo, hi = h.interval(Lv, Uv)
    assert lo[0] <= f.min() + 1e-12 and f.max() <= hi[0] + 1e-12
    if L + span <= a or L >= a + width or (L >= a and L + span <= a + width):  # one piece: exact
        assert bu[0] - bl[0] < 1e-9


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), method=st.sampled_from(["interval", "linear", "lp"]))
def test_milp_encoding_is_exact_and_bounds_are_sound(seed, method):
    net = _net(seed, a=-0.5, b=1.5)
    rng = np.random.default_rng(seed)
    lo, hi = -np.ones(3) * 2, np.ones(3) * 2
    X = rng.uniform(lo, hi, size=(2000, 3))
    bnds = compute_bounds(net, lo, hi, method=method)
    trace = net.forward_trace(X)
    out = net.forward(X)
    assert np.all(out >= bnds[-1][0] - 1e-9) and np.all(out <= bnds[-1][1] + 1e-9)
    for (l, u), t in zip(bnds, trace[1:]):
        assert np.all(t.reshape(len(X), -1) >= l.reshape(1, -1) - 1e-9)
        assert np.all(t.reshape(len(X), -1) <= u.reshape(1, -1) + 1e-9)
    # fixed inputs: the MILP gives the forward pass
    for x in (X[0], lo, hi):
        m = pyo.ConcreteModel()
        m.x = pyo.Var(range(3), bounds=lambda m, i: (float(lo[i]), float(hi[i])))
        h = add_network(m, net, m.x, bounds=method)
        for i in range(3):
            m.x[i].fix(float(x[i]))
        m.obj = pyo.Objective(expr=0.0)
        pyo.SolverFactory("appsi_highs").solve(m)
        np.testing.assert_allclose(h.values(), net.forward(x[None])[0], rtol=1e-6, atol=SOLVER_TOL)
    # the maximum over the box is never below a sampled value, and its argmax re-checks
    m = pyo.ConcreteModel()
    m.x = pyo.Var(range(3), bounds=lambda m, i: (float(lo[i]), float(hi[i])))
    h = add_network(m, net, m.x, bounds=method)
    m.obj = pyo.Objective(expr=h.outputs[0], sense=pyo.maximize)
    opt = pyo.SolverFactory("appsi_highs")
    opt.highs_options = {"mip_rel_gap": 0.0}  # HiGHS's default gap (1e-4) let an optimum lie 5.5e-5 below (seed 165)
    opt.solve(m)
    tol = 1e-5 * max(1.0, abs(h.values()[0]))  # the solver's feasibility tolerance, scaled by the big-M constants
    assert h.values()[0] >= out[:, 0].max() - tol
    assert abs(net.forward(h.input_values()[None])[0, 0] - h.values()[0]) < tol


def test_json_round_trip():
    h = HardTanh(-0.25, 6.0)
    again = layer_from_dict(h.to_dict())
    assert isinstance(again, HardTanh) and (again.min_val, again.max_val) == (-0.25, 6.0)
    net = _net(1)
    assert Network.from_dict(net.to_dict()).fingerprint() == net.fingerprint()


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_onnx_round_trip_and_onnxruntime_agree(tmp_path, dtype):
    pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    from mipnet.io import load_model, save_model

    net = _net(3, a=-0.1, b=0.7)
    path = tmp_path / "net.onnx"
    save_model(net, path, dtype=dtype)
    back = load_model(path)
    assert [layer.kind for layer in back.layers] == [layer.kind for layer in net.layers]
    # what the file computes with: exact in float64, the float32 constants from a float32 file (never the metadata)
    want = (-0.1, 0.7) if dtype == "float64" else (float(np.float32(-0.1)), float(np.float32(0.7)))
    assert (back.layers[1].min_val, back.layers[1].max_val) == want
    X = np.random.default_rng(0).uniform(-2, 2, size=(50, 3))
    np.testing.assert_allclose(back.forward(X), net.forward(X), atol=1e-12 if dtype == "float64" else 1e-5)
    sess = ort.InferenceSession(str(path))
    name = sess.get_inputs()[0].name
    got = sess.run(None, {name: X.astype(np.float64 if dtype == "float64" else np.float32)})[0]
    np.testing.assert_allclose(got, net.forward(X), atol=1e-9 if dtype == "float64" else 1e-4)


def test_torch_round_trip_and_relu6(tmp_path):
    torch = pytest.importorskip("torch")
    from torch import nn

    from mipnet.io.torch_io import from_torch, to_torch

    net = _net(4, a=-2.0, b=0.5)
    module = to_torch(net, dtype=torch.float64)
    X = np.random.default_rng(1).uniform(-2, 2, size=(20, 3))
    with torch.no_grad():
        got = module(torch.tensor(X)).numpy()
    np.testing.assert_allclose(got, net.forward(X), atol=1e-10)
    seq = nn.Sequential(nn.Linear(3, 4), nn.ReLU6(), nn.Linear(4, 2), nn.Hardtanh(-0.3, 0.3)).double()
    back = from_torch(seq, input_shape=(3,))
    assert [(layer.min_val, layer.max_val) for layer in back.layers if isinstance(layer, HardTanh)] == [
        (0.0, 6.0),
        (-0.3, 0.3),
    ]
    with torch.no_grad():
        want = seq(torch.tensor(X)).numpy()
    np.testing.assert_allclose(back.forward(X), want, atol=1e-10)


def test_robustness_verification_runs_on_a_hardtanh_net():
    """The verification stack uses the layer's rules: every counterexample re-checks with the forward pass, every
    'holds' verdict comes with a proved positive bound on the margin."""
    from mipnet import Domain
    from mipnet.verify.robustness import verify_robustness

    net = _net(5)
    net.task, net.class_names = "classify", ["a", "b"]
    net.domain = Domain(net.domain.names, -np.ones(3) * 3, np.ones(3) * 3)
    X = np.random.default_rng(2).uniform(-1, 1, size=(6, 3))
    results = verify_robustness(net, X, eps=0.3, time_limit=30)
    assert {r.verdict for r in results} <= {"holds", "violated", "unknown"}
    for r in results:
        x = X[r.index]
        if r.verdict == "violated":
            adv = np.asarray(r.counterexample)
            assert np.max(np.abs(adv - x)) <= 0.3 + 1e-9
            assert np.argmax(net.forward(adv[None])[0]) != np.argmax(net.forward(x[None])[0])
        if r.verdict == "holds":  # a proof: a positive bound on the worst margin, or no point with margin <= 0
            assert (r.bound is not None and r.bound > 0) or r.status == "infeasible", r


def test_explanations_refuse_clearly():
    from mipnet.explain.openbox import interpret

    net = _net(6)
    with pytest.raises(UnsupportedError):
        interpret(net, np.zeros((2, 3)))
