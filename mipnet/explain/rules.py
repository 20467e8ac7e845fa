"""Hidden units that read only 0/1 features, written as rules: "if A and not B: +3 points".

A scorecard unit (:mod:`mipnet.explain.scorecard`) adds P_k max(0, w . x + b) points to output k. When every
feature i with w_i != 0 is a 0/1 feature (i in S, |S| = m), the unit takes at most 2^m values, one per
combination c in {0, 1}^S:

    h(c) = max(0, b + sum_{i in S} w_i c_i).

**Rules by splitting.** Write h on the cube {0, 1}^S as a partition into sub-cubes on which h is constant:
starting from the whole cube, a sub-cube (some features fixed, the others free) on which h takes one value
is a leaf; otherwise it is split on its free feature of largest |w_i| into x_i = 1 and x_i = 0. The leaves
with h != 0 are the rules: each is a conjunction of literals (x_i = 1: "A", x_i = 0: "not A") and a value,

    h(x) = sum_r value_r [x matches the literals of rule r]     for every x in {0, 1}^S,

exactly, because the leaves are disjoint and cover the cube (each combination matches one leaf, and the
leaves with h = 0 are left out). Two values within :data:`EQUAL` times |b| + sum |w_i| count as equal
(rounding of b + w . c in floating point: 0.1 + 0.2 - 0.3 is not 0), so the rules are exact to that, far
inside the scorecard's own check (1e-9 relative). The values are the unit's own, computed once with numpy on
all 2^m combinations (ordered so that every sub-cube is a contiguous block of them) and read per leaf.

**One-hot groups.** The domain allows only some combinations: in a one-hot group (the levels of one categorical
feature) exactly one member is 1, so among the members of a group in S at most one is 1 (exactly one when
the whole group is in S). The splitting then reads only the allowed combinations: a sub-cube is a leaf when h
is constant on its allowed combinations (a sub-cube with none is dropped), and a rule with "A" drops the
literals "not B" of the other members B of A's group (implied on the domain). The rules are then exact on
every combination the domain allows, which are the only inputs the network is read on; the text says so.

**Size cap.** A unit gets rules only when m <= :data:`MAX_INPUTS` and the partition has at most
:data:`MAX_RULES` leaves with h != 0; otherwise it keeps the scorecard's "points per unit of (...) when that is
positive" form. The rules are checked against the network's forward pass by the scorecard
(:func:`mipnet.explain.scorecard.scorecard`) on every allowed 0/1 combination of the unit's inputs (the other
features at random points of the domain, a group member outside S set to 1 when no member in S is) before
anything is shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

#: a unit with more 0/1 inputs than this keeps the "points per unit of (...)" form (2^6 = 64 combinations)
MAX_INPUTS = 6
#: and so does a unit whose rules would be more than this many lines
MAX_RULES = 8
#: values of a unit within this much (relative to |b| + sum |w_i|, with no absolute floor: a unit whose weights
#: are all about 1e-13 is as readable as one of weights about 1) count as equal: floating-point rounding
EQUAL = 1e-12


@dataclass(frozen=True)
class Rule:
    """value when every literal holds: x_i = 1 for i in ``when``, x_i = 0 for i in ``unless``."""

    when: tuple[int, ...]
    unless: tuple[int, ...]
    value: float  #: the unit's max(0, w . x + b) on these combinations (> 0)

    def matches(self, X: np.ndarray) -> np.ndarray:
        """Boolean (N,): the rows of X whose features satisfy every literal."""
        X = np.atleast_2d(X)
        ok = np.ones(X.shape[0], dtype=bool)
        if self.when:
            ok &= np.all(X[:, list(self.when)] == 1.0, axis=1)
        if self.unless:
            ok &= np.all(X[:, list(self.unless)] == 0.0, axis=1)
        return ok

    def condition(self, names: list[str]) -> str:
        """``A and not B`` (``always`` when no literal)."""
        parts = [names[i] for i in self.when] + [f"not {names[i]}" for i in self.unless]
        return " and ".join(parts) if parts else "always"


@dataclass(frozen=True)
class UnitRules:
    """The unit max(0, w . x + b) on {0, 1}^inputs as disjoint rules (module docstring)."""

    inputs: tuple[int, ...]  #: S, the unit's 0/1 features with w_i != 0
    rules: tuple[Rule, ...]

    def evaluate(self, X: Any) -> np.ndarray:
        """sum_r value_r [row matches rule r], (N,): the unit's value on rows whose inputs S are 0/1."""
        X = np.atleast_2d(np.asarray(X, dtype=np.float64))
        out = np.zeros(X.shape[0])
        for r in self.rules:
            out += r.value * r.matches(X)
        return out

    def to_dict(self, names: list[str]) -> list[dict[str, Any]]:
        return [
            {"if": [names[i] for i in r.when], "if_not": [names[i] for i in r.unless], "value": r.value}
            for r in self.rules
        ]


def combinations(m: int) -> np.ndarray:
    """All 2^m rows of {0, 1}^m (row t holds the bits of t, first column the highest bit)."""
    t = np.arange(2**m)[:, None]
    return ((t >> np.arange(m - 1, -1, -1)) & 1).astype(np.float64)


def allowed(inputs: Sequence[int], groups: Sequence[Sequence[int]], C: np.ndarray) -> np.ndarray:
    """Boolean (rows of C): the combinations C of the features ``inputs`` that the one-hot ``groups`` allow (at
    most one member of a group is 1; exactly one when the whole group is among the inputs)."""
    ok = np.ones(C.shape[0], dtype=bool)
    col = {int(i): k for k, i in enumerate(inputs)}
    for g in groups:
        ks = [col[int(i)] for i in g if int(i) in col]
        if len(ks) == 0:
            continue
        ones = C[:, ks].sum(axis=1)
        ok &= (ones == 1) if len(ks) == len(g) else (ones <= 1)
    return ok


def unit_rules(
    w: np.ndarray, b: float, indicator: np.ndarray, groups: Sequence[Sequence[int]] = ()
) -> UnitRules | None:
    """The rules of max(0, w . x + b) when every feature it reads is a 0/1 feature (``indicator``) and the size
    cap allows, exact on the combinations the one-hot ``groups`` allow (module docstring); None otherwise (also
    for a unit that reads no feature)."""
    S = np.flatnonzero(w != 0)
    if S.size == 0 or S.size > MAX_INPUTS or not np.all(indicator[S]):
        return None
    order = S[np.argsort(-np.abs(w[S]), kind="stable")]  # split on the largest |w_i| first
    m = order.size
    C = combinations(m)
    h = np.maximum(0.0, float(b) + C @ w[order])  # the unit on every combination, in ``order``'s columns
    eps = EQUAL * (abs(float(b)) + float(np.abs(w[order]).sum()))  # rounding of b + w . c
    h[h <= eps] = 0.0
    ok = allowed([int(i) for i in order], groups, C)
    group_of = {int(i): n for n, g in enumerate(groups) for i in g}
    rules: list[Rule] = []

    def split(depth: int, fixed: list[int], lo: int, hi: int) -> bool:
        """Leaves of the sub-cube of the combinations lo..hi-1 (the first ``depth`` features fixed at
        ``fixed``); False once there are more than MAX_RULES rules."""
        vals = h[lo:hi][ok[lo:hi]]
        if vals.size == 0:  # no combination the domain allows
            return True
        if np.all(np.abs(vals - vals[0]) <= eps):
            if vals[0] != 0.0:
                when = tuple(int(order[k]) for k in range(depth) if fixed[k] == 1)
                on = {group_of[i] for i in when if i in group_of}  # "not B" is implied by "A" of B's group
                unless = tuple(
                    int(order[k]) for k in range(depth) if fixed[k] == 0 and group_of.get(int(order[k])) not in on
                )
                rules.append(Rule(when, unless, float(vals[0])))
            return len(rules) <= MAX_RULES
        mid = (lo + hi) // 2  # the next feature is the highest remaining bit: 0 below mid, 1 from mid on
        return split(depth + 1, [*fixed, 1], mid, hi) and split(depth + 1, [*fixed, 0], lo, mid)

    if not split(0, [], 0, 2**m):
        return None
    return UnitRules(tuple(int(i) for i in order), tuple(rules))


def rules_error(card: Any, net: Any, seed: int = 0, backgrounds: int = 4) -> float:
    """max |card with rules(x) - f(x)| / max(1, |f(x)|) over every allowed 0/1 combination of each rule unit's
    inputs (:func:`allowed`), the other features at ``backgrounds`` random points of the domain (a one-hot group
    kept at one member: the first one outside the inputs when no input of the group is 1): the card's value with
    each rule unit's max(0, w . x + b) replaced by its rules, against ``net.forward``. 0.0 when no unit has
    rules."""
    from .scorecard import sample_domain

    groups = [[int(i) for i in g] for g in net.domain.onehot_groups]
    worst = 0.0
    for pos, ur in card.rules.items():
        inputs = list(ur.inputs)
        C = combinations(len(inputs))
        C = C[allowed(inputs, groups, C)]
        X = np.repeat(sample_domain(net.domain, backgrounds, seed + pos), C.shape[0], axis=0)
        X[:, inputs] = np.tile(C, (backgrounds, 1))
        for g in groups:
            rest = [i for i in g if i not in inputs]
            if rest and len(rest) < len(g):  # the group is partly among the inputs
                X[:, rest] = 0.0
                X[X[:, [i for i in g if i in inputs]].sum(axis=1) == 0, rest[0]] = 1.0
        f = net.forward(X)
        ours = card.evaluate(X, rules=True)
        worst = max(worst, float(np.max(np.abs(ours - f) / np.maximum(1.0, np.abs(f)))))
    return worst


__all__ = ["MAX_INPUTS", "MAX_RULES", "Rule", "UnitRules", "allowed", "combinations", "unit_rules", "rules_error"]
