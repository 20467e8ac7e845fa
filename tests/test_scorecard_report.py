"""The audit page shows the whole model as a scorecard when the network has one hidden layer, not otherwise."""

from __future__ import annotations

import numpy as np

from mipnet import Dense, Network, Normalize, ReLU
from mipnet.domain import Domain
from mipnet.report.audit.render import render_html
from mipnet.report.audit.run import Audit
from mipnet.report.audit.summaries import _quality, scorecard_html

DOM = Domain(["age", "priors", "male"], [18, 0, 0], [90, 30, 1], np.array([True, True, True]))


def _net(depth: int) -> Network:
    layers: list = [Normalize(np.array([0.1, 0.5, 2.0]), np.array([-4.0, -1.0, -1.0]))]
    layers += [Dense(np.array([[1.0, -2.0, 0.0], [0.0, 0.5, 3.0]]), np.array([0.5, -1.0])), ReLU()]
    for _ in range(depth - 1):
        layers += [Dense(np.eye(2), np.zeros(2)), ReLU()]
    layers.append(Dense(np.array([[0.5, -0.25]]), np.array([0.3])))
    return Network(layers, domain=DOM, class_names=["low", "high"])


def _page(net: Network) -> str:
    X = DOM.sample(10, rng=0)
    return render_html(
        Audit(net, "m.json", "d.csv", X, None, [], None, None, _quality(net, X, None), None, 0.0, "now", "serial")
    )


def test_page_has_the_scorecard_for_one_hidden_layer() -> None:
    page = _page(_net(1))
    assert "The whole model as a scorecard" in page
    assert "<code>+2 points per unit of (-1.5 + 0.1*age - priors) when that is positive</code>" in page
    assert "+ 6 if male" in page and "predict high when points &gt; 0, otherwise low" in page


def test_no_scorecard_for_deeper_networks() -> None:
    assert scorecard_html(_net(2)) == "" and "The whole model as a scorecard" not in _page(_net(2))
