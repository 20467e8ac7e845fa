"""The transport bound with the pair relaxation maximised over the box's vertices (mipnet.train.dual_bound.
pair_vertices): its pricing value is the box maximum (brute force, dense sampling, a planted maximiser), the bound is
never above the proved optimum or any network of the class, never below the transport bound when converged, and
the certificate re-check re-proves it from the record alone."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_dual_bound import TOL, _descend, objective, random_class_objectives, xor_data

from mipnet.errors import UnsupportedError
from mipnet.train import TrainConfig, train
from mipnet.train.dual_bound import bound_for_config, standardise, transport_lower_bound
from mipnet.train.dual_bound.pair_vertices import box_vertices, vertex_lower_bound, vertex_pricing_value
from mipnet.train.trainer import encode_targets


def _brute(DX: np.ndarray, pi: np.ndarray, lam: float, kappa: float, B: float) -> float:
    best = -kappa  # w = 0
    for w in itertools.product((-B, 0.0, B), repeat=DX.shape[1]):
        wv = np.array(w)
        best = max(best, sum(p * max(0.0, float(wv @ dx)) for p, dx in zip(pi, DX)) - lam * np.abs(wv).sum() - kappa)
    return best


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    d=st.integers(1, 4),
    P=st.integers(1, 12),
    lam=st.floats(0.0, 0.5),
    B=st.sampled_from([0.5, 1.0, 2.0]),
)
def test_vertex_value_is_the_box_maximum(seed: int, d: int, P: int, lam: float, B: float) -> None:
    rng = np.random.default_rng(seed)
    DX = rng.normal(size=(P, d))
    pi = rng.uniform(0, 1, size=P) * (rng.uniform(size=P) > 0.2)
    kappa = 0.05
    V, _ = vertex_pricing_value(DX, pi, lam=lam, kappa=kappa, weight_bound=B)
    exact = _brute(DX, pi, lam, kappa, B)
    assert exact <= V <= exact + 1e-9  # an upper bound, tight to the float margin
    # no point of the box does better (dense sampling, and points planted on the box's faces)
    W = rng.uniform(-B, B, size=(4000, d))
    W[:1000] = np.clip(W[:1000] * 10, -B, B)
    vals = np.maximum(W @ DX.T, 0.0) @ pi - lam * np.abs(W).sum(axis=1) - kappa
    assert vals.max() <= V
    # a planted maximiser just inside the box is matched at the vertex it rounds to
    w_star = B * np.sign(DX[0]) * (1 - 1e-9)
    val = float(np.maximum(DX @ w_star, 0.0) @ pi - lam * np.abs(w_star).sum() - kappa)
    assert val <= V


def test_vertex_count_and_limit() -> None:
    assert box_vertices(3).shape == (26, 3)
    with pytest.raises(UnsupportedError, match="features"):
        box_vertices(40)


def _bounds(Xs: np.ndarray, t: np.ndarray, cfg: TrainConfig) -> tuple[float, float]:
    J = cfg.hidden[0]
    vert = vertex_lower_bound(Xs, t, l1=cfg.l1, width=J, weight_bound=cfg.weight_bound, unit_cost=cfg.l1, time_limit=20)
    assert vert.status == "converged"
    trans = transport_lower_bound(
        Xs, t, l1=cfg.l1, width=J, weight_bound=cfg.weight_bound, unit_cost=cfg.l1, time_limit=20
    )
    return vert.bound, trans.bound


@pytest.mark.parametrize("n,d,hidden,l1,seed", [(12, 2, 2, 0.05, 1), (18, 3, 2, 0.05, 5), (14, 2, 3, 0.1, 3)])
def test_vertex_bound_below_the_proved_optimum(n: int, d: int, hidden: int, l1: float, seed: int) -> None:
    X, y = xor_data(n, d, seed)
    cfg = TrainConfig(hidden=(hidden,), hypothesis="sign", l1=l1)
    cert = train(X, y, config=cfg, time_limit=60, threads=1).certificate
    assert cert.status == "optimal"
    Xs, t = standardise(X), encode_targets(y, "classify")[0]
    vert, trans = _bounds(Xs, t, cfg)
    assert 0.0 <= vert <= cert.incumbent + TOL
    # converged over all pairs, with V_pair <= the separable loads for every plan: never below the transport LP
    assert vert >= trans - 1e-7
    assert bound_for_config(Xs, t, cfg, time_limit=20, method="vertex").bound == pytest.approx(vert, abs=1e-9)


def test_vertex_bound_below_networks_of_the_class() -> None:
    rng = np.random.default_rng(3)
    X, y = xor_data(40, 3, 4)
    Xs, t = standardise(X), encode_targets(y, "classify")[0]
    l1, J = 0.02, 3
    cfg = TrainConfig(hidden=(J,), hypothesis="sign", l1=l1)
    vert, trans = _bounds(Xs, t, cfg)
    assert vert > trans  # the features cancel on these data: strictly stronger
    objs = [objective(Xs, t, *_descend(Xs, t, J, l1, rng), l1=l1) for _ in range(4)]
    objs += random_class_objectives(Xs, t, J, l1, rng, 300)
    assert vert <= min(objs) + TOL


def test_time_limit_keeps_a_valid_bound() -> None:
    X, y = xor_data(60, 3, 8)
    Xs, t = standardise(X), encode_targets(y, "classify")[0]
    r = vertex_lower_bound(Xs, t, l1=0.02, width=3, unit_cost=0.02, time_limit=0.01)
    assert r.bound >= 0.0 and r.seconds < 5.0
    full = vertex_lower_bound(Xs, t, l1=0.02, width=3, unit_cost=0.02, time_limit=30)
    assert r.bound <= full.bound + 1e-12


def test_enumeration_stops_at_its_deadline_without_a_partial_max() -> None:
    from mipnet.deadline import Deadline

    rng = np.random.default_rng(0)
    DX, pi = rng.normal(size=(50, 9)), rng.uniform(size=50)
    with pytest.raises(TimeoutError):
        vertex_pricing_value(DX, pi, lam=0.01, kappa=0.01, weight_bound=1.0, deadline=Deadline(0.0))
