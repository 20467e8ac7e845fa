"""The dual lower bound (mipnet.train.dual_bound) is never above the training MILP's optimum or any network's
objective, on tiny instances; its pricing MILP matches brute force; merging duplicates keeps it valid."""

from __future__ import annotations

import numpy as np
import pytest

from mipnet.train import TrainConfig, train
from mipnet.train.dual_bound import (
    _balanced,
    any_width_lower_bound,
    bound_for_config,
    hybrid_lower_bound,
    merge_duplicates,
    price,
    standardise,
    transport_lower_bound,
)
from mipnet.train.trainer import encode_targets

TOL = 1e-7


def xor_data(n: int, d: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = np.where(X[:, 0] * X[:, 1] + 0.3 * rng.normal(size=n) > 0, 1, 0)
    y[:2] = (0, 1)  # both classes present
    return X, y


def objective(
    Xs: np.ndarray, t: np.ndarray, W: np.ndarray, b: np.ndarray, v: np.ndarray, c: float, l1: float, margin: float = 1.0
) -> float:
    """The sign class's training objective (hinge + l1 over every Dense weight), recomputed in numpy."""
    f = c + np.maximum(Xs @ W.T + b, 0.0) @ v
    return float(np.maximum(0.0, margin - t * f).mean() + l1 * (np.abs(W).sum() + np.abs(v).sum()))


def all_bounds(Xs: np.ndarray, t: np.ndarray, cfg: TrainConfig, limit: float = 8.0) -> dict[str, float]:
    J = cfg.hidden[0]
    return {
        "cg any width": any_width_lower_bound(Xs, t, l1=cfg.l1, time_limit=limit).bound,
        "cg width J": bound_for_config(Xs, t, cfg, time_limit=limit).bound,
        "transport any width": transport_lower_bound(Xs, t, l1=cfg.l1, time_limit=limit).bound,
        "transport width J": transport_lower_bound(
            Xs, t, l1=cfg.l1, time_limit=limit, width=J, weight_bound=cfg.weight_bound, unit_cost=cfg.l1
        ).bound,
        # the split multipliers: a few rows in the MILP, the rest by transport
        "hybrid width J": hybrid_lower_bound(
            Xs,
            t,
            l1=cfg.l1,
            width=J,
            output_bias_bound=cfg.bias_bound,
            unit_cost=cfg.l1,
            time_limit=limit,
            milp_rows=5,
            neighbours=4,
        ).bound,
    }


@pytest.mark.parametrize("n,d,hidden,l1,seed", [(12, 2, 2, 0.05, 1), (18, 3, 2, 0.05, 5), (14, 2, 3, 0.1, 3)])
def test_bound_below_milp_optimum(n: int, d: int, hidden: int, l1: float, seed: int) -> None:
    X, y = xor_data(n, d, seed)
    cfg = TrainConfig(hidden=(hidden,), hypothesis="sign", l1=l1)
    res = train(X, y, config=cfg, time_limit=60, threads=1)
    cert = res.certificate
    assert cert.status == "optimal"
    Xs, t = standardise(X), encode_targets(y, "classify")[0]
    bounds = all_bounds(Xs, t, cfg)
    for name, b in bounds.items():
        assert 0.0 <= b <= cert.incumbent + TOL, (name, b, cert.incumbent)
    # the width-J column generation converges on these sizes and is the strongest of the four
    assert bounds["cg width J"] >= max(bounds.values()) - 1e-9
    assert bounds["cg width J"] >= 0.5 * cert.incumbent


def _descend(
    Xs: np.ndarray, t: np.ndarray, J: int, l1: float, rng: np.random.Generator, steps: int = 300
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """A network of the class (boxes 1) by projected subgradient steps on the objective (a gradient net)."""
    d = Xs.shape[1]
    W, b = rng.uniform(-1, 1, size=(J, d)), rng.uniform(-1, 1, size=J)
    v = rng.choice([-1.0, 1.0], size=J)
    c = 0.0
    for k in range(steps):
        lr = 0.1 / np.sqrt(k + 1)
        z = Xs @ W.T + b
        h = np.maximum(z, 0.0)
        f = c + h @ v
        g = -(t * (1.0 - t * f > 0)) / len(t)  # d loss / d f
        act = (z > 0) * v
        W -= lr * ((g[:, None] * act).T @ Xs + l1 * np.sign(W))
        b -= lr * (g @ act)
        c -= lr * g.sum()
        W, b, c = np.clip(W, -1, 1), np.clip(b, -1, 1), float(np.clip(c, -1, 1))
    return W, b, v, c


def random_class_objectives(
    Xs: np.ndarray, t: np.ndarray, J: int, l1: float, rng: np.random.Generator, n: int
) -> list[float]:
    """The objectives of ``n`` random networks of the class (boxes 1, output weights in {-1, 0, 1})."""
    objs = []
    for _ in range(n):
        W, b = rng.uniform(-1, 1, size=(J, Xs.shape[1])), rng.uniform(-1, 1, size=J)
        v = rng.choice([-1.0, 0.0, 1.0], size=J)
        W[v == 0], b[v == 0] = 0.0, 0.0
        objs.append(objective(Xs, t, W, b, v, float(rng.uniform(-1, 1)), l1))
    return objs


def test_bound_below_random_and_gradient_networks() -> None:
    rng = np.random.default_rng(7)
    X, y = xor_data(20, 3, 7)
    Xs, t = standardise(X), encode_targets(y, "classify")[0]
    l1, J = 0.03, 3
    cfg = TrainConfig(hidden=(J,), hypothesis="sign", l1=l1)
    bounds = all_bounds(Xs, t, cfg)
    objs = random_class_objectives(Xs, t, J, l1, rng, 200)
    for _ in range(5):
        objs.append(objective(Xs, t, *_descend(Xs, t, J, l1, rng), l1=l1))
    assert max(bounds.values()) <= min(objs) + TOL
    # the any-width bounds hold for any width and any weight scale (no boxes)
    W, b = 3.0 * rng.normal(size=(12, 3)), rng.normal(size=12)
    v = rng.choice([-1.0, 1.0], size=12)
    big = objective(Xs, t, W, b, v, 5.0, l1)
    assert bounds["cg any width"] <= big + TOL and bounds["transport any width"] <= big + TOL


def test_duplicate_merging_keeps_the_bound_valid() -> None:
    X, y = xor_data(8, 2, 11)
    rep = np.array([3, 1, 2, 1, 1, 4, 1, 2])
    Xd, yd = np.repeat(X, rep, axis=0), np.repeat(y, rep)
    Xd, yd = np.vstack([Xd, X[:2]]), np.concatenate([yd, 1 - y[:2]])  # duplicates of x with the other label too
    Xs, t = standardise(Xd), encode_targets(yd, "classify")[0]
    Xu, yu, counts, inverse = merge_duplicates(Xs, t)
    assert counts.sum() == len(t) and np.array_equal(Xu[inverse], Xs) and np.array_equal(yu[inverse], t)
    assert Xu.shape[0] == 10
    cfg = TrainConfig(hidden=(2,), hypothesis="sign", l1=0.05)
    merged = bound_for_config(Xs, t, cfg, time_limit=8).bound
    plain = bound_for_config(Xs, t, cfg, time_limit=8, merge=False).bound
    anyw = [any_width_lower_bound(Xs, t, l1=0.05, time_limit=8, merge=m).bound for m in (True, False)]
    # the same dual problem: the same value (both converge) ...
    assert merged == pytest.approx(plain, abs=1e-4) and anyw[0] == pytest.approx(anyw[1], abs=1e-4)
    # ... and valid: below the optimum of the training MILP on the duplicated data
    opt = train(Xd, yd, config=cfg, time_limit=60, threads=1).certificate
    assert opt.status == "optimal"
    assert max(merged, plain, *anyw) <= opt.incumbent + TOL


def _grid_values(X: np.ndarray, a: np.ndarray, R: float, k: int = 721, nb: int = 801) -> np.ndarray:
    """S(w, b) over w on the l1 sphere of R^2 (k points) and b in [-R, R] (nb points)."""
    s = np.linspace(-2.0, 2.0, k)[:-1]  # perimeter parameter of the l1 diamond
    w1 = np.where(np.abs(s) <= 1, 1 - np.abs(s), -(1 - np.abs(np.abs(s) - 2)))
    w2 = np.where(np.abs(s) <= 1, s, np.sign(s) * (2 - np.abs(s)))
    Wg = np.column_stack([w1, w2])
    bs = np.linspace(-R, R, nb)
    Z = (X @ Wg.T)[:, :, None] + bs[None, None, :]
    return np.tensordot(a, np.maximum(Z, 0.0), axes=(0, 0))  # (k-1, nb)


@pytest.mark.parametrize("seed", [0, 1])
def test_pricing_matches_brute_force(seed: int) -> None:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(14, 2))
    y = np.where(rng.random(14) < 0.5, 1.0, -1.0)
    y[:2] = (1.0, -1.0)
    alpha = rng.uniform(0, 1, size=14) / 14
    k, alpha = _balanced(alpha, y, np.ones(14, dtype=np.int64), 14.0)
    assert int((k * y.astype(np.int64)).sum()) == 0
    a = alpha * y
    R = float(np.abs(X).max())
    S = _grid_values(X, a, R)
    # grid error: neighbouring grid points are within dw (l1) and db; |dS| <= sum|a| (max|x| dw + db)
    err = np.abs(a).sum() * (R * 4.0 / 720 + 2 * R / 800)
    for sign in (1, -1):
        p = price(X, a, sign, lam=0.0, kappa=0.0, ball=True, w_bound=1.0, b_bound=R, time_limit=20)
        best = float((sign * S).max())
        assert p.optimal
        assert p.upper >= best - 1e-12  # the certified bound is above every grid value
        assert p.value >= best - 1e-9  # the MILP's unit is at least as good as the grid's best
        assert p.value <= best + err + 1e-12  # and within the grid's resolution of it
        assert p.upper <= p.value + 1e-4 * max(1.0, abs(p.value)) + 1e-4
    # box mode with a penalty: max s S(w, b) - lam ||w||_1 - kappa over |w_i| <= 1, |b| <= 1
    lam, kappa = 0.02, 0.01
    g = np.linspace(-1, 1, 121)
    W1, W2, B = np.meshgrid(g, g, g, indexing="ij")
    Z = X[:, 0, None, None, None] * W1 + X[:, 1, None, None, None] * W2 + B
    val = np.tensordot(a, np.maximum(Z, 0), axes=(0, 0)) - lam * (np.abs(W1) + np.abs(W2)) - kappa
    for sign in (1, -1):
        p = price(X, sign * a * 1.0, 1, lam=lam, kappa=kappa, ball=False, w_bound=1.0, b_bound=1.0, time_limit=20)
        best = float(
            (sign * np.tensordot(a, np.maximum(Z, 0), axes=(0, 0)) - lam * (np.abs(W1) + np.abs(W2)) - kappa).max()
        )
        assert p.upper >= best - 1e-12 and p.value >= best - 1e-9
    assert val.shape == (121, 121, 121)


def test_balancing_is_exact_and_within_the_caps() -> None:
    rng = np.random.default_rng(3)
    y = np.where(rng.random(50) < 0.3, 1.0, -1.0)
    counts = rng.integers(1, 4, size=50)
    D = float(counts.sum())
    alpha = rng.uniform(0, 1, size=50) * counts / D * 1.000001  # slightly over the caps, as an LP may return
    k, al = _balanced(alpha, y, counts, D)
    assert int((k * y.astype(np.int64)).sum()) == 0
    assert np.all(al <= counts / D) and np.all(al >= 0)
    assert al.sum() <= alpha.sum()


def test_bound_for_config_methods_agree_in_order() -> None:
    """cg (all rows exact) >= hybrid >= transport-only is not a theorem for unfinished runs, but on a tiny instance
    every method converges: the hybrid with every row in the MILP equals cg, and all stay below the optimum."""
    X, y = xor_data(14, 2, 9)
    Xs, t = standardise(X), encode_targets(y, "classify")[0]
    cfg = TrainConfig(hidden=(2,), hypothesis="sign", l1=0.05)
    b = {m: bound_for_config(Xs, t, cfg, time_limit=8, method=m).bound for m in ("cg", "transport", "auto")}
    b["hybrid"] = bound_for_config(Xs, t, cfg, time_limit=8, method="hybrid", milp_rows=14).bound
    assert b["auto"] == pytest.approx(b["cg"], abs=1e-9)
    assert b["hybrid"] == pytest.approx(b["cg"], abs=1e-3)
    assert b["transport"] <= b["hybrid"] + 1e-9


def test_transport_bound_recheck() -> None:
    """The transport certificate's figure from its own multipliers: exact conflicts alone give 2 m / D per pair."""
    X = np.array([[0.0, 0.0], [0.0, 0.0], [1.0, 0.0], [5.0, 5.0]])
    y = np.array([1.0, -1.0, 1.0, -1.0])
    r = transport_lower_bound(X, y, l1=1e-6, time_limit=10)
    assert r.bound == pytest.approx(2.0 / 4.0, rel=1e-6)  # the conflicting pair; the others are too far apart
    assert r.alpha.max() <= 0.25 + 1e-15


def test_the_pair_search_stops_at_its_deadline():
    """The nearest opposite rows had no clock: on full Adult (39 240 rows) they took 16 s of a fit with 4 s left."""
    import pytest

    from mipnet.deadline import Deadline
    from mipnet.errors import MipnetError
    from mipnet.train.dual_bound.pairwise import opposite_pairs, transport_lower_bound

    rng = np.random.default_rng(0)
    X = rng.normal(size=(3000, 5))
    y = np.where(X[:, 0] > 0, 1.0, -1.0)
    assert opposite_pairs(X, y, 3, deadline=Deadline(60.0)).shape[1] == 2
    with pytest.raises(MipnetError, match="not found within the time limit"):
        opposite_pairs(X, y, 3, chunk=64, deadline=Deadline(0.0))
    with pytest.raises(MipnetError, match="not found within the time limit"):
        transport_lower_bound(X, y, l1=0.01, time_limit=Deadline(0.0))
