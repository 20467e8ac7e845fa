"""Plain words for the audit's page: a glossary, what each layer does, what a radius eps means per feature,
and numbers printed so that a change shows.

**What eps allows, per feature.** The robustness ball around a row x is

    B = { x' in D : ||x' - x|| <= eps }

in the features' own units (the model's inputs before any scaling layer), intersected with the model's
domain D (its box [lower, upper], its whole-number features, its one-hot groups). For the L-inf distance each
feature i may move by up to eps on its own: a continuous feature to [x_i - eps, x_i + eps] (cut to its range),
a whole-number feature by at most floor(eps) steps, a yes/no indicator (a whole number in [0, 1]) can flip
exactly when eps >= 1, and a one-hot group (several indicators of which exactly one is 1: a category such as
race) can switch category when eps >= 1. For the L1 distance the moves of all features together add up to at
most eps: an indicator flip costs 1, a switch of category in a one-hot group costs 2 (one indicator 1 -> 0,
another 0 -> 1).

**Printing a witness.** :func:`pair` prints x and x' with the fewest significant digits (at least 4, at most
17) at which the two printed values differ, so that a change of 1e-6 is never shown as ``31 -> 31``.
"""

from __future__ import annotations

import html
import math
from typing import Any

import numpy as np

from ...network import Network
from ...verify.monotonic.common import score_words

#: the glossary of the page: (term, plain explanation)
GLOSSARY: list[tuple[str, str]] = [
    ("feature", "one input column of the data, such as age or a count of prior offences."),
    (
        "layer",
        "one stage of the network's arithmetic. A <i>Dense</i> layer forms weighted sums of its inputs "
        "plus a constant (the bias); a <i>ReLU</i> layer keeps positive values and turns negative ones "
        "into 0; a <i>Normalize</i> layer only rescales the raw features. Data pass through the layers in "
        "order.",
    ),
    (
        "neuron (hidden unit)",
        'one weighted sum followed by a ReLU inside the network; a neuron whose weights are all 0 is unused ("dead").',
    ),
    (
        "weight",
        "a number the training chose: how strongly one value feeds into the next weighted sum. "
        "A weight of 0 means the connection is not used (a sparse network has many).",
    ),
    (
        "logit (score)",
        "the raw number the network outputs before it is turned into a class. With one logit, "
        "a positive logit means the second class and a negative one the first; with one logit per "
        "class, the class with the largest logit wins.",
    ),
    (
        "margin",
        "how far a row is from the decision changing: the logit of its class minus the largest other "
        "logit (or the logit itself, signed). Positive: the class stays; 0 or below: another class wins.",
    ),
    (
        "hinge loss",
        "the training penalty of one row: 0 when the row is on the right side with a margin of at "
        "least 1, otherwise how far it falls short. The training minimises the average hinge loss "
        "plus a penalty on the size of the weights (which makes them sparse).",
    ),
    ("objective", "the number the training minimises (the loss plus the penalties). Lower is better."),
    ("incumbent", "the objective of the best network the solver found."),
    (
        "bound",
        "a number proved by the solver: no network of the class (or no input, for a property) can do "
        "better than it. A proved bound is a guarantee, not an estimate.",
    ),
    (
        "gap",
        "how far the incumbent may still be from the best possible: (incumbent - bound) / incumbent. "
        "0 % means the network is proved to be the best of its class on the training rows; 40 % means a "
        "network with an objective up to 40 % lower might exist, nobody knows.",
    ),
    (
        "L-inf distance",
        "the largest change of any single feature, in that feature's own units. "
        '"Within L-inf distance 2" allows every feature to move by up to 2 at the same time.',
    ),
    ("L1 distance", "the sum of the changes of all features, each in its own units."),
    (
        "eps (radius)",
        "the size of the changes a robustness check allows around a row, measured with the L-inf "
        "or L1 distance, in the features' own units (years, counts, 0/1 indicators); the table "
        '"What eps allows" says what it means for each feature.',
    ),
    (
        "domain",
        "the range of inputs the model is meant for: a lowest and highest value per feature, whole "
        "numbers where the data hold whole numbers, and exactly one category per group. Every proof "
        "speaks of inputs inside the domain only.",
    ),
    (
        "monotone",
        "the score never goes down (increasing) or never goes up (decreasing) when one feature grows "
        "and every other feature stays the same.",
    ),
    (
        "witness (counterexample)",
        "a concrete input, or pair of inputs, that shows a property is violated; "
        "it is re-run through the network to confirm it.",
    ),
    (
        "certificate",
        "a file with the question, the fingerprints of the model and the data, the solver and the "
        "answer; anyone can re-check it without trusting the program that wrote it.",
    ),
]

#: what each layer type does, in a few words (kind -> text); unknown kinds get a generic sentence
LAYER_WORDS: dict[str, str] = {
    "Dense": "weighted sums of its inputs plus a constant",
    "Normalize": "rescales each raw feature (subtract a centre, divide by a scale)",
    "ReLU": "keeps positive values, turns negative ones into 0",
    "LeakyReLU": "keeps positive values, shrinks negative ones",
    "HardTanh": "clips each value to a fixed range",
    "Conv2D": "weighted sums over small image patches",
    "MaxPool2D": "keeps the largest value of each image patch",
    "AvgPool2D": "averages each image patch",
    "Flatten": "lays the image values out in one row",
    "Identity": "passes values through unchanged",
    "GELU": "a smooth version of ReLU",
    "Tanh": "squashes each value into (-1, 1)",
    "Sigmoid": "squashes each value into (0, 1)",
}


def layer_words(kind: str) -> str:
    return LAYER_WORDS.get(kind, "a fixed transformation of its inputs")


def glossary_html() -> str:
    """The glossary section (a definition list)."""
    items = "".join(f"<dt>{html.escape(t)}</dt><dd>{d}</dd>" for t, d in GLOSSARY)
    return f'<h2 id="glossary">Words used on this page</h2><dl class="glossary">{items}</dl>'


def pair(a: float, b: float, min_digits: int = 4) -> tuple[str, str]:
    """``a`` and ``b`` printed with the fewest significant digits (>= ``min_digits``) at which they differ."""
    fa, fb = float(a), float(b)
    if not (math.isfinite(fa) and math.isfinite(fb)):
        return str(fa), str(fb)
    for digits in range(min_digits, 18):
        sa, sb = format(fa, f".{digits}g"), format(fb, f".{digits}g")
        if sa != sb or fa == fb:
            return sa, sb
    return repr(fa), repr(fb)


def feature_kinds(net: Network) -> list[str]:
    """Per feature: "indicator" (whole number in [0, 1]), "category" (in a one-hot group), "whole number",
    "number", or "constant" (its domain holds one value: a 0/1 column constant in the data, a box of width 0)."""
    d = net.domain
    kinds = ["number"] * d.n_features
    for i in range(d.n_features):
        if d.integer[i]:
            kinds[i] = "indicator" if d.lower[i] >= 0 and d.upper[i] <= 1 else "whole number"
            if math.ceil(d.lower[i]) >= math.floor(d.upper[i]):
                kinds[i] = "constant"
        elif d.lower[i] == d.upper[i]:
            kinds[i] = "constant"
    for g in d.onehot_groups:
        for i in g:
            kinds[int(i)] = "category"
    return kinds


def _range(lo: float, hi: float) -> str:
    def f(v: float) -> str:
        return "no limit" if not math.isfinite(v) else format(v, ".6g")

    return f"{f(lo)} to {f(hi)}"


def eps_meaning(net: Network, eps: float, norm: str) -> list[dict[str, str]]:
    """One table row per feature: its range in the domain, its kind, and what the radius ``eps`` lets it do
    (module docstring)."""
    d = net.domain
    kinds = feature_kinds(net)
    l1 = norm == "1"
    rows = []
    for i, name in enumerate(d.names):
        k = kinds[i]
        width = float(d.upper[i] - d.lower[i])
        if k in ("indicator", "category"):
            cost = 2 if (k == "category" and l1) else 1
            what = (
                f"can flip ({'0 &harr; 1' if k == 'indicator' else 'switch to another category of its group'}"
                f"{', costing ' + str(cost) + ' of the L1 budget' if l1 else ''})"
                if eps >= cost
                else f"cannot change (a yes/no value needs a change of {cost}; eps = {eps:g} is smaller)"
            )
            kind = "yes/no indicator (0 or 1)" if k == "indicator" else "one category of a group (0 or 1)"
        elif k == "constant":
            what = "cannot change (its domain holds a single value)"
            kind = "constant"
        elif k == "whole number":
            steps = int(math.floor(eps + 1e-9))
            what = (
                f"may move by up to {steps} step{'s' if steps != 1 else ''} (whole numbers only)"
                if steps
                else "cannot change (whole numbers only; eps is below 1)"
            )
            kind = "whole number"
        else:
            what = f"may move by up to {eps:g} in its own units"
            kind = "number"
        moves = k not in ("indicator", "category") and not what.startswith("cannot change")
        if l1 and moves and eps > 0:
            what += " (the moves of all features share the L1 budget)"
        if math.isfinite(width) and width > 0 and moves and eps > 0:
            what += f"; that is {100 * min(1.0, eps / width):.1f} % of its range"
        rows.append(
            {
                "feature": html.escape(str(name)),
                "kind": kind,
                "range in the domain": _range(float(d.lower[i]), float(d.upper[i])),
                f"what eps = {eps:g} allows": what,
            }
        )
    return rows


def flippable(net: Network, eps: float, norm: str) -> list[str]:
    """Names of the yes/no and category features that the radius can flip (an honest warning on the page)."""
    kinds = feature_kinds(net)
    out = []
    for i, name in enumerate(net.domain.names):
        if kinds[i] == "indicator" and eps >= 1 or kinds[i] == "category" and eps >= (2 if norm == "1" else 1):
            out.append(str(name))
    return out


def class_name(net: Network, c: Any) -> str:
    """A class as its name (an index is mapped to the model's class names)."""
    names = net.class_names or []
    if isinstance(c, (int, np.integer)) and not isinstance(c, bool) and 0 <= int(c) < len(names):
        if str(c) not in [str(n) for n in names]:
            return str(names[int(c)])
    return str(c)


__all__ = [
    "GLOSSARY",
    "LAYER_WORDS",
    "layer_words",
    "glossary_html",
    "pair",
    "feature_kinds",
    "eps_meaning",
    "flippable",
    "score_words",
    "class_name",
]
