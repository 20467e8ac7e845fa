r"""A certified upper bound of the single-neuron pricing by spatial branch and bound over the (w, b) box.

The width-J pricing (:mod:`.pricing`) maximises, over the box |w_i| <= B_w, |b| <= B_b, with c_n = s a_n,

    g(v) = sum_n c_n (x~_n . v)_+ - sum_i lam_i |w_i| - kappa,      v = (w, b),  x~_n = (x_n, 1),  lam >= 0.

**Facets.** phi(v) = g(v) + kappa is positively homogeneous of degree 1 and phi(0) = 0, so every v = t q (q on the
surface of the box, t in [0, 1]) has phi(v) = t phi(q) <= max(0, phi(q)): max_box g = max(-kappa, max_F g) over the
2 (d + 1) facets F (one coordinate at +-its bound). The facets, and the sub-boxes they are split into, cover the
surface: the bound is the max over the cover.

**Node bound.** On a sub-box [lo, hi] interval arithmetic gives each row's exact pre-activation range
l_n = x~+_n . lo - x~-_n . hi, u_n = x~+_n . hi - x~-_n . lo (x~+- the positive and negative parts). Rows with
l_n >= 0 are linear, rows with u_n <= 0 vanish, and for the rest

    c_n > 0:  (z)_+ <= u_n (z - l_n) / (u_n - l_n)   (the chord: the concave envelope over [l_n, u_n]),
    c_n < 0:  (z)_+ >= t_n z   for any t_n in [0, 1],

so g(v) <= beta_0 + gamma . v - sum_i lam_i |w_i| - kappa, a separable function maximised coordinate by coordinate
over the box (w_i at lo_i, hi_i or 0; b at lo_b or hi_b), vectorised over many sub-boxes. Every t is valid; the
best t of a box is the dual of its LP relaxation max{linear + sum_{c_n < 0} c_n h_n : h_n >= z_n, h_n >= 0} (by LP
duality its value is min_t of the bound), solved by HiGHS only to *choose* t: the bound itself is always recomputed
in numpy from the clipped t, so the LP's tolerances never enter it. Children inherit their parent's t (valid at
once), then get their own. The pricing MILP's pair cuts enter the same way, with their own multipliers
(:mod:`.spatial_pairs`, ``pair_cuts``): at COMPAS 1000's multipliers they lower the facets' bounds from about 1.07 to
0.17-0.18.

**Search.** Best first (largest bound first) in batches; a box is split on the coordinate that costs the bound most
(each row's relaxation gap at the box's maximiser, shared among the coordinates in proportion to their share of
u_n - l_n; w_i at 0 first when the box straddles it, else at the midpoint). A box leaves the queue when its bound is
<= max(best unit found, ``needed``); its bound still counts. The certified bound is

    max(best numpy value found, max bound of every box taken off the queue, max bound of the open boxes),

plus the package's safety margins (:mod:`.result`); a found unit above it makes it untrusted (``consistent``).
Every unit evaluated (each box's maximiser and LP point) is recomputed in numpy.
"""

from __future__ import annotations

import heapq
import math
import time
from dataclasses import dataclass

import numpy as np

from .pricing import Pricing
from .result import ABS_SAFETY, REL_SAFETY


@dataclass
class Rows:
    """The pricing's rows after merging equal x (net c_n != 0): x~ = (x, 1) and its positive / negative parts."""

    X: np.ndarray  # (N, d)
    c: np.ndarray  # (N,) = s a_n, net over equal rows
    Xa: np.ndarray  # (N, d + 1)
    Xp: np.ndarray
    Xn: np.ndarray

    @classmethod
    def of(cls, X: np.ndarray, a: np.ndarray, sign: int) -> "Rows":
        c = sign * np.asarray(a, dtype=np.float64)
        keep = c != 0
        Xk, ck = np.asarray(X, dtype=np.float64)[keep], c[keep]
        if Xk.shape[0] > 1:
            Xk, inv = np.unique(Xk, axis=0, return_inverse=True)
            ck = np.bincount(np.asarray(inv).ravel(), weights=ck, minlength=Xk.shape[0])
            nz = ck != 0
            Xk, ck = Xk[nz], ck[nz]
        Xa = np.hstack([Xk, np.ones((Xk.shape[0], 1))])
        return cls(Xk, ck, Xa, np.maximum(Xa, 0.0), np.maximum(-Xa, 0.0))


def facets(d: int, w_bound: float, b_bound: float) -> tuple[np.ndarray, np.ndarray]:
    """The 2 (d + 1) facets of the box |w_i| <= w_bound, |b| <= b_bound as (lo, hi) rows (coordinate k fixed)."""
    top = np.append(np.full(d, float(w_bound)), float(b_bound))
    lo = np.tile(-top, (2 * (d + 1), 1))
    hi = np.tile(top, (2 * (d + 1), 1))
    k = np.arange(d + 1)
    lo[2 * k, k] = top  # coordinate k at its upper bound
    hi[2 * k + 1, k] = -top  # ... at its lower bound
    return lo, hi


def ranges(rows: Rows, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Exact ranges [l, u] (K, N) of z_n = x~_n . v over each box [lo_k, hi_k]."""
    return lo @ rows.Xp.T - hi @ rows.Xn.T, hi @ rows.Xp.T - lo @ rows.Xn.T


def slopes(rows: Rows, L: np.ndarray, U: np.ndarray, t: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """(beta, offset) (K, N) of the linear bound c_n (z)_+ <= c_n (beta_n z + offset_n) over [l_n, u_n] (module
    docstring); ``t``: the slopes of the unstable c_n < 0 rows (None: u / (u - l)), clipped to [0, 1]."""
    on, off = L >= 0, U <= 0
    unstable = ~(on | off)
    width = np.where(unstable, U - L, 1.0)
    chord = np.where(unstable, U / width, 0.0)
    pos = rows.c > 0
    tt = chord if t is None else np.clip(t, 0.0, 1.0)
    beta = np.where(on, 1.0, np.where(off, 0.0, np.where(pos[None, :], chord, tt)))
    offset = np.where(unstable & pos[None, :], -chord * L, 0.0)
    return beta, offset


def box_bound(
    rows: Rows, lam: np.ndarray, kappa: float, lo: np.ndarray, hi: np.ndarray, t: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The separable bound of the module docstring on each box: (upper (K,), maximiser v (K, d + 1), L, U)."""
    L, U = ranges(rows, lo, hi)
    beta, offset = slopes(rows, L, U, t)
    gam = (beta * rows.c) @ rows.Xa  # (K, d + 1)
    const = (offset * rows.c).sum(axis=1) - kappa
    d = lam.size
    lam_a = np.append(lam, 0.0)
    v_lo = gam * lo - lam_a * np.abs(lo)
    v_hi = gam * hi - lam_a * np.abs(hi)
    zero_in = (lo < 0) & (hi > 0)
    zero_in[:, d] = False
    best = np.maximum(v_lo, v_hi)
    v = np.where(v_hi >= v_lo, hi, lo)
    at_zero = zero_in & (best < 0)
    v = np.where(at_zero, 0.0, v)
    best = np.where(at_zero, 0.0, best)
    return const + best.sum(axis=1), v, L, U


def values(rows: Rows, lam: np.ndarray, kappa: float, V: np.ndarray) -> np.ndarray:
    """g(v) in numpy for each row of ``V`` (K, d + 1)."""
    Z = V @ rows.Xa.T
    return np.maximum(Z, 0.0) @ rows.c - np.abs(V[:, :-1]) @ lam - kappa


def split(
    rows: Rows, lo: np.ndarray, hi: np.ndarray, v: np.ndarray, t: np.ndarray | None, n_w: int
) -> tuple[np.ndarray, np.ndarray]:
    """Each box (K rows) into two on the coordinate whose width costs its bound most (module docstring), ``v`` the
    boxes' maximisers, ``t`` their slopes, ``n_w`` = d (coordinates below it are weights, split at 0 first): returns
    the children (lo, hi) as (2K, d + 1) arrays, children 2k and 2k + 1 of box k; together they cover box k."""
    K = lo.shape[0]
    L, U = ranges(rows, lo, hi)
    beta, offset = slopes(rows, L, U, t)
    Z = v @ rows.Xa.T
    gap = np.abs(rows.c) * np.abs(beta * Z + offset - np.maximum(Z, 0.0))
    share = gap / np.maximum(U - L, 1e-300)
    score = (share @ np.abs(rows.Xa)) * (hi - lo)
    score[hi - lo <= 0] = -1.0
    j = np.argmax(score, axis=1)
    k = np.arange(K)
    a, b = lo[k, j], hi[k, j]
    cut = np.where((a < 0) & (b > 0) & (j < n_w), 0.0, 0.5 * (a + b))
    lo2, hi2 = np.repeat(lo, 2, axis=0), np.repeat(hi, 2, axis=0)
    hi2[2 * k, j] = cut
    lo2[2 * k + 1, j] = cut
    return lo2, hi2


def spatial_price(
    X: np.ndarray,
    a: np.ndarray,
    sign: int,
    *,
    lam: float | np.ndarray,
    kappa: float,
    w_bound: float,
    b_bound: float,
    time_limit: float,
    needed: float = 0.0,
    start: tuple[np.ndarray, float] | None = None,
    batch: int = 16,
    lp: bool = True,
    max_boxes: int | None = None,
    tol: float = 1e-7,
    pair_cuts: int = 0,
) -> Pricing:
    """max_{|w_i| <= w_bound, |b| <= b_bound} sign sum_n a_n (w . x_n + b)_+ - sum_i lam_i |w_i| - kappa (lam >= 0)
    bounded by the branch and bound of the module docstring within ``time_limit`` seconds (the whole call): the best
    unit found (numpy value) and the certified upper bound. Boxes whose bound is <= max(best found, ``needed``) are
    not split further (``needed``: the value below which a caller gains nothing, e.g. 0 for the width-J bound);
    ``lp``: choose each box's t by its LP (else the chord slopes and the parent's t only); ``max_boxes``: stop after
    splitting that many boxes; ``tol``: a box within ``tol`` of the best unit found is not split (its bound counts);
    ``pair_cuts``: k nearest c_q < 0 rows per c_p > 0 row for the pair terms of the node bound (:mod:`.spatial_pairs`;
    0: none)."""
    from .spatial_pairs import Pairs, pair_bound, pair_lp

    t0 = time.perf_counter()
    d = X.shape[1]
    lam_v = np.broadcast_to(np.asarray(lam, dtype=np.float64), (d,)).copy()
    if np.any(lam_v < 0):
        raise ValueError("the spatial pricing needs non-negative feature prices")
    rows = Rows.of(X, a, sign)
    a_s = sign * np.asarray(a, dtype=np.float64)
    best_w, best_b = np.zeros(d), -float(b_bound)
    best_v = float(a_s @ np.maximum(np.full(X.shape[0], best_b), 0.0)) - kappa
    info: dict[str, float | int | str] = {"method": "spatial", "boxes": 0, "lps": 0}

    def consider(V: np.ndarray) -> None:
        nonlocal best_w, best_b, best_v
        if V.size == 0:
            return
        V = np.clip(V, np.append(np.full(d, -w_bound), -b_bound), np.append(np.full(d, w_bound), b_bound))
        vals = sign * (np.maximum(V[:, :d] @ X.T + V[:, d : d + 1], 0.0) @ a) - np.abs(V[:, :d]) @ lam_v - kappa
        k = int(np.argmax(vals))
        if vals[k] > best_v:
            best_w, best_b, best_v = V[k, :d].copy(), float(V[k, d]), float(vals[k])

    if start is not None:
        consider(np.append(start[0], start[1])[None, :])
    if rows.c.size == 0:  # every unit has value -kappa
        return Pricing(-kappa, -kappa, best_w, best_b, True, time.perf_counter() - t0, [], True, {}, info)
    lo, hi = facets(d, w_bound, b_bound)
    ub, v, L, U = box_bound(rows, lam_v, kappa, lo, hi)
    consider(v)
    t_root = np.clip(U / np.where(U - L > 0, U - L, 1.0), 0.0, 1.0)  # the chord slopes (the bound just computed)
    pairs = Pairs.of(rows, pair_cuts)
    mu0 = np.zeros(pairs.p.size)
    width_root = float(np.abs(rows.c) @ (U - L).max(axis=0))
    closed = -kappa  # the bound of the point v = 0 (module docstring: max over the box = max(-kappa, facets))
    heap: list[tuple[float, int, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
    count = 0
    for k in range(lo.shape[0]):
        heap.append((-float(ub[k]), count, lo[k], hi[k], v[k], t_root[k], mu0))
        count += 1
    heapq.heapify(heap)
    split_boxes = 0

    def left() -> float:
        return float(time_limit) - (time.perf_counter() - t0)

    while heap:
        floor = max(best_v + tol, needed)
        while heap and -heap[0][0] <= floor:
            closed = max(closed, -heapq.heappop(heap)[0])
        if not heap or left() <= 0 or (max_boxes is not None and split_boxes >= max_boxes):
            break
        take = [heapq.heappop(heap) for _ in range(min(batch, len(heap)))]
        split_boxes += len(take)
        P_lo = np.array([e[2] for e in take])
        P_hi = np.array([e[3] for e in take])
        P_v = np.array([e[4] for e in take])
        P_ub = np.array([-e[0] for e in take])
        P_t = np.array([e[5] for e in take])
        P_mu = np.array([e[6] for e in take])
        C_lo, C_hi = split(rows, P_lo, P_hi, P_v, P_t, d)
        par = np.repeat(np.arange(len(take)), 2)
        C_t, C_mu = P_t[par], P_mu[par]
        C_ub, C_v = pair_bound(rows, pairs, lam_v, kappa, C_lo, C_hi, C_t, C_mu)  # the parent's t and mu
        C_ub = np.minimum(C_ub, P_ub[par])  # a child lies in its parent
        consider(C_v)
        ts, mus = list(C_t), list(C_mu)
        for k in range(C_lo.shape[0]):
            if not lp or C_ub[k] <= max(best_v + tol, needed) or left() <= 0:
                continue
            got = pair_lp(rows, pairs, lam_v, C_lo[k], C_hi[k], left())
            info["lps"] = int(info["lps"]) + 1
            if got is None:
                continue
            t_k, mu_k, v_k = got
            consider(v_k[None, :])
            ub_k, vb_k = pair_bound(rows, pairs, lam_v, kappa, C_lo[k : k + 1], C_hi[k : k + 1], t_k[None], mu_k[None])
            if ub_k[0] < C_ub[k]:
                C_ub[k], C_v[k], ts[k], mus[k] = ub_k[0], vb_k[0], t_k, mu_k
        floor = max(best_v + tol, needed)
        for k in range(C_lo.shape[0]):
            if C_ub[k] <= floor:
                closed = max(closed, float(C_ub[k]))
            else:
                heapq.heappush(heap, (-float(C_ub[k]), count, C_lo[k], C_hi[k], C_v[k], ts[k], mus[k]))
                count += 1
    open_ub = -heap[0][0] if heap else -math.inf
    raw = max(best_v, closed, open_ub)
    ub_final = raw + REL_SAFETY * abs(raw) + ABS_SAFETY * (width_root + w_bound * float(lam_v.sum()))
    consistent = best_v <= ub_final + 1e-9 * max(1.0, abs(best_v))
    info.update(boxes=split_boxes, open=len(heap), closed=closed, open_upper=open_ub)
    if not consistent:
        ub_final = max(ub_final, best_v)
    done = not heap and raw <= best_v + tol + 1e-9 * max(1.0, abs(best_v))  # optimal within tol
    return Pricing(
        best_v, ub_final, best_w, best_b, done and consistent, time.perf_counter() - t0, [], consistent, {}, info
    )
