r"""The spatial branch and bound's node bound with the pricing's pair cuts (:mod:`.spatial`, :mod:`.pricing`).

For a row p with c_p > 0 and rows q with c_q < 0 (its nearest, as the pricing MILP's pair cuts), ReLU is monotone
and 1-Lipschitz: (z_p)_+ <= (z_q)_+ + D_pq(w), D_pq(w) = sum_i (dx_i)_+ (w_i)_+ + (-dx_i)_+ (-w_i)_+, dx = x_p - x_q.
On a sub-box [lo, hi] with ranges [l_n, u_n] (:func:`.spatial.ranges`), for every mu_pq >= 0 with sum_q mu_pq <= 1
(a convex combination of upper bounds of (z_p)_+, only for p unstable: l_p < 0 < u_p)

    c_p (z_p)_+ <= c_p (1 - sum_q mu_pq) chord_p(z_p) + sum_q c_p mu_pq ((z_q)_+ + D_pq(w)).

Each row n then carries the coefficient e_n on (z_n)_+: e_p = c_p (1 - sum_q mu_pq) for unstable p,
e_q = c_q + sum_p c_p mu_pq for q, c_n otherwise; every e_n (z_n)_+ is bounded by a linear function of z_n: exactly
on stable rows (z_n or 0), by the chord when e_n > 0, by t_n z_n (t_n in [0, 1]) when e_n < 0. What is left,

    beta_0 + gamma . v + sum_i rho+_i (w_i)_+ + rho-_i (-w_i)_+ - lam_i |w_i| - kappa,   rho+- = sum c_p mu_pq (+-dx)_+,

is separable, piecewise linear in each w_i with its kink at 0: its maximum over the box is taken at lo_i, hi_i or 0
(b at lo_b or hi_b), vectorised over many boxes. With mu = 0 it is :func:`.spatial.box_bound`. The node's LP
relaxation (chords, h_q >= z_q, h_q >= 0, the pair rows h_p - h_q - D_pq <= 0) is solved by HiGHS only to choose
mu (its pair rows' duals over c_p) and t (its rows h_q >= z_q' duals over -e_q): the bound is recomputed here in
numpy from the clipped, renormalised values, so the LP's tolerances never enter it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ...highs import new_highs, set_time_limit

if TYPE_CHECKING:
    from .spatial import Rows


@dataclass
class Pairs:
    """Pairs (p, q) of rows, c_p > 0 > c_q, with the one-sided differences (dx)_+ and (-dx)_+ (npairs, d)."""

    p: np.ndarray
    q: np.ndarray
    dxp: np.ndarray
    dxn: np.ndarray
    Ip: Any  # (npairs, N) incidence of p (scipy sparse)
    Iq: Any

    @classmethod
    def of(cls, rows: "Rows", k: int) -> "Pairs":
        """The ``k`` nearest (l1) rows with c_q < 0 of every row with c_p > 0."""
        from scipy import sparse

        from .pricing import _near_pairs

        pos, neg = np.flatnonzero(rows.c > 0), np.flatnonzero(rows.c < 0)
        N = rows.c.size
        if k <= 0 or pos.size == 0 or neg.size == 0:
            p = q = np.zeros(0, dtype=np.int64)
            dx = np.zeros((0, rows.X.shape[1]))
        else:
            pi, qi, dx = _near_pairs(rows.X[pos], rows.X[neg], k)
            p, q = pos[pi], neg[qi]
        M = p.size
        Ip = sparse.csr_matrix((np.ones(M), (np.arange(M), p)), shape=(M, N))
        Iq = sparse.csr_matrix((np.ones(M), (np.arange(M), q)), shape=(M, N))
        return cls(p, q, np.maximum(dx, 0.0), np.maximum(-dx, 0.0), Ip, Iq)


def pair_bound(
    rows: "Rows",
    pairs: Pairs,
    lam: np.ndarray,
    kappa: float,
    lo: np.ndarray,
    hi: np.ndarray,
    t: np.ndarray,
    mu: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """The bound of the module docstring on each box [lo_k, hi_k] with slopes ``t`` (K, N) and pair weights ``mu``
    (K, npairs; clipped at 0, renormalised so that sum_q mu_pq <= 1, zero where p is stable): (upper (K,),
    maximiser v (K, d + 1))."""
    from .spatial import ranges

    L, U = ranges(rows, lo, hi)
    on, off = L >= 0, U <= 0
    unstable = ~(on | off)
    c = rows.c
    m = np.clip(mu, 0.0, None) * unstable[:, pairs.p]
    msum = np.asarray(pairs.Ip.T @ m.T).T  # (K, N): sum_q mu_pq per p
    m = m / np.maximum(1.0, msum[:, pairs.p])
    msum = np.asarray(pairs.Ip.T @ m.T).T
    cm = m * c[pairs.p]  # c_p mu_pq
    e = c[None, :] * (1.0 - msum) + np.asarray(pairs.Iq.T @ cm.T).T
    width = np.where(unstable, U - L, 1.0)
    chord = np.where(unstable, U / width, 0.0)
    slope = np.where(on, 1.0, np.where(off, 0.0, np.where(e > 0, chord, np.clip(t, 0.0, 1.0))))
    offset = np.where(unstable & (e > 0), -chord * L, 0.0)
    gam = (e * slope) @ rows.Xa
    const = (e * offset).sum(axis=1) - kappa
    rho_p, rho_n = cm @ pairs.dxp, cm @ pairs.dxn  # (K, d), >= 0
    d = lam.size

    def f(x: np.ndarray, j: slice) -> np.ndarray:
        out = gam[:, j] * x
        if j == slice(0, d):
            out = out + (rho_p - lam) * np.maximum(x, 0.0) + (rho_n - lam) * np.maximum(-x, 0.0)
        return out

    ws, bs = slice(0, d), slice(d, d + 1)
    f_lo = np.hstack([f(lo[:, ws], ws), f(lo[:, bs], bs)])
    f_hi = np.hstack([f(hi[:, ws], ws), f(hi[:, bs], bs)])
    best = np.maximum(f_lo, f_hi)
    v = np.where(f_hi >= f_lo, hi, lo)
    zero_in = (lo < 0) & (hi > 0)
    zero_in[:, d] = False
    at_zero = zero_in & (best < 0)
    return const + np.where(at_zero, 0.0, best).sum(axis=1), np.where(at_zero, 0.0, v)


def pair_lp(
    rows: "Rows", pairs: Pairs, lam: np.ndarray, lo: np.ndarray, hi: np.ndarray, time_limit: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """The node LP of the module docstring on one box: (t (N,), mu (npairs,), its point v), or None when it did not
    solve to optimality."""
    import highspy
    from scipy import sparse

    from .spatial import ranges

    L, U = (x[0] for x in ranges(rows, lo[None, :], hi[None, :]))
    on, off = L >= 0, U <= 0
    un = ~(on | off)
    c, Xa = rows.c, rows.Xa
    d = lam.size
    Pu = np.flatnonzero(un & (c > 0))
    Qu = np.flatnonzero(un & (c < 0))
    live = un[pairs.p]
    kp = np.flatnonzero(live)
    col_of = np.full(c.size, -1)
    nv = 2 * d + 1
    col_of[Pu] = nv + np.arange(Pu.size)
    col_of[Qu] = nv + Pu.size + np.arange(Qu.size)
    ncol = nv + Pu.size + Qu.size
    g_on = (c * on) @ Xa  # stable-on rows: c_n z_n
    cost = np.concatenate([g_on[:d] - lam, -g_on[:d] - lam, [g_on[d]], c[Pu], c[Qu]])
    lower = np.concatenate([np.maximum(lo[:d], 0), np.maximum(-hi[:d], 0), [lo[d]], np.zeros(Pu.size + Qu.size)])
    upper = np.concatenate([np.maximum(hi[:d], 0), np.maximum(-lo[:d], 0), [hi[d]], np.full(Pu.size + Qu.size, np.inf)])

    def zcols(Xr: np.ndarray) -> Any:  # z = x . (w+ - w-) + b as rows over (w+, w-, b)
        return sparse.hstack([sparse.csr_matrix(Xr[:, :d]), sparse.csr_matrix(-Xr[:, :d]), Xr[:, d:]])

    beta = U[Pu] / (U[Pu] - L[Pu])
    blocks, lo_r, hi_r = [], [], []
    R1 = sparse.hstack(
        [-sparse.diags(beta) @ zcols(Xa[Pu]), sparse.identity(Pu.size), sparse.csr_matrix((Pu.size, Qu.size))]
    )
    blocks.append(R1)
    lo_r.append(np.full(Pu.size, -np.inf))
    hi_r.append(-beta * L[Pu])
    R2 = sparse.hstack([-zcols(Xa[Qu]), sparse.csr_matrix((Qu.size, Pu.size)), sparse.identity(Qu.size)])
    blocks.append(R2)
    lo_r.append(np.zeros(Qu.size))
    hi_r.append(np.full(Qu.size, np.inf))
    K = kp.size
    if K:
        pp, qq = pairs.p[kp], pairs.q[kp]
        D = sparse.hstack(
            [sparse.csr_matrix(-pairs.dxp[kp]), sparse.csr_matrix(-pairs.dxn[kp]), sparse.csr_matrix((K, 1))]
        )
        H = sparse.csr_matrix((np.ones(K), (np.arange(K), col_of[pp] - nv)), shape=(K, Pu.size + Qu.size))
        q_un = un[qq]
        Hq = sparse.csr_matrix(
            (-np.ones(int(q_un.sum())), (np.flatnonzero(q_un), col_of[qq[q_un]] - nv)), shape=(K, Pu.size + Qu.size)
        )
        Zq = sparse.diags(-on[qq].astype(float)) @ zcols(Xa[qq])  # q on: h_q = z_q
        blocks.append(sparse.hstack([D + Zq, H + Hq]))
        lo_r.append(np.full(K, -np.inf))
        hi_r.append(np.zeros(K))
    A = sparse.vstack(blocks).tocsc()
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = ncol, A.shape[0]
    lp.col_cost_, lp.col_lower_, lp.col_upper_ = cost, lower, upper
    lp.row_lower_, lp.row_upper_ = np.concatenate(lo_r), np.concatenate(hi_r)
    lp.sense_ = highspy.ObjSense.kMaximize
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = A.indptr.astype(np.int32)
    lp.a_matrix_.index_ = A.indices.astype(np.int32)
    lp.a_matrix_.value_ = A.data
    h = new_highs()
    set_time_limit(h, max(float(time_limit), 0.05))
    from ...solve import highs_threads

    h.setOptionValue("threads", highs_threads(1))
    h.passModel(lp)
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None
    sol = h.getSolution()
    col, dual = np.asarray(sol.col_value), np.abs(np.asarray(sol.row_dual))
    mu = np.zeros(pairs.p.size)
    if K:
        mu[kp] = dual[Pu.size + Qu.size :] / c[pairs.p[kp]]
    cm = np.zeros(c.size)
    np.add.at(cm, pairs.q, mu * c[pairs.p])
    e = c + cm
    t = np.zeros(c.size)
    t[Qu] = dual[Pu.size : Pu.size + Qu.size] / np.maximum(-e[Qu], 1e-300)
    v = np.append(col[:d] - col[d : 2 * d], col[2 * d])
    return np.clip(t, 0.0, 1.0), mu, np.clip(v, lo, hi)
