r"""Strong ReLU cuts for the pricing MILP: the ideal single-row formulation, separated in linear time per row.

In the pricing MILP (:mod:`.pricing`) a binary row n has h_n = (z_n)_+ from above, with z_n = c_n . v, over the
variables v = (w+, w-, b) in the box lo <= v <= hi (w+-_i in [0, B_w], b in [-B_b, B_b]; the l1 ball of the
any-width mode lies in the box w+-_i in [0, 1]), c_n = (x_n, -x_n, 1). Following "Strong mixed-integer
programming formulations for trained neural networks" (the ideal formulation of one ReLU over a box), write per
variable j

    m_nj = min(c_nj lo_j, c_nj hi_j),   M_nj = max(c_nj lo_j, c_nj hi_j)

(so L_n = sum_j m_nj, U_n = sum_j M_nj are the interval bounds of z_n). For every subset I of the variables

    h_n <= sum_{j in I} (c_nj v_j - m_nj (1 - d_n)) + d_n sum_{j not in I} M_nj.                         (R_I)

*Validity* for every point of the MILP: d_n = 0 forces h_n = 0 (h_n <= U_n d_n, h_n >= 0), and the right side is
sum_{j in I} (c_nj v_j - m_nj) >= 0 term by term; d_n = 1 forces 0 <= h_n <= z_n, and the right side is
sum_{j in I} c_nj v_j + sum_{j not in I} M_nj >= sum_j c_nj v_j = z_n. I = all variables is the big-M row
h_n <= z_n - L_n (1 - d_n), I = {} is h_n <= U_n d_n; together the R_I describe the convex hull of
{(v, h, d): v in the box, d in {0, 1}, h = (c . v)_+ with d = 1 when c . v > 0} (the paper's theorem), so they
are the strongest rows a single binary row can get. The split v = (w+, w-) makes the family larger than the
one over w in [-B_w, B_w]: "w_i in I" is "w+_i and w-_i in I", "w_i not in I" is "neither"; the lifted family
also offers one of them alone.

*Separation* (exact, linear per row): at an LP point (v*, d*, h*) the smallest right side takes j into I iff
c_nj v*_j - m_nj (1 - d*_n) < M_nj d*_n; the row is added when h*_n exceeds that minimum.

*Root loop* (:func:`cut_loop`): solve the LP relaxation (HiGHS, warm started after each round), add the most
violated R_I of every binary row, repeat until the LP bound improves by less than a relative ``stall`` or the
round / time budget ends; the cuts then stay in the MILP. Valid inequalities only: the MILP optimum is unchanged,
its LP relaxation and dual bound can only tighten.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from ...highs import set_time_limit


@dataclass
class CutRows:
    """Rows to add to the pricing LP: CSR pieces over the model's columns, upper sides (lower sides -inf)."""

    starts: np.ndarray
    index: np.ndarray
    value: np.ndarray
    upper: np.ndarray

    @property
    def count(self) -> int:
        return int(self.upper.size)

    def add_to(self, h: Any) -> None:
        """Add these rows (-inf <= a . x <= upper) to the HiGHS instance ``h``."""
        h.addRows(
            self.count,
            np.full(self.count, -np.inf),
            self.upper,
            self.index.size,
            self.starts[:-1],
            self.index,
            self.value,
        )


def row_coefficients(Xb: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(C, m, M) of the module docstring for the binary rows' inputs ``Xb`` (P, d): C = (x, -x, 1) (P, 2d + 1)
    over v = (w+, w-, b) with the box ``lo`` <= v <= ``hi``; m, M the per-variable minima and maxima of c_nj v_j."""
    P = Xb.shape[0]
    C = np.hstack([Xb, -Xb, np.ones((P, 1))])
    a, b = C * lo, C * hi
    return C, np.minimum(a, b), np.maximum(a, b)


def separate(
    C: np.ndarray,
    m: np.ndarray,
    M: np.ndarray,
    v: np.ndarray,
    dv: np.ndarray,
    hv: np.ndarray,
    *,
    col_v: np.ndarray,
    col_h: np.ndarray,
    col_d: np.ndarray,
    tol: float = 1e-7,
) -> CutRows:
    """The most violated R_I of every binary row at the LP point (v, d = ``dv``, h = ``hv``), as rows
    h_n - sum_{I} c_nj v_j - (sum_{I} m_nj + sum_{not I} M_nj) d_n <= -sum_{I} m_nj; rows violated by more
    than ``tol`` (times 1 + |h_n|) only. ``col_v``: the model columns of v; ``col_h``, ``col_d``: of h_n, d_n."""
    dv = np.clip(dv, 0.0, 1.0)
    t_in = C * v[None, :] - m * (1.0 - dv)[:, None]
    t_out = M * dv[:, None]
    inside = (t_in < t_out) & (C != 0)
    rhs = np.where(inside, t_in, t_out).sum(axis=1)
    viol = np.flatnonzero(hv - rhs > tol * (1.0 + np.abs(hv)))
    if viol.size == 0:
        return CutRows(np.zeros(1, dtype=np.int32), np.zeros(0, dtype=np.int32), np.zeros(0), np.zeros(0))
    ins = inside[viol]
    d_coef = -(np.where(ins, m[viol], 0.0).sum(axis=1) + np.where(ins, 0.0, M[viol]).sum(axis=1))
    upper = -np.where(ins, m[viol], 0.0).sum(axis=1)
    rr, jj = np.nonzero(ins)
    counts = ins.sum(axis=1) + 2
    starts = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
    index = np.empty(int(starts[-1]), dtype=np.int32)
    value = np.empty(int(starts[-1]))
    first = starts[:-1]
    index[first], value[first] = col_h[viol], 1.0
    index[first + 1], value[first + 1] = col_d[viol], d_coef
    # the I entries of row r go after its two leading entries, in the order np.nonzero returns them
    offs = np.arange(rr.size) - np.repeat(np.concatenate([[0], np.cumsum(ins.sum(axis=1))[:-1]]), ins.sum(axis=1))
    pos = first[rr] + 2 + offs
    index[pos], value[pos] = col_v[jj], -C[viol][rr, jj]
    return CutRows(starts, index, value, upper)


def cut_loop(
    h: Any,
    C: np.ndarray,
    m: np.ndarray,
    M: np.ndarray,
    *,
    col_v: np.ndarray,
    col_h: np.ndarray,
    col_d: np.ndarray,
    time_limit: float,
    rounds: int = 30,
    stall: float = 1e-3,
    active_only: bool = True,
) -> tuple[CutRows, dict[str, Any]]:
    """The root loop of the module docstring on a HiGHS instance ``h`` holding the pricing model with every column
    continuous (a maximisation): returns (every cut added, {"rounds", "cuts", "lp_first", "lp_last", "seconds"}).
    Stops at an LP that is not optimal (the rows added so far are valid all the same). ``active_only``: return only
    the cuts tight at the last optimal LP (a smaller MILP with the same root LP bound)."""
    import highspy

    t0 = time.perf_counter()
    info: dict[str, Any] = {"rounds": 0, "cuts": 0, "lp_first": None, "lp_last": None, "seconds": 0.0}
    prev = None
    found: list[CutRows] = []
    n0 = int(h.getNumRow())
    tight: np.ndarray | None = None
    for r in range(rounds + 1):
        left = time_limit - (time.perf_counter() - t0)
        if left <= 0.05:
            break
        set_time_limit(h, float(left))
        h.run()  # HiGHS' run clock accumulates over runs: the loop's own clock decides
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            break
        obj = float(h.getInfo().objective_function_value)
        rv = np.asarray(h.getSolution().row_value)[n0:]
        if rv.size:
            ups = np.concatenate([c.upper for c in found])
            tight = rv >= ups - 1e-7 * (1.0 + np.abs(ups))
        if info["lp_first"] is None:
            info["lp_first"] = obj
        info["lp_last"] = obj
        if prev is not None and prev - obj <= stall * max(abs(prev), 1e-9):
            break
        prev = obj
        if r == rounds:
            break
        x = np.asarray(h.getSolution().col_value)
        cuts = separate(C, m, M, x[col_v], x[col_d], x[col_h], col_v=col_v, col_h=col_h, col_d=col_d)
        if cuts.count == 0:
            break
        cuts.add_to(h)
        found.append(cuts)
        info["rounds"] = r + 1
        info["cuts"] += cuts.count
    info["seconds"] = time.perf_counter() - t0
    every = concatenate(found)
    if active_only and tight is not None and tight.size <= every.count:
        every = select(every, np.flatnonzero(tight[: every.count]))
    info["kept"] = every.count
    return every, info


def select(cuts: CutRows, keep: np.ndarray) -> CutRows:
    """The rows ``keep`` of ``cuts``."""
    lens = np.diff(cuts.starts)[keep]
    starts = np.concatenate([[0], np.cumsum(lens)]).astype(np.int32)
    take = (
        np.concatenate([np.arange(cuts.starts[k], cuts.starts[k + 1]) for k in keep])
        if keep.size
        else np.zeros(0, dtype=np.int64)
    )
    return CutRows(starts, cuts.index[take], cuts.value[take], cuts.upper[keep])


def concatenate(parts: list[CutRows]) -> CutRows:
    """One :class:`CutRows` of several."""
    if not parts:
        return CutRows(np.zeros(1, dtype=np.int32), np.zeros(0, dtype=np.int32), np.zeros(0), np.zeros(0))
    starts, off = [np.zeros(1, dtype=np.int64)], 0
    for p in parts:
        starts.append(p.starts[1:].astype(np.int64) + off)
        off += int(p.starts[-1])
    return CutRows(
        np.concatenate(starts).astype(np.int32),
        np.concatenate([p.index for p in parts]).astype(np.int32),
        np.concatenate([p.value for p in parts]),
        np.concatenate([p.upper for p in parts]),
    )
