"""The one-hidden-layer lattice step model (mipnet.verify.lattice) against the two-copy model."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mipnet.bounds import compute_bounds
from mipnet.domain import Domain
from mipnet.layers import Dense, Flatten, LeakyReLU, Normalize, ReLU
from mipnet.network import Network
from mipnet.solve import solve
from mipnet.verify.lattice import lattice_step_model, shallow_form
from mipnet.verify.monotonic import _two_copy_model


def _domain() -> Domain:
    # k integer in {0..4}, u continuous, a one-hot pair (g0, g1)
    return Domain(
        ["k", "u", "g0", "g1"],
        np.array([0.0, -1.0, 0.0, 0.0]),
        np.array([4.0, 1.0, 1.0, 1.0]),
        np.array([True, False, False, False]),
        onehot_groups=[[2, 3]],
    )


def _net(seed: int, hidden: int, n_out: int = 1) -> Network:
    rng = np.random.default_rng(seed)
    dom = _domain()
    layers = [
        Normalize(rng.uniform(0.3, 2.0, 4), rng.normal(size=4) * 0.3),
        Dense(rng.normal(size=(hidden, 4)), rng.normal(size=hidden) * 0.5),
        ReLU(),
        Dense(rng.normal(size=(n_out, hidden)), rng.normal(size=n_out)),
        Normalize(rng.uniform(0.5, 2.0, n_out), rng.normal(size=n_out)),
    ]
    return Network(layers, dom, task="regress")


def test_shallow_form_folds_the_scalings() -> None:
    net = _net(0, 5, n_out=2)
    sh = shallow_form(net)
    assert sh is not None and sh.hidden == 1
    X = net.domain.sample(200, 0)
    f = np.maximum(X @ sh.W1.T + sh.b1, 0) @ sh.W2.T + sh.b2
    np.testing.assert_allclose(f, net.forward(X), atol=1e-10)
    deep = Network(
        [
            Dense(np.eye(2), np.zeros(2)),
            ReLU(),
            Dense(np.eye(2), np.zeros(2)),
            ReLU(),
            Dense(np.ones((1, 2)), np.zeros(1)),
        ],
        Domain.box(2, 0, 1),
        task="regress",
    )
    leaky = Network(
        [Dense(np.eye(2), np.zeros(2)), LeakyReLU(0.1), Dense(np.ones((1, 2)), np.zeros(1))],
        Domain.box(2, 0, 1),
        task="regress",
    )
    assert shallow_form(deep) is None and shallow_form(leaky) is None
    # a per-channel scaling (a BatchNorm1d on a (2, 3) input: scale (2, 1)) before a Flatten: no shallow form (it
    # raised numpy's broadcast error, and `verify monotonic` stopped without a verdict)
    rng = np.random.default_rng(0)
    body = [Dense(rng.normal(size=(3, 6)), rng.normal(size=3)), ReLU(), Dense(rng.normal(size=(1, 3)), np.zeros(1))]
    chan = Network(
        [Normalize(np.array([[2.0], [0.5]]), np.array([[0.1], [-0.2]])), Flatten(), *body],
        Domain.box(6, 0, 1),
        input_shape=(2, 3),
    )
    assert shallow_form(chan) is None
    flat = Network([Normalize(np.array([3.0]), np.array([-1.0])), *body], Domain.box(6, 0, 1))
    sh = shallow_form(flat)  # a scaling of one number for every input: folded as the full one
    X = rng.uniform(0, 1, (100, 6))
    assert sh is not None
    np.testing.assert_allclose(np.maximum(X @ sh.W1.T + sh.b1, 0) @ sh.W2.T + sh.b2, flat.forward(X), atol=1e-10)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 100_000), hidden=st.integers(1, 8), s=st.sampled_from([1, -1]), lp=st.booleans())
def test_ramp_model_minimum_equals_the_two_copy_model(seed: int, hidden: int, s: int, lp: bool) -> None:
    """Both exact formulations of min s (f(x + e_k) - f(x)) agree, with interval or LP bounds of z."""
    net = _net(seed, hidden, n_out=2)
    coef = np.array([1.0, -0.5])
    bnds = compute_bounds(net, method="lp" if lp else "interval")
    ramp, x_r, n_bin = lattice_step_model(shallow_form(net), net.domain, 0, s, coef, bnds[1])
    assert n_bin <= hidden
    two, _ = _two_copy_model(net, coef, 0, s, bnds)
    a = solve(ramp, "highs", time_limit=30, mip_gap=1e-9)
    b = solve(two, "highs", time_limit=30, mip_gap=1e-9)
    assert a.status == "optimal" and b.status == "optimal"
    assert a.incumbent == pytest.approx(b.incumbent, abs=1e-6)
    # the minimiser is a lattice pair whose forward-pass step is the optimum
    xa = np.where(net.domain.integer, np.round(x_r.values()), x_r.values())
    xa[2:] = np.round(xa[2:])
    xb = xa.copy()
    xb[0] += 1
    step = s * float((net.forward(np.stack([xb]))[0] - net.forward(np.stack([xa]))[0]) @ coef)
    assert step == pytest.approx(a.incumbent, abs=1e-6)


def test_the_lattice_proof_survives_the_objectives_rescaling():
    """The one-hidden-layer lattice model's objective is scaled by 1.3 here: its cut-off proof -1e-7 / 1.3 came back
    as -1.0000000000000001e-07 < -1e-7, and a monotone net (its smallest step +0.99) ended unknown."""
    import numpy as np

    from mipnet.domain import Domain
    from mipnet.layers import Dense, ReLU
    from mipnet.network import Network
    from mipnet.verify.monotonic import verify_global

    W1 = np.array([[-0.1, 1.1, -0.6], [-0.2, -0.7, 2.2], [-1.2, 1.0, -1.6]])
    dom = Domain(["a", "b", "c"], [-2, 0, 0], [3, 4, 1], [True, True, False])
    net = Network([Dense(W1, [0.6, -1.1, 0.4]), ReLU(), Dense([[1.3, 0.1, 0.2]], [0.2])], domain=dom, task="regress")
    X = np.array([[a, b, c] for a in range(-2, 4) for b in range(0, 4) for c in np.linspace(0, 1, 201)])
    X2 = X.copy()
    X2[:, 1] += 1
    assert (net.forward(X2) - net.forward(X)).min() > 0.5  # monotone on the lattice
    rep = verify_global(net, ["b"], [], time_limit=20)
    assert rep.features[0].status == "holds", (rep.features[0].status, rep.features[0].note)
