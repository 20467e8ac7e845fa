"""Sound linear envelopes of smooth activations on an interval [L, U].

For f in {GELU, Tanh, Sigmoid} and each neuron we return two parallel lines with the chord's slope

    a = (f(U) - f(L)) / (U - L),
    a z + b_lo <= f(z) <= a z + b_hi   for every z in [L, U],

where b_hi = max_z (f(z) - a z) and b_lo = min_z (f(z) - a z). Both extrema are computed on a grid of
G points and widened by the Lipschitz margin (Lip(f) + |a|) * h / 2 (h = grid spacing), which makes
the envelope sound for the exact function, not just for the grid. Together with the interval
[min f, max f] (added by the encoder) this is a sound polyhedral relaxation; it is exact at the
endpoints' chord and tightens as [L, U] shrinks.
"""

from __future__ import annotations

import numpy as np
from scipy.special import erf

from ..errors import UnsupportedError

#: global Lipschitz constants of the activations
LIPSCHITZ = {"Sigmoid": 0.25, "Tanh": 1.0, "GELU": 1.1289}
GRID = 65


def _f(kind: str, z: np.ndarray) -> np.ndarray:
    if kind == "Sigmoid":
        return 0.5 * (1.0 + np.tanh(0.5 * z))
    if kind == "Tanh":
        return np.tanh(z)
    if kind == "GELU":
        return 0.5 * z * (1.0 + erf(z / np.sqrt(2.0)))
    raise UnsupportedError(f"no linear envelope for activation {kind}")


def envelope(kind: str, L: np.ndarray, U: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(a_lo, b_lo, a_hi, b_hi) with a_lo z + b_lo <= f(z) <= a_hi z + b_hi on [L, U], elementwise."""
    L = np.asarray(L, dtype=np.float64)
    U = np.asarray(U, dtype=np.float64)
    if not (np.all(np.isfinite(L)) and np.all(np.isfinite(U))):
        raise UnsupportedError("linear envelopes need finite pre-activation bounds")
    width = U - L
    fL, fU = _f(kind, L), _f(kind, U)
    a = np.where(width > 0, (fU - fL) / np.where(width > 0, width, 1.0), 0.0)
    t = np.linspace(0.0, 1.0, GRID)
    Z = L[:, None] + width[:, None] * t[None, :]
    G = _f(kind, Z) - a[:, None] * Z
    margin = (LIPSCHITZ[kind] + np.abs(a)) * width / (GRID - 1) / 2.0 + 1e-12
    b_hi = G.max(axis=1) + margin
    b_lo = G.min(axis=1) - margin
    return a, b_lo, a.copy(), b_hi
