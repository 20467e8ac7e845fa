"""Per-layer CROWN bounds of a batch of boxes in each box's *active* coordinates (the tree's node bounds, faster).

The same bounds as :func:`mipnet.verify.batched_bounds.layer_bounds` with ``rows="unstable"`` (equal up to
round-off), for networks that alternate dense affine layers and ReLU-type layers,

    z_1 = A_1 x + c_1,   h_m = g(z_m),   z_{m+1} = A_{m+1} h_m + c_{m+1},   ...,   y = A_K h_{K-1} + c_K,

computed with less arithmetic. The back-substitution of a row lam over z_l walks

    lam_h = lam_z A_l,   k += lam_z . c_l                               (affine)
    lam_z = lam_h sl + min(lam_h, 0) (su - sl),   k += min(lam_h, 0) . bu   (ReLU-type, lines on [L, U])

and at the input b = k + sum_i min(lam_i lo_i, lam_i hi_i) (lowered by the round-off margin of
:data:`mipnet.bounds.SAFETY`). On box b, the units of layer m split into unstable (L < 0 < U), on (L >= 0:
sl = su = 1, bu = 0, the identity) and off (U <= 0: sl = su = a, bu = 0). For ReLU (a = 0) an off unit passes
nothing on, so its coefficient is 0 and the unit can be dropped: every row of box b lives in the coordinates

    idx_bm = (the unstable units of layer m, then the on units)          (K_m = max_b |idx_bm| columns, padded)

and the affine step is one batched product with the box's sub-matrix A_l[idx_bl, idx_b(l-1)] (B, K_l, K_(l-1))
(the padding columns masked to 0), gathered once per batch and shared by every layer's rows. The ReLU step only
changes the first ku_m = max_b |unstable_bm| columns (on units are the identity; an off unit there has
sl = su = bu = 0). The rows of the units of layer l to refine, +e_j and -e_j for every j that the interval bound
(intersected with the prior) leaves unstable, start directly as +-A_l[j, idx_b(l-1)] with k = +-c_l[j] (no
product with the identity). Leaky units (a > 0) are never dropped: every unit is kept (K_m = n_m) and the ReLU
step covers all columns. Rows padded to the batch's largest count are zero and their results discarded.

Every number is a sound bound on its box by the argument of :mod:`mipnet.verify.spec_bounds`: dropping a unit
whose coefficient is exactly 0 and skipping a multiplication by 1 change nothing but the round-off, which the
margin covers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..bounds import SAFETY
from ..network import Network
from .batched_bounds import BatchOp, BoundsB, _gated_op, interval_step
from .spec_bounds import Maps


@dataclass
class _Active:
    """A ReLU-type layer's active coordinates on every box: ``idx`` (B, K) unit numbers (unstable first, then
    on; padding repeats a unit), ``valid`` (B, K) the real ones, ``ku`` the columns holding every unstable unit,
    and the lines of those columns (B, ku): ``sl``, ``dsu`` = su - sl, ``bu``."""

    idx: np.ndarray
    valid: np.ndarray
    ku: int
    sl: np.ndarray
    dsu: np.ndarray
    bu: np.ndarray


def plan_ok(net: Network) -> bool:
    """True when ``net`` alternates affine (non-passthrough) and ReLU-type layers, starting and ending affine."""
    layers = net.layers
    if not layers or len(layers) % 2 == 0:
        return False
    for i, layer in enumerate(layers):
        if i % 2 == 0 and not (layer.affine and not layer.passthrough):
            return False
        if i % 2 == 1 and not layer.gated:
            return False
    return True


def _active(op: BatchOp, L: np.ndarray, U: np.ndarray) -> _Active:
    """The active coordinates of a ReLU-type layer with input bounds [L, U] (B, n) on every box."""
    assert op.sl is not None and op.su is not None and op.bu is not None
    B, n = L.shape
    unst = (L < 0) & (U > 0)
    if op.amin == 0.0:
        key = np.where(unst, 0, np.where(L >= 0, 1, 2))
        count = np.count_nonzero(key < 2, axis=1)
    else:  # leaky: every unit carries its coefficient
        key = np.where(unst, 0, 1)
        count = np.full(B, n)
    K = max(int(count.max()) if B else 0, 1)
    ku = int(np.count_nonzero(unst, axis=1).max()) if B else 0
    if op.amin != 0.0:
        ku = n
    idx = np.argsort(key, axis=1, kind="stable")[:, :K]
    valid = np.arange(K)[None, :] < count[:, None]
    cols = idx[:, :ku]
    sl = np.take_along_axis(op.sl, cols, axis=1)
    su = np.take_along_axis(op.su, cols, axis=1)
    bu = np.take_along_axis(op.bu, cols, axis=1)
    pad = ~valid[:, :ku]
    sl, su, bu = np.where(pad, 0.0, sl), np.where(pad, 0.0, su), np.where(pad, 0.0, bu)
    return _Active(idx, valid, ku, sl, su - sl, bu)


class ActiveBounds:
    """The per-layer bounds of a batch of boxes, layer by layer, in the active coordinates (module docstring).

    Rows are stored transposed, (B, K, R) (unit, row), so that the first ku units are one contiguous block."""

    def __init__(self, lo: np.ndarray, hi: np.ndarray) -> None:
        self.lo, self.hi = lo, hi
        self.acts: list[_Active] = []  # one per ReLU-type layer so far
        self.mats: list[np.ndarray] = []  # mats[m]: A_(m+1)^T in coordinates (B, K_m or n_in, K_(m+1))
        self.offs: list[np.ndarray] = []  # offs[m]: c_(m+1) in the coordinates of layer m + 1 (B, 1, K_(m+1))

    def add_gated(self, op: BatchOp, L: np.ndarray, U: np.ndarray, A: np.ndarray, c: np.ndarray) -> None:
        """Register the ReLU-type layer with input bounds [L, U], preceded by the affine map (A, c)."""
        act = _active(op, L, U)
        if self.acts:
            prev = self.acts[-1]
            M = _gather(A, prev.idx, act.idx)
            M *= prev.valid[:, :, None]
        else:
            M = np.ascontiguousarray(A.T[:, act.idx].transpose(1, 0, 2))
        self.mats.append(M)
        self.offs.append(c[act.idx][:, None, :])
        self.acts.append(act)

    def rows_bounds(self, A: np.ndarray, c: np.ndarray, units: np.ndarray, valid: np.ndarray) -> np.ndarray:
        """Lower bounds (B, 2r) of +z_j (first r) and -z_j (last r), z = A h + c the affine layer after the last
        registered ReLU-type layer, j = ``units`` (B, r), rows with ``valid`` False give meaningless numbers."""
        prev = self.acts[-1]
        both = np.concatenate([units, units], axis=1)
        sign = np.concatenate([valid, valid], axis=1) * np.repeat([1.0, -1.0], units.shape[1])
        M = _gather(A, prev.idx, both)
        M *= prev.valid[:, :, None] * sign[:, None, :]
        return self._back(M, (c[both] * sign)[:, None, :])

    def _back(self, Lam: np.ndarray, k: np.ndarray) -> np.ndarray:
        """Back-substitute rows Lam (B, K_last, R) over the last ReLU-type layer's output, constant k (B, 1, R)."""
        for m in range(len(self.acts) - 1, -1, -1):
            act = self.acts[m]
            ku = act.ku
            if ku:
                P = Lam[:, :ku]
                N = np.minimum(P, 0.0)
                k = k + np.matmul(act.bu[:, None, :], N)
                N *= act.dsu[:, :, None]
                P *= act.sl[:, :, None]
                P += N
            k = k + np.matmul(self.offs[m], Lam)
            Lam = np.matmul(self.mats[m], Lam)
        xs = np.where(Lam >= 0, self.lo[:, :, None], self.hi[:, :, None])
        terms = Lam * xs
        b = k[:, 0] + terms.sum(axis=1)
        return b - SAFETY * (1.0 + np.abs(b) + np.abs(terms).sum(axis=1))


def _gather(A: np.ndarray, cols: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """(B, len(cols_b), len(rows_b)): A[rows_b][:, cols_b]^T of every box, by one flat take."""
    flat = cols[:, :, None] + A.shape[1] * rows[:, None, :]
    return np.take(A.ravel(), flat)


def active_layer_bounds(
    net: Network,
    lo: np.ndarray,
    hi: np.ndarray,
    maps: Maps,
    prior: BoundsB | None = None,
    output: bool = True,
) -> tuple[BoundsB, list[BatchOp]]:
    """:func:`mipnet.verify.batched_bounds.layer_bounds` with ``rows="unstable"`` in the active coordinates
    (module docstring); the network must pass :func:`plan_ok` and ``maps`` come from
    :func:`mipnet.verify.batched_bounds.batch_plan`. ``output=False``: the network's output keeps its interval
    bound (intersected with the prior; sound, looser), e.g. where only the specification's own back-substitution
    uses it."""
    L, U = lo, hi
    ops: list[BatchOp] = []
    out: BoundsB = []
    state = ActiveBounds(lo, hi)
    last_affine: tuple[np.ndarray, np.ndarray] | None = None
    for i, layer in enumerate(net.layers):
        nlo, nhi = interval_step(layer, net.shapes[i], L, U, None if prior is None else prior[i])
        if layer.affine:
            A, c = maps[i]
            A, c = np.asarray(A), np.asarray(c, float)
            ops.append(BatchOp("affine", A=A, c=c))
            last_affine = (A, c)
            if state.acts:
                last = i + 1 == len(net.layers)
                if output or not last:
                    nlo, nhi = _refine(state, A, c, nlo, nhi, everything=last)
        else:
            op = _gated_op(float(layer.negative_slope), L, U)
            ops.append(op)
            assert last_affine is not None
            state.add_gated(op, L, U, *last_affine)
        nhi = np.maximum(nhi, nlo)
        out.append((nlo, nhi))
        L, U = nlo, nhi
    return out, ops


def _refine(
    state: ActiveBounds, A: np.ndarray, c: np.ndarray, nlo: np.ndarray, nhi: np.ndarray, everything: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Intersect the bounds of the units that the interval bound leaves unstable (all units when ``everything``)
    with their back-substituted bounds."""
    B, n = nlo.shape
    amb = np.ones_like(nlo, dtype=bool) if everything else (nlo < 0) & (nhi > 0)
    count = np.count_nonzero(amb, axis=1)
    r = int(count.max()) if B else 0
    if r == 0:
        return nlo, nhi
    units = np.argsort(~amb, axis=1, kind="stable")[:, :r]
    valid = np.arange(r)[None, :] < count[:, None]
    b = state.rows_bounds(A, c, units, valid)
    bi, ri = np.nonzero(valid)
    cols = units[bi, ri]
    nlo, nhi = nlo.copy(), nhi.copy()
    nlo[bi, cols] = np.maximum(nlo[bi, cols], b[bi, ri])
    nhi[bi, cols] = np.minimum(nhi[bi, cols], -b[bi, r + ri])
    return nlo, nhi


__all__ = ["ActiveBounds", "active_layer_bounds", "plan_ok"]
