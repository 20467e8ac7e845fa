"""'Is the perturbation bound of this input below delta' (k = 1): the robustness-MILP path agrees with
the resilience MILP, and its witnesses meet the conditions."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import random_dense_net

from mipnet.verify.resilience import Heuristics, local_resilience
from mipnet.verify.search import logits, reached


@pytest.mark.parametrize("norm", ["inf", "1"])
def test_robust_path_agrees_with_the_resilience_milp(norm):
    rng = np.random.default_rng(11)
    net = random_dense_net(rng, [4, 8, 8, 3], act="relu")
    x = net.domain.sample(1, 4)[0]
    exact = local_resilience(net, x, norm=norm, heuristics=Heuristics.parse("dataflow"), time_limit=30)
    assert exact.status == "optimal"
    phi = exact.phi
    for delta in (0.5 * phi, 0.95 * phi, 1.05 * phi, 2.0 * phi):
        fast = local_resilience(
            net, x, norm=norm, delta=delta, decide=True, heuristics=Heuristics.parse("dataflow,robust"), time_limit=30
        )
        expected = "below" if phi <= delta else "not_below"
        assert fast.verdict == expected, (delta, phi, fast.notes)
        if fast.verdict == "below":
            z = logits(net, np.vstack([x, fast.b]))
            assert reached(z[1:], exact.cls)[0] >= 1
            d = np.abs(fast.b - x)
            assert (d.max() if norm == "inf" else d.sum()) <= delta * (1 + 1e-6) + 1e-9
