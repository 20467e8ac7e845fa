"""Pieces of the matrix training model (:mod:`mipnet.train.matrix.model`): which configurations it covers
(:func:`check_supported`), the partners of the Lipschitz pair cuts (:func:`lipschitz_pairs`, vectorised over
blocks of rows) and the row collector (:class:`Rows`: COO triplets per block of rows, one CSR matrix at the end).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.spatial.distance import cdist

from ...errors import UnsupportedError
from ..config import TrainConfig, resolve_config

Weights = list[tuple[np.ndarray, np.ndarray]]

#: pairs of the Lipschitz cuts are searched in blocks of at most this many (row, partner) distances
PAIR_BLOCK = 1 << 22


def check_supported(cfg: TrainConfig) -> TrainConfig:
    """The resolved config if the matrix model covers it (module docstring), else UnsupportedError (one line)."""
    r = resolve_config(cfg, "classify", 2)
    bad = []
    if r.hypothesis != "sign":
        bad.append(f"hypothesis {r.hypothesis!r}")
    if r.loss != "hinge":
        bad.append(f"loss {r.loss!r}")
    for name in ("l2", "l0", "neuron_penalty", "layer_penalty", "channel_penalty"):
        if float(getattr(r, name)) != 0.0:
            bad.append(name)
    for name in ("max_nonzeros", "max_neurons", "max_channels"):
        if getattr(r, name) is not None:
            bad.append(name)
    if not r.tight_bounds:
        bad.append("tight_bounds=False")
    if r.linear:
        bad.append("the linear term")
    if r.constraints:
        bad.append("domain constraints")
    if r.architecture is not None:
        bad.append("conv architectures")
    if bad:
        raise UnsupportedError(
            "the matrix training model covers the sign class with hinge + l1 only; not: " + ", ".join(bad)
        )
    return r


def lipschitz_pairs(X: np.ndarray, y: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(n, m) index arrays, sorted, of the Lipschitz pair cuts: for each n with y_n = +1 the k rows m with
    y_m = -1 and 0 < ||x_n - x_m||_1 smallest. Vectorised over blocks of rows n."""
    pos, neg = np.flatnonzero(y > 0), np.flatnonzero(y < 0)
    if k <= 0 or pos.size == 0 or neg.size == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    kk = min(int(k), neg.size)
    Xn = X[neg]
    step = max(1, PAIR_BLOCK // neg.size)
    ns, ms = [], []
    for s in range(0, pos.size, step):
        rows = pos[s : s + step]
        dist = cdist(X[rows], Xn, "cityblock")
        dist[dist == 0.0] = np.inf  # identical x: no cut
        sel = (
            np.argpartition(dist, kk - 1, axis=1)[:, :kk]
            if kk < neg.size
            else np.tile(np.arange(neg.size), (rows.size, 1))
        )
        ok = np.isfinite(np.take_along_axis(dist, sel, axis=1))
        ns.append(np.broadcast_to(rows[:, None], sel.shape)[ok])
        ms.append(neg[sel[ok]])
    n_all, m_all = np.concatenate(ns), np.concatenate(ms)
    order = np.lexsort((m_all, n_all))
    return n_all[order].astype(np.int64), m_all[order].astype(np.int64)


class Rows:
    """Constraint rows collected as COO triplets, one block at a time: lo <= A x <= hi."""

    def __init__(self) -> None:
        self.r: list[np.ndarray] = []
        self.c: list[np.ndarray] = []
        self.v: list[np.ndarray] = []
        self.lo: list[np.ndarray] = []
        self.hi: list[np.ndarray] = []
        self.count = 0
        self.blocks: dict[str, tuple[int, int]] = {}

    def add(self, name: str, terms: list[tuple[np.ndarray, Any]], lo: Any, hi: Any, R: int | None = None) -> None:
        """R rows; term (cols, coef): row k gets coef[k] on column cols[k] (cols (R,), coef scalar or (R,))."""
        R = int(terms[0][0].size) if R is None else R
        rows = self.count + np.arange(R)
        for cols, coef in terms:
            self.r.append(rows)
            self.c.append(np.asarray(cols, dtype=np.int64).ravel())
            self.v.append(np.broadcast_to(np.asarray(coef, dtype=np.float64), (R,)).ravel())
        self._finish(name, R, lo, hi)

    def add_coo(self, name: str, R: int, r: np.ndarray, c: np.ndarray, v: np.ndarray, lo: Any, hi: Any) -> None:
        """R rows given as local COO triplets (r in 0..R-1)."""
        self.r.append(self.count + np.asarray(r, dtype=np.int64))
        self.c.append(np.asarray(c, dtype=np.int64))
        self.v.append(np.asarray(v, dtype=np.float64))
        self._finish(name, R, lo, hi)

    def _finish(self, name: str, R: int, lo: Any, hi: Any) -> None:
        self.lo.append(np.broadcast_to(np.asarray(lo, dtype=np.float64), (R,)).copy())
        self.hi.append(np.broadcast_to(np.asarray(hi, dtype=np.float64), (R,)).copy())
        self.blocks[name] = (self.count, self.count + R)
        self.count += R

    def csr(self, n_col: int) -> tuple[sp.csr_array, np.ndarray, np.ndarray]:
        A = sp.csr_array(
            (np.concatenate(self.v), (np.concatenate(self.r), np.concatenate(self.c))), shape=(self.count, n_col)
        )
        A.sum_duplicates()
        A.eliminate_zeros()
        return A, np.concatenate(self.lo), np.concatenate(self.hi)


__all__ = ["PAIR_BLOCK", "Rows", "Weights", "check_supported", "lipschitz_pairs"]
