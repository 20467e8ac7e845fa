"""Rules for hidden units that read only 0/1 features (mipnet.explain.rules, used by the scorecard): on every 0/1
combination the rules give the unit's value and the card with rules gives network.forward; rules are disjoint;
a unit over the size cap, or reading a non-0/1 feature, keeps the "per unit of (...)" form."""

from __future__ import annotations

import importlib
import itertools
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mipnet import Dense, Network, Normalize, ReLU
from mipnet.domain import Domain
from mipnet.errors import MipnetError
from mipnet.explain import scorecard
from mipnet.explain.rules import EQUAL, MAX_INPUTS, MAX_RULES, Rule, UnitRules, combinations, unit_rules
from mipnet.explain.scorecard import _add_rules
from mipnet.layers import LeakyReLU


def _domain(n_bin: int, n_real: int) -> Domain:
    """n_bin 0/1 features b0.. then n_real real features r0.. on [-3, 7]."""
    names = [f"b{i}" for i in range(n_bin)] + [f"r{i}" for i in range(n_real)]
    lower = np.array([0.0] * n_bin + [-3.0] * n_real)
    upper = np.array([1.0] * n_bin + [7.0] * n_real)
    integer = np.array([True] * n_bin + [False] * n_real)
    return Domain(names, lower, upper, integer)


@st.composite
def nets(draw: st.DrawFn) -> Network:
    """One hidden layer; each unit reads only 0/1 features, or also real ones; integer or real weights."""
    n_bin, n_real = draw(st.integers(1, 5)), draw(st.integers(0, 2))
    H, K = draw(st.integers(1, 4)), draw(st.integers(1, 2))
    rng = np.random.default_rng(draw(st.integers(0, 2**31 - 1)))
    d = n_bin + n_real
    W = rng.normal(size=(H, d)) * (rng.random((H, d)) > 0.3)
    if draw(st.booleans()):
        W = np.round(W * 2)  # integer weights: ties between combinations, constant sub-cubes
    only_bin = rng.random(H) < 0.7
    W[only_bin, n_bin:] = 0.0
    b = rng.normal(size=H) if draw(st.booleans()) else np.round(rng.normal(size=H) * 2)
    layers: list = []
    if draw(st.booleans()):  # scaling in front: a 0/1 feature's weight in its own units is W s_i
        layers.append(Normalize(rng.uniform(0.2, 2.0, d), rng.normal(size=d)))
    act = LeakyReLU(0.2) if draw(st.booleans()) else ReLU()
    V = np.round(rng.normal(size=(K, H)) * 3)
    layers += [Dense(W, b), act, Dense(V, rng.normal(size=K))]
    return Network(layers, domain=_domain(n_bin, n_real), task=draw(st.sampled_from(["classify", "regress"])))


def _all_binary(net: Network, seed: int, backgrounds: int = 3) -> np.ndarray:
    """Every 0/1 combination of the 0/1 features, the real features at random values of their box."""
    d = net.domain
    bins = np.flatnonzero(d.integer)
    C = np.array(list(itertools.product([0.0, 1.0], repeat=bins.size)))
    X = np.repeat(d.sample(backgrounds, rng=seed), C.shape[0], axis=0)
    X[:, bins] = np.tile(C, (backgrounds, 1))
    return X


@settings(max_examples=60, deadline=None, derandomize=True)
@given(nets(), st.integers(0, 1000))
def test_rules_are_the_network_on_every_combination(net: Network, seed: int) -> None:
    card = scorecard(net)
    X = _all_binary(net, seed)
    f = net.forward(X)
    assert np.all(np.abs(card.evaluate(X, rules=True) - f) <= 1e-9 * np.maximum(1.0, np.abs(f)))
    assert card.rules_error <= 1e-9
    for pos, ur in card.rules.items():
        w, b = card.weights[pos], card.biases[pos]
        S = np.flatnonzero(w != 0)
        assert sorted(ur.inputs) == S.tolist() and np.all(card.indicator[S])
        assert len(ur.rules) <= MAX_RULES
        C = np.zeros((2**S.size, w.size))
        C[:, list(ur.inputs)] = combinations(S.size)
        hits = np.array([r.matches(C) for r in ur.rules] or np.zeros((0, C.shape[0]), dtype=bool))
        assert np.all(hits.sum(axis=0) <= 1)  # disjoint: one line applies at most
        eps = EQUAL * max(1.0, abs(b) + np.abs(w).sum())  # floating-point rounding of b + w . c
        assert np.all(np.abs(ur.evaluate(C) - np.maximum(0.0, C @ w + b)) <= eps)  # the unit
        assert all(r.value > 0 for r in ur.rules)
    # the units that reading a real feature keep their expression
    for pos in range(len(card.units)):
        if np.any(card.weights[pos][~card.indicator] != 0):
            assert pos not in card.rules
    text = card.render()
    assert text.count("unit h") == len(card.units)
    assert ("reads only the 0/1 features" in text or "(otherwise 0)" in text) == bool(card.rules)
    units = json.loads(json.dumps(card.to_dict()))["units"]
    assert sum("rules" in u for u in units) == len(card.rules)


def test_rule_text_and_numbers() -> None:
    dom = Domain(["age", "juv", "male", "felony"], [18, 0, 0, 0], [90, 1, 1, 1], np.array([False, True, True, True]))
    W = np.array([[0.1, 0, 0, 0], [0, 2.0, -1.0, 0], [0, 1.0, 1.0, 0]])
    net = Network(
        [Dense(W, np.array([-3, 0.5, -1.0])), ReLU(), Dense(np.array([[1.0, 2.0, -1.0]]), np.array([0.2]))],
        domain=dom,
        class_names=["no", "yes"],
    )
    card = scorecard(net)
    assert sorted(card.rules) == [1, 2]  # h1 reads age: its expression stays
    lines = card.render().splitlines()
    assert "  unit h1  +1 point per unit of (-3 + 0.1*age) when that is positive" in lines
    text = card.render()
    # h2 = 2 max(0, 0.5 + 2 juv - male): 2 * 1.5, 2 * 2.5, 2 * 0.5, and 0 when male without juv
    assert "+3 points if juv and male" in text and "+5 points if juv and not male" in text
    assert "+1 point if not juv and not male" in text and "if male and not juv" not in text
    # h3 = -max(0, juv + male - 1): one rule
    assert "unit h3  -1 point if juv and male (otherwise 0)" in text
    assert "checked against the network on every 0/1 combination" in text
    assert card.to_dict()["units"][2]["rules"] == [{"if": ["juv", "male"], "if_not": [], "value": 1.0}]


def test_size_cap_keeps_the_expression() -> None:
    m = MAX_INPUTS + 1
    ind = np.ones(m, dtype=bool)
    assert unit_rules(np.ones(m), -0.5, ind) is None  # too many inputs
    one = unit_rules(np.array([1.0] + [-10.0] * (MAX_INPUTS - 1)), 0.0, ind[:MAX_INPUTS])  # at the cap
    assert one is not None and one.rules == (Rule((0,), tuple(range(1, MAX_INPUTS)), 1.0),)
    # distinct values on every combination: 2^4 - 1 = 15 non-zero leaves > MAX_RULES
    assert unit_rules(np.array([1.0, 2.0, 4.0, 8.0]), 0.0, ind[:4]) is None
    assert unit_rules(np.array([1.0, 2.0, 0.0]), 0.0, ind[:3]) is not None  # 3 rules (w = 0 not read)
    assert unit_rules(np.array([1.0, 2.0]), 0.0, np.array([True, False])) is None  # a non-0/1 feature
    assert unit_rules(np.zeros(2), 1.0, ind[:2]) is None  # reads nothing: a constant
    never = unit_rules(np.array([1.0, 1.0]), -5.0, ind[:2])
    assert never is not None and never.rules == ()  # never positive: no rule, 0 points
    dom = Domain(["a", "b"], [0, 0], [1, 1], np.array([True, True]))
    net = Network([Dense(np.array([[1.0, 1.0]]), [-5.0]), ReLU(), Dense(np.array([[2.0]]), [0.5])], domain=dom)
    assert "unit h1  0 points (reads only the 0/1 features a, b; never positive on them)" in scorecard(net).render()


def test_wrong_rules_are_never_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    """The scorecard's check on every combination fails when a rule's value is not the network's."""
    from mipnet.explain.rules import rules_error

    sc = importlib.import_module("mipnet.explain.scorecard")  # the module (the package exports a function so named)

    dom = Domain(["a", "b"], [0, 0], [1, 1], np.array([True, True]))
    net = Network([Dense(np.array([[1.0, -1.0]]), [0.5]), ReLU(), Dense(np.array([[2.0]]), [0.0])], dom)
    card = scorecard(net)
    assert list(card.rules) == [0] and rules_error(card, net) <= 1e-9
    # max(0, 0.5 + a - b): 1.5 if a and not b, 0.5 if a and b or neither; one value off by 1e-6
    bad = UnitRules((0, 1), (Rule((0,), (1,), 1.5), Rule((0, 1), (), 0.5), Rule((), (0, 1), 0.5 + 1e-6)))
    card.rules[0] = bad
    assert rules_error(card, net) > 1e-9
    monkeypatch.setattr(sc, "unit_rules", lambda w, b, ind, groups=(): bad)
    card.rules.clear()
    with pytest.raises(MipnetError, match="rules differ"):
        _add_rules(net, card)


def test_head_counts_the_linear_term_units_apart() -> None:
    """The linear term's exact unit pairs are counted as the linear part, not as hidden units used."""
    from mipnet.train.trainer import build_network

    dom = Domain(["age", "priors", "male"], [18, 0, 0], [90, 30, 1], np.array([False, True, True]))
    mu, sd = np.zeros(3), np.ones(3)
    pruned = [(np.zeros((1, 3)), np.zeros(1)), (np.zeros((1, 1)), np.array([0.2]))]
    net = build_network(pruned, mu, sd, dom, "classify", [0, 1], 0.0, 1.0, {}, linear=np.array([[0.5, 0.0, -1.0]]))
    head = scorecard(net).render().splitlines()[0]
    assert "0 of 1 hidden units used, 2 more units written as the linear part" in head  # the pruned unit stays
    one = [(np.array([[0.0, 0.0, 2.0]]), np.array([-1.0])), (np.array([[1.0]]), np.array([0.2]))]
    card = scorecard(
        build_network(one, mu, sd, dom, "classify", [0, 1], 0.0, 1.0, {}, linear=np.array([[0.5, 0.0, 0.0]]))
    )
    assert "1 of 1 hidden units used, 2 more units written as the linear part" in card.render()
    assert list(card.rules) == [0] and "+1 point if male (otherwise 0)" in card.render()  # max(0, 2 male - 1)


def test_cli_prints_the_rules_and_their_numbers(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from mipnet.cli import cli
    from mipnet.io import save_model

    dom = Domain(["age", "juv", "male"], [18, 0, 0], [90, 1, 1], np.array([False, True, True]))
    W = np.array([[0.1, 0.0, 0.0], [0.0, 2.0, -1.0]])
    net = Network([Dense(W, np.array([-3.0, 0.5])), ReLU(), Dense(np.array([[1.0, -1.0]]), [0.0])], domain=dom)
    path = str(tmp_path / "m.json")
    save_model(net, path)
    r = CliRunner().invoke(cli, ["explain", "scorecard", path])
    assert r.exit_code == 0, r.output
    assert "-2.5 points if juv and not male" in r.output and "every 0/1 combination" in r.output
    r = CliRunner().invoke(cli, ["explain", "scorecard", path, "--json"])
    assert r.exit_code == 0, r.output
    units = json.loads(r.output)["units"]
    assert "rules" not in units[0] and {"if": ["juv"], "if_not": ["male"], "value": 2.5} in units[1]["rules"]


@st.composite
def onehot_nets(draw: st.DrawFn) -> Network:
    """Features: a one-hot group c0..c{k-1} (a categorical feature's levels), then 0/1 features, then a real one;
    the units read the group's levels (some or all) and the 0/1 features."""
    k, n_bin = draw(st.integers(2, 4)), draw(st.integers(0, 2))
    d = k + n_bin + 1
    names = [f"c{i}" for i in range(k)] + [f"b{i}" for i in range(n_bin)] + ["r"]
    lower, upper = np.zeros(d), np.ones(d)
    upper[-1] = 5.0
    integer = np.array([True] * (d - 1) + [False])
    dom = Domain(names, lower, upper, integer, onehot_groups=[list(range(k))])
    rng = np.random.default_rng(draw(st.integers(0, 2**31 - 1)))
    H = draw(st.integers(1, 3))
    W = np.round(rng.normal(size=(H, d)) * 2) * (rng.random((H, d)) > 0.3)
    W[:, -1] *= rng.random(H) < 0.3  # most units read only 0/1 features
    V = np.round(rng.normal(size=(1, H)) * 3)
    return Network([Dense(W, np.round(rng.normal(size=H))), ReLU(), Dense(V, [0.5])], domain=dom)


def _allowed_inputs(net: Network, seed: int) -> np.ndarray:
    """Every input the domain allows on its 0/1 features (one level of the group, any 0/1 values), the real
    feature at random."""
    d = net.domain
    k = len(d.onehot_groups[0])
    n_bin = d.n_features - k - 1
    rows = []
    for level in range(k):
        for bits in itertools.product([0.0, 1.0], repeat=n_bin):
            x = np.zeros(d.n_features)
            x[level] = 1.0
            x[k : k + n_bin] = bits
            rows.append(x)
    X = np.repeat(np.array(rows), 3, axis=0)
    X[:, -1] = np.random.default_rng(seed).uniform(0, 5, X.shape[0])
    return X


@settings(max_examples=40, deadline=None, derandomize=True)
@given(onehot_nets(), st.integers(0, 1000))
def test_rules_on_one_hot_groups_are_exact_where_the_domain_allows(net: Network, seed: int) -> None:
    card = scorecard(net)
    X = _allowed_inputs(net, seed)
    f = net.forward(X)
    assert np.all(np.abs(card.evaluate(X, rules=True) - f) <= 1e-9 * np.maximum(1.0, np.abs(f)))
    group = set(net.domain.onehot_groups[0])
    for ur in card.rules.values():
        hits = np.array([r.matches(X) for r in ur.rules] or np.zeros((0, X.shape[0]), dtype=bool))
        assert np.all(hits.sum(axis=0) <= 1)  # one line at most applies to an allowed input
        for r in ur.rules:
            on = group & set(r.when)
            assert len(on) <= 1  # never two levels of one categorical feature
            assert not (on and group & set(r.unless))  # "c0 and not c1": the "not c1" is implied, left out
    if any(group & set(ur.inputs) for ur in card.rules.values()):
        assert "that the domain allows (one level per one-hot group)" in card.render()


def test_one_hot_rules_text() -> None:
    dom = Domain(["race=A", "race=B", "race=C", "male"], [0] * 4, [1] * 4, np.ones(4, bool), onehot_groups=[[0, 1, 2]])
    # max(0, 2 [race=A] + 2 [race=B] + male - 2): 1 if (A or B) and male, 0 otherwise
    net = Network([Dense(np.array([[2.0, 2.0, 0.0, 1.0]]), [-2.0]), ReLU(), Dense(np.array([[3.0]]), [0.0])], dom)
    card = scorecard(net)
    text = card.render()
    assert "+3 points if race=A and male" in text and "+3 points if race=B and male" in text
    assert "race=A and race=B" not in text and "not race=" not in text
    unrestricted = unit_rules(card.weights[0], float(card.biases[0]), card.indicator)  # no groups: all 8 combinations
    assert unrestricted is not None and len(unrestricted.rules) > len(card.rules[0].rules)


def test_rounding_is_not_a_rule() -> None:
    """max(0, 0.1 a + 0.2 b - 0.3) is 0 on {0, 1}^2, though 0.1 + 0.2 - 0.3 = 5.6e-17 in floating point."""
    ur = unit_rules(np.array([0.1, 0.2]), -0.3, np.ones(2, dtype=bool))
    assert ur is not None and ur.rules == ()


def test_rules_of_a_unit_with_tiny_weights() -> None:
    """A unit over 0/1 features with weights near 1e-13 (its output weight 1e13: the same function as weights near
    1) has rules: the equality tolerance is relative to the unit's own size (it was "internal error")."""
    ur = unit_rules(np.array([1e-13, 2e-13]) * 1.0, -0.5e-13, np.ones(2, dtype=bool))
    assert ur is not None and len(ur.rules) == 3
    assert sorted(round(r.value * 1e13, 9) for r in ur.rules) == [0.5, 1.5, 2.5]
