"""Primal heuristics for perturbation problems: find some b near a fixed input a where at least k
classes reach class m's logit (no proof, only candidates; every candidate is checked by the forward pass).

Conditions, with logits z (one logit l is read as the two logits (0, l)):

    reached(b) = #{ i != m : z_i(b) >= z_m(b) } >= k,      b in the domain box,  ||b - a|| <= r.

The search is projected gradient ascent on g(b) = k-th largest of z_i(b) - z_m(b) over i != m, with
the Jacobian of the logits from one batched forward pass of finite differences (exact for a
piecewise-linear net inside a linear region). L-inf: signed steps, projection onto the box
[a - r, a + r] intersected with the domain. L1: steps on the q coordinates of largest gradient, then
scaling e = b - a back onto the L1 ball (the box contains a, so scaling keeps b in it). Found points
are then shrunk along e by bisection.
"""

from __future__ import annotations

import numpy as np

from ..encode.properties import class_margins
from ..network import Network


def logits(net: Network, X: np.ndarray) -> np.ndarray:
    """Logits (N, C); a single-logit binary classifier gives (0, l)."""
    out = net.forward(np.atleast_2d(X))
    if out.shape[1] == 1:
        return np.hstack([np.zeros_like(out), out])
    return out


def reached(z: np.ndarray, m: int, tol: float = 0.0) -> np.ndarray:
    """Per row of logits z: the number of classes i != m with z_i >= z_m - tol."""
    others = np.delete(np.arange(z.shape[1]), m)
    return np.sum(z[:, others] >= z[:, [m]] - tol, axis=1)


def strong_margin(z: np.ndarray, m: int) -> np.ndarray:
    """Per row: z_m - max_{i != m} z_i (a is strongly classified at alpha iff this >= ln alpha)."""
    return class_margins(z, m)


def _score(z: np.ndarray, m: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """g = k-th largest of z_i - z_m (i != m) per row, and the class attaining it."""
    others = np.delete(np.arange(z.shape[1]), m)
    d = z[:, others] - z[:, [m]]
    order = np.argsort(-d, axis=1)[:, k - 1]
    return d[np.arange(len(d)), order], others[order]


def jacobian(net: Network, x: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """d logits / d x at x, shape (C, n), by forward differences in one batched pass."""
    n = x.size
    X = np.vstack([x[None, :], x[None, :] + h * np.eye(n)])
    z = logits(net, X)
    return ((z[1:] - z[0][None, :]) / h).T


def _project(a: np.ndarray, b: np.ndarray, r: float, norm: str, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    e = np.clip(b, lo, hi) - a
    if norm == "inf":
        e = np.clip(e, -r, r)
    else:
        s = np.abs(e).sum()
        if s > r:
            e *= r / s
    return a + e


def _norm(e: np.ndarray, norm: str) -> float:
    return float(np.abs(e).max() if norm == "inf" else np.abs(e).sum())


def search_perturbation(
    net: Network,
    a: np.ndarray,
    m: int,
    k: int = 1,
    norm: str = "1",
    radius: float | None = None,
    steps: int = 40,
    restarts: int = 3,
    seed: int = 0,
) -> np.ndarray | None:
    """A point b in the domain (within ``radius`` of a if given) reaching k classes, or None.

    Without a radius the radius doubles from 1/64 of the domain width until a point is found.
    The point returned has been shrunk towards a as far as bisection keeps it valid.
    """
    a = np.asarray(a, dtype=np.float64).ravel()
    dom = net.domain
    lo, hi = dom.lower, dom.upper
    width = float(np.max(hi - lo)) * (1.0 if norm == "inf" else a.size)
    radii = [radius] if radius is not None else [width / 64 * 2**j for j in range(7)]
    rng = np.random.default_rng(seed)
    for r in radii:
        b = _attack(net, a, m, k, norm, float(r), lo, hi, steps, restarts, rng)
        if b is not None:
            return _shrink(net, a, b, m, k, dom)
    return None


def _valid(net: Network, B: np.ndarray, m: int, k: int, dom) -> np.ndarray:
    return (reached(logits(net, B), m) >= k) & dom.contains(B)


def _attack(
    net: Network,
    a: np.ndarray,
    m: int,
    k: int,
    norm: str,
    r: float,
    lo: np.ndarray,
    hi: np.ndarray,
    steps: int,
    restarts: int,
    rng: np.random.Generator,
) -> np.ndarray | None:
    n = a.size
    q = max(1, n // 20)
    for rs in range(restarts):
        if rs == 0:
            b = a.copy()
        else:
            e = rng.uniform(-1, 1, n) * (r if norm == "inf" else r / n)
            b = _project(a, a + e, r, norm, lo, hi)
        for t in range(steps):
            z = logits(net, b[None])
            g, i = _score(z, m, k)
            if g[0] >= 0 and _valid(net, b[None], m, k, net.domain)[0]:
                return b
            J = jacobian(net, b)
            grad = J[i[0]] - J[m]
            step = r * (0.25 if t < steps // 2 else 0.08)
            if norm == "inf":
                b = b + step * np.sign(grad)
            else:
                room = np.where(grad > 0, hi - b, b - lo)
                score = np.abs(grad) * (room > 1e-12)
                top = np.argsort(-score)[:q]
                d = np.zeros(n)
                d[top] = np.sign(grad[top])
                b = b + step * d / max(1, top.size) * 4
            b = _project(a, b, r, norm, lo, hi)
        if _valid(net, b[None], m, k, net.domain)[0]:
            return b
    return None


def _shrink(net: Network, a: np.ndarray, b: np.ndarray, m: int, k: int, dom) -> np.ndarray:
    """The smallest t in a grid/bisection with a + t (b - a) still valid (t = 1 is valid)."""
    e = b - a
    ts = np.linspace(0.0, 1.0, 65)
    ok = _valid(net, a[None] + ts[:, None] * e[None], m, k, dom)
    t_hi = float(ts[int(np.argmax(ok))]) if ok.any() else 1.0
    t_lo = max(0.0, t_hi - 1.0 / 64)
    for _ in range(30):
        t = 0.5 * (t_lo + t_hi)
        if _valid(net, (a + t * e)[None], m, k, dom)[0]:
            t_hi = t
        else:
            t_lo = t
    return a + t_hi * e


def perturbation_norm(a: np.ndarray, b: np.ndarray, norm: str) -> float:
    return _norm(np.asarray(b, float) - np.asarray(a, float), norm)
