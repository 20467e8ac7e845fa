"""The set a robustness verdict speaks of: the ball around a sample intersected with the model's domain.

Class labels to indices, the domain check of a sample, the ball's box, forward-pass margins and the projection
of a solver's point back into the ball and the domain (solver tolerances, integers, one-hot groups).
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ...domain import Domain
from ...encode.properties import class_margins
from ...errors import DataError, UnsupportedError
from ...network import Network
from .results import _jsonable, normalise_norm


def class_indices(net: Network, labels: Sequence[Any]) -> np.ndarray:
    """Class indices of ``labels`` given as class names (compared also as strings) or integer indices."""
    names = list(net.class_names or [])
    lookup: dict[Any, int] = {}
    for i, n in enumerate(names):
        lookup.setdefault(n, i)
        lookup.setdefault(str(n), i)
    out = np.empty(len(labels), dtype=int)
    for j, lab in enumerate(labels):
        lab = _jsonable(lab)
        if lab in lookup:
            out[j] = lookup[lab]
            continue
        if isinstance(lab, float) and lab.is_integer() and int(lab) in lookup:
            out[j] = lookup[int(lab)]
            continue
        if str(lab) in lookup:
            out[j] = lookup[str(lab)]
            continue
        raise DataError(f"label {lab!r} of row {j} is not one of the model's classes {names}")
    return out


def region_text(net: Network, eps: float, norm: str) -> str:
    """The set a robustness verdict speaks of, in words (stored in every result, printed by the CLI)."""
    d = net.domain
    extra = (", integer features" if d.integer.any() else "") + (", one-hot groups" if d.onehot_groups else "")
    return (
        f"{'L-inf' if normalise_norm(norm) == 'inf' else 'L1'} ball of radius {eps:g} around the sample, "
        f"intersected with the model's input domain (its box{extra})"
    )


def check_in_domain(net: Network, x: np.ndarray, index: int = 0) -> None:
    """A sample outside the model's input domain is an input error: the ball cut to the domain would not
    contain it (or be empty), and the verdict would silently speak of another set."""
    d = net.domain
    x = np.asarray(x, dtype=np.float64).ravel()
    if d.contains(x[None], tol=1e-7)[0]:
        return
    out = np.flatnonzero((x < d.lower - 1e-7) | (x > d.upper + 1e-7))
    if not np.all(np.isfinite(x)):
        raise DataError(f"row {index} has NaN or inf values")
    if out.size:
        i = int(out[0])
        why = f"feature {d.names[i]!r} = {x[i]:g} is outside [{d.lower[i]:g}, {d.upper[i]:g}]"
    elif d.integer.any() and np.any(np.abs(x[d.integer] - np.round(x[d.integer])) > 1e-7):
        i = int(np.flatnonzero(d.integer & (np.abs(x - np.round(x)) > 1e-7))[0])
        why = f"integer feature {d.names[i]!r} = {x[i]:g} is not an integer"
    else:
        why = "a one-hot group is not one-hot"
    raise DataError(
        f"row {index} lies outside the model's input domain ({why}); robustness is verified on the "
        "ball intersected with the domain, so the sample must lie in it"
    )


def ball_box(net: Network, x: np.ndarray, eps: float, norm: str) -> tuple[np.ndarray, np.ndarray]:
    """The box [x - eps, x + eps] intersected with the domain's box (it contains the L1 ball too)."""
    lo = np.maximum(x - eps, net.domain.lower)
    hi = np.minimum(x + eps, net.domain.upper)
    return lo, hi


def _sub_domain(net: Network, lo: np.ndarray, hi: np.ndarray) -> Domain:
    d = net.domain
    if np.any(lo > hi + 1e-12):
        raise DataError("the ball around the sample does not meet the model's input domain")
    return Domain(d.names, lo, np.maximum(hi, lo), d.integer, d.onehot_groups)


def margins(net: Network, logits: np.ndarray, cls: np.ndarray) -> np.ndarray:
    """Forward-pass margins z_c - max_{k != c} z_k (one logit: z for class 1, -z for class 0)."""
    logits = np.atleast_2d(logits)
    cls = np.broadcast_to(np.asarray(cls), (logits.shape[0],))
    if logits.shape[1] == 1:
        return np.where(cls == 1, logits[:, 0], -logits[:, 0])
    return class_margins(logits, cls)


def project_to_ball(net: Network, x: np.ndarray, xp: np.ndarray, eps: float, norm: str) -> np.ndarray:
    """The solver's point moved into the ball and the domain (solver tolerances, integers)."""
    lo, hi = ball_box(net, x, eps, norm)
    xp = np.clip(xp, lo, hi)
    if norm == "1":
        d = xp - x
        n1 = np.abs(d).sum()
        if n1 > eps > 0:
            xp = x + d * (eps / n1)
    dom = net.domain
    if dom.integer.any():
        xp[dom.integer] = np.clip(np.round(xp[dom.integer]), np.ceil(lo[dom.integer]), np.floor(hi[dom.integer]))
    for g in dom.onehot_groups:
        k = int(np.argmax(xp[g]))
        xp[g] = 0.0
        xp[g[k]] = 1.0
    return xp


def _prepare(net: Network) -> None:
    if net.task != "classify":
        raise UnsupportedError("robustness is defined for classifiers (task 'classify'), this model is a regressor")
