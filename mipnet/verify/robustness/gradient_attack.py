"""A cheap projected-gradient attack before the MILP: it finds re-checked counterexamples, never proves robustness.

(``project_to_ball`` is looked up on :mod:`mipnet.verify.robustness`, so that patching it there takes effect.)
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

import mipnet.verify.robustness as _pkg

from ...deadline import Deadline
from ...gradients import jacobian
from ...network import Network
from .region import ball_box


def _jacobian(net: Network, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Logits at x and their exact Jacobian (reverse mode, :mod:`mipnet.gradients`)."""
    return jacobian(net, x)  # (n_out,), (n_out, n)


def attack(
    net: Network,
    x: np.ndarray,
    eps: float,
    norm: str,
    c: int,
    steps: int = 20,
    rng: int = 0,
    deadline: Deadline | None = None,
) -> np.ndarray | None:
    """A cheap search for a counterexample before the MILP (never used to claim robustness).

    Projected gradient descent on the margin z_c - z_k against each of the (at most three) strongest
    rivals k, with exact gradients: L-inf steps x <- proj(x - a sign(g)); L1 steps to the
    best vertex of the linearisation over the L1 ball and the box (greedy on |g|). Returns a point of
    the ball whose forward-pass class differs from c, or None (also once ``deadline`` has passed).
    """
    lo, hi = ball_box(net, x, eps, norm, inward=True)  # its points must be in the real ball
    z0 = net.forward(x[None])[0]
    targets: Sequence[int | None]
    if z0.size == 1:
        targets = [None]
    else:
        order = np.argsort(-z0)
        targets = [int(k) for k in order if k != c][:3]
    gen = np.random.default_rng(rng)
    for k in targets:
        starts = [x.copy(), np.clip(x + gen.uniform(-eps, eps, x.size), lo, hi)] if norm == "inf" else [x.copy()]
        for xa in starts:
            step = eps / 4.0
            for _ in range(steps):
                if deadline is not None and deadline.expired():
                    return None
                z, J = _jacobian(net, xa)
                g = (J[0] * (1.0 if c == 1 else -1.0)) if k is None else J[c] - J[k]
                if norm == "inf":
                    xa = np.clip(xa - step * np.sign(g), lo, hi)
                    step = max(step * 0.85, eps / 50.0)
                else:
                    xa = _l1_vertex(x, g, eps, lo, hi)
                if int(net.predict_index(net.forward(xa[None]))[0]) != c:
                    xp = _pkg.project_to_ball(net, x, xa, eps, norm)
                    if xp is not None and int(net.predict_index(net.forward(xp[None]))[0]) != c:
                        return xp
                if norm == "1":
                    break
    return None


def _l1_vertex(x: np.ndarray, g: np.ndarray, eps: float, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """argmin_{x' in box, ||x' - x||_1 <= eps} g.(x' - x): spend the budget on the largest |g_i| first."""
    xv = x.copy()
    budget = eps
    for i in np.argsort(-np.abs(g)):
        if budget <= 0 or g[i] == 0:
            break
        room = (x[i] - lo[i]) if g[i] > 0 else (hi[i] - x[i])
        move = min(room, budget)
        xv[i] = x[i] - move if g[i] > 0 else x[i] + move
        budget -= move
    return xv
