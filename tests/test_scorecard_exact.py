"""The scorecard (mipnet.explain.scorecard) is the network: its own numbers, evaluated, reproduce network.forward
to 1e-9 on random inputs, with and without input scaling, with the linear term, LeakyReLU, pruned and constant
units; the text shows indicators as "if", integer points as integers and leaves zero weights out."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mipnet import Conv2D, Dense, Flatten, Network, Normalize, ReLU
from mipnet.domain import Domain
from mipnet.errors import UnsupportedError
from mipnet.explain import LayerForm, Scorecard, readable, scorecard
from mipnet.explain.scorecard import fmt, grid_step
from mipnet.layers import LeakyReLU
from mipnet.train.linear_term import linear_units_of
from mipnet.train.trainer import build_network


def _close(net: Network, form: Scorecard | LayerForm, X: np.ndarray) -> None:
    f = net.forward(X)
    assert np.all(np.abs(form.evaluate(X) - f) <= 1e-9 * np.maximum(1.0, np.abs(f)))


def _mixed_domain(d: int) -> Domain:
    """Feature 0 is a 0/1 indicator, the others integers or reals on wide boxes."""
    names = [f"f{i}" for i in range(d)]
    lower = np.array([0.0] + [-5.0 * (i + 1) for i in range(1, d)])
    upper = np.array([1.0] + [20.0 * (i + 1) for i in range(1, d)])
    integer = np.array([True] + [i % 2 == 1 for i in range(1, d)])
    return Domain(names, lower, upper, integer)


@st.composite
def tiny_nets(draw: st.DrawFn) -> Network:
    d = draw(st.integers(1, 4))
    H = draw(st.integers(0, 4))
    K = draw(st.integers(1, 3))
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    layers: list = []
    if draw(st.booleans()):
        layers.append(Normalize(rng.uniform(0.05, 3.0, d), rng.normal(size=d)))
    if H == 0:
        layers.append(Dense(rng.normal(size=(K, d)), rng.normal(size=K)))
    else:
        W = rng.normal(size=(H, d)) * (rng.random((H, d)) > 0.3)  # zero weights
        b = rng.normal(size=H)
        V = np.round(rng.normal(size=(K, H)) * 3) * draw(st.sampled_from([1.0, 0.25, 0.1, 1.7]))
        if H >= 2 and draw(st.booleans()):  # a linear pair: w, -w, bias 0, out-weights +v, -v
            W[1], b[0], b[1], V[:, 1] = -W[0], 0.0, 0.0, -V[:, 0]
        if draw(st.booleans()):
            W[-1] = 0.0  # a constant unit max(0, b)
        if draw(st.booleans()):
            V[:, 0] = 0.0  # a unit nobody reads
        act = LeakyReLU(draw(st.sampled_from([0.01, 0.3]))) if draw(st.booleans()) else ReLU()
        layers += [Dense(W, b), act, Dense(V, rng.normal(size=K))]
    task = draw(st.sampled_from(["classify", "regress"]))
    return Network(layers, domain=_mixed_domain(d), task=task)


@settings(max_examples=40, deadline=None, derandomize=True)
@given(tiny_nets(), st.integers(0, 1000))
def test_scorecard_evaluates_to_the_network(net: Network, seed: int) -> None:
    card = scorecard(net)
    X = np.random.default_rng(seed).uniform(-30, 60, size=(50, net.n_inputs))
    _close(net, card, X)
    text = card.render()
    assert text.count("unit h") == len(card.units)
    assert "per unit of (" not in text or "when that is positive" in text


def test_normalize_folded_into_original_units() -> None:
    dom = Domain(["age", "priors", "male"], [18, 0, 0], [90, 30, 1], np.array([False, True, True]))
    W = np.array([[1.0, -2.0, 0.0], [0.0, 0.5, 3.0]])
    net = Network(
        [
            Normalize(np.array([0.1, 0.5, 2.0]), np.array([-4.0, -1.0, -1.0])),
            Dense(W, np.array([0.5, -1.0])),
            ReLU(),
            Dense(np.array([[0.5, -0.25]]), np.array([0.3])),
        ],
        domain=dom,
        class_names=["no", "yes"],
    )
    card = scorecard(net)
    assert np.allclose(card.weights, W * np.array([0.1, 0.5, 2.0]))  # w_ji = W_ji s_i
    assert np.allclose(card.biases, W @ np.array([-4.0, -1.0, -1.0]) + np.array([0.5, -1.0]))
    assert card.scale == 0.25 and card.points.tolist() == [[2.0, -1.0]]
    text = card.render()
    assert "unit h1  +2 points per unit of (" in text and "unit h2  -1 point per unit of (" in text
    assert "0.1*age - priors" in text  # 1*priors -> priors
    assert "+ 6 if male" in text  # the indicator, an integer in the original units: 3 * 2
    assert "+ 0*" not in text and "0*male" not in text  # zero weights left out
    assert "predict yes when points > 0, otherwise no" in text
    assert "0.25 * points" in text
    _close(net, card, dom.sample(100, rng=1))


def test_linear_term_units_become_the_linear_part() -> None:
    rng = np.random.default_rng(3)
    d = 3
    mu, sd = np.array([40.0, 2.0, 0.5]), np.array([10.0, 1.5, 0.5])
    weights = [(rng.normal(size=(2, d)), rng.normal(size=2)), (np.array([[1.0, -1.0]]), np.array([0.2]))]
    w0 = np.array([[0.7, 0.0, -1.1]])
    dom = Domain(["age", "priors", "male"], [18, 0, 0], [90, 30, 1], np.array([False, True, True]))
    net = build_network(weights, mu, sd, dom, "classify", [0, 1], 0.0, 1.0, {}, linear=w0)
    assert linear_units_of(net)  # the trainer's form: two exact ReLU units per output
    card = scorecard(net)
    assert card.hidden_width == 4 and card.units == [0, 1]
    assert np.allclose(card.linear, w0 / sd)  # in the features' own units
    text = card.render()
    assert "points per unit of age" in text and "points if male" in text and "priors  " not in text
    assert "linear part on 2 feature(s)" in text
    _close(net, card, dom.sample(100, rng=2))


def test_zero_units_and_no_hidden_layer() -> None:
    dom = Domain.box(["a", "b"], 0.0, 5.0)
    dead = Network([Dense(np.ones((2, 2)), np.zeros(2)), ReLU(), Dense(np.zeros((1, 2)), np.array([-0.5]))], dom)
    card = scorecard(dead)
    assert card.units == [] and card.base.tolist() == [-0.5] and "unit h" not in card.render()
    _close(dead, card, dom.sample(20, rng=0))
    lin = Network([Normalize(np.array([2.0, 1.0]), np.array([1.0, 0.0])), Dense(np.array([[1.5, 0.0]]), [1.0])], dom)
    card = scorecard(lin)
    assert card.hidden_width == 0 and "a linear model" in card.render()
    assert card.linear.tolist() == [[3.0, 0.0]] and card.base.tolist() == [2.5]
    assert "per unit of a" in card.render() and " b" not in card.render().split("\n", 2)[2]
    _close(lin, card, dom.sample(20, rng=0))


def test_several_outputs_argmax_and_class_names() -> None:
    dom = Domain.box(["x", "y"], -1.0, 1.0)
    net = Network(
        [Dense(np.array([[1.0, 2.0]]), [0.0]), ReLU(), Dense(np.array([[3.0], [-1.0], [0.0]]), np.zeros(3))],
        dom,
        class_names=["A", "B", "C"],
    )
    text = scorecard(net).render()
    assert "unit h1  points (+3 to A, -1 to B) per unit of (x + 2*y)" in text  # per class, zeros left out
    assert "to C" not in text.split("decision")[0]
    assert "predict the class with the largest points (A, B, C; a tie goes to the first listed)" in text


def test_deeper_network_gets_the_layer_form() -> None:
    rng = np.random.default_rng(0)
    dom = Domain(["age", "male"], [0, 0], [100, 1], np.array([False, True]))
    net = Network(
        [
            Normalize(np.array([0.02, 1.0]), np.array([-1.0, 0.0])),
            Dense(rng.normal(size=(3, 2)), rng.normal(size=3)),
            ReLU(),
            Dense(rng.normal(size=(2, 3)) * np.array([1.0, 0.0, 1.0]), rng.normal(size=2)),
            ReLU(),
            Dense(rng.normal(size=(1, 2)), [0.1]),
        ],
        dom,
    )
    form = readable(net)
    assert isinstance(form, LayerForm)
    text = form.render()
    assert "the scorecard covers one hidden layer" in text and "h1_2" not in text  # h1_2 is read by nobody
    assert "if male" in text
    _close(net, form, dom.sample(100, rng=3))
    with pytest.raises(UnsupportedError, match="one hidden layer"):
        scorecard(net)


def test_conv_net_is_refused() -> None:
    conv = Network(
        [Conv2D(np.ones((1, 1, 2, 2)), np.zeros(1)), ReLU(), Flatten(), Dense(np.ones((1, 9)), [0.0])],
        input_shape=(1, 4, 4),
    )
    with pytest.raises(UnsupportedError, match="flat features"):
        readable(conv)


def test_numbers() -> None:
    assert fmt(3.0) == "3" and fmt(-2.0000000000001) == "-2" and fmt(0.1234567) == "0.123457"
    assert fmt(0.1 + 0.2, digits=0) == "0.30000000000000004" and fmt(-2.0000000000001, digits=0) != "-2"
    assert grid_step(np.array([[0.5, -0.25, 0.0]])) == 0.25
    assert grid_step(np.array([[2.0, -4.0]])) == 1.0  # integers stay integers
    assert grid_step(np.array([[0.3, np.pi]])) == 1.0  # no small grid
    # a non-zero number is never printed as 0, nor counted as the integer 0 of the grid of 1
    assert fmt(2e-10) == "2e-10" and fmt(-3e-11) == "-3e-11" and fmt(0.0) == "0" and fmt(1 + 1e-12) == "1"
    # --digits 15 printed -123456.0001 as "-123456": a finer request is not snapped at 1e-9
    assert fmt(-123456.0001, digits=15) == "-123456.0001" and fmt(-123456.0001, digits=6) == "-123456"
    assert grid_step(np.array([[3e-10, -6e-10]])) == pytest.approx(3e-10)


def test_tiny_weights_that_matter_are_printed() -> None:
    """Income in cents up to 1e12 with a weight of 2e-10 per cent moves the output by 100; the card said 0."""
    dom = Domain(["income_cents", "age"], [0.0, 18.0], [1e12, 90.0])
    net = Network(
        [
            Normalize(np.array([1e-11, 0.05]), np.array([-5.0, -2.7])),
            Dense(np.array([[20.0, 1.0], [-3.0, 0.5]]), np.array([0.0, 0.1])),
            ReLU(),
            Dense(np.array([[1.0, -2.0]]), np.array([0.3])),
        ],
        domain=dom,
    )
    text = scorecard(net).render()
    assert "(-102.7 + 2e-10*income_cents + 0.05*age)" in text and " 0*income_cents" not in text
    reg = Network(
        [Dense(np.eye(2), np.zeros(2)), ReLU(), Dense(np.array([[3e-10, -6e-10]]), np.zeros(1))],
        domain=Domain.box(2, 0.0, 1e9),
        task="regress",
    )
    card = scorecard(reg)
    assert "3e-10 * points" in card.render() and "unit h1  +0 point" not in card.render()
    _close(reg, card, np.array([[1e9, 0.0], [0.0, 1e9], [3e8, 2e8]]))


@settings(max_examples=15, deadline=None, derandomize=True)
@given(st.integers(1, 3), st.integers(2, 3), st.integers(1, 3), st.booleans(), st.integers(0, 2**31 - 1))
def test_layer_form_evaluates_to_deeper_networks(d: int, depth: int, K: int, leaky: bool, seed: int) -> None:
    rng = np.random.default_rng(seed)
    layers: list = [Normalize(rng.uniform(0.1, 2.0, d), rng.normal(size=d))]
    width = d
    for _ in range(depth):
        h = int(rng.integers(1, 4))
        layers += [Dense(rng.normal(size=(h, width)) * (rng.random((h, width)) > 0.3), rng.normal(size=h))]
        layers.append(LeakyReLU(0.1) if leaky else ReLU())
        width = h
    net = Network([*layers, Dense(rng.normal(size=(K, width)), rng.normal(size=K))], domain=_mixed_domain(d))
    form = readable(net)
    assert isinstance(form, LayerForm) and len(form.slopes) == depth
    _close(net, form, rng.uniform(-30, 60, size=(50, d)))
    assert form.render().count("layer ") >= depth


def test_a_wrong_form_is_never_shown() -> None:
    """The constructor's own check against the forward pass fails on a scorecard that is not the network."""
    from mipnet.errors import MipnetError
    from mipnet.explain.scorecard import _check

    dom = Domain.box(["a", "b"], 0.0, 5.0)
    net = Network([Dense(np.array([[1.0, -1.0]]), [0.5]), ReLU(), Dense(np.array([[2.0]]), [0.0])], dom)
    card = scorecard(net)
    card.biases = card.biases + 1e-6
    with pytest.raises(MipnetError, match="differs from the network"):
        _check(net, card)


def test_large_terms_that_cancel_are_not_an_internal_error() -> None:
    """Two units of size 1e8 whose difference is about 0: the float sums of the card and of the network differ by
    ~1e-8 absolute, which the check read relative to max(1, |f|) and refused as an "internal error" (exit 2)."""
    dom = Domain.box(["x0", "x1"], -100.0, 100.0)
    W = np.array([[1e8, 3e7], [1e8 + 1, 3e7]])
    norm = Normalize(np.array([0.1, 1 / 3]), np.array([0.7, 0.1]))  # folded into the card's raw units
    net = Network([norm, Dense(W, [0.3, 0.2]), ReLU(), Dense(np.array([[1.0, -1.0]]), [0.0])], dom)
    card = scorecard(net)
    assert card.max_error <= 1e-9
    X = np.random.default_rng(0).uniform(-100, 100, (500, 2))
    np.testing.assert_allclose(card.evaluate(X), net.forward(X), atol=1e-5)
