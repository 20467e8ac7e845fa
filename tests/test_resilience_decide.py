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


def test_below_delta_only_with_a_witness_that_checks_exactly():
    """The docs' toy credit model at (0.9, 0.1): Phi = 5/12 (L1). With delta a hair below Phi no pair within delta
    exists, so "below" would be false (it was answered with a pair at 0.4166667 > delta, and with z_i - z_m =
    -2.8e-17); with delta above Phi the answer is below and its pair checks without tolerance."""
    from mipnet.domain import Domain
    from mipnet.layers import Dense, ReLU
    from mipnet.network import Network
    from mipnet.verify.search import logits, perturbation_norm

    net = Network(
        [Dense(np.array([[1.0, -1.0], [0.5, 2.0]]), np.array([0.0, -1.0])), ReLU(),
         Dense(np.array([[1.0, -1.0]]), np.array([0.1]))],
        domain=Domain(["income", "debt"], lower=[0, 0], upper=[1, 1]),
    )  # fmt: skip
    x = np.array([0.9, 0.1])
    for delta in (5 / 12 - 1e-8, 5 / 12 - 1e-9):
        r = local_resilience(net, x, norm="1", delta=delta, decide=True, time_limit=20)
        assert r.verdict != "below", (delta, r.verdict, r.b)
    r = local_resilience(net, x, norm="1", delta=0.42, decide=True, time_limit=20)
    assert r.verdict == "below"
    b = np.asarray(r.b, dtype=np.float64)
    z = logits(net, b[None])[0]
    assert (
        perturbation_norm(x, b, "1") <= 0.42
        and np.delete(z, np.argmax(logits(net, x[None])[0])).max() >= z[np.argmax(logits(net, x[None])[0])]
    )
