r"""The transport bound with its pricing solved exactly: the pair relaxation maximised over the box's vertices.

The transport bound (:func:`.pairwise.transport_lower_bound`) pairs multipliers across the labels, a plan pi_p >= 0
on pairs p = (i, j) with y_i = +1, y_j = -1, so that for every unit

    s S(w, b) = s sum_p pi_p ((w . x_i + b)_+ - (w . x_j + b)_+) <= sum_p pi_p (s w . dx_p)_+,   dx_p = x_i - x_j

(ReLU is monotone and 1-Lipschitz; the bias cancels). It then bounds each (w . dx_p)_+ by the separable
sum_k (dx_pk w_k)_+, which loses whatever the features cancel. Here that last step is not taken: the width-J
pricing value of the pair relaxation,

    V_pair(pi) = max_{|w_k| <= B_w}  sum_p pi_p (w . dx_p)_+ - lam ||w||_1 - kappa,

is computed *exactly* (the sign s is the same problem at -w, and the box is symmetric). On each orthant ||w||_1 is
linear and sum_p pi_p (w . dx_p)_+ convex, so the maximum over the orthant's part of the box is at one of its
vertices: V_pair is the maximum over the 3^d points w in {-B_w, 0, B_w}^d, enumerated in numpy (chunks of vertices
times the pairs with pi_p > 0). For every plan (no condition on how it was found), as in the transport bound,

    P* >= LB(pi) = 2 m sum_p pi_p - J max(0, V_pair(pi)),      alpha_n = sum_{p at n} pi_p <= count_n / D.

**Choosing pi** by an LP with both of its sides generated: max 2 m sum_p pi_p - J tau over pi >= 0, tau >= 0,
subject to the caps and, for each vertex w of a working set W, sum_p pi_p (w . dx_p)_+ - tau <= lam ||w||_1 + kappa
(vertex cuts); the exact enumeration returns the most violated vertices (added as cuts) and LB(pi) at every
round. The pairs start as the k nearest opposite rows (:func:`.pairwise.opposite_pairs`); a pair (i, j) not yet in
the LP enters when its reduced cost 2 m - u_i - u_j - sum_w mu_w (w . dx_ij)_+ > 0 (u, mu the LP's row duals),
priced over *all* opposite pairs of the merged rows in numpy. The LP only chooses pi: a cut or a pair it misses,
an early stop or the LP's tolerances weaken the bound, never its validity.

**Safety.** pi is clipped at 0 and scaled into the caps in numpy; V_pair is raised by a float margin
(``_margin``: 2 (d + S + 2) eps times sum_p pi_p B_w ||dx_p||_1 + lam B_w d, a bound on the rounding of every
vertex's sums over its S pairs); the final figure is lowered as every dual bound's (:func:`.safety._safe`). The
record is a transport record (pairs only): the certificate re-check recomputes V by the same enumeration
(:func:`vertex_pricing_value`).

Measured (results/training/pair_vertices.md, one run): COMPAS 1000 (855 distinct rows, d = 13) the transport LP
0.5825, this bound 0.6366 with the transport's 20 nearest pairs and 0.6485 with all opposite pairs priced (the
relaxation's optimum); full COMPAS (2 891 x 13) 0.6884, 0.7112 and 0.7216. The cost is 3^d: used up to
``VERTEX_MAX_FEATURES`` features.
"""

from __future__ import annotations

import functools
import math
import time
from typing import Any, Callable

import numpy as np

from ...blas import blas_threads
from ...deadline import Deadline
from ...errors import UnsupportedError
from ...highs import new_highs, set_time_limit
from .merge import _prepared, _representatives
from .pairwise import opposite_pairs
from .result import DualBoundResult
from .safety import _record, _safe

#: the vertex enumeration has 3^d points: not started above this many features (3^14 = 4.8 M)
VERTEX_MAX_FEATURES = 14
#: vertices per numpy block of the enumeration
VERTEX_CHUNK = 4096
#: most violated vertices added as cuts per round
CUTS_PER_ROUND = 20
#: pairs added per round of the pair pricing (at most)
PAIRS_PER_ROUND = 2000


@functools.lru_cache(maxsize=4)
def box_vertices(d: int) -> np.ndarray:
    """The 3^d - 1 non-zero points of {-1, 0, 1}^d (rows; w = B_w times a row), w = 0 left out (its value is
    -kappa): first the half H whose first non-zero coordinate is +1, then -H in the same order (read-only)."""
    if d > VERTEX_MAX_FEATURES:
        raise UnsupportedError(
            f"the vertex pricing enumerates 3^d points: {d} features (at most {VERTEX_MAX_FEATURES})"
        )
    # itertools.product's order (the first coordinate the slowest), vectorised and in int8 until the end: the Python
    # tuples took 10-14 s at d = 14, before any deadline was looked at
    V = np.indices((3,) * d, dtype=np.int8).reshape(d, -1).T - np.int8(1)
    V = V[np.any(V != 0, axis=1)]
    first = V[np.arange(V.shape[0]), np.argmax(V != 0, axis=1)]
    H = V[first > 0]
    out = np.vstack([H, -H]).astype(np.float64)
    out.flags.writeable = False
    return out


def _margin(DX: np.ndarray, pi: np.ndarray, B: float, lam: float) -> float:
    """A bound on the float error of any vertex's value: each w . dx_p (d products) and the weighted sum over the S
    pairs (any summation order) err by at most gamma_n sum |terms| with gamma_n <= 1.01 n eps (n = d + S + 2 << 1 /
    eps); sum |terms| <= sum_p pi_p B ||dx_p||_1 + lam B d. Twice that is returned."""
    eps = float(np.finfo(np.float64).eps)
    d = DX.shape[1]
    scale = B * float(np.abs(DX).sum(axis=1) @ pi) + lam * B * d
    return 2.0 * 1.01 * (d + pi.size + 2) * eps * scale + 1e-15


def vertex_pricing_value(
    DX: np.ndarray,
    pi: np.ndarray,
    *,
    lam: float,
    kappa: float,
    weight_bound: float,
    top: int = 0,
    deadline: Deadline | None = None,
) -> tuple[float, np.ndarray]:
    """V_pair(pi) of the module docstring for the pair differences ``DX`` (P, d) and plan ``pi`` (P), exactly up
    to the float margin it adds (an upper bound). Returns (V_pair + margin, indices into :func:`box_vertices` (d) of
    the ``top`` best vertices, best first). ``deadline``: raises TimeoutError when it passes mid-way (no partial
    max is ever returned).

    Half the products suffice: for w and -w, (-w . dx)_+ = (w . dx)_+ - w . dx, so the value at -w is the value at
    w minus w . g with g = sum_p pi_p B_w dx_p (one d-vector); only the half H of :func:`box_vertices` is
    multiplied out."""
    DX = np.asarray(DX, dtype=np.float64)
    pi = np.clip(np.asarray(pi, dtype=np.float64), 0.0, None)
    d = DX.shape[1]
    if deadline is not None and deadline.expired():
        raise TimeoutError("the deadline passed before the vertices were made")
    V = box_vertices(d)
    h = V.shape[0] // 2
    H = V[:h]
    sup = np.flatnonzero(pi > 0)
    B = float(weight_bound)
    dxT = (DX[sup] * B).T.copy()  # (d, S)
    p = pi[sup]
    g = dxT @ p  # (d,)
    half = np.empty(h)
    for s0 in range(0, h, VERTEX_CHUNK):
        if deadline is not None and deadline.expired():
            raise TimeoutError("vertex pricing: the time limit passed")
        Z = H[s0 : s0 + VERTEX_CHUNK] @ dxT
        np.maximum(Z, 0.0, out=Z)
        half[s0 : s0 + VERTEX_CHUNK] = Z @ p
    pen = lam * B * np.abs(H).sum(axis=1) + kappa
    vals = np.concatenate([half - pen, half - H @ g - pen])
    best = float(max(vals.max(initial=-math.inf), -kappa))  # w = 0 is a vertex too (value -kappa)
    order = np.argsort(-vals)[:top] if top else np.zeros(0, dtype=np.int64)
    return best + 2.0 * _margin(DX[sup], p, B, lam), order  # twice: the subtraction of w . g rounds too


class _PairLP:
    """The LP of the module docstring, grown by columns (pairs) and rows (vertex cuts) with a warm basis."""

    def __init__(self, pairs: np.ndarray, omega: np.ndarray, margin: float, J: float, threads: int) -> None:
        import highspy

        from ...solve import highs_threads

        self.h = h = new_highs()
        h.setOptionValue("output_flag", False)
        h.setOptionValue("threads", highs_threads(threads))
        self.N, self.m, self.J = omega.size, float(margin), float(J)
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = 1, self.N  # column 0: tau
        lp.col_cost_ = np.array([-self.J])
        lp.col_lower_, lp.col_upper_ = np.zeros(1), np.full(1, np.inf)
        lp.row_lower_, lp.row_upper_ = np.full(self.N, -np.inf), np.asarray(omega, dtype=np.float64)
        lp.sense_ = highspy.ObjSense.kMaximize
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = np.zeros(2, dtype=np.int32)
        lp.a_matrix_.index_ = np.zeros(0, dtype=np.int32)
        lp.a_matrix_.value_ = np.zeros(0)
        h.passModel(lp)
        self.pairs = np.zeros((0, 2), dtype=np.int64)
        self.cuts: list[np.ndarray] = []  # vertex directions (B_w w) of the cut rows, in row order after the caps
        self.cut_ids: set[int] = set()  # their indices into the vertex list

    def add_pairs(self, new: np.ndarray, DXnew: np.ndarray) -> None:
        """Columns pi_p for the pairs ``new`` (their rows' caps and the existing cuts' coefficients)."""
        n = new.shape[0]
        if not n:
            return
        C = np.maximum(DXnew @ np.array(self.cuts).T, 0.0) if self.cuts else np.zeros((n, 0))
        starts, index, value = [], [], []
        nz = 0
        for k in range(n):
            cut_rows = np.flatnonzero(C[k] > 0)
            idx = np.concatenate([np.sort(new[k]), self.N + cut_rows]).astype(np.int32)
            starts.append(nz)
            index.append(idx)
            value.append(np.concatenate([np.ones(2), C[k, cut_rows]]))
            nz += idx.size
        self.h.addCols(
            n,
            np.full(n, 2.0 * self.m),
            np.zeros(n),
            np.full(n, np.inf),
            nz,
            np.asarray(starts, dtype=np.int32),
            np.concatenate(index),
            np.concatenate(value),
        )
        self.pairs = np.vstack([self.pairs, new])

    def add_cuts(self, W: np.ndarray, rhs: np.ndarray, DX: np.ndarray) -> None:
        """Rows sum_p pi_p (w . dx_p)_+ - tau <= rhs for each direction w (a row of ``W``, B_w included)."""
        C = np.maximum(DX @ W.T, 0.0)  # (P, n)
        starts, index, value = [], [], []
        nz = 0
        for r in range(W.shape[0]):
            cols = np.flatnonzero(C[:, r] > 0)
            starts.append(nz)
            index.append(np.concatenate([[0], 1 + cols]).astype(np.int32))
            value.append(np.concatenate([[-1.0], C[cols, r]]))
            nz += cols.size + 1
        self.h.addRows(
            W.shape[0],
            np.full(W.shape[0], -np.inf),
            np.asarray(rhs, dtype=np.float64),
            nz,
            np.asarray(starts, dtype=np.int32),
            np.concatenate(index),
            np.concatenate(value),
        )
        self.cuts.extend(list(W))

    def solve(self, seconds: float) -> tuple[np.ndarray, float, np.ndarray, np.ndarray, float, str]:
        """(pi, tau, cap duals u >= 0, cut duals mu >= 0, LP value, status) after a solve of at most ``seconds``."""
        h = self.h
        set_time_limit(h, max(seconds, 0.05))
        h.run()
        status = h.modelStatusToString(h.getModelStatus())
        sol = h.getSolution()
        P = self.pairs.shape[0]
        col = np.asarray(sol.col_value) if h.getInfo().primal_solution_status >= 1 else np.zeros(P + 1)
        dual = np.abs(np.asarray(sol.row_dual)) if h.getInfo().dual_solution_status >= 1 else np.zeros(self.N)
        dual = np.pad(dual, (0, max(0, self.N + len(self.cuts) - dual.size)))
        return (
            np.clip(col[1 : P + 1], 0.0, None),
            float(col[0]),
            dual[: self.N],
            dual[self.N : self.N + len(self.cuts)],
            float(h.getInfo().objective_function_value),
            status,
        )


def _priced_pairs(
    Xu: np.ndarray,
    yu: np.ndarray,
    u: np.ndarray,
    W: np.ndarray,
    mu: np.ndarray,
    margin: float,
    have: set[tuple[int, int]],
    limit: int,
    deadline: Deadline,
    chunk_entries: int = 4_000_000,
) -> np.ndarray:
    """Opposite pairs (i, j) outside ``have`` with reduced cost 2 m - u_i - u_j - sum_w mu_w (w . dx_ij)_+ > 0,
    the ``limit`` largest, over all positive x negative rows of the merged data (blocks of positive rows)."""
    pos, neg = np.flatnonzero(yu > 0), np.flatnonzero(yu < 0)
    act = mu > 1e-12
    Wa, ma = W[act], mu[act]
    best_rc, best_i, best_j = np.zeros(0), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    block = max(1, chunk_entries // max(1, neg.size * max(1, Wa.shape[0])))
    base_neg = 2.0 * margin - u[neg]
    for s0 in range(0, pos.size, block):
        if deadline.expired():
            break
        ip = pos[s0 : s0 + block]
        dx = Xu[ip][:, None, :] - Xu[neg][None, :, :]  # (b, n-, d)
        price = np.maximum(dx @ Wa.T, 0.0) @ ma if Wa.shape[0] else np.zeros(dx.shape[:2])
        rc = base_neg[None, :] - u[ip][:, None] - price
        r, c = np.nonzero(rc > 1e-9 * max(1.0, margin))
        top = np.argsort(-rc[r, c], kind="stable")[: 2 * limit]
        cand = [(k, int(ip[r[k]]), int(neg[c[k]])) for k in top]
        cand = [(k, i, j) for k, i, j in cand if (i, j) not in have][:limit]
        if not cand:
            continue
        ks = np.array([k for k, _, _ in cand])  # at most ``limit`` kept at any time (memory stays O(limit))
        best_rc = np.concatenate([best_rc, rc[r[ks], c[ks]]])
        best_i = np.concatenate([best_i, [i for _, i, _ in cand]]).astype(np.int64)
        best_j = np.concatenate([best_j, [j for _, _, j in cand]]).astype(np.int64)
        keep = np.argsort(-best_rc, kind="stable")[:limit]
        best_rc, best_i, best_j = best_rc[keep], best_i[keep], best_j[keep]
    return np.column_stack([best_i, best_j]).astype(np.int64).reshape(-1, 2)


def vertex_lower_bound(
    X: np.ndarray,
    y: np.ndarray,
    *,
    l1: float,
    width: int,
    margin: float = 1.0,
    time_limit: float | Deadline,
    weight_bound: float = 1.0,
    unit_cost: float = 0.0,
    penalty_weight: float = 1.0,
    loss_denominator: float | None = None,
    neighbours: int = 20,
    merge: bool = True,
    threads: int = 1,
    price_pairs: bool = True,
    log: Callable[[str], None] | None = None,
) -> DualBoundResult:
    """The width-J bound of the module docstring (sign class, hinge; ``X`` standardised, ``y`` in {-1, +1}): the
    best LB(pi) over the rounds, its plan as a transport record. Every round's LB is valid; the time limit only
    stops the rounds (an enumeration the deadline cuts is discarded: the best earlier round stands). numpy's
    BLAS runs on ``threads`` threads meanwhile (:func:`mipnet.blas.blas_threads`)."""
    dl = Deadline.of(time_limit)
    t_start = time.perf_counter()
    say = log or (lambda s: None)
    X, y, Xu, yu, counts, inverse = _prepared(X, y, merge)
    N0, d = X.shape
    verts = box_vertices(d)
    D = float(loss_denominator or N0)
    lam = float(penalty_weight) * float(l1)
    kappa = float(unit_cost)
    J = float(width)
    B = float(weight_bound)
    N = Xu.shape[0]
    omega = counts / D
    lp = _PairLP(pairs=np.zeros((0, 2)), omega=omega, margin=margin, J=J, threads=threads)
    start = opposite_pairs(Xu, yu, neighbours, deadline=dl)
    lp.add_pairs(start, Xu[start[:, 0]] - Xu[start[:, 1]])
    unit = np.abs(verts).sum(axis=1) == 1
    lp.add_cuts(B * verts[unit], lam * B + kappa + np.zeros(int(unit.sum())), Xu[start[:, 0]] - Xu[start[:, 1]])
    lp.cut_ids.update(int(k) for k in np.flatnonzero(unit))
    have = {(int(i), int(j)) for i, j in start}
    best: tuple[float, np.ndarray, float] = (0.0, np.zeros(0), math.inf)  # (bound, pi, V)
    trace: list[tuple[float, float]] = []
    status, master, rounds, round_s = "not solved", None, 0, 0.0
    while True:
        r0 = time.perf_counter()
        pi, tau, u, mu, master, status = lp.solve(dl.remaining() - 0.2 if not dl.unlimited else math.inf)
        pairs = lp.pairs
        alpha = np.bincount(pairs[:, 0], pi, N) + np.bincount(pairs[:, 1], pi, N)
        ratio = np.where(alpha > omega, omega / np.maximum(alpha, 1e-300), 1.0)
        pi = pi * np.minimum(ratio[pairs[:, 0]], ratio[pairs[:, 1]]) * (1.0 - 1e-12)
        DX = Xu[pairs[:, 0]] - Xu[pairs[:, 1]]
        try:
            g, order = vertex_pricing_value(
                DX, pi, lam=lam, kappa=kappa, weight_bound=B, top=CUTS_PER_ROUND, deadline=dl
            )
        except TimeoutError:
            break
        rounds += 1
        lb = margin * 2.0 * math.fsum(pi) - J * max(0.0, g)
        if lb > best[0]:
            best = (lb, pi.copy(), g)
        trace.append((time.perf_counter() - t_start, best[0]))
        # new cuts: the best vertices whose cut the LP's (pi, tau) violates, not yet in the LP
        lhs = np.maximum(DX @ (B * verts[order]).T, 0.0).T @ pi - lam * B * np.abs(verts[order]).sum(axis=1) - kappa
        keep = [int(order[k]) for k in range(order.size) if lhs[k] > tau + 1e-9 and int(order[k]) not in lp.cut_ids]
        new_pairs = np.zeros((0, 2), dtype=np.int64)
        if price_pairs and not keep and dl.remaining() > 2 * round_s:
            cut_W = np.array(lp.cuts)
            with blas_threads(threads):
                new_pairs = _priced_pairs(Xu, yu, u, cut_W, mu, margin, have, PAIRS_PER_ROUND, dl)
        say(
            f"vertex pricing: round {rounds}, {pairs.shape[0]} pairs, {len(lp.cuts)} cuts, master {master:.6g}, "
            f"V {g:.4g}, bound {lb:.6g} (best {best[0]:.6g}), +{len(keep)} cuts +{new_pairs.shape[0]} pairs"
        )
        round_s = time.perf_counter() - r0
        if not keep and not new_pairs.shape[0]:
            status = "converged" if status == "Optimal" else status
            break
        if not dl.unlimited and dl.remaining() < 1.5 * round_s:
            break
        if keep:
            lp.add_cuts(
                B * verts[keep],
                lam * B * np.abs(verts[keep]).sum(axis=1) + kappa,
                Xu[lp.pairs[:, 0]] - Xu[lp.pairs[:, 1]],
            )
            lp.cut_ids.update(keep)
        if new_pairs.shape[0]:
            lp.add_pairs(new_pairs, Xu[new_pairs[:, 0]] - Xu[new_pairs[:, 1]])
            have.update((int(i), int(j)) for i, j in new_pairs)
    bound_raw, pi_b, V = best
    bound = max(_safe(bound_raw), 0.0)
    P = lp.pairs.shape[0]
    pairs_b = lp.pairs[: pi_b.size] if pi_b.size else np.zeros((0, 2), dtype=np.int64)
    alpha_b: np.ndarray = (
        np.bincount(pairs_b[:, 0], pi_b, N) + np.bincount(pairs_b[:, 1], pi_b, N) if pi_b.size else np.zeros(N)
    )
    record = _record(_representatives(inverse, N), pairs_b, pi_b, None, None, 1.0, bound, None)
    record["pricing_kind"] = "vertices"
    sec = time.perf_counter() - t_start
    say(f"vertex pricing: bound {bound:.6g} after {rounds} rounds, {P} pairs, {sec:.1f} s")
    info: dict[str, Any] = {"pairs": int(P), "cuts": len(lp.cuts), "rounds": rounds, "lam": lam, "kappa": kappa}
    return DualBoundResult(
        bound=float(bound),
        alpha=(alpha_b / counts)[inverse],
        g_upper=float(V),
        scale=1.0,
        iterations=rounds,
        trace=trace,
        units=np.zeros((0, d + 1)),
        status=status,
        mode=f"width {width} vertex pairs",
        n_rows=N0,
        n_merged=N,
        master_value=master,
        seconds=sec,
        pricing_optimal=True,
        info=info,
        record=record,
    )
