"""A fast gradient surrogate of the sign-class training problem (numpy), for warm starts and penalty selection.

The MILP of :mod:`.formulation` (``sign`` class, binary hinge loss) minimises, over standardised samples
x_n with labels y_n in {-1, +1},

    F(W, b, v, c) = (1/N) sum_n max(0, m - y_n f(x_n)) + l1 (sum_ji |W_ji| + sum_j |v_j|),
    f(x) = sum_j v_j ReLU(w_j x + b_j) + c,   |W_ji| <= B_w,  |b_j|, |c| <= B_b,  v_j in {-1, 0, +1}.

The surrogate fixes the output signs v (a pattern of P positive and H - P negative units) and runs
proximal Adam on the continuous weights: an Adam step on the subgradient of the mean hinge loss, then
the proximal map of the l1 term with Adam's per-coordinate step (soft thresholding by
lr * l1 / (sqrt(s_hat) + eps)), then the projection onto the boxes. A unit whose in-weights are all zero
is a constant; it is folded into c (clipped) and switched off (v_j = 0), so it costs no |v_j|. The best
iterate by the exact objective F (evaluated every ``check_every`` steps) is returned: every result is a
point of the MILP's feasible set and F is its MILP objective.

It is a local method: F is not minimised globally (the MILP does that); what it buys is speed. Several
problems (penalties x restarts) are stacked along a leading axis and stepped together, so one batched pass
fits a whole grid of penalties: about 0.7 s per cross-validation split (5 penalties x 2 restarts, 600
steps, N = 240, d = 30, one core), which lets penalty selection (:mod:`.penalty_cv`) afford every
(penalty, fold).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from ..errors import DataError


@dataclass
class SignNetwork:
    """f(x) = sum_j v_j ReLU(W[j] x + b_j) + c on standardised inputs; ``objective`` is F at the data fitted."""

    W: np.ndarray  # (H, d)
    b: np.ndarray  # (H,)
    v: np.ndarray  # (H,) in {-1, 0, +1}
    c: float
    objective: float

    def decision(self, X: np.ndarray) -> np.ndarray:
        return np.maximum(X @ self.W.T + self.b, 0.0) @ self.v + self.c

    def weights(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """(W, b) per Dense layer, as :mod:`.warmstart` takes them."""
        return [(self.W.copy(), self.b.copy()), (self.v[None, :].astype(np.float64), np.array([self.c]))]

    def nonzero(self) -> int:
        return int(np.count_nonzero(self.W) + np.count_nonzero(self.v))


def sign_objective(
    W: np.ndarray, b: np.ndarray, v: np.ndarray, c: float, X: np.ndarray, y: np.ndarray, l1: float, margin: float
) -> float:
    """F above (the MILP objective of the sign class with hinge loss and an l1 term)."""
    f = np.maximum(X @ W.T + b, 0.0) @ v + c
    return float(np.maximum(0.0, margin - y * f).mean() + l1 * (np.abs(W).sum() + np.abs(v).sum()))


def _switch_off_constants(
    W: np.ndarray, b: np.ndarray, v: np.ndarray, c: float, bias_bound: float
) -> tuple[np.ndarray, np.ndarray, float]:
    """Units with all-zero in-weights are constants v_j ReLU(b_j): folded into c, switched off."""
    const = ~np.any(W != 0, axis=1) & (v != 0)
    if not const.any():
        return b, v, c
    b, v = b.copy(), v.copy()
    c = float(np.clip(c + float(v[const] @ np.maximum(b[const], 0.0)), -bias_bound, bias_bound))
    b[const], v[const] = 0.0, 0.0
    return b, v, c


def _fit_batch(
    X: np.ndarray,
    y: np.ndarray,
    hidden: int,
    l1: np.ndarray,
    positive: np.ndarray,
    seeds: Sequence[int | None],
    margin: float,
    weight_bound: float,
    bias_bound: float,
    steps: int,
    lr: float,
    check_every: int,
    end: float | None = None,
    ran: list[int] | None = None,
) -> list[SignNetwork]:
    """Proximal Adam on K independent problems at once (member k: l1[k], positive[k] + signs, seeds[k]).

    The members share nothing but the data; stacking them along a leading axis makes one numpy call do K
    small matrix products, which is where the time of a single fit goes at these sizes. ``end`` (a
    ``time.perf_counter()`` value): the fit stops after the first step past it, its iterate scored like a check
    (the number of steps is planned from a probe of the speed, which a loaded machine can make wrong by 4x).
    """
    N, d = X.shape
    K = len(seeds)
    v = np.where(np.arange(hidden)[None, :] < positive[:, None], 1.0, -1.0)  # (K, H)
    W = np.stack(
        [
            np.clip(
                np.random.default_rng(s).normal(0.0, 1.0 / np.sqrt(d), size=(hidden, d)), -weight_bound, weight_bound
            )
            for s in seeds
        ]
    )  # (K, H, d)
    b = np.zeros((K, hidden))
    c = np.zeros(K)
    params, bounds = [W, b, c], [weight_bound, bias_bound, bias_bound]
    m1 = [np.zeros_like(p) for p in params]
    m2 = [np.zeros_like(p) for p in params]
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    best_F = np.full(K, np.inf)
    best: list[tuple[np.ndarray, np.ndarray, np.ndarray, float]] = [
        (W[k].copy(), b[k].copy(), v[k].copy(), 0.0) for k in range(K)
    ]
    for step in range(1, steps + 1):
        z = X @ W.transpose(0, 2, 1) + b[:, None, :]  # (K, N, H)
        act = z > 0
        f = (np.where(act, z, 0.0) * v[:, None, :]).sum(axis=2) + c[:, None]
        g_f = np.where(margin - y[None, :] * f > 0, -y[None, :], 0.0) / N  # d mean-hinge / d f, (K, N)
        g_z = g_f[:, :, None] * v[:, None, :] * act
        grads = [g_z.transpose(0, 2, 1) @ X, g_z.sum(axis=1), g_f.sum(axis=1)]
        for i, (p, g) in enumerate(zip(params, grads)):
            m1[i] = beta1 * m1[i] + (1 - beta1) * g
            m2[i] = beta2 * m2[i] + (1 - beta2) * g * g
            step_size = lr / (np.sqrt(m2[i] / (1 - beta2**step)) + eps)
            p -= step_size * m1[i] / (1 - beta1**step)
            if i == 0:  # proximal map of l1 |W| with the per-coordinate step
                thr = step_size * l1[:, None, None]
                np.copyto(p, np.sign(p) * np.maximum(np.abs(p) - thr, 0.0))
            np.clip(p, -bounds[i], bounds[i], out=p)
        late = end is not None and time.perf_counter() > end
        if step % check_every == 0 or step == steps or late:
            for k in range(K):
                bb, vv, cc = _switch_off_constants(W[k], b[k], v[k], float(c[k]), bias_bound)
                F = sign_objective(W[k], bb, vv, cc, X, y, float(l1[k]), margin)
                if F < best_F[k]:
                    best_F[k] = F
                    best[k] = (W[k].copy(), bb.copy(), vv.copy(), cc)
            if late:
                break
    if ran is not None:  # the steps it ran (a speed probe stopped by ``end`` prices what it did)
        ran.append(step if steps >= 1 else 0)
    return [SignNetwork(Wk, bk, vk, ck, float(Fk)) for (Wk, bk, vk, ck), Fk in zip(best, best_F)]


def _check(X: np.ndarray, y: np.ndarray, hidden: int, l1s: list[float], margin: float) -> tuple[np.ndarray, np.ndarray]:
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if X.ndim != 2 or y.shape != (X.shape[0],):
        raise DataError(f"X must be (N, d) and y (N,), got {X.shape} and {y.shape}")
    if not np.all(np.isin(y, (-1.0, 1.0))):
        raise DataError("the sign-class surrogate takes labels in {-1, +1}")
    if hidden < 1 or min(l1s) < 0 or margin <= 0:
        raise DataError(f"need hidden >= 1, l1 >= 0 and margin > 0 (got {hidden}, {min(l1s)}, {margin})")
    return X, y


def fit_sign_network(
    X: np.ndarray,
    y: np.ndarray,
    hidden: int,
    *,
    l1: float,
    margin: float = 1.0,
    weight_bound: float = 1.0,
    bias_bound: float = 1.0,
    positive: int | None = None,
    steps: int = 600,
    lr: float = 0.03,
    check_every: int = 20,
    seed: int | None = 0,
) -> SignNetwork:
    """Proximal Adam on F with ``positive`` of the ``hidden`` output signs +1 (default: half, rounded up)."""
    X, y = _check(X, y, hidden, [l1], margin)
    P = (hidden + 1) // 2 if positive is None else int(positive)
    return _fit_batch(
        X,
        y,
        hidden,
        np.array([float(l1)]),
        np.array([P]),
        [seed],
        margin,
        weight_bound,
        bias_bound,
        steps,
        lr,
        check_every,
    )[0]


def _restart_plan(hidden: int, restarts: int, seed: int | None) -> tuple[list[int], list[int]]:
    """Output-sign patterns (half positive, then the other half, all +, all -) and seeds seed, seed + 1, ..."""
    base = 0 if seed is None else int(seed)
    patterns = [(hidden + 1) // 2, hidden // 2, hidden, 0]
    R = max(1, int(restarts))
    return [patterns[r % len(patterns)] for r in range(R)], [base + r for r in range(R)]


def fit_sign_path(
    X: np.ndarray,
    y: np.ndarray,
    hidden: int,
    l1s: list[float] | tuple[float, ...],
    *,
    restarts: int = 2,
    seed: int | None = 0,
    margin: float = 1.0,
    weight_bound: float = 1.0,
    bias_bound: float = 1.0,
    steps: int = 600,
    lr: float = 0.03,
    check_every: int = 20,
    end: float | None = None,
    ran: list[int] | None = None,
) -> list[SignNetwork]:
    """For each l1 in ``l1s``, the best of ``restarts`` fits and the best constant network
    (:func:`fit_sign_network_best`), the fits all in one batch; ``end``, ``ran``: as in :func:`_fit_batch`."""
    l1s = [float(c) for c in l1s]
    X, y = _check(X, y, hidden, l1s, margin)
    pos, seeds = _restart_plan(hidden, restarts, seed)
    R = len(seeds)
    nets = _fit_batch(
        X,
        y,
        hidden,
        np.repeat(l1s, R),
        np.tile(pos, len(l1s)),
        seeds * len(l1s),
        margin,
        weight_bound,
        bias_bound,
        steps,
        lr,
        check_every,
        end,
        ran,
    )
    return [
        min(nets[i * R : (i + 1) * R] + [constant_network(X, y, hidden, margin, bias_bound)], key=lambda s: s.objective)
        for i in range(len(l1s))
    ]


def constant_network(
    X: np.ndarray, y: np.ndarray, hidden: int, margin: float = 1.0, bias_bound: float = 1.0
) -> SignNetwork:
    """The best network with every unit off: f = c minimising the mean hinge loss, |c| <= B_b (no l1 cost).

    The mean hinge loss is convex and piecewise linear in c with breakpoints c = y_n m, so its minimum over
    the box is at a breakpoint or an end of the box."""
    d = X.shape[1]
    cands = np.clip(np.array([margin, -margin, bias_bound, -bias_bound, 0.0]), -bias_bound, bias_bound)
    losses = [float(np.maximum(0.0, margin - y * c).mean()) for c in cands]
    k = int(np.argmin(losses))
    return SignNetwork(np.zeros((hidden, d)), np.zeros(hidden), np.zeros(hidden), float(cands[k]), losses[k])


def fit_sign_network_best(
    X: np.ndarray, y: np.ndarray, hidden: int, *, l1: float, restarts: int = 2, seed: int | None = 0, **kw: Any
) -> SignNetwork:
    """The best of ``restarts`` fits (sign patterns cycled from half positive, seeds seed, seed + 1, ...) and the
    constant network (:func:`constant_network`): a local fit can end worse than the trivial network, which
    the MILP would then find, so the surrogate must not stand in for the MILP with a worse point."""
    return fit_sign_path(X, y, hidden, [l1], restarts=restarts, seed=seed, **kw)[0]


__all__ = [
    "SignNetwork",
    "constant_network",
    "fit_sign_network",
    "fit_sign_network_best",
    "fit_sign_path",
    "sign_objective",
]
