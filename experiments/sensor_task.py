"""A synthetic sensor task for an agent-style classifier (27 inputs, a few actions).

An agent carries 9 range sensors spread over a fan of -80..+80 degrees. Each sensor s gives three
readings in [0, 1]: ``d_s`` the free distance (1 = nothing in range), ``v_s`` the closing speed of
what it sees (0 = receding, 1 = fast approach) and ``q_s`` the signal quality. The action is one of

    0 keep_course, 1 steer_left, 2 steer_right, 3 brake

decided by a rule on the quality-weighted risk r_s = q_s (1 - d_s)(0.4 + 0.6 v_s):
brake when the central risk (sensors 3..5) exceeds 0.35 and the approach is fast (mean central
v > 0.55); otherwise steer away from the riskier side when the front risk (sensors 2..6, weighted by
centrality) exceeds 0.25; otherwise keep course. 2 % of the labels are flipped at random (sensor
noise). Samples mix free scenes (d near 1) and cluttered ones so that every action is frequent.
"""

from __future__ import annotations

import numpy as np

ACTIONS = ["keep_course", "steer_left", "steer_right", "brake"]
N_SENSORS = 9
ANGLES = np.linspace(-80, 80, N_SENSORS)
FEATURES = [f"{kind}{s}" for s in range(N_SENSORS) for kind in ("d", "v", "q")]


def generate(n: int, seed: int = 0, noise: float = 0.02) -> tuple[np.ndarray, np.ndarray]:
    """(X, y): X of shape (n, 27) in [0, 1], features ordered d0, v0, q0, d1, ...; y action index."""
    rng = np.random.default_rng(seed)
    clutter = rng.uniform(0, 1, size=(n, 1))
    d = np.clip(1 - rng.beta(1.5, 3.0, size=(n, N_SENSORS)) * (0.3 + clutter), 0, 1)
    v = rng.uniform(0, 1, size=(n, N_SENSORS))
    q = np.clip(rng.normal(0.85, 0.12, size=(n, N_SENSORS)), 0, 1)
    X = np.stack([d, v, q], axis=2).reshape(n, -1)
    return X, label(X, rng, noise)


def label(X: np.ndarray, rng: np.random.Generator | None = None, noise: float = 0.0) -> np.ndarray:
    """The rule's action for each row of X (with a fraction ``noise`` of random labels)."""
    S = X.reshape(-1, N_SENSORS, 3)
    d, v, q = S[..., 0], S[..., 1], S[..., 2]
    risk = q * (1 - d) * (0.4 + 0.6 * v)
    centrality = np.cos(np.deg2rad(ANGLES)) ** 2
    central = risk[:, 3:6].max(axis=1)
    fast = v[:, 3:6].mean(axis=1) > 0.55
    front = (risk * centrality)[:, 2:7].max(axis=1)
    left, right = risk[:, :4].sum(axis=1), risk[:, 5:].sum(axis=1)
    y = np.zeros(len(X), dtype=int)
    steer = front > 0.25
    y[steer & (right >= left)] = 1  # obstacles on the right: steer left
    y[steer & (right < left)] = 2
    y[(central > 0.35) & fast] = 3
    if noise > 0:
        rng = rng or np.random.default_rng(0)
        flip = rng.uniform(size=len(y)) < noise
        y[flip] = rng.integers(0, len(ACTIONS), size=int(flip.sum()))
    return y
